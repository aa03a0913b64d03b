"""Errors: malformed patterns, limits, conflicts, a frozen router, and misuse of the API."""

from __future__ import annotations

from typing import Any

import pytest
from fasterapi_router import FrozenRouterError, PatternError, Route, RouteConflictError, Router, RouterError

# (pattern, offset or None where the contract only says "inside the offending param")
BAD_PATTERNS = [
    ("", 0),
    ("users", 0),
    ("users/{id}", 0),
    ("{id}", 0),
    # unbalanced or nested braces
    ("/a/{id", 3),
    ("/a/id}", 5),
    ("/a/{id}}", 7),
    ("/{", 1),
    ("/}", 1),
    ("/a/{b{c}}", None),
    ("/a/{b/c}", 3),
    # empty or invalid names
    ("/{}", None),
    ("/{:int}", None),
    ("/{1a}", None),
    ("/{a-b}", None),
    ("/{ a}", None),
    ("/{a }", None),
    ("/{é}", None),
    # unknown converters
    ("/{a:integer}", None),
    ("/{a:}", None),
    ("/{a:INT}", None),
    ("/{a:int:x}", None),
    ("/{a: int}", None),
    # a name used twice
    ("/{a}/{a:int}", None),
    ("/{a}.{a}", None),
    # a path param not filling the last segment
    ("/a/{p:path}/b", 3),
    ("/{p:path}/", 1),
    ("/x{p:path}", 2),
    ("/{p:path}.txt", 1),
    # two params with no literal between them
    ("/{a}{b}", 4),
    ("/x/{a:int}{b}", 10),
]


@pytest.mark.parametrize(("pattern", "offset"), BAD_PATTERNS)
def test_pattern_errors(pattern: str, offset: int | None) -> None:
    r: Router[str] = Router()
    with pytest.raises(PatternError) as caught:
        r.add("GET", pattern, "v")
    err = caught.value
    assert isinstance(err, ValueError)
    assert isinstance(err, RouterError)
    assert err.pattern == pattern
    if offset is not None:
        assert err.offset == offset
    else:
        # The problem is inside the (first offending) param: between its braces.
        start = pattern.rfind("{", 0, err.offset + 1)
        assert start != -1
        assert 0 <= err.offset < len(pattern)
        assert "}" not in pattern[start : err.offset]
    assert str(err)
    assert len(r) == 0
    assert r.match("GET", pattern or "/") is None


def test_documented_error_message() -> None:
    with pytest.raises(PatternError) as caught:
        Router().add("GET", "/items/{item_id:integer}", "x")
    assert caught.value.offset == 16
    assert "integer" in str(caught.value)


@pytest.mark.parametrize(
    ("prefix", "offset"),
    [("/static/", 7), ("/", 0), ("static", 0), ("/a//", 3), ("/files/{p:path}", 7), ("/{a", 1)],
)
def test_bad_prefixes(prefix: str, offset: int) -> None:
    r: Router[str] = Router()
    with pytest.raises(PatternError) as caught:
        r.mount(prefix, "v")
    assert (caught.value.pattern, caught.value.offset) == (prefix, offset)
    with pytest.raises(PatternError) as caught:
        r.include(prefix, Router())
    assert caught.value.offset == offset
    assert len(r) == 0


# --- limits --------------------------------------------------------------------------------------


def params_pattern(n: int) -> str:
    return "/" + "/".join(f"{{p{i}}}" for i in range(n))


def test_64_params() -> None:
    r: Router[str] = Router()
    r.add("GET", params_pattern(64), "v")
    m = r.match("GET", "/" + "/".join(f"v{i}" for i in range(64)))
    assert m is not None
    assert m.params == {f"p{i}": f"v{i}" for i in range(64)}


def test_64_params_in_one_segment() -> None:
    r: Router[str] = Router()
    r.add("GET", "/" + "-".join(f"{{p{i}:int}}" for i in range(64)), "v")
    m = r.match("GET", "/" + "-".join(str(i) for i in range(64)))
    assert m is not None
    assert m.params == {f"p{i}": i for i in range(64)}


def test_64_params_with_a_catch_all() -> None:
    r: Router[str] = Router()
    r.add("GET", params_pattern(63) + "/{rest:path}", "v")
    m = r.match("GET", "/" + "/".join(["x"] * 63) + "/a/b")
    assert m is not None
    assert len(m.params) == 64
    assert m.params["rest"] == "a/b"


