"""`AsyncExitStackMiddleware`: an `AsyncExitStack` per request, in the scope, closed after it."""

from __future__ import annotations

from collections import deque
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

from ..types import ASGIApp, Receive, Scope, Send

__all__ = ["AsyncExitStackMiddleware"]

if TYPE_CHECKING:

    class _AsyncExitStack(AsyncExitStack[bool | None]):
        # Private to contextlib (not in its stubs): what was pushed on the stack, read to skip
        # entering and closing a stack nothing was pushed on.
        _exit_callbacks: deque[tuple[bool, Any]]

else:
    _AsyncExitStack = AsyncExitStack


class AsyncExitStackMiddleware:
    """Puts an `AsyncExitStack` in `scope[context_name]` and closes it once the app returns or
    raises, as `async with` would; a stack nothing was pushed on is not entered or closed (the
    common case: this runs on every request)."""

    def __init__(self, app: ASGIApp, context_name: str = "fastapi_middleware_astack") -> None:
        self.app = app
        self.context_name = context_name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        stack = _AsyncExitStack()
        scope[self.context_name] = stack
        try:
            await self.app(scope, receive, send)
        except BaseException as exc:
            if stack._exit_callbacks and await stack.__aexit__(type(exc), exc, exc.__traceback__):
                return
            raise
        if stack._exit_callbacks:
            await stack.aclose()
