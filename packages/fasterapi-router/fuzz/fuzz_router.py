"""Fuzz target of fasterapi_router: build a router from the input, look requests up, check the answers.

    python fuzz/fuzz_router.py -max_total_time=60 CORPUS_DIR [SEED_DIR ...]

The input is a small script, one command a line (bytes, so that mutations stay meaningful):

    O first freeze      options: on_conflict="first"; freeze the main router once it is built
    R GET,POST /a/{x}   add a route: one method, or several separated by ','
    M /static           mount
    S                   the R and M lines that follow go to a sub-router...
    I /api              ...which this line includes in the main router under a prefix
                        (with no sub-router open, the main router includes itself)
    Q GET /a/b%2Fc      a request: method and raw path (any bytes)

Methods, patterns and prefixes are decoded as UTF-8 (invalid bytes replaced); a request path is
looked up as the raw bytes and, when they are valid UTF-8, as str too. The invariants:
- nothing escapes but what the contract allows: PatternError, RouteConflictError (only in
  "error" mode), FrozenRouterError (only once frozen), ValueError (only for a method that is
  neither "*" nor an RFC 9110 token); a failed add/mount/include changes nothing;
- answers agree with the routes added and with each other: a Match names a route that exists,
  with the value it was added with and the params of its pattern converted by their converters;
  lookup() agrees with match(); a 405 lists exactly allowed_methods(), a 404 has none; a redirect
  is the path with its trailing slash toggled and matches some route; str and bytes agree.

`check_one(data)` is the whole check. The test suite replays fuzz/corpus/ through it without
atheris, which is imported only when this file runs as the fuzzer. A failed invariant raises
InvariantError (plain code, not assert: it must hold under python -O too).
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import uuid
from collections.abc import Callable
from typing import Any, Literal

from fasterapi_router import FrozenRouterError, Match, Miss, PatternError, Route, RouteConflictError, Router

# Bounds on the work per input: the fuzzer should spend its time on many small cases.
MAX_LINES = 40
MAX_REQUESTS = 8
MAX_ROUTES = 256  # a router that includes itself doubles: ten times would be a million routes

# RFC 9110 section 5.6.2: method = token; tchar as listed there.
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([a-z]+))?\}")
CONVERTED_TYPES: dict[str, type] = {"str": str, "path": str, "int": int, "float": float, "uuid": uuid.UUID}


class InvariantError(AssertionError):
    """The router broke its contract on this input."""


def expect(ok: object, *context: object) -> None:
    if not ok:
        raise InvariantError(" | ".join(map(repr, context)) if context else "invariant failed")


class Value:
    """A route value equal only to itself, so that a Match cannot pass off another route's value."""

    __slots__ = ("label",)

    def __init__(self, label: str) -> None:
        self.label = label

    def __repr__(self) -> str:
        return f"Value({self.label!r})"


class Build:
    """A router under construction and every value handed to it.

    (A plain class, not a dataclass: the tests may load this file without registering it in
    sys.modules, which dataclasses need.)
    """

    __slots__ = ("first", "router", "values")

    def __init__(self, router: Router[Value], first: bool) -> None:
        self.router = router
        self.first = first  # on_conflict="first"
        self.values: list[Value] = []


def text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def valid_method(method: str) -> bool:
    return method == "*" or TOKEN.fullmatch(method) is not None


def signature(router: Router[Value]) -> list[tuple[str, str, bool, int]]:
    return [(r.method, r.path, r.mount, id(r.value)) for r in router.routes()]


def check_pattern_error(e: PatternError) -> None:
    expect(isinstance(e.pattern, str), "PatternError.pattern", e)
    expect(isinstance(e.offset, int), "PatternError.offset", e)
    expect(0 <= e.offset <= len(e.pattern), "PatternError.offset out of the pattern", e.pattern, e.offset)


def check_conflict(b: Build, e: RouteConflictError) -> None:
    expect(not b.first, "RouteConflictError in on_conflict='first' mode", e)
    expect(isinstance(e.existing, Route), "RouteConflictError.existing", e.existing)
    expect(isinstance(e.new, Route), "RouteConflictError.new", e.new)
    existing = (e.existing.method, e.existing.path, e.existing.mount)
    expect(existing in {(r.method, r.path, r.mount) for r in b.router.routes()}, "no such route", existing)
    expect(e.existing.mount == e.new.mount, "a route conflicts with a mount", e.existing, e.new)