def test_65_params() -> None:
    pattern = params_pattern(65)
    with pytest.raises(PatternError) as caught:
        Router().add("GET", pattern, "v")
    assert caught.value.offset == pattern.index("{p64}")


def test_256_segments() -> None:
    r: Router[str] = Router()
    r.add("GET", "/a" * 256, "static")
    r.add("GET", "/b" * 255 + "/{x}", "param")
    r.mount("/c" * 256, "mount")
    r.add("GET", "/" * 256, "empty")
    assert outcome_value(r.match("GET", "/a" * 256)) == "static"
    assert outcome_value(r.match("GET", "/b" * 255 + "/z")) == "param"
    assert outcome_value(r.match("GET", "/c" * 256 + "/deeper/still")) == "mount"
    assert outcome_value(r.match("GET", "/" * 256)) == "empty"
    assert r.match("GET", "/a" * 257) is None
    assert r.match("GET", "/a" * 255) is None


def outcome_value(m: Any) -> Any:
    assert m is not None
    return m.value


@pytest.mark.parametrize("pattern", ["/a" * 257, "/" * 257, "/{x}" + "/a" * 256, "/a" * 256 + "/{p:path}"])
def test_257_segments(pattern: str) -> None:
    with pytest.raises(PatternError) as caught:
        Router().add("GET", pattern, "v")
    # Where the 257th segment starts: at its '/'.
    assert caught.value.offset == [i for i, c in enumerate(pattern) if c == "/"][256]


def test_257_segments_in_a_prefix() -> None:
    with pytest.raises(PatternError):
        Router().mount("/a" * 257, "v")


def test_include_beyond_the_limits_adds_nothing() -> None:
    inner: Router[str] = Router()
    inner.add("GET", "/ok", "ok")
    inner.add("GET", "/a" * 200, "deep")
    outer: Router[str] = Router()
    with pytest.raises(PatternError) as caught:
        outer.include("/p" * 57, inner)
    assert caught.value.pattern == "/p" * 57 + "/a" * 200
    assert len(outer) == 0
    assert outer.match("GET", "/p" * 57 + "/ok") is None

    inner = Router()
    inner.add("GET", params_pattern(40), "v")
    with pytest.raises(PatternError):
        outer.include("/" + "/".join(f"{{q{i}}}" for i in range(25)), inner)
    assert len(outer) == 0


def test_include_with_a_duplicate_param_name() -> None:
    inner: Router[str] = Router()
    inner.add("GET", "/x/{id}", "v")
    with pytest.raises(PatternError) as caught:
        Router().include("/t/{id}", inner)
    assert caught.value.pattern == "/t/{id}/x/{id}"


# --- conflicts -----------------------------------------------------------------------------------


def test_conflict_names_both_routes() -> None:
    r: Router[str] = Router()
    r.add("GET", "/users/{id:int}", "first")
    with pytest.raises(RouteConflictError) as caught:
        r.add("GET", "/users/{uid:int}", "second")
    err = caught.value
    assert isinstance(err, ValueError)
    assert isinstance(err, RouterError)
    message = str(err)
    assert "/users/{id:int}" in message
    assert "/users/{uid:int}" in message
    assert "GET" in message
    assert isinstance(err.existing, Route)
    assert isinstance(err.new, Route)
    assert (err.existing.method, err.existing.path, err.existing.value, err.existing.mount) == (
        "GET",
        "/users/{id:int}",
        "first",
        False,
    )
    assert (err.new.method, err.new.path, err.new.value, err.new.mount) == (
        "GET",
        "/users/{uid:int}",
        "second",
        False,
    )
    assert len(r) == 1
    m = r.match("GET", "/users/1")
    assert m is not None
    assert (m.value, m.params) == ("first", {"id": 1})


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("GET", "/a"), ("GET", "/a")),
        (("GET", "/a/{x}"), ("GET", "/a/{y:str}")),
        (("GET", "/f/{n}.{e}"), ("GET", "/f/{a}.{b}")),
        (("GET", "/p/{a:path}"), ("GET", "/p/{b:path}")),
        (("*", "/a"), ("*", "/a")),
        (("GET", "/a"), (["POST", "GET"], "/a")),
        (("MOUNT", "/s"), ("MOUNT", "/s")),
        (("MOUNT", ""), ("MOUNT", "")),
        (("MOUNT", "/t/{a}"), ("MOUNT", "/t/{b}")),
    ],
)
def test_conflicts(first: tuple[Any, str], second: tuple[Any, str]) -> None:
    r: Router[str] = Router()
    add(r, *first, "first")
    with pytest.raises(RouteConflictError) as caught:
        add(r, *second, "second")
    assert caught.value.existing.path == first[1]
    assert caught.value.new.path == second[1]
    assert caught.value.new.value == "second"
    assert len(r) == 1
    assert [x.value for x in r.routes()] == ["first"]


