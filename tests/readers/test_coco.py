"""COCO instances reader: real fixtures, merging, and one test per kind of bad input."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from converters.cli import main
from converters.errors import InvalidFieldError, MissingFieldError, ParseError, UnsafeInputError
from converters.model import Box, Classification, MultiPolygon, Polygon
from converters.readers import ReadContext
from converters.readers.coco import COCOOptions, COCOReader


DATUMARO = "coco/openvinotoolkit-datumaro/tests/assets/coco_dataset/coco/annotations"
LABELFORMAT = "coco/labelformat/tests/fixtures/object_detection/COCO/train.json"

TEMPLATE = {
    "images": [{"id": 7, "file_name": "sub/a.jpg", "width": 40, "height": 30}],
    "categories": [{"id": 0, "name": "cat"}, {"id": 5, "name": "traffic light"}],
    "annotations": [
        {"id": 900100374545, "image_id": 7, "category_id": 5, "bbox": [1, 2, 10, 5], "segmentation": []},
        {
            "id": 2,
            "image_id": 7,
            "category_id": 0,
            "bbox": [0, 0, 4, 4],
            "segmentation": [[0, 0, 4, 0, 4, 4], [10, 10, 20, 10, 20, 20, 10, 20]],
        },
    ],
}


def write(tmp_path: Path, data: object, name: str = "instances_train.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def read(path: Path, **options: object) -> list:
    return list(COCOReader([path], options=COCOOptions(**options), context=ReadContext()).read())


class TestCOCOReader:
    def test_read__labelformat_boxes_and_odd_file_names(self, fixtures: Path) -> None:
        assets = read(fixtures / LABELFORMAT)
        assert [a.name for a in assets] == [
            "a-weird Filename.asdf.jpg",
            "aNother-weird__ filename.with.many.characters.jpg",
        ]
        assert (assets[0].width, assets[0].height) == (640, 416)
        first = assets[0].annotations[0]
        assert first.shape == Box(x_min=540, y_min=295, x_max=563, y_max=313)
        assert first.source.annotation_id == "1"

    def test_read__sparse_category_ids_and_attributes(self, fixtures: Path) -> None:
        (asset,) = read(fixtures / DATUMARO / "instances_val.json")
        labels = [a.label for a in asset.annotations]
        assert labels == ["a", "b"]  # category ids 1 and 2 of 1, 2, 4
        polygon = asset.annotations[0]
        assert polygon.shape == Polygon(exterior=((0.0, 0.0), (1.0, 0.0), (1.0, 2.0), (0.0, 2.0)))
        assert Classification.free_text("x", "1") in polygon.classifications
        assert Classification.radio("y", "hello") in polygon.classifications
        mask = asset.annotations[1].shape
        assert (mask.width, mask.height) == (5, 10)

    def test_read__multipart_kept_as_one_annotation(self, tmp_path: Path) -> None:
        (asset,) = read(write(tmp_path, TEMPLATE))
        assert asset.name == "sub/a.jpg"
        assert isinstance(asset.annotations[1].shape, MultiPolygon)
        assert len(asset.annotations[1].shape.polygons) == 2

    @pytest.mark.parametrize(
        ("geometry", "kinds"),
        [("auto", ["bbox", "polygon"]), ("bbox", ["bbox", "bbox"]), ("both", ["bbox", "polygon", "bbox"])],
    )
    def test_read__geometry_option(self, tmp_path: Path, geometry: str, kinds: list[str]) -> None:
        (asset,) = read(write(tmp_path, TEMPLATE), geometry=geometry)
        assert [a.kind.value for a in asset.annotations] == kinds

    def test_read__files_of_one_split_merge_by_image(self, tmp_path: Path) -> None:
        other = {
            "images": [{"id": 99, "file_name": "sub/a.jpg", "width": 40, "height": 30}],
            "categories": [{"id": 1, "name": "dog"}],
            "annotations": [{"id": 1, "image_id": 99, "category_id": 1, "bbox": [3, 3, 3, 3]}],
        }
        a = write(tmp_path, TEMPLATE)
        b = write(tmp_path, other, "person_keypoints_train.json")
        assets = list(COCOReader([a, b], context=ReadContext()).read())
        assert len(assets) == 1
        assert [x.label for x in assets[0].annotations] == ["traffic light", "cat", "dog"]
        assert len({x.key for x in assets[0].annotations}) == 3

    def test_read__dataset_folder(self, fixtures: Path) -> None:
        root = fixtures / DATUMARO
        assert COCOReader.sniff(root.parent)


BAD_INPUTS = [
    # (mutation, expected error type, text the one-line message must contain)
    (lambda d: d["annotations"][0].update(image_id=8), InvalidFieldError, "annotation id 900100374545: field 'image_id' 8 names no image"),
    (lambda d: d["annotations"][1].update(category_id=3), InvalidFieldError, "annotation id 2: field 'category_id' 3 names no category"),
    (lambda d: (d["annotations"][1].pop("bbox"), d["annotations"][1].pop("segmentation")), ParseError, "annotation id 2: annotation has neither bbox nor segmentation"),
    (lambda d: d["annotations"][1]["segmentation"][1].append(30), InvalidFieldError, "annotation id 2: field 'segmentation' polygon 1 has an odd number of coordinates (9)"),
    (lambda d: d["annotations"][0].update(bbox=[1, 2, 3]), InvalidFieldError, "field 'bbox' must be [x, y, width, height]"),
    (lambda d: d["annotations"][0].pop("image_id"), MissingFieldError, "annotation id 900100374545: missing field 'image_id'"),
    (lambda d: d["images"][0].update(file_name="../../etc/passwd"), UnsafeInputError, "leaves the dataset root"),
    (lambda d: d["annotations"][1].update(segmentation={"counts": [0, 5], "size": [30, 40]}), InvalidFieldError, "runs sum to 5"),
    (lambda d: d["annotations"][1].update(segmentation={"counts": "abc", "size": [3, 4]}), ParseError, "RLE size 4x3 differs from the image's 40x30"),
]


@pytest.mark.parametrize(("mutate", "error", "text"), BAD_INPUTS)
def test_bad_input__one_line_error(tmp_path: Path, mutate, error, text) -> None:
    data = copy.deepcopy(TEMPLATE)
    mutate(data)
    path = write(tmp_path, data)
    with pytest.raises(error) as info:
        read(path)
    assert text in str(info.value)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(("mutate", "error", "text"), BAD_INPUTS)
def test_bad_input__cli_exit_1_nothing_written(tmp_path: Path, capsys, mutate, error, text) -> None:
    data = copy.deepcopy(TEMPLATE)
    mutate(data)
    path = write(tmp_path, data)
    out = tmp_path / "out.ndjson"
    assert main(["convert", str(path), "-o", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and text in err and "\n" not in err
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_truncated_json__names_file_and_line(tmp_path: Path, capsys) -> None:
    path = tmp_path / "instances_val.json"
    path.write_text(json.dumps(TEMPLATE, indent=1)[:-40], encoding="utf-8")
    assert main(["convert", str(path), "-o", str(tmp_path / "o.ndjson")]) == 1
    err = capsys.readouterr().err
    assert f"error: {path}, line " in err and "invalid JSON" in err


# -- issue 12 item 9: absolute file_name (Detectron2 style) -------------------------------


def _absolute_doc(*names: str, size: bool = True) -> dict:
    doc = copy.deepcopy(TEMPLATE)
    doc["images"] = [
        {"id": i + 1, "file_name": n, **({"width": 40, "height": 30} if size else {})} for i, n in enumerate(names)
    ]
    doc["annotations"] = [{"id": 10 + i, "image_id": i + 1, "category_id": 0, "bbox": [1, 1, 2, 2]} for i in range(len(names))]
    return doc


def test_absolute_file_name__base_name_by_default_noted_once(tmp_path: Path) -> None:
    src = write(tmp_path, _absolute_doc("/data/coco/train2017/a.jpg", "C:\\data\\coco\\train2017\\b.jpg"))
    ctx = ReadContext()
    assets = list(COCOReader([src], options=COCOOptions(), context=ctx).read())
    assert [a.name for a in assets] == ["a.jpg", "b.jpg"]
    assert [n["code"] for n in ctx.report.notes].count("coco-absolute-file-name") == 1


def test_absolute_file_name__path_root_keeps_the_relative_path(tmp_path: Path) -> None:
    src = write(tmp_path, _absolute_doc("/data/coco/train2017/a.jpg", "/data/coco/val2017/a.jpg"))
    with pytest.raises(ParseError, match="share the base name 'a.jpg'.*--path-root"):
        read(src)  # two images, one base name: never merged silently
    assert [a.name for a in read(src, path_root="/data/coco")] == ["train2017/a.jpg", "val2017/a.jpg"]
    with pytest.raises(UnsafeInputError, match="not under --path-root '/elsewhere'"):
        read(src, path_root="/elsewhere")
    out = tmp_path / "out.ndjson"
    assert main(["convert", str(src), "-o", str(out), "--path-root", "/data/coco/", "--quiet"]) == 0
    assert sorted(json.loads(ln)["dataRow"]["globalKey"] for ln in out.read_text().splitlines()) == [
        "train2017/a.jpg", "val2017/a.jpg"]


def test_absolute_file_name__size_from_images_dir_by_base_name(tmp_path: Path) -> None:
    from PIL import Image

    src = write(tmp_path, _absolute_doc("/data/coco/train2017/a.jpg", size=False))
    (tmp_path / "pics").mkdir()
    Image.new("RGB", (64, 48)).save(tmp_path / "pics" / "a.jpg")
    (asset,) = list(COCOReader([src], options=COCOOptions(), context=ReadContext(images_dir=tmp_path / "pics")).read())
    assert (asset.name, asset.width, asset.height) == ("a.jpg", 64, 48)
