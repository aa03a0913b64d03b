"""Requests, responses, file ranges, forms, middleware, static files, templates, websockets.

Expected values were checked once against Starlette 1.10 running the same scenarios.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import subprocess
import sys
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from fasterapi._app_base import ASGIApplicationBase
from fasterapi._routing_base import Mount, Route, WebSocketRoute
from fasterapi.background import BackgroundTasks
from fasterapi.datastructures import URL, FormData, Headers, MutableHeaders, QueryParams, UploadFile
from fasterapi.exceptions import HTTPException, RequestValidationError
from fasterapi.middleware.asyncexitstack import RequestStack
from fasterapi.middleware.base import BaseHTTPMiddleware
from fasterapi.middleware.cors import CORSMiddleware
from fasterapi.middleware.gzip import GZipMiddleware
from fasterapi.middleware.httpsredirect import HTTPSRedirectMiddleware
from fasterapi.middleware.trustedhost import TrustedHostMiddleware
from fasterapi.requests import Request
from fasterapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
    json_bytes_response,
)
from fasterapi.staticfiles import StaticFiles
from fasterapi.testclient import TestClient
from fasterapi.websockets import WebSocket, WebSocketDisconnect


def app_with(*routes: Any, **kwargs: Any) -> ASGIApplicationBase:
    return ASGIApplicationBase(routes=list(routes), **kwargs)


# --------------------------------------------------------------------------- datastructures


def test_headers_and_mutable_headers() -> None:
    raw = [(b"a", b"1"), (b"b", b"2"), (b"a", b"3")]
    headers = Headers(raw=raw)
    assert headers["A"] == "1"
    assert headers.getlist("a") == ["1", "3"]
    assert "B" in headers
    assert headers.items() == [("a", "1"), ("b", "2"), ("a", "3")]
    assert repr(headers) == "Headers(raw=[(b'a', b'1'), (b'b', b'2'), (b'a', b'3')])"
    scope = {"headers": raw}
    assert Headers(scope=scope)._list is raw  # no copy
    mutable = MutableHeaders(raw=list(raw))
    mutable["a"] = "9"
    assert mutable.raw == [(b"a", b"9"), (b"b", b"2")]
    mutable.append("c", "x")
    mutable.add_vary_header("Origin")
    del mutable["b"]
    assert mutable.raw == [(b"a", b"9"), (b"c", b"x"), (b"vary", b"Origin")]
    assert mutable.setdefault("a", "0") == "9"


def test_query_params_and_url() -> None:
    params = QueryParams("a=1&b=2&a=3&c=")
    assert params["a"] == "3"
    assert params.getlist("a") == ["1", "3"]
    assert params["c"] == ""
    assert str(params) == "a=1&b=2&a=3&c="
    url = URL("https://user:pw@example.org:8443/p/a?x=1#f")
    assert (url.scheme, url.hostname, url.port, url.path, url.query, url.fragment) == (
        "https",
        "example.org",
        8443,
        "/p/a",
        "x=1",
        "f",
    )
    assert repr(url) == "URL('https://user:********@example.org:8443/p/a?x=1#f')"
    assert str(url.replace(port=None, username=None, password=None)) == "https://example.org/p/a?x=1#f"
    assert str(URL("/p?a=1").include_query_params(b=2)) == "/p?a=1&b=2"
    assert str(URL("/p?a=1&b=2").remove_query_params("a")) == "/p?b=2"
    scope = {
        "type": "http",
        "scheme": "http",
        "path": "/a b",
        "query_string": b"q=1",
        "headers": [(b"host", b"h:81")],
    }
    assert str(URL(scope=scope)) == "http://h:81/a b?q=1"
    scope["headers"] = [(b"host", b"bad/host")]
    scope["server"] = ("10.0.0.1", 80)
    assert str(URL(scope=scope)) == "http://10.0.0.1/a b?q=1"


def test_upload_file_schema() -> None:
    from pydantic import BaseModel

    class Model(BaseModel):
        file: UploadFile

    assert Model.model_json_schema()["properties"]["file"] == {
        "contentMediaType": "application/octet-stream",
        "title": "File",
        "type": "string",
    }


def test_validation_errors() -> None:
    exc = RequestValidationError([{"loc": ("body",)}], body={"a": 1})
    assert exc.errors() == [{"loc": ("body",)}]
    assert exc.body == {"a": 1}
    assert str(exc) == "1 validation error:\n  {'loc': ('body',)}"
    assert HTTPException(404).detail == "Not Found"
    assert repr(HTTPException(418, "tea")) == "HTTPException(status_code=418, detail='tea')"


# --------------------------------------------------------------------------- requests


def test_request_properties() -> None:
    async def show(request: Request) -> JSONResponse:
        body = await request.body()
        return JSONResponse(
            {
                "method": request.method,
                "url": str(request.url),
                "base_url": str(request.base_url),
                "cookies": request.cookies,
                "client": list(request.client or ()),
                "body": body.decode(),
                "json": await request.json(),
                "headers": request.headers["x-test"],
            }
        )

    client = TestClient(app_with(Route("/show", show, methods=["POST"])))
    response = client.post("/show?a=1", json={"k": "v"}, headers={"X-Test": "yes", "Cookie": 'a=1; b="x y"'})
    assert response.json() == {
        "method": "POST",
        "url": "http://testserver/show?a=1",
        "base_url": "http://testserver/",
        "cookies": {"a": "1", "b": "x y"},
        "client": ["testclient", 50000],
        "body": '{"k":"v"}',
        "json": {"k": "v"},
        "headers": "yes",
    }


def test_request_guards() -> None:
    request = Request({"type": "http", "headers": [], "method": "GET"})
    with pytest.raises(AssertionError, match="SessionMiddleware must be installed"):
        _ = request.session
    with pytest.raises(AssertionError, match="AuthenticationMiddleware must be installed"):
        _ = request.user


def test_forms_urlencoded_multipart_and_limits(tmp_path: Path) -> None:
    async def form(request: Request) -> JSONResponse:
        async with request.form(max_files=1, max_fields=2) as data:
            out: dict[str, Any] = {}
            for key, value in data.multi_items():
                if isinstance(value, UploadFile):
                    out[key] = [value.filename, value.content_type, (await value.read()).decode(), value.size]
                else:
                    out[key] = value
        return JSONResponse(out)

    client = TestClient(app_with(Route("/form", form, methods=["POST"])))
    assert client.post("/form", data={"a": "1", "b": "x y"}).json() == {"a": "1", "b": "x y"}
    response = client.post("/form", data={"a": "1"}, files={"f": ("f.txt", b"hello", "text/plain")})
    assert response.json() == {"a": "1", "f": ["f.txt", "text/plain", "hello", 5]}
    response = client.post("/form", files={"f": ("a", b"1"), "g": ("b", b"2")})
    assert response.status_code == 400
    assert response.text == "Too many files. Maximum number of files is 1."
    response = client.post("/form", data={"a": "1", "b": "2", "c": "3"})
    assert response.status_code == 400
    assert response.text == "Too many fields. Maximum number of fields is 2."
    assert client.post("/form", content=b"x", headers={"content-type": "text/plain"}).json() == {}


def test_form_part_size_limit() -> None:
    async def form(request: Request) -> PlainTextResponse:
        await request.form(max_part_size=10)
        return PlainTextResponse("ok")

    client = TestClient(app_with(Route("/form", form, methods=["POST"])))
    response = client.post("/form", data={"a": "x" * 20})
    assert (response.status_code, response.text) == (400, "Field exceeded maximum size of 0KB.")
    response = client.post("/form", files={"f": ("n", b"1")}, data={"a": "x" * 20})
    assert (response.status_code, response.text) == (400, "Part exceeded maximum size of 0KB.")


# --------------------------------------------------------------------------- responses


def test_response_headers_cookies_and_background() -> None:
    done: list[str] = []

    def view(request: Request) -> Response:
        tasks = BackgroundTasks()
        tasks.add_task(done.append, "sync")
        response = PlainTextResponse("hi", headers={"X-A": "1"}, background=tasks)
        response.set_cookie("s", "v", max_age=10, httponly=True)
        response.delete_cookie("old")
        return response

    response = TestClient(app_with(Route("/", view))).get("/")
    items = response.headers.multi_items()
    assert items[:4] == [
        ("x-a", "1"),
        ("content-length", "2"),
        ("content-type", "text/plain; charset=utf-8"),
        ("set-cookie", "s=v; HttpOnly; Max-Age=10; Path=/; SameSite=lax"),
    ]
    # expires=0 is "now" (http.cookies' reading of it), with Max-Age=0 doing the deleting.
    assert items[4][1].startswith('old=""; expires=')
    assert items[4][1].endswith("GMT; Max-Age=0; Path=/; SameSite=lax")
    assert done == ["sync"]


def test_response_classes() -> None:
    assert JSONResponse({"a": "é", "b": [1, None]}).body == '{"a":"é","b":[1,null]}'.encode()
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        JSONResponse(float("nan"))
    assert HTMLResponse("<b/>").raw_headers[-1] == (b"content-type", b"text/html; charset=utf-8")
    assert Response(status_code=204).raw_headers == []
    # content-length: the headers of small sizes are kept once made (the same bytes either way),
    # in the generic constructor and in the framework's shortcut for JSON bytes
    json_type = (b"content-type", b"application/json")
    for size in (0, 13, 4095, 4096, 100_000):
        length = (b"content-length", str(size).encode())
        first = Response(b"x" * size).raw_headers[0]
        again = json_bytes_response(b"1" * size).raw_headers
        assert first == length
        assert again == [length, json_type]
        assert (again[0] is first) == (size < 4096), size  # kept below the limit, made anew past it
    # A str body's headers: a kept list per (status, size, media type, charset), copied for each
    # response, so that one response's changes stay its own; each part of the key counts.
    first_text = PlainTextResponse("same size")
    first_text.headers["x-mine"] = "1"
    assert PlainTextResponse("size same").raw_headers == [
        (b"content-length", b"9"),
        (b"content-type", b"text/plain; charset=utf-8"),
    ]
    assert PlainTextResponse("same size", status_code=204).raw_headers == [
        (b"content-type", b"text/plain; charset=utf-8")
    ]
    assert HTMLResponse("same size").raw_headers[1] == (b"content-type", b"text/html; charset=utf-8")
    assert PlainTextResponse("same size", media_type="text/csv").raw_headers[1] == (
        b"content-type",
        b"text/csv; charset=utf-8",
    )

    class Latin(PlainTextResponse):
        charset = "latin-1"

    latin_type = (b"content-type", b"text/plain; charset=latin-1")
    assert Latin("é").raw_headers == [(b"content-length", b"1"), latin_type]
    assert PlainTextResponse("é").raw_headers[0] == (b"content-length", b"2")
    redirect = RedirectResponse("/a b?x=ü")
    assert redirect.status_code == 307
    assert redirect.headers["location"] == "/a%20b?x=%C3%BC"


def test_header_lists_are_kept_up_to_their_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    from fasterapi import responses

    kept: dict[Any, Any] = {}
    monkeypatch.setattr(responses, "_HEADER_LISTS", kept)
    monkeypatch.setattr(responses, "_KEPT_HEADER_LISTS", 3)
    for text in ("a", "bb", "ccc"):  # up to the limit: kept (a 201: not the shortest way of a 200)
        PlainTextResponse(text, status_code=201)
    assert sorted(key[1] for key in kept) == [1, 2, 3]
    past = PlainTextResponse("dddd", status_code=201)  # past it: made, right, and not kept
    assert past.raw_headers == [(b"content-length", b"4"), (b"content-type", b"text/plain; charset=utf-8")]
    assert len(kept) == 3
    again = PlainTextResponse("bb", status_code=201)  # a kept list is copied, never handed out
    assert again.raw_headers == [(b"content-length", b"2"), (b"content-type", b"text/plain; charset=utf-8")]
    assert again.raw_headers is not PlainTextResponse("bb", status_code=201).raw_headers


def test_a_200_in_utf8_takes_a_kept_content_type_up_to_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    from fasterapi import responses

    kept: dict[Any, Any] = {}
    monkeypatch.setattr(responses, "_UTF8_TYPES", kept)
    monkeypatch.setattr(responses, "_HEADER_LISTS", {})
    monkeypatch.setattr(responses, "_KEPT_HEADER_LISTS", 2)
    for media_type in ("text/a", "application/b"):  # up to the limit: kept
        Response("x", media_type=media_type)
    assert kept == {
        "text/a": (b"content-type", b"text/a; charset=utf-8"),
        "application/b": (b"content-type", b"application/b"),
    }
    past = Response("xy", media_type="text/c")  # past it: made, right, and not kept
    assert past.raw_headers == [(b"content-length", b"2"), (b"content-type", b"text/c; charset=utf-8")]
    assert "text/c" not in kept
    # The kept ones, as the generic way writes them; a new list each time.
    first, second = Response("héllo", media_type="text/a"), Response("héllo", media_type="text/a")
    assert first.raw_headers == [(b"content-length", b"6"), (b"content-type", b"text/a; charset=utf-8")]
    assert first.raw_headers is not second.raw_headers
    assert first.raw_headers[1] is kept["text/a"]
    # Not a 200, another charset, no media type, a status without a body: the generic way.
    assert Response("x", status_code=404, media_type="text/a").raw_headers == [
        (b"content-length", b"1"),
        (b"content-type", b"text/a; charset=utf-8"),
    ]

    class Latin1(Response):
        charset = "latin-1"

    assert Latin1("é", media_type="text/a").raw_headers == [
        (b"content-length", b"1"),
        (b"content-type", b"text/a; charset=latin-1"),
    ]
    assert Response("x").raw_headers == [(b"content-length", b"1")]
    assert Response("x", status_code=204, media_type="text/a").raw_headers == [
        (b"content-type", b"text/a; charset=utf-8")
    ]


def test_a_request_stack_makes_its_list_on_the_first_push() -> None:
    order: list[str] = []

    @asynccontextmanager
    async def resource(name: str) -> Any:
        order.append("enter " + name)
        yield name
        order.append("exit " + name)

    async def close_later() -> None:
        order.append("async callback")

    async def main() -> None:
        stack = RequestStack()
        assert isinstance(stack, AsyncExitStack)
        assert not stack._exit_callbacks  # nothing made yet
        async with stack:
            assert await stack.enter_async_context(resource("a")) == "a"
            stack.callback(order.append, "callback")
            stack.push_async_callback(close_later)
            moved = stack.pop_all()  # hands the callbacks over, as AsyncExitStack's does
            assert type(moved) is RequestStack
            assert not stack._exit_callbacks
            stack.callback(order.append, "after pop_all")
        await moved.aclose()
        empty = RequestStack().pop_all()  # an untouched stack hands over nothing, and takes pushes
        empty.callback(order.append, "on the empty one")
        await empty.aclose()

        async def fails_inside() -> None:
            async with RequestStack() as failing:
                failing.callback(order.append, "while failing")
                raise LookupError

        with pytest.raises(LookupError):  # an exception goes through the callbacks, as usual
            await fails_inside()

    asyncio.run(main())
    assert order == [
        "enter a",
        "after pop_all",
        "async callback",
        "callback",
        "exit a",
        "on the empty one",
        "while failing",
    ]


def test_streaming_response() -> None:
    def numbers() -> Any:
        yield "1"
        yield b"2"

    async def view(request: Request) -> StreamingResponse:
        return StreamingResponse(numbers(), media_type="text/plain")

    response = TestClient(app_with(Route("/", view))).get("/")
    assert response.text == "12"
    assert "content-length" not in response.headers


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "data.txt"
    path.write_bytes(b"0123456789" * 10)
    return path


def test_file_response_ranges(data_file: Path) -> None:
    def view(request: Request) -> FileResponse:
        return FileResponse(data_file, filename="dätä.txt")

    client = TestClient(app_with(Route("/f", view)))
    full = client.get("/f")
    assert full.status_code == 200
    assert full.content == data_file.read_bytes()
    assert full.headers["accept-ranges"] == "bytes"
    assert full.headers["content-disposition"] == "attachment; filename*=utf-8''d%C3%A4t%C3%A4.txt"
    assert full.headers["content-type"] == "text/plain; charset=utf-8"

    one = client.get("/f", headers={"Range": "bytes=10-19"})
    assert (one.status_code, one.content, one.headers["content-range"]) == (
        206,
        b"0123456789",
        "bytes 10-19/100",
    )
    suffix = client.get("/f", headers={"Range": "bytes=-5"})
    assert (suffix.content, suffix.headers["content-length"]) == (b"56789", "5")

    many = client.get("/f", headers={"Range": "bytes=0-1, 5-6, 1-2"})
    assert many.status_code == 206
    boundary = many.headers["content-type"].split("boundary=")[1]
    assert many.headers["content-type"] == f"multipart/byteranges; boundary={boundary}"
    assert int(many.headers["content-length"]) == len(many.content)
    assert (
        many.content
        == (
            f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 0-2/100\r\n\r\n012\r\n"  # noqa: E501
            f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 5-6/100\r\n\r\n56\r\n"  # noqa: E501
            f"--{boundary}--"
        ).encode()
    )

    bad = client.get("/f", headers={"Range": "bytes=200-300"})
    assert (bad.status_code, bad.headers["content-range"]) == (416, "bytes */100")
    malformed = client.get("/f", headers={"Range": "items=1-2"})
    assert (malformed.status_code, malformed.text) == (400, "Only support bytes range")
    backwards = client.get("/f", headers={"Range": "bytes=5-2"})
    assert (backwards.status_code, backwards.text) == (400, "Range header: start must be less than end")
    stale = client.get("/f", headers={"Range": "bytes=0-1", "If-Range": '"other"'})
    assert stale.status_code == 200
    fresh = client.get("/f", headers={"Range": "bytes=0-1", "If-Range": full.headers["etag"]})
    assert fresh.status_code == 206
    head = client.head("/f", headers={"Range": "bytes=0-1"})
    assert (head.status_code, head.content, head.headers["content-length"]) == (206, b"", "2")


# --------------------------------------------------------------------------- errors and middleware


def test_exception_handlers_and_server_errors() -> None:
    class Custom(Exception):
        pass

    def boom(request: Request) -> Response:
        raise Custom()

    def crash(request: Request) -> Response:
        raise RuntimeError("crash")

    def teapot(request: Request) -> Response:
        raise HTTPException(418, headers={"X-T": "1"})

    app = app_with(Route("/boom", boom), Route("/crash", crash), Route("/tea", teapot))

    @app.exception_handler(Custom)
    async def on_custom(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("custom", status_code=409)

    @app.exception_handler(404)
    def on_404(request: Request, exc: Exception) -> Response:
        return JSONResponse({"missing": request.url.path}, status_code=404)

    client = TestClient(app, raise_server_exceptions=False)
    assert (client.get("/boom").status_code, client.get("/boom").text) == (409, "custom")
    assert client.get("/nope").json() == {"missing": "/nope"}
    tea = client.get("/tea")
    assert (tea.status_code, tea.text, tea.headers["x-t"]) == (418, "I'm a Teapot", "1")
    crash_response = client.get("/crash")
    assert (crash_response.status_code, crash_response.text) == (500, "Internal Server Error")
    with pytest.raises(RuntimeError, match="crash"):
        TestClient(app).get("/crash")

    debug_app = app_with(Route("/crash", crash), debug=True)
    debug_client = TestClient(debug_app, raise_server_exceptions=False)
    assert "RuntimeError: crash" in debug_client.get("/crash").text
    html = debug_client.get("/crash", headers={"accept": "text/html"})
    assert html.headers["content-type"] == "text/html; charset=utf-8"
    assert "RuntimeError" in html.text


def test_add_middleware_refused_after_start() -> None:
    app = app_with(Route("/", lambda request: PlainTextResponse("x")))
    TestClient(app).get("/")
    with pytest.raises(RuntimeError, match="Cannot add middleware after an application has started"):
        app.add_middleware(GZipMiddleware)


def test_base_http_middleware() -> None:
    async def view(request: Request) -> PlainTextResponse:
        return PlainTextResponse((await request.body()).decode())

    def fail(request: Request) -> Response:
        raise ValueError("down")

    app = app_with(Route("/", view, methods=["POST"]), Route("/fail", fail))

    @app.middleware("http")
    async def add_header(request: Request, call_next: Any) -> Response:
        body = await request.body()
        response = await call_next(request)
        response.headers["X-Body-Len"] = str(len(body))
        return response

    client = TestClient(app)
    response = client.post("/", content=b"hello")
    assert (response.text, response.headers["x-body-len"]) == ("hello", "5")
    with pytest.raises(ValueError, match="down"):
        client.get("/fail")

    class Plain(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: Any) -> Response:
            return PlainTextResponse("short-circuit")

    app2 = app_with(Route("/", view))
    app2.add_middleware(Plain)
    assert TestClient(app2).get("/").text == "short-circuit"


def test_cors() -> None:
    app = app_with(Route("/", lambda request: PlainTextResponse("x")))
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["https://a.example"],
        allow_origin_regex=r"https://.*\.b\.example",
        allow_methods=["GET", "POST"],
        allow_headers=["X-Custom"],
        allow_credentials=True,
        expose_headers=["X-Out"],
    )
    client = TestClient(app)
    preflight = client.options(
        "/",
        headers={
            "Origin": "https://a.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "X-Custom",
        },
    )
    assert preflight.status_code == 200
    assert preflight.text == "OK"
    assert dict(preflight.headers) == {
        "vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, "
        "Access-Control-Request-Private-Network",
        "access-control-allow-methods": "GET, POST",
        "access-control-max-age": "600",
        "access-control-allow-headers": "Accept, Accept-Language, Content-Language, Content-Type, X-Custom",
        "access-control-allow-credentials": "true",
        "access-control-allow-origin": "https://a.example",
        "content-length": "2",
        "content-type": "text/plain; charset=utf-8",
    }
    denied = client.options(
        "/", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "DELETE"}
    )
    assert (denied.status_code, denied.text) == (400, "Disallowed CORS origin, method")
    simple = client.get("/", headers={"Origin": "https://x.b.example"})
    assert simple.headers["access-control-allow-origin"] == "https://x.b.example"
    assert simple.headers["access-control-expose-headers"] == "X-Out"
    assert simple.headers["vary"] == "Origin"
    assert client.get("/").headers["vary"] == "Origin"


def test_gzip() -> None:
    def big(request: Request) -> PlainTextResponse:
        return PlainTextResponse("x" * 1000)

    def small(request: Request) -> PlainTextResponse:
        return PlainTextResponse("x")

    async def stream(request: Request) -> StreamingResponse:
        async def chunks() -> Any:
            for _ in range(3):
                yield b"y" * 600

        return StreamingResponse(chunks(), media_type="text/plain")

    def events(request: Request) -> PlainTextResponse:
        return PlainTextResponse("z" * 1000, media_type="text/event-stream")

    app = app_with(
        Route("/big", big), Route("/small", small), Route("/stream", stream), Route("/events", events)
    )
    app.add_middleware(GZipMiddleware, minimum_size=500)
    client = TestClient(app)
    response = client.get("/big", headers={"accept-encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.text == "x" * 1000
    assert "content-encoding" not in client.get("/small", headers={"accept-encoding": "gzip"}).headers
    streamed = client.get("/stream", headers={"accept-encoding": "gzip"})
    assert streamed.headers["content-encoding"] == "gzip"
    assert "content-length" not in streamed.headers
    assert streamed.text == "y" * 1800
    assert "content-encoding" not in client.get("/events", headers={"accept-encoding": "gzip"}).headers
    raw = client.get("/big", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in raw.headers
    assert gzip.compress(b"a")  # the module is what the middleware produces


def test_trusted_host_and_https_redirect() -> None:
    app = app_with(Route("/", lambda request: PlainTextResponse("ok")))
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["www.example.com", "*.api.example"])
    client = TestClient(app, base_url="http://www.example.com", follow_redirects=False)
    assert client.get("/").text == "ok"
    assert client.get("/", headers={"host": "x.api.example"}).text == "ok"
    denied = client.get("/", headers={"host": "evil.example"})
    assert (denied.status_code, denied.text) == (400, "Invalid host header")
    redirect = TestClient(app, base_url="http://example.com", follow_redirects=False).get("/")
    assert redirect.headers["location"] == "http://www.example.com/"

    https_app = app_with(Route("/", lambda request: PlainTextResponse("ok")))
    https_app.add_middleware(HTTPSRedirectMiddleware)
    response = TestClient(https_app, follow_redirects=False).get("/a?b=1")
    assert (response.status_code, response.headers["location"]) == (307, "https://testserver/a?b=1")


# --------------------------------------------------------------------------- static files and templates


def test_static_files(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<h1>home</h1>")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "index.html").write_text("sub")
    (tmp_path / "404.html").write_text("custom 404")
    (tmp_path / "a.css").write_text("body{}")
    outside = tmp_path.parent / "secret.txt"
    outside.write_text("secret")
    app = app_with(Mount("/static", StaticFiles(directory=tmp_path, html=True)))
    client = TestClient(app, follow_redirects=False)
    css = client.get("/static/a.css")
    assert (css.status_code, css.text, css.headers["content-type"]) == (
        200,
        "body{}",
        "text/css; charset=utf-8",
    )
    not_modified = client.get("/static/a.css", headers={"if-none-match": css.headers["etag"]})
    assert not_modified.status_code == 304
    assert not_modified.headers["etag"] == css.headers["etag"]
    assert (
        client.get("/static/a.css", headers={"if-modified-since": css.headers["last-modified"]}).status_code
        == 304
    )
    assert client.get("/static/").text == "<h1>home</h1>"
    assert client.get("/static/sub").headers["location"] == "http://testserver/static/sub/"
    missing = client.get("/static/nope")
    assert (missing.status_code, missing.text) == (404, "custom 404")
    assert client.get("/static/../secret.txt").text != "secret"
    assert client.get("/static/%2e%2e/secret.txt").text != "secret"
    posted = client.post("/static/a.css")
    assert (posted.status_code, posted.headers["allow"]) == (405, "GET, HEAD")
    with pytest.raises(RuntimeError, match="does not exist"):
        StaticFiles(directory=tmp_path / "missing")


def test_templates(tmp_path: Path) -> None:
    from fasterapi.templating import Jinja2Templates

    (tmp_path / "page.html").write_text("Hello {{ name }} at {{ url_for('page') }}")
    templates = Jinja2Templates(directory=tmp_path)

    def page(request: Request) -> Response:
        return templates.TemplateResponse(request, "page.html", {"name": "<you>"})

    response = TestClient(app_with(Route("/page", page))).get("/page")
    assert response.text == "Hello &lt;you&gt; at http://testserver/page"
    assert response.template.name == "page.html"  # type: ignore[attr-defined]
    assert response.context["name"] == "<you>"  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- websockets


def test_websocket_session() -> None:
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept(subprotocol="chat")
        await websocket.send_text(await websocket.receive_text())
        await websocket.send_bytes(await websocket.receive_bytes())
        await websocket.send_json(await websocket.receive_json())
        async for message in websocket.iter_text():
            await websocket.send_text(message.upper())

    client = TestClient(app_with(WebSocketRoute("/ws", echo)))
    with client.websocket_connect("/ws", subprotocols=["chat"]) as session:
        assert session.accepted_subprotocol == "chat"
        session.send_text("t")
        assert session.receive_text() == "t"
        session.send_bytes(b"b")
        assert session.receive_bytes() == b"b"
        session.send_json({"j": 1})
        assert session.receive_json() == {"j": 1}
        session.send_text("up")
        assert session.receive_text() == "UP"


def test_websocket_close_and_denial() -> None:
    async def refuse(websocket: WebSocket) -> None:
        await websocket.close(code=1008, reason="no")

    async def deny(websocket: WebSocket) -> None:
        await websocket.send_denial_response(PlainTextResponse("denied", status_code=403))

    from fasterapi.testclient import WebSocketDenialResponse

    client = TestClient(app_with(WebSocketRoute("/refuse", refuse), WebSocketRoute("/deny", deny)))
    with pytest.raises(WebSocketDisconnect) as info, client.websocket_connect("/refuse"):
        pass
    assert (info.value.code, info.value.reason) == (1008, "no")
    with pytest.raises(WebSocketDenialResponse) as denial, client.websocket_connect("/deny"):
        pass
    assert (denial.value.status_code, denial.value.text) == (403, "denied")


def test_form_data_close() -> None:
    import anyio

    async def main() -> None:
        import io

        upload = UploadFile(io.BytesIO(b"abc"), filename="f")
        form = FormData([("f", upload), ("a", "1")])
        await form.close()
        assert upload.file.closed

    anyio.run(main)


# --------------------------------------------------------------------------- packaging


def test_imports_without_starlette_and_fastapi() -> None:
    modules = [
        "types", "status", "datastructures", "exceptions", "concurrency", "background", "_formparsers",
        "requests", "responses", "websockets", "_routing_base", "_app_base", "middleware", "middleware.base",
        "middleware.errors", "middleware.exceptions", "middleware.cors", "middleware.gzip",
        "middleware.trustedhost", "middleware.httpsredirect", "middleware.asyncexitstack", "staticfiles",
        "templating", "testclient", "sse",
    ]  # fmt: skip
    code = (
        "import sys; sys.modules['starlette'] = None; sys.modules['fastapi'] = None\n"
        "import importlib\n"
        f"for name in {modules!r}: importlib.import_module('fasterapi.' + name)\n"
        "assert not any(m.split('.')[0] in ('starlette', 'fastapi') for m, v in sys.modules.items() if v)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=os.path.dirname(__file__))


def test_threadpool_size(monkeypatch: pytest.MonkeyPatch) -> None:
    import anyio
    from fasterapi import concurrency

    assert concurrency.get_threadpool_size() >= 1
    previous = concurrency.get_threadpool_size()
    try:
        concurrency.set_threadpool_size(3)

        async def main() -> int:
            await concurrency.run_in_threadpool(lambda: None)
            return int(concurrency._get_limiter().total_tokens)

        assert anyio.run(main) == 3
        with pytest.raises(ValueError, match="positive integer"):
            concurrency.set_threadpool_size(0)
    finally:
        concurrency.set_threadpool_size(previous)


@pytest.mark.parametrize(("value", "size"), [("1", 1), ("200", 200), ("0", None), ("-3", None), ("x", None)])
def test_threadpool_size_from_the_environment(value: str, size: int | None) -> None:
    code = "from fasterapi import concurrency; print(concurrency.get_threadpool_size())"
    env = {**os.environ, "FASTERAPI_THREADPOOL_SIZE": value}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    if size is None:
        assert done.returncode != 0
        assert f"FASTERAPI_THREADPOOL_SIZE must be a positive integer, not {value!r}" in done.stderr
    else:
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == str(size)


def test_sse_format() -> None:
    from fasterapi.sse import EventSourceResponse, ServerSentEvent, format_sse_event

    assert format_sse_event(data_str='{"a":1}', event="e", id="1", retry=5, comment="c\nd") == (
        b': c\n: d\nevent: e\ndata: {"a":1}\nid: 1\nretry: 5\n\n'
    )
    assert EventSourceResponse(iter([])).media_type == "text/event-stream"
    with pytest.raises(ValueError, match="single line"):
        ServerSentEvent(event="a\nb")
    with pytest.raises(ValueError, match="Cannot set both"):
        ServerSentEvent(data=1, raw_data="x")
