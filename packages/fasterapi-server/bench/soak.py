"""Soak test of the native server: wrk for minutes, then zero errors and flat memory, or a failure.

    python packages/fasterapi-server/bench/soak.py [--minutes 3] [--connections 64] [--workers 1]

Serves examples/app.py with `fasterapi run` on 127.0.0.1, and runs wrk against a rotation of its
endpoints (a JSON document, a path parameter with a response model, a query with a dependency, a
POST whose body fails validation, a 404, a 422, the HTML page) in rounds of 20 s. It samples the
server's resident memory (all of its processes) every round. It fails (exit 1) on any socket
error or unexpected status reported by wrk, or when the memory of the last third of the run
exceeds that of the first third by more than 10% and 16 MiB (a leak grows with the requests; a
warming cache does not keep growing), or when the server does not exit 0 on SIGTERM at the end.
Bounded: the server and its workers (a session of their own) are stopped at the end, whatever
happens.
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tools"))  # benchkit: what every benchmark shares
from benchkit import Launched, launch, run_wrk  # noqa: E402

ROUND_SECONDS = 20

# wrk scripts: each sends one kind of request and counts the answers it did not expect.
LUA = """
local expected = {expected}
wrk.method = "{method}"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
local unexpected = 0
response = function(status, headers, body)
  if status ~= expected then unexpected = unexpected + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("unexpected=%d\\n", unexpected))
end
"""

ENDPOINTS = [
    ("GET", "/", None, 200),
    ("GET", "/items/1", None, 200),
    ("GET", "/items?tag=light&limit=5", None, 200),
    # A body that fails validation: the whole POST path without growing the app's inventory (a
    # stored item per request would look like a leak).
    ("POST", "/items", '{"name": "lamp", "price": -1, "tags": ["light"]}', 422),
    ("GET", "/items/999999", None, 404),
    ("GET", "/items/abc", None, 422),
    ("GET", "/page", None, 200),
]


def wait_listening(server: Launched, deadline: float) -> None:
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise SystemExit(f"the server {server.why_dead()}")
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the server did not listen on {server.port} in time")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--threads", type=int, help="I/O threads per worker (0: inline); else the default")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    fasterapi = shutil.which("fasterapi") or "fasterapi"
    failures: list[str] = []
    samples: list[int] = []
    total_requests = 0
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "server.log"
        cmd = [
            fasterapi, "run", "app:app", "--app-dir", str(ROOT / "examples"), "--port", str(args.port),
            "--workers", str(args.workers), "--log-level", "warning",
            *(["--threads", str(args.threads)] if args.threads is not None else []),
        ]  # fmt: skip
        server = Launched(args.port, launch(cmd, log, ROOT), log)
        try:
            wait_listening(server, time.monotonic() + 60)
            end = time.monotonic() + args.minutes * 60
            scripts = []
            for i, (method, path, body, expected) in enumerate(ENDPOINTS):
                script = Path(tmp) / f"e{i}.lua"
                script.write_text(
                    LUA.format(expected=expected, method=method, body="nil" if body is None else repr(body))
                )
                scripts.append((method, path, script))
            round_no = 0
            while time.monotonic() < end:
                method, path, script = scripts[round_no % len(scripts)]
                round_no += 1
                seconds = max(1, min(ROUND_SECONDS, int(end - time.monotonic())))
                got = run_wrk(
                    f"http://127.0.0.1:{args.port}{path}",
                    seconds,
                    threads=1,
                    connections=args.connections,
                    script=script,
                )
                problems = []
                if isinstance(got, str):
                    problems.append(got)
                else:
                    total_requests += got.requests
                    if got.socket_errors is not None:
                        problems.append(f"socket errors: {got.socket_errors}")
                    unexpected = re.search(r"unexpected=(\d+)", got.output)
                    if unexpected and int(unexpected.group(1)):
                        problems.append(f"{unexpected.group(1)} unexpected statuses")
                    if got.non_2xx and method == "GET" and path in ("/", "/items/1", "/page"):
                        problems.append(f"{got.non_2xx} non-2xx responses")
                if server.proc.poll() is not None:
                    problems.append(f"the server {server.why_dead()}")
                rss = server.rss_kib()
                samples.append(rss)
                rps = "-" if isinstance(got, str) else f"{got.rps:.2f}"  # as wrk prints it
                print(
                    f"round {round_no:3d} {method:4s} {path:28s} {rps:>10s} req/s  "
                    f"rss {rss / 1024:7.1f} MiB  {'; '.join(problems) or 'ok'}",
                    flush=True,
                )
                failures += [f"{method} {path}: {p}" for p in problems]
                if server.proc.poll() is not None:
                    break
        finally:
            server.stop(grace=40)  # SIGTERM: a graceful shutdown, well within that
        exit_code = server.proc.returncode
        if exit_code != 0:
            failures.append(f"the server {server.why_dead()} after SIGTERM")
    if len(samples) >= 3:
        third = max(1, len(samples) // 3)
        first = statistics.median(samples[:third])
        last = statistics.median(samples[-third:])
        print(f"memory: first third {first / 1024:.1f} MiB, last third {last / 1024:.1f} MiB")
        if last > first * 1.10 and last - first > 16 * 1024:
            failures.append(f"memory grew from {first / 1024:.1f} to {last / 1024:.1f} MiB")
    print(f"{total_requests:,} requests in {len(samples)} rounds; server exit code {exit_code}")
    for failure in failures:
        print("FAIL:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
