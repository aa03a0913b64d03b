"""The fuzz target's seed corpus, replayed through its check without atheris."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

FUZZ_DIR = Path(__file__).parent.parent / "fuzz"
CORPUS = sorted((FUZZ_DIR / "corpus").iterdir())


def load_target() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_http1", FUZZ_DIR / "fuzz_http1.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_corpus_is_not_empty() -> None:
    assert len(CORPUS) >= 10


@pytest.mark.parametrize("seed", CORPUS, ids=[p.name for p in CORPUS])
def test_seed(seed: Path) -> None:
    load_target().check_one(seed.read_bytes())


def test_check_catches_a_split_dependent_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    # The replay is only worth something if the check can fail: a parser that loses the data of
    # every feed() after the first must be caught on a seed that is fed in pieces.
    target = load_target()

    class ForgetfulParser(target.RequestParser):  # type: ignore[name-defined,misc]
        calls = 0

        def feed(self, data: bytes) -> list[object]:
            self.calls += 1
            return list(super().feed(data if self.calls == 1 else b""))

    monkeypatch.setattr(target, "RequestParser", ForgetfulParser)
    seed = FUZZ_DIR / "corpus" / "pipelined"
    with pytest.raises(target.InvariantError):
        target.check_one(seed.read_bytes())
