"""Fuzz target of fasterapi_http1: parse arbitrary bytes as requests and as responses.

    python fuzz/fuzz_http1.py -max_total_time=60 CORPUS_DIR [SEED_DIR ...]

The first input byte picks the role and the leniencies, the second a split step; the rest is the
stream. Invariants, checked by `check_one` (the test suite replays fuzz/corpus/ through it):
- nothing escapes but ProtocolError (the package's own error);
- the events do not depend on how the stream is cut into feed() calls: fed whole, and fed in
  pieces of the chosen size, the parser gives the same events, or the same error code and offset;
- a parser that raised raises the same error again.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from fasterapi_http1 import (
    Data,
    EndOfMessage,
    Parser,
    ProtocolError,
    Request,
    RequestParser,
    Response,
    ResponseParser,
)

LENIENCIES = (
    "lenient_headers",
    "lenient_chunked_length",
    "lenient_keep_alive",
    "lenient_transfer_encoding",
    "lenient_optional_lf_after_cr",
    "lenient_optional_cr_before_lf",
    "lenient_optional_crlf_after_chunk",
)


class InvariantError(AssertionError):
    """The parser broke its contract on this input."""


def summarize(parser: Parser, chunks: list[bytes], eof: bool) -> list[object]:
    out: list[object] = []
    body = b""

    def take(events: list[Any]) -> None:
        nonlocal body
        for e in events:
            if isinstance(e, Data):
                body += e.data
                continue
            if body:
                out.append(("data", body))
                body = b""
            if isinstance(e, Request):
                out.append(("request", e.method, e.target, e.http_version, e.headers, e.keep_alive))
            elif isinstance(e, Response):
                out.append(("response", e.status_code, e.reason, e.headers, e.keep_alive))
            elif isinstance(e, EndOfMessage):
                out.append(("end", e.trailers))
            else:
                out.append(("upgrade",))

    try:
        for chunk in chunks:
            take(parser.feed(chunk))
        if eof:
            take(parser.feed_eof())
    except ProtocolError as err:
        take(err.events)
        if body:
            out.append(("data", body))
        try:
            parser.feed(b"")
        except ProtocolError as again:
            if (again.code, again.offset) != (err.code, err.offset):
                raise InvariantError(f"the error changed: {err!r} then {again!r}") from None
        else:
            raise InvariantError("a parser in error accepted more input") from None
        return [*out, ("error", err.code, err.offset)]
    if body:
        out.append(("data", body))
    return out


def check_one(data: bytes) -> None:
    if len(data) < 2:
        return
    flags, step, stream = data[0], data[1] % 16 + 1, data[2:]
    options = {name: bool(flags >> (i + 1) & 1) for i, name in enumerate(LENIENCIES)}
    make: Callable[[], Parser]
    if flags & 1:
        make = lambda: ResponseParser(request_method=b"HEAD" if step == 1 else b"GET", **options)  # noqa: E731
    else:
        make = lambda: RequestParser(**options)  # noqa: E731
    whole = summarize(make(), [stream], eof=True)
    pieces = summarize(make(), [stream[i : i + step] for i in range(0, len(stream), step)], eof=True)
    # Upgraded streams carry opaque bytes whose chunking differs by design; compare up to there.
    cut = next((i for i, e in enumerate(whole) if e == ("upgrade",)), len(whole))
    if whole[:cut] != pieces[:cut]:
        raise InvariantError(f"whole: {whole!r}\npieces of {step}: {pieces!r}")


def main() -> None:
    import atheris  # noqa: PLC0415  (only the fuzzer needs it)

    atheris.instrument_all()
    atheris.Setup(sys.argv, check_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
