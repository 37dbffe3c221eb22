"""One CVAT shape element to model shapes, with everything it carries reported.

Shared by image shapes (``<image><box .../>``) and track rows (``<track><box frame=...>``):
:func:`convert_shape` returns the shapes to write (a ``points`` element may hold several
points) and records conversions (rotated box, ellipse) in the report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from ...errors import ParseError
from ...model import Box, Kind, Mask, Point, Polygon, Polyline, Shape, SourceRef
from ...report import Report
from ._rle import decode_full, outside_pixels, parse_rle
from ._shapes import ShapeError, box_corners, ellipse_mask, ellipse_polygon, floats, parse_points

__all__ = ["KIND_OF", "Converted", "convert_shape", "shape_error"]

#: The import-matrix kind each CVAT element is read as (for skips before a shape exists).
KIND_OF = {
    "box": Kind.BBOX,
    "polygon": Kind.POLYGON,
    "polyline": Kind.POLYLINE,
    "points": Kind.POINT,
    "ellipse": Kind.POLYGON,
    "mask": Kind.MASK,
    "skeleton": Kind.POINT,
    "cuboid": "cuboid",
}


@dataclass(frozen=True, slots=True)
class Converted:
    """The shapes of one element (several for ``points``), or none when it was skipped."""

    shapes: tuple[Shape, ...]


def shape_error(path: Path, elem: etree._Element, exc: Exception) -> ParseError:
    return ParseError(path, f"<{elem.tag}>: {exc}", location=f"line {elem.sourceline}")


def _rotation(elem: etree._Element) -> float:
    raw = elem.get("rotation")
    if raw is None or not raw.strip():
        return 0.0
    try:
        value = float(raw)
    except ValueError:
        raise ShapeError(f"attribute 'rotation' is not a number: {raw!r}") from None
    if not math.isfinite(value):
        raise ShapeError(f"attribute 'rotation' is not finite: {raw!r}")
    return value


def convert_shape(
    elem: etree._Element,
    *,
    path: Path,
    source: SourceRef,
    report: Report,
    size: tuple[int, int] | None,
    ellipse: str,
    rotated_box: str,
    video: bool = False,
) -> Converted:
    """Geometry of ``elem`` as model shapes.

    Raises:
        ParseError: the element's geometry is unreadable (names the line).
    """
    tag = elem.tag
    try:
        if tag == "box":
            xtl, ytl, xbr, ybr = floats(elem, "xtl", "ytl", "xbr", "ybr")
            rot = _rotation(elem)
            if rot % 360.0 == 0.0:
                return Converted((Box(x_min=xtl, y_min=ytl, x_max=xbr, y_max=ybr),))
            corners = box_corners(xtl, ytl, xbr, ybr, rot)
            if rotated_box == "bbox":
                xs, ys = [p[0] for p in corners], [p[1] for p in corners]
                report.change(source, Kind.BBOX, "converted", "cvat-rotated-box-bbox",
                              f"box rotated by {rot:g} degrees written as its axis-aligned bounding box")
                return Converted((Box(x_min=min(xs), y_min=min(ys), x_max=max(xs), y_max=max(ys)),))
            report.change(source, Kind.POLYGON, "converted", "cvat-rotated-box-polygon",
                          f"box rotated by {rot:g} degrees written as a 4-point polygon")
            return Converted((Polygon(exterior=corners),))
        if tag == "polygon":
            return Converted((Polygon(exterior=parse_points(elem.get("points"))),))
        if tag == "polyline":
            return Converted((Polyline(points=parse_points(elem.get("points"))),))
        if tag == "points":
            return Converted(tuple(Point(x=x, y=y) for x, y in parse_points(elem.get("points"))))
        if tag == "ellipse":
            cx, cy, rx, ry = floats(elem, "cx", "cy", "rx", "ry")
            rot = _rotation(elem)
            if ellipse == "mask" and size is not None and not video:
                w, h = size
                report.change(source, Kind.MASK, "converted", "cvat-ellipse-mask",
                              "ellipse written as a mask of the pixels whose centre lies inside it")
                return Converted((Mask(width=w, height=h, load=ellipse_mask(cx, cy, rx, ry, rot, w, h)),))
            poly = ellipse_polygon(cx, cy, rx, ry, rot)
            report.change(source, Kind.POLYGON, "converted", "cvat-ellipse-polygon",
                          f"ellipse written as a {len(poly.exterior)}-point polygon (within 0.25 px)")
            return Converted((poly,))
        if tag == "mask":
            rle = parse_rle(elem.get("rle") or "", *(elem.get(k) or "" for k in ("left", "top", "width", "height")))
            if size is None:
                report.skip_unread(source, Kind.MASK, "cvat-mask-no-image-size",
                                   "mask needs the image size (no width/height and no readable image)")
                return Converted(())
            w, h = size
            if rle.short:
                report.tally("cvat-mask-rle-padded")
            if outside_pixels(rle, w, h):
                report.change(source, Kind.MASK, "clipped", "cvat-mask-clipped",
                              "mask box reaches beyond the image; the outer part was cut")
            return Converted((Mask(width=w, height=h, load=lambda: decode_full(rle, w, h)),))
    except (ShapeError, ValueError) as exc:
        raise shape_error(path, elem, exc) from None
    raise AssertionError(f"unexpected element {tag}")  # pragma: no cover
