"""Path operations: APIRoute, APIWebSocketRoute and APIRouter, with each endpoint compiled once."""

from __future__ import annotations

import contextlib
import email.message
import functools
import inspect
import json
import math
import os
import re
import sys
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Generator,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from enum import Enum, IntEnum
from typing import Any, Literal, NoReturn, TypedDict, TypeVar, cast

import anyio
from pydantic import ValidationError
from pydantic_core import SchemaValidator
from typing_extensions import deprecated

from fasterapi import params, sse
from fasterapi._compat import (
    IncEx,
    ModelField,
    json_body_validator,
    lenient_issubclass,
    model_dump_fields,
    plain_json_types,
    prefix_errors,
)
from fasterapi._frontend import (
    FrontendRoute,
    FrontendStaticFiles,
    join_frontend_paths,
    match_low_priority,
    normalize_frontend_path,
    resolve_check_dir,
)
from fasterapi._routing_base import (
    BaseRoute,
    Host,
    Match,
    Mount,
    NoMatchFound,
    Route,
    Router,
    WebSocketRoute,
    compile_path,
    get_name,
    get_route_path,
)
from fasterapi._routing_base import Route as _BaseHTTPRoute
from fasterapi.background import BackgroundTasks
from fasterapi.concurrency import is_async_callable, iterate_in_threadpool, run_in_threadpool
from fasterapi.datastructures import Default, DefaultPlaceholder
from fasterapi.dependencies.models import _is_async_gen_callable, _is_coroutine_callable, _is_gen_callable
from fasterapi.dependencies.utils import (
    NOTHING_SOLVED,
    JsonValidatedBody,
    SolvePlan,
    _get_body_field,
    _get_flat_body_params,
    _should_embed_body_fields,
    body_only_name,
    compile_plan,
    get_dependant,
    get_parameterless_sub_dependant,
    get_stream_item_type,
    get_typed_return_annotation,
    native_path_begin,
    read_path_values,
    run_plan,
)
from fasterapi.encoders import jsonable_encoder
from fasterapi.exceptions import (
    EndpointContext,
    FastAPIError,
    HTTPException,
    RequestValidationError,
    ResponseValidationError,
    WebSocketRequestValidationError,
)
from fasterapi.middleware.exceptions import wrap_app_handling_exceptions
from fasterapi.requests import _JSON_LOADS, Request
from fasterapi.responses import (
    JSONResponse,
    Response,
    StreamingResponse,
    json_bytes_response,
    native_json_shape,
    native_model_dumper,
    native_writes_as_pydantic,
    plain_json_response,
    plain_model_json_response,
)
from fasterapi.sse import _PING_INTERVAL, KEEPALIVE_COMMENT
from fasterapi.types import ASGIApp, DecoratedCallable, Lifespan, Receive, Scope, Send
from fasterapi.utils import (
    create_model_field,
    generate_unique_id,
    get_value_or_default,
    is_body_allowed_for_status_code,
)
from fasterapi.websockets import WebSocket

__all__ = [
    "APIRoute",
    "APIRouter",
    "APIWebSocketRoute",
    "BaseRoute",
    "Host",
    "Match",
    "Mount",
    "NoMatchFound",
    "Route",
    "Router",
    "WebSocketRoute",
    "compile_path",
    "get_name",
    "get_route_path",
    "request_response",
    "websocket_session",
]

_T = TypeVar("_T")


class _DumpOptions(TypedDict):
    """The response model's dump options (`ModelField.serialize`/`serialize_json` keywords)."""

    include: IncEx | None
    exclude: IncEx | None
    by_alias: bool
    exclude_unset: bool
    exclude_defaults: bool
    exclude_none: bool


_NOT_AWAITED = (
    "Response not awaited. There's a high chance that the "
    "application code is raising an exception and a dependency with yield "
    "has a block with a bare except, or a block with except Exception, "
    "and is not raising the exception again. Read more about it in the "
    "docs: https://fastapi.tiangolo.com/tutorial/dependencies/dependencies-with-yield/#dependencies-with-yield-and-except"
)


_ON_EVENT_DEPRECATED = """
        on_event is deprecated, use lifespan event handlers instead.

        Read more about it in the
        [FastAPI docs for Lifespan Events](https://fastapi.tiangolo.com/advanced/events/).
        """


def _is_sse_class(cls: Any) -> bool:
    return lenient_issubclass(cls, sse.EventSourceResponse)


def request_response(func: Callable[[Request], Awaitable[Response] | Response]) -> ASGIApp:
    """An ASGI app calling `func(request)` inside the exit stacks of dependencies with yield."""
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
            awaited = False
            async with AsyncExitStack() as request_stack:
                scope["fastapi_inner_astack"] = request_stack
                async with AsyncExitStack() as function_stack:
                    scope["fastapi_function_astack"] = function_stack
                    response = await f(request)
                await response(scope, receive, send)
                awaited = True
            if not awaited:
                raise FastAPIError(_NOT_AWAITED)

        await wrap_app_handling_exceptions(inner, request)(scope, receive, send)

    return app


def websocket_session(func: Callable[[WebSocket], Awaitable[None]]) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        session = WebSocket(scope, receive=receive, send=send)

        async def inner(scope: Scope, receive: Receive, send: Send) -> None:
            async with AsyncExitStack() as request_stack:
                scope["fastapi_inner_astack"] = request_stack
                async with AsyncExitStack() as function_stack:
                    scope["fastapi_function_astack"] = function_stack
                    await func(session)

        await wrap_app_handling_exceptions(inner, session)(scope, receive, send)

    return app


class _AsyncLiftContextManager(AbstractAsyncContextManager[_T]):
    def __init__(self, cm: contextlib.AbstractContextManager[_T]) -> None:
        self._cm = cm

    async def __aenter__(self) -> _T:
        return self._cm.__enter__()

    async def __aexit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> bool | None:
        return self._cm.__exit__(exc_type, exc_value, traceback)


def _wrap_gen_lifespan_context(
    lifespan_context: Callable[[Any], Generator[Any, Any, Any]],
) -> Callable[[Any], AbstractAsyncContextManager[Any]]:
    cmgr = contextlib.contextmanager(lifespan_context)

    @functools.wraps(cmgr)
    def wrapper(app: Any) -> _AsyncLiftContextManager[Any]:
        return _AsyncLiftContextManager(cmgr(app))

    return wrapper


def _merge_lifespan_context(original: Lifespan[Any], nested: Lifespan[Any]) -> Lifespan[Any]:
    @asynccontextmanager
    async def merged_lifespan(app: Any) -> AsyncIterator[Mapping[str, Any] | None]:
        async with original(app) as original_state, nested(app) as nested_state:
            if nested_state is None and original_state is None:
                yield None
            else:
                yield {**(nested_state or {}), **(original_state or {})}

    return merged_lifespan  # type: ignore[return-value]