def change(b: Build, action: Callable[[], None], allowed: Callable[[ValueError], bool]) -> bool:
    """Runs one change of the router; True when it succeeded. A failure must change nothing."""
    before = signature(b.router)
    try:
        action()
    except FrozenRouterError:
        expect(b.router.frozen, "FrozenRouterError from a router that is not frozen")
    except PatternError as e:
        check_pattern_error(e)
    except RouteConflictError as e:
        check_conflict(b, e)
    except ValueError as e:
        expect(allowed(e), "unexpected ValueError", e)
    else:
        expect(not b.router.frozen, "a frozen router accepted a change")
        return True
    expect(signature(b.router) == before, "a failed change changed the router")
    return False


def add(b: Build, methods_text: str, pattern: str) -> None:
    methods: str | list[str] = methods_text.split(",") if "," in methods_text else methods_text
    listed = methods if isinstance(methods, list) else [methods]
    value = Value(f"{methods_text} {pattern}")
    before = len(b.router)
    # A ValueError of its own (not a PatternError) only for a method that is not a token.
    if change(b, lambda: b.router.add(methods, pattern, value), lambda e: not all(map(valid_method, listed))):
        expect(all(map(valid_method, listed)), "add() took an invalid method", methods)
        expect(pattern.startswith("/"), "add() took a pattern without a leading '/'", pattern)
        b.values.append(value)
        added, distinct = len(b.router) - before, len(set(listed))
        expect((0 <= added <= distinct) if b.first else added == distinct, "routes added", added, listed)


def mount(b: Build, prefix: str) -> None:
    value = Value(f"mount {prefix}")
    before = len(b.router)
    if change(b, lambda: b.router.mount(prefix, value), lambda e: False):
        expect(prefix == "" or (prefix[0] == "/" and prefix[-1] != "/"), "mount() took a bad prefix", prefix)
        b.values.append(value)
        added = len(b.router) - before
        expect(added in (0, 1) if b.first else added == 1, "a mount counts once", added)


def include(b: Build, prefix: str, sub: Build) -> None:
    before, taken = len(b.router), len(sub.router)  # sub may be b itself
    if before + taken > MAX_ROUTES:
        return
    if change(b, lambda: b.router.include(prefix, sub.router), lambda e: False):
        expect(
            prefix == "" or (prefix[0] == "/" and prefix[-1] != "/"), "include() took a bad prefix", prefix
        )
        b.values.extend(list(sub.values))
        added = len(b.router) - before
        expect((0 <= added <= taken) if b.first else added == taken, "routes included", added, taken)


def check_frozen(b: Build) -> None:
    expect(b.router.frozen, "freeze() did not freeze")
    before = signature(b.router)
    attempts: list[Callable[[], None]] = [
        lambda: b.router.add("GET", "/after-freeze", Value("late")),
        lambda: b.router.mount("/after-freeze", Value("late")),
        lambda: b.router.include("/after-freeze", Router()),
    ]
    for attempt in attempts:
        try:
            attempt()
        except FrozenRouterError:
            continue
        raise InvariantError("a frozen router accepted a change")
    expect(signature(b.router) == before, "a frozen router changed")


def check_routes(b: Build) -> None:
    routes = b.router.routes()
    expect(len(routes) == len(b.router), "len() and routes() disagree", len(b.router), len(routes))
    known = {id(v) for v in b.values}
    for r in routes:
        expect(isinstance(r, Route), "routes() item", r)
        expect(id(r.value) in known, "a route with a value never added", r)
        expect(valid_method(r.method), "a route with an invalid method", r)
        expect(r.mount or r.path.startswith("/"), "a route pattern without a leading '/'", r)


def check_match(b: Build, method: str, path: str, m: Match[Value]) -> None:
    found = [r for r in b.router.routes() if (r.path, r.method, r.value) == (m.route, m.method, m.value)]
    expect(found, "a Match naming no route that was added", m, m.method)
    expect(m.method in (method, "*"), "a Match for another method", method, m.method)
    converters = {name: conv or "str" for name, conv in PARAM.findall(m.route)}
    expect(isinstance(m.params, dict), "Match.params", m.params)
    expect(m.params.keys() == converters.keys(), "params are not the pattern's", m.params, m.route)
    for name, value in m.params.items():
        conv = converters[name]
        expect(type(value) is CONVERTED_TYPES[conv], "param type", name, value, m.route)
        if conv == "str":
            expect(value != "", "an empty str param", name, m.route)
        if conv in ("int", "float"):
            expect(value >= 0, "a negative param (the converters take digits only)", name, value)
    if found[0].mount:
        if not isinstance(m.tail, str):
            raise InvariantError(f"a mount's Match without a tail: {m!r}")
        expect(m.tail.startswith("/") and path.endswith(m.tail), "tail", m.tail, path)
    else:
        expect(m.tail is None, "a route's Match with a tail", m, m.tail)


