"""fasterapi-http1 against llhttp and picohttpparser (in C) and httptools and h11 (from Python).

    python bench/bench_http1.py [--quick] [--json out.json]

Four inputs: a minimal GET; a browser GET (the 10 headers Chrome sends on a navigation, 551 B);
a POST with a 301-byte JSON body framed by Content-Length; and 16 of the browser GET pipelined in
one buffer. Before anything is timed, every parser must have seen, for each input, the same
messages: method, target, header count, header bytes (names + values) and body length.

What is timed, per input (one buffer, on a connection that is already open):
- C level (bench_http1_core.cpp, compiled here with g++ -O2 into a temp dir, no -march): our
  C++ core (Parser::next() until it needs more), llhttp (llhttp_execute() with callbacks that
  record the method, URL and header views and count the body) and picohttpparser, scalar
  (phr_parse_request() per message, plus the Content-Length lookup a caller of pico must do to
  find the next message). The anchors' C sources are found at bench time and never kept:
  llhttp from $LLHTTP_SRC if set, else from the sdist of the installed httptools (PyPI, through
  `pip download`: the very llhttp the httptools figure runs), else from Debian's node-llhttp
  (/usr/share/llhttp); picohttpparser from $PICOHTTPPARSER_SRC if set, else from the pypicohp
  0.1.3 sdist (upstream commit 066d2b1, only reformatted). An anchor that cannot be had is
  skipped, with the reason.
- Python level: ours, `RequestParser.feed(data)` -> the list of events (Request with its
  headers, Data, EndOfMessage), one parser reused; httptools, `HttpRequestParser.feed_data(data)`
  with the callbacks uvicorn registers, collecting method, URL, version, keep-alive, every
  (name, value) header (names as sent: not lowercased, as ours does not) and the body chunks,
  one parser reused; h11, a new `Connection(SERVER)`, `receive_data(data)` and `next_event()`
  until each request's EndOfMessage (h11 cannot take a next request on a connection before it
  has answered the last one: between pipelined requests it sends the minimal response
  `200, Content-Length: 0` and calls `start_next_cycle()`; the Connection and that response
  cycle are timed apart too, and printed under the tables).
Our parser is included once `import fasterapi_http1` works (and its C++ core once
bench_http1_core.cpp compiles against its headers); until then the anchors run alone.

Each figure is the median of several runs of ns per input (7 runs; 3 with --quick), each run
calibrated to last at least 200 ms (20 ms with --quick), with the garbage collector off.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from time import perf_counter_ns
from typing import Any

try:
    import h11
    import httptools
except ImportError:  # the anchors are not optional: a figure without them means nothing
    sys.exit("bench_http1.py needs httptools and h11: pip install 'fasterapi-http1[bench]'")
HTTPTOOLS_VERSION, H11_VERSION = version("httptools"), version("h11")

try:
    import fasterapi_http1
    from fasterapi_http1 import Data as OurData
    from fasterapi_http1 import EndOfMessage as OurEndOfMessage
    from fasterapi_http1 import Request as OurRequest
    from fasterapi_http1 import RequestParser as OurRequestParser

    OURS_SKIPPED: str | None = None
except ImportError as exc:  # the parser is being written: the anchors still run
    fasterapi_http1 = None  # type: ignore[assignment, unused-ignore]
    OURS_SKIPPED = f"skipped: `import fasterapi_http1` failed ({exc}); build and install the package"

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2] / "tools"))  # benchkit: what every benchmark shares
from benchkit import Loop, extract, fmt_ns, fmt_ratio, measure, pip_download_sdist, print_table, ratio  # noqa: E402

CORE_SOURCE = HERE / "bench_http1_core.cpp"
PICO_SDIST = "pypicohp==0.1.3"  # vendors picohttpparser at upstream commit 066d2b1 (only reformatted)
DEBIAN_LLHTTP = (Path("/usr/share/include/llhttp"), Path("/usr/share/llhttp"))  # apt-get install node-llhttp


# --- the inputs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    method: bytes
    target: bytes
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes = b""

    def wire(self) -> bytes:
        head = b"%s %s HTTP/1.1\r\n" % (self.method, self.target)
        head += b"".join(b"%s: %s\r\n" % (n, v) for n, v in self.headers)
        return head + b"\r\n" + self.body


# What a parser saw of one message: method, target, header count, header bytes, body length.
Seen = tuple[bytes, bytes, int, int, int]


@dataclass(frozen=True)
class Case:
    name: str  # one word: it travels on the C++ program's command line protocol
    label: str
    messages: tuple[Message, ...]
    data: bytes = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", b"".join(m.wire() for m in self.messages))

    def expected(self) -> list[Seen]:
        return [
            (m.method, m.target, len(m.headers), sum(len(n) + len(v) for n, v in m.headers), len(m.body))
            for m in self.messages
        ]


MINIMAL_GET = Message(b"GET", b"/", ((b"Host", b"example.com"),))

# What Chrome 120 sends on a navigation over HTTP/1.1, in its order.
BROWSER_GET = Message(
    b"GET",
    b"/",
    (
        (b"Host", b"localhost:8000"),
        (b"Connection", b"keep-alive"),
        (b"sec-ch-ua", b'"Not_A Brand";v="8", "Chromium";v="120", "Google Chrome";v="120"'),
        (b"sec-ch-ua-mobile", b"?0"),
        (b"sec-ch-ua-platform", b'"Linux"'),
        (b"Upgrade-Insecure-Requests", b"1"),
        (
            b"User-Agent",
            b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            b"Chrome/120.0.0.0 Safari/537.36",
        ),
        (
            b"Accept",
            b"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
            b"image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
        ),
        (b"Accept-Encoding", b"gzip, deflate, br"),
        (b"Accept-Language", b"en-US,en;q=0.9"),
    ),
)

ORDER_JSON = (
    b'{"customer_id":48213,"currency":"EUR","items":[{"sku":"KB-104-BLK","quantity":1,"unit_price":"89.90"},'
    b'{"sku":"MS-220-WHT","quantity":2,"unit_price":"24.50"}],"shipping":{"name":"Ada Lovelace",'
    b'"street":"12 Analytical Row","city":"London","postcode":"NW1 6XE","country":"GB"},'
    b'"coupon":null,"gift":false}'
)

POST_JSON = Message(
    b"POST",
    b"/api/v1/orders",
    (
        (b"Host", b"localhost:8000"),
        (b"User-Agent", b"python-httpx/0.27.0"),
        (b"Accept", b"application/json"),
        (b"Accept-Encoding", b"gzip, deflate"),
        (b"Connection", b"keep-alive"),
        (b"Content-Type", b"application/json"),
        (b"Content-Length", str(len(ORDER_JSON)).encode()),
    ),
    ORDER_JSON,
)

PIPELINED = 16

CASES = [
    Case("minimal", "minimal GET", (MINIMAL_GET,)),
    Case("browser", "browser GET (10 headers)", (BROWSER_GET,)),
    Case("post_json", "POST, JSON body", (POST_JSON,)),
    Case("pipelined", f"{PIPELINED} pipelined browser GETs", (BROWSER_GET,) * PIPELINED),
]

# --- Python level: one adapter per parser ------------------------------------------------------
#
# Each adapter parses an input the way it is timed and returns what it saw, for the check.


def timed(step: Callable[[], Any]) -> Loop:
    def run(n: int) -> int:
        it = itertools.repeat(None, n)
        start = perf_counter_ns()
        for _ in it:
            step()
        return perf_counter_ns() - start

    return run


class Ours:
    name = "fasterapi"

    def __init__(self, case: Case) -> None:
        self.parser = OurRequestParser()
        self.data = case.data

    def seen(self) -> list[Seen]:
        out: list[Seen] = []
        request: Any = None
        body = 0
        for ev in self.parser.feed(self.data):
            if isinstance(ev, OurRequest):
                request, body = ev, 0
            elif isinstance(ev, OurData):
                body += len(ev.data)
            elif isinstance(ev, OurEndOfMessage):
                hb = sum(len(n) + len(v) for n, v in request.headers)
                out.append((request.method, request.target, len(request.headers), hb, body))
                request = None
            else:
                raise SystemExit(f"fasterapi: unexpected event {ev!r}")
        if request is not None:
            raise SystemExit("fasterapi: a message did not end")
        return out

    def loop(self) -> Loop:
        feed, data = self.parser.feed, self.data

        def run(n: int) -> int:
            it = itertools.repeat(None, n)
            start = perf_counter_ns()
            for _ in it:
                feed(data)
            return perf_counter_ns() - start

        return run


class UvicornCallbacks:
    """The callbacks uvicorn's httptools protocol registers, collecting what it collects."""

    __slots__ = ("body", "headers", "http_version", "keep_alive", "messages", "method", "parser", "url")

    def __init__(self) -> None:
        self.messages: list[tuple[bytes, bytes, list[tuple[bytes, bytes]], list[bytes]]] = []
        self.parser = httptools.HttpRequestParser(self)

    def on_message_begin(self) -> None:
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        parser = self.parser
        self.method = parser.get_method()
        self.http_version = parser.get_http_version()
        self.keep_alive = parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.messages.append((self.method, self.url, self.headers, self.body))


