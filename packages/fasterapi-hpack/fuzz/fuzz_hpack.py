"""Fuzz target of fasterapi_hpack: decode arbitrary bytes as header blocks, re-encode what decodes.

    python fuzz/fuzz_hpack.py -max_total_time=60 CORPUS_DIR [SEED_DIR ...]

The first input byte picks the options (raw or str, a small or the default header list limit, a
small or the default table), the second the length of the first block; the rest is two blocks
decoded on one connection. Invariants, checked by `check_one` (the test suite replays
fuzz/corpus/ through it):
- nothing escapes but HPACKDecodingError (the package's own error), with a code and an offset
  inside the block;
- a decoder that raised raises the same error again (code and offset) on any later block, unless
  the error was only invalid UTF-8;
- what decodes, re-encoded by the encoder and decoded by a fresh decoder, is the same list;
- the Huffman code round trips the input, and decoding the input as a Huffman string either fails
  with a Huffman error or gives a string whose code is the input.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from fasterapi_hpack import Decoder, Encoder, HPACKDecodingError, huffman_decode, huffman_encode


class InvariantError(AssertionError):
    """The codec broke its contract on this input."""


def check_one(data: bytes) -> None:
    if len(data) < 2:
        return
    flags, cut, stream = data[0], data[1], data[2:]
    raw = bool(flags & 1)
    limit = 200 if flags & 2 else 65536
    table = 256 if flags & 4 else 4096
    blocks = [stream[:cut], stream[cut:]]

    decoder = Decoder(max_header_list_size=limit)
    if table != 4096:
        decoder.max_allowed_table_size = table
        decoder.header_table_size = table
    encoder = Encoder()
    encoder.header_table_size = table
    mirror = Decoder(max_header_list_size=2**32)
    mirror.max_allowed_table_size = table
    for block in blocks:
        try:
            headers = decoder.decode(block, raw=raw)
        except HPACKDecodingError as err:
            if err.code is None or err.offset is None or not 0 <= err.offset <= len(block):
                raise InvariantError(f"error without a code or a valid offset: {err!r}") from None
            if err.code == "invalid_utf8":
                continue
            try:
                decoder.decode(b"\x82")
            except HPACKDecodingError as again:
                if (again.code, again.offset) != (err.code, err.offset):
                    raise InvariantError(f"the error changed: {err!r} then {again!r}") from None
            else:
                raise InvariantError("a decoder in error accepted more input") from None
            break
        fields = [tuple(h) for h in headers]
        echoed = mirror.decode(encoder.encode(headers), raw=raw)
        if [tuple(h) for h in echoed] != fields:
            raise InvariantError(f"re-encoding changed the headers: {fields!r} -> {echoed!r}")

    if huffman_decode(huffman_encode(stream)) != stream:
        raise InvariantError("the Huffman code does not round trip")
    try:
        plain = huffman_decode(stream)
    except HPACKDecodingError as err:
        if err.code not in ("huffman_eos", "huffman_padding"):
            raise InvariantError(f"unexpected Huffman error {err!r}") from None
    else:
        if huffman_encode(plain) != stream:
            raise InvariantError("a Huffman string decoded to something whose code differs")


def main() -> None:
    # Only the fuzzer needs atheris (the fuzz extra), which ships no type information.
    atheris: Any = importlib.import_module("atheris")

    atheris.instrument_all()
    atheris.Setup(sys.argv, check_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
