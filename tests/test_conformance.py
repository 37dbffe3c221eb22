"""Conformance: every public COCO fixture (../shared/fixtures-public, read in place) converts, and the Labelbox SDK accepts every row.

The oracle is ../shared/tools/lb_oracle.py run with the Labelbox SDK 5.2.1 (see conftest).
Both modes are checked. Other readers have their own oracle tests in tests/readers/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from converters.cli import main
from converters.report import Report
from tests.conftest import FIXTURES, read_ndjson

COCO_FILES = sorted(
    p.relative_to(FIXTURES).as_posix()
    for p in (FIXTURES / "coco").rglob("*.json")
)


def _convert(src: Path, out: Path, *args: str) -> int:
    return main(["convert", str(src), "-o", str(out), "--quiet", *args])


@pytest.mark.parametrize("name", COCO_FILES)
@pytest.mark.parametrize("mode", ["mal", "gt"])
def test_coco_fixture__converts_or_fails_in_one_line(tmp_path: Path, capsys, oracle, name: str, mode: str) -> None:
    out = tmp_path / "out.ndjson"
    code = _convert(FIXTURES / name, out, "--mode", "prelabel" if mode == "mal" else "ground-truth")
    err = capsys.readouterr().err
    if code != 0:
        assert code == 1
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: ") and name.split("/")[-1] in lines[0]
        assert not out.exists()
        return
    mode_flag = "prelabel" if mode == "mal" else "ground-truth"
    assert main(["validate", str(out), "--media", "image", "--mode", mode_flag]) == 0  # our own checker agrees
    result = oracle(out, mode=mode, media="image")
    assert result.failed == 0, result.output
    assert result.ok == len(read_ndjson(out))


@pytest.mark.parametrize("name", COCO_FILES)
def test_coco_fixture__deterministic_and_accounted(tmp_path: Path, name: str) -> None:
    from converters.errors import ConversionError
    from converters.pipeline import convert

    try:
        first = convert([FIXTURES / name], tmp_path / "a.ndjson")
    except ConversionError:
        assert not (tmp_path / "a.ndjson").exists()  # rejected inputs write nothing
        return
    convert([FIXTURES / name], tmp_path / "b.ndjson")
    assert (tmp_path / "a.ndjson").read_bytes() == (tmp_path / "b.ndjson").read_bytes()
    assert isinstance(first, Report)
    first.check()
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
