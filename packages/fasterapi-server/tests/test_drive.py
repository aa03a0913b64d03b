"""How a request's coroutine starts: as an eager Task (Driver), with the Task's guarantees."""

from __future__ import annotations

import _asyncio
import asyncio
import sys
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from fasterapi_server._drive import Driver, PyEagerTask
from fasterapi_server._engine import EagerStart
from fasterapi_server._serve import new_event_loop
from helpers import LOOPS


@pytest.fixture(params=LOOPS)
def event_loop_kind(request: pytest.FixtureRequest) -> str:
    """Each test runs on asyncio's loop and on uvloop's (both have an instance __dict__)."""
    return str(request.param)


def on_loop(check: Callable[[asyncio.AbstractEventLoop], Coroutine[Any, Any, None]], kind: str) -> None:
    """Runs `check(loop)` on a new loop of `kind`; it calls Driver.drive from plain loop callbacks
    (run_from_callback), as the server does."""

    async def main() -> None:
        await check(asyncio.get_running_loop())

    loop = new_event_loop(kind)
    try:
        loop.run_until_complete(main())
    finally:
        loop.close()


def drivers(loop: asyncio.AbstractEventLoop) -> list[Driver]:
    """The driver the server uses, and the pure-Python fallback (a loop without __dict__)."""
    fallback = Driver(loop)
    fallback.drive = fallback._py_task  # what a loop without an instance __dict__ gets on 3.11
    return [Driver(loop), fallback]


def run_from_callback(loop: asyncio.AbstractEventLoop, fn: Callable[[], Any]) -> asyncio.Future[Any]:
    """fn() called from a plain loop callback (outside any Task), its result in a future."""
    out: asyncio.Future[Any] = loop.create_future()

    def callback() -> None:
        try:
            out.set_result(fn())
        except Exception as exc:
            out.set_exception(exc)

    loop.call_soon(callback)
    return out


@pytest.mark.parametrize("which", [0, 1])
def test_a_coroutine_that_does_not_wait_finishes_inside_a_task(which: int, event_loop_kind: str) -> None:
    async def check(loop: asyncio.AbstractEventLoop) -> None:
        driver = drivers(loop)[which]
        seen: list[Any] = []

        async def endpoint() -> None:
            seen.append(asyncio.current_task())
            async with asyncio.timeout(5):  # needs the current task
                seen.append(asyncio.current_task())

        task = await run_from_callback(loop, lambda: driver.drive(endpoint()))
        assert task is None  # finished in its first step: never scheduled
        assert seen[0] is not None
        assert seen[0] is seen[1]
        assert seen[0].done()
        if which == 0 and sys.version_info < (3, 12):
            assert type(seen[0]) is asyncio.Task  # asyncio's own (C) Task
            assert "call_soon" not in vars(loop)  # the hook lived for one constructor call only
        elif which == 1:
            assert isinstance(seen[0], PyEagerTask)

    on_loop(check, event_loop_kind)


@pytest.mark.parametrize("which", [0, 1])
def test_a_coroutine_that_waits_goes_on_as_the_same_task(which: int, event_loop_kind: str) -> None:
    async def check(loop: asyncio.AbstractEventLoop) -> None:
        driver = drivers(loop)[which]
        order: list[str] = []

        async def endpoint() -> asyncio.Task[Any] | None:
            first = asyncio.current_task()
            order.append("first step")
            loop.call_soon(order.append, "callback")  # scheduled, not run inside the step
            await asyncio.sleep(0)
            order.append("second step")
            assert asyncio.current_task() is first
            return first

        # What had run when drive() returned, seen from the same callback:
        task, at_return, hooked = await run_from_callback(
            loop, lambda: (driver.drive(endpoint()), list(order), "call_soon" in vars(loop))
        )
        assert task is not None
        assert at_return == ["first step"]
        assert not hooked
        assert await task is task
        assert order == ["first step", "callback", "second step"]

    on_loop(check, event_loop_kind)


