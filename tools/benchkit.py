"""What every package's benchmark (packages/*/bench/bench_*.py) does the same way.

Timing (`measure`: runs calibrated to a minimum length, the garbage collector off), the report's
formatting (`fmt_ns`, `ratio`, `fmt_ratio`, `print_table`) and fetching an anchor's sources at run
time (`pip_download_sdist`, `extract`: third-party code is never kept in the repository). For the
benchmarks over HTTP: `free_port`, `pick_cpus` (pinning with taskset), `pkg_version` and
`check_apps_match` (app_fasterapi.py is app_fastapi.py with the imports swapped), and the load:
`run_wrk` (one wrk run, its report read into a `WrkRun`) with `write_post_script` (the Lua script
that makes wrk send a JSON body); `launch` starts a server in a session of its own, and the
`Launched` it gives pauses, resumes, measures and stops it with its workers. A benchmark script
puts this directory on sys.path:
`sys.path.insert(0, <root>/tools)`.
"""

from __future__ import annotations

import contextlib
import gc
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

Loop = Callable[[int], int]  # runs n iterations, returns the ns they took


def measure(loop: Loop, runs: int, min_run_ns: int) -> list[float]:
    """ns per iteration for each of `runs` runs, each of at least min_run_ns."""
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        n = 1
        while (elapsed := loop(n)) < min_run_ns:
            n = n * 2 if elapsed < min_run_ns // 8 else int(n * min_run_ns * 1.1 / max(elapsed, 1)) + 1
        return [loop(n) / n for _ in range(runs)]
    finally:
        if gc_was_enabled:
            gc.enable()


def fmt_ns(ns: float | None) -> str:
    if ns is None:
        return "-"
    return f"{ns:,.0f}" if ns >= 100 else f"{ns:.1f}"


def ratio(num: float | None, den: float | None) -> float | None:
    return num / den if num and den else None


def fmt_ratio(num: float | None, den: float | None) -> str:
    r = ratio(num, den)
    if r is None:
        return "-"
    return f"{r:.1f}x" if r < 100 else f"{r:.0f}x"


def print_table(header: list[str], rows: list[list[str]]) -> None:
    """Left-aligned first column, right-aligned others, a rule under the header."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for k, row in enumerate([header, *rows]):
        cells = [
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
        if k == 0:
            print("  ".join("-" * w for w in widths))


def pip_download_sdist(requirement: str, dest: Path) -> Path | str:
    """The sdist of `requirement` from the package index (through pip, with its cache) -> its path,
    or why not."""
    name = re.split(r"[=<>!~ ]", requirement, maxsplit=1)[0]
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--no-binary",
        name,
        "-d",
        str(dest),
        requirement,
    ]
    try:
        done = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"pip download {requirement}: {exc}"
    found = sorted(dest.glob("*.tar.gz"))
    if done.returncode != 0 or not found:
        last = (done.stderr.strip().splitlines() or ["no sdist"])[-1]
        return f"pip download {requirement} failed: {last}"
    return found[0]


def extract(sdist: Path, dest: Path, wanted: Callable[[str], bool]) -> None:
    """The regular files of `sdist` whose names `wanted` accepts, into `dest`."""
    with tarfile.open(sdist) as tar:
        members = [m for m in tar.getmembers() if m.isfile() and wanted(m.name)]
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, members=members, filter="data")
        else:  # Python < 3.11.4
            tar.extractall(dest, members=members)  # only the regular files we name


def pkg_version(name: str) -> str | None:
    """The installed version of the distribution `name`, or None when it is not installed."""
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def free_port() -> int:
    """A TCP port free on 127.0.0.1 just now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pick_cpus() -> tuple[int | None, int | None, str]:
    """The servers' CPU and the load's CPU, or no pinning when there are not two CPUs to pin to;
    and how it was pinned, for the report."""
    if not shutil.which("taskset"):
        return None, None, "no taskset: not pinned"
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, None, f"only CPU {cpus} available: not pinned"
    return (
        cpus[0],
        cpus[1],
        f"servers on CPU {cpus[0]} (taskset -c {cpus[0]}), wrk on CPU {cpus[1]} (taskset -c {cpus[1]})",
    )


WRK_PERCENTILES = (50, 75, 90, 99)  # the latency distribution `wrk --latency` prints
WRK_UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


@dataclass(frozen=True)
class WrkRun:
    """What one wrk run that finished reports."""

    rps: float
    requests: int
    latency_ms: dict[int, float]  # percentile (WRK_PERCENTILES) -> ms; empty without latency=True
    non_2xx: int  # answers with another status than 2xx or 3xx
    socket_errors: str | None  # e.g. "connect 0, read 3, write 0, timeout 0", None when there were none
    cpu_seconds: float  # the CPU time wrk used: at 100% of its core the load, not the server, is the limit
    output: str  # wrk's report, with what a Lua script's done() wrote

    @property
    def problems(self) -> str:
        """The non-2xx answers and socket errors, for a report; "" when there were none."""
        problems = []
        if self.non_2xx:
            problems.append(f"{self.non_2xx} non-2xx answers")
        if self.socket_errors is not None:
            problems.append(f"socket errors: {self.socket_errors}")
        return "; ".join(problems)