class _DefaultLifespan:
    """Runs a router's on_startup / on_shutdown handlers."""

    def __init__(self, router: APIRouter) -> None:
        self._router = router

    async def __aenter__(self) -> None:
        await self._router._startup()

    async def __aexit__(self, *exc_info: object) -> None:
        await self._router._shutdown()

    def __call__(self, app: object) -> _DefaultLifespan:
        return self


_endpoint_context_cache: dict[int, EndpointContext] = {}


def _extract_endpoint_context(func: Any) -> EndpointContext:
    key = id(func)
    cached = _endpoint_context_cache.get(key)
    if cached is not None:
        return cached
    ctx: EndpointContext = {}
    try:
        source_file = inspect.getsourcefile(func)
        if source_file is not None:
            ctx["file"] = source_file
        ctx["line"] = inspect.getsourcelines(func)[1]
        name = getattr(func, "__name__", None)
        if name is not None:
            ctx["function"] = name
    except Exception:
        ctx = EndpointContext()
    _endpoint_context_cache[key] = ctx
    return ctx


def _normalize_non_finite_floats(data: Any) -> Any:
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: _normalize_non_finite_floats(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_normalize_non_finite_floats(v) for v in data]
    return data


async def serialize_response(
    *,
    field: ModelField | None = None,
    response_content: Any,
    include: IncEx | None = None,
    exclude: IncEx | None = None,
    by_alias: bool = True,
    exclude_unset: bool = False,
    exclude_defaults: bool = False,
    exclude_none: bool = False,
    is_coroutine: bool = True,
    endpoint_ctx: EndpointContext | None = None,
    dump_json: bool = False,
) -> Any:
    if field is None:
        return jsonable_encoder(response_content)
    value, errors = field.validate(response_content, {}, loc=("response",))
    if errors:
        raise ResponseValidationError(errors=errors, body=response_content, endpoint_ctx=endpoint_ctx or {})
    serializer = field.serialize_json if dump_json else field.serialize
    return serializer(
        value,
        include=include,
        exclude=exclude,
        by_alias=by_alias,
        exclude_unset=exclude_unset,
        exclude_defaults=exclude_defaults,
        exclude_none=exclude_none,
    )


def _no_call(*args: Any, **kwargs: Any) -> Any:  # pragma: no cover - never called
    raise AssertionError


_REQUEST_JSON = Request.json
# An integer of 309 digits or more: a float field takes it as inf in JSON mode, but refuses it
# (too large) in Python mode; such a body goes through the usual path.
_LONG_DIGITS = re.compile(rb"\d{309}")


def _request_content_type(request: Request) -> str | None:
    """`request.headers.get("content-type")`, read from the scope without building the headers
    of a plain Request whose scope holds a list (a Request subclass may redefine `headers`, and
    may make its scope only when asked)."""
    if type(request) is Request:
        raw = request.scope["headers"]
        if type(raw) is list:
            name: bytes
            value: bytes
            for name, value in raw:
                if name == b"content-type":
                    return value.decode("latin-1")
            return None
    return request._header_value("content-type")


def _json_content_type(content_type: str | None, strict: bool) -> bool:
    if not content_type:
        return not strict
    if content_type == "application/json":
        return True
    message = email.message.Message()
    message["content-type"] = content_type
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


class FastCall:
    """A path operation's compiled handler, as `fasterapi.applications._serve` calls it.

    `handle(request, plan)` makes the response. Where nothing is awaited before the endpoint (no
    body; a plan that solves nothing, or only path parameters), `begin(request, plan)` gives what
    handle would await for the endpoint's result (None when this plan needs handle), and
    `shape(raw, request)` the response of that result: _serve then awaits the endpoint itself,
    without handle's coroutine (one coroutine fewer a request; docs/server.md, "Speed", has what
    that is worth against FastAPI on uvicorn in the same run).
    """

    __slots__ = ("bare", "begin", "handle", "shape")

    def __init__(
        self,
        handle: Callable[[Request, SolvePlan], Coroutine[Any, Any, Response]],
        begin: Callable[[Request, SolvePlan], Awaitable[Any] | None] | None,
        shape: Callable[[Any, Request], Response],
        bare: Callable[[], Awaitable[Any]] | None = None,
    ) -> None:
        self.handle = handle
        self.begin = begin
        self.shape = shape
        # begin(request, plan) for a plan that solves nothing, when the endpoint is a coroutine
        # function: the endpoint itself, called without arguments (a call less).
        self.bare = bare


