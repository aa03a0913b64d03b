"""Shared helpers: feeding a parser in every way a network could deliver the same bytes."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from fasterapi_http1 import Data, EndOfMessage, Parser, ProtocolError, Request, Response, Upgrade

Event = Request | Response | Data | EndOfMessage | Upgrade


def normalize(events: list[Event]) -> list[object]:
    """Events as plain data, with adjacent Data merged (how the body is split is not part of the result)."""
    out: list[object] = []
    for e in events:
        if isinstance(e, Data):
            if out and isinstance(out[-1], tuple) and out[-1][0] == "data":
                out[-1] = ("data", out[-1][1] + e.data)
            else:
                out.append(("data", e.data))
        elif isinstance(e, Request):
            out.append(("request", e.method, e.target, e.http_version, e.headers, e.keep_alive, e.upgrade))
        elif isinstance(e, Response):
            out.append(("response", e.status_code, e.reason, e.http_version, e.headers, e.keep_alive))
        elif isinstance(e, EndOfMessage):
            out.append(("end", e.trailers))
        elif out and isinstance(out[-1], tuple) and out[-1][0] == "upgrade":
            out[-1] = ("upgrade", out[-1][1] + e.data)
        else:
            out.append(("upgrade", e.data))
    return out


def run(make: Callable[[], Parser], chunks: list[bytes], eof: bool = False) -> list[object]:
    """Feeds the chunks in order; the result ends with ("error", code) if the parser raised."""
    parser = make()
    events: list[Event] = []
    try:
        for chunk in chunks:
            events.extend(parser.feed(chunk))
        if eof:
            events.extend(parser.feed_eof())
    except ProtocolError as e:
        return [*normalize([*events, *e.events]), ("error", e.code)]
    return normalize(events)


def splits(data: bytes) -> Iterator[list[bytes]]:
    """The data whole, byte by byte, and cut in two at every point."""
    yield [data]
    yield [data[i : i + 1] for i in range(len(data))]
    for i in range(1, len(data)):
        yield [data[:i], data[i:]]


def replay_everywhere(make: Callable[[], Parser], data: bytes, eof: bool = False) -> list[object]:
    """The events of `data`, checked to be the same however the bytes are split."""
    expected = run(make, [data], eof)
    for chunks in splits(data):
        got = run(make, chunks, eof)
        assert got == expected, f"split {[len(c) for c in chunks]} gave {got!r}, whole gave {expected!r}"
    return expected
