"""Native JSON codec of fasterapi_server (use fasterapi_server.json)."""

from collections.abc import Callable
from typing import Any

MAX_DEPTH: int

def loads(data: bytes | bytearray | memoryview | str, /) -> Any:
    """Parse one JSON document (RFC 8259, UTF-8) into dict, list, str, int, float, bool and None."""

def dumps(
    obj: Any, /, *, default: Callable[[Any], Any] | None = None, sort_keys: bool = False, stdlib: bool = False
) -> bytes:
    """Serialize obj to compact JSON, UTF-8 encoded."""

def dumps_plain(obj: Any, /, *, pydantic: bool = False) -> bytes | None:
    """dumps(obj, stdlib=True) for a value of plain JSON types only (exact dict with str keys, list, tuple, str, int, finite float, bool, None), else None. pydantic=True: what pydantic-core's to_json writes for it under an Any schema instead, else None."""

def dumps_model(model: Any, fields: dict[str, tuple[bytes, int]], /) -> bytes | None:
    """What pydantic-core's to_json writes for a model of plain fields (see fasterapi's model_dump_fields), or None: the fields' JSON keys and value kinds by name."""

def _register(decode_error: Callable[[str, Any], BaseException], exact_loads: Callable[[Any], Any],
              encode_error: type[BaseException]) -> None:
    """Called once by fasterapi_server.json with its error types and helpers."""
