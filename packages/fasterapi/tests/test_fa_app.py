"""The FastAPI layer end to end, through the test client: what a FastAPI app sees.

The expectations are FastAPI 0.149.0's (this file was run against it with `fasterapi` read as
`fastapi`, apart from the tests marked as fasterapi's own). No `from __future__ import
annotations`: the endpoints are local functions whose annotations must be evaluated at once.
"""

import json
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import pytest
from fasterapi import (
    APIRouter,
    BackgroundTasks,
    Body,
    Cookie,
    Depends,
    FastAPI,
    File,
    Form,
    Header,
    HTTPException,
    Path,
    Query,
    Request,
    Response,
    Security,
    UploadFile,
    WebSocket,
    WebSocketDisconnect,
    status,
)
from fasterapi.exceptions import RequestValidationError, WebSocketException
from fasterapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, StreamingResponse
from fasterapi.security import (
    APIKeyCookie,
    APIKeyHeader,
    APIKeyQuery,
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    OAuth2PasswordBearer,
    OAuth2PasswordRequestForm,
    OpenIdConnect,
    SecurityScopes,
)
from fasterapi.sse import EventSourceResponse, ServerSentEvent
from fasterapi.testclient import TestClient
from pydantic import BaseModel


class Item(BaseModel):
    name: str
    price: float
    tax: float | None = None


class ItemOut(BaseModel):
    name: str


class UserIn(BaseModel):
    username: str
    password: str


class UserOut(BaseModel):
    username: str


# --------------------------------------------------------------------------- path operations


def test_path_operations_and_options() -> None:
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def read(item_id: int, q: str | None = None) -> dict[str, Any]:
        return {"item_id": item_id, "q": q}

    @app.post("/items/", status_code=201, response_model=ItemOut)
    def create(item: Item) -> Any:
        return item

    @app.put("/items/{item_id}")
    def put(item_id: int, item: Item, importance: Annotated[int, Body()]) -> dict[str, Any]:
        return {"item_id": item_id, "item": item.model_dump(), "importance": importance}

    @app.delete("/items/{item_id}", status_code=status.HTTP_204_NO_CONTENT)
    def delete(item_id: int) -> None:
        return None

    @app.api_route("/multi", methods=["GET", "POST"])
    def multi(request: Request) -> str:
        return request.method

    @app.get("/html", response_class=HTMLResponse)
    def html() -> str:
        return "<b>hi</b>"

    @app.get("/text", response_class=PlainTextResponse)
    def text() -> str:
        return "plain"

    @app.head("/head")
    def head() -> dict[str, str]:
        return {"a": "b"}

    client = TestClient(app)
    assert client.get("/items/5?q=x").json() == {"item_id": 5, "q": "x"}
    response = client.post("/items/", json={"name": "a", "price": 1.5})
    assert response.status_code == 201
    assert response.json() == {"name": "a"}
    response = client.put("/items/1", json={"item": {"name": "a", "price": 1}, "importance": 3})
    assert response.json() == {
        "item_id": 1,
        "item": {"name": "a", "price": 1.0, "tax": None},
        "importance": 3,
    }
    response = client.delete("/items/1")
    assert response.status_code == 204
    assert response.content == b""
    assert client.get("/multi").json() == "GET"
    assert client.post("/multi").json() == "POST"
    response = client.get("/html")
    assert response.text == "<b>hi</b>"
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert client.get("/text").text == "plain"
    assert client.head("/head").status_code == 200
    response = client.post("/items/5")
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}
    assert client.get("/nowhere").json() == {"detail": "Not Found"}


def test_parameters_from_every_source() -> None:
    app = FastAPI()

    @app.get("/p/{pid}")
    def params(  # noqa: PLR0917 - FastAPI endpoints take their parameters by position
        pid: Annotated[int, Path(ge=1)],
        q: Annotated[list[str], Query()] = [],  # noqa: B006
        alias_q: Annotated[str | None, Query(alias="item-query")] = None,
        user_agent: Annotated[str | None, Header()] = None,
        x_tokens: Annotated[list[str] | None, Header()] = None,
        session: Annotated[str | None, Cookie()] = None,
    ) -> dict[str, Any]:
        return {
            "pid": pid,
            "q": q,
            "alias_q": alias_q,
            "ua": user_agent,
            "tokens": x_tokens,
            "session": session,
        }

    client = TestClient(app, cookies={"session": "s"})
    response = client.get(
        "/p/3?q=a&q=b&item-query=z",
        headers=[("user-agent", "ua"), ("x-tokens", "1"), ("x-tokens", "2")],
    )
    assert response.json() == {
        "pid": 3,
        "q": ["a", "b"],
        "alias_q": "z",
        "ua": "ua",
        "tokens": ["1", "2"],
        "session": "s",
    }


