"""JSON for FasterAPI: simdjson parsing and a native writer (see JSON.md).

    from fasterapi_server import json
    json.loads(b'{"a": [1, 2.5, null]}')   # {'a': [1, 2.5, None]}
    json.dumps({"a": datetime.date(2024, 1, 2)}, sort_keys=True)  # b'{"a":"2024-01-02"}'

loads() is strict RFC 8259 and gives what the stdlib's json.loads gives; dumps() writes compact
UTF-8 and knows datetimes, UUIDs, Decimals, Enums, dataclasses and pydantic models.
"""

from __future__ import annotations

import json as _stdlib_json
import re as _re

from . import _json

__all__ = ["JSONDecodeError", "JSONEncodeError", "dumps", "loads"]


class JSONDecodeError(_stdlib_json.JSONDecodeError):
    """The document is not JSON. A ValueError, and a json.JSONDecodeError so code written for the
    stdlib catches it. `pos` indexes `doc`: a byte offset for bytes input, a character offset for
    str input (as the stdlib's)."""

    def __init__(self, msg: str, doc: str | bytes, pos: int) -> None:
        if isinstance(doc, str):
            super().__init__(msg, doc, pos)
            return
        lineno = doc.count(b"\n", 0, pos) + 1
        colno = pos - doc.rfind(b"\n", 0, pos)
        ValueError.__init__(self, f"{msg}: line {lineno} column {colno} (byte {pos})")
        self.msg, self.doc, self.pos, self.lineno, self.colno = msg, doc, pos, lineno, colno  # type: ignore[assignment]


class JSONEncodeError(TypeError, ValueError):
    """The object cannot be written as JSON: an unsupported type, NaN or infinity, a lone
    surrogate, a cycle or too deep a nesting. A TypeError (as orjson's) and a ValueError, so code
    written for the stdlib (TypeError for types, ValueError for values) catches it."""


# The error path: simdjson says what is wrong but not where; the stdlib (or the UTF-8 decoder)
# finds the place. Only invalid documents come here.
_LONE_SURROGATE = _re.compile(
    r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


class _Constant(Exception):
    pass


def _reject_constant(name: str) -> None:
    raise _Constant(name)


def _text(doc: str | bytes) -> str:
    return doc if isinstance(doc, str) else doc.decode("utf-8")


def _offset(doc: str | bytes, text: str, char_pos: int) -> int:
    """A position in `text` as a position in `doc` (bytes are indexed by byte)."""
    return char_pos if isinstance(doc, str) else len(text[:char_pos].encode("utf-8"))


def _depth_offset(doc: str | bytes, text: str) -> int:
    depth, in_string, escaped = 0, False, False
    for i, c in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
            if depth > 1024:
                return _offset(doc, text, i)
        elif c in "]}":
            depth -= 1
    return 0


def _decode_error(msg: str, doc: str | bytes | bytearray | memoryview) -> JSONDecodeError:
    if not isinstance(doc, (str, bytes)):
        doc = bytes(doc)
    try:
        text = _text(doc)
    except UnicodeDecodeError as exc:
        return JSONDecodeError(f"{msg} ({exc.reason})", doc, exc.start)
    if "deeper than" in msg:
        return JSONDecodeError(msg, doc, _depth_offset(doc, text))
    try:
        _stdlib_json.loads(text, parse_constant=_reject_constant)
    except _stdlib_json.JSONDecodeError as exc:
        return JSONDecodeError(f"{msg}: {exc.msg}", doc, _offset(doc, text, exc.pos))
    except _Constant as exc:
        return JSONDecodeError(f"{msg} ({exc})", doc, _offset(doc, text, text.find(str(exc))))
    except RecursionError:
        return JSONDecodeError(msg, doc, _depth_offset(doc, text))
    # What the stdlib accepts and we do not: a lone surrogate escape.
    found = _LONE_SURROGATE.search(text)
    return JSONDecodeError(msg, doc, _offset(doc, text, found.start()) if found else 0)


def _exact_loads(doc: str | bytes | bytearray | memoryview) -> object:
    """A document with a number simdjson cannot hold (an integer beyond 64 bits, a float beyond
    double's range): the stdlib reads it exactly, with NaN and Infinity still refused."""
    if not isinstance(doc, (str, bytes)):
        doc = bytes(doc)
    text = _text(doc)  # simdjson has validated the UTF-8 before it reached a number
    try:
        return _stdlib_json.loads(text, parse_constant=_reject_constant)
    except _stdlib_json.JSONDecodeError as exc:
        raise JSONDecodeError(f"invalid JSON number: {exc.msg}", doc, _offset(doc, text, exc.pos)) from None
    except _Constant as exc:
        raise JSONDecodeError(
            f"invalid JSON literal ({exc})", doc, _offset(doc, text, text.find(str(exc)))
        ) from None
    except RecursionError:
        raise JSONDecodeError("invalid JSON: nested too deep", doc, _depth_offset(doc, text)) from None


_json._register(_decode_error, _exact_loads, JSONEncodeError)

loads = _json.loads
dumps = _json.dumps
