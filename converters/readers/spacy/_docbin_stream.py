"""A DocBin read one document at a time: zlib inflated as it is read, msgpack walked by hand.

Why: ``DocBin.from_bytes`` inflates the whole payload, parses it, and keeps every document's
token array, span groups and user data until the last doc is built: memory grows with the
file (several times its inflated size). Here the payload is never held: it is inflated in
1 MiB steps, and a hand-written walk over msgpack's headers finds where each top-level value
starts, so that each document's slice of ``tokens``, ``spaces``, ``cats``, ``flags``,
``span_groups`` and ``user_data`` is read when that document is built, and dropped after.

Facts of the format (spaCy 3's ``DocBin.to_bytes``): a zlib-compressed msgpack map with
``version``, ``attrs`` (attribute ids, the columns of ``tokens``), ``tokens`` (uint64, one row
per token, all docs stacked), ``spaces`` (one bool byte per token), ``lengths`` (int32 tokens
per doc), ``strings`` (every string the hashes stand for), ``cats``, ``flags`` and
``span_groups`` (one entry per doc), and ``user_data`` when stored. ``lengths`` and
``strings`` come after ``tokens``, so each top-level value gets its own inflating cursor,
skipped forward to where the first walk found it.

What still grows with the file: the strings (the vocabulary spaCy needs to turn hashes back
into text), four bytes per document for ``lengths``, and the ``cats`` of every document
(the reader's exclusivity rule needs them before the first document).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["DocBinError", "Layout", "Values", "iter_values", "layout"]

_STEP = 1 << 20


class DocBinError(ValueError):
    """The file is not a DocBin's zlib + msgpack (the reader turns it into a ParseError)."""


class _Cursor:
    """Reads the inflated payload of a file from the start, forward only."""

    def __init__(self, path: Path, limit: int) -> None:
        self.fh = open(path, "rb")  # noqa: SIM115 - closed in close()
        self.z = zlib.decompressobj()
        self.buf = bytearray()
        self.off = 0  # read position inside buf
        self.pos = 0  # inflated bytes consumed before buf[off]
        self.total = 0
        self.limit = limit
        self.eof = False
        self.pinned = False  # raw_value() is capturing: keep the buffer whole

    def close(self) -> None:
        self.fh.close()

    def _more(self) -> None:
        if self.off > _STEP and not self.pinned:
            del self.buf[: self.off]
            self.off = 0
        try:
            if self.z.unconsumed_tail:
                out = self.z.decompress(self.z.unconsumed_tail, _STEP)
            else:
                data = self.fh.read(_STEP)
                out = self.z.decompress(data, _STEP) if data else self.z.flush()
                if not data and not out:
                    self.eof = True
        except zlib.error as exc:
            raise DocBinError(f"zlib: {exc}") from None
        self.total += len(out)
        if self.total > self.limit:
            raise DocBinError(f"inflates beyond {self.limit:,} bytes")
        self.buf += out

    def read(self, n: int) -> bytes:
        while len(self.buf) - self.off < n:
            if self.eof:
                raise DocBinError("truncated msgpack payload")
            self._more()
        out = bytes(self.buf[self.off : self.off + n])
        self.off += n
        self.pos += n
        return out

    def skip(self, n: int) -> None:
        while n > 0:
            if self.off >= len(self.buf):
                if self.eof:
                    raise DocBinError("truncated msgpack payload")
                self._more()
                continue
            step = min(n, len(self.buf) - self.off)
            self.off += step
            self.pos += step
            n -= step

    # -- msgpack -------------------------------------------------------------------

    def _uint(self, size: int) -> int:
        return int.from_bytes(self.read(size), "big")

    def header(self) -> tuple[str, int]:
        """The next value's type (``map``, ``array``, ``str``, ``bin``, ``scalar``) and its
        length (entries, or bytes; for ``scalar`` the bytes that follow the first)."""
        b = self.read(1)[0]
        if b <= 0x7F or b >= 0xE0 or b in (0xC0, 0xC2, 0xC3):
            return "scalar", 0
        if 0x80 <= b <= 0x8F:
            return "map", b & 0x0F
        if 0x90 <= b <= 0x9F:
            return "array", b & 0x0F
        if 0xA0 <= b <= 0xBF:
            return "str", b & 0x1F
        sized = {0xC4: ("bin", 1), 0xC5: ("bin", 2), 0xC6: ("bin", 4), 0xD9: ("str", 1), 0xDA: ("str", 2),
                 0xDB: ("str", 4), 0xDC: ("array", 2), 0xDD: ("array", 4), 0xDE: ("map", 2), 0xDF: ("map", 4)}
        if b in sized:
            kind, size = sized[b]
            return kind, self._uint(size)
        fixed = {0xCA: 4, 0xCB: 8, 0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8, 0xD0: 1, 0xD1: 2, 0xD2: 4, 0xD3: 8,
                 0xD4: 2, 0xD5: 3, 0xD6: 5, 0xD7: 9, 0xD8: 17}
        if b in fixed:
            return "scalar", fixed[b]
        if b in (0xC7, 0xC8, 0xC9):  # ext: length, then a type byte
            return "scalar", self._uint({0xC7: 1, 0xC8: 2, 0xC9: 4}[b]) + 1
        raise DocBinError(f"not msgpack (byte 0x{b:02x})")

    def skip_value(self) -> None:
        kind, n = self.header()
        if kind in ("map", "array"):
            for _ in range(n * 2 if kind == "map" else n):
                self.skip_value()
        else:
            self.skip(n)

    def raw_value(self) -> bytes:
        """The next value's msgpack bytes (for a small value, decoded by the caller)."""
        mark, self.pinned = self.off, True
        try:
            self.skip_value()
        finally:
            self.pinned = False
        return bytes(self.buf[mark : self.off])

    def text(self) -> str:
        kind, n = self.header()
        if kind != "str":
            raise DocBinError("expected a string")
        return self.read(n).decode("utf-8")


