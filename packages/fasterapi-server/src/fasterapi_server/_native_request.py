"""The framework's Request of a request on the native path, whose scope is made on first use.

Most path operations never need the scope: their parameters (path, query, headers, body) can be
read from what the engine parsed. The scope dict (the server's keys, the request's, the copied
lifespan state, the extensions, the layers' keys and the exit stack) was about a tenth of such a
request's work. `NativeRequest` makes it when it is first read: the same dict, keys in the same
order, as the request would have had from the start. Every part of it comes from what the engine
parsed or from what does not change while the server runs (the server's keys, the route's); the
lifespan state is copied at that moment rather than at the request's arrival, which only a
lifespan that changes its state dict while requests run could notice. The method, headers, query
and path parameters come from the engine until the scope is made (the same values; the headers'
list becomes the scope's), and from the scope after.

Imported only when the framework is (`NativeApp.attach`): the server alone needs no framework.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fasterapi.datastructures import Headers, QueryParams
from fasterapi.middleware.asyncexitstack import RequestStack
from fasterapi.middleware.exceptions import HANDLERS_SCOPE_KEY
from fasterapi.requests import Request

from fasterapi_server._engine import Request as EngineRequest
from fasterapi_server._native import NativeCycle

if TYPE_CHECKING:
    from fasterapi_server._native import NativeApp


def _make_scope(request: NativeRequest) -> dict[str, Any]:
    """The scope `fasterapi.applications._serve` would have been given: the engine's for the
    route (Request.scope), with the path parameters and headers already handed out if they were,
    the layers' keys and a new exit stack."""
    native = request._native
    shared = native.shared
    params = request._params
    scope: dict[str, Any] = request._req.scope(
        native.bases[request._index], shared.state, shared.root_path, params is None
    )
    if params is not None:
        scope["path_params"] = params
    headers = getattr(request, "_headers", None)
    if headers is not None:
        scope["headers"] = headers._list
    layers = request._layers
    scope[HANDLERS_SCOPE_KEY] = layers.handlers
    request._exit_stack = scope[layers.stack_name] = RequestStack()
    return scope


class _ScopeOnFirstUse:
    """`NativeRequest.scope`: made when first read, then an instance attribute, found before the
    class is looked at (this descriptor has no __set__), at the cost of any other attribute.
    (functools.cached_property does the same with a lock and the instance's __dict__: 0.4 us more
    a request that reads its scope, timeit.)"""

    def __get__(self, request: NativeRequest | None, owner: type | None = None) -> Any:
        if request is None:
            return self
        scope = _make_scope(request)
        request.scope = scope
        return scope


class _CycleMethod:
    """`NativeRequest._receive` and `._send`: the methods of the request's cycle, which the first
    read makes (NativeRequest._need_cycle). Every read comes here: kept on the instance, they
    would be set in a different order from request to request, and Python 3.11 then gives the
    instances dicts of their own, which made every attribute read slower (a POST with a JSON
    body: about 1,300 instructions more a request, callgrind). The framework reads them a few
    times a request at most."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.method = name.removeprefix("_")  # the cycle's

    def __get__(self, request: NativeRequest | None, owner: type | None = None) -> Any:
        if request is None:
            return self
        # (not the instance's __dict__: reading it makes the dict that the instance's attributes
        # are kept without, and every later read of one slower)
        return getattr(request._need_cycle(), self.method)


class NativeRequest(Request):
    """A Request of the native path, whose scope is made on first use, and its server's cycle too
    (most requests need neither)."""

    # (`_exit_stack`, Request's, is set when the scope is made, and so tells that it was)
    _params: dict[str, Any] | None  # the engine's path parameters, once handed out

    scope = _ScopeOnFirstUse()
    _receive = _CycleMethod()
    _send = _CycleMethod()

    def __init__(self, req: EngineRequest, native: NativeApp, index: int, layers: Any) -> None:
        # (not Request.__init__: it would need the scope)
        self._req = req
        self._native = native
        self._index = index
        self._layers = layers
        self._cycle: NativeCycle | None = None  # the server's cycle, once made (req.cycle then)
        # (The class's defaults, on the instance: Python 3.11 reads a class attribute through an
        # instance in full each time, an instance's own through a specialized instruction.)
        self._exit_stack = None
        self._params = None

    def _need_cycle(self) -> NativeCycle:
        """The request's cycle (the ASGI messages, the body's records, the end of a request that
        did not simply answer), made on first use: as the request stands then, answered or not."""
        cycle = self._cycle
        if cycle is None:
            req = self._req
            cycle = self._cycle = NativeCycle(req, self._native.shared)
            req.cycle = cycle  # (the engine's dispatch leaves the end to it; req.answer goes through it)
            cycle.body_done = self._stream_consumed  # (read by body(), without the cycle)
            status = req.answered  # a response req.answer handed to the engine, before the cycle
            if status:
                cycle.status = status
                cycle.started = cycle.ended = True
        return cycle

    async def body(self) -> bytes:
        kept = getattr(self, "_body", None)
        if kept is None and self._cycle is None and not self._req.more_body:
            # The whole body came with the head, and nothing read any of it (that takes the cycle):
            # the engine's bytes, as `receive` would have given them in one message.
            self._stream_consumed = True
            kept = self._body = self._req.body
        return kept if kept is not None else await super().body()

    @property
    def headers(self) -> Headers:
        kept = getattr(self, "_headers", None)
        if kept is None:
            # Over the engine's list, which the scope, when it is made, shares (as Headers(scope=)
            # would have shared the scope's).
            kept = self._headers = (
                Headers(scope=self.scope) if self._exit_stack is not None else Headers(raw=self._req.headers)
            )
        return kept

    def _header_value(self, name: str) -> str | None:
        if self._exit_stack is not None or getattr(self, "_headers", None) is not None:
            return super()._header_value(name)  # (the scope's, or the Headers handed out)
        value: str | None = self._req.header(name)  # the engine's, without building the headers
        return value

    @property
    def query_params(self) -> QueryParams:
        kept = getattr(self, "_query_params", None)
        if kept is None:
            query = self.scope["query_string"] if self._exit_stack is not None else self._req.query_string
            kept = self._query_params = QueryParams(query)
        return kept

    @property
    def method(self) -> str:
        return self.scope["method"] if self._exit_stack is not None else self._req.method

    @property
    def path_params(self) -> dict[str, Any]:
        if self._exit_stack is not None:  # the scope was made: it has the say
            return self.scope.get("path_params", {})  # type: ignore[no-any-return]
        params = self._params
        if params is None:
            params = self._params = self._req.path_params
        return params
