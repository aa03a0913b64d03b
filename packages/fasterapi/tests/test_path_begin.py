"""PathBegin: fasterapi-server's native `begin(request, plan)` for a coroutine endpoint whose
parameters are all path parameters. Its answers must be the Python begin's: every request here goes
to an app as it is and to the same app built without it."""

from __future__ import annotations

import gc
import sys
import uuid
import weakref
from enum import StrEnum
from typing import Annotated, Any

import pytest
from fasterapi import FastAPI, Path
from fasterapi.dependencies import utils as utils_module
from fasterapi.routing import APIRoute
from fasterapi.testclient import TestClient
from pydantic import AfterValidator, ValidationError

_response = pytest.importorskip("fasterapi_server._response")
PathBegin = _response.PathBegin


class Color(StrEnum):
    red = "red"
    blue = "blue"


def crash_on_13(value: int) -> int:
    if value == 13:
        raise RuntimeError("unlucky")  # (not a ValueError: pydantic lets it through)
    return value


SEEN: list[int] = []  # what counted() validated


def counted(value: int) -> int:
    SEEN.append(value)
    return value


def make_app() -> FastAPI:
    app = FastAPI()

    @app.get("/users/{user_id}")
    async def user(user_id: int) -> dict[str, Any]:
        return {"id": user_id}

    @app.get("/two/{a}/{b}")
    async def two(b: str, a: Annotated[int, Path(ge=1, le=100)]) -> list[Any]:
        return [a, b]

    @app.get("/kinds/{color}/{key}/{ratio}")
    async def kinds(color: Color, key: uuid.UUID, ratio: float) -> dict[str, Any]:
        return {"color": color, "key": str(key), "ratio": ratio}

    @app.get("/aliased/{item-id}")
    async def aliased(item_id: Annotated[int, Path(alias="item-id")]) -> int:
        return item_id * 2

    @app.get("/files/{file_path:path}")
    async def files(file_path: str) -> str:
        return file_path

    @app.get("/counted/{n}")
    async def counted_route(n: Annotated[int, AfterValidator(counted)]) -> int:
        return n

    @app.get("/crash/{n}")
    async def crash(n: Annotated[int, AfterValidator(crash_on_13)]) -> int:
        return n

    @app.get("/sync/{n}")
    def sync(n: int) -> int:
        return n + 1

    return app


REQUESTS = [
    "/users/42",
    "/users/-7",
    "/users/x",
    "/users/4.5",
    "/users/" + "9" * 5000,
    "/two/5/five",
    "/two/0/zero",
    "/two/101/x",
    "/two/nope/x",
    "/kinds/red/12345678-1234-5678-1234-567812345678/1.5",
    "/kinds/green/not-a-uuid/x",
    "/kinds/blue/12345678123456781234567812345678/-0",
    "/aliased/21",
    "/aliased/twenty",
    "/files/a/b/c.txt",
    "/counted/3",
    "/counted/x",
    "/crash/12",
    "/crash/13",
    "/sync/1",
    "/sync/x",
]

Apps = tuple[TestClient, TestClient]  # native begin, Python begin


@pytest.fixture
def apps(monkeypatch: pytest.MonkeyPatch) -> Apps:
    native = make_app()
    with monkeypatch.context() as patch:
        patch.setattr("fasterapi.routing.native_path_begin", lambda *args: None)
        python = make_app()
    return TestClient(native, raise_server_exceptions=False), TestClient(
        python, raise_server_exceptions=False
    )


def answer(client: TestClient, url: str) -> tuple[int, list[tuple[str, str]], bytes]:
    response = client.get(url)
    return response.status_code, sorted(response.headers.items()), response.content


def routes(app: Any) -> dict[str, APIRoute]:
    return {route.path: route for route in app.router.routes if isinstance(route, APIRoute)}


@pytest.mark.parametrize("url", REQUESTS)
def test_the_same_answers_as_python(apps: Apps, url: str) -> None:
    native, python = apps
    assert answer(native, url) == answer(python, url)