def query(b: Build, method: str, path: str | bytes) -> tuple[Any, ...]:
    """Checks one request; returns a summary that must not depend on str vs bytes."""
    r = b.router
    as_text = path if isinstance(path, str) else path.decode("utf-8", "surrogateescape")
    m = r.match(method, path)
    res = r.lookup(method, path)
    allowed = r.allowed_methods(path)
    expect(isinstance(allowed, frozenset), "allowed_methods() type", allowed)
    expect(all(isinstance(x, str) for x in allowed), "allowed_methods() items", allowed)
    if m is not None:
        expect(isinstance(m, Match), "match() type", m)
        check_match(b, method, as_text, m)
        if not isinstance(res, Match):
            raise InvariantError(f"lookup() misses where match() found: {m!r} {res!r}")
        summary = (res.value, res.route, res.method, res.params, res.tail)
        expect(
            (m.value, m.route, m.method, m.params, m.tail) == summary, "lookup() and match() disagree", m, res
        )
        expect(m.method in allowed, "allowed_methods() lacks the matched method", m.method, allowed)
        return ("match", id(m.value), m.route, m.method, m.params, m.tail)

    if not isinstance(res, Miss):
        raise InvariantError(f"lookup() found where match() missed: {res!r}")
    expect(res.status_code in (404, 405), "Miss.status_code", res)
    if res.status_code == 405:
        expect(allowed, "a 405 with no allowed methods", res)
        expect(res.allowed_methods == allowed, "a 405's methods are not allowed_methods()", res, allowed)
        expect(method not in allowed, "a 405 for an allowed method", method, allowed)
        expect("*" not in allowed, "a 405 where a '*' route matches", allowed)
        expect(res.redirect_path is None, "a 405 with a redirect", res)
    else:
        expect(res.allowed_methods == frozenset(), "a 404 with allowed methods", res)
        expect(allowed == frozenset(), "a 404 where allowed_methods() finds a route", allowed)
        if res.redirect_path is not None:
            expect(isinstance(res.redirect_path, str), "redirect_path type", res)
            expect(as_text != "/", "a redirect for '/'", res)
            toggled = (as_text.rstrip("/"), as_text + "/")
            expect(res.redirect_path in toggled, "a redirect that is not the slash toggled", as_text, res)
            expect(r.allowed_methods(res.redirect_path), "a redirect to a path no route matches", res)
    return ("miss", res.status_code, res.allowed_methods, res.redirect_path)


def request(b: Build, method: str, raw: bytes) -> None:
    result = query(b, method, raw)
    try:
        as_str = raw.decode("utf-8")
    except UnicodeDecodeError:
        return
    expect(query(b, method, as_str) == result, "str and bytes paths disagree", raw)


def check_one(data: bytes) -> None:
    """Builds a router from `data` (see the module docstring) and checks every answer it gives."""
    lines = data.split(b"\n")[:MAX_LINES]
    options = next((line.split()[1:] for line in lines if line.startswith(b"O ")), [])
    first = b"first" in options
    on_conflict: Literal["error", "first"] = "first" if first else "error"
    main = Build(Router(on_conflict=on_conflict), first)
    expect(main.router.on_conflict == on_conflict, "Router.on_conflict", main.router.on_conflict)
    sub: Build | None = None
    requests: list[tuple[str, bytes]] = []

    for line in lines:
        op, _, rest = line.partition(b" ")
        target = sub if sub is not None else main
        if op == b"R":
            methods, _, pattern = rest.partition(b" ")
            add(target, text(methods), text(pattern))
        elif op == b"M":
            mount(target, text(rest))
        elif op == b"S":
            sub = Build(Router(on_conflict=on_conflict), first)
        elif op == b"I":  # without a sub-router, the main router includes itself
            check_routes(sub or main)
            include(main, text(rest), sub or main)
            sub = None
        elif op == b"Q" and len(requests) < MAX_REQUESTS:
            raw_method, _, raw_path = rest.partition(b" ")
            requests.append((text(raw_method), raw_path))

    if b"freeze" in options:
        main.router.freeze()
        check_frozen(main)
    check_routes(main)
    for method, path in requests:
        request(main, method, path)


def main() -> None:
    # Imported here: the tests replay the corpus through check_one without atheris (untyped, too).
    atheris: Any = importlib.import_module("atheris")
    argv = list(sys.argv)
    if not any(arg.startswith("-artifact_prefix=") for arg in argv):
        # Crash files next to this script (git ignores them there), wherever it is run from.
        argv.insert(1, f"-artifact_prefix={os.path.dirname(os.path.abspath(__file__))}{os.sep}")
    atheris.instrument_all()
    atheris.Setup(argv, check_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
