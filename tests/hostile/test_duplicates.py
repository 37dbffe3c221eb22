"""Class E of issue 14: repeated ids never give a file Labelbox refuses.

A repeated annotation id on one image (COCO ``"id": 1`` twice, CVAT ``<track id="1">``
twice, a skeleton node label twice) keeps both annotations, each with its own uuid, and a
``duplicate-id`` report entry; a repeated category id is an error; an image listed twice
is read once. Every output passes the project's validator (which refuses a repeated uuid on
one data row) and, when it is installed, the Labelbox SDK oracle.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from converters.matrix import Mode
from converters.model import Media
from converters.validate import validate_file
from tests.conftest import read_ndjson
from tests.hostile import _build as b

_SKELETON_LABELS = (
    '<label><name>hand</name><type>skeleton</type><attributes></attributes><svg></svg></label>'
    '<label><name>tip</name><type>points</type><parent>hand</parent><attributes></attributes></label>'
)
_SKELETON = (
    '<image id="0" name="a.jpg" width="10" height="10"><skeleton label="hand" source="manual" z_order="0">'
    '<points label="tip" source="manual" outside="0" occluded="0" points="1,1"></points>'
    '<points label="tip" source="manual" outside="0" occluded="0" points="2,2"></points>'
    "</skeleton></image>"
)


def _video(tmp: Path, media: str) -> tuple[Path, tuple[str, ...]]:
    def track(x: int) -> str:
        return (f'<track id="1" label="cat" source="manual"><box frame="0" keyframe="1" outside="0" occluded="0" '
                f'xtl="{x}" ytl="1" xbr="{x + 3}" ybr="5" z_order="0"></box><box frame="1" keyframe="1" outside="1" '
                f'occluded="0" xtl="{x}" ytl="1" xbr="{x + 3}" ybr="5" z_order="0"></box></track>')
    meta = ("<meta><task><name>t</name><mode>interpolation</mode><size>2</size><labels><label><name>cat</name>"
            "<type>any</type><attributes></attributes></label></labels><original_size><width>10</width>"
            "<height>10</height></original_size></task></meta>")
    path = tmp / "annotations.xml"
    tmp.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<annotations><version>1.1</version>{meta}{track(1)}{track(5)}</annotations>")
    return path, ("--media", media)


#: (id, build(tmp) -> (SOURCE, extra args), media of the rows, rows expected)
KEPT: list[tuple[str, Callable[[Path], tuple[Path, tuple[str, ...]]], str, int]] = [
    ("coco-annotation-id-twice", lambda t: (b.coco(t, annotations=[
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 4, 4]},
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [2, 2, 4, 4]}]), ()), "image", 2),
    ("coco-keypoints-id-twice", lambda t: (b.coco(t, categories=[{"id": 1, "name": "p", "keypoints": ["nose"]}],
                                                  annotations=[
        {"id": 1, "image_id": 1, "category_id": 1, "keypoints": [1, 1, 2]},
        {"id": 1, "image_id": 1, "category_id": 1, "keypoints": [3, 3, 2]}], name="person_keypoints_x.json"), ()),
     "image", 2),
    ("cvat-track-id-twice-video", lambda t: _video(t, "video"), "video", 2),
    ("cvat-track-id-twice-images", lambda t: _video(t, "image"), "image", 2),
    ("cvat-skeleton-node-twice", lambda t: (b.cvat(t, _SKELETON, labels=_SKELETON_LABELS), ()), "image", 2),
]


@pytest.mark.parametrize(("build", "media", "rows"), [k[1:] for k in KEPT], ids=[k[0] for k in KEPT])
def test_repeated_id_keeps_both_with_their_own_uuids(tmp_path: Path, capsys, oracle_or_none, build, media, rows) -> None:
    source, extra = build(tmp_path / "in")
    out = tmp_path / "out.ndjson"
    code, err = b.run(capsys, source, out, *extra)
    assert code == 0, err
    written = read_ndjson(out)
    assert len(written) == rows
    assert len({r["uuid"] for r in written}) == rows
    report = json.loads((tmp_path / "out.report.json").read_text())
    assert [e["code"] for e in report["entries"]].count("duplicate-id") == rows - 1
    problems = validate_file(out, mode=Mode.PRELABEL, media=Media(media)).problems
    assert problems == []
    if oracle_or_none is not None:
        result = oracle_or_none(out, media=media)
        assert result.ok == rows and result.failed == 0, result.output


def test_same_input_same_uuids(tmp_path: Path, capsys) -> None:
    """The repeat's uuid is deterministic: a re-run writes the same bytes."""
    source, _ = KEPT[0][1](tmp_path / "in")
    b.run(capsys, source, tmp_path / "one.ndjson")
    b.run(capsys, source, tmp_path / "two.ndjson")
    assert (tmp_path / "one.ndjson").read_bytes() == (tmp_path / "two.ndjson").read_bytes()


