"""The exceptions of fasterapi_hpack, named and nested as python-hpack's; the extension raises these.

Every decoding error the extension raises carries ``code`` (the rule that was broken, e.g.
``"index_out_of_range"``) and ``offset`` (the byte in the header block where it was found).
"""

from __future__ import annotations

__all__ = [
    "HPACKDecodingError",
    "HPACKError",
    "InvalidTableIndex",
    "InvalidTableIndexError",
    "InvalidTableSizeError",
    "OversizedHeaderListError",
]


class HPACKError(Exception):
    """Base class of every error this package raises on purpose."""


class HPACKDecodingError(HPACKError):
    """A header block is not valid HPACK. The decoder that raised is unusable from then on.

    ``code`` names the broken rule and ``offset`` is the index of the byte in the block where it was
    found (both ``None`` when the error was raised by other code, as python-hpack's take a message only).
    """

    def __init__(self, *args: object, code: str | None = None, offset: int | None = None) -> None:
        super().__init__(*args)
        self.code = code
        self.offset = offset


class InvalidTableIndexError(HPACKDecodingError):
    """An index of 0, or past the end of the static and dynamic tables."""


class InvalidTableIndex(InvalidTableIndexError):
    """The name python-hpack raises (a deprecated alias there); it is what the decoder raises."""


class OversizedHeaderListError(HPACKDecodingError):
    """The decoded header list exceeds ``max_header_list_size`` (name + value + 32 per field)."""


class InvalidTableSizeError(HPACKDecodingError):
    """A table size update above ``max_allowed_table_size``, or a missing one after it was lowered."""
