"""Running a request's coroutine as a Task that starts eagerly.

Most endpoints compute their answer without suspending; scheduling a Task through the event loop
for each costs more than the endpoint. An eager Task runs its first step at once, inside the Task
(so `asyncio.current_task()`, `asyncio.timeout()` and anyio's cancel scopes work from the first
line), and a coroutine that finishes there is never scheduled at all; one that waits goes on as
the same Task.

Python 3.12 has eager tasks (`eager_start=True`). Python 3.11 does not, so `EagerTask` makes one
from asyncio's pure-Python Task: its constructor is the stdlib's but for the last step, which
runs the first step now instead of scheduling it. (Running the first step outside any Task is not
an option: code that needs the current task fails there.) `drive` is called from a loop callback,
where no other Task is current.
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
from asyncio import futures, tasks
from collections.abc import Coroutine
from typing import Any

_EAGER = sys.version_info >= (3, 12)


class EagerTask(tasks._PyTask):  # type: ignore[name-defined, misc]
    """asyncio.Task (the pure-Python one) whose first step runs in the constructor (3.11)."""

    def __init__(self, coro: Coroutine[Any, Any, Any], *, loop: asyncio.AbstractEventLoop) -> None:
        # tasks._PyTask.__init__ of CPython 3.11, without its `loop.call_soon(self.__step)`.
        futures._PyFuture.__init__(self, loop=loop)  # type: ignore[attr-defined]
        if self._source_traceback:
            del self._source_traceback[-1]
        self._name = "fasterapi-request"
        self._num_cancels_requested = 0
        self._must_cancel = False
        self._fut_waiter = None
        self._coro = coro
        self._context = contextvars.copy_context()
        tasks._register_task(self)
        self._context.run(self._Task__step)


def drive(coro: Coroutine[Any, Any, Any], loop: asyncio.AbstractEventLoop) -> asyncio.Task[Any] | None:
    """Starts `coro` (which handles its own exceptions). None if it already finished; else the
    Task that runs the rest."""
    if _EAGER:
        task: asyncio.Task[Any] = asyncio.Task(coro, loop=loop, eager_start=True)  # type: ignore[call-arg, unused-ignore]
    else:
        task = EagerTask(coro, loop=loop)
    return None if task.done() else task
