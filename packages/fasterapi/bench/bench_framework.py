"""fasterapi against FastAPI (its anchor) and a bare ASGI app (the ceiling), same app, same server.

    python bench/bench_framework.py [--quick] [--json out.json]

The app (bench/apps/): app_fastapi.py and app_fasterapi.py are one file but for the imports (this
script checks it); app_bare.py does the same work by hand on bare ASGI, with the same pydantic
models. Four endpoints: GET /json (a small dict), GET /users/42 (int path parameter, a pydantic
model through response_model), POST /items (a pydantic body, returned), GET /deps?limit=5&offset=20
(two dependencies, one reading the query).

Two measures:
- Over HTTP: each app served by uvicorn (one process, --no-access-log, --loop auto, --http
  httptools when installed, else h11) pinned to one CPU with taskset, loaded by
  `wrk -t1 -c64 -d<N>s` pinned to another, on 127.0.0.1. Requests/s, the median of several runs
  (5 runs of 5 s; 3 of 2 s with --quick), the apps and endpoints interleaved run by run, after a
  warm-up. Before any timing every server must answer every endpoint with the expected JSON.
- The framework's own cost: each app's ASGI callable called in a loop by a no-op server (a
  prebuilt scope, copied per call; a receive that returns the body once; a send that discards),
  in a process of its own pinned to the server's CPU. us per request, median of 7 runs of at
  least 200 ms (3 of 50 ms with --quick), garbage collector on, as in a server.
Ratios: fasterapi/FastAPI (targets: >= 2.5x the requests/s, FastAPI's cost / ours >= 2.5) and
fasterapi/bare (target: requests/s within 25% of the bare app; the cost beside the bare app's is
reported, not a target: a framework does more than the bare app by definition). An app that
cannot be imported, served or
that answers wrongly is skipped with the reason; the others are still measured.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import importlib
import importlib.util
import json
import os
import platform
import shutil
import socket
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

APPS = ("fastapi", "fasterapi", "bare")
TARGET_VS_FASTAPI = 2.5  # fasterapi must serve at least 2.5x FastAPI's requests/s
TARGET_VS_BARE = 0.75  # and lose at most 25% to the bare ASGI app
WRK_THREADS, WRK_CONNECTIONS = 1, 64


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str
    query: str
    body: bytes
    expected: Any

    @property
    def target(self) -> str:
        return self.path + (f"?{self.query}" if self.query else "")


ITEM = {"name": "Widget", "price": 9.99, "tags": ["tools", "blue"], "description": "A blue widget"}
ENDPOINTS = [
    Endpoint("json", "GET", "/json", "", b"", {"message": "Hello, World!", "count": 3, "ok": True}),
    Endpoint(
        "user",
        "GET",
        "/users/42",
        "",
        b"",
        {"id": 42, "name": "user42", "email": "user42@example.com", "active": True},
    ),
    Endpoint("post_item", "POST", "/items", "", json.dumps(ITEM).encode(), ITEM),
    Endpoint("deps", "GET", "/deps", "limit=5&offset=20", b"", {"app": "bench", "limit": 5, "offset": 20}),
]


def http_impl() -> str:
    """What uvicorn is told to use: httptools when installed, else h11."""
    return "httptools" if importlib.util.find_spec("httptools") else "h11"


def loop_impl() -> str:
    """What uvicorn's --loop auto picks."""
    return "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"


# --- the framework's own cost: the ASGI callable in a loop (runs in a subprocess per app) --------


def scope_of(ep: Endpoint) -> dict[str, Any]:
    headers = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"bench"), (b"accept", b"*/*")]
    if ep.body:
        headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(ep.body))]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": ep.method,
        "scheme": "http",
        "path": ep.path,
        "raw_path": ep.path.encode(),
        "query_string": ep.query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def lifespan_startup(app: Any) -> None:
    """What uvicorn does first (--lifespan auto): startup, and carry on if the app has none."""
    to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    started = asyncio.get_running_loop().create_future()
    await to_app.put({"type": "lifespan.startup"})

    async def send(message: dict[str, Any]) -> None:
        if not started.done():
            started.set_result(message["type"])

    scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
    task = asyncio.ensure_future(app(scope, to_app.get, send))
    with contextlib.suppress(Exception):
        await asyncio.wait_for(asyncio.shield(started), 5)
    if task.done():
        with contextlib.suppress(BaseException):
            task.result()


