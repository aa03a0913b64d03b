"""Reader for llhttp's markdown conformance corpus (test/request/*.md, test/response/*.md).

The corpus is read in place from the shared checkout (never copied into this project)::

    cases = load_cases()
    for case in cases:
        exp = expected(case)  # parser-independent description of llhttp's log for case.input

Every case is a heading of a markdown file with one ```http block (the input), one ```log block (what
llhttp's test fixture prints while parsing it) and a ``<!-- meta={...} -->`` comment before the http block.

How the http block becomes bytes follows llhttp's runner (test/md-test.ts) step by step, in its order:

1. the block's text as markdown-it hands it over (every line ends with ``\\n``) loses ONE final ``\\n``;
2. a backslash at the end of a line joins it to the next one (the newline is dropped) -- the last line
   has no newline any more after step 1, so a backslash there is a literal byte;
3. every remaining newline becomes CRLF: an empty line at the end of the block is the CRLF that ends the
   head, a block that ends right after a body line has no CRLF after that line;
4. ``\\r``, ``\\n``, ``\\t``, ``\\f`` (in that order), ``\\xHH...`` (greedy hex digits) and ``\\OOO``
   (1-3 octal digits) become the character with that code;
5. the string is passed to the fixture as UTF-8: a character from ``\\xff`` or ``\\325`` is TWO bytes
   (llhttp's logs count it so, e.g. ``len=8 span[header_value]="ÿValue2"``), and so is a literal
   non-ASCII character of the markdown file.

The log's quoted spans are raw bytes in the fixture's output, except that llhttp's runner turns ``\\t`` and
``\\f`` in the expected log into TAB and FF; a CR or LF inside a span is printed on a line of its own
(``len=1 span[body]=lf``); adjacent pieces of one span are merged by the fixture before comparing.
`expected` checks every span against ``case.input[off:off + len]``, so a wrong byte or offset in the
conversion fails loudly instead of silently shifting the expectations.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Literal

__all__ = [
    "CORPUS_DIR",
    "CORPUS_FILES",
    "ERROR_NAMES",
    "FLAG_CHUNKED",
    "FLAG_CONNECTION_CLOSE",
    "FLAG_CONNECTION_KEEP_ALIVE",
    "FLAG_CONNECTION_UPGRADE",
    "FLAG_CONTENT_LENGTH",
    "FLAG_SKIPBODY",
    "FLAG_TRAILING",
    "FLAG_TRANSFER_ENCODING",
    "FLAG_UPGRADE",
    "LENIENCIES",
    "METHODS",
    "Case",
    "CaseKind",
    "Chunk",
    "Expectation",
    "ExpectedError",
    "ExpectedMessage",
    "expected",
    "load_cases",
]

CaseKind = Literal["request", "response"]

#: The corpus: <monorepo>/../shared/corpora/llhttp/test (this file is packages/fasterapi-http1/tests/...).
CORPUS_DIR = Path(__file__).resolve().parents[3] / ".." / "shared" / "corpora" / "llhttp" / "test"

#: The files read, in llhttp's own order of test/md-test.ts (url.md is out of scope).
CORPUS_FILES = (
    "request/sample.md",
    "request/lenient-headers.md",
    "request/lenient-header-value-relaxed.md",
    "request/lenient-version.md",
    "request/method.md",
    "request/uri.md",
    "request/connection.md",
    "request/content-length.md",
    "request/transfer-encoding.md",
    "request/invalid.md",
    "request/finish.md",
    "request/pausing.md",
    "request/pipelining.md",
    "response/sample.md",
    "response/connection.md",
    "response/content-length.md",
    "response/transfer-encoding.md",
    "response/invalid.md",
    "response/finish.md",
    "response/lenient-version.md",
    "response/pausing.md",
    "response/pipelining.md",
)

#: The parser options of the spec (RequestParser/ResponseParser keywords), one per llhttp leniency.
LENIENCIES = (
    "lenient_headers",
    "lenient_chunked_length",
    "lenient_keep_alive",
    "lenient_transfer_encoding",
    "lenient_version",
    "lenient_data_after_close",
    "lenient_optional_lf_after_cr",
    "lenient_optional_cr_before_lf",
    "lenient_optional_crlf_after_chunk",
    "lenient_spaces_after_chunk_size",
    "lenient_header_value_relaxed",
)

#: llhttp_errno values (llhttp's src/llhttp/constants.ts, ERROR) -> llhttp_errno_name().
ERROR_NAMES: Mapping[int, str] = MappingProxyType(
    {
        0: "HPE_OK",
        1: "HPE_INTERNAL",
        2: "HPE_STRICT",
        3: "HPE_LF_EXPECTED",
        4: "HPE_UNEXPECTED_CONTENT_LENGTH",
        5: "HPE_CLOSED_CONNECTION",
        6: "HPE_INVALID_METHOD",
        7: "HPE_INVALID_URL",
        8: "HPE_INVALID_CONSTANT",
        9: "HPE_INVALID_VERSION",
        10: "HPE_INVALID_HEADER_TOKEN",
        11: "HPE_INVALID_CONTENT_LENGTH",
        12: "HPE_INVALID_CHUNK_SIZE",
        13: "HPE_INVALID_STATUS",
        14: "HPE_INVALID_EOF_STATE",
        15: "HPE_INVALID_TRANSFER_ENCODING",
        16: "HPE_CB_MESSAGE_BEGIN",
        17: "HPE_CB_HEADERS_COMPLETE",
        18: "HPE_CB_MESSAGE_COMPLETE",
        19: "HPE_CB_CHUNK_HEADER",
        20: "HPE_CB_CHUNK_COMPLETE",
        21: "HPE_PAUSED",
        22: "HPE_PAUSED_UPGRADE",
        23: "HPE_PAUSED_H2_UPGRADE",
        24: "HPE_USER",
        25: "HPE_CR_EXPECTED",
        26: "HPE_CB_URL_COMPLETE",
        27: "HPE_CB_STATUS_COMPLETE",
        28: "HPE_CB_HEADER_FIELD_COMPLETE",
        29: "HPE_CB_HEADER_VALUE_COMPLETE",
        30: "HPE_UNEXPECTED_SPACE",
        31: "HPE_CB_RESET",
        32: "HPE_CB_METHOD_COMPLETE",
        33: "HPE_CB_VERSION_COMPLETE",
        34: "HPE_CB_CHUNK_EXTENSION_NAME_COMPLETE",
        35: "HPE_CB_CHUNK_EXTENSION_VALUE_COMPLETE",
        38: "HPE_CB_PROTOCOL_COMPLETE",
    }
)

#: llhttp_method values, as printed by ``headers complete method=N``.
_METHOD_NAMES = (
    # 0-7
    *("DELETE", "GET", "HEAD", "POST", "PUT", "CONNECT", "OPTIONS", "TRACE"),
    # 8-19: WebDAV
    *("COPY", "LOCK", "MKCOL", "MOVE", "PROPFIND", "PROPPATCH", "SEARCH", "UNLOCK", "BIND", "REBIND"),
    *("UNBIND", "ACL"),
    # 20-23: subversion; 24-27: UPnP; 28-29: RFC 5789; 30: CalDAV; 31-32: RFC 2068; 33: icecast; 34: h2
    *("REPORT", "MKACTIVITY", "CHECKOUT", "MERGE", "M-SEARCH", "NOTIFY", "SUBSCRIBE", "UNSUBSCRIBE"),
    *("PATCH", "PURGE", "MKCALENDAR", "LINK", "UNLINK", "SOURCE", "PRI"),
    # 35-44: RTSP; 45: RAOP; 46: QUERY
    *("DESCRIBE", "ANNOUNCE", "SETUP", "PLAY", "PAUSE", "TEARDOWN", "GET_PARAMETER", "SET_PARAMETER"),
    *("REDIRECT", "RECORD", "FLUSH", "QUERY"),
)

#: llhttp_method values, as printed by ``headers complete method=N``.
METHODS: Mapping[int, bytes] = MappingProxyType({i: name.encode() for i, name in enumerate(_METHOD_NAMES)})

# llhttp's F_* flags, as printed (hex) by ``headers complete ... flags=X``.
FLAG_CONNECTION_KEEP_ALIVE = 0x1
FLAG_CONNECTION_CLOSE = 0x2
FLAG_CONNECTION_UPGRADE = 0x4
FLAG_CHUNKED = 0x8
FLAG_UPGRADE = 0x10
FLAG_CONTENT_LENGTH = 0x20
FLAG_SKIPBODY = 0x40
FLAG_TRAILING = 0x80
FLAG_TRANSFER_ENCODING = 0x200

_METHOD_CONNECT = 5
_ERROR_PAUSED_UPGRADE = 22
_ERROR_PAUSED_H2_UPGRADE = 23
_FINISH_SAFE_WITH_CB = 1
_FINISH_UNSAFE = 2


@dataclass(frozen=True, slots=True)
class Case:
    """One test of the corpus, with its input already turned into the exact bytes llhttp parses."""

    file: str
    """Path relative to CORPUS_DIR, e.g. ``"request/sample.md"``."""
    headings: tuple[str, ...]
    """Heading texts from the file's title down to the test's own heading (as markdown source)."""
    line: int
    """1-based line of the test's heading (llhttp names tests ``<heading> at <file>:<line>``)."""
    meta: Mapping[str, object] = field(hash=False)
    """The ``<!-- meta=... -->`` JSON: ``type``, and maybe ``noScan``, ``pause``, ``skipBody``, ``mode``."""
    http: str
    """The ```http block as written (after markdown parsing), for messages."""
    input: bytes
    """What llhttp is fed."""
    log: tuple[str, ...]
    """Expected fixture output, one line each, after the runner's own ``\\t``/``\\f`` substitution."""

    @property
    def id(self) -> str:
        """A unique, stable test id: ``request/method.md:273 LINK request``."""
        return f"{self.file}:{self.line} {' > '.join(self.headings[1:])}"

    @property
    def type(self) -> str:
        """The meta ``type``: ``request``, ``response-lenient-all``, ``request-finish``, ..."""
        t = self.meta["type"]
        assert isinstance(t, str)
        return t

    @property
    def kind(self) -> CaseKind:
        return "request" if self.type.startswith("request") else "response"

    @property
    def leniencies(self) -> frozenset[str]:
        """The spec's parser options (``lenient_*`` keywords) that must be True for this case."""
        return _leniencies(self.type)

    @property
    def finish(self) -> bool:
        """The input ends with EOF: call ``feed_eof()`` after feeding it."""
        return self.type.endswith("-finish")

    @property
    def no_scan(self) -> bool:
        """llhttp feeds this input only whole (it is otherwise also fed in pieces of every size)."""
        return self.meta.get("noScan") is True

    @property
    def pause(self) -> str | None:
        """The llhttp callback that pauses the parser (``"on_message_begin"``, ...); results are unchanged."""
        p = self.meta.get("pause")
        return p if isinstance(p, str) else None

    @property
    def skip_body(self) -> bool:
        """llhttp's on_headers_complete returns 1 (skip the body), as for the response to a HEAD request."""
        return self.meta.get("skipBody") is True


