"""Responses: each is an ASGI application that sends itself."""

from __future__ import annotations

import functools
import hashlib
import http.cookies
import json
import os
import stat
import sys
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from email.utils import format_datetime, formatdate
from functools import partial
from mimetypes import guess_type
from secrets import token_hex
from typing import Any, Literal
from urllib.parse import quote

import anyio
import anyio.to_thread

from .background import BackgroundTask
from .concurrency import iterate_in_threadpool
from .datastructures import URL, Headers, MutableHeaders
from .requests import ClientDisconnect
from .types import Message, Receive, Scope, Send

__all__ = [
    "FileResponse",
    "HTMLResponse",
    "JSONResponse",
    "ORJSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
    "UJSONResponse",
]


# The content-length headers of the small bodies' sizes seen, kept (formatting one costs more than
# the lookup).
_KEPT_LENGTHS = 4096
_CONTENT_LENGTHS: dict[int, tuple[bytes, bytes]] = {}


def _content_length(size: int) -> tuple[bytes, bytes]:
    header = (b"content-length", b"%d" % size)
    if size < _KEPT_LENGTHS:
        _CONTENT_LENGTHS[size] = header
    return header


def _content_type_header(media_type: str, charset: str) -> tuple[bytes, bytes]:
    """The content-type header of a media type (text/* gets the charset)."""
    content_type = media_type
    if content_type.startswith("text/") and "charset=" not in content_type.lower():
        content_type += "; charset=" + charset
    return (b"content-type", content_type.encode("latin-1"))


# The header lists _default_headers made, by (status, body size, media type, charset): an app
# answers few of them, and copying a kept one costs less than making it.
_KEPT_HEADER_LISTS = 4096
_HEADER_LISTS: dict[tuple[int, int | None, str | None, str], tuple[tuple[bytes, bytes], ...]] = {}


# The content-type headers of the media types seen, in UTF-8 (_default_headers' shortest way).
_UTF8_TYPES: dict[str | None, tuple[bytes, bytes]] = {}


def _default_headers(
    body: bytes | memoryview | None, status_code: int, content_type: str | None, charset: str
) -> list[tuple[bytes, bytes]]:
    """A response's headers when it was given none: content-length (when it may have a body),
    then content-type. A new list each time (the response may change it)."""
    if status_code == 200 and charset == "utf-8" and body is not None:
        # The commonest of all, a 200 in UTF-8 of a media type seen before, without the key of
        # the kept lists (PlainTextResponse, timeit: 500 -> 465 ns).
        known_type = _UTF8_TYPES.get(content_type)
        if known_type is not None:
            size = len(body)
            return [_CONTENT_LENGTHS.get(size) or _content_length(size), known_type]
    key = (status_code, None if body is None else len(body), content_type, charset)
    kept = _HEADER_LISTS.get(key)
    if kept is not None:
        return [*kept]
    raw: list[tuple[bytes, bytes]] = []
    if body is not None and not (status_code < 200 or status_code in (204, 304)):
        size = len(body)
        raw.append(_CONTENT_LENGTHS.get(size) or _content_length(size))
    if content_type is not None:
        type_header = _content_type_header(content_type, charset)
        raw.append(type_header)
        if charset == "utf-8" and len(_UTF8_TYPES) < _KEPT_HEADER_LISTS:
            _UTF8_TYPES[content_type] = type_header
    if len(_HEADER_LISTS) < _KEPT_HEADER_LISTS:
        _HEADER_LISTS[key] = tuple(raw)
    return raw