class APIRoute(_BaseHTTPRoute):
    """An HTTP path operation; its request handling is compiled once, at creation."""

    def __init__(
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
        name: str | None = None,
        methods: set[str] | list[str] | None = None,
        operation_id: str | None = None,
        response_model_include: IncEx | None = None,
        response_model_exclude: IncEx | None = None,
        response_model_by_alias: bool = True,
        response_model_exclude_unset: bool = False,
        response_model_exclude_defaults: bool = False,
        response_model_exclude_none: bool = False,
        include_in_schema: bool = True,
        response_class: type[Response] | DefaultPlaceholder = Default(JSONResponse),
        dependency_overrides_provider: Any | None = None,
        callbacks: list[BaseRoute] | None = None,
        openapi_extra: dict[str, Any] | None = None,
        generate_unique_id_function: Callable[[APIRoute], str] | DefaultPlaceholder = Default(
            generate_unique_id
        ),
        strict_content_type: bool | DefaultPlaceholder = Default(True),
    ) -> None:
        self.path = path
        self.endpoint = endpoint
        self._response_model_argument = response_model  # given again by include_router
        self.stream_item_type: Any = None
        self.summary = summary
        self.response_description = response_description
        self.deprecated = deprecated
        self.operation_id = operation_id
        self.response_model_include = response_model_include
        self.response_model_exclude = response_model_exclude
        self.response_model_by_alias = response_model_by_alias
        self.response_model_exclude_unset = response_model_exclude_unset
        self.response_model_exclude_defaults = response_model_exclude_defaults
        self.response_model_exclude_none = response_model_exclude_none
        self.include_in_schema = include_in_schema
        self.response_class = response_class
        self.dependency_overrides_provider = dependency_overrides_provider
        self.callbacks = callbacks
        self.openapi_extra = openapi_extra
        self.generate_unique_id_function = generate_unique_id_function
        self.strict_content_type = strict_content_type
        self.tags: list[str | Enum] = tags or []
        self.responses: dict[int | str, dict[str, Any]] = responses or {}
        self.name = get_name(endpoint) if name is None else name
        self.path_regex, self.path_format, self.param_convertors = compile_path(path)
        self.methods: set[str] = {m.upper() for m in (methods if methods is not None else ["GET"])}
        uid_fn = (
            generate_unique_id_function.value
            if isinstance(generate_unique_id_function, DefaultPlaceholder)
            else generate_unique_id_function
        )
        self.unique_id: str = self.operation_id or uid_fn(self)
        if isinstance(status_code, IntEnum):
            status_code = int(status_code)
        self.status_code = status_code
        self.dependencies = list(dependencies or [])
        doc = description or inspect.cleandoc(self.endpoint.__doc__ or "")
        self.description = doc.split("\f")[0].strip()
        self.response_fields: dict[int | str, ModelField] = {}
        for extra_status, extra in self.responses.items():
            assert isinstance(extra, dict), "An additional response must be a dict"
            model = extra.get("model")
            if model:
                assert is_body_allowed_for_status_code(extra_status), (
                    f"Status code {extra_status} must not have a response body"
                )
                self.response_fields[extra_status] = create_model_field(
                    name=f"Response_{extra_status}_{self.unique_id}", type_=model, mode="serialization"
                )
        assert callable(endpoint), "An endpoint must be a callable"
        self.dependant = get_dependant(path=self.path_format, call=self.endpoint, scope="function")
        for depends in self.dependencies[::-1]:
            self.dependant.dependencies.insert(
                0, get_parameterless_sub_dependant(depends=depends, path=self.path_format)
            )
        body_params = _get_flat_body_params(self.dependant)
        self._embed_body_fields = _should_embed_body_fields(body_params)
        self.body_field = _get_body_field(
            body_params=body_params, name=self.unique_id, embed_body_fields=self._embed_body_fields
        )
        is_generator = _is_async_gen_callable(self.dependant.call) or _is_gen_callable(self.dependant.call)
        self.is_sse_stream = is_generator and _is_sse_class(response_class)
        self.is_json_stream = is_generator and isinstance(response_class, DefaultPlaceholder)
        if isinstance(response_model, DefaultPlaceholder):
            return_annotation = get_typed_return_annotation(endpoint)
            if lenient_issubclass(return_annotation, Response):
                response_model = None
            else:
                stream_item = get_stream_item_type(return_annotation)
                if stream_item is not None and is_generator:
                    server_sent_event: Any = sse.ServerSentEvent
                    if (
                        isinstance(response_class, DefaultPlaceholder) or _is_sse_class(response_class)
                    ) and not (
                        server_sent_event is not None and lenient_issubclass(stream_item, server_sent_event)
                    ):
                        self.stream_item_type = stream_item
                    response_model = None
                else:
                    response_model = return_annotation
        self.response_model = response_model
        if self.response_model:
            assert is_body_allowed_for_status_code(status_code), (
                f"Status code {status_code} must not have a response body"
            )
            self.response_field: ModelField | None = create_model_field(
                name="Response_" + self.unique_id, type_=self.response_model, mode="serialization"
            )
        else:
            self.response_field = None
        if self.stream_item_type:
            self.stream_item_field: ModelField | None = create_model_field(
                name="StreamItem_" + self.unique_id, type_=self.stream_item_type, mode="serialization"
            )
        else:
            self.stream_item_field = None
        self._plan = compile_plan(self.dependant, embed_body_fields=self._embed_body_fields)
        self._override_plans: dict[tuple[tuple[int, int], ...], SolvePlan] = {}
        # What the application's fast path needs (see `FastAPI.__call__`): the handler, and
        # the app it stands for; the fast path is taken only while `self.app` is that app.
        self._fast_handle: FastCall | None = None
        self._fast_app: ASGIApp | None = None
        self._is_form = self.body_field is not None and isinstance(self.body_field.field_info, params.Form)
        if type(self).get_route_handler is APIRoute.get_route_handler:
            self.app = self._fast_app = self._build_app()
        else:
            # A subclass customizing the handler (a custom Request class, timing...): its
            # handler runs inside the usual exit stacks, as FastAPI's would.
            self.app = request_response(self.get_route_handler())

    # ---- plan selection -------------------------------------------------------------------

    def _current_plan(self) -> SolvePlan:
        provider = self.dependency_overrides_provider
        overrides = getattr(provider, "dependency_overrides", None) if provider is not None else None
        if not overrides:
            return self._plan
        key = tuple((id(k), id(v)) for k, v in overrides.items())
        plan = self._override_plans.get(key)
        if plan is None:
            plan = compile_plan(
                self.dependant, embed_body_fields=self._embed_body_fields, overrides=overrides
            )
            if len(self._override_plans) > 64:
                self._override_plans.clear()
            self._override_plans[key] = plan
        return plan

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = self._make_handler().handle

        async def app(request: Request) -> Response:
            return await handle(request, self._current_plan())

        return app

    def _build_app(self) -> ASGIApp:
        fast_call = self._fast_handle = self._make_handler()
        handle = fast_call.handle
        current_plan = self._current_plan
        is_form = self._is_form

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            request = Request(scope, receive, send)
            plan = current_plan()
            if not plan.needs_stack and not is_form and not self.is_sse_stream:

                async def fast(scope: Scope, receive: Receive, send: Send) -> None:
                    response = await handle(request, plan)
                    await response(scope, receive, send)

                await wrap_app_handling_exceptions(fast, request)(scope, receive, send)
                return

            async def inner(scope: Scope, receive: Receive, send: Send) -> None:
                awaited = False
                async with AsyncExitStack() as request_stack:
                    scope["fastapi_inner_astack"] = request_stack
                    async with AsyncExitStack() as function_stack:
                        scope["fastapi_function_astack"] = function_stack
                        response = await handle(request, plan)
                    await response(scope, receive, send)
                    awaited = True
                if not awaited:
                    raise FastAPIError(_NOT_AWAITED)

            await wrap_app_handling_exceptions(inner, request)(scope, receive, send)

        return app

    def _json_body_validator(self, is_body_form: bool) -> Callable[[bytes], Any] | None:
        """The JSON-mode validator of the body when the endpoint's plan (without overrides) has
        one body field, read whole, whose schema validates JSON as Python mode validates the
        parsed JSON (see `json_body_validator`)."""
        body_field = self.body_field
        if body_field is None or is_body_form or self._embed_body_fields:
            return None
        readers = [step.body for step in self._plan.steps if step.body is not None]
        if len(readers) != 1 or not readers[0].single or readers[0].fields[0] is not body_field:
            return None
        return json_body_validator(body_field)

    def _make_handler(self) -> FastCall:
        call = self.dependant.call
        assert call is not None
        is_coroutine = _is_coroutine_callable(call)
        body_field = self.body_field
        is_body_form = body_field is not None and isinstance(body_field.field_info, params.Form)
        response_class = self.response_class
        actual_response_class: type[Response] = (
            response_class.value if isinstance(response_class, DefaultPlaceholder) else response_class
        )
        strict = (
            self.strict_content_type.value
            if isinstance(self.strict_content_type, DefaultPlaceholder)
            else self.strict_content_type
        )
        json_body = self._json_body_validator(is_body_form)
        json_body_plan = self._plan
        # A plan that only reads the body: a JSON-validated body is its whole result.
        body_only = body_only_name(json_body_plan) if json_body is not None else None
        status_code = self.status_code
        response_field = self.response_field
        stream_item_field = self.stream_item_field
        is_json_stream = self.is_json_stream
        is_sse_stream = self.is_sse_stream
        is_async_gen = _is_async_gen_callable(call)
        is_generator = is_async_gen or _is_gen_callable(call)
        dump_options: _DumpOptions = {
            "include": self.response_model_include,
            "exclude": self.response_model_exclude,
            "by_alias": self.response_model_by_alias,
            "exclude_unset": self.response_model_exclude_unset,
            "exclude_defaults": self.response_model_exclude_defaults,
            "exclude_none": self.response_model_exclude_none,
        }
        # The options that differ from the serializer's defaults (by_alias always: its default is the
        # model's config), for the direct call below: each keyword costs, and most are defaults.
        fast_dump_options: dict[str, Any] = {
            k: v for k, v in dump_options.items() if k == "by_alias" or (v is not None and v is not False)
        }
        use_dump_json = response_field is not None and isinstance(response_class, DefaultPlaceholder)
        endpoint_path = self.path_format
        status_body_allowed = is_body_allowed_for_status_code(status_code)
        fast_status = status_code or 200  # what response_args gives without a sub-response
        fast_dump = (
            not is_generator
            and response_field is not None
            and use_dump_json
            and is_body_allowed_for_status_code(fast_status)
        )
        # The native writer may write the response (see below) when no option but by_alias could
        # change what is written (an empty include is an option too).
        native_dump = (
            fast_dump
            and response_field is not None
            and fast_dump_options.keys() <= {"by_alias"}
            and native_writes_as_pydantic()
        )
        # A response model that takes plain JSON data as it is (`-> dict[str, Any]`): plain data
        # goes out without the core's two passes. (None: not such a model; empty: any outer type)
        plain_types = plain_json_types(response_field) if native_dump and response_field is not None else None
        # A response model of plain fields (model_dump_fields): an instance of exactly that model,
        # returned or validated, is written by the native writer, with the serializer's bytes (it
        # gives up on anything the serializer would write otherwise or warn about; the serializer
        # then does).
        dumps_model = native_model_dumper() if native_dump else None
        model_dump = (
            model_dump_fields(response_field, fast_dump_options["by_alias"])
            if dumps_model is not None and response_field is not None
            else None
        )
        model_type, model_fields = model_dump or (None, {})
        validate_response: Callable[..., Any] = (
            response_field._validate_python if response_field else _no_call
        )
        # An instance of exactly the plain model is valid as it is (model_dump_fields): the
        # validator is not asked, where it is pydantic-core's own (pydantic's plugins wrap it to
        # see every call, and then it is asked).
        core_validator = type(getattr(validate_response, "__self__", None)) is SchemaValidator
        model_as_is = model_type if core_validator else None
        # The core serializer's `to_json` itself when built (what `serialize_json` calls).
        dump_response: Callable[..., bytes] = (
            (response_field._to_json or response_field.serialize_json) if response_field else _no_call
        )
        plain_fast = (
            not is_generator
            and response_field is None
            and isinstance(response_class, DefaultPlaceholder)
            and actual_response_class is JSONResponse
        )

        def endpoint_ctx(request: Request) -> EndpointContext:
            ctx = dict(_extract_endpoint_context(call))
            mount_path = request.scope.get("root_path", "").rstrip("/")
            ctx["path"] = f"{request.method} {mount_path}{endpoint_path}"
            return ctx  # type: ignore[return-value]

        def serialize_item(data: Any, request: Request) -> bytes:
            if stream_item_field is not None:
                value, errors = stream_item_field.validate(data, {}, loc=("response",))
                if errors:
                    raise ResponseValidationError(
                        errors=errors, body=data, endpoint_ctx=endpoint_ctx(request)
                    )
                return stream_item_field.serialize_json(value, **dump_options)
            return json.dumps(_normalize_non_finite_floats(jsonable_encoder(data))).encode("utf-8")

        def response_args(background: BackgroundTasks | None, sub: Response | None) -> dict[str, Any]:
            args: dict[str, Any] = {"background": background}
            current = status_code if status_code else (sub.status_code if sub is not None else None)
            if current is not None:
                args["status_code"] = current
            if sub is not None and sub.status_code:
                args["status_code"] = sub.status_code
            return args

        async def read_body(request: Request, plan: SolvePlan) -> Any:
            try:
                if is_body_form:
                    form = await request.form()
                    stack = request.scope.get("fastapi_middleware_astack") or request.scope.get(
                        "fastapi_inner_astack"
                    )
                    if isinstance(stack, AsyncExitStack):
                        stack.push_async_callback(form.close)
                    return form
                body_bytes = await request.body()
                if body_bytes:
                    if _json_content_type(_request_content_type(request), strict):
                        if (
                            json_body is not None
                            and plan is json_body_plan
                            and json.loads is _JSON_LOADS
                            and type(request).json is _REQUEST_JSON
                            and (len(body_bytes) < 309 or _LONG_DIGITS.search(body_bytes) is None)
                        ):
                            # Validated straight from the bytes; on any error, the usual path
                            # (parse, then validate in Python mode) gives the errors.
                            try:
                                return JsonValidatedBody(json_body(body_bytes))
                            except Exception:  # any failure: the usual path decides
                                pass
                        return await request.json()
                    return body_bytes
                return None
            except json.JSONDecodeError as e:
                raise RequestValidationError(
                    [
                        {
                            "type": "json_invalid",
                            "loc": ("body", e.pos),
                            "msg": "JSON decode error",
                            "input": {},
                            "ctx": {"error": e.msg},
                        }
                    ],
                    body=e.doc,
                    endpoint_ctx=endpoint_ctx(request),
                ) from e
            except HTTPException:
                raise
            except Exception as e:
                raise HTTPException(status_code=400, detail="There was an error parsing the body") from e

        # shape()'s ways for what its native writers do not write (JsonShape calls them too).
        def encoded_response(raw: Any, request: Request) -> Response:
            """A route without a response model: jsonable_encoder's data, in a JSONResponse."""
            if status_code is None:
                return JSONResponse(jsonable_encoder(raw))
            response = JSONResponse(jsonable_encoder(raw), status_code=status_code)
            if not status_body_allowed:
                response.body = b""
            return response

        def validated_response(raw: Any, request: Request) -> Response:
            """A response model's answer: the result validated, then serialized."""
            try:
                value = validate_response(raw, from_attributes=True)
            except ValidationError as exc:
                invalid = prefix_errors(exc.errors(include_url=False), ("response",))
            else:
                if type(value) is model_type:
                    body = dumps_model(value, model_fields)  # type: ignore[misc]  # (set with model_type)
                    if body is not None:
                        return json_bytes_response(body, fast_status)
                return json_bytes_response(dump_response(value, **fast_dump_options), fast_status)
            raise ResponseValidationError(errors=invalid, body=raw, endpoint_ctx=endpoint_ctx(request))

        def dump_model(value: Any) -> bytes:
            """The serializer's bytes of a valid result (what the native writer gives up on)."""
            return dump_response(value, **fast_dump_options)

        def shape(
            raw: Any,
            request: Request,
            background: BackgroundTasks | None = None,
            sub: Response | None = None,
        ) -> Response:
            """The response of the endpoint's result (not a stream), with what dependencies asked
            for: `background` tasks and a `sub`-response's headers."""
            response: Response
            if isinstance(raw, Response):
                if raw.background is None:
                    raw.background = background
                return raw
            if plain_fast and sub is None and background is None:
                if status_body_allowed:
                    plain = plain_json_response(raw, fast_status)
                    if plain is not None:
                        return plain
                return encoded_response(raw, request)
            # (plain_fast with what dependencies asked for: the general way below, no response
            # model and JSONResponse)
            if fast_dump and sub is None and background is None:
                # A response model serialized straight to JSON bytes, no sub-response, no
                # background tasks: the response is built directly (the same one).
                if plain_types is not None and (not plain_types or type(raw) in plain_types):
                    plain = plain_model_json_response(raw, fast_status)
                    if plain is not None:
                        return plain
                elif type(raw) is model_as_is:
                    # (valid as it is; what the writer gives up on, the serializer writes)
                    body = dumps_model(raw, model_fields)  # type: ignore[misc]  # (set with model_type)
                    return json_bytes_response(dump_model(raw) if body is None else body, fast_status)
                return validated_response(raw, request)
            args = response_args(background, sub)
            if response_field is not None:
                value, invalid = response_field.validate(raw, {}, loc=("response",))
                if invalid:
                    raise ResponseValidationError(
                        errors=invalid, body=raw, endpoint_ctx=endpoint_ctx(request)
                    )
                if use_dump_json:
                    response = Response(
                        content=response_field.serialize_json(value, **dump_options),
                        media_type="application/json",
                        **args,
                    )
                else:
                    response = actual_response_class(response_field.serialize(value, **dump_options), **args)
            else:
                response = actual_response_class(jsonable_encoder(raw), **args)
            if not is_body_allowed_for_status_code(response.status_code):
                response.body = b""
            if sub is not None:
                response.headers.raw.extend(sub.headers.raw)
            return response

        # shape() with its common cases written natively (fasterapi-server), or shape itself (also
        # while a function shape calls is patched).
        json_shape: Callable[..., Response] = shape
        module = sys.modules[__name__]
        guards: tuple[tuple[Any, str, Any], ...]
        if plain_fast and status_body_allowed:
            guards = ((module, "plain_json_response", plain_json_response),)
            json_shape = (
                native_json_shape(shape, encoded_response, fast_status, stdlib=True, guards=guards) or shape
            )
        elif fast_dump:
            guards = (
                ((module, "plain_model_json_response", plain_model_json_response),)
                if plain_types is not None
                else ((module, "json_bytes_response", json_bytes_response),)
            )
            json_shape = (
                native_json_shape(
                    shape,
                    validated_response,
                    fast_status,
                    plain_types=plain_types,
                    model_type=model_as_is,
                    model_fields=model_fields,
                    dumps_model=dumps_model,
                    dump_model=dump_model,
                    guards=guards,
                )
                or shape
            )

        async def handle(request: Request, plan: SolvePlan) -> Response:
            response: Response
            body = await read_body(request, plan) if body_field is not None else None
            # What the plan solved, in locals (a SolvedDependency is made only by run_plan): the
            # endpoint's values, their errors, and the sub-response and background tasks that
            # dependencies may have asked for.
            sub: Response | None = None
            background: BackgroundTasks | None = None
            if body_only is not None and type(body) is JsonValidatedBody:
                values: Any = {body_only: body.value}
                errors: Any = None
            elif plan.empty:
                values, errors = NOTHING_SOLVED.values, None
            elif plan.path_readers is not None:
                values, errors = read_path_values(plan.path_readers, request.path_params)
            else:
                solved = await run_plan(plan, request, body)
                values, errors = solved.values, solved.errors
                sub, background = solved.response, solved.background_tasks
            if errors:
                if type(body) is JsonValidatedBody:
                    body = await request.json()  # the parsed body, as the usual path gives it
                raise RequestValidationError(errors, body=body, endpoint_ctx=endpoint_ctx(request))
            if is_sse_stream:
                response = await _sse_response(
                    call,
                    values,
                    is_async_gen,
                    serialize_item,
                    request=request,
                    args=response_args(background, sub),
                )
            elif is_json_stream:
                gen = call(**values)
                content: Any = (
                    _jsonl_async(gen, serialize_item, request)
                    if is_async_gen
                    else _jsonl_sync(gen, serialize_item, request)
                )
                response = StreamingResponse(
                    content, media_type="application/jsonl", **response_args(background, sub)
                )
            elif is_generator:
                gen = call(**values)
                if is_async_gen:
                    gen = _raw_async(gen)
                response = actual_response_class(content=gen, **response_args(background, sub))
            else:
                # (`call()` when there is nothing to pass: 30 ns less than unpacking an empty dict)
                raw = (
                    await (call(**values) if values else call())
                    if is_coroutine
                    else await run_in_threadpool(call, **values)
                )
                return json_shape(raw, request, background, sub)
            if sub is not None:
                response.headers.raw.extend(sub.headers.raw)
            return response

        def begin(request: Request, plan: SolvePlan) -> Awaitable[Any] | None:
            """What handle() awaits for the endpoint's result, when nothing is awaited before it
            (the plan solves nothing, or only path parameters); None: handle() is needed."""
            if plan.empty:
                return call() if is_coroutine else run_in_threadpool(call)
            readers = plan.path_readers
            if readers is None:
                return None
            values, errors = read_path_values(readers, request.path_params)
            if errors:
                raise RequestValidationError(errors, body=None, endpoint_ctx=endpoint_ctx(request))
            return call(**values) if is_coroutine else run_in_threadpool(call, **values)

        # begin() for an endpoint called without a body, whose result is shaped (not streamed)
        takes_begin = body_field is None and not (is_sse_stream or is_json_stream or is_generator)
        if not takes_begin:
            return FastCall(handle, None, json_shape)

        def path_errors(request: Request, errors: list[dict[str, Any]]) -> NoReturn:
            raise RequestValidationError(errors, body=None, endpoint_ctx=endpoint_ctx(request))

        # (begin with path parameters written natively, for a coroutine endpoint: fasterapi-server)
        fast_begin = (
            native_path_begin(begin, call, json_body_plan.path_readers, path_errors) if is_coroutine else None
        )
        return FastCall(handle, fast_begin or begin, json_shape, call if is_coroutine else None)


