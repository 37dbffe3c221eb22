"""COCO beyond instances: crowd, keypoints, image labels, panoptic, results, captions."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as cocomask

from converters import masks
from converters.cli import main
from converters.errors import InvalidFieldError, ParseError, UnsafeInputError
from converters.model import Box, Classification, Mask, Point
from converters.pipeline import convert
from converters.readers import ReadContext
from converters.readers.coco import COCOOptions, COCOReader
from converters.report import Report
from tests.conftest import read_ndjson

DATUMARO = "coco/openvinotoolkit-datumaro/tests/assets/coco_dataset"
CVAT_KP = "coco/cvat-ai-datumaro/tests/assets/coco_dataset/coco_person_keypoints/annotations"
RESULTS = "coco/cocoapi/results"


def read(paths, report: Report | None = None, min_score: float | None = None, **options):
    ctx = ReadContext(report=report or Report(), min_score=min_score)
    paths = paths if isinstance(paths, list) else [paths]
    return list(COCOReader(paths, options=COCOOptions(**options), context=ctx).read())


def write(tmp_path: Path, data, name: str = "instances_train.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def points(asset):
    return {a.label: (a.shape.x, a.shape.y, a.classifications) for a in asset.annotations if isinstance(a.shape, Point)}


def png(data: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data))))


# --------------------------------------------------------------------------- keypoints


def test_keypoints_with_empty_names_use_indexes(fixtures):
    report = Report()
    (asset,) = read(fixtures / DATUMARO / "coco/annotations/person_keypoints_train.json", report)
    # [0,0,0, 0,2,1, 4,1,2]: the first is absent (v=0, not a point at the origin), the
    # second hidden (v=1) and the third visible
    assert points(asset) == {
        "b 2": (0.0, 2.0, (Classification.radio("visibility", "occluded"),)),
        "b 3": (4.0, 1.0, ()),
    }
    assert report.tallies["keypoint-absent"] == 1
    assert any(n["code"] == "coco-skeleton-dropped" for n in report.notes)


def test_keypoint_names_from_the_category(fixtures):
    (asset,) = read(fixtures / CVAT_KP / "person_keypoints_val.json")
    assert set(points(asset)) == {"a a_1", "a a_2", "a a_3", "b 1", "b 2", "b 3"}
    assert points(asset)["a a_2"][:2] == (3.0, 4.0)


def test_keypoint_name_template(fixtures):
    (asset,) = read(fixtures / CVAT_KP / "person_keypoints_val.json", keypoint_name="{keypoint}")
    assert "a_1" in points(asset) and "1" in points(asset)


def test_keypoint_objects_repeated_from_instances_are_written_once(fixtures):
    ann = fixtures / DATUMARO / "coco/annotations"
    report = Report()
    (asset,) = read([ann / "person_keypoints_val.json", ann / "instances_val.json"], report)
    shapes = [type(a.shape).__name__ for a in asset.annotations]
    assert shapes.count("Polygon") == 1 and shapes.count("Mask") == 1 and shapes.count("Point") == 6
    assert report.tallies["keypoint-object-in-instances"] == 2
    assert len({a.key for a in asset.annotations}) == len(asset.annotations)


@pytest.mark.parametrize(
    ("keypoints", "text"),
    [
        ([1, 2, 2, 3, 4], "flat list"),
        ([1, 2, 2, 3, 4, 2], "has 2 points but category 'a' names 3"),
        ([1, 2, 2, 3, 4, 2, 5, 5, 3], "visibility of point 3 is 3"),
        ([1, 2, 2, 3, "x", 2, 5, 5, 2], "flat list"),
    ],
)
def test_bad_keypoints(tmp_path, fixtures, keypoints, text):
    data = json.loads((fixtures / CVAT_KP / "person_keypoints_val.json").read_text())
    data["annotations"][0]["keypoints"] = keypoints
    path = write(tmp_path, data, "person_keypoints_val.json")
    with pytest.raises(InvalidFieldError) as info:
        read(path)
    assert text in str(info.value) and "annotation id 1" in str(info.value) and str(path) in str(info.value)


# --------------------------------------------------------------------------- labels, captions


def test_image_labels_become_one_tags_checklist(fixtures):
    (asset,) = read(fixtures / DATUMARO / "coco/annotations/labels_val.json")
    (ann,) = asset.annotations
    assert ann.shape is None and ann.classification == Classification.checklist("tags", ["a", "b"])


def test_captions_are_reported_unsupported(fixtures):
    report = Report()
    (asset,) = read(fixtures / DATUMARO / "coco/annotations/captions_val.json", report)
    assert asset.annotations == ()
    assert report.skipped["text"] == 2 and report.read["text"] == 2
    assert {e.code for e in report.entries} == {"caption-unsupported"}


# --------------------------------------------------------------------------- crowd


CROWD = {
    "images": [{"id": 1, "file_name": "a.jpg", "width": 20, "height": 12}],
    "categories": [{"id": 3, "name": "people"}],
    "annotations": [
        {"id": 10, "image_id": 1, "category_id": 3, "iscrowd": 1, "bbox": [1, 1, 9, 9],
         "segmentation": [[1, 1, 10, 1, 10, 10, 1, 10], [12, 2, 18, 2, 18, 8]]},
        {"id": 11, "image_id": 1, "category_id": 3, "iscrowd": 1, "bbox": [0, 0, 3, 3], "segmentation": []},
    ],
}


def test_crowd_polygons_become_the_mask_pycocotools_draws(tmp_path):
    report = Report()
    (asset,) = read(write(tmp_path, CROWD), report)
    mask, box = (a.shape for a in asset.annotations)
    assert isinstance(mask, Mask) and (mask.width, mask.height) == (20, 12)
    rles = cocomask.frPyObjects(CROWD["annotations"][0]["segmentation"], 12, 20)
    expected = cocomask.decode(cocomask.merge(rles))
    assert np.array_equal(masks.decode(mask), expected)
    assert box == Box(x_min=0, y_min=0, x_max=3, y_max=3)
    assert [e.code for e in report.entries] == ["crowd-as-mask", "crowd-without-mask"]


@pytest.mark.parametrize(("crowd", "kinds", "skipped"), [("keep", ["MultiPolygon", "Box"], 0), ("skip", [], 2)])
def test_crowd_option(tmp_path, crowd, kinds, skipped):
    report = Report()
    (asset,) = read(write(tmp_path, CROWD), report, crowd=crowd)
    assert [type(a.shape).__name__ for a in asset.annotations] == kinds
    assert report.total_skipped == skipped


def test_crowd_rle_is_a_mask_equal_to_pycocotools(fixtures):
    (asset,) = read(fixtures / DATUMARO / "coco/annotations/instances_val.json")
    crowd = asset.annotations[1].shape
    assert isinstance(crowd, Mask)
    expected = cocomask.decode(cocomask.frPyObjects({"counts": [0, 20, 30], "size": [10, 5]}, 10, 5))
    assert np.array_equal(masks.decode(crowd), expected)


# --------------------------------------------------------------------------- panoptic


def _id_map(path: Path) -> np.ndarray:
    rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.uint32)
    return rgb[..., 0] + 256 * rgb[..., 1] + 65536 * rgb[..., 2]


def test_panoptic_fixture_masks_match_the_png(fixtures):
    root = fixtures / DATUMARO / "coco/annotations"
    (asset,) = read(root / "panoptic_val.json")
    ids = _id_map(root / "panoptic_val/b.png")
    got = {a.label: masks.decode(a.shape) for a in asset.annotations}
    assert set(got) == {"a", "b"}  # both stuff (isthing 0): one class mask each
    assert np.array_equal(got["a"], (ids == 7).astype(np.uint8))
    assert np.array_equal(got["b"], (ids == 20).astype(np.uint8))


def test_panoptic_png_of_another_size_is_an_error(fixtures):
    path = fixtures / DATUMARO / "coco_panoptic/annotations/panoptic_train.json"
    with pytest.raises(ParseError, match=r"panoptic PNG a\.png is 5x5 but its image is 10x5"):
        read(path)


def _panoptic(tmp_path: Path, segments, ids: np.ndarray, file_name: str = "img.png") -> Path:
    (tmp_path / "panoptic_val").mkdir(exist_ok=True)
    rgb = np.stack([ids % 256, ids // 256 % 256, ids // 65536], axis=2).astype(np.uint8)
    Image.fromarray(rgb).save(tmp_path / "panoptic_val" / "img.png")
    h, w = ids.shape
    data = {
        "images": [{"id": 1, "file_name": "img.jpg", "width": w, "height": h}],
        "categories": [{"id": 1, "name": "person", "isthing": 1}, {"id": 2, "name": "sky", "isthing": 0}],
        "annotations": [{"image_id": 1, "file_name": file_name, "segments_info": segments}],
    }
    return write(tmp_path, data, "panoptic_val.json")


def test_panoptic_things_stuff_and_unlisted_ids(tmp_path):
    ids = np.zeros((6, 9), np.int64)
    ids[0:2, :] = 300  # sky, split into two stuff segments
    ids[2, :] = 301
    ids[3:5, 1:3] = 70000  # person (a 3-byte id)
    ids[3:5, 5:8] = 70001  # person
    ids[5, 8] = 999  # not listed
    segments = [
        {"id": 70000, "category_id": 1}, {"id": 70001, "category_id": 1},
        {"id": 300, "category_id": 2}, {"id": 301, "category_id": 2},
        {"id": 5, "category_id": 1},  # listed, absent from the PNG
    ]
    report = Report()
    (asset,) = read(_panoptic(tmp_path, segments, ids), report)
    got = {a.key.split(":", 1)[1]: masks.decode(a.shape) for a in asset.annotations}
    assert set(got) == {"70000", "70001", "stuff:sky"}  # keys carry no file name (issue 12 item 11)
    assert np.array_equal(got["70000"], (ids == 70000).astype(np.uint8))
    assert np.array_equal(got["stuff:sky"], np.isin(ids, [300, 301]).astype(np.uint8))
    codes = sorted(e.code for e in report.entries)
    assert codes == ["panoptic-segment-empty", "panoptic-stuff-merged", "panoptic-stuff-merged", "panoptic-unlisted-id"]
    # reader-side drops are counted read and skipped at once (the pipeline counts the rest)
    assert report.read["mask"] == report.skipped["mask"] == 3


@pytest.mark.parametrize(("file_name", "error", "text"), [
    ("missing.png", ParseError, "panoptic PNG 'missing.png' not found"),
    ("../../../etc/passwd", UnsafeInputError, "leaves the dataset root"),
])
def test_panoptic_bad_png_reference(tmp_path, file_name, error, text):
    path = _panoptic(tmp_path, [], np.zeros((2, 2), np.int64), file_name=file_name)
    with pytest.raises(error, match=text):
        read(path)


# --------------------------------------------------------------------------- results


def _images_for_results(tmp_path: Path, fixtures: Path) -> Path:
    segm = json.loads((fixtures / RESULTS / "instances_val2014_fakesegm100_results.json").read_text())
    sizes = {r["image_id"]: r["segmentation"]["size"] for r in segm}
    kps = json.loads((fixtures / RESULTS / "person_keypoints_val2014_fakekeypoints100_results.json").read_text())
    for r in kps:
        sizes.setdefault(r["image_id"], [480, 640])
    cats = sorted({r["category_id"] for r in segm} | {1})
    data = {
        "images": [{"id": i, "file_name": f"COCO_val2014_{i:012d}.jpg", "height": h, "width": w}
                   for i, (h, w) in sorted(sizes.items())],
        "categories": [{"id": c, "name": f"class {c}"} for c in cats],
    }
    return write(tmp_path, data, "image_info_val2014.json")


def test_results_need_coco_images(fixtures):
    with pytest.raises(ParseError, match="needs --coco-images"):
        read(fixtures / RESULTS / "instances_val2014_fakesegm100_results.json")


def test_segm_results_are_pixel_exact_with_scores(tmp_path, fixtures):
    src = fixtures / RESULTS / "instances_val2014_fakesegm100_results.json"
    rows = json.loads(src.read_text())
    assets = read(src, images=str(_images_for_results(tmp_path, fixtures)))
    anns = [a for asset in assets for a in asset.annotations]
    assert len(anns) == len(rows)
    by_key = {a.key: a for a in anns}
    for i in (0, 1, 100, len(rows) - 1):
        a = by_key[f"results0#{i}"]  # keys carry no file name (issue 12 item 11)
        seg = rows[i]["segmentation"]
        expected = cocomask.decode({"size": seg["size"], "counts": seg["counts"].encode()})
        assert np.array_equal(masks.decode(a.shape), expected)
        assert a.confidence == rows[i]["score"] and a.source.element == f"[{i}]"


def test_min_score_drops_results_before_building_them(tmp_path, fixtures):
    src = fixtures / RESULTS / "instances_val2014_fakesegm100_results.json"
    scores = [r["score"] for r in json.loads(src.read_text())]
    report = Report()
    assets = read(src, report, min_score=0.5, images=str(_images_for_results(tmp_path, fixtures)))
    kept = sum(len(a.annotations) for a in assets)
    assert kept == sum(s >= 0.5 for s in scores)
    assert report.skipped["mask"] == sum(s < 0.5 for s in scores)
    assert {e.code for e in report.entries} == {"below-min-score"}


def test_keypoint_results(tmp_path, fixtures):
    src = fixtures / RESULTS / "person_keypoints_val2014_fakekeypoints100_results.json"
    rows = json.loads(src.read_text())
    report = Report()
    assets = read(src, report, images=str(_images_for_results(tmp_path, fixtures)))
    pts = [a for asset in assets for a in asset.annotations]
    labelled = sum(1 for r in rows for v in r["keypoints"][2::3] if v > 0)
    assert len(pts) == labelled and all(isinstance(a.shape, Point) for a in pts)
    assert report.tallies["keypoint-absent"] == 17 * len(rows) - labelled
    assert pts[0].label == "class 1 1" and pts[0].confidence == rows[0]["score"]


@pytest.mark.parametrize(("row", "text"), [
    ({"image_id": 123456789, "category_id": 1, "bbox": [1, 1, 2, 2], "score": 0.5}, "123456789 names no image"),
    ({"image_id": 42, "category_id": 999, "bbox": [1, 1, 2, 2], "score": 0.5}, "999 names no category"),
    ({"image_id": 42, "category_id": 1, "bbox": [1, 1, 2, 2], "score": 1.5}, "within [0, 1]"),
    ({"category_id": 1, "bbox": [1, 1, 2, 2]}, "missing field 'image_id'"),
])
def test_bad_result_rows(tmp_path, fixtures, row, text):
    path = write(tmp_path, [{"image_id": 42, "category_id": 1, "bbox": [0, 0, 5, 5], "score": 0.9}, row], "res.json")
    with pytest.raises(ParseError) as info:
        read(path, images=str(_images_for_results(tmp_path, fixtures)))
    assert text in str(info.value) and "result [1]" in str(info.value) and str(path) in str(info.value)


def test_caption_results_are_reported_without_images(tmp_path):
    path = write(tmp_path, [{"image_id": 1, "caption": "a dog"}, {"image_id": 2, "caption": "a cat"}], "captions_res.json")
    report = Report()
    assert read(path, report) == []
    assert report.skipped["text"] == 2


# --------------------------------------------------------------------------- end to end


def test_dataset_folder_end_to_end(tmp_path, fixtures, oracle):
    out = tmp_path / "out.ndjson"
    src = fixtures / DATUMARO / "coco"
    assert main(["convert", str(src), "-o", str(out), "--mode", "ground-truth", "--quiet"]) == 0
    rows = read_ndjson(out)
    kinds = sorted({k for r in rows for k in ("bbox", "polygon", "point", "mask", "answer") if k in r})
    assert kinds == ["answer", "bbox", "mask", "point", "polygon"]
    report = json.loads(out.with_suffix(".report.json").read_text())
    assert report["counts"]["text"] == {"read": 3, "written": 0, "skipped": 3}
    result = oracle(out, mode="gt", media="image")
    assert result.failed == 0 and result.ok == len(rows), result.output


def test_results_end_to_end_with_oracle(tmp_path, fixtures, oracle):
    images = _images_for_results(tmp_path, fixtures)
    for name, fmt in (("instances_val2014_fakesegm100_results.json", "composite"),
                      ("person_keypoints_val2014_fakekeypoints100_results.json", "png")):
        out = tmp_path / f"{name}.ndjson"
        code = main(["convert", str(fixtures / RESULTS / name), "-o", str(out), "--coco-images", str(images),
                     "--min-score", "0.3", "--mask-format", fmt, "--quiet"])
        assert code == 0
        rows = read_ndjson(out)
        assert rows and all("confidence" in r for r in rows)
        result = oracle(out, mode="mal", media="image")
        assert result.failed == 0 and result.ok == len(rows), result.output


def test_panoptic_round_trip_through_png_rows(tmp_path, fixtures):
    root = fixtures / DATUMARO / "coco/annotations"
    out = tmp_path / "out.ndjson"
    convert([root / "panoptic_val.json"], out, fmt="coco", mode="ground-truth")
    ids = _id_map(root / "panoptic_val/b.png")
    got = {r["name"]: png(r["mask"]["png"]) for r in read_ndjson(out)}
    assert np.array_equal(got["a"], (ids == 7).astype(np.uint8))
    assert np.array_equal(got["b"], (ids == 20).astype(np.uint8))


def test_repairs_appear_in_the_report(tmp_path):
    """The issue's three cases: a bow-tie, a box half outside, a holed (keyhole) polygon."""
    data = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 20, "height": 20}],
        "categories": [{"id": 1, "name": "thing"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "segmentation": [[0, 0, 10, 10, 10, 0, 0, 10]], "bbox": [0, 0, 10, 10]},
            {"id": 2, "image_id": 1, "category_id": 1, "bbox": [-10, 5, 20, 10]},
            {"id": 3, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "segmentation": [
                [0, 0, 10, 0, 10, 10, 0, 10, 0, 5, 3, 5, 3, 7, 7, 7, 7, 3, 3, 3, 3, 5, 0, 5]]},
        ],
    }
    out = tmp_path / "out.ndjson"
    report = convert([write(tmp_path, data)], out, fmt="coco", mode="ground-truth")
    report.check()
    entries = {(e.source.annotation_id, e.action, e.code) for e in report.entries}
    assert {("1", "repaired", "invalid-polygon"), ("1", "split", "multipart-split"),
            ("2", "clipped", "box-clipped"), ("3", "repaired", "invalid-polygon"),
            ("3", "converted", "holes-as-mask")} <= entries
    rows = read_ndjson(out)
    assert [next(k for k in ("polygon", "bbox", "mask") if k in r) for r in rows] == ["polygon", "polygon", "bbox", "mask"]
    assert rows[2]["bbox"] == {"top": 5.0, "left": 0.0, "height": 10.0, "width": 10.0}
    assert png(rows[3]["mask"]["png"]).sum() == 84