def test_which_routes_are_native(apps: Apps) -> None:
    kinds = {path: type(route._fast_handle.begin).__name__ for path, route in routes(apps[0].app).items()}  # type: ignore[union-attr]
    assert kinds == {
        "/users/{user_id}": "PathBegin",
        "/two/{a}/{b}": "PathBegin",
        "/kinds/{color}/{key}/{ratio}": "PathBegin",
        "/aliased/{item-id}": "PathBegin",
        "/files/{file_path:path}": "PathBegin",
        "/counted/{n}": "PathBegin",
        "/crash/{n}": "PathBegin",
        "/sync/{n}": "function",  # (a thread's call: the Python begin)
    }


def test_validators_run_once_for_a_valid_value(apps: Apps) -> None:
    for client in apps:
        SEEN.clear()
        assert client.get("/counted/3").json() == 3
        assert SEEN == [3]


def test_another_plan_takes_the_python_begin(apps: Apps) -> None:
    native, python = apps
    for client in (native, python):
        app = client.app
        assert isinstance(app, FastAPI)
        app.dependency_overrides[crash_on_13] = lambda: None  # (any override: a plan of its own)
    route = routes(native.app)["/users/{user_id}"]
    assert route._current_plan().path_readers is not route._plan.path_readers  # (PathBegin gives way)
    for url in REQUESTS:
        assert answer(native, url) == answer(python, url)


class Plan:
    def __init__(self, path_readers: Any) -> None:
        self.path_readers = path_readers


class Req:
    def __init__(self, path_params: Any) -> None:
        self.path_params = path_params


def make(readers: list[Any], calls: list[Any], validators: tuple[Any, ...] | None = None) -> Any:
    async def endpoint(**kwargs: Any) -> Any:
        return kwargs

    def call(**kwargs: Any) -> Any:
        calls.append(("call", kwargs))
        return endpoint(**kwargs)

    def begin(request: Any, plan: Any) -> str:
        calls.append(("begin", request, plan))
        return "python"

    def refused(request: Any, index: int, exc: ValidationError) -> Any:
        calls.append(("refused", index, exc))
        raise LookupError(index)

    return PathBegin(
        begin=begin,
        call=call,
        readers=readers,
        lookups=("a-key", "b"),
        names=("a", "b"),
        validators=validators or (int, str),
        validation_error=ValidationError,
        refused=refused,
    )


def test_direct_calls() -> None:
    readers: list[Any] = [object(), object()]
    calls: list[Any] = []
    begin = make(readers, calls, (lambda v, from_attributes: int(v), lambda v, from_attributes: v.upper()))
    plan = Plan(readers)
    coroutine = begin(Req({"a-key": "7", "b": "x", "other": 1}), plan)
    with pytest.raises(StopIteration) as done:
        coroutine.send(None)
    assert done.value.value == {"a": 7, "b": "X"}
    assert calls == [("call", {"a": 7, "b": "X"})]
    calls.clear()
    other = Plan(list(readers))  # equal, not the same: another plan
    missing = Req({"a-key": "7"})
    none = Req({"a-key": "7", "b": None})
    not_a_dict = Req(type("D", (dict,), {})({"a-key": "7", "b": "x"}))
    assert begin(Req({"a-key": "7", "b": "x"}), other) == "python"
    assert begin(missing, plan) == "python"
    assert begin(none, plan) == "python"
    assert begin(not_a_dict, plan) == "python"
    assert begin(missing, plan=plan) == "python"  # (keywords)
    assert [c[0] for c in calls] == ["begin"] * 5


def test_a_validator_that_changes_the_path_params() -> None:
    readers: list[Any] = [object(), object()]
    calls: list[Any] = []
    params = {"a-key": "7", "b": "".join(["long value "] * 100)}

    def clearing(value: Any, from_attributes: bool) -> int:
        params.clear()  # (the values read before are still held)
        return int(value)

    begin = make(readers, calls, (clearing, lambda value, from_attributes: value.upper()))
    coroutine = begin(Req(params), Plan(readers))
    with pytest.raises(StopIteration) as done:
        coroutine.send(None)
    assert done.value.value == {"a": 7, "b": "LONG VALUE " * 100}


