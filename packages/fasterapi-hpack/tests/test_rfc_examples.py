"""RFC 7541 Appendix C, byte for byte: each example's header block decodes to its header list and leaves
the dynamic table the RFC lists (entries and size); encoding the header list with the same settings
gives the RFC's octets.

The dynamic table is read through the public API only: after replaying requests 1..N into a fresh
decoder, indexed representations 62.. (which leave the table as it is) return its entries, newest
first, and the index after the last entry is refused.

C.5 and C.6 assume SETTINGS_HEADER_TABLE_SIZE = 256 from the start. Through the hpack API that is
``header_table_size = 256`` on the encoder, which (4096 being the initial size) signals the change: the
first block is the RFC's octets after the update 3f e1 01; the decoder is given the size directly.
Our encoder is made with ``never_index_sensitive=False``: the RFC's encoder indexes set-cookie (C.5.3,
C.6.3), where ours by default sends it never-indexed (checked on its own below).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest
from hpack_corpus import encode_indexed, implementation_params, import_or_skip

Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Block:
    section: str
    wire: bytes
    headers: Headers
    table: Headers  # the dynamic table after decoding, [1] (newest) first
    table_size: int  # "Table size:" as the RFC prints it
    never_indexed: frozenset[int] = frozenset()  # positions in `headers` sent as never indexed


@dataclass(frozen=True)
class Example:
    section: str
    huffman: bool
    table_size: int  # SETTINGS_HEADER_TABLE_SIZE
    blocks: tuple[Block, ...]
    encodable: bool = True  # False: the hpack API cannot ask for the RFC's representation


def hx(text: str) -> bytes:
    return bytes.fromhex(text)


AUTHORITY = (":authority", "www.example.com")
REQ1: Headers = ((":method", "GET"), (":scheme", "http"), (":path", "/"), AUTHORITY)
REQ2: Headers = (*REQ1, ("cache-control", "no-cache"))
REQ3: Headers = (
    (":method", "GET"),
    (":scheme", "https"),
    (":path", "/index.html"),
    AUTHORITY,
    ("custom-key", "custom-value"),
)
REQ_TABLES = (
    (AUTHORITY,),
    (("cache-control", "no-cache"), AUTHORITY),
    (("custom-key", "custom-value"), ("cache-control", "no-cache"), AUTHORITY),
)

DATE1 = ("date", "Mon, 21 Oct 2013 20:13:21 GMT")
DATE2 = ("date", "Mon, 21 Oct 2013 20:13:22 GMT")
LOCATION = ("location", "https://www.example.com")
PRIVATE = ("cache-control", "private")
COOKIE = ("set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1")
RESP1: Headers = ((":status", "302"), PRIVATE, DATE1, LOCATION)
RESP2: Headers = ((":status", "307"), PRIVATE, DATE1, LOCATION)
RESP3: Headers = ((":status", "200"), PRIVATE, DATE2, LOCATION, ("content-encoding", "gzip"), COOKIE)
RESP_TABLES = (
    (LOCATION, DATE1, PRIVATE, (":status", "302")),
    ((":status", "307"), LOCATION, DATE1, PRIVATE),
    (COOKIE, ("content-encoding", "gzip"), DATE2),
)


def requests(section: str, huffman: bool, wires: tuple[str, str, str]) -> Example:
    blocks = tuple(
        Block(f"{section}.{i + 1}", hx(w), h, t, s)
        for i, (w, h, t, s) in enumerate(
            zip(wires, (REQ1, REQ2, REQ3), REQ_TABLES, (57, 110, 164), strict=True)
        )
    )
    return Example(section, huffman, 4096, blocks)


def responses(section: str, huffman: bool, wires: tuple[str, str, str]) -> Example:
    blocks = tuple(
        Block(f"{section}.{i + 1}", hx(w), h, t, s)
        for i, (w, h, t, s) in enumerate(
            zip(wires, (RESP1, RESP2, RESP3), RESP_TABLES, (222, 222, 215), strict=True)
        )
    )
    return Example(section, huffman, 256, blocks)


def single(
    section: str,
    wire: str,
    header: tuple[str, str],
    table: Headers,
    size: int,
    *,
    never_indexed: bool = False,
    encodable: bool = True,
) -> Example:
    never = frozenset({0}) if never_indexed else frozenset()
    block = Block(section, hx(wire), (header,), table, size, never)
    return Example(section, False, 4096, (block,), encodable=encodable)


EXAMPLES = [
    # C.2.1 Literal Header Field with Indexing
    single(
        "C.2.1",
        "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572",
        ("custom-key", "custom-header"),
        (("custom-key", "custom-header"),),
        55,
    ),
    # C.2.2 Literal Header Field without Indexing: the hpack API has no way to ask for "without indexing".
    single("C.2.2", "040c 2f73 616d 706c 652f 7061 7468", (":path", "/sample/path"), (), 0, encodable=False),
    # C.2.3 Literal Header Field Never Indexed
    single(
        "C.2.3",
        "1008 7061 7373 776f 7264 0673 6563 7265 74",
        ("password", "secret"),
        (),
        0,
        never_indexed=True,
    ),
    # C.2.4 Indexed Header Field
    single("C.2.4", "82", (":method", "GET"), (), 0),
    # C.3 Request Examples without Huffman Coding
    requests(
        "C.3",
        False,
        (
            "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
            "8286 84be 5808 6e6f 2d63 6163 6865",
            "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
        ),
    ),
    # C.4 Request Examples with Huffman Coding
    requests(
        "C.4",
        True,
        (
            "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
            "8286 84be 5886 a8eb 1064 9cbf",
            "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
        ),
    ),
    # C.5 Response Examples without Huffman Coding (SETTINGS_HEADER_TABLE_SIZE 256)
    responses(
        "C.5",
        False,
        (
            "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133"
            "2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70"
            "6c65 2e63 6f6d",
            "4803 3330 37c1 c0bf",
            "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d"
            "54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049"
            "5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e"
            "3d31",
        ),
    ),
    # C.6 Response Examples with Huffman Coding (SETTINGS_HEADER_TABLE_SIZE 256)
    responses(
        "C.6",
        True,
        (
            "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6"
            "2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
            "4883 640e ffc1 c0bf",
            "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab"
            "77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f"
            "9587 3160 65c0 03ed 4ee5 b106 3d50 07",
        ),
    ),
]
BY_SECTION = {e.section: e for e in EXAMPLES}

#: The dynamic table size update to 256 (RFC 7541 6.3: 001, then 256 on a 5-bit prefix).
UPDATE_TO_256 = hx("3fe101")


@pytest.fixture(params=implementation_params())
def hp(request: pytest.FixtureRequest) -> ModuleType:
    return import_or_skip(request.param)


def new_decoder(hp: ModuleType, example: Example) -> Any:
    decoder = hp.Decoder()
    if example.table_size != 4096:
        decoder.max_allowed_table_size = example.table_size
        decoder.header_table_size = example.table_size
    return decoder


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.section)
def test_table_sizes_as_printed(example: Example) -> None:
    """The typed-in tables add up to the sizes the RFC prints (32 octets of overhead per entry, 4.1)."""
    for block in example.blocks:
        assert sum(32 + len(n) + len(v) for n, v in block.table) == block.table_size, block.section


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.section)
@pytest.mark.parametrize("raw", [False, True], ids=["str", "raw"])
def test_decode(hp: ModuleType, example: Example, raw: bool) -> None:
    decoder = new_decoder(hp, example)
    for block in example.blocks:
        got = decoder.decode(block.wire, raw=raw)
        want = [(n.encode(), v.encode()) if raw else (n, v) for n, v in block.headers]
        assert [tuple(h) for h in got] == want, block.section
        for i, h in enumerate(got):
            cls = hp.NeverIndexedHeaderTuple if i in block.never_indexed else hp.HeaderTuple
            assert type(h) is cls, f"{block.section} field {i}: {type(h).__name__}"
            assert h.indexable is (i not in block.never_indexed), block.section
        assert decoder.header_table_size == example.table_size, block.section


def new_encoder(hp: ModuleType, *, never_index_sensitive: bool) -> Any:
    """python-hpack has no automatic rule: it never-indexes only what the caller marks."""
    if hp.__name__ == "hpack":
        return hp.Encoder()
    return hp.Encoder(never_index_sensitive=never_index_sensitive)


def read_dynamic_table(hp: ModuleType, example: Example, upto: int) -> list[tuple[bytes, bytes]]:
    """The dynamic table after blocks 0..upto, through indexed representations 62, 63, ..."""
    decoder = new_decoder(hp, example)
    for block in example.blocks[: upto + 1]:
        decoder.decode(block.wire, raw=True)
    entries: list[tuple[bytes, bytes]] = []
    for index in range(62, 62 + 64):
        try:
            (entry,) = decoder.decode(encode_indexed(index), raw=True)
        except hp.InvalidTableIndex:
            return entries
        entries.append(tuple(entry))
    raise AssertionError(f"{example.section}: more than 64 dynamic table entries")


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.section)
def test_dynamic_table(hp: ModuleType, example: Example) -> None:
    for upto, block in enumerate(example.blocks):
        got = read_dynamic_table(hp, example, upto)
        assert got == [(n.encode(), v.encode()) for n, v in block.table], block.section
        assert sum(32 + len(n) + len(v) for n, v in got) == block.table_size, block.section


# C.2.2 is left out: the hpack API cannot ask for "without indexing" (its decoding is checked).
@pytest.mark.parametrize("example", [e for e in EXAMPLES if e.encodable], ids=lambda e: e.section)
def test_encode(hp: ModuleType, example: Example) -> None:
    encoder = new_encoder(hp, never_index_sensitive=False)
    if example.table_size != 4096:
        encoder.header_table_size = example.table_size
    got: list[bytes] = []
    for k, block in enumerate(example.blocks):
        headers = [
            hp.NeverIndexedHeaderTuple(n, v) if i in block.never_indexed else hp.HeaderTuple(n, v)
            for i, (n, v) in enumerate(block.headers)
        ]
        wire = encoder.encode(headers, huffman=example.huffman)
        if k == 0 and example.table_size != 4096:
            assert wire[:3] == UPDATE_TO_256, f"{block.section}: {wire.hex()}"
            wire = wire[3:]
        got.append(wire)
    for block, wire in zip(example.blocks, got, strict=True):
        assert wire.hex(" ") == block.wire.hex(" "), block.section


@pytest.mark.parametrize("section", ["C.5", "C.6"])
def test_encode_set_cookie_never_indexed_by_default(section: str) -> None:
    """With the automatic rule on, C.x.3's set-cookie goes out never-indexed and stays out of the table;
    the rest of the block is the RFC's (its other fields are found in the table as the RFC's are)."""
    hp = import_or_skip("fasterapi_hpack")
    example = BY_SECTION[section]
    encoder = hp.Encoder()
    assert encoder.never_index_sensitive is True
    encoder.header_table_size = example.table_size
    decoder = new_decoder(hp, example)
    for block in example.blocks:
        wire = encoder.encode(list(block.headers), huffman=example.huffman)
        got = decoder.decode(wire)
        assert [tuple(h) for h in got] == list(block.headers), block.section
        never = [i for i, h in enumerate(got) if type(h) is hp.NeverIndexedHeaderTuple]
        assert never == [i for i, (n, _) in enumerate(block.headers) if n == "set-cookie"], block.section
    last = example.blocks[-1]
    rfc_prefix = last.wire[: last.wire.index(bytes.fromhex("5a" if not example.huffman else "5a83"))]
    assert wire.startswith(rfc_prefix), wire.hex()
    # Without set-cookie's entry, block 3 evicts only what its date and content-encoding need.
    table = [("content-encoding", "gzip"), DATE2, (":status", "307"), LOCATION]
    assert sum(32 + len(n) + len(v) for n, v in table) == 222
    assert read_table_after(hp, decoder) == [(n.encode(), v.encode()) for n, v in table]


def read_table_after(hp: ModuleType, decoder: Any) -> list[tuple[bytes, bytes]]:
    entries: list[tuple[bytes, bytes]] = []
    for index in range(62, 62 + 64):
        try:
            (entry,) = decoder.decode(encode_indexed(index), raw=True)
        except hp.InvalidTableIndex:
            return entries
        entries.append(tuple(entry))
    raise AssertionError("more than 64 dynamic table entries")


# C.1 Integer Representation: 10 and 1337 on a 5-bit prefix are, in a header block, dynamic table size
# updates (001 in the top bits). (C.1.3, an 8-bit prefix, has no representation of its own in HPACK.)
@pytest.mark.parametrize(("size", "wire"), [(10, "2a"), (1337, "3f9a0a")], ids=["C.1.1", "C.1.2"])
def test_integer_examples(hp: ModuleType, size: int, wire: str) -> None:
    encoder = hp.Encoder()
    encoder.header_table_size = size
    assert encoder.encode([]).hex() == wire
    decoder = hp.Decoder()
    decoder.max_allowed_table_size = size
    assert decoder.decode(hx(wire)) == []
    assert decoder.header_table_size == size
