"""`AsyncExitStackMiddleware`: an `AsyncExitStack` per request, in the scope, closed after it."""

from __future__ import annotations

from collections import deque
from contextlib import AsyncExitStack
from typing import Any

from ..types import ASGIApp, Receive, Scope, Send

__all__ = ["AsyncExitStackMiddleware", "RequestStack"]


class RequestStack(AsyncExitStack[bool | None]):
    """The `AsyncExitStack` of one request: its list of callbacks is made on the first push. Most
    requests push nothing, and making the list was most of what a stack cost."""

    # Private to contextlib (not in its stubs): what was pushed on the stack, read to skip entering
    # and closing a stack nothing was pushed on. Empty until the first push (a tuple: nothing
    # appends to it by mistake).
    _exit_callbacks: deque[tuple[bool, Any]] = ()  # type: ignore[assignment]

    __init__ = object.__init__  # (AsyncExitStack's makes the list)

    def _push_exit_callback(self, callback: Any, is_sync: bool = True) -> None:
        # Every push of contextlib's ends here (pop_all() can hand over the empty tuple, too).
        callbacks = self._exit_callbacks
        if type(callbacks) is not deque:
            callbacks = self._exit_callbacks = deque(callbacks)
        callbacks.append((is_sync, callback))


class AsyncExitStackMiddleware:
    """Puts an `AsyncExitStack` in `scope[context_name]` and closes it once the app returns or
    raises, as `async with` would; a stack nothing was pushed on is not entered or closed (the
    common case: this runs on every request)."""

    def __init__(self, app: ASGIApp, context_name: str = "fastapi_middleware_astack") -> None:
        self.app = app
        self.context_name = context_name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        stack = RequestStack()
        scope[self.context_name] = stack
        try:
            await self.app(scope, receive, send)
        except BaseException as exc:
            if stack._exit_callbacks and await stack.__aexit__(type(exc), exc, exc.__traceback__):
                return
            raise
        if stack._exit_callbacks:
            await stack.aclose()