def add(r: Router[str], method: Any, pattern: str, value: str) -> None:
    if method == "MOUNT":
        r.mount(pattern, value)
    else:
        r.add(method, pattern, value)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("GET", "/a"), ("POST", "/a")),
        (("GET", "/a"), ("*", "/a")),
        (("GET", "/a/{x}"), ("GET", "/a/{x:int}")),
        (("GET", "/a/{x:int}"), ("GET", "/a/{x:float}")),
        (("GET", "/a"), ("GET", "/a/")),
        (("GET", "/a/{x}"), ("GET", "/a/{x}.json")),
        (("GET", "/a/{x}"), ("GET", "/a/{x:path}")),
        (("GET", "/a/b"), ("GET", "/a/{b}")),
        (("*", "/s"), ("MOUNT", "/s")),
        (("GET", "/s/{p:path}"), ("MOUNT", "/s")),
        (("GET", "/{a}.{b}"), ("GET", "/{a}-{b}")),
        (("GET", "/{a}.{b}"), ("GET", "/{a:int}.{b}")),
    ],
)
def test_not_conflicts(first: tuple[Any, str], second: tuple[Any, str]) -> None:
    r: Router[str] = Router()
    add(r, *first, "first")
    add(r, *second, "second")
    assert len(r) == 2


def test_different_methods_may_name_params_differently() -> None:
    r: Router[str] = Router()
    r.add("GET", "/u/{id:int}", "get")
    r.add("DELETE", "/u/{user_id:int}", "delete")
    m = r.match("GET", "/u/1")
    assert m is not None
    assert (m.value, m.params, m.route) == ("get", {"id": 1}, "/u/{id:int}")
    m = r.match("DELETE", "/u/1")
    assert m is not None
    assert (m.value, m.params, m.route) == ("delete", {"user_id": 1}, "/u/{user_id:int}")


def test_conflicting_multi_method_add_adds_none() -> None:
    r: Router[str] = Router()
    r.add("POST", "/a", "post")
    with pytest.raises(RouteConflictError):
        r.add(["GET", "POST"], "/a", "both")
    assert [(x.method, x.value) for x in r.routes()] == [("POST", "post")]
    assert r.match("GET", "/a") is None


def test_first_mode_keeps_the_first() -> None:
    r: Router[str] = Router(on_conflict="first")
    r.add("GET", "/users/{id:int}", "first")
    r.add("GET", "/users/{uid:int}", "second")
    r.mount("/s", "mount1")
    r.mount("/s", "mount2")
    r.add(["GET", "POST"], "/users/{x:int}", "third")
    assert [(x.method, x.path, x.value) for x in r.routes()] == [
        ("GET", "/users/{id:int}", "first"),
        ("*", "/s", "mount1"),
        ("POST", "/users/{x:int}", "third"),
    ]
    assert len(r) == 3
    m = r.match("GET", "/users/5")
    assert m is not None
    assert (m.value, m.params) == ("first", {"id": 5})
    m = r.match("POST", "/users/5")
    assert m is not None
    assert (m.value, m.params) == ("third", {"x": 5})
    m = r.match("GET", "/s/x")
    assert m is not None
    assert m.value == "mount1"


def test_include_conflict_adds_nothing() -> None:
    inner: Router[str] = Router()
    inner.add("GET", "/a", "a")
    inner.add("GET", "/b", "inner b")
    inner.add("GET", "/c", "c")
    outer: Router[str] = Router()
    outer.add("GET", "/api/b", "outer b")
    with pytest.raises(RouteConflictError) as caught:
        outer.include("/api", inner)
    assert caught.value.existing.value == "outer b"
    assert (caught.value.new.path, caught.value.new.value) == ("/api/b", "inner b")
    assert len(outer) == 1
    assert outer.match("GET", "/api/a") is None
    assert outer.match("GET", "/api/c") is None


