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
import sys as _sys
import threading as _threading
from collections.abc import Callable

from . import _json

__all__ = ["JSONDecodeError", "JSONEncodeError", "dumps", "dumps_model", "dumps_plain", "loads"]


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


_MAX_DEPTH = _json.MAX_DEPTH  # arrays and objects, as the native parser's limit
_DEPTH_MESSAGE = f"invalid JSON: nesting deeper than {_MAX_DEPTH} arrays and objects"  # as simdjson's
# Strings (so that brackets and digits inside them are skipped; an unterminated one runs to the
# end) or a bracket, or a number.
_BRACKETS = _re.compile(r'"(?:[^"\\]+|\\.)*"?|[][{}]', _re.DOTALL)
_NUMBERS = _re.compile(r'"(?:[^"\\]+|\\.)*"?|-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]*)?', _re.DOTALL)
# sys.setrecursionlimit is process-wide: raised and restored under this lock (reentrant: a GC
# callback may call loads() again while the stdlib is reading).
_RECURSION_LOCK = _threading.RLock()


def _nesting(text: str) -> tuple[int, int]:
    """The deepest nesting of arrays and objects in `text` (counted up to _MAX_DEPTH + 1), and the
    character index of the bracket that goes deeper than _MAX_DEPTH (-1 if none does)."""
    depth = deepest = 0
    for m in _BRACKETS.finditer(text):
        c = m.group()
        if c in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if depth > _MAX_DEPTH:
                    return deepest, m.start()
        elif c in "]}":
            depth -= 1
    return deepest, -1


def _depth_offset(doc: str | bytes, text: str) -> int:
    at = _nesting(text)[1]
    return _offset(doc, text, at) if at >= 0 else 0


def _long_int_offset(text: str, digits: int) -> int:
    """The character index of the first integer with more than `digits` digits (0 if none)."""
    for m in _NUMBERS.finditer(text):
        number = m.group()
        if (
            number[0] != '"'
            and m.group(1) is None
            and m.group(2) is None
            and len(number.lstrip("-")) > digits
        ):
            return m.start()
    return 0


def _stdlib_loads(
    doc: str | bytes,
    text: str,
    deepest: int,
    *,
    msg: str,
    constant_msg: str,
    parse_int: Callable[[str], object] = int,
) -> tuple[object, JSONDecodeError | None]:
    """The stdlib's reading of `text` (NaN and Infinity refused), whose nesting is `deepest`
    (_nesting's): its value, or the error to raise, located in `doc` and worded `msg: what`
    (`constant_msg (NaN)` for a constant). The stdlib recurses once per array or object, so the
    recursion limit is raised for that depth (up to _MAX_DEPTH: what is deeper is an error anyway,
    and not worth the C stack)."""
    try:
        with _RECURSION_LOCK:
            old = _sys.getrecursionlimit()
            _sys.setrecursionlimit(old + min(deepest, _MAX_DEPTH) + 50)
            try:
                return _stdlib_json.loads(text, parse_int=parse_int, parse_constant=_reject_constant), None
            finally:
                _sys.setrecursionlimit(old)
    except _stdlib_json.JSONDecodeError as exc:
        return None, JSONDecodeError(f"{msg}: {exc.msg}", doc, _offset(doc, text, exc.pos))
    except _Constant as exc:
        return None, JSONDecodeError(f"{constant_msg} ({exc})", doc, _offset(doc, text, text.find(str(exc))))
    except RecursionError:  # not expected within _MAX_DEPTH, but never let it escape
        return None, JSONDecodeError(msg, doc, _depth_offset(doc, text))
    except ValueError as exc:  # an integer longer than sys.get_int_max_str_digits()
        at = _long_int_offset(text, _sys.get_int_max_str_digits())
        return None, JSONDecodeError(f"{msg}: {exc}", doc, _offset(doc, text, at))


def _decode_error(msg: str, doc: str | bytes | bytearray | memoryview) -> JSONDecodeError:
    if not isinstance(doc, (str, bytes)):
        doc = bytes(doc)
    try:
        text = _text(doc)
    except UnicodeDecodeError as exc:
        return JSONDecodeError(f"{msg} ({exc.reason})", doc, exc.start)
    if "deeper than" in msg:
        return JSONDecodeError(msg, doc, _depth_offset(doc, text))
    # Only the place is wanted: integers are not converted (no int-digits limit to trip on first).
    error = _stdlib_loads(doc, text, _nesting(text)[0], msg=msg, constant_msg=msg, parse_int=len)[1]
    if error is not None:
        return error
    # What the stdlib accepts and we do not: a lone surrogate escape.
    found = _LONE_SURROGATE.search(text)
    return JSONDecodeError(msg, doc, _offset(doc, text, found.start()) if found else 0)


def _exact_loads(doc: str | bytes | bytearray | memoryview) -> object:
    """A document with a number simdjson cannot hold (an integer beyond 64 bits, a float beyond
    double's range): the stdlib reads it exactly, with NaN and Infinity still refused, and nesting
    still limited to _MAX_DEPTH."""
    if not isinstance(doc, (str, bytes)):
        doc = bytes(doc)
    text = _text(doc)  # simdjson has validated the UTF-8 before it reached a number
    deepest, too_deep = _nesting(text)
    if too_deep >= 0:
        raise JSONDecodeError(_DEPTH_MESSAGE, doc, _offset(doc, text, too_deep))
    value, error = _stdlib_loads(
        doc, text, deepest, msg="invalid JSON number", constant_msg="invalid JSON literal"
    )
    if error is not None:
        raise error
    return value


_json._register(_decode_error, _exact_loads, JSONEncodeError)

loads = _json.loads
dumps = _json.dumps
dumps_plain = _json.dumps_plain
dumps_model = _json.dumps_model