class Response:
    """A response with its whole body in memory, sent as one start and one body message."""

    media_type: str | None = None
    charset = "utf-8"

    def __init__(
        self,
        content: Any = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        # With fasterapi-server, Response.__init__ is its native copy of this one (_native_init),
        # which calls this one for what it does not write itself: a change here is made there too
        # (tests/test_response_init.py compares the two).
        self.status_code = status_code
        if media_type is not None:
            self.media_type = media_type
        self.background = background
        cls = type(self)
        if (
            headers is None
            and type(content) is str
            and cls.render is _RESPONSE_RENDER
            and cls.init_headers is _RESPONSE_INIT_HEADERS
        ):
            # What render() and init_headers() do for the commonest case, in one call (unless the
            # class has its own).
            charset = self.charset
            encoded = content.encode(charset)
            self.body: bytes | memoryview = encoded
            self.raw_headers = _default_headers(encoded, status_code, self.media_type, charset)
            return
        self.body = self.render(content)
        self.init_headers(headers)

    def render(self, content: Any) -> bytes | memoryview:
        if content is None:
            return b""
        if isinstance(content, bytes):
            return content
        if isinstance(content, memoryview):
            return content.cast("B") if content.c_contiguous else content.tobytes()
        return content.encode(self.charset)  # type: ignore[no-any-return]

    def init_headers(self, headers: Mapping[str, str] | None = None) -> None:
        if headers is None:
            # The common case, without the generic bookkeeping below (same headers, same order).
            self.raw_headers = _default_headers(
                getattr(self, "body", None), self.status_code, self.media_type, self.charset
            )
            return
        raw_headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        keys = [h[0] for h in raw_headers]
        populate_content_length = b"content-length" not in keys
        populate_content_type = b"content-type" not in keys

        body = getattr(self, "body", None)
        status_code = self.status_code
        if (
            body is not None
            and populate_content_length
            and not (status_code < 200 or status_code in (204, 304))
        ):
            raw_headers.append((b"content-length", str(len(body)).encode("latin-1")))

        content_type = self.media_type
        if content_type is not None and populate_content_type:
            if content_type.startswith("text/") and "charset=" not in content_type.lower():
                content_type += "; charset=" + self.charset
            raw_headers.append((b"content-type", content_type.encode("latin-1")))

        self.raw_headers = raw_headers

    @property
    def headers(self) -> MutableHeaders:
        # (no AttributeError raised: see HTTPConnection)
        kept: MutableHeaders | None = getattr(self, "_headers", None)
        if kept is not None:
            return kept
        self._headers: MutableHeaders = MutableHeaders(raw=self.raw_headers)
        return self._headers

    def set_cookie(  # noqa: PLR0917
        self,
        key: str,
        value: str = "",
        max_age: int | None = None,
        expires: datetime | str | int | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
        partitioned: bool = False,
    ) -> None:
        cookie: http.cookies.BaseCookie[str] = http.cookies.SimpleCookie()
        cookie[key] = value
        if max_age is not None:
            cookie[key]["max-age"] = max_age
        if expires is not None:
            if isinstance(expires, datetime):
                cookie[key]["expires"] = format_datetime(expires, usegmt=True)
            else:
                cookie[key]["expires"] = expires
        if path is not None:
            cookie[key]["path"] = path
        if domain is not None:
            cookie[key]["domain"] = domain
        if secure:
            cookie[key]["secure"] = True
        if httponly:
            cookie[key]["httponly"] = True
        if samesite is not None:
            assert samesite.lower() in ("strict", "lax", "none"), (
                "samesite must be either 'strict', 'lax' or 'none'"
            )
            cookie[key]["samesite"] = samesite
        if partitioned:
            if sys.version_info < (3, 14):
                raise ValueError("Partitioned cookies are only supported in Python 3.14 and above.")
            cookie[key]["partitioned"] = True  # pragma: no cover
        cookie_val = cookie.output(header="").strip()
        self.raw_headers.append((b"set-cookie", cookie_val.encode("latin-1")))

    def delete_cookie(  # noqa: PLR0917
        self,
        key: str,
        path: str = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
        partitioned: bool = False,
    ) -> None:
        self.set_cookie(
            key,
            max_age=0,
            expires=0,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
            partitioned=partitioned,
        )

    @staticmethod
    def _websocket_denial_send(send: Send) -> Send:
        """For a response sent on a WebSocket (a denial): the messages of the extension."""

        async def wrapped(message: Message) -> None:
            if message["type"] in ("http.response.start", "http.response.body"):
                message = {**message, "type": "websocket." + message["type"]}
            await send(message)

        return wrapped

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            send = self._websocket_denial_send(send)
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self.body})
        if self.background is not None:
            await self.background()


