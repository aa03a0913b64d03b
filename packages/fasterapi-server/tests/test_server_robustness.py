"""Clients that misbehave: they leave mid-response, idle, trickle, read slowly, send garbage.
The server must go on serving everyone else, with bounded buffers and bounded waits."""

from __future__ import annotations

import hashlib
import json
import random
import socket
import struct
import threading
import time

import pytest
from helpers import (
    TIMEOUT,
    Reader,
    ServerProcess,
    chunked,
    closed_by_peer,
    connect,
    get,
    pattern,
    poll_until,
    request_bytes,
)


def rss(server: ServerProcess) -> int:
    with open(f"/proc/{server.proc.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def events(port: int) -> list[str]:
    return json.loads(get(port, "/events").body)


# ---- clients that leave


def test_client_disconnects_mid_response(server: ServerProcess) -> None:
    before = events(server.port).count("forever:http.disconnect")
    with connect(server.port) as sock:
        sock.sendall(request_bytes("GET", "/forever"))
        got = b""
        while len(got) < 50_000:
            data = sock.recv(65536)
            assert data
            got += data
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close sends RST
    poll_until(lambda: events(server.port).count("forever:http.disconnect") == before + 1)
    assert get(server.port, "/head").body == b"hello world"


def test_client_disconnects_mid_response_fin(server: ServerProcess) -> None:
    before = events(server.port).count("forever:http.disconnect")
    for _ in range(5):
        with connect(server.port) as sock:
            sock.sendall(request_bytes("GET", "/forever"))
            assert sock.recv(1000)
    poll_until(lambda: events(server.port).count("forever:http.disconnect") == before + 5)
    assert get(server.port, "/head").body == b"hello world"


def test_client_leaves_during_pipelined_slow_requests(server: ServerProcess) -> None:
    for _ in range(20):
        with connect(server.port) as sock:
            sock.sendall(b"".join(request_bytes("GET", f"/sleep/{i * 5}") for i in range(10)))
    # Their responses have nobody to go to; the server is fine and nothing is left in flight.
    assert get(server.port, "/sleep/100").body == b"/sleep/100"


def test_truncated_streamed_upload_closes_and_app_sees_disconnect(server: ServerProcess) -> None:
    before = events(server.port).count("upload-disconnect")
    with connect(server.port) as sock:
        # Longer than what travels with the head: the app gets the request while the body streams.
        sock.sendall(request_bytes("POST", "/upload", [("content-length", "1000000")]) + b"u" * 300_000)
        sock.shutdown(socket.SHUT_WR)
        assert closed_by_peer(sock) == b""  # no response to a request cut short; but a close
    poll_until(lambda: events(server.port).count("upload-disconnect") == before + 1)
    assert get(server.port, "/head").status == 200


def test_truncated_streamed_upload_server_closes(server: ServerProcess) -> None:
    with connect(server.port) as sock:
        sock.sendall(
            request_bytes("POST", "/upload?delay=0.01", [("content-length", "1000000")]) + b"u" * 300_000
        )
        sock.shutdown(socket.SHUT_WR)
        data = closed_by_peer(sock)  # fails by timeout if the server keeps the connection
    assert data == b"" or data.startswith(b"HTTP/1.1 ")


# ---- idle and slow clients


def test_thousand_idle_connections_do_not_block_others(start_server) -> None:
    srv = start_server({"keep_alive_timeout": 30, "header_timeout": 30})
    idle: list[socket.socket] = []
    try:
        for i in range(1000):
            sock = connect(srv.port)
            if i % 2:
                sock.sendall(b"GET /head HTTP/1.1\r\nhost: x\r\nx-partial: ")  # half a head
            idle.append(sock)
        t0 = time.monotonic()
        for _ in range(20):
            assert get(srv.port, "/head").body == b"hello world"
        assert time.monotonic() - t0 < 8  # generous: the machine may be busy; a stall is 30 s
        # And the idle ones are still there, and still served once they finish their heads.
        idle[1].sendall(b"1\r\n\r\n")
        assert Reader(idle[1]).read().body == b"hello world"
        idle[0].sendall(request_bytes("GET", "/head"))
        assert Reader(idle[0]).read().body == b"hello world"
    finally:
        for sock in idle:
            sock.close()


def test_keep_alive_timeout_closes_idle_connections(start_server) -> None:
    srv = start_server({"keep_alive_timeout": 1.0})
    with connect(srv.port) as sock:
        sock.sendall(request_bytes("GET", "/head"))
        reader = Reader(sock)
        assert reader.read().status == 200
        t0 = time.monotonic()
        assert reader.expect_close(timeout=5) == b""  # closed quietly, no response
        elapsed = time.monotonic() - t0
    assert 0.8 <= elapsed < 4.5  # 1 s, plus the sweep's period, plus a busy machine
    with connect(srv.port) as sock:  # never sent a byte
        t0 = time.monotonic()
        assert closed_by_peer(sock, timeout=5) == b""
        assert time.monotonic() - t0 >= 0.8


def test_keep_alive_timeout_not_applied_to_busy_connections(start_server) -> None:
    srv = start_server({"keep_alive_timeout": 0.5})
    assert get(srv.port, "/sleep/1500").body == b"/sleep/1500"


def test_slowloris_header_timeout(start_server) -> None:
    srv = start_server({"header_timeout": 1.0, "keep_alive_timeout": 10})
    head = request_bytes("GET", "/head", [("x-pad", "p" * 40)])
    with connect(srv.port) as sock:
        t0 = time.monotonic()
        sent = 0
        try:
            for byte in head:
                sock.sendall(bytes([byte]))
                sent += 1
                time.sleep(0.05)
                if time.monotonic() - t0 > 4:
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert sent < len(head), "the whole head went through: no header timeout"
        data = closed_by_peer(sock, timeout=5)
        elapsed = time.monotonic() - t0
    assert data == b"" or data.startswith(b"HTTP/1.1 408")
    assert elapsed < 8
    assert get(srv.port, "/head").status == 200


def test_header_timeout_answers_408(start_server) -> None:
    srv = start_server({"header_timeout": 0.5, "keep_alive_timeout": 10})
    with connect(srv.port) as sock:
        sock.sendall(b"GET /head HTTP/1.1\r\n")
        data = closed_by_peer(sock, timeout=5)
    assert data.startswith(b"HTTP/1.1 408")
    assert b"connection: close" in data.lower()


# ---- large bodies, back-pressure


@pytest.mark.parametrize(
    "path", ["/big?size=8000000", "/bigstream?size=8000000", "/bigstream?size=8000000&length=1&piece=100000"]
)
def test_large_response(server: ServerProcess, path: str) -> None:
    with connect(server.port) as sock:
        sock.sendall(request_bytes("GET", path) + request_bytes("GET", "/head"))
        reader = Reader(sock)
        r = reader.read()
        assert r.status == 200
        assert len(r.body) == 8_000_000
        assert r.body == pattern(8_000_000)
        assert reader.read().body == b"hello world"


def test_slow_reader_large_streamed_response(server: ServerProcess) -> None:
    size = 16_000_000
    with connect(server.port) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        rss_before = rss(server)
        sock.sendall(request_bytes("GET", f"/bigstream?size={size}"))
        time.sleep(0.5)  # the slow part: an app unchecked would have produced it all by now
        # Back-pressure: the app waits while the unwritten bytes are over the high-water mark.
        assert rss(server) - rss_before < size // 4
        # Meanwhile, others are served promptly.
        t0 = time.monotonic()
        for _ in range(5):
            assert get(server.port, "/head").status == 200
        assert time.monotonic() - t0 < 5
        digest = hashlib.sha256()
        reader = Reader(sock)
        r = reader.read(timeout=30, on_data=digest.update)
        assert r.status == 200
    assert digest.digest() == hashlib.sha256(pattern(size)).digest()


def test_upload_back_pressure_slow_app(server: ServerProcess) -> None:
    data = random.Random(7).randbytes(6_000_000)
    with connect(server.port) as sock:
        sock.sendall(request_bytes("POST", "/upload?delay=0.002", [("content-length", str(len(data)))]))
        sender = threading.Thread(target=sock.sendall, args=(data,), daemon=True)
        sender.start()
        r = Reader(sock).read(timeout=30)
        sender.join(TIMEOUT)
    info = json.loads(r.body)
    assert info["size"] == len(data)
    assert info["sha256"] == hashlib.sha256(data).hexdigest()


def test_upload_not_read_is_not_buffered(server: ServerProcess) -> None:
    # The app waits 1.5 s before reading: meanwhile the server stops reading the socket past its
    # high-water mark, so the client is held back instead of the server holding the body.
    data = random.Random(8).randbytes(30_000_000)
    with connect(server.port) as sock:
        rss_before = rss(server)
        sock.sendall(request_bytes("POST", "/upload?wait=1.5", [("content-length", str(len(data)))]))
        sent = [0]

        def send() -> None:
            view = memoryview(data)
            while sent[0] < len(data):
                sent[0] += sock.send(view[sent[0] : sent[0] + 65536])

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        time.sleep(0.7)  # the client pushes as fast as it can meanwhile
        assert sent[0] < len(data) // 2
        assert rss(server) - rss_before < 10_000_000
        r = Reader(sock).read(timeout=30)
        sender.join(TIMEOUT)
    info = json.loads(r.body)
    assert info["size"] == len(data)
    assert info["sha256"] == hashlib.sha256(data).hexdigest()


def test_chunked_upload_back_pressure(server: ServerProcess) -> None:
    pieces = [random.Random(i).randbytes(100_000) for i in range(40)]
    with connect(server.port) as sock:
        sock.sendall(request_bytes("POST", "/upload?delay=0.001", [("transfer-encoding", "chunked")]))
        sender = threading.Thread(target=sock.sendall, args=(chunked(*pieces),), daemon=True)
        sender.start()
        r = Reader(sock).read(timeout=30)
        sender.join(TIMEOUT)
    info = json.loads(r.body)
    assert info["sha256"] == hashlib.sha256(b"".join(pieces)).hexdigest()


# ---- garbage


def mutations(rng: random.Random, count: int) -> list[bytes]:
    valid = [
        request_bytes("GET", "/head"),
        request_bytes("POST", "/echo", body=b"hello"),
        request_bytes("POST", "/echo", [("transfer-encoding", "chunked")], chunked(b"ab", b"cde")),
        b"GET /scope?x=1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        request_bytes("HEAD", "/head", [("expect", "100-continue")]),
    ]
    out = []
    for _ in range(count):
        kind = rng.random()
        if kind < 0.2:
            out.append(rng.randbytes(rng.randint(1, 300)))
            continue
        data = bytearray(rng.choice(valid) * rng.randint(1, 3))
        for _ in range(rng.randint(1, 6)):
            op = rng.random()
            at = rng.randrange(len(data)) if data else 0
            if op < 0.35 and data:
                data[at] = rng.randrange(256)
            elif op < 0.55:
                data[at:at] = rng.choice(
                    [
                        b"\r",
                        b"\n",
                        b"\r\n",
                        b":",
                        b" ",
                        b"\x00",
                        b"%",
                        b"0",
                        b"ffffffffffffffffff",
                        b"\r\n\r\n",
                    ]
                )
            elif op < 0.75 and data:
                del data[at : at + rng.randint(1, 10)]
            else:
                data[at:at] = data[rng.randrange(len(data)) :][: rng.randint(1, 40)]
        out.append(bytes(data))
    return out


def test_garbage_and_mutated_requests(server: ServerProcess) -> None:
    rng = random.Random(20240601)
    cases = mutations(rng, 3000)
    lock = threading.Lock()
    failures: list[str] = []

    def worker(batch: list[bytes]) -> None:
        for case in batch:
            try:
                with connect(server.port, timeout=3) as sock:
                    sock.sendall(case)
                    sock.shutdown(socket.SHUT_WR)
                    Reader(sock).expect_close(timeout=3)  # every case ends: the server closes
            except (ConnectionResetError, BrokenPipeError):
                pass
            except TimeoutError:
                with lock:
                    failures.append(repr(case[:200]))

    threads = [threading.Thread(target=worker, args=(cases[i::16],), daemon=True) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    assert server.alive()
    assert not failures, failures[:5]
    assert get(server.port, "/head").body == b"hello world"


def test_garbage_on_kept_alive_connections(server: ServerProcess) -> None:
    # Without a FIN: after each case, a good request on the same connection either gets its
    # answer or the connection is closed; it never hangs beyond the timeouts.
    rng = random.Random(99)
    for case in mutations(rng, 300):
        with connect(server.port, timeout=3) as sock:
            try:
                sock.sendall(case)
            except (ConnectionResetError, BrokenPipeError):
                continue
    assert server.alive()
    assert get(server.port, "/head").body == b"hello world"


@pytest.mark.parametrize("path", ["/bigstream?size=20000000&piece=100000", "/status/204"])
def test_head_of_large_streamed_response_does_not_stall_the_app(server: ServerProcess, path: str) -> None:
    # A HEAD's body is never written: its bytes must still count as gone for the app's
    # back-pressure, or the app waits forever and the connection with it.
    with connect(server.port) as sock:
        sock.sendall(request_bytes("HEAD", path) + request_bytes("GET", "/head"))
        reader = Reader(sock)
        r = reader.read("HEAD")
        assert r.status in (200, 204)
        assert r.body == b""
        assert reader.read().body == b"hello world"


def test_streamed_response_behind_a_closing_one_is_released(server: ServerProcess) -> None:
    # The first response closes the connection; the streamed one pipelined behind it was being
    # held (its app waiting for its bytes to drain): that app must be let go.
    before = events(server.port).count("bigstream-done")
    with connect(server.port) as sock:
        sock.sendall(
            request_bytes("GET", "/sleep/300?close=1") + request_bytes("GET", "/bigstream?size=5000000")
        )
        reader = Reader(sock)
        r = reader.read()
        assert r.body == b"/sleep/300"
        assert not r.keep_alive
        assert reader.expect_close() == b""
    poll_until(lambda: events(server.port).count("bigstream-done") == before + 1)


def test_write_timeout_closes_a_client_that_never_reads(start_server) -> None:
    srv = start_server({"write_timeout": 1.0})
    with connect(srv.port) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendall(request_bytes("GET", "/bigstream?size=50000000"))
        before = events(srv.port).count("bigstream-done")
        # The app is let go (a disconnect) once the server gives up on the client.
        poll_until(lambda: events(srv.port).count("bigstream-done") == before + 1, timeout=8)
    assert get(srv.port, "/head").status == 200


def test_body_timeout_closes_a_stalled_upload(start_server) -> None:
    srv = start_server({"body_timeout": 1.0})
    with connect(srv.port) as sock:
        sock.sendall(request_bytes("POST", "/upload", [("content-length", "1000000")]) + b"x" * 100_000)
        t0 = time.monotonic()
        assert closed_by_peer(sock, timeout=6) == b""
        assert time.monotonic() - t0 >= 0.8
    poll_until(lambda: "upload-disconnect" in events(srv.port))