@dataclass(frozen=True, slots=True)
class Chunk:
    """One chunk header of a chunked body (the last chunk has size 0)."""

    offset: int
    """Where llhttp reported the chunk header (just after its line)."""
    size: int
    extensions: list[tuple[bytes, bytes | None]]
    """Extension names and values as on the wire (a quoted value keeps its quotes and backslashes)."""
    completed: bool
    """``chunk complete`` was reported (the chunk's data and CRLF, or the trailers, were read)."""


@dataclass(frozen=True, slots=True)
class ExpectedMessage:
    """One message as llhttp reported it; fields that llhttp never reported are None."""

    offset: int
    """Where the message began (after any CRLFs that llhttp skips between messages)."""
    method: bytes | None
    """Request method as sent (llhttp's method span)."""
    url: bytes | None
    """Request target as sent."""
    protocol: bytes | None
    """``b"HTTP"``, ``b"RTSP"`` or ``b"ICE"``; None for an HTTP/0.9 request line or before it was read."""
    version: bytes | None
    """The version as sent after ``HTTP/``, e.g. ``b"1.1"`` (the spec's ``http_version``)."""
    reason: bytes | None
    """Response reason phrase as sent (llhttp's status span); None when absent or not reached."""
    headers: list[tuple[bytes, bytes]]
    """Wire order, names as sent; a value is its spans concatenated (llhttp keeps trailing whitespace and
    drops the CRLF of an obs-fold line, but keeps the fold's leading whitespace)."""
    header_pieces: list[list[bytes]]
    """For each header, the separate value spans (more than one: an obs-fold continuation)."""
    headers_complete: bool
    method_code: int | None
    """llhttp's method number (``headers complete method=N``); requests only."""
    status: int | None
    """Status code (``headers complete status=N``); responses only, None until the head is complete."""
    http_major: int | None
    http_minor: int | None
    """Version numbers llhttp used (``v=1/1``; ``0/9`` for an HTTP/0.9 request line)."""
    flags: int
    """llhttp's F_* flags when the head was complete (0 before); ``FLAG_SKIPBODY`` added on ``skip body``."""
    llhttp_content_length: int | None
    """The raw ``content_length=N`` at head completion (0 when there is no Content-Length)."""
    body: bytes
    """All body bytes, chunk framing removed."""
    chunks: list[Chunk]
    trailers: list[tuple[bytes, bytes]]
    completed: bool
    """``message complete`` was reported."""
    body_skipped: bool
    """``skip body`` was reported (meta skipBody)."""

    @property
    def content_length(self) -> int | None:
        """The Content-Length llhttp accepted, None without one (the spec's ``content_length``)."""
        if self.flags & FLAG_CONTENT_LENGTH:
            return self.llhttp_content_length
        return None

    @property
    def chunked(self) -> bool:
        """The body is chunked: llhttp's F_CHUNKED flag, or chunk headers were reported."""
        return bool(self.flags & FLAG_CHUNKED) or bool(self.chunks)

    @property
    def upgrade(self) -> bool:
        """llhttp's ``parser->upgrade`` as set before on_headers_complete: Connection: upgrade plus an
        Upgrade header (responses: only with status 101), or a CONNECT request."""
        if not self.headers_complete:
            return False
        if self.flags & FLAG_UPGRADE and self.flags & FLAG_CONNECTION_UPGRADE:
            return self.method_code is not None or self.status == 101
        return self.method_code == _METHOD_CONNECT

    @property
    def needs_eof(self) -> bool:
        """llhttp_message_needs_eof(): a response whose body is delimited by the connection's close."""
        if self.method_code is not None or self.status is None:
            return False
        if self.status // 100 == 1 or self.status in (204, 304) or self.flags & FLAG_SKIPBODY:
            return False
        if self.flags & FLAG_TRANSFER_ENCODING and not self.flags & FLAG_CHUNKED:
            return True
        return not self.flags & (FLAG_CHUNKED | FLAG_CONTENT_LENGTH)

    @property
    def keep_alive(self) -> bool:
        """llhttp_should_keep_alive() for this message, computed from the logged version and flags."""
        if (self.http_major or 0) > 0 and (self.http_minor or 0) > 0:
            if self.flags & FLAG_CONNECTION_CLOSE:
                return False
        elif not self.flags & FLAG_CONNECTION_KEEP_ALIVE:
            return False
        return not self.needs_eof


