"""Response.__init__ written natively by fasterapi-server (fasterapi.responses._native_init) against
the Python one it stands for: the same attributes, in the same order, the same headers (the same
kept header objects), the same errors, for every way of calling it."""

from __future__ import annotations

import gc
import inspect
import subprocess
import sys
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from fasterapi import responses
from fasterapi.background import BackgroundTask
from fasterapi.openapi.utils import _default_status_code
from fasterapi.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)

NATIVE = Response.__dict__["__init__"]
pytestmark = pytest.mark.skipif(
    inspect.isfunction(NATIVE), reason="fasterapi-server without the native constructor"
)
PYTHON = getattr(NATIVE, "__wrapped__", None)


class Latin(PlainTextResponse):
    charset = "latin-1"


class OwnRender(Response):
    def render(self, content: Any) -> bytes:
        return b"<" + str(content).encode() + b">"


class OwnHeaders(Response):
    def init_headers(self, headers: Any = None) -> None:
        self.raw_headers = [(b"x-own", b"1")]


class Custom(Response):
    media_type = "application/x-custom"


class TextSub(str):
    pass


class Shifted(Response):
    """Status and body read back through properties (the Python __init__ reads them back for a
    bytes body)."""

    @property
    def status_code(self) -> int:
        return self._status + 1

    @status_code.setter
    def status_code(self, value: int) -> None:
        self._status = value

    @property
    def body(self) -> bytes:
        return self._body + b"!"

    @body.setter
    def body(self, value: bytes) -> None:
        self._body = value


def background() -> None:
    pass


TASK = BackgroundTask(background)

# (class, args, kwargs): the common case, each thing that takes it elsewhere, and bad calls.
CALLS: list[tuple[type[Response], tuple[Any, ...], dict[str, Any]]] = [
    (PlainTextResponse, ("Hello, World!",), {}),
    (PlainTextResponse, ("héllo wörld",), {}),
    (PlainTextResponse, ("",), {}),
    (HTMLResponse, ("<p>x</p>",), {}),
    (Response, (), {}),
    (Response, (None,), {}),
    (Response, (b"raw",), {"media_type": "application/octet-stream"}),
    (Response, (b"",), {}),
    (Response, ("x" * 5000,), {"media_type": "text/plain"}),  # a length past the kept ones
    (Response, ("x",), {"media_type": "text/csv"}),
    (Response, ("x",), {"media_type": "text/plain; charset=latin-1"}),
    (Custom, ("x",), {}),
    (Response, ("x", 201), {"media_type": "text/html"}),
    (Response, ("x", 204), {}),
    (Response, (None, 304), {}),
    (Response, ("x", 404, None, "text/html", TASK), {}),
    (Response, (), {"content": "x", "status_code": 200, "media_type": "text/a", "background": TASK}),
    (Response, ("x",), {"status_code": HTTPStatus.OK, "media_type": "text/html"}),
    (Response, ("x",), {"status_code": True, "media_type": "text/html"}),
    (Response, ("x",), {"headers": {"X-A": "1"}, "media_type": "text/html"}),
    (Response, ("x",), {"headers": {}}),
    (Latin, ("é",), {}),
    (OwnRender, ("x",), {"media_type": "text/plain"}),
    (OwnHeaders, ("x",), {}),
    (Response, (TextSub("sub"),), {"media_type": "text/plain"}),
    (Response, (bytearray(b"ba"),), {}),
    (Response, (memoryview(b"mv"),), {}),
    (Shifted, (b"shifted", 199), {"media_type": "text/plain"}),
    (Shifted, (None, 203), {}),
    (Shifted, ("text", 203), {"media_type": "text/plain"}),
    (JSONResponse, ({"a": [1, None]},), {}),
    (JSONResponse, (None,), {"status_code": 201}),
    (RedirectResponse, ("/a b",), {}),
    # errors: Python's own
    (Response, ("\ud800",), {"media_type": "text/plain"}),  # a lone surrogate: UnicodeEncodeError
    (Response, (12,), {}),  # not a body: the render's error
    (Response, ("x",), {"media_type": ["not", "hashable"]}),
    (Response, ("x",), {"bogus": 1}),
    (Response, ("x",), {"content": "y"}),
    (Response, ("x", 200, None, None, None, "extra"), {}),
    (JSONResponse, (), {}),
]


def outcome(make: Callable[[], Response]) -> Any:
    try:
        response = make()
    except Exception as exc:  # the error is part of the outcome
        return ("raised", type(exc), str(exc))
    return ("made", type(response), list(vars(response).items()))


def made_both_ways(monkeypatch: pytest.MonkeyPatch, make: Callable[[], Response]) -> tuple[Any, Any]:
    native = outcome(make)
    with monkeypatch.context() as patch:
        patch.setattr(Response, "__init__", PYTHON)
        python = outcome(make)
    return native, python


