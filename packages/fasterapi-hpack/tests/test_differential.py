"""Differential tests: fasterapi_hpack against python-hpack, on generated connections and on bad input.

Round trips: a connection is a sequence of header blocks, each preceded by zero to two
SETTINGS_HEADER_TABLE_SIZE changes; fields repeat across blocks (so the dynamic table is used, and
evicts at small sizes), some are sensitive (NeverIndexedHeaderTuple, or the (name, value, True) form).
Every pair of encoder and decoder -- ours -> python-hpack, python-hpack -> ours, ours -> ours, and
python-hpack -> python-hpack, which proves the test -- must give back the input, with the sensitive
fields and only those as NeverIndexedHeaderTuple. Sensitive is what the caller marks, or, for our
encoder with its default never_index_sensitive=True, a credential (auto_sensitive); with the rule off,
our encoder must flag exactly what the caller marks, as python-hpack does.

Bad input: random octets and damaged valid blocks go to a fresh decoder of each. Where both accept
they must agree; where one refuses what the other accepts, the input must show a rule of LAXITIES that
names the one that accepts (the witness test checks that each rule is real).
"""

from __future__ import annotations

import contextlib
import string
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import hpack
import pytest
from hpack_corpus import Field, import_or_skip, representations
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

OURS = "fasterapi_hpack"

SETTINGS = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- generated connections ---------------------------------------------------------------------------

COMMON_NAMES = (
    ":method",
    ":scheme",
    ":authority",
    ":path",
    ":status",
    "accept",
    "accept-encoding",
    "accept-language",
    "authorization",
    "cache-control",
    "content-length",
    "content-type",
    "cookie",
    "date",
    "etag",
    "location",
    "referer",
    "set-cookie",
    "user-agent",
    "x-request-id",
)
COMMON_VALUES = ("GET", "POST", "/", "/index.html", "https", "http", "200", "404", "gzip, deflate", "", "*/*")
TOKEN = string.ascii_lowercase + string.digits + "!#$%&'*+-.^_`|~"
VISIBLE = bytes(range(0x20, 0x7F))

TABLE_SIZES = st.one_of(
    st.sampled_from([0, 1, 32, 33, 64, 100, 256, 512, 4096, 8192, 65536]), st.integers(0, 5000)
)


@dataclass(frozen=True)
class Header:
    name: bytes
    value: bytes
    sensitive: bool
    form: str  # "tuple": (n, v) or (n, v, sensitive); "header_tuple": HeaderTuple / NeverIndexedHeaderTuple
    as_str: bool  # handed to the encoder as str (only when name and value are UTF-8)

    def utf8(self) -> bool:
        try:
            self.name.decode()
            self.value.decode()
        except UnicodeDecodeError:
            return False
        return True

    def for_encoder(self, mod: ModuleType) -> Any:
        n: bytes | str = self.name
        v: bytes | str = self.value
        if self.as_str and self.utf8():
            n, v = self.name.decode(), self.value.decode()
        if self.form == "header_tuple":
            return (mod.NeverIndexedHeaderTuple if self.sensitive else mod.HeaderTuple)(n, v)
        return (n, v, True) if self.sensitive else (n, v)


@dataclass(frozen=True)
class Block:
    table_sizes: tuple[int, ...]  # SETTINGS_HEADER_TABLE_SIZE changes (ACKed) before this block
    headers: tuple[Header, ...]


names = st.one_of(st.sampled_from(COMMON_NAMES), st.text(TOKEN, min_size=1, max_size=24)).map(str.encode)
values = st.one_of(
    st.sampled_from(COMMON_VALUES).map(str.encode),
    st.binary(max_size=60),  # HPACK carries any octets (validating them is HTTP/2's job)
    st.lists(st.sampled_from(VISIBLE), max_size=120).map(bytes),
    st.text(max_size=30).map(str.encode),  # UTF-8 beyond ASCII
)
headers = st.builds(
    Header,
    name=names,
    value=values,
    sensitive=st.booleans(),
    form=st.sampled_from(["tuple", "header_tuple"]),
    as_str=st.booleans(),
)


@st.composite
def connections(draw: st.DrawFn) -> list[Block]:
    pool = draw(st.lists(headers, min_size=1, max_size=10))
    blocks = []
    for _ in range(draw(st.integers(1, 6))):
        # unique: python-hpack's encoder forgets a pending update when one size is set twice in a row.
        sizes = draw(st.lists(TABLE_SIZES, max_size=2, unique=True))
        fields = draw(st.lists(st.sampled_from(pool) | headers, max_size=14))
        blocks.append(Block(tuple(sizes), tuple(fields)))
    return blocks