def test_include_in_first_mode_skips_duplicates() -> None:
    inner: Router[str] = Router()
    inner.add("GET", "/a", "inner a")
    inner.add("GET", "/b", "inner b")
    outer: Router[str] = Router(on_conflict="first")
    outer.add("GET", "/api/a", "outer a")
    outer.include("/api", inner)
    assert [(x.path, x.value) for x in outer.routes()] == [("/api/a", "outer a"), ("/api/b", "inner b")]


# --- frozen --------------------------------------------------------------------------------------


def test_frozen_router_refuses_changes() -> None:
    r: Router[str] = Router()
    r.add("GET", "/a", "a")
    r.freeze()
    other: Router[str] = Router()
    other.add("GET", "/b", "b")
    with pytest.raises(FrozenRouterError) as caught:
        r.add("GET", "/new", "v")
    assert isinstance(caught.value, RouterError)
    with pytest.raises(FrozenRouterError):
        r.add(["GET", "POST"], "/new2", "v")
    with pytest.raises(FrozenRouterError):
        r.mount("/m", "v")
    with pytest.raises(FrozenRouterError):
        r.include("/inc", other)
    assert [x.path for x in r.routes()] == ["/a"]
    assert r.match("GET", "/new") is None
    assert r.match("GET", "/m/x") is None
    assert r.match("GET", "/inc/b") is None


# --- misuse of the API ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method",
    [
        "",
        "GET ",
        " GET",
        "G T",
        "GET\n",
        "GET\x00",
        "GÉT",
        "G:T",
        "(GET)",
        "GET/",
        "\t",
        "@",
        "GET,POST",
        'a"b',
    ],
)
def test_invalid_method_tokens(method: str) -> None:
    r: Router[str] = Router()
    with pytest.raises(ValueError, match="method") as caught:
        r.add(method, "/x", "v")
    assert not isinstance(caught.value, PatternError)
    with pytest.raises(ValueError, match="method"):
        r.add(["GET", method], "/y", "v")
    assert len(r) == 0


@pytest.mark.parametrize("method", ["*", "GET", "get", "M-SEARCH", "PROPFIND", "!#$%&'*+-.^_`|~", "X1"])
def test_valid_method_tokens(method: str) -> None:
    r: Router[str] = Router()
    r.add(method, "/x", "v")
    m = r.match(method, "/x")
    assert m is not None
    assert m.method == method


def test_empty_method_list() -> None:
    with pytest.raises(ValueError, match="method"):
        Router().add([], "/x", "v")


@pytest.mark.parametrize(
    "method", [None, 1, b"GET", bytearray(b"GET"), ["GET", 1], ["GET", b"POST"], [None], object()]
)
def test_add_method_type_errors(method: Any) -> None:
    r: Router[str] = Router()
    with pytest.raises(TypeError):
        r.add(method, "/x", "v")
    assert len(r) == 0


@pytest.mark.parametrize("pattern", [None, 1, ["/x"], object()])
def test_add_pattern_type_errors(pattern: Any) -> None:
    with pytest.raises(TypeError):
        Router().add("GET", pattern, "v")
    with pytest.raises(TypeError):
        Router().mount(pattern, "v")
    with pytest.raises(TypeError):
        Router().include(pattern, Router())


@pytest.mark.parametrize("other", [None, "router", {}, object()])
def test_include_needs_a_router(other: Any) -> None:
    with pytest.raises(TypeError):
        Router().include("/x", other)


@pytest.mark.parametrize("method", [None, 1, b"GET", ["GET"]])
def test_lookup_method_type_errors(method: Any) -> None:
    r: Router[str] = Router()
    r.add("GET", "/x", "v")
    with pytest.raises(TypeError):
        r.match(method, "/x")
    with pytest.raises(TypeError):
        r.lookup(method, "/x")


@pytest.mark.parametrize("path", [None, 1, bytearray(b"/x"), memoryview(b"/x"), ["/x"], object()])
def test_lookup_path_type_errors(path: Any) -> None:
    r: Router[str] = Router()
    r.add("GET", "/x", "v")
    with pytest.raises(TypeError):
        r.match("GET", path)
    with pytest.raises(TypeError):
        r.lookup("GET", path)
    with pytest.raises(TypeError):
        r.allowed_methods(path)


@pytest.mark.parametrize("on_conflict", ["last", "", "FIRST", "Error", "first "])
def test_bad_on_conflict(on_conflict: str) -> None:
    with pytest.raises(ValueError, match="on_conflict"):
        Router(on_conflict=on_conflict)
