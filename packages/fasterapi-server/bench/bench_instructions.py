"""Instructions per request: each server under callgrind, one request at a time.

    python bench/bench_instructions.py [--quick] [--json out.json] [--requests N]

The servers of bench_server.py that run as one process (ours, ours ASGI, FastAPI on uvicorn,
socketify), each pinned to one CPU and started under `valgrind --tool=callgrind`; for each request
of bench_server.py: a warm-up, the counters zeroed, N requests on one keep-alive connection, each
sent when the last was answered, and the counters dumped; twice, and the lower figure kept. The
figure is the instructions the server process executed in user space (all its threads) divided
by N.

Requests/s on this machine move by up to 15% between runs (a shared, noisy VM). An instruction
count moves much less: repeated runs of the same code agree within about 1% (the server's
periodic work, and whether the client's next request is there before the server waits again,
move it), so a change of a few percent shows in one run, where requests/s would need many.
It is not a throughput: the kernel's work (the sockets, about half of a request's CPU time at
full load) is not counted, nor are cache misses, and a server that gathers many requests per
wake-up under load does less per request there than here, one at a time. It tells where
user-space work went, and the ratio to an anchor measured the same way in the same run.

Needs valgrind (apt-get install valgrind). A server that does not start or answer is skipped
with the reason.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_server import ENDPOINTS, Endpoint, server_command  # noqa: E402

# (bench_server put tools/ on the path)
from benchkit import free_port, pick_cpus, print_table, ratio  # noqa: E402

# One process each (callgrind_control reaches one PID): granian's workers and nginx's are children.
SERVERS = [
    ("ours", "ours"),
    ("ours_asgi", "ours ASGI"),
    ("uvicorn", "uvicorn + FastAPI"),
    ("socketify", "socketify"),
]
START_TIMEOUT = 240.0  # seconds: importing pydantic and the app under valgrind is slow
WARM_UP = 200


def request(conn: http.client.HTTPConnection, ep: Endpoint) -> int:
    headers = {"content-type": ep.content_type} if ep.body else {}
    conn.request(ep.method, ep.path, body=ep.body or None, headers=headers)
    response = conn.getresponse()
    response.read()
    return response.status


def callgrind_total(path: Path) -> int:
    """The instructions a callgrind dump counted (its `totals:` or `summary:` line)."""
    for line in reversed(path.read_text(errors="replace").splitlines()):
        m = re.match(r"(?:totals|summary):\s*(\d+)", line)
        if m:
            return int(m.group(1))
    raise ValueError(f"no totals in {path}")


def count(
    kind: str, cpu: int | None, tmp: Path, requests: int
) -> tuple[dict[str, float], None] | tuple[None, str]:
    port = free_port()
    cmd = server_command(kind, port, tmp)
    if isinstance(cmd, str):
        return None, cmd
    out = tmp / f"cg-{kind}"
    out.mkdir()
    pin = ["taskset", "-c", str(cpu)] if cpu is not None else []
    log = (tmp / f"{kind}.log").open("wb")
    proc = subprocess.Popen(
        [*pin, "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/cg.%p", "--dump-instr=no", *cmd],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=HERE / "apps",
    )
    try:
        first = ENDPOINTS[0]
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                if request(probe, first) == 200:
                    break
            except OSError:
                pass
            finally:
                probe.close()
            if proc.poll() is not None:
                return None, f"exited with {proc.returncode} (see {tmp / f'{kind}.log'})"
            if time.monotonic() > deadline:
                return None, f"did not answer within {START_TIMEOUT:.0f} s under valgrind"
            time.sleep(1)
        # Every request warmed up before any is counted (the interpreter specializes what runs
        # often, caches fill).
        for ep in ENDPOINTS:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            for _ in range(WARM_UP):
                if request(conn, ep) != 200:
                    return None, f"{ep.method} {ep.path} was not answered 200"
            conn.close()
        counts: dict[str, float] = {}
        for ep in ENDPOINTS:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            for _ in range(WARM_UP // 10):  # (the connection's first requests)
                request(conn, ep)
            # Twice, the lower kept: the first count after a start is higher by a few percent
            # (seen on the first request measured, whichever it was), the next ones agree.
            rounds = []
            for _ in range(2):
                subprocess.run(["callgrind_control", "-z", str(proc.pid)], check=True, capture_output=True)
                for _ in range(requests):
                    request(conn, ep)
                before = set(out.iterdir())
                subprocess.run(["callgrind_control", "-d", str(proc.pid)], check=True, capture_output=True)
                dumps = sorted(set(out.iterdir()) - before, key=lambda p: p.stat().st_mtime)
                if not dumps:
                    return None, "callgrind wrote no dump"
                rounds.append(callgrind_total(dumps[-1]) / requests)
            conn.close()
            counts[ep.name] = min(rounds)
        return counts, None
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer requests (200 instead of 1000)")
    parser.add_argument("--requests", type=int, help="requests counted per endpoint")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("valgrind is not installed (apt-get install valgrind): nothing to count")
        return
    requests = args.requests or (200 if args.quick else 1000)
    server_cpu, _, _ = pick_cpus()
    results: dict[str, dict[str, float]] = {}
    skipped: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="bench-instructions-") as tmp_dir:
        for kind, _label in SERVERS:
            print(f"counting {kind}...", flush=True)
            counts, why = count(kind, server_cpu, Path(tmp_dir), requests)
            if counts is None:
                skipped[kind] = str(why)
            else:
                results[kind] = counts
    labels = dict(SERVERS)
    rows: list[list[Any]] = []
    for ep in ENDPOINTS:
        row: list[Any] = [f"{ep.method} {ep.path}"]
        row += [f"{results[k][ep.name]:,.0f}" if k in results else "-" for k, _ in SERVERS]
        ours = results.get("ours", {}).get(ep.name)
        row.append(_fmt(ratio(results.get("uvicorn", {}).get(ep.name), ours)))
        rows.append(row)
    print(f"\nuser-space instructions per request, {requests} requests one at a time:")
    print_table(["request", *[labels[k] for k, _ in SERVERS], "uvicorn / ours"], rows)
    for kind, why in skipped.items():
        print(f"skipped {labels[kind]}: {why}")
    if args.json:
        report = {"requests": requests, "results": results, "skipped": skipped}
        args.json.write_text(json.dumps(report, indent=2))


def _fmt(r: float | None) -> str:
    return "-" if r is None else f"{r:.2f}x"


if __name__ == "__main__":
    main()
