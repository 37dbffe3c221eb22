"""Reading a big COCO file without holding it: the top level, then annotations one at a time.

Why: a parsed COCO file costs about nine times its size in Python objects (a 113 MB file
peaked at 1 GB), so above a size threshold the reader streams it with ijson's C backend
(yajl). Memory then grows with the images (one small entry each), not with the objects.

What a streamed file costs instead is passes over the bytes:

* the **head**: the top-level keys before ``annotations`` (standard COCO puts ``info``,
  ``licenses`` and ``images`` there), read event by event and stopped at ``annotations``;
* the **tail**: standard COCO puts ``categories`` last, after the annotations. The last
  ``"categories": [`` of the file whose array is followed only by the closing ``}`` is the
  top-level key (an unescaped quote cannot be inside a string, and any deeper key would be
  followed by more closers), so it is parsed from the file's tail without tokenising the
  annotations. Any other layout falls back to one extra pass (:func:`top_value`);
* a **scan** of every annotation (:func:`item_batches`), before anything is yielded: it
  checks the whole file's syntax, tells the file's kind, the kinds each class is written
  with (the ontology's names must not depend on object order) and whether each image's
  annotations are contiguous;
* the **read**: the same :func:`item_batches` again, each one built into its image's asset.

The two annotation passes dominate, so they do not tokenise event by event (ijson: ~1.8 s a
pass at 115 MB): :func:`item_batches` cuts the array into pieces of about 32 KiB and parses each
with orjson, which gives exactly what :func:`items` gives or falls back to it.

Numbers are read as floats (``use_float``: ``Decimal`` is several times slower), as orjson
does; a syntax error is one :class:`ParseError` naming the file and the byte near which it
was found.
"""

from __future__ import annotations

import io
import json
import re
from itertools import chain, islice
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ...errors import ParseError

__all__ = ["PIECE", "STREAM_THRESHOLD", "Head", "item_batches", "items", "iter_items", "read_head", "top_value"]

#: Files at least this large are streamed under ``--coco-stream auto``. Read whole, a file
#: peaks at about nine times its size in Python objects (plus the interpreter's ~60 MB);
#: streamed, near the interpreter's own size. Chosen when two ijson passes made streaming
#: slower (about a third more parsing); with :func:`item_batches` a streamed conversion took
#: 0.86x the whole-file time at 11 and 115 MB (bench/bench_memory.py --whole), so the threshold
#: is now about memory only. At 32 MiB a whole-file read stays under ~350 MB.
STREAM_THRESHOLD = 32 * 2**20
#: How much of the file's end is searched for a trailing ``categories`` array.
_TAIL = 8 * 2**20
_CATEGORIES = re.compile(rb'"categories"\s*:\s*\[')
_BOM = b"\xef\xbb\xbf"


class _Counting:
    """A binary file that counts the bytes handed to the parser (the position of an error)."""

    __slots__ = ("fh", "pos")

    def __init__(self, fh: IO[bytes]) -> None:
        self.fh, self.pos = fh, 0

    def read(self, n: int = -1) -> bytes:
        data = self.fh.read(n)
        self.pos += len(data)
        return data


def _open(path: Path) -> _Counting:
    fh = open(path, "rb")  # noqa: SIM115 - closed by the callers' finally
    if fh.read(3) != _BOM:  # orjson refuses a BOM, the whole-file path strips it: so do we
        fh.seek(0)
    return _Counting(fh)


def _error(path: Path, exc: Exception, src: _Counting) -> ParseError:
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0].strip()
    text = text.removeprefix("parse error: ").removeprefix("lexical error: ")
    if isinstance(exc, UnicodeDecodeError):
        text = f"not UTF-8 text ({exc.reason})"
    return ParseError(path, f"invalid JSON: {text}", location=f"near byte {src.pos:,}")


class Head:
    """The top-level keys of a COCO object read so far, and whether ``annotations`` follows.

    Attributes:
        top: every top-level value read (all but ``annotations``; keys after it only when
            :meth:`complete` fetched them).
        has_annotations: the object has an ``annotations`` array (not yet read).
    """

    __slots__ = ("has_annotations", "path", "top")

    def __init__(self, path: Path, top: dict[str, Any], has_annotations: bool) -> None:
        self.path, self.top, self.has_annotations = path, top, has_annotations

    def complete(self, *keys: str) -> None:
        """Fetch the ``keys`` the head did not reach (after ``annotations``): from the file's
        tail for ``categories``, else one pass each."""
        for key in keys:
            if key in self.top or not self.has_annotations:
                continue
            found = _tail_categories(self.path) if key == "categories" else None
            if found is None:
                found = top_value(self.path, key)
            if found is not None:
                self.top[key] = found[0]


