"""JsonShape: fasterapi-server's native `shape()` for a route's JSON result (plain data, with or
without a response model that takes it as it is, and an instance of exactly a plain response
model). Its responses must be the Python shape's: every request here goes to an app as it is and
to the same app built without the native shape, and direct calls compare the two objects."""

from __future__ import annotations

import gc
import json
import math
import sys
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from fasterapi import BackgroundTasks, FastAPI, Response
from fasterapi import responses as responses_module
from fasterapi import routing as routing_module
from fasterapi.responses import JSONResponse, PlainTextResponse
from fasterapi.routing import APIRoute
from fasterapi.testclient import TestClient
from pydantic import BaseModel

_response = pytest.importorskip("fasterapi_server._response")
JsonShape = _response.JsonShape


class User(BaseModel):
    id: int
    name: str
    active: bool = True


class Admin(User):
    level: int = 1


@dataclass
class Point:
    x: int
    y: int


def results() -> dict[str, Any]:
    """What the endpoints return, by name."""
    return {
        "dict": {"message": "Hello, World!", "count": 3, "ok": True},
        "nested": {"a": [1, 2.5, None, {"b": "ü\u2028"}], "c": (1, "t")},
        "list": [1, "two", 3.0, False],
        "str": "text",
        "int": 42,
        "none": None,
        "big": {"n": 10**30, "s": "x" * 3000},
        "int_keys": {1: "one", 2: "two"},  # not plain: jsonable_encoder / the validator
        "datetime": {"at": datetime(2026, 11, 27, 12, 0, tzinfo=UTC)},
        "dataclass": Point(1, 2),
        "model": User(id=1, name="u"),
        "subclass": Admin(id=2, name="a"),
        "nan": {"x": math.nan},
        "response": PlainTextResponse("already a response"),
        "user_dict": {"id": "7", "name": "from a dict"},
        "bad_user": {"id": "x", "name": "y"},
    }


RESULTS = results()


def make_app(tasks_done: list[str]) -> FastAPI:
    app = FastAPI()

    def result(name: str) -> Any:
        return results()[name]  # (new objects: a returned Response is given background tasks)

    @app.get("/plain/{name}")
    async def plain(name: str):  # type: ignore[no-untyped-def]  # (no annotation: no response model)
        return result(name)

    @app.get("/typed/{name}")
    async def typed(name: str) -> dict[str, Any]:
        return result(name)  # type: ignore[no-any-return]

    @app.get("/any/{name}")
    async def any_result(name: str) -> Any:
        return result(name)

    @app.get("/user/{name}", response_model=User)
    async def user(name: str) -> Any:
        return result(name)

    @app.post("/user/{name}", response_model=User)
    async def user_post(name: str, body: dict[str, Any]) -> Any:
        return result(name)

    @app.get("/created/{name}", status_code=201)
    async def created(name: str) -> dict[str, Any]:
        return result(name)  # type: ignore[no-any-return]

    @app.get("/empty/{name}", status_code=204)
    async def empty(name: str) -> None:
        return None

    @app.get("/sync/{name}")
    def sync(name: str):  # type: ignore[no-untyped-def]
        return result(name)

    @app.get("/background/{name}")
    async def background(name: str, tasks: BackgroundTasks):  # type: ignore[no-untyped-def]
        tasks.add_task(tasks_done.append, name)
        return result(name)

    @app.get("/sub/{name}")
    async def sub(name: str, response: Response):  # type: ignore[no-untyped-def]
        response.headers["x-sub"] = "yes"
        response.status_code = 202
        return result(name)

    return app


def routes(app: FastAPI) -> dict[str, APIRoute]:
    return {f"{sorted(r.methods)[0]} {r.path}": r for r in app.router.routes if isinstance(r, APIRoute)}


Apps = tuple[TestClient, TestClient, list[str], list[str]]  # native shape, Python shape, tasks' logs


