"""The generic path: any ASGI 3 application (FastAPI, Starlette, a bare callable) over the engine.

One `HTTPCycle` per request holds its scope and implements `receive` and `send` on the engine's
request object: the body the engine delivered (more of it arrives as body records when it was
streamed), the response handed over whole when the app sends it in one message, streamed (chunked
when the app gives no length) when it sends several, with back-pressure: `send` waits while the
bytes not yet written pass the engine's high-water mark. The lifespan protocol runs in `Lifespan`.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import stat
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from types import CoroutineType
from typing import Any

from fasterapi_server._drive import Driver
from fasterapi_server._engine import Request

logger = logging.getLogger("fasterapi.server")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]

BODY, DISCONNECT, DRAINED = 1, 2, 3  # the kinds of stream records (Engine.poll)

_ASGI = {"version": "3.0", "spec_version": "2.4"}
SERVER_ERROR_BODY = b"Internal Server Error"
TEXT_HEADERS = [(b"content-type", b"text/plain; charset=utf-8")]


# The keys Request.scope sets for each request, as None placeholders in the dicts it copies: it
# replaces them, and a copy made at its final size never grows (measured: 418 -> 375 ns a scope).
# A base for Request.scope(..., path_params=True) has "path_params" too.
REQUEST_KEYS: dict[str, None] = dict.fromkeys(
    ("http_version", "client", "method", "path", "raw_path", "query_string", "headers", "state", "extensions")
)


class ServerState:
    """What the cycles of one server share."""

    __slots__ = (
        "access", "app", "base", "drive", "loop", "root_path", "server", "shutting_down", "state", "streams",
        "tasks",
    )  # fmt: skip

    def __init__(
        self,
        app: ASGIApp,
        loop: asyncio.AbstractEventLoop,
        server: tuple[str, int] | None,
        root_path: str,
        scheme: str = "http",
    ) -> None:
        self.app = app
        self.loop = loop
        self.drive = Driver(loop).drive
        self.server = server
        self.root_path = root_path
        # The scope's keys that every request shares (Request.scope copies them), and the
        # request's own as placeholders (see REQUEST_KEYS).
        self.base = {
            "type": "http",
            "asgi": _ASGI,
            "server": server,
            "scheme": scheme,
            "root_path": root_path,
            **REQUEST_KEYS,
        }
        self.state: dict[str, Any] = {}  # the lifespan state, copied into each request's scope
        self.streams: dict[int, Any] = {}  # stream id -> the cycle waiting for its records
        self.tasks: set[asyncio.Task[Any]] = set()  # requests that suspended, until they finish
        self.shutting_down = False
        self.access: Any = None  # the AccessLog, when there is one


def dispatch_failed(req: Request, exc: BaseException) -> None:
    """A request whose dispatch to the app failed (a bug of the server's, not the app's): logged,
    answered 500 if it can still be; the other requests go on."""
    logger.error("Exception while dispatching a request", exc_info=exc)
    if not req.closed:
        with contextlib.suppress(ValueError):  # (a response already given)
            req.respond(500, TEXT_HEADERS, SERVER_ERROR_BODY)


async def _await(awaitable: Awaitable[None]) -> None:
    """An app's awaitable that is not a coroutine (a Task takes only coroutines)."""
    await awaitable


