"""CVAT shape elements to model shapes, and ``<attribute>`` children to classifications.

Coordinates in CVAT XML are already ours (absolute, continuous, top-left corner of the
image at 0,0), written with ``%.2f``. Rotations (boxes, ellipses) are degrees clockwise on
screen about the shape's centre; with y growing down that is the usual rotation matrix:
``x' = cx + cos·dx − sin·dy``, ``y' = cy + sin·dx + cos·dy`` (CVAT's own
``RotatedBoxesToPolygons`` uses the same).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from lxml import etree

from ...model import XY, Box, Classification, Point, Polygon, Polyline
from ._meta import AttrSpec

__all__ = [
    "ShapeError",
    "AttrIssue",
    "attribute_classifications",
    "attribute_pairs",
    "box_corners",
    "ellipse_mask",
    "ellipse_polygon",
    "flat_coords",
    "floats",
    "parse_points",
    "rotate",
]

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


class ShapeError(ValueError):
    """A shape element's geometry is unreadable; the reader turns it into a ParseError."""


def floats(elem: etree._Element, *names: str) -> list[float]:
    """The named attributes as finite floats."""
    out = []
    for name in names:
        raw = elem.get(name)
        if raw is None:
            raise ShapeError(f"missing attribute {name!r}")
        try:
            value = float(raw)
        except ValueError:
            raise ShapeError(f"attribute {name!r} is not a number: {raw!r}") from None
        if not math.isfinite(value):
            raise ShapeError(f"attribute {name!r} is not finite: {raw!r}")
        out.append(value)
    return out


def parse_points(text: str | None) -> tuple[XY, ...]:
    """``"x0,y0;x1,y1;..."`` as vertices."""
    if text is None or not text.strip():
        raise ShapeError("missing or empty 'points'")
    pts: list[XY] = []
    for pair in text.strip().split(";"):
        if not pair.strip():
            continue
        xy = pair.split(",")
        if len(xy) != 2:
            raise ShapeError(f"'points' entry {pair!r} is not 'x,y'")
        try:
            x, y = float(xy[0]), float(xy[1])
        except ValueError:
            raise ShapeError(f"'points' entry {pair!r} is not numeric") from None
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ShapeError(f"'points' entry {pair!r} is not finite")
        pts.append((x, y))
    if not pts:
        raise ShapeError("'points' holds no vertex")
    return tuple(pts)


def rotate(points: tuple[XY, ...], cx: float, cy: float, degrees: float) -> tuple[XY, ...]:
    """Rotate clockwise on screen (y down) by ``degrees`` about (cx, cy)."""
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    return tuple((cx + c * (x - cx) - s * (y - cy), cy + s * (x - cx) + c * (y - cy)) for x, y in points)


def box_corners(xtl: float, ytl: float, xbr: float, ybr: float, rotation: float) -> tuple[XY, ...]:
    """The four corners of a (rotated) box, clockwise on screen from the top-left."""
    corners = ((xtl, ytl), (xbr, ytl), (xbr, ybr), (xtl, ybr))
    return rotate(corners, (xtl + xbr) / 2, (ytl + ybr) / 2, rotation)


def ellipse_vertices(rx: float, ry: float, tolerance: float = 0.25) -> int:
    """Vertices an inscribed polygon needs to stay within ``tolerance`` px of the ellipse."""
    r = max(rx, ry, 1e-9)
    n = 16
    while n < 720 and r * (1 - math.cos(math.pi / n)) > tolerance:
        n += 8
    return n


def ellipse_polygon(cx: float, cy: float, rx: float, ry: float, rotation: float) -> Polygon:
    """An inscribed polygon within 0.25 px of the ellipse (more vertices for larger ones)."""
    n = ellipse_vertices(abs(rx), abs(ry))
    pts = tuple(
        (cx + rx * math.cos(2 * math.pi * k / n), cy + ry * math.sin(2 * math.pi * k / n)) for k in range(n)
    )
    return Polygon(exterior=rotate(pts, cx, cy, rotation))


