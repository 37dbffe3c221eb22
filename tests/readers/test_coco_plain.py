"""The COCO reader's plain-object lane (readers/coco/_plain.py) against the general reader."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from converters.readers.coco._objects import Category, CocoFile, ImageEntry, ObjectReader
from converters.readers.coco._plain import plain_annotation
from converters.report import Report

FILE = CocoFile(Path("annotations/instances_val.json"), {}, "val", "instances", role="instances")
CAT = Category("traffic light")
IMAGE = ImageEntry(7, FILE.path, 640, 480)
BASE = {"id": 12, "image_id": 7, "category_id": 3, "area": 50.0, "iscrowd": 0}
POLY = [10, 10, 20.5, 10, 20.5, 20, 10, 20]

#: (name, annotation, whether the lane takes it)
CASES = [
    ("box", {**BASE, "bbox": [1, 2.5, 10, 5], "segmentation": []}, True),
    ("box, no segmentation key", {**BASE, "bbox": [1, 2, 10, 5]}, True),
    ("box, segmentation null", {**BASE, "bbox": [1, 2, 10, 5], "segmentation": None}, True),
    ("polygon", {**BASE, "bbox": [10, 10, 10, 10], "segmentation": [POLY]}, True),
    ("polygon, no bbox", {**BASE, "segmentation": [POLY]}, True),
    ("polygon, bad bbox ignored (auto)", {**BASE, "bbox": "x", "segmentation": [POLY]}, True),
    ("string id", {**BASE, "id": "a-1", "bbox": [1, 2, 10, 5]}, True),
    ("no iscrowd key", {"id": 3, "image_id": 7, "category_id": 3, "bbox": [1, 2, 10, 5]}, True),
    ("iscrowd false", {**BASE, "iscrowd": False, "bbox": [1, 2, 10, 5]}, True),
    ("negative width", {**BASE, "bbox": [11, 2, -10, 5]}, True),
    ("crowd", {**BASE, "iscrowd": 1, "bbox": [1, 2, 10, 5], "segmentation": [POLY]}, False),
    ("crowd true", {**BASE, "iscrowd": True, "bbox": [1, 2, 10, 5]}, False),
    ("two parts", {**BASE, "segmentation": [POLY, POLY]}, False),
    ("RLE", {**BASE, "segmentation": {"size": [480, 640], "counts": [0, 10]}}, False),
    ("attributes", {**BASE, "bbox": [1, 2, 10, 5], "attributes": {"occluded": True}}, False),
    ("score", {**BASE, "bbox": [1, 2, 10, 5], "score": 0.5}, False),
    ("keypoints", {**BASE, "bbox": [1, 2, 10, 5], "keypoints": [1, 2, 2]}, False),
    ("no id", {"image_id": 7, "category_id": 3, "bbox": [1, 2, 10, 5]}, False),
    ("odd polygon", {**BASE, "segmentation": [[1, 2, 3]]}, False),
    ("string in polygon", {**BASE, "segmentation": [[1, 2, "3", 4, 5, 6]]}, False),
    ("NaN in box", {**BASE, "bbox": [1, math.nan, 10, 5]}, False),
    ("short box", {**BASE, "bbox": [1, 2, 10]}, False),
    ("bool in box", {**BASE, "bbox": [1, 2, True, 5]}, False),
    ("huge int in box", {**BASE, "bbox": [1, 2, 10**400, 5]}, False),
    ("neither", {**BASE, "segmentation": []}, False),
]


@pytest.mark.parametrize(("ann", "taken"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_plain_lane_matches_the_general_reader(ann: dict, taken: bool) -> None:
    fast = plain_annotation(FILE, ann, CAT)
    assert (fast is not None) == taken
    if fast is None:
        return
    report = Report()
    general = ObjectReader(geometry="auto", crowd="mask", keypoint_name="{class} {keypoint}", report=report)
    assert general.annotations(FILE, ann, 0, f"annotation id {ann['id']}", CAT, IMAGE) == [fast]
    assert not report.entries and not report.tallies


def test_label_kinds_shortcut(tmp_path: Path, monkeypatch) -> None:
    """The label-kinds scan answers the same with and without its plain-object shortcut."""
    import json

    from converters.readers import ReadContext
    from converters.readers.coco import COCOOptions, COCOReader

    anns = [dict(c[1], id=i) for i, c in enumerate(CASES) if "id" in c[1]]
    for a in anns:
        a["category_id"] = a["id"] % 3
    src = tmp_path / "instances_val.json"
    src.write_text(json.dumps({"images": [{"id": 7, "file_name": "a.jpg", "width": 640, "height": 480}],
                               "categories": [{"id": i, "name": f"c{i}"} for i in range(3)],
                               "annotations": anns}).replace("NaN", "1"))
    kinds = {}
    for switch in ("0", "1"):
        monkeypatch.setenv("LBCONVERT_NO_FAST_PATH", switch)
        for geometry in ("auto", "bbox", "both", "segmentation"):
            reader = COCOReader([src], options=COCOOptions(geometry=geometry), context=ReadContext(report=Report()))
            kinds[(switch, geometry)] = {k: set(v) for k, v in reader.label_kinds().items()}
    for geometry in ("auto", "bbox", "both", "segmentation"):
        assert kinds[("0", geometry)] == kinds[("1", geometry)]
    assert kinds[("0", "auto")]["c0"]
