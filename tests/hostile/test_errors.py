"""Class D and G of issue 14: broken input is one ``error:`` line naming the file and the
place, exit 1, never a traceback and never a second line.

Each row builds a small dataset, breaks it the way a battery case did (or a neighbour of
that case in another reader), and names what the error line must contain.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from converters.errors import ConversionError, ParseError, one_line
from tests.hostile import _build as b

DEEP = "[" * 100_000


def _deep_yaml(tmp: Path) -> Path:
    return b.yolo(tmp / "ds", yaml="names: " + "[" * 5000 + "]" * 5000 + "\ntrain: images/train\n")


def _spacy_v2(tmp: Path, sentence: object = None, ner: object = "U-X") -> Path:
    sentences = sentence if sentence is not None else [{"tokens": [{"orth": "hi", "ner": ner}]}]
    doc = [{"id": 0, "paragraphs": [{"sentences": sentences}]}]
    return b.spacy(tmp, json.dumps(doc), name="a.json")


def _docbin_types(tmp: Path) -> Path:
    pytest.importorskip("spacy")
    import srsly  # spaCy's serialiser

    payload = {"attrs": "not a list", "tokens": 5, "spaces": None, "lengths": "x", "strings": 3,
               "cats": [], "flags": []}
    path = tmp / "a.spacy"
    path.write_bytes(zlib.compress(srsly.msgpack_dumps(payload)))
    return path


#: (id, build(tmp) -> SOURCE, extra CLI args, substrings the error line must contain)
CASES: list[tuple[str, Callable[[Path], Path], tuple[str, ...], tuple[str, ...]]] = [
    # deep nesting -> RecursionError
    ("coco-deep-json", lambda t: b.spacy(t, DEEP, name="instances.json"), ("--from", "coco"), ("instances.json", "line 1")),
    ("spacy-deep-json", lambda t: b.spacy(t, DEEP, name="a.json"), ("--from", "spacy"), ("a.json", "nested too deeply")),
    ("spacy-deep-jsonl", lambda t: b.spacy(t, DEEP + "\n"), ("--from", "spacy"), ("a.jsonl", "line 1")),
    ("yolo-deep-yaml", _deep_yaml, (), ("data.yaml", "nested too deeply")),
    # numbers too large for a float -> OverflowError
    ("yolo-names-inf", lambda t: b.yolo(t / "ds", yaml="train: images/train\nnames: {.inf: a}\n"), (), ("data.yaml", "names")),
    ("yolo-names-400-digits", lambda t: b.yolo(t / "ds", yaml=f"train: images/train\nnames: {{{'9' * 400}: a}}\n"), (), ("data.yaml", "names")),
    ("coco-polygon-400-digits", lambda t: b.coco(t, annotations=[
        {"id": 7, "image_id": 1, "category_id": 1, "segmentation": [[1, 1, int("9" * 400), 1, 5, 5]]}]),
        (), ("instances.json", "annotation id 7")),
    ("coco-bbox-400-digits", lambda t: b.coco(t, annotations=[
        {"id": 7, "image_id": 1, "category_id": 1, "bbox": [1, 1, int("9" * 400), 1]}]),
        (), ("instances.json", "annotation id 7")),
    ("coco-keypoint-400-digits", lambda t: b.coco(t, annotations=[
        {"id": 7, "image_id": 1, "category_id": 1, "keypoints": [int("9" * 400), 1, 2]}]),
        (), ("instances.json", "annotation id 7")),
    ("coco-nan", lambda t: b.spacy(t, '{"images":[{"id":1,"file_name":"a.jpg","width":10,"height":10}],'
                                   '"categories":[{"id":1,"name":"c"}],"annotations":[{"id":3,"image_id":1,'
                                   '"category_id":1,"bbox":[NaN,1,2,2]}]}', name="instances.json"),
     ("--from", "coco"), ("instances.json", "annotation id 3")),
    ("yolo-row-1e400", lambda t: b.yolo(t / "ds", label="0 1e400 0.5 0.2 0.2\n"), (), ("a.txt", "line 1")),
    ("voc-1e400", lambda t: b.voc(t, b.voc_xml("<object><name>cat</name><bndbox><xmin>1e400</xmin><ymin>1</ymin>"
                                                "<xmax>5</xmax><ymax>5</ymax></bndbox></object>")), (), ("a.xml", "line")),
    ("cvat-1e400", lambda t: b.cvat(t, '<image id="0" name="a.jpg" width="10" height="10"><box label="cat" '
                                       'xtl="1e400" ytl="1" xbr="5" ybr="5" occluded="0"/></image>'), (), ("annotations.xml", "line")),
    ("cvat-size-400-digits", lambda t: b.cvat(t, image_attrs=f'width="{"9" * 400}" height="10"'), (), ("annotations.xml", "line")),
    # encodings
    ("voc-not-utf8", lambda t: _latin1_voc(t), (), ("a.xml", "line 1, byte")),
    ("cvat-not-utf8", lambda t: _latin1(b.cvat(t)), (), ("annotations.xml", "line 2")),
    # spaCy v2 JSON with wrong types
    ("spacy-v2-ner-not-string", lambda t: _spacy_v2(t, ner=5), (), ("a.json", "ner")),
    ("spacy-v2-sentences-not-list", lambda t: _spacy_v2(t, sentence={"tokens": []}), (), ("a.json", "sentences")),
    ("spacy-v2-tokens-not-list", lambda t: _spacy_v2(t, sentence=[{"tokens": 3}]), (), ("a.json", "tokens")),
    ("spacy-v2-orth-not-string", lambda t: _spacy_v2(t, sentence=[{"tokens": [{"orth": 3, "ner": "O"}]}]), (), ("a.json",)),
    # empty class names
    ("yolo-empty-name", lambda t: b.yolo(t / "ds", yaml="train: images/train\nnames: {0: ''}\n"), (), ("data.yaml", "names")),
    ("coco-empty-category", lambda t: b.coco(t, categories=[{"id": 1, "name": ""}]), (), ("instances.json", "category id 1")),
    ("coco-blank-category", lambda t: b.coco(t, categories=[{"id": 1, "name": "  "}]), (), ("instances.json", "category id 1")),
    ("voc-empty-name", lambda t: b.voc(t, b.voc_xml("<object><name></name><bndbox><xmin>1</xmin><ymin>1</ymin>"
                                                     "<xmax>5</xmax><ymax>5</ymax></bndbox></object>")), (), ("a.xml", "line")),
    ("spacy-empty-label", lambda t: b.spacy(t, '{"text": "hello", "spans": [{"start": 0, "end": 5, "label": ""}]}\n'),
     (), ("a.jsonl", "line 1")),
    # NUL bytes and unusable names
    ("yolo-nul-in-list", lambda t: _yolo_list(t, "images/a\0.png\n"), (), ("train.txt", "line 1")),
    ("voc-nul-in-list", lambda t: _voc_list(t, "a\0b\n"), (), ("train.txt", "line 1")),
    ("yolo-long-path", lambda t: b.yolo(t / "ds", yaml=f"path: {'x' * 5000}\ntrain: images/train\nnames: [a]\n"), (), ("data.yaml", "path")),
    ("yolo-long-list-entry", lambda t: _yolo_list(t, "x" * 5000 + ".png\n"), (), ("train.txt", "line 1")),
    ("coco-long-file-name", lambda t: b.coco(t, images=[{"id": 1, "file_name": "y" * 5000, "width": 10, "height": 10}]),
     (), ("instances.json", "image id 1")),
    ("cvat-nul-name", lambda t: b.cvat(t, '<image id="0" name="a&#0;.jpg" width="10" height="10"></image>'), (), ("annotations.xml",)),
    ("darknet-names-dot", lambda t: _darknet(t, "classes = 1\ntrain = train.txt\nnames = .\n"), (), ("obj.data", "names")),
    # G: messages that used to span two lines
    ("voc-malformed-xml", lambda t: b.voc(t, "<annotation><object>\n</annotation>"), (), ("a.xml", "line")),
    ("cvat-malformed-xml", lambda t: _write(t / "annotations.xml", "<annotations><version>1.1</version>\n<image>\n</annotations>"),
     ("--from", "cvat"), ("annotations.xml", "line")),
    ("yolo-yaml-mark", lambda t: b.yolo(t / "ds", yaml="names: [a\ntrain: : :\n"), (), ("data.yaml", "line")),
    # the COCO pre-scans of issue 12/13 (label kinds for the ontology, the progress total) run
    # before read(): a broken top level is still read()'s one-line error (fuzz find after the merge)
    ("coco-categories-not-a-list", lambda t: b.coco(t, categories=True), (), ("instances.json", "categories")),
    ("coco-images-not-a-list", lambda t: b.coco(t, images=5), (), ("instances.json", "images")),
]


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _latin1(path: Path) -> Path:
    text = path.read_text().replace('name="a.jpg"', 'name="caf\u00e9.jpg"')
    path.write_bytes(text.encode("latin-1"))
    return path


def _latin1_voc(tmp: Path) -> Path:
    path = b.voc(tmp, b.voc_xml(filename="caf\u00e9.jpg"))
    path.write_bytes(path.read_text().encode("latin-1"))
    return path


def _yolo_list(tmp: Path, lines: str) -> Path:
    source = b.yolo(tmp / "ds", yaml="train: train.txt\nnames: [cat]\n")
    (tmp / "ds" / "train.txt").write_text(lines)
    return source


def _voc_list(tmp: Path, lines: str) -> Path:
    root = b.voc(tmp / "VOC", devkit=True)
    _write(root / "ImageSets" / "Main" / "train.txt", lines)
    return root


def _darknet(tmp: Path, data: str) -> Path:
    _write(tmp / "ds" / "train.txt", "a.png\n")
    b.png(tmp / "ds" / "a.png")
    _write(tmp / "ds" / "a.txt", "0 0.5 0.5 0.2 0.2\n")
    return _write(tmp / "ds" / "obj.data", data)


@pytest.mark.parametrize(("build", "extra", "expect"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_broken_input_is_one_error_line(tmp_path: Path, capsys, build, extra, expect) -> None:
    source = build(tmp_path / "in")
    code, err = b.run(capsys, source, tmp_path / "out.ndjson", *extra)
    lines = err.splitlines()
    assert code == 1, err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for text in expect:
        assert text in lines[0], (text, lines[0])
    assert "Traceback" not in err
    assert not (tmp_path / "out.ndjson").exists()


@pytest.mark.parametrize(
    ("build", "code"),
    [
        # CVAT names an empty label on a shape: reported, as before (the label list is fine)
        (lambda t: b.cvat(t, '<image id="0" name="a.jpg" width="10" height="10"><box label="" xtl="1" ytl="1" '
                             'xbr="5" ybr="5" occluded="0"/></image>'), "cvat-empty-label"),
        # a span end past the text, even a 400-digit one, is a reported skip
        (lambda t: b.spacy(t, '{"text": "hello", "spans": [{"start": 0, "end": ' + "9" * 400 + ', "label": "X"}]}\n'),
         "span-out-of-range"),
    ],
    ids=["cvat-empty-label", "spacy-offset-400-digits"],
)
def test_broken_annotation_is_reported(tmp_path: Path, capsys, build, code) -> None:
    source = build(tmp_path / "in")
    exit_code, err = b.run(capsys, source, tmp_path / "out.ndjson")
    assert exit_code == 0, err
    report = json.loads((tmp_path / "out.report.json").read_text())
    assert [e["code"] for e in report["entries"]] == [code]


@pytest.mark.spacy
def test_docbin_with_wrong_field_types(tmp_path: Path) -> None:
    import converters

    source = _docbin_types(tmp_path)
    with pytest.raises(ParseError, match="a.spacy"):
        converters.convert([source], tmp_path / "o.ndjson")


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("a\n", "a"),
        ("malformed XML: Opening and ending tag mismatch: a line 1 and b\n", "malformed XML: Opening and ending tag mismatch: a line 1 and b"),
        ('while parsing a flow sequence\n  in "<unicode string>", line 1, column 8\nexpected \',\'', 'while parsing a flow sequence in "<unicode string>", line 1, column 8 expected \',\''),
        ("one\r\ntwo", "one two"),
        ("plain", "plain"),
    ],
)
def test_one_line(message: str, expected: str) -> None:
    assert one_line(message) == expected
    assert "\n" not in str(ParseError("f.xml", message, location="line 2"))
    assert "\n" not in str(ConversionError(message))
