"""Conformance: every public COCO fixture (../shared/fixtures-public, read in place) has its
expected outcome, and the Labelbox SDK accepts every row written.

The oracle is ../shared/tools/lb_oracle.py run with the Labelbox SDK 5.2.1 (see conftest).
Both modes are checked. Other readers have their own oracle tests in tests/readers/.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from converters.cli import main
from converters.report import Report
from tests.conftest import FIXTURES, read_ndjson

COCO_FILES = sorted(
    p.relative_to(FIXTURES).as_posix()
    for p in (FIXTURES / "coco").rglob("*.json")
)


@dataclass(frozen=True)
class Converts:
    """Converts, writing these rows by kind (``Report.written``)."""

    rows: dict[str, int]


@dataclass(frozen=True)
class Fails:
    """Refused in one line naming the file, the line holding ``text``; nothing written."""

    text: str
    why: str


_DM = "coco/openvinotoolkit-datumaro/tests/assets/coco_dataset/"
_NEEDS_INDEX = Fails(
    "needs --coco-images FILE",
    "a results file (a top-level list of rows) has no images or categories: the val2014 ground "
    "truth it refers to is not among the fixtures, so it cannot be read on its own",
)
#: Each fixture's outcome with default options, checked against the file: the counts are the
#: file's annotations (boxes, polygons, RLE masks, visible keypoints, one 'tags' checklist per
#: labelled image, one mask per panoptic segment); captions and image_info files give data rows
#: without annotations (captions are reported: no Labelbox target on images).
EXPECTED: dict[str, Converts | Fails] = {
    "coco/cocoapi/results/captions_val2014_fakecap_results.json": Fails(
        "nothing to convert", "1000 caption rows and nothing else: captions have no Labelbox target on "
        "images, so the file yields no data row (the report counts caption-unsupported 1000)"),
    "coco/cocoapi/results/instances_val2014_fakebbox100_results.json": _NEEDS_INDEX,
    "coco/cocoapi/results/instances_val2014_fakesegm100_results.json": _NEEDS_INDEX,
    "coco/cocoapi/results/person_keypoints_val2014_fakekeypoints100_results.json": _NEEDS_INDEX,
    "coco/cvat-ai-datumaro/tests/assets/coco_dataset/coco_person_keypoints/annotations/person_keypoints_train.json":
        Converts({"bbox": 1, "point": 2}),
    "coco/cvat-ai-datumaro/tests/assets/coco_dataset/coco_person_keypoints/annotations/person_keypoints_val.json":
        Converts({"polygon": 1, "mask": 1, "point": 6}),
    "coco/labelformat/tests/fixtures/instance_segmentation/COCO/instances.json": Converts({"polygon": 3}),
    "coco/labelformat/tests/fixtures/instance_segmentation/COCO/instances_with_binary_mask.json":
        Converts({"polygon": 3, "mask": 1}),
    "coco/labelformat/tests/fixtures/object_detection/COCO/train.json": Converts({"bbox": 16}),
    _DM + "coco/annotations/captions_train.json": Converts({}),
    _DM + "coco/annotations/captions_val.json": Converts({}),
    _DM + "coco/annotations/image_info_train.json": Converts({}),
    _DM + "coco/annotations/image_info_val.json": Converts({}),
    _DM + "coco/annotations/instances_train.json": Converts({"bbox": 1}),
    _DM + "coco/annotations/instances_val.json": Converts({"polygon": 1, "mask": 1}),
    _DM + "coco/annotations/labels_train.json": Converts({"checklist": 1}),
    _DM + "coco/annotations/labels_val.json": Converts({"checklist": 1}),
    _DM + "coco/annotations/panoptic_train.json": Converts({"mask": 1}),
    _DM + "coco/annotations/panoptic_val.json": Converts({"mask": 2}),
    _DM + "coco/annotations/person_keypoints_train.json": Converts({"bbox": 1, "point": 2}),
    _DM + "coco/annotations/person_keypoints_val.json": Converts({"polygon": 1, "mask": 1, "point": 6}),
    _DM + "coco/annotations/stuff_train.json": Converts({"mask": 1}),
    _DM + "coco/annotations/stuff_val.json": Converts({"mask": 1}),
    _DM + "coco_panoptic/annotations/panoptic_train.json": Fails(
        "panoptic PNG a.png is 5x5 but its image is 10x5",
        "a defect of the file: image 5 is declared 10x5 but its segment PNG is 5x5"),
    _DM + "coco_panoptic/annotations/panoptic_val.json": Converts({"mask": 2}),
    _DM + "coco_roboflow/train/_annotations.coco.json": Converts({"bbox": 1}),
    _DM + "coco_roboflow/val/_annotations.coco.json": Converts({"polygon": 1, "mask": 1}),
    "coco/openvinotoolkit-datumaro/tests/assets/kaggle_dataset/relaxed_coco/annotations.json": Converts({"bbox": 2}),
    "coco/openvinotoolkit-datumaro/tests/assets/roboflow_dataset/coco/train/_annotations.coco.json":
        Converts({"bbox": 2}),
    "coco/openvinotoolkit-datumaro/tests/assets/roboflow_dataset/coco/val/_annotations.coco.json":
        Converts({"bbox": 2}),
}


def test_every_coco_fixture_has_an_expected_outcome() -> None:
    assert sorted(EXPECTED) == COCO_FILES


def _convert(src: Path, out: Path, *args: str) -> int:
    return main(["convert", str(src), "-o", str(out), "--quiet", *args])


@pytest.mark.parametrize("name", COCO_FILES)
@pytest.mark.parametrize("mode", ["mal", "gt"])
def test_coco_fixture__has_its_expected_outcome(tmp_path: Path, capsys, oracle, name: str, mode: str) -> None:
    expected = EXPECTED[name]
    out = tmp_path / "out.ndjson"
    code = _convert(FIXTURES / name, out, "--mode", "prelabel" if mode == "mal" else "ground-truth")
    err = capsys.readouterr().err
    if isinstance(expected, Fails):
        assert code == 1
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: ") and name.split("/")[-1] in lines[0]
        assert expected.text in lines[0], lines[0]
        assert not out.exists()
        return
    assert code == 0, err
    rows = read_ndjson(out)
    assert len(rows) == sum(expected.rows.values())
    if not rows:
        return
    mode_flag = "prelabel" if mode == "mal" else "ground-truth"
    assert main(["validate", str(out), "--media", "image", "--mode", mode_flag]) == 0  # our own checker agrees
    result = oracle(out, mode=mode, media="image")
    assert result.failed == 0, result.output
    assert result.ok == len(rows)


@pytest.mark.parametrize("name", COCO_FILES)
def test_coco_fixture__deterministic_and_accounted(tmp_path: Path, name: str) -> None:
    from converters.errors import ConversionError
    from converters.pipeline import convert

    expected = EXPECTED[name]
    if isinstance(expected, Fails):
        with pytest.raises(ConversionError, match=expected.text.replace(".", r"\.")):
            convert([FIXTURES / name], tmp_path / "a.ndjson")
        assert not (tmp_path / "a.ndjson").exists()  # rejected inputs write nothing
        return
    first = convert([FIXTURES / name], tmp_path / "a.ndjson")
    convert([FIXTURES / name], tmp_path / "b.ndjson")
    assert (tmp_path / "a.ndjson").read_bytes() == (tmp_path / "b.ndjson").read_bytes()
    assert isinstance(first, Report)
    first.check()
    assert {str(k): v for k, v in first.written.items()} == expected.rows
    assert sum(first.read.values()) == sum(first.written.values()) + sum(first.skipped.values())


# One dataset per reader: rows must agree with the ontology derived alongside them (names,
# tool kinds, answers, nested classifications: the oracle's [ontology] stage), and that
# ontology must load with the SDK's OntologyBuilder.from_dict.
ONTOLOGY_CASES = [
    ("coco/openvinotoolkit-datumaro/tests/assets/coco_dataset/coco", "image", "gt"),
    ("voc/openvinotoolkit-datumaro/tests/assets/voc_dataset/voc_dataset1", "image", "mal"),
    ("yolo/cvat-ai-datumaro/tests/assets/yolo_dataset/yolov8_pose", "image", "mal"),
    ("cvat/cvat-ai-datumaro/tests/assets/cvat_dataset/for_images/train.xml", "image", "mal"),
    ("cvat/dagshub-annotation-converter/tests/cvat/res/pose_grouping.xml", "image", "gt"),
    ("cvat/cvat-ai-datumaro/tests/assets/cvat_dataset/for_video/annotations.xml", "video", "gt"),
    ("spacy/explosion-projects/tutorials/ner_fashion_brands/assets/fashion_brands_training.jsonl", "text", "mal"),
    ("spacy/spaCy/extra/example_data/textcat_example_data/cooking.jsonl", "text", "gt"),
]


@pytest.mark.parametrize(("source", "media", "mode"), ONTOLOGY_CASES)
def test_rows_match_the_derived_ontology(tmp_path: Path, oracle, source: str, media: str, mode: str) -> None:
    import os
    import subprocess

    out, ont = tmp_path / "out.ndjson", tmp_path / "ont.json"
    mode_flag = "prelabel" if mode == "mal" else "ground-truth"
    assert _convert(FIXTURES / source, out, "--mode", mode_flag, "--write-ontology", str(ont)) == 0
    result = oracle(out, mode=mode, media=media, extra=("--ontology", str(ont)))
    assert result.failed == 0 and result.ok == len(read_ndjson(out)) > 0, result.output
    script = (
        "import json,sys,warnings; warnings.filterwarnings('ignore');"
        "from labelbox import OntologyBuilder;"
        "b=OntologyBuilder.from_dict(json.load(open(sys.argv[1]))); print(len(b.tools)+len(b.classifications))"
    )
    proc = subprocess.run([os.environ["LB_ORACLE_PYTHON"], "-c", script, str(ont)], capture_output=True, text=True)
    assert proc.returncode == 0 and int(proc.stdout) > 0, proc.stderr