# The streams of handle()'s generator endpoints, at module level: a function defined inside
# handle() would make every call of it keep `request` and `gen` in cells (two objects a request).
async def _jsonl_async(
    gen: AsyncIterator[Any], serialize_item: Callable[[Any, Request], bytes], request: Request
) -> AsyncIterator[bytes]:
    async for item in gen:
        yield serialize_item(item, request) + b"\n"
        await anyio.sleep(0)


def _jsonl_sync(
    gen: Iterator[Any], serialize_item: Callable[[Any, Request], bytes], request: Request
) -> Iterator[bytes]:
    for item in gen:
        yield serialize_item(item, request) + b"\n"


async def _raw_async(agen: AsyncIterator[Any]) -> AsyncIterator[Any]:
    async for chunk in agen:
        yield chunk
        await anyio.sleep(0)


async def _sse_response(
    call: Callable[..., Any],
    values: dict[str, Any],
    is_async_gen: bool,
    serialize_item: Callable[[Any, Request], bytes],
    *,
    request: Request,
    args: dict[str, Any],
) -> Response:
    gen = call(**values)

    def encode(item: Any) -> bytes:
        if isinstance(item, sse.ServerSentEvent):
            if item.raw_data is not None:
                data: str | None = item.raw_data
            elif item.data is not None:
                if hasattr(item.data, "model_dump_json"):
                    data = item.data.model_dump_json()
                else:
                    data = json.dumps(_normalize_non_finite_floats(jsonable_encoder(item.data)))
            else:
                data = None
            return sse.format_sse_event(
                data_str=data, event=item.event, id=item.id, retry=item.retry, comment=item.comment
            )
        return sse.format_sse_event(data_str=serialize_item(item, request).decode("utf-8"))

    source: AsyncIterator[Any] = gen.__aiter__() if is_async_gen else iterate_in_threadpool(gen)
    ping_interval = _PING_INTERVAL  # read per response: tests shorten it
    keepalive = KEEPALIVE_COMMENT

    @asynccontextmanager
    async def producer() -> AsyncIterator[Any]:
        send_items, receive_items = anyio.create_memory_object_stream[bytes](max_buffer_size=1)
        send_out, receive_out = anyio.create_memory_object_stream[bytes](max_buffer_size=1)

        async def produce() -> None:
            async with send_items:
                async for raw in source:
                    await send_items.send(encode(raw))

        async def forward() -> None:
            async with send_out, receive_items:
                try:
                    while True:
                        try:
                            with anyio.fail_after(ping_interval):
                                data = await receive_items.receive()
                            await send_out.send(data)
                        except TimeoutError:
                            await send_out.send(keepalive)
                except anyio.EndOfStream:
                    pass

        async with anyio.create_task_group() as tg:
            tg.start_soon(produce)
            tg.start_soon(forward)
            yield receive_out
            tg.cancel_scope.cancel()

    stack = request.scope["fastapi_inner_astack"]
    stream = await stack.enter_async_context(producer())
    stack.push_async_callback(stream.aclose)

    async def body() -> AsyncIterator[bytes]:
        async for data in stream:
            yield data
            await anyio.sleep(0)

    response = StreamingResponse(body(), media_type="text/event-stream", **args)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    return response


