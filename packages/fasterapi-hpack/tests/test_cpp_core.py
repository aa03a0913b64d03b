"""The C++ core used from C++: the installed headers compile on their own and pass their tests,
under AddressSanitizer + UndefinedBehaviorSanitizer."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import fasterapi_hpack
import pytest

SOURCE = Path(__file__).parent / "cpp" / "core_test.cpp"
CXX = os.environ.get("CXX", "g++")

pytestmark = pytest.mark.skipif(shutil.which(CXX) is None, reason=f"no C++ compiler ({CXX})")


@pytest.mark.parametrize(
    "sanitizers",
    ["address,undefined"],
)
def test_core_under_sanitizer(tmp_path: Path, sanitizers: str) -> None:
    binary = tmp_path / "core_test"
    compile_cmd = [
        CXX, "-std=c++20", "-O1", "-g", "-Wall", "-Wextra", "-Wpedantic", "-Werror",
        f"-fsanitize={sanitizers}", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer",
        "-I", fasterapi_hpack.get_include(), str(SOURCE), "-o", str(binary), "-pthread",
    ]  # fmt: skip
    built = subprocess.run(compile_cmd, check=False, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1", TSAN_OPTIONS="halt_on_error=1")
    run = subprocess.run([str(binary)], check=False, capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "all checks passed" in run.stdout