class Httptools:
    name = "httptools"

    def __init__(self, case: Case) -> None:
        self.proto = UvicornCallbacks()
        self.data = case.data

    def seen(self) -> list[Seen]:
        self.proto.messages = []
        self.proto.parser.feed_data(self.data)
        return [
            (m, u, len(h), sum(len(n) + len(v) for n, v in h), sum(map(len, b)))
            for m, u, h, b in self.proto.messages
        ]

    def loop(self) -> Loop:
        proto, feed, data = self.proto, self.proto.parser.feed_data, self.data

        def run(n: int) -> int:
            it = itertools.repeat(None, n)
            start = perf_counter_ns()
            for _ in it:
                proto.messages = []
                feed(data)
            return perf_counter_ns() - start

        return run


# The least a server can answer before h11 lets it read the next pipelined request.
H11_RESPONSE = h11.Response(status_code=200, headers=[(b"content-length", b"0")])
H11_END = h11.EndOfMessage()


def h11_parse(data: bytes, count: int) -> tuple[list[tuple[h11.Request, list[bytes]]], h11.Connection]:
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(data)
    next_event = conn.next_event
    out = []
    for i in range(count):
        body = []
        while True:
            ev = next_event()
            if isinstance(ev, h11.Request):
                request = ev
            elif isinstance(ev, h11.Data):
                body.append(ev.data)
            elif isinstance(ev, h11.EndOfMessage):
                break
            else:
                raise SystemExit(f"h11: unexpected event {ev!r}")
        out.append((request, body))
        if i + 1 < count:
            conn.send(H11_RESPONSE)
            conn.send(H11_END)
            conn.start_next_cycle()
    return out, conn


