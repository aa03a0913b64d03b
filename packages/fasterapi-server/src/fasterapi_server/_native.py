"""The native path for fasterapi apps (filled in below)."""

from __future__ import annotations

from typing import Any


class NativeApp:
    @classmethod
    def attach(cls, app: Any, engine: Any, shared: Any) -> NativeApp | None:
        return None

    def handle(self, req: Any) -> None:
        raise NotImplementedError