@pytest.mark.parametrize("which", [0, 1])
def test_failures_stay_in_the_task(which: int, event_loop_kind: str) -> None:
    """None only for a coroutine that finished with a result: one that failed is given back."""

    async def check(loop: asyncio.AbstractEventLoop) -> None:
        driver = drivers(loop)[which]

        def fails() -> None:
            raise AssertionError("not called")

        seen: list[asyncio.Task[Any] | None] = []

        async def record() -> None:
            seen.append(asyncio.current_task())
            raise ValueError("boom")

        # a failure in the first step: the Task comes back done, its exception for the caller
        task = await run_from_callback(loop, lambda: driver.drive(record()))
        assert task is seen[0]
        assert task.done()
        assert isinstance(task.exception(), ValueError)
        assert "call_soon" not in vars(loop)

        async def cancelled() -> None:
            raise asyncio.CancelledError

        async def result() -> int:
            return 1

        # cancelled in its first step: given back too, done
        task = await run_from_callback(loop, lambda: driver.drive(cancelled()))
        assert task is not None
        assert task.cancelled()
        # a result (not None) is a success too
        assert await run_from_callback(loop, lambda: driver.drive(result())) is None
        # a coroutine that cannot start (not a coroutine): the constructor's error, hook removed
        with pytest.raises(TypeError):
            await run_from_callback(loop, lambda: driver.drive(fails))  # type: ignore[arg-type]
        assert "call_soon" not in vars(loop)

    on_loop(check, event_loop_kind)


def test_a_finished_task_is_not_in_all_tasks_and_a_waiting_one_is(event_loop_kind: str) -> None:
    # As 3.12's eager tasks: a task that finished in its first step never enters asyncio's set of
    # all tasks (all_tasks() leaves finished ones out anyway); one that waits is there.
    async def check(loop: asyncio.AbstractEventLoop) -> None:
        driver = Driver(loop)
        finished: list[asyncio.Task[Any] | None] = []
        gate = loop.create_future()

        async def quick() -> None:
            finished.append(asyncio.current_task())

        async def waits() -> None:
            await gate

        assert await run_from_callback(loop, lambda: driver.drive(quick())) is None
        waiting = await run_from_callback(loop, lambda: driver.drive(waits()))
        assert waiting is not None
        assert waiting in asyncio.all_tasks(loop)
        if sys.version_info < (3, 12):
            assert finished[0] not in set(_asyncio._all_tasks)
            assert "add" not in vars(_asyncio._all_tasks)  # the hook lived for one add only
        gate.set_result(None)
        await waiting
        assert waiting not in asyncio.all_tasks(loop)

    on_loop(check, event_loop_kind)


def test_tasks_of_other_threads_are_registered_meanwhile(event_loop_kind: str) -> None:
    # The skipped add is for our task only: another thread's loop starting tasks all along (the
    # GIL passes between the threads) finds each of its waiting tasks in all_tasks().
    lost: list[int] = []
    stop = threading.Event()

    def other_thread() -> None:
        async def main() -> None:
            loop = asyncio.get_running_loop()
            gate = loop.create_future()
            while not stop.is_set():
                batch = [loop.create_task(asyncio.wait_for(gate, 10)) for _ in range(50)]
                known = asyncio.all_tasks(loop)
                lost.extend(1 for t in batch if t not in known)
                for t in batch:
                    t.cancel()
                await asyncio.gather(*batch, return_exceptions=True)

        asyncio.run(main())

    thread = threading.Thread(target=other_thread)
    thread.start()

    async def check(loop: asyncio.AbstractEventLoop) -> None:
        driver = Driver(loop)

        async def quick() -> None:
            pass

        def many() -> None:
            for _ in range(20_000):
                assert driver.drive(quick()) is None

        try:
            for _ in range(5):
                await run_from_callback(loop, many)
        finally:
            stop.set()

    try:
        on_loop(check, event_loop_kind)
    finally:
        stop.set()
        thread.join(30)
    assert not lost


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="EagerStart is the 3.11 path")
def test_hooks_never_outlive_a_start(event_loop_kind: str) -> None:
    # A Task type whose constructor fails before scheduling, or never schedules at all: the
    # loop's call_soon and the all-tasks set are as they were afterwards.
    async def check(loop: asyncio.AbstractEventLoop) -> None:
        class NeverSchedules:
            _state = "PENDING"  # (what start() reads of asyncio's Tasks)

            def __init__(self, coro: Any, *, loop: Any, name: str) -> None:
                coro.close()

        class Fails:
            def __init__(self, coro: Any, *, loop: Any, name: str) -> None:
                coro.close()
                raise LookupError("no")

        async def nothing() -> None:
            pass

        assert isinstance(EagerStart(loop, NeverSchedules, "x").start(nothing()), NeverSchedules)
        assert "call_soon" not in vars(loop)
        with pytest.raises(LookupError):
            EagerStart(loop, Fails, "x").start(nothing())
        assert "call_soon" not in vars(loop)
        assert "add" not in vars(_asyncio._all_tasks)
        ran: list[int] = []
        loop.call_soon(ran.append, 1)  # scheduled, as ever: not run on the spot
        assert ran == []
        await asyncio.sleep(0)
        assert ran == [1]

    on_loop(check, event_loop_kind)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="EagerStart is the 3.11 path")