def read_head(path: Path, piece: int = 0) -> Head | None:
    """The top-level values before ``annotations``; None when the file cannot be streamed
    (its top level is not an object, or ``annotations`` is not an array): the whole-file path
    then reads it and says what is wrong.

    Read by the pieces of :func:`item_batches` (``images`` of 50,000 entries in ~0.3x the time
    of ijson's events), or, whenever they cannot vouch for the result, by ijson's events: the
    same values, the same error."""
    try:
        return _fast_head(path, piece or PIECE)
    except (_Unsure, ValueError, IndexError):
        return _ijson_head(path)


def _fast_head(path: Path, piece: int) -> Head | None:
    with open(path, "rb") as fh:
        if fh.read(3) != _BOM:
            fh.seek(0)
        src = _Bytes(fh, piece)
        src.expect(_OPEN)
        top: dict[str, Any] = {}
        if src.peek() == _CLOSE:
            return Head(path, top, False)
        while True:
            key = src.string()
            src.expect(_COLON)
            if key == "annotations":
                src.expect(_LIST)  # anything else: ijson says whether it is an error
                return Head(path, top, True)
            if key == "images" and src.peek() == _LIST:
                src.at += 1
                top[key] = [_trim(item) for batch in src.array() for item in batch]
            else:
                top[key] = src.value(keep=True)
            after = src.peek()
            src.at += 1
            if after == _CLOSE:
                return Head(path, top, False)
            if after != _COMMA:
                raise _Unsure


def _trim(item: Any) -> Any:
    return {k: item[k] for k in _IMAGE_KEYS if k in item} if isinstance(item, dict) else item


def _ijson_head(path: Path) -> Head | None:
    import ijson

    src = _open(path)
    try:
        events = ijson.parse(src, use_float=True)
        first = next(events, None)
        if first is None or first[1] != "start_map":
            return None
        top: dict[str, Any] = {}
        for _, event, key in events:
            if event == "end_map":
                return Head(path, top, False)
            if key == "annotations":
                _, event, _ = next(events)
                return Head(path, top, True) if event == "start_array" else None
            top[key] = _images(events) if key == "images" else _build(events)
        return None
    except (ijson.JSONError, UnicodeDecodeError) as exc:
        raise _error(path, exc, src) from None
    finally:
        src.fh.close()


def _build(events: Iterator[tuple[str, str, Any]], first: tuple[str, str, Any] | None = None) -> Any:
    """One value from parse events (``first``, else the next event, starts it)."""
    import ijson

    builder = ijson.ObjectBuilder()
    depth = 0
    while True:
        if first is not None:
            _, event, value = first
            first = None
        else:
            _, event, value = next(events)
        builder.event(event, value)
        if event in ("start_map", "start_array"):
            depth += 1
        elif event in ("end_map", "end_array"):
            depth -= 1
        if depth == 0:
            return builder.value


#: What the reader reads of an image entry; the rest (``coco_url``, ``license``...) is dropped
#: as each entry is read, so 50,000 entries do not all hold their URLs at once.
_IMAGE_KEYS = ("id", "file_name", "width", "height")


def _images(events: Iterator[tuple[str, str, Any]]) -> Any:
    """The ``images`` value, its object entries trimmed to :data:`_IMAGE_KEYS` (anything but
    a list is built whole: the reader refuses it)."""
    start = next(events)
    if start[1] != "start_array":
        return _build(events, start)
    out: list[Any] = []
    while True:
        event = next(events)
        if event[1] == "end_array":
            return out
        out.append(_trim(_build(events, event)))


