"""The fuzz target's seed corpus, replayed through its check without atheris."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

FUZZ_DIR = Path(__file__).parent.parent / "fuzz"
CORPUS = sorted((FUZZ_DIR / "corpus").iterdir())


def load_target() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_hpack", FUZZ_DIR / "fuzz_hpack.py")
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


def test_check_catches_a_decoder_that_forgets_its_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # The replay is only worth something if the check can fail: a decoder whose errors are not
    # sticky must be caught on a seed with a decoding error.
    target = load_target()

    class Forgetful(target.Decoder):  # type: ignore[name-defined,misc]
        failed = False

        def decode(self, data: bytes, raw: bool = False) -> list[object]:
            if self.failed:
                return []
            try:
                return list(super().decode(data, raw))
            except target.HPACKDecodingError:
                self.failed = True
                raise

    monkeypatch.setattr(target, "Decoder", Forgetful)
    with pytest.raises(target.InvariantError):
        target.check_one((FUZZ_DIR / "corpus" / "index_zero").read_bytes())


def test_check_catches_a_lossy_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    target = load_target()

    class Lossy(target.Encoder):  # type: ignore[name-defined,misc]
        def encode(self, headers: list[tuple[str, str]], huffman: bool = True) -> bytes:
            return bytes(super().encode(list(headers)[1:], huffman))

    monkeypatch.setattr(target, "Encoder", Lossy)
    with pytest.raises(target.InvariantError):
        target.check_one((FUZZ_DIR / "corpus" / "rfc_c3_requests").read_bytes())
