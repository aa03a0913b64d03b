"""The Huffman code on its own: every byte, the RFC 7541 Appendix C strings, every invalid ending."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import fasterapi_hpack
import pytest
from fasterapi_hpack import HPACKDecodingError, huffman_decode, huffman_encode
from hpack.huffman import HuffmanEncoder
from hpack.huffman_constants import REQUEST_CODES, REQUEST_CODES_LENGTH
from hypothesis import given
from hypothesis import strategies as st

REFERENCE = HuffmanEncoder(REQUEST_CODES, REQUEST_CODES_LENGTH)

# RFC 7541 C.4 and C.6: strings and their Huffman codes.
RFC_STRINGS = [
    (b"www.example.com", "f1e3c2e5f23a6ba0ab90f4ff"),
    (b"no-cache", "a8eb10649cbf"),
    (b"custom-key", "25a849e95ba97d7f"),
    (b"custom-value", "25a849e95bb8e8b4bf"),
    (b"302", "6402"),
    (b"307", "640eff"),
    (b"private", "aec3771a4b"),
    (b"Mon, 21 Oct 2013 20:13:21 GMT", "d07abe941054d444a8200595040b8166e082a62d1bff"),
    (b"Mon, 21 Oct 2013 20:13:22 GMT", "d07abe941054d444a8200595040b8166e084a62d1bff"),
    (b"https://www.example.com", "9d29ad171863c78f0b97c8e9ae82ae43d3"),
    (b"gzip", "9bd9ab"),
    (
        b"foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
        "94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007",
    ),
]


def attempt(data: bytes) -> tuple[bytes, str | None]:
    """The decoding of data and None, or b"" and the error code."""
    try:
        return huffman_decode(data), None
    except HPACKDecodingError as err:
        return b"", err.code


def bits_of(symbol: int) -> str:
    return format(REQUEST_CODES[symbol], f"0{REQUEST_CODES_LENGTH[symbol]}b")


def pack(bits: str) -> bytes:
    assert len(bits) % 8 == 0
    return int(bits, 2).to_bytes(len(bits) // 8, "big") if bits else b""


@pytest.mark.parametrize("value", range(256))
def test_every_byte_round_trips(value: int) -> None:
    one = bytes([value])
    coded = huffman_encode(one)
    assert coded == REFERENCE.encode(one)
    assert huffman_decode(coded) == one
    assert huffman_decode(coded * 1) == one


def test_all_bytes_in_one_string() -> None:
    every = bytes(range(256)) * 3
    coded = huffman_encode(every)
    assert coded == REFERENCE.encode(every)
    assert huffman_decode(coded) == every


@pytest.mark.parametrize(("plain", "coded"), RFC_STRINGS, ids=[p.decode()[:20] for p, _ in RFC_STRINGS])
def test_rfc_appendix_c_strings(plain: bytes, coded: str) -> None:
    assert huffman_encode(plain).hex() == coded
    assert huffman_decode(bytes.fromhex(coded)) == plain


def test_empty_and_buffer_inputs() -> None:
    assert huffman_encode(b"") == b""
    assert huffman_decode(b"") == b""
    assert huffman_decode(bytearray.fromhex("f1e3c2e5f23a6ba0ab90f4ff")) == b"www.example.com"
    assert huffman_decode(memoryview(bytes.fromhex("9bd9ab"))) == b"gzip"
    assert huffman_encode(bytearray(b"gzip")) == bytes.fromhex("9bd9ab")
    with pytest.raises(TypeError):
        huffman_encode("gzip")  # type: ignore[arg-type]


@pytest.mark.parametrize("pad", range(1, 8))
def test_every_legal_padding_length(pad: int) -> None:
    # A symbol (or two) whose code leaves exactly `pad` bits to fill.
    for a in range(256):
        for b in (None, *range(32, 127)):
            bits = bits_of(a) + (bits_of(b) if b is not None else "")
            if (8 - len(bits) % 8) % 8 == pad:
                plain = bytes([a] if b is None else [a, b])
                assert huffman_decode(pack(bits + "1" * pad)) == plain
                # The same padding with a zero bit: an error while it is too short to hold a code
                # (the shortest is 5 bits), else at best another symbol.
                for zero in range(pad):
                    bad = pack(bits + "1" * zero + "0" + "1" * (pad - zero - 1))
                    if pad < 5:
                        with pytest.raises(HPACKDecodingError) as err:
                            huffman_decode(bad)
                        assert err.value.code == "huffman_padding"
                    else:
                        decoded, code = attempt(bad)
                        assert code == "huffman_padding" or len(decoded) > len(plain)
                return
    raise AssertionError(f"no string with {pad} bits of padding")


def test_padding_of_eight_bits_or_more() -> None:
    for extra in (b"\xff", b"\xff\xff"):
        with pytest.raises(HPACKDecodingError) as err:
            huffman_decode(huffman_encode(b"a") + extra)
        assert err.value.code == "huffman_padding"
    with pytest.raises(HPACKDecodingError) as err:
        huffman_decode(b"\xff")
    assert err.value.code == "huffman_padding"
    assert err.value.offset == 0


def test_padding_not_ones() -> None:
    with pytest.raises(HPACKDecodingError) as err:
        huffman_decode(bytes([0b00011000]))  # 'a' then 000
    assert err.value.code == "huffman_padding"
    assert huffman_decode(bytes([0b00011111])) == b"a"


def test_eos_in_data() -> None:
    eos = "1" * 30
    for before in ("", bits_of(ord("a"))):
        bits = before + eos
        bits += "1" * ((8 - len(bits) % 8) % 8)
        with pytest.raises(HPACKDecodingError) as err:
            huffman_decode(pack(bits))
        assert err.value.code == "huffman_eos"
    # EOS followed by a valid symbol is just as wrong, and the offset is where EOS ended.
    bits = eos + "00" + bits_of(ord("a")) + "111"
    bits += "1" * ((8 - len(bits) % 8) % 8)
    with pytest.raises(HPACKDecodingError) as err:
        huffman_decode(pack(bits))
    assert err.value.code == "huffman_eos"
    assert err.value.offset == 3


def test_every_single_symbol_cut_short_is_an_error_or_a_prefix() -> None:
    # Dropping the last byte of a long code leaves bits that are not a whole symbol: an error,
    # unless they happen to be a legal padding (all ones, at most 7 bits).
    for symbol in range(256):
        bits = bits_of(symbol)
        if len(bits) <= 8:
            continue
        cut = bits[: (len(bits) - 1) // 8 * 8]
        tail_ones = len(cut) - len(cut.rstrip("1"))
        if set(cut) == {"1"} and len(cut) <= 7:
            continue
        try:
            decoded = huffman_decode(pack(cut))
        except HPACKDecodingError:
            continue
        assert tail_ones <= 7
        assert huffman_encode(decoded) != pack(bits)


@given(st.binary(max_size=300))
def test_round_trip(data: bytes) -> None:
    coded = huffman_encode(data)
    assert coded == REFERENCE.encode(data)
    assert huffman_decode(coded) == data


@given(st.binary(max_size=64))
def test_random_input_decodes_or_raises_the_package_error(data: bytes) -> None:
    try:
        decoded = huffman_decode(data)
    except HPACKDecodingError as err:
        error = err
    else:
        assert huffman_encode(decoded) == data
        return
    assert error.code in ("huffman_eos", "huffman_padding")
    assert error.offset is not None
    assert 0 <= error.offset < len(data)


def test_committed_table_is_what_the_generator_writes() -> None:
    """include/fasterapi/hpack/huffman_table.hpp is tools/gen_huffman_table.py's output, unedited."""
    tool = Path(__file__).resolve().parent.parent / "tools" / "gen_huffman_table.py"
    spec = importlib.util.spec_from_file_location("gen_huffman_table", tool)
    assert spec is not None
    assert spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    codes, lengths = gen.from_python_hpack()
    gen.check_canonical(codes, lengths)
    assert gen.OUT.read_text() == gen.render(lengths), "regenerate: python tools/gen_huffman_table.py"
    # The shipped copy (an installed wheel's, or the same file in an editable install) too.
    shipped = Path(fasterapi_hpack.get_include()) / "fasterapi" / "hpack" / "huffman_table.hpp"
    assert shipped.read_text() == gen.render(lengths)
