"""spaCy reader: entities, span groups and categories as Labelbox text annotations.

SOURCE is a ``.spacy`` DocBin (needs the ``[spacy]`` extra), a spaCy v2 training JSON,
a ``[text, {"entities": ...}]`` tuples JSON, a JSONL of records (``text`` + Prodigy
``spans`` / doccano ``label``, ``cats``, ``answer``, ``options`` + ``accept``), or a folder
holding such files. Every document becomes one text data row (``Asset.text``); the default
global key is ``{stem}-{index}`` (file stem, 0-based document index in the file) unless the
document names its own in ``user_data`` (or a JSONL record / its ``meta``) as ``global_key``.

Offsets stay what spaCy says they are: Unicode code points, end exclusive (the model's
convention); the writer makes Labelbox's inclusive end and, on request, UTF-16 units. The
text is never normalised (NFC would move every offset after a combining accent).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import _json
from ..errors import ParseError, SourceNotFoundError
from ..model import Annotation, Answer, Asset, Classification, ClassificationKind, Entity, Kind, Media, SourceRef
from ._spacy_docbin import open_docbin
from ._spacy_docs import RawDoc, RawSpan
from ._spacy_json import NOTES, iter_json_docs, iter_jsonl_docs
from .base import Reader, check_options, option, option_error

__all__ = ["MAX_TEXT_CHARS", "SpacyOptions", "SpacyReader"]

#: Labelbox's limit on raw text ``row_data`` (docs.labelbox.com/docs/limits: "64K characters").
MAX_TEXT_CHARS = 64_000

_SUFFIXES = (".spacy", ".json", ".jsonl")
_RESERVED_FIELDS = frozenset({"name", "file_name", "basename", "stem", "dataset", "media", "index"})
_JSON_HEAD = re.compile(rb'^\s*\[\s*(?:\[\s*"|\{[^\[]{0,200}"paragraphs"\s*:)')


@dataclass(frozen=True, slots=True)
class SpacyOptions:
    """Options of the spaCy reader."""

    cat_threshold: float = option(
        0.5,
        help="categories scoring at least this become answers of the cats classification",
        flag="--cat-threshold",
    )
    cats: str = option(
        "auto",
        help="cats as a radio (exclusive), a checklist (multilabel), or auto: radio when every "
        "document of the file has exactly one category >= the threshold",
        flag="--spacy-cats",
        choices=("auto", "exclusive", "multilabel"),
    )
    cats_name: str = option("cats", help="name of the classification made from doc.cats", flag="--spacy-cats-name")
    span_label: str = option(
        "{label}",
        help="entity name template; fields {label} and {group} (span group key, 'ents' for doc.ents), "
        "e.g. '{group}:{label}' to keep span groups apart",
        flag="--spacy-span-label",
    )
    answers: str = option(
        "accept",
        help="Prodigy records to convert: only answer=accept (the gold ones), or all",
        flag="--spacy-answers",
        choices=("accept", "all"),
    )
    choice_name: str = option(
        "choice", help="name of the classification made from Prodigy options + accept", flag="--spacy-choice-name"
    )

    def __post_init__(self) -> None:
        check_options(self)
        if not 0.0 <= self.cat_threshold <= 1.0:
            raise option_error(self, "cat_threshold", f"must be within [0, 1], got {self.cat_threshold}")
        fields = {f for _, f, _, _ in string.Formatter().parse(self.span_label) if f is not None}
        if not fields <= {"label", "group"} or "label" not in fields:
            raise ValueError(f"--spacy-span-label {self.span_label!r}: use {{label}} and optionally {{group}}")
        if not self.cats_name.strip() or not self.choice_name.strip():
            raise ValueError("classification names must not be empty")


class SpacyReader(Reader[SpacyOptions]):
    """spaCy DocBin, v2 training JSON, training tuples and NER/textcat JSONL."""

    format_name = "spacy"
    description = "spaCy .spacy DocBin (extra [spacy]), v2 training JSON, Prodigy/doccano JSONL: entities, span groups, cats"
    media = Media.TEXT
    Options = SpacyOptions
    default_key_template = "{stem}-{index}"
    options: SpacyOptions

    @classmethod
    def sniff(cls, path: Path) -> bool:
        if path.is_dir():
            return any(p.suffix == ".spacy" for p in path.iterdir() if p.is_file())
        suffix = path.suffix.lower()
        if suffix == ".spacy":
            return True
        if suffix not in (".json", ".jsonl"):
            return False
        try:
            with open(path, "rb") as fh:
                head = fh.read(65536)
        except OSError:
            return False
        if suffix == ".json":
            return bool(_JSON_HEAD.match(head.lstrip(b"\xef\xbb\xbf")))
        first = next((ln for ln in head.splitlines() if ln.strip()), b"")
        try:
            rec = _json.loads(first)
        except (ValueError, UnicodeDecodeError):
            return False
        return isinstance(rec, dict) and isinstance(rec.get("text"), str)

    # -- reading ------------------------------------------------------------------------

    def total(self) -> int | None:
        files = [p for p, _ in self._files()]  # JSONL: one doc per line; others known only when parsed
        return sum(_lines(p) for p in files) if all(p.suffix.lower() == ".jsonl" for p in files) else None

    def read(self) -> Iterator[Asset]:
        media = Media.CONVERSATIONAL if self.context.media is Media.CONVERSATIONAL else Media.TEXT
        for path, name in self._files():
            yield from self._read_file(path, name, media)

    def _files(self) -> Iterator[tuple[Path, str]]:
        for source in self.sources:
            if source.is_dir():
                found = sorted(p for p in source.rglob("*") if p.is_file() and p.suffix.lower() in _SUFFIXES)
                if not found:
                    raise SourceNotFoundError(source, "no .spacy, .json or .jsonl files in this folder")
                for p in found:
                    yield p, p.relative_to(source).as_posix()
            elif source.is_file():
                if source.suffix.lower() not in _SUFFIXES:
                    raise ParseError(source, "not a spaCy file: expected .spacy, .json or .jsonl")
                yield source, source.name
            else:
                raise SourceNotFoundError(source)

    def _read_file(self, path: Path, name: str, media: Media) -> Iterator[Asset]:
        notes: set[str] = set()
        suffix = path.suffix.lower()
        docs: Iterable[RawDoc]
        all_cats: Sequence[Mapping[str, float]]
        if suffix == ".spacy":
            all_cats, docs = open_docbin(path)
        elif suffix == ".json":
            docs = list(iter_json_docs(path, notes))  # the file is parsed whole anyway
            all_cats = [d.cats for d in docs if d.skip is None]
        else:
            docs = iter_jsonl_docs(path, notes)
            all_cats = self._jsonl_cats(path) if self.options.cats == "auto" else []
        exclusive = self._exclusive(path, all_cats)
        for doc in docs:
            asset = self._asset(path, name, doc, media, exclusive)
            if asset is not None:
                yield asset
        for code in sorted(notes):
            self.report.note(code, f"{path}: {NOTES[code]}")

    def _jsonl_cats(self, path: Path) -> list[dict[str, float]]:
        """Category scores of every record, for the auto rule; only lines naming cats are
        parsed (errors surface in the main pass, with their line)."""
        out: list[dict[str, float]] = []
        with open(path, "rb") as fh:
            for raw in fh:
                if b'"cats"' not in raw and b'"label"' not in raw:
                    continue
                try:
                    rec = _json.loads(raw.lstrip(b"\xef\xbb\xbf"))
                except (ValueError, UnicodeDecodeError):
                    continue
                if not isinstance(rec, dict) or rec.get("answer", "accept") != "accept":
                    continue
                cats = rec.get("cats")
                scores = dict(cats) if isinstance(cats, dict) else {}
                if isinstance(rec.get("label"), str):
                    scores[rec["label"]] = 1.0
                if scores:
                    out.append(scores)
        return out

    def _exclusive(self, path: Path, all_cats: list[dict[str, float]] | list[Any]) -> bool:
        if self.options.cats != "auto":
            return self.options.cats == "exclusive"
        with_cats = [c for c in all_cats if c]
        if not with_cats:
            return False
        thr = self.options.cat_threshold
        exclusive = all(sum(1 for s in c.values() if _score(s) >= thr) == 1 for c in with_cats)
        how = "exclusive (one radio answer)" if exclusive else "multilabel (a checklist)"
        self.report.note(
            "cats-exclusive" if exclusive else "cats-multilabel",
            f"{path}: categories read as {how}: "
            + ("every document has exactly one" if exclusive else "not every document has exactly one")
            + f" category scoring >= {thr:g}; --spacy-cats exclusive|multilabel overrides this",
        )
        return exclusive

    # -- one document -------------------------------------------------------------------

    def _asset(self, path: Path, name: str, doc: RawDoc, media: Media, exclusive: bool) -> Asset | None:
        file = str(path)
        if doc.skip is not None and self.options.answers == "accept":
            self._skip_doc(file, doc, exclusive)
            return None
        if len(doc.text) > MAX_TEXT_CHARS:
            raise ParseError(
                path,
                f"document {doc.index} has {len(doc.text):,} characters; a Labelbox text data row "
                f"holds at most {MAX_TEXT_CHARS:,}",
                location=doc.where(),
            )
        annotations: list[Annotation] = []
        for span in doc.spans:
            ann = self._entity(file, doc, span, media)
            if ann is not None:
                annotations.append(ann)
        if doc.cats:
            ann = self._cats(file, doc, exclusive)
            if ann is not None:
                annotations.append(ann)
        if doc.choices is not None:
            ann = self._choice(file, doc)
            if ann is not None:
                annotations.append(ann)
        fields = {k: v for k, v in doc.fields.items() if k not in _RESERVED_FIELDS}
        fields["index"] = str(doc.index)
        return Asset(
            name=name,
            media=media,
            source=SourceRef(file=file, line=doc.line, element=None if doc.line else doc.element),
            annotations=tuple(annotations),
            text=doc.text,
            global_key=doc.global_key,
            fields=fields,
        )

    def _ref(self, file: str, doc: RawDoc, element: str) -> SourceRef:
        if doc.line is not None:
            return SourceRef(file=file, line=doc.line, element=element)
        return SourceRef(file=file, element=f"{doc.element or f'doc {doc.index}'} {element}")

    def _entity(self, file: str, doc: RawDoc, span: RawSpan, media: Media) -> Annotation | None:
        ref = self._ref(file, doc, span.element)
        text = doc.text
        problem = None
        if span.start < 0 or span.end > len(text) or span.end < span.start:
            problem = ("span-out-of-range", f"span [{span.start}, {span.end}) lies outside the {len(text)}-character text")
        elif span.start == span.end:
            problem = ("empty-span", "an empty span cannot be a Labelbox entity (its end is inclusive)")
        elif text[span.start : span.end].isspace():
            problem = ("whitespace-span", f"span [{span.start}, {span.end}) covers only whitespace")
        elif span.text is not None and span.text != text[span.start : span.end]:
            problem = (
                "span-text-mismatch",
                f"the record says the span is {span.text!r} but the text there is "
                f"{text[span.start:span.end]!r} (offsets in another unit?)",
            )
        elif media is Media.CONVERSATIONAL and span.message_id is None:
            problem = ("no-message-id", "a conversational entity needs the messageId of its message")
        if problem is not None:
            self.report.skip_unread(ref, Kind.ENTITY, *problem)
            return None
        message_id = span.message_id if media is Media.CONVERSATIONAL else None
        if span.message_id is not None and message_id is None:
            self.report.note("message-id-dropped", "entities carry message ids, which text data rows do not use; "
                             "convert with --media conversational to keep them")
        nested = (Classification.free_text("kb_id", span.kb_id),) if span.kb_id else ()
        return Annotation(
            key=span.key,
            source=ref,
            label=self.options.span_label.format(label=span.label, group=span.group),
            shape=Entity(start=span.start, end=span.end, message_id=message_id),
            classifications=nested,
            confidence=span.confidence,
        )

    def _cats(self, file: str, doc: RawDoc, exclusive: bool) -> Annotation | None:
        ref = self._ref(file, doc, "cats")
        self.report.tally("cat-labels-read", len(doc.cats))
        kind = ClassificationKind.RADIO if exclusive else ClassificationKind.CHECKLIST
        thr = self.options.cat_threshold
        chosen = [(label, s) for label, s in doc.cats.items() if s >= thr]
        if not chosen:
            self.report.skip_unread(ref, Kind(kind.value), "no-category-above-threshold",
                                    f"no category scores >= {thr:g} (--cat-threshold)")
            return None
        if exclusive and len(chosen) > 1:
            best = max(chosen, key=lambda ls: ls[1])
            self.report.change(ref, Kind.RADIO, "changed", "cats-not-exclusive",
                               f"{len(chosen)} categories score >= {thr:g}; kept the highest, {best[0]!r}")
            chosen = [best]
        scored = any(s not in (0.0, 1.0) for s in doc.cats.values())
        answers = tuple(Answer(name=label, confidence=s if scored else None) for label, s in chosen)
        return Annotation(key="cats", source=ref, classification=Classification(
            name=self.options.cats_name, kind=kind, answers=answers))  # fmt: skip

    def _choice(self, file: str, doc: RawDoc) -> Annotation | None:
        ref = self._ref(file, doc, "accept")
        if not doc.choices:
            self.report.skip_unread(ref, Kind.CHECKLIST, "no-choice-accepted", "the record accepted none of its options")
            return None
        if len(doc.choices) == 1:
            cls = Classification.radio(self.options.choice_name, doc.choices[0])
        else:
            cls = Classification.checklist(self.options.choice_name, doc.choices)
        return Annotation(key="accept", source=ref, classification=cls)

    def _skip_doc(self, file: str, doc: RawDoc, exclusive: bool) -> None:
        assert doc.skip is not None
        code, message = doc.skip
        self.report.tally("documents-skipped-answer")
        for span in doc.spans:
            self.report.skip_unread(self._ref(file, doc, span.element), Kind.ENTITY, code, message)
        if doc.cats:
            self.report.tally("cat-labels-read", len(doc.cats))
            kind = Kind.RADIO if exclusive else Kind.CHECKLIST
            self.report.skip_unread(self._ref(file, doc, "cats"), kind, code, message)
        if doc.choices is not None:
            kind = Kind.RADIO if len(doc.choices) == 1 else Kind.CHECKLIST
            self.report.skip_unread(self._ref(file, doc, "accept"), kind, code, message)


def _score(value: object) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _lines(path: Path) -> int:
    """Non-blank lines of a JSONL file (the progress total)."""
    with open(path, "rb") as fh:
        return sum(1 for line in fh if line.strip())
