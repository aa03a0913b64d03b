"""The targets of bench_server.py over several full runs: each run's verdict, and the median's.

    python bench/summarize_server.py RUN.json [RUN.json ...]

Each RUN.json is what `bench_server.py --json` wrote. One run's figures are already medians of
3 runs of 5 s, but a whole run takes about ten minutes, and on a shared machine the other tenants'
load moves from one run to the next (a run in a slow stretch moves every figure of one server by
10-30%). So the issue's targets are read here over several whole runs: for each request and
target, the ratio (or p99) of every run, the median of them, and whether the median meets the
target. For p99 that is ours' p99 over the best compared server's in the same run (at most 1).
The p99 target is recomputed from each run's p99 figures with bench_server's set of
compared servers, so older files are read the same way.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_server import (  # noqa: E402
    P99_COMPARED,
    TARGET_VS_NGINX,
    TARGET_VS_RSGI,
    TARGET_VS_UVICORN,
    VS_NGINX_REQUESTS,
    VS_RSGI_REQUESTS,
    best_compared_p99,
)

# (bench_server put tools/ on the path)
from benchkit import print_table  # noqa: E402

# (the anchor's name, the ratio's key, the minimum, the requests it applies to or None for all)
RATIO_TARGETS = [
    ("nginx", "ours/nginx", TARGET_VS_NGINX, VS_NGINX_REQUESTS),
    ("granian RSGI", "ours/granian_rsgi", TARGET_VS_RSGI, VS_RSGI_REQUESTS),
    ("uvicorn", "ours/uvicorn", TARGET_VS_UVICORN, None),
]


def summarize(runs: list[dict[str, Any]]) -> list[list[str]]:
    rows: list[list[str]] = []
    names = [r["endpoint"] for r in runs[0]["results"]]
    for name in names:
        results = [result_of(run, name, i) for i, run in enumerate(runs, 1)]
        request = results[0]["request"]
        for anchor, key, minimum, applies in RATIO_TARGETS:
            if applies is not None and name not in applies:
                continue
            values = [r["ratios"][key] for r in results if r["ratios"].get(key) is not None]
            if not values:
                continue
            med = statistics.median(values)
            each = ", ".join(f"{v:.2f}" + ("" if v >= minimum else "!") for v in values)
            target = f">= {minimum:g}x {anchor}"
            rows.append([request, target, each, f"{med:.2f}x", verdict(med >= minimum)])
        ours = [r["p99_ms"]["ours"] for r in results]
        best = [best_compared_p99(r["p99_ms"]) for r in results]
        pairs = [(o, b) for o, b in zip(ours, best, strict=True) if o is not None and b is not None]
        if pairs:
            each = ", ".join(f"{o:.2f}/{b[1]:.2f}" + ("" if o <= b[1] else "!") for o, b in pairs)
            med = statistics.median(o / b[1] for o, b in pairs)
            rows.append([request, "p99 <= best compared", each, f"{med:.2f}x the best", verdict(med <= 1.0)])
    return rows


def result_of(run: dict[str, Any], name: str, index: int) -> dict[str, Any]:
    for result in run["results"]:
        if result["endpoint"] == name:
            return result  # type: ignore[no-any-return]
    raise ValueError(f"run {index} has no results for {name!r}: runs of different requests")


def verdict(ok: bool) -> str:
    return "met" if ok else "missed"


def main() -> None:
    paths = [Path(p) for p in sys.argv[1:]]
    if not paths:
        sys.exit(__doc__)
    runs = [json.loads(p.read_text()) for p in paths]
    if any(run.get("benchmark") != "fasterapi-server/bench_server" for run in runs):
        sys.exit("summarize_server.py: each file must be what bench_server.py --json wrote")
    print(f"{len(runs)} full runs of bench_server.py: " + ", ".join(p.name for p in paths))
    print("each run's figure (! a miss), the median over the runs, and the median's verdict")
    print("(p99: ours / the best of " + ", ".join(P99_COMPARED) + " in that run)")
    print()
    print_table(["request", "target", "each run", "median", "verdict"], summarize(runs))


if __name__ == "__main__":
    main()
