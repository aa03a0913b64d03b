"""The routing layer: order semantics against a linear reference, and Starlette's behaviour."""

from __future__ import annotations

import random
import uuid
from typing import Any

import pytest
from fasterapi._app_base import ASGIApplicationBase
from fasterapi._routing_base import (
    Convertor,
    Host,
    Match,
    Mount,
    NoMatchFound,
    Route,
    Router,
    WebSocketRoute,
    compile_path,
    register_url_convertor,
)
from fasterapi.responses import JSONResponse, PlainTextResponse
from fasterapi.testclient import TestClient


def endpoint(request: Any) -> PlainTextResponse:
    return PlainTextResponse("x")


class RawApp:
    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await PlainTextResponse("raw")(scope, receive, send)


def http_scope(path: str, method: str = "GET", root_path: str = "") -> dict[str, Any]:
    return {"type": "http", "method": method, "path": root_path + path, "root_path": root_path, "headers": []}


def summary(found: Any) -> Any:
    if not found:
        return None
    route, child = found
    return route, child.get("path_params")


SEGMENTS = ["users", "me", "{id:int}", "{name}", "{f:float}", "{u:uuid}", "{n}.{e}", "v{x:int}", "", "items"]
PATH_PARTS = [
    "users",
    "me",
    "42",
    "bob",
    "1.5",
    "a.b",
    "v3",
    "",
    "items",
    str(uuid.UUID(int=7)),
    "x%2Fy",
    "%zz",
]


def random_router(rng: random.Random) -> Router:
    routes: list[Any] = []
    for i in range(rng.randint(1, 9)):
        pattern = "/" + "/".join(rng.choice(SEGMENTS) for _ in range(rng.randint(1, 3)))
        if rng.random() < 0.1:
            pattern = pattern.rstrip("/") + "/{rest:path}"
        kind = rng.random()
        try:
            if kind < 0.1:
                routes.append(
                    Mount(rng.choice(["", "/users", "/items", "/{name}"]), app=RawApp(), name=f"m{i}")
                )
            elif kind < 0.2:
                routes.append(Route(pattern, RawApp(), name=f"r{i}"))
            elif kind < 0.25:
                routes.append(Host(rng.choice(["a.example", "{sub}.example"]), app=RawApp()))
            else:
                methods = rng.choice([["GET"], ["POST"], ["GET", "POST"], ["PUT"]])
                routes.append(Route(pattern, endpoint, methods=methods, name=f"r{i}"))
        except ValueError:
            pass
    return Router(routes)