def test_a_task_is_used_again_only_when_nothing_refers_to_it(event_loop_kind: str) -> None:
    # EagerStart keeps a finished Task that nothing else holds and initializes it again for the
    # next coroutine. One that anything refers to (a reference, a weak reference, an attribute)
    # is left alone, done with its result; what a kept one held (the context's values) goes at
    # once; and each start has the Task's guarantees: its own name, context, current_task().
    import contextvars
    import weakref

    class Big:
        pass

    async def check(loop: asyncio.AbstractEventLoop) -> None:
        start = EagerStart(loop, asyncio.Task, "req").start
        var: contextvars.ContextVar[Any] = contextvars.ContextVar("var", default=None)
        seen: list[int] = []
        held: list[asyncio.Task[Any]] = []
        weak: list[weakref.ref[Any]] = []

        async def step(how: str = "") -> str:
            task = asyncio.current_task()
            assert task is not None
            assert task.get_name() == "req"
            assert not task.done()
            assert var.get() is None  # a fresh context: nothing of the previous start
            assert not hasattr(task, "note")  # nor an attribute of a Task before
            seen.append(id(task))
            big = Big()
            var.set(big)
            weak.append(weakref.ref(big))
            if how == "hold":
                held.append(task)
            elif how == "weak":
                weak.append(weakref.ref(task))
            elif how == "attr":
                task.note = 1  # type: ignore[attr-defined]
            return how

        def run(how: str = "") -> Any:
            return start(step(how))

        assert await run_from_callback(loop, run) is None
        assert weak.pop()() is None  # the context's values went with the request
        # A Task made meanwhile takes the memory a deallocated Task would have left: the next
        # start has the same Task only because it was kept.
        other = loop.create_task(asyncio.sleep(0))
        assert await run_from_callback(loop, run) is None
        assert seen[0] == seen[1]  # the same Task, initialized again
        await other
        assert await run_from_callback(loop, lambda: run("hold")) is None
        assert seen[2] == seen[1]
        assert await run_from_callback(loop, run) is None
        assert seen[3] != seen[2]  # the held one was not taken again
        task = held[0]
        assert task.done()
        assert task.result() == "hold"
        assert task.get_name() == "req"
        assert task.get_coro().cr_frame is None  # (the coroutine that ran in it, finished)

        weak.clear()
        assert await run_from_callback(loop, lambda: run("weak")) is None
        task_ref = weak[1]
        assert task_ref() is None  # a weakly referenced Task is let go, not kept
        assert await run_from_callback(loop, lambda: run("attr")) is None
        assert await run_from_callback(loop, run) is None
        assert var.get() is None  # nothing leaked into the loop's context either

    on_loop(check, event_loop_kind)


def test_the_loops_debug_flag_reads_as_the_loop_has_it(event_loop_kind: str) -> None:
    # asyncio's loop answers get_debug() from a C callable on the instance once a Driver runs on
    # it (each Task's constructor asks); uvloop's own is left as it is.
    loop = new_event_loop(event_loop_kind)
    try:
        Driver(loop)
        assert ("get_debug" in vars(loop)) == (event_loop_kind == "asyncio")
        assert loop.get_debug() is False
        loop.set_debug(True)
        assert loop.get_debug() is True

        async def noop() -> None:
            pass

        task = loop.create_task(noop())  # a Task made while debugging notes where it was made
        assert task._source_traceback  # type: ignore[attr-defined]
        loop.run_until_complete(task)
        loop.set_debug(False)
        assert loop.get_debug() is False
        first = vars(loop).get("get_debug")
        Driver(loop)  # a second driver on the same loop leaves the first one's answer in place
        assert vars(loop).get("get_debug") is first
        assert loop.get_debug() is False
    finally:
        loop.close()


