"""The x86-64 baseline paths (SSE2) pass the same tests as the AVX2 ones.

On a CPU with AVX2 the parser takes the AVX2 paths, so the test suite alone never runs the
baseline ones; FASTERAPI_HTTP1_SIMD=sse2 keeps a process to the baseline, and these tests run the
corpus, the parser tests and the fuzz corpus again in such a process."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import fasterapi_http1
import pytest

HERE = Path(__file__).parent

pytestmark = pytest.mark.skipif(
    platform.machine() not in ("x86_64", "AMD64"), reason="the SSE2/AVX2 paths exist on x86-64 only"
)


def run_python(code: str, simd: str) -> str:
    env = dict(os.environ, FASTERAPI_HTTP1_SIMD=simd)
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env)
    return done.stdout.strip()


def test_the_environment_variable_selects_the_baseline() -> None:
    code = "import fasterapi_http1; print(fasterapi_http1.simd_implementation())"
    assert run_python(code, "sse2") == "sse2"
    assert run_python(code, "") == fasterapi_http1.simd_implementation()
    assert fasterapi_http1.simd_implementation() in ("avx2", "sse2")


def test_baseline_passes_the_parser_tests() -> None:
    files = ["test_llhttp_corpus.py", "test_parser.py", "test_fuzz_corpus.py"]
    env = dict(os.environ, FASTERAPI_HTTP1_SIMD="sse2")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *(str(HERE / f) for f in files)],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        cwd=HERE,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout
