"""RequestParser and ResponseParser: framing, keep-alive, upgrades, and the strict rules."""

from __future__ import annotations

import pytest
from fasterapi_http1 import (
    Data,
    EndOfMessage,
    LimitExceeded,
    ProtocolError,
    Request,
    RequestParser,
    ResponseParser,
    Upgrade,
    parse_request,
)
from helpers import replay_everywhere, run

GET = b"GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\nAccept:  */*  \r\n\r\n"


def test_simple_request_fields() -> None:
    events = RequestParser().feed(GET)
    assert len(events) == 2
    req = events[0]
    assert isinstance(req, Request)
    assert (req.method, req.target, req.http_version) == (b"GET", b"/a?b=1", b"1.1")
    assert req.headers == [(b"Host", b"example.com"), (b"Accept", b"*/*")]
    assert req.keep_alive
    assert req.content_length is None
    assert not req.chunked
    assert not req.upgrade
    assert not req.expect_continue
    assert events[1] == EndOfMessage()


def test_pipelined_requests_at_every_split() -> None:
    data = (
        GET
        + b"POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
        + b"PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"3;name=value\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nX-Trailer: yes\r\n\r\n"
        + b"\r\nGET /last HTTP/1.0\r\n\r\n"
    )
    events = replay_everywhere(RequestParser, data)
    kinds = [e[0] for e in events]  # type: ignore[index]
    assert kinds == ["request", "end", "request", "data", "end", "request", "data", "end", "request", "end"]
    assert events[3] == ("data", b"hello")
    assert events[6] == ("data", b"abc0123456789abcdef")
    assert events[7] == ("end", [(b"X-Trailer", b"yes")])
    assert events[8][3] == b"1.0"  # type: ignore[index]
    assert events[8][5] is False  # HTTP/1.0 without keep-alive closes  # type: ignore[index]


def test_data_after_connection_close_is_an_error() -> None:
    data = b"GET / HTTP/1.1\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n\r\n"
    assert run(RequestParser, [data])[-1] == ("error", "data_after_close")
    assert run(lambda: RequestParser(lenient_data_after_close=True), [data])[-1] == ("end", [])


@pytest.mark.parametrize(
    ("connection", "version", "keep_alive"),
    [
        (None, b"1.1", True),
        (b"close", b"1.1", False),
        (b"Keep-Alive, CLOSE", b"1.1", False),
        (None, b"1.0", False),
        (b"keep-alive", b"1.0", True),
    ],
)
def test_keep_alive_rules(connection: bytes | None, version: bytes, keep_alive: bool) -> None:
    head = (
        b"GET / HTTP/"
        + version
        + b"\r\n"
        + (b"Connection: " + connection + b"\r\n" if connection else b"")
        + b"\r\n"
    )
    req = RequestParser().feed(head)[0]
    assert isinstance(req, Request)
    assert req.keep_alive is keep_alive


def test_upgrade_hands_back_the_following_bytes() -> None:
    data = b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\r\n\x81\x05hello"
    events = replay_everywhere(RequestParser, data)
    assert events[0][6] is True  # type: ignore[index]
    assert events[1:] == [("end", []), ("upgrade", b"\x81\x05hello")]


def test_upgrade_header_without_connection_upgrade_is_plain_http() -> None:
    events = RequestParser().feed(b"GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\nGET / HTTP/1.1\r\n\r\n")
    assert [type(e) for e in events] == [Request, EndOfMessage, Request, EndOfMessage]