def ellipse_mask(
    cx: float, cy: float, rx: float, ry: float, rotation: float, width: int, height: int
) -> Callable[[], np.ndarray]:
    """A loader for the ellipse's pixels: those whose centre lies inside it."""

    def load() -> np.ndarray:
        out = np.zeros((height, width), dtype=np.uint8)
        r = max(abs(rx), abs(ry))
        x0, x1 = max(int(math.floor(cx - r)), 0), min(int(math.ceil(cx + r)) + 1, width)
        y0, y1 = max(int(math.floor(cy - r)), 0), min(int(math.ceil(cy + r)) + 1, height)
        if x1 <= x0 or y1 <= y0 or rx == 0 or ry == 0:
            return out
        ys, xs = np.mgrid[y0:y1, x0:x1]
        dx, dy = xs + 0.5 - cx, ys + 0.5 - cy
        a = math.radians(rotation)
        c, s = math.cos(a), math.sin(a)
        u = c * dx + s * dy  # back into the ellipse's own axes (inverse rotation)
        v = -s * dx + c * dy
        out[y0:y1, x0:x1] = ((u / rx) ** 2 + (v / ry) ** 2 <= 1.0).astype(np.uint8)
        return out

    return load


def flat_coords(shape: Box | Point | Polyline | Polygon) -> tuple[float, ...]:
    """Flat vertex coordinates, for comparing track rows (a box by its two corners)."""
    if isinstance(shape, Box):
        return (shape.x_min, shape.y_min, shape.x_max, shape.y_max)
    if isinstance(shape, Point):
        return (shape.x, shape.y)
    pts = shape.points if isinstance(shape, Polyline) else shape.exterior
    return tuple(v for xy in pts for v in xy)


@dataclass(frozen=True, slots=True)
class AttrIssue:
    """Something about an attribute the report should hear of."""

    code: str
    message: str


def attribute_pairs(elem: etree._Element, issues: list[AttrIssue]) -> list[tuple[str, str]]:
    """``(name, value)`` of an element's ``<attribute>`` children, in order."""
    out = []
    for child in elem.iterchildren("attribute"):
        name = child.get("name")
        if not name:
            issues.append(AttrIssue("cvat-attribute-unnamed", "an <attribute> without a name was ignored"))
            continue
        out.append((name, (child.text or "").strip()))
    return out


def attribute_classifications(
    pairs: list[tuple[str, str]],
    specs: Mapping[str, AttrSpec],
    *,
    fill_defaults: bool,
    issues: list[AttrIssue],
) -> tuple[Classification, ...]:
    """Nested classifications from ``<attribute name="...">value</attribute>`` pairs.

    Declared ``checkbox`` attributes become a ``true``/``false`` radio, ``select``/``radio``
    a radio whose option is the value, ``number`` and ``text`` free text; an undeclared
    attribute is free text. A declared attribute the shape omits takes its default (CVAT's
    meaning of an absent attribute) unless ``fill_defaults`` is off.
    """
    given: dict[str, str] = dict(pairs)
    if fill_defaults:
        for name, spec in specs.items():
            if name not in given and spec.default is not None:
                given[name] = spec.default
    out: list[Classification] = []
    for name, value in given.items():
        declared = specs.get(name)
        kind = declared.input_type if declared is not None else "text"
        if kind == "checkbox":
            low = value.lower()
            if low not in _TRUE | _FALSE:
                issues.append(AttrIssue("cvat-attribute-invalid", f"checkbox {name!r} has value {value!r}; kept as text"))
                out.append(Classification.free_text(name, value))
                continue
            out.append(Classification.radio(name, "true" if low in _TRUE else "false"))
        elif kind in ("select", "radio"):
            if not value:
                issues.append(AttrIssue("cvat-attribute-empty", f"{kind} {name!r} has no value; dropped"))
                continue
            if declared is not None and declared.values and value not in declared.values:
                issues.append(AttrIssue("cvat-attribute-undeclared-value", f"{name!r} = {value!r} is not a declared value"))
            out.append(Classification.radio(name, value))
        else:
            if not value:
                issues.append(AttrIssue("cvat-attribute-empty", f"text {name!r} is empty; dropped"))
                continue
            out.append(Classification.free_text(name, value))
    return tuple(out)