class H11:
    name = "h11"

    def __init__(self, case: Case) -> None:
        self.data = case.data
        self.count = len(case.messages)

    def seen(self) -> list[Seen]:
        out, conn = h11_parse(self.data, self.count)
        if conn.trailing_data != (b"", False):
            raise SystemExit(f"h11: {len(conn.trailing_data[0])} bytes left over")
        return [
            (
                r.method,
                r.target,
                len(r.headers),
                sum(len(n) + len(v) for n, v in r.headers.raw_items()),
                len(b"".join(b)),
            )
            for r, b in out
        ]

    def loop(self) -> Loop:
        data, count = self.data, self.count
        return timed(lambda: h11_parse(data, count))


def h11_overheads(runs: int, min_run_ns: int) -> dict[str, float | None]:
    """What h11's figures hold besides parsing: a Connection, and one minimal response cycle."""
    data = MINIMAL_GET.wire()

    def with_response() -> None:
        _, conn = h11_parse(data, 1)
        conn.send(H11_RESPONSE)
        conn.send(H11_END)
        conn.start_next_cycle()

    connection = statistics.median(measure(timed(lambda: h11.Connection(h11.SERVER)), runs, min_run_ns))
    # The cycle is a difference of two timings: taken run by run, interleaved, so that the load of
    # the moment weighs on both; a median at or below zero means the noise hid it.
    differences = []
    for _ in range(runs):
        (without,) = measure(timed(lambda: h11_parse(data, 1)), 1, min_run_ns)
        (with_,) = measure(timed(with_response), 1, min_run_ns)
        differences.append(with_ - without)
    cycle = statistics.median(differences)
    return {"connection_ns": connection, "response_cycle_ns": cycle if cycle > 0 else None}


