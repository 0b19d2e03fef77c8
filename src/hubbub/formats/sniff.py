"""What an input file is, from its first bytes, before it is read as text.

Import and classify read JSON and text as UTF-8. A file that is something
else used to give one error per line (a gzip capture: hundreds; a database:
tens of thousands) or, worse, wrong rows. Here the first bytes decide:

- gzip (``1f 8b``): read through, decompressed as it streams;
- a UTF-16 or UTF-32 byte order mark, or the zero bytes that UTF-16/32 JSON
  text has without one (RFC 4627 section 3: JSON starts with two ASCII
  characters), becomes UTF-8 as it streams;
- a zip archive, an SQLite database, bzip2, xz or zstd: refused in one
  message (``NotReadable``) saying what the file is and what to do.

Only the first bytes are looked at: no cost per line.
"""

from __future__ import annotations

import codecs
import gzip
import io
import zlib
from typing import Any, Protocol


class ByteStream(Protocol):
    def read(self, size: int, /) -> bytes: ...


class NotReadable(ValueError):
    """The input is a kind of file that is not read (the message says which)."""


_HEAD = 64  # enough for every magic number below, and a pipe is not kept waiting

# (magic, what it is, what to do): formats refused whole.
_REFUSED: tuple[tuple[bytes, str, str], ...] = (
    (b"PK\x03\x04", "a zip archive", "unzip it first and import the files inside"),
    (b"PK\x05\x06", "an (empty) zip archive", "unzip it first and import the files inside"),
    (
        b"SQLite format 3\x00",
        "an SQLite database",
        "its posts come out with 'hubbub export --db FILE' (whose output imports)",
    ),
    (b"BZh", "bzip2-compressed", "decompress it first (bunzip2)"),
    (b"\xfd7zXZ\x00", "xz-compressed", "decompress it first (unxz)"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed", "decompress it first (unzstd)"),
)
_GZIP = b"\x1f\x8b"


def text_encoding(head: bytes) -> str | None:
    """The encoding a UTF-16/32 text starts in, or None for UTF-8 (or
    anything else). With a BOM the codec drops it; without one, the pattern
    of zero bytes in the first four tells (RFC 4627 section 3)."""
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "utf-32"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if len(head) >= 4:
        zeros = (head[0] == 0, head[1] == 0, head[2] == 0, head[3] == 0)
        return {
            (True, True, True, False): "utf-32-be",
            (False, True, True, True): "utf-32-le",
            (True, False, True, False): "utf-16-be",
            (False, True, False, True): "utf-16-le",
        }.get(zeros)
    return None


def refused(head: bytes) -> str | None:
    """Why a file starting with ``head`` is not read, or None."""
    for magic, what, advice in _REFUSED:
        if head.startswith(magic) and (magic != b"BZh" or head[3:4].isdigit()):
            return f"this file is {what}, not JSON or text: {advice}"
    return None


def opened(stream: ByteStream, damage: list[str] | None = None) -> ByteStream:
    """``stream`` as UTF-8 bytes: decompressed if gzip, transcoded if UTF-16/32.
    Raises ``NotReadable`` for files that are refused. A gzip stream that is
    cut short or damaged later ends there, its reason added to ``damage``
    (given), so what came before it is still read; without ``damage`` it raises
    ``NotReadable``."""
    head = _read_head(stream)
    if head.startswith(_GZIP):
        unzipped = gzip.GzipFile(fileobj=_Prefixed(head, stream), mode="rb")
        head = _read_head(_Guarded(unzipped))
        stream = _Guarded(unzipped, damage)
    reason = refused(head)
    if reason is not None:
        raise NotReadable(reason)
    encoding = text_encoding(head)
    if encoding is not None:
        return _Transcoded(_Prefixed(head, stream), encoding)
    return _Prefixed(head, stream)


def _read_head(stream: ByteStream) -> bytes:
    parts: list[bytes] = []
    size = 0
    while size < _HEAD and (part := stream.read(_HEAD - size)):
        parts.append(part)
        size += len(part)
    return b"".join(parts)


class _Prefixed:
    """The bytes already read, then the rest of the stream."""

    def __init__(self, head: bytes, stream: ByteStream) -> None:
        self._head = head
        self._stream = stream

    def read(self, size: int = -1, /) -> bytes:
        if self._head:
            # Never more than asked: gzip reads its header a few bytes at a time.
            cut = len(self._head) if size < 0 else size
            head, self._head = self._head[:cut], self._head[cut:]
            return head
        return self._stream.read(size)

    def seek(self, offset: int, /) -> int:
        # gzip only seeks to rewind, which reading forward never does.
        raise io.UnsupportedOperation("the input is read forward only")


class _Guarded:
    """A gzip stream whose damage (a truncated or corrupt archive) is a
    ``NotReadable`` naming it, not a traceback."""

    def __init__(self, stream: gzip.GzipFile, damage: list[str] | None = None) -> None:
        self._stream = stream
        self._damage = damage
        self._ended = False

    def read(self, size: int = -1, /) -> bytes:
        if self._ended:
            return b""
        try:
            # read1, not read: read(n) gathers n bytes over several reads and loses
            # them all when a later one finds the data cut short.
            return self._stream.read1(size)
        except (OSError, EOFError, zlib.error) as exc:
            # The exception's text can quote the damaged bytes: name its kind only.
            kind = "cut short" if isinstance(exc, EOFError) else "damaged"
            if self._damage is None:
                raise NotReadable(
                    f"the gzip data is {kind}: decompress what can be saved first"
                ) from None
            # Everything decompressed so far has been returned (gzip raises only
            # on a read that produced nothing): end here, as a plain file cut
            # short would, and say why after its records.
            self._damage.append(f"the gzip data is {kind} here: the lines before it were read")
            self._ended = True
            return b""


class _Transcoded:
    """UTF-16/32 text as UTF-8 bytes, decoded as it streams. Bytes that do
    not decode become U+FFFD (a lone surrogate in UTF-16, an odd last byte)."""

    def __init__(self, stream: ByteStream, encoding: str) -> None:
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder(encoding)("replace")
        self._done = False

    def read(self, size: int = -1, /) -> bytes:
        while not self._done:
            raw = self._stream.read(size if size > 0 else 1 << 20)
            self._done = not raw
            text = self._decoder.decode(raw, final=self._done)
            if text:
                return text.encode("utf-8")
        return b""


class _Raw(io.RawIOBase):
    """A ``read()``-only stream as a raw stream, for ``io.BufferedReader``."""

    def __init__(self, stream: ByteStream) -> None:
        super().__init__()
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def opened_text(stream: ByteStream, damage: list[str]) -> io.TextIOWrapper:
    """:func:`opened` as text, bad UTF-8 becoming U+FFFD (``hubbub classify``:
    a line of text each, so a wrong byte costs a character, not the line).
    Closing it does not close ``stream``."""
    raw = io.BufferedReader(_Raw(opened(stream, damage)), buffer_size=1 << 20)
    return io.TextIOWrapper(raw, encoding="utf-8", errors="replace")
