"""bench/summarize_server.py: the targets of several bench_server.py runs, each run's figure and
the median's verdict; p99 held to the compared servers, not to nginx."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import bench_server
import summarize_server


def result(name: str, *, vs_uvicorn: float, p99: dict[str, float | None]) -> dict[str, Any]:
    return {
        "endpoint": name,
        "request": f"GET /{name}",
        "ratios": {"ours/nginx": None, "ours/granian_rsgi": None, "ours/uvicorn": vs_uvicorn},
        "p99_ms": {"ours": None, "ours_thread": 0.1, "ours_asgi": 0.1, "uvicorn": None, "granian_asgi": None,
                   "granian_rsgi": None, "socketify": None, "nginx": None, **p99},
    }  # fmt: skip


def run(*results: dict[str, Any]) -> dict[str, Any]:
    return {"benchmark": "fasterapi-server/bench_server", "results": list(results)}


def rows_of(runs: list[dict[str, Any]]) -> dict[tuple[str, str], list[str]]:
    return {(r[0], r[1]): r for r in summarize_server.summarize(runs)}


def test_each_run_and_the_median_verdict() -> None:
    runs = [
        run(result("user", vs_uvicorn=9.5, p99={"ours": 3.0, "socketify": 2.0, "uvicorn": 20.0})),
        run(result("user", vs_uvicorn=12.0, p99={"ours": 3.0, "socketify": 6.0})),
        run(result("user", vs_uvicorn=11.0, p99={"ours": 2.0, "granian_rsgi": 4.0})),
    ]
    rows = rows_of(runs)
    ratio = rows[("GET /user", ">= 10x uvicorn")]
    assert ratio[2:] == ["9.50!, 12.00, 11.00", "11.00x", "met"]
    p99 = rows[("GET /user", "p99 <= best compared")]
    # each run against its own best compared server: 1.5, 0.5, 0.5
    assert p99[2:] == ["3.00/2.00!, 3.00/6.00, 2.00/4.00", "0.50x the best", "met"]
    # a request the target does not apply to has no row of it
    assert ("GET /user", ">= 0.7x nginx") not in rows


def test_a_median_below_the_target_is_missed() -> None:
    runs = [run(result("json", vs_uvicorn=v, p99={"ours": 5.0, "socketify": 4.0})) for v in (9.9, 10.5, 9.0)]
    rows = rows_of(runs)
    assert rows[("GET /json", ">= 10x uvicorn")][3:] == ["9.90x", "missed"]
    assert rows[("GET /json", "p99 <= best compared")][3:] == ["1.25x the best", "missed"]


def test_nginx_and_ours_other_forms_are_not_compared_for_p99() -> None:
    p99 = {"ours": 1.0, "ours_thread": 0.1, "ours_asgi": 0.1, "nginx": 0.5, "uvicorn": 9.0, "socketify": None}
    assert bench_server.best_compared_p99(p99) == ("uvicorn", 9.0)
    assert bench_server.best_compared_p99({"ours": 1.0, "nginx": 0.5}) is None
    rows = rows_of([run(result("plaintext", vs_uvicorn=11.0, p99=p99))])
    assert rows[("GET /plaintext", "p99 <= best compared")][3:] == ["0.11x the best", "met"]


def test_runs_of_different_requests_are_refused() -> None:
    runs = [run(result("json", vs_uvicorn=11.0, p99={})), run(result("user", vs_uvicorn=11.0, p99={}))]
    with pytest.raises(ValueError, match="run 2 has no results for 'json'"):
        summarize_server.summarize(runs)


def test_a_file_of_another_benchmark_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "other.json"
    other.write_text('{"benchmark": "fasterapi-hpack/bench", "results": []}')
    monkeypatch.setattr(sys, "argv", ["summarize_server.py", str(other)])
    with pytest.raises(SystemExit, match=r"what bench_server\.py --json wrote"):
        summarize_server.main()
