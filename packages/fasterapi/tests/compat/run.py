"""Runs FastAPI's own tests against fasterapi: the compatibility harness.

    python packages/fasterapi/tests/compat/run.py                     # the tutorial suite
    python packages/fasterapi/tests/compat/run.py --suite rest        # the rest of FastAPI's tests
    python packages/fasterapi/tests/compat/run.py --update-baseline   # record what passes now
    python packages/fasterapi/tests/compat/run.py --reference --python /path/to/venv/bin/python

The measure of compatibility is FastAPI's documentation examples (`docs_src/`) and the tests
written for them (`tests/test_tutorial/`), from the FastAPI sdist of FASTAPI_VERSION. The sdist is
fetched at run time with `pip download` into <project root>/build/compat-cache/ (reused when
present; $FASTERAPI_COMPAT_CACHE overrides the place) and extracted there, without its `fastapi/`
package; nothing of it is kept in the repository.

pytest runs in subprocesses (--jobs, the test directories shared out between them), with:
- `-p alias_plugin`: the import hook that makes `fastapi`/`fastapi.*` the fasterapi modules and
  `starlette.*` the fasterapi module of the same role, the real packages being unimportable;
- `-p report_plugin`: one JSON line per test, a per-test time limit;
- `--continue-on-collection-errors`: a module that fails to import is one error, not the end;
- the sdist's root on sys.path, so that `docs_src` and `tests` import as packages.
`--reference` runs the same thing without the hook, under an interpreter that has the real
FastAPI (--python): all the tests should pass there, which shows the harness breaks none.

The report (JSON, --json; by default build/compat-cache/reports/) holds every test node id with
its outcome and the first line of its failure, and a summary by tutorial directory. The
baseline, expected_pass.txt next to this file, lists the tutorial tests that pass; --check
exits 1 when one of them no longer passes (tests/test_compat.py does the same).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FASTAPI_VERSION = "0.149.0"
HERE = Path(__file__).resolve().parent
BASELINE = HERE / "expected_pass.txt"
UPDATE_COMMAND = "python packages/fasterapi/tests/compat/run.py --update-baseline"
# A baseline per suite: tests/test_tutorial/, and the rest of FastAPI's tests/.
BASELINES = {"tutorial": BASELINE, "rest": HERE / "expected_pass_rest.txt"}


def update_command(suite: str) -> str:
    return UPDATE_COMMAND if suite == "tutorial" else f"{UPDATE_COMMAND} --suite {suite}"


SUITES = ("tutorial", "rest", "all")
# Not behaviour: FastAPI's own speed and memory benchmarks (they need pytest-codspeed).
REST_EXCLUDED = ("tests/benchmarks/", "tests/memory_benchmarks/")
SHARD_TIMEOUT_S = 1200  # one pytest process; a hang beyond the per-test limit ends here
OUTCOMES = ("passed", "failed", "error", "skipped")


# --- where things are ---------------------------------------------------------------------------


def project_root() -> Path:
    for parent in HERE.parents:
        if (parent / "noxfile.py").is_file() and (parent / "packages").is_dir():
            return parent
    return HERE.parents[3]


def cache_dir() -> Path:
    env = os.environ.get("FASTERAPI_COMPAT_CACHE")
    return Path(env) if env else project_root() / "build" / "compat-cache"


def _pip_command(python: str) -> list[str] | None:
    probe = subprocess.run([python, "-m", "pip", "--version"], capture_output=True, check=False)
    if probe.returncode == 0:
        return [python, "-m", "pip"]
    for name in ("pip3", "pip"):
        if found := shutil.which(name):
            return [found]
    return None


def prepare_sdist(cache: Path | None = None, version: str = FASTAPI_VERSION) -> Path | str:
    """The extracted FastAPI sdist (tests/, docs_src/, ... without fastapi/) -> its root, or why not."""
    cache = cache or cache_dir()
    root = cache / f"fastapi-{version}"
    marker = root / ".compat-extracted"
    if marker.is_file():
        return root
    cache.mkdir(parents=True, exist_ok=True)
    sdist = cache / f"fastapi-{version}.tar.gz"
    if not sdist.is_file():
        pip = _pip_command(sys.executable)
        if pip is None:
            return "no pip to download the FastAPI sdist with"
        cmd = [*pip, "download", "--no-deps", "--no-binary", ":all:", f"fastapi=={version}", "-d", str(cache)]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"pip download fastapi=={version}: {exc}"
        if done.returncode != 0 or not sdist.is_file():
            last = (done.stderr.strip().splitlines() or ["no sdist"])[-1]
            return f"pip download fastapi=={version} failed: {last}"
    tmp = Path(tempfile.mkdtemp(prefix="extract-", dir=cache))
    try:
        with tarfile.open(sdist) as tar:
            top = f"fastapi-{version}/"
            members = []
            for m in tar.getmembers():
                rel = m.name[len(top) :] if m.name.startswith(top) else None
                # Not fastapi/ (the real package must never shadow the hook's target) nor the
                # sdist's pytest configuration (the harness brings its own).
                if (
                    rel
                    and (m.isfile() or m.isdir())
                    and not rel.startswith("fastapi/")
                    and rel != "pyproject.toml"
                ):
                    members.append(m)
            if hasattr(tarfile, "data_filter"):
                tar.extractall(tmp, members=members, filter="data")
            else:  # Python < 3.11.4
                tar.extractall(tmp, members=members)  # regular files and directories only
        (tmp / top / ".compat-extracted").write_text(f"fastapi {version}\n")
        if root.exists() and not marker.is_file():
            shutil.rmtree(root, ignore_errors=True)  # an extraction that did not finish
        try:
            (tmp / top).rename(root)
        except OSError:
            if not marker.is_file():  # else another run extracted it meanwhile: use that one
                raise
    except (OSError, tarfile.TarError) as exc:
        return f"extracting {sdist.name}: {exc}"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root


# --- what to run --------------------------------------------------------------------------------


def suite_files(sdist: Path, suite: str) -> list[str]:
    """The suite's test modules, as paths relative to the sdist root."""
    tests = sdist / "tests"
    found = sorted(p.relative_to(sdist).as_posix() for p in tests.rglob("test_*.py"))
    tutorial = [f for f in found if f.startswith("tests/test_tutorial/")]
    rest = [f for f in found if f not in tutorial and not f.startswith(REST_EXCLUDED)]
    return {"tutorial": tutorial, "rest": rest, "all": tutorial + rest}[suite]


