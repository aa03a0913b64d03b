"""The exceptions of the framework.

There is a single `HTTPException`: the framework raises it itself for 404 and 405, so one
handler registered for it sees every HTTP error, whichever layer raised it.
"""

from __future__ import annotations

import http
from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

from pydantic import BaseModel, create_model

__all__ = [
    "DependencyScopeError",
    "EndpointContext",
    "FastAPIDeprecationWarning",
    "FastAPIError",
    "HTTPException",
    "PydanticV1NotSupportedError",
    "RequestErrorModel",
    "RequestValidationError",
    "ResponseValidationError",
    "ValidationException",
    "WebSocketErrorModel",
    "WebSocketException",
    "WebSocketRequestValidationError",
]


def _reason_phrase(status_code: int) -> str:
    try:
        return http.HTTPStatus(status_code).phrase
    except ValueError:
        return ""


class HTTPException(Exception):
    """An HTTP error: raise it to answer with `status_code`, `detail` and `headers`.

    `detail` defaults to the reason phrase of the status code ("Not Found" for 404).
    """

    def __init__(
        self,
        status_code: int,
        detail: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if detail is None:
            detail = _reason_phrase(status_code)
        self.status_code = status_code
        self.detail = detail
        self.headers = headers

    def __str__(self) -> str:
        return f"{self.status_code}: {self.detail}"

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(status_code={self.status_code!r}, detail={self.detail!r})"


class WebSocketException(Exception):
    """Closes a WebSocket with `code` (RFC 6455 section 7.4.1) and an optional `reason`."""

    def __init__(self, code: int, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason or ""

    def __str__(self) -> str:
        return f"{self.code}: {self.reason}"

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(code={self.code!r}, reason={self.reason!r})"


class EndpointContext(TypedDict, total=False):
    """Where an endpoint is defined, for error messages."""

    function: str
    path: str
    file: str
    line: int


RequestErrorModel: type[BaseModel] = create_model("Request")
WebSocketErrorModel: type[BaseModel] = create_model("WebSocket")


class FastAPIError(RuntimeError):
    """A generic error of the framework."""


class DependencyScopeError(FastAPIError):
    """A dependency depends on another one whose scope is narrower than its own."""


class PydanticV1NotSupportedError(FastAPIError):
    """A `pydantic.v1` model is used: only pydantic v2 models are supported."""


class FastAPIDeprecationWarning(UserWarning):
    """A deprecation warning that is shown by default (a `DeprecationWarning` often is not)."""


class ValidationException(Exception):
    """Base of the validation errors: `.errors()` is the list of pydantic-style errors."""

    def __init__(self, errors: Sequence[Any], *, endpoint_ctx: EndpointContext | None = None) -> None:
        self._errors = errors
        self.endpoint_ctx = endpoint_ctx
        ctx = endpoint_ctx or {}
        self.endpoint_function = ctx.get("function")
        self.endpoint_path = ctx.get("path")
        self.endpoint_file = ctx.get("file")
        self.endpoint_line = ctx.get("line")

    def errors(self) -> Sequence[Any]:
        return self._errors

    def _format_endpoint_context(self) -> str:
        if not (self.endpoint_file and self.endpoint_line and self.endpoint_function):
            return f"\n  Endpoint: {self.endpoint_path}" if self.endpoint_path else ""
        context = f'\n  File "{self.endpoint_file}", line {self.endpoint_line}, in {self.endpoint_function}'
        if self.endpoint_path:
            context += f"\n    {self.endpoint_path}"
        return context

    def __str__(self) -> str:
        count = len(self._errors)
        lines = [f"{count} validation error{'' if count == 1 else 's'}:"]
        lines.extend(f"  {err}" for err in self._errors)
        return ("\n".join(lines) + "\n" + self._format_endpoint_context()).rstrip()


class RequestValidationError(ValidationException):
    """The request did not validate; `.body` is the body as it was received."""

    def __init__(
        self,
        errors: Sequence[Any],
        *,
        body: Any = None,
        endpoint_ctx: EndpointContext | None = None,
    ) -> None:
        super().__init__(errors, endpoint_ctx=endpoint_ctx)
        self.body = body


class WebSocketRequestValidationError(ValidationException):
    """The parameters of a WebSocket connection did not validate."""

    def __init__(self, errors: Sequence[Any], *, endpoint_ctx: EndpointContext | None = None) -> None:
        super().__init__(errors, endpoint_ctx=endpoint_ctx)


class ResponseValidationError(ValidationException):
    """What an endpoint returned did not validate against its response model."""

    def __init__(
        self,
        errors: Sequence[Any],
        *,
        body: Any = None,
        endpoint_ctx: EndpointContext | None = None,
    ) -> None:
        super().__init__(errors, endpoint_ctx=endpoint_ctx)
        self.body = body
