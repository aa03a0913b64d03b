"""Differential tests: our RequestParser against h11 and httptools (llhttp) on generated requests.

Valid streams (1-3 pipelined requests) are built from a model that knows what they mean: the three
parsers must agree with it. Invalid streams are valid ones with one defect: we must refuse each with
the code the defect calls for, and where h11 or llhttp accepts what we refuse, the code must be a rule
of STRICTER_RULES that names that parser. Random byte edits of valid streams check the last
direction: we may not accept what h11 and llhttp both refuse.
"""

from __future__ import annotations

import itertools
import string
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import h11
import httptools
import pytest
from fasterapi_http1 import Data, ProtocolError, RequestParser
from helpers import normalize, run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PARSERS = ("h11", "llhttp")

# Where h11 or llhttp accepts a request that we refuse: our error code -> which of them accepts what,
# and why we refuse it. An explanation names only the parsers that accept: the Hypothesis tests check
# that every divergence they meet has its code here naming the parser, the witness tests that every
# parser named here does accept something that we refuse with that code.
STRICTER_RULES: dict[str, str] = {
    "content_length_and_transfer_encoding": (
        "h11 frames by Transfer-Encoding and ignores Content-Length; RFC 9112 6.1 calls it smuggling"
    ),
    "duplicate_content_length": (
        "h11 merges repeated identical Content-Length fields; RFC 9112 6.3 lets us refuse them"
    ),
    "invalid_content_length": "h11 takes a list of identical values ('1, 1') and 20 digits (past 2**64)",
    "transfer_encoding_in_http10": (
        "h11 and llhttp frame an HTTP/1.0 request by chunked; RFC 9112 6.1 calls that framing faulty"
    ),
    "obs_fold": "h11 unfolds obs-fold lines; RFC 9112 5.2 lets a server refuse them",
    "bare_lf": (
        "h11 ends lines at a bare LF, llhttp skips one before the request line; RFC 9112 2.2 wants CRLF"
    ),
    "bare_cr": (
        "llhttp skips a lone CR before the request line, h11 takes one in a chunk extension ('1;\\r')"
    ),
    "invalid_header_value": (
        "h11 accepts controls (not NUL, CR, LF, HTAB, VT, FF) and DEL in values; RFC 9110 5.5 does not"
    ),
    "invalid_target": (
        "h11 takes any VCHAR run ('*' with GET, 'a.b/c'), llhttp '*' with any method, two spaces "
        "before the target and HTTP/0.9's versionless line; RFC 9112 3.2 does not"
    ),
    "invalid_version": "llhttp accepts two spaces between the target and the version; RFC 9112 3: one SP",
    "unsupported_version": (
        "h11 accepts any HTTP/d.d, llhttp HTTP/0.9 and HTTP/2.0; we serve 1.0 and 1.1 (505)"
    ),
    "invalid_chunk_size": "h11 accepts whitespace after the chunk size; RFC 9112 7.1 has none",
    "chunk_size_overflow": (
        "h11 takes 20 hex digits and llhttp any leading zeros; we take 16 (max_chunk_size_digits)"
    ),
    "invalid_chunk_extension": (
        "h11 accepts anything after ';', llhttp an empty name or value (';=b', ';a='); RFC 9112 7.1.1 not"
    ),
}