class HTTPCycle:
    __slots__ = (
        "body_done", "chunks", "disconnected", "ended", "first_given", "headers", "req", "shared", "started",
        "status", "streaming", "waiter",
    )  # fmt: skip

    def __init__(self, req: Request, shared: ServerState) -> None:
        self.req = req
        self.shared = shared
        self.status = 200
        self.headers: Any = ()
        self.started = False  # http.response.start received
        self.streaming = False  # the head was sent before the body's end
        self.ended = False
        self.body_done = False  # the whole request body was handed to the app
        self.first_given = False
        self.disconnected = False
        self.chunks: deque[tuple[bytes, bool]] | None = None  # body records not yet received
        self.waiter: asyncio.Future[None] | None = None
        if req.more_body:
            shared.streams[req.stream_id] = self

    def scope(self) -> Scope:
        shared = self.shared
        return self.req.scope(shared.base, shared.state, shared.root_path)

    # ---- records from the engine

    def on_record(self, kind: int, body: bytes | None, more: bool) -> None:
        if kind == BODY:
            if self.chunks is None:
                self.chunks = deque()
            self.chunks.append((body or b"", more))
        elif kind == DISCONNECT:
            self.disconnected = True
        self._wake()

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _wait(self) -> None:
        self.shared.streams[self.req.stream_id] = self
        self.waiter = self.shared.loop.create_future()
        try:
            await self.waiter
        finally:
            self.waiter = None

    # ---- ASGI

    async def receive(self) -> Message:
        req = self.req
        if not self.body_done:
            if not req.more_body:
                self.body_done = True
                return {"type": "http.request", "body": req.body, "more_body": False}
            if not self.first_given:
                # A streamed body: its first part came with the head.
                self.first_given = True
                first = req.body
                req.consumed(len(first))
                return {"type": "http.request", "body": first, "more_body": True}
            while not self.chunks and not self.disconnected and not req.closed:
                await self._wait()
            if self.chunks:  # (not None: the loop above ended for them)
                body, more = self.chunks.popleft()
                req.consumed(len(body))
                if not more:
                    self.body_done = True
                return {"type": "http.request", "body": body, "more_body": more}
            self.disconnected = True
            return {"type": "http.disconnect"}
        # The body was all read: the next message is the disconnect, when it comes (the end of
        # the response counts as one, as in uvicorn; so does the server shutting down).
        while not (self.disconnected or self.ended or req.closed or self.shared.shutting_down):
            await self._wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        kind = message["type"]
        req = self.req
        if kind == "http.response.start":
            if self.started:
                raise RuntimeError("http.response.start sent twice")
            self.started = True
            self.status = message["status"]
            self.headers = message.get("headers", ())
            return
        if kind == "http.response.body":
            if not self.started:
                raise RuntimeError("http.response.body before http.response.start")
            if self.ended:
                raise RuntimeError("http.response.body after the response ended")
            body = message.get("body", b"")
            more = message.get("more_body", False)
            if not self.streaming:
                # (as in _respond_whole(): the flags change after the engine took the head)
                if not more:
                    self._respond_whole(self.status, self.headers, body)
                    return
                req.start(self.status, self.headers)
                self.streaming = True
            if body and req.send(body):
                await self._wait_drained()
            if not more:
                req.end()  # (raises when short of the Content-Length: the cycle then aborts)
                self.ended = True
                self._wake()
            return
        if kind == "http.response.pathsend":
            # The ASGI pathsend extension: the I/O thread sends the file itself (sendfile).
            if not self.started:
                raise RuntimeError("http.response.pathsend before http.response.start")
            if self.ended:
                raise RuntimeError("http.response.pathsend after the response ended")
            # Opened here, before the head goes out: a file that cannot be sent is the app's
            # error (a 500) rather than a response cut short. The engine takes the descriptor.
            # (O_NONBLOCK: a FIFO's open would wait for a writer; it has no effect on a file.)
            fd = os.open(message["path"], os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
            try:
                info = os.fstat(fd)
                if not stat.S_ISREG(info.st_mode):
                    code = errno.EISDIR if stat.S_ISDIR(info.st_mode) else errno.EINVAL
                    raise OSError(code, "pathsend: not a regular file", message["path"])
                if not self.streaming:
                    # The file is the whole body: a Content-Length that is not its size is refused here.
                    req.start(self.status, self.headers, info.st_size)
                    self.streaming = True
            except BaseException:
                os.close(fd)
                raise
            req.send_file(fd)
            req.end()
            self.ended = True
            self._wake()
            return
        raise RuntimeError(f"unexpected ASGI message {kind!r} in an HTTP request")

    async def _wait_drained(self) -> None:
        # Woken by the drained record (or a disconnect): the engine took the bytes.
        if not self.req.closed and not self.disconnected:
            await self._wait()

    def finish(self) -> None:
        shared = self.shared
        streams = shared.streams
        if streams:  # (empty unless some request streams or waits)
            streams.pop(self.req.stream_id, None)
        if shared.access is not None:
            shared.access.pending.append((self.req, self.status))

    def _respond_whole(self, status: int, headers: Any, body: bytes | memoryview) -> None:
        """The whole response at once: the engine adds the framing. The flags change after the
        engine took it: one it refused (a header carrying CR LF) leaves nothing sent, and the cycle
        can still answer 500."""
        self.req.respond(status, headers, body)
        self.status = status
        self.started = self.ended = True
        if self.waiter is not None:  # (most responses have nobody waiting)
            self._wake()

    def begin(self) -> None:
        """Runs the app's part of the request as a Task that starts eagerly (most finish there);
        one that waits is kept until it ends (shutdown cancels it). What follows the app (an
        answer if it gave none, the log of its exception, the cycle's end) runs when it ends,
        without a coroutine of the server's around the app's."""
        shared = self.shared
        try:
            awaitable = shared.app(self.scope(), self.receive, self.send)
            coro = awaitable if type(awaitable) is CoroutineType else _await(awaitable)
            task = shared.drive(coro)
        except BaseException as exc:  # the app's call itself failed (the Task catches the rest)
            self._after(exc)
            if not isinstance(exc, Exception):
                raise
            return
        self.settle(task)

    def settle(self, task: asyncio.Task[None] | None) -> None:
        """After the first step of the app's Task (`drive`'s answer: None when it finished with a
        result): the end of the request, or its Task kept until it ends."""
        if task is None:
            if self.ended:  # (the usual end: answered, nothing raised; one call less)
                self.finish()
            else:
                self._after(None)
        elif task.done():  # failed in its first step
            self._task_done(task)
        else:
            self.shared.tasks.add(task)
            task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self.shared.tasks.discard(task)
        try:
            exc = task.exception()
        except asyncio.CancelledError as cancelled:
            exc = cancelled
        self._after(exc)

    def _after(self, exc: BaseException | None) -> None:
        """After the app returned (`exc` None) or raised."""
        try:
            if exc is not None:
                if not (isinstance(exc, asyncio.CancelledError) and self.req.closed):
                    logger.error("Exception in ASGI application", exc_info=exc)
                self._fail()
            elif not self.ended:
                logger.error(
                    "ASGI callable returned without %s the response",
                    "completing" if self.started else "starting",
                )
                self._fail()
        finally:
            self.finish()

    def _fail(self) -> None:
        """After the app failed: a 500 if nothing of the response went out, else the connection
        closes (the response cannot end well)."""
        if self.ended:
            return
        self.ended = True
        if self.streaming:
            self.req.abort()
        else:
            self._respond_whole(500, TEXT_HEADERS, SERVER_ERROR_BODY)