def group_of(nodeid: str) -> str:
    """The summary's row: the tutorial directory (test_body), or the module elsewhere."""
    path = nodeid.split("::", 1)[0]
    parts = path.split("/")
    if len(parts) > 3 and parts[:2] == ["tests", "test_tutorial"]:
        return parts[2]
    if len(parts) > 2 and parts[0] == "tests":
        return parts[1]
    return path.removeprefix("tests/").removesuffix(".py")


def shard(files: list[str], jobs: int) -> list[list[str]]:
    """Whole groups to each job (a directory's tests share fixtures and files), balanced by count."""
    groups: dict[str, list[str]] = collections.defaultdict(list)
    for f in files:
        groups[group_of(f)].append(f)
    shards: list[list[str]] = [[] for _ in range(max(1, jobs))]
    for _, members in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        min(shards, key=len).extend(members)
    return [s for s in shards if s]


INI = """\
# Written by fasterapi's compat harness (tests/compat/run.py) for each run.
[pytest]
addopts = --strict-markers --strict-config --ignore=docs_src -p no:cacheprovider
xfail_strict = true
"""


# --- the run ------------------------------------------------------------------------------------


@dataclass
class Report:
    suite: str
    mode: str  # "fasterapi" | "reference"
    python: str
    sdist: str
    tests: dict[str, dict[str, Any]]
    seconds: float
    jobs: int
    incomplete: list[str] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        c = collections.Counter(t["outcome"] for t in self.tests.values())
        out = {k: c.get(k, 0) for k in OUTCOMES}
        out["total"] = len(self.tests)
        out["collection_errors"] = sum(1 for n in self.tests if "::" not in n)
        return out

    def passed(self) -> set[str]:
        return {n for n, t in self.tests.items() if t["outcome"] == "passed"}

    def by_group(self) -> dict[str, dict[str, int]]:
        rows: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        for nodeid, t in self.tests.items():
            rows[group_of(nodeid)][t["outcome"]] += 1
        return {
            g: {**{k: c.get(k, 0) for k in OUTCOMES}, "total": sum(c.values())}
            for g, c in sorted(rows.items())
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "harness": "fasterapi tests/compat",
            "fastapi_version": FASTAPI_VERSION,
            "suite": self.suite,
            "mode": self.mode,
            "python": self.python,
            "sdist": self.sdist,
            "seconds": round(self.seconds, 1),
            "jobs": self.jobs,
            "incomplete": self.incomplete,
            "counts": self.counts(),
            "by_directory": self.by_group(),
            "tests": dict(sorted(self.tests.items())),
        }


