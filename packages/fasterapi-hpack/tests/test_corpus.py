"""The hpack-test-case corpus: every implementation's encoded stories decode to their header lists, and
every raw-data story, encoded by the implementation under test at several table sizes, with and without
Huffman, decodes to its header lists through python-hpack and through the implementation itself.

Each test runs against ``fasterapi_hpack`` (skipped until it imports) and against python-hpack, which
proves the reader and the tests.
"""

from __future__ import annotations

from types import ModuleType

import hpack
import pytest
from hpack_corpus import (
    MISSING,
    RAW_DATA,
    Story,
    encoded_implementations,
    implementation_params,
    import_or_skip,
    load_story,
    representations,
    story_names,
)


@pytest.fixture(params=implementation_params())
def hp(request: pytest.FixtureRequest) -> ModuleType:
    return import_or_skip(request.param)


def story_params(implementations: list[str]) -> list[object]:
    if MISSING:
        return [pytest.param(None, id="corpus-missing", marks=pytest.mark.skip(reason=MISSING))]
    return [
        pytest.param((impl, name), id=f"{impl}/{name}")
        for impl in implementations
        for name in story_names(impl)
    ]


def test_corpus_is_complete() -> None:
    """The reader sees the whole corpus (a reader that saw nothing would pass every other test)."""
    if MISSING:
        pytest.skip(MISSING)
    impls = encoded_implementations()
    assert set(impls) >= {"go-hpack", "nghttp2", "nghttp2-change-table-size", "python-hpack"}
    counts = {impl: len(story_names(impl)) for impl in [*impls, RAW_DATA]}
    assert all(n >= 31 for n in counts.values()), counts
    assert sum(len(load_story(RAW_DATA, n).cases) for n in story_names(RAW_DATA)) > 3000
    # The table size changes the corpus holds are read (1365 then 2730, with an update on the wire).
    story = load_story("nghttp2-change-table-size", "story_00")
    assert [c.header_table_size for c in story.cases] == [None, 1365, 2730]
    assert story.cases[1].wire is not None
    assert story.cases[1].wire.startswith(bytes.fromhex("3fb60a"))


# --- (1) decoding every implementation's stories ------------------------------------------------------


@pytest.mark.parametrize("story_id", story_params(encoded_implementations()))
def test_decode_story(hp: ModuleType, story_id: tuple[str, str]) -> None:
    story = load_story(*story_id)
    as_bytes, as_str = hp.Decoder(), hp.Decoder()
    for case in story.cases:
        assert case.wire is not None
        where = f"{story.id} seqno {case.seqno} (wire {case.wire.hex()})"
        if case.header_table_size is not None:  # SETTINGS_HEADER_TABLE_SIZE, sent and ACKed
            as_bytes.max_allowed_table_size = case.header_table_size
            as_str.max_allowed_table_size = case.header_table_size
        got = as_bytes.decode(case.wire, raw=True)
        assert [tuple(h) for h in got] == case.raw_headers(), where
        assert all(type(h) is hp.HeaderTuple for h in got), where  # nothing in the corpus is never-indexed
        got_str = as_str.decode(case.wire)
        assert [tuple(h) for h in got_str] == list(case.headers), where
        assert all(isinstance(n, str) and isinstance(v, str) for n, v in got_str), where
        # Where the encoder signalled a size (a dynamic table size update), the decoder took it.
        updates = [f.index for f in representations(case.wire) if f.kind == "size_update"]
        if updates:
            assert as_bytes.header_table_size == updates[-1], where
            assert as_str.header_table_size == updates[-1], where


# --- (2) encoding every raw-data story ----------------------------------------------------------------

# Table size schedules: case index -> the SETTINGS_HEADER_TABLE_SIZE values the encoder applies before
# that case (several: all signalled in one block). 4096 is the default (no update on the wire); 0
# disables the dynamic table; 256 evicts on nearly every field of these stories; 16384 needs the
# decoder's maximum raised first; "changing" shrinks, empties, grows and swings twice in one gap.
SCHEDULES: dict[str, dict[float, list[int]]] = {
    "4096": {},
    "0": {0: [0]},
    "256": {0: [256]},
    "1024": {0: [1024]},
    "16384": {0: [16384]},
    "changing": {0.25: [512], 0.5: [0], 0.6: [8192], 0.75: [64, 2048]},
}


def encode_story(hp: ModuleType, story: Story, schedule: dict[float, list[int]], huffman: bool) -> int:
    """Encodes the story with `hp`, decodes each block with python-hpack and `hp`; -> wire octets."""
    encoder = hp.Encoder()
    decoders = [hpack.Decoder(), hp.Decoder()]
    n = len(story.cases)
    at: dict[int, list[int]] = {}
    for frac, sizes in schedule.items():  # in order; in a short story, each on a case of its own
        i = max(int(frac * n), max(at, default=-1) + 1)
        if i < n:
            at[i] = sizes
    total = 0
    for i, case in enumerate(story.cases):
        for size in at.get(i, []):
            for d in decoders:
                d.max_allowed_table_size = max(size, d.max_allowed_table_size)
            encoder.header_table_size = size
        if i in at:  # the last SETTINGS value is the one ACKed: the decoders' maximum from now on
            for d in decoders:
                d.max_allowed_table_size = at[i][-1]
        headers = case.raw_headers()
        wire = encoder.encode(headers, huffman=huffman)
        where = f"{story.id} seqno {case.seqno}, table {encoder.header_table_size}, huffman {huffman}"
        fields = representations(wire)
        assert len([f for f in fields if f.kind != "size_update"]) == len(headers), where
        if not huffman:
            assert not any(f.name_huffman or f.value_huffman for f in fields), where
        if encoder.header_table_size == 0:
            assert not any(f.kind == "indexed" and f.index > 61 for f in fields), where
        for d in decoders:
            got = d.decode(wire, raw=True)
            assert [tuple(h) for h in got] == headers, f"{where}: {type(d).__module__} decoding {wire.hex()}"
            assert d.header_table_size == encoder.header_table_size, where
        total += len(wire)
    return total


@pytest.mark.parametrize("schedule", list(SCHEDULES))
@pytest.mark.parametrize("story_id", story_params([RAW_DATA]))
def test_encode_story(hp: ModuleType, story_id: tuple[str, str], schedule: str) -> None:
    story = load_story(*story_id)
    plain = encode_story(hp, story, SCHEDULES[schedule], huffman=False)
    coded = encode_story(hp, story, SCHEDULES[schedule], huffman=True)
    # These stories are ASCII text, for which the Huffman code is shorter: huffman=True must be used.
    assert coded < plain, f"{story.id}: {coded} octets with Huffman, {plain} without"
