"""The exceptions of fasterapi_http1; the extension raises these classes."""

from __future__ import annotations

__all__ = ["Http1Error", "LimitExceeded", "ProtocolError"]


class Http1Error(Exception):
    """Base class of every error this package raises on purpose."""


class ProtocolError(Http1Error):
    """The peer sent bytes that are not valid HTTP/1.1 (or a leniency would be needed).

    ``code`` names the rule that was broken (e.g. ``"content_length_and_transfer_encoding"``),
    ``status_hint`` is the status a server answers with (400, 413, 414, 431, 505), and ``offset``
    is the index of the offending byte in the stream fed to the parser so far. A parser that raised
    stays in its error state: every later call raises the same error.
    """

    def __init__(self, message: str, code: str, status_hint: int, offset: int) -> None:
        super().__init__(message)
        self.code = code
        self.status_hint = status_hint
        self.offset = offset


class LimitExceeded(ProtocolError):
    """A configured limit was exceeded (request line, a header line, the head, header count, body)."""
