"""Sessions of the FasterAPI monorepo. Every package under packages/ takes part without edits here.

nox -s demo           the main job: the example app on the native server, from fresh wheels of every package
nox -s tests          build every wheel, install them together, run every package's tests
nox -s lint           ruff, mypy --strict, and the stubs checked against the extensions
nox -s bench          every package's benchmarks against their anchors (-- --quick for a short run)
nox -s fuzz           every fuzz target for a bounded time (-- SECONDS, default 60 per target)
nox -s soak           the native server under wrk for minutes: zero errors, flat memory (-- --minutes N)
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import nox

sys.path.insert(0, str(Path(__file__).parent / "tools"))
import monorepo

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["tests"]
nox.options.error_on_missing_interpreters = True

ROOT = Path(__file__).parent
PYTHON_SOURCES = ["noxfile.py", "tools", "examples", "packages"]


def install_wheels(session: nox.Session, extra: str | None) -> list[monorepo.Package]:
    """Builds fresh wheels of every package and installs them (with `extra` where declared)."""
    packages = monorepo.discover()
    session.install("uv")  # the wheel builds run uv from the session's environment
    session.run("python", str(ROOT / "tools" / "monorepo.py"), "build")
    wheels = [monorepo.wheel_of(p) for p in packages]
    specs = [
        f"{w}[{extra}]" if extra and extra in p.extras else str(w)
        for p, w in zip(packages, wheels, strict=True)
    ]
    refresh = [arg for p in packages for arg in ("--refresh-package", p.name)]
    session.install("--reinstall", *refresh, *specs)
    return packages


@nox.session
def demo(session: nox.Session) -> None:
    """Serves examples/app.py on the native server, 127.0.0.1:8000 (`fasterapi run` options after
    --, e.g. -- --port 9000 --workers 2)."""
    install_wheels(session, None)
    session.log("serving examples/app.py: http://127.0.0.1:8000/docs (Ctrl-C stops it)")
    session.run(
        "fasterapi", "run", "app:app", "--app-dir", str(ROOT / "examples"),
        "--host", "127.0.0.1", "--port", "8000", *session.posargs,
    )  # fmt: skip


@nox.session
def tests(session: nox.Session) -> None:
    packages = install_wheels(session, "test")
    reports = ROOT / "build" / "test-reports"
    reports.mkdir(parents=True, exist_ok=True)
    failed = []
    for package in packages:
        if not package.tests.is_dir():
            continue
        report = reports / f"{package.name}.xml"
        try:
            session.run("pytest", str(package.tests), f"--junitxml={report}", *session.posargs)
        except nox.command.CommandFailed:
            failed.append(package.name)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for package in packages:
        report = reports / f"{package.name}.xml"
        if report.exists():
            for suite in ET.parse(report).getroot().iter("testsuite"):
                for key in totals:
                    totals[key] += int(suite.get(key, 0))
    bad = totals["failures"] + totals["errors"]
    passed = totals["tests"] - bad - totals["skipped"]
    session.log(f"all packages: {passed} passed, {bad} failed, {totals['skipped']} skipped")
    if failed:
        session.error(f"tests failed in: {', '.join(failed)}")


@nox.session
def lint(session: nox.Session) -> None:
    packages = install_wheels(session, "test")
    session.install("-r", str(ROOT / "tools" / "requirements-lint.txt"), "nox")
    session.run("ruff", "check", *PYTHON_SOURCES)
    session.run("ruff", "format", "--check", *PYTHON_SOURCES)
    modules = [p.module for p in packages]
    # The installed packages (their stubs included), with --strict.
    session.run("mypy", "--strict", *[arg for m in modules for arg in ("-p", m)])
    session.run("mypy", "--strict", "noxfile.py", "tools")
    # Stubs against the compiled extensions: fails when a .pyi drifts from the binding. (A package
    # of Python only, the framework, has no stubs: mypy --strict above checks it.)
    allowlist = str(ROOT / "tools" / "stubtest-allowlist.txt")
    stubbed = [p.module for p in packages if any((p.path / "src" / p.module).glob("*.pyi"))]
    session.run(
        "python", "-m", "mypy.stubtest", "--ignore-disjoint-bases", "--allowlist", allowlist, *stubbed
    )


@nox.session
def bench(session: nox.Session) -> None:
    packages = install_wheels(session, "bench")
    # Benchmarks fetch the C sources of their anchors (llhttp, picohttpparser) from the sdists of
    # PyPI packages at run time, with pip; uv's environments have none of their own.
    session.install("pip")
    for package in packages:
        for script in package.scripts("bench", "bench_*.py"):
            session.run("python", str(script), *session.posargs)


@nox.session
def fuzz(session: nox.Session) -> None:
    seconds = session.posargs[0] if session.posargs else "60"
    packages = install_wheels(session, "fuzz")
    for package in packages:
        for script in package.scripts("fuzz", "fuzz_*.py"):
            corpus = ROOT / "build" / "fuzz-corpus" / package.name / script.stem
            corpus.mkdir(parents=True, exist_ok=True)
            seeds = script.parent / "corpus"
            session.run(
                "python",
                str(script),
                f"-max_total_time={seconds}",
                "-rss_limit_mb=2048",
                str(corpus),
                *([str(seeds)] if seeds.is_dir() else []),
            )


@nox.session
def soak(session: nox.Session) -> None:
    """The native server serving the example app under wrk for minutes (-- --minutes N)."""
    install_wheels(session, None)
    session.run("python", str(ROOT / "packages" / "fasterapi-server" / "bench" / "soak.py"), *session.posargs)
