"""Fixtures: servers in their own processes (tests/apps/), always stopped by their PID."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

# An editable install rebuilds the extension on import after a C++ edit: here, once, rather than
# in every server process the tests start (and against their start-up deadline).
import fasterapi_server._engine  # noqa: F401
import pytest
from helpers import IO_IDS, IO_THREADS, ServerProcess


@pytest.fixture(scope="module", params=IO_THREADS, ids=IO_IDS)
def io_threads(request: pytest.FixtureRequest) -> int:
    """The servers' tests run twice: with an I/O thread, and with the I/O on the Python thread
    (threads=0). A test that chooses its own threads runs once."""
    threads: int = request.param
    return threads


@pytest.fixture(scope="module")
def server(io_threads: int) -> Iterator[ServerProcess]:
    """One server with the default options, shared by a module's tests that leave it healthy."""
    proc = ServerProcess(options={"threads": io_threads})
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def start_server(io_threads: int) -> Iterator[Callable[..., ServerProcess]]:
    """Starts servers with given options for one test; all are stopped after it."""
    started: list[ServerProcess] = []

    def start(
        options: dict[str, Any] | None = None, app: str = "asgi_app", env: dict[str, str] | None = None
    ) -> ServerProcess:
        options = dict(options or {})
        if "threads" in options and io_threads == 0:
            pytest.skip("chooses its own I/O threads (run once)")
        options.setdefault("threads", io_threads)
        proc = ServerProcess(app, options, env)
        started.append(proc)
        return proc

    try:
        yield start
    finally:
        for proc in started:
            proc.stop()
