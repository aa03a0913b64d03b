"""Running blocking code without blocking the event loop.

Synchronous endpoints, dependencies, background tasks and file operations run in a thread pool.
Its size is the number of threads that may run such code at the same time, per event loop:

- by default ``min(64, 8 * os.cpu_count() + 32)`` (48 on 2 CPUs, 64 from 4 CPUs on);
- the environment variable ``FASTERAPI_THREADPOOL_SIZE`` (a positive integer), read at import;
- ``set_threadpool_size(n)`` at any time, which also resizes the pools already in use.

The pool is a capacity limiter of its own, so it neither shares nor changes anyio's default
limiter (40 threads) that other libraries may use. Served by fasterapi-server, the calls go to the
engine's native thread pool instead (of the same size), which costs less per call.

A function marked with ``@cheap`` (an endpoint or a dependency that never blocks: it only
computes) is called inline on the event loop's thread, with no thread at all.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import os
import warnings
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Iterator
from contextlib import AbstractContextManager, asynccontextmanager
from typing import Any, ParamSpec, TypeGuard, TypeVar

import anyio
import anyio.lowlevel
import anyio.to_thread

__all__ = [
    "asynccontextmanager",
    "cheap",
    "contextmanager_in_threadpool",
    "get_threadpool_size",
    "is_async_callable",
    "iterate_in_threadpool",
    "run_in_threadpool",
    "run_until_first_complete",
    "set_threadpool_size",
    "use_executor",
]

P = ParamSpec("P")
T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

_CHEAP = "__fasterapi_cheap__"


def cheap(func: F) -> F:
    """Marks a sync function as cheap: it never blocks (no I/O, no sleeping, no long computing),
    so calling it on the event loop's thread costs less than handing it to a thread."""
    setattr(func, _CHEAP, True)
    return func


def _is_cheap(func: Any) -> bool:
    while isinstance(func, functools.partial):
        func = func.func
    return getattr(func, _CHEAP, False) is True


# A server's own executor for blocking calls made on its event loop (fasterapi-server sets it).
_offload: Callable[..., Awaitable[Any]] | None = None
_offload_loop: Any = None


def use_executor(offload: Callable[..., Awaitable[Any]], loop: Any) -> Callable[[], None]:
    """Makes `run_in_threadpool` call ``await offload(func, *args)`` when it runs on `loop`.
    Returns the function that puts back what was there before."""
    global _offload, _offload_loop
    previous = (_offload, _offload_loop)
    _offload, _offload_loop = offload, loop

    def restore() -> None:
        global _offload, _offload_loop
        _offload, _offload_loop = previous

    return restore


def _default_size() -> int:
    configured = os.environ.get("FASTERAPI_THREADPOOL_SIZE")
    if configured:
        try:
            size = int(configured)
        except ValueError:
            size = 0
        if size < 1:
            raise ValueError(f"FASTERAPI_THREADPOOL_SIZE must be a positive integer, not {configured!r}")
        return size
    return min(64, 8 * (os.cpu_count() or 1) + 32)


_size = _default_size()
_limiter: anyio.lowlevel.RunVar[anyio.CapacityLimiter] = anyio.lowlevel.RunVar("fasterapi_threadpool")


def set_threadpool_size(size: int) -> None:
    """Sets how many threads may run blocking code at once, per event loop."""
    global _size  # noqa: PLW0603
    if not isinstance(size, int) or size < 1:
        raise ValueError(f"the thread pool size must be a positive integer, not {size!r}")
    _size = size


def get_threadpool_size() -> int:
    """The current size of the thread pool."""
    return _size


def _get_limiter() -> anyio.CapacityLimiter:
    try:
        limiter = _limiter.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(_size)
        _limiter.set(limiter)
        return limiter
    if limiter.total_tokens != _size:
        limiter.total_tokens = _size
    return limiter


def is_async_callable(obj: Any) -> TypeGuard[Callable[..., Awaitable[Any]]]:
    """Whether calling `obj` returns an awaitable: a coroutine function, or an object whose
    `__call__` is one (through any `functools.partial`)."""
    while isinstance(obj, functools.partial):
        obj = obj.func
    return inspect.iscoroutinefunction(obj) or (
        callable(obj) and inspect.iscoroutinefunction(getattr(obj, "__call__", None))  # noqa: B004
    )


async def run_in_threadpool(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Calls `func(*args, **kwargs)` in the thread pool and returns its result."""
    if _is_cheap(func):
        return func(*args, **kwargs)
    offload = _offload
    if offload is not None and _offload_loop is _running_loop():
        if kwargs:
            return await offload(functools.partial(func, *args, **kwargs))  # type: ignore[no-any-return]
        return await offload(func, *args)  # type: ignore[no-any-return]
    if kwargs:
        return await anyio.to_thread.run_sync(
            functools.partial(func, *args, **kwargs), limiter=_get_limiter()
        )
    return await anyio.to_thread.run_sync(func, *args, limiter=_get_limiter())


def _running_loop() -> Any:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # not asyncio (trio)
        return None


class _Exhausted(Exception):
    """`StopIteration` cannot cross a thread boundary (nor a coroutine): this stands for it."""


def _next_or_exhausted(iterator: Iterator[T]) -> T:
    try:
        return next(iterator)
    except StopIteration:
        raise _Exhausted from None


async def iterate_in_threadpool(iterator: Iterable[T]) -> AsyncIterator[T]:
    """Iterates a blocking iterable, each `next()` in the thread pool."""
    as_iterator = iter(iterator)
    while True:
        try:
            yield await anyio.to_thread.run_sync(_next_or_exhausted, as_iterator, limiter=_get_limiter())
        except _Exhausted:
            break


@asynccontextmanager
async def contextmanager_in_threadpool(cm: AbstractContextManager[T]) -> AsyncGenerator[T, None]:
    """Enters and exits a blocking context manager in threads.

    `__exit__` runs with a limiter of its own: waiting for a free thread of the pool there could
    deadlock when the context manager itself holds a pool (of database connections, say).
    """
    exit_limiter = anyio.CapacityLimiter(1)
    try:
        yield await run_in_threadpool(cm.__enter__)
    except Exception as e:
        ok = bool(
            await anyio.to_thread.run_sync(cm.__exit__, type(e), e, e.__traceback__, limiter=exit_limiter)
        )
        if not ok:
            raise e
    else:
        await anyio.to_thread.run_sync(cm.__exit__, None, None, None, limiter=exit_limiter)


async def run_until_first_complete(
    *args: tuple[Callable[..., Coroutine[Any, Any, Any]], dict[str, Any]],
) -> None:
    """Runs each `func(**kwargs)` concurrently; when the first returns, cancels the others.

    Deprecated: use an anyio task group.
    """
    warnings.warn(
        "run_until_first_complete is deprecated: use an anyio task group instead",
        DeprecationWarning,
        stacklevel=2,
    )
    async with anyio.create_task_group() as task_group:

        async def run(func: Callable[[], Coroutine[Any, Any, Any]]) -> None:
            await func()
            task_group.cancel_scope.cancel()

        for func, kwargs in args:
            task_group.start_soon(run, functools.partial(func, **kwargs))
