"""The routing layer under the FastAPI one: routes, mounts, hosts and the `Router` that
dispatches among them.

Matching semantics are "first match in registration order": the first route that fully
matches (path and method) handles the request; failing that, the first that matches the path
only (a 405); failing that, with `redirect_slashes`, a redirect to the path with its trailing
slash toggled if any route matches that; failing that, `default` (a 404).

Dispatch goes through `fasterapi_router` (a radix tree) compiled lazily from `routes` and
recompiled when the list changes. The radix tree ranks routes by specificity, not by order, so
it is used to find the candidate, and order is restored exactly: for each route the compiler
keeps the earlier routes whose patterns might match a path it matches ("shadows", computed
conservatively), and those are tried first, in order, through their own `matches()`. Routes the
tree cannot express (custom convertors, `Host`, other `BaseRoute` subclasses, a subclass that
overrides `matches()` without declaring `dispatch_by_path = True`) are opaque: they shadow every
later route and are tried in order on a miss. Requests whose path the tree and a regular
expression could see differently (a newline, a very long path), and 405 misses, take the
linear scan, which is the reference semantics.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import math
import re
import traceback
import types
import uuid
import warnings
from collections.abc import Awaitable, Callable, Collection, Generator, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager, asynccontextmanager
from enum import Enum
from re import Pattern
from typing import Any, ClassVar, Generic, TypeVar, cast

import fasterapi_router

from .concurrency import is_async_callable, run_in_threadpool
from .datastructures import URL, Headers, URLPath, parse_host_header
from .exceptions import HTTPException
from .middleware import Middleware
from .middleware.exceptions import wrap_app_handling_exceptions
from .requests import Request
from .responses import PlainTextResponse, RedirectResponse, Response
from .types import ASGIApp, Lifespan, Receive, Scope, Send
from .websockets import WebSocket, WebSocketClose

__all__ = [
    "CONVERTOR_TYPES",
    "BaseRoute",
    "Convertor",
    "FloatConvertor",
    "Host",
    "IntegerConvertor",
    "Match",
    "Mount",
    "NoMatchFound",
    "PathConvertor",
    "Route",
    "Router",
    "StringConvertor",
    "UUIDConvertor",
    "WebSocketRoute",
    "compile_path",
    "get_name",
    "get_route_path",
    "register_url_convertor",
    "request_response",
    "websocket_session",
]

T = TypeVar("T")

# --------------------------------------------------------------------------- convertors


class Convertor(Generic[T]):
    """Converts a path parameter: `regex` matches it, `convert` parses it, `to_string` formats it."""

    regex: ClassVar[str] = ""

    def convert(self, value: str) -> T:
        raise NotImplementedError()  # pragma: no cover

    def to_string(self, value: T) -> str:
        raise NotImplementedError()  # pragma: no cover


class StringConvertor(Convertor[str]):
    regex = "[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        value = str(value)
        assert "/" not in value, "May not contain path separators"
        assert value, "Must not be empty"
        return value


class PathConvertor(Convertor[str]):
    regex = ".*"

    def convert(self, value: str) -> str:
        return str(value)

    def to_string(self, value: str) -> str:
        return str(value)


class IntegerConvertor(Convertor[int]):
    regex = "[0-9]+"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        value = int(value)
        assert value >= 0, "Negative integers are not supported"
        return str(value)


class FloatConvertor(Convertor[float]):
    regex = r"[0-9]+(\.[0-9]+)?"

    def convert(self, value: str) -> float:
        return float(value)

    def to_string(self, value: float) -> str:
        value = float(value)
        assert not math.isnan(value), "NaN values are not supported"
        assert not math.isinf(value), "Infinite values are not supported"
        assert value >= 0.0, "Negative floats are not supported"
        return ("%0.20f" % value).rstrip("0").rstrip(".")  # noqa: UP031


class UUIDConvertor(Convertor[uuid.UUID]):
    regex = "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"

    def convert(self, value: str) -> uuid.UUID:
        return uuid.UUID(value)

    def to_string(self, value: uuid.UUID) -> str:
        return str(value)


CONVERTOR_TYPES: dict[str, Convertor[Any]] = {
    "str": StringConvertor(),
    "path": PathConvertor(),
    "int": IntegerConvertor(),
    "float": FloatConvertor(),
    "uuid": UUIDConvertor(),
}

# The convertors the radix tree implements itself, by name and class.
_NATIVE_CONVERTORS: dict[str, type[Convertor[Any]]] = {
    "str": StringConvertor,
    "path": PathConvertor,
    "int": IntegerConvertor,
    "float": FloatConvertor,
    "uuid": UUIDConvertor,
}


def register_url_convertor(key: str, convertor: Convertor[Any]) -> None:
    """Makes `{name:key}` usable in paths. Routes using it are matched by regular expression."""
    CONVERTOR_TYPES[key] = convertor


# --------------------------------------------------------------------------- helpers


class NoMatchFound(Exception):
    """No route has this name and these parameters (from `url_path_for` / `url_for`)."""

    def __init__(self, name: str, path_params: dict[str, Any]) -> None:
        params = ", ".join(list(path_params.keys()))
        super().__init__(f'No route exists for name "{name}" and params "{params}".')


class Match(Enum):
    NONE = 0
    PARTIAL = 1
    FULL = 2


def get_route_path(scope: Scope) -> str:
    """The path below the scope's root_path (the part a router or mount matches)."""
    path: str = scope["path"]
    root_path = scope.get("root_path", "")
    if not root_path or not path.startswith(root_path):
        return path
    if path == root_path:
        return ""
    if path[len(root_path)] == "/":
        return path[len(root_path) :]
    return path


