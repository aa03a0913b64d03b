"""Throughput with one worker process and with two: does it scale?

    python bench/bench_workers.py [--quick] [--json out.json]

The clean method, two workers with wrk on a CPU of its own, needs three CPUs. On a machine with
two, wrk shares them with the workers, and the question becomes which request lets it: GET /work
(bench/apps/app_work.py) costs the app about 0.7 ms of Python per request, so wrk needs a few
percent of a CPU to keep the workers busy, and the two CPUs are nearly all the workers'. GET
/plaintext costs the server about as much as wrk, and is shown for contrast: there wrk takes what
a second worker would need.

Each server is `fasterapi_server.run("app_work:app", workers=N)` (bench/apps/serve_workers.py),
not pinned, default threads; wrk -t1 -c64 is not pinned either. Both servers are up for the whole
run, each paused (SIGSTOP, its supervisor and workers) while the other is measured, and the
figures are medians of 3 runs of 5 s (2 of 2 s with --quick), interleaved. The CPU wrk used is
reported: a share near a whole CPU means the load took what a worker would have needed.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
APPS_DIR = HERE / "apps"
sys.path.insert(0, str(HERE.parents[2] / "tools"))  # benchkit: what every benchmark shares
from benchkit import Launched, WrkRun, free_port, launch, pkg_version, print_table, ratio, run_wrk  # noqa: E402

WORKERS = (1, 2)
REQUESTS = ("work", "plaintext")


def start_workers(count: int, tmp: Path) -> Launched:
    """`serve_workers.py` with `count` workers: a supervisor and its workers, in a session of their own."""
    port = free_port()
    log = tmp / f"workers-{count}.log"
    cmd = [sys.executable, str(APPS_DIR / "serve_workers.py"), str(port), str(count)]
    return Launched(port, launch(cmd, log, APPS_DIR), log)


def ready(server: Launched, count: int, timeout: float = 60) -> str | None:
    """None once the server answers right (and its other workers had a second each to start),
    else why not."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            return server.why_dead()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
            conn.request("GET", "/work")
            answer = conn.getresponse()
            body = answer.read()
            conn.close()
        except (OSError, http.client.HTTPException):
            time.sleep(0.2)
            continue
        if answer.status == 200 and json.loads(body) == {"total": expected_total()}:
            time.sleep(1.0 * count)  # the other workers finish starting
            return None
        return f"GET /work answered {answer.status} {body[:100]!r}"
    return "did not answer in time"


def expected_total() -> int:
    return sum(i * i % 7 for i in range(20_000))


@contextlib.contextmanager
def servers() -> Iterator[dict[int, Launched]]:
    started: dict[int, Launched] = {}
    with tempfile.TemporaryDirectory(prefix="bench_workers-") as tmp:
        try:
            for count in WORKERS:
                started[count] = start_workers(count, Path(tmp))
            yield started
        finally:
            for server in started.values():
                server.stop()


def measure(
    started: dict[int, Launched], runs: int, seconds: int
) -> dict[tuple[str, int], list[WrkRun]] | str:
    """Each request on each server, `runs` times, interleaved -> the wrk runs, or what went wrong."""
    for count, server in started.items():
        if why := ready(server, count):
            return f"{count} worker(s): {why}"
    for server in started.values():
        server.pause()
    for server in started.values():  # a warm-up each
        server.resume()
        for name in REQUESTS:
            run_wrk(f"http://127.0.0.1:{server.port}/{name}", 1, threads=1, connections=64)
        server.pause()
    results: dict[tuple[str, int], list[WrkRun]] = {}
    for _ in range(runs):
        for name in REQUESTS:
            for count, server in started.items():
                server.resume()
                url = f"http://127.0.0.1:{server.port}/{name}"
                run = run_wrk(url, seconds, threads=1, connections=64, latency=True)
                server.pause()
                if isinstance(run, str) or run.problems:
                    return f"{count} worker(s), /{name}: {run if isinstance(run, str) else run.problems}"
                results.setdefault((name, count), []).append(run)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="2 runs of 2 s per figure")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    runs, seconds = (2, 2) if args.quick else (3, 5)
    if pkg_version("fasterapi-server") is None or pkg_version("fasterapi-framework") is None:
        print("skipped: fasterapi-server and fasterapi-framework must be installed")
        return 0
    cpus = len(os.sched_getaffinity(0))
    print(f"workers: 1 and 2 on {cpus} CPUs, wrk -t1 -c64, nothing pinned; {runs} runs of {seconds} s each")
    if cpus < 2:
        print("skipped: one CPU")
        return 0
    with servers() as started:
        results = measure(started, runs, seconds)
    if isinstance(results, str):
        print(f"failed: {results}")
        return 1
    rows = []
    summary: dict[str, dict[str, float | None]] = {}
    for name in REQUESTS:

        def median(value: Callable[[WrkRun], float], count: int, name: str = name) -> float:
            return statistics.median(value(r) for r in results[name, count])

        rps = {count: median(lambda r: r.rps, count) for count in WORKERS}
        wrk_cpu = {count: median(lambda r: r.cpu_seconds / seconds, count) for count in WORKERS}
        p99 = {count: median(lambda r: r.latency_ms[99], count) for count in WORKERS}
        scaling = ratio(rps[2], rps[1])
        summary[name] = {
            "rps_1": rps[1], "rps_2": rps[2], "scaling": scaling,
            "wrk_cpu_1": wrk_cpu[1], "wrk_cpu_2": wrk_cpu[2], "p99_ms_1": p99[1], "p99_ms_2": p99[2],
        }  # fmt: skip
        rows.append([
            f"GET /{name}",
            f"{rps[1]:,.0f}", f"{rps[2]:,.0f}", f"{scaling:.2f}x" if scaling else "-",
            f"{wrk_cpu[1]:.0%} / {wrk_cpu[2]:.0%}", f"{p99[1]:.2f} / {p99[2]:.2f}",
        ])  # fmt: skip
    print_table(["request", "1 worker", "2 workers", "2 / 1", "wrk's CPU (1 / 2)", "p99 ms (1 / 2)"], rows)
    if args.json:
        out = {"cpus": cpus, "runs": runs, "seconds": seconds, "requests": summary}
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
