"""`BaseHTTPMiddleware`: middleware written as `async def dispatch(request, call_next)`.

`call_next(request)` runs the rest of the stack in a task and returns as soon as the response
starts, with its body to stream. The downstream app sees the request body the dispatch function
has read (body() is replayed; a consumed stream() gives an empty body). After the response is
sent, the downstream app's receive() reports a disconnect. An exception raised downstream is
re-raised from `call_next` when no response started, or after the response otherwise.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable, Mapping, MutableMapping
from contextlib import aclosing
from typing import Any

import anyio

from ..requests import ClientDisconnect, Request
from ..responses import Response
from ..types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BaseHTTPMiddleware", "DispatchFunction", "RequestResponseEndpoint"]

RequestResponseEndpoint = Callable[[Request], Awaitable[Response]]
DispatchFunction = Callable[[Request, RequestResponseEndpoint], Awaitable[Response]]
BodyStreamGenerator = AsyncGenerator[bytes | MutableMapping[str, Any], None]
AsyncContentStream = AsyncIterable[str | bytes | memoryview | MutableMapping[str, Any]]


class _CachedRequest(Request):
    """The request of `dispatch`; `wrapped_receive` replays to the downstream app what the
    dispatch function has read of the body."""

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        super().__init__(scope, receive, send)
        self._wrapped_rcv_disconnected = False
        self._wrapped_rcv_consumed = False

    async def wrapped_receive(self) -> Message:
        if self._wrapped_rcv_disconnected:
            return {"type": "http.disconnect"}
        if self._wrapped_rcv_consumed:
            # The body has been handed over: what remains is the disconnect.
            if self._is_disconnected:
                self._wrapped_rcv_disconnected = True
                return {"type": "http.disconnect"}
            message = await self.receive()
            if message["type"] != "http.disconnect":  # pragma: no cover
                raise RuntimeError(f"Unexpected message received: {message['type']}")
            self._wrapped_rcv_disconnected = True
            return message
        if getattr(self, "_body", None) is not None:
            self._wrapped_rcv_consumed = True
            return {"type": "http.request", "body": self._body, "more_body": False}
        if self._stream_consumed:
            self._wrapped_rcv_consumed = True
            return {"type": "http.request", "body": b"", "more_body": False}
        try:
            async with aclosing(self.stream()) as stream:
                chunk = await stream.__anext__()
            self._wrapped_rcv_consumed = self._stream_consumed
            return {"type": "http.request", "body": chunk, "more_body": not self._stream_consumed}
        except ClientDisconnect:
            self._wrapped_rcv_disconnected = True
            return {"type": "http.disconnect"}


class BaseHTTPMiddleware:
    def __init__(self, app: ASGIApp, dispatch: DispatchFunction | None = None) -> None:
        self.app = app
        self.dispatch_func = self.dispatch if dispatch is None else dispatch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        request = _CachedRequest(scope, receive, send)
        wrapped_receive = request.wrapped_receive
        response_sent = anyio.Event()
        app_exc: Exception | None = None
        exception_already_raised = False

        async def call_next(request: Request) -> Response:
            async def receive_or_disconnect() -> Message:
                if response_sent.is_set():
                    return {"type": "http.disconnect"}
                async with anyio.create_task_group() as task_group:

                    async def wait_sent() -> None:
                        await response_sent.wait()
                        task_group.cancel_scope.cancel()

                    task_group.start_soon(wait_sent)
                    message = await wrapped_receive()
                    task_group.cancel_scope.cancel()
                if response_sent.is_set():
                    return {"type": "http.disconnect"}
                return message

            async def send_no_error(message: Message) -> None:
                try:
                    await send_stream.send(message)
                except anyio.BrokenResourceError:
                    # The response was sent and the stream closed: the app's late messages are dropped.
                    return
                if message["type"] == "http.response.pathsend" or (
                    message["type"] == "http.response.body" and not message.get("more_body", False)
                ):
                    await response_sent.wait()

            async def run_app() -> None:
                nonlocal app_exc
                with send_stream:
                    try:
                        await self.app(scope, receive_or_disconnect, send_no_error)
                    except Exception as exc:
                        app_exc = exc

            task_group.start_soon(run_app)

            info = None
            try:
                while True:
                    message = await recv_stream.receive()
                    if message["type"] == "http.response.debug":
                        info = message["info"]
                        continue
                    if message["type"] == "http.response.early_hint":
                        await send(message)
                        continue
                    break
            except anyio.EndOfStream:
                if app_exc is not None:
                    nonlocal exception_already_raised
                    exception_already_raised = True
                    # Re-raised without EndOfStream in its context.
                    raise app_exc from app_exc.__cause__ or app_exc.__context__
                raise RuntimeError("No response returned.") from None

            assert message["type"] == "http.response.start"

            async def body_stream() -> BodyStreamGenerator:
                async for message in recv_stream:
                    if message["type"] == "http.response.pathsend":
                        yield message
                        break
                    assert message["type"] == "http.response.body", f"Unexpected message: {message}"
                    body = message.get("body", b"")
                    if body:
                        yield body
                    if not message.get("more_body", False):
                        break

            response = _StreamingResponse(status_code=message["status"], content=body_stream(), info=info)
            response.raw_headers = message.get("headers", [])
            return response

        send_stream, recv_stream = anyio.create_memory_object_stream[Message]()
        with recv_stream, send_stream:
            try:
                async with anyio.create_task_group() as task_group:
                    response = await self.dispatch_func(request, call_next)
                    await response(scope, wrapped_receive, send)
                    response_sent.set()
                    recv_stream.close()
            except BaseExceptionGroup as group:
                if len(group.exceptions) != 1:
                    raise
                exc = group.exceptions[0]
                context = None if exc.__suppress_context__ else exc.__context__
                raise exc from exc.__cause__ or context

        if app_exc is not None and not exception_already_raised:
            raise app_exc

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        raise NotImplementedError()  # pragma: no cover


class _StreamingResponse(Response):
    """The downstream response as `call_next` returns it: its body is streamed through."""

    def __init__(
        self,
        content: AsyncContentStream,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        info: Mapping[str, Any] | None = None,
    ) -> None:
        self.info = info
        self.body_iterator = content
        self.status_code = status_code
        self.media_type = media_type
        self.init_headers(headers)
        self.background = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.info is not None:
            await send({"type": "http.response.debug", "info": self.info})
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        should_close_body = True
        async for chunk in self.body_iterator:
            if isinstance(chunk, dict):
                # An ASGI message that is not body (pathsend).
                should_close_body = False
                await send(chunk)
                continue
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        if should_close_body:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        if self.background:
            await self.background()
