"""HTTP/1.1 over raw sockets: keep-alive, pipelining, framing, limits, and what the app sees."""

from __future__ import annotations

import concurrent.futures
import email.utils
import json
import shutil
import socket
import subprocess
import threading
import time
from typing import Any

import httpx
import pytest
from fasterapi_server._engine import Engine
from helpers import (
    Reader,
    ServerProcess,
    chunked,
    closed_by_peer,
    connect,
    exchange,
    get,
    request_bytes,
)

# ---- connections


def test_keep_alive_many_requests_on_one_connection(server: ServerProcess) -> None:
    with connect(server.port) as sock:
        reader = Reader(sock)
        for i in range(200):
            sock.sendall(request_bytes("POST", "/echo", body=b"%d" % i))
            r = reader.read()
            assert (r.status, r.body) == (200, b"%d" % i)
            assert r.keep_alive
        assert not reader.eof


def test_pipelined_requests_answered_in_order(server: ServerProcess) -> None:
    # One write, 20 requests; the earlier ones sleep longer, so their apps finish last.
    paths = [f"/sleep/{(20 - i) * 10}" for i in range(20)]
    with connect(server.port) as sock:
        sock.sendall(b"".join(request_bytes("GET", p) for p in paths))
        reader = Reader(sock)
        bodies = [reader.read().body for _ in paths]
    assert bodies == [p.encode() for p in paths]


def test_pipelined_mixed_methods_and_bodies(server: ServerProcess) -> None:
    reqs = [
        (request_bytes("POST", "/echo", body=b"one"), "POST", b"one"),
        (request_bytes("HEAD", "/head"), "HEAD", b""),
        (
            request_bytes("POST", "/echo", [("transfer-encoding", "chunked")], chunked(b"tw", b"o")),
            "POST",
            b"two",
        ),
        (request_bytes("GET", "/sleep/50"), "GET", b"/sleep/50"),
        (request_bytes("GET", "/status/204"), "GET", b""),
        (request_bytes("POST", "/echo", body=b"three"), "POST", b"three"),
    ]
    with connect(server.port) as sock:
        sock.sendall(b"".join(r for r, _, _ in reqs))
        reader = Reader(sock)
        for _, method, body in reqs:
            assert reader.read(method).body == body


def test_pipelining_past_max_pipelined(start_server) -> None:
    srv = start_server({"max_pipelined": 4})
    paths = [f"/sleep/{i % 3 * 5}" for i in range(50)]
    with connect(srv.port) as sock:
        sock.sendall(b"".join(request_bytes("GET", p) for p in paths))
        reader = Reader(sock)
        assert [reader.read().body for _ in paths] == [p.encode() for p in paths]


def test_connection_close_requested(server: ServerProcess) -> None:
    with connect(server.port) as sock:
        sock.sendall(request_bytes("GET", "/head", [("connection", "close")]) + request_bytes("GET", "/head"))
        reader = Reader(sock)
        r = reader.read()
        assert r.status == 200
        assert not r.keep_alive
        assert reader.expect_close() == b""  # the second request is not answered


def test_half_closed_client_still_answered(server: ServerProcess) -> None:
    with connect(server.port) as sock:
        sock.sendall(request_bytes("GET", "/sleep/50") + request_bytes("GET", "/head"))
        sock.shutdown(socket.SHUT_WR)
        reader = Reader(sock)
        assert reader.read().body == b"/sleep/50"
        assert reader.read().body == b"hello world"
        assert reader.expect_close() == b""


# ---- HTTP/1.0


def test_http10_closes_by_default(server: ServerProcess) -> None:
    with connect(server.port) as sock:
        sock.sendall(b"GET /head HTTP/1.0\r\n\r\n")
        reader = Reader(sock)
        r = reader.read()
        assert r.status == 200
        assert r.http_version == "1.0"
        assert r.body == b"hello world"
        assert not r.keep_alive
        assert reader.expect_close() == b""


