"""Parsing of url-encoded and multipart form bodies, with python-multipart (imported lazily)."""

from __future__ import annotations

import codecs
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from tempfile import SpooledTemporaryFile
from types import ModuleType
from typing import Any
from urllib.parse import unquote_plus

from .datastructures import FormData, Headers, UploadFile

__all__ = ["FormParser", "MultiPartException", "MultiPartParser", "load_multipart", "parse_options_header"]

_MISSING_MULTIPART = (
    'Form data requires "python-multipart" to be installed. \n'
    'You can install "python-multipart" with: \n\n'
    "pip install python-multipart\n"
)

_multipart: ModuleType | None = None


def load_multipart() -> ModuleType:
    """The `python_multipart` module; a clear `RuntimeError` if it is not installed."""
    global _multipart  # noqa: PLW0603
    if _multipart is None:
        try:
            import python_multipart  # noqa: PLC0415
            import python_multipart.exceptions  # noqa: PLC0415
            import python_multipart.multipart  # noqa: PLC0415
        except ModuleNotFoundError:
            raise RuntimeError(_MISSING_MULTIPART) from None
        _multipart = python_multipart
    return _multipart


def parse_options_header(value: str | bytes | None) -> tuple[bytes, dict[bytes, bytes]]:
    """Splits a header like Content-Type into its lowercase value and its parameters."""
    result: tuple[bytes, dict[bytes, bytes]] = load_multipart().multipart.parse_options_header(value)
    return result


class MultiPartException(Exception):
    """A form that cannot be parsed or is over a limit; `message` says why."""

    def __init__(self, message: str) -> None:
        self.message = message


def _decode(data: bytes | bytearray, codec: str) -> str:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return data.decode("latin-1")


class FormParser:
    """An `application/x-www-form-urlencoded` body."""

    def __init__(
        self,
        headers: Headers,
        stream: AsyncGenerator[bytes, None],
        *,
        max_fields: int | float = 1000,
        max_part_size: int = 1024 * 1024,
    ) -> None:
        self.headers = headers
        self.stream = stream
        self.max_fields = max_fields
        self.max_part_size = max_part_size
        self._field_size = 0
        self._fields = 0
        self._name = bytearray()
        self._value = bytearray()
        self._items: list[tuple[str, str | UploadFile]] = []

    def _too_big(self) -> MultiPartException:
        return MultiPartException(f"Field exceeded maximum size of {int(self.max_part_size / 1024)}KB.")

    def on_field_start(self) -> None:
        self._field_size = 0
        self._name = bytearray()
        self._value = bytearray()

    def on_field_name(self, data: bytes, start: int, end: int) -> None:
        self._field_size += end - start
        if self._field_size > self.max_part_size:
            raise self._too_big()
        self._name += data[start:end]

    def on_field_data(self, data: bytes, start: int, end: int) -> None:
        self._field_size += end - start
        if self._field_size > self.max_part_size:
            raise self._too_big()
        self._value += data[start:end]

    def on_field_end(self) -> None:
        self._fields += 1
        if self._fields > self.max_fields:
            raise MultiPartException(f"Too many fields. Maximum number of fields is {self.max_fields}.")
        self._items.append(
            (unquote_plus(self._name.decode("latin-1")), unquote_plus(self._value.decode("latin-1")))
        )

    async def parse(self) -> FormData:
        multipart = load_multipart()
        callbacks: Any = {
            "on_field_start": self.on_field_start,
            "on_field_name": self.on_field_name,
            "on_field_data": self.on_field_data,
            "on_field_end": self.on_field_end,
        }
        parser = multipart.QuerystringParser(callbacks)
        async for chunk in self.stream:
            parser.write(chunk)
        parser.finalize()
        return FormData(self._items)


@dataclass
class _Part:
    content_disposition: bytes | None = None
    field_name: str = ""
    data: bytearray = field(default_factory=bytearray)
    file: UploadFile | None = None
    item_headers: list[tuple[bytes, bytes]] = field(default_factory=list)