# Our encoder's automatic rule (RFC 7541 7.1.3), written out independently of it.
CREDENTIALS = frozenset({b"authorization", b"proxy-authorization", b"set-cookie"})


def auto_sensitive(h: Header) -> bool:
    return h.name in CREDENTIALS or (h.name == b"cookie" and len(h.value) < 20)


# --- the pairs ---------------------------------------------------------------------------------------

PAIRS = [
    pytest.param((OURS, "hpack"), id="ours->python-hpack"),
    pytest.param(("hpack", OURS), id="python-hpack->ours"),
    pytest.param((OURS, OURS), id="ours->ours"),
    pytest.param(("hpack", "hpack"), id="python-hpack->python-hpack"),
]


@pytest.fixture(params=PAIRS)
def pair(request: pytest.FixtureRequest) -> tuple[ModuleType, ModuleType]:
    enc, dec = request.param
    return import_or_skip(enc), import_or_skip(dec)


@pytest.fixture(params=[pytest.param(OURS, id="ours"), pytest.param("hpack", id="python-hpack")])
def hp(request: pytest.FixtureRequest) -> ModuleType:
    return import_or_skip(request.param)


def run_connection(
    enc_mod: ModuleType,
    dec_mod: ModuleType,
    blocks: list[Block],
    *,
    huffman: bool,
    raw: bool,
    never_index_sensitive: bool = True,
) -> None:
    if enc_mod is hpack:
        encoder, automatic = enc_mod.Encoder(), False
    else:
        encoder = enc_mod.Encoder(never_index_sensitive=never_index_sensitive)
        automatic = never_index_sensitive
    decoder = dec_mod.Decoder()
    for k, block in enumerate(blocks):
        if block.table_sizes:
            decoder.max_allowed_table_size = max(decoder.max_allowed_table_size, *block.table_sizes)
            for size in block.table_sizes:
                encoder.header_table_size = size
        wire = encoder.encode([h.for_encoder(enc_mod) for h in block.headers], huffman=huffman)
        where = f"block {k} of {len(blocks)}: {wire.hex()}"
        if not raw and not all(h.utf8() for h in block.headers):
            with pytest.raises(dec_mod.HPACKDecodingError):
                decoder.decode(wire)
            return  # a decoding error ends the connection
        got = decoder.decode(wire, raw=raw)
        want = [(h.name, h.value) if raw else (h.name.decode(), h.value.decode()) for h in block.headers]
        assert [tuple(h) for h in got] == want, where
        # A sensitive field is sent never-indexed (RFC 7541 7.1.3) and decoded as NeverIndexedHeaderTuple,
        # the others are not.
        fields = [f for f in representations(wire) if f.kind != "size_update"]
        for i, (h, f, g) in enumerate(zip(block.headers, fields, got, strict=True)):
            sensitive = h.sensitive or (automatic and auto_sensitive(h))
            if sensitive and f.kind == "indexed" and (f.index <= 61 or enc_mod is hpack):
                # A field found whole in the static table is public: both send it indexed, sensitive or
                # not (python-hpack also one found in the dynamic table).
                continue
            assert (f.kind == "never_indexed") is sensitive, f"{where}: field {i} sent {f.kind}"
            want = dec_mod.NeverIndexedHeaderTuple if sensitive else dec_mod.HeaderTuple
            assert type(g) is want, f"{where}: field {i} decoded as {type(g).__name__}"
        assert decoder.header_table_size == encoder.header_table_size, where
        if block.table_sizes:
            decoder.max_allowed_table_size = block.table_sizes[-1]


@SETTINGS
@given(blocks=connections(), huffman=st.booleans(), raw=st.booleans())
def test_round_trip(
    pair: tuple[ModuleType, ModuleType], blocks: list[Block], huffman: bool, raw: bool
) -> None:
    run_connection(*pair, blocks, huffman=huffman, raw=raw)


@SETTINGS
@given(blocks=connections(), huffman=st.booleans(), raw=st.booleans())
@pytest.mark.parametrize("dec", [OURS, "hpack"], ids=["ours->ours", "ours->python-hpack"])
def test_round_trip_without_automatic_rule(dec: str, blocks: list[Block], huffman: bool, raw: bool) -> None:
    """never_index_sensitive=False: exactly the caller's fields are never-indexed, as with python-hpack."""
    ours, decoder = import_or_skip(OURS), import_or_skip(dec)
    run_connection(ours, decoder, blocks, huffman=huffman, raw=raw, never_index_sensitive=False)


