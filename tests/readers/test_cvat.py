"""CVAT reader, images exports: real fixtures, every shape, masks, attributes, bad input."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from converters.errors import ParseError, UnsafeInputError
from converters.model import Box, ClassificationKind, Mask, Media, Point, Polygon, Polyline
from converters.readers import ReadContext
from converters.readers.cvat._rle import decode_box, parse_rle
from converters.readers.cvat._shapes import box_corners, ellipse_polygon
from converters.readers._xml import parse_xml
from converters.readers.cvat import CVATOptions, CVATReader
from tests.conftest import FIXTURES

FX = FIXTURES / "cvat"
DATUMARO_IMAGES = FX / "cvat-ai-datumaro/tests/assets/cvat_dataset/for_images/train.xml"
PROJECT = FX / "openvinotoolkit-datumaro/tests/assets/cvat_dataset/for_images/export_project/annotations.xml"
DAGSHUB_PROJECT = FX / "dagshub-annotation-converter/tests/fs_import/cvat/annotations.xml"
GROUPING = FX / "dagshub-annotation-converter/tests/cvat/res/pose_grouping.xml"
CGRAS = FX / "cgras_settler_counter/annotations.xml"

META = """<meta><task><id>1</id><name>t</name><mode>annotation</mode><labels>
<label><name>car</name><attributes>
 <attribute><name>parked</name><mutable>False</mutable><input_type>checkbox</input_type>
  <default_value>false</default_value><values>false
true</values></attribute>
 <attribute><name>colour</name><mutable>False</mutable><input_type>select</input_type>
  <default_value>red</default_value><values>red