_RESPONSE_RENDER = Response.render
_RESPONSE_INIT_HEADERS = Response.init_headers


def _native_init() -> Any:
    """Response.__init__ as fasterapi-server writes it natively (None without it): the common case
    (a str, bytes or None body, no headers, the stock render() and init_headers()) in one call, with
    the attributes and headers the Python one gives; any other call goes to the Python one as it was
    made. It saves a request two Python frames (__init__, _default_headers); what that is worth,
    against FastAPI on uvicorn measured in the same run: docs/server.md, "Speed"."""
    try:
        from fasterapi_server._response import NativeInit  # noqa: PLC0415  (no server: the Python one)
    except ImportError:
        return None
    return NativeInit(
        python_init=Response.__init__,
        owner=Response,
        render=_RESPONSE_RENDER,
        init_headers=_RESPONSE_INIT_HEADERS,
        globals=globals(),  # (_UTF8_TYPES, _CONTENT_LENGTHS, _content_length, _default_headers)
    )


if (_init := _native_init()) is not None:
    setattr(Response, "__init__", _init)  # noqa: B010  (a method, to mypy)


class HTMLResponse(Response):
    media_type = "text/html"


class PlainTextResponse(Response):
    media_type = "text/plain"


class JSONResponse(Response):
    """JSON, compact and UTF-8 (not ASCII-escaped); NaN and infinities are refused."""

    media_type = "application/json"

    def __init__(
        self,
        content: Any,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        super().__init__(content, status_code, headers, media_type, background)

    def render(self, content: Any) -> bytes:
        # What json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None,
        # separators=(",", ":")).encode() does, written by the server's native writer limited to
        # the stdlib's types (the same bytes, the same errors), unless json.dumps was patched.
        if json.dumps is _JSON_DUMPS:
            return (_native_dumps or _load_native_dumps())(content, stdlib=True)
        return json.dumps(
            content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
        ).encode("utf-8")


_JSON_DUMPS = json.dumps
_JSON_RENDER = JSONResponse.render
_native_dumps: Callable[..., bytes] | None = None
_native_dumps_plain: Callable[..., bytes | None] | None = None
_native_dumps_model: Callable[[Any, dict[str, tuple[bytes, int]]], bytes | None] | None = None


def _load_native_dumps() -> Callable[..., bytes]:
    # On first use: importing fasterapi alone does not import the server.
    global _native_dumps, _native_dumps_plain, _native_dumps_model  # noqa: PLW0603
    from fasterapi_server import json as native  # noqa: PLC0415

    _native_dumps = native.dumps
    _native_dumps_plain = native.dumps_plain
    # (a server older than dumps_model has none: the serializer writes every model)
    _native_dumps_model = getattr(native, "dumps_model", None)
    return native.dumps


def plain_json_response(content: Any, status_code: int = 200) -> Response | None:
    """`JSONResponse(jsonable_encoder(content), status_code)` in one pass, when `content` is plain
    JSON data (exactly dict with str keys, list, tuple, str, int, float, bool, None: what
    jsonable_encoder gives back as it is); None for anything else, which takes that long way."""
    if json.dumps is not _JSON_DUMPS or JSONResponse.render is not _JSON_RENDER:
        return None
    if _native_dumps_plain is None:
        _load_native_dumps()
    body = _native_dumps_plain(content)  # type: ignore[misc]
    return None if body is None else json_bytes_response(body, status_code)


# Floats whose text has differed between pydantic-core's writers (before its 2026 one: "1e16" where
# repr() and later ones write "1e+16"), and ordinary ones.
_FLOAT_PROBES = [1e16, 1.2345678901234568e16, 1e22, 1.7976931348623157e308, 1e15, 0.0001, 123456.789, 0.1]


@functools.cache
def native_writes_as_pydantic() -> bool:
    """Whether plain_model_json_response() gives this pydantic-core's bytes: checked once, on floats,
    the one type whose text has differed between their versions (no server, or one without the
    pydantic mode: no)."""
    from pydantic import TypeAdapter  # noqa: PLC0415 (a route with a response model asks, once)

    try:
        if _native_dumps_plain is None:
            _load_native_dumps()
        written = _native_dumps_plain(_FLOAT_PROBES, pydantic=True)  # type: ignore[misc]
    except (ImportError, TypeError):
        return False
    return bool(written == TypeAdapter(list[Any]).dump_json(_FLOAT_PROBES))


def native_model_dumper() -> Callable[[Any, dict[str, tuple[bytes, int]]], bytes | None] | None:
    """fasterapi_server.json.dumps_model, where native_writes_as_pydantic() and the server has it
    (else None): the bytes a plain model's serializer writes (see
    fasterapi._compat.model_dump_fields), or None."""
    if not native_writes_as_pydantic():
        return None
    if _native_dumps_model is None:
        _load_native_dumps()
    return _native_dumps_model


def plain_model_json_response(content: Any, status_code: int = 200) -> Response | None:
    """The response of a response model that takes plain JSON data as it is (`dict[str, Any]`,
    `list`, `Any`...: `fasterapi._compat.plain_json_types`), when `content` is such data: the bytes
    pydantic-core's serializer writes (where native_writes_as_pydantic()), without validating and
    serializing through it; None for anything else, which goes that way."""
    if _native_dumps_plain is None:
        _load_native_dumps()
    body = _native_dumps_plain(content, pydantic=True)  # type: ignore[misc]
    return None if body is None else json_bytes_response(body, status_code)


def native_json_shape(
    shape: Callable[..., Response],
    rest: Callable[[Any, Any], Response],
    status_code: int,
    *,
    plain_types: tuple[type, ...] | None = None,
    model_type: type | None = None,
    model_fields: dict[str, tuple[bytes, int]] | None = None,
    dumps_model: Callable[[Any, dict[str, tuple[bytes, int]]], bytes | None] | None = None,
    dump_model: Callable[[Any], bytes] | None = None,
    stdlib: bool = False,
    guards: tuple[tuple[Any, str, Any], ...] = (),
) -> Callable[..., Response] | None:
    """A route's `shape(raw, request, background=None, sub=None)` with its common cases written
    natively, when the server has fasterapi_server._response.JsonShape (else None).

    Without background tasks or a sub-response: where `stdlib` (a route without a response model),
    any result is written as plain_json_response() writes it, while json.dumps and
    JSONResponse.render are the stock ones; else a result of `plain_types` (empty: any) as
    plain_model_json_response() writes it, and an instance of exactly `model_type` with
    `dumps_model(raw, model_fields)`'s bytes (native_model_dumper()), or `dump_model(raw)`'s where
    that gives up. The response is json_bytes_response()'s. What the writer gives up on, and any
    other result, goes to `rest(raw, request)`, the rest of shape's way; a Response, other
    arguments, and a function patched (the caller's `guards`: (module or class, name, value); with
    plain data, this module's json_bytes_response) go to `shape` itself. It saves a `GET /json`
    request three Python frames and `GET /users/42` two; what that is worth, against FastAPI on
    uvicorn measured in the same run: docs/server.md, "Speed"."""
    if type(status_code) is not int or not (stdlib or plain_types is not None or model_type is not None):
        return None  # (JsonShape keeps an int status; and nothing here to write natively)
    try:
        from fasterapi_server._response import JsonShape  # type: ignore[attr-defined, unused-ignore]  # noqa: PLC0415
    except ImportError:  # no server, or one without it
        return None
    if _native_dumps_plain is None:
        _load_native_dumps()
    if stdlib or plain_types is not None:  # (plain_json_response and plain_model_json_response's)
        guards = ((sys.modules[__name__], "json_bytes_response", json_bytes_response), *guards)
    if stdlib:
        plain_types = ()
        guards = ((json, "dumps", _JSON_DUMPS), (JSONResponse, "render", _JSON_RENDER), *guards)
    return JsonShape(
        shape=shape,
        rest=rest,
        status_code=status_code,
        pydantic=not stdlib,
        plain_types=plain_types,
        model_type=model_type,  # (model_fields, dumps_model, dump_model: read with it only)
        model_fields=model_fields,
        dumps_model=dumps_model,
        dump_model=dump_model,
        guards=guards,
        globals=globals(),
    )


_JSON_TYPE = (b"content-type", b"application/json")
_new_object = object.__new__  # (Response.__new__, read from a global: a class attribute is read in full)


def json_bytes_response(body: bytes, status_code: int = 200) -> Response:
    """`Response(body, status_code, media_type="application/json")` for a body already
    serialized, built without the generic path (the same attributes and headers). The headers are
    _default_headers()'s, written out: calling it took this function from 209 to 275 ns."""
    response = _new_object(Response)
    response.status_code = status_code
    response.media_type = "application/json"
    response.background = None
    response.body = body
    if status_code < 200 or status_code in (204, 304):
        response.raw_headers = [_JSON_TYPE]
    else:
        size = len(body)
        response.raw_headers = [_CONTENT_LENGTHS.get(size) or _content_length(size), _JSON_TYPE]
    return response


class UJSONResponse(JSONResponse):
    """JSON rendered by `ujson` (an optional dependency: `pip install ujson`)."""

    def render(self, content: Any) -> bytes:
        try:
            import ujson  # type: ignore[import-untyped]  # noqa: PLC0415
        except ModuleNotFoundError:
            raise AssertionError("ujson must be installed to use UJSONResponse") from None
        return ujson.dumps(content, ensure_ascii=False).encode("utf-8")  # type: ignore[no-any-return]


class ORJSONResponse(JSONResponse):
    """JSON rendered by `orjson` (an optional dependency: `pip install orjson`), non-str keys and
    numpy arrays included."""

    def render(self, content: Any) -> bytes:
        try:
            import orjson  # type: ignore[import-not-found, unused-ignore]  # noqa: PLC0415
        except ModuleNotFoundError:
            raise AssertionError("orjson must be installed to use ORJSONResponse") from None
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY)  # type: ignore[no-any-return, unused-ignore]