def test_a_refused_value_goes_to_refused_and_other_errors_rise() -> None:
    readers: list[Any] = [object(), object()]
    calls: list[Any] = []
    refused = ValidationError.from_exception_data("x", [])

    def refuse(value: Any, from_attributes: bool) -> Any:
        raise refused

    def crash(value: Any, from_attributes: bool) -> Any:
        raise RuntimeError("crash")

    kept = object()
    refs = sys.getrefcount(kept)
    begin = make(readers, calls, (lambda v, from_attributes: kept, refuse))
    with pytest.raises(LookupError):
        begin(Req({"a-key": "7", "b": "x"}), Plan(readers))
    assert calls == [("refused", 1, refused)]  # the index of the refused value, and its error
    assert sys.getrefcount(kept) == refs  # the first value, made and dropped
    crashing = make(readers, calls, (lambda v, from_attributes: kept, crash))
    with pytest.raises(RuntimeError, match="crash"):
        crashing(Req({"a-key": "7", "b": "x"}), Plan(readers))
    assert sys.getrefcount(kept) == refs
    with pytest.raises(AttributeError):
        begin(Req({}), object())  # (no path_readers: as Python would)


def test_no_native_begin_for_what_it_does_not_take() -> None:
    class Reader:
        def __init__(self, seq: bool = False) -> None:
            self.seq, self.lookup, self.name, self.validate = seq, "k", "n", int

    assert utils_module.native_path_begin(len, len, None, len) is None
    assert utils_module.native_path_begin(len, len, [], len) is None
    assert utils_module.native_path_begin(len, len, [Reader(seq=True)], len) is None  # type: ignore[list-item, arg-type]
    assert utils_module.native_path_begin(len, len, [Reader()] * 17, len) is None  # type: ignore[list-item, arg-type]
    assert type(utils_module.native_path_begin(len, len, [Reader()] * 16, len)) is PathBegin  # type: ignore[list-item, arg-type]


@pytest.mark.parametrize(
    "change",
    [
        {"begin": 1},
        {"refused": 1},
        {"names": ()},
        {"names": ("a",)},  # (lengths differ)
        {"names": ("a", 2)},
        {"validators": (int, 1)},
        {"validation_error": int},
        {"lookups": ["a-key", "b"]},
        # more than 16 parameters (16: test_no_native_begin_for_what_it_does_not_take)
        {
            "names": tuple("abcdefghijklmnopq"),
            "lookups": tuple("abcdefghijklmnopq"),
            "validators": (int,) * 17,
        },
    ],
)
def test_bad_arguments(change: dict[str, Any]) -> None:
    kwargs: dict[str, Any] = {
        "begin": len,
        "call": len,
        "readers": [],
        "lookups": ("a-key", "b"),
        "names": ("a", "b"),
        "validators": (int, str),
        "validation_error": ValidationError,
        "refused": len,
    }
    assert callable(PathBegin(**kwargs))
    with pytest.raises(TypeError):
        PathBegin(**{**kwargs, **change})
    del kwargs["call"]
    with pytest.raises(TypeError):
        PathBegin(**kwargs)


def test_validators_run_once_for_a_refused_value(monkeypatch: pytest.MonkeyPatch) -> None:
    def make() -> FastAPI:
        app = FastAPI()

        @app.get("/p/{a}/{b}/{c}")
        async def p(
            a: Annotated[int, AfterValidator(counted)], b: int, c: Annotated[int, AfterValidator(counted)]
        ):  # type: ignore[no-untyped-def]
            return [a, b, c]

        return app

    native = make()
    with monkeypatch.context() as patch:
        patch.setattr("fasterapi.routing.native_path_begin", lambda *args: None)
        python = make()
    assert type(routes(native)["/p/{a}/{b}/{c}"]._fast_handle.begin) is PathBegin  # type: ignore[union-attr]
    for url, validated in [("/p/1/x/3", [1, 3]), ("/p/x/y/z", []), ("/p/1/2/z", [1])]:
        answers = []
        for app in (native, python):
            SEEN.clear()
            answers.append(answer(TestClient(app), url))
            assert validated == SEEN, url
        assert answers[0] == answers[1]
        assert answers[0][0] == 422


def test_a_reference_cycle_through_it_is_collected() -> None:
    class Sentinel:
        pass

    kept = Sentinel()
    gone = weakref.ref(kept)
    readers: list[Any] = [kept]
    readers.append(make(readers, []))  # (a cycle)
    del kept, readers
    gc.collect()
    assert gone() is None
