"""FastAPI's own tests, run against fasterapi: no test of a baseline may stop passing.

The harness is tests/compat/ (see its README.md). The FastAPI sdist is downloaded at test time
into build/compat-cache/ (reused when there); without network the suite test is skipped.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

COMPAT = Path(__file__).resolve().parent / "compat"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"fasterapi_compat_{name}", COMPAT / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


compat_run = _load("run")

# What FastAPI's tutorial tests import besides FastAPI, and the baseline was recorded with.
SUITE_NEEDS = (
    "httpx",
    "inline_snapshot",
    "dirty_equals",
    "python_multipart",
    "jinja2",
    "yaml",
    "email_validator",
    "jwt",
    "pwdlib",
    "pydantic_settings",
    "sqlmodel",
    "uvicorn",
)


def test_alias_hook_maps_to_the_same_modules() -> None:
    """The hook alone: same module objects, real packages unreachable, fasterapi kept honest."""
    code = textwrap.dedent(
        """
        import sys
        import alias_plugin
        import fastapi, fasterapi
        assert fastapi is fasterapi, fastapi
        assert sys.modules["fastapi"] is fasterapi
        assert fasterapi.__spec__.name == "fasterapi", fasterapi.__spec__
        import fasterapi.status
        import fastapi.status
        import starlette.status
        assert fastapi.status is fasterapi.status is starlette.status
        assert fasterapi.status.__spec__.name == "fasterapi.status"
        from fastapi import status as s1
        from starlette import status as s2
        assert s1 is s2 is fasterapi.status
        for name in ("fastapi.no_such_module", "starlette.authentication"):
            try:
                __import__(name)
            except ModuleNotFoundError as exc:
                assert exc.name == name, exc
            else:
                raise AssertionError(name + " imported")
        for name in ("starlette.background", "fastapi.params"):  # not imported yet: the hook sees them
            try:  # an import of starlette or fastapi made by a fasterapi module is refused
                exec("import " + name, {"__name__": "fasterapi._probe"})
            except ModuleNotFoundError as exc:
                assert "fasterapi must not depend on" in str(exc), exc
            else:
                raise AssertionError("fasterapi._probe imported " + name)
        print("ok")
        """
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(COMPAT), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run(
        [sys.executable, "-P", "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok", done.stdout


@pytest.mark.parametrize("suite", ["tutorial", "rest"])
def test_suite_keeps_the_baseline(suite: str, capsys: pytest.CaptureFixture[str]) -> None:
    if os.environ.get("FASTERAPI_SKIP_COMPAT"):
        pytest.skip("FASTERAPI_SKIP_COMPAT is set")
    missing = [m for m in SUITE_NEEDS if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"FastAPI's tutorial tests need {', '.join(missing)} (not installed here)")
    sdist = compat_run.prepare_sdist()
    if isinstance(sdist, str):
        pytest.skip(f"no FastAPI {compat_run.FASTAPI_VERSION} sdist: {sdist}")

    report = compat_run.run_suite(sdist, suite, quiet=True)
    out = compat_run.default_report_path(suite, False)
    compat_run.write_report(report, out)
    cmp = compat_run.compare(report, compat_run.load_baseline(compat_run.BASELINES[suite]))

    with capsys.disabled():
        lines = compat_run.summary_lines(report, compat_run.reference_total(suite))
        print("\n" + lines[-1 - len(report.incomplete)])
        print(f"compat report: {out}")
        if cmp.new_passes:
            print(f"{len(cmp.new_passes)} tests pass beyond the baseline; record them with")
            print(f"    {compat_run.update_command(suite)}")
    assert not report.incomplete, report.incomplete
    assert not cmp.regressions, f"{len(cmp.regressions)} tests of the baseline no longer pass:\n" + "\n".join(
        f"  {outcome}: {nodeid}: {msg}" for nodeid, outcome, msg in cmp.regressions
    )
