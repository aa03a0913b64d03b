"""The server's life: lifespan startup and shutdown around serving, and SIGTERM under load."""

from __future__ import annotations

import gc
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from helpers import (
    APPS,
    LOOPS,
    STARTUP_TIMEOUT,
    TIMEOUT,
    Reader,
    Response,
    connect,
    get,
    poll_until,
    request_bytes,
)


def test_lifespan_state_reaches_requests(start_server, tmp_path) -> None:
    log = tmp_path / "lifespan.log"
    srv = start_server(env={"FA_TEST_LIFESPAN_LOG": str(log)})
    assert log.read_text() == "startup\n"
    assert json.loads(get(srv.port, "/scope").body)["state"] == {"token": "from-lifespan"}
    assert srv.terminate() == 0
    assert log.read_text() == "startup\nshutdown\n"


@pytest.mark.parametrize("freeze", [True, False], ids=["gc-freeze", "no-gc-freeze"])
def test_the_heap_is_frozen_while_serving(start_server, tmp_path, freeze: bool) -> None:
    # Config.gc_freeze: what exists before serving is out of the cyclic collector's sight while
    # the server runs, and handed back once it has stopped; off, nothing is frozen.
    log = tmp_path / "gc.log"
    srv = start_server({"gc_freeze": freeze}, env={"FA_TEST_GC_LOG": str(log)})
    frozen = int(get(srv.port, "/gc").body)
    if freeze:
        assert frozen > 1000  # the app, asyncio, the server's modules...
    else:
        assert frozen == 0
    assert srv.terminate() == 0
    assert log.read_text() == "0"


def test_freezing_counts_servers_and_leaves_a_freeze_of_someone_else() -> None:
    from fasterapi_server._serve import _frozen_heap

    assert gc.get_freeze_count() == 0
    with _frozen_heap():
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with _frozen_heap():  # a second server of the process
            pass
        assert gc.get_freeze_count() == frozen  # the first one still serves
    assert gc.get_freeze_count() == 0
    with pytest.raises(SystemExit), _frozen_heap():  # a server that fails to start (or any way out)
        raise SystemExit(3)
    assert gc.get_freeze_count() == 0
    gc.freeze()  # the app's own (before forking, say)
    try:
        frozen = gc.get_freeze_count()
        with _frozen_heap():
            assert gc.get_freeze_count() == frozen  # left as it is...
        assert gc.get_freeze_count() == frozen  # ... and not undone at the end
    finally:
        gc.unfreeze()


def test_startup_failure_exits_non_zero(tmp_path) -> None:
    proc = subprocess.run(
        [sys.executable, str(APPS / "asgi_app.py"), "{}"],
        env={**os.environ, "FA_TEST_FAIL_STARTUP": "1"},
        capture_output=True, timeout=STARTUP_TIMEOUT, check=False,
    )  # fmt: skip
    assert proc.returncode == 3  # EXIT_STARTUP_FAILED: the supervisor does not restart it
    assert proc.stdout == b""  # it never listened
    assert b"told to fail" in proc.stderr