def request_response(func: Callable[[Request], Awaitable[Response] | Response]) -> ASGIApp:
    """An ASGI app calling `func(request) -> response` (a blocking `func` runs in the thread
    pool), with the exception handlers of the scope applied around it."""
    # A blocking func runs as run_in_threadpool(func, request). (Cast: mypy's partial() takes
    # run_in_threadpool's ParamSpec arguments as required at once.)
    f: Callable[[Request], Awaitable[Response]] = (
        func
        if is_async_callable(func)
        else functools.partial(cast(Callable[..., Awaitable[Response]], run_in_threadpool), func)
    )

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)

        async def inner(scope: Scope, receive: Receive, send: Send) -> None:
            response = await f(request)
            await response(scope, receive, send)

        await wrap_app_handling_exceptions(inner, request)(scope, receive, send)

    return app


def websocket_session(func: Callable[[WebSocket], Awaitable[None]]) -> ASGIApp:
    """An ASGI app calling `await func(websocket)`, with the scope's exception handlers."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        session = WebSocket(scope, receive=receive, send=send)

        async def inner(scope: Scope, receive: Receive, send: Send) -> None:
            await func(session)

        await wrap_app_handling_exceptions(inner, session)(scope, receive, send)

    return app


def get_name(endpoint: Callable[..., Any]) -> str:
    return getattr(endpoint, "__name__", endpoint.__class__.__name__)


def replace_params(
    path: str, param_convertors: dict[str, Convertor[Any]], path_params: dict[str, str]
) -> tuple[str, dict[str, str]]:
    if not path_params:
        return path, path_params
    parts = PARAM_FORMAT_REGEX.split(path)
    for i in range(1, len(parts), 2):
        key = parts[i]
        if key in path_params:
            parts[i] = param_convertors[key].to_string(path_params.pop(key))
        else:
            parts[i] = "{" + key + "}"
    return "".join(parts), path_params


# `{param}` and `{param:convertor}` in a path; `{param}` in a path format.
PARAM_REGEX = re.compile("{([a-zA-Z_][a-zA-Z0-9_]*)(:[a-zA-Z_][a-zA-Z0-9_]*)?}")
PARAM_FORMAT_REGEX = re.compile("{([a-zA-Z_][a-zA-Z0-9_]*)}")


def compile_path(path: str) -> tuple[Pattern[str], str, dict[str, Convertor[Any]]]:
    """Compiles a path like "/users/{id:int}" (or a host like "{sub}.example.org") into
    (regex, format, convertors): (`^/users/(?P<id>[0-9]+)$`, "/users/{id}", {"id": IntegerConvertor()})."""
    is_host = not path.startswith("/")
    path_regex = "^"
    path_format = ""
    duplicated: set[str] = set()
    idx = 0
    param_convertors: dict[str, Convertor[Any]] = {}
    for match in PARAM_REGEX.finditer(path):
        param_name, convertor_type = match.groups("str")
        convertor_type = convertor_type.lstrip(":")
        assert convertor_type in CONVERTOR_TYPES, f"Unknown path convertor '{convertor_type}'"
        convertor = CONVERTOR_TYPES[convertor_type]
        path_regex += re.escape(path[idx : match.start()]) + f"(?P<{param_name}>{convertor.regex})"
        path_format += path[idx : match.start()] + "{%s}" % param_name  # noqa: UP031
        if param_name in param_convertors:
            duplicated.add(param_name)
        param_convertors[param_name] = convertor
        idx = match.end()

    if duplicated:
        names = ", ".join(sorted(duplicated))
        ending = "s" if len(duplicated) > 1 else ""
        raise ValueError(f"Duplicated param name{ending} {names} at path {path}")

    if is_host:
        # Host.matches() ignores the port: so does the pattern.
        hostname = path[idx:]
        if not hostname.endswith("]"):
            hostname = hostname.rsplit(":", 1)[0]
        path_regex += re.escape(hostname) + "$"
    else:
        path_regex += re.escape(path[idx:]) + "$"
    path_format += path[idx:]
    # Host names are case-insensitive (RFC 9110 section 4.2.3).
    return re.compile(path_regex, re.IGNORECASE if is_host else 0), path_format, param_convertors


def _wrap_middleware(app: ASGIApp, middleware: Sequence[Middleware] | None) -> ASGIApp:
    if middleware is not None:
        for cls, args, kwargs in reversed(middleware):
            app = cls(app, *args, **kwargs)
    return app


def _is_function_endpoint(endpoint: Any) -> bool:
    while isinstance(endpoint, functools.partial):
        endpoint = endpoint.func
    return inspect.isfunction(endpoint) or inspect.ismethod(endpoint)


# --------------------------------------------------------------------------- routes


class BaseRoute:
    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        raise NotImplementedError()  # pragma: no cover

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        raise NotImplementedError()  # pragma: no cover

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError()  # pragma: no cover

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A route used on its own as an ASGI app: 404 (or a WebSocket close) when it does not match."""
        match, child_scope = self.matches(scope)
        if match is Match.NONE:
            if scope["type"] == "http":
                await PlainTextResponse("Not Found", status_code=404)(scope, receive, send)
            elif scope["type"] == "websocket":
                await WebSocketClose()(scope, receive, send)
            return
        scope.update(child_scope)
        await self.handle(scope, receive, send)


