"""fasterapi-server against its anchors over HTTP: uvicorn, granian (ASGI and RSGI), socketify, nginx.

    python bench/bench_server.py [--quick] [--json out.json]

The servers, each one process (one worker) pinned with taskset to one CPU, loaded by
`wrk -t1 -c64 --latency` pinned to another, on 127.0.0.1:
- ours: the fasterapi app (bench/apps/app_fasterapi.py) on fasterapi_server.serve() with its
  default threads, through bench/apps/serve_fasterapi_server.py: the server's native path. Pinned
  to one CPU, the default is threads=0: the I/O on the Python thread.
- ours, I/O thread: the same with threads=1 (one I/O thread, taking turns with the Python thread
  on the one CPU: the configuration for a process with more cores). Informative.
- ours ASGI: the FastAPI app (app_fastapi.py, the same file but for the imports: checked here) on
  the same server: its generic ASGI path. Informative.
- uvicorn: the FastAPI app on uvicorn (--http httptools, --loop auto, --no-access-log).
- granian ASGI: the FastAPI app on granian --interface asgi --workers 1 --runtime-threads 1.
- granian RSGI: app_rsgi.py, the endpoints by hand on granian's RSGI (orjson, no pydantic).
- socketify: app_socketify.py, the endpoints by hand on socketify's own App API.
- nginx: /plaintext and /json as fixed bodies (`return 200`), worker_processes 1: the ceiling.
Four requests: GET /plaintext ("Hello, World!"), GET /json (a small dict), GET /users/42 (an int
path parameter, a pydantic model as the answer), POST /items (a pydantic body, validated and
returned). Before any timing every server must answer every request it serves with the expected
status, content type and body, reject /users/abc with 422, and the validating apps (ours, FastAPI)
must reject an invalid /items body with 422. Requests/s, p50 and p99 latency: the median of
several runs (3 of 5 s; 2 of 2 s with --quick), servers and requests interleaved run by run after
a warm-up. All servers are up for the whole run, each paused (SIGSTOP) while another one is
measured; the CPU the server and wrk used during its runs is reported (wrk at 100% of its core
means the load, not the server, was the limit), and requests per CPU-second of the server with
the same ratios: steadier than requests/s when other work takes part of the CPU. A server that is
not installed, does not start or answers wrongly is skipped with the reason; the others are still
measured. fasterapi-server is imported once before anything starts (an editable install rebuilds
itself on import), and the servers are started one after the other.
Targets, (!) marks a miss: ours >= 0.7x nginx on /plaintext and /json; ours >= 1.5x granian RSGI
on /users/42 and POST /items; ours >= 10x FastAPI on uvicorn on every request; ours' p99 no worse
than the best p99 of the servers compared with (uvicorn, granian ASGI and RSGI, socketify: the
issue's "them"). nginx, the ceiling of the method, is not one of them: with 64 requests in flight
the mean latency is 64 / throughput (Little's law), so a server held to 0.7x nginx's throughput
cannot be held to its latency; its p99 is shown beside. Ours with an I/O thread and ours ASGI,
the same server, are not others either.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.client
import importlib.util
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
APPS_DIR = HERE / "apps"
sys.path.insert(0, str(HERE.parents[2] / "tools"))  # benchkit: what every benchmark shares
from benchkit import (  # noqa: E402
    Launched,
    WrkRun,
    check_apps_match,
    free_port,
    launch,
    pick_cpus,
    pkg_version,
    print_table,
    ratio,
    run_wrk,
    write_post_script,
)

WRK_THREADS, WRK_CONNECTIONS = 1, 64
TARGET_VS_NGINX = 0.7  # ours on /plaintext and /json
TARGET_VS_RSGI = 1.5  # ours on /users/42 and POST /items, against a raw RSGI app on granian
TARGET_VS_UVICORN = 10.0  # ours against FastAPI on uvicorn, every request
NGINX_REQUESTS = ("plaintext", "json")
VS_NGINX_REQUESTS = ("plaintext", "json")
VS_RSGI_REQUESTS = ("user", "post_item")


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str
    body: bytes
    content_type: str
    expected: Any  # bytes: the exact body; else the JSON it must read to


ITEM = {"name": "Widget", "price": 9.99, "tags": ["tools", "blue"], "description": "A blue widget"}
ENDPOINTS = [
    Endpoint("plaintext", "GET", "/plaintext", b"", "text/plain", b"Hello, World!"),
    Endpoint(
        "json", "GET", "/json", b"", "application/json", {"message": "Hello, World!", "count": 3, "ok": True}
    ),
    Endpoint(
        "user",
        "GET",
        "/users/42",
        b"",
        "application/json",
        {"id": 42, "name": "user42", "email": "user42@example.com", "active": True},
    ),
    Endpoint("post_item", "POST", "/items", json.dumps(ITEM).encode(), "application/json", ITEM),
]
BAD_USER = Endpoint("bad_user", "GET", "/users/abc", b"", "", None)
BAD_ITEM = Endpoint("bad_item", "POST", "/items", b'{"name": "Widget", "price": "cheap"}', "", None)


@dataclass(frozen=True)
class Kind:
    """One server of the comparison: how it is shown, what it serves, whether it validates."""

    name: str
    label: str
    requests: tuple[str, ...]
    validates: bool  # pydantic behind it: an invalid /items body must get 422


ALL_REQUESTS = tuple(ep.name for ep in ENDPOINTS)
KINDS = [
    Kind("ours", "ours", ALL_REQUESTS, True),
    Kind("ours_thread", "ours, I/O thread", ALL_REQUESTS, True),
    Kind("ours_asgi", "ours ASGI", ALL_REQUESTS, True),
    Kind("uvicorn", "uvicorn", ALL_REQUESTS, True),
    Kind("granian_asgi", "granian ASGI", ALL_REQUESTS, True),
    Kind("granian_rsgi", "granian RSGI", ALL_REQUESTS, False),
    Kind("socketify", "socketify", ALL_REQUESTS, False),
    Kind("nginx", "nginx", NGINX_REQUESTS, False),
]
KIND = {k.name: k for k in KINDS}
# The servers whose best p99 ours is held to (not nginx, the ceiling: see the docstring).
P99_COMPARED = ("uvicorn", "granian_asgi", "granian_rsgi", "socketify")


def best_compared_p99(p99: dict[str, float | None]) -> tuple[str, float] | None:
    """(server, ms) of the lowest p99 among P99_COMPARED, or None when none of them ran."""
    compared = {k: v for k, v in p99.items() if k in P99_COMPARED and v is not None}
    if not compared:
        return None
    best = min(compared, key=lambda k: compared[k])
    return best, compared[best]


def tool_version(cmd: list[str], pattern: str) -> str | None:
    if not shutil.which(cmd[0]):
        return None
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=30)
    m = re.search(pattern, done.stdout + done.stderr)
    return m.group(1) if m else "?"


def loop_impl(server: str) -> str:
    """The event loop a Python server picks ('auto'): uvloop when installed, else asyncio; granian
    takes rloop first. socketify runs its own (libuv under asyncio)."""
    if server == "granian" and importlib.util.find_spec("rloop"):
        return "rloop"
    return "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"


# --- the servers ---------------------------------------------------------------------------------


@dataclass
class Server(Launched):
    kind: Kind = field(kw_only=True)


NGINX_CONF = """\
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    keepalive_requests 10000000;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location = /plaintext {{ default_type "text/plain; charset=utf-8"; return 200 '{plaintext}'; }}
        location = /json {{ default_type application/json; return 200 '{json}'; }}
    }}
}}
"""


def server_command(kind: str, port: int, tmp: Path) -> list[str] | str:
    """The command line of a server, or why it cannot run here."""
    py = sys.executable
    if kind in ("ours", "ours_thread", "ours_asgi"):
        if pkg_version("fasterapi-server") is None:
            return "fasterapi-server is not installed"
        if why := prepare_ours():
            return why
        module = "app_fastapi" if kind == "ours_asgi" else "app_fasterapi"
        threads = ["1"] if kind == "ours_thread" else []
        return [py, str(APPS_DIR / "serve_fasterapi_server.py"), module, str(port), *threads]
    if kind == "uvicorn":
        if pkg_version("uvicorn") is None:
            return "no uvicorn (pip install uvicorn httptools)"
        http_impl = "httptools" if importlib.util.find_spec("httptools") else "h11"
        return [
            py, "-m", "uvicorn", "app_fastapi:app", "--app-dir", str(APPS_DIR), "--host", "127.0.0.1",
            "--port", str(port), "--no-access-log", "--log-level", "warning", "--loop", "auto",
            "--http", http_impl, "--workers", "1",
        ]  # fmt: skip
    if kind in ("granian_asgi", "granian_rsgi"):
        if pkg_version("granian") is None:
            return "no granian (pip install 'fasterapi-server[bench]')"
        interface, target = (
            ("asgi", "app_fastapi:app") if kind == "granian_asgi" else ("rsgi", "app_rsgi:app")
        )
        return [
            py, "-m", "granian", "--interface", interface, "--workers", "1", "--runtime-threads", "1",
            "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning",
            "--working-dir", str(APPS_DIR), target,
        ]  # fmt: skip
    if kind == "socketify":
        if pkg_version("socketify") is None:
            return "no socketify (pip install 'fasterapi-server[bench]')"
        return [py, str(APPS_DIR / "app_socketify.py"), str(port)]
    if kind == "nginx":
        nginx = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
        if nginx is None:
            return "no nginx (apt-get install nginx; tools/apt-packages.txt lists it)"
        by_name = {ep.name: ep for ep in ENDPOINTS}
        conf = tmp / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(
                tmp=tmp,
                port=port,
                plaintext=by_name["plaintext"].expected.decode(),
                json=json.dumps(by_name["json"].expected, separators=(",", ":")),
            )
        )
        return [nginx, "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "nginx-error.log")]
    raise ValueError(kind)


@functools.cache
def prepare_ours(timeout: float = 600, attempts: int = 3) -> str | None:
    """Imports fasterapi-server once, unpinned, before anything starts: an editable install rebuilds
    its extensions on the first import after a change (meson-python), which would otherwise happen
    inside the pinned server and outlast its start-up wait. A build running beside us (others edit
    the server) can leave a half-written extension for a moment: a few attempts, 10 s apart.
    None, or why it cannot be imported."""
    code = "import fasterapi_server._engine, fasterapi_server._serve, fasterapi"
    why = ""
    for attempt in range(attempts):
        if attempt:
            time.sleep(10)
        try:
            done = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            return f"importing fasterapi_server took more than {timeout:.0f} s (an editable rebuild?)"
        if done.returncode == 0:
            return None
        why = " | ".join(done.stderr.strip().splitlines()[-2:])[:500]
    return f"fasterapi_server cannot be imported ({attempts} attempts): {why}"


def start_server(kind: Kind, cpu: int | None, tmp: Path) -> Server | str:
    port = free_port()
    cmd = server_command(kind.name, port, tmp)
    if isinstance(cmd, str):
        return cmd
    if cpu is not None:
        cmd = ["taskset", "-c", str(cpu), *cmd]
    log = tmp / f"{kind.name}.log"
    return Server(port, launch(cmd, log, APPS_DIR), log, kind=kind)


def request(port: int, method: str, target: str, body: bytes, timeout: float) -> tuple[int, str, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json"} if body else {}
        conn.request(method, target, body=body or None, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.getheader("content-type") or "", resp.read()
    finally:
        conn.close()


def wait_ready(server: Server, timeout: float = 60) -> str | None:
    """None once the server answers an HTTP request (granian's parent listens before its worker
    runs: a connection alone proves nothing)."""
    first = ENDPOINTS[0]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            return server.why_dead()
        with contextlib.suppress(OSError, http.client.HTTPException):
            request(server.port, first.method, first.path, first.body, timeout=2)
            return None
        time.sleep(0.1)
    return f"did not answer on 127.0.0.1:{server.port} within {timeout:.0f} s"


def check_answer(server: Server, ep: Endpoint) -> str | None:
    """None if the server answers `ep` with 200, its content type and the expected body."""
    try:
        status, ctype, got = request(server.port, ep.method, ep.path, ep.body, timeout=10)
    except (OSError, http.client.HTTPException) as exc:
        return f"no answer: {exc}"
    if status == 200 and ctype.split(";")[0].strip() == ep.content_type:
        if isinstance(ep.expected, bytes):
            if got == ep.expected:
                return None
        else:
            with contextlib.suppress(ValueError):
                if json.loads(got) == ep.expected:
                    return None
    return f"answered {status} {ctype!r} {got[:200]!r}"


def check_rejects(server: Server, ep: Endpoint) -> str | None:
    """None if the server answers the invalid request `ep` with 422."""
    try:
        status, _, got = request(server.port, ep.method, ep.path, ep.body, timeout=10)
    except (OSError, http.client.HTTPException) as exc:
        return f"no answer: {exc}"
    return (
        None
        if status == 422
        else f"{ep.method} {ep.path} {ep.body!r} answered {status} {got[:200]!r}, not 422"
    )


def skip(skipped: dict[str, str], what: str, why: str) -> None:
    skipped[what] = why
    print(f"  skipped {what}: {why}", file=sys.stderr)


@contextlib.contextmanager
def servers_up(cpu: int | None, tmp: Path, skipped: dict[str, str]) -> Iterator[dict[str, Server]]:
    """The servers that answer, started one after the other: two processes importing an editable
    fasterapi-server at once would both rebuild it, in one build directory. One that exits while
    starting is given a second try (a build beside ours may have left a half-written extension)."""
    started: list[Server] = []
    live: dict[str, Server] = {}
    try:
        for kind in KINDS:
            for attempt in range(2):
                got = start_server(kind, cpu, tmp)
                if isinstance(got, str):
                    skip(skipped, kind.label, got)
                    break
                started.append(got)
                if (why := wait_ready(got)) is None:
                    live[kind.name] = got
                    break
                died = got.proc.poll() is not None  # else it never answered: no second try
                got.stop()
                if attempt or not died:
                    skip(skipped, kind.label, why)
                else:
                    time.sleep(5)
        yield live
    finally:
        for server in started:
            server.stop()


# --- wrk -----------------------------------------------------------------------------------------


@dataclass
class Cell:
    rps: list[float] = field(default_factory=list)
    p50_ms: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)
    server_cpu: list[float] = field(default_factory=list)  # CPU seconds per second of the run
    wrk_cpu: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def wrk(port: int, ep: Endpoint, seconds: int, cpu: int | None, script: Path | None) -> WrkRun | str:
    """One run of this benchmark's load, latency included, on `ep` of the server at `port`."""
    url = f"http://127.0.0.1:{port}{ep.path}"
    return run_wrk(
        url, seconds, threads=WRK_THREADS, connections=WRK_CONNECTIONS, latency=True, script=script, cpu=cpu
    )


