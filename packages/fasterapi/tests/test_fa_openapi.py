"""OpenAPI documents equal to FastAPI's, for the applications of openapi_apps/.

The expected documents (openapi_expected/*.json) were written by FastAPI 0.149.0 from the same
sources (openapi_expected/generate.py). The comparison is of the parsed JSON, key order included
(the served document is what clients and snapshot tests see).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest
from fasterapi import FastAPI
from fasterapi.testclient import TestClient

EXPECTED = Path(__file__).resolve().parent / "openapi_expected"
CASES = sorted(p.name.removesuffix(".json") for p in EXPECTED.glob("*.json"))


def _app(case: str) -> FastAPI:
    module_name, _, attr = case.partition(".")
    module = importlib.import_module(f"openapi_apps.{module_name}")
    app = getattr(module, attr or "app")
    assert isinstance(app, FastAPI)
    return app


def _ordered(value: Any) -> Any:
    """The document with its key order made visible to ==."""
    if isinstance(value, dict):
        return [(k, _ordered(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_ordered(v) for v in value]
    return value


@pytest.mark.parametrize("case", CASES)
def test_openapi_document_equals_fastapi(case: str) -> None:
    expected = json.loads((EXPECTED / f"{case}.json").read_text())
    app = _app(case)
    document = app.openapi()
    assert document == expected
    served = TestClient(app).get("/openapi.json")
    assert served.status_code == 200
    assert _ordered(served.json()) == _ordered(expected)


def test_cases_present() -> None:
    assert len(CASES) >= 10
