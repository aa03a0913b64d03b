"""The ASGI types the framework speaks, named as ASGI applications usually name them."""

from __future__ import annotations

import types
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from contextlib import AbstractAsyncContextManager
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar, Union

from pydantic import BaseModel
from pydantic.main import IncEx as IncEx  # noqa: PLC0414

if TYPE_CHECKING:
    from .requests import Request
    from .responses import Response
    from .websockets import WebSocket

__all__ = [
    "ASGIApp",
    "AppType",
    "DecoratedCallable",
    "DependencyCacheKey",
    "ExceptionHandler",
    "HTTPExceptionHandler",
    "IncEx",
    "Lifespan",
    "Message",
    "ModelNameMap",
    "Receive",
    "Scope",
    "Send",
    "StatefulLifespan",
    "StatelessLifespan",
    "UnionType",
    "WebSocketExceptionHandler",
]

AppType = TypeVar("AppType")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]

Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

StatelessLifespan = Callable[[AppType], AbstractAsyncContextManager[None]]
StatefulLifespan = Callable[[AppType], AbstractAsyncContextManager[Mapping[str, Any]]]
Lifespan = StatelessLifespan[AppType] | StatefulLifespan[AppType]

HTTPExceptionHandler = Callable[["Request", Exception], "Response | Awaitable[Response]"]
WebSocketExceptionHandler = Callable[["WebSocket", Exception], Awaitable[None]]
ExceptionHandler = HTTPExceptionHandler | WebSocketExceptionHandler

DecoratedCallable = TypeVar("DecoratedCallable", bound=Callable[..., Any])
UnionType = getattr(types, "UnionType", Union)
ModelNameMap = dict[type[BaseModel] | type[Enum], str]
DependencyCacheKey = tuple[Callable[..., Any] | None, tuple[str, ...], str]