async def direct(app_name: str, runs: int, min_run_ms: int) -> dict[str, Any]:
    sys.path.insert(0, str(APPS_DIR))
    try:
        app = importlib.import_module(f"app_{app_name}").app
    except Exception as exc:  # the app's framework is not there yet, or breaks
        return {"error": f"import app_{app_name} failed: {type(exc).__name__}: {exc}"}
    await lifespan_startup(app)
    out: dict[str, Any] = {}
    perf = time.perf_counter_ns
    for ep in ENDPOINTS:
        scope, body = scope_of(ep), ep.body
        sent: list[dict[str, Any]] = []

        async def capture(message: dict[str, Any], sent: list[dict[str, Any]] = sent) -> None:
            sent.append(message)

        async def discard(message: dict[str, Any]) -> None:
            pass

        def receiver(body: bytes = body) -> Any:
            given = False

            async def receive() -> dict[str, Any]:
                nonlocal given
                if given:
                    return {"type": "http.disconnect"}
                given = True
                return {"type": "http.request", "body": body, "more_body": False}

            return receive

        try:
            await app(dict(scope), receiver(), capture)
            status = next(m["status"] for m in sent if m["type"] == "http.response.start")
            got = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
            if status != 200 or json.loads(got) != ep.expected:
                out[ep.name] = {"error": f"answered {status} {got[:200]!r}"}
                continue
        except Exception as exc:
            out[ep.name] = {"error": f"{type(exc).__name__}: {exc}"}
            continue

        async def loop(n: int, scope: dict[str, Any] = scope) -> int:
            start = perf()
            for _ in range(n):
                await app(dict(scope), receiver(), discard)
            return perf() - start

        n = 1
        min_ns = min_run_ms * 1_000_000
        while (elapsed := await loop(n)) < min_ns:
            n = n * 2 if elapsed < min_ns // 8 else int(n * min_ns * 1.1 / max(elapsed, 1)) + 1
        out[ep.name] = {"us_runs": [(await loop(n)) / n / 1000 for _ in range(runs)], "calls_per_run": n}
    return out


def run_direct(app_name: str, cpu: int | None, runs: int, min_run_ms: int) -> dict[str, Any]:
    cmd = [
        sys.executable,
        __file__,
        "--_direct",
        app_name,
        "--_runs",
        str(runs),
        "--_min-run-ms",
        str(min_run_ms),
    ]
    if cpu is not None and shutil.which("taskset"):
        cmd = ["taskset", "-c", str(cpu), *cmd]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        return {"error": f"the direct-call process failed: {tail[:500]}"}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# --- over HTTP: uvicorn + wrk --------------------------------------------------------------------


@dataclass
class Server(Launched):
    app: str = field(kw_only=True)


def start_server(app: str, cpu: int | None, http: str, tmp: Path) -> Server:
    port = free_port()
    log = tmp / f"uvicorn-{app}.log"
    cmd = [
        sys.executable, "-m", "uvicorn", f"app_{app}:app", "--app-dir", str(APPS_DIR),
        "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning",
        "--loop", "auto", "--http", http,
    ]  # fmt: skip
    if cpu is not None:
        cmd = ["taskset", "-c", str(cpu), *cmd]
    return Server(port, launch(cmd, log, APPS_DIR), log, app=app)


def wait_ready(server: Server, timeout: float = 30) -> str | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            return server.why_dead()
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", server.port), timeout=1):
            return None
        time.sleep(0.1)
    return f"uvicorn did not listen on 127.0.0.1:{server.port} within {timeout:.0f} s"