def over_http(
    *,
    runs: int,
    seconds: int,
    warmup: int,
    cpus: tuple[int | None, int | None],
    skipped: dict[str, str],
) -> dict[str, dict[str, Cell]]:
    """{endpoint: {server: Cell}}; what could not run goes to `skipped`."""
    server_cpu, load_cpu = cpus
    results: dict[str, dict[str, Cell]] = {ep.name: {} for ep in ENDPOINTS}
    if not shutil.which("wrk"):
        skip(skipped, "everything", "no wrk (apt-get install wrk; tools/apt-packages.txt lists it)")
        return results
    with tempfile.TemporaryDirectory(prefix="bench_server-") as tmp_name:
        tmp = Path(tmp_name)
        scripts = {
            ep.name: write_post_script(tmp / f"{ep.name}.lua", ep.method, ep.body) if ep.body else None
            for ep in ENDPOINTS
        }
        with servers_up(server_cpu, tmp, skipped) as live:
            todo: list[tuple[Endpoint, Server]] = []
            for ep in ENDPOINTS:
                for server in live.values():
                    if ep.name not in server.kind.requests:
                        continue
                    why = check_answer(server, ep)
                    if why is None and ep.name == "user":
                        why = check_rejects(server, BAD_USER)
                    if why is None and ep.name == "post_item" and server.kind.validates:
                        why = check_rejects(server, BAD_ITEM)
                    if why is not None:
                        skip(skipped, f"{server.kind.label} {ep.method} {ep.path}", why)
                    else:
                        todo.append((ep, server))
                        results[ep.name][server.kind.name] = Cell()
            for server in live.values():
                server.pause()
            for ep, server in todo:  # warm-up, not kept
                server.resume()
                wrk(server.port, ep, warmup, load_cpu, scripts[ep.name])
                server.pause()
            for r in range(runs):
                for ep, server in todo:
                    server.resume()
                    cpu_before = server.cpu_seconds()
                    got = wrk(server.port, ep, seconds, load_cpu, scripts[ep.name])
                    server_cpu_share = (server.cpu_seconds() - cpu_before) / seconds
                    server.pause()
                    cell = results[ep.name][server.kind.name]
                    if isinstance(got, str):
                        cell.problems.append(f"run {r + 1}: {got}")
                        continue
                    cell.rps.append(got.rps)
                    cell.p50_ms.append(got.latency_ms[50])
                    cell.p99_ms.append(got.latency_ms[99])
                    cell.server_cpu.append(server_cpu_share)
                    cell.wrk_cpu.append(got.cpu_seconds / seconds)
                    if got.problems:
                        cell.problems.append(f"run {r + 1}: {got.problems}")
                print(f"  run {r + 1} of {runs} done", file=sys.stderr)
            for server in live.values():
                if server.proc.poll() is not None:
                    skip(skipped, server.kind.label, "the server died during the runs: " + server.why_dead())
    return results