@dataclass(frozen=True, slots=True)
class ExpectedError:
    """The ``error code=N reason="..."`` line that ends a log."""

    code: int
    name: str
    """llhttp_errno_name(), e.g. ``"HPE_INVALID_HEADER_TOKEN"``."""
    reason: str
    offset: int
    """llhttp's error position: the byte being parsed when it stopped."""

    @property
    def is_upgrade(self) -> bool:
        """HPE_PAUSED_UPGRADE: no error; the message is complete and input[offset:] is another protocol."""
        return self.code == _ERROR_PAUSED_UPGRADE

    @property
    def is_h2_preface(self) -> bool:
        """HPE_PAUSED_H2_UPGRADE: ``PRI * HTTP/...`` then ``SM``, the HTTP/2 connection preface."""
        return self.code == _ERROR_PAUSED_H2_UPGRADE


@dataclass(frozen=True, slots=True)
class Expectation:
    """Parser-independent description of what llhttp reported for a case."""

    kind: CaseKind
    leniencies: frozenset[str]
    """Spec option names (``lenient_headers``, ...) to set to True."""
    finish: bool
    """Feed the input, then ``feed_eof()``."""
    messages: list[ExpectedMessage]
    error: ExpectedError | None
    """How the log ends, if with ``error ...`` (HPE_PAUSED_UPGRADE/H2_UPGRADE included, see their flags)."""
    finish_state: int | None
    """Finish cases: llhttp's ``parser->finish`` after the input -- 0: EOF is fine, 1: EOF completes the
    last message (body delimited by close), 2: EOF in the middle of a message is an error."""
    pauses: list[int]
    """Offsets where the test fixture's pausing callback paused (meta pause); no effect on the results."""
    skip_body: bool
    """meta skipBody: every message is parsed as if its body were absent (e.g. the response to HEAD)."""

    @property
    def failed(self) -> bool:
        """The input is rejected (an llhttp error other than the upgrade pause)."""
        return self.error is not None and not self.error.is_upgrade

    @property
    def upgrade_offset(self) -> int | None:
        """Where the bytes of the upgraded protocol start (the spec's ``Upgrade(data=input[offset:])``)."""
        if self.error is not None and self.error.is_upgrade:
            return self.error.offset
        return None

    @property
    def eof_completes_message(self) -> bool:
        return self.finish and self.finish_state == _FINISH_SAFE_WITH_CB

    @property
    def eof_error(self) -> bool:
        """``feed_eof()`` must raise (llhttp_finish() returns HPE_INVALID_EOF_STATE)."""
        return self.finish and self.finish_state == _FINISH_UNSAFE


