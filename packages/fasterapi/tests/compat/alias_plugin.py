"""The import hook of the compatibility harness, loaded by pytest with `-p alias_plugin`.

Importing this module installs, first on `sys.meta_path`, a finder that answers every import of
`fastapi`, `fastapi.*`, `starlette` and `starlette.*`:

- `fastapi` and `fastapi.X` are the modules `fasterapi` and `fasterapi.X` themselves (the same
  objects: `fastapi.X is fasterapi.X`, and `sys.modules["fastapi.X"] is sys.modules["fasterapi.X"]`);
- `starlette.X` is the fasterapi module of the same role, from STARLETTE_MODULES, where there is
  one; `starlette` itself is an empty package that only holds those;
- anything else under those names fails with ModuleNotFoundError, and so does any import of
  fastapi or starlette made by fasterapi's own modules: the real packages, even when installed,
  are never found, so a hidden dependency on them fails loudly instead of passing quietly.

Nothing here is pytest-specific except that pytest imports it; `install()` is idempotent.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Sequence

TARGET = "fasterapi"

# starlette's modules and the fasterapi module that plays the same role. A submodule of a mapped
# package maps to the same submodule (starlette.middleware.cors -> fasterapi.middleware.cors).
STARLETTE_MODULES = {
    "starlette.testclient": "fasterapi.testclient",
    "starlette.responses": "fasterapi.responses",
    "starlette.requests": "fasterapi.requests",
    "starlette.exceptions": "fasterapi.exceptions",
    "starlette.status": "fasterapi.status",
    "starlette.middleware": "fasterapi.middleware",
    "starlette.datastructures": "fasterapi.datastructures",
    "starlette.websockets": "fasterapi.websockets",
    "starlette.background": "fasterapi.background",
    "starlette.concurrency": "fasterapi.concurrency",
    "starlette.routing": "fasterapi.routing",
    "starlette.staticfiles": "fasterapi.staticfiles",
    "starlette.templating": "fasterapi.templating",
    "starlette.types": "fasterapi.types",
}
# starlette.applications is mapped only when fasterapi has a `Starlette` class (looked up in these
# modules, in order): a module holding that one name is made for it. Otherwise it stays unmapped.
STARLETTE_APPLICATION_SOURCES = ("fasterapi.applications", "fasterapi")

# Why a name could not be mapped, for the report (filled as imports are attempted).
unmapped: dict[str, str] = {}


def _importer_name() -> str:
    """The __name__ of the module whose code started the current import."""
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not (filename.startswith("<frozen importlib") or filename == __file__):
            return str(frame.f_globals.get("__name__", ""))
        frame = frame.f_back  # type: ignore[assignment]
    return ""


def _is_target(name: str) -> bool:
    return name == TARGET or name.startswith(TARGET + ".")


class _SameModuleLoader(importlib.abc.Loader):
    """Loads an alias as a module that already exists, leaving that module's own spec in place."""

    def __init__(self, module: types.ModuleType) -> None:
        self.module = module
        self.spec = getattr(module, "__spec__", None)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return self.module

    def exec_module(self, module: types.ModuleType) -> None:
        # The import system has just set module.__spec__ to the alias's spec: put the real one back.
        if self.spec is not None:
            module.__spec__ = self.spec


class _NewModuleLoader(importlib.abc.Loader):
    """Loads a module made here (the empty `starlette` package, `starlette.applications`)."""

    def __init__(self, attrs: dict[str, object]) -> None:
        self.attrs = attrs

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        module.__dict__.update(self.attrs)
        module.__compat_alias__ = True  # type: ignore[attr-defined]


def _missing(name: str, why: str) -> ModuleNotFoundError:
    unmapped.setdefault(name, why)
    return ModuleNotFoundError(f"No module named {name!r} ({why})", name=name)


def _target_of_starlette(name: str) -> str | None:
    for prefix, target in STARLETTE_MODULES.items():
        if name == prefix or name.startswith(prefix + "."):
            return target + name[len(prefix) :]
    return None


class AliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        top = fullname.partition(".")[0]
        if top not in ("fastapi", "starlette"):
            return None
        importer = _importer_name()
        if _is_target(importer):
            raise _missing(fullname, f"imported by {importer}: fasterapi must not depend on {top}")
        if top == "fastapi":
            return self._alias(fullname, TARGET + fullname[len("fastapi") :])
        if fullname == "starlette":
            loader = _NewModuleLoader({"__doc__": "starlette, as mapped by fasterapi's compat harness"})
            return importlib.machinery.ModuleSpec(fullname, loader, is_package=True)
        if fullname == "starlette.applications":
            return self._applications(fullname)
        mapped = _target_of_starlette(fullname)
        if mapped is None:
            raise _missing(fullname, "starlette module with no fasterapi counterpart in the compat hook")
        return self._alias(fullname, mapped)

    def _alias(self, fullname: str, target_name: str) -> importlib.machinery.ModuleSpec:
        try:
            module = importlib.import_module(target_name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and (exc.name == target_name or target_name.startswith(exc.name + ".")):
                raise _missing(fullname, f"mapped to {target_name!r}, which does not exist") from None
            raise  # fasterapi's module exists but needs something missing: say what
        loader = _SameModuleLoader(module)
        is_package = hasattr(module, "__path__")
        spec = importlib.machinery.ModuleSpec(fullname, loader, is_package=is_package)
        if is_package:
            spec.submodule_search_locations = list(module.__path__)
        return spec

    def _applications(self, fullname: str) -> importlib.machinery.ModuleSpec:
        for source in STARLETTE_APPLICATION_SOURCES:
            try:
                module = importlib.import_module(source)
            except ModuleNotFoundError:
                continue
            cls = getattr(module, "Starlette", None)
            if cls is not None:
                loader = _NewModuleLoader({"Starlette": cls, "__all__": ["Starlette"]})
                return importlib.machinery.ModuleSpec(fullname, loader)
        raise _missing(fullname, "left unmapped: fasterapi provides no Starlette class")


_FINDER = AliasFinder()


def install() -> None:
    """Puts the finder first on sys.meta_path; refuses if a real fastapi/starlette is loaded."""
    loaded = sorted(
        name
        for name, module in sys.modules.items()
        if name.partition(".")[0] in ("fastapi", "starlette")
        and module is not None
        and not _is_target(getattr(module, "__name__", ""))
        and not getattr(module, "__compat_alias__", False)
    )
    if loaded:
        raise RuntimeError(f"the real fastapi/starlette was imported before the compat hook: {loaded}")
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


install()
