"""A bare ASGI 3 application for the socket tests, served by fasterapi_server in its own process.

    python asgi_app.py '{"max_body_size": 1000}'

argv[1] is a JSON object of server options (Config fields); the port is printed on stdout once the
server listens. What each path does is in `app` below. The environment steers the lifespan:
FA_TEST_FAIL_STARTUP=1 fails the startup; FA_TEST_LIFESPAN_LOG names a file where "startup" and
"shutdown" lines are appended as they run.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import json
import os
import sys
from typing import Any

from fasterapi_server import serve

# What the app saw, for the tests to ask about (GET /events): disconnects, in-flight counts.
events: list[str] = []
counts = {"in_flight": 0}  # requests of /sleep and /upload inside the app


def log_lifespan(line: str) -> None:
    path = os.environ.get("FA_TEST_LIFESPAN_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(line + "\n")


async def read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionError("client went away")
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def respond(
    send: Any, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": headers or [(b"content-type", b"text/plain")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def params(scope: dict[str, Any]) -> dict[str, str]:
    out = {}
    for part in scope["query_string"].decode().split("&"):
        if "=" in part:
            k, v = part.split("=", 1)
            out[k] = v
    return out


async def upload(receive: Any, send: Any, q: dict[str, str]) -> None:
    """Answers the size and SHA-256 of the body; reads slowly when asked (?delay=seconds per
    message): the engine must then hold the client back."""
    delay = float(q.get("delay", "0"))
    await asyncio.sleep(float(q.get("wait", "0")))  # ?wait=seconds before reading anything
    digest = hashlib.sha256()
    size = 0
    messages = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            events.append("upload-disconnect")
            return
        digest.update(message.get("body", b""))
        size += len(message.get("body", b""))
        messages += 1
        if delay:
            await asyncio.sleep(delay)
        if not message.get("more_body", False):
            break
    await respond(
        send, 200, json.dumps({"size": size, "sha256": digest.hexdigest(), "messages": messages}).encode()
    )


async def lifespan(scope: dict[str, Any], receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if os.environ.get("FA_TEST_FAIL_STARTUP") == "1":
                await send({"type": "lifespan.startup.failed", "message": "told to fail"})
                return
            scope["state"]["token"] = "from-lifespan"
            log_lifespan("startup")
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            log_lifespan("shutdown")
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await lifespan(scope, receive, send)
        return
    assert scope["type"] == "http"
    path = scope["path"]
    root = scope["root_path"]
    if root and path.startswith(root):  # routed below without the root_path, as ASGI apps do
        path = path[len(root) :]
    q = params(scope)

    if path.startswith("/scope"):
        await read_body(receive)
        state = scope.get("state", {})
        info = {
            "type": scope["type"],
            "asgi": scope["asgi"],
            "scheme": scope["scheme"],
            "root_path": scope["root_path"],
            "extensions": sorted(scope["extensions"]),
            "state_was_marked": "marked" in state,  # a request's state is its own copy
            "path": scope["path"],
            "raw_path": scope["raw_path"].decode("latin-1"),
            "query_string": scope["query_string"].decode("latin-1"),
            "client": list(scope["client"]),
            "server": list(scope["server"]),
            "http_version": scope["http_version"],
            "method": scope["method"],
            "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]],
            "state": dict(state),
        }
        state["marked"] = True
        await respond(send, 200, json.dumps(info).encode(), [(b"content-type", b"application/json")])
    elif path == "/gc":  # the objects kept out of the collector's sight (Config.gc_freeze)
        await respond(send, 200, b"%d" % gc.get_freeze_count())
    elif path == "/echo":
        body = await read_body(receive)
        await respond(send, 200, body)
    elif path == "/upload":
        counts["in_flight"] += 1
        try:
            await upload(receive, send, q)
        finally:
            counts["in_flight"] -= 1
    elif path.startswith("/sleep/"):
        # /sleep/<ms>: answers its own path after that long (pipelining order, shutdown in flight).
        counts["in_flight"] += 1
        try:
            await read_body(receive)
            await asyncio.sleep(int(path.rsplit("/", 1)[1]) / 1000)
            close = [(b"connection", b"close")] if q.get("close") == "1" else []
            await respond(send, 200, path.encode(), [(b"content-type", b"text/plain"), *close])
        finally:
            counts["in_flight"] -= 1
    elif path == "/in-flight":
        await respond(send, 200, str(counts["in_flight"]).encode())
    elif path == "/events":
        await respond(send, 200, json.dumps(events).encode())
    elif path == "/stream":
        # ?n=chunks&size=bytes: a chunked response (no content-length).
        n, size = int(q.get("n", "3")), int(q.get("size", "5"))
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}
        )
        for i in range(n):
            await send({"type": "http.response.body", "body": bytes([97 + i % 26]) * size, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    elif path == "/big":
        # ?size=bytes: one whole response body.
        size = int(q.get("size", "1000000"))
        await respond(send, 200, pattern(size))
    elif path == "/bigstream":
        # ?size=bytes&piece=bytes&length=1: a streamed body, with a content-length when asked.
        size, piece = int(q.get("size", "1000000")), int(q.get("piece", "65536"))
        headers = [(b"content-type", b"application/octet-stream")]
        if q.get("length") == "1":
            headers.append((b"content-length", str(size).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        try:
            await bigstream(send, size, piece)
        finally:
            events.append("bigstream-done")
    elif path == "/forever":
        # Streams until the client leaves, then reports whether receive() said so.
        await read_body(receive)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        waiter = asyncio.ensure_future(receive())
        try:
            for _ in range(20000):  # bounded: 20000 * 10 ms
                await send({"type": "http.response.body", "body": b"x" * 1024, "more_body": True})
                if waiter.done():
                    break
                await asyncio.sleep(0.01)
            message = await asyncio.wait_for(waiter, 5)
            events.append("forever:" + message["type"])
        except Exception as exc:
            events.append("forever-error:" + type(exc).__name__)
            raise
    elif path == "/error":
        raise RuntimeError("the handler failed")
    elif path == "/error-after-start":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise RuntimeError("the handler failed mid-response")
    elif path == "/inject":
        await respond(send, 200, b"never", [(b"x-evil", b"a\r\nx-injected: yes")])
    elif path == "/inject-name":
        await respond(send, 200, b"never", [(b"x-evil\r\nx-injected", b"yes")])
    elif path.startswith("/status/"):
        status = int(path.rsplit("/", 1)[1])
        await respond(send, status, b"this body must not be sent")
    elif path == "/head":
        await respond(send, 200, b"hello world", [(b"content-type", b"text/plain")])
    else:
        await respond(send, 404, b"not found")


def pattern(size: int) -> bytes:
    """Bytes whose every offset is recognisable, so a lost or repeated piece shows."""
    block = b"".join(b"%08x" % i for i in range(0, 65536, 8))
    return (block * (size // len(block) + 1))[:size]


async def bigstream(send: Any, size: int, piece: int) -> None:
    for at in range(0, size, piece):
        # Made piece by piece: the app holds no more than a piece, so what the process holds
        # beyond that is the server's buffering (tests measure it).
        body = pattern_slice(at, min(piece, size - at))
        await send({"type": "http.response.body", "body": body, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


_BLOCK = b"".join(b"%08x" % i for i in range(0, 65536, 8))


def pattern_slice(at: int, n: int) -> bytes:
    """pattern(at + n)[at:], without making the rest."""
    start = at % len(_BLOCK)
    return (_BLOCK * ((start + n) // len(_BLOCK) + 1))[start : start + n]


def main() -> None:
    options = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    options.setdefault("threads", 1)
    options.setdefault("port", 0)

    def ready(port: int) -> None:
        print(port, flush=True)

    serve(app, host="127.0.0.1", ready=ready, **options)
    if os.environ.get("FA_TEST_GC_LOG"):  # after serving: what is still frozen
        with open(os.environ["FA_TEST_GC_LOG"], "w", encoding="utf-8") as f:
            f.write(str(gc.get_freeze_count()))


if __name__ == "__main__":
    main()