def _tail_categories(path: Path) -> tuple[Any] | None:
    """``categories`` when it is the file's last top-level key, read from the tail alone."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        fh.seek(max(0, size - _TAIL))
        tail = fh.read()
    for match in reversed(list(_CATEGORIES.finditer(tail))[-8:]):
        start = match.start()
        slashes = len(tail[:start]) - len(tail[:start].rstrip(b"\\"))
        if slashes % 2:
            continue  # an escaped quote: inside a string
        try:
            text = tail[match.end() - 1:].decode("utf-8")
            value, end = json.JSONDecoder().raw_decode(text)
        except (UnicodeDecodeError, ValueError):
            continue
        if text[end:].strip() == "}":
            return (value,)
    return None


def top_value(path: Path, key: str) -> tuple[Any] | None:
    """One top-level value, by a pass over the file (ijson builds only that value)."""
    import ijson

    src = _open(path)
    try:
        for value in ijson.items(src, key, use_float=True):
            return (value,)
        return None
    except (ijson.JSONError, UnicodeDecodeError) as exc:
        raise _error(path, exc, src) from None
    finally:
        src.fh.close()


def items(path: Path) -> Iterator[Any]:
    """The items of the top-level ``annotations`` array, in file order."""
    import ijson

    src = _open(path)
    try:
        yield from ijson.items(src, "annotations.item", use_float=True)
    except (ijson.JSONError, UnicodeDecodeError) as exc:
        raise _error(path, exc, src) from None
    finally:
        src.fh.close()


#: About how many bytes of the annotations array :func:`item_batches` parses at once (a
#: batch: ~100 val2017 objects). Small pieces are the fast ones: a pass at 115 MB took 0.40x
#: ijson's time with 32 KiB pieces, 0.60x with 256 KiB, 0.99x with 4 MiB (the parsed objects
#: stay in the CPU's caches, and the collector has fewer live objects to walk), and memory
#: stays flat (bench/bench_chunks.py).
PIECE = 32 * 2**10
#: A piece may grow to this (an annotation larger than PIECE) before the ijson path takes over.
_CAP = 64 * 2**20
#: Candidate cuts tried in a row before reading more or giving up.
_TRIES = 4
#: Items per batch when the ijson path gives them.
_IJSON_BATCH = 4096
_WS = frozenset(b" \t\n\r")
_QUOTE, _SLASH, _COMMA, _COLON, _OPEN, _CLOSE, _LIST, _UNLIST = 0x22, 0x5C, 0x2C, 0x3A, 0x7B, 0x7D, 0x5B, 0x5D
_END = re.compile(rb"\}[ \t\n\r]*\]")
#: Digits to ``0``, anything else to ``.``: a run of 19 ``0`` is a number orjson and ijson
#: may read differently (ijson refuses integers beyond 64 bits; orjson reads some as floats).
_DIGITS = bytes(0x30 if 0x30 <= b <= 0x39 else 0x2E for b in range(256))
_LONG = b"0" * 19


class _Unsure(Exception):
    """The fast path cannot vouch for what follows: the ijson path reads the rest."""


class _Bytes:
    """A binary file read forward in blocks: ``buf[at:]`` is what is not consumed yet."""

    __slots__ = ("at", "block", "buf", "eof", "fh")

    def __init__(self, fh: IO[bytes], block: int) -> None:
        self.fh, self.block, self.buf, self.at, self.eof = fh, block, b"", 0, False

    def more(self, size: int = 0) -> bool:
        """One more block (or ``size`` bytes) behind the unconsumed bytes; False at the end
        of the file."""
        data = self.fh.read(size or self.block)
        if not data:
            self.eof = True
            return False
        self.buf = self.buf[self.at:] + data
        self.at = 0
        return True

    def peek(self) -> int | None:
        """The next byte that is not whitespace (the whitespace is consumed); None at the end."""
        while True:
            buf, i = self.buf, self.at
            n = len(buf)
            while i < n and buf[i] in _WS:
                i += 1
            self.at = i
            if i < n:
                return buf[i]
            if not self.more():
                return None

    def expect(self, byte: int) -> None:
        if self.peek() != byte:
            raise _Unsure
        self.at += 1

    def string(self) -> str:
        """A string at ``at`` (a key): up to its first unescaped quote, decoded by orjson."""
        if self.peek() != _QUOTE:
            raise _Unsure
        scan = self.at + 1
        while True:
            buf = self.buf
            end = buf.find(_QUOTE, scan)
            while end >= 0:
                k = end
                while buf[k - 1] == _SLASH:
                    k -= 1
                if (end - k) % 2 == 0:
                    key = _loads(buf[self.at:end + 1])
                    if not isinstance(key, str):
                        raise _Unsure
                    self.at = end + 1
                    return key
                end = buf.find(_QUOTE, end + 1)
            scanned = len(buf) - self.at
            if not self.more() or len(self.buf) > _CAP:
                raise _Unsure
            scan = self.at + scanned

    def value(self, keep: bool = False) -> Any:
        """One value: an array piece by piece (its items dropped unless ``keep``: else the
        value is None), anything else parsed whole, as :func:`_parse` reads it."""
        if self.peek() == _LIST:
            self.at += 1
            if keep:
                return [item for batch in self.array() for item in batch]
            for _ in self.array():
                pass
            return None
        span = 2**14  # a window that grows: the value is found by its end, not the buffer's
        while True:
            avail = len(self.buf) - self.at
            window = self.buf[self.at:self.at + span]
            whole = len(window) == avail and self.eof
            text = _utf8(window, whole)
            try:
                _, end = _DECODER.raw_decode(text)
                size = len(text[:end].encode("utf-8"))
            except ValueError:
                size = -1
            if size < 0 or (size == len(window) and not whole):  # cut short (a number may go on)
                if span < avail:
                    span *= 2
                elif avail > _CAP or not self.more():
                    raise _Unsure
                continue
            self.at += size
            return _parse(window[:size], bare=True)

    def array(self) -> Iterator[list[Any]]:
        """The items of an array whose ``[`` is consumed, in pieces; ``at`` ends after its ``]``.
        Objects are cut into pieces; other items (not COCO's) are read one by one."""
        first = self.peek()
        if first == _UNLIST:
            self.at += 1
            return
        if first != _OPEN:
            yield from self.one_by_one()
            return
        prefix = self.prefix()
        while True:
            if len(self.buf) - self.at < self.block and not self.eof:
                self.more()
                continue
            cut = self.cut(prefix)
            if cut is not None:
                yield cut
                continue
            last = self.last()
            if last is not None:
                yield last
                return
            if len(self.buf) - self.at > _CAP:
                raise _Unsure
            if not self.more(len(self.buf) - self.at):  # doubled: a long item is not searched once a block
                # the rest of the file is in the buffer: item by item
                yield from self.one_by_one()
                return

    def one_by_one(self) -> Iterator[list[Any]]:
        """The rest of an array, item by item (in batches)."""
        batch: list[Any] = []
        while True:
            batch.append(self.value(keep=True))
            after = self.peek()
            self.at += 1
            if after == _UNLIST:
                yield batch
                return
            if after != _COMMA:
                raise _Unsure
            if len(batch) == _IJSON_BATCH:
                yield batch
                batch = []

    def prefix(self) -> bytes:
        """The first item's bytes up to the end of its first key: ``{"id"`` or ``{\\n    "id"``.
        Later items that start the same way are likely this array's (a nested object's first
        key or indent differs); the parse decides."""
        if len(self.buf) - self.at < 512 and not self.eof:
            self.more()
        buf, start = self.buf, self.at
        i = start + 1
        while i < len(buf) and buf[i] in _WS:
            i += 1
        if i >= len(buf) or buf[i] != _QUOTE:
            return b"{"
        end = buf.find(_QUOTE, i + 1)
        if end < 0 or end - start > 256 or buf[end - 1] == _SLASH:
            return buf[start:i]
        return buf[start:end + 1]

    def cut(self, prefix: bytes) -> list[Any] | None:
        """The items up to the last candidate boundary ``}`` , ``{`` that parses, if any.

        The last few candidates are tried first; when they all fail (the array ended in the
        buffer and its tail looks alike, or nested objects look like items), the last few in
        the first half, and so on: a few parses of halving size, not one parse per candidate."""
        buf, start = self.buf, self.at
        hi = len(buf)
        while hi > start + 1:
            pos, tries = hi, 0
            while tries < _TRIES:
                i = buf.rfind(prefix, start + 1, pos)
                if i < 0:
                    return None  # the ones above pos failed: no other candidates
                pos = i
                j = i - 1
                while buf[j] in _WS:
                    j -= 1
                if buf[j] != _COMMA:
                    continue
                j -= 1
                while buf[j] in _WS:
                    j -= 1
                if buf[j] != _CLOSE:
                    continue
                tries += 1
                got: list[Any] | None = _parse(buf[start:j + 1])
                if got is not None:
                    self.at = i
                    return got
            hi = min(pos, start + (hi - start) // 2)
        return None

    def last(self) -> list[Any] | None:
        """The items up to the array's end (the first candidate ``}`` ``]`` that parses)."""
        buf, start = self.buf, self.at
        for tries, match in enumerate(_END.finditer(buf, start)):
            if tries == 16 * _TRIES:
                return None
            got: list[Any] | None = _parse(buf[start:match.start() + 1])
            if got is not None:
                self.at = match.end()
                return got
        return None


_DECODER = json.JSONDecoder()


def _loads(data: bytes) -> Any:
    import orjson

    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        raise _Unsure from None


def _utf8(window: bytes, eof: bool) -> str:
    """``window`` as text, without a character cut at its end (more bytes follow)."""
    if not eof:
        for back in range(1, min(4, len(window)) + 1):
            byte = window[-back]
            if byte & 0xC0 != 0x80:  # the last character's first byte
                if byte >= 0xC0 and back < (2 if byte < 0xE0 else 3 if byte < 0xF0 else 4):
                    window = window[:-back]
                break
    try:
        return window.decode("utf-8")
    except UnicodeDecodeError:
        raise _Unsure from None


def _parse(piece: bytes, *, bare: bool = False) -> Any:
    """``piece`` (items, or one value when ``bare``) parsed as :func:`items` would read it.

    orjson reads some integers ijson refuses or reads otherwise (beyond 64 bits): a piece with
    a run of 19 digits is read by ijson instead (its error, if any, is left to the ijson path,
    which places it in the file). Returns None when orjson refuses the piece (not a list)."""
    import orjson

    doc = piece if bare else b"[" + piece + b"]"
    try:
        value = orjson.loads(doc)
    except orjson.JSONDecodeError:
        if bare:
            raise _Unsure from None
        return None
    if _LONG in doc.translate(_DIGITS):
        if bare:
            raise _Unsure
        import ijson

        try:
            return list(ijson.items(io.BytesIO(doc), "item", use_float=True))
        except (ijson.JSONError, UnicodeDecodeError):
            raise _Unsure from None
    return value


def _pieces(path: Path, piece: int) -> Iterator[list[Any]]:
    """The annotations in pieces, or :class:`_Unsure` (also after the array, when the rest of the
    file is not exactly one object with no second ``annotations``: the ijson path has the last word)."""
    with open(path, "rb") as fh:
        if fh.read(3) != _BOM:
            fh.seek(0)
        src = _Bytes(fh, piece)
        src.expect(_OPEN)
        seen = False
        while True:
            key = src.string()
            src.expect(_COLON)
            if key == "annotations":
                if seen:
                    raise _Unsure  # ijson gives both arrays' items
                seen = True
                src.expect(_LIST)
                yield from src.array()
            else:
                src.value()
            after = src.peek()
            src.at += 1
            if after == _CLOSE:
                break
            if after != _COMMA:
                raise _Unsure
        if not seen or src.peek() is not None:
            raise _Unsure


def item_batches(path: Path, piece: int = PIECE) -> Iterator[list[Any]]:
    """The items of the top-level ``annotations`` array, in file order and in lists of about
    ``piece`` bytes of JSON each: equal (values, types, key order) to what :func:`items` yields, and when
    the file is not valid JSON, the same items before the same :class:`ParseError`.

    Why it is exact: the array is cut at candidate boundaries ``}`` , ``{`` (preferring those
    whose next item starts like the first item) and each piece is parsed as ``[piece]``. A
    piece starts at a true item start. A piece that orjson parses as one complete array ends
    at a true item boundary: a cut inside a string leaves the string open, a cut inside a
    nested value leaves a bracket open, and either way ``[piece]`` cannot parse. So the parse
    verifies the candidate; a failed one is followed by the previous candidates (a few, then
    a few in the first half of the buffer, and so on), then by more bytes, then (at the end
    of the file) by items parsed one by one, else by :func:`items` for the rest of the file, which skips the items
    already yielded. The array's start is found by reading the top level key by key (keys
    are strings; values before it are skipped by the same parse-checked pieces), never by a
    search a string could fool; after the array, the rest of the file is read the same way
    up to its end. orjson is at least as strict as ijson's yajl except for integers beyond 64
    bits, which ijson refuses (a piece with 19 digits in a row is read by ijson); whatever the
    fast path cannot vouch for (a BOM aside: both skip it) goes to the ijson path, so its
    items and errors (message and byte) are always the ijson path's.

    Args:
        piece: about how many bytes each batch covers (tests use tiny pieces).
    """
    done = 0
    try:
        for fast in _pieces(path, piece):
            done += len(fast)
            yield fast
        return
    except (_Unsure, ValueError, IndexError):
        pass
    batch: list[Any] = []
    try:
        for item in islice(items(path), done, None):
            batch.append(item)
            if len(batch) == _IJSON_BATCH:
                yield batch
                batch = []
    except ParseError:
        if batch:  # the items before the error, as items() yields them
            yield batch
        raise
    if batch:
        yield batch


def iter_items(path: Path, piece: int = PIECE) -> Iterator[Any]:
    """:func:`item_batches` one item at a time."""
    return chain.from_iterable(item_batches(path, piece))