# --- report --------------------------------------------------------------------------------------


def median(xs: list[float] | None) -> float | None:
    return statistics.median(xs) if xs else None


def fmt(x: float | None, digits: int = 0) -> str:
    return "-" if x is None else f"{x:,.{digits}f}"


def fmt_ratio(r: float | None, target: float | None) -> str:
    if r is None:
        return "-"
    return f"{r:.2f}x" + ("" if target is None or r >= target else " (!)")


def ratios_of(x: dict[str, float | None]) -> dict[str, float | None]:
    return {
        "ours/nginx": ratio(x["ours"], x["nginx"]),
        "ours/granian_rsgi": ratio(x["ours"], x["granian_rsgi"]),
        "ours/uvicorn": ratio(x["ours"], x["uvicorn"]),
        "ours/granian_asgi": ratio(x["ours"], x["granian_asgi"]),
        "ours/socketify": ratio(x["ours"], x["socketify"]),
        "ours_asgi/uvicorn": ratio(x["ours_asgi"], x["uvicorn"]),
    }


def summarize(ep: Endpoint, cells: dict[str, Cell]) -> dict[str, Any]:
    rps = {k.name: median(cells[k.name].rps) if k.name in cells else None for k in KINDS}
    p50 = {k.name: median(cells[k.name].p50_ms) if k.name in cells else None for k in KINDS}
    p99 = {k.name: median(cells[k.name].p99_ms) if k.name in cells else None for k in KINDS}
    cpu = {
        k.name: {"server": median(cells[k.name].server_cpu), "wrk": median(cells[k.name].wrk_cpu)}
        for k in KINDS
        if k.name in cells and cells[k.name].rps
    }
    # Requests per CPU-second of the server: what a request costs it, steadier than requests/s
    # when other work takes part of the server's CPU (a shared machine).
    per_cpu = {
        k.name: median([n / c for n, c in zip(cells[k.name].rps, cells[k.name].server_cpu, strict=True) if c])
        if k.name in cells
        else None
        for k in KINDS
    }
    best = best_compared_p99(p99)
    ours_p99 = p99["ours"]
    return {
        "endpoint": ep.name,
        "request": f"{ep.method} {ep.path}",
        "rps": rps,
        "p50_ms": p50,
        "p99_ms": p99,
        "cpu": cpu,
        "rps_per_cpu_second": per_cpu,
        "ratios": ratios_of(rps),
        "ratios_per_cpu_second": ratios_of(per_cpu),
        "best_other_p99": None if best is None else {"server": best[0], "ms": best[1]},
        "p99_ok": None if ours_p99 is None or best is None else ours_p99 <= best[1],
        "runs": {
            k: {
                "rps": c.rps,
                "p50_ms": c.p50_ms,
                "p99_ms": c.p99_ms,
                "server_cpu": c.server_cpu,
                "wrk_cpu": c.wrk_cpu,
            }
            for k, c in cells.items()
        },
        "problems": {k: c.problems for k, c in cells.items() if c.problems},
    }