@pytest.mark.parametrize("loop", LOOPS)
def test_sigterm_idle_server_exits_zero(start_server, loop: str) -> None:
    srv = start_server({"loop": loop})
    assert get(srv.port, "/head").status == 200
    assert srv.terminate() == 0


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("threads", [None, 2], ids=["io-fixture", "two-io-threads"])
def test_sigterm_during_load_loses_no_in_flight_response(
    start_server, tmp_path, threads: int | None, loop: str
) -> None:
    log = tmp_path / "lifespan.log"
    options: dict[str, object] = {"shutdown_timeout": 10, "loop": loop}
    if threads is not None:
        options["threads"] = threads
    srv = start_server(options, env={"FA_TEST_LIFESPAN_LOG": str(log)})
    n = 40
    socks = [connect(srv.port) for _ in range(n)]
    idle = connect(srv.port)
    try:
        for i, sock in enumerate(socks):
            sock.sendall(request_bytes("GET", f"/sleep/{500 + i * 10}"))
        # Every one of them is in the app before the signal.
        poll_until(lambda: get(srv.port, "/in-flight").body == str(n).encode())
        results: list[object] = [None] * n

        def read(i: int) -> None:
            try:
                results[i] = Reader(socks[i]).read(timeout=TIMEOUT)
            except Exception as exc:
                results[i] = exc

        readers = [threading.Thread(target=read, args=(i,)) for i in range(n)]
        for t in readers:
            t.start()
        srv.proc.send_signal(signal.SIGTERM)
        for t in readers:
            t.join(TIMEOUT + 2)
        for i, r in enumerate(results):
            assert isinstance(r, Response), (i, r)
            assert r.status == 200
            assert r.body == f"/sleep/{500 + i * 10}".encode()
            assert not r.keep_alive  # the server is going away
        assert Reader(idle).expect_close() == b""  # idle connections are closed
        assert srv.proc.wait(TIMEOUT) == 0
    finally:
        for sock in socks:
            sock.close()
        idle.close()
    assert log.read_text() == "startup\nshutdown\n"
    with pytest.raises(ConnectionRefusedError):
        connect(srv.port, timeout=2).close()


def test_sigterm_with_pipelined_requests_in_flight(start_server) -> None:
    srv = start_server({"shutdown_timeout": 10})
    with connect(srv.port) as sock:
        sock.sendall(request_bytes("GET", "/sleep/600"))
        poll_until(lambda: get(srv.port, "/in-flight").body == b"1")
        srv.proc.send_signal(signal.SIGTERM)
        r = Reader(sock).read()
        assert r.body == b"/sleep/600"
        assert not r.keep_alive
    assert srv.proc.wait(TIMEOUT) == 0


def test_sigterm_past_the_deadline_cancels_what_is_left(start_server) -> None:
    srv = start_server({"shutdown_timeout": 0.5})
    with connect(srv.port) as slow, connect(srv.port) as quick:
        slow.sendall(request_bytes("GET", "/sleep/30000"))
        quick.sendall(request_bytes("GET", "/sleep/100"))
        poll_until(lambda: get(srv.port, "/in-flight").body == b"2")
        started = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        done = Reader(quick).read()
        assert done.status == 200  # within the deadline: answered
        cut = Reader(slow).read()
        assert cut.status == 500  # past it: cancelled, answered 500, not left hanging
        assert not cut.keep_alive
        assert srv.proc.wait(TIMEOUT) == 0
        assert time.monotonic() - started < 10
    assert "Cancel 1 running task(s), timeout graceful shutdown exceeded" in srv.stderr()


def test_sigterm_with_streaming_response_exits(start_server) -> None:
    srv = start_server({"shutdown_timeout": 3})
    with connect(srv.port) as sock:
        sock.sendall(request_bytes("GET", "/forever"))
        assert sock.recv(1000)
        srv.proc.send_signal(signal.SIGTERM)
        # The stream is told the server leaves; the connection ends and the process exits 0.
        assert srv.proc.wait(TIMEOUT) == 0


@pytest.mark.parametrize("size", [30_000, 2_000_000])  # held back whole, or streamed to the app
def test_sigterm_during_upload_completes_it(start_server, size: int) -> None:
    srv = start_server({"shutdown_timeout": 10})
    data = bytes(range(256)) * (size // 256)
    with connect(srv.port) as sock:
        sock.sendall(
            request_bytes("POST", "/upload", [("content-length", str(len(data))), ("expect", "100-continue")])
        )
        reader = Reader(sock)
        reader._fill(time.monotonic() + TIMEOUT)  # the 100 Continue: the server has the head
        assert reader.buffer.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(data[: len(data) // 2])
        if size > 65536:  # past body_inline: the app has the request
            poll_until(lambda: get(srv.port, "/in-flight").body == b"1")
        srv.proc.send_signal(signal.SIGTERM)
        sock.sendall(data[len(data) // 2 :])
        r = reader.read()
    assert r.status == 200
    assert r.informational == [100]
    info = json.loads(r.body)
    assert info["size"] == len(data)
    assert info["sha256"] == hashlib.sha256(data).hexdigest()
    assert srv.proc.wait(TIMEOUT) == 0