def run_wrk(
    url: str,
    seconds: int,
    *,
    threads: int,
    connections: int,
    latency: bool = False,
    script: Path | None = None,
    cpu: int | None = None,
) -> WrkRun | str:
    """`wrk -t<threads> -c<connections> -d<seconds>s [--latency] [-s script] url`, pinned to `cpu`
    with taskset when given -> what it reported, or why it reported nothing."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s"]
    if latency:
        cmd.append("--latency")
    if script is not None:
        cmd += ["-s", str(script)]
    cmd.append(url)
    if cpu is not None:
        cmd = ["taskset", "-c", str(cpu), *cmd]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=seconds + 60)
    except subprocess.TimeoutExpired:
        return "wrk did not finish"
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = done.stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    requests = re.search(r"(\d+) requests in", out)
    latency_ms = {}
    for q in WRK_PERCENTILES if latency else ():
        if m := re.search(rf"^\s+{q}%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M):
            latency_ms[q] = float(m.group(1)) * WRK_UNIT_MS[m.group(2)]
    missing_latency = latency and len(latency_ms) < len(WRK_PERCENTILES)
    if done.returncode != 0 or rps is None or requests is None or missing_latency:
        return f"wrk failed: {(done.stderr or out).strip()[-300:]}"
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return WrkRun(
        rps=float(rps.group(1)),
        requests=int(requests.group(1)),
        latency_ms=latency_ms,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=socket_errors.group(1).strip() if socket_errors else None,
        cpu_seconds=after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
        output=out,
    )


def write_post_script(path: Path, method: str, body: bytes) -> Path:
    """A wrk script at `path` that sends `body` (JSON) with `method` -> `path`."""
    lua_body = body.decode().replace("\\", "\\\\").replace("'", "\\'")
    path.write_text(
        f"wrk.method = '{method}'\nwrk.body = '{lua_body}'\n"
        "wrk.headers['Content-Type'] = 'application/json'\n"
    )
    return path


def check_apps_match(apps_dir: Path) -> str | None:
    """app_fasterapi.py in `apps_dir` must be its app_fastapi.py with the imports swapped, nothing
    else: None, or what is wrong."""
    ours = (apps_dir / "app_fasterapi.py").read_text()
    theirs = (apps_dir / "app_fastapi.py").read_text()
    swapped = re.sub(r"^(from|import) fastapi\b", r"\1 fasterapi", theirs, flags=re.M)
    return None if swapped == ours else "app_fasterapi.py is not app_fastapi.py with the imports swapped"


@dataclass
class Launched:
    """A server started by `launch`, in a session of its own, listening on `port`: its workers
    (granian's, nginx's, a supervisor's) can be told from everything else, paused and killed with
    it."""

    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    def why_dead(self) -> str:
        tail = self.log.read_text(errors="replace").strip().splitlines()[-3:]
        return f"exited with {self.proc.returncode}: " + " | ".join(tail)[:600]

    def signal(self, sig: int) -> None:
        """`sig` to the server's session: the process we started and its workers."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)

    def pause(self) -> None:
        """SIGSTOP while another server is measured: all share the CPUs, and an idle server may
        not be idle (socketify polls its loop for seconds after each burst of requests)."""
        self.signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.signal(signal.SIGCONT)
        time.sleep(0.2)  # granian, just continued, may miss a signal or a connection sent at once

    def pids(self) -> list[int]:
        """The process we started and its descendants (a supervisor's workers...), as they are now."""
        out, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            out.append(pid)
            with contextlib.suppress(OSError, ValueError):
                for task in Path(f"/proc/{pid}/task").iterdir():
                    todo += [int(c) for c in (task / "children").read_text().split()]
        return out

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server's processes and threads (children included)."""
        ticks = 0
        for pid in self.pids():
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def rss_kib(self) -> int:
        """The resident memory of the server's processes, summed."""
        total = 0
        for pid in self.pids():
            with contextlib.suppress(OSError, ValueError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        return total

    def stop(self, grace: float = 10) -> None:
        """SIGCONT, SIGTERM to the process we started, then SIGKILL to its session if it has not gone
        within `grace` seconds; and SIGKILL to a worker its parent left behind. proc.returncode is
        then how it ended."""
        self.resume()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.proc.wait(10)
        self.signal(signal.SIGKILL)


def launch(cmd: list[str], log: Path, cwd: Path) -> subprocess.Popen[bytes]:
    """Starts `cmd` (a server, for a `Launched`) in a session of its own, its output to `log`."""
    with log.open("wb") as out:
        return subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            start_new_session=True,
        )
