"""The python-hpack API surface: names, attributes, exception hierarchy, HeaderTuple semantics."""

from __future__ import annotations

import os

import fasterapi_hpack
import hpack
import pytest
from fasterapi_hpack import Decoder, Encoder, HeaderTuple, NeverIndexedHeaderTuple


def test_every_public_name_of_python_hpack_exists() -> None:
    missing = [name for name in hpack.__all__ if not hasattr(fasterapi_hpack, name)]
    assert missing == []
    assert set(hpack.__all__) <= set(fasterapi_hpack.__all__)
    assert fasterapi_hpack.DEFAULT_MAX_HEADER_LIST_SIZE == hpack.hpack.DEFAULT_MAX_HEADER_LIST_SIZE
    assert isinstance(fasterapi_hpack.__version__, str)


def test_all_is_exact() -> None:
    public = {name for name in dir(fasterapi_hpack) if not name.startswith("_")} - {"annotations", "os"}
    assert public == set(fasterapi_hpack.__all__) - {"__version__"}


@pytest.mark.parametrize(
    ("child", "parent"),
    [
        ("HPACKDecodingError", "HPACKError"),
        ("InvalidTableIndexError", "HPACKDecodingError"),
        ("InvalidTableIndex", "InvalidTableIndexError"),
        ("OversizedHeaderListError", "HPACKDecodingError"),
        ("InvalidTableSizeError", "HPACKDecodingError"),
    ],
)
def test_exception_hierarchy_matches(child: str, parent: str) -> None:
    assert issubclass(getattr(hpack, child), getattr(hpack, parent))
    assert issubclass(getattr(fasterapi_hpack, child), getattr(fasterapi_hpack, parent))


def test_exceptions_take_a_message_only_too() -> None:
    err = fasterapi_hpack.HPACKDecodingError("boom")
    assert str(err) == "boom"
    assert (err.code, err.offset) == (None, None)
    assert issubclass(fasterapi_hpack.HPACKError, Exception)


def test_header_tuple_semantics() -> None:
    for ours, theirs in (
        (HeaderTuple, hpack.HeaderTuple),
        (NeverIndexedHeaderTuple, hpack.NeverIndexedHeaderTuple),
    ):
        h = ours("name", "value")
        assert h.indexable is theirs.indexable
        reference: object = theirs("name", "value")  # typed for bytes, but holds anything
        assert h == ("name", "value") == reference
        assert hash(h) == hash(("name", "value"))
        assert isinstance(h, tuple)
        assert h[0] == "name"
        assert len(h) == 2
        name, value = h
        assert (name, value) == ("name", "value")
        with pytest.raises(AttributeError):
            h.other = 1  # type: ignore[attr-defined]
    assert HeaderTuple.indexable is True
    assert NeverIndexedHeaderTuple.indexable is False
    assert issubclass(NeverIndexedHeaderTuple, HeaderTuple)
    assert repr(HeaderTuple("a", "b")) == "('a', 'b')"


def test_decoded_fields_are_header_tuples() -> None:
    block = Encoder().encode([(":method", "GET"), ("x-a", "b"), ("x-s", "t", True)])
    d = Decoder()
    decoded = d.decode(block)
    assert [type(h) for h in decoded] == [HeaderTuple, HeaderTuple, NeverIndexedHeaderTuple]
    assert decoded == [tuple(h) for h in hpack.Decoder().decode(block)]
    assert [type(h).__name__ for h in hpack.Decoder().decode(block)] == [type(h).__name__ for h in decoded]


def test_warm_fields_are_shared_and_still_correct() -> None:
    e, d = Encoder(), Decoder()
    headers = [("x-a", "1"), (":method", "GET")]
    first = d.decode(e.encode(headers))
    second = d.decode(e.encode(headers))
    assert first == second == headers
    assert second[0] is first[0]  # the cached field of the dynamic entry
    assert d.decode(e.encode(headers), raw=True) == [(b"x-a", b"1"), (b":method", b"GET")]


def test_decoder_attributes_like_python_hpack() -> None:
    ours, theirs = Decoder(), hpack.Decoder()
    for attr in ("header_table_size", "max_allowed_table_size", "max_header_list_size"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
    assert Decoder(max_header_list_size=10).max_header_list_size == 10
    ours.max_header_list_size = 5
    ours.max_allowed_table_size = 100
    ours.header_table_size = 100
    assert (ours.max_header_list_size, ours.max_allowed_table_size, ours.header_table_size) == (5, 100, 100)


def test_encoder_attributes_like_python_hpack() -> None:
    ours, theirs = Encoder(), hpack.Encoder()
    assert ours.header_table_size == theirs.header_table_size
    ours.header_table_size = 1000
    assert ours.header_table_size == 1000


def test_drop_in_usage() -> None:
    # A snippet written for python-hpack, run with the module swapped.
    for module in (hpack, fasterapi_hpack):
        e = module.Encoder()
        d = module.Decoder(max_header_list_size=hpack.hpack.DEFAULT_MAX_HEADER_LIST_SIZE)
        block = e.encode({":method": "GET", ":path": "/", "x": "y"})
        assert d.decode(block) == [(":method", "GET"), (":path", "/"), ("x", "y")]
        try:
            d.decode(b"\x80")
        except module.HPACKDecodingError:
            pass
        else:
            raise AssertionError("index 0 was accepted")


def test_get_include_has_the_headers() -> None:
    include = fasterapi_hpack.get_include()
    for header in (
        "hpack.hpp",
        "huffman.hpp",
        "huffman_table.hpp",
        "decoder.hpp",
        "encoder.hpp",
        "table.hpp",
    ):
        assert os.path.isfile(os.path.join(include, "fasterapi", "hpack", header)), header
