"""``.spacy`` DocBin files, through spaCy itself (the optional ``[spacy]`` extra).

spaCy is imported here, lazily, the first time a DocBin is read: ``import converters`` and
the JSON/JSONL paths never pay for it, and without the extra the user gets one line naming
the extra to install instead of an ImportError traceback.

A DocBin does not record its language; an empty vocabulary reads it because the strings travel
with the file and tokenisation is stored, not recomputed. The file is read one document at a
time (``_docbin_stream``): each doc is rebuilt the way ``DocBin.get_docs`` does, from its own
slice of the arrays, so memory does not grow with the number of documents.
"""

from __future__ import annotations

import functools
import math
import re
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from ...errors import MissingDependencyError, ParseError, UnsafeInputError
from ._docbin_stream import Layout, Values, iter_values, layout
from ._docs import RawDoc, RawSpan

__all__ = ["load_spacy", "open_docbin"]

#: A DocBin whose msgpack payload inflates beyond this is refused before spaCy reads it
#: (1 GiB: tens of millions of tokens; spaCy would need several times that in objects).
MAX_DOCBIN_BYTES = 1 << 30
_STEP = 1 << 20
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_KEY_NAMES = ("global_key", "globalKey")


def load_spacy() -> Any:
    """The spacy module, or MissingDependencyError naming the extra."""
    try:
        import spacy
    except ImportError:
        raise MissingDependencyError("reading .spacy DocBin files", "spacy", "spacy") from None
    return spacy


def _check_size(path: Path) -> None:
    with open(path, "rb") as fh:
        size = inflated_size(fh, MAX_DOCBIN_BYTES)
    if size > MAX_DOCBIN_BYTES:
        raise UnsafeInputError(
            path, f"DocBin inflates to more than {MAX_DOCBIN_BYTES:,} bytes; refused (decompression bomb guard)"
        )


def _not_docbin(path: Path, exc: BaseException) -> ParseError:
    reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    return ParseError(path, f"not a readable spaCy DocBin file ({reason})")


def inflated_size(data: bytes | BinaryIO, limit: int) -> int:
    """How many bytes zlib ``data`` (bytes, or a binary file read in steps) inflates to,
    counting at most ``limit + 1``.

    Inflated in 1 MiB steps and thrown away, so a 2.6 MB bomb costs 1 MiB of memory to be
    found, not the 2.6 GiB ``DocBin.from_bytes`` would allocate. Not zlib data: 0 (the
    reading then names the problem).
    """
    inflater = zlib.decompressobj()
    total = 0
    pieces = iter((data,)) if isinstance(data, bytes) else iter(lambda: data.read(_STEP), b"")
    try:
        for piece in pieces:
            chunk = inflater.decompress(piece, _STEP)
            while chunk:
                total += len(chunk)
                if total > limit:
                    return total
                chunk = inflater.decompress(inflater.unconsumed_tail, _STEP)
    except zlib.error:
        return 0
    return total


def open_docbin(path: Path) -> tuple[list[dict[str, float]], Iterator[RawDoc]]:
    """The ``cats`` of every doc (read without building the docs, for the exclusivity
    rule) and an iterator over the documents."""
    _check_size(path)
    load_spacy()
    unpack = _unpacker()
    try:
        lay = layout(path, MAX_DOCBIN_BYTES, unpack)
        cats = [_cats(path, index, c) for index, c in enumerate(iter_values(lay, "cats", unpack))]
    except ParseError:
        raise
    except Exception as exc:  # zlib, msgpack, a value of the wrong shape
        raise _not_docbin(path, exc) from None
    return cats, _docs(path, lay, unpack)


def _unpacker() -> Callable[..., Any]:
    """msgpack bytes -> value, as ``srsly.msgpack_loads`` decodes them (its numpy hook
    included), with the hooks looked up once: srsly looks them up in the installed packages'
    entry points on every call (measured: three quarters of a DocBin's reading time)."""
    import srsly

    try:
        from srsly import msgpack as packer

        unpackb = packer._unpackb
        hook = None
        for decoder in packer.msgpack_decoders.get_all().values():
            hook = functools.partial(decoder, chain=hook)
    except (ImportError, AttributeError):  # pragma: no cover - another srsly layout
        return srsly.msgpack_loads  # type: ignore[no-any-return]

    def unpack(data: bytes, use_list: bool = True) -> Any:
        return unpackb(data, raw=False, use_list=use_list, object_hook=hook)

    return unpack