def _frontend_dependency_endpoint() -> None:
    pass  # pragma: no cover


async def _serve_frontend_with_dependencies(
    route: FrontendRoute, scope: Scope, receive: Receive, send: Send
) -> None:
    """A frontend file behind the dependencies of its routers, solved as a path operation's."""
    if route.compiled is None:
        dependant = get_dependant(path="", call=_frontend_dependency_endpoint, scope="function")
        for depends in route.dependencies[::-1]:
            dependant.dependencies.insert(0, get_parameterless_sub_dependant(depends=depends, path=""))
        route.compiled = (dependant, compile_plan(dependant, embed_body_fields=False))
    dependant, plan = route.compiled
    overrides = getattr(route.dependency_overrides_provider, "dependency_overrides", None)
    if overrides:
        plan = compile_plan(dependant, embed_body_fields=False, overrides=overrides)
    request = Request(scope, receive, send)

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        async with AsyncExitStack() as request_stack:
            scope["fastapi_inner_astack"] = request_stack
            async with AsyncExitStack() as function_stack:
                scope["fastapi_function_astack"] = function_stack
                solved = await run_plan(plan, request)
                if solved.errors:
                    raise RequestValidationError(solved.errors, body=None)
                response = await route.files.response_for(scope, scope.get("fastapi.frontend_path", ""))
                if response.background is None:
                    response.background = solved.background_tasks
                if solved.response is not None:
                    response.headers.raw.extend(solved.response.headers.raw)
            await response(scope, receive, send)

    await wrap_app_handling_exceptions(inner, request)(scope, receive, send)