def test_connect_becomes_a_tunnel_after_its_head() -> None:
    p = RequestParser()
    events = p.feed(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\x16\x03\x01")
    assert isinstance(events[0], Request)
    assert events[0].upgrade
    assert events[1:] == [EndOfMessage(), Upgrade(b"\x16\x03\x01")]
    assert p.feed(b"more") == [Upgrade(b"more")]


def test_expect_continue() -> None:
    req = RequestParser().feed(b"POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n")[0]
    assert isinstance(req, Request)
    assert req.expect_continue
    assert req.content_length == 3


@pytest.mark.parametrize(
    ("head", "code"),
    [
        # request smuggling shapes (RFC 9112 section 6)
        (
            b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            "content_length_and_transfer_encoding",
        ),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n", "transfer_encoding_not_chunked"),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, identity\r\n\r\n", "invalid_transfer_encoding"),
        (
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            "invalid_transfer_encoding",
        ),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", "transfer_encoding_not_chunked"),
        (b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", "transfer_encoding_in_http10"),
        (b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", "duplicate_content_length"),
        (b"POST / HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\n", "invalid_content_length"),
        (b"POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\n", "invalid_content_length"),
        (b"POST / HTTP/1.1\r\nContent-Length: 3 3\r\n\r\n", "invalid_content_length"),
        (b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", "invalid_content_length"),
        (b"POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", "invalid_content_length"),
        # field syntax
        (b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", "whitespace_before_colon"),
        (b"GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", "obs_fold"),
        (b"GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", "bare_cr"),
        (b"GET / HTTP/1.1\nA: b\r\n\r\n", "bare_lf"),
        (b"GET / HTTP/1.1\r\nA: b\x00c\r\n\r\n", "invalid_header_value"),
        (b"GET / HTTP/1.1\r\nA: b\x7fc\r\n\r\n", "invalid_header_value"),
        (b"GET / HTTP/1.1\r\nA(b): c\r\n\r\n", "invalid_header_name"),
        (b"GET / HTTP/1.1\r\n: c\r\n\r\n", "invalid_header_name"),
        (b"GET / HTTP/1.1\r\nNoColon\r\n\r\n", "missing_colon"),
        # start line
        (b"G(T / HTTP/1.1\r\n\r\n", "invalid_method"),
        (b"GET  / HTTP/1.1\r\n\r\n", "invalid_target"),
        (b"GET / HTTP/1.1 \r\n\r\n", "invalid_version"),
        (b"GET / HTTP/2.0\r\n\r\n", "unsupported_version"),
        (b"GET / http/1.1\r\n\r\n", "invalid_version"),
        (b"GET * HTTP/1.1\r\n\r\n", "invalid_target"),
        (b"CONNECT /x HTTP/1.1\r\n\r\n", "invalid_target"),
        (b"GET /\x7f HTTP/1.1\r\n\r\n", "invalid_target"),
    ],
)
def test_strict_rejections(head: bytes, code: str) -> None:
    assert run(RequestParser, [head])[-1] == ("error", code)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"x\r\n", "invalid_chunk_size"),
        (b"-1\r\n", "invalid_chunk_size"),
        (b"+1\r\n", "invalid_chunk_size"),
        (b"1 \r\nx\r\n", "invalid_chunk_size"),
        (b"1;\r\nx\r\n", "invalid_chunk_extension"),
        (b"1;a=\r\nx\r\n", "invalid_chunk_extension"),
        (b"1\r\nxy\r\n", "missing_chunk_crlf"),
        (b"11111111111111111\r\n", "chunk_size_overflow"),
    ],
)
def test_chunked_rejections(body: bytes, code: str) -> None:
    head = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    assert run(RequestParser, [head + body])[-1] == ("error", code)


def test_leniencies_each_allow_their_shape() -> None:
    assert run(lambda: RequestParser(lenient_optional_cr_before_lf=True), [b"GET / HTTP/1.1\nA: b\n\n"])[
        -1
    ] == ("end", [])
    assert run(lambda: RequestParser(lenient_optional_lf_after_cr=True), [b"GET / HTTP/1.1\rA: b\r\r\n"])[
        -1
    ] == ("end", [])
    assert run(lambda: RequestParser(lenient_headers=True), [b"GET / HTTP/1.1\r\nA: b\x01\r\n\r\n"])[-1] == (
        "end",
        [],
    )
    assert run(lambda: RequestParser(lenient_version=True), [b"GET / HTTP/2.0\r\n\r\n"])[-1] == ("end", [])
    events = run(lambda: RequestParser(lenient_obs_fold=True), [b"GET / HTTP/1.1\r\nA: b\r\n  c\r\n\r\n"])
    assert events[0][4] == [(b"A", b"b c")]  # RFC 9112 5.2: each obs-fold becomes one SP  # type: ignore[index]
    both = b"POST / HTTP/1.1\r\nContent-Length: 9\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n"
    assert run(lambda: RequestParser(lenient_chunked_length=True), [both])[1:] == [
        ("data", b"x"),
        ("end", []),
    ]
    spaced = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1  \r\nx\r\n0\r\n\r\n"
    assert run(lambda: RequestParser(lenient_spaces_after_chunk_size=True), [spaced])[-1] == ("end", [])
    no_crlf = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx0\r\n\r\n"
    assert run(lambda: RequestParser(lenient_optional_crlf_after_chunk=True), [no_crlf])[-1] == ("end", [])


def test_errors_are_sticky_and_carry_the_offset() -> None:
    p = RequestParser()
    with pytest.raises(ProtocolError) as first:
        p.feed(b"GET / HTTP/1.1\r\nA : b\r\n\r\n")
    assert first.value.offset == 17
    assert first.value.status_hint == 400
    with pytest.raises(ProtocolError) as again:
        p.feed(b"GET / HTTP/1.1\r\n\r\n")
    assert again.value.code == first.value.code
    assert again.value.offset == first.value.offset


def test_error_offsets_count_the_whole_stream() -> None:
    p = RequestParser()
    p.feed(GET)
    with pytest.raises(ProtocolError) as e:
        p.feed(b"GET / HTTP/1.1\r\nA\x00: b\r\n\r\n")
    assert e.value.offset == len(GET) + 17


# --- limits: at the limit, and one past it ---------------------------------------------------------------


def test_request_line_limit() -> None:
    target = b"/" + b"a" * (100 - len(b"GET / HTTP/1.1"))
    line = b"GET " + target + b" HTTP/1.1"
    assert len(line) == 100
    assert run(lambda: RequestParser(max_request_line=100), [line + b"\r\n\r\n"])[-1] == ("end", [])
    with pytest.raises(LimitExceeded) as e:
        RequestParser(max_request_line=99).feed(line + b"\r\n\r\n")
    assert e.value.status_hint == 414
    # an unterminated line is refused as soon as it is too long
    with pytest.raises(LimitExceeded):
        RequestParser(max_request_line=99).feed(line)


def test_header_count_limit() -> None:
    head = b"GET / HTTP/1.1\r\n" + b"".join(b"H%d: v\r\n" % i for i in range(10)) + b"\r\n"
    assert run(lambda: RequestParser(max_headers=10), [head])[-1] == ("end", [])
    with pytest.raises(LimitExceeded) as e:
        RequestParser(max_headers=9).feed(head)
    assert e.value.status_hint == 431
    assert e.value.code == "too_many_headers"


def test_header_line_and_head_size_limits() -> None:
    field = b"X: " + b"v" * 47  # 50 bytes
    head = b"GET / HTTP/1.1\r\n" + field + b"\r\n\r\n"
    assert run(lambda: RequestParser(max_header_line=50), [head])[-1] == ("end", [])
    assert run(lambda: RequestParser(max_header_line=49), [head])[-1] == ("error", "header_line_too_long")
    assert run(lambda: RequestParser(max_header_bytes=len(head)), [head])[-1] == ("end", [])
    assert run(lambda: RequestParser(max_header_bytes=len(head) - 1), [head])[-1] == (
        "error",
        "headers_too_large",
    )


def test_body_limit() -> None:
    cl = b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789"
    assert run(lambda: RequestParser(max_body=10), [cl])[-1] == ("end", [])
    with pytest.raises(LimitExceeded) as e:
        RequestParser(max_body=9).feed(cl)
    assert e.value.status_hint == 413
    chunked = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n"
    assert run(lambda: RequestParser(max_body=10), [chunked])[-1] == ("end", [])
    assert run(lambda: RequestParser(max_body=9), [chunked])[-1] == ("error", "body_too_large")


def test_chunk_size_digit_limit() -> None:
    head = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    assert run(lambda: RequestParser(max_chunk_size_digits=2), [head + b"0a\r\n0123456789\r\n0\r\n\r\n"])[
        -1
    ] == ("end", [])
    assert run(lambda: RequestParser(max_chunk_size_digits=2), [head + b"00a\r\n"])[-1] == (
        "error",
        "chunk_size_overflow",
    )


def test_invalid_options() -> None:
    with pytest.raises(TypeError):
        RequestParser(max_bogus=1)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="positive"):
        RequestParser(max_headers=0)
    with pytest.raises(TypeError):
        RequestParser().feed("text")  # type: ignore[arg-type]


