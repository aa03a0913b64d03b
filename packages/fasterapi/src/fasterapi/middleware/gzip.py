"""`GZipMiddleware`: compresses responses for clients that accept gzip.

Bodies under `minimum_size` are left alone, as are responses that already have a
Content-Encoding, partial responses (206) and excluded media types (images, audio, video,
archives, `text/event-stream`...). Streaming bodies are compressed chunk by chunk, flushed at
each chunk. Chunks of `thread_minimum_size` bytes or more are compressed in a thread.
"""

from __future__ import annotations

import zlib
from typing import NoReturn

import anyio
import anyio.lowlevel
import anyio.to_thread

from ..datastructures import Headers, MutableHeaders
from ..types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["DEFAULT_EXCLUDED_CONTENT_TYPES", "GZipMiddleware"]

DEFAULT_EXCLUDED_CONTENT_TYPES = (
    "application/grpc",
    "application/gzip",
    "application/x-gzip",
    "application/zip",
    "audio/*",
    "font/woff",
    "font/woff2",
    "image/avif",
    "image/gif",
    "image/jpeg",
    "image/png",
    "image/webp",
    "text/event-stream",
    "video/*",
)

_limiter: anyio.lowlevel.RunVar[anyio.CapacityLimiter] = anyio.lowlevel.RunVar("fasterapi_gzip_limiter")


def _gzip_limiter() -> anyio.CapacityLimiter:
    try:
        return _limiter.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(40)
        _limiter.set(limiter)
        return limiter


def _normalize(content_types: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(content_type.partition(";")[0].strip().lower() for content_type in content_types)


class GZipMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        minimum_size: int = 500,
        compresslevel: int = 9,
        thread_minimum_size: int = 128 * 1024,
        *,
        exclude_content_types: tuple[str, ...] = DEFAULT_EXCLUDED_CONTENT_TYPES,
    ) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.compresslevel = compresslevel
        self.thread_minimum_size = thread_minimum_size
        self.exclude_content_types = _normalize(exclude_content_types)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        responder: IdentityResponder
        if "gzip" in Headers(scope=scope).get("Accept-Encoding", ""):
            responder = GZipResponder(
                self.app,
                self.minimum_size,
                compresslevel=self.compresslevel,
                thread_minimum_size=self.thread_minimum_size,
                exclude_content_types=self.exclude_content_types,
            )
        else:
            responder = IdentityResponder(
                self.app, self.minimum_size, exclude_content_types=self.exclude_content_types
            )
        await responder(scope, receive, send)


async def _unattached_send(message: Message) -> NoReturn:
    raise RuntimeError("send awaitable not set")  # pragma: no cover


class IdentityResponder:
    """Holds back the start message until the first body chunk says whether to compress;
    without compression (this class) the body is passed through."""

    content_encoding: str = ""

    def __init__(
        self,
        app: ASGIApp,
        minimum_size: int,
        *,
        exclude_content_types: tuple[str, ...] = DEFAULT_EXCLUDED_CONTENT_TYPES,
    ) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.exclude_content_types = _normalize(exclude_content_types)
        self.send: Send = _unattached_send
        self.initial_message: Message = {}
        self.started = False
        self.passthrough = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.send = send
        await self.app(scope, receive, self.send_with_compression)

    async def send_with_compression(self, message: Message) -> None:
        message_type = message["type"]
        if message_type == "http.response.start":
            self.initial_message = message
            message.setdefault("headers", [])
            headers = Headers(raw=message["headers"])
            media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
            media_types = {media_type, media_type.partition("/")[0] + "/*"}
            if media_type.startswith("application/grpc+"):
                media_types.add("application/grpc")
            self.passthrough = (
                "content-encoding" in headers
                or message["status"] == 206
                or not media_types.isdisjoint(self.exclude_content_types)
            )
            if self.passthrough:
                await self.send(message)
        elif self.passthrough and message_type in ("http.response.body", "http.response.pathsend"):
            await self.send(message)
        elif message_type == "http.response.body" and not self.started:
            self.started = True
            body = message.get("body", b"")
            more_body = message.get("more_body", False)
            if len(body) < self.minimum_size and not more_body:
                await self.send(self.initial_message)
                await self.send(message)
                return
            compressed = await self.apply_compression(body, more_body=more_body)
            headers = MutableHeaders(raw=self.initial_message["headers"])
            headers.add_vary_header("Accept-Encoding")
            if compressed != body:
                headers["Content-Encoding"] = self.content_encoding
                if more_body or self.initial_message.get("trailers", False):
                    del headers["Content-Length"]
                else:
                    headers["Content-Length"] = str(len(compressed))
                message["body"] = compressed
            await self.send(self.initial_message)
            await self.send(message)
        elif message_type == "http.response.body":
            message["body"] = await self.apply_compression(
                message.get("body", b""), more_body=message.get("more_body", False)
            )
            await self.send(message)
        elif message_type in ("http.response.early_hint", "http.response.trailers"):
            await self.send(message)
        elif message_type == "http.response.pathsend":
            await self.send(self.initial_message)
            await self.send(message)

    async def apply_compression(self, body: bytes, *, more_body: bool) -> bytes:
        """The body as it goes out; `more_body=False` ends the stream."""
        return body


class GZipResponder(IdentityResponder):
    content_encoding = "gzip"

    def __init__(
        self,
        app: ASGIApp,
        minimum_size: int,
        compresslevel: int = 9,
        *,
        thread_minimum_size: int = 128 * 1024,
        exclude_content_types: tuple[str, ...] = DEFAULT_EXCLUDED_CONTENT_TYPES,
    ) -> None:
        super().__init__(app, minimum_size, exclude_content_types=exclude_content_types)
        self.compresslevel = compresslevel
        self.thread_minimum_size = thread_minimum_size
        self._compressor: zlib._Compress | None = None

    @property
    def compressor(self) -> zlib._Compress:
        if self._compressor is None:
            self._compressor = zlib.compressobj(self.compresslevel, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        return self._compressor

    async def apply_compression(self, body: bytes, *, more_body: bool) -> bytes:
        if len(body) >= self.thread_minimum_size:
            return await anyio.to_thread.run_sync(self._compress, body, more_body, limiter=_gzip_limiter())
        return self._compress(body, more_body)

    def _compress(self, body: bytes, more_body: bool) -> bytes:
        compressor = self.compressor
        if more_body:
            return compressor.compress(body) + compressor.flush(zlib.Z_SYNC_FLUSH)
        return compressor.compress(body) + compressor.flush()
