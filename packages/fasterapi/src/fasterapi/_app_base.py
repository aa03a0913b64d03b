"""`ASGIApplicationBase`: an ASGI application around a router, with its middleware stack.

The stack is built on the first call (or by `build_middleware_stack()`), outermost first:
`ServerErrorMiddleware` (500s; debug tracebacks), the user middleware in the order given
(`add_middleware` puts the newest outermost), `ExceptionMiddleware` (the registered exception
handlers; a handler for 500 or `Exception` goes to `ServerErrorMiddleware` instead), the router.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar

from ._routing_base import BaseRoute, Router
from .datastructures import State, URLPath
from .middleware import Middleware, _MiddlewareFactory
from .middleware.base import BaseHTTPMiddleware
from .middleware.errors import ServerErrorMiddleware
from .middleware.exceptions import ExceptionMiddleware
from .requests import Request
from .responses import Response
from .types import ASGIApp, ExceptionHandler, Lifespan, Receive, Scope, Send

__all__ = ["ASGIApplicationBase"]

AppType = TypeVar("AppType", bound="ASGIApplicationBase")
P = ParamSpec("P")
F = TypeVar("F", bound=Callable[..., Any])


class ASGIApplicationBase:
    """The application: `debug`, `state`, `router`, `exception_handlers`, `user_middleware`,
    `middleware_stack`. Subclasses may set `self.router` to a `Router` subclass before or after
    calling `__init__` (see `router_class`)."""

    router_class: type[Router] = Router

    def __init__(
        self: AppType,
        debug: bool = False,
        routes: Sequence[BaseRoute] | None = None,
        middleware: Sequence[Middleware] | None = None,
        exception_handlers: Mapping[Any, ExceptionHandler] | None = None,
        lifespan: Lifespan[AppType] | None = None,
        *,
        router: Router | None = None,
    ) -> None:
        self.debug = debug
        self.state = State()
        self.router = router if router is not None else self.router_class(routes, lifespan=lifespan)
        self.exception_handlers: dict[Any, ExceptionHandler] = (
            {} if exception_handlers is None else dict(exception_handlers)
        )
        self.user_middleware: list[Middleware] = [] if middleware is None else list(middleware)
        self.middleware_stack: ASGIApp | None = None

    def build_middleware_stack(self) -> ASGIApp:
        error_handler = None
        exception_handlers: dict[Any, ExceptionHandler] = {}
        for key, value in self.exception_handlers.items():
            if key in (500, Exception):
                error_handler = value
            else:
                exception_handlers[key] = value
        middleware = [
            Middleware(ServerErrorMiddleware, handler=error_handler, debug=self.debug),
            *self.user_middleware,
            Middleware(ExceptionMiddleware, handlers=exception_handlers, debug=self.debug),
        ]
        app: ASGIApp = self.router
        for cls, args, kwargs in reversed(middleware):
            app = cls(app, *args, **kwargs)
        return app

    @property
    def routes(self) -> list[BaseRoute]:
        return self.router.routes

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        return self.router.url_path_for(name, **path_params)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self
        stack = self.middleware_stack
        if stack is None:
            stack = self.middleware_stack = self.build_middleware_stack()
        await stack(scope, receive, send)

    # ---- configuration

    def add_middleware(
        self, middleware_class: _MiddlewareFactory[P], *args: P.args, **kwargs: P.kwargs
    ) -> None:
        if self.middleware_stack is not None:
            raise RuntimeError("Cannot add middleware after an application has started")
        self.user_middleware.insert(0, Middleware(middleware_class, *args, **kwargs))

    def add_exception_handler(
        self, exc_class_or_status_code: int | type[Exception], handler: ExceptionHandler
    ) -> None:
        self.exception_handlers[exc_class_or_status_code] = handler

    def exception_handler(self, exc_class_or_status_code: int | type[Exception]) -> Callable[[F], F]:
        def decorator(func: F) -> F:
            self.add_exception_handler(exc_class_or_status_code, func)
            return func

        return decorator

    def middleware(self, middleware_type: str) -> Callable[[F], F]:
        """`@app.middleware("http")` on `async def f(request, call_next)`: a `BaseHTTPMiddleware`."""
        assert middleware_type == "http", 'Currently only middleware("http") is supported.'

        def decorator(func: F) -> F:
            self.add_middleware(BaseHTTPMiddleware, dispatch=func)
            return func

        return decorator

    def add_event_handler(self, event_type: str, func: Callable[[], Any]) -> None:
        self.router.add_event_handler(event_type, func)

    def mount(self, path: str, app: ASGIApp, name: str | None = None) -> None:
        self.router.mount(path, app=app, name=name)

    def host(self, host: str, app: ASGIApp, name: str | None = None) -> None:
        self.router.host(host, app=app, name=name)

    def add_route(
        self,
        path: str,
        route: Callable[[Request], Awaitable[Response] | Response],
        methods: list[str] | None = None,
        name: str | None = None,
        include_in_schema: bool = True,
    ) -> None:
        self.router.add_route(path, route, methods=methods, name=name, include_in_schema=include_in_schema)

    def add_websocket_route(
        self, path: str, route: Callable[..., Awaitable[None]], name: str | None = None
    ) -> None:
        self.router.add_websocket_route(path, route, name=name)

    def route(
        self,
        path: str,
        methods: list[str] | None = None,
        name: str | None = None,
        include_in_schema: bool = True,
    ) -> Callable[[F], F]:
        def decorator(func: F) -> F:
            self.router.add_route(path, func, methods=methods, name=name, include_in_schema=include_in_schema)
            return func

        return decorator

    def websocket_route(self, path: str, name: str | None = None) -> Callable[[F], F]:
        def decorator(func: F) -> F:
            self.router.add_websocket_route(path, func, name=name)
            return func

        return decorator
