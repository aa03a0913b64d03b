"""A strict, fast, sans-IO HTTP/1.1 parser and serializer (RFC 9112).

>>> from fasterapi_http1 import RequestParser
>>> p = RequestParser()
>>> [type(e).__name__ for e in p.feed(b"GET / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n")]
['Request', 'EndOfMessage']
"""

from __future__ import annotations

import os

from ._errors import Http1Error, LimitExceeded, ProtocolError
from ._http1 import (
    Data,
    EndOfMessage,
    Parser,
    Request,
    RequestParser,
    Response,
    ResponseParser,
    Upgrade,
    encode_chunk,
    encode_last_chunk,
    parse_request,
    serialize_request,
    serialize_response,
    simd_implementation,
)
from ._version import __version__

__all__ = [
    "Data",
    "EndOfMessage",
    "Http1Error",
    "LimitExceeded",
    "Parser",
    "ProtocolError",
    "Request",
    "RequestParser",
    "Response",
    "ResponseParser",
    "Upgrade",
    "__version__",
    "encode_chunk",
    "encode_last_chunk",
    "get_include",
    "parse_request",
    "serialize_request",
    "serialize_response",
    "simd_implementation",
]


def get_include() -> str:
    """The directory holding the C++ headers (``#include <fasterapi/http1/parser.hpp>``)."""
    here = os.path.dirname(os.path.abspath(__file__))
    installed = os.path.join(here, "include")
    if os.path.isdir(installed):
        return installed
    # An editable install runs this file from the source tree, where the headers sit higher up.
    return os.path.join(os.path.dirname(os.path.dirname(here)), "include")