class MultiPartParser:
    """A `multipart/form-data` body. Files are spooled to disk past `spool_max_size` bytes."""

    spool_max_size = 1024 * 1024
    """How much of a file is kept in memory before it is written to a temporary file."""
    max_part_size = 1024 * 1024
    """The largest non-file part, in bytes."""

    def __init__(
        self,
        headers: Headers,
        stream: AsyncGenerator[bytes, None],
        *,
        max_files: int | float = 1000,
        max_fields: int | float = 1000,
        max_part_size: int = 1024 * 1024,
    ) -> None:
        self.headers = headers
        self.stream = stream
        self.max_files = max_files
        self.max_fields = max_fields
        self.max_part_size = max_part_size
        self.items: list[tuple[str, str | UploadFile]] = []
        self._files = 0
        self._fields = 0
        self._header_name = b""
        self._header_value = b""
        self._part = _Part()
        self._charset = ""
        self._to_write: list[tuple[_Part, bytes]] = []
        self._to_finish: list[_Part] = []
        self._to_close_on_error: list[SpooledTemporaryFile[bytes]] = []

    def on_part_begin(self) -> None:
        self._part = _Part()

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._part.file is None:
            if len(self._part.data) + len(chunk) > self.max_part_size:
                raise MultiPartException(f"Part exceeded maximum size of {int(self.max_part_size / 1024)}KB.")
            self._part.data.extend(chunk)
        else:
            self._to_write.append((self._part, chunk))

    def on_part_end(self) -> None:
        if self._part.file is None:
            self.items.append((self._part.field_name, _decode(self._part.data, self._charset)))
        else:
            # The file is complete once parse() has written its pending chunks.
            self._to_finish.append(self._part)
            self.items.append((self._part.field_name, self._part.file))

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        name = self._header_name.lower()
        if name == b"content-disposition":
            self._part.content_disposition = self._header_value
        self._part.item_headers.append((name, self._header_value))
        self._header_name = b""
        self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._part.content_disposition)
        try:
            self._part.field_name = _decode(options[b"name"], self._charset)
        except KeyError:
            raise MultiPartException(
                'The Content-Disposition header field "name" must be provided.'
            ) from None
        if b"filename" in options:
            self._files += 1
            if self._files > self.max_files:
                raise MultiPartException(f"Too many files. Maximum number of files is {self.max_files}.")
            tempfile: SpooledTemporaryFile[bytes] = SpooledTemporaryFile(max_size=self.spool_max_size)  # noqa: SIM115
            self._to_close_on_error.append(tempfile)
            self._part.file = UploadFile(
                file=tempfile,  # type: ignore[arg-type]
                size=0,
                filename=_decode(options[b"filename"], self._charset),
                headers=Headers(raw=self._part.item_headers),
            )
        else:
            self._fields += 1
            if self._fields > self.max_fields:
                raise MultiPartException(f"Too many fields. Maximum number of fields is {self.max_fields}.")
            self._part.file = None

    def on_end(self) -> None:
        pass

    async def parse(self) -> FormData:
        multipart = load_multipart()
        _, params = parse_options_header(self.headers["Content-Type"])
        charset: str | bytes = params.get(b"charset", "utf-8")
        if isinstance(charset, bytes):
            charset = charset.decode("latin-1")
        try:
            self._charset = codecs.lookup(charset).name
        except LookupError:
            self._charset = "latin-1"
        try:
            boundary = params[b"boundary"]
        except KeyError:
            raise MultiPartException("Missing boundary in multipart.") from None

        callbacks: Any = {
            "on_part_begin": self.on_part_begin,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_end": self.on_end,
        }
        try:
            parser = multipart.MultipartParser(boundary, callbacks)
            async for chunk in self.stream:
                parser.write(chunk)
                # File data is written here, not in the callbacks: writing may block (once the
                # file is on disk) and runs in the thread pool, which needs an await.
                for part, data in self._to_write:
                    assert part.file is not None
                    await part.file.write(data)
                for part in self._to_finish:
                    assert part.file is not None
                    await part.file.seek(0)
                self._to_write.clear()
                self._to_finish.clear()
            parser.finalize()
        except BaseException as exc:
            for file in self._to_close_on_error:
                file.close()
            if isinstance(exc, multipart.exceptions.FormParserError):
                raise MultiPartException("Invalid multipart data.") from exc
            raise
        return FormData(self.items)
