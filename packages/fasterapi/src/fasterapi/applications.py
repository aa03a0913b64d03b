"""`FastAPI`: the application: path operations, OpenAPI document, docs pages, default handlers."""
# ruff: noqa: B008  (Default(...) marks a value not given, as in FastAPI's signatures)

from __future__ import annotations

import os
import warnings
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from enum import Enum
from typing import Any, Literal, TypeVar

from typing_extensions import deprecated

from fasterapi import params, routing
from fasterapi._app_base import ASGIApplicationBase
from fasterapi._compat import IncEx
from fasterapi._routing_base import Route as _BaseRoute
from fasterapi._routing_base import Router as _BaseRouter
from fasterapi.datastructures import Default, DefaultPlaceholder, State
from fasterapi.dependencies.utils import SolvePlan
from fasterapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
    websocket_request_validation_exception_handler,
)
from fasterapi.exceptions import (
    FastAPIDeprecationWarning,
    HTTPException,
    RequestValidationError,
    WebSocketRequestValidationError,
)
from fasterapi.middleware import Middleware
from fasterapi.middleware.asyncexitstack import AsyncExitStackMiddleware, RequestStack
from fasterapi.middleware.errors import ServerErrorMiddleware
from fasterapi.middleware.exceptions import HANDLERS_SCOPE_KEY, ExceptionMiddleware
from fasterapi.middleware.exceptions import _handle as _handle_exception
from fasterapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
    local_docs_urls,
)
from fasterapi.openapi.utils import get_openapi
from fasterapi.requests import Request
from fasterapi.responses import HTMLResponse, JSONResponse, Response
from fasterapi.routing import APIRoute, BaseRoute, FastCall
from fasterapi.staticfiles import StaticFiles
from fasterapi.types import (
    ASGIApp,
    DecoratedCallable,
    ExceptionHandler,
    Lifespan,
    Message,
    Receive,
    Scope,
    Send,
)
from fasterapi.utils import generate_unique_id

__all__ = ["FastAPI"]


class _FastLayers:
    """The default middleware stack, as `_serve` runs it."""

    __slots__ = ("exceptions", "handlers", "server_error", "stack_name")

    def __init__(
        self, server_error: ServerErrorMiddleware, exceptions: ExceptionMiddleware, stack_name: str
    ) -> None:
        self.server_error = server_error
        self.exceptions = exceptions
        self.handlers = exceptions.scope_handlers
        self.stack_name = stack_name


class _Tracking:
    """The send wrappers of the layers, in one: notes that the response started."""

    __slots__ = ("send", "started")

    def __init__(self, send: Send, started: bool) -> None:
        self.send = send
        self.started = started

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self.send(message)


# Response.__call__ as the framework defines it: a response whose class keeps it is sent as its
# attributes say (a module global is read by a specialized instruction, a class attribute in full).
_RESPONSE_CALL = Response.__call__


async def _serve(
    layers: _FastLayers,
    handler: FastCall,
    plan: SolvePlan,
    request: Request,
    direct: Callable[[int, list[tuple[bytes, bytes]], bytes | memoryview], None] | None = None,
) -> None:
    """ServerErrorMiddleware, ExceptionMiddleware, AsyncExitStackMiddleware and an APIRoute's
    app, in one coroutine: the same scope keys, the same handlers with the same arguments, and
    one "response started" flag standing for the three that the layers' send wrappers keep
    (every message goes through all of them, so they agree).

    `request`'s scope holds the layers' keys (the exception handlers, and under
    `layers.stack_name` the exit stack, which is also `request._exit_stack`): `_asgi_request`
    makes such a request of an ASGI call. A server may pass a Request of its own whose scope is
    made on first use, with those keys: its `_exit_stack` is None until then (nothing can have
    been pushed on a stack nobody could reach). A server that can take a whole response at once
    passes `direct(status, headers, body)`: a plain response then goes there instead of through
    two ASGI messages (fasterapi-server's native path)."""
    started = False  # a plain response went out here; messages sent through `tracking` note their own
    tracking: _Tracking | None = None  # made when a message may go through it (most requests: none)
    handlers = layers.handlers
    try:
        try:
            try:
                try:
                    # The endpoint awaited here when nothing comes before it (FastCall), else
                    # the route's whole handler.
                    begin = handler.begin
                    if begin is None:
                        endpoint = None
                    elif plan.empty and handler.bare is not None:
                        endpoint = handler.bare()
                    else:
                        endpoint = begin(request, plan)
                    if endpoint is not None:
                        raw = await endpoint
                        # (a Response is its own answer: shape() would only give it again)
                        response = raw if isinstance(raw, Response) else handler.shape(raw, request)
                    else:
                        response = await handler.handle(request, plan)
                    if type(response).__call__ is _RESPONSE_CALL:
                        if direct is not None:
                            direct(response.status_code, response.raw_headers, response.body)
                            started = True  # (after: a response it refused leaves nothing sent)
                        else:
                            started = True
                            send = request._send
                            await send(
                                {
                                    "type": "http.response.start",
                                    "status": response.status_code,
                                    "headers": response.raw_headers,
                                }
                            )
                            await send({"type": "http.response.body", "body": response.body})
                        if response.background is not None:
                            await response.background()
                    else:
                        tracking = _Tracking(request._send, False)
                        await response(request.scope, request._receive, tracking)
                except Exception as exc:
                    if tracking is None:
                        tracking = _Tracking(request._send, started)
                    await _handle_exception(
                        exc,
                        request,
                        handlers[0],
                        handlers[1],
                        tracking.started,
                        request.scope,
                        request._receive,
                        tracking,
                    )
            except BaseException as exc:
                exit_stack = request._exit_stack
                if (
                    exit_stack is not None
                    and exit_stack._exit_callbacks
                    and await exit_stack.__aexit__(type(exc), exc, exc.__traceback__)
                ):
                    return
                raise
            exit_stack = request._exit_stack
            if exit_stack is not None and exit_stack._exit_callbacks:
                await exit_stack.aclose()
        except Exception as exc:
            if tracking is None:
                tracking = _Tracking(request._send, started)
            scope = request.scope
            await _handle_exception(
                exc,
                Request(scope, request._receive, tracking),
                handlers[0],
                handlers[1],
                tracking.started,
                scope,
                request._receive,
                tracking,
            )
    except Exception as exc:
        await layers.server_error.respond(
            exc,
            request.scope,
            request._receive,
            request._send,
            started if tracking is None else tracking.started,
        )
        raise exc


