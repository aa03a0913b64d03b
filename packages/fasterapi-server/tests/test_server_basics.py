"""Requests and responses over real sockets: curl, httpx and raw bytes against a running server."""

from __future__ import annotations

import os
import shutil
import subprocess

import httpx
import pytest
from helpers import ServerProcess


def test_httpx_get_and_post(server: ServerProcess) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=10) as client:
        r = client.get("/head")
        assert r.status_code == 200
        assert r.content == b"hello world"
        assert r.headers["content-length"] == "11"
        r = client.post("/echo", content=b"payload" * 1000)
        assert r.status_code == 200
        assert r.content == b"payload" * 1000


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_get(server: ServerProcess) -> None:
    out = subprocess.run(
        ["curl", "-sS", "-i", "--max-time", "10", f"http://127.0.0.1:{server.port}/head"],
        capture_output=True, check=True, timeout=15,
    ).stdout  # fmt: skip
    head, _, body = out.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert body == b"hello world"


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="no /proc here")
def test_the_io_runs_on_the_threads_asked_for(server: ServerProcess, io_threads: int) -> None:
    # threads=0: no thread but the Python thread's (the app is a plain ASGI app: no executor).
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=10) as client:
        assert client.get("/head").status_code == 200
    assert len(os.listdir(f"/proc/{server.proc.pid}/task")) == 1 + io_threads


def test_a_port_in_use_is_an_error_unless_both_reuse_it(start_server) -> None:
    first = start_server()
    with pytest.raises(AssertionError, match=r"(?s)exited before listening.*in use"):
        start_server({"port": first.port})  # reuse_port off: "address in use", not a silent share
    shared = start_server({"reuse_port": True})
    second = start_server({"port": shared.port, "reuse_port": True})
    assert second.port == shared.port
    assert shared.alive()
    assert second.alive()
    with httpx.Client(timeout=10) as client:
        assert client.get(f"http://127.0.0.1:{shared.port}/head").content == b"hello world"
