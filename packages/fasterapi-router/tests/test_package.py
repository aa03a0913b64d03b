"""What the installed package exposes: names, errors, version, headers, typing files."""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.resources
import re
from pathlib import Path

import fasterapi_router
from fasterapi_router import FrozenRouterError, PatternError, RouteConflictError, RouterError

PUBLIC = {
    "CONVERTERS",
    "FrozenRouterError",
    "Match",
    "Miss",
    "PatternError",
    "Route",
    "RouteConflictError",
    "Router",
    "RouterError",
    "__version__",
    "get_include",
}


def test_all() -> None:
    assert set(fasterapi_router.__all__) == PUBLIC
    assert len(fasterapi_router.__all__) == len(PUBLIC)
    namespace: dict[str, object] = {}
    exec("from fasterapi_router import *", namespace)
    assert set(namespace) - {"__builtins__"} == PUBLIC


def test_converters() -> None:
    assert fasterapi_router.CONVERTERS == ("str", "int", "float", "uuid", "path")


def test_error_hierarchy() -> None:
    assert issubclass(RouterError, Exception)
    for cls in (PatternError, RouteConflictError, FrozenRouterError):
        assert issubclass(cls, RouterError)
    assert issubclass(PatternError, ValueError)
    assert issubclass(RouteConflictError, ValueError)
    assert issubclass(FrozenRouterError, RuntimeError)
    assert not issubclass(FrozenRouterError, ValueError)


def test_version() -> None:
    assert fasterapi_router.__version__ == importlib.metadata.version("fasterapi-router")
    assert re.fullmatch(r"\d+\.\d+\.\d+([ab]|rc|\.dev|\.post)?\d*", fasterapi_router.__version__)


def test_get_include() -> None:
    include = Path(fasterapi_router.get_include())
    assert include.is_absolute()
    for header in ("router.hpp", "pattern.hpp", "text.hpp"):
        assert (include / "fasterapi" / "router" / header).is_file()
    text = (include / "fasterapi" / "router" / "router.hpp").read_text()
    assert "namespace fasterapi::router" in text
    assert "Python.h" not in text  # the core stands without Python


def test_typing_files() -> None:
    package = importlib.resources.files("fasterapi_router")
    assert package.joinpath("py.typed").is_file()
    stub = package.joinpath("_router.pyi")
    assert stub.is_file()
    classes = {node.name for node in ast.parse(stub.read_text()).body if isinstance(node, ast.ClassDef)}
    assert {"Router", "Match", "Miss", "Route"} <= classes


def test_classes_come_from_the_extension() -> None:
    for name in ("Router", "Match", "Miss", "Route"):
        assert getattr(fasterapi_router, name).__module__ == "fasterapi_router._router"
