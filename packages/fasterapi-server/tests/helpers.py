"""Shared pieces of the socket tests: a server in its own process, raw connections, and responses
read with h11 (an independent HTTP/1.1 implementation) from whatever bytes the server wrote.

Every wait here is bounded: a server that never answers fails the test, it never hangs it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h11
import pytest

APPS = Path(__file__).parent / "apps"
# The event loops a server may run on: asyncio's, and uvloop's when installed ("auto" picks it).
LOOPS = [
    "asyncio",
    pytest.param(
        "uvloop", marks=pytest.mark.skipif(importlib.util.find_spec("uvloop") is None, reason="no uvloop")
    ),
]
# The I/O modes of the servers' tests: an I/O thread, and the I/O on the Python thread (threads=0).
IO_THREADS = [1, 0]
IO_IDS = ["io-thread", "inline-io"]
TIMEOUT = 10.0  # seconds any single wait in a test may take
# A server's start-up may include the editable install rebuilding the extension after an edit.
STARTUP_TIMEOUT = 90.0


class ServerProcess:
    """`tests/apps/<name>.py` serving on 127.0.0.1; stopped by its PID (SIGTERM, then SIGKILL)."""

    def __init__(
        self, app: str = "asgi_app", options: dict[str, Any] | None = None, env: dict[str, str] | None = None
    ) -> None:
        # stderr to a file: a pipe nobody reads would stall a server that logs much (tracebacks).
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self._final_log = ""
        self.proc = subprocess.Popen(
            [sys.executable, str(APPS / f"{app}.py"), json.dumps(options or {})],
            stdout=subprocess.PIPE,
            stderr=self.log,
            env={**os.environ, **(env or {})},
        )
        self.port = self._read_port()

    def _read_port(self) -> int:
        assert self.proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        try:
            if not sel.select(STARTUP_TIMEOUT):
                self.stop()
                raise AssertionError("the server did not print its port in time")
        finally:
            sel.close()
        line = self.proc.stdout.readline()
        if not line.strip():
            self.stop()
            raise AssertionError(f"the server exited before listening: {self.stderr()}")
        return int(line)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def terminate(self, timeout: float = TIMEOUT) -> int:
        """SIGTERM, and the exit code (SIGKILL and a failed test past the deadline)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("the server did not exit after SIGTERM") from None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(TIMEOUT)

    def stderr(self) -> str:
        """What the server logged so far."""
        if self.log.closed:
            return self._final_log
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self) -> None:
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(TIMEOUT)
        finally:
            self.kill()
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            if not self.log.closed:
                self._final_log = self.stderr()
                self.log.close()


def connect(port: int, timeout: float = TIMEOUT) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def request_bytes(
    method: str,
    target: str,
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    version: str = "1.1",
) -> bytes:
    lines = [f"{method} {target} HTTP/{version}", "host: test"]
    hdrs = list(headers or [])
    if body and not any(k.lower() in ("content-length", "transfer-encoding") for k, _ in hdrs):
        hdrs.append(("content-length", str(len(body))))
    lines += [f"{k}: {v}" for k, v in hdrs]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def chunked(*pieces: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces if p) + b"0\r\n\r\n"


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    http_version: str = "1.1"
    informational: list[int] = field(default_factory=list)
    raw_headers: list[tuple[bytes, bytes]] = field(default_factory=list)

    @property
    def keep_alive(self) -> bool:
        conn = self.headers.get("connection", "").lower()
        if self.http_version == "1.0":
            return "keep-alive" in conn
        return "close" not in conn


class Reader:
    """Reads responses one after another from a socket, each parsed by a fresh h11 client that is
    told which request it answers (HEAD changes the framing); bytes past one response are kept
    for the next (pipelining)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""
        self.eof = False

    def _fill(self, deadline: float) -> None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no response in time")
        self.sock.settimeout(left)
        data = self.sock.recv(65536)
        if not data:
            self.eof = True
        self.buffer += data

    def read(
        self, method: str = "GET", timeout: float = TIMEOUT, on_data: Callable[[bytes], None] | None = None
    ) -> Response:
        deadline = time.monotonic() + timeout
        conn = h11.Connection(h11.CLIENT)
        conn.send(h11.Request(method=method, target="/", headers=[("host", "test")]))
        conn.send(h11.EndOfMessage())
        if self.buffer:
            conn.receive_data(self.buffer)  # (empty bytes would mean EOF to h11)
        self.buffer = b""
        informational: list[int] = []
        response: h11.Response | None = None
        body = bytearray()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                if self.eof:
                    raise ConnectionError(f"the connection closed mid-response ({bytes(body[:100])!r})")
                self._fill(deadline)
                conn.receive_data(self.buffer)  # b"" at EOF
                self.buffer = b""
                continue
            if isinstance(event, h11.InformationalResponse):
                informational.append(event.status_code)
            elif isinstance(event, h11.Response):
                response = event
            elif isinstance(event, h11.Data):
                if on_data is not None:
                    on_data(event.data)
                else:
                    body += event.data
            elif isinstance(event, h11.EndOfMessage):
                break
            else:
                raise AssertionError(f"unexpected event {event!r}")
        trailing, closed = conn.trailing_data
        self.buffer = bytes(trailing)
        self.eof = self.eof or closed
        assert response is not None
        return Response(
            status=response.status_code,
            headers={k.decode(): v.decode("latin-1") for k, v in response.headers},
            body=bytes(body),
            http_version=response.http_version.decode(),
            informational=informational,
            raw_headers=list(response.headers),
        )

    def expect_close(self, timeout: float = TIMEOUT) -> bytes:
        """Reads until the server closes; what came before the close is returned."""
        deadline = time.monotonic() + timeout
        while not self.eof:
            try:
                self._fill(deadline)
            except ConnectionResetError:
                self.eof = True
        rest, self.buffer = self.buffer, b""
        return rest


def exchange(port: int, raw: bytes, method: str = "GET", timeout: float = TIMEOUT) -> Response:
    with connect(port, timeout) as sock:
        sock.sendall(raw)
        return Reader(sock).read(method, timeout)


def get(port: int, target: str, **kwargs: Any) -> Response:
    return exchange(port, request_bytes("GET", target, **kwargs))


def closed_by_peer(sock: socket.socket, timeout: float = TIMEOUT) -> bytes:
    """Waits for the server to close `sock` (EOF or reset); returns the bytes it wrote before."""
    return Reader(sock).expect_close(timeout)


def poll_until(
    check: Callable[[], Any],
    timeout: float = TIMEOUT,
    interval: float = 0.02,
    what: str | Callable[[], str] = "the condition",
) -> Any:
    """Calls `check` until it returns something true, or fails the test at the deadline, naming
    `what` it waited for (or what `what()` says then)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout}s waiting for {what() if callable(what) else what}"
            )
        time.sleep(interval)


def pattern(size: int) -> bytes:
    """The bytes tests/apps/asgi_app.py's /big and /bigstream send."""
    block = b"".join(b"%08x" % i for i in range(0, 65536, 8))
    return (block * (size // len(block) + 1))[:size]