def test_validation_error_shapes() -> None:
    app = FastAPI()

    @app.get("/items/{item_id}")
    def read(item_id: int, n: Annotated[int, Query(gt=0)]) -> None: ...

    @app.post("/items/")
    def create(item: Item) -> None: ...

    client = TestClient(app)
    response = client.get("/items/x?n=0")
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "int_parsing",
                "loc": ["path", "item_id"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "input": "x",
            },
            {
                "type": "greater_than",
                "loc": ["query", "n"],
                "msg": "Input should be greater than 0",
                "input": "0",
                "ctx": {"gt": 0},
            },
        ]
    }
    response = client.get("/items/1")
    assert response.json() == {
        "detail": [{"type": "missing", "loc": ["query", "n"], "msg": "Field required", "input": None}]
    }
    response = client.post("/items/", json={"name": "x"})
    assert response.json() == {
        "detail": [
            {"type": "missing", "loc": ["body", "price"], "msg": "Field required", "input": {"name": "x"}}
        ]
    }
    response = client.post("/items/")
    assert response.json() == {
        "detail": [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]
    }
    response = client.post("/items/", content=b"{bad", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "json_invalid",
                "loc": ["body", 1],
                "msg": "JSON decode error",
                "input": {},
                "ctx": {"error": "Expecting property name enclosed in double quotes"},
            }
        ]
    }


# --------------------------------------------------------------------------- dependencies


def test_dependencies_cache_subdeps_overrides() -> None:
    calls: list[str] = []

    def base(q: str | None = None) -> str | None:
        calls.append("base")
        return q

    def sub(value: Annotated[str | None, Depends(base)]) -> str:
        return f"sub:{value}"

    def uncached(value: Annotated[str | None, Depends(base, use_cache=False)]) -> str:
        return f"uncached:{value}"

    class Commons:
        def __init__(self, skip: int = 0, limit: int = 10) -> None:
            self.skip = skip
            self.limit = limit

    app = FastAPI()

    @app.get("/")
    def endpoint(
        a: Annotated[str, Depends(sub)],
        b: Annotated[str | None, Depends(base)],
        c: Annotated[str, Depends(uncached)],
        commons: Annotated[Commons, Depends()],
    ) -> dict[str, Any]:
        return {"a": a, "b": b, "c": c, "skip": commons.skip, "limit": commons.limit}

    client = TestClient(app)
    assert client.get("/?q=x&skip=2").json() == {
        "a": "sub:x",
        "b": "x",
        "c": "uncached:x",
        "skip": 2,
        "limit": 10,
    }
    assert calls == ["base", "base"]

    app.dependency_overrides[base] = lambda: "over"
    assert client.get("/?q=x").json()["a"] == "sub:over"
    app.dependency_overrides.clear()
    assert client.get("/?q=y").json()["a"] == "sub:y"


def test_dependencies_with_yield_and_scopes() -> None:
    events: list[str] = []

    def resource() -> Iterator[str]:
        events.append("open")
        try:
            yield "res"
        except HTTPException:
            events.append("http-error")
            raise
        finally:
            events.append("close")

    async def function_scoped() -> AsyncIterator[str]:
        events.append("fopen")
        yield "f"
        events.append("fclose")

    app = FastAPI()

    @app.get("/ok")
    def ok(
        r: Annotated[str, Depends(resource)],
        f: Annotated[str, Depends(function_scoped, scope="function")],
    ) -> dict[str, str]:
        events.append("handler")
        return {"r": r, "f": f}

    @app.get("/fail")
    def fail(r: Annotated[str, Depends(resource)]) -> None:
        raise HTTPException(status_code=400, detail="nope")

    client = TestClient(app)
    assert client.get("/ok").json() == {"r": "res", "f": "f"}
    assert events == ["open", "fopen", "handler", "fclose", "close"]
    events.clear()
    response = client.get("/fail")
    assert response.status_code == 400
    assert events == ["open", "http-error", "close"]


