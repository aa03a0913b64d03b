"""The exceptions of fasterapi_http1; the extension raises these classes."""

from __future__ import annotations

from typing import Any

__all__ = ["Http1Error", "LimitExceeded", "ProtocolError"]


class Http1Error(Exception):
    """Base class of every error this package raises on purpose."""


class ProtocolError(Http1Error):
    """The peer sent bytes that are not valid HTTP/1.1 (or a leniency would be needed).

    ``code`` names the rule that was broken (e.g. ``"content_length_and_transfer_encoding"``),
    ``status_hint`` is the status a server answers with (400, 413, 414, 431, 505), and ``offset``
    is the index of the offending byte in the stream fed to the parser so far. ``events`` holds the
    events that the same ``feed()`` call completed before the error (a good pipelined request
    ahead of a bad one, say), which the raise would otherwise lose. A parser that raised stays in
    its error state: every later call raises the same error (with no events).
    """

    def __init__(
        self, message: str, code: str, status_hint: int, offset: int, events: list[Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status_hint = status_hint
        self.offset = offset
        self.events: list[Any] = events if events is not None else []


class LimitExceeded(ProtocolError):
    """A configured limit was exceeded (request line, a header line, the head, header count, body)."""