def check_answer(server: Server, ep: Endpoint) -> str | None:
    """None if the server answers `ep` with 200 and the expected JSON, else what is wrong."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        headers = {"Content-Type": "application/json"} if ep.body else {}
        conn.request(ep.method, ep.target, body=ep.body or None, headers=headers)
        resp = conn.getresponse()
        got = resp.read()
        conn.close()
    except (OSError, http.client.HTTPException) as exc:
        return f"no answer: {exc}"
    try:
        if resp.status == 200 and json.loads(got) == ep.expected:
            return None
    except ValueError:
        pass
    return f"answered {resp.status} {got[:200]!r}"


def wrk(port: int, ep: Endpoint, seconds: int, cpu: int | None, script: Path | None) -> WrkRun | str:
    """One run of this benchmark's load on `ep` of the server at `port`."""
    url = f"http://127.0.0.1:{port}{ep.target}"
    return run_wrk(url, seconds, threads=WRK_THREADS, connections=WRK_CONNECTIONS, script=script, cpu=cpu)


@contextlib.contextmanager
def servers_up(apps: list[str], cpu: int | None, http: str, tmp: Path) -> Iterator[dict[str, Server]]:
    started = {app: start_server(app, cpu, http, tmp) for app in apps}
    try:
        yield started
    finally:
        for server in started.values():
            server.stop()


