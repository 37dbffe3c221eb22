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

import math
import os
import re
import string
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ... import _json
from ...errors import InvalidFieldError, ParseError, SourceNotFoundError
from ...model import Annotation, Answer, Asset, Classification, ClassificationKind, Entity, Kind, Media, SourceRef
from ._docbin import open_docbin
from ._docs import RawDoc, RawSpan
from ._json_docs import NOTES, iter_json_docs, iter_jsonl_docs
from .._paths import Confinement
from ..base import Reader, Shard, check_options, option, option_error

__all__ = ["MAX_TEXT_CHARS", "SpacyOptions", "SpacyReader"]

#: Labelbox's limit on raw text ``row_data`` (docs.labelbox.com/docs/limits: "64K characters").
MAX_TEXT_CHARS = 64_000

_SUFFIXES = (".spacy", ".json", ".jsonl")
_RESERVED_FIELDS = frozenset({"name", "file_name", "basename", "stem", "dataset", "media", "index"})
_JSON_HEAD = re.compile(rb'^\s*\[\s*(?:\[\s*"|\{[^\[]{0,200}"paragraphs"\s*:)')
#: NER Annotator exports: an object whose "annotations" are [text, {...}] pairs.
_ANNOTATOR_HEAD = re.compile(rb'"annotations"\s*:\s*\[\s*\[\s*"')


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
        help="cats as a radio, a checklist, or auto: per label set (labels listed together in a "
        "document's cats), a radio when every document with that set has exactly one label >= the "
        "threshold, else a checklist (exclusive / multilabel: old names of radio / checklist)",
        flag="--spacy-cats",
        choices=("auto", "radio", "checklist", "exclusive", "multilabel"),
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


