"""The encoder: its indexing strategy, size updates, sensitive fields, inputs, round trips."""

from __future__ import annotations

from typing import Any

import hpack
import pytest
from fasterapi_hpack import Decoder, Encoder, HeaderTuple, NeverIndexedHeaderTuple
from hypothesis import given
from hypothesis import strategies as st


def representations(block: bytes) -> list[str]:
    """The kind of each representation in a block, read with python-hpack's own decoder's rules."""
    kinds = []
    d = hpack.Decoder()
    d.max_allowed_table_size = 2**32 - 1
    i = 0
    while i < len(block):
        b = block[i]
        kind = (
            "indexed" if b & 0x80 else "incremental" if b & 0x40 else "size" if b & 0x20
            else "never" if b & 0x10 else "without"
        )  # fmt: skip
        kinds.append(kind)
        # Advance by decoding this representation alone with python-hpack's internals.
        if kind == "indexed":
            _, used = hpack.hpack.decode_integer(block[i:], 7)
        elif kind == "size":
            _, used = hpack.hpack.decode_integer(block[i:], 5)
        else:
            _, used = d._decode_literal(block[i:], kind == "incremental")
        i += used
    return kinds


def test_static_full_match_is_one_byte() -> None:
    assert Encoder().encode([(":method", "GET"), (":path", "/"), ("accept-encoding", "gzip, deflate")]) == (
        b"\x82\x84\x90"
    )


def test_dynamic_full_match_and_name_match() -> None:
    e = Encoder()
    first = e.encode([("x-custom", "one")])
    assert representations(first) == ["incremental"]
    assert e.encode([("x-custom", "one")]) == b"\xbe"  # dynamic index 62
    second = e.encode([("x-custom", "two")])
    assert second[0] == 0x40 | 62  # incremental, name by dynamic index
    assert e.encode([("x-custom", "one"), ("x-custom", "two")]) == b"\xbf\xbe"


def test_static_name_preferred() -> None:
    block = Encoder().encode([("user-agent", "curl/8")], huffman=False)
    assert block == b"\x7a\x06curl/8"  # 0x40 | 58


def test_rfc_c3_requests() -> None:
    e = Encoder()
    first = [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com")]
    assert e.encode(first, huffman=False).hex() == "828684410f7777772e6578616d706c652e636f6d"
    second = [*first, ("cache-control", "no-cache")]
    assert e.encode(second, huffman=False).hex() == "828684be58086e6f2d6361636865"


def test_rfc_c4_requests_with_huffman() -> None:
    first = [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com")]
    assert Encoder().encode(first).hex() == "828684418cf1e3c2e5f23a6ba0ab90f4ff"


def test_huffman_when_not_longer() -> None:
    # '\x00' has a 13-bit code: raw is shorter. '&' has an 8-bit one: a tie, which goes to Huffman
    # (RFC 7541 C.6.2 codes "307", 3 octets either way).
    block = Encoder().encode([("x", "\x00\x00")])
    assert block[3] & 0x80 == 0
    for value in ("&&&&", "aaaa"):
        block = Encoder().encode([("x", value)])
        assert block[3] & 0x80, value
        assert block[3] & 0x7F <= len(value), value


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("authorization", "Bearer t"),
        ("proxy-authorization", "Basic x"),
        ("set-cookie", "a=b"),
        ("cookie", "s" * 19),
    ],
)
def test_sensitive_fields_are_never_indexed(name: str, value: str) -> None:
    e = Encoder()
    for _ in range(2):
        block = e.encode([(name, value)])
        assert representations(block) == ["never"]
        decoded = Decoder().decode(block)
        assert decoded == [(name, value)]
        assert type(decoded[0]) is NeverIndexedHeaderTuple


def test_long_cookie_is_indexed() -> None:
    e = Encoder()
    assert representations(e.encode([("cookie", "s" * 20)])) == ["incremental"]
    assert e.encode([("cookie", "s" * 20)]) == b"\xbe"


def test_caller_marked_sensitive() -> None:
    e = Encoder()
    for headers in (
        [("x-secret", "v", True)],
        [NeverIndexedHeaderTuple("x-secret", "v")],
        [hpack.NeverIndexedHeaderTuple(b"x-secret", b"v")],
    ):
        assert representations(e.encode(headers)) == ["never"]
    for plain in ([("x-plain", "v", False)], [("x-plain2", "v", None)], [HeaderTuple("x-plain3", "v")],
                  [hpack.HeaderTuple(b"x-plain4", b"v")]):  # fmt: skip
        assert representations(e.encode(plain)) == ["incremental"]


def test_large_field_is_not_indexed() -> None:
    e = Encoder()
    limit = 4096 * 3 // 4 - 32 - 1  # name "x": 1 + value + 32 <= 3072
    assert representations(e.encode([("x", "v" * limit)], huffman=False)) == ["incremental"]
    e = Encoder()
    assert representations(e.encode([("x", "v" * (limit + 1))], huffman=False)) == ["without"]


