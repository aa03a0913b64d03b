"""Every decoding error: its class, code and offset, each limit at and one past it, stickiness."""

from __future__ import annotations

import pytest
from fasterapi_hpack import (
    Decoder,
    Encoder,
    HPACKDecodingError,
    HPACKError,
    InvalidTableIndex,
    InvalidTableIndexError,
    InvalidTableSizeError,
    OversizedHeaderListError,
)


def integer(value: int, prefix: int, flags: int) -> bytes:
    """RFC 7541 5.1, written independently of the package."""
    limit = (1 << prefix) - 1
    if value < limit:
        return bytes([flags | value])
    out = [flags | limit]
    value -= limit
    while value >= 128:
        out.append(value % 128 + 128)
        value //= 128
    return bytes([*out, value])


def literal(name: bytes, value: bytes) -> bytes:
    """A literal field without indexing, new name, no Huffman."""
    return b"\x00" + integer(len(name), 7, 0) + name + integer(len(value), 7, 0) + value


def decode_error(block: bytes, decoder: Decoder | None = None) -> HPACKDecodingError:
    d = decoder or Decoder()
    with pytest.raises(HPACKDecodingError) as err:
        d.decode(block)
    return err.value


@pytest.mark.parametrize(
    ("block", "cls", "code", "offset"),
    [
        (b"\x80", InvalidTableIndex, "index_zero", 0),
        (b"\x82\x80", InvalidTableIndex, "index_zero", 1),
        (b"\x82\xbe", InvalidTableIndex, "index_out_of_range", 1),  # 62, empty dynamic table
        (b"\x7f\x00\x01a", InvalidTableIndex, "index_out_of_range", 0),  # name index 63
        (b"\x82\xff\x80\x80\x80\x80\x80\x00", HPACKDecodingError, "integer_overflow", 1),
        (b"\x82\xff\xff\xff\xff\xff\x0f", HPACKDecodingError, "integer_overflow", 1),
        (b"\x82\xff", HPACKDecodingError, "truncated", 1),
        (b"\x82\xff\x80", HPACKDecodingError, "truncated", 1),
        (b"\x40", HPACKDecodingError, "truncated", 1),
        (b"\x40\x01a", HPACKDecodingError, "truncated", 3),
        (b"\x40\x02a", HPACKDecodingError, "string_past_end", 1),
        (b"\x40\x01a\x05abcd", HPACKDecodingError, "string_past_end", 3),
        (b"\x00\x01a\x7f\xff\xff\xff\xff\x0f", HPACKDecodingError, "integer_overflow", 3),
        (b"\x40\x01a\x81\xff", HPACKDecodingError, "huffman_padding", 3),
        (b"\x40\x81\x18\x00", HPACKDecodingError, "huffman_padding", 1),
        (b"\x40\x01a\x84\xff\xff\xff\xff", HPACKDecodingError, "huffman_eos", 3),
        (b"\x82\x20", HPACKDecodingError, "table_size_update_misplaced", 1),
        (b"\x20\x20\x20", HPACKDecodingError, "too_many_table_size_updates", 2),
        (b"\x3f\xe2\x1f", InvalidTableSizeError, "table_size_too_large", 0),  # 4097
    ],
)
def test_error(block: bytes, cls: type[HPACKDecodingError], code: str, offset: int) -> None:
    err = decode_error(block)
    assert type(err) is cls
    assert err.code == code
    assert err.offset == offset
    assert str(offset) in str(err)


def test_hierarchy_of_raised_errors() -> None:
    err = decode_error(b"\x80")
    assert isinstance(err, InvalidTableIndexError)
    assert isinstance(err, HPACKError)
    assert isinstance(decode_error(b"\x3f\xe2\x1f"), HPACKDecodingError)


def test_index_limits() -> None:
    # Index 61 is the last static entry; 62 is the first dynamic one, valid once it exists.
    assert Decoder().decode(b"\xbd") == [("www-authenticate", "")]
    d = Decoder()
    d.decode(literal(b"x", b"y").replace(b"\x00", b"\x40", 1))
    assert d.decode(b"\xbe") == [("x", "y")]
    assert decode_error(b"\xbf", d).code == "index_out_of_range"


def test_integer_limits() -> None:
    # 2**32 - 1 is the largest integer: as a size update it is only too large a size, not an overflow.
    d = Decoder()
    d.max_allowed_table_size = 2**32 - 1
    assert d.decode(integer(2**32 - 1, 5, 0x20) + b"\x82") == [(":method", "GET")]
    assert d.header_table_size == 2**32 - 1
    d = Decoder()
    d.max_allowed_table_size = 2**32 - 1
    assert decode_error(integer(2**32, 5, 0x20), d).code == "integer_overflow"
    # Five continuation bytes are allowed, six are not, whatever the value.
    assert Decoder().decode(b"\x3f\x80\x80\x80\x80\x00\x82") == [(":method", "GET")]
    assert decode_error(b"\x3f\x80\x80\x80\x80\x80\x00").code == "integer_overflow"