def _walk(source: Path) -> list[Path]:
    """The .spacy / .json / .jsonl files below ``source``, sorted. Linked folders are entered
    (each real folder once, so a link cycle ends) and their files then checked like any
    other: a link leading outside the SOURCE is refused, not silently passed over."""
    found: list[Path] = []
    seen: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(source, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:
            dirnames[:] = []
            continue
        seen.add(real)
        found.extend(Path(dirpath, f) for f in filenames if Path(f).suffix.lower() in _SUFFIXES)
    return sorted(p for p in found if p.is_file())


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
            head = head.lstrip(b"\xef\xbb\xbf")
            return bool(_JSON_HEAD.match(head) or (head.lstrip().startswith(b"{") and _ANNOTATOR_HEAD.search(head)))
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

    def shards(self) -> Sequence[Shard]:
        """One shard per file (a DocBin, a training JSON, a JSONL file)."""
        return tuple(Shard(i, str(path), (str(path), name)) for i, (path, name) in enumerate(self._files()))

    def read_shard(self, shard: Shard) -> Iterator[Asset]:
        path, name = shard.unit
        media = Media.CONVERSATIONAL if self.context.media is Media.CONVERSATIONAL else Media.TEXT
        return self._read_file(Path(path), name, media)

    def _files(self) -> Iterator[tuple[Path, str]]:
        for source in self.sources:
            if source.is_dir():
                conf = Confinement(source, self.context.follow_links)
                found = _walk(source)
                if not found:
                    raise SourceNotFoundError(source, "no .spacy, .json or .jsonl files in this folder")
                for p in found:
                    yield conf.check(p), p.relative_to(source).as_posix()
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
            all_cats = self._jsonl_cats(path)  # label sets are known before the first document
        exclusive = self._cat_sets(path, all_cats)
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

    def _cat_sets(self, path: Path, all_cats: Sequence[Mapping[str, float]]) -> _CatSets:
        """The file's label sets, each a radio or a checklist.

        spaCy does not record whether categories exclude each other. A *label set* is a group
        of labels that documents list together (sentiment: positive / negative / neutral;
        records naming a single label, as Prodigy textcat does, form one set of their own).
        With ``auto`` a set that is one-hot in every document carrying it is what a Labelbox
        user models as a radio; any other set is a checklist.
        """
        with_cats = [c for c in all_cats if c]
        sets = _label_sets(with_cats)
        o = self.options
        forced = {"radio": True, "exclusive": True, "checklist": False, "multilabel": False}.get(o.cats)
        thr = o.cat_threshold
        exclusive: dict[frozenset[str], bool] = {}
        for labels in sets:
            if forced is not None:
                exclusive[labels] = forced
                continue
            carrying = [c for c in with_cats if labels.intersection(c)]
            exclusive[labels] = all(sum(1 for k, s in c.items() if k in labels and _score(s) >= thr) == 1 for c in carrying)
            how = "a radio" if exclusive[labels] else "a checklist"
            self.report.note(
                "cats-exclusive" if exclusive[labels] else "cats-multilabel",
                f"{path}: categories {', '.join(sorted(labels))} read as {how}: "
                + ("every document has exactly one" if exclusive[labels] else "not every document has exactly one")
                + f" of them scoring >= {thr:g}; --spacy-cats radio|checklist overrides this",
            )
        return _CatSets(exclusive, o.cats_name, bool(forced))

    # -- one document -------------------------------------------------------------------

    def _asset(self, path: Path, name: str, doc: RawDoc, media: Media, exclusive: _CatSets) -> Asset | None:
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
            annotations.extend(self._cats(file, doc, exclusive))
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
        if not span.label.strip():
            raise InvalidFieldError(file, "label", "is empty: an entity needs a class name", location=ref.location())
        nested = (Classification.free_text("kb_id", span.kb_id),) if span.kb_id else ()
        return Annotation(
            key=span.key,
            source=ref,
            label=self.options.span_label.format(label=span.label, group=span.group),
            shape=Entity(start=span.start, end=span.end, message_id=message_id),
            classifications=nested,
            confidence=span.confidence,
        )

    def _cats(self, file: str, doc: RawDoc, sets: _CatSets) -> list[Annotation]:
        """One radio or checklist per label set the document carries."""
        self.report.tally("cat-labels-read", len(doc.cats))
        scored = any(s not in (0.0, 1.0) for s in doc.cats.values())
        out = []
        for labels, name, exclusive in sets.of(doc.cats):
            ref = self._ref(file, doc, "cats" if name == self.options.cats_name else f"cats {name}")
            kind = ClassificationKind.RADIO if exclusive else ClassificationKind.CHECKLIST
            thr = self.options.cat_threshold
            chosen = [(label, s) for label, s in doc.cats.items() if label in labels and s >= thr]
            if not chosen:
                self.report.skip_unread(ref, Kind(kind.value), "no-category-above-threshold",
                                        f"no category scores >= {thr:g} (--cat-threshold)")
                continue
            if exclusive and len(chosen) > 1:
                best = max(chosen, key=lambda ls: ls[1])
                self.report.change(ref, Kind.RADIO, "changed", "cats-not-exclusive",
                                   f"{len(chosen)} categories score >= {thr:g}; kept the highest, {best[0]!r}")
                chosen = [best]
            answers = tuple(Answer(name=label, confidence=s if scored else None) for label, s in chosen)
            key = "cats" if name == self.options.cats_name else f"cats/{name}"
            out.append(Annotation(key=key, source=ref, classification=Classification(name=name, kind=kind, answers=answers)))
        return out

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

    def _skip_doc(self, file: str, doc: RawDoc, sets: _CatSets) -> None:
        assert doc.skip is not None
        code, message = doc.skip
        self.report.tally("documents-skipped-answer")
        for span in doc.spans:
            self.report.skip_unread(self._ref(file, doc, span.element), Kind.ENTITY, code, message)
        if doc.cats:
            self.report.tally("cat-labels-read", len(doc.cats))
            for _, name, exclusive in sets.of(doc.cats):
                kind = Kind.RADIO if exclusive else Kind.CHECKLIST
                where = "cats" if name == self.options.cats_name else f"cats {name}"
                self.report.skip_unread(self._ref(file, doc, where), kind, code, message)
        if doc.choices is not None:
            kind = Kind.RADIO if len(doc.choices) == 1 else Kind.CHECKLIST
            self.report.skip_unread(self._ref(file, doc, "accept"), kind, code, message)


class _CatSets:
    """A file's category label sets: which labels form each, its name, radio or not."""

    def __init__(self, exclusive: dict[frozenset[str], bool], base_name: str, default: bool) -> None:
        self._base, self._default = base_name, default
        self._sets = sorted(exclusive, key=lambda ls: sorted(ls))
        self._exclusive = exclusive
        several = len(self._sets) > 1
        # One set keeps the plain name; several are told apart by their labels (sorted, so
        # the name does not depend on the order documents come in).
        self._names = {ls: f"{base_name} ({', '.join(sorted(ls))})" if several else base_name for ls in self._sets}
        self._of_label = {label: ls for ls in self._sets for label in ls}

    def of(self, cats: Mapping[str, float]) -> list[tuple[frozenset[str], str, bool]]:
        found = {self._of_label[k] for k in cats if k in self._of_label}
        loose = frozenset(k for k in cats if k not in self._of_label)  # not seen by the pre-scan
        out = [(ls, self._names[ls], self._exclusive[ls]) for ls in self._sets if ls in found]
        if loose:
            out.append((loose, self._base, self._default))
        return out


def _label_sets(all_cats: Sequence[Mapping[str, float]]) -> list[frozenset[str]]:
    """The label sets of a file's categories.

    Labels listed in exactly the same documents form a set (a DocBin lists every label in
    every document: one set; sentiment labels listed in some documents and topic labels in
    others: two sets). Labels left on their own (records naming one label, as Prodigy
    textcat writes them, or only the labels that apply, as doccano does) form one set between
    them, so they are never each a radio of one option.
    """
    seen_in: dict[str, list[int]] = {}
    for i, cats in enumerate(all_cats):
        for label in cats:
            seen_in.setdefault(label, []).append(i)
    by_signature: dict[tuple[int, ...], set[str]] = {}
    for label, docs in seen_in.items():
        by_signature.setdefault(tuple(docs), set()).add(label)
    sets = [frozenset(g) for g in by_signature.values() if len(g) > 1]
    rest = frozenset(label for g in by_signature.values() if len(g) == 1 for label in g)
    if rest:
        sets.append(rest)
    return sets


def _score(value: object) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return 0.0
    try:
        return float(value)
    except OverflowError:  # a 400-digit int: beyond any threshold (the main pass refuses it)
        return math.inf if value > 0 else -math.inf


def _lines(path: Path) -> int:
    """Non-blank lines of a JSONL file (the progress total)."""
    with open(path, "rb") as fh:
        return sum(1 for line in fh if line.strip())
