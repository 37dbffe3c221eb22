"""Conformance on real exports: every entry of ../shared/fixtures-wild/cases.json, both modes.

Each entry runs inside its own folder with its ``source`` and ``args`` (as a user would type
them; spaCy entries also get ``--write-data-rows``, as in fixtures-wild/SOURCES.md). ``ok``
entries exit 0 with every listed row kind present, the Labelbox SDK (oracle) accepts every row,
and the report accounts for every annotation; ``clean-error`` entries exit 1 with one
``error:`` line and write nothing. No entry may exit 0 with zero rows.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from converters.cli import main
from tests.conftest import WILD, read_ndjson, shared_json

CASES = shared_json(WILD / "cases.json") or []
_MODES = {"mal": "prelabel", "gt": "ground-truth"}

#: Entries whose ``kinds`` list a kind the source cannot give without inventing data: the
#: kinds asserted instead, and why (reported to the lead with the outcome table).
WRITTEN_KINDS = {
    "coco/sahi-terrain-all": (
        {"polygon"},
        "every one of the 22 annotations has a segmentation (the 4 corners of its bbox, from labelme "
        "rectangles); COCO's rule is one row per object, segmentation first (--coco-geometry both "
        "would write the boxes too)",
    ),
    "cvat/unidata-garbage-tags": (
        {"checklist"},
        "the file holds only <tag> elements (is_empty / is_full / is_scattered, two at once on some "
        "images): one global 'tags' checklist per image, nothing a radio could come from",
    ),
    "spacy/samira-tweets-textcat": (
        {"entity", "radio"},
        "the only cats label set (positive / negative / neutral) is one-hot in all 2,361 docs: a "
        "radio (issue 12 item 3); no multilabel set exists for a checklist",
    ),
}


def row_kind(row: dict) -> str:
    """The Labelbox kind of one NDJSON row (the names cases.json uses)."""
    for kind in ("bbox", "polygon", "point", "line", "mask", "location"):
        if kind in row:
            return {"line": "polyline", "location": "entity"}.get(kind, kind)
    if "segments" in row:  # video keyframe tracks carry their shape inside the segments
        shapes = {k for seg in row["segments"] for kf in seg["keyframes"] for k in kf}
        return next((k for k in ("bbox", "polygon", "point", "line") if k in shapes), "segments")
    if "answer" in row:
        answer = row["answer"]
        return "checklist" if isinstance(answer, list) else "text" if isinstance(answer, str) else "radio"
    return "other"


def _ids(case: dict) -> str:
    return case["id"]


def _needs_spacy(case: dict) -> bool:
    return any(str(s).endswith(".spacy") for s in case["source"])


#: DocBin entries need the optional spaCy extra: they run in the ``-m spacy`` pass (.ci/run).
CASE_PARAMS = [pytest.param(c, marks=pytest.mark.spacy) if _needs_spacy(c) else c for c in CASES]


@pytest.mark.shared
@pytest.mark.parametrize("case", CASE_PARAMS, ids=_ids)
@pytest.mark.parametrize("mode", ["mal", "gt"])
def test_wild_entry(tmp_path: Path, capsys, oracle, case: dict, mode: str, monkeypatch) -> None:
    if _needs_spacy(case):
        pytest.importorskip("spacy")
    folder = WILD / case["id"]
    monkeypatch.chdir(folder)
    out, rep = tmp_path / "out.ndjson", tmp_path / "report.json"
    extra = ["--write-data-rows", str(tmp_path / "rows.json")] if case["id"].startswith("spacy/") else []
    argv = ["convert", *case["source"], *case["args"], "-o", str(out), "--mode", _MODES[mode],
            "--report", str(rep), "--quiet", *extra]
    code = main(argv)
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    _log_outcome(case["id"], mode, code, out)
    if case["expect"] == "clean-error":
        assert code == 1, (code, err)
        assert len(err) == 1 and err[0].startswith("error: "), err
        assert not out.exists()
        return
    assert code == 0, err
    rows = read_ndjson(out)
    assert rows, "exit 0 with zero rows"
    kinds = {row_kind(r) for r in rows}
    expected, _why = WRITTEN_KINDS.get(case["id"], (set(case["kinds"]), ""))
    assert expected <= kinds, (expected, kinds)
    report = json.loads(rep.read_text(encoding="utf-8"))
    for kind, c in report["counts"].items():
        assert c["read"] == c["written"] + c["skipped"], (kind, c)
    result = oracle(out, mode=mode, media=case["media"])
    assert result.failed == 0, result.output
    assert result.ok == len(rows)


def _log_outcome(case_id: str, mode: str, code: int, out: Path) -> None:
    """With LBC_WILD_TABLE=FILE, append one line (entry, mode, exit, rows per kind): the outcome table."""
    if not os.environ.get("LBC_WILD_TABLE"):
        return
    counts: dict[str, int] = {}
    for r in read_ndjson(out) if out.exists() else []:
        counts[row_kind(r)] = counts.get(row_kind(r), 0) + 1
    with open(os.environ["LBC_WILD_TABLE"], "a", encoding="utf-8") as fh:
        fh.write(f"{case_id}\t{mode}\t{code}\t{json.dumps(counts, sort_keys=True)}\n")


# Every public VOC and YOLO fixture (../shared/fixtures-public) converts, oracle-clean, in both
# modes; voc_dataset2 (no <size>) and roboflow_dataset/yolo_obb (DOTA rows) used to stop.
_YC = "yolo/cvat-ai-datumaro/tests/assets/yolo_dataset"
_YO = "yolo/openvinotoolkit-datumaro/tests/assets"
_YD = "yolo/dagshub-annotation-converter/tests/fs_import/yolo/res"
_YL = "yolo/labelformat/tests/fixtures"
_VO = "voc/openvinotoolkit-datumaro/tests/assets"
PUBLIC_SWEEP = [
    *((f"{_YC}/{name}", ()) for name in (
        "yolo", "yolov8_detection", "yolov8_detection_with_list_of_imgs",
        "yolov8_detection_with_list_of_names", "yolov8_detection_with_subset_txt", "yolov8_pose",
        "yolov8_pose_two_values_per_point", "yolov8_segmentation")),
    (f"{_YC}/yolov8_oriented_boxes", ("--yolo-task", "obb")),
    (f"{_YC}/yolov8_classification", ("--from", "yolo")),  # class folders only: nothing to sniff
    (f"{_YD}/bbox_and_segmentation.yaml", ("--yolo-labels-dir", "labels_bbox")),
    (f"{_YD}/bbox_and_segmentation.yaml", ("--yolo-labels-dir", "labels_segmentation")),
    (f"{_YD}/pose_2dim.yaml", ("--yolo-labels-dir", "labels_pose_2dim")),
    (f"{_YD}/pose_3dim.yaml", ("--yolo-labels-dir", "labels_pose_3dim")),
    (f"{_YL}/instance_segmentation/YOLOv8/dataset.yaml", ()),
    (f"{_YL}/object_detection/YOLOv8/example.yaml", ()),
    (f"{_YO}/kaggle_dataset/relaxed_yolo", ("--from", "yolo")),
    (f"{_YO}/roboflow_dataset/yolo", ()),
    (f"{_YO}/roboflow_dataset/yolo_obb", ()),
    *((f"{_YO}/yolo_dataset/{name}", ()) for name in ("annotations", "labels", "strict")),
    *((f"{_VO}/voc_dataset/voc_dataset{n}", ()) for n in (1, 2, 3)),
    (f"{_VO}/roboflow_dataset/voc", ()),
    (f"{_VO}/kaggle_dataset/relaxed_voc1", ()),
    (f"{_VO}/kaggle_dataset/relaxed_voc2", ()),
    ("voc/labelformat/tests/fixtures/object_detection/PascalVOC", ()),
    ("voc/labelformat/tests/fixtures/semantic_segmentation/pascalvoc", ()),
]


@pytest.mark.shared
@pytest.mark.parametrize(("source", "args"), PUBLIC_SWEEP, ids=lambda v: v if isinstance(v, str) else " ".join(v))
@pytest.mark.parametrize("mode", ["mal", "gt"])
def test_public_voc_and_yolo_fixture_converts_oracle_clean(tmp_path: Path, capsys, oracle, source: str, args, mode: str) -> None:
    from tests.conftest import PUBLIC

    out, rep = tmp_path / "out.ndjson", tmp_path / "report.json"
    code = main(["convert", str(PUBLIC / source), *args, "-o", str(out), "--mode", _MODES[mode], "--report", str(rep), "--quiet"])
    assert code == 0, capsys.readouterr().err
    rows = read_ndjson(out)
    assert rows
    for kind, c in json.loads(rep.read_text(encoding="utf-8"))["counts"].items():
        assert c["read"] == c["written"] + c["skipped"], (kind, c)
    result = oracle(out, mode=mode, media="image")
    assert (result.ok, result.failed) == (len(rows), 0), result.output
