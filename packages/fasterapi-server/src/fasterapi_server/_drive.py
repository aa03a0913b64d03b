"""Running a request's coroutine: eagerly where asyncio can, as a Task otherwise.

Most endpoints compute their answer without suspending; scheduling a Task through the event loop
for each costs more than the endpoint. On Python 3.12 and later a Task can start eagerly: its
first step runs at once, inside the Task (so `asyncio.current_task()`, `asyncio.timeout()` and
anyio's cancel scopes work), and a coroutine that finishes there is never scheduled at all.

Python 3.11 has no eager start, and running the first step outside any Task is not an option:
code that needs the current task (asyncio.timeout, anyio task groups, Starlette's
BaseHTTPMiddleware) fails there. On 3.11 every request is a Task, as with uvicorn.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from typing import Any

_EAGER = sys.version_info >= (3, 12)


def drive(coro: Coroutine[Any, Any, Any], loop: asyncio.AbstractEventLoop) -> asyncio.Task[Any] | None:
    """Starts `coro` (which handles its own exceptions). None if it already finished; else the
    Task that runs the rest."""
    if _EAGER:
        task: asyncio.Task[Any] = asyncio.Task(coro, loop=loop, eager_start=True)  # type: ignore[call-arg, unused-ignore]
        return None if task.done() else task
    return loop.create_task(coro)
