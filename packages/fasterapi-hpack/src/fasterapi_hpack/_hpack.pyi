"""C++ core of fasterapi_hpack (use the fasterapi_hpack package)"""

from collections.abc import Iterable, Mapping
from typing import Any

import fasterapi_hpack._struct


DEFAULT_MAX_HEADER_LIST_SIZE: int = 65536

DEFAULT_HEADER_TABLE_SIZE: int = 4096

class Decoder:
    """
    Decodes HPACK header blocks of one connection (python-hpack's Decoder).

    After a decoding error the decoder is unusable: every later decode() raises.
    """

    def __init__(self, max_header_list_size: int = 65536) -> None: ...

    def decode(self, data: bytes | bytearray | memoryview, raw: bool = False) -> list[fasterapi_hpack._struct.HeaderTuple]:
        """
        Decodes one complete header block into (name, value) tuples: HeaderTuple, or
        NeverIndexedHeaderTuple for never-indexed fields; str (UTF-8) or, if raw, bytes.
        """

    @property
    def header_table_size(self) -> int:
        """
        The dynamic table's current maximum size (set by the peer's size updates).
        """

    @header_table_size.setter
    def header_table_size(self, arg: int, /) -> None: ...

    @property
    def max_allowed_table_size(self) -> int:
        """
        The SETTINGS_HEADER_TABLE_SIZE we advertised and saw acknowledged: size updates
        above it are errors, and a table left above it must be shrunk by the next block.
        """

    @max_allowed_table_size.setter
    def max_allowed_table_size(self, arg: int, /) -> None: ...

    @property
    def max_header_list_size(self) -> int:
        """
        The largest decoded header list accepted: the sum of name + value + 32 per field.
        """

    @max_header_list_size.setter
    def max_header_list_size(self, arg: int, /) -> None: ...

class Encoder:
    """
    Encodes header blocks for one connection (python-hpack's Encoder).

    With never_index_sensitive (the default), credentials are sent never-indexed even
    when not marked: authorization, proxy-authorization, set-cookie, and cookie values
    shorter than 20 bytes (RFC 7541 7.1.3). Without it, only the fields the caller
    marks are, as in python-hpack.
    """

    def __init__(self, *, never_index_sensitive: bool = True) -> None: ...

    def encode(self, headers: Mapping[Any, Any] | Iterable[tuple[Any, ...]], huffman: bool = True) -> bytes:
        """
        Encodes (name, value) or (name, value, sensitive) tuples, HeaderTuple and
        NeverIndexedHeaderTuple, or a dict (pseudo-headers first), into one header block.
        Names and values are bytes or str (UTF-8); other values are encoded as their str().
        """

    def add(self, to_add: tuple[Any, Any], sensitive: bool, huffman: bool = False) -> bytes:
        """
        Encodes one field (without pending table size updates) and indexes it as encode() would.
        """

    @property
    def header_table_size(self) -> int:
        """
        The dynamic table's maximum size; setting it sends a size update in the next block.
        """

    @header_table_size.setter
    def header_table_size(self, arg: int, /) -> None: ...

    @property
    def never_index_sensitive(self) -> bool:
        """
        Whether credentials are sent never-indexed even when the caller does not mark them.
        """

def huffman_encode(data: bytes | bytearray | memoryview) -> bytes:
    """
    The HPACK Huffman code of data (RFC 7541 Appendix B), padded with ones.
    """

def huffman_decode(data: bytes | bytearray | memoryview) -> bytes:
    """
    Decodes an HPACK Huffman-coded string; raises HPACKDecodingError on EOS or bad padding.
    """