POST_CHUNKED = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
# (code, parser, request): a request that the parser accepts and we refuse with the code.
STRICTER_RULE_WITNESSES: list[tuple[str, str, bytes]] = [
    (
        "content_length_and_transfer_encoding",
        "h11",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ),
    (
        "duplicate_content_length",
        "h11",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
    ),
    ("invalid_content_length", "h11", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 1\r\n\r\nx"),
    (
        "transfer_encoding_in_http10",
        "h11",
        b"POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ),
    (
        "transfer_encoding_in_http10",
        "llhttp",
        b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ),
    ("obs_fold", "h11", b"GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n"),
    ("bare_lf", "h11", b"GET / HTTP/1.1\nHost: a\n\n"),
    ("bare_lf", "llhttp", b"\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("bare_cr", "llhttp", b"\rGET / HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("bare_cr", "h11", POST_CHUNKED + b"1;\r\r\nx\r\n0\r\n\r\n"),
    ("invalid_header_value", "h11", b"GET / HTTP/1.1\r\nHost: a\r\nX: \x01\x7f\r\n\r\n"),
    ("invalid_target", "h11", b"GET * HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("invalid_target", "llhttp", b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("invalid_version", "llhttp", b"GET /  HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("unsupported_version", "h11", b"GET / HTTP/1.2\r\nHost: a\r\n\r\n"),
    ("unsupported_version", "llhttp", b"GET / HTTP/2.0\r\nHost: a\r\n\r\n"),
    ("invalid_chunk_size", "h11", POST_CHUNKED + b"1 \r\nx\r\n0\r\n\r\n"),
    ("chunk_size_overflow", "h11", POST_CHUNKED + b"00000000000000001\r\nx\r\n0\r\n\r\n"),
    ("chunk_size_overflow", "llhttp", POST_CHUNKED + b"00000000000000001\r\nx\r\n0\r\n\r\n"),
    ("invalid_chunk_extension", "h11", POST_CHUNKED + b"1;\r\nx\r\n0\r\n\r\n"),
    ("invalid_chunk_extension", "llhttp", POST_CHUNKED + b"1;=b\r\nx\r\n0\r\n\r\n"),
]

# What h11 or llhttp refuses and we accept on purpose (docs/http1.md), by the start of their error
# message: such a refusal does not count when we look for streams that both of them refuse.
ACCEPTED_BY_DESIGN: dict[str, str] = {
    "h11: Missing mandatory Host": "Host is the application's to check (RFC 9112 3.2 wants a 400 then)",
    "h11: Found multiple Host": "Host is the application's to check (RFC 9112 3.2 wants a 400 then)",
    "h11: no request line received": "empty lines ahead of a request line are skipped (RFC 9112 2.2)",
    "llhttp: HttpParserInvalidMethodError": "every token is a method (RFC 9110 9.1); llhttp knows a list",
}
ACCEPTED_BY_DESIGN_WITNESSES: list[tuple[str, bytes]] = [
    ("h11: Missing mandatory Host", b"GET / HTTP/1.1\r\n\r\n"),
    ("h11: Found multiple Host", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
    ("h11: no request line received", b"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("llhttp: HttpParserInvalidMethodError", b"FOO / HTTP/1.1\r\nHost: a\r\n\r\n"),
]

CRLF = b"\r\n"

# --- what the three parsers saw ----------------------------------------------------------------------


@dataclass
class Seen:
    """One request as a parser (or the model) saw it."""

    method: bytes = b""
    target: bytes = b""
    version: bytes = b""
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""
    trailers: list[tuple[bytes, bytes]] = field(default_factory=list)
    keep_alive: bool | None = None
    complete: bool = False
    headers_done: bool = False


def view(requests: list[Seen], parser: str) -> list[tuple[object, ...]]:
    """The requests as `parser` can report them: h11 gives names as sent (raw_items) but lowercases
    Transfer-Encoding values and tells nothing of keep-alive; llhttp keeps the trailing OWS of values."""

    def fields(items: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        if parser == "h11":
            return [(n, v.lower() if n.lower() == b"transfer-encoding" else v) for n, v in items]
        return [(n, v.rstrip(b" \t")) for n, v in items]

    return [
        (
            r.method,
            r.target,
            r.version,
            fields(r.headers),
            r.body,
            fields(r.trailers),
            None if parser == "h11" else r.keep_alive,
            r.complete,
        )
        for r in requests
    ]


@dataclass
class Outcome:
    """What a parser made of a whole stream."""

    requests: list[Seen]
    error: str | None
    pending: bool  # bytes received that make no complete request yet

    def accepts(self, skip: int = 0, head_only: bool = False) -> bool:
        """Whether it took the request after the first `skip` ones (its head, or all of it) without
        an error. A parser still waiting for the rest of that request neither accepts nor refuses."""
        if self.error is not None or len(self.requests) <= skip:
            return False
        return head_only or self.requests[skip].complete


def connection_tokens(headers: list[tuple[bytes, bytes]]) -> set[bytes]:
    return {t.strip().lower() for n, v in headers if n.lower() == b"connection" for t in v.split(b",")}


def parse_h11(data: bytes) -> Outcome:
    """The requests h11 parses from `data`, as a server answering each one."""
    seen: list[Seen] = []
    conn = h11.Connection(our_role=h11.SERVER)
    conn.receive_data(data)
    try:
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA or event is h11.PAUSED:
                pending = bool(conn.trailing_data[0]) or bool(seen and not seen[-1].complete)
                return Outcome(seen, None, pending)
            if isinstance(event, h11.Request):
                headers = list(event.headers.raw_items())
                seen.append(Seen(event.method, event.target, event.http_version, headers))
            elif isinstance(event, h11.Data):
                seen[-1].body += bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                seen[-1].trailers = list(event.headers.raw_items())
                seen[-1].complete = True
                conn.send(h11.Response(status_code=200, headers=[(b"Content-Length", b"0")]))
                conn.send(h11.EndOfMessage())
                if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
                    conn.start_next_cycle()
                elif seen[-1].version == b"1.0" and connection_tokens(seen[-1].headers) >= {b"keep-alive"}:
                    # h11 closes after every HTTP/1.0 request, even one with Connection: keep-alive
                    # (which we and llhttp keep open): the rest goes to a fresh connection.
                    rest = conn.trailing_data[0]
                    conn = h11.Connection(our_role=h11.SERVER)
                    if rest:  # receive_data(b"") would mean that the peer closed
                        conn.receive_data(rest)
            else:
                raise AssertionError(f"unexpected h11 event {event!r}")
    except h11.RemoteProtocolError as e:
        return Outcome(seen, f"h11: {e}", False)


class _Collector:
    """httptools' callbacks, collecting each request."""

    def __init__(self) -> None:
        self.parser = httptools.HttpRequestParser(self)
        self.seen: list[Seen] = []

    def on_message_begin(self) -> None:
        self.seen.append(Seen())

    def on_url(self, url: bytes) -> None:
        self.seen[-1].target += url

    def on_header(self, name: bytes, value: bytes) -> None:
        r = self.seen[-1]
        (r.trailers if r.headers_done else r.headers).append((name, value))

    def on_headers_complete(self) -> None:
        r = self.seen[-1]
        r.headers_done = True
        r.method = self.parser.get_method()
        r.version = self.parser.get_http_version().encode()
        r.keep_alive = self.parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        self.seen[-1].body += body

    def on_message_complete(self) -> None:
        self.seen[-1].complete = True


def parse_httptools(data: bytes) -> Outcome:
    c = _Collector()
    try:
        c.parser.feed_data(data)
    except httptools.HttpParserUpgrade:
        pass
    except httptools.HttpParserError as e:
        return Outcome(c.seen, f"llhttp: {type(e).__name__}: {e}", False)
    return Outcome(c.seen, None, bool(c.seen and not c.seen[-1].complete))


def parse_ours(data: bytes, make: Callable[[], RequestParser] = RequestParser) -> Outcome:
    """Our requests, and the error code if feed() or feed_eof() raised."""
    seen: list[Seen] = []
    error = None
    for e in run(make, [data], eof=True):
        assert isinstance(e, tuple)
        if e[0] == "request":
            _, method, target, version, headers, keep_alive, _upgrade = e
            seen.append(Seen(method, target, version, list(headers), keep_alive=keep_alive))
        elif e[0] == "data":
            seen[-1].body += e[1]
        elif e[0] == "end":
            seen[-1].trailers = list(e[1])
            seen[-1].complete = True
        elif e[0] == "error":
            error = e[1]
    return Outcome(seen, error, False)


PARSE_OTHER = {"h11": parse_h11, "llhttp": parse_httptools}


def refuses(outcome: Outcome) -> bool:
    """Whether the parser refused for a reason that we do not overrule on purpose."""
    return outcome.error is not None and not outcome.error.startswith(tuple(ACCEPTED_BY_DESIGN))


# --- the model of a valid request ---------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """A valid request: its lines as sent, and what it means."""

    method: bytes
    target: bytes
    version: bytes
    field_lines: tuple[bytes, ...]
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes
    keep_alive: bool
    # chunked framing: (size line, data) per chunk, the last-chunk line, the trailer lines
    chunks: tuple[tuple[bytes, bytes], ...] | None = None
    last_chunk: bytes = b"0"
    trailer_lines: tuple[bytes, ...] = ()
    trailers: tuple[tuple[bytes, bytes], ...] = ()

    @property
    def request_line(self) -> bytes:
        return b"%s %s HTTP/%s" % (self.method, self.target, self.version)

    def head(self) -> bytes:
        return assemble([self.request_line, *self.field_lines, b""])

    def body_wire(self) -> bytes:
        if self.chunks is None:
            return self.body
        out = b"".join(size + CRLF + data + CRLF for size, data in self.chunks)
        return out + assemble([self.last_chunk, *self.trailer_lines, b""])

    def wire(self) -> bytes:
        return self.head() + self.body_wire()

    def seen(self) -> Seen:
        return Seen(
            self.method,
            self.target,
            self.version,
            list(self.headers),
            self.body,
            list(self.trailers),
            self.keep_alive,
            complete=True,
        )


def assemble(lines: list[bytes], eols: dict[int, bytes] | None = None) -> bytes:
    """The lines, each ended by CRLF or by what `eols` gives for its index."""
    eols = eols or {}
    return b"".join(line + eols.get(i, CRLF) for i, line in enumerate(lines))


TCHAR = "!#$%&'*+-.^_`|~" + string.digits + string.ascii_letters
# Methods llhttp knows (it refuses all others); ours and h11 take any token.
LLHTTP_METHODS = [
    *(b"GET", b"POST", b"PUT", b"DELETE", b"PATCH", b"HEAD", b"OPTIONS", b"TRACE", b"QUERY"),
    *(b"PROPFIND", b"PROPPATCH", b"MKCOL", b"COPY", b"MOVE", b"LOCK", b"UNLOCK", b"REPORT", b"SEARCH"),
    *(b"PURGE", b"LINK", b"UNLINK", b"M-SEARCH", b"MKCALENDAR", b"NOTIFY", b"SUBSCRIBE"),
]
# Fields that mean something to one of the parsers: the generator sets them on purpose only.
SPECIAL_FIELDS = {
    *(b"host", b"content-length", b"transfer-encoding", b"connection", b"proxy-connection"),
    *(b"upgrade", b"expect", b"te", b"trailer", b"keep-alive"),
}
VCHAR_OBS = [bytes([c]) for c in [*range(0x21, 0x7F), *range(0x80, 0x100)]]
# pchar = unreserved / pct-encoded / sub-delims / ":" / "@" (RFC 3986)
PCHAR = string.ascii_letters + string.digits + "-._~" + "!$&'()*+,;=" + ":@"
HEXDIG = string.digits + "abcdefABCDEF"

tokens = st.text(TCHAR, min_size=1, max_size=10).map(str.encode)
field_names = tokens.filter(lambda n: n.lower() not in SPECIAL_FIELDS)
pct_encoded = st.tuples(st.sampled_from(HEXDIG), st.sampled_from(HEXDIG)).map(lambda t: "%" + t[0] + t[1])
pchars = st.one_of(st.sampled_from(PCHAR), pct_encoded)
segments = st.lists(pchars, max_size=6).map("".join)
queries = st.lists(st.one_of(pchars, st.sampled_from("/?")), max_size=10).map("".join)
origin_forms = st.builds(
    lambda segs, query: ("/" + "/".join(segs) + ("" if query is None else "?" + query)).encode(),
    st.lists(segments, min_size=1, max_size=4),
    st.none() | queries,
)
absolute_forms = st.builds(
    lambda scheme, host, path: scheme + b"://" + host + path,
    st.sampled_from([b"http", b"https", b"HTTP"]),
    st.sampled_from([b"example.com", b"a.b:8080", b"[::1]", b"u@h"]),
    origin_forms,
)
custom_methods = tokens.filter(lambda m: m not in (b"CONNECT", b"PRI"))
all_methods = st.one_of(st.sampled_from(LLHTTP_METHODS), custom_methods)
known_methods = st.sampled_from(LLHTTP_METHODS)
# field-value: no whitespace at either end, SP and HTAB inside
field_values = st.lists(
    st.one_of(st.sampled_from(VCHAR_OBS), st.sampled_from([b" ", b"\t", b" \t "])), max_size=16
).map(lambda parts: b"".join(parts).strip(b" \t"))
ows = st.sampled_from([b"", b"", b" ", b"  ", b"\t", b" \t"])
spaces = st.sampled_from([b"", b" ", b"  "])


def case_variants(word: bytes) -> st.SearchStrategy[bytes]:
    return st.sampled_from([word, word.lower(), word.upper(), word.title()])


@st.composite
def field_lines(
    draw: st.DrawFn, names: st.SearchStrategy[bytes], max_size: int
) -> list[tuple[bytes, bytes, bytes]]:
    """(line, name, value) of generated fields, with OWS around the values."""
    out = []
    for name, value in draw(st.lists(st.tuples(names, field_values), max_size=max_size)):
        out.append((name + b":" + draw(ows) + value + draw(ows), name, value))
    return out


qdtext = st.sampled_from(
    [bytes([c]) for c in [0x09, 0x20, 0x21, *range(0x23, 0x5C), *range(0x5D, 0x7F), 0x80, 0xFF]]
)
quoted_pair = st.sampled_from([b"\\" + c for c in [b"\t", b" ", b'"', b"\\", b"a", b"\x80"]])
quoted_strings = st.lists(st.one_of(qdtext, quoted_pair), max_size=6).map(lambda p: b'"' + b"".join(p) + b'"')
# chunk-ext without BWS: RFC 9112 7.1.1 allows BWS around ';' and '=', and so do we, but h11 and
# llhttp refuse it ("1 ;a").
chunk_exts = st.lists(
    st.builds(
        lambda n, v: b";" + n + (b"" if v is None else b"=" + v), tokens, st.none() | tokens | quoted_strings
    ),
    max_size=2,
).map(b"".join)


@st.composite
def chunk_sizes(draw: st.DrawFn, size: int) -> bytes:
    digits = b"%x" % size
    return b"0" * draw(st.integers(0, 2)) + draw(st.sampled_from([digits, digits.upper()]))


@st.composite
def messages(
    draw: st.DrawFn,
    *,
    last: bool,
    methods: st.SearchStrategy[bytes] = all_methods,
    framing: str | None = None,
    min_body: int = 0,
) -> Message:
    """A valid request; only the `last` of a pipelined sequence may close the connection."""
    method = draw(methods)
    target = draw(st.one_of(origin_forms, origin_forms, absolute_forms))
    if method == b"OPTIONS" and draw(st.booleans()):
        target = b"*"
    version = b"1.1" if framing == "chunked" else draw(st.sampled_from([b"1.1", b"1.0"]))
    framings = ["none", "length", "chunked"] if version == b"1.1" else ["none", "length"]
    framing = framing or draw(st.sampled_from(framings))
    body = b"" if framing == "none" else draw(st.binary(min_size=min_body, max_size=64))
    fields = draw(field_lines(field_names, 15))

    def put(name: bytes, value: bytes, trailing: st.SearchStrategy[bytes] = ows) -> None:
        line = name + b":" + draw(ows) + value + draw(trailing)
        fields.insert(draw(st.integers(0, len(fields))), (line, name, value))

    put(draw(case_variants(b"Host")), draw(st.sampled_from([b"example.com", b"a:8080", b"[::1]", b"x.y"])))
    if version == b"1.1":
        keep_alive_choices = [(None, True), (b"keep-alive", True)] + ([(b"close", False)] if last else [])
    else:
        keep_alive_choices = [(b"keep-alive", True)] + ([(None, False), (b"close", False)] if last else [])
    connection, keep_alive = draw(st.sampled_from(keep_alive_choices))
    if connection is not None:
        put(draw(case_variants(b"Connection")), draw(case_variants(connection)))
    chunks = None
    last_chunk = b"0"
    trailer_fields: list[tuple[bytes, bytes, bytes]] = []
    if framing == "length":
        length = b"0" * draw(st.integers(0, 1)) + str(len(body)).encode()
        put(draw(case_variants(b"Content-Length")), length)
    elif framing == "chunked":
        # llhttp refuses "chunked" followed by HTAB (not by SP), which RFC 9110 5.5 allows as OWS
        put(draw(case_variants(b"Transfer-Encoding")), draw(case_variants(b"chunked")), spaces)
        cuts = sorted(draw(st.sets(st.integers(1, len(body) - 1), max_size=4))) if len(body) > 1 else []
        bounds = [0, *cuts, len(body)] if body else [0]
        pieces = [body[a:b] for a, b in itertools.pairwise(bounds)]
        chunks = tuple((draw(chunk_sizes(len(p))) + draw(chunk_exts), p) for p in pieces)
        last_chunk = b"0" * draw(st.integers(1, 3)) + draw(chunk_exts)
        trailer_fields = draw(field_lines(field_names, 3))
    return Message(
        method=method,
        target=target,
        version=version,
        field_lines=tuple(line for line, _, _ in fields),
        headers=tuple((n, v) for _, n, v in fields),
        body=body,
        keep_alive=keep_alive,
        chunks=chunks,
        last_chunk=last_chunk,
        trailer_lines=tuple(line for line, _, _ in trailer_fields),
        trailers=tuple((n, v) for _, n, v in trailer_fields),
    )


@st.composite
def pipelines(draw: st.DrawFn, methods: st.SearchStrategy[bytes] = all_methods) -> list[Message]:
    n = draw(st.integers(1, 3))
    return [draw(messages(last=i == n - 1, methods=methods)) for i in range(n)]


def wire(msgs: list[Message] | tuple[Message, ...]) -> bytes:
    return b"".join(m.wire() for m in msgs)


# --- valid requests: all three parsers agree with the model ------------------------------------------


def check_agreement(
    msgs: list[Message], split: int, make: Callable[[], RequestParser] = RequestParser
) -> None:
    data = wire(msgs)
    expected = [m.seen() for m in msgs]

    ours = parse_ours(data, make)
    assert ours.error is None, f"we refuse a valid stream with {ours.error}: {data!r}"
    assert view(ours.requests, "ours") == view(expected, "ours"), data
    # the same events from two feed() calls
    assert run(make, [data[:split], data[split:]], eof=True) == run(make, [data], eof=True), (split, data)

    h11_outcome = parse_h11(data)
    assert h11_outcome.error is None, f"{h11_outcome.error} on {data!r}"
    assert view(h11_outcome.requests, "h11") == view(expected, "h11"), data

    if all(m.method in LLHTTP_METHODS for m in msgs):
        llhttp_outcome = parse_httptools(data)
        assert llhttp_outcome.error is None, f"{llhttp_outcome.error} on {data!r}"
        assert view(llhttp_outcome.requests, "llhttp") == view(expected, "llhttp"), data


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(msgs=pipelines(), split=st.integers(0, 10_000))
def test_valid_requests_agree(msgs: list[Message], split: int) -> None:
    check_agreement(msgs, split % (len(wire(msgs)) + 1))


def test_agreement_check_catches_a_wrong_body() -> None:
    # The check is only worth something if it can fail: a parser that drops the last byte of every
    # Data event must be caught.
    class LossyParser(RequestParser):
        def feed(self, data: bytes | bytearray | memoryview) -> list[object]:  # type: ignore[override]
            return [Data(e.data[:-1]) if isinstance(e, Data) else e for e in super().feed(data)]

    msg = Message(
        method=b"POST",
        target=b"/",
        version=b"1.1",
        field_lines=(b"Host: a", b"Content-Length: 2"),
        headers=((b"Host", b"a"), (b"Content-Length", b"2")),
        body=b"hi",
        keep_alive=True,
    )
    check_agreement([msg], 3)
    with pytest.raises(AssertionError):
        check_agreement([msg], 3, LossyParser)


# --- invalid requests: we refuse each; a parser that accepts one needs a rule in STRICTER_RULES ----------


@dataclass(frozen=True)
class Invalid:
    kind: str
    prefix: tuple[Message, ...]  # valid requests ahead of the bad one
    data: bytes  # the bad request
    codes: frozenset[str]  # what we must answer
    in_body: bool  # the defect is in the body: a parser accepts it only by completing the request


CTL_IN_VALUE = [bytes([c]) for c in [*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]]
NOT_TCHAR = [bytes([c]) for c in b'"(),/;<=>?@[\\]{}\x00\x01\x08\x0b\x1f\x7f\x80\xff']
NOT_TARGET = [bytes([c]) for c in b"\x00\x01\x08\x0b\x1f\x7f\x80\xff"]
Mutation = tuple[bytes, frozenset[str]]


def codes(*names: str) -> frozenset[str]:
    return frozenset(names)


def base(draw: st.DrawFn, framing: str | None = None, min_body: int = 0) -> Message:
    return draw(messages(last=True, methods=known_methods, framing=framing, min_body=min_body))


def with_lines(m: Message, lines: list[bytes]) -> bytes:
    return assemble([m.request_line, *lines, b""]) + m.body_wire()


def insert_line(draw: st.DrawFn, m: Message, line: bytes) -> bytes:
    lines = list(m.field_lines)
    lines.insert(draw(st.integers(0, len(lines))), line)
    return with_lines(m, lines)


def replace_line(m: Message, index: int, line: bytes) -> bytes:
    lines = list(m.field_lines)
    lines[index] = line
    return with_lines(m, lines)


def field_index(draw: st.DrawFn, m: Message) -> int:
    return draw(st.integers(0, len(m.field_lines) - 1))


def line_of(m: Message, name: bytes) -> int:
    return next(i for i, (n, _) in enumerate(m.headers) if n.lower() == name)


def cl_and_te(draw: st.DrawFn) -> Mutation:
    m = base(draw, "chunked")
    line = draw(case_variants(b"Content-Length")) + b": " + str(len(m.body_wire())).encode()
    return insert_line(draw, m, line), codes("content_length_and_transfer_encoding")


def duplicate_cl(draw: st.DrawFn) -> Mutation:
    m = base(draw, "length")
    value = draw(st.sampled_from([str(len(m.body)), str(len(m.body) + 1)])).encode()
    line = draw(case_variants(b"Content-Length")) + b": " + value
    return insert_line(draw, m, line), codes("duplicate_content_length")


def bad_cl(draw: st.DrawFn) -> Mutation:
    m = base(draw, "length")
    n = str(len(m.body)).encode()
    bad = [b"+" + n, b"-" + n, n + b" " + n, n + b", " + n, n + b"," + n, b"0x" + n, n + b".0", n + b";"]
    bad += [b"", b'"' + n + b'"', b"1" + b"0" * 20, b"18446744073709551616", b"9" * 20, n + b"\x80"]
    i = line_of(m, b"content-length")
    return replace_line(m, i, m.headers[i][0] + b": " + draw(st.sampled_from(bad))), codes(
        "invalid_content_length"
    )


def bad_te(draw: st.DrawFn) -> Mutation:
    m = base(draw, "chunked")
    value, code = draw(
        st.sampled_from(
            [
                (b"gzip", "transfer_encoding_not_chunked"),
                (b"identity", "transfer_encoding_not_chunked"),
                (b"x-custom", "transfer_encoding_not_chunked"),
                (b"", "transfer_encoding_not_chunked"),
                (b"chunked, gzip", "invalid_transfer_encoding"),
                (b"chunked, chunked", "invalid_transfer_encoding"),
                (b"chunked;q=1", "invalid_transfer_encoding"),
                (b"chun\x80ked", "invalid_transfer_encoding"),
            ]
        )
    )
    i = line_of(m, b"transfer-encoding")
    return replace_line(m, i, m.headers[i][0] + b": " + value), codes(code)


def te_in_http10(draw: st.DrawFn) -> Mutation:
    return replace(base(draw, "chunked"), version=b"1.0").wire(), codes("transfer_encoding_in_http10")


def obs_fold(draw: st.DrawFn) -> Mutation:
    line = draw(st.sampled_from([b" ", b"\t", b"  "])) + draw(field_values)
    return insert_line(draw, base(draw), line), codes("obs_fold")


def space_before_colon(draw: st.DrawFn) -> Mutation:
    m = base(draw)
    i = field_index(draw, m)
    name, rest = m.field_lines[i].split(b":", 1)
    line = name + draw(st.sampled_from([b" ", b"\t", b" \t"])) + b":" + rest
    return replace_line(m, i, line), codes("whitespace_before_colon")


def head_lines(m: Message) -> tuple[list[bytes], bytes]:
    """The lines of the head (and of a chunked body without data), and the bytes that follow."""
    lines = [m.request_line, *m.field_lines, b""]
    if m.chunks is not None and not m.body:
        return [*lines, m.last_chunk, *m.trailer_lines, b""], b""
    return lines, m.body_wire()


def bare_lf(draw: st.DrawFn) -> Mutation:
    lines, rest = head_lines(base(draw))
    i = draw(st.integers(0, len(lines) - 1))
    return assemble(lines, {i: b"\n"}) + rest, codes("bare_lf")


def bare_cr(draw: st.DrawFn) -> Mutation:
    m = base(draw)
    if draw(st.booleans()):
        # a line ended by CR alone, which the next line follows (never the LF it lacks)
        lines, rest = head_lines(m)
        i = draw(st.integers(0, len(m.field_lines)))
        return assemble(lines, {i: b"\r"}) + rest, codes("bare_cr")
    i = field_index(draw, m)
    line = m.field_lines[i]
    at = draw(st.integers(line.index(b":") + 1, len(line)))
    return replace_line(m, i, line[:at] + b"\r" + line[at:]), codes("bare_cr")


def ctl_in_value(draw: st.DrawFn) -> Mutation:
    m = base(draw)
    i = field_index(draw, m)
    line = m.field_lines[i]
    at = draw(st.integers(line.index(b":") + 1, len(line)))
    line = line[:at] + draw(st.sampled_from(CTL_IN_VALUE)) + line[at:]
    return replace_line(m, i, line), codes("invalid_header_value")


def bad_name(draw: st.DrawFn) -> Mutation:
    m = base(draw)
    i = field_index(draw, m)
    line = m.field_lines[i]
    kind = draw(st.sampled_from(["char", "empty", "no colon"]))
    if kind == "empty":
        return replace_line(m, i, line[line.index(b":") :]), codes("invalid_header_name")
    if kind == "no colon":
        return replace_line(m, i, draw(tokens)), codes("missing_colon")
    at = draw(st.integers(0, line.index(b":")))
    line = line[:at] + draw(st.sampled_from(NOT_TCHAR)) + line[at:]
    return replace_line(m, i, line), codes("invalid_header_name")


def bad_method(draw: st.DrawFn) -> Mutation:
    m = base(draw)
    if draw(st.booleans()):
        return b" " + m.wire(), codes("invalid_method")
    at = draw(st.integers(0, len(m.method)))
    method = m.method[:at] + draw(st.sampled_from(NOT_TCHAR)) + m.method[at:]
    return replace(m, method=method).wire(), codes("invalid_method")


def bad_target(draw: st.DrawFn) -> Mutation:
    m = base(draw)
    at = draw(st.integers(1, len(m.target)))
    target = m.target[:at] + draw(st.sampled_from(NOT_TARGET)) + m.target[at:]
    return replace(m, target=target).wire(), codes("invalid_target")


def bad_request_line(draw: st.DrawFn) -> Mutation:
    m = base(draw, draw(st.sampled_from(["none", "length"])))
    method, target, version = m.method, m.target, b"HTTP/" + m.version
    line, code = draw(
        st.sampled_from(
            [
                (b"%s  %s %s" % (method, target, version), "invalid_target"),
                (b"%s %s  %s" % (method, target, version), "invalid_version"),
                (b"%s\t%s %s" % (method, target, version), "invalid_method"),
                (b"%s %s\t%s" % (method, target, version), "invalid_target"),
                (b"%s %s" % (method, target), "invalid_target"),  # HTTP/0.9
                (b"%s * %s" % (b"GET", version), "invalid_target"),  # '*' is for OPTIONS
                (b"%s example.com/%s %s" % (method, target.lstrip(b"/"), version), "invalid_target"),
                (b"%s %s %s" % (method, b"1" + target, version), "invalid_target"),
                (b"%s %s" % (method, version), "invalid_target"),
            ]
        )
    )
    return assemble([line, *m.field_lines, b""]) + m.body_wire(), codes(code)


def bad_version(draw: st.DrawFn) -> Mutation:
    m = base(draw, draw(st.sampled_from(["none", "length"])))
    version, code = draw(
        st.sampled_from(
            [
                (b"HTTP/1.2", "unsupported_version"),
                (b"HTTP/2.0", "unsupported_version"),
                (b"HTTP/0.9", "unsupported_version"),
                (b"HTTP/3.0", "unsupported_version"),
                (b"HTTP/9.1", "unsupported_version"),
                (b"http/1.1", "invalid_version"),
                (b"HTTP/1", "invalid_version"),
                (b"HTTP/1.", "invalid_version"),
                (b"HTTP/11", "invalid_version"),
                (b"HTTP/1.1.1", "invalid_version"),
                (b"HTTP/1.10", "invalid_version"),
                (b"HTTP/01.1", "invalid_version"),
                (b"HTTPS/1.1", "invalid_version"),
                (b"HTTP/ 1.1", "invalid_version"),
                (b"HTTP/1.1 ", "invalid_version"),
                (b"HTTP/1,1", "invalid_version"),
                (b"", "invalid_version"),
            ]
        )
    )
    line = b"%s %s %s" % (m.method, m.target, version)
    return assemble([line, *m.field_lines, b""]) + m.body_wire(), codes(code)


def with_chunk_size(draw: st.DrawFn, m: Message, bad: Callable[[bytes], tuple[bytes, str]]) -> Mutation:
    """`m` with one of its chunk-size lines (the last chunk's included) replaced."""
    assert m.chunks is not None
    sizes = [size for size, _ in m.chunks] + [m.last_chunk]
    i = draw(st.integers(0, len(sizes) - 1))
    sizes[i], code = bad(sizes[i].split(b";", 1)[0])
    chunks = tuple((s, data) for s, (_, data) in zip(sizes, m.chunks, strict=False))
    return replace(m, chunks=chunks, last_chunk=sizes[-1]).wire(), codes(code)


BAD_CHUNK_SIZES: list[Callable[[bytes], tuple[bytes, str]]] = [
    lambda size: (b"x", "invalid_chunk_size"),
    lambda size: (b"-1", "invalid_chunk_size"),
    lambda size: (b"+1", "invalid_chunk_size"),
    lambda size: (b"", "invalid_chunk_size"),
    lambda size: (b" " + size, "invalid_chunk_size"),
    lambda size: (b";a", "invalid_chunk_size"),
    lambda size: (size + b" ", "invalid_chunk_size"),
    lambda size: (size + b"\t", "invalid_chunk_size"),
    lambda size: (b"0" * 16 + size, "chunk_size_overflow"),
    lambda size: (b"0x" + size, "invalid_chunk_extension"),
    lambda size: (size + b"g", "invalid_chunk_extension"),
    lambda size: (size + b";", "invalid_chunk_extension"),
    lambda size: (size + b";a=", "invalid_chunk_extension"),
    lambda size: (size + b";=b", "invalid_chunk_extension"),
    lambda size: (size + b";a b", "invalid_chunk_extension"),
    lambda size: (size + b';a="b', "invalid_chunk_extension"),
    lambda size: (size + b';a="\x01"', "invalid_chunk_extension"),
    lambda size: (size + b";a=b,c", "invalid_chunk_extension"),
    lambda size: (size + b";a\x80", "invalid_chunk_extension"),
]


def bad_chunk_size(draw: st.DrawFn) -> Mutation:
    return with_chunk_size(draw, base(draw, "chunked"), draw(st.sampled_from(BAD_CHUNK_SIZES)))


def quoted_pair_ctl(draw: st.DrawFn) -> Mutation:
    # quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ) (RFC 9110 5.6.4): no control may be escaped
    ctl = draw(st.sampled_from(CTL_IN_VALUE))
    return with_chunk_size(
        draw, base(draw, "chunked"), lambda size: (size + b';a="\\' + ctl + b'"', "invalid_chunk_extension")
    )


def chunk_overrun(draw: st.DrawFn) -> Mutation:
    m = base(draw, "chunked", min_body=1)
    assert m.chunks
    i = draw(st.integers(0, len(m.chunks) - 1))
    chunks = list(m.chunks)
    chunks[i] = (chunks[i][0], chunks[i][1] + draw(st.sampled_from([b"x", b"\n", b"\r\r"])))
    return replace(m, chunks=tuple(chunks)).wire(), codes("missing_chunk_crlf")


def bad_trailer(draw: st.DrawFn) -> Mutation:
    m = base(draw, "chunked")
    line, code = draw(
        st.sampled_from(
            [
                (b" folded", "obs_fold"),
                (b"A : b", "whitespace_before_colon"),
                (b"A(: b", "invalid_header_name"),
                (b": b", "invalid_header_name"),
                (b"A: b\x00", "invalid_header_value"),
                (b"A: \x7f", "invalid_header_value"),
                (b"NoColon", "missing_colon"),
                (b"A: b\rc", "bare_cr"),
                (b"A: b\nc: d", "bare_lf"),
            ]
        )
    )
    lines = list(m.trailer_lines)
    lines.insert(draw(st.integers(0, len(lines))), line)
    return replace(m, trailer_lines=tuple(lines)).wire(), codes(code)


HEAD_MUTATIONS = [
    cl_and_te,
    duplicate_cl,
    bad_cl,
    bad_te,
    te_in_http10,
    obs_fold,
    space_before_colon,
    bare_lf,
    bare_cr,
    ctl_in_value,
    bad_name,
    bad_method,
    bad_target,
    bad_request_line,
    bad_version,
]
BODY_MUTATIONS = [bad_chunk_size, chunk_overrun, bad_trailer, quoted_pair_ctl]
MUTATIONS: dict[str, Callable[[st.DrawFn], Mutation]] = {
    f.__name__: f for f in HEAD_MUTATIONS + BODY_MUTATIONS
}


@st.composite
def invalid_requests(draw: st.DrawFn, kinds: list[str] | None = None) -> Invalid:
    kind = draw(st.sampled_from(kinds or sorted(MUTATIONS)))
    data, expected = MUTATIONS[kind](draw)
    prefix = tuple(draw(st.lists(messages(last=False, methods=known_methods), max_size=1)))
    in_body = MUTATIONS[kind] in BODY_MUTATIONS
    return Invalid(kind, prefix, data, expected, in_body)


def ours_error(chunks: list[bytes]) -> ProtocolError | None:
    parser = RequestParser()
    try:
        for chunk in chunks:
            parser.feed(chunk)
        parser.feed_eof()
    except ProtocolError as e:
        return e
    return None


def check_divergence(name: str, code: str, data: bytes, rules: dict[str, str]) -> None:
    assert code in rules, (
        f"{name} accepts what we refuse with {code}, which is no rule of STRICTER_RULES: {data!r}"
    )
    assert name in rules[code], f"STRICTER_RULES[{code!r}] does not name {name}, which accepts {data!r}"


def check_rejection(case: Invalid, split: int, rules: dict[str, str] = STRICTER_RULES) -> None:
    prefix = wire(case.prefix)
    data = prefix + case.data
    others = {name: parse(data) for name, parse in PARSE_OTHER.items()}

    error = ours_error([data])
    if error is None:
        both = all(refuses(o) for o in others.values())
        raise AssertionError(
            f"{'BUG: ' if both else ''}we accept a {case.kind} request"
            f"{' that h11 and llhttp both refuse' if both else ''}: {data!r} "
            f"({'; '.join(str(o.error) for o in others.values())})"
        )
    assert error.code in case.codes, f"{case.kind}: {error.code} (expected {set(case.codes)}) for {data!r}"
    assert error.offset >= len(prefix), (error.offset, data)
    # the good requests ahead of the bad one came out first
    expected_prefix = normalize(RequestParser().feed(prefix)) if prefix else []
    assert normalize(error.events)[: len(expected_prefix)] == expected_prefix, data
    # the same error at the same byte however the stream arrived
    again = ours_error([data[:split], data[split:]])
    assert again is not None, (split, data)
    assert (again.code, again.offset) == (error.code, error.offset), (split, data)

    for name, outcome in others.items():
        if outcome.accepts(skip=len(case.prefix), head_only=not case.in_body):
            check_divergence(name, error.code, data, rules)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=invalid_requests(), split=st.integers(0, 10_000))
def test_invalid_requests_are_refused(case: Invalid, split: int) -> None:
    check_rejection(case, split % (len(wire(case.prefix)) + len(case.data) + 1))


def test_rejection_check_catches_an_undocumented_divergence() -> None:
    case = Invalid(
        "duplicate_cl",
        (),
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
        codes("duplicate_content_length"),
        in_body=False,
    )
    check_rejection(case, 5)
    with pytest.raises(AssertionError, match="no rule"):
        check_rejection(case, 5, rules={})
    with pytest.raises(AssertionError, match="does not name h11"):
        check_rejection(case, 5, rules={"duplicate_content_length": "llhttp only"})
    with pytest.raises(AssertionError, match="expected"):
        check_rejection(replace(case, codes=codes("obs_fold")), 5)


@pytest.mark.parametrize(("code", "parser", "data"), STRICTER_RULE_WITNESSES)
def test_stricter_rule_witnesses(code: str, parser: str, data: bytes) -> None:
    error = ours_error([data])
    assert error is not None
    assert error.code == code
    assert parser in STRICTER_RULES[code]
    outcome = PARSE_OTHER[parser](data)
    assert outcome.accepts(), outcome
    assert not outcome.pending, outcome


@pytest.mark.parametrize(("reason", "data"), ACCEPTED_BY_DESIGN_WITNESSES)
def test_accepted_by_design_witnesses(reason: str, data: bytes) -> None:
    assert reason in ACCEPTED_BY_DESIGN
    assert parse_ours(data).error is None
    error = PARSE_OTHER[reason.partition(":")[0]](data).error
    assert error is not None
    assert error.startswith(reason)


def test_every_parser_a_rule_names_has_a_witness() -> None:
    witnessed = {(code, parser) for code, parser, _ in STRICTER_RULE_WITNESSES}
    named = {(code, parser) for code, why in STRICTER_RULES.items() for parser in PARSERS if parser in why}
    assert named == witnessed


# --- random byte edits: we never accept what h11 and llhttp both refuse ------------------------------------

EDIT_BYTES = b'\r\n \t:;,\x00\x01\x7f\x80\xff"0aA-/*%'


@st.composite
def edited_streams(draw: st.DrawFn) -> bytes:
    data = bytearray(wire(draw(pipelines(methods=known_methods))))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(data) - 1))
        byte = draw(st.sampled_from(EDIT_BYTES) | st.integers(0, 255))
        op = draw(st.sampled_from(["replace", "insert", "delete"]))
        if op == "replace":
            data[at] = byte
        elif op == "insert":
            data.insert(at, byte)
        else:
            del data[at]
    return bytes(data)


def check_edited(data: bytes, make: Callable[[], RequestParser] = RequestParser) -> None:
    ours = parse_ours(data, make)
    others = {name: parse(data) for name, parse in PARSE_OTHER.items()}
    if ours.error is None:
        errors = [o.error for o in others.values()]
        assert not all(map(refuses, others.values())), f"BUG: we accept what both refuse: {data!r} ({errors})"
        for name, outcome in others.items():
            # where another parser takes the whole stream too, it must read the same requests
            if outcome.error is None and not outcome.pending:
                assert view(outcome.requests, name) == view(ours.requests, name), (name, data)
    elif ours.error != "unexpected_eof":  # only we are told of the end of the stream
        for name, outcome in others.items():
            if outcome.error is None and not outcome.pending and outcome.requests:
                check_divergence(name, ours.error, data, STRICTER_RULES)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=edited_streams())
def test_edited_streams(data: bytes) -> None:
    check_edited(data)


def test_edit_check_catches_an_accepted_stream_that_both_refuse() -> None:
    data = b"GET / HTTP/1.1\r\nHost: a\r\nX: b\x00c\r\n\r\n"
    check_edited(data)
    with pytest.raises(AssertionError, match="BUG"):
        check_edited(data, lambda: RequestParser(lenient_headers=True))
