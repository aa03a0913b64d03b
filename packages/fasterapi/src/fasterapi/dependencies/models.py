"""The dependency tree of an endpoint, as analysed from its signature."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

from fasterapi._compat import ModelField
from fasterapi.security.base import SecurityBase

DependencyCacheKey = tuple[Any, tuple[str, ...], str]


def _impartial(func: Any) -> Any:
    while isinstance(func, partial):
        func = func.func
    return func


def _unwrapped_call(call: Any) -> Any:
    if call is None:
        return call
    return inspect.unwrap(_impartial(call))


@dataclass(slots=True)
class Dependant:
    path_params: list[ModelField] = field(default_factory=list)
    query_params: list[ModelField] = field(default_factory=list)
    header_params: list[ModelField] = field(default_factory=list)
    cookie_params: list[ModelField] = field(default_factory=list)
    body_params: list[ModelField] = field(default_factory=list)
    dependencies: list[Dependant] = field(default_factory=list)
    name: str | None = None
    call: Callable[..., Any] | None = None
    request_param_name: str | None = None
    websocket_param_name: str | None = None
    http_connection_param_name: str | None = None
    response_param_name: str | None = None
    background_tasks_param_name: str | None = None
    security_scopes_param_name: str | None = None
    own_oauth_scopes: list[str] | None = None
    parent_oauth_scopes: list[str] | None = None
    use_cache: bool = True
    path: str | None = None
    scope: Literal["function", "request"] | None = None

    @property
    def oauth_scopes(self) -> list[str]:
        return _get_oauth_scopes(dependant=self)

    @property
    def cache_key(self) -> DependencyCacheKey:
        return _get_cache_key(dependant=self)

    @property
    def is_gen_callable(self) -> bool:
        return _is_gen_callable(self.call)

    @property
    def is_async_gen_callable(self) -> bool:
        return _is_async_gen_callable(self.call)

    @property
    def is_coroutine_callable(self) -> bool:
        return _is_coroutine_callable(self.call)

    @property
    def computed_scope(self) -> str | None:
        return _get_computed_scope(dependant=self)


def _get_oauth_scopes(*, dependant: Dependant) -> list[str]:
    scopes = list(dependant.parent_oauth_scopes or [])
    for scope in dependant.own_oauth_scopes or []:
        if scope not in scopes:
            scopes.append(scope)
    return scopes


def _is_security_scheme(*, dependant: Dependant) -> bool:
    if dependant.call is None:
        return False
    return isinstance(_unwrapped_call(dependant.call), SecurityBase)


def _get_security_scheme(*, dependant: Dependant) -> Any:
    return _unwrapped_call(dependant.call)


def _uses_scopes(*, dependant: Dependant, cache: dict[int, bool] | None = None) -> bool:
    if cache is None:
        cache = {}
    key = id(dependant)
    if key in cache:
        return cache[key]
    result = bool(
        dependant.own_oauth_scopes
        or dependant.security_scopes_param_name is not None
        or _is_security_scheme(dependant=dependant)
        or any(_uses_scopes(dependant=sub, cache=cache) for sub in dependant.dependencies)
    )
    cache[key] = result
    return result


def _get_cache_key(
    *, dependant: Dependant, uses_scopes_cache: dict[int, bool] | None = None
) -> DependencyCacheKey:
    scopes: tuple[str, ...] = ()
    if _uses_scopes(dependant=dependant, cache=uses_scopes_cache):
        scopes = tuple(sorted(set(_get_oauth_scopes(dependant=dependant))))
    return (dependant.call, scopes, _get_computed_scope(dependant=dependant) or "")


def _classify(call: Any, predicate: Callable[[Any], bool]) -> bool:
    """Whether `call` (or, for a callable instance, its `__call__`) satisfies `predicate`."""
    if call is None:
        return False
    if predicate(_impartial(call)) or predicate(_unwrapped_call(call)):
        return True
    if inspect.isclass(_unwrapped_call(call)):
        return False
    dunder = getattr(_impartial(call), "__call__", None)  # noqa: B004
    if dunder is None:
        return False
    if predicate(_impartial(dunder)) or predicate(_unwrapped_call(dunder)):
        return True
    dunder2 = getattr(_unwrapped_call(call), "__call__", None)  # noqa: B004
    if dunder2 is None:
        return False
    return predicate(_impartial(dunder2)) or predicate(_unwrapped_call(dunder2))


def _is_coroutine_function(obj: Any) -> bool:
    return inspect.isroutine(obj) and inspect.iscoroutinefunction(obj)


def _is_gen_callable(call: Any) -> bool:
    return _classify(call, inspect.isgeneratorfunction)


def _is_async_gen_callable(call: Any) -> bool:
    return _classify(call, inspect.isasyncgenfunction)


def _is_coroutine_callable(call: Any) -> bool:
    if call is None:
        return False
    if _is_coroutine_function(_impartial(call)) or _is_coroutine_function(_unwrapped_call(call)):
        return True
    return _classify(call, inspect.iscoroutinefunction)


def _get_computed_scope(*, dependant: Dependant) -> str | None:
    if dependant.scope:
        return dependant.scope
    if _is_gen_callable(dependant.call) or _is_async_gen_callable(dependant.call):
        return "request"
    return None