# --- responses ---------------------------------------------------------------------------------------------


def test_response_body_rules() -> None:
    assert replay_everywhere(ResponseParser, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")[1:] == [
        ("data", b"hi"),
        ("end", []),
    ]
    events = replay_everywhere(ResponseParser, b"HTTP/1.1 200 OK\r\n\r\nuntil close", eof=True)
    assert events[1:] == [("data", b"until close"), ("end", [])]
    assert events[0][5] is False  # type: ignore[index]
    no_body = b"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"
    assert [e[0] for e in replay_everywhere(ResponseParser, no_body)] == [
        "response",
        "end",
        "response",
        "end",
    ]  # type: ignore[index]
    head = ResponseParser(request_method=b"HEAD").feed(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
    assert head[1:] == [EndOfMessage()]


def test_interim_and_switching_responses() -> None:
    events = ResponseParser().feed(
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    )
    assert [type(e).__name__ for e in events] == ["Response", "EndOfMessage", "Response", "EndOfMessage"]
    switched = ResponseParser().feed(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\nframes")
    assert switched[1:] == [EndOfMessage(), Upgrade(b"frames")]


def test_truncated_messages_fail_at_eof() -> None:
    assert run(ResponseParser, [b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"], eof=True)[-1] == (
        "error",
        "unexpected_eof",
    )
    assert run(RequestParser, [b"GET / HTTP/1.1\r\nHost"], eof=True)[-1] == ("error", "unexpected_eof")
    assert run(RequestParser, [GET], eof=True)[-1] == ("end", [])


# --- the fast path ------------------------------------------------------------------------------------------


def test_parse_request_fast_path() -> None:
    assert parse_request(GET[:-1]) is None
    result = parse_request(GET + b"trailing")
    assert result is not None
    req, consumed = result
    assert consumed == len(GET)
    assert req == RequestParser().feed(GET)[0]
    with pytest.raises(ProtocolError):
        parse_request(b"GET / HTTP/1.1\r\nA : b\r\n\r\n")


def test_buffers_of_any_kind() -> None:
    assert RequestParser().feed(bytearray(GET))[0] == RequestParser().feed(memoryview(GET))[0]
    assert Data(b"x") == Data(b"x")
    assert Data(b"x") != Data(b"y")


def test_space_inside_a_field_name_is_not_whitespace_before_colon() -> None:
    assert run(RequestParser, [b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n"])[-1] == (
        "error",
        "invalid_header_name",
    )
    assert run(RequestParser, [b"GET / HTTP/1.1\r\nName : x\r\n\r\n"])[-1] == (
        "error",
        "whitespace_before_colon",
    )


def test_chunk_size_line_limit() -> None:
    head = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    line = b"1;" + b"a" * 48  # 50 bytes
    assert run(lambda: RequestParser(max_header_line=50), [head + line + b"\r\nx\r\n0\r\n\r\n"])[-1] == (
        "end",
        [],
    )
    assert run(lambda: RequestParser(max_header_line=49), [head + line + b"\r\nx\r\n0\r\n\r\n"])[-1] == (
        "error",
        "invalid_chunk_extension",
    )


def test_idle_is_false_after_an_error() -> None:
    p = RequestParser()
    with pytest.raises(ProtocolError):
        p.feed(b"G(T / HTTP/1.1\r\n")
    assert not p.idle


def test_pipelined_responses_to_get_head_get() -> None:
    p = ResponseParser()
    for method in (b"GET", b"HEAD", b"GET"):
        p.expect_response_to(method)
    stream = (
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"  # HEAD: no body despite the length
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
    )
    events = p.feed(stream)
    assert [type(e).__name__ for e in events] == [
        "Response", "Data", "EndOfMessage",
        "Response", "EndOfMessage",
        "Response", "EndOfMessage",
        "Response", "Data", "EndOfMessage",
    ]  # fmt: skip
    assert events[-2] == Data(b"abc")
    assert p.pending == 0


def test_remaining_leniencies_each_allow_their_shape() -> None:
    # lenient_keep_alive: parsing goes on after "Connection: close"
    closing = b"GET / HTTP/1.1\r\nConnection: close\r\n\r\nGET /2 HTTP/1.1\r\n\r\n"
    assert run(RequestParser, [closing])[-1] == ("error", "data_after_close")
    assert [e[0] for e in run(lambda: RequestParser(lenient_keep_alive=True), [closing])] == [  # type: ignore[index]
        "request",
        "end",
        "request",
        "end",
    ]
    # lenient_transfer_encoding: a request whose codings do not end in chunked is read until close
    te = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\nraw"
    assert run(RequestParser, [te])[-1] == ("error", "invalid_transfer_encoding")
    assert run(lambda: RequestParser(lenient_transfer_encoding=True), [te], eof=True)[1:] == [
        ("data", b"raw"),
        ("end", []),
    ]
    # lenient_header_value_relaxed: any byte but CR and LF in a value
    relaxed = b"GET / HTTP/1.1\r\nA: \x00\x7f\r\n\r\n"
    assert run(RequestParser, [relaxed])[-1] == ("error", "invalid_header_value")
    assert run(lambda: RequestParser(lenient_header_value_relaxed=True), [relaxed])[0][4] == [
        (b"A", b"\x00\x7f")
    ]  # type: ignore[index]


def test_body_limit_holds_for_bodies_delimited_by_close() -> None:
    response = b"HTTP/1.1 200 OK\r\n\r\n0123456789"
    assert run(lambda: ResponseParser(max_body=10), [response], eof=True)[1:] == [
        ("data", b"0123456789"),
        ("end", []),
    ]
    assert replay_everywhere(lambda: ResponseParser(max_body=9), response, eof=True)[1:] == [
        ("data", b"012345678"),
        ("error", "body_too_large"),
    ]
