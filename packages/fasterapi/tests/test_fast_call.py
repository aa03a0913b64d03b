"""FastCall: a path operation whose endpoint needs nothing awaited before it (no body, no
dependency to solve) is awaited by `_serve` itself (`begin`, then `shape` for a result that is not
a Response), without the route's handle() coroutine. The answers must be handle()'s: every request
here goes to the app as it is and to the same app with begin switched off."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from fasterapi import BackgroundTasks, Depends, FastAPI, HTTPException, Path
from fasterapi.responses import HTMLResponse, PlainTextResponse
from fasterapi.routing import APIRoute
from fasterapi.testclient import TestClient
from pydantic import BaseModel


class User(BaseModel):
    id: int
    name: str


def make_app(done: list[str]) -> FastAPI:
    app = FastAPI()

    @app.get("/text")
    async def text() -> PlainTextResponse:
        return PlainTextResponse("hello")

    @app.get("/dict")
    async def as_dict() -> dict[str, Any]:
        return {"a": 1, "b": [True, None]}

    @app.get("/sync")
    def sync() -> dict[str, str]:
        return {"ran": "in a thread"}

    @app.get("/users/{user_id}", response_model=User)
    async def user(user_id: int) -> Any:
        return {"id": user_id, "name": f"u{user_id}", "extra": "dropped"}

    @app.get("/sync/{n}")
    def sync_param(n: Annotated[int, Path(ge=1)]) -> int:
        return n * 2

    @app.get("/bad-model", response_model=User)
    async def bad_model() -> Any:
        return {"id": "not a number", "name": "x"}

    @app.get("/raises/{code}")
    async def raises(code: int) -> None:
        raise HTTPException(status_code=code, detail=f"no {code}")

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("boom")

    @app.get("/created", status_code=201)
    async def created() -> dict[str, bool]:
        return {"made": True}

    @app.get("/no-content", status_code=204)
    async def no_content() -> None:
        return None

    @app.get("/html", response_class=HTMLResponse)
    async def html() -> str:
        return "<p>hi</p>"

    @app.get("/background")
    async def with_background(tasks: BackgroundTasks) -> dict[str, str]:
        tasks.add_task(done.append, "ran")
        return {"ok": "yes"}

    def dependency() -> Iterator[str]:
        yield "from a dependency"

    @app.get("/depends")
    async def depends(value: Annotated[str, Depends(dependency)]) -> str:
        return value

    return app


REQUESTS = [
    "/text",
    "/dict",
    "/sync",
    "/users/7",
    "/users/x",
    "/sync/3",
    "/sync/0",
    "/bad-model",
    "/raises/418",
    "/crash",
    "/created",
    "/no-content",
    "/html",
    "/background",
    "/depends",
]


Apps = tuple[TestClient, TestClient, list[str], list[str]]  # with FastCall, without, their tasks' logs


def answer(client: TestClient, url: str) -> tuple[int, list[tuple[str, str]], bytes]:
    response = client.get(url)
    return response.status_code, sorted(response.headers.items()), response.content


def routes(app: FastAPI) -> dict[str, APIRoute]:
    return {route.path: route for route in app.router.routes if isinstance(route, APIRoute)}


@pytest.fixture
def apps() -> Apps:
    done_fast: list[str] = []
    done_usual: list[str] = []
    fast, usual = make_app(done_fast), make_app(done_usual)
    clients = (
        TestClient(fast, raise_server_exceptions=False),
        TestClient(usual, raise_server_exceptions=False),
    )
    for client in clients:
        client.get("/text")  # (builds the routes' handlers)
    for route in routes(usual).values():
        assert route._fast_handle is not None
        route._fast_handle.begin = None  # handle() for every request
    return clients[0], clients[1], done_fast, done_usual


@pytest.mark.parametrize("url", REQUESTS)
def test_the_same_answers_as_handle(apps: Apps, url: str) -> None:
    fast, usual, done_fast, done_usual = apps
    assert answer(fast, url) == answer(usual, url)
    assert done_fast == done_usual


def test_which_requests_skip_handle(apps: Apps) -> None:
    fast = apps[0]
    app = fast.app
    assert isinstance(app, FastAPI)
    called: list[str] = []
    for path, route in routes(app).items():
        fast_call = route._fast_handle
        assert fast_call is not None
        handle = fast_call.handle

        async def counted(request: Any, plan: Any, handle: Any = handle, path: str = path) -> Any:
            called.append(path)
            return await handle(request, plan)

        fast_call.handle = counted
    for url in REQUESTS:
        fast.get(url)
    # Only what has something to await before the endpoint: a dependency, BackgroundTasks.
    assert sorted(set(called)) == ["/background", "/depends"]
    # The bare endpoint for a plan that solves nothing; begin for path parameters.
    by_path = routes(app)
    assert by_path["/text"]._fast_handle is not None
    assert by_path["/text"]._fast_handle.bare is by_path["/text"].endpoint
    assert by_path["/sync"]._fast_handle is not None
    assert by_path["/sync"]._fast_handle.bare is None  # (a thread's call: begin)
