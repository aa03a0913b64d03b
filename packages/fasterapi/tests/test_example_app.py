"""The monorepo's example app (examples/app.py, what `./dev demo` serves) works as its docstring says."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from fasterapi.testclient import TestClient

APP = Path(__file__).resolve().parents[3] / "examples" / "app.py"


@pytest.fixture
def example() -> ModuleType:
    if not APP.is_file():
        pytest.skip(f"{APP} is not in this checkout")
    spec = importlib.util.spec_from_file_location("fasterapi_example_app", APP)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_read_create_filter_delete(example: ModuleType) -> None:
    client = TestClient(example.app)
    assert client.get("/").json() == {"message": "Hello from FasterAPI", "docs": "/docs"}
    assert client.get("/items/1").json() == {"name": "chair", "price": 49.0, "tags": ["furniture"], "id": 1}
    created = client.post("/items", json={"name": "lamp", "price": 30.5, "tags": ["light"]})
    assert created.status_code == 201
    assert created.json() == {"name": "lamp", "price": 30.5, "tags": ["light"], "id": 3}
    assert [i["id"] for i in client.get("/items", params={"tag": "light"}).json()] == [2, 3]
    assert [i["id"] for i in client.get("/items", params={"limit": 1}).json()] == [1]
    assert client.delete("/items/3").status_code == 401
    assert client.delete("/items/3", headers={"X-Token": "secret"}).status_code == 204
    assert client.get("/items/3").status_code == 404


def test_bad_input_answers_422(example: ModuleType) -> None:
    client = TestClient(example.app)
    bad = client.post("/items", json={"name": "", "price": -1})
    assert bad.status_code == 422
    assert [(e["loc"], e["type"]) for e in bad.json()["detail"]] == [
        (["body", "name"], "string_too_short"),
        (["body", "price"], "greater_than"),
    ]
    assert client.get("/items", params={"limit": 0}).status_code == 422
    assert client.get("/items/abc").status_code == 422


def test_docs_and_schema(example: ModuleType) -> None:
    client = TestClient(example.app)
    schema = client.get("/openapi.json").json()
    assert schema["info"]["title"] == "Inventory"
    assert sorted(schema["paths"]) == ["/", "/items", "/items/{item_id}"]
    assert client.get("/docs").status_code == 200


def test_html_page(example: ModuleType) -> None:
    client = TestClient(example.app)
    page = client.get("/page")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "<td>desk lamp</td><td>30.50</td>" in page.text


_SERVE = """
import sys
sys.path.insert(0, sys.argv[1])
from app import app
from fasterapi_server import serve
serve(app, host="127.0.0.1", port=0, threads=1, ready=lambda port: print(port, flush=True))
"""


def test_served_by_the_native_server(example: ModuleType) -> None:
    """The main job: the example app on fasterapi-server, over real sockets."""
    pytest.importorskip("fasterapi_server")
    httpx = pytest.importorskip("httpx")
    import signal
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVE, str(APP.parent)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the port, once listening (EOF if the server failed)
        assert line.strip().isdigit(), proc.stderr.read() if proc.stderr else line
        base = f"http://127.0.0.1:{int(line)}"
        with httpx.Client(base_url=base, timeout=10) as client:
            assert client.get("/items/1").json()["name"] == "chair"
            created = client.post("/items", json={"name": "lamp", "price": 30.5, "tags": ["light"]})
            assert created.status_code == 201
            assert created.json()["id"] == 3
            assert client.get("/items/abc").status_code == 422
            assert client.delete("/items/3").status_code == 401
            assert client.get("/openapi.json").json()["info"]["title"] == "Inventory"
            assert "desk lamp" in client.get("/page").text
            assert client.get("/nowhere").status_code == 404
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            assert proc.wait(timeout=15) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            for pipe in (proc.stdout, proc.stderr):
                if pipe is not None:
                    pipe.close()
