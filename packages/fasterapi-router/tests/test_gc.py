"""Reference counting and the cyclic garbage collector: nothing leaks, cycles through a router go."""

from __future__ import annotations

import gc
import sys
import uuid
import weakref
from collections.abc import Callable
from typing import Any

import pytest
from fasterapi_router import PatternError, RouteConflictError, Router

N = 10_000


class Endpoint:
    """A route value that can refer back to the router (an app holding both)."""

    router: Any = None
    keep: Any = None


def test_cycle_through_the_router_is_collected() -> None:
    value = Endpoint()
    router: Router[Endpoint] = Router()
    router.add("GET", "/x", value)
    router.mount("/m", value)
    value.router = router
    dead = weakref.ref(value)
    del value, router
    gc.collect()
    assert dead() is None


def test_cycle_through_a_frozen_and_included_router_is_collected() -> None:
    value = Endpoint()
    inner: Router[Endpoint] = Router()
    inner.add("GET", "/x", value)
    outer: Router[Endpoint] = Router()
    outer.include("/api", inner)
    outer.freeze()
    value.router = outer
    value.keep = inner
    dead = weakref.ref(value)
    del value, inner, outer
    gc.collect()
    assert dead() is None


@pytest.mark.parametrize("holder", ["match", "route", "routes", "lookup"])
def test_cycle_through_result_objects_is_collected(holder: str) -> None:
    value = Endpoint()
    router: Router[Endpoint] = Router()
    router.add("GET", "/x/{id}", value)
    if holder == "match":
        value.keep = router.match("GET", "/x/1")
    elif holder == "lookup":
        value.keep = router.lookup("GET", "/x/1")
    elif holder == "route":
        value.keep = router.routes()[0]
    else:
        value.keep = router.routes()
    del router
    dead = weakref.ref(value)
    del value
    gc.collect()
    assert dead() is None


def test_values_are_released_with_the_router() -> None:
    value = Endpoint()
    router: Router[Endpoint] = Router()
    router.add(["GET", "POST"], "/x", value)
    dead = weakref.ref(value)
    del value
    assert dead() is not None
    del router  # no cycle: plain reference counting frees it, without gc.collect()
    assert dead() is None


def test_a_match_outlives_its_router() -> None:
    router: Router[Endpoint] = Router()
    router.add("GET", "/x/{id:int}", Endpoint())
    m = router.match("GET", "/x/5")
    del router
    gc.collect()
    assert m is not None
    assert isinstance(m.value, Endpoint)
    assert (m.params, m.route, m.method) == ({"id": 5}, "/x/{id:int}", "GET")


def leaked_references(obj: object, action: Callable[[], object]) -> int:
    action()  # warm up (interned strings, caches)
    gc.collect()
    before = sys.getrefcount(obj)
    for _ in range(N):
        action()
    gc.collect()
    return sys.getrefcount(obj) - before


def test_matches_do_not_keep_references_to_the_value() -> None:
    value = Endpoint()
    router: Router[Endpoint] = Router()
    router.add("GET", "/users/{id:int}/{name}/{u:uuid}", value)
    router.mount("/static", value)
    router.add("GET", "/users/me", value)
    path = f"/users/1/caf%C3%A9/{uuid.uuid4()}"

    def touch_match() -> object:
        m = router.match("GET", path)
        assert m is not None
        return m.value

    assert leaked_references(value, lambda: router.match("GET", path)) == 0
    assert leaked_references(value, touch_match) == 0
    assert leaked_references(value, lambda: router.lookup("GET", "/static/x")) == 0
    assert leaked_references(value, lambda: router.match("GET", "/users/me")) == 0
    assert leaked_references(value, router.routes) == 0
    assert leaked_references(value, lambda: router.lookup("POST", "/users/me")) == 0


def test_params_do_not_leak() -> None:
    router: Router[str] = Router()
    router.add("GET", "/{a:int}/{b:float}/{c:uuid}/{d}/{rest:path}", "v")
    path = f"/123456789012345678901234567890/1.5/{uuid.uuid4()}/x%20y/a/b"

    # Every param is a new object; a leak of one per match is N uuid.UUID instances (each holds a
    # reference to its class) and N allocated blocks.
    assert leaked_references(uuid.UUID, lambda: router.match("GET", path)) == 0
    gc.collect()
    blocks = sys.getallocatedblocks()
    for _ in range(N):
        router.match("GET", path)
        router.lookup("GET", path)
        router.lookup("GET", path + "/")
        router.allowed_methods(path)
    gc.collect()
    assert sys.getallocatedblocks() - blocks < N // 10


def test_failed_adds_do_not_keep_the_value() -> None:
    value = Endpoint()
    router: Router[Endpoint] = Router()
    router.add("GET", "/x", value)
    router.freeze()
    other: Router[Endpoint] = Router()
    other.add("GET", "/x", value)

    def conflict() -> None:
        with pytest.raises(RouteConflictError):
            other.add("GET", "/x", value)

    def bad_pattern() -> None:
        with pytest.raises(PatternError):
            other.add("GET", "/{", value)

    def bad_method() -> None:
        with pytest.raises(ValueError, match="method"):
            other.add("BAD METHOD", "/y", value)

    def frozen() -> None:
        with pytest.raises(RuntimeError):
            router.add("GET", "/y", value)

    for action in (conflict, bad_pattern, bad_method, frozen):
        assert leaked_references(value, action) == 0, action.__name__
    assert len(other) == 1
