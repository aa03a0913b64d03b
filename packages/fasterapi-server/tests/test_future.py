"""The engine's Future from Python: what Engine.submit() returns for a call on the executor."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fasterapi_server._engine import Engine, Future
from helpers import poll_until


@asynccontextmanager
async def polled_engine() -> AsyncIterator[Engine]:
    """An engine whose records the running loop polls, as the server does."""
    loop = asyncio.get_running_loop()
    engine = Engine(host="127.0.0.1", port=0, threads=1)
    engine.bind()
    engine.start()
    engine.set_executor_threads(2)

    def on_records() -> None:
        engine.poll()
        engine.flush()

    loop.add_reader(engine.fileno(), on_records)
    try:
        yield engine
    finally:
        loop.remove_reader(engine.fileno())
        engine.stop()


def run(test: Callable[[Engine], Coroutine[Any, Any, None]]) -> None:
    async def main() -> None:
        async with polled_engine() as engine:
            await test(engine)

    asyncio.run(main())


def test_a_call_runs_on_a_pool_thread_and_its_result_is_awaited() -> None:
    async def check(engine: Engine) -> None:
        loop_thread = threading.get_ident()
        future = engine.submit(lambda a, b: (a + b, threading.get_ident()), 2, 3)
        assert isinstance(future, Future)
        assert not future.done()
        with pytest.raises(asyncio.InvalidStateError):
            future.result()
        total, thread = await future  # a tuple stays one result
        assert total == 5
        assert thread != loop_thread
        assert future.done()
        assert future.result() == (5, thread)
        assert await future == (5, thread)  # awaiting again gives it again

    run(check)


def test_an_exception_reaches_the_awaiter() -> None:
    async def check(engine: Engine) -> None:
        future = engine.submit(int, "x")
        with pytest.raises(ValueError, match="invalid literal"):
            await future
        with pytest.raises(ValueError, match="invalid literal"):
            future.result()

    run(check)


def test_awaiting_after_it_finished_does_not_wait() -> None:
    async def check(engine: Engine) -> None:
        future = engine.submit(str.upper, "done")
        while not future.done():
            await asyncio.sleep(0.01)
        assert await future == "DONE"

    run(check)


def test_cancelling_the_awaiter_leaves_the_call_to_finish() -> None:
    async def check(engine: Engine) -> None:
        finished = threading.Event()

        def slow() -> str:
            time.sleep(0.2)
            finished.set()
            return "late"

        future = engine.submit(slow)
        task = asyncio.ensure_future(asyncio.wait_for(future, 0.05))
        with pytest.raises(TimeoutError):
            await task
        while not future.done():
            await asyncio.sleep(0.01)
        assert finished.is_set()
        assert future.result() == "late"

    run(check)


def test_queued_calls_fail_and_running_ones_finish_when_the_engine_stops() -> None:
    async def check(engine: Engine) -> None:
        engine.set_executor_threads(1)
        gate = threading.Event()
        running = engine.submit(gate.wait, 5)
        queued = [engine.submit(str, i) for i in range(3)]
        await asyncio.sleep(0.05)
        threading.Timer(0.2, gate.set).start()
        engine.stop()  # waits for the running call; the queued ones never run
        assert running.done()
        assert running.result() is True
        for future in queued:
            assert future.done()
            with pytest.raises(RuntimeError, match="executor stopped"):
                await future

    run(check)


def test_calls_get_a_thread_each_up_to_the_bound_even_when_one_is_idle() -> None:
    # Four calls submitted back to back while one thread is idle: none may wait for another (the
    # idle thread takes one, new threads the others), or the barrier breaks.
    async def check(engine: Engine) -> None:
        engine.set_executor_threads(8)
        await engine.submit(int)  # one thread, now idle
        assert engine.executor_threads() == 1
        barrier = threading.Barrier(4, timeout=5)
        calls = [engine.submit(barrier.wait) for _ in range(4)]  # each waits for all four
        assert sorted(await asyncio.gather(*calls)) == [0, 1, 2, 3]
        assert engine.executor_threads() == 4

    run(check)


def test_calls_queued_behind_a_blocking_one_do_not_wait_for_it() -> None:
    """Queued calls are taken by whichever pool thread is at hand, one after another: a call that
    blocks (releasing the GIL) leaves the ones queued after it to another thread."""

    async def check(engine: Engine) -> None:
        engine.set_executor_threads(4)
        gate = threading.Event()
        order: list[int] = []
        blocked = engine.submit(gate.wait, 10)
        quick = [engine.submit(order.append, i) for i in range(20)]  # queued together, behind it
        await asyncio.wait_for(asyncio.gather(*quick), 5)
        assert not blocked.done()
        assert sorted(order) == list(range(20))
        gate.set()
        assert await blocked is True

    run(check)


def test_a_pool_thread_keeps_its_python_thread_state_from_call_to_call() -> None:
    """As a thread of anyio's or of a ThreadPoolExecutor: what a call keeps in a threading.local
    (a per-thread connection, a session) is there for the next call on the same thread, and the
    thread is one Python thread for its life (one identity, one native id). A thread that leaves
    (the bound lowered) lets its thread state, and what its locals held, go."""

    class Held:
        pass

    async def check(engine: Engine) -> None:
        engine.set_executor_threads(1)
        local = threading.local()
        held: list[weakref.ref[Held]] = []

        def visit() -> tuple[int, int, int]:
            if not hasattr(local, "calls"):
                local.calls = 0
                local.held = Held()
                held.append(weakref.ref(local.held))
            local.calls += 1
            return local.calls, threading.get_ident(), threading.get_native_id()

        seen = [await engine.submit(visit) for _ in range(5)]
        assert [calls for calls, _, _ in seen] == [1, 2, 3, 4, 5]
        assert len({(ident, native) for _, ident, native in seen}) == 1
        assert len(held) == 1
        assert held[0]() is not None

        engine.set_executor_threads(2)
        gate, busy = threading.Event(), threading.Event()

        def block() -> tuple[int, int]:
            busy.set()
            gate.wait(5)
            return visit()[0], threading.get_ident()

        # Two calls at once, on two threads (which of them runs on the first thread is the pool's
        # choice): one sees the first thread's local, the other a new thread's own.
        blocked = engine.submit(block)
        assert busy.wait(5)
        calls, ident = await engine.submit(lambda: (visit()[0], threading.get_ident()))
        gate.set()
        blocked_calls, blocked_ident = await blocked
        assert ident != blocked_ident
        assert sorted([calls, blocked_calls]) == [1, 6]
        engine.set_executor_threads(1)
        poll_until(lambda: engine.executor_threads() == 1, what="the idle thread to leave")
        gc.collect()
        poll_until(lambda: sum(ref() is not None for ref in held) == 1, what="the left thread's local to go")

    run(check)


def test_the_pool_bound_changes_while_it_runs() -> None:
    async def check(engine: Engine) -> None:
        engine.set_executor_threads(1)
        gate = threading.Event()
        first = engine.submit(gate.wait, 5)
        second = engine.submit(gate.wait, 5)  # queued behind the first: the bound is 1
        await asyncio.sleep(0.1)
        assert not second.done()
        assert engine.executor_threads() == 1
        engine.set_executor_threads(3)  # the queued call gets a thread now
        assert engine.executor_threads() == 2
        gate.set()
        assert await first is True
        assert await second is True
        engine.set_executor_threads(1)  # idle threads past the bound leave (on their own threads)
        poll_until(lambda: engine.executor_threads() == 1, what="the idle threads to leave")
        assert await engine.submit(str, 7) == "7"

    run(check)


def test_the_engine_stops_while_another_thread_changes_the_pool_bound() -> None:
    """set_executor_threads() from another thread (the GIL is free while the stop joins the pool)
    reaps the threads that left a smaller pool: the stop must not join from the same list. It
    joined a thread twice, or one reaped meanwhile (std::system_error, "Invalid argument")."""

    async def once() -> None:
        loop = asyncio.get_running_loop()
        engine = Engine(host="127.0.0.1", port=0, threads=1)
        engine.bind()
        engine.start()

        def on_records() -> None:
            engine.poll()
            engine.flush()

        loop.add_reader(engine.fileno(), on_records)
        engine.set_executor_threads(4)
        calls = [engine.submit(sum, [i, 1]) for i in range(20)]
        assert await asyncio.gather(*calls[:5]) == [1, 2, 3, 4, 5]
        done = threading.Event()

        def churn() -> None:
            bound = 1
            while not done.is_set():
                bound = bound % 4 + 1
                engine.set_executor_threads(bound)

        changer = threading.Thread(target=churn)
        changer.start()
        try:
            await asyncio.sleep(0.002)
            loop.remove_reader(engine.fileno())
            engine.stop()
        finally:
            done.set()
            changer.join()
        assert all(call.done() for call in calls)

    async def main() -> None:
        for _ in range(100):
            await once()

    asyncio.run(main())


def test_a_future_in_a_reference_cycle_is_collected() -> None:
    class Marked(Exception):
        pass

    def fails() -> None:
        raise Marked

    async def await_it(engine: Engine) -> weakref.ref[Marked]:
        future = engine.submit(fails)
        try:
            await future
        except Marked as exc:
            # The exception's traceback holds this frame, which holds the Future, which holds
            # the exception: a cycle that only the collector can free.
            return weakref.ref(exc)
        raise AssertionError("no exception")

    async def check(engine: Engine) -> None:
        error = await await_it(engine)
        await asyncio.sleep(0)  # the loop's handle that resumed us (its argument: the waiter) goes
        await asyncio.sleep(0)
        gc.collect()
        assert error() is None

    run(check)