def test_automatic_rule() -> None:
    """The rule the round trips expect of our encoder: on by default, off on request."""
    ours = import_or_skip(OURS)
    for name, value, kind in [
        (b"authorization", b"x", "never_indexed"),
        (b"cookie", b"c" * 19, "never_indexed"),
        (b"cookie", b"c" * 20, "incremental"),
        (b"x-token", b"x", "incremental"),
    ]:
        field = [(name, value)]
        assert auto_sensitive(Header(name, value, False, "tuple", False)) is (kind == "never_indexed")
        assert [f.kind for f in representations(ours.Encoder().encode(field))] == [kind], name
        off = ours.Encoder(never_index_sensitive=False)
        assert [f.kind for f in representations(off.encode(field))] == ["incremental"], name


def test_dict_input(hp: ModuleType) -> None:
    """A dict is encoded with the pseudo-header fields first (python-hpack's rule)."""
    headers = {"user-agent": "x", ":path": "/", "accept": "*/*", ":method": "GET"}
    wire = hp.Encoder().encode(headers)
    decoded: object = hpack.Decoder().decode(wire)  # its annotations say bytes; it returns str
    assert decoded == [
        (":path", "/"),
        (":method", "GET"),
        ("user-agent", "x"),
        ("accept", "*/*"),
    ]


def test_repeated_size_setting_is_signalled(hp: ModuleType) -> None:
    """Setting one size twice before a block still signals it once. python-hpack loses the update."""
    encoder = hp.Encoder()
    encoder.header_table_size = 100
    encoder.header_table_size = 100
    wire = encoder.encode([])
    if hp is hpack:
        assert wire == b"", "python-hpack now signals the update: drop this exception"
        return
    assert wire == bytes.fromhex("3f45")


# --- bad input ---------------------------------------------------------------------------------------

Outcome = tuple[str, object]


def outcome(mod: ModuleType, data: bytes, raw: bool) -> Outcome:
    """("ok", [(never_indexed, name, value)]) or ("error", the kind of HPACKDecodingError)."""
    decoder = mod.Decoder()
    try:
        got = decoder.decode(data, raw=raw)
    except mod.HPACKDecodingError as exc:
        for kind in ("OversizedHeaderListError", "InvalidTableSizeError", "InvalidTableIndex"):
            if isinstance(exc, getattr(mod, kind)):
                return ("error", kind)
        return ("error", "HPACKDecodingError")
    # Anything but an HPACKDecodingError escaping (IndexError, ValueError...) fails the test right here.
    return ("ok", [(type(h) is mod.NeverIndexedHeaderTuple, h[0], h[1]) for h in got])


def _fields(data: bytes) -> list[Field]:
    try:
        return representations(data)
    except ValueError:
        return []


def _integers(data: bytes) -> list[int]:
    """Every prefix integer of the block, up to where it breaks off."""
    seen: list[int] = []
    with contextlib.suppress(ValueError):
        representations(data, seen)
    return seen


# Where python-hpack and we differ in accepting a header block: rule -> (who accepts, why), and the
# test on the input that shows the rule. Only rules met by the tests are listed, and each has a witness.
LAXITIES: dict[str, tuple[str, str]] = {
    "more_than_two_size_updates": (
        "hpack",
        "python-hpack takes any number of dynamic table size updates; RFC 7541 4.2 has an encoder send at "
        "most two (the smallest and the final size), so a third is only work for the decoder",
    ),
}
LAXITY_TESTS: dict[str, Callable[[bytes], bool]] = {
    "more_than_two_size_updates": lambda data: sum(f.kind == "size_update" for f in _fields(data)) > 2,
}
LAXITY_WITNESSES: dict[str, bytes] = {
    "more_than_two_size_updates": bytes.fromhex("202a3f01"),  # 0, 10, 32
}