blue</values></attribute>
</attributes></label>
<label><name>sky</name></label></labels></task></meta>"""


def cvat_xml(tmp_path: Path, body: str, *, meta: str = META, name: str = "annotations.xml") -> Path:
    path = tmp_path / name
    path.write_text(f'<?xml version="1.0" encoding="utf-8"?>\n<annotations><version>1.1</version>{meta}\n{body}\n</annotations>\n',
                    encoding="utf-8")
    return path


def read(path: Path, **options: object) -> tuple[list, ReadContext]:
    ctx = ReadContext()
    assets = list(CVATReader([path], options=CVATOptions(**options), context=ctx).read())
    return assets, ctx


def image(body: str, w: int = 100, h: int = 80) -> str:
    return f'<image id="0" name="a.jpg" width="{w}" height="{h}">{body}</image>'


# --------------------------------------------------------------------------- masks


def test_doc_vector_decodes_to_the_documented_disc() -> None:
    runs = "3, 5, 7, 7, 5, 9, 3, 11, 2, 11, 2, 12, 1, 12, 1, 26, 1, 12, 1, 12, 2, 11, 3, 9, 5, 7, 7, 5, 3"
    rle = parse_rle(runs, "0", "0", "13", "15")
    arr = decode_box(rle)
    assert arr.shape == (15, 13) and rle.short == 0
    assert arr[0].tolist() == [0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0]  # first row: 3 off, 5 on
    assert arr[7].all() and arr[8].all() and arr[0, 0] == arr[14, 0] == arr[0, 12] == 0
    assert arr[-1].tolist() == [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0]  # ... 7 on, 5 off | 5 on, 3 off
    assert arr.sum() == sum(int(v) for v in runs.split(",")[1::2])


def _reference_mask(rle_text: str, left: int, top: int, width: int, img_w: int, img_h: int) -> np.ndarray:
    """Drawn independently: walk the runs and put each foreground pixel with Pillow."""
    canvas = Image.new("L", (img_w, img_h), 0)
    pos, value = 0, 0
    for run in (int(v) for v in rle_text.split(",")):
        if value:
            for p in range(pos, pos + run):
                canvas.putpixel((left + p % width, top + p // width), 1)
        pos += run
        value ^= 1
    return np.asarray(canvas)


def test_cgras_mask_matches_an_independently_drawn_reference_pixel_by_pixel() -> None:
    masks = list(parse_xml(CGRAS).iter("mask"))
    index = next(i for i, m in enumerate(masks) if m.get("width") != m.get("height"))  # asymmetric box
    attrs = dict(masks[index].attrib)
    assets, ctx = read(CGRAS)
    mask = [a for asset in assets for a in asset.annotations][index].shape
    assert isinstance(mask, Mask) and (mask.width, mask.height) == (7360, 4912)
    got = mask.load()
    ref = _reference_mask(attrs["rle"], int(attrs["left"]), int(attrs["top"]), int(attrs["width"]), 7360, 4912)
    assert got.shape == ref.shape == (4912, 7360)
    assert np.array_equal(got, ref)
    box = got[int(attrs["top"]): int(attrs["top"]) + int(attrs["height"]),
              int(attrs["left"]): int(attrs["left"]) + int(attrs["width"])]
    assert box.shape[0] != box.shape[1] and box.sum() == got.sum() > 0  # non-square, nothing outside its box
    assert ctx.report.tallies["cvat-mask-rle-padded"] == 273  # every fixture mask is short


def test_cgras_job_export_reads_every_mask() -> None:
    assets, ctx = read(CGRAS)
    assert len(assets) == 5 and sum(len(a.annotations) for a in assets) == 273
    assert {(a.width, a.height) for a in assets} == {(7360, 4912)}
    assert all(isinstance(x.shape, Mask) for a in assets for x in a.annotations)
    assert not ctx.report.entries


@pytest.mark.parametrize(
    ("attrs", "reason"),
    [
        ('rle="5, 5, 5" left="0" top="0" width="2" height="2"', "covers 15 pixels"),
        ('rle="1, -1, 2" left="0" top="0" width="2" height="2"', "negative run"),
        ('rle="1, x" left="0" top="0" width="2" height="2"', "not a comma-separated"),
        ('rle="1" left="0" top="0" width="0" height="2"', "box is empty"),
    ],
)
def test_corrupt_mask_rle_is_a_one_line_error_naming_the_line(tmp_path: Path, attrs: str, reason: str) -> None:
    path = cvat_xml(tmp_path, image(f'\n<mask label="car" {attrs}/>'))
    with pytest.raises(ParseError) as exc:
        read(path)
    msg = str(exc.value)
    line = path.read_text().splitlines().index('<mask label="car" ' + attrs + '/></image>') + 1
    assert "\n" not in msg and str(path) in msg and f"line {line}" in msg and reason in msg


def test_mask_reaching_beyond_the_image_is_cut_and_reported(tmp_path: Path) -> None:
    path = cvat_xml(tmp_path, image('<mask label="car" rle="0, 4" left="9" top="9" width="2" height="2"/>', 10, 10))
    (asset,), ctx = read(path)
    arr = asset.annotations[0].shape.load()
    assert arr.sum() == 1 and arr[9, 9] == 1
    assert [e.code for e in ctx.report.entries] == ["cvat-mask-clipped"]


# --------------------------------------------------------------------------- shapes


def test_rotated_box_becomes_the_rotated_polygon(tmp_path: Path) -> None:
    body = image('<box label="car" xtl="10" ytl="20" xbr="30" ybr="30" rotation="90"/>'
                 '<box label="car" xtl="10" ytl="20" xbr="30" ybr="30" rotation="30"/>')
    (asset,), ctx = read(cvat_xml(tmp_path, body))
    quarter, thirty = (a.shape for a in asset.annotations)
    assert isinstance(quarter, Polygon)
    # 90 degrees clockwise on screen (y down) about the centre (20, 25): the 20x10 box stands up.
    expected = [(25.0, 15.0), (25.0, 35.0), (15.0, 35.0), (15.0, 15.0)]
    assert [tuple(round(v, 9) for v in p) for p in quarter.exterior] == expected
    c, s = math.cos(math.radians(30)), math.sin(math.radians(30))
    x, y = 10 - 20, 20 - 25  # the top-left corner, relative to the centre
    assert thirty.exterior[0] == pytest.approx((20 + c * x - s * y, 25 + s * x + c * y))
    assert [e.code for e in ctx.report.entries] == ["cvat-rotated-box-polygon"] * 2


def test_rotated_box_as_bbox_option(tmp_path: Path) -> None:
    body = image('<box label="car" xtl="10" ytl="20" xbr="30" ybr="30" rotation="90"/>')
    (asset,), ctx = read(cvat_xml(tmp_path, body), rotated_box="bbox")
    assert asset.annotations[0].shape == pytest.approx(Box(x_min=15, y_min=15, x_max=25, y_max=35)) or (
        asset.annotations[0].shape.x_min == pytest.approx(15) and asset.annotations[0].shape.y_max == pytest.approx(35)
    )
    assert ctx.report.entries[0].code == "cvat-rotated-box-bbox"


def test_box_corners_without_rotation_are_the_box() -> None:
    assert box_corners(1, 2, 3, 4, 0) == ((1, 2), (3, 2), (3, 4), (1, 4))


@pytest.mark.parametrize(("rx", "ry", "rot"), [(5, 3, 0), (400, 120, 0), (50, 20, 33)])
def test_ellipse_polygon_stays_within_a_quarter_pixel(rx: float, ry: float, rot: float) -> None:
    poly = ellipse_polygon(100, 80, rx, ry, rot)
    a = math.radians(rot)
    for x, y in poly.exterior:  # every vertex lies on the ellipse
        dx, dy = x - 100, y - 80
        u, v = math.cos(a) * dx + math.sin(a) * dy, -math.sin(a) * dx + math.cos(a) * dy
        assert (u / rx) ** 2 + (v / ry) ** 2 == pytest.approx(1.0)
    n = len(poly.exterior)
    assert max(rx, ry) * (1 - math.cos(math.pi / n)) <= 0.25


def test_ellipse_as_mask_covers_its_area(tmp_path: Path) -> None:
    body = image('<ellipse label="car" cx="50" cy="40" rx="20" ry="10" rotation="90"/>')
    (asset,), ctx = read(cvat_xml(tmp_path, body), ellipse="mask")
    arr = asset.annotations[0].shape.load()
    assert abs(int(arr.sum()) - math.pi * 20 * 10) < 20
    ys, xs = np.nonzero(arr)
    assert xs.max() - xs.min() < ys.max() - ys.min()  # rotated by 90 degrees: taller than wide
    assert ctx.report.entries[0].code == "cvat-ellipse-mask"


def test_every_image_shape_kind(tmp_path: Path) -> None:
    body = image(
        '<box label="car" xtl="1" ytl="2" xbr="3.5" ybr="4" occluded="1" z_order="-1" source="auto"/>'
        '<polygon label="car" points="1,1;5,1;5,5"/>'
        '<polyline label="sky" points="0,0;9,9"/>'
        '<points label="sky" points="1,2;3,4;5,6"/>'
        '<cuboid label="car" xtl1="0" ytl1="0" xbl1="0" ybl1="1" xtr1="1" ytr1="0" xbr1="1" ybr1="1"/>'
        '<tag label="sky"/><tag label="car"><attribute name="colour">blue</attribute></tag>'
    )
    (asset,), ctx = read(cvat_xml(tmp_path, body))
    shapes = [type(a.shape).__name__ if a.shape else "tags" for a in asset.annotations]
    assert shapes == ["Box", "Polygon", "Polyline", "Point", "Point", "Point", "tags"]
    assert [a.key for a in asset.annotations] == ["1", "2", "3", "4#0", "4#1", "4#2", "tags"]
    box = asset.annotations[0]
    assert box.shape == Box(x_min=1, y_min=2, x_max=3.5, y_max=4)
    assert {(c.name, c.answers[0].name) for c in box.classifications} == {
        ("parked", "false"), ("colour", "red"), ("occluded", "true")}  # defaults filled
    tags = asset.annotations[-1].classification
    assert tags.kind is ClassificationKind.CHECKLIST and [a.name for a in tags.answers] == ["sky", "car"]
    assert tags.answers[1].classifications[0].answers[0].name == "blue"
    assert ctx.report.skipped["cuboid"] == 1 and ctx.report.reasons()["cvat-cuboid-unsupported"] == 1
    assert ctx.report.tallies["cvat-z-order-dropped"] == 1 and ctx.report.tallies["cvat-source-auto"] == 1


def test_attribute_defaults_can_be_left_out(tmp_path: Path) -> None:
    body = image('<box label="car" xtl="1" ytl="2" xbr="3" ybr="4"><attribute name="parked">true</attribute></box>')
    (asset,), _ = read(cvat_xml(tmp_path, body), attribute_defaults="omit")
    assert [(c.name, c.answers[0].name) for c in asset.annotations[0].classifications] == [("parked", "true")]


def test_typed_attributes_from_the_datumaro_fixture() -> None:
    assets, ctx = read(DATUMARO_IMAGES)
    box = assets[0].annotations[0]
    got = {c.name: (c.kind.value, c.answers[0].name if c.answers else c.text) for c in box.classifications}
    assert got == {"a1": ("radio", "true"), "a2": ("radio", "v3"), "a3": ("text", "0003"),
                   "a4": ("text", "2.4"), "occluded": ("radio", "true")}
    # label="" on the polyline and the polygon: skipped and reported, by kind
    assert ctx.report.reasons()["cvat-empty-label"] == 2
    assert ctx.report.skipped["polyline"] == 1 and ctx.report.skipped["polygon"] == 1


def test_skeleton_points_are_named_and_absent_ones_counted() -> None:
    assets, ctx = read(DATUMARO_IMAGES)
    points = [a for a in assets[0].annotations if isinstance(a.shape, Point)]
    assert [(a.label, a.shape.x) for a in points] == [("skeleton 2", 2), ("skeleton 3", 3), ("skeleton 4", 4)]
    assert ctx.report.tallies["keypoint-absent"] == 2


def test_skeleton_nodes_in_arbitrary_order_keep_their_names() -> None:
    assets, _ = read(DAGSHUB_PROJECT, keypoint_name="{skeleton}:{point}")
    yoda = {a.label: (a.shape.x, a.shape.y) for a in assets[3].annotations}
    assert yoda["Yoda:4"] == (1249.72, 310.54) and yoda["Yoda:3"] == (349.30, 450.10) and len(yoda) == 7


def test_project_export_keys_images_by_subset() -> None:
    assets, _ = read(PROJECT)
    assert [a.name for a in assets] == ["Test/img0.jpg", "Test/img1.jpg", "Train/img0.jpg",
                                        "Train/img1.jpg", "Validation/img0.jpg", "Validation/img1.jpg"]
    assert assets[2].fields["subset"] == "Train" and (assets[0].width, assets[0].height) == (8, 8)


def test_group_ids_are_reported_or_kept_as_a_radio() -> None:
    _, ctx = read(GROUPING)
    grouped = [e for e in ctx.report.entries if e.code == "cvat-group-dropped"]
    assert len(grouped) == 7 and all(e.source.line for e in grouped)  # boxes, points, a skeleton
    assets, ctx = read(GROUPING, groups="attribute")
    groups = [c.answers[0].name for a in assets[0].annotations for c in a.classifications if c.name == "group"]
    assert groups.count("3") == 6 and "cvat-group-dropped" not in ctx.report.reasons()


def test_unknown_elements_are_reported_not_dropped(tmp_path: Path) -> None:
    body = image('<box label="car" xtl="1" ytl="2" xbr="3" ybr="4"/><cuboid_3d label="car"/><polygon label="car" points="1,1;2,2;1,3"/>')
    (asset,), ctx = read(cvat_xml(tmp_path, body))
    assert len(asset.annotations) == 2
    assert ctx.report.reasons()["cvat-unknown-element"] == 1 and ctx.report.skipped["cuboid_3d"] == 1


@pytest.mark.parametrize(
    ("body", "error", "needle"),
    [
        (image('<polygon label="car" points="1,1;2"/>'), ParseError, "is not 'x,y'"),
        (image('<box label="car" xtl="1" ytl="nan" xbr="3" ybr="4"/>'), ParseError, "'ytl' is not finite"),
        (image('<box label="car" xtl="1" xbr="3" ybr="4"/>'), ParseError, "missing attribute 'ytl'"),
        ('<image id="0" name="../../etc/passwd" width="3" height="3"/>', UnsafeInputError, "leaves the dataset root"),
        ('<image id="0" name="a.jpg" width="3" height="3"/><image id="1" name="a.jpg"/>', ParseError, "listed twice"),
        ('<image id="0" name="a.jpg"><box label="car"', ParseError, "malformed XML"),
    ],
)
def test_bad_input_is_one_line_naming_file_and_line(tmp_path: Path, body: str, error: type, needle: str) -> None:
    path = cvat_xml(tmp_path, body)
    with pytest.raises(error) as exc:
        read(path)
    msg = str(exc.value)
    assert "\n" not in msg and str(path) in msg and "line" in msg and needle in msg


def test_entities_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.xml"
    path.write_text('<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "boom">]><annotations><version>1.1</version>'
                    '<image id="0" name="&x;" width="1" height="1"/></annotations>', encoding="utf-8")
    with pytest.raises(UnsafeInputError):
        read(path)


def test_image_size_from_the_image_file_when_the_xml_omits_it(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    Image.new("RGB", (7, 5)).save(tmp_path / "images" / "a.png")
    (asset,), _ = read(cvat_xml(tmp_path, '<image id="0" name="a.png"/>'))
    assert (asset.width, asset.height) == (7, 5) and asset.annotations == ()


def test_sniff_and_labels(tmp_path: Path) -> None:
    assert CVATReader.sniff(DATUMARO_IMAGES) and CVATReader.sniff(CGRAS) and CVATReader.sniff(PROJECT.parent)
    other = tmp_path / "voc.xml"
    other.write_text("<annotation><object/></annotation>", encoding="utf-8")
    assert not CVATReader.sniff(other) and not CVATReader.sniff(tmp_path)
    labels = CVATReader([DATUMARO_IMAGES]).labels()
    assert list(labels) == ["label1", "label2", "skeleton 1", "skeleton 2", "skeleton 3", "skeleton 4"]


def test_folder_source_reads_annotations_xml() -> None:
    assets, _ = read(PROJECT.parent)
    assert len(assets) == 6


def test_shapes_are_what_the_source_says() -> None:
    assets, _ = read(DAGSHUB_PROJECT)
    ship = assets[1].annotations[0]
    assert isinstance(ship.shape, Polygon) and ship.shape.exterior[3] == (0.0, 562.37)  # on the border, kept
    line = [a for a in read(PROJECT)[0][0].annotations if isinstance(a.shape, Polyline)][0]
    assert line.shape.points == ((1.0, 2.0), (3.0, 4.0), (5.0, 6.0), (7.0, 8.0))


# --------------------------------------------------------------------------- issue 12 item 10

_BOX = '<box label="car" xtl="1" ytl="1" xbr="5" ybr="5"/>'
_ROTATED = '<box label="car" xtl="1" ytl="1" xbr="5" ybr="5" rotation="30"/>'
_POLY = '<polygon label="car" points="1,1;6,1;6,6"/>'
_LINE = '<polyline label="car" points="1,1;6,6"/>'
_POINTS = '<points label="car" points="2,2;3,3"/>'
_ELLIPSE = '<ellipse label="car" cx="10" cy="10" rx="4" ry="3"/>'
_MASK = '<mask label="car" rle="2, 2, 2" left="1" top="1" width="2" height="3"/>'
_SKELETON = '<skeleton label="hand"><points label="tip" points="1,1"/><points label="base" points="2,2" outside="1"/></skeleton>'
_TRACK = ('<track id="0" label="car"><box frame="0" keyframe="1" outside="0" xtl="1" ytl="1" xbr="5" ybr="5" rotation="30"/>'
          '<box frame="1" keyframe="1" outside="1" xtl="1" ytl="1" xbr="5" ybr="5" rotation="30"/></track>')
_TYPED_META = """<meta><task><id>1</id><name>t</name><mode>annotation</mode><labels>
<label><name>car</name><type>rectangle</type></label><label><name>road</name><type>polygon</type></label>
<label><name>hand</name><type>skeleton</type></label><label><name>tip</name><type>points</type><parent>hand</parent></label>
<label><name>sign</name><type>any</type></label><label><name>weather</name><type>tag</type></label>
</labels></task></meta>"""


def _kinds_of(path: Path, media: Media | None = None, **options: object) -> tuple[dict, dict]:
    """(what label_kinds() declares, what read() gives): label -> sorted kind values."""
    reader = CVATReader([path], options=CVATOptions(**options), context=ReadContext(media=media))
    declared = {k: sorted(v.value for v in kinds) for k, kinds in reader.label_kinds().items()}
    got: dict[str, set] = {}
    for asset in reader.read():
        for a in asset.annotations:
            if a.label is not None:
                got.setdefault(a.label, set()).add(a.kind.value)
    return declared, {k: sorted(v) for k, v in got.items()}


@pytest.mark.parametrize(
    ("body", "media", "options", "expected"),
    [
        (image(_BOX + _ROTATED + _POLY + _LINE + _POINTS), None, {},
         {"car": ["bbox", "point", "polygon", "polyline"]}),
        (image(_ROTATED), None, {"rotated_box": "bbox"}, {"car": ["bbox"]}),
        (image(_BOX.replace("/>", ' rotation="360.00"/>')), None, {}, {"car": ["bbox"]}),  # a full turn: a box
        (image(_ELLIPSE), None, {}, {"car": ["polygon"]}),
        (image(_ELLIPSE + _MASK), None, {"ellipse": "mask"}, {"car": ["mask"]}),
        (image(_SKELETON), None, {}, {"hand tip": ["point"]}),
        (image(_SKELETON), None, {"keypoint_name": "{point} of {skeleton}"}, {"tip of hand": ["point"]}),
        (image('<box label="" xtl="1" ytl="1" xbr="5" ybr="5"/><polygon label="truck" points="1,1;6,1;6,6"/>'), None, {},
         {"truck": ["polygon"]}),  # an empty label is skipped; a label the meta lacks is scanned
        (_TRACK, None, {}, {"car": ["bbox"]}),  # video tracks: rotated boxes are their bounding box
        (_TRACK, Media.IMAGE, {}, {"car": ["polygon"]}),  # frames as images: a rotated box is a polygon
    ],
    ids=["shapes", "rotated-bbox", "full-turn", "ellipse", "ellipse-mask", "skeleton", "skeleton-template", "labels", "track-video",
         "track-image"],
)
def test_label_kinds_are_the_kinds_read(tmp_path: Path, body: str, media, options: dict, expected: dict) -> None:
    path = cvat_xml(tmp_path, body)  # META types no label: every kind comes from the pre-scan
    declared, got = _kinds_of(path, media, **options)
    assert declared == got == expected


def test_label_kinds__meta_types_win_over_the_shapes_of_one_chunk(tmp_path: Path) -> None:
    path = cvat_xml(tmp_path, image(_ROTATED + '<polygon label="sign" points="1,1;6,1;6,6"/>' + _SKELETON
                                    + '<tag label="weather"/>'), meta=_TYPED_META)
    declared, got = _kinds_of(path)
    # road is declared though this chunk has none; car's rotated box is a polygon, yet car is declared
    # a rectangle (the meta): every chunk of the project names car's tools alike
    assert declared == {"car": ["bbox"], "road": ["polygon"], "hand tip": ["point"], "sign": ["polygon"]}
    assert got == {"car": ["polygon"], "sign": ["polygon"], "hand tip": ["point"]}


def test_derived_tool_names_do_not_depend_on_object_order(tmp_path: Path) -> None:
    from converters.cli import main
    from tests.conftest import derived_tools

    shapes = [_POLY, _LINE, _BOX, _POINTS]
    got = []
    for i, order in enumerate((shapes, shapes[::-1])):
        body = "\n".join(f'<image id="{n}" name="{n}.jpg" width="20" height="20">{s}</image>' for n, s in enumerate(order))
        (tmp_path / f"chunk{i}").mkdir()
        path = cvat_xml(tmp_path / f"chunk{i}", body)
        ont = tmp_path / f"ont{i}.json"
        assert main(["ontology", str(path), "-o", str(ont)]) == 0
        got.append(derived_tools(ont))
    assert got == [{"car": "rectangle", "car (polygon)": "polygon", "car (line)": "line", "car (point)": "point"}] * 2


def test_ontology_round_trip_maps_every_row(tmp_path: Path) -> None:
    from tests.conftest import ontology_round_trip

    body = "\n".join(f'<image id="{n}" name="{n}.jpg" width="20" height="20">{s}</image>'
                     for n, s in enumerate([_MASK, _POLY + _SKELETON, _ELLIPSE, _BOX + _LINE, _POINTS]))
    path = cvat_xml(tmp_path, body)
    tools, rows = ontology_round_trip([str(path)], tmp_path, "--mode", "ground-truth", "--cvat-ellipse", "mask")
    assert tools == {"car": "rectangle", "car (polygon)": "polygon", "car (mask)": "raster-segmentation",
                     "car (line)": "line", "car (point)": "point", "hand tip": "point"}
    assert sorted(k for r in rows for k in ("bbox", "polygon", "mask", "line", "point") if k in r) == [
        "bbox", "line", "mask", "mask", "point", "point", "point", "polygon"]


@pytest.mark.parametrize("path", sorted((FX).rglob("*.xml")), ids=lambda p: str(p.relative_to(FX)))
def test_label_kinds_are_the_kinds_read__public_fixtures(path: Path) -> None:
    if not CVATReader.sniff(path):
        pytest.skip("not a CVAT export")  # none today: every XML under cvat/ is one
    declared, got = _kinds_of(path)
    assert got and {k: declared.get(k) for k in got} == got
