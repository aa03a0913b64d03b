"""The incoming side of a connection: `HTTPConnection`, and `Request` for HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Awaitable, Generator, Iterator, Mapping
from contextlib import aclosing
from http import cookies as http_cookies
from typing import TYPE_CHECKING, Any, Generic, NoReturn, Protocol, cast

import anyio
from pydantic_core import from_json as _from_json
from typing_extensions import TypeVar

from .datastructures import URL, Address, FormData, Headers, QueryParams, State
from .exceptions import HTTPException
from .types import Message, Receive, Scope, Send

if TYPE_CHECKING:
    from .middleware.asyncexitstack import RequestStack

StateT = TypeVar("StateT", bound="Mapping[str, Any] | State", default=State)

__all__ = ["ClientDisconnect", "HTTPConnection", "Request", "StateT", "cookie_parser"]

SERVER_PUSH_HEADERS_TO_COPY = {"accept", "accept-encoding", "accept-language", "cache-control", "user-agent"}


def cookie_parser(cookie_string: str) -> dict[str, str]:
    """Parses a Cookie header the lenient way browsers send it (not RFC 6265's strict grammar):
    a chunk without "=" is a value with an empty name; values are unquoted as Python's
    `http.cookies` does."""
    cookie_dict: dict[str, str] = {}
    for chunk in cookie_string.split(";"):
        if "=" in chunk:
            key, val = chunk.split("=", 1)
        else:
            key, val = "", chunk
        key, val = key.strip(), val.strip()
        if key or val:
            cookie_dict[key] = http_cookies._unquote(val)
    return cookie_dict


def _json_loads(body: bytes) -> Any:
    """`json.loads(body)`. pydantic-core's parser tried first gives the same values where it
    succeeds (it is stricter: lone surrogates, a BOM, other encodings, every error), and
    `json.loads` decides all the rest, its errors included."""
    loads = json.loads
    if loads is _JSON_LOADS:  # not patched (tests patch it to make the body fail)
        try:
            return _from_json(body)
        except ValueError:
            pass
    return loads(body)


_JSON_LOADS = json.loads
_NOT_READ: Any = object()  # (the body's JSON may be None)


class ClientDisconnect(Exception):
    """The client went away while the request body was being read."""


class HTTPConnection(Mapping[str, Any], Generic[StateT]):
    """What HTTP requests and WebSockets have in common; a read-only mapping over the scope.

    Every property is computed on first use and kept, and looked up with `getattr(self, name,
    None)`: a request reads most of them once, and an AttributeError raised and caught there cost
    about a microsecond each (a missing attribute with a default raises nothing).
    """

    def __init__(self, scope: Scope, receive: Receive | None = None) -> None:
        assert scope["type"] in ("http", "websocket")
        self.scope = scope

    def __getitem__(self, key: str) -> Any:
        return self.scope[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.scope)

    def __len__(self) -> int:
        return len(self.scope)

    # Two connections are equal only if they are the same object.
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    @property
    def app(self) -> Any:
        return self.scope["app"]

    @property
    def url(self) -> URL:
        kept: URL | None = getattr(self, "_url", None)
        if kept is not None:
            return kept
        self._url: URL = URL(scope=self.scope)
        return self._url

    @property
    def base_url(self) -> URL:
        kept: URL | None = getattr(self, "_base_url", None)
        if kept is not None:
            return kept
        base_scope = dict(self.scope)
        # Inside a mount, root_path is the mount's; the base URL (of url_for) is the app's.
        app_root_path = base_scope.get("app_root_path", base_scope.get("root_path", ""))
        path = app_root_path if app_root_path.endswith("/") else app_root_path + "/"
        base_scope["path"] = path
        base_scope["query_string"] = b""
        base_scope["root_path"] = app_root_path
        self._base_url: URL = URL(scope=base_scope)
        return self._base_url

    @property
    def headers(self) -> Headers:
        kept: Headers | None = getattr(self, "_headers", None)
        if kept is not None:
            return kept
        self._headers: Headers = Headers(scope=self.scope)
        return self._headers

    def _header_value(self, name: str) -> str | None:
        """`self.headers.get(name)` (`name` in lower case): the framework's own reads of one
        header go through here, which a connection that can tell it without building its headers
        may answer directly (a server's own Request)."""
        found: str | None = self.headers.get(name)
        return found

    @property
    def query_params(self) -> QueryParams:
        kept: QueryParams | None = getattr(self, "_query_params", None)
        if kept is not None:
            return kept
        self._query_params: QueryParams = QueryParams(self.scope["query_string"])
        return self._query_params

    @property
    def path_params(self) -> dict[str, Any]:
        path_params: dict[str, Any] = self.scope.get("path_params", {})
        return path_params

    @property
    def cookies(self) -> dict[str, str]:
        kept: dict[str, str] | None = getattr(self, "_cookies", None)
        if kept is not None:
            return kept
        cookies: dict[str, str] = {}
        for name, value in self.headers._list:
            if name == b"cookie":
                cookies.update(cookie_parser(value.decode("latin-1")))
        self._cookies: dict[str, str] = cookies
        return cookies

    @property
    def client(self) -> Address | None:
        host_port = self.scope.get("client")
        if host_port is not None:
            return Address(*host_port)
        return None

    @property
    def session(self) -> dict[str, Any]:
        assert "session" in self.scope, "SessionMiddleware must be installed to access request.session"
        session = self.scope["session"]
        mark_accessed = getattr(session, "mark_accessed", None)
        if mark_accessed is not None:
            mark_accessed()
        return cast(dict[str, Any], session)

    @property
    def auth(self) -> Any:
        assert "auth" in self.scope, "AuthenticationMiddleware must be installed to access request.auth"
        return self.scope["auth"]

    @property
    def user(self) -> Any:
        assert "user" in self.scope, "AuthenticationMiddleware must be installed to access request.user"
        return self.scope["user"]

    @property
    def state(self) -> StateT:
        kept = getattr(self, "_state", None)
        if kept is not None:
            return cast(StateT, kept)
        self.scope.setdefault("state", {})
        self._state: State = State(self.scope["state"])
        return cast(StateT, self._state)

    def url_for(self, name: str, /, **path_params: Any) -> URL:
        provider = self.scope.get("router") or self.scope.get("app")
        if provider is None:
            raise RuntimeError(
                "The `url_for` method can only be used inside an application or with a router."
            )
        url_path = provider.url_path_for(name, **path_params)
        return cast(URL, url_path.make_absolute_url(base_url=self.base_url))


async def empty_receive() -> NoReturn:
    raise RuntimeError("Receive channel has not been made available")


async def empty_send(message: Message) -> NoReturn:
    raise RuntimeError("Send channel has not been made available")


_T_co = TypeVar("_T_co", covariant=True)


class AwaitableOrContextManager(Awaitable[_T_co], Protocol[_T_co]):
    """Awaited, gives the value; used with `async with`, also closes it on exit."""

    async def __aenter__(self) -> _T_co: ...

    async def __aexit__(self, *args: Any) -> bool | None: ...


class _FormAwaitable:
    __slots__ = ("aw", "entered")

    def __init__(self, aw: Awaitable[FormData]) -> None:
        self.aw = aw

    def __await__(self) -> Generator[Any, None, FormData]:
        return self.aw.__await__()

    async def __aenter__(self) -> FormData:
        self.entered: FormData = await self.aw
        return self.entered

    async def __aexit__(self, *args: Any) -> None:
        await self.entered.close()


class Request(HTTPConnection[StateT]):
    """An HTTP request: the scope, plus the body read from `receive`."""

    # Until they change, read from the class: a request (one or more per HTTP request) sets less.
    _form: FormData | None = None
    _stream_consumed = False
    _is_disconnected = False
    # The exit stack in the scope (under the default stack's name) that the app's one-coroutine
    # path (`fasterapi.applications._serve`) closes after the response, when it made one.
    _exit_stack: RequestStack | None = None

    def __init__(self, scope: Scope, receive: Receive = empty_receive, send: Send = empty_send) -> None:
        assert scope["type"] == "http"
        self.scope = scope
        self._receive = receive
        self._send = send

    @property
    def method(self) -> str:
        return cast(str, self.scope["method"])

    @property
    def receive(self) -> Receive:
        return self._receive

    async def stream(self) -> AsyncGenerator[bytes, None]:
        """The body, chunk by chunk as it arrives, then a final `b""`. Once only, unless `body()`
        has read it already."""
        if hasattr(self, "_body"):
            yield self._body
            yield b""
            return
        if self._stream_consumed:
            raise RuntimeError("Stream consumed")
        while not self._stream_consumed:
            message = await self._receive()
            if message["type"] == "http.request":
                body = message.get("body", b"")
                if not message.get("more_body", False):
                    self._stream_consumed = True
                if body:
                    yield body
            elif message["type"] == "http.disconnect":
                self._is_disconnected = True
                raise ClientDisconnect()
        yield b""

    async def body(self) -> bytes:
        """The whole body (read once, then kept)."""
        kept: bytes | None = getattr(self, "_body", None)
        if kept is not None:
            return kept
        # The common case, a body in one message, without an async generator.
        if not self._stream_consumed:
            message = await self._receive()
            if message["type"] == "http.request" and not message.get("more_body", False):
                self._stream_consumed = True
                self._body: bytes = bytes(message.get("body", b""))
                return self._body
            chunks: list[bytes] = []
            if message["type"] == "http.disconnect":
                self._is_disconnected = True
                raise ClientDisconnect()
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):  # pragma: no cover - handled above
                self._stream_consumed = True
            async with aclosing(self.stream()) as stream:
                async for chunk in stream:
                    chunks.append(chunk)
            self._body = b"".join(chunks)
            return self._body
        async with aclosing(self.stream()) as stream:
            chunks = [chunk async for chunk in stream]
        self._body = b"".join(chunks)
        return self._body

    async def json(self) -> Any:
        """The body parsed as JSON (parsed once, then kept)."""
        kept = getattr(self, "_json", _NOT_READ)
        if kept is not _NOT_READ:
            return kept
        self._json: Any = _json_loads(await self.body())
        return self._json

    async def _get_form(
        self,
        *,
        max_files: int | float = 1000,
        max_fields: int | float = 1000,
        max_part_size: int = 1024 * 1024,
    ) -> FormData:
        if self._form is None:
            from ._formparsers import FormParser, MultiPartException, MultiPartParser, parse_options_header  # noqa: PLC0415

            content_type, _ = parse_options_header(self.headers.get("Content-Type"))
            parser: FormParser | MultiPartParser
            try:
                if content_type == b"multipart/form-data":
                    async with aclosing(self.stream()) as stream:
                        parser = MultiPartParser(
                            self.headers,
                            stream,
                            max_files=max_files,
                            max_fields=max_fields,
                            max_part_size=max_part_size,
                        )
                        self._form = await parser.parse()
                elif content_type == b"application/x-www-form-urlencoded":
                    async with aclosing(self.stream()) as stream:
                        parser = FormParser(
                            self.headers, stream, max_fields=max_fields, max_part_size=max_part_size
                        )
                        self._form = await parser.parse()
                else:
                    self._form = FormData()
            except MultiPartException as exc:
                if "app" in self.scope:
                    raise HTTPException(status_code=400, detail=exc.message) from exc
                raise
        return self._form

    def form(
        self,
        *,
        max_files: int | float = 1000,
        max_fields: int | float = 1000,
        max_part_size: int = 1024 * 1024,
    ) -> AwaitableOrContextManager[FormData]:
        """The form of the body (url-encoded or multipart): `await request.form()`, or
        `async with request.form() as form:` to close its files on exit."""
        return cast(
            AwaitableOrContextManager[FormData],
            _FormAwaitable(
                self._get_form(max_files=max_files, max_fields=max_fields, max_part_size=max_part_size)
            ),
        )

    async def close(self) -> None:
        if self._form is not None:
            await self._form.close()

    async def is_disconnected(self) -> bool:
        """Whether the client has gone; does not wait for a message that is not there yet."""
        if not self._is_disconnected:
            message: Message = {}
            with anyio.CancelScope() as cs:
                cs.cancel()
                message = await self._receive()
            if message.get("type") == "http.disconnect":
                self._is_disconnected = True
        return self._is_disconnected

    async def send_push_promise(self, path: str) -> None:
        """An HTTP/2 server push of `path`, if the server supports it; otherwise nothing."""
        if "http.response.push" in self.scope.get("extensions", {}):
            raw_headers: list[tuple[bytes, bytes]] = []
            for name in SERVER_PUSH_HEADERS_TO_COPY:
                for value in self.headers.getlist(name):
                    raw_headers.append((name.encode("latin-1"), value.encode("latin-1")))
            await self._send({"type": "http.response.push", "path": path, "headers": raw_headers})

    async def send_early_hints(self, link: str, /, *additional_links: str) -> None:
        """A 103 Early Hints response with these Link headers, if the server supports it."""
        if "http.response.early_hint" in self.scope.get("extensions", {}):
            links = [value.encode("latin-1") for value in (link, *additional_links)]
            await self._send({"type": "http.response.early_hint", "links": links})