def test_size_updates() -> None:
    e = Encoder()
    assert e.header_table_size == 4096
    e.header_table_size = 4096
    assert e.encode([(":method", "GET")]) == b"\x82"  # unchanged: no update
    e.header_table_size = 0
    e.header_table_size = 4096
    assert e.encode([(":method", "GET")]) == b"\x20\x3f\xe1\x1f\x82"  # min, then final
    e.header_table_size = 2000
    e.header_table_size = 1000
    assert e.encode([]) == b"\x3f\xc9\x07"  # only the final, which is the min
    assert e.encode([]) == b""
    e.header_table_size = 100
    e.header_table_size = 200
    assert representations(e.encode([])) == ["size", "size"]
    with pytest.raises(ValueError, match="header_table_size"):
        e.header_table_size = -1
    with pytest.raises(ValueError, match="header_table_size"):
        e.header_table_size = 2**32


def test_size_update_evicts_and_round_trips() -> None:
    e, d = Encoder(), Decoder()
    headers = [("x-a", "1" * 50), ("x-b", "2" * 50)]
    assert d.decode(e.encode(headers)) == headers
    e.header_table_size = 100
    block = e.encode(headers)
    assert d.decode(block) == headers
    assert d.header_table_size == 100
    assert e.encode(headers[1:]) == b"\xbe"


def test_input_forms() -> None:
    expected = [(":method", "GET"), (":path", "/x"), ("x-num", "5")]
    forms: list[Any] = [
        [(":method", "GET"), (":path", "/x"), ("x-num", "5")],
        [(b":method", b"GET"), (b":path", b"/x"), (b"x-num", b"5")],
        [(b":method", "GET"), (":path", b"/x"), ("x-num", 5)],
        ((":method", "GET"), (":path", "/x"), ("x-num", "5")),
        iter([(":method", "GET"), (":path", "/x"), ("x-num", "5")]),
        [[":method", "GET"], [":path", "/x"], ["x-num", "5"]],
        [(":method", bytearray(b"GET")), (":path", memoryview(b"/x")), ("x-num", "5")],
        {"x-num": "5", ":method": "GET", ":path": "/x"},  # pseudo-headers are moved first
        {b"x-num": 5, b":method": b"GET", b":path": b"/x"},
    ]
    for headers in forms:
        assert Decoder().decode(Encoder().encode(headers)) == expected, headers


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="header"):
        Encoder().encode([("only-name",)])
    with pytest.raises(TypeError):
        Encoder().encode(5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Encoder().encode([5])  # type: ignore[list-item]


def test_add_matches_python_hpack() -> None:
    ours, theirs = Encoder(), hpack.Encoder()
    for field in [(b":method", b"GET"), (b"x-a", b"b"), (b"x-a", b"b"), (b"x-a", b"c")]:
        assert ours.add(field, False) == theirs.add(field, False)


def test_non_ascii_values_are_utf8() -> None:
    block = Encoder().encode([("x-name", "héllo ✓")])
    assert Decoder().decode(block) == [("x-name", "héllo ✓")]
    assert Decoder().decode(block, raw=True) == [(b"x-name", "héllo ✓".encode())]


def test_many_fields_against_python_hpack() -> None:
    # Our blocks decode identically with python-hpack's decoder, over evictions.
    e = Encoder()
    theirs: Any = hpack.Decoder()  # its annotations say bytes; it returns str unless raw
    for i in range(400):
        headers = [(f"x-k{i % 13}", f"v{i % 101}"), (f"x-k{i % 5}", "w" * (i % 300)), (":status", "200")]
        assert theirs.decode(e.encode(headers, huffman=i % 2 == 0)) == headers


text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)


@given(st.lists(st.tuples(text, text, st.booleans()), max_size=20), st.booleans(), st.integers(0, 600))
def test_round_trip(headers: list[tuple[str, str, bool]], huffman: bool, table_size: int) -> None:
    e, d = Encoder(), Decoder()
    theirs: Any = hpack.Decoder()  # its annotations say bytes; it returns str unless raw
    expected = [(n, v) for n, v, _ in headers]
    for _ in range(2):
        block = e.encode(headers, huffman=huffman)
        assert d.decode(block) == expected
        assert theirs.decode(block) == expected
        e.header_table_size = table_size


def test_subclasses_and_unencodable_text() -> None:
    """Exact tuples of bytes or str take the binding's fast path; subclasses the general one, alike."""

    class Text(str):
        pass

    class Octets(bytes):
        pass

    headers = [
        (Text("x-a"), Octets(b"1")),
        ("x-b", "2"),
        HeaderTuple("x-c", b"3"),
        NeverIndexedHeaderTuple("x-d", "4"),
    ]
    block = Encoder().encode(headers)
    decoded = Decoder().decode(block)
    assert decoded == [("x-a", "1"), ("x-b", "2"), ("x-c", "3"), ("x-d", "4")]
    assert [type(h) for h in decoded][-1] is NeverIndexedHeaderTuple
    with pytest.raises(UnicodeEncodeError):
        Encoder().encode([("x-bad", "\udc80")])
