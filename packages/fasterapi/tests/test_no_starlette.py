"""fasterapi depends on neither starlette nor fastapi, even where they are installed.

Each check runs in a fresh interpreter where `sys.modules["starlette"] = None` and
`sys.modules["fastapi"] = None` are set before anything else, so that any import of them, direct
or through another package, fails; then `fasterapi` and every module found under its directory
are imported. A module that needs an optional extra (jinja2, python-multipart, orjson, ujson,
httpx) may import it lazily, or at import time where its role is that extra (EXTRA_MODULES).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from importlib.metadata import PackageNotFoundError, requires
from pathlib import Path

import pytest

BLOCKED = ("starlette", "fastapi")
EXTRAS = ("jinja2", "multipart", "python_multipart", "orjson", "ujson", "httpx", "email_validator", "yaml")
# Modules whose whole purpose is an extra: they may need it at import time (as starlette's do).
EXTRA_MODULES = {"fasterapi.testclient": "httpx", "fasterapi.templating": "jinja2"}

PROBE = textwrap.dedent(
    """
    import sys
    BLOCKED, EXTRAS, PACKAGE = {blocked!r}, {extras!r}, {package!r}
    for name in BLOCKED + EXTRAS:
        sys.modules[name] = None  # before anything else: `import name` now raises ImportError
    import importlib, json, os, traceback

    def chain(exc):
        while exc is not None:
            yield exc
            exc = exc.__cause__ or exc.__context__

    def blocked_name(exc, names):
        for e in chain(exc):
            name = getattr(e, "name", None) or ""
            if isinstance(e, ImportError) and name.partition(".")[0] in names:
                return name
            if any(f"import of {{n}} halted" in str(e) for n in names):
                return str(e)
        return None

    root = os.path.dirname(importlib.import_module(PACKAGE).__file__)
    names = [PACKAGE]
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and not d.startswith("."))
        rel = os.path.relpath(dirpath, root)
        package = PACKAGE if rel == "." else PACKAGE + "." + rel.replace(os.sep, ".")
        if rel != "." and "__init__.py" not in filenames:
            continue  # not a package
        for f in sorted(filenames):
            if f.endswith(".py") and f != "__main__.py":
                names.append(package if f == "__init__.py" else package + "." + f[:-3])
    results = {{}}
    for name in dict.fromkeys(names):
        try:
            importlib.import_module(name)
            results[name] = ["ok", ""]
        except BaseException as exc:
            line = traceback.format_exception_only(type(exc), exc)[-1].strip()
            if (which := blocked_name(exc, BLOCKED)) is not None:
                results[name] = ["blocked", which + ": " + line]
            elif (which := blocked_name(exc, EXTRAS)) is not None:
                results[name] = ["extra", which + ": " + line]
            else:
                results[name] = ["error", line]
    leaked = sorted(n for n, m in sys.modules.items() if m is not None and n.partition(".")[0] in BLOCKED)
    print(json.dumps({{"results": results, "leaked": leaked}}))
    """
)


def probe(extras: tuple[str, ...], package: str = "fasterapi", path: Path | None = None) -> dict[str, object]:
    code = PROBE.format(blocked=BLOCKED, extras=extras, package=package)
    cmd = (
        [sys.executable, "-c", code]
        if path is None
        else [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(path)!r})\n" + code]
    )
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=120)
    if done.returncode != 0 or not done.stdout.strip():
        pytest.fail(f"`import {package}` fails without starlette and fastapi:\n{done.stderr[-3000:]}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_no_module_needs_starlette_or_fastapi() -> None:
    found = probe(())
    results: dict[str, list[str]] = found["results"]  # type: ignore[assignment]
    bad = {name: why for name, (status, why) in results.items() if status == "blocked"}
    assert not bad, "fasterapi modules that import starlette or fastapi:\n" + "\n".join(
        f"  {name}: {why}" for name, why in sorted(bad.items())
    )
    assert not found["leaked"], found["leaked"]
    # Failures for other reasons are another test's business, but they must not hide a module
    # from this one: say which modules could not be checked.
    others = {name: why for name, (status, why) in results.items() if status != "ok"}
    if others:
        print(
            "not checked (failed for another reason):",
            *sorted(f"{n}: {w}" for n, w in others.items()),
            sep="\n  ",
        )


def test_extras_are_imported_lazily() -> None:
    """Without jinja2, python-multipart, orjson, ujson, httpx...: everything but their own modules imports."""
    found = probe(EXTRAS)
    results: dict[str, list[str]] = found["results"]  # type: ignore[assignment]
    eager = {
        name: why
        for name, (status, why) in results.items()
        if status == "extra" and name not in EXTRA_MODULES
    }
    assert not eager, "fasterapi modules that import an optional extra at import time:\n" + "\n".join(
        f"  {name}: {why}" for name, why in sorted(eager.items())
    )


def test_distribution_does_not_require_them() -> None:
    try:
        reqs = requires("fasterapi-framework") or []
    except PackageNotFoundError:
        pytest.skip("fasterapi-framework is not installed (only its sources are on the path)")
    # A requirement without an `extra ==` marker is a runtime dependency (the bench extra may have FastAPI).
    runtime = [r for r in reqs if "extra ==" not in r.replace('"', "").replace("'", "")]
    names = [m.group(0).lower() for r in runtime if (m := re.match(r"[A-Za-z0-9_.\-]+", r))]
    bad = [n for n in names if n in BLOCKED]
    assert not bad, f"runtime requirements on {bad}"


def test_probe_sees_a_hidden_dependency(tmp_path: Path) -> None:
    """The check itself, on a made-up package: what it must catch, it catches."""
    pkg = tmp_path / "probe_pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "direct.py").write_text("from starlette.responses import Response\n")
    (pkg / "sub" / "indirect.py").write_text("from probe_pkg import direct\n")
    (pkg / "fastapi_user.py").write_text("import fastapi.params\n")
    (pkg / "lazy.py").write_text("def render():\n    import jinja2\n")
    (pkg / "eager.py").write_text("import jinja2\n")
    results = probe(EXTRAS, "probe_pkg", tmp_path)["results"]
    status = {name: s for name, (s, _why) in results.items()}  # type: ignore[attr-defined]
    assert status == {
        "probe_pkg": "ok",
        "probe_pkg.direct": "blocked",
        "probe_pkg.eager": "extra",
        "probe_pkg.fastapi_user": "blocked",
        "probe_pkg.lazy": "ok",
        "probe_pkg.sub": "ok",
        "probe_pkg.sub.indirect": "blocked",
    }, results