def _match_path(route: Route | WebSocketRoute, scope: Scope) -> dict[str, Any] | None:
    match = route.path_regex.match(get_route_path(scope))
    if match is None:
        return None
    matched = match.groupdict()
    convertors = route.param_convertors
    for key, value in matched.items():
        matched[key] = convertors[key].convert(value)
    path_params = dict(scope.get("path_params", {}))
    path_params.update(matched)
    return path_params


class Route(BaseRoute):
    """An HTTP endpoint at `path`. A function endpoint is called as `endpoint(request)`
    (methods default to GET, HEAD implied); a class endpoint is an ASGI app (any method)."""

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Collection[str] | None = None,
        name: str | None = None,
        include_in_schema: bool = True,
        middleware: Sequence[Middleware] | None = None,
    ) -> None:
        assert path.startswith("/"), "Routed paths must start with '/'"
        self.path = path
        self.endpoint = endpoint
        self.name = get_name(endpoint) if name is None else name
        self.include_in_schema = include_in_schema

        if _is_function_endpoint(endpoint):
            self.app = request_response(endpoint)
            if methods is None:
                methods = ["GET"]
        else:
            self.app = endpoint
        self.app = _wrap_middleware(self.app, middleware)

        self.methods: set[str] | None
        if methods is None:
            self.methods = None
        else:
            self.methods = {method.upper() for method in methods}
            if "GET" in self.methods:
                self.methods.add("HEAD")

        self.path_regex, self.path_format, self.param_convertors = compile_path(path)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http":
            path_params = _match_path(self, scope)
            if path_params is not None:
                child_scope = {"endpoint": self.endpoint, "path_params": path_params}
                if self.methods and scope["method"] not in self.methods:
                    return Match.PARTIAL, child_scope
                return Match.FULL, child_scope
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        if name != self.name or set(path_params) != set(self.param_convertors):
            raise NoMatchFound(name, path_params)
        path, remaining = replace_params(self.path_format, self.param_convertors, path_params)
        assert not remaining
        return URLPath(path=path, protocol="http")

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        methods = self.methods
        if methods and scope["method"] not in methods:
            headers = {"Allow": ", ".join(methods)}
            if "app" in scope:
                raise HTTPException(status_code=405, headers=headers)
            await PlainTextResponse("Method Not Allowed", status_code=405, headers=headers)(
                scope, receive, send
            )
        else:
            await self.app(scope, receive, send)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Route)
            and self.path == other.path
            and self.endpoint == other.endpoint
            and self.methods == other.methods
        )

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        methods = sorted(self.methods or [])
        return f"{self.__class__.__name__}(path={self.path!r}, name={self.name!r}, methods={methods!r})"


class WebSocketRoute(BaseRoute):
    """A WebSocket endpoint at `path`: a function is called as `await endpoint(websocket)`."""

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        name: str | None = None,
        middleware: Sequence[Middleware] | None = None,
    ) -> None:
        assert path.startswith("/"), "Routed paths must start with '/'"
        self.path = path
        self.endpoint = endpoint
        self.name = get_name(endpoint) if name is None else name
        self.app = websocket_session(endpoint) if _is_function_endpoint(endpoint) else endpoint
        self.app = _wrap_middleware(self.app, middleware)
        self.path_regex, self.path_format, self.param_convertors = compile_path(path)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "websocket":
            path_params = _match_path(self, scope)
            if path_params is not None:
                return Match.FULL, {"endpoint": self.endpoint, "path_params": path_params}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        if name != self.name or set(path_params) != set(self.param_convertors):
            raise NoMatchFound(name, path_params)
        path, remaining = replace_params(self.path_format, self.param_convertors, path_params)
        assert not remaining
        return URLPath(path=path, protocol="websocket")

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, WebSocketRoute) and self.path == other.path and self.endpoint == other.endpoint
        )

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(path={self.path!r}, name={self.name!r})"