class APIWebSocketRoute(WebSocketRoute):
    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        name: str | None = None,
        dependencies: Sequence[params.Depends] | None = None,
        dependency_overrides_provider: Any | None = None,
    ) -> None:
        self.path = path
        self.endpoint = endpoint
        self.name = get_name(endpoint) if name is None else name
        self.dependencies = list(dependencies or [])
        self.path_regex, self.path_format, self.param_convertors = compile_path(path)
        self.dependant = get_dependant(path=self.path_format, call=self.endpoint, scope="function")
        for depends in self.dependencies[::-1]:
            self.dependant.dependencies.insert(
                0, get_parameterless_sub_dependant(depends=depends, path=self.path_format)
            )
        self._flat_dependant = self.dependant
        self._embed_body_fields = _should_embed_body_fields(_get_flat_body_params(self.dependant))
        self.dependency_overrides_provider = dependency_overrides_provider
        self._plan = compile_plan(self.dependant, embed_body_fields=self._embed_body_fields)
        call = self.dependant.call
        assert call is not None

        async def app(websocket: WebSocket) -> None:
            plan = self._plan
            overrides = getattr(self.dependency_overrides_provider, "dependency_overrides", None)
            if overrides:
                plan = compile_plan(
                    self.dependant, embed_body_fields=self._embed_body_fields, overrides=overrides
                )
            solved = await run_plan(plan, websocket)
            if solved.errors:
                ctx = dict(_extract_endpoint_context(call))
                mount_path = websocket.scope.get("root_path", "").rstrip("/")
                ctx["path"] = f"WS {mount_path}{self.path_format}"
                raise WebSocketRequestValidationError(solved.errors, endpoint_ctx=ctx)  # type: ignore[arg-type]
            await call(**solved.values)

        self.app = websocket_session(app)


