"""TLS, the pathsend extension (sendfile), the native path for fasterapi apps, the native executor
and `@cheap`, and the access log: each against a server running in this process (its loop on a
thread of its own), over real sockets."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import gc
import hashlib
import http.client
import ipaddress
import json
import logging
import os
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio.from_thread
import httpx
import pytest
from fasterapi_server import OptionError, Server
from fasterapi_server._serve import new_event_loop
from helpers import LOOPS, Reader, poll_until

fasterapi = pytest.importorskip("fasterapi")
from fasterapi import (  # noqa: E402
    Depends,
    FastAPI,
    Header,
    Request,
    concurrency,
)
from fasterapi.background import BackgroundTask  # noqa: E402
from fasterapi.concurrency import cheap  # noqa: E402
from fasterapi.responses import FileResponse, PlainTextResponse, StreamingResponse  # noqa: E402
from fasterapi.routing import APIRoute  # noqa: E402
from pydantic import BaseModel  # noqa: E402

IO = {"threads": 1}  # running()'s default, from the io_threads fixture


@pytest.fixture(autouse=True)
def _io_mode(io_threads: int) -> Iterator[None]:
    IO["threads"] = io_threads
    yield
    IO["threads"] = 1


class ServerThread:
    """A Server serving on a loop of its own in a thread. `failure` holds what left the loop (what
    was left of serve() is then run out: its shutdown)."""

    def __init__(self, server: Server, event_loop: str = "asyncio") -> None:
        self.server = server
        self.loop = new_event_loop(event_loop)
        self.ready = threading.Event()
        self.ports: list[int] = []
        self.failure: list[BaseException] = []
        self.thread = threading.Thread(target=self._main, daemon=True)
        self.thread.start()
        assert self.ready.wait(30), "the server did not start"

    def _main(self) -> None:
        loop = self.loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(
                self.server.serve(ready=lambda port: (self.ports.append(port), self.ready.set()))
            )
        except BaseException as exc:
            self.failure.append(exc)
            self.ready.set()
            left = asyncio.all_tasks(loop)
            for task in left:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
        finally:
            loop.close()


@contextlib.contextmanager
def running(app: Any, event_loop: str = "asyncio", **options: Any) -> Iterator[tuple[Server, int]]:
    served = ServerThread(Server(app, host="127.0.0.1", port=0, **{**IO, **options}), event_loop)
    assert not served.failure, served.failure
    try:
        yield served.server, served.ports[0]
    finally:
        served.loop.call_soon_threadsafe(served.server.stop)
        served.thread.join(30)
        assert not served.thread.is_alive(), "the server did not stop"


# ---- TLS


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


async def scope_app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["path"].startswith("/file/"):
        path = scope["path"][len("/file/") :]
        size = os.path.getsize(path)
        headers = [(b"content-type", b"application/octet-stream"), (b"content-length", str(size).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.pathsend", "path": path})
        return
    if scope["path"] == "/chunked-file":
        path = body.decode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.pathsend", "path": path})
        return
    answer = f"{scope['scheme']} {scope['method']} {len(body)} {sorted(scope['extensions'])}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": answer})


@pytest.mark.parametrize("past", [1, 30, 1_000])
def test_tls_bytes_openssl_holds_are_read(
    certificate: tuple[Path, Path], start_server: Any, past: int
) -> None:
    # The whole request is there before the server looks (it is stopped meanwhile), and it ends a
    # little past what one readiness event reads (4 reads of 64 KiB): the last record is
    # decrypted in part, and the rest waits inside OpenSSL, where epoll cannot see it.
    cert, key = certificate
    srv = start_server({"ssl_certfile": str(cert), "ssl_keyfile": str(key)})
    context = ssl.create_default_context(cafile=str(cert))
    head = b"POST /echo HTTP/1.1\r\nhost: a\r\ncontent-length: %d\r\n\r\n"
    size = 4 * 65536 + past - len(head % 999999)
    raw = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    with context.wrap_socket(raw, server_hostname="localhost") as tls:
        srv.proc.send_signal(signal.SIGSTOP)
        try:
            tls.sendall(head % size)  # a record of its own: the body's records are not aligned
            tls.sendall(b"x" * size)
            time.sleep(0.2)
        finally:
            srv.proc.send_signal(signal.SIGCONT)
        answer = Reader(tls).read("POST", timeout=10)  # type: ignore[arg-type]
    assert answer.body == b"x" * size


def test_tls_with_alpn(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    with running(scope_app, ssl_certfile=str(cert), ssl_keyfile=str(key)) as (_, port):
        context = ssl.create_default_context(cafile=str(cert))
        with httpx.Client(verify=context, timeout=10) as client:
            for _ in range(3):  # keep-alive over TLS
                answer = client.post(f"https://127.0.0.1:{port}/", content=b"x" * 100_000)
                assert answer.text == "https POST 100000 ['http.response.pathsend']"
        context.set_alpn_protocols(["h2", "http/1.1"])
        with context.wrap_socket(
            __import__("socket").create_connection(("127.0.0.1", port)), server_hostname="localhost"
        ) as tls:
            assert tls.selected_alpn_protocol() == "http/1.1"
        # Plain HTTP on the TLS port: refused, and the server goes on.
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
        with httpx.Client(verify=context, timeout=10) as client:
            assert client.get(f"https://127.0.0.1:{port}/").status_code == 200


CHUNK_SIZES = [1, 7, 100, 5_000, 17_000, 40_000, 3, 16_384, 16_383, 2]


def chunk(n: int, i: int) -> bytes:
    return bytes([(n + i) % 251]) * CHUNK_SIZES[i % len(CHUNK_SIZES)]


async def streaming_app(scope: Any, receive: Any, send: Any) -> None:
    """GET /N: N chunks of the sizes above, streamed (chunked), each its own message."""
    if scope["type"] != "http":
        return
    n = int(scope["path"][1:])
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"x/y")]})
    for i in range(n):
        await send({"type": "http.response.body", "body": chunk(n, i), "more_body": True})
    await send({"type": "http.response.body", "body": b""})


def test_tls_streamed_and_pipelined_responses_to_a_slow_reader(certificate: tuple[Path, Path]) -> None:
    # Small pieces are gathered into records, large ones written as they are; the slow reader
    # makes OpenSSL ask for retries in the middle of both.
    cert, key = certificate
    context = ssl.create_default_context(cafile=str(cert))
    counts = [300, 1, 60, 2, 500]
    with running(streaming_app, ssl_certfile=str(cert), ssl_keyfile=str(key)) as (_, port):
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)  # (far smaller stalls loopback TCP)
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(b"".join(b"GET /%d HTTP/1.1\r\nhost: a\r\n\r\n" % n for n in counts))
            time.sleep(0.5)  # the server fills the socket and waits for it
            reader = Reader(tls)  # type: ignore[arg-type]
            for n in counts:
                answer = reader.read("GET", timeout=30)
                assert answer.status == 200
                assert answer.headers["transfer-encoding"] == "chunked"
                assert answer.body == b"".join(chunk(n, i) for i in range(n)), n


def test_a_bad_certificate_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    server = Server(scope_app, host="127.0.0.1", port=0, ssl_certfile=str(bad), ssl_keyfile=str(bad))
    with pytest.raises(SystemExit) as stopped:
        asyncio.run(server.serve())
    assert stopped.value.code == 1


async def length_app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    declared = {"/short": b"10", "/long": b"2", "/bad": b"1x", "/ok": b"5", "/two": b"5"}[scope["path"]]
    headers = [(b"content-length", declared)]
    if scope["path"] == "/two":
        headers.append((b"content-length", b"6"))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"hello"})


def test_a_content_length_that_is_not_the_body_size_is_the_apps_error() -> None:
    with running(length_app) as (_, port), httpx.Client(timeout=10) as client:
        for path in ("/short", "/long", "/bad", "/two"):
            answer = client.get(f"http://127.0.0.1:{port}{path}")
            assert (answer.status_code, answer.text) == (500, "Internal Server Error"), path
        assert client.get(f"http://127.0.0.1:{port}/ok").text == "hello"  # same connection, in step
        head = client.head(f"http://127.0.0.1:{port}/short")  # HEAD keeps GET's length
        assert (head.status_code, head.headers["content-length"]) == (200, "10")


class _Answer:
    """An awaitable that is not a coroutine (its __await__ is a coroutine's)."""

    def __init__(self, send: Any) -> None:
        self.send = send

    def __await__(self) -> Any:
        return self.answer().__await__()

    async def answer(self) -> None:
        await self.send({"type": "http.response.start", "status": 200, "headers": []})
        await self.send({"type": "http.response.body", "body": b"awaited"})


def ending_app(scope: Any, receive: Any, send: Any) -> Any:
    """The ways an app's call can end, by path (a plain function: its result is awaited)."""
    path = scope.get("path")

    async def later(raises: bool) -> None:
        await asyncio.sleep(0.01)
        if raises:
            raise RuntimeError("failed after waiting")

    async def at_once() -> None:
        pass

    if scope["type"] != "http":
        return at_once()
    if path == "/awaitable":
        return _Answer(send)
    if path == "/raises-in-the-call":
        raise RuntimeError("failed in the call")
    if path == "/raises-later":
        return later(True)
    if path == "/no-answer-later":
        return later(False)
    return at_once()  # no answer, at once


def test_every_way_an_app_ends_is_answered_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    with running(ending_app) as (server, port), httpx.Client(timeout=10) as client:
        url = f"http://127.0.0.1:{port}"
        answer = client.get(url + "/awaitable")
        assert (answer.status_code, answer.content) == (200, b"awaited")
        for path, logged in (
            ("/raises-in-the-call", "Exception in ASGI application"),
            ("/raises-later", "Exception in ASGI application"),
            ("/no-answer-later", "returned without starting the response"),
            ("/no-answer", "returned without starting the response"),
        ):
            caplog.clear()
            answer = client.get(url + path)  # (one connection: it stays in step)
            assert (answer.status_code, answer.text) == (500, "Internal Server Error"), path
            assert logged in caplog.text, path
        assert client.get(url + "/awaitable").content == b"awaited"
        assert server._shared is not None
        assert not server._shared.tasks  # the ones that waited were let go as they ended


async def streamed_length_app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    # /<declared>/<part>,<part>...: a streamed response of those parts, with that Content-Length
    _, declared, parts = scope["path"].split("/")
    headers = [(b"content-length", declared.encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    for size in parts.split(","):
        await send({"type": "http.response.body", "body": b"x" * int(size), "more_body": True})
    await send({"type": "http.response.body", "body": b""})


def test_a_streamed_body_is_held_to_its_content_length(caplog: pytest.LogCaptureFixture) -> None:
    with running(streamed_length_app) as (_, port):
        for target, shape in (
            ("/10/5,5", "exact"),
            ("/10/5", "short"),
            ("/10/5,6", "long"),
            ("/10/5,5,1", "long"),
        ):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(f"GET {target} HTTP/1.1\r\nhost: test\r\n\r\n".encode())
                received = b""
                while b"\r\n\r\n" not in received or len(received.split(b"\r\n\r\n", 1)[1]) < 10:
                    data = sock.recv(65536)
                    if not data:
                        break
                    received += data
                head, _, body = received.partition(b"\r\n\r\n")
                assert b"content-length: 10" in head.lower(), target
                if shape == "exact":
                    assert body == b"x" * 10
                    continue
                # The client gets no more than the declared bytes, then the connection closes:
                # never the start of a phantom next response.
                sock.settimeout(10)
                while data:
                    data = sock.recv(65536)
                    body += data
                assert len(body) <= 10, target
                assert len(body) < 10 or target == "/10/5,5,1", target  # the 1 too many is refused
        assert "Content-Length" in caplog.text
        with httpx.Client(timeout=10) as client:  # and the server serves on
            assert client.get(f"http://127.0.0.1:{port}/3/1,2").content == b"xxx"


# ---- pathsend


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("files") / "big.bin"
    path.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    return path


def test_pathsend_plain_and_tls(big_file: Path, certificate: tuple[Path, Path]) -> None:
    digest = hashlib.sha256(big_file.read_bytes()).hexdigest()
    with running(scope_app) as (_, port), httpx.Client(timeout=30) as client:
        for _ in range(2):
            answer = client.get(f"http://127.0.0.1:{port}/file/{big_file}")
            assert answer.headers["content-length"] == str(big_file.stat().st_size)
            assert hashlib.sha256(answer.content).hexdigest() == digest
        head = client.head(f"http://127.0.0.1:{port}/file/{big_file}")
        assert head.content == b""
        assert head.headers["content-length"] == str(big_file.stat().st_size)
        # Without a length the file goes out chunked.
        chunked = client.post(f"http://127.0.0.1:{port}/chunked-file", content=str(big_file).encode())
        assert chunked.headers["transfer-encoding"] == "chunked"
        assert hashlib.sha256(chunked.content).hexdigest() == digest
    cert, key = certificate
    context = ssl.create_default_context(cafile=str(cert))
    tls = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
    with running(scope_app, **tls) as (_, port), httpx.Client(verify=context, timeout=30) as client:
        answer = client.get(f"https://127.0.0.1:{port}/file/{big_file}")
        assert hashlib.sha256(answer.content).hexdigest() == digest


async def replacing_app(scope: Any, receive: Any, send: Any) -> None:
    """Sends the file named by the body with its length, then puts another file at its path."""
    if scope["type"] != "http":
        return
    path = Path((await receive())["body"].decode())
    size = path.stat().st_size
    headers = [(b"content-length", str(size).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.pathsend", "path": str(path)})
    other = path.with_suffix(".new")
    other.write_bytes(b"another file")
    os.replace(other, path)


def test_pathsend_sends_the_file_it_was_given_when_the_path_changes_at_once(tmp_path: Path) -> None:
    # The descriptor opened at pathsend is what the I/O thread sends: the file that was measured
    # for the Content-Length, even when its path names another file by the time it writes.
    with running(replacing_app) as (_, port), httpx.Client(timeout=30) as client:
        for i in range(20):
            path = tmp_path / f"f{i}.bin"
            content = os.urandom(200_000 + i)
            path.write_bytes(content)
            answer = client.post(f"http://127.0.0.1:{port}/", content=str(path).encode())
            assert answer.status_code == 200
            assert answer.content == content
            assert path.read_bytes() == b"another file"


@pytest.mark.parametrize("kind", ["missing", "directory", "fifo"])
def test_pathsend_of_what_is_not_a_file_is_a_500_before_the_head(
    tmp_path: Path, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    target = tmp_path / kind
    if kind == "directory":
        target.mkdir()
    elif kind == "fifo":
        os.mkfifo(target)  # opening it must not wait for a writer
    with (
        caplog.at_level(logging.ERROR, logger="fasterapi.server"),
        running(scope_app) as (_, port),
        httpx.Client(timeout=10) as client,
    ):
        answer = client.post(f"http://127.0.0.1:{port}/chunked-file", content=str(target).encode())
        assert answer.status_code == 500
        assert answer.text == "Internal Server Error"
        assert client.post(f"http://127.0.0.1:{port}/echo", content=b"abc").status_code == 200
    errors = [r.exc_info[1] for r in caplog.records if r.exc_info]
    assert len(errors) == 1
    assert isinstance(errors[0], OSError)
    assert errors[0].filename == str(target)


async def wrong_length_app(scope: Any, receive: Any, send: Any) -> None:
    """Declares the length in the request's x-length header, then sends the file in its body."""
    if scope["type"] != "http":
        return
    path = (await receive())["body"].decode()
    declared = dict(scope["headers"])[b"x-length"]
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", declared)]})
    await send({"type": "http.response.pathsend", "path": path})


def test_pathsend_with_a_content_length_that_is_not_the_files_size_is_a_500(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "ten.bin"
    path.write_bytes(b"0123456789")
    with (
        caplog.at_level(logging.ERROR, logger="fasterapi.server"),
        running(wrong_length_app) as (_, port),
        httpx.Client(timeout=10) as client,
    ):
        for declared, status in [("9", 500), ("11", 500), ("10", 200)]:
            answer = client.post(
                f"http://127.0.0.1:{port}/", content=str(path).encode(), headers={"x-length": declared}
            )
            assert answer.status_code == status, declared
        assert answer.content == b"0123456789"
    errors = [str(r.exc_info[1]) for r in caplog.records if r.exc_info]
    assert errors == [
        "Content-Length is 9 but the body has 10 bytes",
        "Content-Length is 11 but the body has 10 bytes",
    ]


def test_file_response_of_the_framework_uses_pathsend(big_file: Path) -> None:
    app = FastAPI()

    @app.get("/download")
    async def download() -> FileResponse:
        return FileResponse(big_file)

    with running(app) as (_, port), httpx.Client(timeout=30) as client:
        answer = client.get(f"http://127.0.0.1:{port}/download")
        assert answer.status_code == 200
        assert answer.content == big_file.read_bytes()


# ---- the native path


def _native_routes(server: Server) -> list[str]:
    native = server._native
    return [] if native is None else [route.path for route in native.routes]


def test_a_route_of_several_methods_takes_the_native_path_for_each() -> None:
    app = FastAPI()

    @app.api_route("/both", methods=["GET", "POST"])
    async def both(request: Request) -> dict[str, Any]:
        return {"method": request.method, "scope_made": "scope" in vars(request)}

    with (
        running(app) as (server, port),
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client,
    ):
        assert _native_routes(server) == ["/both"]
        for method in ("GET", "POST"):
            # (a request of the ASGI path is given its scope: made, on the native path not)
            assert client.request(method, "/both").json() == {"method": method, "scope_made": False}
        assert client.put("/both").status_code == 405


def test_native_requests_one_after_another_are_each_their_own() -> None:
    """The engine reuses the Python object of a request that nothing holds after its first step
    (Engine.poll, keep_request): each request still reads only what it carried, and a request the
    app keeps is never reused under it."""
    app = FastAPI()
    kept: list[Request] = []

    @app.get("/echo/{kind}/{n}")
    async def echo(request: Request, kind: str, n: int, q: str | None = None) -> dict[str, Any]:
        if kind == "keep":
            kept.append(request)  # (nothing of it read yet but its parameters: the rest, later)
            return {"kind": kind, "n": n, "q": q}
        x, client = request.headers.get("x-one"), request.client
        return {"kind": kind, "n": n, "q": q, "x": x, "client": client and client.host}

    with (
        running(app) as (server, port),
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client,
    ):
        assert _native_routes(server) == ["/echo/{kind}/{n}"]
        for i in range(40):
            kind = "keep" if i % 10 == 3 else "plain"
            headers = {"x-one": str(i)} if i % 2 else {}
            q = {"q": f"v{i}"} if i % 3 == 0 else {}
            answer = {"kind": kind, "n": i, "q": q.get("q")}
            if kind == "plain":
                answer |= {"x": headers.get("x-one"), "client": "127.0.0.1"}
            assert client.get(f"/echo/{kind}/{i}", headers=headers, params=q).json() == answer
    # Their scopes made after the requests that came later (from the engine's request, on first
    # use): what each carried, still.
    scopes = [r.scope for r in kept]
    assert [(s["path"], s["query_string"], dict(s["headers"]).get(b"x-one")) for s in scopes] == [
        ("/echo/keep/3", b"q=v3", b"3"),
        ("/echo/keep/13", b"", b"13"),
        ("/echo/keep/23", b"", b"23"),
        ("/echo/keep/33", b"q=v33", b"33"),
    ]


def test_native_path_registers_what_it_can_route_exactly() -> None:
    app = FastAPI()

    @app.get("/users/{user_id}")
    async def user(user_id: int) -> dict[str, int]:
        return {"id": user_id}

    @app.get("/users/me")  # shadowed by the route above for GET /users/me: left to the app
    async def me() -> dict[str, str]:
        return {"me": "yes"}

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, Any]:
        return {"body": (await request.body()).decode(), "params": request.path_params}

    with (
        running(app) as (server, port),
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client,
    ):
        assert _native_routes(server) == ["/users/{user_id}", "/echo"]
        assert client.get("/users/42").json() == {"id": 42}
        # Starlette's first match: the earlier route answers, as the app alone would.
        assert client.get("/users/me").status_code == 422
        assert client.post("/echo", content=b"hello").json() == {"body": "hello", "params": {}}
        assert client.get("/users/%34%32").json() == {"id": 42}  # escapes: the app routes it
        assert client.get("/nowhere").status_code == 404
        assert client.put("/echo").status_code == 405


def test_native_path_answers_500_when_the_scope_cannot_be_made(caplog: pytest.LogCaptureFixture) -> None:
    # An int path parameter of 5,000 digits: the engine's int converter hits Python's limit on
    # int-from-str digits (ValueError) while the scope is made. Answered 500 and logged as the
    # app's exception, and the connection and the server go on.
    app = FastAPI()

    @app.get("/n/{x:int}")
    async def number(x: int) -> dict[str, int]:
        return {"digits": len(str(x))}

    with (
        caplog.at_level(logging.ERROR, logger="fasterapi.server"),
        running(app) as (server, port),
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client,
    ):
        assert _native_routes(server) == ["/n/{x:int}"]
        assert client.get("/n/42").json() == {"digits": 2}
        assert client.get("/n/" + "7" * 5000).status_code == 500
        assert client.get("/n/43").json() == {"digits": 2}
        assert not server._shared.streams
    assert [r.getMessage() for r in caplog.records if r.exc_info] == ["Exception in ASGI application"]


def _scope_app() -> FastAPI:
    """Routes that read the request in different orders: the scope first, the engine's parts
    first, then the scope; each says what it saw, and whether the scope was made before."""
    app = FastAPI()

    def described(request: Request, made_before: bool) -> dict[str, Any]:
        scope = request.scope
        return {
            "made_before": made_before,
            "keys": list(scope),
            "simple": {k: v for k, v in scope.items() if isinstance(v, (str, int, bool, type(None)))},
            "bytes": {k: v.decode("latin-1") for k, v in scope.items() if isinstance(v, bytes)},
            "headers": [[n.decode(), v.decode()] for n, v in scope["headers"]],
            "path_params": scope["path_params"],
            "state": scope["state"],
            "extensions": sorted(scope["extensions"]),
            "client": list(scope["client"]),
            "server": list(scope["server"]),
            "route": scope["route"].path,
            "same_headers": scope["headers"] is request.headers._list,
            "same_params": scope["path_params"] is request.path_params,
        }

    @app.get("/scope/{user_id}")
    async def scope_first(user_id: int, request: Request) -> dict[str, Any]:
        return described(request, "scope" in vars(request))

    @app.get("/parts/{user_id}")
    async def parts_first(
        user_id: int, request: Request, q: str = "", x_tag: str = Header("")
    ) -> dict[str, Any]:
        seen = {
            "method": request.method,
            "q": q,
            "tag": x_tag,
            "query": dict(request.query_params),
            "params": dict(request.path_params),
            "host": request.headers["host"],
        }
        made_before = "scope" in vars(request)
        return {**described(request, made_before), "seen": seen}

    return app


def _asgi_only(app: Any) -> Any:
    """`app` behind a plain ASGI callable: the server takes its generic path (the app's own fast
    path then makes the scope as any ASGI server's)."""

    async def wrapper(scope: Any, receive: Any, send: Any) -> None:
        await app(scope, receive, send)

    return wrapper


@pytest.mark.parametrize("path", ["/scope/7?q=a", "/parts/7?q=a%20b&q=c"])
def test_native_path_makes_the_scope_on_first_use_as_the_asgi_path_would(path: str) -> None:
    app = _scope_app()
    seen = {}
    for kind in ("native", "asgi"):
        with (
            running(app if kind == "native" else _asgi_only(app)) as (server, port),
            httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client,
        ):
            assert (server._native is not None) == (kind == "native")
            answer = client.get(path, headers={"host": "example.test", "x-tag": "t1"})
            assert answer.status_code == 200, answer.text
            seen[kind] = answer.json()
            seen[kind]["client"][1] = 0  # (each its own connection)
            seen[kind]["server"][1] = 0
    native, asgi = seen["native"], seen["asgi"]
    # The native request made no scope before the endpoint asked (its parameters came from the
    # engine); the ASGI one was given its scope.
    assert native.pop("made_before") is False
    assert asgi.pop("made_before") is True
    assert native == asgi
    assert native["path_params"] == {"user_id": "7"}
    assert native["same_headers"]
    assert native["same_params"]
    if path.startswith("/parts"):
        assert native["seen"] == {
            "method": "GET",
            "q": "c",
            "tag": "t1",
            "query": {"q": "c"},
            "params": {"user_id": "7"},
            "host": "example.test",
        }


class Item(BaseModel):
    name: str
    price: float


def test_native_path_reads_a_json_body_and_its_content_type_as_the_asgi_path_does() -> None:
    """A validated body on the native path: the content type comes from the engine's headers,
    without the scope; the answers, errors included, are the ASGI path's."""
    app = FastAPI()

    @app.post("/items")
    async def create(item: Item, request: Request) -> dict[str, Any]:
        return {"item": item.model_dump(), "scope_made": "scope" in vars(request)}

    cases = [
        ({"content-type": "application/json"}, b'{"name": "w", "price": 2.5}'),
        ({"content-type": "application/vnd.api+json; charset=utf-8"}, b'{"name": "w", "price": 3}'),
        ({"content-type": "application/json"}, b'{"name": "w", "price": "cheap"}'),  # 422
        ({"content-type": "application/json"}, b'{"name": "w", '),  # not JSON: 422
        ({"content-type": "text/plain"}, b'{"name": "w", "price": 2.5}'),  # not read as JSON: 422
        ({}, b'{"name": "w", "price": 2.5}'),  # no content type: not JSON (strict_content_type)
    ]
    seen: dict[str, list[tuple[int, Any]]] = {}
    for kind in ("native", "asgi"):
        with (
            running(app if kind == "native" else _asgi_only(app)) as (server, port),
            httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client,
        ):
            assert (server._native is not None) == (kind == "native")
            seen[kind] = []
            for headers, body in cases:
                answer = client.post("/items", content=body, headers=headers)
                seen[kind].append((answer.status_code, answer.json()))
    assert [status for status, _ in seen["native"]] == [200, 200, 422, 422, 422, 422]
    assert seen["native"][0][1] == {"item": {"name": "w", "price": 2.5}, "scope_made": False}
    for (n_status, n_body), (a_status, a_body) in zip(seen["native"], seen["asgi"], strict=True):
        assert n_status == a_status
        if n_status == 200:
            assert a_body["scope_made"] is True  # (given one)
            n_body.pop("scope_made")
            a_body.pop("scope_made")
        assert n_body == a_body


def test_native_path_closes_a_stack_pushed_on_through_the_scope() -> None:
    """The request's exit stack is made with its scope; what is pushed on it there is closed
    when the response is done, as AsyncExitStackMiddleware would."""
    app = FastAPI()
    closed: list[str] = []

    @app.get("/push")
    async def push(request: Request) -> dict[str, bool]:
        stack = request.scope["fastapi_middleware_astack"]

        async def close() -> None:
            closed.append("closed")

        stack.push_async_callback(close)
        return {"pushed": True}

    @app.get("/plain")
    async def plain() -> dict[str, bool]:
        return {"plain": True}

    with (
        running(app) as (server, port),
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client,
    ):
        assert _native_routes(server) == ["/push", "/plain"]
        assert client.get("/push").json() == {"pushed": True}
        assert closed == ["closed"]
        assert client.get("/plain").json() == {"plain": True}
        assert closed == ["closed"]


def _cycle_app() -> FastAPI:
    """Endpoints whose requests need the server's cycle on the native path, made at different
    moments: before the response (a body read through `receive`, a response sent as messages, a
    Task that waits) and after it (a background task that waits, then fails)."""
    app = FastAPI()

    @app.post("/body-then-receive")
    async def body_then_receive(request: Request) -> dict[str, Any]:
        body = await request.body()  # (the native path's, without the cycle)
        try:
            message = await asyncio.wait_for(request.receive(), 0.2)
        except TimeoutError:
            return {"body": body.decode(), "then": "waited"}  # nothing more comes: the body was read
        return {"body": body.decode(), "then": message["type"]}

    @app.get("/waits")
    async def waits() -> PlainTextResponse:
        await asyncio.sleep(0.01)
        return PlainTextResponse("after waiting")

    @app.get("/streamed")
    async def streamed() -> StreamingResponse:
        async def parts() -> Any:
            yield b"one,"
            yield b"two"

        return StreamingResponse(parts(), media_type="text/plain")

    @app.get("/fails-after")
    async def fails_after() -> PlainTextResponse:
        async def fail() -> None:
            await asyncio.sleep(0.01)
            raise RuntimeError("the background task failed")

        return PlainTextResponse("answered", background=BackgroundTask(fail))

    return app


def test_native_path_makes_the_cycle_when_needed_as_the_asgi_path_would(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A native request makes the server's cycle only when something needs it; whenever that is,
    the answers (and what follows on the connection) are the ASGI path's."""
    app = _cycle_app()
    seen: dict[str, list[Any]] = {}
    for kind in ("native", "asgi"):
        caplog.clear()
        with (
            caplog.at_level(logging.ERROR, logger="fasterapi"),
            running(app if kind == "native" else _asgi_only(app)) as (server, port),
            httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client,
        ):
            assert len(_native_routes(server)) == (4 if kind == "native" else 0)
            answers = [
                client.post("/body-then-receive", content=b"payload"),
                client.get("/waits"),
                client.get("/streamed"),
                client.get("/fails-after"),
                client.get("/waits"),  # (the connection goes on after the failure)
            ]
            seen[kind] = [(a.status_code, a.headers.get("content-length"), a.text) for a in answers]
            deadline = time.monotonic() + 5  # (the background task fails after its answer went out)
            while not any(r.exc_info for r in caplog.records) and time.monotonic() < deadline:
                time.sleep(0.01)
            failures = [r for r in caplog.records if r.exc_info]
            seen[kind].append([str(r.exc_info[1]) for r in failures if r.exc_info])
    assert seen["native"] == seen["asgi"]
    assert seen["native"][:5] == [
        (200, "34", '{"body":"payload","then":"waited"}'),
        (200, "13", "after waiting"),
        (200, None, "one,two"),
        (200, "8", "answered"),
        (200, "13", "after waiting"),
    ]
    assert "the background task failed" in seen["native"][5]


def test_a_request_and_its_cycle_are_freed_without_the_cycle_collector() -> None:
    """The engine's request holds its cycle (for req.answer) and the cycle holds the request; the
    link goes at the cycle's end, so that both are freed when the request ends, with the cycle
    collector off (its older generations run rarely, and a waiting request's objects get there)."""
    from fasterapi_server._native import NativeCycle

    app = FastAPI()

    @app.get("/waits")
    async def waits() -> PlainTextResponse:
        await asyncio.sleep(0)  # (a Task that waits: the native path makes the request's cycle)
        return PlainTextResponse("after waiting")

    def cycles() -> int:
        return sum(type(o) is NativeCycle for o in gc.get_objects())

    with (
        running(app, gc_freeze=False) as (_, port),
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client,
    ):
        gc.collect()
        gc.disable()
        try:
            for _ in range(50):
                assert client.get("/waits").text == "after waiting"
            poll_until(lambda: cycles() == 0, 5, what=lambda: f"{cycles()} cycles still alive")
        finally:
            gc.enable()


def test_native_path_reads_the_content_type_as_the_asgi_path_would() -> None:
    """A JSON body's content type is read from the engine until the request's headers or its
    scope are made, and from them after: the answers are the ASGI path's either way."""
    app = FastAPI()

    @app.post("/item")
    async def item(item: Item) -> dict[str, str]:
        return {"name": item.name}

    def headers_first(request: Request) -> int:
        return len(request.headers)

    @app.post("/headers-first")
    async def headers_then_item(item: Item, n: int = Depends(headers_first)) -> dict[str, Any]:
        return {"name": item.name, "headers": n > 0}

    def scope_first(request: Request) -> str:
        return str(request.scope["type"])

    @app.post("/scope-first")
    async def scope_then_item(item: Item, kind: str = Depends(scope_first)) -> dict[str, str]:
        return {"name": item.name, "kind": kind}

    types = {  # content type: status
        None: 422,  # (strict_content_type: not JSON)
        "application/json": 200,
        "application/json; charset=utf-8": 200,
        "Application/JSON": 200,
        "application/vnd.api+json": 200,
        "text/plain": 422,
        "application/x-www-form-urlencoded": 422,
    }
    body = b'{"name": "x", "price": 1}'
    seen: dict[str, list[Any]] = {}
    for kind in ("native", "asgi"):
        with (
            running(app if kind == "native" else _asgi_only(app)) as (server, port),
            socket.create_connection(("127.0.0.1", port), timeout=10) as sock,
        ):
            assert len(_native_routes(server)) == (3 if kind == "native" else 0)
            reader = Reader(sock)
            seen[kind] = []
            for path in (b"/item", b"/headers-first", b"/scope-first"):
                for content_type in types:
                    field = b"" if content_type is None else b"Content-Type: %s\r\n" % content_type.encode()
                    sock.sendall(
                        b"POST %s HTTP/1.1\r\nhost: a\r\n%scontent-length: %d\r\n\r\n%s"
                        % (path, field, len(body), body)
                    )
                    answer = reader.read("POST")
                    seen[kind].append((path, content_type, answer.status, answer.body))
    assert seen["native"] == seen["asgi"]
    assert [status for _, content_type, status, _ in seen["native"]] == list(types.values()) * 3


def test_native_path_follows_changes_after_startup() -> None:
    app = FastAPI()

    def token() -> str:
        return "real"

    @app.get("/token")
    async def read(value: str = Depends(token)) -> dict[str, str]:
        return {"token": value}

    with (
        running(app) as (server, port),
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client,
    ):
        assert _native_routes(server) == ["/token"]
        assert client.get("/token").json() == {"token": "real"}
        app.dependency_overrides[token] = lambda: "override"
        assert client.get("/token").json() == {"token": "override"}
        app.dependency_overrides.clear()

        @app.get("/later")
        async def later() -> dict[str, bool]:
            return {"later": True}

        assert client.get("/later").json() == {"later": True}
        assert client.get("/token").json() == {"token": "real"}


def test_a_native_dispatch_that_fails_is_answered_500_and_the_batch_goes_on(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from fasterapi_server._native import NativeApp

    app = FastAPI()

    @app.get("/ok/{n}")
    async def ok(n: int) -> dict[str, int]:
        return {"n": n}

    @app.get("/broken")
    async def broken() -> dict[str, bool]:
        return {"reached": True}

    original = NativeApp.plan_for

    def plan_for(self: NativeApp, index: int) -> Any:
        if self.routes[index].path == "/broken":
            raise RuntimeError("a bug of the server's")
        return original(self, index)

    monkeypatch.setattr(NativeApp, "plan_for", plan_for)
    caplog.set_level(logging.ERROR, logger="fasterapi.server")
    with running(app) as (server, port), socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        assert _native_routes(server) == ["/ok/{n}", "/broken"]
        # One batch (pipelined): the failed dispatch between two that go, in order, one connection.
        sock.sendall(
            b"".join(b"GET %s HTTP/1.1\r\nhost: a\r\n\r\n" % p for p in (b"/ok/1", b"/broken", b"/ok/2"))
        )
        reader = Reader(sock)
        answers = [reader.read("GET") for _ in range(3)]
        assert [a.status for a in answers] == [200, 500, 200]
        assert [a.body for a in answers] == [b'{"n":1}', b"Internal Server Error", b'{"n":2}']
        sock.sendall(b"GET /ok/3 HTTP/1.1\r\nhost: a\r\n\r\n")  # the connection goes on
        assert reader.read("GET").body == b'{"n":3}'
    failed = [r for r in caplog.records if r.getMessage() == "Exception while dispatching a request"]
    assert failed
    assert failed[0].exc_info is not None
    assert str(failed[0].exc_info[1]) == "a bug of the server's"


def test_the_requests_of_a_batch_start_in_order_native_or_not() -> None:
    # Pipelined on one connection, in one batch: a request the engine does not route (an escaped
    # path) and a native one after it start in the order they came.
    app = FastAPI()
    order: list[str] = []

    @app.post("/items/{name}")
    async def post(name: str) -> dict[str, str]:
        order.append("POST " + name)
        return {"posted": name}

    @app.get("/items")
    async def get() -> dict[str, list[str]]:
        order.append("GET")
        return {"seen": list(order)}

    with running(app) as (server, port), socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        assert _native_routes(server) == ["/items/{name}", "/items"]
        sock.sendall(
            b"POST /items/a%62 HTTP/1.1\r\nhost: a\r\ncontent-length: 0\r\n\r\n"
            b"GET /items HTTP/1.1\r\nhost: a\r\n\r\n"
        )
        reader = Reader(sock)
        assert reader.read("POST").body == b'{"posted":"ab"}'
        assert reader.read("GET").body == b'{"seen":["POST ab","GET"]}'
    assert order == ["POST ab", "GET"]


def test_system_exit_from_a_request_the_native_path_does_not_take_stops_the_server() -> None:
    # As from any other request: it leaves the poll and the loop (the other requests of the
    # batch were started before it, in order).
    app = FastAPI()

    async def with_yield() -> Any:
        yield 1  # (a dependency with yield: the native path leaves the route to the app)

    @app.get("/exit")
    async def leave(value: int = Depends(with_yield)) -> dict[str, int]:
        raise SystemExit(7)

    served = ServerThread(Server(app, host="127.0.0.1", port=0, **IO))
    with socket.create_connection(("127.0.0.1", served.ports[0]), timeout=10) as sock:
        sock.sendall(b"GET /exit HTTP/1.1\r\nhost: a\r\n\r\n")
        served.thread.join(30)
    assert not served.thread.is_alive()
    assert len(served.failure) == 1
    assert isinstance(served.failure[0], SystemExit)
    assert served.failure[0].code == 7


def test_a_route_class_given_its_own_handle_after_startup_is_served_through_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = FastAPI()

    @app.get("/item")
    async def item() -> dict[str, str]:
        return {"item": "x"}

    seen: list[str] = []
    original = APIRoute.handle

    async def handle(self: APIRoute, scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["path"])
        await original(self, scope, receive, send)

    with (
        running(app) as (server, port),
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client,
    ):
        assert _native_routes(server) == ["/item"]
        assert client.get("/item").json() == {"item": "x"}
        assert seen == []  # the native path: the route's handler, without handle()
        monkeypatch.setattr(APIRoute, "handle", handle)
        assert client.get("/item").json() == {"item": "x"}
        assert seen == ["/item"]  # its own handle(), through the app


def test_an_app_with_middleware_is_served_through_asgi() -> None:
    app = FastAPI()

    @app.middleware("http")
    async def stamp(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        response.headers["x-stamp"] = "yes"
        return response

    @app.get("/")
    async def root() -> dict[str, bool]:
        return {"ok": True}

    with running(app) as (server, port), httpx.Client(timeout=10) as client:
        assert server._native is None
        answer = client.get(f"http://127.0.0.1:{port}/")
        assert answer.json() == {"ok": True}
        assert answer.headers["x-stamp"] == "yes"


@pytest.mark.parametrize("event_loop", LOOPS)
def test_endpoints_run_inside_a_task(event_loop: str) -> None:
    """asyncio.timeout() and anyio's cancel scopes need the current task, from the first line;
    an endpoint that waits goes on in the same task."""
    app = FastAPI()

    @app.get("/timeout")
    async def with_timeout() -> dict[str, bool]:
        async with asyncio.timeout(5):
            return {"task": asyncio.current_task() is not None}

    @app.get("/waits")
    async def waits() -> dict[str, bool]:
        first = asyncio.current_task()
        with anyio.fail_after(5):
            await asyncio.sleep(0.01)
            await anyio.sleep(0.01)
        return {"same": first is not None and asyncio.current_task() is first}

    @app.get("/times-out")
    async def times_out() -> dict[str, bool]:
        try:
            async with asyncio.timeout(0.05):
                await asyncio.sleep(5)
        except TimeoutError:
            return {"timed_out": True}
        return {"timed_out": False}

    with running(app, event_loop=event_loop) as (server, port), httpx.Client(timeout=10) as client:
        assert type(server._shared.loop).__module__.startswith(event_loop)
        assert client.get(f"http://127.0.0.1:{port}/timeout").json() == {"task": True}
        assert client.get(f"http://127.0.0.1:{port}/waits").json() == {"same": True}
        assert client.get(f"http://127.0.0.1:{port}/times-out").json() == {"timed_out": True}


# ---- the executor and @cheap

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def _executor_app() -> FastAPI:
    app = FastAPI()

    async def from_header(request: Request) -> None:
        request_id.set(request.headers.get("x-id", "none"))  # on the loop: the request's context

    def thread_name() -> str:
        return threading.current_thread().name

    @app.get("/sync", dependencies=[Depends(from_header)])
    def sync(dep_thread: str = Depends(thread_name)) -> dict[str, str]:
        # The call runs in a copy of the request's context: what the async dependency set is here.
        return {"endpoint": threading.current_thread().name, "dependency": dep_thread, "id": request_id.get()}

    @app.get("/cheap")
    @cheap
    def cheap_endpoint() -> dict[str, str]:
        return {"endpoint": threading.current_thread().name}

    @app.get("/fails")
    def fails() -> None:
        raise ValueError("boom")

    @app.get("/pair")
    def pair() -> tuple[int, int]:
        return (1, 2)  # a tuple result comes back whole from the pool

    async def on_loop(x: int) -> str:
        await asyncio.sleep(0)
        return f"{x} on {threading.current_thread().name}"

    @app.get("/back-to-the-loop")
    def back() -> dict[str, str]:
        # From the worker thread back to the event loop, as under anyio's own worker threads.
        return {
            "run": anyio.from_thread.run(on_loop, 1),
            "run_sync": anyio.from_thread.run_sync(lambda: threading.current_thread().name),
            "here": threading.current_thread().name,
        }

    return app


@pytest.mark.parametrize("event_loop", LOOPS)
@pytest.mark.parametrize("executor", ["native", "anyio"])
def test_sync_code_runs_off_the_loop_and_cheap_code_on_it(executor: str, event_loop: str) -> None:
    app = _executor_app()
    with (
        running(app, event_loop=event_loop, executor=executor) as (_, port),
        httpx.Client(timeout=10) as client,
    ):
        loop_thread = client.get(f"http://127.0.0.1:{port}/cheap").json()["endpoint"]
        answer = client.get(f"http://127.0.0.1:{port}/sync", headers={"x-id": "abc"}).json()
        assert answer["endpoint"] != loop_thread
        assert answer["dependency"] != loop_thread
        assert answer["id"] == "abc"
        assert client.get(f"http://127.0.0.1:{port}/pair").json() == [1, 2]
        back = client.get(f"http://127.0.0.1:{port}/back-to-the-loop").json()
        assert back == {"run": f"1 on {loop_thread}", "run_sync": loop_thread, "here": back["here"]}
        assert back["here"] != loop_thread
        with pytest.raises(httpx.HTTPStatusError):
            client.get(f"http://127.0.0.1:{port}/fails").raise_for_status()
        # Many at once: all answered (the pool queues what it cannot run yet).
        with httpx.Client(timeout=20) as other:
            results = [
                other.get(f"http://127.0.0.1:{port}/sync", headers={"x-id": str(i)}) for i in range(50)
            ]
        assert [r.json()["id"] for r in results] == [str(i) for i in range(50)]


@pytest.mark.parametrize("executor", ["native", "anyio"])
def test_a_pool_size_set_while_serving_applies(executor: str) -> None:
    app = FastAPI()
    barriers: dict[int, threading.Barrier] = {}

    @app.get("/meet/{n}")
    def meet(n: int) -> int:  # returns once n calls are in at the same time
        return barriers[n].wait()

    def meet_all(port: int, n: int) -> list[int]:
        barriers[n] = threading.Barrier(n, timeout=2)
        with concurrent.futures.ThreadPoolExecutor(n) as pool:
            url = f"http://127.0.0.1:{port}/meet/{n}"
            answers = list(pool.map(lambda _: httpx.get(url, timeout=10), range(n)))
        return [a.status_code for a in answers]

    before = concurrency.get_threadpool_size()
    try:
        with running(app, executor=executor) as (_, port):
            assert meet_all(port, 3) == [200] * 3
            concurrency.set_threadpool_size(1)  # one at a time: the first gives up waiting
            assert meet_all(port, 2) == [500] * 2
            concurrency.set_threadpool_size(4)
            assert meet_all(port, 4) == [200] * 4
    finally:
        concurrency.set_threadpool_size(before)


# ---- the access log


def test_access_log_records(caplog: pytest.LogCaptureFixture) -> None:
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    access = logging.getLogger("fasterapi.access")
    access.setLevel(logging.INFO)
    try:
        with caplog.at_level(logging.INFO, logger="fasterapi.access"):
            with running(app, access_log=True) as (_, port), httpx.Client(timeout=10) as client:
                client.get(f"http://127.0.0.1:{port}/items/7?x=1")
                client.get(f"http://127.0.0.1:{port}/items/abc")
            records = [r for r in caplog.records if r.name == "fasterapi.access"]
    finally:
        access.setLevel(logging.NOTSET)
    assert [(r.method, r.path, r.status) for r in records] == [  # type: ignore[attr-defined]
        ("GET", "/items/7?x=1", 200),
        ("GET", "/items/abc", 422),
    ]
    assert records[0].getMessage().endswith('"GET /items/7?x=1 HTTP/1.1" 200')


# ---- listening on a socket given: a Unix domain socket (uds), an inherited one (fd)


def _where_app() -> FastAPI:
    app = FastAPI()

    @app.get("/where")
    async def where(request: Request) -> dict[str, Any]:
        client = request.client
        return {
            "client": None if client is None else [client.host, client.port],
            "server": request.scope["server"],
            "url": str(request.url),
        }

    return app


@pytest.mark.parametrize("path_kind", ["native", "asgi"])
def test_a_unix_domain_socket(tmp_path: Path, caplog: pytest.LogCaptureFixture, path_kind: str) -> None:
    """Served on a socket file that any local user may connect to, removed at the end. Its peers
    have no address: the client is None (as uvicorn's), and so is the server; their proxy headers
    are believed only when every peer is (forwarded_allow_ips="*")."""
    app = _where_app() if path_kind == "native" else _asgi_only(_where_app())
    path = tmp_path / "app.sock"
    access = logging.getLogger("fasterapi.access")
    access.setLevel(logging.INFO)
    seen: dict[str, Any] = {}
    try:
        for allow in ("127.0.0.1", "*"):
            with (
                caplog.at_level(logging.INFO, logger="fasterapi.access"),
                running(app, uds=str(path), access_log=True, forwarded_allow_ips=allow) as (server, port),
                httpx.Client(transport=httpx.HTTPTransport(uds=str(path)), timeout=10) as client,
            ):
                assert port == 0
                assert len(_native_routes(server)) == (1 if path_kind == "native" else 0)
                mode = path.stat().st_mode
                assert stat.S_ISSOCK(mode)
                assert stat.S_IMODE(mode) == 0o666
                seen[allow] = [
                    client.get("http://app.test/where").json(),
                    client.get("http://app.test/where", headers={"x-forwarded-for": "203.0.113.9"}).json(),
                ]
            assert not path.exists()
        records = [r for r in caplog.records if r.name == "fasterapi.access"]
    finally:
        access.setLevel(logging.NOTSET)
    plain = {"client": None, "server": None, "url": "http://app.test/where"}
    assert seen["127.0.0.1"] == [plain, plain]
    assert seen["*"] == [plain, {**plain, "client": ["203.0.113.9", 0]}]
    assert [r.client for r in records] == ["", "", "", "203.0.113.9:0"]  # type: ignore[attr-defined]


def test_a_socket_file_left_behind_is_replaced_and_any_other_file_is_refused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "app.sock"
    left = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    left.bind(str(path))  # a server's that is gone, and did not remove it
    left.close()
    path.chmod(0o600)
    with (
        running(_where_app(), uds=str(path)),
        httpx.Client(transport=httpx.HTTPTransport(uds=str(path)), timeout=10) as client,
    ):
        assert client.get("http://app.test/where").json()["client"] is None
        assert stat.S_IMODE(path.stat().st_mode) == 0o600  # (the permissions it was given are kept)
    assert not path.exists()

    path.write_text("not a socket")
    served = ServerThread(Server(_where_app(), uds=str(path)))
    served.thread.join(30)
    assert [type(e) for e in served.failure] == [SystemExit]
    assert "exists and is not a socket" in caplog.text
    assert path.read_text() == "not a socket"


@pytest.mark.parametrize("backlog", ["room", "full"])
def test_a_socket_file_a_server_listens_on_is_not_taken(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, backlog: str
) -> None:
    """As a TCP port in use: the server that listens there keeps its socket file and its clients,
    whether a connection would be taken or would wait (its backlog full: a non-blocking connect
    says EAGAIN)."""
    path = tmp_path / "app.sock"
    live = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    waiting: list[socket.socket] = []
    try:
        live.bind(str(path))
        live.listen(0 if backlog == "full" else 8)
        if backlog == "full":
            while True:  # (Linux queues backlog + 1 connections; no more than a few)
                client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                client.setblocking(False)
                waiting.append(client)
                try:
                    client.connect(str(path))
                except BlockingIOError:
                    break
        inode = path.stat().st_ino
        served = ServerThread(Server(_where_app(), uds=str(path)))
        served.thread.join(30)
        assert [type(e) for e in served.failure] == [SystemExit]
        assert f"cannot listen on {path}: a server is listening on it already" in caplog.text
        assert path.stat().st_ino == inode
        if backlog == "room":
            live.accept()[0].close()  # the server's probe, which found it listening
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
                client.connect(str(path))  # (still the live server's)
                live.accept()[0].close()
    finally:
        for client in waiting:
            client.close()
        live.close()


@pytest.mark.parametrize("family", ["tcp", "unix"])
def test_an_inherited_socket(tmp_path: Path, family: str) -> None:
    """`fd`: the engine listens on a duplicate of a socket its owner made (systemd's socket
    activation, a supervisor's), which stays the owner's: open after the server stops, and its
    file (a Unix domain socket's) is left where it is."""
    if family == "tcp":
        given = socket.create_server(("127.0.0.1", 0))
        host, given_port = given.getsockname()
        base, transport = f"http://127.0.0.1:{given_port}", httpx.HTTPTransport()
        expected: dict[str, Any] = {"client": ["127.0.0.1"], "server": [host, given_port]}
    else:
        path = tmp_path / "given.sock"
        given = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        given.bind(str(path))
        given.listen()
        base, transport = "http://app.test", httpx.HTTPTransport(uds=str(path))
        expected = {"client": None, "server": None}
    try:
        with (
            running(_where_app(), fd=given.fileno()) as (_, port),
            httpx.Client(transport=transport, timeout=10) as client,
        ):
            assert port == (given_port if family == "tcp" else 0)
            answer = client.get(f"{base}/where").json()
            if answer["client"] is not None:
                answer["client"] = answer["client"][:1]  # (the port is the client's own)
            assert {k: answer[k] for k in expected} == expected
        os.fstat(given.fileno())  # (still open: the engine closed its duplicate only)
        if family == "unix":
            assert path.exists()
    finally:
        given.close()


def test_a_socket_given_unbound_is_refused(caplog: pytest.LogCaptureFixture) -> None:
    """listen() would bind it to an address of its own choosing (any address, a random port)."""
    with socket.socket() as unbound:
        fd = unbound.fileno()
        served = ServerThread(Server(_where_app(), fd=fd))
        served.thread.join(30)
    assert [type(e) for e in served.failure] == [SystemExit]
    assert f"fd {fd} is not bound to an address" in caplog.text


# ---- behind a reverse proxy: X-Forwarded-For and X-Forwarded-Proto


async def _peer_app(scope: Any, receive: Any, send: Any) -> None:
    """Any ASGI app (the generic path): what the scope says of the client and the scheme."""
    if scope["type"] != "http":
        return
    body = f'{{"client": ["{scope["client"][0]}", {scope["client"][1]}], "scheme": "{scope["scheme"]}"}}'
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body.encode()})


def _peer_fasterapi_app() -> FastAPI:
    app = FastAPI()

    @app.get("/peer")
    async def peer(request: Request) -> dict[str, Any]:
        assert request.client is not None
        return {"client": [request.client.host, request.client.port], "scheme": request.url.scheme}

    return app


FORWARDED = [("x-forwarded-for", "203.0.113.7, 10.0.0.1"), ("x-forwarded-proto", "https")]


@pytest.mark.parametrize(
    ("allow", "headers", "client", "scheme"),
    [
        # The default trusts 127.0.0.1 (the test's client): the last entry not from a trusted proxy.
        (None, FORWARDED, "10.0.0.1", "https"),
        ("127.0.0.1, 10.0.0.0/8", FORWARDED, "203.0.113.7", "https"),
        (["127.0.0.1", "10.0.0.0/8"], FORWARDED, "203.0.113.7", "https"),
        # Every entry trusted: the leftmost (the client is a proxy of ours itself). "*": the leftmost.
        ("127.0.0.1,10.0.0.0/8,203.0.113.0/24", FORWARDED, "203.0.113.7", "https"),
        ("*", [("x-forwarded-for", "198.51.100.9, 203.0.113.7, 10.0.0.1")], "198.51.100.9", "http"),
        # Two field lines are one list; IPv6 networks; names trusted as written.
        (
            "127.0.0.1,10.0.0.0/8",
            [("x-forwarded-for", "203.0.113.7"), ("x-forwarded-for", "10.0.0.1")],
            "203.0.113.7",
            "http",
        ),
        (
            "127.0.0.1,2001:db8::/32",
            [("x-forwarded-for", "198.51.100.1,2001:db8::5")],
            "198.51.100.1",
            "http",
        ),
        ("127.0.0.1,unknown", [("x-forwarded-for", "198.51.100.1, unknown")], "198.51.100.1", "http"),
        # The scheme: http or https, ws and wss standing for them, any case; anything else changes nothing.
        (None, [("x-forwarded-proto", "WSS")], None, "https"),
        (None, [("x-forwarded-proto", "https"), ("x-forwarded-proto", "http")], None, "http"),
        (None, [("x-forwarded-proto", "ftp")], None, "http"),
        (None, [("x-forwarded-proto", "https, http")], None, "http"),
        (None, [("x-forwarded-for", " , ")], None, "http"),
        # A peer that is not a trusted proxy: nothing it says about others is believed.
        ("10.1.1.1", FORWARDED, None, "http"),
        ("", FORWARDED, None, "http"),
    ],
)
@pytest.mark.parametrize("kind", ["native", "asgi"])
def test_proxy_headers_of_trusted_peers(
    kind: str, allow: Any, headers: list[tuple[str, str]], client: str | None, scheme: str
) -> None:
    app = _peer_fasterapi_app() if kind == "native" else _peer_app
    with running(app, forwarded_allow_ips=allow) as (server, port):
        assert (server._native is not None) == (kind == "native")
        with contextlib.closing(socket.create_connection(("127.0.0.1", port), timeout=10)) as sock:
            lines = "".join(f"{k}: {v}\r\n" for k, v in headers)
            sock.sendall(f"GET /peer HTTP/1.1\r\nhost: test\r\n{lines}\r\n".encode())
            response = Reader(sock).read()
            own_port = sock.getsockname()[1]
    assert response.status == 200
    seen = json.loads(response.body)
    assert seen == {"client": [client, 0] if client else ["127.0.0.1", own_port], "scheme": scheme}


def test_proxy_headers_off_and_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    def seen(**options: Any) -> Any:
        with running(_peer_app, **options) as (_, port), httpx.Client(timeout=10) as client:
            response = client.get(f"http://127.0.0.1:{port}/peer", headers=dict(FORWARDED))
            return response.json()["client"][0], response.json()["scheme"]

    assert seen() == ("10.0.0.1", "https")
    assert seen(proxy_headers=False) == ("127.0.0.1", "http")
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.1.1.1")  # (read when the server starts)
    assert seen() == ("127.0.0.1", "http")
    assert seen(forwarded_allow_ips="127.0.0.0/8") == ("10.0.0.1", "https")
    with pytest.raises(OptionError):
        Server(_peer_app, forwarded_allow_ips=["127.0.0.1", 7])


def test_access_log_shows_the_forwarded_client(caplog: pytest.LogCaptureFixture) -> None:
    access = logging.getLogger("fasterapi.access")
    access.setLevel(logging.INFO)
    try:
        with caplog.at_level(logging.INFO, logger="fasterapi.access"):
            app = _peer_fasterapi_app()
            with running(app, access_log=True) as (_, port), httpx.Client(timeout=10) as client:
                client.get(f"http://127.0.0.1:{port}/peer", headers=dict(FORWARDED))
            records = [r for r in caplog.records if r.name == "fasterapi.access"]
    finally:
        access.setLevel(logging.NOTSET)
    assert [r.client for r in records] == ["10.0.0.1:0"]  # type: ignore[attr-defined]


NGINX_PROXY_CONF = """\
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    upstream app {{ server {upstream}; keepalive 4; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto https;  # as where nginx ends TLS (docs/deployment.md)
        }}
    }}
}}
"""


@pytest.mark.parametrize("upstream_kind", ["tcp", "unix"])
def test_behind_nginx_urls_and_client_are_the_proxys_clients(tmp_path: Path, upstream_kind: str) -> None:
    nginx = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    if nginx is None:
        pytest.skip("no nginx (tools/apt-packages.txt lists it)")
    app = _peer_fasterapi_app()

    @app.get("/items/")
    async def items() -> list[int]:
        return [1, 2]

    # Over a socket file, the proxy's headers are believed with forwarded_allow_ips="*" (its peers
    # have no address: docs/deployment.md). nginx's worker runs as another user (nobody): the
    # socket's permissions let it connect, in a folder it may enter.
    folder = Path(tempfile.mkdtemp(prefix="fasterapi-uds-"))
    folder.chmod(0o755)
    path = folder / "app.sock"
    unix = upstream_kind == "unix"
    options: dict[str, Any] = {"uds": str(path), "forwarded_allow_ips": "*"} if unix else {}
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(shutil.rmtree, folder, ignore_errors=True)
        _, upstream_port = cleanup.enter_context(running(app, **options))
        upstream = f"unix:{path}" if unix else f"127.0.0.1:{upstream_port}"
        with socket.socket() as probe:  # a free port for nginx
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        conf = tmp_path / "nginx.conf"
        conf.write_text(NGINX_PROXY_CONF.format(tmp=tmp_path, upstream=upstream, port=port))
        proc = subprocess.Popen(
            [nginx, "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    assert proc.poll() is None, (tmp_path / "error.log").read_text()
                    assert time.monotonic() < deadline, "nginx did not start"
                    time.sleep(0.05)
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
                # nginx's client (127.0.0.1, as X-Forwarded-For says), without a port; https as nginx says.
                assert client.get("/peer").json() == {"client": ["127.0.0.1", 0], "scheme": "https"}
                # What the app builds from the scope: the redirect to the slash goes to https.
                moved = client.get("/items", headers={"host": "example.com"})
                assert moved.status_code == 307
                assert moved.headers["location"] == "https://example.com/items/"
        finally:
            proc.terminate()
            proc.wait(10)


def _client_of_reference(forwarded_for: str, networks: list[Any], names: set[str]) -> str | None:
    """What X-Forwarded-For names as the client, the engine's rule in Python (ipaddress): from the
    right, the first entry that is not a trusted proxy; all trusted, the leftmost; none, None."""

    def trusted(host: str) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return host in names
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in networks)

    hosts = [h.strip(" \t") for h in forwarded_for.split(",")]
    hosts = [h for h in hosts if h]
    if not hosts:
        return None
    return next((h for h in reversed(hosts) if not trusted(h)), hosts[0])


_ENTRIES = [
    "127.0.0.1", "10.0.0.1", "10.255.1.2", "11.0.0.1", "203.0.113.7", "198.51.100.1", "2001:db8::5",
    "2001:db9::1", "::ffff:10.0.0.9", "::1", "unknown", "_hidden", "", " ", "\t", "300.1.1.1",
    "::ffff:11.0.0.1",
]  # fmt: skip


def test_forwarded_for_agrees_with_a_reference(io_threads: int) -> None:
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies
    allow = "127.0.0.1,10.0.0.0/8,2001:db8::/32,unknown"
    networks = [ipaddress.ip_network(n) for n in ("127.0.0.1/32", "10.0.0.0/8", "2001:db8::/32")]
    with running(_peer_app, forwarded_allow_ips=allow) as (_, port):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

        @hypothesis.settings(max_examples=150, deadline=None, database=None)
        @hypothesis.given(
            st.lists(st.lists(st.sampled_from(_ENTRIES), min_size=1, max_size=6), min_size=1, max_size=3)
        )
        def check(lines: list[list[str]]) -> None:
            values = [",".join(line) for line in lines]
            conn.putrequest("GET", "/peer")
            for value in values:
                conn.putheader("X-Forwarded-For", value)
            conn.endheaders()
            response = conn.getresponse()
            seen = json.loads(response.read())["client"]
            expected = _client_of_reference(",".join(values), networks, {"unknown"})
            assert seen[0] == (expected if expected is not None else "127.0.0.1"), values
            assert seen[1] == (0 if expected is not None else conn.sock.getsockname()[1])

        try:
            check()
        finally:
            conn.close()
