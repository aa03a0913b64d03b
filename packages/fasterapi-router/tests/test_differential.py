"""The router against the reference router of helpers.py, on generated route tables and paths."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
from fasterapi_router import RouteConflictError, Router
from helpers import ReferenceRouter, RefRoute, match_outcome, outcome, typed
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# Segment templates; N and M become param names unique within the route. Some literals ("12",
# "x.json", "v2", "x1", "1.5x") are also matched by param templates, so that routes compete.
LITERALS = ("a", "me", "12", "1.5", "", "é", "x.json", "a b", "v2", "x1", "1.5x")
WHOLE = ("{N}", "{N:str}", "{N:int}", "{N:float}", "{N:uuid}")
MIXED = ("{N}.{M}", "v{N:int}", "{N}.json", "{N:int}-{M}", "{N:float}x", "{N:uuid}.u", "x{N}")

U = "a8098c1a-f86e-11da-bd1a-00112444be1e"
U_DIGITS = "12345678-1234-1234-1234-123456789abc"  # also "{N:int}-{M}"
DIGITS32 = "12345678123456781234567812345678"  # also an int, a float and a str
VALUES = {
    "str": ("x", "me", "a.b", "a%2Fb", "é", "%C3%A9", "%ff", "1.5", "12", "x.json", "%zz", "a%20b", "%"),
    "int": ("0", "12", "007", "99999999999999999999", "1", DIGITS32),
    "float": ("1.5", "3", "0.25", "12", "1.50"),
    "uuid": (U, U.upper(), U.replace("-", ""), DIGITS32, U_DIGITS),
}
# Segments for paths that need not fit any route.
JUNK = ("", "%", "a", "b", "me", "m%65", "%6De", "12", "1.5", "é", "x.json", "a.b", "v2", "1-x", "2.5x", "x1")
METHODS = ("GET", "POST", "PUT")
PREFIXES = ("", "/api", "/t/{tenant}", "/v{version:int}")


def shape_of(template: str) -> str:
    """Templates that make the same edge of the tree ({N} and {N:str} do)."""
    return template.replace("{N:str}", "{N}")


any_template = st.one_of(st.sampled_from(LITERALS), st.sampled_from(WHOLE), st.sampled_from(MIXED))
# Templates that accept common values ("12" is a literal, an int, a float and a str), with param
# values that several of them accept: routes drawn from one group compete for the same segments,
# and the priority rules decide.
GROUPS = (
    (("12", "{N:int}", "{N:float}", "{N:uuid}", "{N}", "{N:str}"), ("12", DIGITS32, "007")),
    (("1.5", "{N:float}", "{N}", "{N:int}", "1.5x", "{N:float}x"), ("1.5", "12", "0.25")),
    (("x.json", "{N}.json", "{N}.{M}", "{N}", "x{N}", "x1"), ("x", "1", "a.b", "json")),
    (("v2", "v{N:int}", "{N}", "{N:int}-{M}", "{N:int}"), ("2", "v2", "12", "x")),
    (
        ("{N:uuid}", "{N:uuid}.u", "{N}", "{N:int}", "{N}.{M}", "{N:float}", "{N:int}-{M}"),
        (U, U_DIGITS, DIGITS32, "u"),
    ),
    (("{N:uuid}", "{N:int}-{M}", "{N:int}", "{N}"), (U_DIGITS, "12")),
    (("me", "{N}", "", "a", "é", "a b"), ("me", "a", "é", "a b")),
)


@st.composite
def vocabularies(draw: st.DrawFn) -> tuple[list[str], tuple[str, ...]]:
    """Segment templates for the routes of one example, and param values they share."""
    templates, values = draw(st.sampled_from(GROUPS))
    chosen = draw(st.lists(st.sampled_from(templates), min_size=2, max_size=4, unique=True))
    return chosen + draw(st.lists(any_template, max_size=2)), values


@st.composite
def route_specs(
    draw: st.DrawFn, vocabulary: list[str], head: tuple[str, ...] = ()
) -> tuple[Any, str, list[str]]:
    """(methods or "MOUNT", pattern, segment templates): `head`, or templates of the vocabulary."""
    kind = draw(st.sampled_from(["route", "route", "route", "catch_all", "mount"]))
    segment = st.sampled_from(vocabulary)
    more = st.lists(segment, min_size=0 if head or kind != "route" else 1, max_size=0 if head else 3)
    templates = [*head, *draw(more)]
    if kind == "mount":
        while templates and templates[-1] == "":  # a prefix must not end with '/'
            templates.pop()
    names = iter(f"p{i}" for i in range(100))
    segments = [re.sub(r"\b[NM]\b(?=[:}])", lambda _: next(names), t) for t in templates]
    if kind == "mount":
        return "MOUNT", "".join("/" + s for s in segments), templates
    if kind == "catch_all":
        segments.append("{rest:path}")
    method = draw(st.sampled_from(["GET", "POST", "*", ("GET", "POST")]))
    return method, "/" + "/".join(segments), templates


def usable(specs: list[tuple[Any, str, list[str]]]) -> list[tuple[Any, str, list[str]]]:
    """Drops routes that would put two different mixed segments at the same place of the tree: the
    contract does not order those between themselves."""
    mixed_at: dict[tuple[str, ...], str] = {}
    kept = []
    for spec in specs:
        templates = [shape_of(t) for t in spec[2]]
        ok = True
        for depth, t in enumerate(templates):
            if t in MIXED:
                ok = ok and mixed_at.setdefault(tuple(templates[:depth]), t) == t
        if ok:
            kept.append(spec)
    return kept


def percent_encode(text: str) -> str:
    return quote_from_bytes(text.encode(), safe="")


@st.composite
def fill(draw: st.DrawFn, template: str, shared: tuple[str, ...] = ()) -> str:
    """A segment that the template probably matches."""
    if "{" not in template:
        return draw(st.sampled_from([template, percent_encode(template)]))

    def value(m: re.Match[str]) -> str:
        own = st.sampled_from(VALUES[m.group(1) or m.group(2) or "str"])
        return draw(st.one_of(own, st.sampled_from(shared)) if shared else own)

    return re.sub(r"\{N(?::(\w+))?\}|\{M(?::(\w+))?\}", value, template)


@st.composite
def paths_for(draw: st.DrawFn, spec: tuple[Any, str, list[str]], prefix: str, shared: tuple[str, ...]) -> str:
    kind, pattern, templates = spec
    segments = []
    if prefix:
        segments += (
            ["api"] if prefix == "/api" else ["t", draw(fill("{N}"))] if "tenant" in prefix else ["v2"]
        )
    for t in templates:
        segments.append(
            draw(st.one_of(fill(t, shared), fill(t, shared), fill(t, shared), st.sampled_from(JUNK)))
        )
    if kind == "MOUNT" or pattern.endswith("{rest:path}"):
        segments += draw(st.lists(st.sampled_from(JUNK), min_size=0, max_size=3))
        if kind == "MOUNT" and len(segments) == len(templates) + (
            len(prefix.split("/")) - 1 if prefix else 0
        ):
            segments.append(draw(st.sampled_from(JUNK)))
    path = "/" + "/".join(segments)
    ending = draw(st.sampled_from(["", "", "", "/", "//", "strip"]))
    return path.rstrip("/") if ending == "strip" else path + ending


def register(router: Router[Any] | ReferenceRouter, methods: Any, pattern: str, value: int) -> None:
    if methods == "MOUNT":
        router.mount(pattern, value)
    else:
        router.add(methods, pattern, value)


def clash_of(ref: ReferenceRouter, methods: Any, pattern: str) -> RefRoute | None:
    """The route that adding (methods, pattern) would conflict with, if any."""
    if methods == "MOUNT":
        return ref.conflict("*", pattern, mount=True)
    for method in [methods] if isinstance(methods, str) else methods:
        clash = ref.conflict(method, pattern)
        if clash is not None:
            return clash
    return None


junk_paths = st.text(alphabet="/ab.%2F19é-xvme", max_size=12)
junk_bytes = st.binary(max_size=8).map(lambda b: b"/" + b)


def compare(router: Router[Any], ref: ReferenceRouter, path: str | bytes) -> None:
    for method in METHODS:
        expected = ref.lookup(method, path)
        assert outcome(router.lookup(method, path)) == expected, (method, path, ref.routes)
        assert outcome(router.match(method, path)) == match_outcome(expected), (method, path)
    assert router.allowed_methods(path) == ref.allowed_methods(path), path


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_router_agrees_with_reference(data: st.DataObject) -> None:
    vocabulary, shared = data.draw(vocabularies(), label="vocabulary")
    # Every template of the vocabulary at one place of the tree, then a few routes anywhere.
    lead = data.draw(st.sampled_from([(), ("a",), *((t,) for t in vocabulary)]), label="lead")
    specs = [data.draw(route_specs(vocabulary, (*lead, t)), label="route") for t in vocabulary]
    specs += data.draw(st.lists(route_specs(vocabulary), max_size=4), label="routes")
    specs = usable(data.draw(st.permutations(specs), label="order"))
    on_conflict = data.draw(st.sampled_from(["error", "first"]), label="on_conflict")
    prefix = data.draw(st.sampled_from((None, *PREFIXES)), label="include prefix")

    ref = ReferenceRouter(on_conflict)
    target: Router[Any] = Router(on_conflict=on_conflict)
    for value, (methods, pattern, _) in enumerate(specs):
        full = (prefix or "") + pattern
        clash = clash_of(ref, methods, full)
        if clash is not None and on_conflict == "error":
            # Nothing is added, not even the methods of a list that do not clash.
            with pytest.raises(RouteConflictError) as caught:
                register(target, methods, pattern, value)
            existing = caught.value.existing
            assert (existing.path, existing.value) == (clash.pattern[len(prefix or "") :], clash.value)
            continue
        register(target, methods, pattern, value)
        register(ref, methods, full, value)

    router = target
    if prefix is not None:
        router = Router(on_conflict=on_conflict)
        router.include(prefix, target)
    assert [(r.method, r.path, r.value, r.mount) for r in router.routes()] == [
        (r.method, r.pattern, r.value, r.mount) for r in ref.routes
    ]
    assert len(router) == len(ref.routes)

    derived = [data.draw(paths_for(s, prefix or "", shared), label="path") for s in specs for _ in range(2)]
    for path in [*derived, *data.draw(st.lists(junk_paths, max_size=4), label="junk")]:
        compare(router, ref, path)
        compare(router, ref, path.encode())
    for raw in data.draw(st.lists(junk_bytes, max_size=4), label="junk bytes"):
        compare(router, ref, raw)


# --- converters against Python's own conversions -------------------------------------------------

CONVERTER_ROUTER: Router[str] = Router()
for conv in ("int", "float", "uuid"):
    CONVERTER_ROUTER.add("GET", f"/{conv}/{{x:{conv}}}", conv)
CONVERTER_ROUTER.add("GET", "/str/{x}", "str")
CONVERTER_ROUTER.add("GET", "/path/{x:path}", "path")
CONVERTER_ROUTER.freeze()


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"[0-9]{1,40}", fullmatch=True))
def test_int_values(text: str) -> None:
    m = CONVERTER_ROUTER.match("GET", "/int/" + text)
    assert m is not None
    assert typed(m.params) == {"x": (int, int(text))}


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"[0-9]{1,30}(\.[0-9]{1,30})?", fullmatch=True))
def test_float_values(text: str) -> None:
    m = CONVERTER_ROUTER.match("GET", "/float/" + text)
    assert m is not None
    assert typed(m.params) == {"x": (float, float(text))}


@settings(max_examples=200, deadline=None)
@given(st.uuids(), st.sampled_from(["str", "upper", "hex", "hexupper"]))
def test_uuid_values(value: uuid.UUID, form: str) -> None:
    text = {"str": str(value), "upper": str(value).upper(), "hex": value.hex, "hexupper": value.hex.upper()}[
        form
    ]
    m = CONVERTER_ROUTER.match("GET", "/uuid/" + text)
    assert m is not None
    assert typed(m.params) == {"x": (uuid.UUID, value)}


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=1, max_size=12))
def test_percent_encoded_segment_round_trips(raw: bytes) -> None:
    # Any bytes, percent-encoded, come back as the str they encode, or do not match if not UTF-8.
    try:
        text: str | None = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    path = "/str/" + quote_from_bytes(raw, safe="")
    m = CONVERTER_ROUTER.match("GET", path)
    assert (None if m is None else m.params["x"]) == text
    m = CONVERTER_ROUTER.match("GET", "/path/" + quote_from_bytes(raw, safe="/"))
    assert (None if m is None else m.params["x"]) == text
