"""The spaCy reader's neutral document record, and the token helpers its parsers share.

Every spaCy-ish source (DocBin, v2 training JSON, "simple training" tuples, Prodigy or
doccano JSONL) is first turned into :class:`RawDoc` values: the text, its spans with
end-exclusive code-point offsets, its category scores, and where each came from. The reader
then applies one set of rules (range checks, empty spans, thresholds, media) to all of them,
so a rule never differs between two input formats.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

__all__ = ["RawDoc", "RawSpan", "align_tokens", "join_tokens", "tags_to_spans"]


class RawSpan(NamedTuple):
    """One span as the source states it (offsets not yet checked against the text).

    A NamedTuple rather than a frozen dataclass: it is built once per span on the hot path
    and is several times cheaper to construct; it is as immutable.

    ``group`` is ``"ents"`` for ``doc.ents`` (and every plain NER list), otherwise the span
    group key; ``element`` names it inside the document (``spans[3]``) for the report;
    ``text`` is the span text the source repeats (Prodigy), used to catch offsets in the
    wrong unit.
    """

    start: int
    end: int
    label: str
    group: str
    key: str
    element: str
    confidence: float | None = None
    message_id: str | None = None
    text: str | None = None
    kb_id: str | None = None


class RawDoc(NamedTuple):
    """One document of a source file, ready for the reader's common rules.

    ``skip`` (a report code and a sentence) marks a document that must not be written
    (a rejected Prodigy answer); its spans and categories are still counted, as skipped.
    """

    index: int  # type: ignore[assignment]  # a field, shadowing tuple.index on purpose
    text: str
    spans: tuple[RawSpan, ...] = ()
    cats: Mapping[str, float] = {}  # noqa: RUF012 - never mutated
    choices: tuple[str, ...] | None = None
    line: int | None = None
    element: str | None = None
    global_key: str | None = None
    fields: Mapping[str, str] = {}  # noqa: RUF012 - never mutated
    skip: tuple[str, str] | None = None

    def where(self) -> str:
        """The document's place for messages: ``line 4`` or ``doc 2``."""
        if self.line is not None:
            return f"line {self.line}"
        return self.element or f"doc {self.index}"


#: Penn Treebank token spellings of characters the raw text holds (v2 training JSON).
_PTB = {
    "``": ('"', "``"),
    "''": ('"', "''"),
    "-LRB-": ("(",),
    "-RRB-": (")",),
    "-LSB-": ("[",),
    "-RSB-": ("]",),
    "-LCB-": ("{",),
    "-RCB-": ("}",),
}


def align_tokens(raw: str, words: Sequence[str]) -> list[tuple[int, int]] | None:
    """Character offsets of each token inside ``raw``, or None when they do not line up.

    Tokens are found left to right: at the current position, else after skipping
    whitespace. Whitespace tokens (``"\\n"``) match themselves. Penn Treebank quotes and
    brackets (``\\`\\``, ``''``, ``-LRB-``) also match the character they stand for, because
    the v2 training data tokenises that way while its ``raw`` keeps the original text.
    """
    out: list[tuple[int, int]] = []
    pos, n = 0, len(raw)
    for word in words:
        found = _match_at(raw, pos, word)
        if found is None:
            skip = pos
            while skip < n and raw[skip].isspace():
                skip += 1
            found = _match_at(raw, skip, word) if skip != pos else None
            if found is None:
                return None
            pos = skip
        out.append((pos, pos + found))
        pos += found
    return out


def _match_at(raw: str, pos: int, word: str) -> int | None:
    if word and raw.startswith(word, pos):
        return len(word)
    for alt in _PTB.get(word, ()):
        if raw.startswith(alt, pos):
            return len(alt)
    return None


def join_tokens(words: Sequence[str], spaces: Sequence[str | bool | None]) -> tuple[str, list[tuple[int, int]]]:
    """Text rebuilt from tokens (spaCy's rule: a token is followed by its ``space``; unknown
    means one space, none after the last token) and each token's offsets in it."""
    parts: list[str] = []
    offsets: list[tuple[int, int]] = []
    pos = 0
    last = len(words) - 1
    for i, (word, space) in enumerate(zip(words, spaces)):
        offsets.append((pos, pos + len(word)))
        parts.append(word)
        pos += len(word)
        if isinstance(space, str):
            gap = space
        elif space is None:
            gap = "" if i == last else " "
        else:
            gap = " " if space else ""
        parts.append(gap)
        pos += len(gap)
    return "".join(parts), offsets


def tags_to_spans(tags: Sequence[str | None]) -> list[tuple[int, int, str]]:
    """Entity token ranges ``(first, last_exclusive, label)`` from BILUO or IOB tags.

    Tolerant on purpose: IOB (``B-``/``I-``) and BILUO (``B-``/``I-``/``L-``/``U-``) both
    decode, an ``I-``/``L-`` whose label differs from the open entity starts a new one, and
    ``O``, ``-`` or a missing tag (spaCy's "not annotated") close it.
    """
    out: list[tuple[int, int, str]] = []
    open_start: int | None = None
    open_label = ""

    def close(at: int) -> None:
        nonlocal open_start
        if open_start is not None:
            out.append((open_start, at, open_label))
        open_start = None

    for i, tag in enumerate(tags):
        if not tag or tag in ("O", "-") or len(tag) < 3 or tag[1] != "-":
            close(i)
            continue
        prefix, label = tag[0].upper(), tag[2:]
        if prefix in ("B", "U") or open_start is None or label != open_label:
            close(i)
            open_start, open_label = i, label
        if prefix in ("L", "U"):
            close(i + 1)
    close(len(tags))
    return out