class Layout:
    """Where each top-level value of a DocBin starts in its inflated payload, and the small
    values read on the way (``attrs``, ``lengths``, ``strings``)."""

    def __init__(self, path: Path, limit: int) -> None:
        self.path, self.limit = path, limit
        self.offsets: dict[str, int] = {}
        self.attrs: list[int] = []
        self.lengths: list[int] = []
        self.strings: list[str] = []

    def cursor(self, key: str) -> _Cursor | None:
        """A cursor at the value of ``key`` (None when the file has no such key)."""
        if key not in self.offsets:
            return None
        cur = _Cursor(self.path, self.limit)
        try:
            cur.skip(self.offsets[key])
        except BaseException:
            cur.close()
            raise
        return cur


def layout(path: Path, limit: int, unpack: Any) -> Layout:
    """Walk the top-level map once (``unpack``: msgpack bytes -> value, spaCy's own)."""
    out = Layout(path, limit)
    cur = _Cursor(path, limit)
    try:
        kind, n = cur.header()
        if kind != "map":
            raise DocBinError("top level is not a map")
        for _ in range(n):
            key = cur.text()
            out.offsets[key] = cur.pos
            if key == "attrs":
                out.attrs = [int(a) for a in unpack(cur.raw_value())]
            elif key == "lengths":
                kind, size = cur.header()
                if kind != "bin" or size % 4:
                    raise DocBinError("lengths is not an int32 array")
                out.lengths = [v for (v,) in struct.iter_unpack("<i", cur.read(size))]
            elif key == "strings":
                kind, count = cur.header()
                if kind != "array":
                    raise DocBinError("strings is not a list")
                out.strings = [cur.text() for _ in range(count)]
            else:
                cur.skip_value()
    finally:
        cur.close()
    if not out.attrs or "tokens" not in out.offsets:
        raise DocBinError("no attrs or tokens")
    return out


class Values:
    """One per-document list of a DocBin (``cats``, ``flags``...), read entry by entry."""

    def __init__(self, lay: Layout, key: str, unpack: Any, *, kind: str = "array") -> None:
        self.cur = lay.cursor(key)
        self.unpack = unpack
        self.left = 0
        if self.cur is not None:
            try:
                got, self.left = self.cur.header()
                if got != kind:
                    raise DocBinError(f"{key} is not a {kind}")
            except BaseException:
                self.cur.close()
                raise

    def close(self) -> None:
        if self.cur is not None:
            self.cur.close()

    def next(self, default: Any) -> Any:
        """The next entry, decoded; ``default`` once the list is exhausted or absent."""
        if self.cur is None or self.left <= 0:
            return default
        self.left -= 1
        return self.unpack(self.cur.raw_value())

    def take(self, n: int) -> bytes:
        """``n`` raw bytes (of a ``bin`` value: tokens, spaces)."""
        assert self.cur is not None
        if n > self.left:
            raise DocBinError("token arrays shorter than the lengths say")
        self.left -= n
        return self.cur.read(n)


def iter_values(lay: Layout, key: str, unpack: Any) -> Iterator[Any]:
    """Every entry of a per-document list (the ``cats`` the reader needs up front)."""
    values = Values(lay, key, unpack)
    try:
        while values.left > 0:
            yield values.next(None)
    finally:
        values.close()