@pytest.mark.parametrize("seed", range(6))
def test_dispatch_equals_linear_first_match(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(60):
        router = random_router(rng)
        for _ in range(20):
            path = "/" + "/".join(rng.choice(PATH_PARTS) for _ in range(rng.randint(1, 4)))
            if rng.random() < 0.2:
                path += "/"
            for method in ("GET", "POST", "DELETE"):
                scope = http_scope(path, method)
                scope["headers"] = [(b"host", b"a.example")]
                assert summary(router._match(dict(scope))) == summary(router._match_linear(dict(scope))), (
                    path,
                    method,
                    router.routes,
                )


def test_registration_order_wins_over_specificity() -> None:
    def by_name(request: Any) -> PlainTextResponse:
        return PlainTextResponse("by_name")

    def me(request: Any) -> PlainTextResponse:
        return PlainTextResponse("me")

    client = TestClient(ASGIApplicationBase(routes=[Route("/users/{name}", by_name), Route("/users/me", me)]))
    assert client.get("/users/me").text == "by_name"
    client = TestClient(ASGIApplicationBase(routes=[Route("/users/me", me), Route("/users/{name}", by_name)]))
    assert client.get("/users/me").text == "me"
    assert client.get("/users/bob").text == "by_name"


def test_tree_is_used_for_plain_routes() -> None:
    router = Router([Route("/a/{x:int}", endpoint), Route("/b", endpoint)])
    table = router._table("http")
    assert table.opaque == ()
    assert table.shadows == ((), ())
    assert table.entries[0].trusted


def test_recompiles_when_routes_change() -> None:
    def a(request: Any) -> PlainTextResponse:
        return PlainTextResponse("a")

    app = ASGIApplicationBase(routes=[Route("/a", a)])
    client = TestClient(app)
    assert client.get("/b").status_code == 404
    app.router.routes.append(Route("/b", a))
    assert client.get("/b").status_code == 200
    app.router.routes = [Route("/c", a)]
    assert client.get("/b").status_code == 404
    assert client.get("/c").text == "a"


def test_405_with_allow_and_404() -> None:
    app = ASGIApplicationBase(routes=[Route("/items", endpoint, methods=["POST"])])
    client = TestClient(app)
    response = client.get("/items")
    assert response.status_code == 405
    assert response.text == "Method Not Allowed"
    assert response.headers["allow"] == "POST"
    assert client.get("/other").status_code == 404
    # Outside an application, the router answers itself.
    response = TestClient(Router([Route("/items", endpoint, methods=["POST"])])).get("/items")
    assert response.status_code == 405
    assert response.text == "Method Not Allowed"


def test_head_is_implied_by_get() -> None:
    client = TestClient(ASGIApplicationBase(routes=[Route("/", endpoint)]))
    response = client.head("/")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == "1"


def test_redirect_slashes() -> None:
    app = ASGIApplicationBase(routes=[Route("/a/", endpoint), Route("/b", endpoint)])
    client = TestClient(app, follow_redirects=False)
    response = client.get("/a?x=1")
    assert response.status_code == 307
    assert response.headers["location"] == "http://testserver/a/?x=1"
    assert client.get("/b/").headers["location"] == "http://testserver/b"
    assert client.get("/c").status_code == 404
    no_redirect = ASGIApplicationBase(routes=[Route("/a/", endpoint)])
    no_redirect.router.redirect_slashes = False
    assert TestClient(no_redirect, follow_redirects=False).get("/a").status_code == 404


def test_path_params_and_convertors() -> None:
    seen: list[Any] = []

    def record(request: Any) -> PlainTextResponse:
        seen.append(dict(request.path_params))
        return PlainTextResponse("ok")

    client = TestClient(
        ASGIApplicationBase(
            routes=[
                Route("/int/{v:int}", record),
                Route("/float/{v:float}", record),
                Route("/uuid/{v:uuid}", record),
                Route("/path/{v:path}", record),
                Route("/file/{name}.{ext}", record),
                Route("/str/{v}", record),
            ]
        )
    )
    for path in [
        "/int/42",
        "/float/1.5",
        "/uuid/0f8fad5b-d9cb-469f-a165-70867728950e",
        "/path/a/b/c",
        "/file/a.tar.gz",
    ]:
        assert client.get(path).status_code == 200
    assert client.get("/str/caf%C3%A9").status_code == 200
    assert client.get("/str/a%2Fb").status_code == 404  # decoded path: "a/b" is two segments
    assert seen == [
        {"v": 42},
        {"v": 1.5},
        {"v": uuid.UUID("0f8fad5b-d9cb-469f-a165-70867728950e")},
        {"v": "a/b/c"},
        {"name": "a.tar", "ext": "gz"},
        {"v": "café"},
    ]


def test_custom_convertor_is_matched_by_regex() -> None:
    class Upper(Convertor[str]):
        regex = "[A-Z]+"

        def convert(self, value: str) -> str:
            return value.lower()

        def to_string(self, value: str) -> str:
            return value.upper()

    register_url_convertor("upper", Upper())
    router = Router([Route("/c/{v:upper}", endpoint, name="c"), Route("/c/{v}", endpoint, name="d")])
    assert router._table("http").opaque == (0,)
    route, child = router._match(http_scope("/c/ABC"))  # type: ignore[misc]
    assert route.name == "c"
    assert child["path_params"] == {"v": "abc"}
    assert router._match(http_scope("/c/abc"))[0].name == "d"  # type: ignore[index]
    assert router.url_path_for("c", v="xy") == "/c/XY"


def test_compile_path() -> None:
    regex, fmt, convertors = compile_path("/users/{id:int}/{name}")
    assert regex.pattern == "^/users/(?P<id>[0-9]+)/(?P<name>[^/]+)$"
    assert fmt == "/users/{id}/{name}"
    assert list(convertors) == ["id", "name"]
    with pytest.raises(ValueError, match="Duplicated param name x at path /{x}/{x}"):  # noqa: RUF043
        compile_path("/{x}/{x}")
    with pytest.raises(AssertionError, match="Unknown path convertor 'nope'"):
        compile_path("/{x:nope}")
    host_regex, host_fmt, _ = compile_path("{sub}.example.org:8000")
    assert host_fmt == "{sub}.example.org:8000"
    assert host_regex.match("API.EXAMPLE.ORG")


def test_mount_root_path_and_url_for() -> None:
    def show(request: Any) -> JSONResponse:
        return JSONResponse(
            {
                "root_path": request.scope["root_path"],
                "path_params": request.path_params,
                "url": str(request.url_for("api:item", version="v1", id=3)),
            }
        )

    inner = Router([Route("/items/{id:int}", show, name="item")])
    app = ASGIApplicationBase(routes=[Mount("/api/{version}", app=inner, name="api")])
    response = TestClient(app, root_path="/prefix").get("/prefix/api/v1/items/3")
    assert response.json() == {
        "root_path": "/prefix/api/v1",
        "path_params": {"version": "v1", "id": 3},
        "url": "http://testserver/prefix/api/v1/items/3",
    }
    assert app.url_path_for("api", version="v2", path="/x") == "/api/v2/x"
    with pytest.raises(NoMatchFound):
        app.url_path_for("api:nope")


def test_scope_route_and_endpoint() -> None:
    captured: dict[str, Any] = {}

    def look(request: Any) -> PlainTextResponse:
        captured["route"] = request.scope["route"]
        captured["endpoint"] = request.scope["endpoint"]
        return PlainTextResponse("")

    route = Route("/look", look)
    TestClient(ASGIApplicationBase(routes=[route])).get("/look")
    assert captured == {"route": route, "endpoint": look}


def test_host_routing() -> None:
    def sub(request: Any) -> PlainTextResponse:
        return PlainTextResponse(request.path_params["sub"])

    app = ASGIApplicationBase(
        routes=[Host("{sub}.example.org", app=Router([Route("/", sub)])), Route("/", endpoint)]
    )
    client = TestClient(app)
    assert client.get("/", headers={"host": "api.example.org"}).text == "api"
    assert client.get("/").text == "x"


def test_websocket_route_and_404_close() -> None:
    async def ws(websocket: Any) -> None:
        await websocket.accept()
        await websocket.send_text(websocket.path_params["room"])
        await websocket.close()

    client = TestClient(
        ASGIApplicationBase(routes=[WebSocketRoute("/ws/{room}", ws), Route("/ws/x", endpoint)])
    )
    with client.websocket_connect("/ws/lobby") as session:
        assert session.receive_text() == "lobby"
    from fasterapi.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/nowhere"):
        pass


def test_route_as_standalone_app_and_matches() -> None:
    route = Route("/only", endpoint)
    client = TestClient(route)
    assert client.get("/only").text == "x"
    assert client.get("/other").status_code == 404
    assert route.matches(http_scope("/only", "POST"))[0] is Match.PARTIAL
    assert repr(route) == "Route(path='/only', name='endpoint', methods=['GET', 'HEAD'])"


def test_subclass_overriding_matches_keeps_order() -> None:
    class Picky(Route):
        def matches(self, scope: Any) -> Any:
            match, child = super().matches(scope)
            if match is not Match.NONE and scope.get("query_string") == b"deny":
                return Match.NONE, {}
            return match, child

    def second(request: Any) -> PlainTextResponse:
        return PlainTextResponse("second")

    def first(request: Any) -> PlainTextResponse:
        return PlainTextResponse("first")

    client = TestClient(ASGIApplicationBase(routes=[Picky("/p/{x}", first), Route("/p/{x}", second)]))
    assert client.get("/p/1").text == "first"
    assert client.get("/p/1?deny").text == "second"


def test_lifespan_and_event_handlers() -> None:
    events: list[str] = []
    router = Router(on_startup=[lambda: events.append("start")], on_shutdown=[lambda: events.append("stop")])
    with TestClient(ASGIApplicationBase(router=router)):
        assert events == ["start"]
    assert events == ["start", "stop"]

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app: Any) -> Any:
        yield {"db": "conn"}

    def state(request: Any) -> PlainTextResponse:
        return PlainTextResponse(request.state.db)

    app = ASGIApplicationBase(routes=[Route("/", state)], lifespan=lifespan)
    with TestClient(app) as client:
        assert client.get("/").text == "conn"