# Where both refuse a block but raise different exceptions: rule -> ((python-hpack's, ours), why).
ERROR_KIND_RULES: dict[str, tuple[tuple[str, str], str]] = {
    "integer_past_32_bits": (
        ("InvalidTableIndex", "HPACKDecodingError"),
        "an index past 2^32-1: python-hpack reads it and finds no such entry, we refuse the integer "
        "itself (RFC 7541 5.1: encodings past an implementation's limits are decoding errors)",
    ),
    "size_past_32_bits": (
        ("InvalidTableSizeError", "HPACKDecodingError"),
        "a table size past 2^32-1: python-hpack compares it with the maximum, we refuse the integer",
    ),
}
ERROR_KIND_TESTS: dict[str, Callable[[bytes], bool]] = {
    "integer_past_32_bits": lambda data: any(i > 0xFFFFFFFF for i in _integers(data)),
    "size_past_32_bits": lambda data: any(i > 0xFFFFFFFF for i in _integers(data)),
}
ERROR_KIND_WITNESSES: dict[str, bytes] = {
    "integer_past_32_bits": bytes.fromhex("ffffffffff7f"),
    "size_past_32_bits": bytes.fromhex("3fffffffff7f"),
}


def test_rules_are_consistent() -> None:
    assert LAXITIES.keys() == LAXITY_TESTS.keys() == LAXITY_WITNESSES.keys()
    assert ERROR_KIND_RULES.keys() == ERROR_KIND_TESTS.keys() == ERROR_KIND_WITNESSES.keys()
    for rule, data in LAXITY_WITNESSES.items():
        assert LAXITY_TESTS[rule](data), rule
    for rule, data in ERROR_KIND_WITNESSES.items():
        assert ERROR_KIND_TESTS[rule](data), rule


@pytest.mark.parametrize("rule", list(LAXITIES))
def test_laxity_witness(rule: str) -> None:
    """Each rule is real: its witness is accepted by the one it names, refused by the other."""
    data = LAXITY_WITNESSES[rule]
    accepts = LAXITIES[rule][0]
    if accepts == "hpack":  # the half that holds before our module exists
        assert outcome(hpack, data, raw=True)[0] == "ok", rule
    ours = import_or_skip(OURS)
    got = {"hpack": outcome(hpack, data, raw=True)[0], OURS: outcome(ours, data, raw=True)[0]}
    assert got == {accepts: "ok", ({"hpack", OURS} - {accepts}).pop(): "error"}, (rule, data.hex())


@pytest.mark.parametrize("rule", list(ERROR_KIND_RULES))
def test_error_kind_witness(rule: str) -> None:
    data = ERROR_KIND_WITNESSES[rule]
    theirs, mine = ERROR_KIND_RULES[rule][0]
    assert outcome(hpack, data, raw=True) == ("error", theirs), rule
    ours = import_or_skip(OURS)
    assert outcome(ours, data, raw=True) == ("error", mine), rule


@st.composite
def damaged_blocks(draw: st.DrawFn) -> bytes:
    """A valid block (python-hpack's encoding of generated fields) with one to three octets changed."""
    fields = draw(st.lists(headers, min_size=1, max_size=6))
    wire = bytearray(
        hpack.Encoder().encode([h.for_encoder(hpack) for h in fields], huffman=draw(st.booleans()))
    )
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]))
        pos = draw(st.integers(0, max(len(wire) - 1, 0)))
        if op == "flip" and wire:
            wire[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and wire:
            wire[pos] = draw(st.integers(0, 255))
        elif op == "insert":
            wire.insert(pos, draw(st.integers(0, 255)))
        elif op == "delete" and wire:
            del wire[pos]
        elif op == "truncate":
            del wire[pos:]
    return bytes(wire)


@SETTINGS
@given(data=st.binary(max_size=48) | damaged_blocks(), raw=st.booleans())
def test_bad_input_agreement(data: bytes, raw: bool) -> None:
    ours = import_or_skip(OURS)
    theirs, mine = outcome(hpack, data, raw), outcome(ours, data, raw)
    if theirs[0] == mine[0] == "ok":
        assert mine == theirs, data.hex()
        return
    if theirs[0] == mine[0] == "error":
        kinds = (theirs[1], mine[1])
        explained = [r for r, (k, _) in ERROR_KIND_RULES.items() if k == kinds and ERROR_KIND_TESTS[r](data)]
        # We may refuse sooner, for a rule python-hpack is lax about, what it refuses further on.
        explained += [r for r, (who, _) in LAXITIES.items() if who == "hpack" and LAXITY_TESTS[r](data)]
        assert kinds[0] == kinds[1] or explained, (
            f"both refuse {data.hex()} (raw={raw}), python-hpack {kinds}"
        )
        return
    accepts = "hpack" if theirs[0] == "ok" else OURS
    rules = [r for r, (who, _) in LAXITIES.items() if who == accepts and LAXITY_TESTS[r](data)]
    assert rules, f"{accepts} alone accepts {data.hex()} (raw={raw}): python-hpack {theirs}, ours {mine}"