def test_router_and_app_level_dependencies_and_include_router() -> None:
    seen: list[str] = []

    def app_dep() -> None:
        seen.append("app")

    def router_dep(x_token: Annotated[str, Header()]) -> None:
        seen.append("router")
        if x_token != "secret":
            raise HTTPException(status_code=400, detail="X-Token header invalid")

    def include_dep() -> None:
        seen.append("include")

    router = APIRouter(prefix="/items", tags=["items"], dependencies=[Depends(router_dep)])

    @router.get("/")
    def items() -> list[str]:
        return ["a"]

    @router.get("/{item_id}", name="one")
    def one(item_id: str) -> str:
        return item_id

    app = FastAPI(dependencies=[Depends(app_dep)])
    app.include_router(router, prefix="/v1", dependencies=[Depends(include_dep)])
    client = TestClient(app)
    assert client.get("/v1/items/", headers={"x-token": "secret"}).json() == ["a"]
    assert seen == ["app", "include", "router"]
    response = client.get("/v1/items/3", headers={"x-token": "no"})
    assert response.status_code == 400
    assert response.json() == {"detail": "X-Token header invalid"}
    response = client.get("/v1/items/3")
    assert response.json()["detail"][0]["loc"] == ["header", "x-token"]
    assert app.url_path_for("one", item_id="7") == "/v1/items/7"
    paths = app.openapi()["paths"]
    assert paths["/v1/items/"]["get"]["tags"] == ["items"]


# --------------------------------------------------------------------------- application


def test_lifespan_state_and_events() -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, str]]:
        events.append("start")
        yield {"resource": "r"}
        events.append("stop")

    sub_events: list[str] = []

    @asynccontextmanager
    async def router_lifespan(app: Any) -> AsyncIterator[None]:
        sub_events.append("sub start")
        yield
        sub_events.append("sub stop")

    router = APIRouter(lifespan=router_lifespan)
    app = FastAPI(lifespan=lifespan)
    app.include_router(router)

    @app.get("/")
    def read(request: Request) -> str:
        return request.state.resource

    with TestClient(app) as client:
        assert events == ["start"]
        assert sub_events == ["sub start"]
        assert client.get("/").json() == "r"
    assert events == ["start", "stop"]
    assert sub_events == ["sub start", "sub stop"]


def test_on_event_is_deprecated_but_runs() -> None:
    app = FastAPI()
    events: list[str] = []
    with pytest.warns(DeprecationWarning, match="on_event is deprecated"):

        @app.on_event("startup")
        def startup() -> None:
            events.append("startup")

    with TestClient(app):
        pass
    assert events == ["startup"]


