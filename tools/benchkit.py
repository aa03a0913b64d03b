"""What every package's benchmark (packages/*/bench/bench_*.py) does the same way.

Timing (`measure`: runs calibrated to a minimum length, the garbage collector off), the report's
formatting (`fmt_ns`, `ratio`, `fmt_ratio`, `print_table`) and fetching an anchor's sources at run
time (`pip_download_sdist`, `extract`: third-party code is never kept in the repository). A
benchmark script puts this directory on sys.path: `sys.path.insert(0, <root>/tools)`.
"""

from __future__ import annotations

import gc
import re
import subprocess
import sys
import tarfile
from collections.abc import Callable
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