class APIRouter(Router):
    """Groups path operations; `include_router` copies them into another router or app."""

    def __init__(
        self,
        *,
        prefix: str = "",
        tags: list[str | Enum] | None = None,
        dependencies: Sequence[params.Depends] | None = None,
        default_response_class: type[Response] = Default(JSONResponse),
        responses: dict[int | str, dict[str, Any]] | None = None,
        callbacks: list[BaseRoute] | None = None,
        routes: list[BaseRoute] | None = None,
        redirect_slashes: bool = True,
        default: ASGIApp | None = None,
        dependency_overrides_provider: Any | None = None,
        route_class: type[APIRoute] = APIRoute,
        on_startup: Sequence[Callable[[], Any]] | None = None,
        on_shutdown: Sequence[Callable[[], Any]] | None = None,
        lifespan: Lifespan[Any] | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        generate_unique_id_function: Callable[[APIRoute], str] = Default(generate_unique_id),
        strict_content_type: bool = Default(True),
    ) -> None:
        lifespan_context: Lifespan[Any]
        if lifespan is None:
            lifespan_context = _DefaultLifespan(self)
        elif inspect.isasyncgenfunction(lifespan):
            lifespan_context = asynccontextmanager(lifespan)
        elif inspect.isgeneratorfunction(lifespan):
            lifespan_context = _wrap_gen_lifespan_context(lifespan)
        else:
            lifespan_context = lifespan
        super().__init__(
            routes=routes, redirect_slashes=redirect_slashes, default=default, lifespan=lifespan_context
        )
        self.lifespan_context = lifespan_context
        if prefix:
            assert prefix.startswith("/"), "A path prefix must start with '/'"
            assert not prefix.endswith("/"), (
                "A path prefix must not end with '/', as the routes will start with '/'"
            )
        self.on_startup: list[Callable[[], Any]] = list(on_startup or [])
        self.on_shutdown: list[Callable[[], Any]] = list(on_shutdown or [])
        self.prefix = prefix
        self.tags: list[str | Enum] = tags or []
        self.dependencies = list(dependencies or [])
        self.deprecated = deprecated
        self.include_in_schema = include_in_schema
        self.responses = responses or {}
        self.callbacks = callbacks or []
        self.dependency_overrides_provider = dependency_overrides_provider
        self.route_class = route_class
        self.default_response_class = default_response_class
        self.generate_unique_id_function = generate_unique_id_function
        self.strict_content_type = strict_content_type
        # Tried when no route matched (the frontends, see `frontend()`), before `default`.
        self._low_priority_routes: list[BaseRoute] = []
        self._fallback_default = self.default
        self.default = self._low_priority_default

    async def _low_priority_default(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._low_priority_routes:
            found = match_low_priority(self._low_priority_routes, scope)
            if found is not None:
                route, child_scope = found
                scope.update(child_scope)
                scope["route"] = route
                if (
                    isinstance(route, FrontendRoute)
                    and route.dependencies
                    and scope["method"] in route.methods
                ):
                    await _serve_frontend_with_dependencies(route, scope, receive, send)
                else:
                    await route.handle(scope, receive, send)
                return
        await self._fallback_default(scope, receive, send)

    def frontend(
        self,
        path: str,
        *,
        directory: str | os.PathLike[str],
        fallback: Literal["auto", "index.html", "404.html"] | None = "auto",
        check_dir: bool | Literal["auto"] = "auto",
    ) -> None:
        """Serves a static frontend build (`directory`) under `path`, after every other route:
        its files, else "404.html" (status 404), else "index.html" for a browser navigation
        (`fallback="auto"`; or name the fallback file, or None for none)."""
        if fallback not in {"auto", "index.html", "404.html", None}:
            raise AssertionError("fallback must be 'auto', 'index.html', '404.html', or None")
        resolved_check_dir = resolve_check_dir(directory, check_dir)
        files = FrontendStaticFiles(directory=directory, fallback=fallback, check_dir=resolved_check_dir)
        full_path = join_frontend_paths(self.prefix, normalize_frontend_path(path))
        self._low_priority_routes.append(
            FrontendRoute(
                full_path,
                files,
                dependencies=self.dependencies,
                dependency_overrides_provider=self.dependency_overrides_provider,
            )
        )

    async def _startup(self) -> None:
        for handler in self.on_startup:
            if is_async_callable(handler):
                await handler()
            else:
                handler()

    async def _shutdown(self) -> None:
        for handler in self.on_shutdown:
            if is_async_callable(handler):
                await handler()
            else:
                handler()

    def add_event_handler(self, event_type: str, func: Callable[[], Any]) -> None:
        assert event_type in ("startup", "shutdown")
        (self.on_startup if event_type == "startup" else self.on_shutdown).append(func)

    @deprecated(_ON_EVENT_DEPRECATED)
    def on_event(self, event_type: str) -> Callable[[DecoratedCallable], DecoratedCallable]:
        def decorator(func: DecoratedCallable) -> DecoratedCallable:
            self.add_event_handler(event_type, func)
            return func

        return decorator

    def route(
        self,
        path: str,
        methods: list[str] | None = None,
        name: str | None = None,
        include_in_schema: bool = True,
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        def decorator(func: DecoratedCallable) -> DecoratedCallable:
            self.add_route(path, func, methods=methods, name=name, include_in_schema=include_in_schema)
            return func

        return decorator

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
        methods: set[str] | list[str] | None = None,
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
        route_class_override: type[APIRoute] | None = None,
        callbacks: list[BaseRoute] | None = None,
        openapi_extra: dict[str, Any] | None = None,
        generate_unique_id_function: Callable[[APIRoute], str] | DefaultPlaceholder = Default(
            generate_unique_id
        ),
        strict_content_type: bool | DefaultPlaceholder = Default(True),
    ) -> None:
        route_class = route_class_override or self.route_class
        responses = responses or {}
        combined_responses = {**self.responses, **responses}
        current_response_class = get_value_or_default(response_class, self.default_response_class)
        current_tags = list(self.tags)
        if tags:
            current_tags.extend(tags)
        current_dependencies = list(self.dependencies)
        if dependencies:
            current_dependencies.extend(dependencies)
        current_callbacks = list(self.callbacks)
        if callbacks:
            current_callbacks.extend(callbacks)
        current_uid = get_value_or_default(generate_unique_id_function, self.generate_unique_id_function)
        route = route_class(
            self.prefix + path,
            endpoint=endpoint,
            response_model=response_model,
            status_code=status_code,
            tags=current_tags,
            dependencies=current_dependencies,
            summary=summary,
            description=description,
            response_description=response_description,
            responses=combined_responses,
            deprecated=deprecated or self.deprecated,
            methods=methods,
            operation_id=operation_id,
            response_model_include=response_model_include,
            response_model_exclude=response_model_exclude,
            response_model_by_alias=response_model_by_alias,
            response_model_exclude_unset=response_model_exclude_unset,
            response_model_exclude_defaults=response_model_exclude_defaults,
            response_model_exclude_none=response_model_exclude_none,
            include_in_schema=include_in_schema and self.include_in_schema,
            response_class=current_response_class,
            name=name,
            dependency_overrides_provider=self.dependency_overrides_provider,
            callbacks=current_callbacks,
            openapi_extra=openapi_extra,
            generate_unique_id_function=current_uid,
            strict_content_type=get_value_or_default(strict_content_type, self.strict_content_type),
        )
        self.routes.append(route)

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
        callbacks: list[BaseRoute] | None = None,
        openapi_extra: dict[str, Any] | None = None,
        generate_unique_id_function: Callable[[APIRoute], str] = Default(generate_unique_id),
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        def decorator(func: DecoratedCallable) -> DecoratedCallable:
            self.add_api_route(
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
                callbacks=callbacks,
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
        current_dependencies = list(self.dependencies)
        if dependencies:
            current_dependencies.extend(dependencies)
        self.routes.append(
            APIWebSocketRoute(
                self.prefix + path,
                endpoint=endpoint,
                name=name,
                dependencies=current_dependencies,
                dependency_overrides_provider=self.dependency_overrides_provider,
            )
        )

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

    def websocket_route(
        self, path: str, name: str | None = None
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        def decorator(func: DecoratedCallable) -> DecoratedCallable:
            self.add_websocket_route(path, func, name=name)
            return func

        return decorator

    def include_router(
        self,
        router: APIRouter,
        *,
        prefix: str = "",
        tags: list[str | Enum] | None = None,
        dependencies: Sequence[params.Depends] | None = None,
        default_response_class: type[Response] = Default(JSONResponse),
        responses: dict[int | str, dict[str, Any]] | None = None,
        callbacks: list[BaseRoute] | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        generate_unique_id_function: Callable[[APIRoute], str] = Default(generate_unique_id),
    ) -> None:
        assert self is not router, (
            "Cannot include the same APIRouter instance into itself. "
            "Did you mean to include a different router?"
        )
        if prefix:
            assert prefix.startswith("/"), "A path prefix must start with '/'"
            assert not prefix.endswith("/"), (
                "A path prefix must not end with '/', as the routes will start with '/'"
            )
        else:
            for r in router.routes:
                path = getattr(r, "path", None)
                name = getattr(r, "name", "unknown")
                if path is not None and not path:
                    raise FastAPIError(f"Prefix and path cannot be both empty (path operation: {name})")
        responses = responses or {}
        for route in router.routes:
            if isinstance(route, APIRoute):
                combined_responses = {**responses, **route.responses}
                use_response_class = get_value_or_default(
                    route.response_class,
                    router.default_response_class,
                    default_response_class,
                    self.default_response_class,
                )
                current_tags: list[str | Enum] = []
                if tags:
                    current_tags.extend(tags)
                if route.tags:
                    current_tags.extend(route.tags)
                current_dependencies: list[params.Depends] = []
                if dependencies:
                    current_dependencies.extend(dependencies)
                if route.dependencies:
                    current_dependencies.extend(route.dependencies)
                current_callbacks: list[BaseRoute] = []
                if callbacks:
                    current_callbacks.extend(callbacks)
                if route.callbacks:
                    current_callbacks.extend(route.callbacks)
                current_uid = get_value_or_default(
                    route.generate_unique_id_function,
                    router.generate_unique_id_function,
                    generate_unique_id_function,
                    self.generate_unique_id_function,
                )
                self.add_api_route(
                    prefix + route.path,
                    route.endpoint,
                    response_model=getattr(route, "_response_model_argument", route.response_model),
                    status_code=route.status_code,
                    tags=current_tags,
                    dependencies=current_dependencies,
                    summary=route.summary,
                    description=route.description,
                    response_description=route.response_description,
                    responses=combined_responses,
                    deprecated=route.deprecated or deprecated or self.deprecated,
                    methods=route.methods,
                    operation_id=route.operation_id,
                    response_model_include=route.response_model_include,
                    response_model_exclude=route.response_model_exclude,
                    response_model_by_alias=route.response_model_by_alias,
                    response_model_exclude_unset=route.response_model_exclude_unset,
                    response_model_exclude_defaults=route.response_model_exclude_defaults,
                    response_model_exclude_none=route.response_model_exclude_none,
                    include_in_schema=route.include_in_schema
                    and self.include_in_schema
                    and include_in_schema,
                    response_class=use_response_class,
                    name=route.name,
                    route_class_override=type(route),
                    callbacks=current_callbacks,
                    openapi_extra=route.openapi_extra,
                    generate_unique_id_function=current_uid,
                    strict_content_type=get_value_or_default(
                        route.strict_content_type, router.strict_content_type, self.strict_content_type
                    ),
                )
            elif isinstance(route, APIWebSocketRoute):
                current_dependencies = []
                if dependencies:
                    current_dependencies.extend(dependencies)
                if route.dependencies:
                    current_dependencies.extend(route.dependencies)
                self.add_api_websocket_route(
                    prefix + route.path, route.endpoint, dependencies=current_dependencies, name=route.name
                )
            elif isinstance(route, _BaseHTTPRoute):
                methods = list(route.methods or [])
                self.add_route(
                    prefix + route.path,
                    route.endpoint,
                    methods=methods,
                    include_in_schema=route.include_in_schema,
                    name=route.name,
                )
            elif isinstance(route, WebSocketRoute):
                self.add_websocket_route(prefix + route.path, route.endpoint, name=route.name)
            else:
                self.routes.append(route)
        for route in router._low_priority_routes:
            if isinstance(route, FrontendRoute):
                self._low_priority_routes.append(
                    route.with_prefix(
                        self.prefix + prefix,
                        [*self.dependencies, *(dependencies or [])],
                        self.dependency_overrides_provider,
                    )
                )
            else:
                self._low_priority_routes.append(route)
        for handler in router.on_startup:
            self.add_event_handler("startup", handler)
        for handler in router.on_shutdown:
            self.add_event_handler("shutdown", handler)
        self.lifespan_context = _merge_lifespan_context(self.lifespan_context, router.lifespan_context)

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
        return self.api_route(
            path,
            methods=["GET"],
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
        return self.api_route(
            path,
            methods=["PUT"],
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
        return self.api_route(
            path,
            methods=["POST"],
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
        return self.api_route(
            path,
            methods=["DELETE"],
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
        return self.api_route(
            path,
            methods=["OPTIONS"],
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
        return self.api_route(
            path,
            methods=["HEAD"],
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
        return self.api_route(
            path,
            methods=["PATCH"],
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
        return self.api_route(
            path,
            methods=["TRACE"],
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