def test_table_size_update_limits() -> None:
    assert Decoder().decode(integer(4096, 5, 0x20) + b"\x82") == [(":method", "GET")]
    err = decode_error(integer(4097, 5, 0x20))
    assert (type(err), err.offset) == (InvalidTableSizeError, 0)
    # Two updates open a block; a third is refused.
    assert Decoder().decode(b"\x20\x3f\xe1\x1f\x82") == [(":method", "GET")]
    assert decode_error(b"\x20\x20\x3f\xe1\x1f").code == "too_many_table_size_updates"
    # After the first field, none.
    assert decode_error(b"\x82\x3f\xe1\x1f").code == "table_size_update_misplaced"


def test_lowered_setting_requires_an_update() -> None:
    d = Decoder()
    d.max_allowed_table_size = 100
    err = decode_error(b"\x82", d)
    assert (type(err), err.code, err.offset) == (InvalidTableSizeError, "table_size_not_reduced", 0)
    d = Decoder()
    d.max_allowed_table_size = 100
    assert decode_error(b"", d).code == "table_size_not_reduced"
    d = Decoder()
    d.max_allowed_table_size = 100
    assert d.decode(integer(100, 5, 0x20) + b"\x82") == [(":method", "GET")]
    assert d.header_table_size == 100
    d = Decoder()
    d.max_allowed_table_size = 100
    assert decode_error(integer(101, 5, 0x20), d).code == "table_size_too_large"


@pytest.mark.parametrize("huffman", [False, True])
def test_header_list_size_at_and_past_the_limit(huffman: bool) -> None:
    block = Encoder().encode([("x-name", "value"), (":method", "GET")], huffman=huffman)
    size = (6 + 5 + 32) + (7 + 3 + 32)
    assert len(Decoder(max_header_list_size=size).decode(block)) == 2
    err = decode_error(block, Decoder(max_header_list_size=size - 1))
    assert type(err) is OversizedHeaderListError
    assert err.code == "header_list_too_large"
    assert err.offset == block.index(b"\x82")
    d = Decoder()
    d.max_header_list_size = size - 1
    assert type(decode_error(block, d)) is OversizedHeaderListError


def test_hpack_bomb_is_refused_before_expansion() -> None:
    # One 4000-byte entry, then 100000 one-byte references to it: 400 MB if expanded.
    name, value = b"x", b"v" * 4000
    block = b"\x40" + integer(1, 7, 0) + name + integer(len(value), 7, 0) + value + b"\xbe" * 100_000
    err = decode_error(block)
    assert type(err) is OversizedHeaderListError
    # 65536 // 4033 = 16 fields fit: the literal and 15 references.
    assert err.offset == block.index(b"\xbe") + 15


def test_name_alone_past_the_limit() -> None:
    block = literal(b"n" * 100, b"v")
    err = decode_error(block, Decoder(max_header_list_size=100 + 32 - 1))
    assert type(err) is OversizedHeaderListError
    assert err.offset == 0


@pytest.mark.parametrize("block", [b"\x80", b"\x82\xff", b"\x40\x01a\x81\xff", b"\x82\x20"])
def test_errors_are_sticky(block: bytes) -> None:
    d = Decoder()
    first = decode_error(block, d)
    for good in (b"\x82", b""):
        again = decode_error(good, d)
        assert (type(again), again.code, again.offset) == (type(first), first.code, first.offset)


def test_invalid_utf8_is_not_sticky() -> None:
    d = Decoder()
    with pytest.raises(HPACKDecodingError) as err:
        d.decode(literal(b"a", b"\xff") + b"\x82")
    assert err.value.code == "invalid_utf8"
    assert err.value.offset == 0
    assert d.decode(literal(b"a", b"\xff"), raw=True) == [(b"a", b"\xff")]
    assert d.decode(b"\x82") == [(":method", "GET")]


def test_decode_rejects_text() -> None:
    with pytest.raises(TypeError):
        Decoder().decode("\x82")  # type: ignore[arg-type]


def test_invalid_utf8_name_and_value_of_an_indexed_dynamic_entry() -> None:
    # Inserted while decoding raw, then referenced by index while decoding text: the UTF-8 errors
    # of both name and value must surface as the package's error (found by the fuzz target: a
    # SystemError before, the second decode running with the first one's error pending).
    decoder = Decoder()
    assert decoder.decode(bytes([0x40, 0x01, 0xE1, 0x01, 0xFF]), raw=True) == [(b"\xe1", b"\xff")]
    with pytest.raises(HPACKDecodingError) as info:
        decoder.decode(b"\xbe")
    assert info.value.code == "invalid_utf8"
    assert info.value.offset == 0
    assert decoder.decode(b"\xbe", raw=True) == [(b"\xe1", b"\xff")]  # only text decoding failed
