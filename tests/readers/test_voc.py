"""Pascal VOC reader: public fixtures, coordinates, masks pixel-exact, bad and hostile input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from converters.cli import main
from converters.errors import InvalidFieldError, MissingFieldError, ParseError, SourceNotFoundError, UnsafeInputError
from converters.model import Box, Classification, Kind, Mask, Polygon
from converters.readers import ReadContext
from converters.readers.voc._masks import VOC_CLASSES, voc_colormap
from converters.readers.voc import VOCOptions, VOCReader
from tests.conftest import read_ndjson

DATUMARO = "voc/openvinotoolkit-datumaro/tests/assets"
DS1 = f"{DATUMARO}/voc_dataset/voc_dataset1"
DS2 = f"{DATUMARO}/voc_dataset/voc_dataset2"
DS3 = f"{DATUMARO}/voc_dataset/voc_dataset3"
ROBOFLOW = f"{DATUMARO}/roboflow_dataset/voc"
KAGGLE1 = f"{DATUMARO}/kaggle_dataset/relaxed_voc1"
KAGGLE2 = f"{DATUMARO}/kaggle_dataset/relaxed_voc2"
LF_DET = "voc/labelformat/tests/fixtures/object_detection/PascalVOC"
LF_SEG = "voc/labelformat/tests/fixtures/semantic_segmentation/pascalvoc"
COCO_LF = "coco/labelformat/tests/fixtures/object_detection/COCO/train.json"


def read(path: Path, report_ctx: ReadContext | None = None, **options: str) -> list:
    ctx = report_ctx or ReadContext()
    return list(VOCReader([path], options=VOCOptions(**options), context=ctx).read())


def read_with_report(path: Path, **options: str):
    ctx = ReadContext()
    return read(path, ctx, **options), ctx.report


def xml(objects: str = "", *, size: str = "<size><width>20</width><height>10</height></size>",
        filename: str = "img.jpg", head: str = "") -> str:
    return f"{head}<annotation><filename>{filename}</filename>{size}{objects}</annotation>"


def obj(name: str = "cat", box: tuple = (1, 2, 3, 4), extra: str = "") -> str:
    x0, y0, x1, y1 = box
    return (f"<object><name>{name}</name>{extra}<bndbox><xmin>{x0}</xmin><ymin>{y0}</ymin>"
            f"<xmax>{x1}</xmax><ymax>{y1}</ymax></bndbox></object>")


def devkit(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "VOC"
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return root


def png(path: Path, array: np.ndarray, mode: str, palette: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    im = Image.fromarray(array.astype(np.uint8), mode=mode)
    if palette:
        im.putpalette([c for rgb in voc_colormap() for c in rgb])
    im.save(path)
    return path


def names(classes: tuple[Classification, ...]) -> dict[str, object]:
    return {c.name: (c.text if c.text is not None else [a.name for a in c.answers]) for c in classes}


# --------------------------------------------------------------------------- public fixtures


class TestDatumaroFixtures:
    def test_dataset1__boxes_parts_flags_actions(self, fixtures: Path) -> None:
        assets = {a.name: a for a in read(fixtures / DS1)}
        assert set(assets) == {"2007_000001.jpg", "2007_000002.jpg"}
        a = assets["2007_000001.jpg"]
        assert (a.width, a.height) == (20, 10)
        assert a.fields["subset"] == "train" and assets["2007_000002.jpg"].fields["subset"] == "test"
        assert assets["2007_000002.jpg"].annotations == ()  # listed in test.txt, no XML
        by_key = {ann.key: ann for ann in a.annotations}
        cat, person, head = by_key["object1"], by_key["object2"], by_key["object2/part1"]
        # devkit 1-based inclusive: xmin-1, ymin-1, max kept
        assert cat.shape == Box(x_min=0, y_min=1, x_max=3, y_max=4)
        assert person.shape == Box(x_min=3, y_min=4, x_max=6, y_max=7)
        assert head.shape == Box(x_min=4.5, y_min=5, x_max=7.5, y_max=8)  # fractional part coords kept
        assert head.label == "person head" and head.group == person.group == "object2"
        assert names(cat.classifications) == {"difficult": ["false"], "truncated": ["true"], "pose": ["Unspecified"]}
        assert names(person.classifications) == {
            "difficult": ["false"],
            "actions": ["other", "phoning", "reading", "ridinghorse", "takingphoto", "walking"],
        }
        assert cat.source.line == 11 and cat.source.element == "object 1"

    def test_dataset1__rgb_instance_mask_joined_with_rgb_class_png(self, fixtures: Path) -> None:
        assets, report = read_with_report(fixtures / DS1)
        (mask,) = [ann for a in assets for ann in a.annotations if isinstance(ann.shape, Mask)]
        expected = np.all(np.array(Image.open(fixtures / DS1 / "SegmentationObject/2007_000001.png")) == (128, 0, 0), axis=-1)
        assert np.array_equal(mask.shape.load(), expected.astype(np.uint8)) and expected.all()
        # SegmentationClass is all (0,128,0) = bicycle; object 1 in the XML is a cat: the PNG wins, reported
        assert mask.label == "bicycle" and mask.key == "mask/instance1"
        assert [e.code for e in report.entries] == ["voc-mask-class-mismatch"]
        assert {n["code"] for n in report.notes} >= {"voc-origin", "voc-image-labels"}  # lists read (issue 12 item 4)

    def test_dataset3__comment_and_blank_line_in_list(self, fixtures: Path) -> None:
        (a,) = read(fixtures / DS3)
        assert a.fields == {"subset": "train", "id": "2007_000001", "dataset": ""}

    def test_dataset2__no_size_no_image__boxes_convert_unclipped(self, fixtures: Path) -> None:
        # Once a one-line error ("image size unknown"), now converted (issue 12 item 6).
        assets, report = read_with_report(fixtures / DS2)
        boxes = {a.name: a.annotations[0].shape for a in assets if a.annotations}
        assert boxes["c.jpg"] == Box(x_min=2.0, y_min=0.0, x_max=11.0, y_max=6.0)
        assert all(a.width is None for a in assets) and len(boxes) == 4
        assert report.tallies["voc-size-unknown"] == 5
        assert "not clipped" in next(n["message"] for n in report.notes if n["code"] == "voc-size-unknown")

    def test_dataset2__labelmap_classes_declared(self, fixtures: Path) -> None:
        reader = VOCReader([fixtures / DS2])
        assert "ignored" in reader.labels() and "background" not in reader.labels() and len(reader.labels()) == 21

    def test_roboflow__zero_coordinate_proves_zero_based_for_whole_dataset(self, fixtures: Path) -> None:
        assets, report = read_with_report(fixtures / ROBOFLOW)
        first = {a.name: a for a in assets}["train/train_001.jpg"]
        assert first.fields["subset"] == "train"
        # train_001 has no 0 itself, but train_002 does: same writer, same convention
        assert first.annotations[0].shape == Box(x_min=2, y_min=1, x_max=5, y_max=2)
        (note,) = [n for n in report.notes if n["code"] == "voc-origin"]
        assert "0-based" in note["message"] and "train_002.xml" in note["message"]

    @pytest.mark.parametrize("path", [KAGGLE1, KAGGLE2])
    def test_kaggle_relaxed_layouts(self, fixtures: Path, path: str) -> None:
        (a,) = read(fixtures / path)
        assert a.name == "2007_000001.jpg" and (a.width, a.height) == (20, 10)
        assert [ann.label for ann in a.annotations] == ["cat", "person"]

    def test_labelformat__zero_based_writer_matches_its_coco_twin(self, fixtures: Path) -> None:
        """labelformat writes the same boxes as VOC (0-based, --voc-origin 0) and as COCO."""
        from converters.readers.coco import COCOReader

        voc = {a.name: a for a in read(fixtures / LF_DET, origin="0")}
        coco = {a.name: a for a in COCOReader([fixtures / COCO_LF]).read()}
        assert set(voc) == set(coco) == {"a-weird Filename.asdf.jpg", "aNother-weird__ filename.with.many.characters.jpg"}
        for name in voc:
            assert [x.shape for x in voc[name].annotations] == [x.shape for x in coco[name].annotations]
            assert "bicycle with space" in {x.label for x in voc[name].annotations}

    def test_labelformat__palette_class_masks_pixel_exact_void_excluded(self, fixtures: Path) -> None:
        assets, report = read_with_report(fixtures / LF_SEG)
        by_name = {a.name: a for a in assets}
        assert set(by_name) == {"2007_000032.jpg", "subdir/2007_000033.jpg"}
        a = by_name["2007_000032.jpg"]
        assert (a.width, a.height) == (500, 281)
        raw = np.array(Image.open(fixtures / LF_SEG / "SegmentationClass/2007_000032.png"))
        assert [m.label for m in a.annotations] == ["aeroplane", "person"]
        for m, index in zip(a.annotations, (1, 15)):
            assert np.array_equal(m.shape.load(), (raw == index).astype(np.uint8))
        assert report.tallies["voc-void-pixels"] == 5355 + 8195


# --------------------------------------------------------------------------- coordinates


@pytest.mark.parametrize(
    ("boxes", "origin", "expected", "convention"),
    [
        ([(1, 2, 3, 4)], "auto", Box(x_min=0, y_min=1, x_max=3, y_max=4), "1-based"),
        ([(1, 2, 3, 4), (0, 5, 9, 9)], "auto", Box(x_min=1, y_min=2, x_max=3, y_max=4), "0-based"),
        ([(1, 2, 3, 4), (0.0, 5, 9, 9)], "1", Box(x_min=0, y_min=1, x_max=3, y_max=4), "1-based"),
        ([(1, 2, 3, 4)], "0", Box(x_min=1, y_min=2, x_max=3, y_max=4), "0-based"),
        ([(1.5, 2.25, 3, 4)], "1", Box(x_min=0.5, y_min=1.25, x_max=3, y_max=4), "1-based"),
    ],
)
def test_origin(tmp_path: Path, boxes: list, origin: str, expected: Box, convention: str) -> None:
    root = devkit(tmp_path, {f"Annotations/{i}.xml": xml(obj(box=b), filename=f"{i}.jpg") for i, b in enumerate(boxes)})
    assets, report = read_with_report(root, origin=origin)
    assert assets[0].annotations[0].shape == expected
    (note,) = report.notes
    assert note["code"] == "voc-origin" and convention in note["message"]


def test_box_outside_or_inverted_is_kept_for_the_geometry_stage(tmp_path: Path) -> None:
    root = devkit(tmp_path, {"Annotations/a.xml": xml(obj(box=(15, 8, 40, 2)))})
    (a,) = read(root)
    assert a.annotations[0].shape == Box(x_min=14, y_min=7, x_max=40, y_max=2)


# --------------------------------------------------------------------------- objects


def test_attributes_block_and_flags(tmp_path: Path) -> None:
    attrs = ("<truncated>0</truncated><occluded>true</occluded><difficult>1</difficult><attributes>"
             "<attribute><name>parked</name><value>True</value></attribute>"
             "<attribute><name>score</name><value>0.5</value></attribute>"
             "<attribute><name>color</name><value>dark red</value></attribute>"
             "<attribute><name>empty</name><value></value></attribute>"
             "<attribute><name>difficult</name><value>x</value></attribute></attributes>")
    root = devkit(tmp_path, {"Annotations/a.xml": xml(obj(extra=attrs))})
    assets, report = read_with_report(root)
    (ann,) = assets[0].annotations
    assert names(ann.classifications) == {
        "difficult": ["true"], "truncated": ["false"], "occluded": ["true"],
        "parked": ["true"], "score": "0.5", "color": ["dark red"],
    }
    assert report.tallies == {"voc-empty-attribute": 1, "voc-duplicate-attribute": 1}


@pytest.mark.parametrize("option", ["keep", "drop"])
def test_difficult(tmp_path: Path, option: str) -> None:
    part = "<part><name>head</name><bndbox><xmin>2</xmin><ymin>3</ymin><xmax>3</xmax><ymax>4</ymax></bndbox></part>"
    hard = obj("person", extra="<difficult>1</difficult>" + part)
    root = devkit(tmp_path, {"Annotations/a.xml": xml(obj("cat") + hard)})
    assets, report = read_with_report(root, difficult=option)
    labels = [a.label for a in assets[0].annotations]
    if option == "keep":
        assert labels == ["cat", "person", "person head"]
        assert names(assets[0].annotations[1].classifications) == {"difficult": ["true"]}
        assert not report.skipped
    else:
        assert labels == ["cat"]
        assert report.skipped == {"bbox": 2} and report.read == {"bbox": 2}
        assert {e.code for e in report.entries} == {"voc-difficult-dropped"}


@pytest.mark.parametrize(
    ("polygon", "geometry", "expected"),
    [
        ("<polygon><x1>1</x1><y1>1</y1><x2>5</x2><y2>1</y2><x3>5</x3><y3>4</y3></polygon>", "auto", ["polygon"]),
        ("<polygon><pt><x>1</x><y>1</y></pt><pt><x>5</x><y>1</y></pt><pt><x>5</x><y>4</y></pt></polygon>", "auto", ["polygon"]),
        ("<polygon><x1>1</x1><y1>1</y1><x2>5</x2><y2>1</y2><x3>5</x3><y3>4</y3></polygon>", "bbox", ["box"]),
        ("<polygon><x1>1</x1><y1>1</y1><x2>5</x2><y2>1</y2><x3>5</x3><y3>4</y3></polygon>", "both", ["box", "polygon"]),
    ],
)
def test_polygons(tmp_path: Path, polygon: str, geometry: str, expected: list[str]) -> None:
    root = devkit(tmp_path, {"Annotations/a.xml": xml(obj(extra=polygon))})
    (a,) = read(root, geometry=geometry, origin="1")
    kinds = ["polygon" if isinstance(x.shape, Polygon) else "box" for x in a.annotations]
    assert kinds == expected
    for x in a.annotations:
        if isinstance(x.shape, Polygon):
            assert x.shape.exterior == ((0, 0), (4, 0), (4, 3))
    assert len({x.key for x in a.annotations}) == len(a.annotations)


def test_part_without_box_is_reported(tmp_path: Path) -> None:
    root = devkit(tmp_path, {"Annotations/a.xml": xml(obj("person", extra="<part><name>hand</name></part>"))})
    assets, report = read_with_report(root)
    assert [x.label for x in assets[0].annotations] == ["person"]
    assert [e.code for e in report.entries] == ["voc-part-without-box"]


# --------------------------------------------------------------------------- sizes and names


def test_size_from_image_header_when_missing_or_zero(tmp_path: Path, fixtures: Path) -> None:
    zero = "<size><width>0</width><height>0</height></size>"
    root = devkit(tmp_path, {"Annotations/a.xml": xml(obj(), size="", filename="a.jpg"),
                             "Annotations/b.xml": xml(obj(), size=zero, filename="b.jpg")})
    for n in ("a", "b"):
        (root / "JPEGImages").mkdir(exist_ok=True)
        shutil.copy(fixtures / DS1 / "JPEGImages/2007_000001.jpg", root / "JPEGImages" / f"{n}.jpg")
    assert [(a.width, a.height) for a in read(root)] == [(20, 10), (20, 10)]


def test_size_unknown_on_empty_image_is_tallied_not_fatal(tmp_path: Path) -> None:
    root = devkit(tmp_path, {"Annotations/a.xml": xml(size="")})
    assets, report = read_with_report(root)
    assert assets[0].width is None and report.tallies["voc-size-unknown"] == 1


def test_filename_without_extension_finds_the_image(tmp_path: Path, fixtures: Path) -> None:
    root = devkit(tmp_path, {"Annotations/x.xml": xml(obj(), size="", filename="x")})
    (root / "JPEGImages").mkdir()
    shutil.copy(fixtures / DS1 / "JPEGImages/2007_000001.jpg", root / "JPEGImages/x.jpg")
    (a,) = read(root)
    assert a.name == "x.jpg" and a.width == 20


def test_vocdevkit_root_with_two_years(tmp_path: Path) -> None:
    for year in ("VOC2007", "VOC2012"):
        d = tmp_path / "VOCdevkit" / year / "Annotations"
        d.mkdir(parents=True)
        (d / f"{year}.xml").write_text(xml(obj(), filename=f"{year}.jpg"))
    assets = read(tmp_path / "VOCdevkit")
    assert [(a.name, a.dataset) for a in assets] == [("VOC2007.jpg", "VOC2007"), ("VOC2012.jpg", "VOC2012")]


def test_single_xml_file_in_annotations_folder(tmp_path: Path) -> None:
    root = devkit(tmp_path, {"Annotations/a.xml": xml(obj()), "Annotations/b.xml": xml(obj())})
    (a,) = read(root / "Annotations" / "a.xml")
    assert a.name == "img.jpg" and a.annotations[0].shape == Box(x_min=0, y_min=1, x_max=3, y_max=4)


def test_trainval_union_does_not_override_specific_subsets(tmp_path: Path) -> None:
    root = devkit(tmp_path, {
        "Annotations/a.xml": xml(obj(), filename="a.jpg"), "Annotations/b.xml": xml(obj(), filename="b.jpg"),
        "Annotations/c.xml": xml(obj(), filename="c.jpg"),
        "ImageSets/Main/trainval.txt": "a\nb\n", "ImageSets/Main/train.txt": "a\n", "ImageSets/Main/val.txt": "b\n",
        "ImageSets/Main/cat_train.txt": "a  1\n",
    })
    assets, report = read_with_report(root)
    assert {a.name: a.fields["subset"] for a in assets} == {"a.jpg": "train", "b.jpg": "val", "c.jpg": ""}
    assert {n["code"] for n in report.notes} == {"voc-origin", "voc-unlisted", "voc-image-labels"}  # lists read (item 4)


# --------------------------------------------------------------------------- masks


def _mask_devkit(tmp_path: Path, objects: str = "", size: tuple[int, int] = (6, 4)) -> Path:
    w, h = size
    return devkit(tmp_path, {"Annotations/m.xml": xml(objects, size=f"<size><width>{w}</width><height>{h}</height></size>")})


def test_palette_instances_joined_with_palette_classes(tmp_path: Path) -> None:
    inst = np.array([[1, 1, 0, 0, 2, 2], [1, 1, 255, 0, 2, 2], [0, 0, 0, 0, 3, 0], [0, 4, 4, 0, 0, 0]])
    cls = np.array([[8, 8, 0, 0, 15, 15], [8, 8, 255, 0, 15, 15], [0, 0, 0, 0, 15, 0], [0, 255, 255, 0, 0, 12]])
    root = _mask_devkit(tmp_path, obj("cat", (1, 1, 2, 2)) + obj("person", (5, 1, 6, 2), "<difficult>1</difficult>")
                        + obj("dog", (5, 3, 5, 3)))
    png(root / "SegmentationObject/m.png", inst, "P", palette=True)
    png(root / "SegmentationClass/m.png", cls, "P", palette=True)
    assets, report = read_with_report(root)
    masks = [a for a in assets[0].annotations if isinstance(a.shape, Mask)]
    # instance 3 is 'person' in the class PNG but object 3 is 'dog' -> PNG wins, reported;
    # instance 4 has only void class pixels and no object 4 -> skipped
    assert [(m.key, m.label, m.group) for m in masks] == [
        ("mask/instance1", "cat", "object1"), ("mask/instance2", "person", "object2"), ("mask/instance3", "person", "object3"),
    ]
    for m, k in zip(masks, (1, 2, 3)):
        assert np.array_equal(m.shape.load(), (inst == k).astype(np.uint8))
    assert names(masks[1].classifications) == {"difficult": ["true"]} and masks[2].classifications == ()
    assert [e.code for e in report.entries] == ["voc-mask-class-mismatch", "voc-mask-no-class"]
    assert report.tallies["voc-void-pixels"] == 1
    assert report.tallies["voc-class-pixels-outside-instances"] == 1  # the lone 12 (dog)

    dropped, report = read_with_report(root, difficult="drop")
    assert [m.key for m in dropped[0].annotations if isinstance(m.shape, Mask)] == ["mask/instance1", "mask/instance3"]
    assert report.skipped == {"bbox": 1, "mask": 2}


def test_rgb_class_png_through_labelmap_and_unknown_colour(tmp_path: Path) -> None:
    root = _mask_devkit(tmp_path)
    (root / "labelmap.txt").write_text("# label:color_rgb:parts:actions\nbackground:0,0,0::\nroad:10,20,30::\ncar::\n")
    car = voc_colormap()[2]  # no colour given: the VOC colour map's colour for its index
    img = np.zeros((4, 6, 3), dtype=np.uint8)
    img[0, :] = (10, 20, 30)
    img[2:, 3:] = car
    img[1, 0] = (224, 224, 192)
    png(root / "SegmentationClass/m.png", img, "RGB")
    assets, report = read_with_report(root)
    masks = assets[0].annotations
    assert [m.label for m in masks] == ["road", "car"]
    assert masks[0].shape.load().sum() == 6 and masks[1].shape.load()[2:, 3:].all() and masks[1].shape.load().sum() == 6
    assert report.tallies["voc-void-pixels"] == 1
    img[3, 0] = (1, 2, 3)
    png(root / "SegmentationClass/m.png", img, "RGB")
    with pytest.raises(ParseError, match=r"m\.png: colour \(1, 2, 3\) \(1 pixels\) is no class colour of labelmap.txt"):
        read(root)


def test_class_only_png_default_voc_classes(tmp_path: Path) -> None:
    cls = np.zeros((4, 6)); cls[1, 1] = 20; cls[2, 2] = 255
    root = devkit(tmp_path, {"x.txt": ""})
    png(root / "SegmentationClass/k.png", cls, "L")
    (a,) = read(root)
    assert a.name == "k.jpg" and (a.width, a.height) == (6, 4)  # size from the PNG: no image, no XML
    (m,) = a.annotations
    assert m.label == VOC_CLASSES[20] == "tvmonitor" and m.shape.load()[1, 1] == 1 and m.shape.load().sum() == 1


def test_mask_size_mismatch_is_skipped_and_reported(tmp_path: Path) -> None:
    root = _mask_devkit(tmp_path, obj("cat", (1, 1, 2, 2)), size=(8, 8))
    png(root / "SegmentationObject/m.png", np.ones((4, 6)), "L")
    assets, report = read_with_report(root)
    assert [type(a.shape) for a in assets[0].annotations] == [Box]
    assert [e.code for e in report.entries] == ["voc-mask-size-mismatch"] and report.skipped == {"mask": 1}


def test_class_index_beyond_labels_is_an_error(tmp_path: Path) -> None:
    root = _mask_devkit(tmp_path)
    png(root / "SegmentationClass/m.png", np.full((4, 6), 42), "L")
    with pytest.raises(ParseError, match="class index 42"):
        read(root)


def test_png_bomb_guard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _mask_devkit(tmp_path)
    png(root / "SegmentationClass/m.png", np.ones((4, 6)), "L")
    monkeypatch.setattr("converters.readers.voc._masks.MAX_PIXELS", 10)
    with pytest.raises(UnsafeInputError, match="decompression bomb guard"):
        read(root)


def test_masks_none_option(tmp_path: Path) -> None:
    root = _mask_devkit(tmp_path)
    png(root / "SegmentationClass/m.png", np.ones((4, 6)), "L")
    assets, report = read_with_report(root, masks="none")
    assert assets[0].annotations == () and [n["code"] for n in report.notes] == ["voc-origin", "voc-masks-not-read"]


# --------------------------------------------------------------------------- bad and hostile input


@pytest.mark.parametrize(
    ("text", "error", "fragment"),
    [
        (xml(obj(box=("one", 2, 3, 4))), InvalidFieldError, "field 'xmin' must be a number, got 'one'"),
        (xml(obj(box=("nan", 2, 3, 4))), InvalidFieldError, "finite"),
        (xml("<object><bndbox><xmin>1</xmin></bndbox></object>"), MissingFieldError, "missing field '<name>'"),
        (xml("<object><name>cat</name></object>"), MissingFieldError, "object 1 ('cat'): missing field '<bndbox>'"),
        (xml(obj(box=(1, 2, 3, ""))), MissingFieldError, "missing field '<ymax>'"),
        (xml(obj(extra="<difficult>maybe</difficult>")), InvalidFieldError, "'difficult' must be 0/1"),
        (xml(obj(), size="<size><width>-3</width><height>2</height></size>"), InvalidFieldError, "size/width"),
        ("<annotation><object>", ParseError, "malformed XML"),
        ("<annotations/>", ParseError, "not a Pascal VOC <annotation>"),
    ],
)
def test_bad_xml__one_line_error_with_file_and_location(tmp_path: Path, text: str, error: type, fragment: str) -> None:
    root = devkit(tmp_path, {"Annotations/bad.xml": text})
    with pytest.raises(error) as exc:
        read(root)
    msg = str(exc.value)
    assert "bad.xml" in msg and fragment in msg and "\n" not in msg
    assert "line" in msg


SECRET = "TOP-SECRET-CONTENT"


@pytest.mark.parametrize(
    "payload",
    [
        '<!DOCTYPE a [<!ENTITY x SYSTEM "file://{secret}">]>',
        '<!DOCTYPE a [<!ENTITY l0 "ha"><!ENTITY l1 "&l0;&l0;&l0;&l0;&l0;&l0;&l0;&l0;&l0;&l0;">'
        '<!ENTITY l2 "&l1;&l1;&l1;&l1;&l1;&l1;&l1;&l1;&l1;&l1;"><!ENTITY l3 "&l2;&l2;&l2;&l2;&l2;&l2;&l2;&l2;">]>',
        '<!DOCTYPE a SYSTEM "file://{secret}">',
    ],
    ids=["external-entity", "billion-laughs", "external-dtd"],
)
def test_malicious_xml_refused_nothing_read_outside(tmp_path: Path, payload: str, capsys: pytest.CaptureFixture) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    body = xml(obj(name="&x;" if "SYSTEM" in payload and "ENTITY" in payload else "&l3;" if "l3" in payload else "cat"))
    root = devkit(tmp_path, {"Annotations/evil.xml": payload.format(secret=secret) + body})
    with pytest.raises(UnsafeInputError) as exc:
        read(root)
    assert "evil.xml" in str(exc.value) and SECRET not in str(exc.value)
    out = tmp_path / "out.ndjson"
    assert main(["convert", str(root), "-o", str(out), "--from", "voc", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "refused" in err and SECRET not in err and not out.exists()


@pytest.mark.parametrize(
    ("files", "fragment"),
    [
        ({"Annotations/a.xml": xml(obj(), filename="../../etc/passwd")}, "leaves the dataset root"),
        ({"Annotations/a.xml": xml(obj(), filename="/etc/passwd")}, "absolute path"),
        ({"Annotations/a.xml": xml(obj()), "ImageSets/Main/train.txt": "../../../etc/passwd\n"}, "leaves the dataset root"),
    ],
)
def test_paths_never_escape_the_dataset(tmp_path: Path, files: dict, fragment: str) -> None:
    with pytest.raises(UnsafeInputError, match=fragment):
        read(devkit(tmp_path, files))


def test_symlink_leaving_the_root_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.xml"
    outside.write_text(xml(obj()))
    root = devkit(tmp_path, {"Annotations/a.xml": xml(obj())})
    (root / "Annotations" / "b.xml").symlink_to(outside)
    with pytest.raises(UnsafeInputError, match="links outside"):
        VOCReader([root])


def test_not_voc(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(SourceNotFoundError):
        VOCReader([tmp_path / "x.json"])
    with pytest.raises(SourceNotFoundError, match="no Pascal VOC data"):
        VOCReader([tmp_path])


@pytest.mark.parametrize("bad", [{"origin": "2"}, {"difficult": "maybe"}, {"masks": "all"}, {"geometry": "mask"}])
def test_invalid_options(bad: dict) -> None:
    with pytest.raises(ValueError, match="must be one of"):
        VOCOptions(**bad)


@pytest.mark.parametrize(
    ("path", "expected"),
    [(DS1, True), (ROBOFLOW, True), (KAGGLE2, True), (LF_SEG, True), (f"{LF_DET}/a-weird Filename.asdf.xml", True),
     (COCO_LF, False), ("cvat", False)],
)
def test_sniff(fixtures: Path, path: str, expected: bool) -> None:
    target = fixtures / path
    if not target.exists():
        pytest.skip(f"{path} not in fixtures/")
    assert VOCReader.sniff(target) is expected


def test_relaxed_folder_skips_unrelated_xml(tmp_path: Path) -> None:
    root = tmp_path / "relaxed"
    root.mkdir()
    (root / "a.xml").write_text(xml(obj()))
    (root / "config.xml").write_text("<settings/>")
    assets, report = read_with_report(root)
    assert len(assets) == 1 and report.tallies["voc-non-voc-xml-skipped"] == 1


# --------------------------------------------------------------------------- end to end (CLI + oracle)


@pytest.mark.parametrize("mode", ["prelabel", "ground-truth"])
@pytest.mark.parametrize(
    ("path", "rows"),
    # DS1: 4 objects + its image labels as one tags row (issue 12 item 4)
    [(DS1, 5), (DS3, 1), (ROBOFLOW, 4), (KAGGLE1, 2), (KAGGLE2, 2), (LF_DET, 16), (LF_SEG, 3)],
)
def test_cli_public_fixtures_oracle(fixtures: Path, tmp_path: Path, oracle, path: str, rows: int, mode: str) -> None:
    out = tmp_path / "out.ndjson"
    assert main(["convert", str(fixtures / path), "-o", str(out), "--mode", mode, "--quiet"]) == 0
    assert len(read_ndjson(out)) == rows
    report = json.loads((tmp_path / "out.report.json").read_text())
    assert report["options"]["format"] == "voc"
    for kind, c in report["counts"].items():
        assert c["read"] == c["written"] + c["skipped"], kind
    result = oracle(out, mode="mal" if mode == "prelabel" else "gt", media="image")
    assert result.failed == 0 and result.ok == rows, result.output


def test_cli_dataset1_rows(fixtures: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.ndjson"
    assert main(["convert", str(fixtures / DS1), "-o", str(out), "--quiet"]) == 0
    rows = {r["name"]: r for r in read_ndjson(out)}
    assert rows["cat"]["bbox"] == {"top": 1.0, "left": 0.0, "height": 3.0, "width": 3.0}
    assert rows["cat"]["dataRow"] == {"globalKey": "2007_000001.jpg"}
    assert rows["cat"]["classifications"][0] == {"name": "difficult", "answer": {"name": "false"}}
    assert rows["person head"]["bbox"] == {"top": 5.0, "left": 4.5, "height": 3.0, "width": 3.0}
    assert "png" in rows["bicycle"]["mask"]
    again = tmp_path / "again.ndjson"
    assert main(["convert", str(fixtures / DS1), "-o", str(again), "--quiet"]) == 0
    assert again.read_bytes() == out.read_bytes()


def test_cli_difficult_drop_and_origin_flags(tmp_path: Path) -> None:
    root = devkit(tmp_path, {"Annotations/a.xml": xml(obj("cat") + obj("dog", extra="<difficult>1</difficult>"))})
    out = tmp_path / "out.ndjson"
    assert main(["convert", str(root), "-o", str(out), "--voc-difficult", "drop", "--voc-origin", "0", "--quiet"]) == 0
    (row,) = read_ndjson(out)
    assert row["name"] == "cat" and row["bbox"] == {"top": 2.0, "left": 1.0, "height": 2.0, "width": 2.0}
    report = json.loads((tmp_path / "out.report.json").read_text())
    assert report["counts"]["bbox"] == {"read": 2, "written": 1, "skipped": 1}
    assert report["skipped_by_reason"] == {"voc-difficult-dropped": 1}
    assert main(["convert", str(root), "-o", str(out), "--voc-difficult", "drop", "--strict", "--quiet"]) == 2


@pytest.mark.parametrize("mode", ["prelabel", "ground-truth"])
def test_cli_dataset2_converts_oracle_clean(fixtures: Path, tmp_path: Path, oracle, mode: str) -> None:
    # Once exit 1 ("image size unknown"); now every box converts (issue 12 item 6).
    out = tmp_path / "out.ndjson"
    assert main(["convert", str(fixtures / DS2), "-o", str(out), "--quiet", "--mode", mode]) == 0
    rows = read_ndjson(out)
    assert {r["dataRow"]["globalKey"] for r in rows if "bbox" in r} == {"a.jpg", "b.jpg", "c.jpg", "d.jpg"}
    result = oracle(out, mode="mal" if mode == "prelabel" else "gt", media="image")
    assert (result.ok, result.failed) == (len(rows), 0), result.output


def test_no_size__images_dir_gives_the_size_and_boxes_are_clipped(tmp_path: Path) -> None:
    root = devkit(tmp_path, {"Annotations/a.xml": xml(obj(box=(1, 2, 40, 8)), size="", filename="a.jpg")})
    (a,), report = read_with_report(root)
    assert a.width is None and a.annotations[0].shape == Box(x_min=0, y_min=1, x_max=40, y_max=8)
    assert report.tallies["voc-size-unknown"] == 1
    pics = tmp_path / "pics"
    pics.mkdir()
    Image.new("RGB", (20, 10)).save(pics / "a.jpg")
    (a,) = read(root, ReadContext(images_dir=pics))
    assert (a.width, a.height) == (20, 10)
    out = tmp_path / "out.ndjson"
    assert main(["convert", str(root), "-o", str(out), "--images", str(pics), "--quiet"]) == 0
    (row,) = read_ndjson(out)
    assert row["bbox"] == {"top": 1.0, "left": 0.0, "height": 7.0, "width": 20.0}  # clipped to the 20 px image


def test_image_labels_in_class_lists_become_tags(tmp_path: Path) -> None:
    # datumaro keeps image labels in ImageSets/Main/<label>_<subset>.txt (1 = present).
    root = devkit(tmp_path, {
        "Annotations/a.xml": xml(obj("cat"), filename="a.jpg"), "Annotations/b.xml": xml(obj("dog"), filename="b.jpg"),
        "ImageSets/Main/train.txt": "a\nb\n",
        "ImageSets/Main/cat_train.txt": "a  1\nb -1\n",      # a: repeats its cat object -> not repeated
        "ImageSets/Main/sunny_train.txt": "a  1\nb  1\n",    # no object: a tag on both
        "ImageSets/Main/indoor_train.txt": "a  0\nb  1\n",   # 0 (difficult only) is not "present"
    })
    assets, report = read_with_report(root)
    tags = {a.name: [c.classification.answers for c in a.annotations if c.key == "tags"] for a in assets}
    assert {k: [x.name for x in v[0]] for k, v in tags.items()} == {"a.jpg": ["sunny"], "b.jpg": ["indoor", "sunny"]}
    assert report.tallies["voc-image-label-repeats-object"] == 1
    report.check()
    assets, report = read_with_report(root, image_labels="none")
    assert not any(a.key == "tags" for x in assets for a in x.annotations)
    assert "voc-class-lists-not-read" in {n["code"] for n in report.notes}


# --------------------------------------------------------------------------- decode once (issue 14)


def test_segmentation_object_png_is_decoded_once_per_image_when_written(tmp_path: Path, monkeypatch) -> None:
    """254 instances used to decode their PNG 254 times (47 s on a 4000x4000 PNG): now the
    reader scans it once and the writer decodes it once for all its masks."""
    import numpy as np
    from PIL import Image

    import converters
    from converters.readers.voc import _masks as _voc_masks
    from converters.readers.voc._masks import voc_colormap

    root = tmp_path / "VOC"
    for d in ("Annotations", "SegmentationObject", "SegmentationClass"):
        (root / d).mkdir(parents=True)
    inst = np.zeros((40, 60), np.uint8)
    cls = np.zeros((40, 60), np.uint8)
    for k in range(1, 13):
        y, x = divmod(k - 1, 6)
        inst[y * 20 + 2 : y * 20 + 18, x * 10 + 1 : x * 10 + 9] = k
        cls[y * 20 + 2 : y * 20 + 18, x * 10 + 1 : x * 10 + 9] = 1 + k % 3
    palette = [c for rgb in voc_colormap() for c in rgb]
    for arr, d in ((inst, "SegmentationObject"), (cls, "SegmentationClass")):
        im = Image.fromarray(arr, "P")
        im.putpalette(palette)
        im.save(root / d / "a.png")
    objects = "".join(f"<object><name>{_voc_masks.VOC_CLASSES[1 + k % 3]}</name><bndbox><xmin>1</xmin><ymin>1</ymin>"
                      "<xmax>5</xmax><ymax>5</ymax></bndbox></object>" for k in range(1, 13))
    (root / "Annotations" / "a.xml").write_text(f"<annotation><filename>a.jpg</filename><size><width>60</width>"
                                               f"<height>40</height></size>{objects}</annotation>")
    calls = {"instance": 0, "class": 0}
    inst_fn, cls_fn = _voc_masks.instance_indices, _voc_masks.class_indices

    def count_inst(path):
        calls["instance"] += 1
        return inst_fn(path)

    def count_cls(path, labelmap):
        calls["class"] += 1
        return cls_fn(path, labelmap)

    monkeypatch.setattr(_voc_masks, "instance_indices", count_inst)
    monkeypatch.setattr(_voc_masks, "class_indices", count_cls)
    monkeypatch.setattr("converters.readers.voc._build.instance_indices", count_inst)
    monkeypatch.setattr("converters.readers.voc._build.class_indices", count_cls)
    report = converters.convert([root], tmp_path / "out.ndjson", fmt="voc")
    assert report.counts()["mask"]["written"] == 12
    assert calls == {"instance": 2, "class": 1}  # read scan + one writer decode; class PNG scanned once
    rows = [r for r in read_ndjson(tmp_path / "out.ndjson") if "mask" in r]
    assert sorted(r["name"] for r in rows) == sorted(f"{_voc_masks.VOC_CLASSES[1 + k % 3]} (mask)" for k in range(1, 13))


# --------------------------------------------------------------------------- issue 12 item 10


def _poly(name: str = "person") -> str:
    return (f"<object><name>{name}</name><polygon><x1>1</x1><y1>1</y1><x2>5</x2><y2>1</y2>"
            f"<x3>5</x3><y3>5</y3></polygon></object>")


def _mixed_voc(tmp_path: Path, order: list[str]) -> Path:
    """``person`` as a box, a polygon and an instance mask (with its box), one image each,
    in the given order of images (a.xml, b.xml, c.xml)."""
    size = "<size><width>6</width><height>4</height></size>"
    shapes = {"bbox": obj("person", (1, 1, 3, 3)), "polygon": _poly(), "mask": obj("person", (1, 1, 2, 2))}
    root = devkit(tmp_path, {f"Annotations/{n}.xml": xml(shapes[kind], filename=f"{n}.jpg", size=size)
                             for n, kind in zip("abc", order)})
    inst = np.zeros((4, 6))
    inst[0:2, 0:2] = 1
    png(root / f"SegmentationObject/{'abc'[order.index('mask')]}.png", inst, "P", palette=True)
    return root


def test_derived_tool_names_do_not_depend_on_object_order(tmp_path: Path) -> None:
    from tests.conftest import derived_tools

    orders = (["polygon", "mask", "bbox"], ["bbox", "polygon", "mask"], ["mask", "polygon", "bbox"])
    got = []
    for i, order in enumerate(orders):
        root = _mixed_voc(tmp_path / f"chunk{i}", order)
        ont = tmp_path / f"ont{i}.json"
        assert main(["ontology", str(root), "-o", str(ont)]) == 0
        got.append(derived_tools(ont))
    expected = {"person": "rectangle", "person (polygon)": "polygon", "person (mask)": "raster-segmentation"}
    assert got == [expected] * len(orders)


def test_label_kinds_follow_the_reader_options(tmp_path: Path) -> None:
    both = obj("car", (1, 1, 3, 3)).replace("</object>", "<polygon><x1>1</x1><y1>1</y1><x2>3</x2><y2>1</y2>"
                                            "<x3>3</x3><y3>3</y3></polygon><part><name>wheel</name>"
                                            "<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></part></object>")
    root = devkit(tmp_path, {"Annotations/a.xml": xml(both + obj("cat", extra="<difficult>1</difficult>"))})

    def kinds(**options: str) -> dict:
        return {k: sorted(v) for k, v in VOCReader([root], options=VOCOptions(**options)).label_kinds().items()}

    assert kinds() == {"car": ["polygon"], "car wheel": ["bbox"], "cat": ["bbox"]}
    assert kinds(geometry="both") == {"car": ["bbox", "polygon"], "car wheel": ["bbox"], "cat": ["bbox"]}
    assert kinds(geometry="bbox", difficult="drop") == {"car": ["bbox"], "car wheel": ["bbox"]}
    # and what is declared is what read() gives
    read_kinds: dict[str, set] = {}
    for asset in read(root, geometry="both"):
        for a in asset.annotations:
            read_kinds.setdefault(a.label, set()).add(a.kind)
    assert {k: sorted(v) for k, v in read_kinds.items()} == kinds(geometry="both")


def test_ontology_round_trip_maps_every_row(tmp_path: Path) -> None:
    from tests.conftest import ontology_round_trip

    root = _mixed_voc(tmp_path, ["mask", "polygon", "bbox"])
    tools, rows = ontology_round_trip([str(root)], tmp_path, "--mode", "ground-truth")
    assert set(tools) == {"person", "person (polygon)", "person (mask)"}
    assert sorted(k for r in rows for k in ("bbox", "polygon", "mask") if k in r) == ["bbox", "bbox", "mask", "polygon"]


@pytest.mark.parametrize("path", [DS1, DS2, DS3, ROBOFLOW, KAGGLE1, KAGGLE2, LF_DET, LF_SEG])
def test_label_kinds_cover_every_kind_read__public_fixtures(fixtures: Path, path: str) -> None:
    reader = VOCReader([fixtures / path])
    declared = {k: set(v) for k, v in reader.label_kinds().items()}
    got: dict[str, set] = {}
    for asset in reader.read():
        for a in asset.annotations:
            if a.label is not None:
                got.setdefault(a.label, set()).add(a.kind)
    assert got and all(kinds <= declared.get(label, set()) for label, kinds in got.items()), (declared, got)
    # boxes and polygons are declared exactly; only masks may be declared for classes no PNG holds
    assert {k: v - {Kind.MASK} for k, v in declared.items() if v - {Kind.MASK}} == {
        k: v - {Kind.MASK} for k, v in got.items() if v - {Kind.MASK}}