# --- C level: the anchors' sources, the build, the run -----------------------------------------


@dataclass
class CSource:
    name: str  # llhttp | picohttpparser
    version: str
    origin: str
    include: Path
    sources: list[Path]
    cflags: list[str]


def llhttp_source(include: Path, src: Path, origin: str) -> CSource | None:
    header = include / "llhttp.h"
    sources = [src / f for f in ("llhttp.c", "api.c", "http.c")]
    if not header.is_file() or not all(p.is_file() for p in sources):
        return None
    text = header.read_text(errors="replace")
    parts = [re.search(rf"#define LLHTTP_VERSION_{k} (\d+)", text) for k in ("MAJOR", "MINOR", "PATCH")]
    version = ".".join(m.group(1) for m in parts if m) or "?"
    return CSource("llhttp", version, origin, include, sources, [])


def find_llhttp(tmp: Path) -> CSource | str:
    if env := os.environ.get("LLHTTP_SRC"):
        root = Path(env)
        headers = list(root.rglob("llhttp.h"))
        cfiles = list(root.rglob("llhttp.c"))
        found = (
            llhttp_source(headers[0].parent, cfiles[0].parent, f"$LLHTTP_SRC={env}")
            if headers and cfiles
            else None
        )
        return found or f"$LLHTTP_SRC={env} holds no llhttp.h, llhttp.c, api.c and http.c"
    why = []
    # The llhttp that httptools vendors, from the sdist of the installed version: the C figure and
    # the httptools figure then run the same parser.
    dest = tmp / "httptools-sdist"
    dest.mkdir()
    sdist = pip_download_sdist(f"httptools=={HTTPTOOLS_VERSION}", dest)
    if isinstance(sdist, Path):
        extract(sdist, dest, lambda n: "/vendor/llhttp/" in n)
        vendor = next(dest.glob("*/vendor/llhttp"), None)
        if vendor and (
            found := llhttp_source(vendor / "include", vendor / "src", f"the {sdist.name} sdist (PyPI)")
        ):
            return found
        why.append(f"{sdist.name} holds no vendor/llhttp")
    else:
        why.append(sdist)
    if found := llhttp_source(*DEBIAN_LLHTTP, "Debian's node-llhttp (/usr/share/llhttp)"):
        return found
    why.append("Debian's node-llhttp is not installed (apt-get install node-llhttp)")
    return "skipped: " + "; ".join(why)


def pico_source(root: Path, origin: str) -> CSource | None:
    cfile = next(root.rglob("picohttpparser.c"), None)
    if cfile is None or not (cfile.parent / "picohttpparser.h").is_file():
        return None
    # pypicohp's copy names the upstream commit on its first line; a checkout does not.
    first = (cfile.read_text(errors="replace").splitlines() or [""])[0]
    version = (
        f"commit {m.group(1)[:7]}" if (m := re.search(r"commit ([0-9a-f]{7,40})", first)) else "(checkout)"
    )
    scalar = ["-U__SSE4_2__"]  # the scalar code path, whatever the compiler's default target
    return CSource("picohttpparser", version, origin, cfile.parent, [cfile], scalar)


def find_pico(tmp: Path) -> CSource | str:
    if env := os.environ.get("PICOHTTPPARSER_SRC"):
        found = pico_source(Path(env), f"$PICOHTTPPARSER_SRC={env}")
        return found or f"$PICOHTTPPARSER_SRC={env} holds no picohttpparser.c and .h"
    dest = tmp / "pico-sdist"
    dest.mkdir()
    sdist = pip_download_sdist(PICO_SDIST, dest)
    if isinstance(sdist, str):
        return f"skipped: {sdist} (or set PICOHTTPPARSER_SRC to a picohttpparser checkout)"
    extract(sdist, dest, lambda n: n.endswith(("/picohttpparser.c", "/picohttpparser.h")))
    found = pico_source(dest, f"the {sdist.name} sdist (PyPI)")
    return found or f"skipped: {sdist.name} holds no picohttpparser.c and .h"


