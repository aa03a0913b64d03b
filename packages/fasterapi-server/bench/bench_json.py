"""fasterapi_server.json against orjson, msgspec and the stdlib's json, in one run.

    python bench/bench_json.py [--quick] [--json out.json]

Four documents, fixed and generated here (no randomness): a small API response (~100 B), a list of
records (~10 KB), a 1 MB document (records with nested objects, numbers and text), and a
unicode-heavy one (~10 KB of accented, CJK and emoji text).

What is timed, per document:
- loads: the document's bytes -> Python objects. ours `loads(b)`, orjson `loads(b)`, msgspec
  `json.decode(b)`, stdlib `json.loads(b)`.
- dumps: the objects -> compact UTF-8 bytes. ours `dumps(o)`, orjson `dumps(o)`, msgspec
  `json.encode(o)`, stdlib `json.dumps(o, ensure_ascii=False, separators=(",", ":")).encode()`
  (the stdlib makes a str; the encode() is part of getting bytes to send).
Before anything is timed, every library must have read each document to the same objects, and
everything written must read back to them.

Each figure is the median of several runs of ns per call (7 runs; 3 with --quick), each run
calibrated to last at least 200 ms (20 ms with --quick), with the garbage collector off. Ratios
are anchor / ours: above 1.0x we are faster.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from time import perf_counter_ns
from typing import Any

try:
    import msgspec
    import orjson
except ImportError:  # the anchors are not optional: a figure without them means nothing
    sys.exit("bench_json.py needs orjson and msgspec: pip install 'fasterapi-server[bench]'")

from fasterapi_server import json as ours

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2] / "tools"))  # benchkit: what every benchmark shares
from benchkit import Loop, fmt_ns, fmt_ratio, measure, print_table, ratio  # noqa: E402

LIBS = ["fasterapi", "orjson", "msgspec", "stdlib"]


# --- documents -----------------------------------------------------------------------------------


def small_response() -> Any:
    return {
        "id": 8812,
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "active": True,
        "score": 97.25,
        "tags": ["admin", "beta"],
    }


def record(i: int) -> dict[str, Any]:
    return {
        "id": 100_000 + i,
        "uuid": f"{i * 2654435761 % 2**32:08x}-4a1b-8c2d-{i:04x}-9e8f7a6b5c4d",
        "name": f"user{i}",
        "email": f"user{i}@example.org",
        "created_at": f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d}T{i % 24:02d}:{i % 60:02d}:00Z",
        "balance": round(i * 13.37 % 10_000, 2),
        "active": i % 3 != 0,
        "roles": ["reader", "writer"][: i % 2 + 1],
        "manager_id": None if i % 5 == 0 else i // 5,
    }


def records(n: int) -> list[dict[str, Any]]:
    return [record(i) for i in range(n)]


def big_document() -> dict[str, Any]:
    items = []
    for i in range(1800):
        r = record(i)
        r["address"] = {
            "street": f"{i} Main Street",
            "city": ["Berlin", "Lyon", "Austin"][i % 3],
            "zip": f"{10000 + i}",
            "geo": {"lat": 52.52 + i / 1e4, "lon": 13.405 - i / 1e4},
        }
        r["history"] = [
            {"at": 1_700_000_000 + i * 60 + k, "event": "login", "ok": k % 4 != 0} for k in range(3)
        ]
        r["bio"] = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * (1 + i % 2)
        items.append(r)
    return {"page": 1, "total": len(items), "items": items}


def unicode_document() -> list[dict[str, Any]]:
    texts = [
        "Zoë Saldaña café crème brûlée",
        "東京都渋谷区神南一丁目",
        "Привет, как дела?",
        "😀🎉🚀 emoji ✨ mixed 👍",
        "مرحبا بالعالم",
        "Ελληνικά γράμματα",
        "한국어 텍스트 예시",
    ]
    return [
        {
            "名前": texts[i % len(texts)],
            "city": texts[(i + 3) % len(texts)],
            "note": texts[(i + 5) % len(texts)] * 2,
            "n": i,
        }
        for i in range(60)
    ]


def documents() -> list[tuple[str, bytes]]:
    docs = [
        ("small API response", small_response()),
        ("10 KB of records", records(40)),
        ("1 MB document", big_document()),
        ("unicode-heavy", unicode_document()),
    ]
    # The text as a JSON API sends it: the stdlib's compact UTF-8 (one writer for all readers).
    return [
        (label, json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()) for label, obj in docs
    ]


# --- the libraries -----------------------------------------------------------------------------------


def stdlib_dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


LOADS: dict[str, Callable[[bytes], Any]] = {
    "fasterapi": ours.loads,
    "orjson": orjson.loads,
    "msgspec": msgspec.json.decode,
    "stdlib": json.loads,
}
DUMPS: dict[str, Callable[[Any], bytes]] = {
    "fasterapi": ours.dumps,
    "orjson": orjson.dumps,
    "msgspec": msgspec.json.encode,
    "stdlib": stdlib_dumps,
}


def timed(fn: Callable[[Any], Any], arg: Any) -> Loop:
    def loop(n: int) -> int:
        start = perf_counter_ns()
        for _ in range(n):
            fn(arg)
        return perf_counter_ns() - start

    return loop


def check(label: str, data: bytes) -> Any:
    expected = json.loads(data)
    for name, fn in LOADS.items():
        if fn(data) != expected:
            sys.exit(f"{name}.loads read {label!r} differently from the stdlib")
    for name, fn in DUMPS.items():
        if json.loads(fn(expected)) != expected:
            sys.exit(f"{name}.dumps wrote {label!r} as something else")
    if ours.dumps(expected) != stdlib_dumps(expected):
        sys.exit(f"our dumps of {label!r} differs from the stdlib's bytes")
    return expected


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="3 short runs per figure instead of 7 long ones")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results to PATH as JSON")
    args = parser.parse_args()
    runs, min_run_ms = (3, 20) if args.quick else (7, 200)
    min_run_ns = min_run_ms * 1_000_000

    results: list[dict[str, Any]] = []
    for label, data in documents():
        obj = check(label, data)
        for op, fns, arg in (("loads", LOADS, data), ("dumps", DUMPS, obj)):
            ns = {
                name: statistics.median(measure(timed(fn, arg), runs, min_run_ns)) for name, fn in fns.items()
            }
            results.append(
                {
                    "document": label,
                    "bytes": len(data),
                    "op": op,
                    "ns": ns,
                    "ratios": {f"{a}/fasterapi": ratio(ns[a], ns["fasterapi"]) for a in LIBS[1:]},
                }
            )

    print(
        f"fasterapi-server json vs orjson {version('orjson')}, msgspec {version('msgspec')}, stdlib json "
        f"(Python {platform.python_version()}): ns per call, median of {runs} runs"
        + (" (--quick)" if args.quick else "")
    )
    print()
    print_table(
        [
            "document",
            "bytes",
            "op",
            "fasterapi",
            "orjson",
            "msgspec",
            "stdlib",
            "orjson/ours",
            "msgspec/ours",
            "stdlib/ours",
        ],
        [
            [
                r["document"],
                str(r["bytes"]),
                r["op"],
                *(fmt_ns(r["ns"][n]) for n in LIBS),
                *(fmt_ratio(r["ns"][n], r["ns"]["fasterapi"]) for n in LIBS[1:]),
            ]
            for r in results
        ],
    )
    if args.json:
        args.json.write_text(
            json.dumps({"runs": runs, "min_run_ms": min_run_ms, "results": results}, indent=2)
        )


if __name__ == "__main__":
    main()
