"""The recording side of the compatibility harness, loaded by pytest with `-p report_plugin`.

- Writes one JSON line per test (and per module that failed to collect) to the file named by
  $COMPAT_REPORT_JSONL, as soon as the test is over, so that a run that is killed still tells what
  it got through: {"nodeid", "outcome": passed|failed|error|skipped, "message": first line, "seconds"}.
- Registers the markers the suite uses that come from plugins it does not need (xdist_group,
  timeout) and, unless pytest-timeout is installed, enforces a per-test time limit itself
  (SIGALRM in the main thread; $COMPAT_TEST_TIMEOUT seconds, default 20, or the test's
  `@pytest.mark.timeout(n)`), so that one hanging test does not stop the run.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Generator
from typing import Any

import pytest

DEFAULT_TIMEOUT_S = 20.0  # the suite's own setting (timeout = "20" in its pytest configuration)


class _Run:
    out: Any = None  # the JSON lines file
    own_timeout = False  # the time limit is enforced here (no pytest-timeout)


_state: dict[str, dict[str, Any]] = {}


class CompatTimeout(BaseException):  # not Exception: `except Exception` in a test must not eat it
    pass


def _write(record: dict[str, Any]) -> None:
    if _Run.out is not None:
        _Run.out.write(json.dumps(record) + "\n")
        _Run.out.flush()


def first_line(report: Any) -> str:
    """The first line of what went wrong (or of a skip's reason)."""
    longrepr = report.longrepr
    if longrepr is None:
        return ""
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # a skip: (path, line, reason)
        text = str(longrepr[2])
    else:
        crash = getattr(longrepr, "reprcrash", None)
        if crash is not None and crash.message and report.when != "collect":
            text = crash.message
        else:
            lines = str(longrepr).splitlines()
            errors = [ln[1:].strip() for ln in lines if ln.startswith("E ") and ln[1:].strip()]
            text = errors[-1] if errors else next((ln for ln in reversed(lines) if ln.strip()), "")
    text = text.strip()
    return (text.splitlines()[0] if text else "")[:400]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "xdist_group(name): used by the suite with pytest-xdist")
    if not config.pluginmanager.hasplugin("timeout"):
        config.addinivalue_line("markers", "timeout(seconds): time limit of one test")
        _Run.own_timeout = hasattr(signal, "SIGALRM")
    path = os.environ.get("COMPAT_REPORT_JSONL")
    if path:
        _Run.out = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in pytest_unconfigure


def pytest_unconfigure(config: pytest.Config) -> None:
    if _Run.out is not None:
        _Run.out.close()
        _Run.out = None


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _write({"nodeid": report.nodeid, "outcome": "error", "message": first_line(report), "seconds": 0.0})


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    st = _state.setdefault(report.nodeid, {"outcome": None, "message": "", "seconds": 0.0})
    st["seconds"] += report.duration
    first_failure = st["outcome"] not in ("failed", "error")  # the first failure is the one that counts
    if report.when == "setup" and first_failure:
        if report.failed:
            st.update(outcome="error", message=first_line(report))
        elif report.skipped:
            st.update(outcome="skipped", message=first_line(report))
    elif report.when == "call" and first_failure:
        if report.failed:
            st.update(outcome="failed", message=first_line(report))
        elif report.skipped:  # pytest.skip() in the test, or an expected failure
            reason = getattr(report, "wasxfail", None)
            message = f"xfail: {reason}" if reason is not None else first_line(report)
            st.update(outcome="skipped", message=message)
        else:
            st.update(outcome="passed", message="")
    elif report.when == "teardown":
        if report.failed and first_failure:
            st.update(outcome="error", message="teardown: " + first_line(report))
        _state.pop(report.nodeid)
        _write(
            {
                "nodeid": report.nodeid,
                "outcome": st["outcome"] or "error",
                "message": st["message"],
                "seconds": round(st["seconds"], 4),
            }
        )


def _limit(item: pytest.Item) -> float:
    marker = item.get_closest_marker("timeout")
    if marker is not None and marker.args:
        return float(marker.args[0])
    return float(os.environ.get("COMPAT_TEST_TIMEOUT", DEFAULT_TIMEOUT_S))


def _on_alarm(signum: int, frame: Any) -> None:
    raise CompatTimeout("the test took too long (compat harness time limit)")


def _guarded(item: pytest.Item) -> Generator[None, None, None]:
    if not _Run.own_timeout or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, _limit(item))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    yield from _guarded(item)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    yield from _guarded(item)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    yield from _guarded(item)