def test_a_loop_with_its_own_get_debug_is_left_alone() -> None:
    class Chatty(asyncio.SelectorEventLoop):
        def get_debug(self) -> bool:
            return True

    loop = Chatty()
    try:
        Driver(loop)
        assert "get_debug" not in vars(loop)
        assert loop.get_debug() is True
    finally:
        loop.close()


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="EagerStart is the 3.11 path")
def test_held_hooks_start_each_task_eagerly_and_leave_everything_else_alone(event_loop_kind: str) -> None:
    # Held for a batch of starts (the server holds them for a poll's requests): each start runs
    # its own first step at once; anything else that calls the loop's call_soon or registers a
    # Task meanwhile (the app's own tasks and callbacks) gets the loop's and the set's own, and a
    # `loop.call_soon` read meanwhile goes on working after the release.
    async def check(loop: asyncio.AbstractEventLoop) -> None:
        eager = EagerStart(loop, asyncio.Task, "x")
        ran: list[str] = []
        made: list[asyncio.Task[Any]] = []
        kept: list[Any] = []
        gate = loop.create_future()

        async def side() -> None:
            ran.append("side task")

        async def quick() -> None:
            made.append(loop.create_task(side()))  # scheduled, not run here
            loop.call_soon(ran.append, "callback")  # scheduled, not run here
            kept.append(loop.call_soon)
            ran.append("quick")

        async def waits() -> None:
            await gate
            ran.append("waited")

        def batch() -> tuple[Any, Any]:
            eager.hold()
            assert eager.held
            try:
                first = eager.start(quick())
                second = eager.start(waits())
                assert ran == ["quick"]
                assert made[0] in asyncio.all_tasks(loop)  # (registered as any Task)
                return first, second
            finally:
                eager.release()

        first, second = await run_from_callback(loop, batch)
        assert first is None
        assert isinstance(second, asyncio.Task)
        assert second in asyncio.all_tasks(loop)
        assert not eager.held
        assert "call_soon" not in vars(loop)
        assert "add" not in vars(_asyncio._all_tasks)
        await asyncio.sleep(0)
        assert ran == ["quick", "side task", "callback"]  # (run by the loop, after the batch)
        kept[0](ran.append, "kept call_soon")  # read while held, called after: the loop's own
        assert ran[-1] == "callback"  # (scheduled, not run on the spot)
        await asyncio.sleep(0)
        assert ran[-1] == "kept call_soon"
        gate.set_result(None)
        await second
        assert ran[-1] == "waited"

    on_loop(check, event_loop_kind)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="EagerStart is the 3.11 path")
def test_a_loops_own_call_soon_is_left_alone(event_loop_kind: str) -> None:
    # A loop instance with a call_soon of its own (a test's, a library's): neither hold() nor a
    # start replaces it; the Task is then scheduled through it as usual (not eager), and runs.
    async def check(loop: asyncio.AbstractEventLoop) -> None:
        eager = EagerStart(loop, asyncio.Task, "x")
        calls: list[Any] = []
        bound = loop.call_soon

        def own(*args: Any, **kwargs: Any) -> Any:
            calls.append(args[0])
            return bound(*args, **kwargs)

        loop.call_soon = own  # type: ignore[method-assign]
        ran: list[str] = []
        try:

            async def quick() -> None:
                ran.append("quick")

            def batch() -> Any:
                eager.hold()
                assert not eager.held
                return eager.start(quick())

            task = await run_from_callback(loop, batch)
            assert isinstance(task, asyncio.Task)  # (scheduled, not run in the constructor)
            assert vars(loop)["call_soon"] is own
            assert len(calls) >= 1
            await task
            assert ran == ["quick"]
        finally:
            vars(loop).pop("call_soon", None)

    on_loop(check, event_loop_kind)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="EagerStart is the 3.11 path")
def test_a_hook_kept_past_its_eager_start_goes_on_as_the_loops_own(event_loop_kind: str) -> None:
    # `loop.call_soon` and the set's `add` read while the hooks were held, kept by the app, called
    # after the EagerStart is gone (a server stopped, the loop going on): the loop's and the
    # set's own, never a freed object's.
    async def check(loop: asyncio.AbstractEventLoop) -> None:
        eager = EagerStart(loop, asyncio.Task, "x")
        eager.hold()
        try:
            call_soon = loop.call_soon
            add = _asyncio._all_tasks.add
        finally:
            eager.release()
        del eager
        import gc

        gc.collect()
        ran: list[int] = []
        call_soon(ran.append, 1)
        assert ran == []
        await asyncio.sleep(0)
        assert ran == [1]
        gate = loop.create_future()
        task = loop.create_task(asyncio.wait_for(gate, 10))
        add(task)  # (already there: the set's own add keeps it once)
        assert task in asyncio.all_tasks(loop)
        gate.set_result(None)
        await task

    on_loop(check, event_loop_kind)