class Mount(BaseRoute):
    """A sub-application (or a list of routes) under a path prefix. The child sees the rest of
    the path, with the prefix added to its `root_path`."""

    def __init__(
        self,
        path: str,
        app: ASGIApp | None = None,
        routes: Sequence[BaseRoute] | None = None,
        name: str | None = None,
        *,
        middleware: Sequence[Middleware] | None = None,
    ) -> None:
        assert path == "" or path.startswith("/"), "Routed paths must start with '/'"
        assert app is not None or routes is not None, "Either 'app=...', or 'routes=' must be specified"
        self.path = path.rstrip("/")
        self._base_app: ASGIApp = app if app is not None else Router(routes=routes)
        self.app = _wrap_middleware(self._base_app, middleware)
        self.name = name
        self.path_regex, self.path_format, self.param_convertors = compile_path(self.path + "/{path:path}")

    @property
    def routes(self) -> list[BaseRoute]:
        return getattr(self._base_app, "routes", [])

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] in ("http", "websocket"):
            root_path = scope.get("root_path", "")
            route_path = get_route_path(scope)
            match = self.path_regex.match(route_path)
            if match:
                matched = match.groupdict()
                for key, value in matched.items():
                    matched[key] = self.param_convertors[key].convert(value)
                remaining_path = "/" + matched.pop("path")
                matched_path = route_path[: -len(remaining_path)]
                path_params = dict(scope.get("path_params", {}))
                path_params.update(matched)
                child_scope = {
                    "path_params": path_params,
                    # The application's own root_path, set once at the top and kept through
                    # nested mounts, for url_for() to build absolute URLs.
                    "app_root_path": scope.get("app_root_path", root_path),
                    "root_path": root_path + matched_path,
                    "endpoint": self.app,
                }
                return Match.FULL, child_scope
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        if self.name is not None and name == self.name and "path" in path_params:
            path_params["path"] = path_params["path"].lstrip("/")
            path, remaining = replace_params(self.path_format, self.param_convertors, path_params)
            if not remaining:
                return URLPath(path=path)
        elif self.name is None or name.startswith(self.name + ":"):
            remaining_name = name if self.name is None else name[len(self.name) + 1 :]
            path_kwarg = path_params.get("path")
            path_params["path"] = ""
            path_prefix, remaining = replace_params(self.path_format, self.param_convertors, path_params)
            if path_kwarg is not None:
                remaining["path"] = path_kwarg
            for route in self.routes or []:
                try:
                    url = route.url_path_for(remaining_name, **remaining)
                except NoMatchFound:
                    continue
                return URLPath(path=path_prefix.rstrip("/") + str(url), protocol=url.protocol)  # type: ignore[arg-type]
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mount) and self.path == other.path and self.app == other.app

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(path={self.path!r}, name={self.name or ''!r}, app={self.app!r})"


class Host(BaseRoute):
    """Routes by the Host header (port ignored, case-insensitive): "{sub}.example.org"."""

    def __init__(self, host: str, app: ASGIApp, name: str | None = None) -> None:
        assert not host.startswith("/"), "Host must not start with '/'"
        self.host = host
        self.app = app
        self.name = name
        self.host_regex, self.host_format, self.param_convertors = compile_path(host)

    @property
    def routes(self) -> list[BaseRoute]:
        return getattr(self.app, "routes", [])

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] in ("http", "websocket"):
            parsed = parse_host_header(Headers(scope=scope).get("host"))
            if parsed is None:
                return Match.NONE, {}
            match = self.host_regex.match(parsed.host.lower())
            if match:
                matched = match.groupdict()
                for key, value in matched.items():
                    matched[key] = self.param_convertors[key].convert(value)
                path_params = dict(scope.get("path_params", {}))
                path_params.update(matched)
                return Match.FULL, {"path_params": path_params, "endpoint": self.app}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        if self.name is not None and name == self.name and "path" in path_params:
            path = path_params.pop("path")
            host, remaining = replace_params(self.host_format, self.param_convertors, path_params)
            if not remaining:
                return URLPath(path=path, host=host)
        elif self.name is None or name.startswith(self.name + ":"):
            remaining_name = name if self.name is None else name[len(self.name) + 1 :]
            host, remaining = replace_params(self.host_format, self.param_convertors, path_params)
            for route in self.routes or []:
                try:
                    url = route.url_path_for(remaining_name, **remaining)
                except NoMatchFound:
                    continue
                return URLPath(path=str(url), protocol=url.protocol, host=host)  # type: ignore[arg-type]
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Host) and self.host == other.host and self.app == other.app

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(host={self.host!r}, name={self.name or ''!r}, app={self.app!r})"


