"""A frozen router shared by many threads gives every thread the same answers as one thread gets."""

from __future__ import annotations

import sys
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fasterapi_router import Router
from helpers import outcome

THREADS = 8
ROUNDS = 400  # each thread runs every case this many times


@pytest.fixture
def frequent_switches() -> Iterator[None]:
    # Let the interpreter hand the GIL over as often as it can, so lookups interleave.
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def shared_router() -> Router[str]:
    r: Router[str] = Router()
    r.add("GET", "/users/me", "me")
    r.add("GET", "/users/{id:int}", "user")
    r.add(["PUT", "DELETE"], "/users/{id:int}", "change_user")
    r.add("GET", "/users/{name}", "by_name")
    r.add("GET", "/orders/{a:uuid}/items/{b:uuid}", "order_item")
    r.add("GET", "/files/{name}.{ext}", "file")
    r.add("GET", "/f/{x:float}", "float")
    r.add("GET", "/docs/{p:path}", "docs")
    r.add("*", "/any/{x}", "any")
    r.mount("/static", "static")
    r.mount("/t/{tenant}", "tenant")
    r.freeze()
    return r


def cases() -> list[tuple[str, str | bytes]]:
    ids = [uuid.UUID(int=i * 0x1234567890ABCDEF1234567890ABCDEF % 2**128) for i in range(1, 9)]
    out: list[tuple[str, str | bytes]] = [
        ("GET", "/users/me"),
        ("GET", "/users/%6De"),
        ("GET", "/users/12345678901234567890"),
        ("DELETE", "/users/3"),
        ("POST", "/users/3"),
        ("GET", "/users/caf%C3%A9"),
        ("GET", b"/users/\xc3\xa9"),
        ("GET", "/users/"),
        ("GET", "/files/a.tar.gz"),
        ("GET", "/files/a%2Fb.c"),
        ("GET", "/f/3.25"),
        ("GET", "/docs/a/b%20c/"),
        ("PATCH", "/any/x"),
        ("GET", "/static/css/a.css"),
        ("GET", "/static"),
        ("GET", "/t/acme/x/y"),
        ("GET", "/nothing/here"),
        ("GET", "/users/%ff"),
    ]
    out += [("GET", f"/orders/{a}/items/{b}") for a, b in zip(ids, reversed(ids), strict=True)]
    return out


def test_frozen_router_from_many_threads(frequent_switches: None) -> None:
    router = shared_router()
    work = cases()
    expected = [
        (outcome(router.lookup(m, p)), outcome(router.match(m, p)), router.allowed_methods(p))
        for m, p in work
    ]
    assert sum(e[0][0] == "match" for e in expected) >= len(work) // 2  # mostly hits, params to convert

    start = threading.Barrier(THREADS)
    errors: list[Any] = []
    counts = [0] * THREADS

    def worker(n: int) -> None:
        start.wait()
        try:
            for round_ in range(ROUNDS):
                for k in range(len(work)):
                    i = (k + n + round_) % len(work)  # threads work on different cases at once
                    method, path = work[i]
                    got = (
                        outcome(router.lookup(method, path)),
                        outcome(router.match(method, path)),
                        router.allowed_methods(path),
                    )
                    if got != expected[i]:
                        errors.append((n, method, path, got, expected[i]))
                    counts[n] += 1
        except BaseException as exc:  # reported below, with the thread that saw it
            errors.append((n, repr(exc)))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert counts == [ROUNDS * len(work)] * THREADS