def test_http10_keep_alive_when_asked(server: ServerProcess) -> None:
    with connect(server.port) as sock:
        reader = Reader(sock)
        for _ in range(3):
            sock.sendall(b"GET /head HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            r = reader.read()
            assert r.status == 200
            assert r.keep_alive
            assert r.headers["connection"].lower() == "keep-alive"
            assert r.headers["content-length"] == "11"


def test_http10_streamed_response_ends_at_close(server: ServerProcess) -> None:
    with connect(server.port) as sock:
        sock.sendall(b"GET /stream?n=3&size=4 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        data = closed_by_peer(sock)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200")
    assert b"transfer-encoding" not in head.lower()
    assert body == b"aaaabbbbcccc"


# ---- bodies and framing


def test_chunked_request_body(server: ServerProcess) -> None:
    pieces = [b"x" * n for n in (1, 10, 1000, 70000)]
    body = chunked(*pieces)
    r = exchange(server.port, request_bytes("POST", "/echo", [("transfer-encoding", "chunked")], body))
    assert r.status == 200
    assert r.body == b"".join(pieces)


def test_chunked_request_body_with_trailers(server: ServerProcess) -> None:
    body = b"5\r\nhello\r\n0\r\nx-trailer: yes\r\n\r\n"
    r = exchange(server.port, request_bytes("POST", "/echo", [("transfer-encoding", "chunked")], body))
    assert r.body == b"hello"


def test_chunked_response(server: ServerProcess) -> None:
    with connect(server.port) as sock:
        sock.sendall(request_bytes("GET", "/stream?n=4&size=3"))
        reader = Reader(sock)
        r = reader.read()
        assert r.headers.get("transfer-encoding") == "chunked"
        assert "content-length" not in r.headers
        assert r.body == b"aaabbbcccddd"
        sock.sendall(request_bytes("GET", "/head"))  # the connection is still usable
        assert reader.read().body == b"hello world"


def test_head_request_has_no_body_and_keeps_length(server: ServerProcess) -> None:
    with connect(server.port) as sock:
        sock.sendall(
            request_bytes("HEAD", "/head")
            + request_bytes("HEAD", "/bigstream?size=1000&length=1")
            + request_bytes("GET", "/head")
        )
        reader = Reader(sock)
        r = reader.read("HEAD")
        assert r.status == 200
        assert r.headers["content-length"] == "11"
        assert r.body == b""
        r = reader.read("HEAD")
        assert r.headers["content-length"] == "1000"
        assert r.body == b""
        # Had a body been written after either head, this would not parse as the third response.
        assert reader.read().body == b"hello world"


@pytest.mark.parametrize("status", [204, 304])
def test_no_body_statuses(server: ServerProcess, status: int) -> None:
    with connect(server.port) as sock:
        sock.sendall(request_bytes("GET", f"/status/{status}") + request_bytes("GET", "/head"))
        raw_reader = Reader(sock)
        r = raw_reader.read()
        assert r.status == status
        assert r.body == b""
        assert "transfer-encoding" not in r.headers
        if status == 204:
            assert "content-length" not in r.headers
        assert raw_reader.read().body == b"hello world"


def test_expect_100_continue_raw(server: ServerProcess) -> None:
    with connect(server.port) as sock:
        sock.sendall(request_bytes("POST", "/echo", [("expect", "100-continue"), ("content-length", "5")]))
        sock.settimeout(10)
        interim = b""
        while b"\r\n\r\n" not in interim:
            data = sock.recv(1000)
            assert data, "closed before 100 Continue"
            interim += data
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n")
        rest = interim.split(b"\r\n\r\n", 1)[1]
        sock.sendall(b"hello")
        reader = Reader(sock)
        reader.buffer = rest
        r = reader.read()
        assert r.status == 200
        assert r.body == b"hello"


def test_expect_100_continue_behind_pipelined_requests(server: ServerProcess) -> None:
    # The interim response waits for the responses before it, then comes before the body is sent.
    with connect(server.port) as sock:
        sock.sendall(
            request_bytes("GET", "/sleep/300")
            + request_bytes("POST", "/echo", [("expect", "100-continue"), ("content-length", "5")])
        )
        reader = Reader(sock)
        first = reader.read()
        assert (first.status, first.body, first.informational) == (200, b"/sleep/300", [])
        deadline = time.monotonic() + 10
        while b"\r\n\r\n" not in reader.buffer:
            reader._fill(deadline)
        assert reader.buffer.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(b"hello")
        second = reader.read("POST")
        assert (second.status, second.body, second.informational) == (200, b"hello", [100])


def test_expect_100_continue_not_sent_when_body_already_there(server: ServerProcess) -> None:
    # The client sent the body without waiting: no interim response is needed (nor harmful).
    r = exchange(server.port, request_bytes("POST", "/echo", [("expect", "100-continue")], b"hello"))
    assert r.status == 200
    assert r.body == b"hello"


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_large_upload_with_expect(server: ServerProcess, tmp_path) -> None:
    data = bytes(range(256)) * 8192  # 2 MiB: curl sends Expect: 100-continue
    src = tmp_path / "up.bin"
    src.write_bytes(data)
    out = subprocess.run(
        ["curl", "-sS", "-v", "--max-time", "20", "--data-binary", f"@{src}", f"http://127.0.0.1:{server.port}/upload"],
        capture_output=True, check=True, timeout=30,
    )  # fmt: skip
    assert b"Expect: 100-continue" in out.stderr
    assert b"HTTP/1.1 100 Continue" in out.stderr
    info = json.loads(out.stdout)
    import hashlib

    assert info["size"] == len(data)
    assert info["sha256"] == hashlib.sha256(data).hexdigest()


# ---- bad requests and limits


@pytest.mark.parametrize(
    "raw",
    [
        b"GARBAGE\r\n\r\n",
        b"GET / HTTP/1.1\r\nbad header\r\n\r\n",
        b"GET / HTTP/1.1\r\nhost: a\r\ncontent-length: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nhost: a\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n",
        b"POST / HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
        b"GET / HTTP/1.1\nhost: a\n\n",
        b"GET /\x00 HTTP/1.1\r\n\r\n",
    ],
)
def test_bad_request_400_and_close(server: ServerProcess, raw: bytes) -> None:
    with connect(server.port) as sock:
        sock.sendall(raw)
        reader = Reader(sock)
        r = reader.read()
        assert r.status == 400
        assert not r.keep_alive
        assert reader.expect_close() == b""


def test_bad_request_after_good_ones_in_a_pipeline(server: ServerProcess) -> None:
    with connect(server.port) as sock:
        sock.sendall(request_bytes("GET", "/sleep/50") + request_bytes("GET", "/head") + b"BAD\r\n\r\n")
        reader = Reader(sock)
        assert reader.read().body == b"/sleep/50"
        assert reader.read().body == b"hello world"
        assert reader.read().status == 400
        assert reader.expect_close() == b""


def test_unsupported_version_505(server: ServerProcess) -> None:
    r = exchange(server.port, b"GET / HTTP/2.0\r\nhost: a\r\n\r\n")
    assert r.status == 505


def test_request_line_too_long_414(start_server) -> None:
    srv = start_server({"max_request_line": 100})

    def line_of(length: int) -> bytes:  # "GET /scope?aaa HTTP/1.1", CRLF not counted
        target = "/scope?" + "a" * (length - len("GET /scope? HTTP/1.1"))
        return f"GET {target} HTTP/1.1\r\nhost: a\r\n\r\n".encode()

    assert exchange(srv.port, line_of(100)).status == 200  # at the limit
    r = exchange(srv.port, line_of(101))  # one past it
    assert r.status == 414
    assert not r.keep_alive


def test_head_too_large_431(start_server) -> None:
    srv = start_server({"max_header_bytes": 1000})

    def head_of(size: int) -> bytes:  # the whole head, request line and final CRLF included
        start = b"GET /head HTTP/1.1\r\nhost: a\r\nx-a: "
        return start + b"b" * (size - len(start) - 4) + b"\r\n\r\n"

    assert len(head_of(1000)) == 1000
    assert exchange(srv.port, head_of(1000)).status == 200  # at the limit
    assert exchange(srv.port, head_of(1001)).status == 431  # one past it
    with connect(srv.port) as sock:
        sock.sendall(request_bytes("GET", "/head", [("x-a", "b" * 2000)]))
        reader = Reader(sock)
        r = reader.read()
        assert r.status == 431
        assert not r.keep_alive
        assert reader.expect_close() == b""
    r = get(srv.port, "/head", headers=[(f"x-{i}", "b" * 60) for i in range(30)])
    assert r.status == 431


def test_too_many_headers_431(start_server) -> None:
    srv = start_server({"max_headers": 10})
    assert get(srv.port, "/head", headers=[(f"x-{i}", "v") for i in range(9)]).status == 200  # + host: 10
    assert get(srv.port, "/head", headers=[(f"x-{i}", "v") for i in range(10)]).status == 431  # 11


def test_content_length_over_max_body_413(start_server) -> None:
    srv = start_server({"max_body_size": 1000})
    assert exchange(srv.port, request_bytes("POST", "/echo", body=b"a" * 1000)).body == b"a" * 1000
    with connect(srv.port) as sock:
        # The head alone is enough to refuse it: the body is never sent.
        sock.sendall(request_bytes("POST", "/echo", [("content-length", "1001")]))
        reader = Reader(sock)
        r = reader.read()
        assert r.status == 413
        assert not r.keep_alive
        assert reader.expect_close() == b""


def test_chunked_body_over_max_body_413(start_server) -> None:
    srv = start_server({"max_body_size": 1000})
    ok = chunked(b"a" * 500, b"b" * 500)
    assert (
        exchange(srv.port, request_bytes("POST", "/echo", [("transfer-encoding", "chunked")], ok)).body
        == b"a" * 500 + b"b" * 500
    )
    with connect(srv.port) as sock:
        sock.sendall(
            request_bytes("POST", "/echo", [("transfer-encoding", "chunked")])
            + b"1f4\r\n"
            + b"a" * 500
            + b"\r\n"
        )
        sock.sendall(b"1f5\r\n" + b"b" * 501 + b"\r\n0\r\n\r\n")
        reader = Reader(sock)
        r = reader.read()
        assert r.status == 413
        assert not r.keep_alive
        assert reader.expect_close() == b""


def test_chunked_body_over_max_body_streamed_413_or_close(start_server) -> None:
    # A body long enough to be streamed to the app before it goes over the limit: the app sees
    # a disconnect; the client gets a 413 or (the response having been the app's) a close.
    srv = start_server({"max_body_size": 200_000})
    with connect(srv.port) as sock:
        sock.sendall(request_bytes("POST", "/upload", [("transfer-encoding", "chunked")]))
        piece = b"%x\r\n%s\r\n" % (50_000, b"z" * 50_000)
        try:
            for _ in range(6):
                sock.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass
        data = closed_by_peer(sock)
        assert data == b"" or data.startswith(b"HTTP/1.1 413")
    assert get(srv.port, "/head").status == 200


# ---- what the app sees


def test_scope(server: ServerProcess) -> None:
    with connect(server.port) as sock:
        sock.sendall(
            b"GET /scope/a%20b/%E2%82%AC%2Fc?x=1&y=%20 HTTP/1.1\r\n"
            b"Host: test\r\nX-Mixed-Case: Value Kept\r\n\r\n"
        )
        r = Reader(sock).read()
        local = sock.getsockname()
    info = json.loads(r.body)
    assert info["path"] == "/scope/a b/\u20ac/c"
    assert info["raw_path"] == "/scope/a%20b/%E2%82%AC%2Fc"
    assert info["query_string"] == "x=1&y=%20"
    assert info["client"] == [local[0], local[1]]
    assert info["server"] == ["127.0.0.1", server.port]
    assert info["http_version"] == "1.1"
    assert info["method"] == "GET"
    assert ["x-mixed-case", "Value Kept"] in info["headers"]
    assert ["host", "test"] in info["headers"]
    assert info["state"] == {"token": "from-lifespan"}
    assert (info["type"], info["scheme"], info["root_path"]) == ("http", "http", "")
    assert info["asgi"] == {"version": "3.0", "spec_version": "2.4"}
    assert info["extensions"] == ["http.response.pathsend"]


def test_scope_http10(server: ServerProcess) -> None:
    info = json.loads(exchange(server.port, b"GET /scope HTTP/1.0\r\n\r\n").body)
    assert info["http_version"] == "1.0"


def test_scope_state_is_each_requests_own_copy(server: ServerProcess) -> None:
    # The app marks its request's state after answering; the next request must not see it.
    for _ in range(3):
        info = json.loads(get(server.port, "/scope").body)
        assert info["state_was_marked"] is False
        assert info["state"] == {"token": "from-lifespan"}


def test_scope_with_root_path(start_server: Any) -> None:
    srv = start_server({"root_path": "/api"})
    info = json.loads(get(srv.port, "/scope/a%20b?q=1").body)
    assert info["root_path"] == "/api"
    assert (info["path"], info["raw_path"], info["query_string"]) == (
        "/api/scope/a b",
        "/api/scope/a%20b",
        "q=1",
    )


def free_port_pair() -> tuple[int, int]:
    """Two free local ports 256 apart (the server keeps client pairs in 256 slots by port)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port + 256 < 65536:
            with socket.socket() as other:
                try:
                    other.bind(("127.0.0.1", port + 256))
                except OSError:
                    continue
            return port, port + 256
    raise AssertionError("no two free ports")


def test_scope_client_is_each_connections_own(server: ServerProcess) -> None:
    # Three keep-alive connections whose client pairs fall in one slot of the server's cache of
    # them: two ports 256 apart, and the first port again from another address. Their requests,
    # interleaved, each see their own connection's address.
    first, second = free_port_pair()
    socks = []
    for host, port in (("127.0.0.1", first), ("127.0.0.1", second), ("127.0.0.2", first)):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.settimeout(10)
        sock.bind((host, port))
        sock.connect(("127.0.0.1", server.port))
        socks.append(sock)
    try:
        readers = [Reader(sock) for sock in socks]
        for _ in range(3):
            for sock, reader in zip(socks, readers, strict=True):
                sock.sendall(request_bytes("GET", "/scope/x"))
                info = json.loads(reader.read().body)
                assert info["client"] == list(sock.getsockname())
    finally:
        for sock in socks:
            sock.close()


def inline_requests(engine: Engine, count: int) -> list[Any]:
    """`count` requests (GET /<i> on connections of their own) from an engine with threads=0."""
    port = engine.bind()
    engine.start()
    socks = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(count)]
    for i, sock in enumerate(socks):
        sock.sendall(request_bytes("GET", f"/{i}"))
    items: list[Any] = []
    deadline = time.monotonic() + 10
    while len(items) < count and time.monotonic() < deadline:
        items += engine.poll()
        time.sleep(0.01)
    assert len(items) == count
    items.sort(key=lambda item: int(item.path[1:]))
    return [(item, sock) for item, sock in zip(items, socks, strict=True)]


def test_response_headers_in_any_shape() -> None:
    # The app's headers: any iterable of pairs, each a tuple or a list, of bytes, str or buffers.
    both = {"x-a": "1", "x-b": "2"}
    shapes: list[tuple[Any, dict[str, str]]] = [
        ([(b"x-a", b"1"), (b"x-b", b"2")], both),
        (((b"x-a", b"1"), (b"x-b", b"2")), both),
        ([[b"x-a", b"1"], [b"x-b", b"2"]], both),
        (((b"x-a", b"1"), [b"x-b", b"2"]), both),
        ((pair for pair in [(b"x-a", b"1"), (b"x-b", b"2")]), both),
        ([("x-a", "1"), (bytearray(b"x-b"), memoryview(b"2"))], both),
        ({(b"x-a", b"1"): 0}, {"x-a": "1"}),  # (any iterable; a dict's keys, here)
    ]
    engine = Engine(host="127.0.0.1", port=0, threads=0)
    try:
        pairs = inline_requests(engine, len(shapes) + 1)
        for (item, sock), (headers, expected) in zip(pairs, shapes, strict=False):
            item.respond(200, headers, b"ok")
            engine.flush()
            r = Reader(sock).read()
            assert {k: v for k, v in r.headers.items() if k.startswith("x-")} == expected, headers
            assert r.body == b"ok"
        # Not pairs: refused, and the request can still be answered.
        item, sock = pairs[-1]
        for bad, error in [
            ([(b"x-a", b"1", b"2")], "pair"),
            ([b"x-a"], "pair"),
            ([(b"x-a",)], "pair"),
            (5, "not iterable"),
            ([(5, b"1")], "expected bytes"),
        ]:
            with pytest.raises(TypeError, match=error):
                item.respond(200, bad, b"never")
        item.respond(200, [(b"x-a", b"last")], b"ok")
        engine.flush()
        r = Reader(sock).read()
        assert (r.headers["x-a"], r.body) == ("last", b"ok")
        for _, sock in pairs:
            sock.close()
    finally:
        engine.stop()


def test_kept_header_pairs_are_checked_once_and_still_count() -> None:
    # A tuple of two bytes objects is checked once and known by its identity after (the
    # framework's responses share theirs): what it says still counts each time, a bad one is
    # refused each time, and many pairs (more than the engine keeps) are all written as given.
    length = (b"content-length", b"2")
    close = (b"connection", b"close")
    date = (b"date", b"Thu, 01 Jan 1970 00:00:00 GMT")
    bad = (b"x-bad", b"a\r\nx-injected: 1")
    many = [(b"x-%d" % i, b"%d" % i) for i in range(200)]
    engine = Engine(host="127.0.0.1", port=0, threads=0)
    try:
        pairs = inline_requests(engine, 8)
        seen = []
        for k, (item, sock) in enumerate(pairs):
            if k in (0, 1):
                item.respond(200, [length, date], b"ok")
            elif k in (2, 3):
                with pytest.raises(ValueError, match="invalid value for header x-bad"):
                    item.respond(200, [bad], b"never")
                with pytest.raises(ValueError, match="Content-Length is 2"):
                    item.respond(200, [length], b"three")
                with pytest.raises(ValueError, match="invalid Content-Length 3"):  # (a second, different)
                    item.respond(200, [length, (b"content-length", b"3")], b"two")
                item.respond(200, [close], b"closing")
            elif k in (4, 5):
                item.respond(200, many, b"many")
            else:
                item.respond(200, [], b"plain")
            engine.flush()
            r = Reader(sock).read()
            seen.append(r)
            if k in (2, 3):
                assert r.headers.get("connection") == "close"
                assert sock.recv(1) == b""  # closed after it
        for r in seen[:2]:
            assert (r.body, r.headers["content-length"], r.headers["date"]) == (b"ok", "2", date[1].decode())
            assert [name for name, _ in r.raw_headers].count(b"date") == 1
        for r in seen[2:4]:
            assert r.body == b"closing"
            assert "x-bad" not in r.headers
            assert "x-injected" not in r.headers
        for r in seen[4:6]:
            assert r.body == b"many"
            assert [(n, v) for n, v in r.raw_headers if n.startswith(b"x-")] == many
        for r in seen[6:]:
            assert r.body == b"plain"
            assert r.headers["date"] != date[1].decode()
            assert "connection" not in r.headers
        for _, sock in pairs:
            sock.close()
    finally:
        engine.stop()


def test_status_line_and_date_follow_each_response() -> None:
    # The status line, Date and Server of a head are kept for the rest of the second: a response
    # of another status or HTTP version, or in a later second, gets its own.
    engine = Engine(host="127.0.0.1", port=0, threads=0)
    try:
        port = engine.bind()
        engine.start()
        versions = ["1.1", "1.1", "1.0", "1.1", "1.1"]
        socks = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in versions]
        heads = []
        for i, (version, sock) in enumerate(zip(versions, socks, strict=True)):
            if i == len(versions) - 1:
                time.sleep(1.1)  # (a later second)
            sock.sendall(f"GET /{i} HTTP/{version}\r\nHost: x\r\n\r\n".encode())
            items: list[Any] = []
            deadline = time.monotonic() + 10
            while not items and time.monotonic() < deadline:
                items = engine.poll()
                time.sleep(0.01)
            status = 404 if i == 1 else 200
            items[0].respond(status, [], b"ok")
            engine.flush()
            heads.append(Reader(sock).read())
        assert [(r.status, r.http_version) for r in heads] == [
            (200, "1.1"),
            (404, "1.1"),
            (200, "1.0"),
            (200, "1.1"),
            (200, "1.1"),
        ]
        for r in heads:
            assert r.headers["server"] == "fasterapi"
            assert email.utils.parsedate_to_datetime(r.headers["date"]).tzinfo is not None
        assert heads[-1].headers["date"] != heads[0].headers["date"]
        for sock in socks:
            sock.close()
    finally:
        engine.stop()


def test_header_injection_refused(server: ServerProcess) -> None:
    for path in ("/inject", "/inject-name"):
        with connect(server.port) as sock:
            sock.sendall(request_bytes("GET", path) + request_bytes("GET", "/head"))
            reader = Reader(sock)
            r = reader.read()
            assert r.status == 500
            assert "x-injected" not in r.headers
            assert b"never" not in r.body
            # The connection is still in step: the next response is the next request's.
            assert reader.read().body == b"hello world"


def test_handler_exception_500(server: ServerProcess) -> None:
    with connect(server.port) as sock:
        sock.sendall(request_bytes("GET", "/error") + request_bytes("GET", "/head"))
        reader = Reader(sock)
        assert reader.read().status == 500
        assert reader.read().body == b"hello world"


def test_handler_exception_does_not_harm_concurrent_requests(server: ServerProcess) -> None:
    def one(i: int) -> tuple[int, bytes]:
        path = "/error" if i % 2 else f"/sleep/{i % 5 * 10}"
        r = get(server.port, path)
        return r.status, r.body

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        results = list(pool.map(one, range(200)))
    for i, (status, body) in enumerate(results):
        if i % 2:
            assert status == 500
        else:
            assert (status, body) == (200, f"/sleep/{i % 5 * 10}".encode())


def test_handler_exception_after_start_closes(server: ServerProcess) -> None:
    with connect(server.port) as sock:
        sock.sendall(request_bytes("GET", "/error-after-start"))
        data = closed_by_peer(sock)
    # The head and the partial body went out; the response is cut short, never completed.
    assert data.startswith(b"HTTP/1.1 200")
    assert not data.endswith(b"0\r\n\r\n")
    assert get(server.port, "/head").status == 200


def test_httpx_many_connections(server: ServerProcess) -> None:
    limits = httpx.Limits(max_connections=20, max_keepalive_connections=20)
    with (
        httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=10, limits=limits) as client,
        concurrent.futures.ThreadPoolExecutor(20) as pool,
    ):
        bodies = list(pool.map(lambda i: client.post("/echo", content=b"%d" % i).content, range(300)))
    assert bodies == [b"%d" % i for i in range(300)]


@pytest.mark.parametrize("size", [100_000, 3_000_000])
def test_response_before_body_read_keeps_connection_usable(server: ServerProcess, size: int) -> None:
    # /head answers without reading the body; past body_high_water (1 MiB) the rest must still be
    # read (and dropped) for the next request on the connection to be answered.
    with connect(server.port) as sock:
        data = request_bytes("POST", "/head", body=b"x" * size) + request_bytes("POST", "/echo", body=b"next")
        sender = threading.Thread(target=sock.sendall, args=(data,), daemon=True)
        sender.start()
        reader = Reader(sock)
        assert reader.read().body == b"hello world"
        assert reader.read().body == b"next"
        sender.join(10)


def test_max_connections_holds_the_rest_back(start_server) -> None:
    srv = start_server({"max_connections": 5, "keep_alive_timeout": 30})
    held = [connect(srv.port) for _ in range(5)]
    try:
        for sock in held:  # all five are accepted and served
            sock.sendall(request_bytes("GET", "/head"))
            assert Reader(sock).read().status == 200
        with connect(srv.port) as extra:  # the kernel's backlog takes it; the server does not yet
            extra.sendall(request_bytes("GET", "/head"))
            with pytest.raises(TimeoutError):
                Reader(extra).read(timeout=0.5)
            held.pop().close()
            assert Reader(extra).read().body == b"hello world"
    finally:
        for sock in held:
            sock.close()


@pytest.mark.parametrize("threads", [2])
def test_several_io_threads(start_server, threads: int) -> None:
    srv = start_server({"threads": threads})
    paths = [f"/sleep/{(10 - i) * 10}" for i in range(10)]

    def one(_: int) -> list[bytes]:
        with connect(srv.port) as sock:
            sock.sendall(b"".join(request_bytes("GET", p) for p in paths))
            reader = Reader(sock)
            return [reader.read().body for _ in paths]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        for bodies in pool.map(one, range(40)):
            assert bodies == [p.encode() for p in paths]


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_wrk_short_load(start_server) -> None:
    srv = start_server({"threads": 2})
    out = subprocess.run(
        ["wrk", "-t2", "-c64", "-d2s", "--timeout", "5s", f"http://127.0.0.1:{srv.port}/head"],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout  # fmt: skip
    assert "Non-2xx" not in out, out
    assert "Socket errors" not in out, out
    assert srv.alive()
    assert get(srv.port, "/head").body == b"hello world"


def test_no_100_continue_for_http10(server: ServerProcess) -> None:
    # RFC 9110 15.2: a server must not send a 1xx response to an HTTP/1.0 client.
    with connect(server.port) as sock:
        sock.sendall(b"POST /echo HTTP/1.0\r\nexpect: 100-continue\r\ncontent-length: 5\r\n\r\n")
        sock.settimeout(0.5)
        with pytest.raises(TimeoutError):
            sock.recv(100)
        sock.sendall(b"hello")
        r = Reader(sock).read()
        assert r.status == 200
        assert r.informational == []
        assert r.body == b"hello"


def test_thousand_pipelined_requests_in_one_write(server: ServerProcess) -> None:
    reqs = b"".join(request_bytes("POST", "/echo", body=b"%d" % i) for i in range(1000))
    with connect(server.port) as sock:
        sender = threading.Thread(target=sock.sendall, args=(reqs,), daemon=True)
        sender.start()
        reader = Reader(sock)
        assert [reader.read().body for _ in range(1000)] == [b"%d" % i for i in range(1000)]
        sender.join(10)


def test_absolute_form_target(server: ServerProcess) -> None:
    info = json.loads(
        exchange(server.port, b"GET http://test/scope/x%41?q=1 HTTP/1.1\r\nhost: test\r\n\r\n").body
    )
    assert (info["path"], info["raw_path"], info["query_string"]) == ("/scope/xA", "/scope/x%41", "q=1")


def test_header_values_keep_their_bytes(server: ServerProcess) -> None:
    with connect(server.port) as sock:
        sock.sendall(b"GET /scope HTTP/1.1\r\nhost: test\r\nx-latin: caf\xe9\r\nx-space:   padded  \r\n\r\n")
        info = json.loads(Reader(sock).read().body)
    headers = dict(map(tuple, info["headers"]))
    assert headers["x-latin"] == "caf\xe9"
    assert headers["x-space"] == "padded"  # RFC 9112 5: optional whitespace is not the value's


def test_an_inline_engine_uses_request_records_again_with_nothing_of_the_last() -> None:
    # Inline, a request's record is given back when its Request goes and used again by a later
    # request, its buffers kept: each request still sees its own head, body and route only.
    engine = Engine(host="127.0.0.1", port=0, threads=0)
    assert engine.add_route(["GET", "POST"], "/users/{id:int}/posts/{slug}", 0)
    port = engine.bind()
    engine.start()
    shapes: list[tuple[bytes, dict[str, Any]]] = [
        (
            request_bytes(
                "POST",
                "/users/7/posts/hello?a=1&b=2",
                [("x-one", "1"), ("x-two", "2"), ("x-three", "3"), ("content-type", "text/plain")],
                b"a body of some length",
            ),
            {
                "method": "POST",
                "path": "/users/7/posts/hello",
                "query_string": b"a=1&b=2",
                "route": 0,
                "path_params": {"id": 7, "slug": "hello"},
                "body": b"a body of some length",
                "names": [b"host", b"x-one", b"x-two", b"x-three", b"content-type", b"content-length"],
                "http_version": "1.1",
            },
        ),
        (
            request_bytes("GET", "/other", version="1.0"),
            {
                "method": "GET",
                "path": "/other",
                "query_string": b"",
                "route": -1,
                "path_params": {},
                "body": b"",
                "names": [b"host"],
                "http_version": "1.0",
            },
        ),
        (
            request_bytes("GET", "/users/8/posts/x"),
            {
                "method": "GET",
                "path": "/users/8/posts/x",
                "query_string": b"",
                "route": 0,
                "path_params": {"id": 8, "slug": "x"},
                "body": b"",
                "names": [b"host"],
                "http_version": "1.1",
            },
        ),
    ]
    try:
        for round_ in range(30):
            raw, expected = shapes[round_ % len(shapes)]
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(raw)
                items: list[Any] = []
                deadline = time.monotonic() + 10
                while not items and time.monotonic() < deadline:
                    items = engine.poll()
                    time.sleep(0.001)
                assert len(items) == 1
                item = items.pop()
                seen = {
                    "method": item.method,
                    "path": item.path,
                    "query_string": item.query_string,
                    "route": item.route,
                    "path_params": item.path_params if item.route >= 0 else {},
                    "body": item.body,
                    "names": [name for name, _ in item.headers],
                    "http_version": item.http_version,
                }
                assert seen == expected, round_
                assert not item.more_body
                assert item.header("x-one") == ("1" if round_ % len(shapes) == 0 else None)
                item.respond(200, [], b"ok")
                engine.flush()
                assert Reader(sock).read().body == b"ok"
                del item  # (its record is given back, for the next round's request)
    finally:
        engine.stop()


def test_an_inline_engine_keeps_at_most_256_records_of_at_most_16_kib() -> None:
    # The records given back are kept up to 256 (the 257th and on are freed), and none whose
    # buffer grew past 16 KiB (a big head or body) is kept.
    engine = Engine(host="127.0.0.1", port=0, threads=0)
    port = engine.bind()
    engine.start()

    def serve(raws: list[bytes]) -> list[Any]:
        socks = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in raws]
        for sock, raw in zip(socks, raws, strict=True):
            sock.sendall(raw)
        items: list[Any] = []
        deadline = time.monotonic() + 10
        while len(items) < len(raws) and time.monotonic() < deadline:
            items += engine.poll()
            time.sleep(0.001)
        assert len(items) == len(raws)
        for item in items:
            item.respond(200, [], b"ok")
        engine.flush()
        for sock in socks:
            assert Reader(sock).read().body == b"ok"
            sock.close()
        return items

    try:
        assert engine.stats()["spare_records"] == 0
        items = serve([request_bytes("GET", f"/{i}") for i in range(256)])
        del items
        assert engine.stats()["spare_records"] == 256  # at the limit: all kept
        items = serve([request_bytes("GET", f"/{i}") for i in range(257)])
        del items
        assert engine.stats()["spare_records"] == 256  # past it: the 257th freed
        items = serve([request_bytes("POST", "/big", body=b"x" * 16_000)])  # (fits: kept)
        del items
        assert engine.stats()["spare_records"] == 256
        items = serve([request_bytes("POST", "/big", body=b"x" * 17_000)])  # (grown past 16 KiB)
        del items
        assert engine.stats()["spare_records"] == 255  # taken, not given back
    finally:
        engine.stop()