# --------------------------------------------------------------------------- lifespan

_T = TypeVar("_T")


class _AsyncLiftContextManager(AbstractAsyncContextManager[_T]):
    def __init__(self, cm: AbstractContextManager[_T]) -> None:
        self._cm = cm

    async def __aenter__(self) -> _T:
        return self._cm.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        tb: types.TracebackType | None,
    ) -> bool | None:
        return self._cm.__exit__(exc_type, exc_value, tb)


def _wrap_gen_lifespan_context(
    lifespan_context: Callable[[Any], Generator[Any, Any, Any]],
) -> Callable[[Any], AbstractAsyncContextManager[Any]]:
    cmgr = contextlib.contextmanager(lifespan_context)

    @functools.wraps(cmgr)
    def wrapper(app: Any) -> _AsyncLiftContextManager[Any]:
        return _AsyncLiftContextManager(cmgr(app))

    return wrapper


class _DefaultLifespan:
    """The lifespan of a router without one: runs its on_startup and on_shutdown handlers."""

    def __init__(self, router: Router) -> None:
        self._router = router

    async def __aenter__(self) -> None:
        await self._router.startup()

    async def __aexit__(self, *exc_info: object) -> None:
        await self._router.shutdown()

    def __call__(self: _T, app: object) -> _T:
        return self


# --------------------------------------------------------------------------- dispatch tables

_PATH_ELEMENT = ("path",)


def _pattern_segments(path: str) -> list[tuple[Any, ...]] | None:
    """The segments of a route pattern for the overlap test: ("lit", text), ("param", regex),
    ("mixed", regex) or the final ("path",); None if the pattern is not one the tree takes."""
    segments: list[tuple[Any, ...]] = []
    parts = path.split("/")[1:]
    for index, part in enumerate(parts):
        params = list(PARAM_REGEX.finditer(part))
        if not params:
            if "{" in part or "}" in part:
                return None
            segments.append(("lit", part))
            continue
        kinds = [(m.group(2) or ":str")[1:] for m in params]
        if any(kind not in _NATIVE_CONVERTORS for kind in kinds):
            return None
        if len(params) == 1 and params[0].group(0) == part:
            if kinds[0] == "path":
                if index != len(parts) - 1:
                    return None
                segments.append(_PATH_ELEMENT)
            else:
                segments.append(("param", re.compile(_NATIVE_CONVERTORS[kinds[0]].regex)))
            continue
        if "path" in kinds:
            return None
        regex, _, _ = compile_path("/" + part)
        segments.append(("mixed", re.compile(regex.pattern[2:-1])))
    return segments