@pytest.fixture
def apps(monkeypatch: pytest.MonkeyPatch) -> Apps:
    done_native: list[str] = []
    done_python: list[str] = []
    native = make_app(done_native)
    with monkeypatch.context() as patch:
        patch.setattr(routing_module, "native_json_shape", lambda *args, **kwargs: None)
        python = make_app(done_python)
    return (
        TestClient(native, raise_server_exceptions=False),
        TestClient(python, raise_server_exceptions=False),
        done_native,
        done_python,
    )


def answer(client: TestClient, method: str, url: str) -> tuple[int, list[tuple[str, str]], bytes]:
    response = client.request(method, url, json={"k": 1} if method == "POST" else None)
    return response.status_code, sorted(response.headers.items()), response.content


PATHS = ["/plain", "/typed", "/any", "/user", "/created", "/empty", "/sync", "/background", "/sub"]


@pytest.mark.parametrize("name", sorted(RESULTS))
@pytest.mark.parametrize("path", PATHS)
def test_the_same_answers_as_python(apps: Apps, path: str, name: str) -> None:
    native, python, done_native, done_python = apps
    assert answer(native, "GET", f"{path}/{name}") == answer(python, "GET", f"{path}/{name}")
    assert done_native == done_python


@pytest.mark.parametrize("name", ["model", "subclass", "user_dict", "bad_user", "dict"])
def test_the_same_answers_with_a_body(apps: Apps, name: str) -> None:
    native, python, _, _ = apps
    assert answer(native, "POST", f"/user/{name}") == answer(python, "POST", f"/user/{name}")


def test_which_routes_are_native(apps: Apps) -> None:
    app = apps[0].app
    assert isinstance(app, FastAPI)
    kinds = {
        key: type(route._fast_handle.shape).__name__
        for key, route in routes(app).items()
        if route._fast_handle is not None
    }
    assert kinds == {
        "GET /plain/{name}": "JsonShape",
        "GET /typed/{name}": "JsonShape",
        "GET /any/{name}": "JsonShape",
        "GET /user/{name}": "JsonShape",
        "POST /user/{name}": "JsonShape",
        "GET /created/{name}": "JsonShape",
        "GET /empty/{name}": "function",  # (no body: the Python shape empties it)
        "GET /sync/{name}": "JsonShape",
        "GET /background/{name}": "JsonShape",
        "GET /sub/{name}": "JsonShape",
    }


def shapes(app: FastAPI, key: str) -> tuple[Any, Any]:
    shape = routes(app)[key]._fast_handle.shape  # type: ignore[union-attr]
    assert type(shape) is JsonShape
    return shape, shape.__wrapped__


def same_response(a: Response, b: Response) -> None:
    assert type(a) is type(b) is Response
    assert list(vars(a).items()) == list(vars(b).items())  # the same attributes, in one order
    assert [id(h) for h in a.raw_headers] == [id(h) for h in b.raw_headers]  # the shared header tuples


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("GET /plain/{name}", "dict"),
        ("GET /plain/{name}", "nested"),
        ("GET /plain/{name}", "list"),
        ("GET /plain/{name}", "none"),
        ("GET /plain/{name}", "big"),
        ("GET /typed/{name}", "dict"),
        ("GET /any/{name}", "str"),
        ("GET /user/{name}", "model"),
        ("GET /created/{name}", "dict"),
    ],
)
def test_a_native_response_is_the_python_one(apps: Apps, key: str, name: str) -> None:
    app = apps[0].app
    assert isinstance(app, FastAPI)
    native, python = shapes(app, key)
    raw = RESULTS[name]
    made = native(raw, None)
    same_response(made, python(raw, None))
    same_response(native(raw, None, None, None), made)
    assert made.status_code == (201 if key.startswith("GET /created") else 200)


