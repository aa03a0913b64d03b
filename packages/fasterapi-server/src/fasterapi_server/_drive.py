"""Running a request's coroutine as a Task that starts eagerly.

Most endpoints compute their answer without suspending; scheduling a Task through the event loop
for each costs more than the endpoint. An eager Task runs its first step at once, inside the Task
(so `asyncio.current_task()`, `asyncio.timeout()` and anyio's cancel scopes work from the first
line), and a coroutine that finishes there is never scheduled at all; one that waits goes on as
the same Task.

Python 3.12 has eager tasks (`eager_start=True`). Python 3.11 does not. There, the Task is
asyncio's own (the C one), started by the engine's `EagerStart`: its constructor schedules the
first step with `loop.call_soon(step, context=...)`, looked up on the loop object; for the length
of that one call, `call_soon` on the loop instance is a native function that removes itself and
runs the step at once (every other `call_soon` goes to the loop as usual), and a Task that
finished there is not added to asyncio's set of all tasks (as 3.12 does for eager tasks: a
finished task is never in `all_tasks()`). A loop without an instance `__dict__` (neither
asyncio's nor uvloop's lacks one) gets `PyEagerTask`: asyncio's pure-Python Task with the same
change, slower. (Running the first step outside any Task is not an option: code that needs the
current task fails there.) `drive` is called from a loop callback, where no other Task is
current.
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
from asyncio import base_events, futures, tasks
from collections.abc import Callable, Coroutine
from typing import Any

from fasterapi_server._engine import EagerStart, item_reader

_EAGER = sys.version_info >= (3, 12)
_Task = asyncio.Task
TASK_NAME = "fasterapi-request"


class PyEagerTask(tasks._PyTask):  # type: ignore[name-defined, misc]
    """asyncio.Task (the pure-Python one) whose first step runs in the constructor (3.11)."""

    def __init__(self, coro: Coroutine[Any, Any, Any], *, loop: asyncio.AbstractEventLoop) -> None:
        # tasks._PyTask.__init__ of CPython 3.11, without its `loop.call_soon(self.__step)`.
        futures._PyFuture.__init__(self, loop=loop)  # type: ignore[attr-defined]
        if not asyncio.iscoroutine(coro):
            self._log_destroy_pending = False
            raise TypeError(f"a coroutine was expected, got {coro!r}")
        if self._source_traceback:
            del self._source_traceback[-1]
        self._name = TASK_NAME
        self._num_cancels_requested = 0
        self._must_cancel = False
        self._fut_waiter = None
        self._coro = coro
        self._context = contextvars.copy_context()
        tasks._register_task(self)
        self._context.run(self._Task__step)


class Driver:
    """Starts requests' coroutines on one loop; `drive` is the way this Python and loop allow,
    chosen once."""

    __slots__ = ("drive", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.drive: Callable[[Coroutine[Any, Any, Any]], asyncio.Task[Any] | None]
        # Every Task's constructor asks the loop's get_debug(), which for asyncio's loop is a
        # Python method that returns `self._debug`: the same answer from a C callable, on the
        # instance, is one Python call less per request (timeit, one drive() of a coroutine that
        # returns at once: 725 -> 668 ns with functools.partial(getattr, loop, "_debug"); the
        # engine's reader of the instance's dict is about 300 instructions less again). uvloop's
        # is C already; a loop with its own, or whose class has a `_debug`, is left.
        if (
            getattr(type(loop), "get_debug", None) is base_events.BaseEventLoop.get_debug
            and isinstance(getattr(loop, "__dict__", None), dict)
            and "_debug" in loop.__dict__
            and not hasattr(type(loop), "_debug")
            and "get_debug" not in loop.__dict__
        ):
            loop.get_debug = item_reader(loop.__dict__, "_debug")  # type: ignore[method-assign]
        if _EAGER:
            self.drive = self._eager_start
        elif isinstance(getattr(loop, "__dict__", None), dict):
            self.drive = EagerStart(loop, _Task, TASK_NAME).start
        else:
            self.drive = self._py_task

    # Each starts `coro` and gives None if it already finished with a result, else the Task: one
    # that runs the rest, or one that failed or was cancelled in its first step (done; its
    # exception is the caller's to retrieve).

    def _eager_start(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any] | None:
        task: asyncio.Task[Any] = _Task(coro, loop=self.loop, name=TASK_NAME, eager_start=True)  # type: ignore[call-arg, unused-ignore]
        return None if _succeeded(task) else task

    def _py_task(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any] | None:
        task = PyEagerTask(coro, loop=self.loop)
        return None if _succeeded(task) else task


def _succeeded(task: asyncio.Task[Any]) -> bool:
    return task.done() and not task.cancelled() and task.exception() is None
