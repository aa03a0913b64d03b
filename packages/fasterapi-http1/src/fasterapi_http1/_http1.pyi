"""C++ core of fasterapi_http1 (use the fasterapi_http1 package)"""

from collections.abc import Iterable


class Request:
    """The head of a request."""

    @property
    def http_version(self) -> bytes:
        """b'1.1' or b'1.0'."""

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        """
        The field lines in wire order: names as sent, values without surrounding whitespace.
        """

    @property
    def keep_alive(self) -> bool:
        """Whether the connection stays open after this message."""

    @property
    def content_length(self) -> int | None: ...

    @property
    def chunked(self) -> bool: ...

    @property
    def upgrade(self) -> bool:
        """
        Whether the connection leaves HTTP/1 after this message (Upgrade, CONNECT, 101).
        """

    @property
    def method(self) -> bytes: ...

    @property
    def target(self) -> bytes:
        """The request-target as sent."""

    @property
    def expect_continue(self) -> bool:
        """Whether the client sent 'Expect: 100-continue'."""

    def __eq__(self, other: object, /) -> bool: ...

    def __repr__(self) -> str: ...

    def __hash__(self) -> int: ...

class Response:
    """The head of a response."""

    @property
    def http_version(self) -> bytes:
        """b'1.1' or b'1.0'."""

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        """
        The field lines in wire order: names as sent, values without surrounding whitespace.
        """

    @property
    def keep_alive(self) -> bool:
        """Whether the connection stays open after this message."""

    @property
    def content_length(self) -> int | None: ...

    @property
    def chunked(self) -> bool: ...

    @property
    def upgrade(self) -> bool:
        """
        Whether the connection leaves HTTP/1 after this message (Upgrade, CONNECT, 101).
        """

    @property
    def status_code(self) -> int: ...

    @property
    def reason(self) -> bytes: ...

    def __eq__(self, other: object, /) -> bool: ...

    def __repr__(self) -> str: ...

    def __hash__(self) -> int: ...

class Data:
    """Body bytes of a message (chunk framing removed)."""

    def __init__(self, data: bytes) -> None: ...

    @property
    def data(self) -> bytes: ...

    def __eq__(self, other: object, /) -> bool: ...

    def __hash__(self) -> int: ...

    def __repr__(self) -> str: ...

class EndOfMessage:
    """The end of a message, with its trailer fields."""

    def __init__(self, trailers: Iterable[tuple[bytes, bytes]] = ()) -> None: ...

    @property
    def trailers(self) -> list[tuple[bytes, bytes]]: ...

    def __eq__(self, other: object, /) -> bool: ...

    def __hash__(self) -> int: ...

    def __repr__(self) -> str: ...

class Upgrade:
    """The connection left HTTP/1: the bytes that followed the message."""

    def __init__(self, data: bytes) -> None: ...

    @property
    def data(self) -> bytes: ...

    def __eq__(self, other: object, /) -> bool: ...

    def __hash__(self) -> int: ...

    def __repr__(self) -> str: ...

class Parser:
    """What the request and response parsers share."""

    def feed(self, data: bytes | bytearray | memoryview) -> list[Request | Response | Data | EndOfMessage | Upgrade]:
        """The events that the bytes received so far complete, in order."""

    def feed_eof(self) -> list[Request | Response | Data | EndOfMessage | Upgrade]:
        """
        The peer closed: ends a body delimited by the close; raises for a message cut short.
        """

    @property
    def buffered(self) -> int:
        """Bytes received and not consumed yet."""

    @property
    def offset(self) -> int:
        """Bytes consumed so far."""

    @property
    def idle(self) -> bool:
        """Whether the parser is between messages with nothing buffered."""

class RequestParser(Parser):
    """Parses requests (server side)."""

    def __init__(self, *, max_request_line: int = 8190, max_header_line: int = 8190, max_header_bytes: int = 65536, max_headers: int = 100, max_body: int | None = None, max_chunk_size_digits: int = 16, lenient_headers: bool = False, lenient_chunked_length: bool = False, lenient_keep_alive: bool = False, lenient_transfer_encoding: bool = False, lenient_version: bool = False, lenient_data_after_close: bool = False, lenient_optional_lf_after_cr: bool = False, lenient_optional_cr_before_lf: bool = False, lenient_optional_crlf_after_chunk: bool = False, lenient_spaces_after_chunk_size: bool = False, lenient_header_value_relaxed: bool = False, lenient_obs_fold: bool = False) -> None: ...

class ResponseParser(Parser):
    """Parses responses (client side)."""

    def __init__(self, request_method: bytes = b'GET', *, max_request_line: int = 8190, max_header_line: int = 8190, max_header_bytes: int = 65536, max_headers: int = 100, max_body: int | None = None, max_chunk_size_digits: int = 16, lenient_headers: bool = False, lenient_chunked_length: bool = False, lenient_keep_alive: bool = False, lenient_transfer_encoding: bool = False, lenient_version: bool = False, lenient_data_after_close: bool = False, lenient_optional_lf_after_cr: bool = False, lenient_optional_cr_before_lf: bool = False, lenient_optional_crlf_after_chunk: bool = False, lenient_spaces_after_chunk_size: bool = False, lenient_header_value_relaxed: bool = False, lenient_obs_fold: bool = False) -> None: ...

    @property
    def request_method(self) -> bytes:
        """
        The method of the request the next responses answer (HEAD: no body; CONNECT: a tunnel),
        for responses that no expect_response_to() call names.
        """

    @request_method.setter
    def request_method(self, arg: bytes, /) -> None: ...

    def expect_response_to(self, method: bytes) -> None:
        """
        Queues the method of a request sent on this connection: pipelined responses are read in order,
        each final response taking the oldest queued method.
        """

    @property
    def pending(self) -> int:
        """Requests queued by expect_response_to() and not answered yet."""

def parse_request(data: bytes | bytearray | memoryview) -> tuple[Request, int] | None:
    """
    A request head at the start of `data` and the bytes it takes; None while it is incomplete.
    """

def serialize_response(status_code: int, headers: Iterable[tuple[bytes | str, bytes | str]], body: bytes | None = None, *, reason: bytes | str | None = None, http_version: bytes = b'1.1') -> bytes:
    """
    A response head (and body: Content-Length is added unless a framing header is given).
    """

def serialize_request(method: bytes | str, target: bytes | str, headers: Iterable[tuple[bytes | str, bytes | str]], body: bytes | None = None, *, http_version: bytes = b'1.1') -> bytes:
    """
    A request head (and body: Content-Length is added unless a framing header is given).
    """

def encode_chunk(data: bytes | bytearray | memoryview) -> bytes:
    """
    One chunk of a chunked body (nothing for empty data, which would end the body).
    """

def encode_last_chunk(trailers: Iterable[tuple[bytes | str, bytes | str]] = ()) -> bytes:
    """The last chunk and the trailer section that end a chunked body."""

def simd_implementation() -> str:
    """
    The vector instructions the scans use on this CPU: 'avx2', 'sse2' or 'scalar' (FASTERAPI_HTTP1_SIMD=sse2
    in the environment keeps an AVX2 CPU to the x86-64 baseline).
    """