@pytest.mark.parametrize(("cls", "args", "kwargs"), CALLS, ids=range(len(CALLS)))
def test_the_same_response_as_the_python_constructor(
    monkeypatch: pytest.MonkeyPatch, cls: type[Response], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    native, python = made_both_ways(monkeypatch, lambda: cls(*args, **kwargs))
    assert native == python
    if native[0] == "made":
        # A header the Python one keeps (the same object in two responses) is that object here
        # too, not a copy; the list is each response's own.
        made_native = cls(*args, **kwargs)
        with monkeypatch.context() as patch:
            patch.setattr(Response, "__init__", PYTHON)
            first, second = cls(*args, **kwargs), cls(*args, **kwargs)
        kept = [a is b for a, b in zip(first.raw_headers, second.raw_headers, strict=True)]
        assert [a is b for a, b in zip(made_native.raw_headers, first.raw_headers, strict=True)] == kept
        assert made_native.raw_headers is not first.raw_headers


def test_the_common_case_is_written_natively() -> None:
    # Not the Python function: nothing of it runs (its frame would show in a profile).
    calls: list[str] = []

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            calls.append(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        PlainTextResponse("Hello, World!")
        Response(b"x", media_type="application/octet-stream")
    finally:
        sys.setprofile(None)
    assert "__init__" not in calls
    assert "_default_headers" not in calls


def test_called_every_way_a_method_is(monkeypatch: pytest.MonkeyPatch) -> None:
    class Mine(Response):
        def __init__(self, text: str) -> None:
            super().__init__(content=text, media_type="text/mine")

    class Explicit(Response):
        def __init__(self, text: str) -> None:
            Response.__init__(self, text, 201, media_type="text/plain")

    native = [list(vars(r).items()) for r in (Mine("a"), Explicit("b"))]
    bound = Response.__new__(Response)
    bound.__init__("c", media_type="text/plain")  # type: ignore[misc]  # bound through the instance
    native.append(list(vars(bound).items()))
    with monkeypatch.context() as patch:
        patch.setattr(Response, "__init__", PYTHON)
        python = [list(vars(r).items()) for r in (Mine("a"), Explicit("b"))]
        bound = Response.__new__(Response)
        bound.__init__("c", media_type="text/plain")  # type: ignore[misc]
        python.append(list(vars(bound).items()))
    assert native == python
    # Not a Response: the Python one, as it would have been called
    namespace = {
        "charset": "utf-8",
        "media_type": None,
        "render": Response.render,
        "init_headers": Response.init_headers,
    }
    other = type("NotAResponse", (), namespace)()
    Response.__init__(other, "x")
    assert other.body == b"x"


def test_globals_read_at_each_call_as_python_reads_them(monkeypatch: pytest.MonkeyPatch) -> None:
    kept_types: dict[Any, Any] = {}
    kept_lengths: dict[Any, Any] = {}
    monkeypatch.setattr(responses, "_UTF8_TYPES", kept_types)
    monkeypatch.setattr(responses, "_CONTENT_LENGTHS", kept_lengths)
    first = PlainTextResponse("abc")
    assert list(kept_types) == ["text/plain"]
    assert list(kept_lengths) == [3]
    again = PlainTextResponse("xyz")
    assert again.raw_headers[0] is kept_lengths[3]
    assert again.raw_headers[1] is kept_types["text/plain"]
    assert again.raw_headers == first.raw_headers
    # A value that is not a dict any more: the Python function reads it (and fails as it does)
    monkeypatch.setattr(responses, "_UTF8_TYPES", None)
    native, python = made_both_ways(monkeypatch, lambda: PlainTextResponse("x"))
    assert native == python
    assert native[0] == "raised"
    monkeypatch.delattr(responses, "_default_headers")
    native, python = made_both_ways(monkeypatch, lambda: Response("x", 201))
    assert native == python == ("raised", NameError, "name '_default_headers' is not defined")


def test_a_content_length_maker_that_empties_the_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    # The content-type header found before the content-length is made stays held while
    # _content_length runs, whatever it does to the tables.
    monkeypatch.setattr(responses, "_UTF8_TYPES", dict(responses._UTF8_TYPES))
    monkeypatch.setattr(responses, "_HEADER_LISTS", dict(responses._HEADER_LISTS))
    monkeypatch.setattr(responses, "_CONTENT_LENGTHS", {})
    PlainTextResponse("warm")  # (the media type's header, kept in the tables)
    real = responses._content_length
    garbage: list[tuple[bytes, bytes]] = []

    def emptying(size: int) -> tuple[bytes, bytes]:
        responses._HEADER_LISTS.clear()  # (the other references to the header)
        responses._UTF8_TYPES.clear()
        garbage.append((b"junk", bytes(size)))  # (a new tuple: it would reuse the memory)
        return real(size)

    monkeypatch.setattr(responses, "_content_length", emptying)
    made = PlainTextResponse("hello world")
    assert made.raw_headers == [(b"content-length", b"11"), (b"content-type", b"text/plain; charset=utf-8")]


def test_introspection_sees_the_python_constructor() -> None:
    assert PYTHON is not None
    assert inspect.isfunction(PYTHON)
    assert inspect.signature(Response.__init__) == inspect.signature(PYTHON)
    assert (Response.__init__.__name__, Response.__init__.__qualname__) == ("__init__", "Response.__init__")
    assert Response.__init__.__doc__ == PYTHON.__doc__
    # what the OpenAPI document reads of a response class
    assert _default_status_code(Response) == "200"
    assert _default_status_code(PlainTextResponse) == "200"
    assert _default_status_code(RedirectResponse) == "307"
    assert gc.is_tracked(NATIVE)
    assert gc.get_referents(NATIVE)  # its references are seen by the cycle collector


def test_without_the_server_module_the_python_constructor() -> None:
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'fasterapi_server._response':\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import inspect\n"
        "from fasterapi.responses import PlainTextResponse, Response\n"
        "assert inspect.isfunction(Response.__dict__['__init__'])\n"
        "print(PlainTextResponse('hi').raw_headers)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout == "[(b'content-length', b'2'), (b'content-type', b'text/plain; charset=utf-8')]\n"
