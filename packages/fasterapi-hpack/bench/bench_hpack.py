"""fasterapi-hpack against nghttp2 (in C) and python-hpack (from Python).

    python bench/bench_hpack.py [--quick] [--json out.json]

The input is the header list a browser sends on a navigation over HTTP/2: 12 fields (the four
pseudo-header fields, user-agent, accept, accept-language, accept-encoding, a 150-octet cookie,
referer, upgrade-insecure-requests, sec-fetch-site), 707 octets of names and values. Three cases:
- cold: one block on a new connection (a new encoder, a new decoder, each time);
- connection, identical: 256 blocks of that list on one connection (after the first, all indexed);
- connection, :path varies: 256 blocks whose :path differs each time (one literal per block, the
  rest indexed; the table evicts old paths).
Every decoder decodes the same octets: each block as python-hpack encodes it on that connection.
Before anything is timed, every decoder must return exactly those header lists, and every encoder's
output must decode (with python-hpack, and with nghttp2 at the C level) to them.

What is timed, per case: encode (a new encoder, then every block, Huffman on) and decode (a new
decoder, then every block):
- C level (bench_hpack_core.cpp, compiled here with g++ -O2 into a temp dir, no -march): our C++ core
  (Encoder::encode_field per field into a reused Buffer; Decoder::decode with a callback that counts
  each field's octets) and nghttp2's deflater and inflater (nghttp2_hd_deflate_hd into a reused buffer;
  nghttp2_hd_inflate_hd2 until the block's end, then nghttp2_hd_inflate_end_headers), from Debian's
  libnghttp2-dev (apt-get install libnghttp2-dev; pkg-config libnghttp2).
- Python level: ours and python-hpack through the one API they share, as h2 calls it:
  `Encoder().encode(list of (bytes, bytes))` and `Decoder().decode(data, raw=True)`.
Our codec is included once `import fasterapi_hpack` works (its C++ core once bench_hpack_core.cpp
compiles against the headers: from fasterapi_hpack.get_include(), else from this package's include/
directory, so the core can be timed before the extension is built); until then the anchors run alone.

Each figure is the median of several runs of ns per case (7 runs; 3 with --quick), each run
calibrated to last at least 200 ms (20 ms with --quick), with the garbage collector off; tables
print ns per block.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from time import perf_counter_ns
from typing import Any

try:
    import hpack
except ImportError:  # the anchor is not optional: a figure without it means nothing
    sys.exit("bench_hpack.py needs python-hpack: pip install 'fasterapi-hpack[bench]'")
HPACK_VERSION = version("hpack")

try:
    import fasterapi_hpack

    OURS_SKIPPED: str | None = None
except ImportError as exc:  # the codec is being written: the anchors still run
    fasterapi_hpack = None  # type: ignore[assignment, unused-ignore]
    OURS_SKIPPED = f"skipped: `import fasterapi_hpack` failed ({exc}); build and install the package"

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2] / "tools"))  # benchkit: what every benchmark shares
from benchkit import Loop, fmt_ns, fmt_ratio, measure, print_table, ratio  # noqa: E402

CORE_SOURCE = HERE / "bench_hpack_core.cpp"
SOURCE_INCLUDE = HERE.parent / "include"  # the C++ core in this checkout
TARGET_PYTHON = 50.0  # what the Python API should reach against python-hpack
TARGET_C = 1.0  # ... and the C++ core against nghttp2


# --- the inputs ---------------------------------------------------------------------------------

Headers = list[tuple[bytes, bytes]]

# Chrome's navigation to a product page, as HTTP/2 header fields, in its order.
BROWSER: Headers = [
    (b":method", b"GET"),
    (b":scheme", b"https"),
    (b":authority", b"www.example.com"),
    (b":path", b"/products/widgets?color=blue&size=m&page=2"),
    (
        b"user-agent",
        b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        b"Chrome/120.0.0.0 Safari/537.36",
    ),
    (
        b"accept",
        b"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,"
        b"application/signed-exchange;v=b3;q=0.7",
    ),
    (b"accept-language", b"en-US,en;q=0.9,fr;q=0.8"),
    (b"accept-encoding", b"gzip, deflate, br, zstd"),
    (
        b"cookie",
        b"session_id=6f1c2b9e8d7a4c3b2a1f0e9d8c7b6a5f; csrftoken=Zx8KqP2mN7vR4tY1wU6sL3oI9eA5dG0h; "
        b"theme=dark; _ga=GA1.2.1234567890.1700000000; consent=analytics%3Dno",
    ),
    (b"referer", b"https://www.example.com/products/widgets?color=blue&size=m&page=1"),
    (b"upgrade-insecure-requests", b"1"),
    (b"sec-fetch-site", b"same-origin"),
]
CONNECTION_BLOCKS = 256


def with_path(i: int) -> Headers:
    return [
        (n, b"/products/widgets/%d?color=blue&page=%d" % (i, i % 7) if n == b":path" else v)
        for n, v in BROWSER
    ]


@dataclass(frozen=True)
class Case:
    name: str  # one word: it travels on the C++ program's command line protocol
    label: str
    blocks: tuple[tuple[tuple[bytes, bytes], ...], ...]
    wires: tuple[bytes, ...] = field(init=False)  # what every decoder decodes: python-hpack's encoding

    def __post_init__(self) -> None:
        encoder = hpack.Encoder()
        object.__setattr__(self, "wires", tuple(encoder.encode(list(b)) for b in self.blocks))

    def seen_text(self) -> str:
        """The C++ program's form: `fields octets fnv-1a-64` over every name NUL value LF."""
        fnv, fields, octets = 0xCBF29CE484222325, 0, 0
        for block in self.blocks:
            for n, v in block:
                fields += 1
                octets += len(n) + len(v)
                for c in n + b"\0" + v + b"\n":
                    fnv = ((fnv ^ c) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
        return f"{fields} {octets} {fnv:016x}"


CASES = [
    Case("cold", "cold (1 block, new codec)", (tuple(BROWSER),)),
    Case("same", f"{CONNECTION_BLOCKS} identical blocks", (tuple(BROWSER),) * CONNECTION_BLOCKS),
    Case(
        "path",
        f"{CONNECTION_BLOCKS} blocks, :path varies",
        tuple(tuple(with_path(i)) for i in range(CONNECTION_BLOCKS)),
    ),
]

# --- Python level -------------------------------------------------------------------------------


def encode_loop(mod: Any, case: Case) -> Loop:
    blocks = [list(b) for b in case.blocks]
    encoder_class = mod.Encoder

    def run(n: int) -> int:
        it = itertools.repeat(None, n)
        start = perf_counter_ns()
        for _ in it:
            encode = encoder_class().encode
            for b in blocks:
                encode(b)
        return perf_counter_ns() - start

    return run


def decode_loop(mod: Any, case: Case) -> Loop:
    wires = case.wires
    decoder_class = mod.Decoder

    def run(n: int) -> int:
        it = itertools.repeat(None, n)
        start = perf_counter_ns()
        for _ in it:
            decode = decoder_class().decode
            for w in wires:
                decode(w, raw=True)
        return perf_counter_ns() - start

    return run


def check_python(mod: Any, name: str, case: Case) -> int:
    """A fast wrong codec is not a result. Returns the octets its encoder wrote."""
    decoder = mod.Decoder()
    for k, (block, wire) in enumerate(zip(case.blocks, case.wires, strict=True)):
        got = [tuple(h) for h in decoder.decode(wire, raw=True)]
        if got != list(block):
            raise SystemExit(f"{name} decoded block {k} of {case.label} as {got[:3]}...")
    encoder, check = mod.Encoder(), hpack.Decoder()
    octets = 0
    for k, block in enumerate(case.blocks):
        wire = encoder.encode(list(block))
        octets += len(wire)
        if [tuple(h) for h in check.decode(wire, raw=True)] != list(block):
            raise SystemExit(f"{name}'s encoding of block {k} of {case.label} does not decode to it")
    return octets


# --- C level ------------------------------------------------------------------------------------


@dataclass
class CoreRun:
    lines: dict[tuple[str, str, str], dict[str, str]]  # (codec, case, op) -> fields
    compiler: str
    nghttp2_version: str | None
    skipped: dict[str, str]


def find_nghttp2() -> tuple[list[str], list[str], str] | str:
    """(cflags, libs, version) of libnghttp2, or why not."""
    if shutil.which("pkg-config"):

        def ask(option: str) -> str | None:
            done = subprocess.run(
                ["pkg-config", option, "libnghttp2"], check=False, capture_output=True, text=True
            )
            return done.stdout.strip() if done.returncode == 0 else None

        ver, cflags, libs = ask("--modversion"), ask("--cflags"), ask("--libs")
        if ver is not None and cflags is not None and libs is not None:
            return cflags.split(), libs.split(), ver
    if Path("/usr/include/nghttp2/nghttp2.h").is_file():
        return [], ["-lnghttp2"], "(version unknown)"
    return "skipped: libnghttp2's headers are not installed (apt-get install libnghttp2-dev)"


def our_include() -> tuple[str, str] | str:
    """(include dir, where it came from) of our C++ core, or why not."""
    if fasterapi_hpack is not None and hasattr(fasterapi_hpack, "get_include"):
        return fasterapi_hpack.get_include(), "fasterapi_hpack.get_include()"
    if (SOURCE_INCLUDE / "fasterapi" / "hpack" / "decoder.hpp").is_file():
        return str(SOURCE_INCLUDE), f"{SOURCE_INCLUDE} (the checkout)"
    return "skipped: no fasterapi/hpack/decoder.hpp (neither get_include() nor the checkout)"


def compile_and_run(runs: int, min_run_ms: int) -> CoreRun | str:
    cxx = os.environ.get("CXX", "g++")
    if shutil.which(cxx) is None:
        return f"skipped: no compiler {cxx}; install g++ for the C-level figures"
    skipped: dict[str, str] = {}
    nghttp2 = find_nghttp2()
    anchor: list[str] = []
    libs: list[str] = []
    nghttp2_version = None
    if isinstance(nghttp2, str):
        skipped["nghttp2"] = nghttp2
    else:
        anchor, libs, nghttp2_version = ["-DBENCH_NGHTTP2", *nghttp2[0]], nghttp2[1], nghttp2[2]
    include = our_include()
    ours: list[str] = []
    if isinstance(include, str):
        skipped["fasterapi C++"] = include
    else:
        ours = ["-DBENCH_FASTERAPI", "-I", include[0]]
    if not anchor and not ours:
        return "skipped: nothing to time at the C level (" + "; ".join(skipped.values()) + ")"
    with tempfile.TemporaryDirectory(prefix="bench_hpack_core-") as tmp_name:
        tmp = Path(tmp_name)
        binary = tmp / "bench_hpack_core"

        def build(with_ours: list[str]) -> subprocess.CompletedProcess[str]:
            cmd = [cxx, "-O2", "-std=c++20", *anchor, *with_ours, str(CORE_SOURCE), "-o", str(binary), *libs]
            return subprocess.run(cmd, check=False, capture_output=True, text=True)

        built = build(ours)
        if built.returncode != 0 and ours:
            errors = [ln for ln in built.stderr.splitlines() if "error" in ln][:5]
            skipped["fasterapi C++"] = (
                "skipped: bench_hpack_core.cpp does not compile against the fasterapi-hpack headers "
                "(the OURS section follows the C++ API):\n    " + "\n    ".join(errors)
            )
            ours = []
            built = build(ours) if anchor else built
        if built.returncode != 0:
            raise SystemExit(f"compiling {CORE_SOURCE.name} failed:\n{built.stderr}")

        cases_file = ""
        for case in CASES:
            path = tmp / f"{case.name}.blocks"
            text = ""
            for block, wire in zip(case.blocks, case.wires, strict=True):
                text += "block\n" + "".join(f"h {n.decode()}\t{v.decode()}\n" for n, v in block)
                text += f"wire {wire.hex()}\n"
            path.write_text(text)
            cases_file += f"case {case.name} {path}\n"

        def run(n_runs: int) -> dict[tuple[str, str, str], dict[str, str]]:
            ran = subprocess.run(
                [str(binary), str(n_runs), str(min_run_ms)],
                input=cases_file,
                check=False,
                capture_output=True,
                text=True,
            )
            if ran.returncode != 0:
                raise SystemExit(f"{CORE_SOURCE.name} failed:\n{ran.stderr}")
            fields = ["codec", "case", "op", "seen", "octets", "median", "runs"]
            lines = [dict(zip(fields, line.split("\t"), strict=True)) for line in ran.stdout.splitlines()]
            return {(line["codec"], line["case"], line["op"]): line for line in lines}

        # What each codec saw first; timings only once all agree.
        by_name = {c.name: c for c in CASES}
        for (codec, case_name, op), line in run(0).items():
            want = by_name[case_name].seen_text()
            if line["seen"] != want:
                raise SystemExit(
                    f"{codec} (C) {op} on {case_name}: saw {line['seen']}, the input holds {want}"
                )
        timings = run(runs)
    version_text = subprocess.run([cxx, "--version"], check=False, capture_output=True, text=True).stdout
    return CoreRun(timings, version_text.splitlines()[0] if version_text else cxx, nghttp2_version, skipped)


# --- report -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="3 short runs per figure instead of 7 long ones")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results to PATH as JSON")
    args = parser.parse_args()
    runs, min_run_ms = (3, 20) if args.quick else (7, 200)
    min_run_ns = min_run_ms * 1_000_000

    py_codecs: dict[str, Any] = {"hpack": hpack}
    if fasterapi_hpack is not None:
        py_codecs = {"fasterapi": fasterapi_hpack, **py_codecs}
    py_octets = {(name, c.name): check_python(mod, name, c) for name, mod in py_codecs.items() for c in CASES}

    core = compile_and_run(runs, min_run_ms)

    results: list[dict[str, Any]] = []
    for case in CASES:
        n = len(case.blocks)
        c_ns: dict[str, float | None] = {}
        c_runs: dict[str, list[float] | None] = {}
        c_octets: dict[str, int | None] = {}
        for codec in ("fasterapi", "nghttp2"):
            for op in ("encode", "decode"):
                line = core.lines.get((codec, case.name, op)) if isinstance(core, CoreRun) else None
                key = f"{codec}_{op}"
                c_runs[key] = [float(x) / n for x in line["runs"].split(",")] if line else None
                c_ns[key] = float(line["median"]) / n if line else None
                if op == "encode":
                    c_octets[codec] = int(line["octets"]) if line else None
        py_ns: dict[str, float | None] = {}
        py_runs: dict[str, list[float] | None] = {}
        for codec in ("fasterapi", "hpack"):
            for op, make in (("encode", encode_loop), ("decode", decode_loop)):
                key = f"{codec}_{op}"
                if codec in py_codecs:
                    py_runs[key] = [x / n for x in measure(make(py_codecs[codec], case), runs, min_run_ns)]
                    py_ns[key] = statistics.median(py_runs[key] or [])
                else:
                    py_runs[key] = py_ns[key] = None
        results.append(
            {
                "case": case.name,
                "label": case.label,
                "blocks": n,
                "wire_octets_per_block": sum(map(len, case.wires)) / n,
                "encoded_octets_per_block": {
                    "fasterapi_c": (c_octets.get("fasterapi") or 0) / n or None,
                    "nghttp2": (c_octets.get("nghttp2") or 0) / n or None,
                    **{k: v / n for (k, cn), v in py_octets.items() if cn == case.name},
                },
                "c_ns_per_block": c_ns,
                "python_ns_per_block": py_ns,
                "ratios": {
                    "nghttp2/fasterapi_c encode": ratio(c_ns["nghttp2_encode"], c_ns["fasterapi_encode"]),
                    "nghttp2/fasterapi_c decode": ratio(c_ns["nghttp2_decode"], c_ns["fasterapi_decode"]),
                    "hpack/fasterapi encode": ratio(py_ns["hpack_encode"], py_ns["fasterapi_encode"]),
                    "hpack/fasterapi decode": ratio(py_ns["hpack_decode"], py_ns["fasterapi_decode"]),
                },
                "runs_ns_per_block": {"c": c_runs, "python": py_runs},
            }
        )

    # The report.
    ours_version = fasterapi_hpack.__version__ if fasterapi_hpack is not None else "(not installed)"
    ng = f"nghttp2 {core.nghttp2_version}, " if isinstance(core, CoreRun) and core.nghttp2_version else ""
    print(
        f"fasterapi-hpack {ours_version} vs {ng}python-hpack {HPACK_VERSION}: ns per header block "
        f"({len(BROWSER)} fields, {sum(len(n) + len(v) for n, v in BROWSER)} octets), median of {runs} runs"
        + (" (--quick)" if args.quick else "")
    )
    print()
    print(f"C level (no Python); target: ours >= {TARGET_C:.0f}x nghttp2")
    print_table(
        ["input", "ours enc", "nghttp2 enc", "nghttp2/ours", "ours dec", "nghttp2 dec", "nghttp2/ours"],
        [
            [
                r["label"],
                fmt_ns(r["c_ns_per_block"]["fasterapi_encode"]),
                fmt_ns(r["c_ns_per_block"]["nghttp2_encode"]),
                fmt_ratio(r["c_ns_per_block"]["nghttp2_encode"], r["c_ns_per_block"]["fasterapi_encode"]),
                fmt_ns(r["c_ns_per_block"]["fasterapi_decode"]),
                fmt_ns(r["c_ns_per_block"]["nghttp2_decode"]),
                fmt_ratio(r["c_ns_per_block"]["nghttp2_decode"], r["c_ns_per_block"]["fasterapi_decode"]),
            ]
            for r in results
        ],
    )
    print()
    print(f"Python level; target: ours >= {TARGET_PYTHON:.0f}x python-hpack")
    print_table(
        ["input", "ours enc", "hpack enc", "hpack/ours", "ours dec", "hpack dec", "hpack/ours"],
        [
            [
                r["label"],
                fmt_ns(r["python_ns_per_block"]["fasterapi_encode"]),
                fmt_ns(r["python_ns_per_block"]["hpack_encode"]),
                fmt_ratio(
                    r["python_ns_per_block"]["hpack_encode"], r["python_ns_per_block"]["fasterapi_encode"]
                ),
                fmt_ns(r["python_ns_per_block"]["fasterapi_decode"]),
                fmt_ns(r["python_ns_per_block"]["hpack_decode"]),
                fmt_ratio(
                    r["python_ns_per_block"]["hpack_decode"], r["python_ns_per_block"]["fasterapi_decode"]
                ),
            ]
            for r in results
        ],
    )
    print()
    print("Encoded octets per block (decoders all read python-hpack's):")
    for r in results:
        sizes = ", ".join(f"{k} {v:.0f}" for k, v in r["encoded_octets_per_block"].items() if v)
        print(f"  {r['label']}: {sizes}")
    skipped = dict(core.skipped) if isinstance(core, CoreRun) else {"C level": core}
    if isinstance(core, CoreRun):
        print(f"C level: {core.compiler}, -O2")
    if OURS_SKIPPED:
        skipped = {"fasterapi (Python)": OURS_SKIPPED, **skipped}
    for name, why in skipped.items():
        print(f"{name}: {why}")

    if args.json:
        report = {
            "benchmark": "fasterapi-hpack/bench_hpack",
            "unit": "ns per header block",
            "statistic": "median",
            "runs": runs,
            "min_run_ms": min_run_ms,
            "quick": args.quick,
            "input_sha256": hashlib.sha256(repr(CASES[0].blocks).encode()).hexdigest()[:16],
            "versions": {
                "python": platform.python_version(),
                "fasterapi_hpack": fasterapi_hpack.__version__ if fasterapi_hpack is not None else None,
                "hpack": HPACK_VERSION,
                "nghttp2": core.nghttp2_version if isinstance(core, CoreRun) else None,
                "cxx": core.compiler if isinstance(core, CoreRun) else None,
            },
            "targets": {"hpack/fasterapi": TARGET_PYTHON, "nghttp2/fasterapi_c": TARGET_C},
            "skipped": skipped,
            "results": results,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"results written to {args.json}")


if __name__ == "__main__":
    main()
