"""The JSON-mode fast path of a single body field: the same answers as the usual path.

A JSON body whose one body field has a schema that validates JSON as Python mode validates the
parsed JSON (`fasterapi._compat.json_body_validator`) is validated straight from the bytes; any
error sends it through the usual path. Every request here is sent to three apps built alike: with
the fast path, without it (the usual path: parse, then validate in Python mode) and, when it is
installed, FastAPI itself; their answers must be the same. fasterapi's own tests.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from types import ModuleType
from typing import Annotated, Any, Literal, Optional

import fasterapi
import fasterapi.routing
import pytest
from fasterapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict, Field, field_validator


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []
    description: str | None = None


class Part(BaseModel):
    id: int
    ok: bool = False


class Nested(BaseModel):
    model_config = ConfigDict(extra="allow")

    title: str
    kind: Literal["a", "b", 3] = "a"
    parts: list[Part] = []
    scores: dict[str, float] = {}
    extra_data: dict[str, Any] = {}
    parent: Optional["Nested"] = None


class StrictField(BaseModel):
    name: str
    count: int = Field(strict=True)


class StrictModel(BaseModel):
    model_config = ConfigDict(strict=True)

    name: str
    count: int


class Validated(BaseModel):
    name: str

    @field_validator("name", mode="before")
    @classmethod
    def seen_as(cls, value: Any) -> Any:
        return f"{type(value).__name__}:{value}"


class Dated(BaseModel):
    day: date


class Forbid(BaseModel):
    model_config = ConfigDict(extra="forbid")

    a: int


FAST = {"/item", "/nested", "/forbid", "/list", "/with-query", "/uses-request", "/dep-body"}
# a nullable body: a JSON null is the default, not a value (the usual path decides)
GENERAL = {"/strict-field", "/strict-model", "/validated", "/dated", "/optional"}


def make_app(fw: ModuleType) -> Any:
    app = fw.FastAPI()

    @app.exception_handler(fw.exceptions.RequestValidationError)
    async def show(request: Any, exc: Any) -> Any:
        return fw.responses.JSONResponse(
            fw.encoders.jsonable_encoder({"detail": exc.errors(), "body": exc.body}), status_code=422
        )

    @app.post("/item", response_model=Item)
    async def item(item: Item) -> Any:
        return item

    @app.post("/nested", response_model=Nested)
    async def nested(body: Nested) -> Any:
        return body

    @app.post("/forbid")
    async def forbid(body: Forbid) -> Any:
        return body

    @app.post("/list")
    async def parts(body: list[Part]) -> Any:
        return body

    @app.post("/optional")
    async def optional(body: Item | None = None) -> Any:
        return {"body": body}

    @app.post("/with-query")
    async def with_query(item: Item, q: int) -> Any:
        return {"item": item, "q": q}

    @app.post("/uses-request")
    async def uses_request(item: Item, request: fw.Request) -> Any:
        first = await request.json()
        again = await request.json()
        return {"item": item, "json": first, "cached": first is again}

    async def item_dep(item: Item, q: int = 0) -> Any:
        return {"item": item, "q": q}

    @app.post("/dep-body")
    async def dep_body(got: Annotated[Any, fw.Depends(item_dep)]) -> Any:
        return got

    @app.post("/strict-field")
    async def strict_field(body: StrictField) -> Any:
        return body

    @app.post("/strict-model")
    async def strict_model(body: StrictModel) -> Any:
        return body

    @app.post("/validated")
    async def validated(body: Validated) -> Any:
        return body

    @app.post("/dated")
    async def dated(body: Dated) -> Any:
        return body

    return app


@contextmanager
def no_fast_path() -> Iterator[None]:
    saved = fasterapi.routing.json_body_validator
    fasterapi.routing.json_body_validator = lambda field: None  # type: ignore[assignment]
    try:
        yield
    finally:
        fasterapi.routing.json_body_validator = saved


@pytest.fixture(scope="module")
def clients() -> dict[str, TestClient]:
    out = {"fast": TestClient(make_app(fasterapi))}
    with no_fast_path():
        out["general"] = TestClient(make_app(fasterapi))
    try:
        import fastapi
        from fastapi.testclient import TestClient as FastAPIClient
    except ImportError:  # pragma: no cover - FastAPI is not installed
        pass
    else:
        if fastapi.__version__ == "0.149.0":
            out["fastapi"] = FastAPIClient(make_app(fastapi))  # type: ignore[assignment]
    return out


ITEM = {"name": "Widget", "price": 9.99, "tags": ["tools", "blue"], "description": "A blue widget"}
NESTED = {
    "title": "t",
    "kind": 3,
    "parts": [{"id": "7", "ok": "yes"}, {"id": 2.0, "ok": 1}],
    "scores": {"x": 1, "y": "2.5", "z": 1e400},
    "extra_data": {"deep": [1, {"k": None}], "big": 10**30},
    "parent": {"title": "p", "parent": {"title": "q"}},
    "unknown": {"any": ["thing"]},
}
JSON = "application/json"

CASES: list[tuple[str, bytes | str, str | None]] = [
    # valid bodies
    ("/item", json.dumps(ITEM), JSON),
    ("/item", json.dumps({"name": "n", "price": "3"}), JSON),
    ("/item", json.dumps({"name": "n", "price": 3, "extra": 1}), JSON),
    ("/item", b'{"name": "a", "name": "b", "price": 1}', JSON),
    ("/item", json.dumps(ITEM), "application/vnd.api+json"),
    ("/item", json.dumps(ITEM), None),
    ("/item", b'{"name": "n", "price": NaN}', JSON),
    ("/item", b'{"name": "n", "price": Infinity}', JSON),
    ("/item", b'{"name": "n", "price": 1e400}', JSON),
    ("/nested", json.dumps(NESTED), JSON),
    ("/forbid", b'{"a": "1"}', JSON),
    ("/list", b'[{"id": 1}, {"id": "2", "ok": true}]', JSON),
    ("/list", b"[]", JSON),
    ("/optional", json.dumps(ITEM), JSON),
    ("/with-query?q=1", json.dumps(ITEM), JSON),
    ("/uses-request", json.dumps(ITEM), JSON),
    # missing field, wrong type, extra nesting
    ("/item", json.dumps({"price": 1}), JSON),
    ("/item", json.dumps({"name": "n", "price": "cheap"}), JSON),
    ("/item", json.dumps({"name": ["n"], "price": 1, "tags": [1, None]}), JSON),
    ("/item", json.dumps({"item": ITEM}), JSON),
    ("/nested", json.dumps({"title": "t", "kind": "c", "parts": [{"id": "x"}]}), JSON),
    ("/nested", json.dumps({"title": "t", "parent": {"parent": {"title": 1}}}), JSON),
    ("/forbid", b'{"a": 1, "b": 2}', JSON),
    ("/list", b'{"id": 1}', JSON),
    ("/list", b'[{"id": 1}, 2]', JSON),
    # a float too large for Python mode: JSON mode would give inf
    ("/item", b'{"name": "n", "price": 1' + b"0" * 400 + b"}", JSON),
    # invalid JSON, empty body, wrong content type, non-object JSON
    ("/item", b'{"name": "n", "price": 1', JSON),
    ("/item", b'{"name": "n", "price": 1} x', JSON),
    ("/item", b'{"name": "n", "price": 1, "x": "\\ud800"}', JSON),
    ("/item", b'\xef\xbb\xbf{"name": "n", "price": 1}', JSON),
    ("/item", b"", JSON),
    ("/item", b"", None),
    ("/item", json.dumps(ITEM), "text/plain"),
    ("/item", b"[1, 2]", JSON),
    ("/item", b'"text"', JSON),
    ("/item", b"3", JSON),
    ("/item", b"null", JSON),
    ("/optional", b"null", JSON),
    ("/optional", b"", JSON),
    ("/list", b"null", JSON),
    # an error elsewhere than in the (valid) body: the error carries the parsed body
    ("/with-query?q=x", json.dumps(ITEM), JSON),
    ("/with-query", json.dumps({"name": 1}), JSON),
    # the body read by a dependency
    ("/dep-body?q=2", json.dumps(ITEM), JSON),
    ("/dep-body?q=x", json.dumps(ITEM), JSON),
    ("/dep-body", json.dumps({"name": "n"}), JSON),
    # the usual path only: strict fields, strict models, validators, dates
    ("/strict-field", b'{"name": "n", "count": 1}', JSON),
    ("/strict-field", b'{"name": "n", "count": "1"}', JSON),
    ("/strict-model", b'{"name": "n", "count": 1}', JSON),
    ("/strict-model", b'{"name": "n", "count": "1"}', JSON),
    ("/validated", b'{"name": "n"}', JSON),
    ("/validated", b'{"name": 5}', JSON),
    ("/dated", b'{"day": "2024-01-02"}', JSON),
    ("/dated", b'{"day": 1700000000}', JSON),
    ("/dated", b'{"day": "bad"}', JSON),
]


@pytest.mark.parametrize(("path", "body", "content_type"), CASES)
def test_same_answers(
    clients: dict[str, TestClient], path: str, body: bytes | str, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    answers = {}
    for name, client in clients.items():
        response = client.post(path, content=body, headers=headers)
        answers[name] = (response.status_code, response.text)
    expected = answers["general"]
    for name, got in answers.items():
        assert got == expected, name


def _route(client: TestClient, path: str) -> Any:
    app = client.app
    return next(r for r in app.routes if getattr(r, "path", None) == path)  # type: ignore[attr-defined]


def test_fast_path_taken_where_proved(clients: dict[str, TestClient]) -> None:
    for path in FAST | GENERAL:
        route = _route(clients["fast"], path)
        validator = route._json_body_validator(False)
        assert (validator is not None) == (path in FAST), path


def test_fast_path_value_used(clients: dict[str, TestClient], monkeypatch: pytest.MonkeyPatch) -> None:
    # The body reaches the endpoint as validated from the bytes (no parsed JSON cached before).
    client = clients["fast"]
    response = client.post("/uses-request", content=json.dumps(ITEM), headers={"content-type": JSON})
    assert response.json() == {"item": ITEM, "json": ITEM, "cached": True}


def test_patched_json_loads_takes_the_usual_path(
    clients: dict[str, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise json.JSONDecodeError("broken", "doc", 0)

    monkeypatch.setattr(json, "loads", broken)
    answers = [
        (r.status_code, r.text)
        for r in (
            clients[name].post("/item", content=json.dumps(ITEM), headers={"content-type": JSON})
            for name in ("fast", "general")
        )
    ]
    assert answers[0] == answers[1]
    assert answers[0][0] == 422


def test_overridden_request_json_is_used() -> None:
    class Doubled(fasterapi.Request):
        async def json(self) -> Any:
            data = await super().json()
            data["name"] *= 2
            return data

    class Route(fasterapi.routing.APIRoute):
        def get_route_handler(self) -> Any:
            handler = super().get_route_handler()

            async def custom(request: fasterapi.Request) -> Any:
                return await handler(Doubled(request.scope, request.receive))

            return custom

    app = fasterapi.FastAPI()
    app.router.route_class = Route

    @app.post("/item", response_model=Item)
    async def item(item: Annotated[Item, fasterapi.Body()]) -> Any:
        return item

    response = TestClient(app).post("/item", json=ITEM)
    assert response.json()["name"] == "WidgetWidget"


def test_dependency_overrides_take_the_usual_path() -> None:
    app = fasterapi.FastAPI()

    async def item_dep(item: Item) -> Any:
        return item

    async def other(item: Item) -> Any:
        return {"other": item}

    @app.post("/dep")
    async def dep(got: Annotated[Any, fasterapi.Depends(item_dep)]) -> Any:
        return got

    client = TestClient(app)
    assert client.post("/dep", json=ITEM).json() == ITEM
    app.dependency_overrides[item_dep] = other
    assert client.post("/dep", json=ITEM).json() == {"other": ITEM}
    assert client.post("/dep", json={"price": 1}).json()["detail"][0]["loc"] == ["body", "name"]


async def _call(app: Any, headers: Any, body: bytes) -> tuple[int, bytes]:
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/item",
        "raw_path": b"/item",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def test_content_type_from_any_scope_headers() -> None:
    import anyio

    app = make_app(fasterapi)
    body = json.dumps(ITEM).encode()
    for headers in (
        [(b"content-type", b"application/json")],
        ((b"content-type", b"application/json"),),
        [(b"x", b"1"), (b"content-type", b"application/json"), (b"content-type", b"text/plain")],
        [(b"x", b"1"), (b"content-type", b"text/plain"), (b"content-type", b"application/json")],
        [],
    ):
        status, got = anyio.run(_call, app, headers, body)
        first = next((v for k, v in headers if k == b"content-type"), None)
        if first == b"application/json":
            assert (status, json.loads(got)) == (200, ITEM)
        else:  # a strict content type by default: no JSON without it
            assert status == 422
