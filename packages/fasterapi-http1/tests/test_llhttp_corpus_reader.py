"""The llhttp corpus reader, checked against cases worked out by hand from the markdown files."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from llhttp_corpus import (
    CORPUS_DIR,
    ERROR_NAMES,
    LENIENCIES,
    Case,
    Chunk,
    expected,
    load_cases,
)

# request/*.md and response/*.md of the shared llhttp checkout, counted with
# `grep -c '^```http'`; the reader must find every one of them.
EXPECTED_TYPES = {
    "request": 134,
    "response": 76,
    "request-lenient-headers": 11,
    "request-lenient-optional-lf-after-cr": 4,
    "request-lenient-header-value-relaxed": 4,
    "request-finish": 3,
    "request-lenient-keep-alive": 2,
    "request-lenient-chunked-length": 2,
    "request-lenient-transfer-encoding": 2,
    "response-lenient-all": 2,
    "request-lenient-version": 1,
    "request-lenient-optional-crlf-after-chunk": 1,
    "request-lenient-spaces-after-chunk-size": 1,
    "request-lenient-all": 1,
    "response-lenient-optional-cr-before-lf": 1,
    "response-lenient-data-after-close": 1,
    "response-lenient-keep-alive": 1,
    "response-lenient-headers": 1,
    "response-lenient-optional-lf-after-cr": 1,
    "response-finish": 1,
    "response-lenient-version": 1,
}
TOTAL = 251
# `grep -h 'error code=' request/*.md response/*.md` gives 100 lines, 15 of them code=22 (the upgrade
# pause); the 4 finish cases end with a finish line; the rest end without an error.
OK, ERRORS, UPGRADES = 147, 85, 15


def find(file: str, *headings: str, line: int | None = None) -> Case:
    """The case of `file` whose heading path (below the file's title) is `headings`."""
    found = [
        c
        for c in load_cases()
        if c.file == file and c.headings[1:] == headings and (line is None or c.line == line)
    ]
    assert len(found) == 1, f"{file} {headings}: {len(found)} cases"
    return found[0]


def test_corpus_is_read_from_the_shared_checkout() -> None:
    monorepo = Path(__file__).resolve().parents[3]
    assert CORPUS_DIR.resolve() == (monorepo.parent / "shared" / "corpora" / "llhttp" / "test").resolve()
    assert (CORPUS_DIR / "request" / "sample.md").is_file()
    assert not any(Path(__file__).parent.glob("*.md"))  # nothing of the corpus is copied here


def test_every_case_loads() -> None:
    cases = load_cases()
    assert len(cases) == TOTAL
    assert dict(Counter(c.type for c in cases)) == EXPECTED_TYPES
    assert Counter(c.kind for c in cases) == {"request": 166, "response": 85}
    assert len({c.id for c in cases}) == TOTAL
    per_file = Counter(c.file for c in cases)
    for path in sorted(CORPUS_DIR.glob("re*/*.md")):
        rel = path.relative_to(CORPUS_DIR).as_posix()
        assert per_file[rel] == path.read_text(encoding="utf-8").count("\n```http\n"), rel


@pytest.mark.parametrize("case", load_cases(), ids=lambda c: c.id)
def test_expectation_builds(case: Case) -> None:
    # expected() checks each span of the log against case.input[off:off + len]: this is what shows
    # that the input conversion is byte-exact for every case, not only the ones checked by hand below.
    exp = expected(case)
    assert exp.kind == case.kind
    assert exp.messages or exp.error is not None
    if exp.error is not None:
        assert exp.error.offset <= len(case.input)
    if case.finish:
        assert exp.finish_state is not None


def test_outcomes_over_the_corpus() -> None:
    outcomes = Counter(
        "finish" if e.finish else "upgrade" if e.upgrade_offset is not None else "error" if e.failed else "ok"
        for e in map(expected, load_cases())
    )
    assert outcomes == {"ok": OK, "error": ERRORS, "upgrade": UPGRADES, "finish": 4}


def test_meta_with_odd_spacing_and_extra_keys() -> None:
    case = find("request/content-length.md", "Content-Length reset when no body is received")
    assert dict(case.meta) == {"type": "request", "skipBody": True}
    assert case.skip_body
    assert not case.no_scan
    assert case.pause is None
    paused = find("request/pausing.md", "on_message_begin")
    assert paused.pause == "on_message_begin"
    assert expected(paused).pauses == [0]
    spaced = find("request/invalid.md", "Invalid space after start line", "Spaces before headers")
    assert spaced.type == "request"  # <!-- meta={ "type": "request" } -->


def test_leniency_names() -> None:
    assert find("request/sample.md", "X-SSL-Nonsense").leniencies == {"lenient_headers"}
    relaxed = [c for c in load_cases() if c.type == "request-lenient-header-value-relaxed"]
    assert {frozenset(c.leniencies) for c in relaxed} == {frozenset({"lenient_header_value_relaxed"})}
    every = [c for c in load_cases() if c.type.endswith("-lenient-all")]
    assert len(every) == 3
    assert all(c.leniencies == frozenset(LENIENCIES) for c in every)
    assert find("request/sample.md", "Simple request").leniencies == frozenset()


def test_simple_request_bytes_and_message() -> None:
    case = find("request/sample.md", "Simple request")
    # Header2:\t Value2, then the two empty lines of the block: the CRLF ending the last header line
    # and the empty line ending the head.
    assert case.input == b"OPTIONS /url HTTP/1.1\r\nHeader1: Value1\r\nHeader2:\t Value2\r\n\r\n"
    exp = expected(case)
    assert exp.error is None
    assert not exp.finish
    (msg,) = exp.messages
    assert (msg.method, msg.url, msg.protocol, msg.version) == (b"OPTIONS", b"/url", b"HTTP", b"1.1")
    assert msg.method_code == 6
    assert (msg.http_major, msg.http_minor) == (1, 1)
    assert msg.headers == [(b"Header1", b"Value1"), (b"Header2", b"Value2")]
    assert msg.completed
    assert msg.keep_alive
    assert msg.content_length is None
    assert not msg.chunked
    assert not msg.upgrade
    assert msg.body == b""


def test_escaped_cr_inside_a_header_value() -> None:
    case = find("request/connection.md", "`keep-alive`", "Not treating `\\r` as `-`")
    assert case.input == b"PUT /url HTTP/1.1\r\nConnection: keep\ralive\r\n\r\n"
    exp = expected(case)
    # 19 bytes of request line, "Connection: " up to 31, "keep" 31..35, the bare CR at 35.
    assert exp.error is not None
    assert (exp.error.code, exp.error.name, exp.error.offset) == (3, "HPE_LF_EXPECTED", 36)
    assert exp.error.reason == "Missing expected LF after header value"
    assert exp.failed
    assert exp.messages[0].headers == [(b"Connection", b"keep")]
    assert not exp.messages[0].headers_complete


def test_escaped_crlf_at_the_start_and_cr_without_lf() -> None:
    prefix = find("request/sample.md", "Prefix newline")
    assert prefix.input == b"\r\nGET /test HTTP/1.1\r\n\r\n"
    assert expected(prefix).messages[0].offset == 2
    no_lf = find("request/sample.md", "No LF after CR")
    # The block's only empty line is the one markdown-it's trailing newline leaves: one CRLF.
    assert no_lf.input == b"GET / HTTP/1.1\rLine: 1\r\n"
    err = expected(no_lf).error
    assert err is not None
    assert (err.code, err.name, err.offset) == (2, "HPE_STRICT", 15)


def test_octal_and_tab_escapes_and_error_offset() -> None:
    case = find("request/invalid.md", "Invalid header token #2")
    # `Foo\01\test`: \t is replaced before the octal escapes, so \01 is byte 1 and \t a TAB.
    assert case.input == b"GET / HTTP/1.1\r\nFoo\x01\test: Bar\r\n\r\n"
    exp = expected(case)
    assert exp.error is not None
    assert (exp.error.code, exp.error.name, exp.error.offset) == (10, "HPE_INVALID_HEADER_TOKEN", 19)
    assert case.input[exp.error.offset] == 1
    (msg,) = exp.messages
    assert msg.headers == []
    assert not msg.completed


def test_hex_escape_is_utf8_encoded() -> None:
    case = find("request/sample.md", "255 ASCII in header value")
    # \xff is U+00FF, which llhttp's runner passes as UTF-8: two bytes (the log says len=8 for ÿValue2).
    assert case.input == b"OPTIONS /url HTTP/1.1\r\nHeader1: Value1\r\nHeader2: \xc3\xbfValue2\r\n\r\n"
    (msg,) = expected(case).messages
    assert msg.headers[1] == (b"Header2", b"\xc3\xbfValue2")


def test_folded_header_values_arrive_in_pieces() -> None:
    case = find("request/sample.md", "Line folding in header value with CRLF")
    assert case.leniencies == {"lenient_headers"}
    assert case.input.startswith(b"GET / HTTP/1.1\r\nLine1:   abc\r\n\tdef\r\n ghi\r\n\t\tjkl\r\n  mno \r\n")
    (msg,) = expected(case).messages
    assert msg.header_pieces[0] == [b"abc", b"\tdef", b" ghi", b"\t\tjkl", b"  mno ", b"\t \tqrs"]
    assert msg.headers == [
        (b"Line1", b"abc\tdef ghi\t\tjkl  mno \t \tqrs"),
        (b"Line2", b"line2\t"),  # llhttp keeps trailing whitespace
        (b"Line3", b"line3"),
        (b"Line4", b""),
        (b"Connection", b"close"),
    ]
    assert not msg.keep_alive  # Connection: close (F_CONNECTION_CLOSE, flags=2)
    tokens = find("request/connection.md", "Parsing multiple tokens", "Multiple tokens with folding")
    (msg,) = expected(tokens).messages
    assert msg.headers[1] == (b"Connection", b"Something, Upgrade, ,Keep-Alive")
    assert msg.header_pieces[1] == [b"Something,", b" Upgrade, ,Keep-Alive"]


def test_escaped_newlines_join_lines() -> None:
    case = find("request/sample.md", "Line folding in header value with LF")
    assert case.input == (
        b"GET / HTTP/1.1\r\nLine1:   abc\n\tdef\n ghi\n\t\tjkl\n  mno \n\t \tqrs\nLine2: \t line2\t\n"
        b"Line3:\n line3\nLine4: \n \nConnection:\n close\n\n"
    )
    err = expected(case).error
    assert err is not None
    assert (err.name, err.offset) == ("HPE_CR_EXPECTED", 28)


def test_backslash_on_the_last_line_is_literal() -> None:
    # The block ends with `BODY\n\`: the trailing newline goes first, so that backslash escapes nothing.
    case = find("response/invalid.md", "Invalid space after start line", "Only LFs present (lenient)")
    assert case.input == b"HTTP/1.1 200 OK\nFoo: abc\nBar: def\n\nBODY\n\\"
    assert case.leniencies == frozenset(LENIENCIES)
    (msg,) = expected(case).messages
    assert msg.status == 200
    assert msg.reason == b"OK"
    assert msg.body == b"BODY\n\\"  # logged as "BODY", a separate lf line, then "\"
    assert not msg.completed  # the body runs until EOF, which this case does not send
    assert msg.needs_eof


def test_chunked_body_with_extensions_and_trailers() -> None:
    case = find("request/transfer-encoding.md", "`chunked`", "Parse chunks with lowercase size")
    head = b"PUT /url HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    assert case.input == head + b"a\r\n0123456789\r\n0\r\n\r\n"
    (msg,) = expected(case).messages
    assert msg.chunked
    assert msg.body == b"0123456789"
    assert msg.chunks == [Chunk(52, 10, [], completed=True), Chunk(67, 0, [], completed=True)]
    assert msg.trailers == []
    assert msg.completed
    assert msg.content_length is None

    lf_only = find("request/invalid.md", "Invalid space after start line", "Only LFs present (lenient)")
    (msg,) = expected(lf_only).messages
    assert msg.headers == [
        (b"Transfer-Encoding", b"chunked"),
        (b"Trailer", b"Baz"),
        (b"Foo", b"abc"),
        (b"Bar", b"def"),
    ]
    assert msg.body == b"ABCD"
    assert [(c.size, c.extensions) for c in msg.chunks] == [
        (1, []),
        (1, [(b"abc", None)]),
        (1, [(b"def", b"ghi")]),
        (1, [(b"jkl", b'"mno"')]),
        (0, []),
    ]
    assert msg.trailers == [(b"Baz", b"ghi")]
    assert msg.completed

    quoted = find("request/transfer-encoding.md", "`chunked`", "Chunk extensions quoting")
    (msg,) = expected(quoted).messages
    assert msg.chunks[0].extensions[0] == (b"ilovew3", b'"I \\"love\\"; \\\\extensions\\\\"')
    assert msg.body == b"hello world"
    assert not msg.completed  # the block stops after the last chunk's size line


def test_pipelined_messages() -> None:
    case = find("request/pipelining.md", "Should parse multiple events")
    exp = expected(case)
    assert [(m.method, m.offset, m.body, m.completed) for m in exp.messages] == [
        (b"POST", 0, b"AAA", True),
        (b"PUT", 46, b"BBBB", True),
        (b"PATCH", 92, b"CCCC", False),  # Content-Length: 5, but the block ends after CCCC
    ]
    assert exp.error is None


def test_keep_alive_and_closed_connection() -> None:
    case = find("request/connection.md", "`keep-alive`", "No restart when keep-alive is off (1.0)")
    assert case.input == b"PUT /url HTTP/1.0\r\n\r\nPUT /url HTTP/1.1\r\n\r\n"
    exp = expected(case)
    (msg,) = exp.messages
    assert msg.completed
    assert not msg.keep_alive
    assert exp.error is not None
    assert (exp.error.code, exp.error.name, exp.error.offset) == (5, "HPE_CLOSED_CONNECTION", 22)


def test_upgrade() -> None:
    case = find("request/connection.md", "`upgrade`", "Upgrade POST request")
    exp = expected(case)
    (msg,) = exp.messages
    assert msg.upgrade
    assert msg.body == b"sweet post body"
    assert msg.completed
    assert not exp.failed
    assert exp.upgrade_offset == 117
    # `sweet post body\` joins the next line: the upgraded protocol's bytes follow the body at once.
    assert case.input[117:] == b"Hot diggity dogg"

    h2 = expected(find("request/method.md", "PRI request HTTP2"))
    assert h2.error is not None
    assert h2.error.is_h2_preface
    assert h2.error.name == "HPE_PAUSED_H2_UPGRADE"
    assert h2.upgrade_offset is None


def test_finish_cases() -> None:
    safe = expected(find("request/finish.md", "It should be safe to finish after GET request"))
    assert safe.finish
    assert safe.finish_state == 0
    assert not safe.eof_error
    assert not safe.eof_completes_message
    unsafe = expected(find("request/finish.md", "It should be unsafe to finish after incomplete PUT request"))
    assert unsafe.eof_error
    assert unsafe.messages[0].headers == [(b"Content-Length", b"100")]
    inside = find("request/finish.md", "It should be unsafe to finish inside of the header")
    assert inside.input == b"PUT / HTTP/1.1\r\nContent-Leng"  # no newline after the last line
    assert expected(inside).messages[0].headers == [(b"Content-Leng", b"")]
    cb = find("response/finish.md", "It should be safe to finish with cb after empty response")
    response = expected(cb)
    assert response.eof_completes_message
    assert not response.messages[0].completed


def test_skip_body() -> None:
    case = find("response/content-length.md", "Content-Length reset when no body is received")
    exp = expected(case)
    assert exp.skip_body
    assert [(m.status, m.content_length, m.body_skipped, m.completed) for m in exp.messages] == [
        (200, 123, True, True),
        (200, 456, True, True),
    ]


def test_error_names() -> None:
    errors = [e.error for e in map(expected, load_cases()) if e.error is not None]
    assert {(e.code, e.name) for e in errors} <= set(ERROR_NAMES.items())
    assert Counter(e.name for e in errors if e.code in (3, 25, 30)) == {
        "HPE_LF_EXPECTED": 3,
        "HPE_CR_EXPECTED": 6,
        "HPE_UNEXPECTED_SPACE": 3,
    }