def print_ratios(rows: list[dict[str, Any]], key: str, with_p99: bool) -> None:
    table = []
    for r in rows:
        x, name = r[key], r["endpoint"]
        cells = [
            r["request"],
            fmt_ratio(x["ours/nginx"], TARGET_VS_NGINX if name in VS_NGINX_REQUESTS else None),
            fmt_ratio(x["ours/granian_rsgi"], TARGET_VS_RSGI if name in VS_RSGI_REQUESTS else None),
            fmt_ratio(x["ours/uvicorn"], TARGET_VS_UVICORN),
            fmt_ratio(x["ours/granian_asgi"], None),
            fmt_ratio(x["ours/socketify"], None),
            fmt_ratio(x["ours_asgi/uvicorn"], None),
        ]
        if with_p99:
            best, p99 = r["best_other_p99"], "-"
            if best is not None and r["p99_ms"]["ours"] is not None:
                p99 = f"{r['p99_ms']['ours']:.2f} vs {best['ms']:.2f} ({KIND[best['server']].label})"
                p99 += "" if r["p99_ok"] else " (!)"
                if r["p99_ms"]["nginx"] is not None:
                    p99 += f"; nginx {r['p99_ms']['nginx']:.2f}"
            cells.append(p99)
        table.append(cells)
    header = ["request", "ours/nginx", "ours/granian RSGI", "ours/uvicorn", "ours/granian ASGI",
              "ours/socketify", "ours ASGI/uvicorn"]  # fmt: skip
    print_table([*header, "p99 ms: ours vs best compared"] if with_p99 else header, table)