@pytest.mark.parametrize(("counts", "text"), [
    ("0oo0", "RLE runs sum to"),
    ("1P", "truncated"),
    ("1 2", "alphabet"),
    ([1, -1, 4], "non-negative"),
])
def test_corrupt_rle_is_a_one_line_error_at_read_time(tmp_path, capsys, counts, text):
    data = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 2, "height": 2}],
        "categories": [{"id": 1, "name": "x"}],
        "annotations": [{"id": 77, "image_id": 1, "category_id": 1, "segmentation": {"size": [2, 2], "counts": counts}}],
    }
    path = write(tmp_path, data)
    out = tmp_path / "out.ndjson"
    assert main(["convert", str(path), "-o", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {path}, annotation id 77: ") and text in err and "\n" not in err
    assert not out.exists()


def test_keypoint_points_carry_the_objects_attributes(tmp_path: Path) -> None:
    # CVAT "COCO Keypoints 1.0": attributes on the annotation belong to every point row
    # (CVAT skeleton nodes carry theirs); a hidden point keeps its own visibility too.
    doc = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 10, "height": 10}],
        "categories": [{"id": 1, "name": "door", "keypoints": ["knob", "hinge"], "skeleton": []}],
        "annotations": [{"id": 5, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5], "num_keypoints": 2,
                         "keypoints": [2, 2, 2, 4, 4, 1], "attributes": {"occluded": False, "color": "red"}}],
    }
    (asset,) = read(write(tmp_path, doc, "person_keypoints_default.json"))
    box = next(a for a in asset.annotations if isinstance(a.shape, Box))
    attrs = box.classifications
    assert {c.name: c.answers[0].name for c in attrs} == {"occluded": "false", "color": "red"}
    got = points(asset)
    assert set(got) == {"door knob", "door hinge"}
    assert got["door knob"][2] == attrs
    assert got["door hinge"][2] == (*attrs, Classification.radio("visibility", "occluded"))


