"""The shipped stubs match the compiled extension: regenerate them and compare.

The stubs are committed (src/fasterapi_hpack/_hpack.pyi) so that the API is reviewed in the diff;
after changing the binding, regenerate them with
    python -m nanobind.stubgen -m fasterapi_hpack._hpack -o src/fasterapi_hpack/_hpack.pyi
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import fasterapi_hpack

PACKAGE_DIR = Path(fasterapi_hpack.__file__).parent


def test_stub_matches_extension(tmp_path: Path) -> None:
    fresh = tmp_path / "_hpack.pyi"
    subprocess.run(
        [sys.executable, "-m", "nanobind.stubgen", "-q", "-m", "fasterapi_hpack._hpack", "-o", str(fresh)],
        check=True,
    )
    shipped = PACKAGE_DIR / "_hpack.pyi"
    assert shipped.read_text() == fresh.read_text(), (
        "the shipped _hpack.pyi differs from the extension; regenerate it (see this test's docstring)"
    )


def test_typed_package_markers() -> None:
    assert (PACKAGE_DIR / "py.typed").is_file()
    assert (PACKAGE_DIR / "_hpack.pyi").is_file()
