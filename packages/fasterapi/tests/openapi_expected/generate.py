"""Writes the expected OpenAPI documents of ../openapi_apps/ as FastAPI produces them.

Run once, with the interpreter of an environment that has FastAPI (not fasterapi's tests):
    /path/to/fastapi-venv/bin/python packages/fasterapi/tests/openapi_expected/generate.py
Each app module is executed with `fasterapi` read as `fastapi`; `app` (and `app_*`) documents are
written as <module>.json / <module>.<name>.json.
"""

from __future__ import annotations

import json
import re
import sys
import types
from pathlib import Path

HERE = Path(__file__).resolve().parent
APPS = HERE.parent / "openapi_apps"


def main() -> None:
    import fastapi

    print("FastAPI", fastapi.__version__, file=sys.stderr)
    for source in sorted(APPS.glob("*.py")):
        if source.name.startswith("_"):
            continue
        text = re.sub(r"\bfasterapi\b", "fastapi", source.read_text())
        module = types.ModuleType(f"openapi_apps.{source.stem}")
        module.__file__ = str(source)
        sys.modules[module.__name__] = module
        exec(compile(text, str(source), "exec"), module.__dict__)
        for name, value in vars(module).items():
            if isinstance(value, fastapi.FastAPI):
                suffix = "" if name == "app" else f".{name}"
                out = HERE / f"{source.stem}{suffix}.json"
                out.write_text(json.dumps(value.openapi(), indent=2, sort_keys=False) + "\n")
                print("wrote", out.name, file=sys.stderr)


if __name__ == "__main__":
    main()