def test_panoptic_decoding_memory_is_bounded(tmp_path):
    """The id map is built in place from one byte band at a time, ids are listed a slab at a
    time and stuff classes merged without np.isin's int64 table: about 7 bytes per pixel
    (numpy's allocations, which tracemalloc sees), where it was about 23."""
    import tracemalloc

    h, w = 600, 900
    ids = np.zeros((h, w), np.int64)
    segments = []
    for k in range(1, 31):
        y, x = divmod(k - 1, 6)
        seg = 70000 + k * 3
        ids[y * 120 : y * 120 + 100, x * 150 : x * 150 + 140] = seg
        segments.append({"id": seg, "category_id": 1 if k % 2 else 2})
    path = _panoptic(tmp_path, segments, ids)
    np.unique(ids[:2, :2])  # numpy imports numpy.ma on a first np.unique: a one-off ~1 MB, not decoding
    tracemalloc.start()
    try:
        (asset,) = read(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak / (h * w) < 10, f"{peak / (h * w):.1f} bytes per pixel"
    got = {a.label: masks.decode(a.shape) for a in asset.annotations if a.label == "sky"}
    stuff = np.isin(ids, [s["id"] for s in segments if s["category_id"] == 2])
    assert np.array_equal(got["sky"], stuff.astype(np.uint8))
    assert sum(1 for a in asset.annotations if a.label == "person") == 15