def _segments_overlap(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    if a[0] == "lit" and b[0] == "lit":
        return bool(a[1] == b[1])
    if a[0] == "lit":
        return b[1].fullmatch(a[1]) is not None
    if b[0] == "lit":
        return a[1].fullmatch(b[1]) is not None
    return True


def _patterns_overlap(a: list[tuple[Any, ...]], b: list[tuple[Any, ...]]) -> bool:
    """Whether some path could match both patterns (True when unsure)."""
    for index in range(max(len(a), len(b))):
        sa = a[index] if index < len(a) else None
        sb = b[index] if index < len(b) else None
        if sa is _PATH_ELEMENT:
            return sb is not None or index < len(b)
        if sb is _PATH_ELEMENT:
            return sa is not None
        if sa is None or sb is None:
            return False
        if not _segments_overlap(sa, sb):
            return False
    return True


class _Entry:
    """What the compiler knows of one route."""

    __slots__ = ("index", "methods", "opaque", "route", "segments", "trusted")

    def __init__(self, index: int, route: BaseRoute) -> None:
        self.index = index
        self.route = route
        self.opaque = True
        self.trusted = False
        self.segments: list[tuple[Any, ...]] | None = None
        self.methods: frozenset[str] | None = None


def _declares_path_matching(route: BaseRoute, base: type) -> bool:
    cls = type(route)
    return cls.matches is base.matches or bool(getattr(cls, "dispatch_by_path", False))  # type: ignore[attr-defined]


def _native_convertors(route: Route | WebSocketRoute | Mount) -> bool:
    return all(type(conv) is _NATIVE_CONVERTORS.get(conv_name) for conv_name, conv in _named(route))


def _named(route: Route | WebSocketRoute | Mount) -> list[tuple[str, Convertor[Any]]]:
    path = route.path + "/{path:path}" if isinstance(route, Mount) else route.path
    names = {m.group(1): (m.group(2) or ":str")[1:] for m in PARAM_REGEX.finditer(path)}
    return [(names.get(name, "?"), conv) for name, conv in route.param_convertors.items()]


_MAX_STATIC_HITS = 4096  # routes without a method list match any method: bound what is kept


class _Table:
    """The radix tree of one scope type ("http" or "websocket"), and the order information."""

    __slots__ = ("entries", "opaque", "shadows", "static_hits", "tree")

    def __init__(self, routes: Sequence[BaseRoute], scope_type: str) -> None:
        self.tree: fasterapi_router.Router[int] = fasterapi_router.Router(on_conflict="first")
        # (method, path) -> route, for paths that matched a trusted route without parameters and
        # with nothing earlier that could shadow it: the answer cannot change while the table lives.
        self.static_hits: dict[tuple[str, str], BaseRoute] = {}
        entries: list[_Entry] = []
        for index, route in enumerate(routes):
            entry = _Entry(index, route)
            entries.append(entry)
            try:
                self._add(entry, scope_type)
            except (fasterapi_router.RouterError, ValueError, TypeError):
                entry.opaque = True
        self.entries = entries
        self.opaque = tuple(e.index for e in entries if e.opaque)
        shadows: list[tuple[int, ...]] = []
        for entry in entries:
            if entry.opaque or entry.segments is None:
                shadows.append(())
                continue
            earlier: list[int] = []
            for other in entries[: entry.index]:
                if other.opaque:
                    earlier.append(other.index)
                elif other.segments is None:
                    continue  # a route of the other scope type
                elif (
                    entry.methods is not None
                    and other.methods is not None
                    and entry.methods.isdisjoint(other.methods)
                ):
                    continue  # never FULL for the same method: at most a PARTIAL, which loses
                elif _patterns_overlap(other.segments, entry.segments):
                    earlier.append(other.index)
            shadows.append(tuple(earlier))
        self.shadows = tuple(shadows)
        self.tree.freeze()

    def _add(self, entry: _Entry, scope_type: str) -> None:
        route = entry.route
        if isinstance(route, Mount):
            if (
                not _declares_path_matching(route, Mount)
                or "%" in route.path
                or not _native_convertors(route)
            ):
                return
            segments = _pattern_segments(route.path + "/{path:path}")
            if segments is None:
                return
            self.tree.mount(route.path, entry.index)
            entry.segments = segments
            entry.opaque = False
            return
        kind: type[Route] | type[WebSocketRoute]
        if isinstance(route, Route):
            kind = Route
        elif isinstance(route, WebSocketRoute):
            kind = WebSocketRoute
        else:
            return
        if not _declares_path_matching(route, kind):
            return
        if kind is not (Route if scope_type == "http" else WebSocketRoute):
            # A route of the other scope type never matches here: neither opaque nor a candidate.
            entry.opaque = False
            return
        if "%" in route.path or not _native_convertors(route):
            return
        if compile_path(route.path)[0].pattern != route.path_regex.pattern:
            return
        segments = _pattern_segments(route.path)
        if segments is None:
            return
        if scope_type == "http":
            methods = getattr(route, "methods", None)
            if methods:
                for method in sorted(methods):
                    self.tree.add(method, route.path, entry.index)
                entry.methods = frozenset(methods)
            else:
                self.tree.add("*", route.path, entry.index)
        else:
            self.tree.add("*", route.path, entry.index)
        entry.segments = segments
        entry.trusted = type(route).matches is kind.matches
        entry.opaque = False


class _RouteList(list[BaseRoute]):
    """The list of a router's routes: counts its changes, so that the router recompiles."""

    version = 0

    def _changed(self) -> None:
        self.version += 1

    def append(self, item: BaseRoute) -> None:
        super().append(item)
        self.version += 1

    def extend(self, items: Any) -> None:
        super().extend(items)
        self.version += 1

    def insert(self, index: Any, item: BaseRoute) -> None:
        super().insert(index, item)
        self.version += 1

    def remove(self, item: BaseRoute) -> None:
        super().remove(item)
        self.version += 1

    def pop(self, index: Any = -1) -> BaseRoute:
        self.version += 1
        return super().pop(index)

    def clear(self) -> None:
        super().clear()
        self.version += 1

    def sort(self, *args: Any, **kwargs: Any) -> None:
        super().sort(*args, **kwargs)
        self.version += 1

    def reverse(self) -> None:
        super().reverse()
        self.version += 1

    def __setitem__(self, index: Any, value: Any) -> None:
        super().__setitem__(index, value)
        self.version += 1

    def __delitem__(self, index: Any) -> None:
        super().__delitem__(index)
        self.version += 1

    def __iadd__(self, items: Any) -> _RouteList:  # type: ignore[override, misc]
        super().__iadd__(items)
        self.version += 1
        return self

    def __imul__(self, n: Any) -> _RouteList:  # type: ignore[misc]
        super().__imul__(n)
        self.version += 1
        return self


# Paths longer than this skip the tree: it has limits (digits of an int, bytes of a mixed
# segment) where a regular expression has none.
_MAX_TREE_PATH = 4000


# --------------------------------------------------------------------------- router


class Router:
    """A list of routes, dispatched in order (see the module docstring), as an ASGI app."""

    def __init__(  # noqa: PLR0917
        self,
        routes: Sequence[BaseRoute] | None = None,
        redirect_slashes: bool = True,
        default: ASGIApp | None = None,
        on_startup: Sequence[Callable[[], Any]] | None = None,
        on_shutdown: Sequence[Callable[[], Any]] | None = None,
        lifespan: Lifespan[Any] | None = None,
        *,
        middleware: Sequence[Middleware] | None = None,
    ) -> None:
        self.routes = [] if routes is None else list(routes)
        self.redirect_slashes = redirect_slashes
        self.default = self.not_found if default is None else default
        self.on_startup: list[Callable[[], Any]] = [] if on_startup is None else list(on_startup)
        self.on_shutdown: list[Callable[[], Any]] = [] if on_shutdown is None else list(on_shutdown)

        if lifespan is None:
            self.lifespan_context: Lifespan[Any] = _DefaultLifespan(self)
        elif inspect.isasyncgenfunction(lifespan):
            warnings.warn(
                "async generator function lifespans are deprecated, "
                "use an @contextlib.asynccontextmanager function instead",
                DeprecationWarning,
                stacklevel=2,
            )
            self.lifespan_context = asynccontextmanager(lifespan)
        elif inspect.isgeneratorfunction(lifespan):
            warnings.warn(
                "generator function lifespans are deprecated, use an @contextlib.asynccontextmanager function instead",  # noqa: E501
                DeprecationWarning,
                stacklevel=2,
            )
            self.lifespan_context = _wrap_gen_lifespan_context(lifespan)
        else:
            self.lifespan_context = lifespan

        self.middleware_stack = _wrap_middleware(self.app, middleware)

    # ---- the routes, and their compiled form

    @property
    def routes(self) -> list[BaseRoute]:
        return self._routes

    @routes.setter
    def routes(self, routes: Sequence[BaseRoute]) -> None:
        self._routes = routes if isinstance(routes, _RouteList) else _RouteList(routes)
        self._tables: dict[str, _Table] = {}
        self._tables_version = -1

    def invalidate_routes(self) -> None:
        """Recompiles the dispatch tables on the next request: call it after changing a route
        of the list in place (its path, methods...); changes to the list itself are seen."""
        self._tables_version = -1

    def _table(self, scope_type: str) -> _Table:
        routes = self._routes
        if self._tables_version != routes.version:
            self._tables = {}
            self._tables_version = routes.version
        table = self._tables.get(scope_type)
        if table is None:
            table = self._tables[scope_type] = _Table(routes, scope_type)
        return table

    # ---- matching

    def _match_linear(self, scope: Scope) -> tuple[BaseRoute, Scope] | None:
        """The reference semantics: the first full match in order, else the first partial one."""
        partial: tuple[BaseRoute, Scope] | None = None
        for route in self._routes:
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                return route, child_scope
            if match is Match.PARTIAL and partial is None:
                partial = (route, child_scope)
        return partial

    def _match(self, scope: Scope) -> tuple[BaseRoute, Scope] | bool | None:
        """The route for the scope and its child scope; None if no route matches and no
        redirect is possible; False if no route matches but a redirect may be."""
        route_path = get_route_path(scope)
        scope_type = scope["type"]
        table = self._table(scope_type)
        method = scope["method"] if scope_type == "http" else "GET"
        hit = table.static_hits.get((method, route_path))
        if hit is not None:
            base = scope.get("path_params")
            return hit, {"endpoint": hit.endpoint, "path_params": dict(base) if base else {}}  # type: ignore[attr-defined]
        if not route_path.startswith("/") or "\n" in route_path or len(route_path) > _MAX_TREE_PATH:
            return self._match_linear(scope) or False
        tree_path = route_path.replace("%", "%25") if "%" in route_path else route_path
        try:
            found = table.tree.lookup(method, tree_path)
        except (ValueError, TypeError, UnicodeError):
            return self._match_linear(scope) or False

        routes = self._routes
        if isinstance(found, fasterapi_router.Match):
            index: int = found.value
            for earlier in table.shadows[index]:
                match, child_scope = routes[earlier].matches(scope)
                if match is Match.FULL:
                    return routes[earlier], child_scope
            entry = table.entries[index]
            route = entry.route
            if entry.trusted:
                params = found.params
                base = scope.get("path_params")
                if not params and not table.shadows[index] and len(table.static_hits) < _MAX_STATIC_HITS:
                    table.static_hits[(method, route_path)] = route
                if base:
                    params = {**base, **params}
                return route, {"endpoint": route.endpoint, "path_params": params}  # type: ignore[attr-defined]
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                return route, child_scope
            return self._match_linear(scope) or False
        if found.status_code == 405:
            return self._match_linear(scope) or False
        # No route of the tree matches the path: only opaque ones may.
        partial: tuple[BaseRoute, Scope] | None = None
        for index in table.opaque:
            match, child_scope = routes[index].matches(scope)
            if match is Match.FULL:
                return routes[index], child_scope
            if match is Match.PARTIAL and partial is None:
                partial = (routes[index], child_scope)
        if partial is not None:
            return partial
        if found.redirect_path is None and not table.opaque:
            return None
        return False

    def _redirect_url(self, scope: Scope) -> URL | None:
        route_path = get_route_path(scope)
        if scope["type"] != "http" or not self.redirect_slashes or route_path == "/":
            return None
        redirect_scope = dict(scope)
        if route_path.endswith("/"):
            redirect_scope["path"] = redirect_scope["path"].rstrip("/")
        else:
            redirect_scope["path"] = redirect_scope["path"] + "/"
        for route in self._routes:
            match, _ = route.matches(redirect_scope)
            if match is not Match.NONE:
                return URL(scope=redirect_scope)
        return None

    # ---- ASGI

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.middleware_stack(scope, receive, send)

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope_type = scope["type"]
        assert scope_type in ("http", "websocket", "lifespan")
        if "router" not in scope:
            scope["router"] = self
        if scope_type == "lifespan":
            await self.lifespan(scope, receive, send)
            return

        found = self._match(scope)
        if found:
            route, child_scope = found  # type: ignore[misc]
            scope["route"] = route
            scope.update(child_scope)
            await route.handle(scope, receive, send)
            return
        if found is False:
            redirect_url = self._redirect_url(scope)
            if redirect_url is not None:
                await RedirectResponse(url=str(redirect_url))(scope, receive, send)
                return
        await self.default(scope, receive, send)

    async def not_found(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await WebSocketClose()(scope, receive, send)
            return
        # Inside an application, raise: its handlers for HTTPException / 404 make the response.
        if "app" in scope:
            raise HTTPException(status_code=404)
        await PlainTextResponse("Not Found", status_code=404)(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        for route in self._routes:
            try:
                return route.url_path_for(name, **path_params)
            except NoMatchFound:
                pass
        raise NoMatchFound(name, path_params)

    # ---- lifespan

    async def startup(self) -> None:
        """Runs the on_startup handlers, in order."""
        for handler in self.on_startup:
            if is_async_callable(handler):
                await handler()
            else:
                handler()

    async def shutdown(self) -> None:
        """Runs the on_shutdown handlers, in order."""
        for handler in self.on_shutdown:
            if is_async_callable(handler):
                await handler()
            else:
                handler()

    def add_event_handler(self, event_type: str, func: Callable[[], Any]) -> None:
        assert event_type in ("startup", "shutdown")
        (self.on_startup if event_type == "startup" else self.on_shutdown).append(func)

    async def lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handles the ASGI lifespan messages around `lifespan_context`; a state it yields is
        merged into the lifespan scope's `state` (shared with every request)."""
        started = False
        app: Any = scope.get("app")
        await receive()
        try:
            async with self.lifespan_context(app) as maybe_state:
                if maybe_state is not None:
                    if "state" not in scope:
                        raise RuntimeError('The server does not support "state" in the lifespan scope.')
                    scope["state"].update(maybe_state)
                await send({"type": "lifespan.startup.complete"})
                started = True
                await receive()
        except BaseException:
            exc_text = traceback.format_exc()
            if started:
                await send({"type": "lifespan.shutdown.failed", "message": exc_text})
            else:
                await send({"type": "lifespan.startup.failed", "message": exc_text})
            raise
        else:
            await send({"type": "lifespan.shutdown.complete"})

    # ---- building

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Router) and self.routes == other.routes

    __hash__ = object.__hash__

    def mount(self, path: str, app: ASGIApp, name: str | None = None) -> None:
        self.routes.append(Mount(path, app=app, name=name))

    def host(self, host: str, app: ASGIApp, name: str | None = None) -> None:
        self.routes.append(Host(host, app=app, name=name))

    def add_route(
        self,
        path: str,
        endpoint: Callable[[Request], Awaitable[Response] | Response],
        methods: Collection[str] | None = None,
        name: str | None = None,
        include_in_schema: bool = True,
    ) -> None:
        self.routes.append(
            Route(path, endpoint=endpoint, methods=methods, name=name, include_in_schema=include_in_schema)
        )

    def add_websocket_route(
        self,
        path: str,
        endpoint: Callable[[WebSocket], Awaitable[None]],
        name: str | None = None,
    ) -> None:
        self.routes.append(WebSocketRoute(path, endpoint=endpoint, name=name))
