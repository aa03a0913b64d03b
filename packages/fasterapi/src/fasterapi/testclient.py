"""`TestClient`: an httpx client that calls an ASGI app in-process.

The app runs on an event loop in a portal thread (anyio's blocking portal). Responses stream:
the client returns as soon as the response starts and reads body chunks as they are sent, so
endless streams (server-sent events) can be read and closed. An exception raised by the app is
re-raised in the test unless `raise_server_exceptions=False` (then a 500 is returned when no
response had started). `with TestClient(app) as client:` runs the lifespan (startup on enter,
shutdown on exit) and keeps one portal for every request.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import math
from collections.abc import Awaitable, Callable, Generator, Sequence
from concurrent.futures import Future
from concurrent.futures import wait as wait_futures
from types import GeneratorType
from typing import Any, Literal, Self, TypedDict, cast
from urllib.parse import unquote, urljoin

import anyio
import anyio.abc
import anyio.from_thread
from anyio.streams.stapled import StapledObjectStream

from .concurrency import is_async_callable
from .types import ASGIApp, Message, Receive, Scope, Send
from .websockets import WebSocketDisconnect

try:
    import httpx
except ModuleNotFoundError:  # pragma: no cover
    raise RuntimeError(
        "The fasterapi.testclient module requires the httpx package to be installed.\n"
        "You can install this with:\n"
        "    $ pip install httpx\n"
    ) from None

__all__ = ["TestClient", "WebSocketDenialResponse", "WebSocketTestSession"]

_PortalFactory = Callable[[], contextlib.AbstractContextManager[anyio.from_thread.BlockingPortal]]
ASGI3App = Callable[[Scope, Receive, Send], Awaitable[None]]
ASGI2App = Callable[[Scope], Callable[[Receive, Send], Awaitable[None]]]


def _is_asgi3(app: Any) -> bool:
    if inspect.isclass(app):
        return hasattr(app, "__await__")
    return is_async_callable(app)


class _WrapASGI2:
    def __init__(self, app: ASGI2App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope)(receive, send)


class _AsyncBackend(TypedDict):
    backend: str
    backend_options: dict[str, Any]


class _Upgrade(Exception):
    def __init__(self, session: WebSocketTestSession) -> None:
        self.session = session


class WebSocketDenialResponse(httpx.Response, WebSocketDisconnect):  # type: ignore[misc]
    """Raised by `websocket_connect` when the app refuses the WebSocket with an HTTP response
    (`send_denial_response`): it is the response, and a `WebSocketDisconnect`."""


class WebSocketTestSession:
    """A WebSocket connection to the app, as `with client.websocket_connect(url) as ws:`."""

    def __init__(self, app: ASGI3App, scope: Scope, portal_factory: _PortalFactory) -> None:
        self.app = app
        self.scope = scope
        self.accepted_subprotocol: str | None = None
        self.portal_factory = portal_factory
        self.extra_headers: list[tuple[bytes, bytes]] | None = None

    def __enter__(self) -> Self:
        with contextlib.ExitStack() as stack:
            self.portal = portal = stack.enter_context(self.portal_factory())
            fut, cs = portal.start_task(self._run)
            stack.callback(fut.result)
            stack.callback(portal.call, cs.cancel)
            self.send({"type": "websocket.connect"})
            message = self.receive()
            self._raise_on_close(message)
            self.accepted_subprotocol = message.get("subprotocol", None)
            self.extra_headers = message.get("headers", None)
            stack.callback(self.close, 1000)
            self.exit_stack = stack.pop_all()
            return self

    def __exit__(self, *args: Any) -> bool | None:
        return self.exit_stack.__exit__(*args)

    async def _run(self, *, task_status: anyio.abc.TaskStatus[anyio.CancelScope]) -> None:
        send_tx, send_rx = anyio.create_memory_object_stream[Message](math.inf)
        receive_tx, receive_rx = anyio.create_memory_object_stream[Message](math.inf)
        with send_tx, send_rx, receive_tx, receive_rx, anyio.CancelScope() as cs:
            self._receive_tx = receive_tx
            self._send_rx = send_rx
            task_status.started(cs)
            await self.app(self.scope, receive_rx.receive, send_tx.send)
            # Keep the streams open until the session is closed.
            await anyio.sleep_forever()

    def _raise_on_close(self, message: Message) -> None:
        if message["type"] == "websocket.close":
            raise WebSocketDisconnect(code=message.get("code", 1000), reason=message.get("reason", ""))
        if message["type"] == "websocket.http.response.start":
            status_code: int = message["status"]
            headers: list[tuple[bytes, bytes]] = message["headers"]
            body: list[bytes] = []
            while True:
                message = self.receive()
                assert message["type"] == "websocket.http.response.body"
                body.append(message["body"])
                if not message.get("more_body", False):
                    break
            raise WebSocketDenialResponse(status_code=status_code, headers=headers, content=b"".join(body))

    def send(self, message: Message) -> None:
        self.portal.call(self._receive_tx.send, message)

    def send_text(self, data: str) -> None:
        self.send({"type": "websocket.receive", "text": data})

    def send_bytes(self, data: bytes) -> None:
        self.send({"type": "websocket.receive", "bytes": data})

    def send_json(self, data: Any, mode: Literal["text", "binary"] = "text") -> None:
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        if mode == "text":
            self.send({"type": "websocket.receive", "text": text})
        else:
            self.send({"type": "websocket.receive", "bytes": text.encode("utf-8")})

    def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.send({"type": "websocket.disconnect", "code": code, "reason": reason})

    def receive(self) -> Message:
        return self.portal.call(self._send_rx.receive)

    def receive_text(self) -> str:
        message = self.receive()
        self._raise_on_close(message)
        return cast(str, message["text"])

    def receive_bytes(self) -> bytes:
        message = self.receive()
        self._raise_on_close(message)
        return cast(bytes, message["bytes"])

    def receive_json(self, mode: Literal["text", "binary"] = "text") -> Any:
        message = self.receive()
        self._raise_on_close(message)
        text = message["text"] if mode == "text" else message["bytes"].decode("utf-8")
        return json.loads(text)


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, body: Generator[bytes, None, None], exit_stack: contextlib.ExitStack) -> None:
        self._body = body
        self._exit_stack = exit_stack

    def __iter__(self) -> Generator[bytes, None, None]:
        return self._body

    def close(self) -> None:
        self._exit_stack.close()


class _TestClientTransport(httpx.BaseTransport):
    def __init__(
        self,
        app: ASGI3App,
        portal_factory: _PortalFactory,
        raise_server_exceptions: bool = True,
        root_path: str = "",
        *,
        client: tuple[str, int],
        app_state: dict[str, Any],
    ) -> None:
        self.app = app
        self.raise_server_exceptions = raise_server_exceptions
        self.root_path = root_path
        self.portal_factory = portal_factory
        self.app_state = app_state
        self.client = client
        self._open_requests: set[Callable[[], None]] = set()

    def close(self) -> None:
        with contextlib.ExitStack() as stack:
            while self._open_requests:
                stack.callback(self._open_requests.pop())

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        scheme = request.url.scheme
        host = request.url.raw_host.decode("ascii")
        path = request.url.path
        raw_path = request.url.raw_path
        query = request.url.query.decode("ascii")
        port = request.url.port
        if port is None:
            port = {"http": 80, "ws": 80, "https": 443, "wss": 443}[scheme]

        headers: list[tuple[bytes, bytes]] = (
            [] if "host" in request.headers else [(b"host", request.url.netloc)]
        )
        headers += [(key.lower().encode(), value.encode()) for key, value in request.headers.multi_items()]

        if scheme in {"ws", "wss"}:
            subprotocol = request.headers.get("sec-websocket-protocol", None)
            subprotocols: Sequence[str] = (
                [] if subprotocol is None else [v.strip() for v in subprotocol.split(",")]
            )
            ws_scope = {
                "type": "websocket",
                "path": unquote(path),
                "raw_path": raw_path.split(b"?", 1)[0],
                "root_path": self.root_path,
                "scheme": scheme,
                "query_string": query.encode(),
                "headers": headers,
                "client": self.client,
                "server": [host, port],
                "subprotocols": subprotocols,
                "state": self.app_state.copy(),
                "extensions": {"websocket.http.response": {}},
            }
            raise _Upgrade(WebSocketTestSession(self.app, ws_scope, self.portal_factory))

        scope = {
            "type": "http",
            "http_version": "1.1",
            "method": request.method,
            "path": unquote(path),
            "raw_path": raw_path.split(b"?", 1)[0],
            "root_path": self.root_path,
            "scheme": scheme,
            "query_string": query.encode(),
            "headers": headers,
            "client": self.client,
            "server": [host, port],
            "extensions": {"http.response.debug": {}},
            "state": self.app_state.copy(),
        }
        return self._run(request, scope)

    def _run(self, request: httpx.Request, scope: Scope) -> httpx.Response:
        request_complete = False
        response_started = False
        body_complete = False
        raw_kwargs: dict[str, Any] = {}
        debug_info: dict[str, Any] | None = None
        response_complete: anyio.Event
        response_available: anyio.Event

        async def receive() -> Message:
            nonlocal request_complete
            if request_complete:
                if not response_complete.is_set():
                    await response_complete.wait()
                return {"type": "http.disconnect"}
            body = request.read()
            if isinstance(body, GeneratorType):  # pragma: no cover
                try:
                    chunk = body.send(None)
                    if isinstance(chunk, str):
                        chunk = chunk.encode("utf-8")
                    return {"type": "http.request", "body": chunk, "more_body": True}
                except StopIteration:
                    request_complete = True
                    return {"type": "http.request", "body": b""}
            request_complete = True
            return {"type": "http.request", "body": body}

        async def send(message: Message) -> None:
            nonlocal response_started, debug_info, body_complete
            message_type = message["type"]
            if message_type == "http.response.start":
                assert not response_started, 'Received multiple "http.response.start" messages.'
                raw_kwargs["status_code"] = message["status"]
                raw_kwargs["headers"] = [
                    (key.decode(), value.decode()) for key, value in message.get("headers", [])
                ]
                response_started = True
                response_available.set()
            elif message_type == "http.response.body":
                assert response_started, 'Received "http.response.body" without "http.response.start".'
                assert not body_complete, 'Received "http.response.body" after response completed.'
                more_body = message.get("more_body", False)
                await body_tx.send((bytes(message.get("body", b"")), not more_body))
                if not more_body:
                    body_complete = True
            elif message_type == "http.response.debug":
                debug_info = message["info"]

        async def run_app() -> None:
            try:
                with cancel_scope:
                    async with body_tx:
                        await self.app(scope, receive, send)
            finally:
                response_available.set()

        async def receive_body() -> bytes:
            body, complete = await body_rx.receive()
            if complete:
                response_complete.set()
            return body

        def iter_body() -> Generator[bytes, None, None]:
            while True:
                try:
                    body = portal.call(receive_body)
                except anyio.EndOfStream:
                    break
                if request.method != "HEAD" and body:
                    yield body
            exit_stack.close()

        def cancel_if_incomplete() -> None:
            if not response_complete.is_set():
                cancel_scope.cancel()

        def close_app(exc_type: type[BaseException] | None, *_: Any) -> None:
            if app_task is None:  # pragma: no cover
                portal.call(cancel_scope.cancel)
                return
            if not app_task.done():
                portal.call(cancel_if_incomplete)
            wait_futures([app_task])
            self._open_requests.discard(abort)
            if exc_type is None and self.raise_server_exceptions and (exception := app_task.exception()):
                raise exception

        def abort() -> None:
            portal.call(cancel_scope.cancel)
            exit_stack.close()

        with contextlib.ExitStack() as stack:
            portal = stack.enter_context(self.portal_factory())
            response_available = portal.call(anyio.Event)
            response_complete = portal.call(anyio.Event)
            body_tx, body_rx = portal.call(anyio.create_memory_object_stream[tuple[bytes, bool]], 0)
            stack.callback(body_tx.close)
            stack.callback(body_rx.close)
            cancel_scope = portal.call(anyio.CancelScope)
            app_task: Future[None] | None = None
            stack.push(close_app)
            app_task = portal.start_task_soon(run_app)
            portal.call(response_available.wait)
            if not response_started:
                stack.close()
                if self.raise_server_exceptions:
                    raise AssertionError("TestClient did not receive any response.")
                raw_kwargs = {"status_code": 500, "headers": [], "stream": httpx.ByteStream(b"")}
            else:
                exit_stack = stack.pop_all()
                self._open_requests.add(abort)
                raw_kwargs["stream"] = _ResponseStream(iter_body(), exit_stack)

        response = httpx.Response(**raw_kwargs, request=request)
        if debug_info is not None:
            response.extensions["http.response.debug"] = debug_info
            if "template" in debug_info:
                response.template = debug_info["template"]  # type: ignore[attr-defined]
            if "context" in debug_info:
                response.context = debug_info["context"]  # type: ignore[attr-defined]
        return response


class TestClient(httpx.Client):
    __test__ = False
    task: Future[None]
    portal: anyio.from_thread.BlockingPortal | None = None

    def __init__(  # noqa: PLR0917
        self,
        app: ASGIApp,
        base_url: str = "http://testserver",
        raise_server_exceptions: bool = True,
        root_path: str = "",
        backend: Literal["asyncio", "trio"] = "asyncio",
        backend_options: dict[str, Any] | None = None,
        cookies: httpx._types.CookieTypes | None = None,
        headers: dict[str, str] | None = None,
        follow_redirects: bool = True,
        client: tuple[str, int] = ("testclient", 50000),
    ) -> None:
        self.async_backend = _AsyncBackend(backend=backend, backend_options=backend_options or {})
        asgi_app: ASGI3App = app if _is_asgi3(app) else _WrapASGI2(cast(ASGI2App, app))
        self.app = asgi_app
        self.app_state: dict[str, Any] = {}
        transport = _TestClientTransport(
            self.app,
            portal_factory=self._portal_factory,
            raise_server_exceptions=raise_server_exceptions,
            root_path=root_path,
            app_state=self.app_state,
            client=client,
        )
        headers = {} if headers is None else headers
        headers.setdefault("user-agent", "testclient")
        super().__init__(
            base_url=base_url,
            headers=headers,
            transport=transport,
            follow_redirects=follow_redirects,
            cookies=cookies,
        )

    @contextlib.contextmanager
    def _portal_factory(self) -> Generator[anyio.from_thread.BlockingPortal, None, None]:
        if self.portal is not None:
            yield self.portal
        else:
            with anyio.from_thread.start_blocking_portal(**self.async_backend) as portal:
                yield portal

    def websocket_connect(
        self, url: str, subprotocols: Sequence[str] | None = None, **kwargs: Any
    ) -> WebSocketTestSession:
        url = urljoin("ws://testserver", url)
        headers = kwargs.get("headers", {})
        headers.setdefault("connection", "upgrade")
        headers.setdefault("sec-websocket-key", "testserver==")
        headers.setdefault("sec-websocket-version", "13")
        if subprotocols is not None:
            headers.setdefault("sec-websocket-protocol", ", ".join(subprotocols))
        kwargs["headers"] = headers
        try:
            super().request("GET", url, **kwargs)
        except _Upgrade as exc:
            return exc.session
        raise RuntimeError("Expected WebSocket upgrade")  # pragma: no cover

    def __enter__(self) -> Self:
        with contextlib.ExitStack() as stack:
            self.portal = portal = stack.enter_context(
                anyio.from_thread.start_blocking_portal(**self.async_backend)
            )

            @stack.callback
            def reset_portal() -> None:
                self.portal = None

            send = anyio.create_memory_object_stream[Message | None](math.inf)
            receive = anyio.create_memory_object_stream[Message](math.inf)
            for channel in (*send, *receive):
                stack.callback(channel.close)
            self.stream_send = StapledObjectStream(*send)
            self.stream_receive = StapledObjectStream(*receive)
            self.task = portal.start_task_soon(self.lifespan)
            portal.call(self.wait_startup)

            @stack.callback
            def wait_shutdown() -> None:
                portal.call(self.wait_shutdown)

            stack.callback(self._transport.close)
            self.exit_stack = stack.pop_all()
        return self

    def __exit__(self, *args: Any) -> None:
        self.exit_stack.close()

    async def lifespan(self) -> None:
        scope = {"type": "lifespan", "state": self.app_state}
        try:
            await self.app(scope, self.stream_receive.receive, self.stream_send.send)
        finally:
            await self.stream_send.send(None)

    async def wait_startup(self) -> None:
        await self.stream_receive.send({"type": "lifespan.startup"})

        async def receive() -> Any:
            message = await self.stream_send.receive()
            if message is None:
                self.task.result()
            return message

        message = await receive()
        assert message["type"] in ("lifespan.startup.complete", "lifespan.startup.failed")
        if message["type"] == "lifespan.startup.failed":
            await receive()

    async def wait_shutdown(self) -> None:
        async def receive() -> Any:
            message = await self.stream_send.receive()
            if message is None:
                self.task.result()
            return message

        await self.stream_receive.send({"type": "lifespan.shutdown"})
        message = await receive()
        assert message["type"] in ("lifespan.shutdown.complete", "lifespan.shutdown.failed")
        if message["type"] == "lifespan.shutdown.failed":
            await receive()