def print_report(rows: list[dict[str, Any]], header: str) -> None:
    labels = [k.label for k in KINDS]
    print(header)
    print()
    print("requests/s")
    print_table(["request", *labels], [[r["request"], *(fmt(r["rps"][k.name]) for k in KINDS)] for r in rows])
    print()
    print("latency p50 / p99, ms")
    print_table(
        ["request", *labels],
        [
            [
                r["request"],
                *(
                    "-"
                    if r["p50_ms"][k.name] is None
                    else f"{r['p50_ms'][k.name]:.2f} / {r['p99_ms'][k.name]:.2f}"
                    for k in KINDS
                ),
            ]
            for r in rows
        ],
    )
    print()
    print("CPU used during the runs, % of one core: server / wrk (at 100% wrk, not the server, is the limit)")
    print_table(
        ["request", *labels],
        [
            [
                r["request"],
                *(
                    f"{r['cpu'][k.name]['server']:.0%} / {r['cpu'][k.name]['wrk']:.0%}"
                    if k.name in r["cpu"]
                    else "-"
                    for k in KINDS
                ),
            ]
            for r in rows
        ],
    )
    print()
    print("requests per CPU-second of the server (requests/s / its CPU share): steadier on a shared machine")
    print_table(
        ["request", *labels],
        [[r["request"], *(fmt(r["rps_per_cpu_second"][k.name]) for k in KINDS)] for r in rows],
    )
    print()
    print("ratios of requests/s (ours = the fasterapi app on fasterapi-server)")
    print_ratios(rows, "ratios", with_p99=True)
    print()
    print("the same ratios of requests per server CPU-second")
    print_ratios(rows, "ratios_per_cpu_second", with_p99=False)
    print()
    print(
        f"targets, (!) marks a miss: ours >= {TARGET_VS_NGINX}x nginx on /plaintext and /json; "
        f">= {TARGET_VS_RSGI}x granian RSGI on /users/42 and POST /items; "
        f">= {TARGET_VS_UVICORN:.0f}x FastAPI on uvicorn on every request; "
        "p99 no worse than the best of uvicorn, granian and socketify"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="2 runs of 2 s per figure instead of 3 of 5 s")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results to PATH as JSON")
    args = parser.parse_args()

    runs, seconds, warmup = (2, 2, 1) if args.quick else (3, 5, 2)
    load_before = os.getloadavg()
    server_cpu, load_cpu, pinning = pick_cpus()
    if why := check_apps_match(APPS_DIR):
        raise SystemExit(why)
    versions = {
        "python": platform.python_version(),
        "fasterapi-server": pkg_version("fasterapi-server"),
        "fasterapi": pkg_version("fasterapi-framework"),
        "fastapi": pkg_version("fastapi"),
        "starlette": pkg_version("starlette"),
        "pydantic": pkg_version("pydantic"),
        "uvicorn": pkg_version("uvicorn"),
        "httptools": pkg_version("httptools"),
        "granian": pkg_version("granian"),
        "socketify": pkg_version("socketify"),
        "orjson": pkg_version("orjson"),
        "uvloop": pkg_version("uvloop"),
        "loop": loop_impl("uvicorn"),
        "granian_loop": loop_impl("granian"),
        "nginx": tool_version(["nginx", "-v"], r"nginx/(\S+)"),
        "wrk": tool_version(["wrk", "-v"], r"wrk (\S+)"),
    }
    skipped: dict[str, str] = {}
    print(f"over HTTP, {runs} runs of {seconds} s per figure ...", file=sys.stderr)
    results = over_http(
        runs=runs, seconds=seconds, warmup=warmup, cpus=(server_cpu, load_cpu), skipped=skipped
    )
    load_after = os.getloadavg()
    rows = [summarize(ep, results[ep.name]) for ep in ENDPOINTS]

    v = versions
    header = (
        f"fasterapi-server {v['fasterapi-server']} (fasterapi {v['fasterapi']}) vs uvicorn {v['uvicorn']} "
        f"(httptools {v['httptools']}), granian {v['granian']}, socketify {v['socketify']}, "
        f"nginx {v['nginx']}; FastAPI {v['fastapi']} (starlette {v['starlette']}), "
        f"pydantic {v['pydantic']}, orjson {v['orjson']}, Python {v['python']}; "
        f"event loop {v['loop']} (ours, uvicorn), {v['granian_loop']} (granian)\n"
        f"wrk {v['wrk']} -t{WRK_THREADS} -c{WRK_CONNECTIONS} --latency; median of {runs} runs of {seconds} s"
        + (" (--quick)" if args.quick else "")
        + f"; one worker per server; {pinning}\n"
        f"load average (1 min) {load_before[0]:.2f} before, {load_after[0]:.2f} after"
    )
    print_report(rows, header)
    for r in rows:
        for server, problems in r["problems"].items():
            print(f"{KIND[server].label} {r['request']}: " + "; ".join(problems))
    for name, why in skipped.items():
        print(f"skipped {name}: {why}")
    if load_before[0] > 1.5 or load_after[0] > 2.5:
        print("other work shared the CPUs: the figures are noisy")

    if args.json:
        report = {
            "benchmark": "fasterapi-server/bench_server",
            "units": {"rps": "requests per second (wrk)", "p50_ms": "ms (wrk --latency)", "p99_ms": "ms"},
            "statistic": "median",
            "quick": args.quick,
            "runs": runs,
            "seconds": seconds,
            "warmup_seconds": warmup,
            "wrk": f"-t{WRK_THREADS} -c{WRK_CONNECTIONS} --latency",
            "pinning": pinning,
            "servers": {k.name: k.label for k in KINDS},
            "targets": {
                "ours/nginx": {"min": TARGET_VS_NGINX, "requests": list(VS_NGINX_REQUESTS)},
                "ours/granian_rsgi": {"min": TARGET_VS_RSGI, "requests": list(VS_RSGI_REQUESTS)},
                "ours/uvicorn": {"min": TARGET_VS_UVICORN, "requests": list(ALL_REQUESTS)},
                "p99": "ours <= the best p99 of " + ", ".join(P99_COMPARED) + " (not nginx, the ceiling)",
            },
            "versions": versions,
            "load_average": {"before": list(load_before), "after": list(load_after)},
            "skipped": skipped,
            "results": rows,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"results written to {args.json}")


if __name__ == "__main__":
    main()
