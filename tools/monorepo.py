"""The packages of this monorepo, in build order, and the wheelhouse they are built into.

Every directory under packages/ with a pyproject.toml is a package. A package may need another one
at build time (the native server compiles the router's headers) or at run time; both show up as
requirements on a local package name, and the wheelhouse is built in that order so that each build
finds its local requirements in the wheelhouse (``--find-links``), never on the package index.

Used by noxfile.py and tox.ini; runnable on its own:

    python tools/monorepo.py list              # names in build order
    python tools/monorepo.py build [--out DIR] # (re)build every wheel into DIR
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ROOT / "packages"
WHEELHOUSE = ROOT / "build" / "wheelhouse"


@dataclass(frozen=True)
class Package:
    name: str  # distribution name, e.g. "fasterapi-router"
    path: Path
    requires: frozenset[str]  # local packages needed to build or run it
    extras: frozenset[str]  # optional-dependency groups it declares

    @property
    def wheel_prefix(self) -> str:
        return self.name.replace("-", "_") + "-"

    @property
    def module(self) -> str:
        """The import package: the one directory under src/ (fasterapi-framework installs `fasterapi`)."""
        found = sorted(d.name for d in (self.path / "src").iterdir() if (d / "__init__.py").is_file())
        if len(found) != 1:
            raise RuntimeError(f"{self.path}/src should hold one Python package, not {found}")
        return found[0]

    @property
    def tests(self) -> Path:
        return self.path / "tests"

    def scripts(self, folder: str, pattern: str) -> list[Path]:
        """The package's bench_*.py or fuzz_*.py scripts."""
        return sorted((self.path / folder).glob(pattern))


def _requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return match.group(1).lower().replace("_", "-") if match else ""


def discover() -> list[Package]:
    """Every package under packages/, dependencies before their dependents."""
    found: dict[str, tuple[Path, dict[str, object]]] = {}
    for pyproject in sorted(PACKAGES.glob("*/pyproject.toml")):
        data = tomllib.loads(pyproject.read_text())
        found[data["project"]["name"]] = (pyproject.parent, data)

    packages: dict[str, Package] = {}
    for name, (path, data) in found.items():
        project = data["project"]
        assert isinstance(project, dict)
        build = data.get("build-system", {})
        assert isinstance(build, dict)
        needed = [*build.get("requires", []), *project.get("dependencies", [])]
        local = frozenset(n for n in map(_requirement_name, needed) if n in found and n != name)
        extras = frozenset(project.get("optional-dependencies", {}))
        packages[name] = Package(name, path, local, extras)

    ordered: list[Package] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if any(p.name == name for p in ordered):
            return
        if name in visiting:
            raise SystemExit(f"dependency cycle through {name}")
        visiting.add(name)
        for dep in sorted(packages[name].requires):
            visit(dep)
        visiting.discard(name)
        ordered.append(packages[name])

    for name in sorted(packages):
        visit(name)
    return ordered


def wheel_of(package: Package, wheelhouse: Path = WHEELHOUSE) -> Path:
    wheels = sorted(wheelhouse.glob(package.wheel_prefix + "*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one wheel of {package.name} in {wheelhouse}, found {len(wheels)}")
    return wheels[0]


def build(packages: list[Package], wheelhouse: Path = WHEELHOUSE, builder: str = "uv") -> list[Path]:
    """Builds fresh wheels of `packages` (in order) into `wheelhouse`, replacing older ones.

    Older wheels of the same packages are deleted first: a stale wheel of the same version would
    otherwise be picked up by the next build's --find-links or by an installer's cache.
    """
    wheelhouse.mkdir(parents=True, exist_ok=True)
    for package in packages:
        for old in wheelhouse.glob(package.wheel_prefix + "*.whl"):
            old.unlink()
    for package in packages:
        print(f"building {package.name}", flush=True)
        if builder == "uv" and shutil.which("uv"):
            local = [arg for p in packages for arg in ("--refresh-package", p.name)]
            cmd = [
                "uv",
                "build",
                "--wheel",
                "--out-dir",
                str(wheelhouse),
                "--find-links",
                str(wheelhouse),
                *local,
                str(package.path),
            ]
        else:
            cmd = [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--no-deps",
                "--wheel-dir",
                str(wheelhouse),
                "--find-links",
                str(wheelhouse),
                str(package.path),
            ]
        subprocess.run(cmd, check=True)
    return [wheel_of(p, wheelhouse) for p in packages]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="package names in build order")
    b = sub.add_parser("build", help="build every package's wheel")
    b.add_argument("--out", type=Path, default=WHEELHOUSE)
    b.add_argument("--builder", choices=["uv", "pip"], default="uv")
    b.add_argument("names", nargs="*", help="only these packages (and nothing they need)")
    args = parser.parse_args()
    packages = discover()
    if args.command == "list":
        for p in packages:
            print(p.name)
        return
    if args.names:
        unknown = set(args.names) - {p.name for p in packages}
        if unknown:
            raise SystemExit(f"unknown packages: {', '.join(sorted(unknown))}")
        packages = [p for p in packages if p.name in args.names]
    for wheel in build(packages, args.out, args.builder):
        print(wheel)


if __name__ == "__main__":
    main()