def run_suite(
    sdist: Path,
    suite: str = "tutorial",
    *,
    python: str | None = None,
    reference: bool = False,
    jobs: int = 2,
    pytest_args: list[str] | None = None,
    shard_timeout: float = SHARD_TIMEOUT_S,
    quiet: bool = False,
) -> Report:
    python = python or sys.executable
    files = suite_files(sdist, suite)
    # A directory per run (several runs may share the cache at once); those over a day old go.
    runs = cache_dir() / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    for old in runs.iterdir():
        with contextlib.suppress(OSError):
            if time.time() - old.stat().st_mtime > 86400:
                shutil.rmtree(old, ignore_errors=True)
    mode = "reference" if reference else "fasterapi"
    run_dir = Path(tempfile.mkdtemp(prefix=f"{suite}-{mode}-{time.strftime('%Y%m%d-%H%M%S')}-", dir=runs))
    ini = run_dir / "pytest.ini"
    ini.write_text(INI)
    plugins = ["-p", "report_plugin"] if reference else ["-p", "alias_plugin", "-p", "report_plugin"]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), str(sdist), *filter(None, [env.get("PYTHONPATH")])])
    env.pop("PYTEST_ADDOPTS", None)
    env.setdefault("COMPAT_TEST_TIMEOUT", "20")

    started = time.monotonic()
    chunks = shard(files, jobs)
    results: list[tuple[Path, Path, list[str]]] = [(Path(), Path(), [])] * len(chunks)

    def run_chunk(k: int, chunk: list[str]) -> None:
        # Each process works in a directory of its own (some tests create ./static and the like),
        # which sees docs_src/ and docs/ as the suite expects of its working directory.
        work = run_dir / f"work{k}"
        work.mkdir()
        for name in ("docs_src", "docs"):
            if (sdist / name).is_dir():
                (work / name).symlink_to(sdist / name, target_is_directory=True)
        jsonl, log = run_dir / f"shard{k}.jsonl", run_dir / f"shard{k}.log"
        notes: list[str] = []
        results[k] = (jsonl, log, notes)
        todo = list(chunk)
        while todo:
            cmd = [
                python, "-P", "-m", "pytest", "-c", str(ini), "--rootdir", str(sdist), *plugins,
                "--continue-on-collection-errors", "-q", "--tb=short", "-rN",
                *(pytest_args or []),
                *(str(sdist / f) for f in todo),
            ]  # fmt: skip
            with log.open("a") as out:
                proc = subprocess.Popen(
                    cmd, cwd=work, env={**env, "COMPAT_REPORT_JSONL": str(jsonl)},
                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                )  # fmt: skip
                try:
                    rc = proc.wait(timeout=max(1.0, shard_timeout - (time.monotonic() - started)))
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                    killed = f"killed after {shard_timeout:.0f} s"
                    notes.append(f"a pytest process ({len(todo)} modules) was {killed}; see {log}")
                    return
            if rc in (0, 1, 5):  # 1: some tests failed; 5: nothing collected
                return
            # A conftest.py that does not import stops pytest before any test: its directory's
            # modules are recorded as errors and the others run again without them.
            text = log.read_text(errors="replace")
            broken = re.findall(r"ImportError while loading conftest '([^']+)'", text)
            conftest_dir = Path(broken[-1]).parent if broken else None
            if conftest_dir is None or not conftest_dir.is_relative_to(sdist):
                tail = " | ".join(text.strip().splitlines()[-3:])
                notes.append(f"pytest exited with {rc} ({len(todo)} modules): {tail[:600]}")
                return
            prefix = conftest_dir.relative_to(sdist).as_posix() + "/"
            errors = [ln.strip() for ln in text.splitlines() if ln.startswith("E ")]
            why = "conftest: " + (
                errors[-1][1:].strip() if errors else f"{prefix}conftest.py does not import"
            )
            dropped = [f for f in todo if f.startswith(prefix)]
            if not dropped:
                notes.append(f"pytest exited with {rc}: {why}")
                return
            with jsonl.open("a") as out:
                for f in dropped:
                    out.write(
                        json.dumps({"nodeid": f, "outcome": "error", "message": why[:400], "seconds": 0.0})
                        + "\n"
                    )
            todo = [f for f in todo if not f.startswith(prefix)]

    threads = [threading.Thread(target=run_chunk, args=(k, c)) for k, c in enumerate(chunks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.monotonic() - started

    tests: dict[str, dict[str, Any]] = {}
    incomplete: list[str] = []
    for jsonl, _log, notes in results:
        incomplete += notes
        if jsonl.is_file():
            for line in jsonl.read_text().splitlines():
                rec = json.loads(line)
                tests[rec.pop("nodeid")] = rec
    report = Report(
        suite, "reference" if reference else "fasterapi", python, str(sdist), tests, seconds, len(chunks),
        incomplete, [str(r[1]) for r in results],
    )  # fmt: skip
    if not quiet:
        print(
            f"ran {len(files)} modules in {len(chunks)} pytest processes, {seconds:.0f} s; logs in {run_dir}"
        )
    return report


# --- the baseline -------------------------------------------------------------------------------


def load_baseline(path: Path = BASELINE) -> set[str]:
    if not path.is_file():
        return set()
    return {ln.strip() for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")}


def write_baseline(report: Report, path: Path = BASELINE, suite: str = "tutorial") -> None:
    passed = sorted(report.passed())
    c = report.counts()
    where = "tests/test_tutorial/" if suite == "tutorial" else "tests/ (but tests/test_tutorial/)"
    header = [
        f"# The tests of FastAPI {FASTAPI_VERSION}'s {where} that pass against fasterapi,",
        "# run by the compat harness (tests/compat/run.py). One that stops passing fails",
        "# tests/test_compat.py. Regenerated, never edited by hand:",
        f"#     {update_command(suite)}",
        f"# {len(passed)} of {c['total']} collected ({c['collection_errors']} modules did not collect).",
    ]
    path.write_text("\n".join(header + passed) + "\n")


@dataclass
class Comparison:
    regressions: list[tuple[str, str, str]]  # (nodeid, outcome, message)
    new_passes: list[str]


def compare(report: Report, baseline: set[str]) -> Comparison:
    passed = report.passed()
    regressions = []
    for nodeid in sorted(baseline - passed):
        rec = report.tests.get(nodeid) or report.tests.get(nodeid.split("::", 1)[0])
        if rec is None:
            regressions.append((nodeid, "not run", "the test was not collected"))
        else:
            regressions.append((nodeid, rec["outcome"], rec["message"]))
    return Comparison(regressions, sorted(passed - baseline))


# --- printing -----------------------------------------------------------------------------------


def summary_lines(report: Report, reference_total: int | None = None, top: int = 12) -> list[str]:
    c = report.counts()
    lines = []
    rows = report.by_group()
    width = max([len(g) for g in rows] + [9])
    lines.append(f"{'directory':<{width}}  passed  total  failed  error  skipped")
    for g, r in rows.items():
        counts = f"{r['passed']:>6}  {r['total']:>5}  {r['failed']:>6}  {r['error']:>5}  {r['skipped']:>7}"
        lines.append(f"{g:<{width}}  {counts}")
    failures = collections.Counter(
        t["message"] for t in report.tests.values() if t["outcome"] in ("failed", "error") and t["message"]
    )
    if failures:
        lines.append("")
        lines.append("most frequent first lines of failures:")
        lines += [f"  {n:>5}  {msg[:160]}" for msg, n in failures.most_common(top)]
    lines.append("")
    of = f" ({reference_total} in the reference run)" if reference_total else ""
    lines.append(
        f"{report.mode}, FastAPI {FASTAPI_VERSION} {report.suite} tests: "
        f"passed {c['passed']} / {c['total']}{of}; "
        f"failed {c['failed']}, error {c['error']} ({c['collection_errors']} modules did not collect), "
        f"skipped {c['skipped']}; {report.seconds:.0f} s"
    )
    lines += [f"INCOMPLETE: {why}" for why in report.incomplete]
    return lines


def write_report(report: Report, out: Path) -> None:
    """Written whole or not at all: runs at the same time do not mix their reports."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}")
    tmp.write_text(json.dumps(report.to_json(), indent=1) + "\n")
    os.replace(tmp, out)


def default_report_path(suite: str, reference: bool) -> Path:
    return cache_dir() / "reports" / f"{suite}-{'reference' if reference else 'fasterapi'}.json"


def reference_total(suite: str) -> int | None:
    path = default_report_path(suite, True)
    try:
        return int(json.loads(path.read_text())["counts"]["total"])
    except (OSError, ValueError, KeyError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--suite", choices=SUITES, default="tutorial", help="tutorial (default), rest or all")
    parser.add_argument(
        "--reference", action="store_true", help="no import hook: the real FastAPI (see --python)"
    )
    parser.add_argument(
        "--python",
        default=os.environ.get("FASTERAPI_COMPAT_PYTHON"),
        help="the interpreter pytest runs under (default: this one, or $FASTERAPI_COMPAT_PYTHON)",
    )
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="pytest processes (2)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="where the report goes")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if a test of the baseline no longer passes"
    )
    parser.add_argument(
        "--update-baseline",
        action="store_true",
        help=f"rewrite the suite's baseline ({', '.join(p.name for p in BASELINES.values())}) from this run",
    )
    parser.add_argument("--timeout", type=float, default=SHARD_TIMEOUT_S, help="seconds per pytest process")
    parser.add_argument("pytest_args", nargs="*", help="passed on to pytest (after --), e.g. -- -k body")
    args = parser.parse_args(argv)
    if args.update_baseline and (args.reference or args.suite not in BASELINES or args.pytest_args):
        parser.error("--update-baseline records a full run of one suite (tutorial or rest) against fasterapi")

    sdist = prepare_sdist()
    if isinstance(sdist, str):
        print(f"cannot get the FastAPI {FASTAPI_VERSION} sdist: {sdist}", file=sys.stderr)
        return 2
    report = run_suite(
        sdist, args.suite, python=args.python, reference=args.reference, jobs=args.jobs,
        pytest_args=args.pytest_args, shard_timeout=args.timeout,
    )  # fmt: skip
    out = args.json or default_report_path(args.suite, args.reference)
    write_report(report, out)
    print("\n".join(summary_lines(report, None if args.reference else reference_total(args.suite))))
    print(f"report: {out}")

    status = 0
    if args.suite in BASELINES and not args.reference:
        baseline = BASELINES[args.suite]
        cmp = compare(report, load_baseline(baseline))
        if args.update_baseline:
            if report.incomplete:
                print("not updating the baseline: the run is incomplete", file=sys.stderr)
                return 1
            write_baseline(report, baseline, args.suite)
            print(f"baseline: {len(report.passed())} tests in {baseline}")
            for nodeid, outcome, _msg in cmp.regressions:
                print(f"  dropped from the baseline ({outcome}): {nodeid}")
        else:
            if cmp.new_passes:
                print(f"{len(cmp.new_passes)} tests pass that the baseline does not list; record them with")
                print(f"    {update_command(args.suite)}")
            if cmp.regressions:
                print(f"REGRESSIONS: {len(cmp.regressions)} tests of the baseline no longer pass:")
                for nodeid, outcome, msg in cmp.regressions:
                    print(f"  {outcome}: {nodeid}: {msg}")
                if args.check:
                    status = 1
    if report.incomplete and args.check:
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