@dataclass
class CoreRun:
    lines: dict[tuple[str, str], dict[str, str]]  # (parser, case) -> fields
    parsers: list[str]
    compiler: str
    anchors: dict[str, CSource]
    skipped: dict[str, str]


def compile_and_run(runs: int, min_run_ms: int, check: Callable[[str, Case, str], None]) -> CoreRun | str:
    """Finds the anchors, compiles bench_http1_core.cpp, checks what each parser saw, times them."""
    cc, cxx = os.environ.get("CC", "gcc"), os.environ.get("CXX", "g++")
    for tool in (cc, cxx):
        if shutil.which(tool) is None:
            return f"skipped: no compiler {tool}; install gcc and g++ for the C-level figures"
    skipped: dict[str, str] = {}
    anchors: dict[str, CSource] = {}
    with tempfile.TemporaryDirectory(prefix="bench_http1_core-") as tmp_name:
        tmp = Path(tmp_name)
        objects: list[str] = []
        defines: list[str] = []
        includes: list[str] = []
        finders = (("llhttp", find_llhttp, "BENCH_LLHTTP"), ("picohttpparser", find_pico, "BENCH_PICO"))
        for name, find, define in finders:
            source = find(tmp)
            if isinstance(source, str):
                skipped[name] = source
                continue
            objs = []
            for k, c_file in enumerate(source.sources):
                obj = tmp / f"{name}-{k}.o"
                cmd = [
                    cc,
                    "-O2",
                    *source.cflags,
                    "-I",
                    str(source.include),
                    "-c",
                    str(c_file),
                    "-o",
                    str(obj),
                ]
                built = subprocess.run(cmd, check=False, capture_output=True, text=True)
                if built.returncode != 0:
                    skipped[name] = f"skipped: {c_file.name} did not compile: {built.stderr.strip()[:500]}"
                    break
                objs.append(str(obj))
            else:
                anchors[name] = source
                objects += objs
                defines.append(f"-D{define}")
                includes += ["-I", str(source.include)]
        ours = []
        if fasterapi_http1 is not None:
            ours = ["-DBENCH_FASTERAPI", "-I", fasterapi_http1.get_include()]
        else:
            skipped["fasterapi C++"] = "skipped: needs `import fasterapi_http1` (its get_include())"
        if not anchors and not ours:
            return "skipped: no parser to time at the C level (" + "; ".join(skipped.values()) + ")"

        binary = tmp / "bench_http1_core"

        def build(with_ours: list[str]) -> subprocess.CompletedProcess[str]:
            cmd = [
                cxx,
                "-O2",
                "-std=c++20",
                *defines,
                *with_ours,
                *includes,
                str(CORE_SOURCE),
                *objects,
                "-o",
                str(binary),
            ]
            return subprocess.run(cmd, check=False, capture_output=True, text=True)

        built = build(ours)
        if built.returncode != 0 and ours:
            errors = [ln for ln in built.stderr.splitlines() if "error" in ln][:5]
            skipped["fasterapi C++"] = (
                "skipped: bench_http1_core.cpp does not compile against the fasterapi-http1 headers "
                "(the OURS section follows the C++ API):\n    " + "\n    ".join(errors)
            )
            ours = []
            built = build(ours) if anchors else built
        if built.returncode != 0:
            raise SystemExit(f"compiling {CORE_SOURCE.name} failed:\n{built.stderr}")

        cases_file = ""
        for case in CASES:
            path = tmp / f"{case.name}.http"
            path.write_bytes(case.data)
            cases_file += f"case {case.name} {path}\n"

        def run(n_runs: int) -> dict[tuple[str, str], dict[str, str]]:
            ran = subprocess.run(
                [str(binary), str(n_runs), str(min_run_ms)],
                input=cases_file,
                check=False,
                capture_output=True,
                text=True,
            )
            if ran.returncode != 0:
                raise SystemExit(f"{CORE_SOURCE.name} failed:\n{ran.stderr}")
            fields = ["parser", "case", "seen", "median", "runs"]
            lines = [dict(zip(fields, line.split("\t"), strict=True)) for line in ran.stdout.splitlines()]
            return {(line["parser"], line["case"]): line for line in lines}

        # What each parser saw first; timings only once all agree.
        seen = run(0)
        parsers = list(dict.fromkeys(p for p, _ in seen))
        by_name = {c.name: c for c in CASES}
        for (parser, case_name), line in seen.items():
            check(parser + " (C)", by_name[case_name], line["seen"])
        timings = run(runs)
    version = subprocess.run([cxx, "--version"], check=False, capture_output=True, text=True).stdout
    return CoreRun(timings, parsers, version.splitlines()[0] if version else cxx, anchors, skipped)


