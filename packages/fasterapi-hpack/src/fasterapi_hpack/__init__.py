"""HPACK (RFC 7541) and its Huffman code, a drop-in replacement for python-hpack.

>>> import fasterapi_hpack as hpack
>>> block = hpack.Encoder().encode([(":method", "GET"), (":path", "/")])
>>> hpack.Decoder().decode(block)
[(':method', 'GET'), (':path', '/')]
"""

from __future__ import annotations

import os

from ._errors import (
    HPACKDecodingError,
    HPACKError,
    InvalidTableIndex,
    InvalidTableIndexError,
    InvalidTableSizeError,
    OversizedHeaderListError,
)
from ._hpack import (
    DEFAULT_HEADER_TABLE_SIZE,
    DEFAULT_MAX_HEADER_LIST_SIZE,
    Decoder,
    Encoder,
    huffman_decode,
    huffman_encode,
)
from ._struct import HeaderTuple, NeverIndexedHeaderTuple
from ._version import __version__

__all__ = [
    "DEFAULT_HEADER_TABLE_SIZE",
    "DEFAULT_MAX_HEADER_LIST_SIZE",
    "Decoder",
    "Encoder",
    "HPACKDecodingError",
    "HPACKError",
    "HeaderTuple",
    "InvalidTableIndex",
    "InvalidTableIndexError",
    "InvalidTableSizeError",
    "NeverIndexedHeaderTuple",
    "OversizedHeaderListError",
    "__version__",
    "get_include",
    "huffman_decode",
    "huffman_encode",
]


def get_include() -> str:
    """The directory holding the C++ headers (``#include <fasterapi/hpack/hpack.hpp>``)."""
    here = os.path.dirname(os.path.abspath(__file__))
    installed = os.path.join(here, "include")
    if os.path.isdir(installed):
        return installed
    # An editable install runs this file from the source tree, where the headers sit higher up.
    return os.path.join(os.path.dirname(os.path.dirname(here)), "include")
