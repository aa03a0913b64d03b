"""The native constructor of fasterapi's Response (installed by fasterapi.responses)."""

from collections.abc import Callable
from typing import Any

class NativeInit:
    """Response.__init__ in native code: the common case (a str, bytes or None body, no headers, the
    stock render and init_headers) written out, anything else handed to `python_init` as it was
    called. `globals`: fasterapi.responses' own, read at each call as the Python code reads them."""

    __wrapped__: Callable[..., None]
    # (__name__, __qualname__ and __doc__ of an instance are the Python __init__'s)
    __name__: str
    __qualname__: str
    def __init__(
        self,
        *,
        python_init: Callable[..., None],
        owner: type,
        render: Callable[..., Any],
        init_headers: Callable[..., Any],
        globals: dict[str, Any],
    ) -> None: ...
    def __call__(self, response: Any, /, *args: Any, **kwargs: Any) -> None: ...
    def __get__(self, instance: Any, owner: type | None = None, /) -> Callable[..., None]: ...