# --- the check ----------------------------------------------------------------------------------


def seen_text(seen: list[Seen]) -> str:
    """The C++ program's form: `method target headers header_bytes body`, '|' between messages."""
    return "|".join(f"{m.decode()} {t.decode()} {h} {hb} {b}" for m, t, h, hb, b in seen)


def check(parser: str, case: Case, seen: str | list[Seen]) -> None:
    """A fast wrong parser is not a result: each must see exactly the messages of the input."""
    got = seen if isinstance(seen, str) else seen_text(seen)
    want = seen_text(case.expected())
    if got != want:
        raise SystemExit(
            f"{parser} on {case.label}: saw\n  {got[:400]}\nwhere the input holds\n  {want[:400]}"
        )


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

    # Python level: what each parser saw, first.
    adapters: list[type[Any]] = ([Ours] if fasterapi_http1 is not None else []) + [Httptools, H11]
    py_parsers = {case.name: [a(case) for a in adapters] for case in CASES}
    for case in CASES:
        for p in py_parsers[case.name]:
            check(p.name, case, p.seen())
            check(p.name, case, p.seen())  # and again, on the same (reused) parser

    core = compile_and_run(runs, min_run_ms, check)
    c_parsers = ["fasterapi", "llhttp", "picohttpparser"]

    results: list[dict[str, Any]] = []
    for case in CASES:
        c_runs: dict[str, list[float] | None] = {}
        for name in c_parsers:
            line = core.lines.get((name, case.name)) if isinstance(core, CoreRun) else None
            c_runs[name] = [float(x) for x in line["runs"].split(",")] if line else None
        py_runs: dict[str, list[float] | None] = {"fasterapi": None, "httptools": None, "h11": None}
        for p in py_parsers[case.name]:
            py_runs[p.name] = measure(p.loop(), runs, min_run_ns)
        c_ns = {k: statistics.median(v) if v else None for k, v in c_runs.items()}
        py_ns = {k: statistics.median(v) if v else None for k, v in py_runs.items()}
        n = len(case.messages)
        results.append(
            {
                "case": case.name,
                "label": case.label,
                "bytes": len(case.data),
                "messages": n,
                "c_ns": c_ns,
                "python_ns": py_ns,
                "c_ns_per_request": {k: v / n if v else None for k, v in c_ns.items()},
                "python_ns_per_request": {k: v / n if v else None for k, v in py_ns.items()},
                "ratios": {
                    "llhttp/fasterapi_c": ratio(c_ns["llhttp"], c_ns["fasterapi"]),
                    "picohttpparser/fasterapi_c": ratio(c_ns["picohttpparser"], c_ns["fasterapi"]),
                    "httptools/fasterapi": ratio(py_ns["httptools"], py_ns["fasterapi"]),
                    "h11/fasterapi": ratio(py_ns["h11"], py_ns["fasterapi"]),
                },
                "runs_ns": {"c": c_runs, "python": py_runs},
            }
        )
    h11_extra = h11_overheads(runs, min_run_ns)

    # The report.
    ours_version = fasterapi_http1.__version__ if fasterapi_http1 is not None else "(not installed)"
    anchors = core.anchors if isinstance(core, CoreRun) else {}
    c_versions = ", ".join(f"{a.name} {a.version}" for a in anchors.values())
    print(
        f"fasterapi-http1 {ours_version} vs {c_versions + ', ' if c_versions else ''}"
        f"httptools {HTTPTOOLS_VERSION}, h11 {H11_VERSION}: ns per input, "
        f"median of {runs} runs" + (" (--quick)" if args.quick else "")
    )
    print()
    print("C level (no Python)")
    print_table(
        ["input", "bytes", "fasterapi C++", "llhttp", "picohttpparser", "llhttp/ours", "pico/ours"],
        [
            [
                r["label"],
                str(r["bytes"]),
                fmt_ns(r["c_ns"]["fasterapi"]),
                fmt_ns(r["c_ns"]["llhttp"]),
                fmt_ns(r["c_ns"]["picohttpparser"]),
                fmt_ratio(r["c_ns"]["llhttp"], r["c_ns"]["fasterapi"]),
                fmt_ratio(r["c_ns"]["picohttpparser"], r["c_ns"]["fasterapi"]),
            ]
            for r in results
        ],
    )
    print()
    print("Python level")
    print_table(
        ["input", "bytes", "fasterapi", "httptools", "h11", "httptools/ours", "h11/ours"],
        [
            [
                r["label"],
                str(r["bytes"]),
                fmt_ns(r["python_ns"]["fasterapi"]),
                fmt_ns(r["python_ns"]["httptools"]),
                fmt_ns(r["python_ns"]["h11"]),
                fmt_ratio(r["python_ns"]["httptools"], r["python_ns"]["fasterapi"]),
                fmt_ratio(r["python_ns"]["h11"], r["python_ns"]["fasterapi"]),
            ]
            for r in results
        ],
    )
    print()
    pipe = results[-1]
    per_request = {
        level: ", ".join(f"{name} {fmt_ns(ns)}" for name, ns in pipe[key].items() if ns is not None)
        for level, key in (("C", "c_ns_per_request"), ("Python", "python_ns_per_request"))
    }
    print(f"{pipe['label']}, ns per request: " + "; ".join(f"{k} {v}" for k, v in per_request.items() if v))
    cycle = h11_extra["response_cycle_ns"]
    cycle_text = f"{fmt_ns(cycle)} ns each" if cycle is not None else "too small to tell from the noise"
    print(
        f"h11's figures include a new Connection ({fmt_ns(h11_extra['connection_ns'])} ns) and, between "
        f"pipelined requests, a minimal response cycle ({cycle_text}, "
        f"{PIPELINED - 1} in the pipelined figure)."
    )
    if isinstance(core, CoreRun):
        for a in core.anchors.values():
            print(f"{a.name} {a.version}: from {a.origin}" + (" (scalar: -U__SSE4_2__)" if a.cflags else ""))
        print(f"C level: {core.compiler}, -O2")
        skipped = core.skipped
    else:
        skipped = {"C level": core}
    if OURS_SKIPPED:
        skipped = {"fasterapi (Python)": OURS_SKIPPED, **skipped}
    for name, why in skipped.items():
        print(f"{name}: {why}")

    if args.json:
        report = {
            "benchmark": "fasterapi-http1/bench_http1",
            "unit": "ns per input",
            "statistic": "median",
            "runs": runs,
            "min_run_ms": min_run_ms,
            "quick": args.quick,
            "versions": {
                "python": platform.python_version(),
                "fasterapi_http1": fasterapi_http1.__version__ if fasterapi_http1 is not None else None,
                "httptools": HTTPTOOLS_VERSION,
                "h11": H11_VERSION,
                "cxx": core.compiler if isinstance(core, CoreRun) else None,
                **{a.name: a.version for a in anchors.values()},
            },
            "anchor_sources": {a.name: a.origin for a in anchors.values()},
            "skipped": skipped,
            "h11_overheads_ns": h11_extra,
            "results": results,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"results written to {args.json}")


if __name__ == "__main__":
    main()