def _asgi_request(layers: _FastLayers, scope: Scope, receive: Receive, send: Send) -> Request:
    """The request of an ASGI call for `_serve`, with the layers' keys in its scope."""
    scope[HANDLERS_SCOPE_KEY] = layers.handlers
    request = Request(scope, receive, send)
    request._exit_stack = scope[layers.stack_name] = RequestStack()
    return request


AppType = TypeVar("AppType", bound="FastAPI")


class FastAPI(ASGIApplicationBase):
    """The application. Takes the same arguments as FastAPI's, and two of its own:
    `docs_assets_path`, a directory holding the Swagger UI and ReDoc files to serve them locally
    (see `fasterapi.openapi.docs`), mounted at `docs_assets_url`."""

    def __init__(
        self: AppType,
        *,
        telemetry: dict[str, Any] | None = None,
        debug: bool = False,
        routes: list[BaseRoute] | None = None,
        title: str = "FastAPI",
        summary: str | None = None,
        description: str = "",
        version: str = "0.1.0",
        openapi_url: str | None = "/openapi.json",
        openapi_tags: list[dict[str, Any]] | None = None,
        servers: list[dict[str, str | Any]] | None = None,
        dependencies: Sequence[params.Depends] | None = None,
        default_response_class: type[Response] = Default(JSONResponse),
        redirect_slashes: bool = True,
        docs_url: str | None = "/docs",
        redoc_url: str | None = "/redoc",
        swagger_ui_oauth2_redirect_url: str | None = "/docs/oauth2-redirect",
        swagger_ui_init_oauth: dict[str, Any] | None = None,
        middleware: Sequence[Middleware] | None = None,
        exception_handlers: dict[
            int | type[Exception], Callable[[Request, Any], Coroutine[Any, Any, Response]]
        ]
        | None = None,
        on_startup: Sequence[Callable[[], Any]] | None = None,
        on_shutdown: Sequence[Callable[[], Any]] | None = None,
        lifespan: Lifespan[AppType] | None = None,
        terms_of_service: str | None = None,
        contact: dict[str, str | Any] | None = None,
        license_info: dict[str, str | Any] | None = None,
        root_path: str = "",
        root_path_in_servers: bool = True,
        responses: dict[int | str, dict[str, Any]] | None = None,
        callbacks: list[BaseRoute] | None = None,
        webhooks: routing.APIRouter | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        swagger_ui_parameters: dict[str, Any] | None = None,
        generate_unique_id_function: Callable[[APIRoute], str] = Default(generate_unique_id),
        separate_input_output_schemas: bool = True,
        openapi_external_docs: dict[str, Any] | None = None,
        strict_content_type: bool = True,
        docs_assets_path: str | os.PathLike[str] | None = None,
        docs_assets_url: str = "/docs-assets",
    ) -> None:
        self.title = title
        self.summary = summary
        self.description = description
        self.version = version
        self.terms_of_service = terms_of_service
        self.contact = contact
        self.license_info = license_info
        self.openapi_url = openapi_url
        self.openapi_tags = openapi_tags
        self.root_path_in_servers = root_path_in_servers
        self.docs_url = docs_url
        self.redoc_url = redoc_url
        self.swagger_ui_oauth2_redirect_url = swagger_ui_oauth2_redirect_url
        self.swagger_ui_init_oauth = swagger_ui_init_oauth
        self.swagger_ui_parameters = swagger_ui_parameters
        self.servers = servers or []
        self.separate_input_output_schemas = separate_input_output_schemas
        self.openapi_external_docs = openapi_external_docs
        self.openapi_version: str = "3.1.0"
        self.openapi_schema: dict[str, Any] | None = None
        self._openapi_routes_version: Any = None
        if self.openapi_url:
            assert self.title, "A title must be provided for OpenAPI, e.g.: 'My API'"
            assert self.version, "A version must be provided for OpenAPI, e.g.: '2.1.0'"
        self.webhooks: routing.APIRouter = webhooks or routing.APIRouter()
        if root_path:
            warnings.warn(
                "The `root_path` parameter is deprecated. Configure the server's root path instead, "
                "for example with `fastapi run --root-path /api/v1`.",
                category=FastAPIDeprecationWarning,
                stacklevel=2,
            )
        self.root_path = root_path
        self.dependency_overrides: dict[Callable[..., Any], Callable[..., Any]] = {}
        self._telemetry = dict(telemetry or {})
        router = routing.APIRouter(
            routes=routes,
            redirect_slashes=redirect_slashes,
            dependency_overrides_provider=self,
            on_startup=on_startup,
            on_shutdown=on_shutdown,
            lifespan=lifespan,
            default_response_class=default_response_class,
            dependencies=dependencies,
            callbacks=callbacks,
            deprecated=deprecated,
            include_in_schema=include_in_schema,
            responses=responses,
            generate_unique_id_function=generate_unique_id_function,
            strict_content_type=strict_content_type,
        )
        super().__init__(
            debug=debug,
            middleware=middleware,
            exception_handlers=exception_handlers,
            router=router,
        )
        self.router: routing.APIRouter = router
        self.state: State = State()
        # FastAPI's type for the attribute, handlers of (Request, Any): narrower than the base
        # class's (HTTP or WebSocket handlers of an Exception), as FastAPI's is than Starlette's.
        self.exception_handlers: dict[  # type: ignore[assignment]
            Any, Callable[[Request, Any], Response | Awaitable[Response]]
        ]
        self.exception_handlers.setdefault(HTTPException, http_exception_handler)
        self.exception_handlers.setdefault(RequestValidationError, request_validation_exception_handler)
        self.exception_handlers.setdefault(
            WebSocketRequestValidationError,
            websocket_request_validation_exception_handler,
        )
        self.docs_assets_path = docs_assets_path
        self.docs_assets_url = docs_assets_url
        self._fast_stack: ASGIApp | None = None  # the stack `_fast` was computed for
        self._fast: _FastLayers | None = None
        self.setup()

    # ---- the middleware stack

    def build_middleware_stack(self) -> ASGIApp:
        """`ServerErrorMiddleware`, the user middleware, `ExceptionMiddleware`, then the
        `AsyncExitStackMiddleware` that closes uploaded files after the response."""
        debug = self.debug
        error_handler = None
        exception_handlers: dict[Any, ExceptionHandler] = {}
        for key, value in self.exception_handlers.items():
            if key in (500, Exception):
                error_handler = value
            else:
                exception_handlers[key] = value
        middleware = [
            Middleware(ServerErrorMiddleware, handler=error_handler, debug=debug),
            *self.user_middleware,
            Middleware(ExceptionMiddleware, handlers=exception_handlers, debug=debug),
            Middleware(AsyncExitStackMiddleware),
        ]
        app: ASGIApp = self.router
        for cls, args, kwargs in reversed(middleware):
            app = cls(app, *args, **kwargs)
        return app

    def _fast_layers(self, stack: ASGIApp) -> _FastLayers | None:
        """The layers of `stack` when it is the default one (no user middleware, the stock
        classes around a stock router): the fast path of `__call__` runs them inline."""
        router = self.router
        if type(stack) is not ServerErrorMiddleware:
            return None
        exc_mw = stack.app
        if type(exc_mw) is not ExceptionMiddleware:
            return None
        exit_mw = exc_mw.app
        if type(exit_mw) is not AsyncExitStackMiddleware or exit_mw.app is not router:
            return None
        cls = type(router)
        if (
            not isinstance(router, _BaseRouter)
            or cls.__call__ is not _BaseRouter.__call__
            or cls.app is not _BaseRouter.app
            or cls._match is not _BaseRouter._match
            or getattr(router.middleware_stack, "__func__", None) is not _BaseRouter.app
        ):
            return None
        return _FastLayers(stack, exc_mw, exit_mw.context_name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.root_path:
            scope["root_path"] = self.root_path
        scope["app"] = self
        stack = self.middleware_stack
        if stack is None or stack is not self._fast_stack:
            if stack is None:
                stack = self.middleware_stack = self.build_middleware_stack()
            self._fast_stack = stack
            self._fast = self._fast_layers(stack)
        fast = self._fast
        if fast is not None and scope["type"] == "http":
            # The default stack with a stock router: find the route here, and when it is a
            # path operation with nothing to set up per request (no dependency with yield, no
            # form), run ServerErrorMiddleware, ExceptionMiddleware, AsyncExitStackMiddleware,
            # the router and the route in this one coroutine, exactly as the layers would.
            router = self.router
            if "router" not in scope:
                scope["router"] = router
            try:
                found = router._match(scope)
            except Exception:
                found = None  # the layers raise it again, where it is handled
            if found:
                route, child_scope = found  # type: ignore[misc]
                if (
                    type(route).handle is _BaseRoute.handle
                    and isinstance(route, APIRoute)
                    and route.app is route._fast_app
                    and route._fast_handle is not None
                    and not route._is_form
                    and not route.is_sse_stream
                    and (not route.methods or scope["method"] in route.methods)
                ):
                    plan = route._current_plan()
                    if not plan.needs_stack:
                        scope["route"] = route
                        scope.update(child_scope)
                        request = _asgi_request(fast, scope, receive, send)
                        await _serve(fast, route._fast_handle, plan, request)
                        return
        await stack(scope, receive, send)

    # ---- OpenAPI and the docs pages

    def _routes_version(self) -> tuple[int, int, int, int]:
        routes = self.router.routes
        hooks = self.webhooks.routes
        return (id(routes), getattr(routes, "version", 0), id(hooks), getattr(hooks, "version", 0))

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI document, generated on the first call and again after the routes change."""
        version = self._routes_version()
        if not self.openapi_schema or self._openapi_routes_version != version:
            self.openapi_schema = get_openapi(
                title=self.title,
                version=self.version,
                openapi_version=self.openapi_version,
                summary=self.summary,
                description=self.description,
                terms_of_service=self.terms_of_service,
                contact=self.contact,
                license_info=self.license_info,
                routes=self.routes,
                webhooks=self.webhooks.routes,
                tags=self.openapi_tags,
                servers=self.servers,
                separate_input_output_schemas=self.separate_input_output_schemas,
                external_docs=self.openapi_external_docs,
            )
            self._openapi_routes_version = version
        return self.openapi_schema

    def setup(self) -> None:
        """Adds the routes of the OpenAPI document and of the docs pages."""
        assets: dict[str, str] = {}
        if self.docs_assets_path is not None:
            self.mount(self.docs_assets_url, StaticFiles(directory=self.docs_assets_path), name="docs-assets")
            assets = local_docs_urls(self.docs_assets_path, self.docs_assets_url)
        if self.openapi_url:
            openapi_url = self.openapi_url

            async def openapi(req: Request) -> JSONResponse:
                root_path = req.scope.get("root_path", "").rstrip("/")
                schema = self.openapi()
                if root_path and self.root_path_in_servers:
                    server_urls = {s.get("url") for s in schema.get("servers", [])}
                    if root_path not in server_urls:
                        schema = dict(schema)
                        schema["servers"] = [{"url": root_path}, *schema.get("servers", [])]
                return JSONResponse(schema)

            self.add_route(openapi_url, openapi, include_in_schema=False)
            if self.docs_url:
                swagger_assets = {
                    key: assets[src]
                    for key, src in (
                        ("swagger_js_url", "swagger_js_url"),
                        ("swagger_css_url", "swagger_css_url"),
                        ("swagger_favicon_url", "favicon_url"),
                    )
                    if src in assets
                }

                async def swagger_ui_html(req: Request) -> HTMLResponse:
                    root_path = req.scope.get("root_path", "").rstrip("/")
                    oauth2_redirect_url = self.swagger_ui_oauth2_redirect_url
                    if oauth2_redirect_url:
                        oauth2_redirect_url = root_path + oauth2_redirect_url
                    local = {key: root_path + url for key, url in swagger_assets.items()}
                    return get_swagger_ui_html(
                        openapi_url=root_path + openapi_url,
                        title=f"{self.title} - Swagger UI",
                        oauth2_redirect_url=oauth2_redirect_url,
                        init_oauth=self.swagger_ui_init_oauth,
                        swagger_ui_parameters=self.swagger_ui_parameters,
                        **local,
                    )

                self.add_route(self.docs_url, swagger_ui_html, include_in_schema=False)
                if self.swagger_ui_oauth2_redirect_url:

                    async def swagger_ui_redirect(req: Request) -> HTMLResponse:
                        return get_swagger_ui_oauth2_redirect_html()

                    self.add_route(
                        self.swagger_ui_oauth2_redirect_url, swagger_ui_redirect, include_in_schema=False
                    )
            if self.redoc_url:
                redoc_assets = {
                    key: assets[src]
                    for key, src in (("redoc_js_url", "redoc_js_url"), ("redoc_favicon_url", "favicon_url"))
                    if src in assets
                }

                async def redoc_html(req: Request) -> HTMLResponse:
                    root_path = req.scope.get("root_path", "").rstrip("/")
                    local = {key: root_path + url for key, url in redoc_assets.items()}
                    return get_redoc_html(
                        openapi_url=root_path + openapi_url,
                        title=f"{self.title} - ReDoc",
                        with_google_fonts=not redoc_assets,
                        **local,
                    )

                self.add_route(self.redoc_url, redoc_html, include_in_schema=False)

    # ---- path operations

    def add_api_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        response_model: Any = Default(None),
        status_code: int | None = None,
        tags: list[str | Enum] | None = None,
        dependencies: Sequence[params.Depends] | None = None,
        summary: str | None = None,
        description: str | None = None,
        response_description: str = "Successful Response",
        responses: dict[int | str, dict[str, Any]] | None = None,
        deprecated: bool | None = None,
        methods: list[str] | None = None,
        operation_id: str | None = None,
        response_model_include: IncEx | None = None,
        response_model_exclude: IncEx | None = None,
        response_model_by_alias: bool = True,
        response_model_exclude_unset: bool = False,
        response_model_exclude_defaults: bool = False,
        response_model_exclude_none: bool = False,
        include_in_schema: bool = True,
        response_class: type[Response] | DefaultPlaceholder = Default(JSONResponse),
        name: str | None = None,
        openapi_extra: dict[str, Any] | None = None,
        generate_unique_id_function: Callable[[APIRoute], str] = Default(generate_unique_id),
    ) -> None:
        self.router.add_api_route(
            path,
            endpoint=endpoint,
            response_model=response_model,
            status_code=status_code,
            tags=tags,
            dependencies=dependencies,
            summary=summary,
            description=description,
            response_description=response_description,
            responses=responses,
            deprecated=deprecated,
            methods=methods,
            operation_id=operation_id,
            response_model_include=response_model_include,
            response_model_exclude=response_model_exclude,
            response_model_by_alias=response_model_by_alias,
            response_model_exclude_unset=response_model_exclude_unset,
            response_model_exclude_defaults=response_model_exclude_defaults,
            response_model_exclude_none=response_model_exclude_none,
            include_in_schema=include_in_schema,
            response_class=response_class,
            name=name,
            openapi_extra=openapi_extra,
            generate_unique_id_function=generate_unique_id_function,
        )

    def api_route(
        self,
        path: str,
        *,
        response_model: Any = Default(None),
        status_code: int | None = None,
        tags: list[str | Enum] | None = None,
        dependencies: Sequence[params.Depends] | None = None,
        summary: str | None = None,
        description: str | None = None,
        response_description: str = "Successful Response",
        responses: dict[int | str, dict[str, Any]] | None = None,
        deprecated: bool | None = None,
        methods: list[str] | None = None,
        operation_id: str | None = None,
        response_model_include: IncEx | None = None,
        response_model_exclude: IncEx | None = None,
        response_model_by_alias: bool = True,
        response_model_exclude_unset: bool = False,
        response_model_exclude_defaults: bool = False,
        response_model_exclude_none: bool = False,
        include_in_schema: bool = True,
        response_class: type[Response] = Default(JSONResponse),
        name: str | None = None,
        openapi_extra: dict[str, Any] | None = None,
        generate_unique_id_function: Callable[[APIRoute], str] = Default(generate_unique_id),
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        def decorator(func: DecoratedCallable) -> DecoratedCallable:
            self.router.add_api_route(
                path,
                func,
                response_model=response_model,
                status_code=status_code,
                tags=tags,
                dependencies=dependencies,
                summary=summary,
                description=description,
                response_description=response_description,
                responses=responses,
                deprecated=deprecated,
                methods=methods,
                operation_id=operation_id,
                response_model_include=response_model_include,
                response_model_exclude=response_model_exclude,
                response_model_by_alias=response_model_by_alias,
                response_model_exclude_unset=response_model_exclude_unset,
                response_model_exclude_defaults=response_model_exclude_defaults,
                response_model_exclude_none=response_model_exclude_none,
                include_in_schema=include_in_schema,
                response_class=response_class,
                name=name,
                openapi_extra=openapi_extra,
                generate_unique_id_function=generate_unique_id_function,
            )
            return func

        return decorator

    def add_api_websocket_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        name: str | None = None,
        *,
        dependencies: Sequence[params.Depends] | None = None,
    ) -> None:
        self.router.add_api_websocket_route(path, endpoint, name=name, dependencies=dependencies)

    def websocket(
        self,
        path: str,
        name: str | None = None,
        *,
        dependencies: Sequence[params.Depends] | None = None,
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        def decorator(func: DecoratedCallable) -> DecoratedCallable:
            self.add_api_websocket_route(path, func, name=name, dependencies=dependencies)
            return func

        return decorator

    def include_router(
        self,
        router: routing.APIRouter,
        *,
        prefix: str = "",
        tags: list[str | Enum] | None = None,
        dependencies: Sequence[params.Depends] | None = None,
        responses: dict[int | str, dict[str, Any]] | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        default_response_class: type[Response] = Default(JSONResponse),
        callbacks: list[BaseRoute] | None = None,
        generate_unique_id_function: Callable[[APIRoute], str] = Default(generate_unique_id),
    ) -> None:
        self.router.include_router(
            router,
            prefix=prefix,
            tags=tags,
            dependencies=dependencies,
            responses=responses,
            deprecated=deprecated,
            include_in_schema=include_in_schema,
            default_response_class=default_response_class,
            callbacks=callbacks,
            generate_unique_id_function=generate_unique_id_function,
        )

    def get(
        self,
        path: str,
        *,
        response_model: Any = Default(None),
        status_code: int | None = None,
        tags: list[str | Enum] | None = None,
        dependencies: Sequence[params.Depends] | None = None,
        summary: str | None = None,
        description: str | None = None,
        response_description: str = "Successful Response",
        responses: dict[int | str, dict[str, Any]] | None = None,
        deprecated: bool | None = None,
        operation_id: str | None = None,
        response_model_include: IncEx | None = None,
        response_model_exclude: IncEx | None = None,
        response_model_by_alias: bool = True,
        response_model_exclude_unset: bool = False,
        response_model_exclude_defaults: bool = False,
        response_model_exclude_none: bool = False,
        include_in_schema: bool = True,
        response_class: type[Response] = Default(JSONResponse),
        name: str | None = None,
        callbacks: list[BaseRoute] | None = None,
        openapi_extra: dict[str, Any] | None = None,
        generate_unique_id_function: Callable[[APIRoute], str] = Default(generate_unique_id),
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declares a GET path operation (see `APIRouter.get`)."""
        return self.router.get(
            path,
            response_model=response_model,
            status_code=status_code,
            tags=tags,
            dependencies=dependencies,
            summary=summary,
            description=description,
            response_description=response_description,
            responses=responses,
            deprecated=deprecated,
            operation_id=operation_id,
            response_model_include=response_model_include,
            response_model_exclude=response_model_exclude,
            response_model_by_alias=response_model_by_alias,
            response_model_exclude_unset=response_model_exclude_unset,
            response_model_exclude_defaults=response_model_exclude_defaults,
            response_model_exclude_none=response_model_exclude_none,
            include_in_schema=include_in_schema,
            response_class=response_class,
            name=name,
            callbacks=callbacks,
            openapi_extra=openapi_extra,
            generate_unique_id_function=generate_unique_id_function,
        )

    def put(
        self,
        path: str,
        *,
        response_model: Any = Default(None),
        status_code: int | None = None,
        tags: list[str | Enum] | None = None,
        dependencies: Sequence[params.Depends] | None = None,
        summary: str | None = None,
        description: str | None = None,
        response_description: str = "Successful Response",
        responses: dict[int | str, dict[str, Any]] | None = None,
        deprecated: bool | None = None,
        operation_id: str | None = None,
        response_model_include: IncEx | None = None,
        response_model_exclude: IncEx | None = None,
        response_model_by_alias: bool = True,
        response_model_exclude_unset: bool = False,
        response_model_exclude_defaults: bool = False,
        response_model_exclude_none: bool = False,
        include_in_schema: bool = True,
        response_class: type[Response] = Default(JSONResponse),
        name: str | None = None,
        callbacks: list[BaseRoute] | None = None,
        openapi_extra: dict[str, Any] | None = None,
        generate_unique_id_function: Callable[[APIRoute], str] = Default(generate_unique_id),
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declares a PUT path operation (see `APIRouter.put`)."""
        return self.router.put(
            path,
            response_model=response_model,
            status_code=status_code,
            tags=tags,
            dependencies=dependencies,
            summary=summary,
            description=description,
            response_description=response_description,
            responses=responses,
            deprecated=deprecated,
            operation_id=operation_id,
            response_model_include=response_model_include,
            response_model_exclude=response_model_exclude,
            response_model_by_alias=response_model_by_alias,
            response_model_exclude_unset=response_model_exclude_unset,
            response_model_exclude_defaults=response_model_exclude_defaults,
            response_model_exclude_none=response_model_exclude_none,
            include_in_schema=include_in_schema,
            response_class=response_class,
            name=name,
            callbacks=callbacks,
            openapi_extra=openapi_extra,
            generate_unique_id_function=generate_unique_id_function,
        )

    def post(
        self,
        path: str,
        *,
        response_model: Any = Default(None),
        status_code: int | None = None,
        tags: list[str | Enum] | None = None,
        dependencies: Sequence[params.Depends] | None = None,
        summary: str | None = None,
        description: str | None = None,
        response_description: str = "Successful Response",
        responses: dict[int | str, dict[str, Any]] | None = None,
        deprecated: bool | None = None,
        operation_id: str | None = None,
        response_model_include: IncEx | None = None,
        response_model_exclude: IncEx | None = None,
        response_model_by_alias: bool = True,
        response_model_exclude_unset: bool = False,
        response_model_exclude_defaults: bool = False,
        response_model_exclude_none: bool = False,
        include_in_schema: bool = True,
        response_class: type[Response] = Default(JSONResponse),
        name: str | None = None,
        callbacks: list[BaseRoute] | None = None,
        openapi_extra: dict[str, Any] | None = None,
        generate_unique_id_function: Callable[[APIRoute], str] = Default(generate_unique_id),
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declares a POST path operation (see `APIRouter.post`)."""
        return self.router.post(
            path,
            response_model=response_model,
            status_code=status_code,
            tags=tags,
            dependencies=dependencies,
            summary=summary,
            description=description,
            response_description=response_description,
            responses=responses,
            deprecated=deprecated,
            operation_id=operation_id,
            response_model_include=response_model_include,
            response_model_exclude=response_model_exclude,
            response_model_by_alias=response_model_by_alias,
            response_model_exclude_unset=response_model_exclude_unset,
            response_model_exclude_defaults=response_model_exclude_defaults,
            response_model_exclude_none=response_model_exclude_none,
            include_in_schema=include_in_schema,
            response_class=response_class,
            name=name,
            callbacks=callbacks,
            openapi_extra=openapi_extra,
            generate_unique_id_function=generate_unique_id_function,
        )

    def delete(
        self,
        path: str,
        *,
        response_model: Any = Default(None),
        status_code: int | None = None,
        tags: list[str | Enum] | None = None,
        dependencies: Sequence[params.Depends] | None = None,
        summary: str | None = None,
        description: str | None = None,
        response_description: str = "Successful Response",
        responses: dict[int | str, dict[str, Any]] | None = None,
        deprecated: bool | None = None,
        operation_id: str | None = None,
        response_model_include: IncEx | None = None,
        response_model_exclude: IncEx | None = None,
        response_model_by_alias: bool = True,
        response_model_exclude_unset: bool = False,
        response_model_exclude_defaults: bool = False,
        response_model_exclude_none: bool = False,
        include_in_schema: bool = True,
        response_class: type[Response] = Default(JSONResponse),
        name: str | None = None,
        callbacks: list[BaseRoute] | None = None,
        openapi_extra: dict[str, Any] | None = None,
        generate_unique_id_function: Callable[[APIRoute], str] = Default(generate_unique_id),
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declares a DELETE path operation (see `APIRouter.delete`)."""
        return self.router.delete(
            path,
            response_model=response_model,
            status_code=status_code,
            tags=tags,
            dependencies=dependencies,
            summary=summary,
            description=description,
            response_description=response_description,
            responses=responses,
            deprecated=deprecated,
            operation_id=operation_id,
            response_model_include=response_model_include,
            response_model_exclude=response_model_exclude,
            response_model_by_alias=response_model_by_alias,
            response_model_exclude_unset=response_model_exclude_unset,
            response_model_exclude_defaults=response_model_exclude_defaults,
            response_model_exclude_none=response_model_exclude_none,
            include_in_schema=include_in_schema,
            response_class=response_class,
            name=name,
            callbacks=callbacks,
            openapi_extra=openapi_extra,
            generate_unique_id_function=generate_unique_id_function,
        )

    def options(
        self,
        path: str,
        *,
        response_model: Any = Default(None),
        status_code: int | None = None,
        tags: list[str | Enum] | None = None,
        dependencies: Sequence[params.Depends] | None = None,
        summary: str | None = None,
        description: str | None = None,
        response_description: str = "Successful Response",
        responses: dict[int | str, dict[str, Any]] | None = None,
        deprecated: bool | None = None,
        operation_id: str | None = None,
        response_model_include: IncEx | None = None,
        response_model_exclude: IncEx | None = None,
        response_model_by_alias: bool = True,
        response_model_exclude_unset: bool = False,
        response_model_exclude_defaults: bool = False,
        response_model_exclude_none: bool = False,
        include_in_schema: bool = True,
        response_class: type[Response] = Default(JSONResponse),
        name: str | None = None,
        callbacks: list[BaseRoute] | None = None,
        openapi_extra: dict[str, Any] | None = None,
        generate_unique_id_function: Callable[[APIRoute], str] = Default(generate_unique_id),
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declares a OPTIONS path operation (see `APIRouter.options`)."""
        return self.router.options(
            path,
            response_model=response_model,
            status_code=status_code,
            tags=tags,
            dependencies=dependencies,
            summary=summary,
            description=description,
            response_description=response_description,
            responses=responses,
            deprecated=deprecated,
            operation_id=operation_id,
            response_model_include=response_model_include,
            response_model_exclude=response_model_exclude,
            response_model_by_alias=response_model_by_alias,
            response_model_exclude_unset=response_model_exclude_unset,
            response_model_exclude_defaults=response_model_exclude_defaults,
            response_model_exclude_none=response_model_exclude_none,
            include_in_schema=include_in_schema,
            response_class=response_class,
            name=name,
            callbacks=callbacks,
            openapi_extra=openapi_extra,
            generate_unique_id_function=generate_unique_id_function,
        )

    def head(
        self,
        path: str,
        *,
        response_model: Any = Default(None),
        status_code: int | None = None,
        tags: list[str | Enum] | None = None,
        dependencies: Sequence[params.Depends] | None = None,
        summary: str | None = None,
        description: str | None = None,
        response_description: str = "Successful Response",
        responses: dict[int | str, dict[str, Any]] | None = None,
        deprecated: bool | None = None,
        operation_id: str | None = None,
        response_model_include: IncEx | None = None,
        response_model_exclude: IncEx | None = None,
        response_model_by_alias: bool = True,
        response_model_exclude_unset: bool = False,
        response_model_exclude_defaults: bool = False,
        response_model_exclude_none: bool = False,
        include_in_schema: bool = True,
        response_class: type[Response] = Default(JSONResponse),
        name: str | None = None,
        callbacks: list[BaseRoute] | None = None,
        openapi_extra: dict[str, Any] | None = None,
        generate_unique_id_function: Callable[[APIRoute], str] = Default(generate_unique_id),
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declares a HEAD path operation (see `APIRouter.head`)."""
        return self.router.head(
            path,
            response_model=response_model,
            status_code=status_code,
            tags=tags,
            dependencies=dependencies,
            summary=summary,
            description=description,
            response_description=response_description,
            responses=responses,
            deprecated=deprecated,
            operation_id=operation_id,
            response_model_include=response_model_include,
            response_model_exclude=response_model_exclude,
            response_model_by_alias=response_model_by_alias,
            response_model_exclude_unset=response_model_exclude_unset,
            response_model_exclude_defaults=response_model_exclude_defaults,
            response_model_exclude_none=response_model_exclude_none,
            include_in_schema=include_in_schema,
            response_class=response_class,
            name=name,
            callbacks=callbacks,
            openapi_extra=openapi_extra,
            generate_unique_id_function=generate_unique_id_function,
        )

    def patch(
        self,
        path: str,
        *,
        response_model: Any = Default(None),
        status_code: int | None = None,
        tags: list[str | Enum] | None = None,
        dependencies: Sequence[params.Depends] | None = None,
        summary: str | None = None,
        description: str | None = None,
        response_description: str = "Successful Response",
        responses: dict[int | str, dict[str, Any]] | None = None,
        deprecated: bool | None = None,
        operation_id: str | None = None,
        response_model_include: IncEx | None = None,
        response_model_exclude: IncEx | None = None,
        response_model_by_alias: bool = True,
        response_model_exclude_unset: bool = False,
        response_model_exclude_defaults: bool = False,
        response_model_exclude_none: bool = False,
        include_in_schema: bool = True,
        response_class: type[Response] = Default(JSONResponse),
        name: str | None = None,
        callbacks: list[BaseRoute] | None = None,
        openapi_extra: dict[str, Any] | None = None,
        generate_unique_id_function: Callable[[APIRoute], str] = Default(generate_unique_id),
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declares a PATCH path operation (see `APIRouter.patch`)."""
        return self.router.patch(
            path,
            response_model=response_model,
            status_code=status_code,
            tags=tags,
            dependencies=dependencies,
            summary=summary,
            description=description,
            response_description=response_description,
            responses=responses,
            deprecated=deprecated,
            operation_id=operation_id,
            response_model_include=response_model_include,
            response_model_exclude=response_model_exclude,
            response_model_by_alias=response_model_by_alias,
            response_model_exclude_unset=response_model_exclude_unset,
            response_model_exclude_defaults=response_model_exclude_defaults,
            response_model_exclude_none=response_model_exclude_none,
            include_in_schema=include_in_schema,
            response_class=response_class,
            name=name,
            callbacks=callbacks,
            openapi_extra=openapi_extra,
            generate_unique_id_function=generate_unique_id_function,
        )

    def trace(
        self,
        path: str,
        *,
        response_model: Any = Default(None),
        status_code: int | None = None,
        tags: list[str | Enum] | None = None,
        dependencies: Sequence[params.Depends] | None = None,
        summary: str | None = None,
        description: str | None = None,
        response_description: str = "Successful Response",
        responses: dict[int | str, dict[str, Any]] | None = None,
        deprecated: bool | None = None,
        operation_id: str | None = None,
        response_model_include: IncEx | None = None,
        response_model_exclude: IncEx | None = None,
        response_model_by_alias: bool = True,
        response_model_exclude_unset: bool = False,
        response_model_exclude_defaults: bool = False,
        response_model_exclude_none: bool = False,
        include_in_schema: bool = True,
        response_class: type[Response] = Default(JSONResponse),
        name: str | None = None,
        callbacks: list[BaseRoute] | None = None,
        openapi_extra: dict[str, Any] | None = None,
        generate_unique_id_function: Callable[[APIRoute], str] = Default(generate_unique_id),
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declares a TRACE path operation (see `APIRouter.trace`)."""
        return self.router.trace(
            path,
            response_model=response_model,
            status_code=status_code,
            tags=tags,
            dependencies=dependencies,
            summary=summary,
            description=description,
            response_description=response_description,
            responses=responses,
            deprecated=deprecated,
            operation_id=operation_id,
            response_model_include=response_model_include,
            response_model_exclude=response_model_exclude,
            response_model_by_alias=response_model_by_alias,
            response_model_exclude_unset=response_model_exclude_unset,
            response_model_exclude_defaults=response_model_exclude_defaults,
            response_model_exclude_none=response_model_exclude_none,
            include_in_schema=include_in_schema,
            response_class=response_class,
            name=name,
            callbacks=callbacks,
            openapi_extra=openapi_extra,
            generate_unique_id_function=generate_unique_id_function,
        )

    def frontend(
        self,
        path: str,
        *,
        directory: str | os.PathLike[str],
        fallback: Literal["auto", "index.html", "404.html"] | None = "auto",
        check_dir: bool | Literal["auto"] = "auto",
    ) -> None:
        """Serves a static frontend build after every other route (see `APIRouter.frontend`)."""
        self.router.frontend(path, directory=directory, fallback=fallback, check_dir=check_dir)

    def websocket_route(
        self, path: str, name: str | None = None
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        def decorator(func: DecoratedCallable) -> DecoratedCallable:
            self.router.add_websocket_route(path, func, name=name)
            return func

        return decorator

    @deprecated(routing._ON_EVENT_DEPRECATED)
    def on_event(self, event_type: str) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Deprecated in favour of `lifespan`; still works."""
        return self.router.on_event(event_type)

    def add_event_handler(self, event_type: str, func: Callable[[], Any]) -> None:
        self.router.add_event_handler(event_type, func)

    def middleware(self, middleware_type: str) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """`@app.middleware("http")` on `async def f(request, call_next)`."""
        return super().middleware(middleware_type)

    def exception_handler(
        self, exc_class_or_status_code: int | type[Exception]
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        return super().exception_handler(exc_class_or_status_code)