def test_what_it_does_not_write_goes_to_the_python_ways(apps: Apps) -> None:
    app = apps[0].app
    assert isinstance(app, FastAPI)
    native, python = shapes(app, "GET /plain/{name}")
    seen: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def shape(*args: Any, **kwargs: Any) -> str:
        seen.append(("shape", args, kwargs))
        return "shape"

    def rest(*args: Any) -> str:
        seen.append(("rest", args, {}))
        return "rest"

    def writer(raw: Any) -> bytes | None:
        return None if raw == "not written" else b"1"

    made = JsonShape(
        shape=shape,
        rest=rest,
        status_code=200,
        plain_types=(int, str),
        globals=dict(vars(responses_module), _native_dumps_plain=writer),
    )
    assert made("not written", "request") == "rest"  # the writer gave up
    assert made(1.5, "request") == "rest"  # not a plain type of the route
    assert made(1, "request", "tasks") == "shape"  # background tasks
    assert made(1, "request", None, "sub") == "shape"  # a sub-response
    assert made(1, request="request") == "shape"  # keywords
    assert made(1) == "shape"  # too few
    assert made(PlainTextResponse("x"), "request") == "shape"  # a Response
    assert [(way, args) for way, args, _ in seen] == [
        ("rest", ("not written", "request")),
        ("rest", (1.5, "request")),
        ("shape", (1, "request", "tasks")),
        ("shape", (1, "request", None, "sub")),
        ("shape", (1,)),
        ("shape", (1,)),
        ("shape", (seen[-1][1][0], "request")),
    ]
    assert seen[4][2] == {"request": "request"}
    assert made(1, "request", None, None).body == b"1"
    unloaded = dict(vars(responses_module), _native_dumps_plain=None)
    not_loaded = JsonShape(shape=shape, rest=rest, status_code=200, plain_types=(), globals=unloaded)
    assert not_loaded(1, "request") == "shape"  # (the shape loads the writer)
    response = PlainTextResponse("x")
    assert native(response, None) is python(response, None) is response


def test_a_model_the_writer_gives_up_on_goes_to_the_serializer() -> None:
    gave_up: list[Any] = []
    serialized: list[Any] = []

    def dumps_model(raw: Any, fields: Any) -> bytes | None:
        gave_up.append((raw, fields))
        return None

    def dump_model(raw: Any) -> bytes:
        serialized.append(raw)
        return b'{"serialized":true}'

    fields: dict[str, tuple[bytes, int]] = {}

    def model_shape(dump: Any) -> Any:
        return JsonShape(
            shape=len,
            rest=len,
            status_code=200,
            model_type=User,
            model_fields=fields,
            dumps_model=dumps_model,
            dump_model=dump,
            globals=vars(responses_module),
        )

    user = User(id=1, name="u")
    response = model_shape(dump_model)(user, None)
    assert response.body == b'{"serialized":true}'
    assert gave_up == [(user, fields)]
    assert serialized == [user]
    bad = model_shape(lambda raw: "not bytes")
    # (what is not bytes goes to the Python json_bytes_response, which takes it as it is)
    assert bad(user, None).body == "not bytes"


def test_model_of_exactly_the_type(apps: Apps) -> None:
    app = apps[0].app
    assert isinstance(app, FastAPI)
    native, python = shapes(app, "GET /user/{name}")
    model = User(id=5, name="five")
    refs = sys.getrefcount(model)
    for _ in range(1000):
        same_response(native(model, None), python(model, None))
    assert sys.getrefcount(model) == refs  # nothing kept, nothing lost
    # A subclass and a dict go to the validator: the same answers as Python's.
    same_response(native(Admin(id=1, name="a"), None), python(Admin(id=1, name="a"), None))
    same_response(native({"id": 3, "name": "c"}, None), python({"id": 3, "name": "c"}, None))


