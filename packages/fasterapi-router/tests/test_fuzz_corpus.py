"""The fuzz target's seed corpus, replayed through its check without atheris."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

FUZZ_DIR = Path(__file__).parent.parent / "fuzz"
CORPUS = sorted((FUZZ_DIR / "corpus").iterdir())


def load_target() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_router", FUZZ_DIR / "fuzz_router.py")
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


def test_check_catches_a_wrong_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    # The replay is only worth something if the check can fail: a router that misses everything
    # must be caught on a seed whose requests hit.
    target = load_target()

    class MissingRouter(target.Router):  # type: ignore[name-defined,misc]
        def match(self, method: str, path: str | bytes) -> None:
            return None

    monkeypatch.setattr(target, "Router", MissingRouter)
    hits = FUZZ_DIR / "corpus" / "converters"
    with pytest.raises(target.InvariantError):
        target.check_one(hits.read_bytes())
