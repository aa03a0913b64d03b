"""Middleware: `Middleware(cls, *args, **kwargs)` declares one, for an application to build."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any, ParamSpec, Protocol

__all__ = ["Middleware"]

P = ParamSpec("P")

# Looser than the ASGIApp type, so that middleware typed against other ASGI stacks fit.
_ASGIApp = Callable[[Any, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]


class _MiddlewareFactory(Protocol[P]):
    def __call__(self, app: _ASGIApp, /, *args: P.args, **kwargs: P.kwargs) -> _ASGIApp: ...


class Middleware:
    """A middleware class and its arguments; unpacks as `cls, args, kwargs`."""

    def __init__(self, cls: _MiddlewareFactory[P], *args: P.args, **kwargs: P.kwargs) -> None:
        self.cls = cls
        self.args = args
        self.kwargs = kwargs

    def __iter__(self) -> Iterator[Any]:
        return iter((self.cls, self.args, self.kwargs))

    def __repr__(self) -> str:
        args = [repr(value) for value in self.args]
        options = [f"{key}={value!r}" for key, value in self.kwargs.items()]
        name = getattr(self.cls, "__name__", "")
        return f"{self.__class__.__name__}({', '.join([name, *args, *options])})"