class RedirectResponse(Response):
    """A redirect (307 by default) to `url`, percent-encoded where it must be."""

    def __init__(
        self,
        url: str | URL,
        status_code: int = 307,
        headers: Mapping[str, str] | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        super().__init__(content=b"", status_code=status_code, headers=headers, background=background)
        self.headers["location"] = quote(str(url), safe=":/%#?=@[]!$&'()*+,;")


Content = str | bytes | memoryview
SyncContentStream = Iterable[Content]
AsyncContentStream = AsyncIterable[Content]
ContentStream = AsyncContentStream | SyncContentStream


def _spec_version(scope: Scope) -> tuple[int, ...]:
    return tuple(map(int, scope.get("asgi", {}).get("spec_version", "2.0").split(".")))


class StreamingResponse(Response):
    """A body from an iterator (a blocking one runs in the thread pool), sent as it comes.

    Before ASGI 2.4, a disconnect is watched for concurrently and stops the stream; from 2.4 on,
    the server reports it as an `OSError` from `send`, which becomes `ClientDisconnect`.
    """

    body_iterator: AsyncContentStream

    def __init__(
        self,
        content: ContentStream,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        if isinstance(content, AsyncIterable):
            self.body_iterator = content
        else:
            self.body_iterator = iterate_in_threadpool(content)
        self.status_code = status_code
        self.media_type = self.media_type if media_type is None else media_type
        self.background = background
        self.init_headers(headers)

    async def listen_for_disconnect(self, receive: Receive) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break

    async def stream_response(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        charset = self.charset
        async for chunk in self.body_iterator:
            if not isinstance(chunk, bytes | memoryview):
                chunk = chunk.encode(charset)  # noqa: PLW2901
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self.stream_response(self._websocket_denial_send(send))
        elif _spec_version(scope) >= (2, 4):
            try:
                await self.stream_response(send)
            except OSError:
                raise ClientDisconnect() from None
        else:
            await _run_until_first_done(
                partial(self.stream_response, send), partial(self.listen_for_disconnect, receive)
            )
        if self.background is not None:
            await self.background()


async def _run_until_first_done(
    main: Callable[[], Awaitable[None]], watcher: Callable[[], Awaitable[None]]
) -> None:
    """Runs both; when either returns, the other is cancelled. A single exception propagates
    as itself, not in a group."""
    try:
        async with anyio.create_task_group() as task_group:

            async def run(func: Callable[[], Awaitable[None]]) -> None:
                await func()
                task_group.cancel_scope.cancel()

            task_group.start_soon(run, main)
            await run(watcher)
    except BaseExceptionGroup as group:
        if len(group.exceptions) != 1:
            raise
        exc = group.exceptions[0]
        context = None if exc.__suppress_context__ else exc.__context__
        raise exc from exc.__cause__ or context


class MalformedRangeHeader(Exception):
    def __init__(self, content: str = "Malformed range header.") -> None:
        self.content = content


class RangeNotSatisfiable(Exception):
    def __init__(self, max_size: int) -> None:
        self.max_size = max_size


class FileResponse(Response):
    """A file from disk, with Last-Modified, ETag, HEAD, and byte ranges (one range is a 206 with
    Content-Range; several are a multipart/byteranges 206)."""

    chunk_size = 64 * 1024
    max_ranges = 100

    def __init__(  # noqa: PLR0917
        self,
        path: str | os.PathLike[str],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
        filename: str | None = None,
        stat_result: os.stat_result | None = None,
        content_disposition_type: str = "attachment",
    ) -> None:
        self.path = path
        self.status_code = status_code
        self.filename = filename
        if media_type is None:
            media_type = guess_type(filename or path)[0] or "application/octet-stream"
        self.media_type = media_type
        self.background = background
        self.init_headers(headers)
        self.headers.setdefault("accept-ranges", "bytes")
        if self.filename is not None:
            quoted = quote(self.filename)
            if quoted != self.filename:
                disposition = f"{content_disposition_type}; filename*=utf-8''{quoted}"
            else:
                disposition = f'{content_disposition_type}; filename="{self.filename}"'
            self.headers.setdefault("content-disposition", disposition)
        self.stat_result = stat_result
        if stat_result is not None:
            self.set_stat_headers(stat_result)

    def set_stat_headers(self, stat_result: os.stat_result) -> None:
        etag_base = f"{stat_result.st_mtime}-{stat_result.st_size}"
        etag = f'"{hashlib.md5(etag_base.encode(), usedforsecurity=False).hexdigest()}"'
        self.headers.setdefault("content-length", str(stat_result.st_size))
        self.headers.setdefault("last-modified", formatdate(stat_result.st_mtime, usegmt=True))
        self.headers.setdefault("etag", etag)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope_type = scope["type"]
        send_header_only = scope_type == "http" and scope["method"].upper() == "HEAD"
        send_pathsend = scope_type == "http" and "http.response.pathsend" in scope.get("extensions", {})
        if scope_type == "websocket":
            send = self._websocket_denial_send(send)

        if self.stat_result is None:
            try:
                stat_result = await anyio.to_thread.run_sync(os.stat, self.path)
            except FileNotFoundError:
                raise RuntimeError(f"File at path {self.path} does not exist.") from None
            self.set_stat_headers(stat_result)
            if not stat.S_ISREG(stat_result.st_mode):
                raise RuntimeError(f"File at path {self.path} is not a file.")
        else:
            stat_result = self.stat_result

        headers = Headers(scope=scope)
        http_range = headers.get("range")
        http_if_range = headers.get("if-range")

        send_file: Callable[[], Awaitable[None]]
        if (
            self.status_code != 200
            or http_range is None
            or (scope_type == "http" and scope["method"].upper() not in ("GET", "HEAD"))
            or (http_if_range is not None and not self._should_use_range(http_if_range))
        ):
            send_file = partial(self._handle_simple, send, send_header_only, send_pathsend)
        else:
            try:
                ranges = self._parse_range_header(http_range, stat_result.st_size)
            except MalformedRangeHeader as exc:
                return await PlainTextResponse(exc.content, status_code=400)(scope, receive, send)
            except RangeNotSatisfiable as exc:
                response = PlainTextResponse(
                    status_code=416, headers={"Content-Range": f"bytes */{exc.max_size}"}
                )
                return await response(scope, receive, send)
            if len(ranges) == 0:
                send_file = partial(self._handle_simple, send, send_header_only, send_pathsend)
            elif len(ranges) == 1:
                start, end = ranges[0]
                send_file = partial(
                    self._handle_single_range, send, start, end, stat_result.st_size, send_header_only
                )
                send_pathsend = False
            else:
                send_file = partial(
                    self._handle_multiple_ranges, send, ranges, stat_result.st_size, send_header_only
                )
                send_pathsend = False

        if scope_type != "http" or send_header_only or send_pathsend or _spec_version(scope) >= (2, 4):
            await send_file()
        else:
            await _run_until_first_done(send_file, partial(self._wait_for_disconnect, receive))

        if self.background is not None:
            await self.background()

    @staticmethod
    async def _wait_for_disconnect(receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    @asynccontextmanager
    async def _open_file(self) -> AsyncIterator[anyio.AsyncFile[bytes]]:
        file = await anyio.open_file(self.path, mode="rb")
        try:
            yield file
        finally:
            # Closing must complete even when the transfer is cancelled.
            with anyio.CancelScope(shield=True):
                await file.aclose()

    async def _handle_simple(self, send: Send, send_header_only: bool, send_pathsend: bool) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        if send_header_only:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        elif send_pathsend:
            await send({"type": "http.response.pathsend", "path": str(self.path)})
        else:
            async with self._open_file() as file:
                more_body = True
                while more_body:
                    chunk = await file.read(self.chunk_size)
                    more_body = len(chunk) == self.chunk_size
                    await send({"type": "http.response.body", "body": chunk, "more_body": more_body})

    async def _handle_single_range(
        self, send: Send, start: int, end: int, file_size: int, send_header_only: bool
    ) -> None:
        headers = MutableHeaders(raw=list(self.raw_headers))
        headers["content-range"] = f"bytes {start}-{end - 1}/{file_size}"
        headers["content-length"] = str(end - start)
        await send({"type": "http.response.start", "status": 206, "headers": headers.raw})
        if send_header_only:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        async with self._open_file() as file:
            await file.seek(start)
            more_body = True
            while more_body:
                chunk = await file.read(min(self.chunk_size, end - start))
                start += len(chunk)
                more_body = len(chunk) == self.chunk_size and start < end
                await send({"type": "http.response.body", "body": chunk, "more_body": more_body})

    async def _handle_multiple_ranges(
        self, send: Send, ranges: list[tuple[int, int]], file_size: int, send_header_only: bool
    ) -> None:
        # About the entropy browsers put in their own boundaries (13 bytes).
        boundary = token_hex(13)
        content_length, part_header = self.generate_multipart(
            ranges, boundary, file_size, self.headers["content-type"]
        )
        headers = MutableHeaders(raw=list(self.raw_headers))
        headers["content-type"] = f"multipart/byteranges; boundary={boundary}"
        headers["content-length"] = str(content_length)
        await send({"type": "http.response.start", "status": 206, "headers": headers.raw})
        if send_header_only:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        async with self._open_file() as file:
            for start, end in ranges:
                await send({"type": "http.response.body", "body": part_header(start, end), "more_body": True})
                await file.seek(start)
                while start < end:
                    chunk = await file.read(min(self.chunk_size, end - start))
                    if not chunk:
                        raise RuntimeError(f"File at path {self.path} is shorter than expected.")
                    start += len(chunk)  # noqa: PLW2901
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b"\r\n", "more_body": True})
            await send(
                {
                    "type": "http.response.body",
                    "body": f"--{boundary}--".encode("latin-1"),
                    "more_body": False,
                }
            )

    def _should_use_range(self, http_if_range: str) -> bool:
        if http_if_range.startswith("W/"):
            return False
        return http_if_range in (self.headers["last-modified"], self.headers["etag"])

    @classmethod
    def _parse_range_header(cls, http_range: str, file_size: int) -> list[tuple[int, int]]:
        units, sep, range_ = http_range.partition("=")
        if not sep:
            raise MalformedRangeHeader()
        if units.strip().lower() != "bytes":
            raise MalformedRangeHeader("Only support bytes range")
        if range_.count(",") + 1 > cls.max_ranges:
            # Too many ranges: the whole file is sent instead.
            return []
        ranges = cls._parse_ranges(range_, file_size)
        if len(ranges) == 0:
            raise MalformedRangeHeader("Range header: range must be requested")
        if any(not (0 <= start < file_size) for start, _ in ranges):
            raise RangeNotSatisfiable(file_size)
        if any(start >= end for start, end in ranges):
            raise MalformedRangeHeader("Range header: start must be less than end")
        if len(ranges) == 1:
            return ranges
        ranges.sort()
        merged: list[tuple[int, int]] = [ranges[0]]
        for start, end in ranges[1:]:
            last_start, last_end = merged[-1]
            if start <= last_end:
                merged[-1] = (last_start, max(last_end, end))
            else:
                merged.append((start, end))
        return merged

    @classmethod
    def _parse_ranges(cls, range_: str, file_size: int) -> list[tuple[int, int]]:
        ranges: list[tuple[int, int]] = []
        for raw_part in range_.split(","):
            part = raw_part.strip()
            # Empty parts, a lone "-" and parts without "-" are ignored.
            if not part or part == "-" or "-" not in part:
                continue
            start_str, end_str = (s.strip() for s in part.split("-", 1))
            try:
                if start_str:
                    start = int(start_str)
                    end = int(end_str) + 1 if end_str and int(end_str) < file_size else file_size
                else:
                    # A suffix range: the last N bytes.
                    start = max(file_size - int(end_str), 0)
                    end = file_size
            except ValueError:
                continue
            ranges.append((start, end))
        return ranges

    def generate_multipart(
        self,
        ranges: Sequence[tuple[int, int]],
        boundary: str,
        max_size: int,
        content_type: str,
    ) -> tuple[int, Callable[[int, int], bytes]]:
        """The length of a multipart/byteranges body, and a function giving each part's header:

        ``--{boundary}\\r\\nContent-Type: {type}\\r\\n``
        ``Content-Range: bytes {start}-{end-1}/{size}\\r\\n\\r\\n``, then the bytes and ``\\r\\n``;
        the body ends with ``--{boundary}--``.
        """

        def part_header(start: int, end: int) -> bytes:
            return (
                f"--{boundary}\r\nContent-Type: {content_type}\r\n"
                f"Content-Range: bytes {start}-{end - 1}/{max_size}\r\n\r\n"
            ).encode("latin-1")

        length = sum(len(part_header(start, end)) + (end - start) + 2 for start, end in ranges)
        length += len(boundary) + 4
        return length, part_header


def __getattr__(name: str) -> Any:
    # `fasterapi.responses.EventSourceResponse`, as FastAPI exports it; `fasterapi.sse` builds on
    # this module, so it is imported on first use.
    if name == "EventSourceResponse":
        from .sse import EventSourceResponse  # noqa: PLC0415

        return EventSourceResponse
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
