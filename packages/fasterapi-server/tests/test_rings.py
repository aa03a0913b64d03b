"""The rings between the threads when they are full: nobody waits on someone who waits on them.

The Python thread may wait for an I/O thread to take its commands; so an I/O thread never waits
for the Python thread (it holds records the inbound ring cannot take, in order), and neither do the
executor's threads (the Python thread joins them at shutdown). With the I/O on the Python thread
(threads=0), its commands run at once, with no ring between it and itself. Each scenario runs in
a child process with rings of two cells: a deadlock there is a timeout here, not a hung test run.
"""

from __future__ import annotations

import select
import socket
import subprocess
import sys
import textwrap
import time

import pytest
from fasterapi_server._engine import Engine, Request
from helpers import IO_IDS, IO_THREADS, TIMEOUT


def run_child(code: str) -> str:
    try:
        done = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            capture_output=True,
            text=True,
            timeout=TIMEOUT * 3,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"the child hung (a deadlock): {exc.stderr!r}") from None
    assert done.returncode == 0, done.stderr
    return done.stdout


# The start of a child with N clients: an engine with rings of two cells, and one request from
# each client already sent (GET /<i>). serve_all() answers them as they come; read() reads one
# client's answer until done(data).
CLIENTS = """
import select, socket, time
from fasterapi_server._engine import Engine, Request

engine = Engine(host="127.0.0.1", port=0, threads=THREADS, inbound_capacity=2, command_capacity=2)
port = engine.bind()
engine.start()
fds = [engine.fileno()] + ([engine.io_fileno()] if THREADS == 0 else [])
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(N)]
for i, s in enumerate(socks):
    s.sendall(f"GET /{i} HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n".encode())


def serve_all(answer, served=None):
    served = served if served is not None else []
    deadline = time.monotonic() + 20
    while len(served) < N and time.monotonic() < deadline:
        select.select(fds, [], [], 0.1)
        for item in engine.poll():
            if type(item) is Request:
                answer(item)
                served.append(item.path)
        engine.flush()
    return served


def read(sock, done):
    sock.settimeout(10)
    data = b""
    while not done(data):
        got = sock.recv(65536)
        assert got, data
        data += got
    return data.partition(b"\\r\\n\\r\\n")
"""


def run_clients(n: int, threads: int, code: str) -> str:
    return run_child(f"N = {n}\nTHREADS = {threads}\n" + CLIENTS + textwrap.dedent(code))


@pytest.mark.parametrize("threads", IO_THREADS, ids=IO_IDS)
def test_full_rings_both_ways_do_not_deadlock(threads: int) -> None:
    # 16 requests wait while the Python thread answers each with 66 commands (start, 64 chunks,
    # end) through a command ring of 2: it waits on the I/O thread, which has more requests for a
    # full inbound ring of 2 than it can hand over.
    out = run_clients(
        16,
        threads,
        """
        CHUNKS = 64
        time.sleep(0.3)  # all of them read: two on the ring, the rest held

        def answer(item):
            item.start(200, [(b"content-type", b"text/plain")])
            for _ in range(CHUNKS):
                item.send(b"x")
            item.end()

        served = serve_all(answer)
        for s in socks:
            head, _, body = read(s, lambda data: data.endswith(b"0\\r\\n\\r\\n"))
            assert head.startswith(b"HTTP/1.1 200 "), head
            assert b"transfer-encoding: chunked" in head.lower(), head
            assert body == b"1\\r\\nx\\r\\n" * CHUNKS + b"0\\r\\n\\r\\n"
        engine.stop()
        print(sorted(served) == sorted(f"/{i}" for i in range(N)), len(served))
        """,
    )
    assert out.split() == ["True", "16"]


