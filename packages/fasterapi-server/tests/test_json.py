"""fasterapi_server.json against the stdlib's json (and orjson where the two agree)."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import gc
import json as stdlib_json
import math
import struct
import sys
import uuid
from collections import OrderedDict, namedtuple
from typing import Any, ClassVar

import pytest
from fasterapi_server import _json
from fasterapi_server import json as fj
from hypothesis import given, settings
from hypothesis import strategies as st

orjson = pytest.importorskip("orjson")

LIMIT = 1024  # nesting depth both ways


def std_dumps(obj: Any, **kw: Any) -> bytes:
    """What ours must write: the stdlib, compact, UTF-8, strict about NaN."""
    return stdlib_json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False, **kw).encode()


def same_float(a: float, b: float) -> bool:
    return struct.pack("<d", a) == struct.pack("<d", b)


# --- JSON values -------------------------------------------------------------------------------

finite_floats = st.floats(allow_nan=False, allow_infinity=False)
big_ints = st.integers(min_value=-(2**200), max_value=2**200)
edge_ints = st.sampled_from([0, -1, 2**63 - 1, -(2**63), 2**63, 2**64 - 1, 2**64, -(2**63) - 1, 10**30])
scalars = st.none() | st.booleans() | st.integers() | big_ints | edge_ints | finite_floats | st.text()
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=40,
)


@given(json_values)
@settings(max_examples=400)
def test_dumps_is_the_stdlibs_compact_output(value: Any) -> None:
    assert fj.dumps(value) == std_dumps(value)


@given(json_values)
@settings(max_examples=200)
def test_stdlib_mode_writes_what_the_stdlib_writes(value: Any) -> None:
    assert fj.dumps(value, stdlib=True) == std_dumps(value)


def has_sa_key(value: Any) -> bool:
    if isinstance(value, dict):
        return any(k.startswith("_sa") or has_sa_key(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_sa_key(v) for v in value)
    return False


@given(json_values)
@settings(max_examples=200)
def test_dumps_plain_writes_what_the_stdlib_writes_for_plain_values(value: Any) -> None:
    # (a key beginning "_sa" is one jsonable_encoder would leave out: not plain)
    assert fj.dumps_plain(value) == (None if has_sa_key(value) else std_dumps(value))
    assert fj.dumps_plain((value, [value])) == (None if has_sa_key(value) else std_dumps([value, [value]]))


def has_tiny_float(value: Any) -> bool:
    if isinstance(value, dict):
        return any(has_tiny_float(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(has_tiny_float(v) for v in value)
    return isinstance(value, float) and value != 0 and abs(value) < 1e-4


def pydantic_any() -> Any:
    """pydantic's TypeAdapter(Any); a skip where pydantic-core writes floats with its earlier
    writer ("1e16"), which the pydantic mode does not follow (fasterapi checks, and does not use
    the mode with it)."""
    pydantic = pytest.importorskip("pydantic")
    any_value = pydantic.TypeAdapter(Any)
    if any_value.dump_json(1e16) != b"1e+16":
        pytest.skip("this pydantic-core writes 1e16 as its earlier float writer did")
    return any_value


@given(json_values | st.dictionaries(st.text(max_size=4), finite_floats, max_size=4))
@settings(max_examples=300)
def test_dumps_plain_for_pydantic_writes_what_pydantic_core_writes(value: Any) -> None:
    any_value = pydantic_any()
    written = fj.dumps_plain(value, pydantic=True)
    # It gives up only on the floats below 1e-4 (some of which pydantic-core writes otherwise
    # than repr() does), and keeps the keys beginning "_sa", as pydantic does.
    assert written == (None if has_tiny_float(value) else any_value.dump_json(value))
    assert fj.dumps_plain({"_sa_x": [value]}, pydantic=True) == (
        None if has_tiny_float(value) else any_value.dump_json({"_sa_x": [value]})
    )


def test_dumps_plain_for_pydantic_over_every_float_exponent() -> None:
    any_value = pydantic_any()
    differs = 0
    for exponent in range(-325, 309):
        for mantissa in (1.0, 1.2345678901234567, 9.87654321):
            x = mantissa * float(f"1e{exponent}")
            if math.isinf(x):
                continue
            for v in (x, -x):
                written = fj.dumps_plain([v], pydantic=True)
                if v != 0 and abs(v) < 1e-4:
                    assert written is None
                    differs += any_value.dump_json([v]) != std_dumps([v])
                else:
                    assert written == any_value.dump_json([v]) == std_dumps([v]), v
    # (why it gives up there: if pydantic-core ever writes these as repr() does, this says so)
    assert differs > 0


def _model_of_plain_fields() -> tuple[Any, dict[str, tuple[bytes, int]]]:
    pydantic = pytest.importorskip("pydantic")

    class Row(pydantic.BaseModel):
        i: int
        s: str = pydantic.Field(serialization_alias="S\u00fc")
        f: float
        b: bool
        n: int | None
        tags: list[str | None]

    # (what fasterapi's model_dump_fields reads from this schema: 1 int, 2 str, 4 float, 8 bool,
    # 16 None, 32 a list of the kinds 8 bits up)
    fields = {
        "i": (b'"i":', 1),
        "s": ('"S\u00fc":'.encode(), 2),
        "f": (b'"f":', 4),
        "b": (b'"b":', 8),
        "n": (b'"n":', 1 | 16),
        "tags": (b'"tags":', 32 | (2 | 16) << 8),
    }
    return Row, fields


@given(
    st.fixed_dictionaries(
        {
            "i": st.integers(),
            "s": st.text(),
            "f": st.floats(allow_nan=False, allow_infinity=False),
            "b": st.booleans(),
            "n": st.none() | st.integers(),
            "tags": st.lists(st.none() | st.text(max_size=3), max_size=3),
        }
    )
)
@settings(max_examples=300)
def test_dumps_model_writes_what_the_models_serializer_writes(values: dict[str, Any]) -> None:
    model, fields = _model_of_plain_fields()
    row = model(**values)
    f = values["f"]
    try:
        expected = model.__pydantic_serializer__.to_json(row, by_alias=True)
    except Exception:  # (a lone surrogate: the serializer refuses it, the writer gives up)
        expected = None
    written = fj.dumps_model(row, fields)
    if f != 0 and abs(f) < 1e-4:
        assert written is None  # (as dumps_plain(pydantic=True): pydantic-core writes some otherwise)
    else:
        assert written == expected


def test_dumps_model_gives_up_on_what_its_fields_do_not_say() -> None:
    model, fields = _model_of_plain_fields()
    good = {"i": 1, "s": "x", "f": 0.5, "b": True, "n": None, "tags": ["a", None]}
    assert (
        fj.dumps_model(model(**good), fields)
        == b'{"i":1,"S\xc3\xbc":"x","f":0.5,"b":true,"n":null,"tags":["a",null]}'
    )
    for change in [{"i": True}, {"i": "1"}, {"f": 1}, {"b": 0}, {"n": 1.0}, {"tags": ("a",)}, {"tags": [1]}]:
        assert fj.dumps_model(model.model_construct(**{**good, **change}), fields) is None, change
    short = {k: v for k, v in fields.items() if k != "n"}
    assert fj.dumps_model(model(**good), short) is None  # a key that is not a field
    assert fj.dumps_model(model(**good), {**fields, "x": (b'"x":', 1)}) is None  # a field missing
    assert fj.dumps_model(model(**good), {**fields, "i": (b'"i":', "1")}) is None  # not the shape
    assert fj.dumps_model(object(), fields) is None
    # A key of `fields` whose __eq__ empties the model's dict while it is looked up: the value
    # being written is held (it was freed there, and read after: a crash, or digits of freed
    # memory), and a dict changed under the lookups gives None (before: the fields written so far).
    row = model(**{**good, "i": int("7" * 40)})  # (an int of its own, freed with the dict's last hold)

    class Colliding(str):
        __slots__ = ()

        def __hash__(self) -> int:
            return hash("i")

        def __eq__(self, other: object) -> bool:
            row.__dict__.clear()
            return True

    crafted = {k: v for k, v in fields.items() if k != "i"}
    crafted[Colliding("zz")] = (b'"zz":', 1)
    assert fj.dumps_model(row, crafted) is None
    with pytest.raises(TypeError):
        fj.dumps_model(model(**good), list(fields.items()))  # type: ignore[arg-type]


def test_dumps_plain_for_pydantic_leaves_deep_values_to_pydantic() -> None:
    # pydantic-core refuses 256 nested containers; past 200 the pydantic mode gives up.
    any_value = pydantic_any()
    assert fj.dumps_plain(nested_lists(200), pydantic=True) == any_value.dump_json(nested_lists(200))
    assert fj.dumps_plain(nested_dicts(200), pydantic=True) == any_value.dump_json(nested_dicts(200))
    assert fj.dumps_plain(nested_lists(201), pydantic=True) is None
    assert fj.dumps_plain(nested_lists(201)) is not None  # (the stdlib's mode goes to 1024)


class Colour(enum.IntEnum):
    RED = 1


class Text(str):
    pass


def nested_lists(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


def nested_dicts(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


TOO_DEEP = nested_lists(LIMIT + 1)


@pytest.mark.parametrize(
    "value",
    [
        Colour.RED,
        Text("x"),
        bool,
        OrderedDict(a=1),
        {1: 2},
        {None: 1},
        {"_sa": 1},
        {"ok": {"_sa_instance_state": 1}},
        float("nan"),
        float("inf"),
        [1.0, -float("inf")],
        "\ud800",
        {"\udfff": 1},
        datetime.date(2024, 1, 2),
        uuid.UUID(int=1),
        decimal.Decimal("1.5"),
        object(),
        b"x",
        {1, 2},
        TOO_DEEP,
    ],
    ids=lambda v: "nested-past-the-limit" if v is TOO_DEEP else repr(v),
)
def test_dumps_plain_gives_none_for_anything_else(value: Any) -> None:
    assert fj.dumps_plain(value) is None
    assert fj.dumps_plain({"a": [1, value]}) is None


def test_dumps_plain_gives_none_for_a_cycle() -> None:
    cycle: list[Any] = []
    cycle.append(cycle)
    assert fj.dumps_plain(cycle) is None
    assert fj.dumps_plain(nested_lists(LIMIT)) == b"[" * LIMIT + b"]" * LIMIT


def test_stdlib_mode_refuses_what_the_stdlib_refuses() -> None:
    @dataclasses.dataclass
    class Point:
        x: int

    class Color(enum.Enum):
        red = "red"

    class Level(enum.IntEnum):
        high = 3

    for value in (
        datetime.date(2024, 1, 2),
        uuid.UUID(int=1),
        decimal.Decimal("1.5"),
        Point(1),
        Color.red,
        {1, 2},
    ):
        with pytest.raises(TypeError, match="is not JSON serializable"):
            stdlib_json.dumps(value)
        with pytest.raises(fj.JSONEncodeError, match="is not JSON serializable"):
            fj.dumps({"v": [value]}, stdlib=True)
        # default() applies to them, as in the stdlib
        assert fj.dumps({"v": value}, stdlib=True, default=repr) == std_dumps({"v": value}, default=repr)
    # subclasses of the built-in types are written as their base, as the stdlib does
    assert fj.dumps([Level.high, {"k": (1, 2)}], stdlib=True) == std_dumps([Level.high, {"k": (1, 2)}])
    with pytest.raises(ValueError, match="Out of range float"):
        fj.dumps([float("nan")], stdlib=True)
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular reference"):
        fj.dumps(loop, stdlib=True)


@given(json_values)
@settings(max_examples=400)
def test_loads_reads_what_the_stdlib_reads(value: Any) -> None:
    for text in (stdlib_json.dumps(value), stdlib_json.dumps(value, ensure_ascii=False, indent=1)):
        expected = stdlib_json.loads(text)
        assert fj.loads(text) == expected
        assert fj.loads(text.encode()) == expected


@given(json_values)
@settings(max_examples=200)
def test_round_trip(value: Any) -> None:
    assert fj.loads(fj.dumps(value)) == value


@given(json_values)
@settings(max_examples=200)
def test_sort_keys_is_the_stdlibs_order(value: Any) -> None:
    assert fj.dumps(value, sort_keys=True) == std_dumps(value, sort_keys=True)


@given(finite_floats)
@settings(max_examples=2000)
def test_floats_as_repr_and_back_bit_for_bit(x: float) -> None:
    assert fj.dumps(x) == repr(x).encode()
    assert same_float(fj.loads(repr(x)), x)
    assert same_float(fj.loads(repr(x)), stdlib_json.loads(repr(x)))


@given(st.integers(min_value=-(10**22), max_value=10**22), st.integers(min_value=-330, max_value=310))
@settings(max_examples=1000)
def test_decimal_float_text_reads_as_the_stdlib(mantissa: int, exponent: int) -> None:
    text = f"{mantissa}e{exponent}"
    assert same_float(fj.loads(text), stdlib_json.loads(text))


@given(st.integers(min_value=-(10**16), max_value=10**16), st.integers(min_value=0, max_value=12))
@settings(max_examples=3000)
def test_short_decimal_floats_as_repr(mantissa: int, places: int) -> None:
    # Prices, coordinates, 0.5: the writer's fast path for few-digit floats, and its edges.
    x = float(f"{mantissa}e-{places}")
    assert fj.dumps(x) == repr(x).encode()
    assert fj.dumps(-x) == repr(-x).encode()


@pytest.mark.parametrize(
    "x",
    [
        999999999999999.0,
        1e15 - 0.5,
        100000000000000.1,
        0.0001,
        0.00011,
        9.999e-05,
        0.1 + 0.2,
        1 / 3,
        2.675,
        5e-05,
        123456.78901234,
        0.1234567890123,
        4.35,
        1.005,
        8.5e14,
        9007199254740993.0,
    ],
)
def test_float_edges_as_repr(x: float) -> None:
    assert fj.dumps([x, -x]) == f"[{x!r},{-x!r}]".encode()


@pytest.mark.parametrize(
    "x",
    [
        0.0,
        -0.0,
        1.0,
        0.1,
        1e16,
        1e15,
        9999999999999998.0,
        1e-4,
        1e-5,
        1.5e300,
        5e-324,
        2.2250738585072014e-308,
        1.7976931348623157e308,
        123456789.123,
        -2.5e-10,
        1e22,
        1e21,
        0.30000000000000004,
    ],
)
def test_float_layout_is_reprs(x: float) -> None:
    assert fj.dumps(x) == repr(x).encode()
    assert fj.dumps(x) == std_dumps(x)


def test_numbers() -> None:
    assert fj.loads(b"-0") == 0
    assert isinstance(fj.loads(b"-0"), int)
    assert same_float(fj.loads(b"-0.0"), -0.0)
    for n in [2**63 - 1, -(2**63), 2**64 - 1, 2**64, -(2**63) - 1, 10**40, -(10**40), 2**1000]:
        assert fj.loads(str(n)) == n
        assert fj.loads(f'[{n}, {{"k": {n}}}]') == [n, {"k": n}]
        assert fj.dumps(n) == str(n).encode()
    # Beyond double's range, as the stdlib: infinity, and zero.
    assert fj.loads(b"[1e400, -1e400, 1e-400]") == stdlib_json.loads("[1e400, -1e400, 1e-400]")
    assert fj.loads(b"1E2") == 100.0
    assert fj.loads(b"1e+2") == 100.0
    assert fj.loads(b"1.5E-2") == 0.015


# --- loads: inputs -----------------------------------------------------------------------------

DOC = '{"name": "Zoë", "tags": ["a", "b"], "n": 3, "x": 1.5, "ok": true, "none": null}'


@pytest.mark.parametrize(
    "make",
    [
        lambda s: s,
        lambda s: s.encode(),
        lambda s: bytearray(s.encode()),
        lambda s: memoryview(s.encode()),
        lambda s: memoryview(b"xx" + s.encode() + b"yy")[2:-2],
    ],
    ids=["str", "bytes", "bytearray", "memoryview", "memoryview-slice"],
)
def test_loads_inputs(make: Any) -> None:
    assert fj.loads(make(DOC)) == stdlib_json.loads(DOC)


def test_loads_rejects_other_inputs() -> None:
    for bad in (1, None, ["[]"], {"a": 1}):
        with pytest.raises(TypeError, match="loads"):
            fj.loads(bad)  # type: ignore[arg-type]
    with pytest.raises((TypeError, BufferError)):
        fj.loads(memoryview(b"[1, 2, 3, 4]")[::2])  # not contiguous


def test_loads_builds_the_right_types() -> None:
    out = fj.loads(b'{"a": {"b": [1, 1.0, "1", true, null, {}, []]}}')
    assert out == {"a": {"b": [1, 1.0, "1", True, None, {}, []]}}
    assert [type(v) for v in out["a"]["b"]] == [int, float, str, bool, type(None), dict, list]


def test_loads_strings() -> None:
    for text in [
        '"\\u00e9\\u4e2d\\ud83d\\ude00"',
        '"é中😀"',
        '"\\"\\\\\\/\\b\\f\\n\\r\\t"',
        '"\\u0000"',
        '"\x7f"',
        '"' + "k" * 100 + '"',
        '"' + "é" * 300 + '"',
    ]:
        assert fj.loads(text) == stdlib_json.loads(text)
        assert fj.loads(text.encode()) == stdlib_json.loads(text)


def test_duplicate_keys_last_wins() -> None:
    assert fj.loads(b'{"a": 1, "a": 2}') == {"a": 2}


def test_key_cache_keeps_keys_apart() -> None:
    # Keys of every length around the cache's limit, many distinct keys (collisions), repeated.
    keys = [f"k{i}" for i in range(5000)] + ["x" * n for n in range(60, 70)] + ["é", "éa", ""]
    doc = stdlib_json.dumps([{k: i} for i, k in enumerate(keys)] * 2)
    assert fj.loads(doc) == stdlib_json.loads(doc)


def test_loads_survives_a_nested_call_from_the_gc() -> None:
    # Making objects can run the GC, and a GC callback (or a finalizer) may call loads() itself
    # while the outer document is being read: the result must not change.
    inner = fj.dumps({"inner": list(range(50))})
    seen: list[Any] = []

    def callback(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            seen.append(fj.loads(inner))

    doc = stdlib_json.dumps([{"id": i, "name": f"n{i}", "tags": [{"t": i}]} for i in range(3000)])
    old = gc.get_threshold()
    gc.callbacks.append(callback)
    gc.set_threshold(50)
    try:
        out = fj.loads(doc)
    finally:
        gc.callbacks.remove(callback)
        gc.set_threshold(*old)
    assert seen
    assert all(s == {"inner": list(range(50))} for s in seen)
    assert out == stdlib_json.loads(doc)


# --- loads: errors ----------------------------------------------------------------------------

BAD_DOCUMENTS = {
    "empty": b"",
    "whitespace": b"  \n\t ",
    "trailing comma in array": b"[1, 2,]",
    "trailing comma in object": b'{"a": 1,}',
    "missing comma": b"[1 2]",
    "missing colon": b'{"a" 1}',
    "unquoted key": b"{a: 1}",
    "single quotes": b"['a']",
    "unclosed array": b"[1, 2",
    "unclosed object": b'{"a": 1',
    "extra close": b"[1]]",
    "trailing content": b"[1] 2",
    "two documents": b"{} {}",
    "NaN": b"NaN",
    "Infinity": b"[Infinity]",
    "-Infinity": b"[-Infinity]",
    "NaN after a big number": b"[1e400, NaN]",
    "line comment": b"[1] // c",
    "block comment": b"/* c */ [1]",
    "bad literal": b"[tru]",
    "capital literal": b"True",
    "leading zero": b"01",
    "bare minus": b"-",
    "dot first": b".5",
    "dot last": b"1.",
    "plus sign": b"+1",
    "bare exponent": b"1e",
    "hex": b"0x10",
    "unterminated string": b'"abc',
    "control character": b'"a\nb"',
    "tab in string": b'"a\tb"',
    "bad escape": b'"\\x41"',
    "short unicode escape": b'"\\u12"',
    "lone high surrogate": b'"\\ud800"',
    "lone low surrogate": b'"\\udc00"',
    "reversed surrogates": b'"\\udc00\\ud800"',
    "high then not low": b'"\\ud800\\u0041"',
    "invalid UTF-8 byte": b'"\xff"',
    "truncated UTF-8": b'"\xc3"',
    "overlong UTF-8": b'"\xc0\xaf"',
    "UTF-8 of a surrogate": b'"\xed\xa0\x80"',
    "UTF-8 BOM": b"\xef\xbb\xbf[1]",
    "big number then junk": b"[100000000000000000000000 x]",
}


@pytest.mark.parametrize("doc", BAD_DOCUMENTS.values(), ids=BAD_DOCUMENTS.keys())
def test_invalid_documents(doc: bytes) -> None:
    with pytest.raises(fj.JSONDecodeError) as info:
        fj.loads(doc)
    err = info.value
    assert isinstance(err, ValueError)
    assert isinstance(err, stdlib_json.JSONDecodeError)
    assert err.msg
    assert 0 <= err.pos <= len(doc)
    assert err.doc == doc
    try:
        text = doc.decode("utf-8")
    except UnicodeDecodeError:
        return
    with pytest.raises(fj.JSONDecodeError):
        fj.loads(text)


class _Rejected(Exception):
    pass


def _stdlib_strict(data: bytes) -> Any:
    """The stdlib as a strict RFC 8259 reader: UTF-8 only, no NaN or Infinity."""

    def reject(name: str) -> None:
        raise _Rejected(name)

    return stdlib_json.loads(data.decode("utf-8"), parse_constant=reject)


@st.composite
def damaged_documents(draw: st.DrawFn) -> bytes:
    data = bytearray(stdlib_json.dumps(draw(json_values), ensure_ascii=draw(st.booleans())).encode())
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        pos = draw(st.integers(min_value=0, max_value=len(data)))
        piece = draw(
            st.sampled_from(
                [
                    b",",
                    b"]",
                    b"}",
                    b"[",
                    b"{",
                    b'"',
                    b"\\",
                    b"\\u",
                    b"d8",
                    b"0",
                    b"-",
                    b"e",
                    b".",
                    b"N",
                    b" ",
                    b"\x00",
                    b"\xff",
                    b"\xc3",
                    b"\xed\xa0\x80",
                    b"\xf0\x9f",
                ]
            )
        )
        if draw(st.booleans()) and pos < len(data):
            data[pos : pos + 1] = piece
        else:
            data[pos:pos] = piece
    return bytes(data)


@given(damaged_documents() | st.binary(max_size=40))
@settings(max_examples=1500)
def test_loads_is_total_and_agrees_with_a_strict_stdlib(data: bytes) -> None:
    # Nothing but JSONDecodeError escapes, and we accept exactly what the stdlib accepts as
    # strict RFC 8259, with the same result; the one documented difference is a lone surrogate
    # escape, which the stdlib turns into a lone surrogate in a str.
    try:
        ours: Any = fj.loads(data)
    except fj.JSONDecodeError as exc:
        position = exc.pos
        ours = _Rejected
    else:
        position = 0
    assert 0 <= position <= len(data)
    try:
        theirs = _stdlib_strict(data)
    except (ValueError, _Rejected):
        theirs = _Rejected
    if ours is _Rejected and theirs is not _Rejected:
        assert "\\u" in data.decode()
        assert has_lone_surrogate(theirs)
    else:
        assert ours == theirs


def has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, list):
        return any(has_lone_surrogate(v) for v in value)
    if isinstance(value, dict):
        return any(has_lone_surrogate(k) or has_lone_surrogate(v) for k, v in value.items())
    return False


@pytest.mark.parametrize(
    ("doc", "pos", "words"),
    [
        (b"[1, 2,]", 6, "Expecting value"),
        (b'{"a": 1 "b": 2}', 8, "delimiter"),
        (b'["\xc3\xa9", \xff]', 7, "UTF-8"),
        (b'["\xc3\xa9", tru]', 7, "literal"),
        (b'["x", "\\ud800"]', 7, "surrogate"),
        (b"[1]\n x", 5, "Extra data"),
    ],
)
def test_decode_errors_say_what_and_where(doc: bytes, pos: int, words: str) -> None:
    with pytest.raises(fj.JSONDecodeError, match=words) as info:
        fj.loads(doc)
    assert info.value.pos == pos
    assert str(info.value).endswith(f"(byte {pos})")


def test_str_input_errors_count_characters_like_the_stdlib() -> None:
    with pytest.raises(fj.JSONDecodeError) as info:
        fj.loads('["é", tru]')
    assert info.value.pos == 6
    assert (info.value.lineno, info.value.colno) == (1, 7)
    with pytest.raises(fj.JSONDecodeError, match="surrogate"):
        fj.loads('"\ud800"')  # a str that is not valid Unicode


def test_stdlib_handlers_catch_our_decode_error() -> None:
    with pytest.raises(stdlib_json.JSONDecodeError) as caught:
        fj.loads(b"[")
    assert caught.value.lineno == 1


@pytest.mark.parametrize(("open_", "close"), [("[", "]"), ('{"a":', "}")])
def test_loads_depth_limit(open_: str, close: str) -> None:
    assert _json.MAX_DEPTH == LIMIT  # the one limit, which the Python side reads from the native one
    empty = "[]" if open_ == "[" else "{}"
    assert fj.loads(open_ * (LIMIT - 1) + empty + close * (LIMIT - 1)) is not None
    with pytest.raises(fj.JSONDecodeError, match="deeper"):
        fj.loads(open_ * LIMIT + empty + close * LIMIT)
    at_limit = open_ * LIMIT + "1" + close * LIMIT
    out = fj.loads(at_limit)
    for _ in range(LIMIT):
        out = out[0] if isinstance(out, list) else out["a"]
    assert out == 1
    with pytest.raises(fj.JSONDecodeError, match="deeper") as info:
        fj.loads(open_ * (LIMIT + 1) + "1" + close * (LIMIT + 1))
    assert info.value.pos == len(open_) * LIMIT
    with pytest.raises(fj.JSONDecodeError):
        fj.loads("[" * 100_000)


@pytest.mark.parametrize("number", ["1e400", str(2**70)])
@pytest.mark.parametrize(("open_", "close"), [("[", "]"), ('{"a":', "}")])
def test_depth_limit_with_a_number_for_the_stdlib(number: str, open_: str, close: str) -> None:
    # A number simdjson cannot hold sends the whole document to the stdlib: same limit, same error.
    at_limit = open_ * LIMIT + number + close * LIMIT
    for given_ in (at_limit, at_limit.encode()):
        out = fj.loads(given_)
        for _ in range(LIMIT):
            out = out[0] if isinstance(out, list) else out["a"]
        assert out == (float("inf") if number == "1e400" else 2**70)
    with pytest.raises(fj.JSONDecodeError, match="deeper") as info:
        fj.loads(open_ * (LIMIT + 1) + number + close * (LIMIT + 1))
    assert info.value.pos == len(open_) * LIMIT
    # The number first, the nesting after: still too deep.
    with pytest.raises(fj.JSONDecodeError, match="deeper") as info:
        fj.loads(f"[{number}," + open_ * LIMIT + "1" + close * LIMIT + "]")
    assert info.value.pos == len(f"[{number},") + len(open_) * (LIMIT - 1)


def test_depth_limit_with_a_number_for_the_stdlib_first() -> None:
    with pytest.raises(fj.JSONDecodeError, match="deeper") as info:
        fj.loads("[1e400," + "[" * LIMIT + "]" * LIMIT + "]")
    assert info.value.pos == len("[1e400,") + LIMIT - 1


def test_integers_up_to_the_int_conversion_limit() -> None:
    digits = sys.get_int_max_str_digits()
    if not digits:
        pytest.skip("no int conversion limit")
    assert fj.loads("9" * digits) == int("9" * digits)
    assert fj.loads(f'["{"1" * (digits + 1)}", -{"9" * digits}]') == ["1" * (digits + 1), -int("9" * digits)]
    # One digit more: the stdlib's int() refuses it (a plain ValueError), we say where.
    long_in_a_string = f'["{"1" * (digits + 1)}", 1.5, '
    for doc, pos in [
        ("9" * (digits + 1), 0),
        (long_in_a_string + f"-{'9' * (digits + 1)}]", len(long_in_a_string)),
    ]:
        for given_ in (doc, doc.encode()):
            with pytest.raises(fj.JSONDecodeError, match="invalid JSON number") as info:
                fj.loads(given_)
            assert isinstance(info.value, ValueError)
            assert info.value.pos == pos
    # Another error after it: that one is found (the long integer is only skipped over).
    doc = "[" + "9" * (digits + 1) + ', "\x01"]'
    with pytest.raises(fj.JSONDecodeError, match="control character") as info:
        fj.loads(doc)
    assert info.value.pos == doc.index("\x01")


# --- dumps: types ---------------------------------------------------------------------------------


class Color(enum.Enum):
    RED = "red"
    NUMBER = 7
    NESTED = ("a", 1)


class Level(enum.IntEnum):
    HIGH = 3


class Mode(enum.StrEnum):
    FAST = "fast"


class Perm(enum.Flag):
    R = 4
    W = 2


@dataclasses.dataclass
class Point:
    x: int
    y: float
    label: str = "p"
    kind: ClassVar[str] = "point"
    init_only: dataclasses.InitVar[int] = 0


@dataclasses.dataclass(frozen=True, slots=True)
class Shape:
    name: str
    points: list[Point]
    color: Color = Color.RED
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)


class MyStr(str):
    def __str__(self) -> str:
        return "not this"


class MyInt(int):
    def __repr__(self) -> str:
        return "not this"


class MyFloat(float):
    def __repr__(self) -> str:
        return "not this"


class MyDict(dict):  # type: ignore[type-arg]
    pass


class MyList(list):  # type: ignore[type-arg]
    pass


Pair = namedtuple("Pair", "a b")


class Berlin(datetime.tzinfo):
    def utcoffset(self, dt: datetime.datetime | None) -> datetime.timedelta:
        return datetime.timedelta(hours=1)

    def dst(self, dt: datetime.datetime | None) -> datetime.timedelta:
        return datetime.timedelta(0)

    def tzname(self, dt: datetime.datetime | None) -> str:
        return "CET"


class MyDate(datetime.date):
    def isoformat(self) -> str:
        return "custom"


TEMPORALS: list[Any] = [
    datetime.datetime(2024, 1, 2, 3, 4, 5),
    datetime.datetime(2024, 1, 2, 3, 4, 5, 60),
    datetime.datetime(5, 12, 31, 23, 59, 59, 999999),
    datetime.datetime(9999, 1, 1),
    datetime.datetime(2024, 1, 2, tzinfo=datetime.UTC),
    datetime.datetime(2024, 1, 2, 0, 0, 0, 1, tzinfo=datetime.UTC),
    datetime.datetime(2024, 1, 2, tzinfo=datetime.timezone(datetime.timedelta(hours=-5, minutes=-30))),
    datetime.datetime(2024, 1, 2, tzinfo=datetime.timezone(datetime.timedelta(seconds=3601, microseconds=5))),
    datetime.datetime(2024, 6, 1, 12, tzinfo=Berlin()),
    datetime.datetime(2024, 1, 2, fold=1),
    datetime.date(2024, 2, 29),
    datetime.date(1, 1, 1),
    datetime.time(0, 0),
    datetime.time(23, 59, 59, 123400),
    datetime.time(12, 0, tzinfo=datetime.UTC),
    MyDate(2020, 1, 1),
]


@pytest.mark.parametrize("value", TEMPORALS, ids=[repr(t) for t in TEMPORALS])
def test_datetimes_as_isoformat(value: Any) -> None:
    assert fj.dumps(value) == f'"{value.isoformat()}"'.encode()


def test_datetimes_agree_with_orjson() -> None:
    # orjson writes the same isoformat() text for these (it has no time with a tzinfo, no subclass hook).
    def orjson_writes_isoformat(t: Any) -> bool:
        if type(t) is MyDate:
            return False  # orjson does not call a subclass's isoformat()
        if type(t) is datetime.time:
            return t.tzinfo is None  # orjson refuses a time with a tzinfo
        offset = t.utcoffset() if isinstance(t, datetime.datetime) else None
        return not isinstance(getattr(t, "tzinfo", None), Berlin) and not (offset and offset.seconds % 60)

    agreed = [t for t in TEMPORALS if orjson_writes_isoformat(t)]
    assert len(agreed) >= 10
    assert fj.dumps(agreed) == orjson.dumps(agreed)


def test_uuid() -> None:
    for u in [
        uuid.UUID(int=0),
        uuid.UUID(int=2**128 - 1),
        uuid.uuid4(),
        uuid.UUID("12345678-1234-5678-1234-567812345678"),
    ]:
        assert fj.dumps(u) == f'"{u}"'.encode() == orjson.dumps(u)
        assert fj.dumps({"id": [u]}) == orjson.dumps({"id": [u]})


@pytest.mark.parametrize(
    "text", ["0", "1.50", "-0", "1E+2", "0E-7", "-123.456e-20", "12345678901234567890.123456789"]
)
def test_decimal_as_its_str(text: str) -> None:
    d = decimal.Decimal(text)
    assert fj.dumps(d) == str(d).encode()
    assert stdlib_json.loads(fj.dumps(d), parse_float=decimal.Decimal, parse_int=decimal.Decimal) == d


@pytest.mark.parametrize("text", ["NaN", "-NaN", "sNaN", "Infinity", "-Infinity"])
def test_decimal_not_finite_is_an_error(text: str) -> None:
    with pytest.raises(fj.JSONEncodeError, match="Decimal"):
        fj.dumps([decimal.Decimal(text)])


def test_enums_as_their_value() -> None:
    assert fj.dumps([Color.RED, Color.NUMBER, Color.NESTED]) == b'["red",7,["a",1]]'
    assert fj.dumps([Level.HIGH, Mode.FAST, Perm.R | Perm.W]) == b'[3,"fast",6]'
    assert fj.dumps({Level.HIGH: 1}) == std_dumps({Level.HIGH: 1})
    assert fj.dumps([Color.RED, Color.NUMBER, Level.HIGH, Mode.FAST]) == orjson.dumps(
        [Color.RED, Color.NUMBER, Level.HIGH, Mode.FAST]
    )


def test_dataclasses_fields_in_order() -> None:
    shape = Shape("tri", [Point(1, 2.5), Point(-1, 0.0, "q", 9)], meta={"z": 1, "a": None})
    expected = (
        b'{"name":"tri","points":[{"x":1,"y":2.5,"label":"p"},{"x":-1,"y":0.0,"label":"q"}],'
        b'"color":"red","meta":{"z":1,"a":null}}'
    )
    assert fj.dumps(shape) == expected
    assert fj.dumps(shape) == orjson.dumps(shape)
    # sort_keys orders a dataclass's fields too (orjson's OPT_SORT_KEYS leaves them in field order).
    assert fj.dumps(shape, sort_keys=True) == std_dumps(stdlib_json.loads(expected), sort_keys=True)
    with pytest.raises(fj.JSONEncodeError, match="type"):
        fj.dumps(Point)


def test_pydantic_models() -> None:
    pydantic = pytest.importorskip("pydantic")

    class Inner(pydantic.BaseModel):  # type: ignore[name-defined, misc]
        when: datetime.date
        amount: decimal.Decimal

    class Outer(pydantic.BaseModel):  # type: ignore[name-defined, misc]
        model_config = pydantic.ConfigDict(populate_by_name=True)
        name: str = pydantic.Field(serialization_alias="Name")
        inner: list[Inner]
        color: Color

        @pydantic.computed_field  # type: ignore[prop-decorator, untyped-decorator]
        @property
        def count(self) -> int:
            return len(self.inner)

    model = Outer(
        name="ß",
        inner=[Inner(when=datetime.date(2024, 1, 2), amount=decimal.Decimal("1.5"))],
        color=Color.RED,
    )
    assert fj.loads(fj.dumps(model)) == stdlib_json.loads(model.model_dump_json())
    assert fj.dumps({"m": [model]}) == b'{"m":[' + fj.dumps(model.model_dump(mode="json")) + b"]}"
    assert fj.dumps(model, sort_keys=True) == std_dumps(model.model_dump(mode="json"), sort_keys=True)


def test_subclasses_as_their_base() -> None:
    value = MyDict(a=MyList([MyStr("s\u00e9"), MyInt(5), MyFloat(1.5), Pair(1, [2])]), b=OrderedDict(c=()))
    assert fj.dumps(value) == std_dumps(value) == b'{"a":["s\xc3\xa9",5,1.5,[1,[2]]],"b":{"c":[]}}'
    assert fj.dumps({MyStr("k"): 1, MyInt(2): 3, MyFloat(0.5): 4}) == std_dumps(
        {MyStr("k"): 1, MyInt(2): 3, MyFloat(0.5): 4}
    )


def test_keys_converted_as_the_stdlib_does() -> None:
    value = {"s": 1, 2: 2, -3: 3, 2**70: 4, 1.5: 5, 1e20: 7, True: 8, False: 9, None: 10}
    assert fj.dumps(value) == std_dumps(value)
    negative_zero = {-0.0: 6}  # a key of its own: False == -0.0 would merge them in one dict
    assert fj.dumps(negative_zero) == std_dumps(negative_zero)


def test_sort_keys() -> None:
    value = {"b": 1, "a": {"d": 1, "c": 2}, "é": 3, "z": 4, "": 5, "\U0001f600": 6, "\uffff": 7, "A": 8}
    assert fj.dumps(value, sort_keys=True) == std_dumps(value, sort_keys=True)
    assert fj.dumps(value, sort_keys=True) != fj.dumps(value)
    assert fj.dumps({10: "a", 2: "b", 1.5: "c"}, sort_keys=True) == std_dumps(
        {10: "a", 2: "b", 1.5: "c"}, sort_keys=True
    )
    with pytest.raises(TypeError):
        fj.dumps({1: 1, "a": 2}, sort_keys=True)  # as the stdlib: int and str do not compare


def test_strings_escaped_as_the_stdlib() -> None:
    every_ascii = "".join(map(chr, range(128)))
    for s in [
        every_ascii,
        "é" * 5 + every_ascii,
        "中" + every_ascii,
        "😀" + every_ascii,
        "\u2028\u2029",
        "\x7f\x80\xff",
    ]:
        assert fj.dumps(s) == std_dumps(s)
        assert fj.dumps({s: s}) == std_dumps({s: s})
        assert fj.loads(fj.dumps(s)) == s


def test_escapes_at_every_position_of_short_strings() -> None:
    # The writer checks 8 bytes at a time, and a short tail as one (overlapping or padded) word.
    for n in range(1, 26):
        for pos in range(n):
            for special in ('"', "\\", "\n", "\x01", "\x1f", "é", " ", "\x7f"):
                s = "a" * pos + special + "b" * (n - pos - 1)
                assert fj.dumps(s) == std_dumps(s), s
                assert fj.dumps(s + "\n" + s) == std_dumps(s + "\n" + s), s


def test_large_and_growing_output() -> None:
    value = [{"k": "v" * 1000, "n": list(range(100))} for _ in range(200)]
    assert fj.dumps(value) == std_dumps(value)
    long_escapes = "\n\x01" * 50_000
    assert fj.dumps(long_escapes) == std_dumps(long_escapes)


# --- dumps: default= and errors -----------------------------------------------------------------


def test_default() -> None:
    class Money:
        def __init__(self, cents: int) -> None:
            self.cents = cents

    def default(obj: Any) -> Any:
        if isinstance(obj, Money):
            return {"cents": obj.cents, "set": {1}}
        if isinstance(obj, set):
            return sorted(obj)
        raise TypeError("nope")

    assert fj.dumps([Money(5)], default=default) == b'[{"cents":5,"set":[1]}]'
    assert (
        fj.dumps(datetime.date(2020, 1, 1), default=default) == b'"2020-01-01"'
    )  # default only for unknown types
    with pytest.raises(TypeError, match="nope"):
        fj.dumps(object(), default=default)  # the callback's own error goes through
    with pytest.raises(fj.JSONEncodeError, match="Money"):
        fj.dumps(Money(1))  # no default: named in the error
    with pytest.raises(fj.JSONEncodeError, match="Circular"):
        fj.dumps(Money(1), default=lambda o: o)  # never converges
    with pytest.raises(fj.JSONEncodeError, match="deeper"):
        fj.dumps(Money(1), default=lambda o: Money(1))  # nor does this
    with pytest.raises(ZeroDivisionError):
        fj.dumps([1, object()], default=lambda o: 1 / 0)


@pytest.mark.parametrize(
    "value", [object(), {1, 2}, b"bytes", bytearray(b"x"), 1j, type, range(3), frozenset()]
)
def test_unsupported_types(value: Any) -> None:
    with pytest.raises(fj.JSONEncodeError, match=type(value).__name__) as info:
        fj.dumps({"a": [value]})
    assert isinstance(info.value, TypeError)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, MyFloat("nan")])
def test_nan_and_infinity(value: float) -> None:
    for wrapped in (value, [value], {"a": value}, {value: 1}):
        with pytest.raises(fj.JSONEncodeError, match="JSON compliant"):
            fj.dumps(wrapped)
    with pytest.raises(ValueError, match="JSON compliant"):  # what stdlib code catches
        fj.dumps(value)


def test_bad_keys() -> None:
    for key in [(1, 2), b"b", frozenset(), Color.RED]:
        with pytest.raises(fj.JSONEncodeError, match="keys must be"):
            fj.dumps({key: 1})
    with pytest.raises(fj.JSONEncodeError):
        fj.dumps({(1,): 1}, default=str)  # default is never applied to keys, as the stdlib


@pytest.mark.parametrize("s", ["\ud800", "a\udfffb", "\udc00\ud800"])
def test_lone_surrogates(s: str) -> None:
    for value in (s, [s], {s: 1}):
        with pytest.raises(fj.JSONEncodeError, match="surrogate"):
            fj.dumps(value)
    with pytest.raises(fj.JSONEncodeError, match="surrogate"):
        fj.dumps({s: 1, "a": 2}, sort_keys=True)


def test_circular_references() -> None:
    lst: list[Any] = []
    lst.append(lst)
    dct: dict[str, Any] = {}
    dct["self"] = [dct]
    for value in (lst, dct, [1, {"a": lst}]):
        with pytest.raises(fj.JSONEncodeError, match="Circular reference"):
            fj.dumps(value)
        with pytest.raises(ValueError, match="Circular reference"):
            fj.dumps(value)
    shared = [1, 2]
    assert fj.dumps([shared, shared, {"a": shared}]) == b'[[1,2],[1,2],{"a":[1,2]}]'  # not a cycle


@pytest.mark.parametrize("make", [nested_lists, nested_dicts])
def test_dumps_depth_limit(make: Any) -> None:
    at_limit = make(LIMIT)
    open_, close = (b"[", b"]") if make is nested_lists else (b'{"a":', b"}")
    innermost = b"[]" if make is nested_lists else b"{}"
    assert fj.dumps(at_limit) == open_ * (LIMIT - 1) + innermost + close * (LIMIT - 1)
    assert fj.dumps(fj.loads(fj.dumps(at_limit))) == fj.dumps(
        at_limit
    )  # (== on it would hit Python's recursion limit)
    with pytest.raises(fj.JSONEncodeError, match="deeper"):
        fj.dumps(make(LIMIT + 1))
    with pytest.raises(fj.JSONEncodeError, match="deeper"):
        fj.dumps(make(100_000))


def test_dumps_arguments() -> None:
    with pytest.raises(TypeError):
        fj.dumps({}, True)  # type: ignore[call-arg, arg-type]  # keyword-only
    with pytest.raises(TypeError):
        fj.dumps()  # type: ignore[call-arg]
    assert fj.dumps({"a": 1}, default=None, sort_keys=False) == b'{"a":1}'


def test_dumps_inside_default_and_after_large_documents() -> None:
    # The output buffer kept between calls: a nested dumps() (from default()) must not share it,
    # and a large document must not leave anything behind in the next, smaller one.
    big = [{"k": "v" * 100, "i": i} for i in range(20_000)]

    class Wrapped:
        pass

    def default(obj: Any) -> Any:
        return fj.loads(fj.dumps(big[:3000]))

    out = fj.dumps([Wrapped(), big, Wrapped()], default=default)
    assert out == std_dumps([big[:3000], big, big[:3000]])
    assert fj.dumps({"small": 1}) == b'{"small":1}'
    assert fj.dumps(big) == std_dumps(big)
    assert fj.dumps([]) == b"[]"


def test_mutation_by_default_does_not_crash() -> None:
    victim: list[Any] = [object(), 1, 2, 3]

    def default(obj: Any) -> Any:
        victim.clear()
        return "x"

    assert fj.dumps(victim, default=default) == b'["x"]'
