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
* a **scan** of every annotation (:func:`items`), before anything is yielded: it checks
  the whole file's syntax, tells the file's kind, the kinds each class is written with (the
  ontology's names must not depend on object order) and whether each image's annotations
  are contiguous;
* the **read**: the same :func:`items` again, each one built into its image's asset.

Numbers are read as floats (``use_float``: ``Decimal`` is several times slower), as orjson
does; a syntax error is one :class:`ParseError` naming the file and the byte near which it
was found.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ...errors import ParseError

__all__ = ["STREAM_THRESHOLD", "Head", "items", "read_head", "top_value"]

#: Files at least this large are streamed under ``--coco-stream auto``. Read whole, a file
#: peaks at about nine times its size in Python objects (plus the interpreter's ~60 MB);
#: streamed, near the interpreter's own size, but two passes make it slower (about a third
#: more parsing, bench/bench_memory.py). At 32 MiB a whole-file read stays under ~350 MB,
#: and the files most people convert (val2017's 25 MB, the 11 MB bench file) keep the fast path.
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


def read_head(path: Path) -> Head | None:
    """The top-level values before ``annotations``; None when the file cannot be streamed
    (its top level is not an object, or ``annotations`` is not an array): the whole-file path
    then reads it and says what is wrong."""
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
        item = _build(events, event)
        if isinstance(item, dict):
            item = {k: item[k] for k in _IMAGE_KEYS if k in item}
        out.append(item)


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
