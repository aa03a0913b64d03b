"""Native parts of fasterapi's request path: Response's constructor (installed by
fasterapi.responses), an endpoint's JSON response (fasterapi.responses.native_json_shape) and its
start with path parameters (fasterapi.dependencies.utils.native_path_begin)."""

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

class JsonShape:
    """A route's shape(raw, request, background=None, sub=None) for JSON results, its common cases
    written natively: plain data (`plain_types`, empty for any) by `globals["_native_dumps_plain"]`
    (with `pydantic=True` where `pydantic`) while every guard (target, name, value) holds, and an
    instance of exactly `model_type` by `dumps_model(raw, model_fields)`, or `dump_model(raw)`
    where that gives None; the response is json_bytes_response()'s, made from `globals`
    (fasterapi.responses', read at each call). What the writer gives up on and any other result go
    to `rest(raw, request)`; a Response, other arguments, or a guard that fails, to `shape`."""

    __wrapped__: Callable[..., Any]
    def __init__(
        self,
        *,
        shape: Callable[..., Any],
        rest: Callable[[Any, Any], Any],
        status_code: int,
        globals: dict[str, Any],
        pydantic: bool = False,
        plain_types: tuple[type, ...] | None = None,
        model_type: type | None = None,
        model_fields: dict[str, tuple[bytes, int]] | None = None,
        dumps_model: Callable[[Any, dict[str, tuple[bytes, int]]], bytes | None] | None = None,
        dump_model: Callable[[Any], bytes] | None = None,
        guards: tuple[tuple[Any, str, Any], ...] | None = None,
    ) -> None: ...
    def __call__(self, raw: Any, request: Any, background: Any = None, sub: Any = None, /) -> Any: ...

class PathBegin:
    """A route's begin(request, plan) for a coroutine endpoint `call` whose parameters are all path
    parameters: when `plan.path_readers is readers`, each `request.path_params[lookup]` validated
    by its validator (`from_attributes=True`) and `call(**{name: value})` returned; a value refused
    with `validation_error` goes to `refused(request, index, error)` (which raises), anything else
    to `begin` as it was called."""

    __wrapped__: Callable[..., Any]
    def __init__(
        self,
        *,
        begin: Callable[[Any, Any], Any],
        call: Callable[..., Any],
        readers: Any,
        lookups: tuple[str, ...],
        names: tuple[str, ...],
        validators: tuple[Callable[..., Any], ...],
        validation_error: type[BaseException],
        refused: Callable[[Any, int, Any], Any],
    ) -> None: ...
    def __call__(self, request: Any, plan: Any, /) -> Any: ...
