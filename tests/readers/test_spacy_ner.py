"""spaCy reader: DocBin (with the [spacy] extra), v2 JSON, tuples, Prodigy/doccano JSONL.

Tests marked ``spacy`` need spaCy and skip without it; everything else runs in the core
environment (CI runs both). Fixtures are read in place from ../shared/fixtures-public/spacy/.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from converters.cli import main
from converters.errors import MissingDependencyError, ParseError, SourceNotFoundError
from converters.model import ClassificationKind, Entity, Media
from converters.readers.base import ReadContext
from converters.readers.spacy_ner import MAX_TEXT_CHARS, SpacyOptions, SpacyReader
from converters.report import Report
from tests.conftest import FIXTURES, ROOT, read_ndjson, shared_json

SPACY = FIXTURES / "spacy"
GEN = SPACY / "generated-spacy-3.8.18"
EXAMPLES = SPACY / "spaCy" / "extra" / "example_data"
PROJECTS = SPACY / "explosion-projects"
MANIFEST = shared_json(GEN / "MANIFEST.json") or {"files": {}}

JSON_FIXTURES = [
    EXAMPLES / "training-data.json",
    EXAMPLES / "ner_example_data" / "ner-token-per-line.json",
    EXAMPLES / "ner_example_data" / "ner-sent-per-line.json",
    EXAMPLES / "textcat_example_data" / "cooking.json",
    EXAMPLES / "textcat_example_data" / "cooking.jsonl",
    PROJECTS / "pipelines" / "ner_demo_update" / "assets" / "train.json",
    PROJECTS / "pipelines" / "textcat_multilabel_demo" / "assets" / "cooking-train.jsonl",
    PROJECTS / "tutorials" / "nel_emerson" / "assets" / "emerson_annotated_text.jsonl",
    PROJECTS / "tutorials" / "ner_fashion_brands" / "assets" / "fashion_brands_training.jsonl",
]
DOCBINS = sorted(GEN.rglob("*.spacy"))


def read(paths, report: Report | None = None, media: Media | None = None, **options):
    paths = paths if isinstance(paths, list) else [paths]
    ctx = ReadContext(report=report or Report(), media=media)
    return list(SpacyReader(paths, options=SpacyOptions(**options), context=ctx).read())


def entities(asset):
    return [a for a in asset.annotations if isinstance(a.shape, Entity)]


def cats_of(asset):
    return next((a.classification for a in asset.annotations if a.key == "cats"), None)


def write_jsonl(path: Path, records) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def convert(tmp_path: Path, src: Path, *extra: str, name: str = "out") -> tuple[int, Path]:
    out = tmp_path / f"{name}.ndjson"
    code = main(["convert", str(src), "-o", str(out), "--from", "spacy", "--quiet", *extra])
    return code, out


# --------------------------------------------------------------------------- sniffing


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (GEN / "ner_en_unicode.spacy", True),
        (EXAMPLES / "training-data.json", True),
        (PROJECTS / "pipelines" / "ner_demo_update" / "assets" / "train.json", True),
        (EXAMPLES / "textcat_example_data" / "cooking.jsonl", True),
        (GEN / "MANIFEST.json", False),
        (EXAMPLES / "textcat_example_data" / "CC_BY-SA-4.0.txt", False),
        (GEN, True),
        (EXAMPLES, False),
    ],
    ids=lambda v: v.name if isinstance(v, Path) else str(v),
)
def test_sniff(path: Path, expected: bool) -> None:
    assert SpacyReader.sniff(path) is expected


def test_sniff_rejects_coco_and_broken_jsonl(tmp_path: Path) -> None:
    coco = tmp_path / "instances.json"
    coco.write_text('{"images": [], "annotations": [], "categories": []}')
    bad = tmp_path / "x.jsonl"
    bad.write_text("{not json\n")
    assert not SpacyReader.sniff(coco)
    assert not SpacyReader.sniff(bad)


# --------------------------------------------------------------------------- JSON inputs (no spaCy needed)


def _expected_jsonl(path: Path) -> tuple[int, int]:
    """(documents, spans) counted straight from the file: accepted records only."""
    docs = spans = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        if rec.get("answer", "accept") != "accept":
            continue
        docs += 1
        spans += len(rec.get("spans", []))
    return docs, spans


@pytest.mark.parametrize("path", [p for p in JSON_FIXTURES if p.suffix == ".jsonl"], ids=lambda p: p.name)
def test_jsonl_fixture_counts_and_span_texts(path: Path) -> None:
    report = Report()
    assets = read(path, report)
    docs, spans = _expected_jsonl(path)
    assert len(assets) == docs
    assert sum(len(entities(a)) for a in assets) == spans
    records = [json.loads(ln) for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    for asset in assets:
        rec = records[int(asset.fields["index"])]
        assert asset.text == rec["text"]
        for ann, span in zip(entities(asset), rec.get("spans", [])):
            assert asset.text[ann.shape.start : ann.shape.end] == span.get("text", asset.text[span["start"] : span["end"]])
            assert ann.label == span["label"]
    assert report.total_skipped == 0
    report.check()


def test_v2_training_json_keeps_raw_text_through_ptb_quotes() -> None:
    (asset,) = read(EXAMPLES / "training-data.json")
    raw = json.loads((EXAMPLES / "training-data.json").read_text())[0]["paragraphs"][0]["raw"]
    assert asset.text == raw
    got = [(asset.text[e.shape.start : e.shape.end], e.label) for e in entities(asset)]
    assert got[:3] == [("Oct. 19", "DATE"), ("The Misanthrope", "WORK_OF_ART"), ("Chicago", "GPE")]
    assert len(got) == 11


def test_v2_json_without_raw_joins_tokens_like_spacy_convert() -> None:
    (asset,) = read(EXAMPLES / "ner_example_data" / "ner-token-per-line.json")
    assert asset.text.startswith("When Sebastian Thrun started working on self - driving cars at Google in 2007 ,")
    got = [(asset.text[e.shape.start : e.shape.end], e.label) for e in entities(asset)]
    assert got[:3] == [("Sebastian Thrun", "PERSON"), ("Google", "ORG"), ("2007", "DATE")]


def test_v2_json_cats_and_misaligned_raw(tmp_path: Path) -> None:
    doc = {"id": 0, "paragraphs": [{"raw": "Hello  world!", "sentences": [{"tokens": [
        {"orth": "Hallo", "ner": "U-GREETING"}, {"orth": "world", "ner": "O"}, {"orth": "!", "ner": "O"}]}],
        "cats": [{"label": "A", "value": 1.0}, {"label": "B", "value": 0.0}]}]}  # fmt: skip
    path = tmp_path / "v2.json"
    path.write_text(json.dumps([doc]))
    report = Report()
    (asset,) = read(path, report)
    assert asset.text == "Hallo world !"  # tokens disagree with raw: rebuilt, and said so
    assert [n["code"] for n in report.notes].count("raw-text-misaligned") == 1
    assert [(asset.text[e.shape.start : e.shape.end], e.label) for e in entities(asset)] == [("Hallo", "GREETING")]
    assert cats_of(asset).kind is ClassificationKind.RADIO


def test_tuples_json_entities_exact() -> None:
    assets = read(PROJECTS / "pipelines" / "ner_demo_update" / "assets" / "train.json")
    data = json.loads((PROJECTS / "pipelines" / "ner_demo_update" / "assets" / "train.json").read_text())
    assert len(assets) == len(data) == 8
    for asset, (text, ann) in zip(assets, data):
        assert asset.text == text
        assert [(e.shape.start, e.shape.end, e.label) for e in entities(asset)] == [tuple(x) for x in ann["entities"]]


@pytest.mark.parametrize(
    ("path", "kind", "first_answers"),
    [
        (EXAMPLES / "textcat_example_data" / "cooking.jsonl", ClassificationKind.RADIO, ["not_baking"]),
        (EXAMPLES / "textcat_example_data" / "cooking.json", ClassificationKind.RADIO, ["not_baking"]),
        (PROJECTS / "pipelines" / "textcat_multilabel_demo" / "assets" / "cooking-train.jsonl",
         ClassificationKind.CHECKLIST, ["OTHER", "baking"]),
    ],  # fmt: skip
    ids=lambda v: v.name if isinstance(v, Path) else str(v),
)
def test_cats_exclusivity_is_inferred_per_file(path: Path, kind, first_answers) -> None:
    report = Report()
    assets = read(path, report)
    cls = cats_of(assets[0])
    assert cls.kind is kind
    assert [a.name for a in cls.answers] == first_answers
    assert all(a.confidence is None for a in cls.answers)  # 0/1 scores are gold, not predictions
    assert {n["code"] for n in report.notes} >= {"cats-exclusive" if kind is ClassificationKind.RADIO else "cats-multilabel"}


def test_cats_threshold_confidence_and_forced_exclusive(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "c.jsonl", [
        {"text": "a", "cats": {"X": 0.91, "Y": 0.64, "Z": 0.03}},
        {"text": "b", "cats": {"X": 0.2, "Y": 0.1, "Z": 0.0}},
    ])  # fmt: skip
    report = Report()
    a, b = read(path, report)
    assert [(x.name, x.confidence) for x in cats_of(a).answers] == [("X", 0.91), ("Y", 0.64)]
    assert cats_of(b) is None
    assert report.reasons() == Counter({"no-category-above-threshold": 1})
    assert report.tallies["cat-labels-read"] == 6
    report = Report()
    a, _ = read(path, report, cats="exclusive", cat_threshold=0.6)
    assert cats_of(a).kind is ClassificationKind.RADIO and cats_of(a).answers[0].name == "X"
    assert [e.code for e in report.entries] == ["cats-not-exclusive", "no-category-above-threshold"]
    a, b = read(path, cat_threshold=0.15, cats_name="topic")
    assert cats_of(b).name == "topic" and [x.name for x in cats_of(b).answers] == ["X"]


def test_prodigy_answers_and_choices(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "p.jsonl", [
        {"text": "Emerson won.", "spans": [{"start": 0, "end": 7, "label": "PERSON", "score": 0.8}],
         "options": [{"id": "Q1"}, {"id": "Q2"}], "accept": ["Q2"], "answer": "accept"},
        {"text": "Bad one.", "spans": [{"start": 0, "end": 3, "label": "X"}], "answer": "reject"},
        {"text": "Skip me.", "spans": [{"start": 0, "end": 4, "label": "X"}], "answer": "ignore"},
        {"text": "Two picks.", "accept": ["A", "B"], "answer": "accept"},
        {"text": "No pick.", "accept": [], "answer": "accept"},
        {"text": "Great!", "label": "POSITIVE", "answer": "accept"},
    ])  # fmt: skip
    report = Report()
    assets = read(path, report)
    assert [a.fields["index"] for a in assets] == ["0", "3", "4", "5"]  # indexes stay the record's
    first = assets[0]
    assert entities(first)[0].confidence == 0.8
    choice = next(a.classification for a in first.annotations if a.key == "accept")
    assert choice.name == "choice" and choice.kind is ClassificationKind.RADIO and choice.answers[0].name == "Q2"
    two = next(a.classification for a in assets[1].annotations if a.key == "accept")
    assert two.kind is ClassificationKind.CHECKLIST and [x.name for x in two.answers] == ["A", "B"]
    assert cats_of(assets[3]).answers[0].name == "POSITIVE"
    assert report.reasons() == Counter({"answer-reject": 1, "answer-ignore": 1, "no-choice-accepted": 1})
    assert report.tallies["documents-skipped-answer"] == 2
    assert report.read["entity"] == report.skipped["entity"] == 2  # a reader counts only what it drops
    assert len(read(path, answers="all")) == 6


@pytest.mark.parametrize(
    ("span", "code"),
    [
        ({"start": 3, "end": 99, "label": "X"}, "span-out-of-range"),
        ({"start": 5, "end": 2, "label": "X"}, "span-out-of-range"),
        ({"start": -1, "end": 2, "label": "X"}, "span-out-of-range"),
        ({"start": 2, "end": 2, "label": "X"}, "empty-span"),
        ({"start": 5, "end": 6, "label": "X"}, "whitespace-span"),
        ({"start": 0, "end": 5, "label": "X", "text": "Hallo"}, "span-text-mismatch"),
    ],
)
def test_unusable_spans_are_skipped_and_reported(tmp_path: Path, span, code) -> None:
    path = write_jsonl(tmp_path / "s.jsonl", [{"text": "Hello world", "spans": [span, {"start": 6, "end": 11, "label": "OK"}]}])
    report = Report()
    (asset,) = read(path, report)
    assert [e.label for e in entities(asset)] == ["OK"]
    (entry,) = report.entries
    assert (entry.code, entry.kind, entry.source.line, entry.source.element) == (code, "entity", 1, "spans[0]")
    assert report.read["entity"] == report.skipped["entity"] == 1  # counted read and skipped


def test_doccano_and_span_label_template(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", [
        {"text": "Alice met Bob", "label": [[0, 5, "PER"], [10, 13, "PER"]]},
        {"text": "Carol", "entities": [{"id": 1, "label": "PER", "start_offset": 0, "end_offset": 5}]},
    ])  # fmt: skip
    a, b = read(path, span_label="{group}:{label}")
    assert [(e.shape.start, e.shape.end, e.label) for e in entities(a)] == [(0, 5, "ents:PER"), (10, 13, "ents:PER")]
    assert [e.key for e in entities(b)] == ["entities/0"]


@pytest.mark.parametrize(
    ("lines", "needle"),
    [
        (['{"text": "ok"}', "{broken"], "line 2: not valid JSON"),
        (['{"nope": 1}'], "line 1: missing field 'text'"),
        (['["a", "b"]'], "line 1: expected a JSON object"),
        (['{"text": 5}'], "line 1: field 'text' must be a string"),
        (['{"text": "ab", "spans": [{"start": "0", "end": 1, "label": "X"}]}'], "line 1, spans[0]: field 'start'"),
        (['{"text": "ab", "spans": [{"start": true, "end": 1, "label": "X"}]}'], "line 1, spans[0]: field 'start'"),
        (['{"text": "ab", "spans": [{"start": 0, "end": 1}]}'], "line 1, spans[0]: field 'label'"),
        (['{"text": "ab", "spans": [{"end": 1, "label": "X"}]}'], "line 1, spans[0]: missing field 'start'"),
        (['{"text": "ab", "spans": "x"}'], "line 1: field 'spans' must be a list"),
        (['{"text": "ab", "cats": {"A": 2}}'], "line 1: field 'cats.A' must be a score"),
        (['{"text": "ab", "accept": "Q1"}'], "line 1: field 'accept'"),
    ],
)
def test_bad_jsonl_is_a_one_line_parse_error(tmp_path: Path, lines, needle) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ParseError) as err:
        read(path)
    message = str(err.value)
    assert "\n" not in message and message.startswith(str(path)) and needle in message


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ('{"a": ', "not valid JSON"),
        ('{"images": []}', "not a spaCy JSON file"),
        ('[["text", "not a dict"]]', "[0]: expected a [text, {annotations}] pair"),
        ('[{"id": 0, "paragraphs": [{"sentences": [{"tokens": [{"ner": "O"}]}]}]}]',
         "[0].paragraphs[0].sentences[0].tokens[0]: missing field 'orth'"),
        ('[{"id": 0, "paragraphs": 3}]', "[0]: missing field 'paragraphs'"),
        ('[["abc", {"entities": [[0, 1]]}]]', "field 'entities[0]' must be [start, end, label]"),
    ],  # fmt: skip
)
def test_bad_json_is_a_one_line_parse_error(tmp_path: Path, content: str, needle: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ParseError) as err:
        read(path)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_text_over_labelbox_limit_names_the_document(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "big.jsonl", [{"text": "ok"}, {"text": "x" * MAX_TEXT_CHARS}, {"text": "y" * (MAX_TEXT_CHARS + 1)}])
    with pytest.raises(ParseError) as err:
        read(path)
    assert str(err.value) == (
        f"{path}, line 3: document 2 has 64,001 characters; a Labelbox text data row holds at most 64,000"
    )


def test_streams_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text('{"text": "first"}\n{broken\n')
    it = SpacyReader([path]).read()
    assert next(it).text == "first"  # yielded before the bad line is even read
    with pytest.raises(ParseError):
        next(it)


def test_sources_folder_and_missing(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    write_jsonl(tmp_path / "sub" / "a.jsonl", [{"text": "A"}])
    (tmp_path / "b.json").write_text('[["B", {"entities": []}]]')
    (tmp_path / "notes.txt").write_text("ignored")
    assets = read(tmp_path)
    assert [(a.name, a.text) for a in assets] == [("b.json", "B"), ("sub/a.jsonl", "A")]
    with pytest.raises(SourceNotFoundError):
        read(tmp_path / "sub" / "nothing")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SourceNotFoundError, match="no .spacy"):
        read(empty)
    with pytest.raises(ParseError, match="expected .spacy, .json or .jsonl"):
        read(tmp_path / "notes.txt")


def test_global_keys_and_template_fields(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "k.jsonl", [
        {"text": "a", "meta": {"id": "7", "name": "shadow?"}},
        {"text": "b", "global_key": "doc-b"},
        {"text": "c", "meta": {"globalKey": "doc-c"}},
    ])  # fmt: skip
    a, b, c = read(path)
    assert a.global_key is None and a.fields == {"meta_id": "7", "meta_name": "shadow?", "index": "0"}
    assert (b.global_key, c.global_key) == ("doc-b", "doc-c")
    assert SpacyReader.default_key_template == "{stem}-{index}"


@pytest.mark.parametrize(
    "options",
    [{"cat_threshold": 1.5}, {"cat_threshold": -0.1}, {"span_label": "{kind}"}, {"span_label": "fixed"}, {"cats_name": " "}],
)
def test_bad_options(options) -> None:
    with pytest.raises(ValueError):
        SpacyOptions(**options)


# --------------------------------------------------------------------------- conversational


CONVO = [{"text": "Hi Ann | Bye Bob", "spans": [
    {"start": 3, "end": 6, "label": "PER", "messageId": "m1"},
    {"start": 4, "end": 7, "label": "PER", "message_id": 2},
    {"start": 0, "end": 2, "label": "GREET"}]}]  # fmt: skip


def test_conversational_keeps_message_ids_and_text_drops_them(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "conv.jsonl", CONVO)
    report = Report()
    (asset,) = read(path, report, media=Media.CONVERSATIONAL)
    assert asset.media is Media.CONVERSATIONAL
    assert [e.shape.message_id for e in entities(asset)] == ["m1", "2"]
    assert report.reasons() == Counter({"no-message-id": 1})
    report = Report()
    (asset,) = read(path, report)
    assert asset.media is Media.TEXT and [e.shape.message_id for e in entities(asset)] == [None, None, None]
    assert [n["code"] for n in report.notes] == ["message-id-dropped"]


def test_conversational_end_to_end_is_ground_truth_only(tmp_path: Path, oracle) -> None:
    path = write_jsonl(tmp_path / "conv.jsonl", CONVO)
    code, out = convert(tmp_path, path, "--media", "conversational", "--mode", "ground-truth", name="gt")
    assert code == 0
    rows = read_ndjson(out)
    assert [(r["messageId"], r["location"]) for r in rows] == [("m1", {"start": 3, "end": 5}), ("2", {"start": 4, "end": 6})]
    assert oracle(out, mode="gt", media="conversational").failed == 0
    code, out = convert(tmp_path, path, "--media", "conversational", name="mal")
    assert code == 0 and read_ndjson(out) == []
    rep = json.loads((tmp_path / "mal.report.json").read_text())
    assert rep["skipped_by_reason"] == {"ground-truth-only": 2, "no-message-id": 1}


# --------------------------------------------------------------------------- offsets: code points and UTF-16


UNICODE_DOCS = [
    # (text, [(start, end, label)]) in code points, end exclusive, as spaCy writes them
    ("I 💜 Zoë and José in München 🇩🇪 today", [(4, 7, "PERSON"), (12, 16, "PERSON"), (20, 27, "GPE")]),
    ("Cafe\u0301 Noir opened in Paris.\r\nThe 😀 owner is Rene\u0301e.", [(0, 10, "ORG"), (21, 26, "GPE"), (44, 50, "PERSON")]),
    ("李明在北京大学工作。😊", [(0, 2, "PERSON"), (3, 7, "ORG")]),
    ("🍕 Pizza Hut – pizza with 🧀 cheese", [(2, 11, "ORG"), (27, 33, "FOOD")]),
]


def _js_slice(text: str, start: int, end_inclusive: int) -> str:
    """JavaScript ``text.substring(start, end + 1)``: indices in UTF-16 code units."""
    units = text.encode("utf-16-le")
    return units[2 * start : 2 * (end_inclusive + 1)].decode("utf-16-le")


def _check_offsets(rows, texts, spans) -> None:
    by_key = Counter()
    for row in rows:
        key = row["dataRow"]["globalKey"]
        i = by_key[key]
        by_key[key] += 1
        doc = int(key.rsplit("-", 1)[1])
        text, (s, e, label) = texts[doc], spans[doc][i]
        loc = row["location"]
        yield text, text[s:e], loc, row["name"], label


def test_offsets_code_points_and_utf16_end_to_end(tmp_path: Path, oracle) -> None:
    path = write_jsonl(tmp_path / "uni.jsonl", [
        {"text": t, "spans": [{"start": s, "end": e, "label": lab} for s, e, lab in spans]} for t, spans in UNICODE_DOCS
    ])  # fmt: skip
    texts = [t for t, _ in UNICODE_DOCS]
    spans = [s for _, s in UNICODE_DOCS]
    code, out = convert(tmp_path, path, "--write-data-rows", str(tmp_path / "rows.json"), name="cp")
    assert code == 0
    rows = read_ndjson(out)
    assert len(rows) == 10
    for text, span_text, loc, name, label in _check_offsets(rows, texts, spans):
        assert text[loc["start"] : loc["end"] + 1] == span_text and name == label
    data_rows = json.loads((tmp_path / "rows.json").read_text(encoding="utf-8"))
    assert [(d["global_key"], d["row_data"]) for d in data_rows] == [(f"uni-{i}", t) for i, t in enumerate(texts)]
    assert oracle(out, media="text").failed == 0
    code, out = convert(tmp_path, path, "--offsets", "utf16", name="u16")
    assert code == 0
    rows16 = read_ndjson(out)
    for text, span_text, loc, _, _ in _check_offsets(rows16, texts, spans):
        assert _js_slice(text, loc["start"], loc["end"]) == span_text
    # München starts at code point 20 but UTF-16 unit 21 (after 💜); the flag emoji shifts by 2 more
    assert rows[2]["location"] == {"start": 20, "end": 26} and rows16[2]["location"] == {"start": 21, "end": 27}


# --------------------------------------------------------------------------- without spaCy


def test_docbin_without_spacy_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys) -> None:
    monkeypatch.setitem(sys.modules, "spacy", None)  # import spacy -> ImportError, as without the extra
    with pytest.raises(MissingDependencyError) as err:
        read(GEN / "ner_en_unicode.spacy")
    assert str(err.value) == (
        "reading .spacy DocBin files needs the 'spacy' package: pip install 'labelbox-converters[spacy]'"
    )
    code, out = convert(tmp_path, GEN / "ner_en_unicode.spacy")
    assert code == 1 and not out.exists()
    err_lines = capsys.readouterr().err.strip().splitlines()
    assert len(err_lines) == 1 and "labelbox-converters[spacy]" in err_lines[0]


def test_docbin_in_an_environment_without_spacy() -> None:
    try:
        import spacy  # noqa: F401
    except ImportError:
        with pytest.raises(MissingDependencyError, match=r"labelbox-converters\[spacy\]"):
            read(GEN / "textcat_exclusive.spacy")
    else:
        pytest.skip("spaCy is installed here; the monkeypatched test covers the message")


def test_importing_the_reader_does_not_import_spacy() -> None:
    code = "import sys, converters.readers.spacy_ner, converters.cli; assert 'spacy' not in sys.modules"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


# --------------------------------------------------------------------------- DocBin (needs spaCy)


@pytest.mark.spacy
@pytest.mark.parametrize("file_name", sorted(MANIFEST["files"]))
def test_docbin_reproduces_the_manifest(file_name: str) -> None:
    pytest.importorskip("spacy")
    expected = MANIFEST["files"][file_name]["docs"]
    report = Report()
    assets = read(GEN / file_name, report)
    assert len(assets) == len(expected)
    for i, (asset, doc) in enumerate(zip(assets, expected)):
        assert asset.text == doc["text"] and asset.fields["index"] == str(i) and asset.name == file_name
        ents = [(e.shape.start, e.shape.end, e.label, asset.text[e.shape.start : e.shape.end])
                for e in entities(asset) if e.key.startswith("ents/")]  # fmt: skip
        assert ents == [tuple(x) for x in doc["ents"]]
        for group, spans in doc["spans"].items():
            got = [(e.shape.start, e.shape.end, e.label, asset.text[e.shape.start : e.shape.end])
                   for e in entities(asset) if e.key.startswith(f"spans/{group}/")]  # fmt: skip
            assert got == [tuple(x) for x in spans]
        assert len(entities(asset)) == len(doc["ents"]) + sum(len(s) for s in doc["spans"].values())
        cls = cats_of(asset)
        chosen = [k for k, v in doc["cats"].items() if v >= 0.5]
        assert ([a.name for a in cls.answers] if cls else []) == chosen
        for k, v in doc["user_data"].items():
            assert asset.fields[k] == v
    assert report.tallies["cat-labels-read"] == sum(len(d["cats"]) for d in expected)
    assert set(report.reasons()) <= {"no-category-above-threshold"}  # only "Nothing to report."


@pytest.mark.spacy
def test_docbin_cats_kinds_and_fractional_scores() -> None:
    pytest.importorskip("spacy")
    report = Report()
    assets = read(GEN / "textcat_multilabel.spacy", report)
    assert all(cats_of(a) is None or cats_of(a).kind is ClassificationKind.CHECKLIST for a in assets)
    assert [(x.name, x.confidence) for x in cats_of(assets[3]).answers] == [("SHIPPING", 0.91), ("PACKAGING", 0.64)]
    assert report.reasons() == Counter({"no-category-above-threshold": 1})  # "Nothing to report."
    assert cats_of(read(GEN / "textcat_exclusive.spacy")[0]).kind is ClassificationKind.RADIO


@pytest.mark.spacy
def test_docbin_user_data_key_extension_fields_kb_ids_and_scores(tmp_path: Path) -> None:
    spacy = pytest.importorskip("spacy")
    from spacy.tokens import DocBin, Span

    nlp = spacy.blank("en")
    doc = nlp("Ada Lovelace wrote notes")
    doc.ents = [Span(doc, 0, 2, label="PERSON", kb_id="Q7259")]
    doc.spans["sc"] = [Span(doc, 0, 1, label="FIRST"), Span(doc, 3, 4, label="THING")]
    doc.spans["sc"].attrs["scores"] = [0.25, 0.75]
    doc.user_data["global_key"] = "ada-1"
    doc.user_data["name"] = "must not shadow {name}"
    db = DocBin(store_user_data=True, docs=[doc])
    path = tmp_path / "made.spacy"
    db.to_disk(path)
    (asset,) = read(path, span_label="{group}:{label}")
    assert asset.global_key == "ada-1" and "name" not in asset.fields
    ents = entities(asset)
    assert [(e.label, e.confidence) for e in ents] == [("ents:PERSON", None), ("sc:FIRST", 0.25), ("sc:THING", 0.75)]
    assert ents[0].classifications[0].name == "kb_id" and ents[0].classifications[0].text == "Q7259"


@pytest.mark.spacy
def test_docbin_corrupt_file_is_a_parse_error(tmp_path: Path) -> None:
    pytest.importorskip("spacy")
    path = tmp_path / "broken.spacy"
    path.write_bytes(b"\x78\x9cnot really zlib")
    with pytest.raises(ParseError, match=r"broken.spacy: not a readable spaCy DocBin file"):
        read(path)


@pytest.mark.spacy
def test_v2_json_agrees_with_spacy_convert_output() -> None:
    pytest.importorskip("spacy")
    (ours,) = read(EXAMPLES / "training-data.json")
    (theirs,) = read(GEN / "spacy-convert" / "training-data.spacy")
    ptb = str.maketrans({"`": '"', "'": '"'})

    def norm(asset):
        return [(e.label, "".join(asset.text[e.shape.start : e.shape.end].split()).replace("``", '"').replace("''", '"').translate(ptb))
                for e in entities(asset)]  # fmt: skip

    assert norm(ours) == norm(theirs)


@pytest.mark.spacy
@pytest.mark.parametrize("name", ["ner_en_unicode.spacy", "ner_zh_char.spacy", "ner_xx_japanese_whitespace.spacy", "spans_overlapping.spacy"])
def test_docbin_unicode_offsets_end_to_end(tmp_path: Path, name: str, oracle) -> None:
    pytest.importorskip("spacy")
    docs = MANIFEST["files"][name]["docs"]
    texts = [d["text"] for d in docs]
    spans = [d["ents"] + [s for g in d["spans"].values() for s in g] for d in docs]
    for offsets, js in (("codepoints", False), ("utf16", True)):
        code, out = convert(tmp_path, GEN / name, "--offsets", offsets, name=offsets)
        assert code == 0
        rows = [r for r in read_ndjson(out) if "location" in r]
        assert len(rows) == sum(len(s) for s in spans)
        for row in rows:
            doc = int(row["dataRow"]["globalKey"].rsplit("-", 1)[1])
            loc = row["location"]
            text = texts[doc]
            got = _js_slice(text, loc["start"], loc["end"]) if js else text[loc["start"] : loc["end"] + 1]
            assert (got, row["name"]) in {(s[3], s[2]) for s in spans[doc]}
        assert oracle(out, media="text").failed == 0


# --------------------------------------------------------------------------- every fixture through the CLI + oracle


@pytest.mark.parametrize("mode", ["prelabel", "ground-truth"])
@pytest.mark.parametrize(
    "path",
    JSON_FIXTURES + [pytest.param(p, marks=pytest.mark.spacy) for p in DOCBINS],
    ids=lambda p: str(p.relative_to(SPACY)) if isinstance(p, Path) else p,
)
def test_every_fixture_converts_and_passes_the_oracle(tmp_path: Path, path: Path, mode: str, oracle) -> None:
    if path.suffix == ".spacy":
        pytest.importorskip("spacy")
    code, out = convert(tmp_path, path, "--mode", mode, "--write-data-rows", str(tmp_path / "rows.json"))
    assert code == 0
    rep = json.loads((tmp_path / "out.report.json").read_text())
    for kind, c in rep["counts"].items():
        assert c["read"] == c["written"] + c["skipped"], kind
    rows = read_ndjson(out)
    keys = {r["dataRow"]["globalKey"] for r in rows}
    data_rows = json.loads((tmp_path / "rows.json").read_text(encoding="utf-8"))
    assert keys <= {d["global_key"] for d in data_rows}
    assert len(data_rows) == rep["assets"]
    result = oracle(out, mode="mal" if mode == "prelabel" else "gt", media="text")
    assert result.failed == 0 and result.ok == len(rows), result.output[-2000:]


def test_manifest_json_is_not_a_spacy_file(tmp_path: Path, capsys) -> None:
    code, out = convert(tmp_path, GEN / "MANIFEST.json")
    assert code == 1 and not out.exists()
    assert "MANIFEST.json: not a spaCy JSON file" in capsys.readouterr().err


# -- issue 12: exclusive label sets (item 3), NER Annotator JSON (item 8) -----------------


def _classifications(asset) -> dict[str, tuple[ClassificationKind, list[str]]]:
    return {
        a.classification.name: (a.classification.kind, [x.name for x in a.classification.answers])
        for a in asset.annotations if a.classification is not None
    }


SENTIMENT_AND_TOPICS = [
    {"text": "great game", "cats": {"positive": 1, "negative": 0, "neutral": 0, "sports": 1, "politics": 0}},
    {"text": "bad vote", "cats": {"positive": 0, "negative": 1, "neutral": 0}},
    {"text": "both", "cats": {"sports": 1, "politics": 1}},
    {"text": "meh", "cats": {"positive": 0, "negative": 0, "neutral": 1}},
]


@pytest.mark.parametrize(
    ("records", "option", "expected"),
    [
        # one label set, one-hot everywhere: a radio under the plain name
        ([{"text": "a", "cats": {"pos": 1, "neg": 0}}, {"text": "b", "cats": {"pos": 0, "neg": 1}}], "auto",
         [{"cats": (ClassificationKind.RADIO, ["pos"])}, {"cats": (ClassificationKind.RADIO, ["neg"])}]),
        # the override
        ([{"text": "a", "cats": {"pos": 1, "neg": 0}}, {"text": "b", "cats": {"pos": 0, "neg": 1}}], "checklist",
         [{"cats": (ClassificationKind.CHECKLIST, ["pos"])}, {"cats": (ClassificationKind.CHECKLIST, ["neg"])}]),
    ],
)
def test_cats_label_set_kind(tmp_path: Path, records, option, expected) -> None:
    assets = read(write_jsonl(tmp_path / "c.jsonl", records), cats=option)
    assert [_classifications(a) for a in assets] == expected


def test_cats_exclusive_set_is_a_radio_beside_a_multilabel_set(tmp_path: Path) -> None:
    # Sentiment (one-hot wherever it appears) and topics (two at once in "both") in one file:
    # the sentiment set is a radio, the topics a checklist, named by their labels.
    for path in (write_jsonl(tmp_path / "c.jsonl", SENTIMENT_AND_TOPICS), tmp_path / "c.json"):
        if path.suffix == ".json":
            path.write_text(json.dumps([[r["text"], {"cats": r["cats"]}] for r in SENTIMENT_AND_TOPICS]))
        report = Report()
        got = [_classifications(a) for a in read(path, report)]
        s, t = "cats (negative, neutral, positive)", "cats (politics, sports)"
        assert got == [
            {s: (ClassificationKind.RADIO, ["positive"]), t: (ClassificationKind.CHECKLIST, ["sports"])},
            {s: (ClassificationKind.RADIO, ["negative"])},
            {t: (ClassificationKind.CHECKLIST, ["sports", "politics"])},
            {s: (ClassificationKind.RADIO, ["neutral"])},
        ]
        report.check()
        assert {n["code"] for n in report.notes} >= {"cats-exclusive", "cats-multilabel"}


NER_ANNOTATOR = {
    "classes": ["ORG", "MONEY"],
    "annotations": [
        ["Union Bank lent ₹2 crore.\r", {"entities": [[0, 10, "ORG"], [16, 24, "MONEY"]]}],
        ["No entities here.", {"entities": []}],
    ],
}


def test_ner_annotator_json__detected_as_spacy_and_read(tmp_path: Path) -> None:
    from converters.pipeline import detect_format

    src = tmp_path / "data.json"
    src.write_text(json.dumps(NER_ANNOTATOR, ensure_ascii=False), encoding="utf-8")
    assert detect_format([src]) == "spacy"
    assets = read(src)
    assert [a.text for a in assets] == [p[0] for p in NER_ANNOTATOR["annotations"]]
    assert [(e.shape.start, e.shape.end, e.label) for e in entities(assets[0])] == [(0, 10, "ORG"), (16, 24, "MONEY")]
    out = tmp_path / "out.ndjson"
    assert main(["convert", str(src), "-o", str(out), "--quiet"]) == 0  # auto-detected
    assert [r["location"] for r in read_ndjson(out)] == [{"start": 0, "end": 9}, {"start": 16, "end": 23}]
