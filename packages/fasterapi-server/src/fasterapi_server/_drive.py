"""Running a request's coroutine without a Task when it never waits.

Most endpoints compute their answer without suspending: creating a Task for each (its scheduling,
its context switch through the event loop) would cost more than the endpoint. `drive` runs the
first step of the coroutine at once, in a copy of the current context as a Task would; only if the
coroutine yields (it awaits something not yet done) does the rest become a real Task, in the same
context, picking up where the first step left off.
"""

from __future__ import annotations

import asyncio
import contextvars
import types
from collections.abc import Coroutine, Generator
from typing import Any


@types.coroutine
def _resume(coro: Coroutine[Any, Any, Any], yielded: Any) -> Generator[Any, Any, Any]:
    """Hands `yielded` (what the first step awaited) to the Task, then relays the Task's sends and
    throws to `coro` until it returns."""
    while True:
        try:
            sent = yield yielded
        except GeneratorExit:
            coro.close()
            raise
        except BaseException as exc:
            try:
                yielded = coro.throw(exc)
            except StopIteration as stop:
                return stop.value
        else:
            try:
                yielded = coro.send(sent)
            except StopIteration as stop:
                return stop.value


async def _rest(coro: Coroutine[Any, Any, Any], yielded: Any) -> Any:
    return await _resume(coro, yielded)


def drive(coro: Coroutine[Any, Any, Any], loop: asyncio.AbstractEventLoop) -> asyncio.Task[Any] | None:
    """Runs `coro` to its first suspension. None if it finished (its exceptions are its own
    business: callers pass coroutines that handle theirs); else the Task that runs the rest."""
    context = contextvars.copy_context()
    try:
        yielded = context.run(coro.send, None)
    except StopIteration:
        return None
    return loop.create_task(_rest(coro, yielded), context=context)
