"""Server-sent events: `EventSourceResponse`, `ServerSentEvent` and the wire format.

An endpoint declared with `response_class=EventSourceResponse` that yields items streams them
as events: a `ServerSentEvent` is encoded as given (its `data` JSON-encoded, `raw_data` as is),
any other item is JSON-encoded as the `data` field. While the generator is idle, a keep-alive
comment (`: ping`) is sent every `_PING_INTERVAL` seconds. The browser sends the last `id` it
saw back as the `Last-Event-ID` header when it reconnects: declare it as a header parameter.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, model_validator

from .responses import StreamingResponse

__all__ = [
    "KEEPALIVE_COMMENT",
    "EventSourceResponse",
    "ServerSentEvent",
    "format_sse_event",
]

# The schema of one event, as OpenAPI 3.2 describes text/event-stream items.
_SSE_EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "data": {"type": "string"},
        "event": {"type": "string"},
        "id": {"type": "string"},
        "retry": {"type": "integer", "minimum": 0},
    },
}


class EventSourceResponse(StreamingResponse):
    """A streaming `text/event-stream` response, for any method (GET, or POST as MCP uses).

    As a `response_class`, it marks a generator endpoint as an event stream; the encoding is
    done by the routing layer."""

    media_type = "text/event-stream"


def _single_line(value: str | None, field_name: str) -> str | None:
    if value is not None and ("\r" in value or "\n" in value):
        raise ValueError(f"SSE '{field_name}' must be a single line")
    return value


def _check_event(value: str | None) -> str | None:
    return _single_line(value, "event")


def _check_id(value: str | None) -> str | None:
    if value is not None and "\0" in value:
        raise ValueError("SSE 'id' must not contain null characters")
    return _single_line(value, "id")


class ServerSentEvent(BaseModel):
    """One event. `data` is always JSON-encoded (a string gets quotes); `raw_data` is sent as
    it is; the two are exclusive. `event` and `id` are single lines; `retry` is in ms;
    `comment` lines start with ":" and are ignored by clients (keep-alives)."""

    data: Any = None
    raw_data: str | None = None
    event: Annotated[str | None, AfterValidator(_check_event)] = None
    id: Annotated[str | None, AfterValidator(_check_id)] = None
    retry: Annotated[int | None, Field(ge=0)] = None
    comment: str | None = None

    @model_validator(mode="after")
    def _check_data_exclusive(self) -> ServerSentEvent:
        if self.data is not None and self.raw_data is not None:
            raise ValueError(
                "Cannot set both 'data' and 'raw_data' on the same "
                "ServerSentEvent. Use 'data' for JSON-serialized payloads "
                "or 'raw_data' for pre-formatted strings."
            )
        return self


def _split_lines(value: str) -> list[str]:
    # The line terminators of the SSE format (\n, \r\n, \r); a trailing empty line is kept.
    return value.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def format_sse_event(
    *,
    data_str: str | None = None,
    event: str | None = None,
    id: str | None = None,
    retry: int | None = None,
    comment: str | None = None,
) -> bytes:
    """The wire bytes of one event from already serialized data; ends with a blank line."""
    lines: list[str] = []
    if comment is not None:
        lines.extend(f": {line}" for line in _split_lines(comment))
    if event is not None:
        lines.append(f"event: {event}")
    if data_str is not None:
        lines.extend(f"data: {line}" for line in _split_lines(data_str))
    if id is not None:
        lines.append(f"id: {id}")
    if retry is not None:
        lines.append(f"retry: {retry}")
    lines.append("")
    lines.append("")
    return "\n".join(lines).encode("utf-8")


# The keep-alive comment sent while a stream is idle.
KEEPALIVE_COMMENT = b": ping\n\n"

# Seconds between keep-alive comments (module-level so tests can lower it).
_PING_INTERVAL: float = 15.0