@pytest.mark.parametrize(
    "categories",
    [
        [{"id": 1, "name": "cat"}, {"id": 1, "name": "dog"}],
        [{"id": 1, "name": "cat"}, {"id": "1", "name": "cat"}],  # same id as a string: looked up the same
    ],
    ids=["other-name", "string-id"],
)
def test_repeated_category_id_is_an_error(tmp_path: Path, capsys, categories) -> None:
    source = b.coco(tmp_path / "in", categories=categories)
    code, err = b.run(capsys, source, tmp_path / "out.ndjson")
    assert code == 1
    assert err.count("\n") == 1 and "category id 1 appears twice" in err and "instances.json" in err
    assert not (tmp_path / "out.ndjson").exists()


def test_image_listed_twice_in_a_classification_list_is_read_once(tmp_path: Path, capsys) -> None:
    root = tmp_path / "in"
    b.png(root / "train" / "cat" / "a.png")
    b.png(root / "train" / "dog" / "b.png")
    (root / "data.yaml").write_text("train: train.txt\nnames: [cat, dog]\n")
    (root / "train.txt").write_text("train/cat/a.png\ntrain/dog/b.png\ntrain/cat/a.png\n")
    out = tmp_path / "out.ndjson"
    code, err = b.run(capsys, root / "data.yaml", out, "--yolo-task", "classify")
    assert code == 0, err
    assert sorted(r["answer"]["name"] for r in read_ndjson(out)) == ["cat", "dog"]
    assert validate_file(out, mode=Mode.PRELABEL, media=Media.IMAGE).problems == []


def test_image_listed_twice_in_a_detection_list_is_read_once(tmp_path: Path, capsys) -> None:
    source = b.yolo(tmp_path / "in", yaml="train: train.txt\nnames: [cat]\n")
    (tmp_path / "in" / "train.txt").write_text("images/train/a.png\nimages/train/a.png\n")
    out = tmp_path / "out.ndjson"
    assert b.run(capsys, source, out)[0] == 0
    assert len(read_ndjson(out)) == 1


def test_voc_id_listed_twice_is_read_once(tmp_path: Path, capsys) -> None:
    root = b.voc(tmp_path / "VOC", devkit=True)
    (root / "ImageSets" / "Main").mkdir(parents=True)
    (root / "ImageSets" / "Main" / "train.txt").write_text("a\na\n")
    out = tmp_path / "out.ndjson"
    assert b.run(capsys, root, out)[0] == 0
    assert len(read_ndjson(out)) == 1


def test_spacy_records_repeating_span_keys_on_one_text(tmp_path: Path, capsys) -> None:
    """Two identical spans on one record are two annotations: distinct uuids, no refusal."""
    source = b.spacy(tmp_path / "in", '{"text": "hello world", "spans": [{"start": 0, "end": 5, "label": "X"},'
                                      ' {"start": 0, "end": 5, "label": "X"}]}\n')
    out = tmp_path / "out.ndjson"
    assert b.run(capsys, source, out)[0] == 0
    rows = read_ndjson(out)
    assert len({r["uuid"] for r in rows}) == len(rows) == 2
    assert validate_file(out, mode=Mode.PRELABEL, media=Media.TEXT).problems == []
