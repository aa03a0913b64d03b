"""Every case of llhttp's conformance corpus (../shared/corpora/llhttp), read from its markdown files.

Each case runs with the leniencies its meta names. Where this parser answers differently on
purpose, the case is listed in DIFFERENCES with the rule that decides it (docs/http1.md lists the
same rules); a listed case must still differ, so that the table cannot go stale.
"""

from __future__ import annotations

import pytest
from fasterapi_http1 import (
    Data,
    EndOfMessage,
    Parser,
    ProtocolError,
    Request,
    RequestParser,
    Response,
    ResponseParser,
    Upgrade,
)
from helpers import Event, normalize, replay_everywhere, run
from llhttp_corpus import Case, Expectation, ExpectedMessage, expected, load_cases

EXTENSION_METHODS = "any token is a method (RFC 9110 9.1): the application answers 405 or 501"

# Case ids (file:line heading) where this parser decides otherwise, and why.
DIFFERENCES: dict[str, str] = {
    "request/sample.md:314 No HTTP version": "HTTP/0.9 request lines are refused (RFC 9112 has none)",
    "request/method.md:135 M-SEARCH request": "asterisk-form is for OPTIONS only (RFC 9112 3.2.4)",
    "request/method.md:372 SOURCE request with ICE": "only HTTP/1.x is parsed, not ICE",
    "request/method.md:400 OPTIONS request with RTSP": "only HTTP/1.x is parsed, not RTSP",
    "request/method.md:430 ANNOUNCE request with RTSP": "only HTTP/1.x is parsed, not RTSP",
    "request/invalid.md:66 HTTP protocol and ANNOUNCE method": EXTENSION_METHODS,
    "request/invalid.md:356 Invalid method": EXTENSION_METHODS,
    "request/invalid.md:568 Invalid space after start line > Only LFs present (lenient)": (
        "the empty line after the last chunk ends the message (RFC 9112 7.1); "
        "llhttp reads the next line as a trailer"
    ),
    "response/sample.md:40 RTSP response": "only HTTP/1.x is parsed, not RTSP",
    "response/sample.md:60 ICE response": "only HTTP/1.x is parsed, not ICE",
    "response/sample.md:645 HTTP version 0.9": "HTTP/0.9 is not HTTP/1.x: unsupported_version (505)",
}

# llhttp's on_headers_complete may tell it to skip a request's body; no HTTP/1.1 peer can, so such
# a request case has no counterpart here. (A response case maps to a response to HEAD.)
NOT_APPLICABLE = (
    "llhttp's skip-body callback for a request has no counterpart: a request's framing is its own"
)

CASES = load_cases()


def make_parser(case: Case, exp: Expectation) -> Parser:
    options = dict.fromkeys(exp.leniencies, True)
    if exp.kind == "request":
        return RequestParser(**options)
    return ResponseParser(request_method=b"HEAD" if exp.skip_body else b"GET", **options)


def parse(case: Case, exp: Expectation, data: bytes) -> tuple[list[Event], ProtocolError | None]:
    parser = make_parser(case, exp)
    events: list[Event] = []
    try:
        events += parser.feed(data)
        if exp.finish:
            events += parser.feed_eof()
    except ProtocolError as error:
        return [*events, *error.events], error
    return events, None


def field_value(pieces: list[bytes]) -> bytes:
    """llhttp reports a folded value in its raw pieces; RFC 9112 5.2 replaces each obs-fold by SP."""
    parts = [p.strip(b" \t") for p in pieces]
    return b" ".join(p for p in parts if p)


def expected_fields(m: ExpectedMessage) -> list[tuple[bytes, bytes]]:
    return [
        (name.strip(b" \t"), field_value(pieces))
        for (name, _), pieces in zip(m.headers, m.header_pieces, strict=True)
    ]


