"""The exceptions of fasterapi_router; the extension raises these classes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._router import Route

__all__ = ["FrozenRouterError", "PatternError", "RouteConflictError", "RouterError"]


class RouterError(Exception):
    """Base class of every error this package raises on purpose."""


class PatternError(RouterError, ValueError):
    """A route pattern or mount prefix is malformed.

    ``pattern`` is the offending text and ``offset`` the index in it where the problem was found.
    """

    def __init__(self, message: str, pattern: str, offset: int) -> None:
        super().__init__(message)
        self.pattern = pattern
        self.offset = offset


class RouteConflictError(RouterError, ValueError):
    """A route was added with the same method and the same shape as an existing one."""

    def __init__(self, message: str, existing: Route[Any], new: Route[Any]) -> None:
        super().__init__(message)
        self.existing = existing
        self.new = new


class FrozenRouterError(RouterError, RuntimeError):
    """The router was frozen; it can no longer be changed."""
