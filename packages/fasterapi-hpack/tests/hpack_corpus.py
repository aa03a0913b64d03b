"""Reader for the hpack-test-case corpus (github.com/http2jp/hpack-test-case), and the wire helpers the
conformance tests share.

The corpus is read in place from the shared checkout, <monorepo>/../shared/corpora/hpack-test-case,
never copied into this project. Its layout (the corpus README):

- ``raw-data/story_NN.json``: header lists only, ``{"context": "request"|"response", "cases":
  [{"headers": [{name: value}, ...]}, ...]}`` (a few cases carry a ``seqno``, story_31 no context);
- ``<implementation>/story_NN.json``: what that implementation's encoder made of the same stories,
  ``{"description": ..., "cases": [{"seqno", "wire" (hex), "headers", "header_table_size"?}]}``.
  All cases of one story share one compression context (one decoder per story, cases in order).

``header_table_size`` is "the SETTINGS_HEADER_TABLE_SIZE sent and ACKed just before this case" (the
README): the decoder's maximum (``Decoder.max_allowed_table_size``), not a table size update, which the
wire carries itself when the encoder uses it (nghttp2-change-table-size: 1365, then 2730, each time
with a ``3f...`` update at the start of the block). go-hpack gives 4096 on every case, swift-nio-hpack
writes ``null`` (read as absent), nghttp2 and python-hpack omit it.

The implementations under test are chosen by module name: ``fasterapi_hpack`` (ours, skipped until it
can be imported) and ``hpack`` (python-hpack, which proves the readers and the tests themselves).
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest

__all__ = [
    "CORPUS_DIR",
    "IMPLEMENTATIONS",
    "MISSING",
    "RAW_DATA",
    "Case",
    "Field",
    "Story",
    "encode_indexed",
    "encode_integer",
    "encoded_implementations",
    "find_project_root",
    "implementation_params",
    "import_or_skip",
    "load_story",
    "representations",
    "story_names",
]


def find_project_root(start: Path | None = None) -> Path:
    """The monorepo: the nearest directory, from this file up, that holds ``packages/``."""
    here = (start or Path(__file__)).resolve()
    for d in (here, *here.parents):
        if (d / "packages").is_dir():
            return d
    raise RuntimeError(f"no directory holding packages/ above {here}")


#: <monorepo>/../shared/corpora/hpack-test-case
CORPUS_DIR = (find_project_root().parent / "shared" / "corpora" / "hpack-test-case").resolve()

#: The directory of stories without wire data (header lists to encode).
RAW_DATA = "raw-data"

#: Why the corpus tests skip, or None when the corpus is there.
MISSING: str | None = (
    None
    if (CORPUS_DIR / RAW_DATA).is_dir()
    else f"the hpack-test-case corpus is not at {CORPUS_DIR} (github.com/http2jp/hpack-test-case)"
)


@dataclass(frozen=True)
class Case:
    seqno: int
    headers: tuple[tuple[str, str], ...]
    wire: bytes | None  # None in raw-data
    header_table_size: int | None  # the ACKed SETTINGS_HEADER_TABLE_SIZE before this case, if given

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        return [(n.encode(), v.encode()) for n, v in self.headers]


@dataclass(frozen=True)
class Story:
    implementation: str  # the corpus directory: "nghttp2", ..., or "raw-data"
    name: str  # "story_00"
    description: str
    cases: tuple[Case, ...]

    @property
    def id(self) -> str:
        return f"{self.implementation}/{self.name}"


def encoded_implementations() -> list[str]:
    """The directories holding encoded stories (every one but raw-data), sorted."""
    if MISSING:
        return []
    return sorted(
        d.name
        for d in CORPUS_DIR.iterdir()
        if d.is_dir() and d.name != RAW_DATA and any(d.glob("story_*.json"))
    )


def story_names(implementation: str) -> list[str]:
    if MISSING:
        return []
    return sorted(p.stem for p in (CORPUS_DIR / implementation).glob("story_*.json"))


@cache
def load_story(implementation: str, name: str) -> Story:
    path = CORPUS_DIR / implementation / f"{name}.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    cases = []
    for i, raw in enumerate(doc["cases"]):
        seqno = raw.get("seqno", i)
        if seqno != i:
            raise ValueError(f"{path}: case {i} has seqno {seqno}")
        headers: list[tuple[str, str]] = []
        for entry in raw["headers"]:
            if len(entry) != 1:  # one field per object keeps the order; the README's shape
                raise ValueError(f"{path}: case {i}: a header object with {len(entry)} fields")
            ((name_, value),) = entry.items()
            headers.append((name_, value))
        wire = raw.get("wire")
        if (wire is None) != (implementation == RAW_DATA):
            raise ValueError(f"{path}: case {i}: wire {'missing' if wire is None else 'in raw-data'}")
        size = raw.get("header_table_size")
        cases.append(
            Case(
                seqno=i,
                headers=tuple(headers),
                wire=bytes.fromhex(wire) if wire is not None else None,
                header_table_size=int(size) if size is not None else None,
            )
        )
    if not cases:
        raise ValueError(f"{path}: no cases")
    return Story(implementation, name, doc.get("description", ""), tuple(cases))


# --- the implementations under test -------------------------------------------------------------------

#: Module name -> test id. python-hpack's runs check the readers and the tests; they are cheap enough to
#: keep (deselect them with -k "not python-hpack").
IMPLEMENTATIONS = {"fasterapi_hpack": "fasterapi_hpack", "hpack": "python-hpack"}


def import_or_skip(module: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        pytest.skip(f"`import {module}` failed ({exc}): build and install the package")


def implementation_params() -> list[object]:
    return [pytest.param(name, id=test_id) for name, test_id in IMPLEMENTATIONS.items()]


# --- the wire, read without tables: how an encoder chose to represent each field ----------------------


@dataclass(frozen=True)
class Field:
    """One representation of a header block (RFC 7541 section 6), undecoded.

    ``index`` is the table index of an indexed field or of a literal's name (0: the name is a literal);
    strings are as on the wire (Huffman-coded when the flag says so). ``minimal`` is False when an
    integer of the field used more octets than it needs (trailing zero continuation octets).
    """

    kind: str  # indexed | incremental | without_indexing | never_indexed | size_update
    start: int
    end: int
    index: int = 0
    name: bytes | None = None
    name_huffman: bool = False
    value: bytes | None = None
    value_huffman: bool = False
    minimal: bool = True
    largest_integer: int = 0


def _integer(data: bytes, pos: int, prefix: int, seen: list[int] | None) -> tuple[int, int, bool]:
    """RFC 7541 5.1 -> (value, next position, minimal encoding); the value is appended to `seen`."""
    if pos >= len(data):
        raise ValueError(f"truncated integer at {pos}")
    mask = (1 << prefix) - 1
    value = data[pos] & mask
    pos += 1
    if value < mask:
        if seen is not None:
            seen.append(value)
        return value, pos, True
    shift, last = 0, 0x80
    while True:
        if pos >= len(data):
            raise ValueError(f"truncated integer at {pos}")
        last = data[pos]
        pos += 1
        value += (last & 0x7F) << shift
        shift += 7
        if not last & 0x80:
            break
    if seen is not None:
        seen.append(value)
    # Minimal: no trailing zero octet after the first continuation octet (a lone 0 octet is how the
    # value 2^N-1 itself is written).
    return value, pos, not (last == 0 and shift > 7)


def _string(data: bytes, pos: int, seen: list[int] | None) -> tuple[bytes, bool, int, bool, int]:
    """RFC 7541 5.2 -> (octets, huffman, next position, minimal length, length)."""
    if pos >= len(data):
        raise ValueError(f"truncated string at {pos}")
    huffman = bool(data[pos] & 0x80)
    length, pos, minimal = _integer(data, pos, 7, seen)
    if pos + length > len(data):
        raise ValueError(f"string of {length} octets at {pos} runs past the block")
    return data[pos : pos + length], huffman, pos + length, minimal, length


def representations(block: bytes, integers: list[int] | None = None) -> list[Field]:
    """The representations of a header block, in order; ValueError if it is truncated.

    Every prefix integer read is appended to `integers`, also those read before a ValueError.
    """
    out: list[Field] = []
    pos = 0
    while pos < len(block):
        start, first = pos, block[pos]
        if first & 0x80:
            index, pos, minimal = _integer(block, pos, 7, integers)
            out.append(Field("indexed", start, pos, index=index, minimal=minimal, largest_integer=index))
            continue
        if first & 0xC0 == 0x40:
            kind, prefix = "incremental", 6
        elif first & 0xE0 == 0x20:
            size, pos, minimal = _integer(block, pos, 5, integers)
            out.append(Field("size_update", start, pos, index=size, minimal=minimal, largest_integer=size))
            continue
        elif first & 0xF0 == 0x10:
            kind, prefix = "never_indexed", 4
        else:
            kind, prefix = "without_indexing", 4
        index, pos, minimal = _integer(block, pos, prefix, integers)
        largest = index
        name, name_huffman = None, False
        if index == 0:
            name, name_huffman, pos, name_minimal, n = _string(block, pos, integers)
            minimal, largest = minimal and name_minimal, max(largest, n)
        value, value_huffman, pos, value_minimal, n = _string(block, pos, integers)
        out.append(
            Field(
                kind,
                start,
                pos,
                index=index,
                name=name,
                name_huffman=name_huffman,
                value=value,
                value_huffman=value_huffman,
                minimal=minimal and value_minimal,
                largest_integer=max(largest, n),
            )
        )
    return out


def encode_integer(value: int, prefix: int, first: int) -> bytes:
    """RFC 7541 5.1, minimal; `first` holds the representation's pattern bits above the prefix."""
    mask = (1 << prefix) - 1
    if value < mask:
        return bytes([first | value])
    out = [first | mask]
    value -= mask
    while value >= 0x80:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    out.append(value)
    return bytes(out)


def encode_indexed(index: int) -> bytes:
    """An indexed header field representation (RFC 7541 6.1): decoding it leaves the table as it is."""
    return encode_integer(index, 7, 0x80)
