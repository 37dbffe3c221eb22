"""YOLO reader: every public fixture layout, each task type, bad rows, paths, sizes, round trip."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from converters.cli import main
from converters.errors import OptionsError, ParseError
from converters.model import Box, Point, Polygon
from converters.readers import ReadContext
from converters.readers.yolo import YOLOOptions, YOLOReader
from tests.conftest import read_ndjson

CVAT = "yolo/cvat-ai-datumaro/tests/assets/yolo_dataset"
OV = "yolo/openvinotoolkit-datumaro/tests/assets"
LF = "yolo/labelformat/tests/fixtures"
DAG = "yolo/dagshub-annotation-converter/tests/fs_import/yolo/res"


def read(path: Path, *, min_score: float | None = None, **options: object) -> tuple[list, ReadContext]:
    ctx = ReadContext(min_score=min_score)
    reader = YOLOReader([path], options=YOLOOptions(**options), context=ctx)
    return list(reader.read()), ctx


def kinds(assets: list) -> Counter:
    return Counter(type(a.shape or a.classification).__name__ for asset in assets for a in asset.annotations)


def image(path: Path, width: int, height: int, *, orientation: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    im = Image.new("RGB", (width, height), (90, 20, 200))
    if orientation is None:
        im.save(path)
    else:
        exif = Image.Exif()
        exif[0x0112] = orientation
        im.save(path, exif=exif)
    return path


def dataset(tmp_path: Path, rows: str | dict[str, str], *, yaml: str | None = None, size: tuple[int, int] = (200, 100)) -> Path:
    """images/train/<name>.jpg + labels/train/<name>.txt (+ data.yaml)."""
    files = rows if isinstance(rows, dict) else {"a": rows}
    for stem, text in files.items():
        image(tmp_path / "images" / "train" / f"{stem}.jpg", *size)
        label = tmp_path / "labels" / "train" / f"{stem}.txt"
        label.parent.mkdir(parents=True, exist_ok=True)
        label.write_text(text, encoding="utf-8")
    (tmp_path / "data.yaml").write_text(yaml or "path: .\ntrain: images/train\nnames: [cat, dog, traffic light]\n", encoding="utf-8")
    return tmp_path


# --------------------------------------------------------------------------- public fixtures

FIXTURES = [
    # (path, options, assets, kinds, subsets)
    (f"{CVAT}/yolo", {}, 1, {"Box": 2}, {"train"}),
    (f"{CVAT}/yolov8_detection", {}, 1, {"Box": 2}, {"train"}),
    (f"{CVAT}/yolov8_detection_with_list_of_imgs", {}, 1, {"Box": 2}, {"train"}),
    (f"{CVAT}/yolov8_detection_with_list_of_names", {}, 1, {"Box": 2}, {"train"}),
    (f"{CVAT}/yolov8_detection_with_subset_txt", {}, 1, {"Box": 2}, {"train"}),
    (f"{CVAT}/yolov8_segmentation", {}, 1, {"Polygon": 2}, {"train"}),
    (f"{CVAT}/yolov8_oriented_boxes", {"task": "obb"}, 1, {"Polygon": 2}, {"train"}),
    (f"{CVAT}/yolov8_pose", {}, 1, {"Box": 1, "Point": 3}, {"train"}),
    (f"{CVAT}/yolov8_pose_two_values_per_point", {}, 1, {"Box": 1, "Point": 3}, {"train"}),
    (f"{CVAT}/yolov8_classification", {}, 3, {"Classification": 3}, {"train"}),
    (f"{OV}/yolo_dataset/strict", {}, 1, {"Box": 2}, {"train"}),
    (f"{OV}/yolo_dataset/annotations", {}, 1, {"Box": 2}, {""}),
    (f"{OV}/yolo_dataset/labels", {}, 2, {"Box": 4}, {"train", "val"}),
    (f"{OV}/roboflow_dataset/yolo", {}, 2, {"Box": 2}, {"train"}),
    (f"{OV}/roboflow_dataset/yolo_obb", {}, 2, {"Polygon": 2}, {"train"}),  # DOTA rows in labelTxt/
    (f"{OV}/kaggle_dataset/relaxed_yolo", {}, 2, {"Box": 4}, {""}),
    (f"{LF}/object_detection/YOLOv8", {}, 2, {"Box": 16}, {"train"}),
    (f"{DAG}/bbox_and_segmentation.yaml", {"labels_dir": "labels_bbox"}, 1, {"Box": 2}, {""}),
    (f"{DAG}/bbox_and_segmentation.yaml", {"labels_dir": "labels_segmentation"}, 1, {"Polygon": 3}, {""}),
    (f"{DAG}/bbox_and_segmentation.yaml", {"labels_dir": "empty"}, 1, {}, {""}),
    (f"{DAG}/pose_2dim.yaml", {"labels_dir": "labels_pose_2dim"}, 1, {"Box": 2, "Point": 8}, {""}),
    (f"{DAG}/pose_3dim.yaml", {"labels_dir": "labels_pose_3dim"}, 1, {"Box": 2, "Point": 4}, {""}),
]


def _fixture_id(value: object) -> str:
    """Sets sorted: test ids must not depend on hash order (xdist workers compare them)."""
    return (str(sorted(value)) if isinstance(value, set) else str(value))[-40:]


@pytest.mark.parametrize(("path", "options", "n_assets", "expected", "subsets"), FIXTURES, ids=_fixture_id)
def test_public_fixture__reads(fixtures: Path, path: str, options: dict, n_assets: int, expected: dict, subsets: set) -> None:
    assets, _ = read(fixtures / path, **options)
    assert len(assets) == n_assets
    assert kinds(assets) == Counter(expected)
    assert {a.fields["subset"] for a in assets} == subsets


@pytest.mark.oracle
@pytest.mark.parametrize(("path", "options", "n_assets", "expected", "subsets"), FIXTURES, ids=_fixture_id)
def test_public_fixture__oracle(fixtures: Path, tmp_path: Path, oracle, path: str, options: dict, n_assets: int, expected: dict, subsets: set) -> None:
    out = tmp_path / "out.ndjson"
    flags = [f"--yolo-{k.replace('_', '-')}={v}" for k, v in options.items()]
    assert main(["convert", str(fixtures / path), "-o", str(out), "--from", "yolo", "--quiet", *flags]) == 0
    rows = read_ndjson(out)
    assert len(rows) == sum(expected.values())
    report = json.loads(out.with_name("out.report.json").read_text())
    for counts in report["counts"].values():
        assert counts["read"] == counts["written"] + counts["skipped"]
    # Ground truth has the same row shapes; checked on the kinds that differ (pose, polygons).
    for mode in ("mal", "gt") if {"Point", "Polygon"} & set(expected) else ("mal",):
        result = oracle(out, mode=mode)
        assert (result.ok, result.failed) == (len(rows), 0), result.output


def test_detection__pixel_coordinates(fixtures: Path) -> None:
    (asset,) = read(fixtures / f"{CVAT}/yolov8_detection")[0]
    assert (asset.name, asset.width, asset.height) == ("1.jpg", 15, 10)
    first, second = asset.annotations
    assert first.label == "label_2" and second.label == "label_4"
    box = first.shape
    assert isinstance(box, Box)
    assert box.x_min == pytest.approx(0.0, abs=1e-4) and box.x_max == pytest.approx(4.0, abs=1e-4)
    assert (box.y_min, box.y_max) == pytest.approx((2.0, 4.0))
    assert first.source.line == 1 and second.source.line == 2 and first.source.file.endswith("labels/train/1.txt")


def test_labelformat__space_in_class_and_file_names(fixtures: Path) -> None:
    assets, _ = read(fixtures / f"{LF}/object_detection/YOLOv8")
    assert [a.name for a in assets] == ["a-weird Filename.asdf.jpg", "aNother-weird__ filename.with.many.characters.jpg"]
    assert (assets[0].width, assets[0].height) == (640, 416)
    assert "bicycle with space" in {a.label for a in assets[0].annotations}


def test_labelformat_segmentation__real_polygons(fixtures: Path, tmp_path: Path) -> None:
    # The two COCO photos are not copied (600 KB): blank JPEGs of their sizes stand in.
    src = fixtures / f"{LF}/instance_segmentation/YOLOv8"
    shutil.copytree(src, tmp_path / "ds")
    image(tmp_path / "ds/images/000000036086.jpg", 482, 640)
    image(tmp_path / "ds/images/000000109005.jpg", 640, 428)
    assets, _ = read(tmp_path / "ds")
    assert [len(a.annotations) for a in assets] == [2, 1]
    poly = assets[0].annotations[0].shape
    assert isinstance(poly, Polygon) and len(poly.exterior) == 20
    assert poly.exterior[0] == pytest.approx((0.248797 * 482, 0.763484 * 640))
    assert assets[0].annotations[0].label == "sports ball"


def test_obb__corner_outside_is_clipped_and_reported(fixtures: Path) -> None:
    (asset,), ctx = read(fixtures / f"{CVAT}/yolov8_oriented_boxes")
    corners = asset.annotations[1].shape.exterior
    assert corners[3] == pytest.approx((0.442265 * 15, 0.0))
    (entry,) = ctx.report.entries
    assert (entry.action, entry.code, entry.source.line) == ("clipped", "out-of-range", 2)


def test_pose__keypoint_names_visibility_and_absent(tmp_path: Path) -> None:
    yaml = "train: images/train\nkpt_shape: [3, 3]\nkpt_names: {0: [nose, eye, ear]}\nnames: {0: person}\n"
    dataset(tmp_path, "0 0.5 0.5 0.2 0.2 0.1 0.2 2 0.3 0.4 1 0 0 0\n", yaml=yaml)
    (asset,), ctx = read(tmp_path)
    box, nose, eye = asset.annotations
    assert isinstance(box.shape, Box) and box.label == "person"
    assert (nose.label, nose.shape, nose.classifications) == ("person nose", Point(x=20.0, y=20.0), ())
    assert eye.label == "person eye" and eye.classifications[0].answers[0].name == "hidden"
    assert eye.classifications[0].name == "visibility"
    assert {box.group, nose.group, eye.group} == {"L1"}
    assert ctx.report.tallies["keypoint-absent"] == 1


def test_pose__two_values_zero_is_absent_and_template(tmp_path: Path) -> None:
    dataset(tmp_path, "1 0.5 0.5 0.2 0.2 0 0 0.25 0.5\n", yaml="train: images/train\nkpt_shape: [2, 2]\nnames: [a, b]\n")
    (asset,), ctx = read(tmp_path, keypoint_name="{class}-kp{index}")
    assert [a.label for a in asset.annotations] == ["b", "b-kp1"]
    assert asset.annotations[1].shape == Point(x=50.0, y=50.0)
    assert ctx.report.tallies["keypoint-absent"] == 1


def test_pose__without_kpt_shape_is_an_options_error(tmp_path: Path) -> None:
    dataset(tmp_path, "0 0.5 0.5 0.2 0.2 0.1 0.1\n")
    with pytest.raises(OptionsError, match="kpt_shape"):
        read(tmp_path, task="pose")
    (asset,), _ = read(tmp_path, task="pose", kpt_shape="1,2")
    assert kinds([asset]) == Counter({"Box": 1, "Point": 1})


@pytest.mark.parametrize(
    ("row", "task", "shape", "confidence"),
    [
        ("0 0.5 0.5 0.2 0.4 0.875", "auto", Box, 0.875),
        ("0 0.5 0.5 0.2 0.4", "detect", Box, None),
        ("0 0.1 0.1 0.4 0.1 0.4 0.5 0.6", "auto", Polygon, 0.6),
        ("0 0.1 0.1 0.4 0.1 0.4 0.5 0.1 0.5 0.3", "obb", Polygon, 0.3),
        ("0 0.1 0.1 0.4 0.1 0.4 0.5", "segment", Polygon, None),
    ],
)
def test_rows__shapes_and_trailing_confidence(tmp_path: Path, row: str, task: str, shape: type, confidence: float | None) -> None:
    dataset(tmp_path, row + "\n")
    (asset,), _ = read(tmp_path, task=task)
    (ann,) = asset.annotations
    assert isinstance(ann.shape, shape) and ann.confidence == confidence


def test_predictions__below_min_score_skipped_and_counted(tmp_path: Path) -> None:
    dataset(tmp_path, "0 0.5 0.5 0.2 0.4 0.9\n1 0.5 0.5 0.2 0.4 0.2\n")
    (asset,), ctx = read(tmp_path, min_score=0.5)
    assert [a.confidence for a in asset.annotations] == [0.9]
    assert ctx.report.reasons() == Counter({"below-min-score": 1})
    assert ctx.report.read["bbox"] == ctx.report.skipped["bbox"] == 1


def test_box_outside_image__clipped_and_reported(tmp_path: Path) -> None:
    dataset(tmp_path, "0 0.95 0.5 0.2 1.2\n0 0.5 0.5 0.2 0.2\n")
    (asset,), ctx = read(tmp_path)
    assert asset.annotations[0].shape == Box(x_min=170.0, y_min=0.0, x_max=200.0, y_max=100.0)
    assert [(e.action, e.code, e.source.line) for e in ctx.report.entries] == [("clipped", "out-of-range", 1)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0 0.5 0.5 0.2\n", "3 values after the class id"),
        ("0 0.5 abc 0.2 0.2\n", "'abc' is not a number"),
        ("7 0.5 0.5 0.2 0.2\n", "class id 7 is not in names"),
        ("-1 0.5 0.5 0.2 0.2\n", "not a non-negative integer"),
        ("0.5 0.5 0.5 0.2 0.2\n", "not a non-negative integer"),
        ("0 0.5 0.5 0.2 0.2 1.5\n", "confidence 1.5 is outside"),
        ("0 0.5 0.5 -0.2 0.2\n", "negative box size"),
        ("0 nan 0.5 0.2 0.2\n", "not a finite number"),
        ("1 1 2 1 2 2 1 2 label_0 7\n", "'label_0' is not a number"),  # DOTA rows are read (item 7); difficult is 0/1
    ],
)
def test_malformed_row__one_line_error_or_skipped(tmp_path: Path, text: str, message: str) -> None:
    dataset(tmp_path, "1 0.5 0.5 0.1 0.1\n" + text)
    with pytest.raises(ParseError) as err:
        read(tmp_path)
    assert str(err.value).endswith(message) or message in str(err.value)
    assert "labels/train/a.txt, line 2:" in str(err.value) and "\n" not in str(err.value)
    (asset,), ctx = read(tmp_path, on_error="skip")
    assert len(asset.annotations) == 1
    assert ctx.report.reasons() == Counter({"malformed-row": 1})


def test_task_conflict__reported_not_guessed(tmp_path: Path) -> None:
    dataset(tmp_path, "0 0.5 0.5 0.2 0.2\n1 0.1 0.1 0.4 0.1 0.4 0.5\n")
    (asset,), ctx = read(tmp_path, task="detect")
    assert kinds([asset]) == Counter({"Box": 1})
    (entry,) = ctx.report.entries
    assert (entry.code, entry.kind, entry.source.line) == ("task-conflict", "polygon", 2)


def test_segment_task__box_row_converted_and_reported(tmp_path: Path) -> None:
    dataset(tmp_path, "0 0.5 0.5 0.2 0.2\n1 0.1 0.1 0.4 0.1 0.4 0.5\n")
    (asset,), ctx = read(tmp_path, task="segment")
    assert kinds([asset]) == Counter({"Box": 1, "Polygon": 1})
    assert [e.code for e in ctx.report.entries] == ["box-in-segment-task"]


def test_crlf_scientific_notation_trailing_space_duplicates(tmp_path: Path) -> None:
    dataset(tmp_path, "0 5e-01 0.5 1E-1 0.2  \r\n\r\n0 5e-01 0.5 1E-1 0.2  \r\n")
    (asset,), ctx = read(tmp_path)
    b = asset.annotations[0].shape
    assert (b.x_min, b.y_min, b.x_max, b.y_max) == pytest.approx((90.0, 40.0, 110.0, 60.0))
    assert ctx.report.reasons() == Counter({"duplicate-row": 1})


def test_exif_orientation_swaps_size_like_ultralytics(tmp_path: Path) -> None:
    dataset(tmp_path, "0 0.5 0.5 1 1\n")
    image(tmp_path / "images/train/a.jpg", 200, 100, orientation=6)
    (asset,), _ = read(tmp_path)
    assert (asset.width, asset.height) == (100, 200)
    assert asset.annotations[0].shape == Box(x_min=0.0, y_min=0.0, x_max=100.0, y_max=200.0)
    (asset,), _ = read(tmp_path, exif=False)
    assert (asset.width, asset.height) == (200, 100)


def test_empty_missing_and_orphan_label_files(tmp_path: Path) -> None:
    dataset(tmp_path, {"a": "0 0.5 0.5 0.2 0.2\n", "b": ""})
    image(tmp_path / "images/train/c.png", 10, 10)
    (tmp_path / "labels/train/ghost.txt").write_text("0 0.5 0.5 0.2 0.2\n1 0.5 0.5 0.2 0.2\n")
    (tmp_path / "labels/train/README.txt").write_text("These are the labels.\n")
    assets, ctx = read(tmp_path)
    assert [(a.name, len(a.annotations)) for a in assets] == [("a.jpg", 1), ("b.jpg", 0), ("c.png", 0)]
    t = ctx.report.tallies
    assert (t["label-file-empty"], t["label-file-missing"], t["stray-text-file"]) == (1, 1, 1)
    assert ctx.report.reasons() == Counter({"label-without-image": 2})
    assert {e.source.line for e in ctx.report.entries} == {1, 2}


def test_same_stem_two_images__share_the_label_file_loudly(tmp_path: Path) -> None:
    dataset(tmp_path, "0 0.5 0.5 0.2 0.2\n")
    image(tmp_path / "images/train/a.png", 20, 10)
    assets, ctx = read(tmp_path)
    assert [(a.name, len(a.annotations)) for a in assets] == [("a.jpg", 1), ("a.png", 1)]
    assert ctx.report.tallies["label-file-shared"] == 1


def test_unreadable_image__rows_reported_not_fatal(tmp_path: Path) -> None:
    dataset(tmp_path, {"a": "0 0.5 0.5 0.2 0.2\n", "b": "1 0.5 0.5 0.2 0.2\n"})
    (tmp_path / "images/train/b.jpg").write_bytes(b"not a jpeg")
    assets, ctx = read(tmp_path)
    assert [a.name for a in assets] == ["a.jpg"]
    assert ctx.report.reasons() == Counter({"image-unreadable": 1})


def test_list_file__paths_never_leave_the_root(tmp_path: Path) -> None:
    outside = image(tmp_path / "secret.jpg", 10, 10)
    root = tmp_path / "ds"
    image(root / "images/x.jpg", 10, 10)
    (root / "labels").mkdir()
    (root / "labels/x.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    (root / "train.txt").write_text(f"./images/x.jpg\n../secret.jpg\n{outside}\n")
    (root / "data.yaml").write_text("path: /somewhere/else\ntrain: train.txt\nnames: [a]\n")
    assets, ctx = read(root)
    assert [a.name for a in assets] == ["x.jpg"]
    assert ctx.report.tallies["image-not-found"] == 2
    assert {n["code"] for n in ctx.report.notes} >= {"path-ignored", "image-not-found"}


def test_names__dict_with_gaps_nc_mismatch_and_no_names(tmp_path: Path) -> None:
    dataset(tmp_path, "5 0.5 0.5 0.2 0.2\n", yaml="train: images/train\nnc: 3\nnames: {0: a, 5: far}\n")
    (asset,), ctx = read(tmp_path)
    assert asset.annotations[0].label == "far"
    assert "nc-mismatch" in {n["code"] for n in ctx.report.notes}
    (tmp_path / "data.yaml").unlink()
    (asset,), ctx = read(tmp_path)
    assert asset.annotations[0].label == "5"
    assert "no-class-names" in {n["code"] for n in ctx.report.notes}


def test_yaml__syntax_error_and_aliases_refused(tmp_path: Path) -> None:
    dataset(tmp_path, "0 0.5 0.5 0.2 0.2\n", yaml="train: images/train\nnames: [a, b\n")
    with pytest.raises(ParseError, match=r"data.yaml, line \d+, column \d+: invalid YAML"):
        read(tmp_path / "data.yaml")
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nnames: *b\ntrain: images/train\n"
    (tmp_path / "data.yaml").write_text(bomb)
    with pytest.raises(ParseError, match="aliases"):
        read(tmp_path / "data.yaml")


def test_several_yamls_and_missing_labels_folder__one_line_errors(fixtures: Path) -> None:
    with pytest.raises(ParseError, match="several dataset YAMLs"):
        read(fixtures / DAG)
    with pytest.raises(ParseError, match="labels_bbox, labels_pose_2dim"):
        read(fixtures / f"{DAG}/bbox_and_segmentation.yaml")



def test_roboflow_obb_labeltxt__read_as_polygons(fixtures: Path) -> None:
    # Once an error (no labels / "looks like a DOTA row"), now read (issue 12 item 7).
    assets, ctx = read(fixtures / f"{OV}/roboflow_dataset/yolo_obb")
    got = {(a.name, ann.label, ann.shape.exterior, ann.classifications[0].answers[0].name) for a in assets for ann in a.annotations}
    assert {(n, lbl, frozenset(ring)) for n, lbl, ring, _ in got} == {
        ("train_001.jpg", "label_0", frozenset({(0.0, 0.0), (0.0, 2.0), (2.0, 2.0), (2.0, 0.0)})),
        ("train_002.jpg", "label_1", frozenset({(1.0, 1.0), (1.0, 5.0), (5.0, 5.0), (5.0, 1.0)})),
    }
    assert {d for *_, d in got} == {"false"}
    assert ctx.report.tallies["split-not-found"] == 1  # data.yaml says ../valid/images; the folder is val/


def test_dota_rows__headers_class_names_difficult_auto_detected(tmp_path: Path) -> None:
    image(tmp_path / "images" / "p1.png", 100, 50)
    (tmp_path / "labelTxt").mkdir()
    (tmp_path / "labelTxt" / "p1.txt").write_text(
        "imagesource:GoogleEarth\ngsd:0.146\n"
        "10 5 40 5 40 20 10 20 plane 0\n"
        "50 10 90 10 90 45 50 45 large-vehicle 1\n"
        "1 1 3 1 3 3 1 3 small-vehicle\n"
    )
    from converters.pipeline import detect_format

    assert detect_format([tmp_path]) == "yolo"
    (asset,), ctx = read(tmp_path)
    assert [(a.label, a.classifications[0].answers[0].name, a.source.line) for a in asset.annotations] == [
        ("plane", "false", 3), ("large-vehicle", "true", 4), ("small-vehicle", "false", 5)]
    assert set(asset.annotations[1].shape.exterior) == {(50.0, 10.0), (90.0, 10.0), (90.0, 45.0), (50.0, 45.0)}
    assert ctx.report.tallies["dota-header-line"] == 2


def test_roboflow__missing_split_is_reported(fixtures: Path) -> None:
    _, ctx = read(fixtures / f"{OV}/roboflow_dataset/yolo")
    assert ctx.report.tallies["split-not-found"] == 1
    assert "valid/images" in next(n["message"] for n in ctx.report.notes if n["code"] == "split-not-found")


def test_global_key__subset_only_when_asked_or_needed(fixtures: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.ndjson"
    src = fixtures / f"{CVAT}/yolov8_detection"
    assert main(["convert", str(src), "-o", str(out), "--quiet"]) == 0  # --from auto finds yolo
    assert {r["dataRow"]["globalKey"] for r in read_ndjson(out)} == {"1.jpg"}
    assert main(["convert", str(src), "-o", str(out), "--quiet", "--global-key", "{subset}/{stem}"]) == 0
    assert {r["dataRow"]["globalKey"] for r in read_ndjson(out)} == {"train/1"}
    # Two subsets holding 1.jpg: the default key takes the subset, and the report says why.
    assert main(["convert", str(fixtures / f"{OV}/yolo_dataset/labels"), "-o", str(out), "--quiet"]) == 0
    assert {r["dataRow"]["globalKey"] for r in read_ndjson(out)} == {"train/1.jpg", "val/1.jpg"}
    report = json.loads(out.with_name("o.report.json").read_text())
    assert "key-includes-subset" in {n["code"] for n in report["notes"]}


def test_cli__malformed_row_exit_1_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dataset(tmp_path / "ds", "0 0.5 0.5 0.2\n")
    assert main(["convert", str(tmp_path / "ds"), "-o", str(tmp_path / "o.ndjson"), "--from", "yolo"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert any("a.txt, line 1: 3 values after the class id" in line for line in err)
    assert not (tmp_path / "o.ndjson").exists()


def test_options__validated() -> None:
    with pytest.raises(ValueError, match="kpt_shape"):
        YOLOOptions(kpt_shape="17")
    with pytest.raises(ValueError, match="task"):
        YOLOOptions(task="boxes")
    with pytest.raises(ValueError, match="keypoint_name"):
        YOLOOptions(keypoint_name="{klass}")


# --------------------------------------------------------------------------- round trip

_coord = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@settings(max_examples=40, deadline=None)
@given(
    size=st.tuples(st.integers(1, 4000), st.integers(1, 4000)),
    boxes=st.lists(st.tuples(_coord, _coord, _coord, _coord), min_size=1, max_size=5),
    polygons=st.lists(st.lists(st.tuples(_coord, _coord), min_size=3, max_size=8), min_size=1, max_size=3),
)
def test_round_trip__six_decimals_within_1e5_of_image_size(tmp_path_factory: pytest.TempPathFactory, size: tuple[int, int], boxes: list, polygons: list) -> None:
    width, height = size
    root = tmp_path_factory.mktemp("rt")
    lines, expected = [], []
    for x0, y0, x1, y1 in boxes:
        bx0, bx1 = sorted((x0, x1))
        by0, by1 = sorted((y0, y1))
        cx, cy, w, h = (bx0 + bx1) / 2, (by0 + by1) / 2, bx1 - bx0, by1 - by0
        lines.append(f"0 {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}")
        expected.append([bx0 * width, by0 * height, bx1 * width, by1 * height])
    for poly in polygons:
        lines.append("1 " + " ".join(f"{x:.6f} {y:.6f}" for x, y in poly))
        expected.append([c for x, y in poly for c in (x * width, y * height)])
    image(root / "images/train/a.png", width, height)
    (root / "labels/train").mkdir(parents=True)
    (root / "labels/train/a.txt").write_text("\n".join(lines) + "\n")
    (root / "data.yaml").write_text("train: images/train\nnames: [box, poly]\n")
    (asset,), ctx = read(root, on_error="error")
    got = []
    for ann in asset.annotations:
        s = ann.shape
        got.append([s.x_min, s.y_min, s.x_max, s.y_max] if isinstance(s, Box) else [c for p in s.exterior for c in p])
    # Exact duplicate rows are dropped (and reported); compare the rest in order.
    dup = ctx.report.reasons()["duplicate-row"]
    assert len(got) == len(expected) - dup
    if dup == 0:
        tol = 1e-5 * max(width, height)
        for g, e in zip(got, expected):
            assert g == pytest.approx(e, abs=tol)


# -- issue 12 item 5: labels without images ---------------------------------------------


def _convert_cli(tmp_path: Path, capsys, *args: str) -> tuple[int, list[str]]:
    code = main(["convert", *args, "-o", str(tmp_path / "out.ndjson"), "--quiet"])
    return code, [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]


def test_labels_only_folder__reported_and_no_asset_is_an_error(tmp_path: Path, capsys) -> None:
    src = tmp_path / "labels"
    src.mkdir()
    (src / "classes.txt").write_text("cat\ndog\n")
    (src / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n1 0.5 0.5 0.2 0.2\n")
    (src / "b.txt").write_text("1 0.5 0.5 0.2 0.2\n")
    _, ctx = read(src)
    assert ctx.report.reasons() == Counter({"label-without-image": 3})  # every row accounted
    code, err = _convert_cli(tmp_path, capsys, str(src))
    assert code == 1 and len(err) == 1
    assert err[0].startswith(f"error: no images found in {src}") and "label-without-image" in err[0]
    assert not (tmp_path / "out.ndjson").exists()


def test_labels_only_folder_with_images_dir__pairs_by_name(tmp_path: Path) -> None:
    src = tmp_path / "out" / "labels"
    src.mkdir(parents=True)
    (src.parent / "classes.txt").write_text("cat\ndog\n")  # beside labels/, as X-AnyLabeling keeps it
    (src / "a.txt").write_text("1 0.5 0.5 0.2 0.2\n")
    (src / "b.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    image(tmp_path / "pics" / "a.webp", 200, 100)
    image(tmp_path / "pics" / "b.png", 40, 20)
    ctx = ReadContext(images_dir=tmp_path / "pics")
    assets = list(YOLOReader([src], options=YOLOOptions(), context=ctx).read())
    got = {a.name: (a.width, a.annotations[0].label, a.annotations[0].shape) for a in assets}
    assert got == {
        "a.webp": (200, "dog", Box(x_min=80.0, y_min=40.0, x_max=120.0, y_max=60.0)),
        "b.png": (40, "cat", Box(x_min=10.0, y_min=5.0, x_max=30.0, y_max=15.0)),
    }


def test_classify_fallback_needs_real_images_and_respects_kpt_shape(tmp_path: Path) -> None:
    # obj.data listing images that are not there (CVAT "YOLO 1.1" without images): no
    # classification rows answered with the folder name; the label files are reported.
    (tmp_path / "obj.data").write_text("classes = 1\ntrain = data/train.txt\nnames = data/obj.names\n")
    (tmp_path / "obj.names").write_text("cat\n")
    (tmp_path / "train.txt").write_text("data/obj_train_data/a.jpg\n")
    (tmp_path / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    assets, ctx = read(tmp_path)
    assert assets == [] and ctx.report.reasons() == Counter({"label-without-image": 1})
    # real images in class folders, but the user says the rows are pose rows
    folder = tmp_path / "cls"
    image(folder / "train" / "tiger" / "x.jpg", 10, 10)
    assets, _ = read(folder)
    assert [a.annotations[0].classification.answers[0].name for a in assets] == ["tiger"]  # fallback still works
    with pytest.raises(ParseError, match="no label files found"):
        read(folder, kpt_shape="2,3")


def test_yaml_with_every_split_missing__error_names_them(tmp_path: Path, capsys) -> None:
    (tmp_path / "data.yaml").write_text("train: data_images/train\nval: data_images/test\nnames: [a]\n")
    image(tmp_path / "x.jpg", 10, 10)
    (tmp_path / "x.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    for source in (tmp_path, tmp_path / "data.yaml"):
        code, err = _convert_cli(tmp_path, capsys, str(source))
        assert code == 1 and len(err) == 1
        assert "data.yaml" in err[0] and "train 'data_images/train'" in err[0] and "val 'data_images/test'" in err[0]


def test_invalid_data_yaml_in_folder__same_error_as_named(tmp_path: Path, capsys) -> None:
    (tmp_path / "data.yaml").write_text("path: https: //example.org/x\ntrain: images/train\nnames: [a]\n")
    image(tmp_path / "images" / "train" / "x.jpg", 10, 10)
    errors = []
    for source in (tmp_path, tmp_path / "data.yaml"):
        code, err = _convert_cli(tmp_path, capsys, str(source))
        assert code == 1 and len(err) == 1
        errors.append(err[0])
    assert errors[0] == errors[1] and "invalid YAML" in errors[0] and "line 1" in errors[0]


# --------------------------------------------------------------------------- issue 12 item 10

_BOX, _POLY = "0 0.5 0.5 0.2 0.2", "0 0.1 0.1 0.4 0.1 0.4 0.5"
_POSE_YAML = "train: images/train\nkpt_shape: [2, 3]\nkpt_names: {0: [nose, eye]}\nnames: [person, dog]\n"


def _read_kinds(path: Path, *, min_score: float | None = None, **options: object) -> tuple[dict, dict]:
    """(what label_kinds() declares, what read() gives) as label -> sorted kind values."""
    ctx = ReadContext(min_score=min_score)
    reader = YOLOReader([path], options=YOLOOptions(**options), context=ctx)
    declared = {k: sorted(v.value for v in kinds) for k, kinds in reader.label_kinds().items()}
    got: dict[str, set] = {}
    for asset in reader.read():
        for a in asset.annotations:
            if a.label is not None:  # classifications name no tool
                got.setdefault(a.label, set()).add(a.kind.value)
    return declared, {k: sorted(v) for k, v in got.items()}


@pytest.mark.parametrize(
    ("rows", "yaml", "options", "expected"),
    [
        ({"a": _POLY + "\n", "b": _BOX + "\n"}, None, {}, {"cat": ["bbox", "polygon"]}),
        ({"a": _POLY + "\n" + _BOX.replace("0 ", "1 ", 1) + "\n"}, None, {"task": "segment"},
         {"cat": ["polygon"], "dog": ["bbox"]}),  # a box row in a segment task: still a box
        ({"a": "0 0.1 0.1 0.4 0.1 0.4 0.5 0.1 0.5\n"}, None, {"task": "obb"}, {"cat": ["polygon"]}),
        ({"a": "0 0.5 0.5 0.2 0.2 0.1 0.2 2 0.3 0.4 1\n"}, _POSE_YAML, {},
         {"person": ["bbox"], "person nose": ["point"], "person eye": ["point"]}),
        ({"a": "0 0.5 0.5 0.2 0.2 0.1 0.2 2 0.3 0.4 1\n"}, _POSE_YAML, {"keypoint_name": "{class}"},
         {"person": ["bbox", "point"]}),  # keypoints named like their class share its name
        ({"a": _BOX + "\n0 0.1 0.1 0.4 0.1 0.4 0.5 0.2\n"}, None, {"min_score": 0.5}, {"cat": ["bbox"]}),
        ({"a": _BOX + "\n" + _POLY + "\n"}, None, {"task": "detect"}, {"cat": ["bbox"]}),  # the polygon is a task conflict
    ],
    ids=["auto", "segment", "obb", "pose", "pose-shared-name", "min-score", "detect-conflict"],
)
def test_label_kinds_are_the_kinds_read(tmp_path: Path, rows: dict, yaml: str | None, options: dict, expected: dict) -> None:
    dataset(tmp_path, rows, yaml=yaml)
    declared, got = _read_kinds(tmp_path, **options)
    assert declared == got == expected


def test_label_kinds__dota_rows_by_class_name(tmp_path: Path) -> None:
    image(tmp_path / "images" / "p1.png", 100, 50)
    (tmp_path / "labelTxt").mkdir()
    (tmp_path / "labelTxt" / "p1.txt").write_text("gsd:0.1\n10 5 40 5 40 20 10 20 plane 0\n1 1 3 1 3 3 1 3 ship\n")
    declared, got = _read_kinds(tmp_path)
    assert declared == got == {"plane": ["polygon"], "ship": ["polygon"]}


def test_label_kinds__rules_errors_are_left_to_read(tmp_path: Path) -> None:
    dataset(tmp_path, _BOX + "\n")
    reader = YOLOReader([tmp_path], options=YOLOOptions(task="pose"))
    assert reader.label_kinds() == {}  # pose without kpt_shape: read() names the problem
    with pytest.raises(OptionsError, match="kpt_shape"):
        list(reader.read())


def test_derived_tool_names_do_not_depend_on_object_order(tmp_path: Path) -> None:
    from converters.cli import main
    from tests.conftest import derived_tools

    got = []
    for i, (first, second) in enumerate(((_POLY, _BOX), (_BOX, _POLY))):
        root = dataset(tmp_path / f"chunk{i}", {"a": first + "\n", "b": second + "\n"})
        ont = tmp_path / f"ont{i}.json"
        assert main(["ontology", str(root), "-o", str(ont)]) == 0
        got.append(derived_tools(ont))
    assert got == [{"cat": "rectangle", "cat (polygon)": "polygon"}] * 2


def test_ontology_round_trip_maps_every_row(tmp_path: Path) -> None:
    from tests.conftest import ontology_round_trip

    root = dataset(tmp_path / "ds", {"a": _POLY + "\n1 0.5 0.5 0.1 0.1\n", "b": _BOX + "\n"})
    tools, rows = ontology_round_trip([str(root)], tmp_path)
    assert tools == {"cat": "rectangle", "cat (polygon)": "polygon", "dog": "rectangle"}
    assert sorted(k for r in rows for k in ("bbox", "polygon") if k in r) == ["bbox", "bbox", "polygon"]


def test_ontology_round_trip__pose(tmp_path: Path) -> None:
    from tests.conftest import ontology_round_trip

    root = dataset(tmp_path / "ds", {"a": "0 0.5 0.5 0.2 0.2 0.1 0.2 2 0.3 0.4 1\n", "b": "1 0.5 0.5 0.2 0.2 0 0 0 0.3 0.4 2\n"},
                   yaml=_POSE_YAML)
    tools, rows = ontology_round_trip([str(root)], tmp_path, "--mode", "ground-truth")
    assert tools == {"person": "rectangle", "person nose": "point", "person eye": "point", "dog": "rectangle",
                     "dog 1": "point"}
    assert len(rows) == 5


@pytest.mark.parametrize(("path", "options", "n_assets", "expected", "subsets"), FIXTURES, ids=_fixture_id)
def test_label_kinds_are_the_kinds_read__public_fixtures(fixtures: Path, path: str, options: dict, n_assets: int,
                                                        expected: dict, subsets: set) -> None:
    declared, got = _read_kinds(fixtures / path, **options)
    assert declared == got