def differences(case: Case) -> list[str]:
    """How this parser's answer differs from llhttp's log, as readable lines (none: they agree)."""
    exp = expected(case)
    events, error = parse(case, exp, case.input)
    problems: list[str] = []
    if exp.failed and error is None:
        problems.append(
            f"accepted; llhttp: {exp.error.name if exp.error else ''} {exp.error.reason if exp.error else ''}"
        )
    if error is not None and not exp.failed and not exp.eof_error:
        problems.append(f"refused with {error.code} at {error.offset}; llhttp accepts")
    if exp.eof_error and error is None:
        problems.append("feed_eof() accepted a message cut short")

    heads = [e for e in events if isinstance(e, Request | Response)]
    ends = [e for e in events if isinstance(e, EndOfMessage)]
    want = [m for m in exp.messages if m.headers_complete]
    both_refuse = exp.failed and error is not None
    if both_refuse and len(heads) == len(want) - 1 and not want[-1].completed:
        # llhttp reports the head of the message it then refuses (its framing was judged after
        # on_headers_complete); this parser refuses that head itself.
        want = want[:-1]
    if len(heads) != len(want):
        problems.append(f"{len(heads)} heads, llhttp {len(want)}")
    for i, (head, m) in enumerate(zip(heads, want, strict=False)):
        if isinstance(head, Request):
            got: tuple[object, ...] = (head.method, head.target, head.http_version)
            wanted: tuple[object, ...] = (m.method, m.url, m.version)
        else:
            got = (head.status_code, head.reason, head.http_version)
            wanted = (m.status, m.reason or b"", m.version)
        if got != wanted:
            problems.append(f"message {i}: {got!r}, llhttp {wanted!r}")
        if [(n, v) for n, v in head.headers] != expected_fields(m):
            problems.append(f"message {i}: fields {head.headers!r}, llhttp {expected_fields(m)!r}")

    # Bodies, in order: the Data between one head and the next.
    bodies: list[bytes] = []
    for e in events:
        if isinstance(e, Request | Response):
            bodies.append(b"")
        elif isinstance(e, Data) and bodies:
            bodies[-1] += e.data
    for i, (body, m) in enumerate(zip(bodies, want, strict=False)):
        if body != m.body:
            problems.append(f"message {i}: body {body!r}, llhttp {m.body!r}")
    completed = sum(1 for m in want if m.completed)
    if exp.eof_completes_message and want and not want[-1].completed:
        completed += 1  # llhttp_finish() ends a body delimited by the close
    if len(ends) != completed:
        problems.append(f"{len(ends)} messages ended, llhttp {completed}")
    for i, (end, m) in enumerate(zip(ends, want, strict=False)):
        if end.trailers != [(n.strip(b" \t"), v.strip(b" \t")) for n, v in m.trailers]:
            problems.append(f"message {i}: trailers {end.trailers!r}, llhttp {m.trailers!r}")
    if exp.upgrade_offset is not None:
        tunnel = b"".join(e.data for e in events if isinstance(e, Upgrade))
        if tunnel != case.input[exp.upgrade_offset :] or not any(isinstance(e, Upgrade) for e in events):
            problems.append(f"upgrade data {tunnel!r}, llhttp {case.input[exp.upgrade_offset :]!r}")
    return problems


def applicable(case: Case) -> bool:
    exp = expected(case)
    return not (exp.skip_body and exp.kind == "request")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case_matches_llhttp(case: Case) -> None:
    if not applicable(case):
        pytest.skip(NOT_APPLICABLE)
    problems = differences(case)
    if case.id in DIFFERENCES:
        assert problems, (
            f"listed as a deliberate difference ({DIFFERENCES[case.id]}) but agrees with llhttp now"
        )
    else:
        assert not problems, "\n".join(problems)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case_at_every_split_point(case: Case) -> None:
    """Whole, byte by byte and at every split point: the same events (or the same error)."""
    exp = expected(case)
    replay_everywhere(lambda: make_parser(case, exp), case.input, eof=exp.finish)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case_with_trailing_data(case: Case) -> None:
    """A message that ends with the connection kept open is followed by the next one."""
    exp = expected(case)
    if exp.finish or not applicable(case):
        pytest.skip("the case ends the connection")
    events = run(lambda: make_parser(case, exp), [case.input])
    parser = make_parser(case, exp)
    try:
        parsed = parser.feed(case.input)
    except ProtocolError:
        pytest.skip("an error case: nothing follows an error")
    if not parsed or not isinstance(parsed[-1], EndOfMessage) or not parser.idle:
        pytest.skip("the case does not end between messages")
    heads = [e for e in parsed if isinstance(e, Request | Response)]
    if not heads[-1].keep_alive:
        pytest.skip("the last message closes the connection")
    extra = b"GET /next HTTP/1.1\r\n\r\n" if exp.kind == "request" else b"HTTP/1.1 204 No Content\r\n\r\n"
    more = normalize(make_parser(case, exp).feed(case.input + extra))
    assert more[: len(events)] == events
    assert [e[0] for e in more[len(events) :]] == ["request" if exp.kind == "request" else "response", "end"]  # type: ignore[index]