# --------------------------------------------------------------------------------------------------------
# Leniency names


def _leniencies(case_type: str) -> frozenset[str]:
    kind, _, rest = case_type.partition("-")
    if kind not in ("request", "response"):
        raise ValueError(f"unknown case type {case_type!r}")
    if rest in ("", "only", "finish"):
        return frozenset()
    if not rest.startswith("lenient-"):
        raise ValueError(f"unknown case type {case_type!r}")
    name = rest.removeprefix("lenient-")
    if name == "all":
        return frozenset(LENIENCIES)
    option = "lenient_" + name.replace("-", "_")
    if option not in LENIENCIES:
        raise ValueError(f"unknown leniency in case type {case_type!r}")
    return frozenset({option})


# --------------------------------------------------------------------------------------------------------
# Markdown: the subset of markdown-it's block rules that mdgator's test structure depends on


@dataclass(slots=True)
class _Heading:
    level: int
    line: int  # 0-based, like markdown-it's token.map[0]
    name: str
    parent: _Heading | None
    fences: dict[str, list[str]] = field(default_factory=dict)
    metas: dict[str, list[dict[str, object]]] = field(default_factory=dict)


_FENCE_OPEN = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_HTML_COMMENT = re.compile(r"^ {0,3}<!--")
_META = re.compile(r"<!--\s+meta=(.*)\s+-->")


