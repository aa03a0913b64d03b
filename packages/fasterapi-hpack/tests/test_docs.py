"""docs/hpack.md is true: its Python examples run as doctests, its C++ example compiles (with the
warnings of the C++ tests as errors) and prints what the page says it prints."""

from __future__ import annotations

import doctest
import os
import re
import shutil
import subprocess
from pathlib import Path

import fasterapi_hpack
import pytest

PAGE = Path(__file__).resolve().parents[3] / "docs" / "hpack.md"
CXX = os.environ.get("CXX", "g++")

pytestmark = pytest.mark.skipif(not PAGE.is_file(), reason="docs/hpack.md is not in this checkout")


def test_python_examples() -> None:
    failed, attempted = doctest.testfile(str(PAGE), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert attempted > 0
    assert failed == 0


@pytest.mark.skipif(shutil.which(CXX) is None, reason=f"no C++ compiler ({CXX})")
def test_cpp_example(tmp_path: Path) -> None:
    text = PAGE.read_text()
    source = re.search(r"```cpp\n(.*?)```", text, re.DOTALL)
    printed = re.search(r"It prints:\n\n```\n(.*?)```", text, re.DOTALL)
    assert source is not None
    assert printed is not None
    (tmp_path / "example.cpp").write_text(source.group(1))
    binary = tmp_path / "example"
    compile_cmd = [
        CXX, "-std=c++20", "-O1", "-Wall", "-Wextra", "-Wpedantic", "-Werror",
        "-I", fasterapi_hpack.get_include(), str(tmp_path / "example.cpp"), "-o", str(binary),
    ]  # fmt: skip
    built = subprocess.run(compile_cmd, check=False, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    run = subprocess.run([str(binary)], check=True, capture_output=True, text=True, timeout=60)
    assert run.stdout == printed.group(1)
