"""Fixtures: servers in their own processes (tests/apps/), always stopped by their PID."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

# An editable install rebuilds the extension on import after a C++ edit: here, once, rather than
# in every server process the tests start (and against their start-up deadline).
import fasterapi_server._engine  # noqa: F401
import pytest
from helpers import ServerProcess


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    """One server with the default options, shared by a module's tests that leave it healthy."""
    proc = ServerProcess()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def start_server() -> Iterator[Callable[..., ServerProcess]]:
    """Starts servers with given options for one test; all are stopped after it."""
    started: list[ServerProcess] = []

    def start(
        options: dict[str, Any] | None = None, app: str = "asgi_app", env: dict[str, str] | None = None
    ) -> ServerProcess:
        proc = ServerProcess(app, options, env)
        started.append(proc)
        return proc

    try:
        yield start
    finally:
        for proc in started:
            proc.stop()