@pytest.mark.parametrize("threads", IO_THREADS, ids=IO_IDS)
def test_an_io_thread_stops_reading_a_whole_ring_ahead_of_the_python_thread(threads: int) -> None:
    # 40 requests arrive while nobody polls: with a ring of 2, the I/O thread reads until it holds
    # 2 more (a whole ring's worth) and then leaves the rest in the sockets; as the Python thread
    # catches up, it reads on, and every request is answered. Inline, one turn at the sockets
    # stops there too, and the poll that ran it asks for another.
    out = run_clients(
        40,
        threads,
        """
        time.sleep(0.5)
        answer = lambda item: item.respond(200, [], item.path.encode())
        served = []
        if THREADS == 0:  # (the first turns accept; the one after reads)
            while engine.stats()["requests"] == 0:
                assert select.select([engine.io_fileno()], [], [], 5)[0]
                for item in engine.poll():
                    answer(item)
                    served.append(item.path)
                engine.flush()
            assert select.select([engine.fileno()], [], [], 0)[0]  # "more to come"
        read_while_behind = engine.stats()["requests"]
        served = serve_all(answer, served)
        bodies = [read(s, lambda data: data.endswith(b"/%d" % i))[2] for i, s in enumerate(socks)]
        engine.stop()
        print(read_while_behind, len(served), bodies == [f"/{i}".encode() for i in range(N)])
        """,
    )
    read_while_behind, served, all_answered = out.split()
    assert int(read_while_behind) <= 4 + 1  # the ring, what is held, and the one that tipped it
    assert served == "40"
    assert all_answered == "True"


def test_executor_completions_beyond_a_full_ring_and_a_stop_that_joins() -> None:
    # 50 calls finish while nobody polls: 2 fit on the ring, 48 are set aside. Then stop() joins
    # the pool: it must not wait on a thread that waits for room, and every Future completes.
    out = run_child(
        """
        import threading, time
        from fasterapi_server._engine import Engine

        engine = Engine(host="127.0.0.1", port=0, threads=1, inbound_capacity=2, command_capacity=2)
        engine.bind()
        engine.start()
        engine.set_executor_threads(4)
        ran = []
        lock = threading.Lock()

        def call(i):
            with lock:
                ran.append(i)
            return i * 2

        futures = [engine.submit(call, i) for i in range(50)]
        deadline = time.monotonic() + 10
        while len(ran) < 50 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)  # the last completions posted
        engine.poll()
        engine.flush()
        results = [f.result() for f in futures if f.done()]
        engine.stop()
        print(len(ran), len(results), results == [i * 2 for i in range(50)])
        """
    )
    assert out.split() == ["50", "50", "True"]


@pytest.mark.parametrize("name", ["inbound_capacity", "command_capacity"])
@pytest.mark.parametrize("size", [0, 1, 3, 1000])
def test_ring_capacity_must_be_a_power_of_two_of_at_least_two(name: str, size: int) -> None:
    with pytest.raises(ValueError, match="power of two"):
        Engine(host="127.0.0.1", port=0, **{name: size}).bind()
    Engine(host="127.0.0.1", port=0, **{name: 2}).bind()


def test_inline_records_from_commands_outside_a_poll_wake_the_loop() -> None:
    # threads=0: commands given outside a poll's batch (a Task that resumed later) run at once on
    # the Python thread. A record they give (here the disconnect of a pipelined request, when the
    # first one's abort closes the connection) must wake the loop, as an I/O thread's would.
    engine = Engine(host="127.0.0.1", port=0, threads=0)
    port = engine.bind()
    engine.start()
    try:
        with socket.create_connection(("127.0.0.1", port)) as client:
            client.sendall(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n")
            requests: list[Request] = []
            deadline = time.monotonic() + 10
            while len(requests) < 2 and time.monotonic() < deadline:
                select.select([engine.io_fileno(), engine.fileno()], [], [], 0.1)
                requests += [r for r in engine.poll() if type(r) is Request]
                engine.flush()
            assert [r.path for r in requests] == ["/a", "/b"]
            first, second = requests
            first.abort()  # outside a batch: the engine closes the connection now
            assert select.select([engine.fileno()], [], [], 0.3)[0], "the loop was not woken"
            records = engine.poll()
            engine.flush()
            assert (2, second.stream_id, None, False) in records  # DISCONNECT
            assert client.recv(100) == b""
    finally:
        engine.stop()
