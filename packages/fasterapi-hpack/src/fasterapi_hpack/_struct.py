"""Header fields as python-hpack represents them: tuples that know whether they may be indexed."""

from __future__ import annotations

from typing import Any, Self

__all__ = ["HeaderTuple", "NeverIndexedHeaderTuple"]


class HeaderTuple(tuple[Any, Any]):
    """A ``(name, value)`` field that may enter the HPACK compression context.

    In every other way it is a tuple (and equal to one); ``indexable`` says how to encode it.
    """

    __slots__ = ()

    indexable = True

    def __new__(cls, *args: Any) -> Self:
        return tuple.__new__(cls, args)


class NeverIndexedHeaderTuple(HeaderTuple):
    """A ``(name, value)`` field that must never be indexed (RFC 7541 6.2.3), e.g. a credential."""

    __slots__ = ()

    indexable = False

    def __new__(cls, *args: Any) -> Self:
        return tuple.__new__(cls, args)