def test_guards_follow_a_patched_json_dumps(apps: Apps, monkeypatch: pytest.MonkeyPatch) -> None:
    app = apps[0].app
    assert isinstance(app, FastAPI)
    native, python = shapes(app, "GET /plain/{name}")
    monkeypatch.setattr(json, "dumps", lambda *args, **kwargs: '"patched"')
    assert native({"a": 1}, None).body == python({"a": 1}, None).body == b'"patched"'
    monkeypatch.undo()
    monkeypatch.setattr(JSONResponse, "render", lambda self, content: b"rendered")
    assert native({"a": 1}, None).body == python({"a": 1}, None).body == b"rendered"
    monkeypatch.undo()
    assert native({"a": 1}, None).body == b'{"a":1}'


def test_the_modules_globals_are_read_at_each_call(apps: Apps, monkeypatch: pytest.MonkeyPatch) -> None:
    app = apps[0].app
    assert isinstance(app, FastAPI)
    native, python = shapes(app, "GET /plain/{name}")
    header = (b"content-length", b"7")
    monkeypatch.setattr(responses_module, "_CONTENT_LENGTHS", {7: header})
    assert native({"a": 1}, None).raw_headers[0] is header
    monkeypatch.setattr(responses_module, "_CONTENT_LENGTHS", {})
    made: list[int] = []

    def content_length(size: int) -> tuple[bytes, bytes]:
        made.append(size)
        return (b"content-length", b"%d" % size)

    monkeypatch.setattr(responses_module, "_content_length", content_length)
    same_response_bytes = native({"ab": 1}, None).raw_headers
    assert same_response_bytes == python({"ab": 1}, None).raw_headers
    assert made == [8, 8]
    json_type = (b"content-type", b"application/json; patched")
    monkeypatch.setattr(responses_module, "_JSON_TYPE", json_type)
    assert native([], None).raw_headers[1] is json_type

    class Other(Response):
        pass

    monkeypatch.setattr(responses_module, "Response", Other)
    assert type(native([], None)) is type(python([], None)) is Other
    monkeypatch.delattr(responses_module, "_JSON_TYPE")
    with pytest.raises(NameError, match="_JSON_TYPE"):
        native([], None)


def test_errors_are_the_writers(apps: Apps) -> None:
    app = apps[0].app
    assert isinstance(app, FastAPI)
    native, python = shapes(app, "GET /plain/{name}")
    with pytest.raises(ValueError, match="float") as from_native:
        native({"x": math.inf}, None)
    with pytest.raises(ValueError, match="float") as from_python:
        python({"x": math.inf}, None)
    assert str(from_native.value) == str(from_python.value)


def test_no_content_length_without_a_body(apps: Apps) -> None:
    shape = JsonShape(
        shape=len,
        rest=len,
        status_code=101,
        plain_types=(),
        globals=dict(vars(responses_module), _native_dumps_plain=lambda raw: b"{}"),
    )
    assert shape({}, None).raw_headers == [(b"content-type", b"application/json")]
    python = responses_module.json_bytes_response(b"{}", 101)
    same_response(shape({}, None), python)


BASE: dict[str, Any] = {"shape": len, "rest": len, "status_code": 200, "globals": {"Response": Response}}


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {k: v for k, v in BASE.items() if k != "shape"},
        {k: v for k, v in BASE.items() if k != "rest"},
        {**BASE, "shape": 1},
        {**BASE, "status_code": "200"},
        {**BASE, "globals": {}},  # no Response
        {**BASE, "plain_types": [dict]},
        {**BASE, "model_type": User},
        {**BASE, "model_type": User, "model_fields": {}, "dumps_model": len},  # no dump_model
        {**BASE, "guards": ((1, "a", 2),)},
        {**BASE, "unknown": 1},
    ],
)
def test_bad_arguments(kwargs: dict[str, Any]) -> None:
    with pytest.raises(TypeError):
        JsonShape(**kwargs)


def test_good_arguments() -> None:
    assert callable(JsonShape(**BASE))


