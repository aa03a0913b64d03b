"""Exception handling: `ExceptionMiddleware`, and the same lookup for each endpoint.

Handlers are found by status code first (for an `HTTPException`), then by the exception's class,
walking its MRO. `ExceptionMiddleware` stores its handlers in the scope
(`scope["starlette.exception_handlers"] = (by_class, by_status)`), and `request_response` /
`websocket_session` wrap each endpoint with `wrap_app_handling_exceptions`, so an exception
raised in an endpoint is handled inside the route, where any route middleware still sees the
response.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..concurrency import is_async_callable, run_in_threadpool
from ..exceptions import HTTPException, WebSocketException
from ..requests import Request
from ..responses import PlainTextResponse, Response
from ..types import ASGIApp, ExceptionHandler, Message, Receive, Scope, Send
from ..websockets import WebSocket

__all__ = ["ExceptionMiddleware", "lookup_exception_handler", "wrap_app_handling_exceptions"]

ExceptionHandlers = dict[Any, ExceptionHandler]
StatusHandlers = dict[int, ExceptionHandler]

#: The scope key under which ExceptionMiddleware publishes its handlers (the name ASGI
#: middleware written for Starlette look for).
HANDLERS_SCOPE_KEY = "starlette.exception_handlers"


def lookup_exception_handler(handlers: ExceptionHandlers, exc: BaseException) -> ExceptionHandler | None:
    for cls in type(exc).__mro__:
        handler = handlers.get(cls)
        if handler is not None:
            return handler
    return None


def wrap_app_handling_exceptions(app: ASGIApp, conn: Request | WebSocket) -> ASGIApp:
    """`app`, with the exceptions it raises handled by the handlers in `conn.scope`."""
    exception_handlers: ExceptionHandlers
    status_handlers: StatusHandlers
    try:
        exception_handlers, status_handlers = conn.scope[HANDLERS_SCOPE_KEY]
    except KeyError:
        exception_handlers, status_handlers = {}, {}

    async def wrapped_app(scope: Scope, receive: Receive, send: Send) -> None:
        response_started = False

        async def sender(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await app(scope, receive, sender)
        except Exception as exc:
            await _handle(
                exc, conn, exception_handlers, status_handlers, response_started, scope, receive, sender
            )

    return wrapped_app


async def _handle(  # noqa: PLR0917
    exc: Exception,
    conn: Request | WebSocket,
    exception_handlers: ExceptionHandlers,
    status_handlers: StatusHandlers,
    response_started: bool,
    scope: Scope,
    receive: Receive,
    send: Send,
) -> None:
    handler = None
    if isinstance(exc, HTTPException):
        handler = status_handlers.get(exc.status_code)
    if handler is None:
        handler = lookup_exception_handler(exception_handlers, exc)
    if handler is None:
        raise exc
    if response_started:
        raise RuntimeError("Caught handled exception, but response already started.") from exc
    if is_async_callable(handler):
        response = await handler(conn, exc)
    else:
        response = await run_in_threadpool(handler, conn, exc)  # type: ignore[arg-type]
    if response is not None:
        await response(scope, receive, send)
    # A reused exception instance would otherwise pile up tracebacks request after request.
    exc.__traceback__ = None


async def handle_exception(  # noqa: PLR0917
    exc: Exception,
    conn: Request | WebSocket,
    scope: Scope,
    receive: Receive,
    send: Send,
    response_started: bool,
) -> None:
    """Handles `exc` with the handlers of the scope (or re-raises it): for dispatchers that
    track `response_started` themselves instead of wrapping `send`."""
    try:
        exception_handlers, status_handlers = conn.scope[HANDLERS_SCOPE_KEY]
    except KeyError:
        exception_handlers, status_handlers = {}, {}
    await _handle(exc, conn, exception_handlers, status_handlers, response_started, scope, receive, send)


class ExceptionMiddleware:
    """Turns exceptions into responses with the registered handlers; by default an
    `HTTPException` becomes a plain-text response of its status and detail, and a
    `WebSocketException` closes the WebSocket."""

    def __init__(
        self,
        app: ASGIApp,
        handlers: Mapping[Any, ExceptionHandler] | None = None,
        debug: bool = False,
    ) -> None:
        self.app = app
        self.debug = debug
        self._status_handlers: StatusHandlers = {}
        self._exception_handlers: ExceptionHandlers = {
            HTTPException: self.http_exception,
            WebSocketException: self.websocket_exception,
        }
        if handlers is not None:
            for key, value in handlers.items():
                self.add_exception_handler(key, value)
        # What goes in the scope, built once (the dicts are shared: later additions are seen).
        self.scope_handlers = (self._exception_handlers, self._status_handlers)

    def add_exception_handler(
        self, exc_class_or_status_code: int | type[Exception], handler: ExceptionHandler
    ) -> None:
        if isinstance(exc_class_or_status_code, int):
            self._status_handlers[exc_class_or_status_code] = handler
        else:
            assert issubclass(exc_class_or_status_code, Exception)
            self._exception_handlers[exc_class_or_status_code] = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope_type = scope["type"]
        if scope_type != "http" and scope_type != "websocket":  # noqa: PLR1714
            await self.app(scope, receive, send)
            return
        scope[HANDLERS_SCOPE_KEY] = self.scope_handlers
        conn: Request | WebSocket
        if scope_type == "http":  # noqa: SIM108
            conn = Request(scope, receive, send)
        else:
            conn = WebSocket(scope, receive, send)
        await wrap_app_handling_exceptions(self.app, conn)(scope, receive, send)

    async def http_exception(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code in {204, 304}:
            return Response(status_code=exc.status_code, headers=exc.headers)
        return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)

    async def websocket_exception(self, websocket: WebSocket, exc: Exception) -> None:
        assert isinstance(exc, WebSocketException)
        await websocket.close(code=exc.code, reason=exc.reason)
