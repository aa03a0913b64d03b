"""Hostile inputs: huge paths, deep paths, NUL bytes, bytes that are not UTF-8, lone surrogates,
every single byte, and Python code that runs in the middle of a lookup. Results are checked
against the reference router where one exists; nothing may crash."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from typing import Any

import pytest
from fasterapi_router import Router
from helpers import ReferenceRouter, match_outcome, outcome

ROUTES: list[tuple[str, str]] = [
    ("GET", "/"),
    ("GET", "/a"),
    ("GET", "/a/{x}"),
    ("GET", "/a/b/c"),
    ("POST", "/{x}"),
    ("GET", "/n/{n:int}"),
    ("GET", "/f/{x:float}"),
    ("GET", "/u/{u:uuid}"),
    ("GET", "/m/{name}.{ext}"),
    ("GET", "/p/{rest:path}"),
    ("*", "/star/{s}"),
    ("GET", "/{x}/deep/{y}"),
    ("GET", "/a\x00b"),
]
MOUNTS = ["/static", "/t/{tenant}"]


def both() -> tuple[Router[Any], ReferenceRouter]:
    router: Router[Any] = Router()
    ref = ReferenceRouter()
    for i, (method, pattern) in enumerate(ROUTES):
        router.add(method, pattern, i)
        ref.add(method, pattern, i)
    for i, prefix in enumerate(MOUNTS, start=len(ROUTES)):
        router.mount(prefix, i)
        ref.mount(prefix, i)
    return router, ref


ROUTER, REF = both()
ROUTER.freeze()


def agree(path: str | bytes) -> None:
    for method in ("GET", "POST"):
        expected = REF.lookup(method, path)
        assert outcome(ROUTER.lookup(method, path)) == expected, (method, path)
        assert outcome(ROUTER.match(method, path)) == match_outcome(expected), (method, path)
    assert ROUTER.allowed_methods(path) == REF.allowed_methods(path), path


@pytest.mark.parametrize("prefix", [b"/", b"/a/", b"/p/", b"/static/", b"/m/x.", b"/n/1", b"/t/"])
def test_every_single_byte(prefix: bytes) -> None:
    for byte in range(256):
        agree(prefix + bytes([byte]))
        agree(prefix + bytes([byte]) + b"/deep/x")
        if byte < 0x80:
            agree((prefix + bytes([byte])).decode())
        agree(prefix + b"%" + b"%02X" % byte)


@pytest.mark.parametrize(
    "path",
    [
        b"/\xff",
        b"/a/\xc3",
        b"/a/\xc3\xa9\xff",
        b"/\xed\xa0\x80",  # an encoded surrogate
        b"/\xc0\xaf",  # overlong '/'
        b"/\xf4\x90\x80\x80",  # above U+10FFFF
        b"/p/ok/\x80",
        b"/static/\xff/x",
        b"/t/\xff/x",
        b"/t/a/\xff",
        b"/m/\xff.txt",
        b"/\xff/deep/x",
        b"\xff",
        b"",
        b"/a\x00b",
        b"/a%00b",
        b"/a/\x00",
        b"/p/\x00/\x00",
        b"/static/\x00",
    ],
)
def test_bytes_that_are_not_text(path: bytes) -> None:
    agree(path)


def test_nul_bytes() -> None:
    m = ROUTER.match("GET", "/a\x00b")
    assert m is not None
    assert m.route == "/a\x00b"
    m = ROUTER.match("GET", "/a/x\x00y")
    assert m is not None
    assert m.params == {"x": "x\x00y"}
    with pytest.raises(ValueError, match="method"):
        Router().add("GET\x00", "/x", "v")


LONG = 1_000_000


def test_one_megabyte_segment() -> None:
    m = ROUTER.match("GET", "/a/" + "x" * LONG)
    assert m is not None
    assert m.params == {"x": "x" * LONG}
    m = ROUTER.match("GET", "/a/" + "%41" * (LONG // 3))
    assert m is not None
    assert m.params == {"x": "A" * (LONG // 3)}
    m = ROUTER.match("GET", b"/a/" + "é".encode() * (LONG // 2))
    assert m is not None
    assert m.params == {"x": "é" * (LONG // 2)}
    assert ROUTER.match("GET", "/n/" + "1" * LONG) is None
    m = ROUTER.match("GET", "/f/" + "1" * LONG)  # no limit on a float: it overflows as float() does
    assert m is not None
    assert m.params == {"x": float("inf")}
    assert ROUTER.match("GET", "/u/" + "a" * LONG) is None
    assert ROUTER.match("GET", "/m/" + "x" * LONG + ".txt") is None  # beyond the mixed-segment limit
    assert outcome(ROUTER.lookup("GET", "/zz/" + "x" * LONG)) == ("miss", 404, frozenset(), None)
    assert outcome(ROUTER.lookup("DELETE", "/" + "x" * LONG)) == ("miss", 405, frozenset({"POST"}), None)


def test_one_megabyte_tails() -> None:
    tail = "/" + "a/" * (LONG // 2)
    m = ROUTER.match("GET", "/p" + tail)
    assert m is not None
    assert m.params == {"rest": tail[1:]}
    m = ROUTER.match("GET", "/static" + tail)
    assert m is not None
    assert m.tail == tail
    m = ROUTER.match("GET", "/p/" + "%2F" * (LONG // 3))
    assert m is not None
    assert m.params == {"rest": "/" * (LONG // 3)}


@pytest.mark.parametrize("unit", ["/a", "/%61", "/", "/é"])
def test_hundred_thousand_segments(unit: str) -> None:
    path = unit * 100_000
    agree(path)
    agree(path.encode())
    agree("/p" + path)
    agree("/static" + path)
    agree("/a" + path + "/")


def test_deep_route_against_deep_paths() -> None:
    r: Router[str] = Router()
    r.add("GET", "".join(f"/{{x{i}}}" for i in range(60)) + "/a" * 195 + "/{rest:path}", "deep")
    r.add("GET", "/a" * 256, "static")
    path = "/a" * 100_000
    m = r.match("GET", path)
    assert m is not None
    assert m.value == "deep"
    assert m.params["rest"] == "/".join(["a"] * (100_000 - 255))
    assert outcome(r.lookup("GET", "/a" * 256)) == ("match", "static", {}, "/a" * 256, "GET", None)
    m = r.match("GET", "/%61" * 300)
    assert m is not None
    assert m.value == "deep"


@pytest.mark.parametrize("path", ["/\ud800", "/a/\udcff", "/p/x\ud83d", "/static/\udfff", "\ud800"])
def test_lone_surrogates_in_str_paths(path: str) -> None:
    # A str that has no UTF-8 form: a clear error (ValueError, e.g. UnicodeEncodeError) or a miss.
    calls: list[Callable[[], object]] = [
        lambda: ROUTER.match("GET", path),
        lambda: ROUTER.lookup("GET", path),
        lambda: ROUTER.allowed_methods(path),
    ]
    for call in calls:
        try:
            result = call()
        except ValueError:
            continue
        assert result is None or not result or getattr(result, "status_code", None) == 404


@pytest.mark.parametrize(
    ("method", "pattern"), [("GET", "/\ud800"), ("G\udcffT", "/x"), ("GET", "/{x\udc80}")]
)
def test_lone_surrogates_when_adding(method: str, pattern: str) -> None:
    # Any ValueError is a clear error here (UnicodeEncodeError is one).
    r: Router[str] = Router()
    with pytest.raises(ValueError):  # noqa: PT011
        r.add(method, pattern, "v")
    if method == "GET":
        with pytest.raises(ValueError):  # noqa: PT011
            r.mount(pattern, "v")
    assert len(r) == 0


def test_lone_surrogate_in_lookup_method() -> None:
    try:
        result = ROUTER.match("GE\ud800T", "/a")
    except ValueError:
        return
    assert result is None


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    """Runs code in a child interpreter, so that a crash fails the test instead of ending the run."""
    return subprocess.run(
        [sys.executable, "-X", "dev", "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_lookup_from_a_gc_callback_during_a_lookup() -> None:
    # Converting params allocates, an allocation may run the garbage collector, and a gc callback is
    # Python code: it may look the same router up again in the middle of a lookup.
    done = run_python(
        """
        import gc, uuid
        from fasterapi_router import Router
        r = Router()
        r.add("GET", "/{a:uuid}/{b:uuid}/{c}", "v")
        ids = [uuid.uuid4() for _ in range(2)]
        path = f"/{ids[0]}/{ids[1]}/x%20y"
        inner = []
        def callback(phase, info):
            if phase == "start":
                m = r.match("GET", path)
                inner.append((m.params["a"], m.params["c"]))
        gc.callbacks.append(callback)
        gc.set_threshold(1)
        for _ in range(300):
            m = r.match("GET", path)
            assert m.params == {"a": ids[0], "b": ids[1], "c": "x y"}, m.params
        gc.callbacks.remove(callback)
        gc.set_threshold(700)
        assert inner and all(x == (ids[0], "x y") for x in inner)
        print("ok")
        """
    )
    assert (done.returncode, done.stdout.strip()) == (0, "ok"), done.stderr[-3000:]


def test_add_from_a_gc_callback_during_a_lookup() -> None:
    # The same with a callback that adds routes to the (unfrozen) router being looked up.
    done = run_python(
        """
        import gc, uuid
        from fasterapi_router import Router
        r = Router()
        r.add("GET", "/{a:uuid}/{b:uuid}", "v")
        ids = [uuid.uuid4() for _ in range(2)]
        path = f"/{ids[0]}/{ids[1]}"
        added = [0]
        def callback(phase, info):
            if phase == "start" and added[0] < 2000:
                for _ in range(50):
                    added[0] += 1
                    r.add("GET", f"/added/{added[0]}/{{x}}", added[0])
        gc.callbacks.append(callback)
        gc.set_threshold(1)
        for _ in range(50):
            m = r.match("GET", path)
            assert m.params == {"a": ids[0], "b": ids[1]}, m.params
        gc.callbacks.remove(callback)
        gc.set_threshold(700)
        assert added[0] > 0 and len(r) == 1 + added[0]
        assert r.match("GET", "/added/7/z").params == {"x": "z"}
        print("ok")
        """
    )
    assert (done.returncode, done.stdout.strip()) == (0, "ok"), done.stderr[-3000:]
