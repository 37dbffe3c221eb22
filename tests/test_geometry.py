"""Geometry repair rules, one table per rule, plus the odd shapes of the public fixtures."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
import shapely
from pycocotools import mask as cocomask

from converters import masks
from converters.geometry import GeometryOptions, fix_shape
from converters.model import Box, Mask, MultiPolygon, Point, Polygon, Polyline

DEFAULT = GeometryOptions()


def run(shape, width=100, height=100, **opts):
    return fix_shape(shape, width=width, height=height, options=GeometryOptions(**opts) if opts else DEFAULT)


def codes(outcome):
    return [(f.action, f.code) for f in outcome.fixes]


def poly(*pts, holes=()):
    return Polygon(exterior=tuple(pts), holes=tuple(tuple(h) for h in holes))


# --------------------------------------------------------------------------- boxes


@pytest.mark.parametrize(
    ("box", "size", "expected", "fixes", "skip"),
    [
        ((10, 10, 20, 30), (100, 100), (10, 10, 20, 30), [], None),
        # touching the border exactly is inside (continuous convention)
        ((0, 0, 100, 100), (100, 100), (0, 0, 100, 100), [], None),
        # half outside on the left: clipped, IoU 0.5
        ((-10, 0, 10, 10), (100, 100), (0, 0, 10, 10), [("clipped", "box-clipped")], None),
        ((90, 95, 110, 105), (100, 100), (90, 95, 100, 100), [("clipped", "box-clipped")], None),
        # inverted corners are normalised
        ((20, 30, 10, 10), (100, 100), (10, 10, 20, 30), [("repaired", "inverted-box")], None),
        # inverted and outside: both reported
        ((110, 10, 90, 20), (100, 100), (90, 10, 100, 20), [("repaired", "inverted-box"), ("clipped", "box-clipped")], None),
        ((10, 10, 10, 20), (100, 100), None, [], "zero-area-box"),
        ((200, 200, 300, 300), (100, 100), None, [], "box-outside-image"),
        ((-20, 10, 0, 20), (100, 100), None, [], "box-outside-image"),
        # floating-point noise at the border is not a change
        ((0, 0, 100.0000000001, 50), (100, 100), (0, 0, 100, 50), [], None),
        # unknown image size: nothing to clip against
        ((-10, -10, 10, 10), (None, None), (-10, -10, 10, 10), [], None),
    ],
)
def test_box_rules(box, size, expected, fixes, skip):
    out = run(Box(x_min=box[0], y_min=box[1], x_max=box[2], y_max=box[3]), *size)
    assert codes(out) == fixes
    if skip:
        assert out.shapes == () and out.skip.code == skip and out.skip.action == "skipped"
    else:
        (b,) = out.shapes
        assert (b.x_min, b.y_min, b.x_max, b.y_max) == pytest.approx(expected)


def test_box_half_outside_reports_iou():
    out = run(Box(x_min=-10, y_min=0, x_max=10, y_max=10))
    assert "IoU 0.500" in out.fixes[0].message and "100x100" in out.fixes[0].message


# --------------------------------------------------------------------------- points, lines


@pytest.mark.parametrize(
    ("xy", "option", "kept", "code"),
    [
        ((50, 50), "keep", True, None),
        ((100, 100), "drop", True, None),  # on the border: inside
        ((101, 50), "keep", True, "point-outside-image"),
        ((-1, 50), "drop", False, "point-outside-image"),
        ((50, 100.5), "drop", False, "point-outside-image"),
    ],
)
def test_points_outside(xy, option, kept, code):
    out = run(Point(x=xy[0], y=xy[1]), points_outside=option)
    assert bool(out.shapes) is kept
    got = out.skip.code if out.skip else (out.fixes[0].code if out.fixes else None)
    assert got == code


def test_point_outside_unknown_size_is_kept_silently():
    out = fix_shape(Point(x=-5, y=-5), width=None, height=None, options=DEFAULT)
    assert out.shapes and not out.fixes


@pytest.mark.parametrize(
    ("points", "expected", "code"),
    [
        (((0, 0), (10, 10)), ((0, 0), (10, 10)), None),
        (((0, 0), (0, 0), (10, 10), (10, 10)), ((0, 0), (10, 10)), "duplicate-vertices"),
        (((5, 5),), None, "degenerate-polyline"),
        (((5, 5), (5, 5), (5, 5)), None, "degenerate-polyline"),
        (((0, 0), (math.nan, 1)), None, "non-finite-coordinates"),
    ],
)
def test_polyline_rules(points, expected, code):
    out = run(Polyline(points=points))
    if expected is None:
        assert out.skip.code == code and not out.shapes
    else:
        assert out.shapes[0].points == expected
        assert [f.code for f in out.fixes] == ([code] if code else [])


# --------------------------------------------------------------------------- polygons


@pytest.mark.parametrize(
    ("shape", "skip"),
    [
        (poly((0, 0), (10, 10)), "degenerate-polygon"),
        (poly((0, 0), (10, 10), (0, 0), (10, 10)), "degenerate-polygon"),
        (poly((0, 0), (5, 0), (10, 0)), "zero-area-polygon"),  # collinear
        (poly((0, 0), (5, 0), (5, math.inf)), "non-finite-coordinates"),
        (poly((200, 200), (300, 200), (300, 300)), "polygon-outside-image"),
        (MultiPolygon(polygons=(poly((0, 0), (1, 1)), poly((3, 3), (4, 4)))), "degenerate-polygon"),
    ],
)
def test_polygon_skips(shape, skip):
    out = run(shape)
    assert out.shapes == () and out.skip.code == skip


def test_simple_polygon_passes_unchanged():
    shape = poly((0, 0), (10, 0), (10, 10))
    out = run(shape)
    assert out.shapes == (shape,) and out.fixes == ()


@pytest.mark.parametrize(
    ("points", "removed"),
    [
        (((0, 0), (10, 0), (10, 10), (0, 0)), 0),  # closing point: a convention, not a change
        (((0, 0), (10, 0), (10, 0), (10, 10)), 1),
        (((0, 0), (0, 0), (10, 0), (10, 10), (10, 10), (0, 0)), 2),
    ],
)
def test_repeated_vertices(points, removed):
    out = run(Polygon(exterior=points))
    assert out.shapes[0].exterior == ((0, 0), (10, 0), (10, 10))
    if removed:
        assert codes(out) == [("repaired", "duplicate-vertices")]
        assert out.fixes[0].message.startswith(f"{removed} repeated")
    else:
        assert out.fixes == ()


def test_bow_tie_becomes_two_valid_triangles():
    out = run(poly((0, 0), (10, 10), (10, 0), (0, 10)))
    assert codes(out) == [("repaired", "invalid-polygon"), ("split", "multipart-split")]
    assert "make_valid (IoU 1.000)" in out.fixes[0].message
    parts = [shapely.Polygon(p.exterior) for p in out.shapes]
    assert all(p.is_valid for p in parts) and [p.area for p in parts] == [25, 25]
    # pycocotools fills the bow-tie the same way (even-odd): 50 pixels
    assert sum(p.area for p in parts) == 50


def test_bow_tie_as_mask_matches_pycocotools_fill():
    flat = [0, 0, 10, 10, 10, 0, 0, 10]
    out = run(poly((0, 0), (10, 10), (10, 0), (0, 10)), 12, 12, parts="mask")
    assert [f.code for f in out.fixes] == ["invalid-polygon", "parts-as-mask"]
    (mask,) = out.shapes
    ours = masks.decode(mask)
    theirs = cocomask.decode(cocomask.frPyObjects([flat], 12, 12)[0])
    assert ours.sum() == theirs.sum() == 50
    assert (ours != theirs).sum() <= 4  # only pixels on the crossing diagonals may differ


def test_pentagram_repair_reports_the_lost_area():
    star = ((50, 0), (79, 90), (2, 35), (98, 35), (21, 90))
    out = run(Polygon(exterior=star))
    (fix, split) = out.fixes
    iou = float(fix.message.split("IoU ")[1].rstrip(")"))
    assert 0.6 < iou < 0.8  # the inner pentagon is a hole under even-odd: reported, not hidden
    assert split.code == "multipart-split" and len(out.shapes) == 5


def test_holed_polygon_becomes_mask_by_default():
    shape = poly((0, 0), (10, 0), (10, 10), (0, 10), holes=[((3, 3), (6, 3), (6, 6), (3, 6))])
    out = run(shape, 12, 12)
    assert codes(out) == [("converted", "holes-as-mask")]
    (mask,) = out.shapes
    arr = masks.decode(mask)
    assert arr.shape == (12, 12) and arr.sum() == 100 - 9
    assert arr[4, 4] == 0 and arr[0, 0] == 1 and arr[10, 10] == 0


def test_holed_polygon_outer_option():
    shape = poly((0, 0), (10, 0), (10, 10), (0, 10), holes=[((3, 3), (6, 3), (6, 6), (3, 6))])
    out = run(shape, holes="outer")
    assert codes(out) == [("repaired", "holes-dropped")]
    assert "IoU 0.910" in out.fixes[0].message
    (p,) = out.shapes
    assert shapely.Polygon(p.exterior).area == 100 and p.holes == ()


def test_holes_without_image_size_fall_back_to_outer_ring():
    shape = poly((0, 0), (10, 0), (10, 10), (0, 10), holes=[((3, 3), (6, 3), (6, 6), (3, 6))])
    out = fix_shape(shape, width=None, height=None, options=DEFAULT)
    assert codes(out) == [("repaired", "holes-dropped")] and "image size unknown" in out.fixes[0].message
    assert isinstance(out.shapes[0], Polygon)


def test_polygon_half_outside_is_clipped():
    out = run(poly((-10, 0), (10, 0), (10, 10), (-10, 10)))
    assert codes(out) == [("clipped", "polygon-clipped")] and "IoU 0.500" in out.fixes[0].message
    (p,) = out.shapes
    assert shapely.Polygon(p.exterior).equals(shapely.box(0, 0, 10, 10))


@pytest.mark.parametrize(
    ("parts", "option", "n_out", "fix_codes"),
    [
        ([((0, 0), (5, 0), (5, 5)), ((10, 10), (20, 10), (20, 20))], "polygons", 2, ["multipart-split"]),
        ([((0, 0), (5, 0), (5, 5)), ((10, 10), (20, 10), (20, 20))], "mask", 1, ["parts-as-mask"]),
        # overlapping parts are one region (COCO unions them)
        ([((0, 0), (10, 0), (10, 10), (0, 10)), ((5, 5), (15, 5), (15, 15), (5, 15))], "polygons", 1, ["overlapping-parts"]),
        # one degenerate part is dropped, the rest kept
        ([((0, 0), (5, 0), (5, 5)), ((1, 1), (2, 2))], "polygons", 1, ["degenerate-part"]),
    ],
)
def test_multipart(parts, option, n_out, fix_codes):
    shape = MultiPolygon(polygons=tuple(Polygon(exterior=p) for p in parts))
    out = run(shape, parts=option)
    assert len(out.shapes) == n_out
    assert [f.code for f in out.fixes] == fix_codes
    if option == "mask":
        assert isinstance(out.shapes[0], Mask) and masks.decode(out.shapes[0]).sum() > 0


_coord = st.floats(min_value=-20, max_value=120, allow_nan=False).map(lambda v: round(v, 1))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_coord, _coord), min_size=3, max_size=8))
def test_every_repaired_polygon_is_valid(points):
    """Any ring (bow-ties, repeats, outside the 100x100 image) comes out valid and inside, or
    skipped with one of the polygon codes."""
    out = run(Polygon(exterior=tuple(points)))
    if not out.shapes:
        assert out.skip.code in {"zero-area-polygon", "polygon-outside-image", "degenerate-polygon"}
        return
    for shape in out.shapes:
        if isinstance(shape, Polygon):
            g = shapely.Polygon(shape.exterior)
            assert g.is_valid and g.area > 0 and len(set(shape.exterior)) >= 3
            assert shapely.box(0, 0, 100, 100).buffer(1e-6).covers(g)


# --------------------------------------------------------------------------- masks


@pytest.mark.parametrize(
    ("rle", "size", "code"),
    [
        ({"size": [10, 5], "counts": [0, 20, 30]}, (5, 10), None),
        ({"size": [10, 5], "counts": [50]}, (5, 10), "empty-mask"),
        ({"size": [10, 5], "counts": [0, 20, 30]}, (10, 5), "mask-size-mismatch"),
        ({"size": [10, 5], "counts": [0, 20, 31]}, (5, 10), "invalid-rle"),
    ],
)
def test_mask_rules(rle, size, code):
    out = run(Mask(width=rle["size"][1], height=rle["size"][0], rle=rle), *size)
    assert (out.skip.code if out.skip else None) == code


def test_compressed_empty_mask_is_skipped():
    rle = masks.encode_rle(np.zeros((4, 6), np.uint8))
    assert run(Mask(width=6, height=4, rle=rle), 6, 4).skip.code == "empty-mask"


# --------------------------------------------------------------------------- public fixtures


def test_fixture_polygons_come_out_valid(fixtures):
    """Every polygon of the COCO fixtures survives repair as valid Labelbox geometry."""
    seen = 0
    for path in sorted((fixtures / "coco").rglob("*.json")):
        data = json.loads(path.read_text())
        if not isinstance(data, dict):
            continue
        sizes = {i["id"]: (i.get("width"), i.get("height")) for i in data.get("images", [])}
        for ann in data.get("annotations", []):
            seg = ann.get("segmentation")
            if not isinstance(seg, list) or not seg:
                continue
            shape = MultiPolygon(polygons=tuple(Polygon(exterior=tuple(zip(p[0::2], p[1::2]))) for p in seg))
            w, h = sizes.get(ann["image_id"], (None, None))
            out = fix_shape(shape, width=w, height=h, options=DEFAULT)
            seen += 1
            for s in out.shapes:
                assert isinstance(s, (Polygon, Mask))
                if isinstance(s, Polygon):
                    assert shapely.Polygon(s.exterior).is_valid
    assert seen >= 3


def test_keyhole_ring_is_a_holed_polygon_and_becomes_a_mask():
    """COCO cannot store holes, so annotators cut into the hole along a zero-width slit."""
    ring = ((0, 0), (10, 0), (10, 10), (0, 10), (0, 5), (3, 5), (3, 7), (7, 7), (7, 3), (3, 3), (3, 5), (0, 5))
    out = run(Polygon(exterior=ring), 12, 12)
    assert codes(out) == [("repaired", "invalid-polygon"), ("converted", "holes-as-mask")]
    assert "IoU 1.000" in out.fixes[0].message  # the viewer's region and the repair agree
    arr = masks.decode(out.shapes[0])
    assert arr.sum() == 100 - 16 and arr[5, 5] == 0 and arr[1, 1] == 1


def _shapes_of_every_fixture(fixtures):
    """(source, shape, width, height) for every object shape any reader finds in fixtures/."""
    from converters.errors import ConversionError
    from converters.pipeline import read
    from converters.readers import available_formats, get_reader

    for fmt in available_formats():
        folder = fixtures / fmt
        if not folder.is_dir():
            continue
        reader = get_reader(fmt)
        claimed: list = []
        for path in sorted(folder.rglob("*")):
            if any(c in path.parents for c in claimed):
                continue
            try:
                if not reader.sniff(path):
                    continue
            except Exception:  # a reader's sniff is not what this test checks
                continue
            claimed.append(path)
            try:
                for asset in read([path], fmt=fmt).assets:
                    for ann in asset.annotations:
                        shape = getattr(ann, "shape", None)
                        if shape is not None:
                            yield path, shape, asset.width, asset.height
                        for seg in getattr(ann, "segments", ()):
                            for kf in seg.keyframes:
                                yield path, kf.shape, asset.width, asset.height
            except (ConversionError, ImportError):
                continue


def test_every_fixture_shape_comes_out_valid(fixtures):
    """The odd shapes of all public fixtures (inverted VOC boxes, OBB corners below 0, YOLO
    triangles, CVAT polygons...) come out as geometry Labelbox accepts, or skipped with a code."""
    seen = 0
    for path, shape, w, h in _shapes_of_every_fixture(fixtures):
        seen += 1
        out = fix_shape(shape, width=w, height=h, options=DEFAULT)
        if not out.shapes:
            assert out.skip is not None and out.skip.code, path
            continue
        for s in out.shapes:
            if isinstance(s, Polygon):
                g = shapely.Polygon(s.exterior)
                assert g.is_valid and g.area > 0 and not s.holes, (path, s)
                if w is not None:
                    assert shapely.box(0, 0, w, h).buffer(1e-6).covers(g), (path, s)
            elif isinstance(s, Box):
                assert s.x_max > s.x_min and s.y_max > s.y_min, (path, s)
                if w is not None:
                    assert 0 <= s.x_min and s.x_max <= w and 0 <= s.y_min and s.y_max <= h, (path, s)
            elif isinstance(s, Polyline):
                assert len(set(s.points)) >= 2
            elif isinstance(s, Mask) and w is not None:
                assert (s.width, s.height) == (w, h)
    assert seen >= 50


def test_valid_polygons__same_verdict_as_the_one_by_one_check() -> None:
    """The vectorised batch check agrees with _simple_inside on every kind of polygon."""
    import math
    import random

    from converters.geometry import _simple_inside, valid_polygons

    rng = random.Random(7)
    items = []
    for _ in range(2000):
        n = rng.randint(3, 9)
        if rng.random() < 0.5:  # star-shaped, simple
            pts = [(50 + 20 * math.cos(2 * math.pi * k / n) * rng.uniform(0.5, 1),
                    50 + 20 * math.sin(2 * math.pi * k / n) * rng.uniform(0.5, 1)) for k in range(n)]
        else:  # random: often self-intersecting or outside
            pts = [(rng.uniform(-5, 105), rng.uniform(-5, 105)) for _ in range(n)]
        if rng.random() < 0.05:
            pts.append(pts[-1])  # repeated vertex
        if rng.random() < 0.05:
            pts.append(pts[0])  # closing point
        if rng.random() < 0.02:
            pts[0] = (float("nan"), 1.0)
        w, h = rng.choice([(100, 100), (80, 120), (None, None)])
        items.append((Polygon(exterior=tuple(pts)), w, h))
    items.append((Polygon(exterior=((0, 0), (10, 10), (10, 0), (0, 10))), 100, 100))  # bow-tie
    items.append((Polygon(exterior=((0, 0), (1, 1))), 100, 100))  # too short
    items.append((Polygon(exterior=((0, 0), (4, 0), (4, 4)), holes=(((1, 1), (2, 1), (2, 2)),)), 100, 100))
    verdicts = valid_polygons(items)
    expected = [len(p.exterior) >= 3 and not p.holes and _simple_inside(p.exterior, w, h) for p, w, h in items]
    assert verdicts == expected
    assert 0 < sum(verdicts) < len(items)


# -- issue 12 item 2: slivers left by a repair or a clip -----------------------------------

SLIVER_BOW_TIE = poly((0, 0), (10, 10), (10, 0), (0.1, 0.2))  # crosses at (0.198, 0.198): a 0.0099 px² lobe


@pytest.mark.parametrize(
    ("opts", "n_shapes", "expected_codes"),
    [
        ({}, 1, [("repaired", "sliver-dropped"), ("repaired", "invalid-polygon")]),
        ({"min_part_area": 0.0}, 2, [("repaired", "invalid-polygon"), ("split", "multipart-split")]),
    ],
)
def test_repair_sliver_below_min_area_is_dropped_and_reported(opts, n_shapes, expected_codes):
    out = run(SLIVER_BOW_TIE, **opts)
    assert codes(out) == expected_codes and len(out.shapes) == n_shapes
    if not opts:
        sliver = 0.5 * (2 / 10.1) * 0.1  # the lobe (0,0), (0.198, 0.198), (0.1, 0.2)
        assert f"1 part(s) below 1 px² dropped (area {sliver:.2g} px²)" in out.fixes[0].message
        whole = shapely.make_valid(shapely.Polygon(SLIVER_BOW_TIE.exterior)).area
        (kept,) = out.shapes
        assert shapely.Polygon(kept.exterior).area == pytest.approx(whole - sliver, abs=1e-6)
        assert "IoU 1.000" in out.fixes[1].message  # for what remains: (whole - sliver) / whole


def test_clip_sliver_is_dropped():
    # a U whose thin left arm pokes 0.05 px into a 100 px image: the clip leaves a 0.05 px² part
    u = poly((-10, 0), (0.05, 0), (0.05, 1), (-5, 1), (-5, 9), (50, 9), (50, 20), (-10, 20))
    out = run(u)
    assert [c for _, c in codes(out)] == ["sliver-dropped", "polygon-clipped"] and len(out.shapes) == 1
    assert shapely.Polygon(out.shapes[0].exterior).area == pytest.approx(50 * 11)


def test_min_part_area_must_not_be_negative(tmp_path, capsys):
    import json

    from converters.cli import main

    with pytest.raises(ValueError):
        GeometryOptions(min_part_area=-1)
    src = tmp_path / "x.json"
    src.write_text(json.dumps({"images": [{"id": 1, "file_name": "a.jpg", "width": 9, "height": 9}],
                               "categories": [{"id": 1, "name": "a"}], "annotations": []}))
    assert main(["convert", str(src), "-o", str(tmp_path / "o.ndjson"), "--min-part-area", "-1"]) == 1
    assert capsys.readouterr().err.strip() == "error: --min-part-area must be >= 0 (px²), got -1"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_star_simple_never_calls_a_crossing_ring_simple(seed: int) -> None:
    """The cheap star test of valid_rings only ever says "simple" where GEOS agrees:
    star rings (sorted angles), shuffled ones, rings winding twice, and rings on a 5x5 grid
    (touching and overlapping edges)."""
    import shapely

    from converters.geometry import _star_simple

    rng = np.random.default_rng(seed)
    counts = rng.integers(3, 20, 4000)
    parts = []
    for i, n in enumerate(counts.tolist()):
        kind = i % 4
        if kind == 3:
            parts.append(rng.integers(0, 5, (n, 2)).astype(float))
            continue
        if kind == 0:  # an outline: evenly spaced angles, jittered
            a = (np.arange(n) + rng.uniform(-0.3, 0.3, n)) * 2 * np.pi / n
        else:
            a = rng.uniform(0, (4 if kind == 2 else 2) * np.pi, n)
            a = np.sort(a) if kind == 2 else a
        r = rng.uniform(0.2, 1, n) * 50
        parts.append(np.c_[100 + r * np.cos(a), 100 + r * np.sin(a)])
    coords = np.concatenate(parts)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    star = _star_simple(coords, counts, starts)
    rings = [shapely.LinearRing(p) if len(np.unique(p, axis=0)) >= 3 else None for p in parts]
    geos = np.array([r is not None and r.is_simple for r in rings])
    assert not (star & ~geos).any()
    assert star[0::4].mean() > 0.9  # the outlines are found (GEOS is spared them)