def _parse_markdown(text: str) -> list[_Heading]:
    """Headings in document order, each with its fenced blocks and their metadata (as mdgator groups them)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").replace("\0", "\ufffd").split("\n")
    headings: list[_Heading] = []
    stack: list[_Heading] = []
    meta: dict[str, object] | None = None
    paragraph: list[tuple[int, str]] = []

    def open_heading(level: int, line: int, name: str) -> None:
        nonlocal meta
        meta = None
        while stack and stack[-1].level >= level:
            stack.pop()
        heading = _Heading(level, line, name, stack[-1] if stack else None)
        headings.append(heading)
        stack.append(heading)

    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE_OPEN.match(line)
        if fence and not (fence[2][0] == "`" and "`" in fence[3]):
            paragraph = []
            indent, marker, info = len(fence[1]), fence[2], fence[3].strip()
            closing = re.compile(rf"^ {{0,3}}{re.escape(marker[0])}{{{len(marker)},}}[ \t]*$")
            body: list[str] = []
            i += 1
            while i < len(lines) and not closing.match(lines[i]):
                stripped = len(lines[i]) - len(lines[i].lstrip(" "))
                body.append(lines[i][min(indent, stripped) :])
                i += 1
            i += 1  # the closing fence (or the end of the document)
            if len(stack) > 1:
                current = stack[-1]
                current.fences.setdefault(info, []).append("".join(f"{b}\n" for b in body))
                if meta is not None:
                    current.metas.setdefault(info, []).append(meta)
                    meta = None
            continue
        atx = _ATX.match(line)
        if atx:
            paragraph = []
            open_heading(len(atx[1]), i, (atx[2] or "").strip())
        elif paragraph and _SETEXT.match(line):
            level = 1 if line.strip()[0] == "=" else 2
            open_heading(level, paragraph[0][0], "\n".join(p.strip() for _, p in paragraph).strip())
            paragraph = []
        elif _HTML_COMMENT.match(line):
            paragraph = []
            block = [line]
            while "-->" not in block[-1] and i + 1 < len(lines):
                i += 1
                block.append(lines[i])
            found = _META.search("\n".join(block))
            if found and stack:
                try:
                    parsed = json.loads(found[1])
                except ValueError as e:
                    raise ValueError(f"line {i + 1}: bad JSON metadata {found[1]!r}") from e
                if not isinstance(parsed, dict):
                    raise ValueError(f"line {i + 1}: metadata is not an object: {found[1]!r}")
                meta = parsed
        elif not line.strip():
            paragraph = []
        elif paragraph or not line.startswith("    "):
            paragraph.append((i, line))
        i += 1
    return headings


# --------------------------------------------------------------------------------------------------------
# The http block -> bytes, and the log block -> lines (llhttp's test/md-test.ts conventions)


def _http_to_bytes(block: str) -> bytes:
    s = block.removesuffix("\n")
    s = re.sub(r"\\(\r\n|\r|\n)", "", s)
    s = re.sub(r"\r\n|\r|\n", "\r\n", s)
    s = s.replace("\\r", "\r").replace("\\n", "\n").replace("\\t", "\t").replace("\\f", "\f")
    # String.fromCharCode keeps the low 16 bits.
    s = re.sub(r"\\x([0-9a-fA-F]+)", lambda m: chr(int(m[1], 16) & 0xFFFF), s)
    s = re.sub(r"\\([0-7]{1,3})", lambda m: chr(int(m[1], 8)), s)
    if re.search(r"\$\{(.+?)\}", s):
        raise ValueError("inline JavaScript (${...}) in an http block is not supported")
    return s.encode("utf-8")


def _log_lines(block: str) -> tuple[str, ...]:
    text = block.replace("\\t", "\t").replace("\\f", "\f")
    lines = text.split("\n")[:-1]
    for line in lines:
        if line.startswith("/"):
            raise ValueError(f"regular-expression log lines are not supported: {line!r}")
    return tuple(lines)


def _load_file(rel: str) -> list[Case]:
    text = (CORPUS_DIR / rel).read_text(encoding="utf-8")
    cases: list[Case] = []
    for heading in _parse_markdown(text):
        if not heading.fences:
            continue
        where = f"{rel}:{heading.line + 1}"
        http = heading.fences.get("http", [])
        logs = heading.fences.get("log", [])
        metas = heading.metas.get("http", [])
        if len(http) != 1 or len(logs) != 1:
            raise ValueError(f"{where}: expected one http and one log block, got {sorted(heading.fences)}")
        if len(metas) != 1 or not isinstance(metas[0].get("type"), str):
            raise ValueError(f"{where}: the http block has no metadata with a type")
        meta = metas[0]
        path: list[str] = []
        h: _Heading | None = heading
        while h is not None:
            path.append(h.name)
            h = h.parent
        case = Case(
            file=rel,
            headings=tuple(reversed(path)),
            line=heading.line + 1,
            meta=MappingProxyType(dict(meta)),
            http=http[0],
            input=_http_to_bytes(http[0]),
            log=_log_lines(logs[0]),
        )
        _leniencies(case.type)  # rejects unknown types
        cases.append(case)
    return cases


@cache
def _all_cases() -> tuple[Case, ...]:
    return tuple(case for rel in CORPUS_FILES for case in _load_file(rel))


def load_cases() -> list[Case]:
    """Every case of the request/ and response/ files, in file order."""
    present = {p.relative_to(CORPUS_DIR).as_posix() for p in CORPUS_DIR.glob("re*/*.md")}
    missing = present - set(CORPUS_FILES)
    if missing:
        raise ValueError(f"corpus files not read by this reader: {sorted(missing)}")
    return list(_all_cases())


# --------------------------------------------------------------------------------------------------------
# The log -> Expectation

_LINE = re.compile(r"^off=(\d+|NULL) (.*)$")
_SPAN = re.compile(r'^len=(\d+) span\[([^\]]+)\]="(.*)"$')
_SPAN_CRLF = re.compile(r"^len=1 span\[([^\]]+)\]=(cr|lf)$")
_HEADERS_COMPLETE = re.compile(
    r"^headers complete (method|status)=(\d+) v=(\d+)/(\d+) flags=([0-9a-f]+) content_length=(\d+)$"
)
_CHUNK_HEADER = re.compile(r"^chunk header len=(-?\d+)$")
_ERROR = re.compile(r'^error code=(\d+) reason="(.*)"$')
_FINISH = re.compile(r"^finish=(\d)$")
_IGNORED = {
    "method complete",
    "url complete",
    "protocol complete",
    "version complete",
    "status complete",
    "header_value complete",
    "chunk_extension_value complete",
    "reset",
}


@dataclass(slots=True)
class _MessageBuilder:
    offset: int
    method: bytes | None = None
    url: bytes | None = None
    protocol: bytes | None = None
    version: bytes | None = None
    reason: bytes | None = None
    headers: list[list[bytes]] = field(default_factory=list)  # [name, piece, piece, ...]
    trailers: list[list[bytes]] = field(default_factory=list)
    in_field: bool = False
    headers_complete: bool = False
    method_code: int | None = None
    status: int | None = None
    http_major: int | None = None
    http_minor: int | None = None
    flags: int = 0
    content_length: int | None = None
    body: bytearray = field(default_factory=bytearray)
    chunks: list[Chunk] = field(default_factory=list)
    extensions: list[list[bytes | None]] = field(default_factory=list)  # [name, value] pending
    in_extension_name: bool = False
    completed: bool = False
    body_skipped: bool = False

    def span(self, name: str, data: bytes, where: str) -> None:
        if name in ("method", "url", "protocol", "version"):
            setattr(self, name, (getattr(self, name) or b"") + data)
        elif name == "status":
            self.reason = (self.reason or b"") + data
        elif name == "header_field":
            target = self.trailers if self.headers_complete else self.headers
            if not self.in_field:
                target.append([b""])
                self.in_field = True
            target[-1][0] += data
        elif name == "header_value":
            target = self.trailers if self.headers_complete else self.headers
            if not target:
                raise ValueError(f"{where}: header value before any header name")
            self.in_field = False
            target[-1].append(data)
        elif name == "body":
            self.body += data
        elif name == "chunk_extension_name":
            if not self.in_extension_name:
                self.extensions.append([b"", None])
                self.in_extension_name = True
            self.extensions[-1][0] = (self.extensions[-1][0] or b"") + data
        elif name == "chunk_extension_value":
            if not self.extensions:
                raise ValueError(f"{where}: chunk extension value before a name")
            self.in_extension_name = False
            self.extensions[-1][1] = (self.extensions[-1][1] or b"") + data
        else:
            raise ValueError(f"{where}: unknown span {name!r}")

    def build(self) -> ExpectedMessage:
        def pairs(items: list[list[bytes]]) -> list[tuple[bytes, bytes]]:
            return [(item[0], b"".join(item[1:])) for item in items]

        return ExpectedMessage(
            offset=self.offset,
            method=self.method,
            url=self.url,
            protocol=self.protocol,
            version=self.version,
            reason=self.reason,
            headers=pairs(self.headers),
            header_pieces=[item[1:] for item in self.headers],
            headers_complete=self.headers_complete,
            method_code=self.method_code,
            status=self.status,
            http_major=self.http_major,
            http_minor=self.http_minor,
            flags=self.flags,
            llhttp_content_length=self.content_length,
            body=bytes(self.body),
            chunks=list(self.chunks),
            trailers=pairs(self.trailers),
            completed=self.completed,
            body_skipped=self.body_skipped,
        )


def expected(case: Case) -> Expectation:
    """The case's log as messages, error and EOF outcome; raises ValueError on anything unrecognised and
    when a span of the log is not the input's bytes at the span's offset."""
    messages: list[_MessageBuilder] = []
    error: ExpectedError | None = None
    finish_state: int | None = None
    pauses: list[int] = []
    data = case.input

    for number, line in enumerate(case.log, 1):
        where = f"{case.file}:{case.line} log line {number}"
        if error is not None or finish_state is not None:
            raise ValueError(f"{where}: a line after the error/finish line: {line!r}")
        m = _LINE.match(line)
        if not m:
            raise ValueError(f"{where}: unrecognised log line {line!r}")
        if m[1] == "NULL":
            fin = _FINISH.match(m[2])
            if not fin or not case.finish:
                raise ValueError(f"{where}: unrecognised log line {line!r}")
            finish_state = int(fin[1])
            continue
        off, event = int(m[1]), m[2]
        if off > len(data):
            raise ValueError(f"{where}: offset {off} is past the input's {len(data)} bytes")
        cur = messages[-1] if messages else None

        if event == "message begin":
            messages.append(_MessageBuilder(off))
            continue
        if event == "pause":
            pauses.append(off)
            continue
        if (err := _ERROR.match(event)) is not None:
            code = int(err[1])
            error = ExpectedError(code, ERROR_NAMES.get(code, f"HPE_{code}"), err[2], off)
            continue
        if cur is None:
            raise ValueError(f"{where}: {event!r} before any message begin")

        span = _SPAN.match(event)
        crlf = _SPAN_CRLF.match(event)
        if span is not None or crlf is not None:
            if span is not None:
                name, piece = span[2], span[3].encode("utf-8")
                if len(piece) != int(span[1]):
                    raise ValueError(f"{where}: span length {span[1]} but {len(piece)} bytes: {line!r}")
            else:
                assert crlf is not None
                name, piece = crlf[1], b"\r" if crlf[2] == "cr" else b"\n"
            if data[off : off + len(piece)] != piece:
                got = data[off : off + len(piece)]
                raise ValueError(f"{where}: span {piece!r} but the input has {got!r} at {off}")
            cur.span(name, piece, where)
        elif (hc := _HEADERS_COMPLETE.match(event)) is not None:
            if (hc[1] == "method") != (case.kind == "request"):
                raise ValueError(f"{where}: {hc[1]}= in a {case.kind} case")
            cur.headers_complete = True
            cur.in_field = False
            if hc[1] == "method":
                cur.method_code = int(hc[2])
            else:
                cur.status = int(hc[2])
            cur.http_major, cur.http_minor = int(hc[3]), int(hc[4])
            cur.flags = int(hc[5], 16)
            cur.content_length = int(hc[6])
        elif (ch := _CHUNK_HEADER.match(event)) is not None:
            exts = [(n or b"", v) for n, v in cur.extensions]
            cur.chunks.append(Chunk(offset=off, size=int(ch[1]), extensions=exts, completed=False))
            cur.extensions = []
            cur.in_extension_name = False
        elif event == "chunk complete":
            if not cur.chunks:
                raise ValueError(f"{where}: chunk complete without a chunk header")
            last = cur.chunks[-1]
            cur.chunks[-1] = Chunk(last.offset, last.size, last.extensions, completed=True)
        elif event == "header_field complete":
            cur.in_field = False
        elif event == "chunk_extension_name complete":
            cur.in_extension_name = False
        elif event == "message complete":
            cur.completed = True
        elif event == "skip body":
            cur.body_skipped = True
            cur.flags |= FLAG_SKIPBODY
        elif event not in _IGNORED:
            raise ValueError(f"{where}: unrecognised log line {line!r}")

    if case.finish and finish_state is None and error is None:
        raise ValueError(f"{case.file}:{case.line}: a finish case whose log has no finish line")
    return Expectation(
        kind=case.kind,
        leniencies=case.leniencies,
        finish=case.finish,
        messages=[m.build() for m in messages],
        error=error,
        finish_state=finish_state,
        pauses=pauses,
        skip_body=case.skip_body,
    )