def _cats(path: Path, index: int, cats: Any) -> dict[str, float]:
    """A doc's ``cats``: label -> score, checked (a DocBin is only msgpack: any type fits)."""
    if not isinstance(cats, dict) or not all(
        isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
        for k, v in cats.items()
    ):
        raise ParseError(path, "cats must map labels to finite scores", location=f"doc {index}")
    return {k: float(v) for k, v in cats.items()}


def _why(exc: BaseException) -> str:
    text = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _docs(path: Path, lay: Layout, unpack: Any) -> Iterator[RawDoc]:
    # A fresh, empty vocabulary per file: the file brings its own strings, and no
    # language data is needed (tokenisation is stored, not recomputed).
    import numpy
    from spacy.attrs import ORTH
    from spacy.tokens import Doc as _Doc
    from spacy.tokens._dict_proxies import SpanGroups
    from spacy.vocab import Vocab

    Doc: Any = _Doc  # words are orth hashes here, as in DocBin.get_docs; spaCy's stubs say str
    vocab = Vocab()
    for string in lay.strings:
        vocab[string]  # as DocBin.get_docs: every string a lexeme, so hashes read back as text
    width = len(lay.attrs)
    lists: list[Values] = []
    try:
        try:
            orth = lay.attrs.index(ORTH)
            for key in ("tokens", "spaces", "cats", "flags", "span_groups", "user_data"):
                # one at a time: each is closed in the finally below even if a later one fails
                lists.append(Values(lay, key, unpack, kind="bin" if key in ("tokens", "spaces") else "array"))
            tokens, spaces, cats, flags, groups, user = lists
        except Exception as exc:
            raise _not_docbin(path, exc) from None
        for index, length in enumerate(lay.lengths):
            # spaCy rebuilds each doc from arrays a DocBin only claims to hold: a field of the
            # wrong type or size fails inside spaCy with any exception type, named here.
            try:
                rows = numpy.frombuffer(tokens.take(length * width * 8), dtype="uint64").reshape((length, width))
                space = [bool(b) for b in spaces.take(length)] if spaces.cur is not None else None
                doc_flags = flags.next({})
                if isinstance(doc_flags, dict) and doc_flags.get("has_unknown_spaces"):
                    space = None
                doc = Doc(vocab, words=rows[:, orth], spaces=space).from_array(lay.attrs, rows)
                doc.cats = cats.next({})
                group = groups.next(b"")
                if group and group != SpanGroups._EMPTY_BYTES:
                    doc.spans.from_bytes(group)
                data = user.next(None)
                if data is not None:
                    doc.user_data.update(unpack(data, use_list=False))
                raw = _raw_doc(index, doc)
                _cats(path, index, raw.cats)
            except ParseError:
                raise
            except Exception as exc:
                raise ParseError(path, f"cannot rebuild a document ({_why(exc)})", location=f"doc {index}") from None
            yield raw
    finally:
        for values in lists:
            values.close()


def _raw_doc(index: int, doc: Any) -> RawDoc:
    spans: list[RawSpan] = []
    for i, ent in enumerate(doc.ents):
        spans.append(RawSpan(
            start=ent.start_char, end=ent.end_char, label=ent.label_, group="ents", key=f"ents/{i}",
            element=f"ents[{i}]", kb_id=ent.kb_id_ or None,
        ))  # fmt: skip
    for group_name, group in doc.spans.items():
        scores = group.attrs.get("scores") if hasattr(group, "attrs") else None
        if scores is not None and len(scores) != len(group):
            scores = None
        for i, span in enumerate(group):
            confidence = None
            if scores is not None:
                try:
                    value = float(scores[i])
                except (TypeError, ValueError):
                    value = -1.0
                confidence = value if 0.0 <= value <= 1.0 else None
            spans.append(RawSpan(
                start=span.start_char, end=span.end_char, label=span.label_, group=str(group_name),
                key=f"spans/{group_name}/{i}", element=f"spans[{group_name!r}][{i}]", confidence=confidence,
                kb_id=span.kb_id_ or None,
            ))  # fmt: skip
    global_key = None
    fields: dict[str, str] = {}
    for k, v in (doc.user_data or {}).items():
        if isinstance(k, tuple) and len(k) >= 2 and k[0] == "._." and isinstance(k[1], str):
            name = f"ext_{k[1]}"
        elif isinstance(k, str):
            name = k
            if k in _KEY_NAMES and isinstance(v, str) and v.strip() and global_key is None:
                global_key = v
        else:
            continue
        if _IDENT.match(name) and isinstance(v, (str, int, float)) and not isinstance(v, bool):
            fields[name] = str(v)
    return RawDoc(
        index=index, text=doc.text, spans=tuple(spans), cats=dict(doc.cats), element=f"doc {index}",
        global_key=global_key, fields=fields,
    )  # fmt: skip