class Proxy:
    """Looks like a Response to isinstance (as mock.Mock(spec=...) and wrapt-style proxies do)."""

    def __init__(self, inner: Response) -> None:
        object.__setattr__(self, "_inner", inner)

    @property  # type: ignore[misc]
    def __class__(self) -> type:
        return Response

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._inner, name, value)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self._inner(scope, receive, send)


def both_apps(monkeypatch: pytest.MonkeyPatch, make: Any) -> tuple[TestClient, TestClient]:
    native = make()
    with monkeypatch.context() as patch:
        patch.setattr(routing_module, "native_json_shape", lambda *args, **kwargs: None)
        python = make()
    return TestClient(native, raise_server_exceptions=False), TestClient(
        python, raise_server_exceptions=False
    )


def test_a_result_that_isinstance_calls_a_response_is_one(monkeypatch: pytest.MonkeyPatch) -> None:
    def make() -> FastAPI:
        app = FastAPI()

        @app.get("/proxy")
        async def proxy(x: int = 0):  # type: ignore[no-untyped-def]  # (a query: handle() shapes it)
            return Proxy(PlainTextResponse("proxied"))

        return app

    native, python = both_apps(monkeypatch, make)
    assert answer(native, "GET", "/proxy") == answer(python, "GET", "/proxy")
    assert native.get("/proxy").text == "proxied"


def test_patched_functions_of_the_shape_are_called(monkeypatch: pytest.MonkeyPatch) -> None:
    def make() -> FastAPI:
        app = FastAPI()

        @app.get("/plain")
        async def plain():  # type: ignore[no-untyped-def]
            return {"a": 1}

        @app.get("/model", response_model=User)
        async def model() -> Any:
            return User(id=1, name="m")

        @app.get("/any", response_model=dict[str, Any])
        async def any_dict() -> Any:
            return {"a": 1}

        return app

    native, python = both_apps(monkeypatch, make)
    calls: list[bytes] = []
    real = responses_module.json_bytes_response

    def spy(body: bytes, status_code: int = 200) -> Response:
        calls.append(body)
        return real(body, status_code)

    monkeypatch.setattr(responses_module, "json_bytes_response", spy)
    monkeypatch.setattr(routing_module, "json_bytes_response", spy)
    for url in ("/plain", "/model", "/any"):
        for client in (native, python):
            calls.clear()
            assert client.get(url).status_code == 200
            assert len(calls) == 1, url


def test_a_response_class_that_object_new_refuses() -> None:
    class NotObjects(dict):  # type: ignore[type-arg]
        pass

    globals_ = dict(vars(responses_module), _native_dumps_plain=lambda raw: b"{}")
    shape = JsonShape(shape=len, rest=len, status_code=200, plain_types=(), globals=globals_)
    globals_["Response"] = NotObjects
    with pytest.raises(TypeError, match="is not safe"):
        shape({}, None)
    with pytest.raises(TypeError, match="is not safe"):
        responses_module._new_object(NotObjects)


def test_a_status_code_that_is_not_an_int(monkeypatch: pytest.MonkeyPatch) -> None:
    def make() -> FastAPI:
        app = FastAPI()

        @app.get("/float", status_code=201.0)  # type: ignore[arg-type]
        async def as_float() -> dict[str, int]:
            return {"a": 1}

        return app

    native, python = both_apps(monkeypatch, make)
    assert answer(native, "GET", "/float") == answer(python, "GET", "/float")
    assert native.get("/float").status_code == 201


def test_a_reference_cycle_through_it_is_collected() -> None:
    class Sentinel:
        pass

    kept = Sentinel()
    gone = weakref.ref(kept)
    globals_ = dict(vars(responses_module), kept=kept)
    globals_["shape"] = JsonShape(shape=len, rest=len, status_code=200, globals=globals_)  # (a cycle)
    del kept, globals_
    gc.collect()
    assert gone() is None