def test_middleware_and_exception_handlers() -> None:
    class UnicornError(Exception):
        def __init__(self, name: str) -> None:
            self.name = name

    app = FastAPI()

    @app.middleware("http")
    async def add_header(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        response.headers["X-Process"] = "1"
        return response

    @app.exception_handler(UnicornError)
    async def unicorn(request: Request, exc: UnicornError) -> JSONResponse:
        return JSONResponse(status_code=418, content={"message": f"Oops! {exc.name}"})

    @app.exception_handler(RequestValidationError)
    async def validation(request: Request, exc: RequestValidationError) -> PlainTextResponse:
        return PlainTextResponse(f"bad: {len(exc.errors())}", status_code=400)

    @app.get("/unicorn/{name}")
    def read(name: str, n: int = 0) -> None:
        raise UnicornError(name)

    @app.get("/headers")
    def headers() -> None:
        raise HTTPException(status_code=404, detail="gone", headers={"X-Error": "yes"})

    client = TestClient(app)
    response = client.get("/unicorn/yolo")
    assert response.status_code == 418
    assert response.json() == {"message": "Oops! yolo"}
    assert response.headers["x-process"] == "1"
    response = client.get("/unicorn/yolo?n=x")
    assert response.status_code == 400
    assert response.text == "bad: 1"
    response = client.get("/headers")
    assert response.headers["x-error"] == "yes"
    assert response.json() == {"detail": "gone"}


def test_server_error_is_500() -> None:
    app = FastAPI()

    @app.get("/")
    def boom() -> None:
        raise RuntimeError("boom")

    client = TestClient(app, raise_server_exceptions=False)
    response = client.get("/")
    assert response.status_code == 500
    assert response.text == "Internal Server Error"


def test_an_exception_after_the_response_started_is_not_answered_again() -> None:
    # Its handler would answer a second time: FastAPI raises instead, and the client keeps what
    # was sent. Early, the handler answers.
    class Late(Exception):
        pass

    app = FastAPI()

    @app.exception_handler(Late)
    async def on_late(request: Request, exc: Late) -> PlainTextResponse:
        return PlainTextResponse("handled", status_code=409)

    @app.get("/early")
    async def early() -> None:
        raise Late()

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            yield b"first"
            raise Late()

        return StreamingResponse(body())

    @app.get("/late-background")
    async def late_background(background: BackgroundTasks) -> PlainTextResponse:
        def fail() -> None:
            raise Late()

        background.add_task(fail)
        return PlainTextResponse("sent")

    client = TestClient(app, raise_server_exceptions=False)
    answers = {path: client.get(path) for path in ("/early", "/stream", "/late-background")}
    assert {path: (r.status_code, r.text) for path, r in answers.items()} == {
        "/early": (409, "handled"),
        "/stream": (200, "first"),
        "/late-background": (200, "sent"),
    }
    for path in ("/stream", "/late-background"):
        with pytest.raises(RuntimeError, match="response already started"):
            TestClient(app).get(path)


def test_background_tasks_and_response_parameter() -> None:
    done: list[str] = []

    def write(message: str) -> None:
        done.append(message)

    def dep(background_tasks: BackgroundTasks) -> None:
        background_tasks.add_task(write, "from dep")

    app = FastAPI()

    @app.post("/send/{email}", status_code=202, dependencies=[Depends(dep)])
    async def send(email: str, background_tasks: BackgroundTasks, response: Response) -> dict[str, str]:
        background_tasks.add_task(write, email)
        response.headers["X-Cat"] = "meow"
        response.set_cookie("c", "v")
        return {"message": "sent"}

    @app.get("/status")
    def change(response: Response) -> dict[str, str]:
        response.status_code = 201
        return {}

    client = TestClient(app)
    response = client.post("/send/a@b.c")
    assert response.status_code == 202
    assert response.headers["x-cat"] == "meow"
    assert response.cookies["c"] == "v"
    assert done == ["from dep", "a@b.c"]
    assert client.get("/status").status_code == 201


def test_response_model_filtering() -> None:
    app = FastAPI()

    class Stored(BaseModel):
        name: str
        description: str | None = None
        price: float = 10.5
        tags: list[str] = []

    @app.post("/user/", response_model=UserOut)
    def create_user(user: UserIn) -> Any:
        return user

    @app.get("/unset", response_model=Stored, response_model_exclude_unset=True)
    def unset() -> Any:
        return {"name": "a", "price": 3}

    @app.get("/include", response_model=Stored, response_model_include={"name"})
    def include() -> Any:
        return Stored(name="b")

    @app.get("/none", response_model=Stored, response_model_exclude_none=True)
    def none() -> Any:
        return Stored(name="c")

    @app.get("/annotated")
    def annotated() -> UserOut:
        return UserIn(username="u", password="p")  # type: ignore[return-value]

    @app.get("/invalid", response_model=UserOut)
    def invalid() -> Any:
        return {"nope": 1}

    client = TestClient(app)
    assert client.post("/user/", json={"username": "u", "password": "p"}).json() == {"username": "u"}
    assert client.get("/unset").json() == {"name": "a", "price": 3.0}
    assert client.get("/include").json() == {"name": "b"}
    assert client.get("/none").json() == {"name": "c", "price": 10.5, "tags": []}
    assert client.get("/annotated").json() == {"username": "u"}
    with pytest.raises(Exception, match="validation error"):
        client.get("/invalid")


def test_plain_response_models_write_plain_data_without_the_core(monkeypatch: pytest.MonkeyPatch) -> None:
    """`-> dict[str, Any]`, `-> list`, `-> Any`: plain data is written by the native writer, with
    the bytes pydantic's serializer gives; anything else (a date, a tiny float, a value of the wrong
    outer type, a model with options) takes the validator and the serializer, as before."""
    import datetime

    from fasterapi import responses
    from pydantic import Field, TypeAdapter

    values: dict[str, Any] = {
        "plain": {"a": [1, "é\n", True, None, 2.5e16, -0.0], "_sa": {"b": ()}},
        "tiny": {"f": 1e-5},
        "date": {"d": datetime.date(2024, 1, 2)},
        "int_keys": {1: "one"},
        "none": None,
    }
    app = FastAPI()

    @app.get("/dict")
    async def as_dict(v: str) -> dict[str, Any]:
        return values[v]  # type: ignore[no-any-return]

    @app.get("/bare_dict")
    async def bare_dict(v: str) -> dict:  # type: ignore[type-arg]
        return values[v]  # type: ignore[no-any-return]

    @app.get("/list")
    async def as_list() -> list[Any]:
        return (1, "x")  # type: ignore[return-value]

    @app.get("/any")
    async def as_any(v: str) -> Any:
        return values[v]

    @app.get("/constrained")
    async def constrained() -> Annotated[dict[str, Any], Field(max_length=1)]:
        return {"a": 1, "b": 2}

    @app.get("/exclude_none", response_model=dict[str, Any], response_model_exclude_none=True)
    async def exclude_none() -> Any:
        return {"a": None}

    @app.get("/include_nothing", response_model=dict[str, Any], response_model_include=set())
    async def include_nothing() -> Any:
        return {"a": 1}

    written: list[Any] = []
    real = responses._load_native_dumps() and responses._native_dumps_plain
    assert real is not None

    def counting(value: Any, **kw: Any) -> bytes | None:
        written.append(value)
        return real(value, **kw)

    monkeypatch.setattr(responses, "_native_dumps_plain", counting)
    client = TestClient(app, raise_server_exceptions=False)

    def check(url: str, annotation: Any, value: Any, tried: bool) -> None:
        """`url` answers pydantic's bytes for `value`; the native writer was tried or not."""
        written.clear()
        r = client.get(url)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/json"
        assert r.content == TypeAdapter(annotation).dump_json(value)
        assert bool(written) == tried, url

    check("/dict?v=plain", dict[str, Any], values["plain"], True)
    check("/dict?v=tiny", dict[str, Any], values["tiny"], True)  # (the writer gives up: the core writes)
    assert client.get("/dict?v=tiny").content == b'{"f":0.00001}'
    check("/dict?v=date", dict[str, Any], values["date"], True)
    check("/bare_dict?v=int_keys", dict, values["int_keys"], True)
    check("/list", list[Any], [1, "x"], True)
    check("/any?v=plain", Any, values["plain"], True)
    check("/any?v=none", Any, None, True)
    # Wrong outer type: not written, and the validator refuses it as before.
    written.clear()
    assert client.get("/dict?v=none").status_code == 500
    assert not written
    # Constraints and options keep the core.
    written.clear()
    assert client.get("/constrained").status_code == 500
    assert client.get("/exclude_none").json() == {"a": None}
    assert client.get("/include_nothing").content == b"{}"  # (an empty include: nothing, as pydantic)
    assert not written


def test_plain_response_models_keep_the_core_where_the_native_writer_differs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The native writer is used only where it writes the bytes of this pydantic-core (checked
    once, on floats: pydantic-core's earlier writer gave "1e16" for "1e+16")."""
    from fasterapi import responses

    assert responses.native_writes_as_pydantic()  # (this pydantic-core, this server)
    monkeypatch.setattr(responses, "_native_dumps_plain", lambda value, **kw: b"[1e16]")
    responses.native_writes_as_pydantic.cache_clear()
    try:
        assert not responses.native_writes_as_pydantic()
        app = FastAPI()

        @app.get("/d")
        async def d() -> dict[str, Any]:
            return {"x": 1e16}

        # (the stand-in writer would have answered b"[1e16]")
        assert TestClient(app).get("/d").content == b'{"x":1e+16}'
    finally:
        monkeypatch.undo()
        responses.native_writes_as_pydantic.cache_clear()


# --------------------------------------------------------------------------- streaming


def test_json_lines_streaming() -> None:
    app = FastAPI()

    @app.get("/items/stream")
    async def stream() -> AsyncIterable[Item]:
        for i in range(2):
            yield Item(name=f"i{i}", price=i)

    @app.get("/items/stream-sync")
    def stream_sync() -> Iterable[ItemOut]:
        yield Item(name="s", price=1)  # type: ignore[misc]

    @app.get("/untyped")
    async def untyped() -> AsyncIterator[Any]:
        yield {"a": 1}
        yield [1, 2]

    @app.get("/raw")
    async def raw() -> StreamingResponse:
        async def gen() -> AsyncIterator[bytes]:
            yield b"x"
            yield b"y"

        return StreamingResponse(gen(), media_type="text/plain")

    client = TestClient(app)
    response = client.get("/items/stream")
    assert response.headers["content-type"] == "application/jsonl"
    assert response.text == '{"name":"i0","price":0.0,"tax":null}\n{"name":"i1","price":1.0,"tax":null}\n'
    assert client.get("/items/stream-sync").text == '{"name":"s"}\n'
    assert [json.loads(line) for line in client.get("/untyped").text.splitlines()] == [{"a": 1}, [1, 2]]
    assert client.get("/raw").text == "xy"


def test_server_sent_events() -> None:
    app = FastAPI()

    @app.get("/items", response_class=EventSourceResponse)
    async def items() -> AsyncIterable[Item]:
        yield Item(name="a", price=1)

    @app.get("/events", response_class=EventSourceResponse)
    def events() -> Iterable[ServerSentEvent]:
        yield ServerSentEvent(data={"k": 1}, event="update", id="1")
        yield ServerSentEvent(raw_data="plain text", retry=5000)
        yield ServerSentEvent(comment="just a comment")

    client = TestClient(app)
    response = client.get("/items")
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    assert response.text == 'data: {"name":"a","price":1.0,"tax":null}\n\n'
    text = client.get("/events").text
    assert text == (
        'event: update\ndata: {"k": 1}\nid: 1\n\ndata: plain text\nretry: 5000\n\n: just a comment\n\n'
    )


# --------------------------------------------------------------------------- websockets


def test_websocket_endpoints() -> None:
    app = FastAPI()

    async def get_token(websocket: WebSocket, token: Annotated[str | None, Query()] = None) -> str:
        if token is None:
            raise WebSocketException(code=status.WS_1008_POLICY_VIOLATION)
        return token

    @app.websocket("/ws/{client_id}")
    async def ws(websocket: WebSocket, client_id: int, token: Annotated[str, Depends(get_token)]) -> None:
        await websocket.accept()
        try:
            while True:
                data = await websocket.receive_text()
                await websocket.send_text(f"{client_id}:{token}:{data}")
        except WebSocketDisconnect:
            pass

    @app.websocket("/typed")
    async def typed(websocket: WebSocket, n: int) -> None:
        await websocket.accept()
        await websocket.send_json({"n": n})
        await websocket.close()

    client = TestClient(app)
    with client.websocket_connect("/ws/3?token=t") as websocket:
        websocket.send_text("hi")
        assert websocket.receive_text() == "3:t:hi"
    with pytest.raises(WebSocketDisconnect) as info, client.websocket_connect("/ws/3") as websocket:
        websocket.receive_text()
    assert info.value.code == 1008
    with client.websocket_connect("/typed?n=4") as websocket:
        assert websocket.receive_json() == {"n": 4}
    with pytest.raises(WebSocketDisconnect) as info, client.websocket_connect("/typed?n=x") as websocket:
        websocket.receive_text()
    assert info.value.code == 1008


# --------------------------------------------------------------------------- forms and files


def test_forms_and_files() -> None:
    app = FastAPI()

    @app.post("/login/")
    def login(username: Annotated[str, Form()], password: Annotated[str, Form()]) -> dict[str, str]:
        return {"username": username}

    @app.post("/files/")
    async def files(
        file: Annotated[bytes, File()], upload: UploadFile, token: Annotated[str, Form()]
    ) -> dict[str, Any]:
        content = await upload.read()
        return {"size": len(file), "name": upload.filename, "content": content.decode(), "token": token}

    @app.post("/many/")
    async def many(files: list[UploadFile]) -> list[str | None]:
        return [f.filename for f in files]

    client = TestClient(app)
    assert client.post("/login/", data={"username": "u", "password": "p"}).json() == {"username": "u"}
    response = client.post("/login/", data={"username": "u"})
    assert response.json() == {
        "detail": [{"type": "missing", "loc": ["body", "password"], "msg": "Field required", "input": None}]
    }
    response = client.post(
        "/files/",
        files={"file": ("a.bin", b"12345"), "upload": ("b.txt", b"hello")},
        data={"token": "t"},
    )
    assert response.json() == {"size": 5, "name": "b.txt", "content": "hello", "token": "t"}
    response = client.post("/many/", files=[("files", ("1.txt", b"1")), ("files", ("2.txt", b"2"))])
    assert response.json() == ["1.txt", "2.txt"]


# --------------------------------------------------------------------------- security


def test_security_classes_status_and_headers() -> None:
    oauth2 = OAuth2PasswordBearer(tokenUrl="token", scopes={"me": "me"})
    basic = HTTPBasic()
    bearer = HTTPBearer()
    header_key = APIKeyHeader(name="X-Key")
    query_key = APIKeyQuery(name="key")
    cookie_key = APIKeyCookie(name="key")
    oidc = OpenIdConnect(openIdConnectUrl="/conf")
    app = FastAPI()

    def user(scopes: SecurityScopes, token: Annotated[str, Depends(oauth2)]) -> dict[str, Any]:
        return {"token": token, "scopes": scopes.scopes}

    @app.post("/token")
    def token(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict[str, Any]:
        return {"access_token": form.username, "scopes": form.scopes}

    @app.get("/me")
    def me(u: Annotated[dict[str, Any], Security(user, scopes=["me"])]) -> dict[str, Any]:
        return u

    @app.get("/basic")
    def basic_ep(c: Annotated[HTTPBasicCredentials, Depends(basic)]) -> list[str]:
        return [c.username, c.password]

    @app.get("/bearer")
    def bearer_ep(c: Annotated[HTTPAuthorizationCredentials, Depends(bearer)]) -> list[str]:
        return [c.scheme, c.credentials]

    @app.get("/keys")
    def keys(
        a: Annotated[str, Depends(header_key)],
        b: Annotated[str, Depends(query_key)],
        c: Annotated[str, Depends(cookie_key)],
    ) -> list[str]:
        return [a, b, c]

    @app.get("/header-key")
    def header_only(a: Annotated[str, Depends(header_key)]) -> str:
        return a

    @app.get("/oidc")
    def oidc_ep(a: Annotated[str, Depends(oidc)]) -> str:
        return a

    client = TestClient(app)
    response = client.post("/token", data={"username": "u", "password": "p", "scope": "me items"})
    assert response.json() == {"access_token": "u", "scopes": ["me", "items"]}
    assert client.get("/me", headers={"Authorization": "Bearer abc"}).json() == {
        "token": "abc",
        "scopes": ["me"],
    }
    response = client.get("/me")
    assert (response.status_code, response.headers["www-authenticate"]) == (401, "Bearer")
    assert response.json() == {"detail": "Not authenticated"}
    assert client.get("/basic", auth=("john", "secret")).json() == ["john", "secret"]
    response = client.get("/basic")
    assert (response.status_code, response.headers["www-authenticate"]) == (401, "Basic")
    response = client.get("/basic", headers={"Authorization": "Basic !!!"})
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    assert client.get("/bearer", headers={"Authorization": "Bearer tok"}).json() == ["Bearer", "tok"]
    response = client.get("/bearer")
    assert (response.status_code, response.headers["www-authenticate"]) == (401, "Bearer")
    response = client.get("/bearer", headers={"Authorization": "Basic tok"})
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    client.cookies.set("key", "c")
    response = client.get("/keys?key=q", headers={"X-Key": "h"})
    assert response.json() == ["h", "q", "c"]
    client.cookies.clear()
    response = client.get("/header-key")
    assert (response.status_code, response.headers["www-authenticate"]) == (401, "APIKey")
    response = client.get("/oidc")
    assert (response.status_code, response.headers["www-authenticate"]) == (401, "Bearer")
    assert client.get("/oidc", headers={"Authorization": "Bearer x"}).json() == "Bearer x"


# --------------------------------------------------------------------------- docs and OpenAPI


def test_docs_pages_root_path_and_openapi_cache() -> None:
    app = FastAPI(title="T", swagger_ui_parameters={"syntaxHighlight": False})

    @app.get("/a")
    def a() -> None: ...

    client = TestClient(app, root_path="/api")
    docs = client.get("/docs").text
    assert "url: '/api/openapi.json'" in docs
    assert '"syntaxHighlight": false,' in docs
    assert "oauth2RedirectUrl: window.location.origin + '/api/docs/oauth2-redirect'" in docs
    assert "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js" in docs
    assert '<redoc spec-url="/api/openapi.json"></redoc>' in client.get("/redoc").text
    assert "swaggerUIRedirectOauth2" in client.get("/docs/oauth2-redirect").text
    document = client.get("/openapi.json").json()
    assert document["servers"] == [{"url": "/api"}]
    assert list(document["paths"]) == ["/a"]
    first = app.openapi()
    assert app.openapi() is first

    @app.get("/b")
    def b() -> None: ...

    assert list(app.openapi()["paths"]) == ["/a", "/b"]


def test_docs_disabled() -> None:
    app = FastAPI(openapi_url=None)
    client = TestClient(app)
    for path in ("/openapi.json", "/docs", "/redoc", "/docs/oauth2-redirect"):
        assert client.get(path).status_code == 404
    app = FastAPI(docs_url=None, redoc_url=None)
    client = TestClient(app)
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404


def test_docs_assets_served_locally(tmp_path: Any) -> None:
    """fasterapi's own: `docs_assets_path` serves the UI files and points the pages at them."""
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
        (tmp_path / name).write_text(f"/* {name} */")
    app = FastAPI(docs_assets_path=tmp_path)
    client = TestClient(app)
    docs = client.get("/docs").text
    assert '<script src="/docs-assets/swagger-ui-bundle.js"></script>' in docs
    assert 'href="/docs-assets/swagger-ui.css"' in docs
    assert 'href="https://fastapi.tiangolo.com/img/favicon.png"' in docs  # no local favicon
    redoc = client.get("/redoc").text
    assert '<script src="/docs-assets/redoc.standalone.js"> </script>' in redoc
    assert "fonts.googleapis.com" not in redoc
    assert client.get("/docs-assets/swagger-ui.css").text == "/* swagger-ui.css */"
    assert "/docs-assets" not in json.dumps(app.openapi())


def test_state_and_request_app() -> None:
    app = FastAPI()
    app.state.value = 3

    @app.get("/")
    def read(request: Request) -> int:
        return request.app.state.value

    assert TestClient(app).get("/").json() == 3


def test_frontend_served_after_other_routes(tmp_path: Any) -> None:
    (tmp_path / "index.html").write_text("<p>app</p>")
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "main.js").write_text("js")
    seen: list[str] = []

    def guard() -> None:
        seen.append("guard")

    app = FastAPI()

    @app.get("/api/ping")
    def ping() -> str:
        return "pong"

    router = APIRouter(dependencies=[Depends(guard)])
    router.frontend("/", directory=tmp_path)
    app.include_router(router)
    client = TestClient(app)
    assert client.get("/api/ping").json() == "pong"
    assert client.get("/assets/main.js").text == "js"
    assert seen == ["guard"]
    response = client.get("/some/page", headers={"accept": "text/html"})
    assert (response.status_code, response.text) == (200, "<p>app</p>")
    assert client.get("/missing.js", headers={"accept": "*/*"}).status_code == 404
    assert client.post("/assets/main.js").status_code == 405


def test_responses_with_str_content_render_as_their_class_says(monkeypatch: pytest.MonkeyPatch) -> None:
    # Response's own render and headers take a short way for str content; a subclass that
    # overrides either is still called.
    from fasterapi.responses import HTMLResponse, PlainTextResponse, Response

    class Shouting(PlainTextResponse):
        def render(self, content: Any) -> bytes:
            return str(content).upper().encode()

    class Tagged(Response):
        def init_headers(self, headers: Any = None) -> None:
            super().init_headers(headers)
            self.raw_headers.append((b"x-tagged", b"1"))

    plain = PlainTextResponse("héllo")
    assert plain.body == "héllo".encode()
    assert plain.raw_headers == [(b"content-length", b"6"), (b"content-type", b"text/plain; charset=utf-8")]
    assert Shouting("quiet").body == b"QUIET"
    assert Shouting("quiet").raw_headers[0] == (b"content-length", b"5")
    assert Tagged("x").raw_headers == [(b"content-length", b"1"), (b"x-tagged", b"1")]
    no_body = HTMLResponse("gone", status_code=304)
    assert no_body.raw_headers == [(b"content-type", b"text/html; charset=utf-8")]
    assert Response("x", headers={"a": "b"}).raw_headers == [(b"a", b"b"), (b"content-length", b"1")]
    monkeypatch.setattr(PlainTextResponse, "render", lambda self, content: b"patched")  # later on, too
    assert PlainTextResponse("x").body == b"patched"
    assert HTMLResponse("x").body == b"x"
