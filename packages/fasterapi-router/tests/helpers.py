"""Shared pieces of the tests: a comparable form of lookup results, and a reference router.

The reference router is the contract (the package README's matching rules) written the obvious
way, not the fast way: each route is a list of per-segment regexes, every route is tried against
every path, and the winner is chosen by sorting. Priority is depth first: at each segment a route
takes one kind of edge (static literal < literals and params < uuid < int < float < plain param <
catch-all < mount), so the first route in that order is the one whose tuple of edge ranks sorts
first. Routes with equal tuples end at the same place and differ only by method.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes

from fasterapi_router import Match, Miss

Outcome = tuple[Any, ...]


def typed(params: dict[str, Any]) -> dict[str, tuple[type, Any]]:
    """Param values with their types: 3 and 3.0 compare equal, but an int param is not a float one."""
    return {name: (type(value), value) for name, value in params.items()}


def outcome(result: object) -> Outcome:
    """What match() or lookup() returned, in a form that compares by value."""
    if result is None:
        return ("none",)
    if isinstance(result, Match):
        assert type(result.params) is dict
        return ("match", result.value, typed(result.params), result.route, result.method, result.tail)
    if isinstance(result, Miss):
        assert type(result.allowed_methods) is frozenset
        return ("miss", result.status_code, result.allowed_methods, result.redirect_path)
    raise AssertionError(f"unexpected result {result!r}")


def match_outcome(lookup_outcome: Outcome) -> Outcome:
    """What match() returns when lookup() returns `lookup_outcome`."""
    return lookup_outcome if lookup_outcome[0] == "match" else ("none",)


# --- the reference router ------------------------------------------------------------------------

CONVERTER_REGEX = {
    "str": r".+",  # a decoded segment may hold '/' (from %2F): it does not split the segment
    "int": r"[0-9]{1,4300}",
    "float": r"[0-9]+(?:\.[0-9]+)?",
    "uuid": r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}",
}
CONVERT: dict[str, Any] = {"str": str, "int": int, "float": float, "uuid": uuid.UUID, "path": str}
RANK = {"literal": 0, "mixed": 1, "uuid": 2, "int": 3, "float": 4, "str": 5, "path": 6, "mount": 7}
PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([a-z]+))?\}")


@dataclass(frozen=True)
class RefSegment:
    literal: bytes | None  # for a segment without params: its UTF-8 text
    regex: re.Pattern[str] | None  # otherwise: the segment's regex, one named group per param
    params: tuple[tuple[str, str], ...]  # (name, converter)
    rank: int
    shape: tuple[Any, ...]


def parse_segment(text: str) -> RefSegment:
    pieces = PARAM.split(text)  # literal, name, converter, literal, name, converter, ..., literal
    if len(pieces) == 1:
        return RefSegment(text.encode(), None, (), RANK["literal"], ("literal", text))
    literals = pieces[0::3]
    params = tuple(zip(pieces[1::3], [c or "str" for c in pieces[2::3]], strict=True))
    regex = re.escape(literals[0])
    shape: list[Any] = [literals[0]]
    for (name, conv), literal in zip(params, literals[1:], strict=True):
        regex += f"(?P<{name}>{CONVERTER_REGEX[conv]})" + re.escape(literal)
        shape += [("param", conv), literal]
    whole = len(params) == 1 and literals == ["", ""]
    rank = RANK[params[0][1]] if whole else RANK["mixed"]
    return RefSegment(None, re.compile(regex, re.DOTALL), params, rank, tuple(shape))


@dataclass(frozen=True)
class RefRoute:
    method: str
    pattern: str
    value: Any
    mount: bool
    segments: tuple[RefSegment, ...]
    catch_all: str | None  # the name of a trailing {x:path}

    @property
    def shape(self) -> tuple[Any, ...]:
        return (self.mount, self.catch_all is not None, tuple(s.shape for s in self.segments))


def parse_route(method: str, pattern: str, value: Any, mount: bool) -> RefRoute:
    texts = pattern[1:].split("/") if pattern else []
    catch_all = None
    if not mount:
        last = PARAM.fullmatch(texts[-1])
        if last and last.group(2) == "path":
            catch_all = last.group(1)
            texts.pop()
    segments = tuple(parse_segment(t) for t in texts)
    return RefRoute(method, pattern, value, mount, segments, catch_all)


def decode_utf8(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


@dataclass(frozen=True)
class Candidate:
    key: tuple[int, ...]
    index: int
    route: RefRoute
    params: dict[str, Any]
    tail: str | None


def match_route(
    route: RefRoute, raw: list[bytes]
) -> tuple[tuple[int, ...], dict[str, Any], str | None] | None:
    """Whether `route` matches the raw segments of a path: its edge ranks, params and tail."""
    n = len(route.segments)
    open_ended = route.mount or route.catch_all is not None
    if (open_ended and len(raw) <= n) or (not open_ended and len(raw) != n):
        return None
    key: list[int] = []
    params: dict[str, Any] = {}
    for segment, raw_segment in zip(route.segments, raw, strict=False):
        decoded = unquote_to_bytes(raw_segment)
        if segment.literal is not None:
            if decoded != segment.literal:
                return None
        else:
            assert segment.regex is not None
            text = decode_utf8(decoded)
            found = segment.regex.fullmatch(text) if text is not None else None
            if found is None:
                return None
            for name, conv in segment.params:
                params[name] = CONVERT[conv](found.group(name))
        key.append(segment.rank)
    tail = None
    if route.catch_all is not None:
        rest = decode_utf8(unquote_to_bytes(b"/".join(raw[n:])))
        if rest is None:
            return None
        params[route.catch_all] = rest
        key.append(RANK["path"])
    if route.mount:
        # The tail is raw; a str cannot hold bytes that are not UTF-8, so such a tail does not match.
        tail = decode_utf8(b"/" + b"/".join(raw[n:]))
        if tail is None:
            return None
        key.append(RANK["mount"])
    return tuple(key), params, tail


class ReferenceRouter:
    def __init__(self, on_conflict: str = "error") -> None:
        self.on_conflict = on_conflict
        self.routes: list[RefRoute] = []

    def conflict(self, method: str, pattern: str, mount: bool = False) -> RefRoute | None:
        shape = parse_route(method, pattern, None, mount).shape
        for r in self.routes:
            if r.shape == shape and r.method == method:
                return r
        return None

    def add(self, methods: str | Iterable[str], pattern: str, value: Any) -> None:
        for method in [methods] if isinstance(methods, str) else methods:
            if self.conflict(method, pattern) is None:
                self.routes.append(parse_route(method, pattern, value, mount=False))
            else:
                assert self.on_conflict == "first", "the test must not add a conflicting route"

    def mount(self, prefix: str, value: Any) -> None:
        if self.conflict("*", prefix, mount=True) is None:
            self.routes.append(parse_route("*", prefix, value, mount=True))
        else:
            assert self.on_conflict == "first", "the test must not add a conflicting mount"

    def candidates(self, path: str | bytes) -> list[Candidate]:
        raw = path.encode() if isinstance(path, str) else path
        if not raw.startswith(b"/"):
            return []
        segments = raw[1:].split(b"/")
        found = []
        for index, route in enumerate(self.routes):
            m = match_route(route, segments)
            if m is not None:
                found.append(Candidate(m[0], index, route, m[1], m[2]))
        return sorted(found, key=lambda c: (c.key, c.index))

    def allowed_methods(self, path: str | bytes) -> frozenset[str]:
        return frozenset(c.route.method for c in self.candidates(path))

    def lookup(self, method: str, path: str | bytes) -> Outcome:
        found = self.candidates(path)
        for key in sorted({c.key for c in found}):
            here = [c for c in found if c.key == key]
            winner = next((c for c in here if c.route.method == method), None)
            winner = winner or next((c for c in here if c.route.method == "*"), None)
            if winner is not None:
                r = winner.route
                return ("match", r.value, typed(winner.params), r.pattern, r.method, winner.tail)
        if found:
            return ("miss", 405, frozenset(c.route.method for c in found), None)
        return ("miss", 404, frozenset(), self.redirect(path))

    def redirect(self, path: str | bytes) -> str | None:
        raw = path.encode() if isinstance(path, str) else path
        if len(raw) < 2 or not raw.startswith(b"/"):
            return None
        other = raw.rstrip(b"/") if raw.endswith(b"/") else raw + b"/"
        if not other or not self.candidates(other):
            return None
        return other.decode()