def over_http(
    runs: int, seconds: int, warmup: int, cpus: tuple[int | None, int | None], skipped: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """{endpoint: {app: {"rps_runs": [...], "problems": [...]}}}; what could not run goes to `skipped`."""
    server_cpu, load_cpu = cpus
    if not shutil.which("wrk"):
        skipped["over HTTP"] = "no wrk (apt-get install wrk; tools/apt-packages.txt lists it)"
        return {}
    if pkg_version("uvicorn") is None:
        skipped["over HTTP"] = "no uvicorn (pip install 'fasterapi-framework[bench]')"
        return {}
    results: dict[str, dict[str, Any]] = {ep.name: {} for ep in ENDPOINTS}
    with tempfile.TemporaryDirectory(prefix="bench_framework-") as tmp_name:
        tmp = Path(tmp_name)
        scripts = {
            ep.name: write_post_script(tmp / f"{ep.name}.lua", ep.method, ep.body) if ep.body else None
            for ep in ENDPOINTS
        }
        with servers_up(list(APPS), server_cpu, http_impl(), tmp) as servers:
            live: dict[str, Server] = {}
            for app, server in servers.items():
                if (why := wait_ready(server)) is not None:
                    skipped[f"{app} (HTTP)"] = why
                else:
                    live[app] = server
            todo: list[tuple[Endpoint, Server]] = []
            for ep in ENDPOINTS:
                for app, server in live.items():
                    if (why := check_answer(server, ep)) is not None:
                        skipped[f"{app} {ep.method} {ep.target} (HTTP)"] = why
                    else:
                        todo.append((ep, server))
                        results[ep.name][app] = {"rps_runs": [], "problems": []}
            for ep, server in todo:  # warm-up, not kept
                wrk(server.port, ep, warmup, load_cpu, scripts[ep.name])
            for r in range(runs):
                for ep, server in todo:
                    got = wrk(server.port, ep, seconds, load_cpu, scripts[ep.name])
                    cell = results[ep.name][server.app]
                    if isinstance(got, str):
                        cell["problems"].append(f"run {r + 1}: {got}")
                        continue
                    cell["rps_runs"].append(got.rps)
                    if got.problems:
                        cell["problems"].append(f"run {r + 1}: {got.problems}")
                print(f"  over HTTP: run {r + 1} of {runs} done", file=sys.stderr)
            for server in live.values():
                if server.proc.poll() is not None:
                    skipped[f"{server.app} (HTTP)"] = "the server died during the runs: " + server.why_dead()
    return results


# --- report --------------------------------------------------------------------------------------


def median(xs: list[float] | None) -> float | None:
    return statistics.median(xs) if xs else None


def fmt(x: float | None, digits: int = 0) -> str:
    return "-" if x is None else f"{x:,.{digits}f}"


def fmt_ratio(r: float | None, target: float) -> str:
    if r is None:
        return "-"
    return f"{r:.2f}x" + ("" if r >= target else " (!)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="3 short runs per figure instead of 5 (HTTP) / 7 (direct)"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results to PATH as JSON")
    parser.add_argument("--no-http", action="store_true", help="only the direct calls (no uvicorn, no wrk)")
    parser.add_argument("--_direct", help=argparse.SUPPRESS)
    parser.add_argument("--_runs", type=int, default=7, help=argparse.SUPPRESS)
    parser.add_argument("--_min-run-ms", type=int, default=200, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._direct:  # the child process of run_direct()
        print(json.dumps(asyncio.run(direct(args._direct, args._runs, args._min_run_ms))))
        return

    http_runs, seconds, warmup = (3, 2, 1) if args.quick else (5, 5, 2)
    direct_runs, min_run_ms = (3, 50) if args.quick else (7, 200)
    load_before = os.getloadavg()
    server_cpu, load_cpu, pinning = pick_cpus()
    skipped: dict[str, str] = {}
    if why := check_apps_match(APPS_DIR):
        raise SystemExit(why)
    versions = {
        "python": platform.python_version(),
        "fasterapi": pkg_version("fasterapi-framework"),
        "fastapi": pkg_version("fastapi"),
        "starlette": pkg_version("starlette"),
        "pydantic": pkg_version("pydantic"),
        "uvicorn": pkg_version("uvicorn"),
        "httptools": pkg_version("httptools"),
        "uvloop": pkg_version("uvloop"),
        "wrk": (
            subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False).stdout.split() or ["?"]
        )[1]
        if shutil.which("wrk")
        else None,
    }
    if versions["fastapi"] is None:
        skipped["fastapi"] = "FastAPI, the anchor, is not installed: pip install 'fasterapi-framework[bench]'"

    print("direct calls of the ASGI app ...", file=sys.stderr)
    direct_results: dict[str, dict[str, Any]] = {}
    for app in APPS:
        got = run_direct(app, server_cpu, direct_runs, min_run_ms)
        if "error" in got:
            skipped[f"{app} (direct)"] = got["error"]
            got = {}
        for ep in ENDPOINTS:
            cell = got.get(ep.name)
            if cell and "error" in cell:
                skipped[f"{app} {ep.method} {ep.target} (direct)"] = cell["error"]
            elif cell:
                direct_results.setdefault(ep.name, {})[app] = cell
    http_results: dict[str, dict[str, Any]] = {}
    if not args.no_http:
        print("over HTTP (uvicorn + wrk) ...", file=sys.stderr)
        http_results = over_http(http_runs, seconds, warmup, (server_cpu, load_cpu), skipped)

    rows = []
    for ep in ENDPOINTS:
        h = http_results.get(ep.name, {})
        d = direct_results.get(ep.name, {})
        rps = {app: median(h.get(app, {}).get("rps_runs")) for app in APPS}
        us = {app: median(d.get(app, {}).get("us_runs")) for app in APPS}
        rows.append(
            {
                "endpoint": ep.name,
                "request": f"{ep.method} {ep.target}",
                "rps": rps,
                "us_per_request": us,
                "ratios": {
                    "rps_fasterapi/fastapi": ratio(rps["fasterapi"], rps["fastapi"]),
                    "rps_fasterapi/bare": ratio(rps["fasterapi"], rps["bare"]),
                    "rps_bare/fastapi": ratio(rps["bare"], rps["fastapi"]),
                    "us_fastapi/fasterapi": ratio(us["fastapi"], us["fasterapi"]),
                    "us_fasterapi/bare": ratio(us["fasterapi"], us["bare"]),
                    "us_fastapi/bare": ratio(us["fastapi"], us["bare"]),
                },
                "rps_runs": {app: h.get(app, {}).get("rps_runs") for app in APPS},
                "http_problems": {app: h[app]["problems"] for app in APPS if h.get(app, {}).get("problems")},
                "us_runs": {app: d.get(app, {}).get("us_runs") for app in APPS},
            }
        )

    print(
        f"fasterapi {versions['fasterapi']} vs FastAPI {versions['fastapi']} "
        f"(starlette {versions['starlette']}) vs bare ASGI; "
        f"pydantic {versions['pydantic']}, Python {versions['python']}" + (" (--quick)" if args.quick else "")
    )
    if not args.no_http:
        print()
        print(
            f"Over HTTP: requests/s, median of {http_runs} runs of {seconds} s; "
            f"uvicorn {versions['uvicorn']} "
            f"(--http {http_impl()}, --loop auto = {loop_impl()}, 1 process, --no-access-log), "
            f"wrk {versions['wrk']} -t{WRK_THREADS} -c{WRK_CONNECTIONS}; {pinning}"
        )
        print_table(
            ["request", "FastAPI", "fasterapi", "bare ASGI", "ours/FastAPI", "ours/bare", "bare/FastAPI"],
            [
                [
                    r["request"], fmt(r["rps"]["fastapi"]), fmt(r["rps"]["fasterapi"]), fmt(r["rps"]["bare"]),
                    fmt_ratio(r["ratios"]["rps_fasterapi/fastapi"], TARGET_VS_FASTAPI),
                    fmt_ratio(r["ratios"]["rps_fasterapi/bare"], TARGET_VS_BARE),
                    fmt_ratio(r["ratios"]["rps_bare/fastapi"], 0),
                ]
                for r in rows
            ],
        )  # fmt: skip
    print()
    print(
        f"The framework's own cost: us per request, the ASGI app called by a no-op server, "
        f"median of {direct_runs} runs of >= {min_run_ms} ms"
    )
    print_table(
        ["request", "FastAPI", "fasterapi", "bare ASGI", "FastAPI/ours", "ours/bare", "FastAPI/bare"],
        [
            [
                r["request"],
                fmt(r["us_per_request"]["fastapi"], 1),
                fmt(r["us_per_request"]["fasterapi"], 1),
                fmt(r["us_per_request"]["bare"], 1),
                fmt_ratio(r["ratios"]["us_fastapi/fasterapi"], TARGET_VS_FASTAPI),
                fmt_ratio(r["ratios"]["us_fasterapi/bare"], 0),
                fmt_ratio(r["ratios"]["us_fastapi/bare"], 0),
            ]
            for r in rows
        ],
    )  # fmt: skip
    print()
    print(
        f"targets: fasterapi >= {TARGET_VS_FASTAPI}x FastAPI on every endpoint, and within "
        f"{100 - TARGET_VS_BARE * 100:.0f}% of the bare ASGI app over HTTP "
        f"(requests/s >= {TARGET_VS_BARE:.2f}x bare), and FastAPI's cost >= {TARGET_VS_FASTAPI}x ours; "
        "(!) marks a figure that misses its target"
    )
    for r in rows:
        for app, problems in r["http_problems"].items():
            print(f"{app} {r['request']}: " + "; ".join(problems))
    for name, why in skipped.items():
        print(f"skipped {name}: {why}")
    load = os.getloadavg()
    if load_before[0] > 0.5 or load[0] > 2.5:
        print(f"load average {load_before[0]:.2f} before, {load[0]:.2f} after: other work shared the CPUs")

    if args.json:
        report = {
            "benchmark": "fasterapi/bench_framework",
            "units": {
                "rps": "requests per second (wrk)",
                "us_per_request": "microseconds (direct ASGI calls)",
            },
            "statistic": "median",
            "quick": args.quick,
            "http": None
            if args.no_http
            else {
                "runs": http_runs,
                "seconds": seconds,
                "warmup_seconds": warmup,
                "server": "uvicorn",
                "http": http_impl(),
                "loop": loop_impl(),
                "wrk": f"-t{WRK_THREADS} -c{WRK_CONNECTIONS}",
                "pinning": pinning,
            },
            "direct": {"runs": direct_runs, "min_run_ms": min_run_ms},
            "targets": {"fasterapi/fastapi": TARGET_VS_FASTAPI, "fasterapi/bare": TARGET_VS_BARE},
            "versions": versions,
            "load_average": {"before": load_before[0], "after": os.getloadavg()[0]},
            "skipped": skipped,
            "results": rows,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"results written to {args.json}")


if __name__ == "__main__":
    main()
