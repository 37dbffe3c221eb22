"""spaCy-family JSON inputs that need no spaCy: v2 training JSON, training tuples, JSONL.

* v2 training JSON (``spacy convert`` input): ``[{"id", "paragraphs": [{"raw"?,
  "sentences": [{"tokens": [{"orth", "ner", ...}]}], "cats": [{"label", "value"}],
  "entities"?: [[start, end, label]]}]}]``. spaCy makes one Doc per paragraph, so do we.
* "simple training" tuples: ``[[text, {"entities": [[start, end, label]], "cats": {...},
  "spans": {group: [[start, end, label]]}}], ...]``.
* records, one JSON object per line (``.jsonl``) or a JSON array of them: ``text`` plus
  Prodigy ``spans`` (``start``/``end``/``label``), doccano ``label``/``labels``/``entities``,
  ``cats``, Prodigy ``answer`` and ``options`` + ``accept``.

Everything becomes :class:`~._docs.RawDoc`; the reader checks offsets afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, cast

from ... import _json
from ...errors import InvalidFieldError, MissingFieldError, ParseError
from ._docs import RawDoc, RawSpan, align_tokens, join_tokens, tags_to_spans

__all__ = ["NOTES", "iter_json_docs", "iter_jsonl_docs", "json_kind"]

#: Dataset-wide notes the parsers can raise: code -> sentence.
NOTES = {
    "raw-text-misaligned": "a v2 JSON paragraph's tokens do not line up with its `raw` text; "
    "its text was rebuilt from the tokens, as `spacy convert` does",
    "token-annotations-dropped": "token-level annotations (tags, POS, lemmas, dependencies, "
    "brackets) have no Labelbox equivalent and are not converted",
    "links-dropped": "entity links (`links`) are not converted; only the entity spans are",
}

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_KEY_NAMES = ("global_key", "globalKey")


def annotator_pairs(data: Any) -> list[Any] | None:
    """The pairs of a NER Annotator export (``{"classes": [...], "annotations": [[text,
    {"entities": [[s, e, label]]}], ...]}``, the tuples spaCy tutorials feed to a DocBin,
    wrapped in an object), or None for any other shape. A COCO file also has
    ``annotations``, but as objects, never as ``[text, {...}]`` pairs."""
    if not isinstance(data, dict) or not isinstance(data.get("annotations"), list):
        return None
    pairs: list[Any] = data["annotations"]
    first = next((x for x in pairs if x is not None), None)
    if first is None:
        return pairs if "classes" in data else None
    if isinstance(first, list) and len(first) == 2 and isinstance(first[0], str) and isinstance(first[1], dict):
        return pairs
    return None


def json_kind(data: Any) -> str | None:
    """``v2``, ``tuples``, ``annotator``, ``records`` or None for a parsed ``.json`` file."""
    if annotator_pairs(data) is not None:
        return "annotator"
    items = data if isinstance(data, list) else [data]
    first = next((x for x in items), None)
    if first is None:
        return "records"  # an empty array: nothing to read, nothing wrong
    if isinstance(first, dict) and "paragraphs" in first:
        return "v2"
    if isinstance(first, list) and len(first) == 2 and isinstance(first[0], str):
        return "tuples"
    if isinstance(first, dict) and "text" in first:
        return "records"
    return None


def load_json(path: Path) -> Any:
    try:
        return _json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(path, f"not valid JSON: {_short(exc)}") from None


def iter_json_docs(path: Path, notes: set[str]) -> Iterator[RawDoc]:
    """The documents of a ``.json`` file, whichever of the three shapes it has."""
    data = load_json(path)
    kind = json_kind(data)
    if kind == "v2":
        yield from _v2_docs(path, data if isinstance(data, list) else [data], notes)
    elif kind == "tuples":
        yield from _tuple_docs(path, data, notes)
    elif kind == "annotator":
        yield from _tuple_docs(path, annotator_pairs(data) or [], notes, prefix="annotations")
    elif kind == "records":
        for i, rec in enumerate(data if isinstance(data, list) else [data]):
            yield _record_doc(path, rec, index=i, line=None, element=f"[{i}]", notes=notes)
    else:
        raise ParseError(
            path,
            "not a spaCy JSON file: expected v2 training JSON (objects with 'paragraphs'), "
            "[text, annotations] pairs (bare, or under 'annotations' as NER Annotator writes them), "
            "or objects with 'text'",
        )


def iter_jsonl_docs(path: Path, notes: set[str]) -> Iterator[RawDoc]:
    """One document per non-blank line, streamed."""
    index = 0
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                rec = _json.loads(raw)
            except (ValueError, UnicodeDecodeError) as exc:
                raise ParseError(path, f"not valid JSON: {_short(exc)}", location=f"line {lineno}") from None
            yield _record_doc(path, rec, index=index, line=lineno, element=None, notes=notes)
            index += 1


# --------------------------------------------------------------------------- records


def _record_doc(path: Path, rec: Any, *, index: int, line: int | None, element: str | None, notes: set[str]) -> RawDoc:
    where = f"line {line}" if line is not None else element
    if not isinstance(rec, dict):
        raise ParseError(path, f"expected a JSON object, got {type(rec).__name__}", location=where)
    text = rec.get("text")
    if text is None:
        raise MissingFieldError(path, "text", location=where)
    if not isinstance(text, str):
        raise InvalidFieldError(path, "text", "must be a string", location=where)
    spans: list[RawSpan] = []
    for field_name in ("spans", "entities", "label", "labels"):
        value = rec.get(field_name)
        if field_name == "label" and isinstance(value, str):
            continue  # Prodigy textcat: a category, read below
        if value is not None:
            spans.extend(_record_spans(path, value, field_name, where))
    cats = _cats(path, rec.get("cats"), where)
    label = rec.get("label")
    if isinstance(label, str):
        cats = {**cats, label: 1.0}
    choices: tuple[str, ...] | None = None
    if "accept" in rec:
        accept = rec["accept"]
        if not isinstance(accept, list) or not all(isinstance(a, (str, int)) and not isinstance(a, bool) for a in accept):
            raise InvalidFieldError(path, "accept", "must be a list of option ids", location=where)
        choices = tuple(str(a) for a in accept)
    if "links" in rec:
        notes.add("links-dropped")
    skip = None
    answer = rec.get("answer")
    if answer is not None and answer != "accept":
        skip = (f"answer-{answer}" if answer in ("reject", "ignore") else "answer-other",
                f"the annotator's answer was {answer!r}, not 'accept'")
    meta = rec.get("meta")
    fields = {}
    if isinstance(meta, dict):
        fields = {f"meta_{k}": str(v) for k, v in meta.items() if _IDENT.match(str(k)) and _scalar(v)}
    global_key = _global_key(rec) or (_global_key(meta) if isinstance(meta, dict) else None)
    return RawDoc(
        index=index, text=text, spans=tuple(spans), cats=cats, choices=choices, line=line,
        element=element, global_key=global_key, fields=fields, skip=skip,
    )  # fmt: skip


def _record_spans(path: Path, value: Any, field_name: str, where: str | None) -> list[RawSpan]:
    if not isinstance(value, list):
        raise InvalidFieldError(path, field_name, "must be a list of spans", location=where)
    out = []
    for i, item in enumerate(value):
        confidence = message_id = text = None
        if type(item) is dict:
            start = item.get("start", item.get("start_offset"))
            end = item.get("end", item.get("end_offset"))
            label = item.get("label")
            score = item.get("score")
            if score is not None and _number(score) and 0.0 <= score <= 1.0:
                confidence = float(score)
            mid = item.get("messageId", item.get("message_id"))
            message_id = None if mid is None else str(mid)
            text = item.get("text")
            if type(text) is not str:
                text = None
        elif isinstance(item, (list, tuple)) and len(item) >= 3:
            start, end, label = item[0], item[1], item[2]
        else:
            raise InvalidFieldError(
                path, f"{field_name}[{i}]", "must be [start, end, label] or an object with start, end, label",
                location=where,
            )  # fmt: skip
        if type(start) is not int or type(end) is not int or type(label) is not str or not label:
            element = f"{field_name}[{i}]"
            _check_span_fields(path, start, end, label, f"{where}, {element}" if where else element)
        out.append(RawSpan(cast(int, start), cast(int, end), cast(str, label), "ents", f"{field_name}/{i}",
                           f"{field_name}[{i}]", confidence, message_id, text))  # fmt: skip (types checked above)
    return out


def _check_span_fields(path: Path, start: Any, end: Any, label: Any, loc: str) -> None:
    for name, v in (("start", start), ("end", end)):
        if v is None:
            raise MissingFieldError(path, name, location=loc)
        if not isinstance(v, int) or isinstance(v, bool):
            raise InvalidFieldError(path, name, f"must be an integer offset, got {v!r}", location=loc)
    if not isinstance(label, str) or not label:
        raise InvalidFieldError(path, "label", f"must be a non-empty string, got {label!r}", location=loc)


def _cats(path: Path, value: Any, where: str | None) -> dict[str, float]:
    if value is None:
        return {}
    if isinstance(value, list):  # v2 JSON: [{"label", "value"}]
        pairs = []
        for item in value:
            if not isinstance(item, dict) or "label" not in item:
                raise InvalidFieldError(path, "cats", "must be a list of {label, value}", location=where)
            pairs.append((item["label"], item.get("value", 1.0)))
    elif isinstance(value, dict):
        pairs = list(value.items())
    else:
        raise InvalidFieldError(path, "cats", "must be an object of label: score", location=where)
    out = {}
    for label, score in pairs:
        if not _number(score) or not 0.0 <= score <= 1.0:
            raise InvalidFieldError(path, f"cats.{label}", f"must be a score within [0, 1], got {score!r}", location=where)
        out[str(label)] = float(score)
    return out


# --------------------------------------------------------------------------- tuples


def _tuple_docs(path: Path, data: list[Any], notes: set[str], *, prefix: str = "") -> Iterator[RawDoc]:
    for i, item in enumerate(data):
        where = f"{prefix}[{i}]"
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str) and isinstance(item[1], dict)):
            raise ParseError(path, "expected a [text, {annotations}] pair", location=where)
        text, ann = item
        spans = _record_spans(path, ann.get("entities", []), "entities", where)
        groups = ann.get("spans") or {}
        if not isinstance(groups, dict):
            raise InvalidFieldError(path, "spans", "must map group names to span lists", location=where)
        for group, items in groups.items():
            for s in _record_spans(path, items, f"spans.{group}", where):
                spans.append(RawSpan(
                    start=s.start, end=s.end, label=s.label, group=str(group),
                    key=f"spans/{group}/{s.key.rsplit('/', 1)[1]}", element=s.element,
                ))  # fmt: skip
        if set(ann) - {"entities", "spans", "cats", "links"}:
            notes.add("token-annotations-dropped")
        if "links" in ann:
            notes.add("links-dropped")
        yield RawDoc(index=i, text=text, spans=tuple(spans), cats=_cats(path, ann.get("cats"), where), element=where)


# --------------------------------------------------------------------------- v2 JSON


def _v2_docs(path: Path, docs: list[Any], notes: set[str]) -> Iterator[RawDoc]:
    index = 0
    for d, doc in enumerate(docs):
        if not isinstance(doc, dict) or not isinstance(doc.get("paragraphs"), list):
            raise MissingFieldError(path, "paragraphs", location=f"[{d}]")
        for p, para in enumerate(doc["paragraphs"]):
            where = f"[{d}].paragraphs[{p}]"
            if not isinstance(para, dict):
                raise ParseError(path, "a paragraph must be an object", location=where)
            yield _v2_paragraph(path, para, index, where, notes)
            index += 1


def _v2_paragraph(path: Path, para: dict[str, Any], index: int, where: str, notes: set[str]) -> RawDoc:
    words: list[str] = []
    spaces: list[Any] = []
    tags: list[Any] = []
    sentences = para.get("sentences") or []
    if not isinstance(sentences, list):
        raise InvalidFieldError(path, "sentences", "must be a list", location=where)
    for s, sent in enumerate(sentences):
        tokens = sent.get("tokens") if isinstance(sent, dict) else None
        if not isinstance(tokens, list):
            raise MissingFieldError(path, "tokens", location=f"{where}.sentences[{s}]")
        for t, tok in enumerate(tokens):
            if not isinstance(tok, dict) or not isinstance(tok.get("orth"), str):
                raise MissingFieldError(path, "orth", location=f"{where}.sentences[{s}].tokens[{t}]")
            if tok.get("ner") is not None and not isinstance(tok["ner"], str):
                raise InvalidFieldError(path, "ner", "must be a string such as 'B-PER' or 'O'",
                                        location=f"{where}.sentences[{s}].tokens[{t}]")
            words.append(tok["orth"])
            spaces.append(tok.get("space"))
            tags.append(tok.get("ner"))
            if set(tok) - {"id", "orth", "space", "ner"}:
                notes.add("token-annotations-dropped")
        if isinstance(sent, dict) and sent.get("brackets"):
            notes.add("token-annotations-dropped")
    if para.get("links"):
        notes.add("links-dropped")
    raw = para.get("raw")
    if raw is not None and not isinstance(raw, str):
        raise InvalidFieldError(path, "raw", "must be a string", location=where)
    spans: list[RawSpan] = []
    if para.get("entities"):  # character offsets into `raw` (or into the rebuilt text)
        text = raw if raw is not None else join_tokens(words, spaces)[0]
        spans = _record_spans(path, para["entities"], "entities", where)
    else:
        offsets = align_tokens(raw, words) if raw is not None else None
        if raw is not None and offsets is not None:
            text = raw
        else:
            if raw is not None:
                notes.add("raw-text-misaligned")
            text, offsets = join_tokens(words, spaces)
        for i, (first, last, label) in enumerate(tags_to_spans(tags)):
            spans.append(RawSpan(
                start=offsets[first][0], end=offsets[last - 1][1], label=label, group="ents",
                key=f"ents/{i}", element=f"tokens[{first}:{last}]",
            ))  # fmt: skip
    return RawDoc(index=index, text=text, spans=tuple(spans), cats=_cats(path, para.get("cats"), where), element=where)


# --------------------------------------------------------------------------- small helpers


def _global_key(obj: Mapping[str, Any]) -> str | None:
    for name in _KEY_NAMES:
        v = obj.get(name)
        if isinstance(v, str) and v.strip():
            return v
    return None


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _scalar(v: Any) -> bool:
    return isinstance(v, (str, int, float)) and not isinstance(v, bool)


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200]
