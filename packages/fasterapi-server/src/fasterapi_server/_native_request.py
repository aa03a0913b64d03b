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

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from fasterapi.datastructures import Headers, QueryParams
from fasterapi.middleware.asyncexitstack import RequestStack
from fasterapi.middleware.exceptions import HANDLERS_SCOPE_KEY
from fasterapi.requests import Request

from fasterapi_server._engine import Request as EngineRequest

if TYPE_CHECKING:
    from fasterapi_server._native import NativeApp, NativeCycle

T = TypeVar("T")


class _OnFirstUse(Generic[T]):
    """An attribute made by `make(instance)` when first read. A non-data descriptor: the value,
    once set on the instance, is found there before the class is looked at, at the cost of any
    plain attribute."""

    __slots__ = ("make", "name")

    def __init__(self, make: Callable[[Any], T]) -> None:
        self.make = make
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> T:
        if instance is None:
            return self  # type: ignore[return-value]
        value = self.make(instance)
        setattr(instance, self.name, value)  # (no __set__ here: it goes to the instance)
        return value


def _make_scope(self: NativeRequest) -> dict[str, Any]:
    """The scope `fasterapi.applications._serve` would have been given: the engine's for the
    route (Request.scope), the layers' keys, a new exit stack."""
    native = self._native
    shared = native.shared
    scope: dict[str, Any] = self._req.scope(native.bases[self._index], shared.state, shared.root_path, False)
    params = self._params
    scope["path_params"] = params if params is not None else self._req.path_params
    headers = getattr(self, "_headers", None)
    if headers is not None:
        scope["headers"] = headers._list
    layers = self._layers
    scope[HANDLERS_SCOPE_KEY] = layers.handlers
    self._exit_stack = scope[layers.stack_name] = RequestStack()
    return scope


class NativeRequest(Request):
    """A Request of the native path, whose scope is made on first use."""

    # Set when the scope is made (and so telling that it was); `_serve` closes it then. Until
    # then nothing can have been pushed on it.
    _exit_stack: RequestStack | None = None
    _params: dict[str, Any] | None = None

    scope = _OnFirstUse(_make_scope)

    def __init__(
        self, req: EngineRequest, cycle: NativeCycle, native: NativeApp, index: int, layers: Any
    ) -> None:
        # (not Request.__init__: it would need the scope)
        self._req = req
        self._native = native
        self._index = index
        self._layers = layers
        # (made here: one made on first use through a descriptor cost more than these two
        # whenever it was used)
        self._receive = cycle.receive
        self._send = cycle.send

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
