"""Geometry repair: make every shape one Labelbox accepts, and say what changed.

Interface used by the pipeline (stable): :func:`fix_shape` takes one shape and the image
size and returns an :class:`Outcome` with the shapes to write (none = skipped), the fixes
made (each becomes a report entry) and, when skipped, why.

Why each rule exists:

* Labelbox polygons are one simple ring (>= 3 distinct points, no holes, no
  self-intersection); other tools export bow-ties, repeated vertices, holes and several
  parts per object without complaint. Invalid rings are repaired with shapely's
  ``make_valid`` (the even-odd reading, which is also how pycocotools fills them); the
  report gives the IoU between what a viewer fills for the outline (nonzero winding) and
  what is written, so a repair that loses area says so.
* A polygon with holes becomes a mask (default) or keeps its outer ring (``holes="outer"``);
  a region of several parts becomes several polygons (default) or one mask.
* Boxes are normalised (inverted corners) and clipped to the image; nothing is left of a
  zero-area box. Polygons are clipped to the image too (the region outside cannot be drawn).
* Points outside the image are kept or dropped by option; both are reported.
* Everything is in the model's continuous pixel convention: the image is the rectangle
  ``[0, width] x [0, height]``, so a point on its border is inside.

Unknown image size (None) disables every rule that needs it (clipping, masks).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from itertools import chain
from operator import eq
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np

from . import masks
from .errors import OptionsError
from .model import XY, Box, Mask, MultiPolygon, Point, Polygon, Polyline, Shape

if TYPE_CHECKING:
    import shapely
    from shapely.geometry import Polygon as ShpPolygon
else:

    class _Shapely(ModuleType):
        """shapely, imported on first use (a run whose rings are all star-shaped, and whose
        boxes and polygons need no repair, never loads GEOS: ~15 ms of a start-up)."""

        def __getattr__(self, name: str) -> Any:
            import shapely as module
            import shapely.errors  # noqa: F401 - shapely.errors.GEOSException below
            import shapely.geometry  # noqa: F401

            globals()["shapely"] = module
            return getattr(module, name)

    shapely = _Shapely("shapely")

__all__ = [
    "valid_polygons",
    "valid_rings",
    "EPS",
    "Fix",
    "GeometryOptions",
    "Outcome",
    "fix_box",
    "fix_mask",
    "fix_point",
    "fix_polygon",
    "fix_polyline",
    "fix_shape",
    "polygon_mask",
]

#: Coordinates within this distance of the image border are floating-point noise, not a
#: shape outside the image (denormalised YOLO values land on 640.0000000001).
EPS = 1e-6
#: Coordinates beyond a billion pixels are no pixel positions: a polygon holding one is
#: skipped as non-finite (shapely's predicates overflow on values near 1e154 and up).
MAX_COORD = 1e9


Parts = Literal["polygons", "mask"]
Holes = Literal["mask", "outer"]
PointsOutside = Literal["keep", "drop"]


@dataclass(frozen=True, slots=True, kw_only=True)
class GeometryOptions:
    """What to do with shapes Labelbox would reject.

    Attributes:
        parts: a multi-part object becomes several ``polygons`` rows or one ``mask``.
        holes: a polygon with holes becomes a ``mask`` or keeps its ``outer`` ring only.
        points_outside: points outside the image are kept (``keep``) or dropped (``drop``).
        min_part_area: parts of a repaired or clipped multi-part polygon smaller than this
            (px²) are dropped and reported: ``make_valid`` on a self-touching ring can leave
            a 0.001 px² sliver that would otherwise be written as a polygon of its own.
    """

    parts: Parts = field(default="polygons", metadata={
        "flag": "--polygon-parts", "choices": get_args(Parts), "cli": True,
        "help": "multi-part objects: one polygon row per part, or one mask"})
    holes: Holes = field(default="mask", metadata={
        "choices": get_args(Holes), "cli": True, "help": "polygons with holes: a mask, or the outer ring only"})
    points_outside: PointsOutside = field(default="keep", metadata={
        "choices": get_args(PointsOutside), "cli": True, "help": "points outside the image"})
    min_part_area: float = field(default=1.0, metadata={
        "metavar": "PX2", "cli": True,
        "help": "parts of a repaired or clipped polygon smaller than this (px²) are dropped and reported"})

    def __post_init__(self) -> None:
        area = self.min_part_area
        if isinstance(area, bool) or not isinstance(area, (int, float)) or not area >= 0:
            shown = f"{area:g}" if isinstance(area, (int, float)) else repr(area)
            raise OptionsError(f"{{min_part_area}} must be >= 0 (px²), got {shown}", fields=("min_part_area",))
        for f in fields(self):
            allowed = f.metadata.get("choices")
            if allowed is None:
                continue
            if getattr(self, f.name) not in allowed:
                raise OptionsError(
                    f"{{{f.name}}} must be one of {', '.join(allowed)}, got {getattr(self, f.name)!r}",
                    fields=(f.name,),
                )


@dataclass(frozen=True, slots=True)
class Fix:
    """One change: the report action, a stable code and a sentence."""

    action: str
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What to write for one source shape. ``shapes`` empty means skipped for ``skip``."""

    shapes: tuple[Shape, ...]
    fixes: tuple[Fix, ...] = ()
    skip: Fix | None = None


def _skipped(code: str, message: str, fixes: Sequence[Fix] = ()) -> Outcome:
    return Outcome((), tuple(fixes), Fix("skipped", code, message))


def fix_shape(
    shape: Shape, *, width: int | None, height: int | None, options: GeometryOptions
) -> Outcome:
    """Repair one shape for an image of ``width`` x ``height`` (None when unknown)."""
    if width is None or height is None:
        width = height = None
    if isinstance(shape, Box):
        return fix_box(shape, width=width, height=height)
    if isinstance(shape, (Polygon, MultiPolygon)):
        return fix_polygon(shape, width=width, height=height, options=options)
    if isinstance(shape, Point):
        return fix_point(shape, width=width, height=height, options=options)
    if isinstance(shape, Polyline):
        return fix_polyline(shape)
    if isinstance(shape, Mask):
        return fix_mask(shape, width=width, height=height)
    return Outcome((shape,))


# --------------------------------------------------------------------------- boxes, points, lines


def _size(width: int | None, height: int | None) -> str:
    return f"{width}x{height}"


def fix_box(box: Box, *, width: int | None, height: int | None) -> Outcome:
    """Normalise inverted corners, clip to the image, skip what has no area left."""
    fixes: list[Fix] = []
    x0, x1 = sorted((box.x_min, box.x_max))
    y0, y1 = sorted((box.y_min, box.y_max))
    if (x0, y0) != (box.x_min, box.y_min):
        fixes.append(Fix("repaired", "inverted-box",
                         f"inverted box corners ({box.x_min:g},{box.y_min:g})-({box.x_max:g},{box.y_max:g}) swapped"))
    if x1 - x0 <= 0 or y1 - y0 <= 0:
        return _skipped("zero-area-box", f"box has zero width or height ({x1 - x0:g}x{y1 - y0:g})", fixes)
    if width is not None and height is not None:
        cx0, cy0 = max(x0, 0.0), max(y0, 0.0)
        cx1, cy1 = min(x1, float(width)), min(y1, float(height))
        if cx1 - cx0 <= EPS or cy1 - cy0 <= EPS:
            return _skipped("box-outside-image", f"box has no area inside the {_size(width, height)} image", fixes)
        if (cx0, cy0, cx1, cy1) != (x0, y0, x1, y1):
            outside = max(-x0, -y0, x1 - width, y1 - height)
            if outside > EPS:
                iou = (cx1 - cx0) * (cy1 - cy0) / ((x1 - x0) * (y1 - y0))
                fixes.append(Fix("clipped", "box-clipped",
                                 f"box clipped to the {_size(width, height)} image (IoU {iou:.3f})"))
            x0, y0, x1, y1 = cx0, cy0, cx1, cy1
    if not fixes and (x0, y0, x1, y1) == (box.x_min, box.y_min, box.x_max, box.y_max):
        return Outcome((box,))
    return Outcome((Box(x_min=x0, y_min=y0, x_max=x1, y_max=y1),), tuple(fixes))


def _outside(x: float, y: float, width: int | None, height: int | None) -> bool:
    if width is None or height is None:
        return False
    return x < -EPS or y < -EPS or x > width + EPS or y > height + EPS


def fix_point(point: Point, *, width: int | None, height: int | None, options: GeometryOptions) -> Outcome:
    """Points outside the image are kept or dropped (``points_outside``), reported either way."""
    if not _outside(point.x, point.y, width, height):
        return Outcome((point,))
    where = f"point ({point.x:g}, {point.y:g}) lies outside the {_size(width, height)} image"
    if options.points_outside == "drop":
        return _skipped("point-outside-image", f"{where}; dropped (--points-outside drop)")
    return Outcome((point,), (Fix("changed", "point-outside-image", f"{where}; kept (--points-outside keep)"),))


def _dedupe(points: Iterable[XY]) -> tuple[tuple[XY, ...], int]:
    """Consecutive duplicate vertices removed, and how many were."""
    points = tuple(points)
    if not any(map(eq, points, points[1:])):  # the common case, at C speed
        return points, 0
    out: list[XY] = []
    removed = 0
    for p in points:
        xy = (p[0], p[1])
        if out and out[-1] == xy:
            removed += 1
        else:
            out.append(xy)
    return tuple(out), removed


def _finite(points: Iterable[XY]) -> bool:
    # NaN and infinities propagate through a sum (C speed); a sum overflowing to inf means
    # coordinates near 1e308, which are not pixel positions either; then the magnitude.
    values = list(chain.from_iterable(points))
    try:
        if not math.isfinite(sum(values, 0.0)):
            return False
    except OverflowError:
        return False
    return not values or max(map(abs, values)) <= MAX_COORD


def fix_polyline(line: Polyline) -> Outcome:
    """Drop repeated vertices; a line needs two distinct points."""
    if not _finite(line.points):
        return _skipped("non-finite-coordinates", "polyline has a NaN or infinite coordinate")
    points, removed = _dedupe(line.points)
    if len(points) < 2:
        return _skipped("degenerate-polyline", f"polyline has {len(points)} distinct point(s), needs 2")
    if not removed:
        return Outcome((line,))
    return Outcome((Polyline(points=points),),
                   (Fix("repaired", "duplicate-vertices", f"{removed} repeated vertex(es) removed"),))


def fix_mask(mask: Mask, *, width: int | None, height: int | None) -> Outcome:
    """A mask must be its image's size; an RLE that covers no pixel is skipped."""
    if width is not None and (mask.width, mask.height) != (width, height):
        return _skipped("mask-size-mismatch",
                        f"mask is {mask.width}x{mask.height}, its image {_size(width, height)}")
    if mask.rle is not None:
        reason = masks.check_rle(mask.rle, width=mask.width, height=mask.height)
        if reason:
            return _skipped("invalid-rle", reason)
        if _rle_area(mask.rle) == 0:
            return _skipped("empty-mask", "mask covers no pixel")
    return Outcome((mask,))


def _rle_area(rle: object) -> int:
    counts = rle["counts"]  # type: ignore[index]
    if isinstance(counts, list):
        return sum(counts[1::2])
    from pycocotools import mask as cocomask

    data = counts.encode("ascii") if isinstance(counts, str) else counts
    return int(cocomask.area({"size": list(rle["size"]), "counts": data}))  # type: ignore[index]


# --------------------------------------------------------------------------- polygons


def _ring(points: Sequence[XY]) -> tuple[tuple[XY, ...], int]:
    """An unclosed ring without repeated vertices (a repeated closing point is not counted)."""
    ring, removed = _dedupe(points)
    closing = 0
    while len(ring) > 1 and ring[-1] == ring[0]:
        ring = ring[:-1]
        closing += 1
    return ring, removed + max(closing - 1, 0)


def _iou(a: shapely.Geometry, b: shapely.Geometry) -> float:
    try:
        union = shapely.area(shapely.union(a, b))
        return float(shapely.area(shapely.intersection(a, b)) / union) if union > 0 else 1.0
    except shapely.errors.GEOSException:
        # GEOS cannot overlay some collections of a polygon and a line ("unable to determine
        # overlay result geometry dimension"); lines have no area, so their polygons give the IoU
        a, b = shapely.union_all(_polygons_of(a)), shapely.union_all(_polygons_of(b))
        union = shapely.area(shapely.union(a, b))
        return float(shapely.area(shapely.intersection(a, b)) / union) if union > 0 else 1.0


def _winding(ring: Sequence[XY], x: float, y: float) -> int:
    """Winding number of the closed ``ring`` around (x, y)."""
    wn = 0
    n = len(ring)
    for i in range(n):
        (x0, y0), (x1, y1) = ring[i], ring[(i + 1) % n]
        cross = (x1 - x0) * (y - y0) - (x - x0) * (y1 - y0)
        if y0 <= y < y1 and cross > 0:
            wn += 1
        elif y1 <= y < y0 and cross < 0:
            wn -= 1
    return wn


def _enclosed(ring: Sequence[XY]) -> shapely.Geometry:
    """The region a viewer fills for this outline (nonzero winding, the SVG/canvas default),
    used as the 'original' when measuring a repair. make_valid keeps the even-odd reading,
    so the IoU drops below 1 exactly where the two readings disagree (a pentagram's centre)."""
    line = shapely.LineString([*ring, ring[0]])
    faces = shapely.polygonize([shapely.union_all([line])])
    inside = []
    for face in faces.geoms:
        p = face.point_on_surface()
        if _winding(ring, p.x, p.y) != 0:
            inside.append(face)
    return shapely.union_all(inside) if inside else shapely.Polygon()


def _polygons_of(geom: shapely.Geometry) -> list[ShpPolygon]:
    """The polygonal parts of any geometry (make_valid may add lines and points)."""
    if isinstance(geom, shapely.Polygon):
        return [geom] if geom.area > 0 else []
    out: list[ShpPolygon] = []
    for g in getattr(geom, "geoms", ()):
        out.extend(_polygons_of(g))
    return out


def _unclosed(coords: Sequence[tuple[float, ...]]) -> tuple[XY, ...]:
    pts = tuple((float(c[0]), float(c[1])) for c in coords)
    return pts[:-1] if len(pts) > 1 and pts[0] == pts[-1] else pts


def polygon_mask(parts: Sequence[ShpPolygon], *, width: int, height: int) -> Mask:
    """A lazy mask of shapely polygons (holes cut out), rasterised when the writer asks."""
    rings = tuple((_unclosed(p.exterior.coords), tuple(_unclosed(h.coords) for h in p.interiors)) for p in parts)
    return Mask(width=width, height=height, load=lambda: masks.rasterize(rings, width=width, height=height))


def _simple_inside(ext: Sequence[XY], width: int | None, height: int | None) -> bool:
    """Whether an unclosed ring is already a valid Labelbox polygon inside the image.

    The fast path for the common case: >= 3 points, none repeated consecutively (nor a
    closing point), finite, simple (no self-intersection or touch) and within the image. A
    simple closed ring of >= 3 distinct points is a valid shell with a positive area, so
    ``is_simple`` on the ring decides without building a Polygon (~3x cheaper than is_valid).
    """
    n = len(ext)
    if n < 3 or ext[0] == ext[-1] or any(map(eq, ext, ext[1:])) or not _finite(ext):
        return False
    ring = shapely.linearrings(np.fromiter(chain.from_iterable(ext), float, count=2 * n).reshape(-1, 2))
    if not shapely.is_simple(ring):
        return False
    if width is None or height is None:
        return True
    x0, y0, x1, y1 = shapely.bounds(ring)
    return bool(x0 >= -EPS and y0 >= -EPS and x1 <= width + EPS and y1 <= height + EPS)


def valid_polygons(items: Sequence[tuple[Polygon, int | None, int | None]]) -> list[bool]:
    """For each (hole-free polygon, image width, image height), whether the polygon is already
    a valid Labelbox polygon inside its image (the test of :func:`_simple_inside`), decided
    for all of them in a few vectorised numpy and shapely calls.

    A True lets the caller skip :func:`fix_shape`; a False only means the polygon takes the
    ordinary path. Worth it on batches of hundreds of polygons (about 3 us each instead of
    about 9 us one by one); on a handful the fixed cost of the calls dominates.
    """
    ok = [len(p.exterior) >= 3 and not p.holes for p, _, _ in items]
    chosen = [item for item, good in zip(items, ok) if good]
    if not chosen:
        return ok
    counts = np.fromiter((len(p.exterior) for p, _, _ in chosen), dtype=np.intp, count=len(chosen))
    try:
        coords = np.array([xy for p, _, _ in chosen for xy in p.exterior], dtype=np.float64)
    except (TypeError, ValueError):
        return [False] * len(items)
    if coords.ndim != 2 or coords.shape[1] != 2:
        return [False] * len(items)
    result = valid_rings(coords, counts, [(w, h) for _, w, h in chosen])
    it = iter(result.tolist())
    return [bool(next(it)) if good else False for good in ok]


def valid_rings(
    coords: np.ndarray, counts: np.ndarray, sizes: Sequence[tuple[int | None, int | None]] | np.ndarray
) -> np.ndarray:
    """The test of :func:`valid_polygons` on rings given as one (n, 2) coordinate array,
    ``counts`` points each, with their image sizes (pairs, or an ``(rings, 2)`` float array
    with NaN for an unknown size): a boolean per ring.

    The rings go to GEOS as closed line strings built from one ragged array (about half
    the cost of ``linearrings`` with indices, and the same ``is_simple`` answers: compared
    on 120,000 rings of a small integer grid, all touching and overlapping cases);
    their bounds are numpy's.
    """
    ring = np.repeat(np.arange(len(counts)), counts)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.intp)
    ends = starts + counts - 1
    bad = ~(np.abs(coords) <= MAX_COORD).all(axis=1)  # NaN, infinite or beyond MAX_COORD
    repeated = (coords[1:] == coords[:-1]).all(axis=1) & (ring[1:] == ring[:-1])
    bad_ring = np.bincount(ring[bad], minlength=len(counts)) > 0
    bad_ring |= np.bincount(ring[1:][repeated], minlength=len(counts)) > 0
    bad_ring |= (coords[starts] == coords[ends]).all(axis=1)
    good_idx = np.flatnonzero(~bad_ring)
    result = np.zeros(len(counts), dtype=bool)
    if not len(good_idx):
        return result
    if len(good_idx) == len(counts):
        sub, sub_counts, sub_starts = coords, counts, starts
    else:
        sub, sub_counts = coords[np.repeat(~bad_ring, counts)], counts[good_idx]
        sub_starts = np.concatenate(([0], np.cumsum(sub_counts)[:-1])).astype(np.intp)
    fine = _star_simple(sub, sub_counts, sub_starts)
    if not fine.all():  # the others are asked of GEOS
        ask = np.flatnonzero(~fine)
        pts = sub[np.repeat(~fine, sub_counts)]
        counts_ask = sub_counts[ask]
        starts_ask = np.concatenate(([0], np.cumsum(counts_ask)[:-1])).astype(np.intp)
        closing = np.insert(np.arange(len(pts)), starts_ask + counts_ask, starts_ask)
        offsets = np.concatenate(([0], np.cumsum(counts_ask + 1)))
        lines = shapely.from_ragged_array(shapely.GeometryType.LINESTRING, pts[closing], (offsets,))
        fine[ask] = shapely.is_simple(lines)
    # (low, width, height) per ring; an unknown image size checks nothing.
    if isinstance(sizes, np.ndarray):
        w, h = sizes[good_idx, 0], sizes[good_idx, 1]
        unknown = np.isnan(w) | np.isnan(h)
        low = np.where(unknown, -np.inf, -EPS)
        high_x, high_y = np.where(unknown, np.inf, w + EPS), np.where(unknown, np.inf, h + EPS)
    else:
        limits = np.array(
            [(-EPS, w + EPS, h + EPS) if w is not None and h is not None else (-np.inf, np.inf, np.inf)
             for w, h in sizes],
            dtype=np.float64,
        )[good_idx]
        low, high_x, high_y = limits[:, 0], limits[:, 1], limits[:, 2]
    x, y = sub[:, 0], sub[:, 1]
    fine &= (np.minimum.reduceat(x, sub_starts) >= low) & (np.minimum.reduceat(y, sub_starts) >= low)
    fine &= (np.maximum.reduceat(x, sub_starts) <= high_x) & (np.maximum.reduceat(y, sub_starts) <= high_y)
    result[good_idx] = fine
    return result


def _star_simple(coords: np.ndarray, counts: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Which rings are simple because they are star-shaped around the mean of their
    vertices: every edge turns the same way around it, by less than half a turn, and the
    turns add up to one full turn. Each edge then spans its own sector around the centre,
    so no two edges meet but neighbours at their shared vertex: the ring is simple. A cheap
    sufficient test (most drawn outlines pass it); a ring that fails it is asked of GEOS.

    Each cross product must clear 1e-9 of its vectors' lengths, far above the rounding
    of the differences and products (~1e-15 relative), so a sign is never a rounding's.
    """
    ring = np.repeat(np.arange(len(counts)), counts)
    centre = np.add.reduceat(coords, starts, axis=0) / counts[:, None]
    a = coords - centre[ring]
    nxt = np.arange(len(coords)) + 1
    nxt[starts + counts - 1] = starts
    ax, ay = a[:, 0], a[:, 1]
    bx, by = ax[nxt], ay[nxt]
    cross = ax * by - ay * bx
    # |cross| > 1e-9 |a| |b|, squared (no square roots)
    clear = cross * cross > 1e-18 * (ax * ax + ay * ay) * (bx * bx + by * by)
    left = np.add.reduceat((clear & (cross > 0)).astype(np.intp), starts) == counts
    right = np.add.reduceat((clear & (cross < 0)).astype(np.intp), starts) == counts
    # every step one way, each less than half a turn: the ring winds round the centre as
    # often as it crosses the ray from it along +x (upwards when turning left, downwards
    # when turning right); once is a simple ring
    up = np.add.reduceat(((ay < 0) & (by >= 0)).astype(np.intp), starts)
    down = np.add.reduceat(((ay >= 0) & (by < 0)).astype(np.intp), starts)
    simple: np.ndarray = (left & (up == 1)) | (right & (down == 1))
    return simple


def fix_polygon(
    shape: Polygon | MultiPolygon, *, width: int | None, height: int | None, options: GeometryOptions
) -> Outcome:
    """Clean, repair, clip and split a (multi-part) polygon; see the module docstring."""
    if type(shape) is Polygon and not shape.holes:
        simple = _simple_inside(shape.exterior, width, height)
        if simple:
            return Outcome((shape,))
    given = shape.polygons if isinstance(shape, MultiPolygon) else (shape,)
    if not all(_finite(p.exterior) and all(_finite(h) for h in p.holes) for p in given):
        return _skipped("non-finite-coordinates",
                        f"polygon has a NaN, infinite or out-of-range (beyond {MAX_COORD:.0e} px) coordinate")
    fixes: list[Fix] = []
    parts: list[tuple[tuple[XY, ...], tuple[tuple[XY, ...], ...]]] = []
    removed = degenerate = 0
    for p in given:
        ext, n = _ring(p.exterior)
        removed += n
        if len(set(ext)) < 3:
            degenerate += 1
            continue
        holes = []
        for h in p.holes:
            ring, n = _ring(h)
            removed += n
            if len(set(ring)) >= 3:
                holes.append(ring)
            else:
                degenerate += 1
        parts.append((ext, tuple(holes)))
    if not parts:
        return _skipped("degenerate-polygon", "fewer than 3 distinct points")
    if removed:
        fixes.append(Fix("repaired", "duplicate-vertices", f"{removed} repeated vertex(es) removed (IoU 1.000)"))
    if degenerate:
        fixes.append(Fix("repaired", "degenerate-part", f"{degenerate} ring(s) of fewer than 3 distinct points dropped"))
    if len(parts) == 1 and not parts[0][1] and _simple_inside(parts[0][0], width, height):
        return Outcome((Polygon(exterior=parts[0][0]),), tuple(fixes))
    return _repair(parts, width=width, height=height, options=options, fixes=fixes)


def _drop_slivers(region: shapely.Geometry, min_area: float, fixes: list[Fix]) -> shapely.Geometry:
    """``region`` without the parts smaller than ``min_area`` (reported with their areas), as
    long as one part remains: slivers a repair or a clip leaves are not objects."""
    pieces = _polygons_of(region)
    small = [p for p in pieces if p.area < min_area]
    if not small or len(small) == len(pieces):
        return region
    areas = ", ".join(f"{p.area:.3g}" for p in sorted(small, key=lambda p: p.area))
    fixes.append(Fix("repaired", "sliver-dropped",
                     f"{len(small)} part(s) below {min_area:g} px² dropped (area {areas} px²)"))
    return shapely.union_all([p for p in pieces if p.area >= min_area])


def _repair(
    parts: list[tuple[tuple[XY, ...], tuple[tuple[XY, ...], ...]]],
    *,
    width: int | None,
    height: int | None,
    options: GeometryOptions,
    fixes: list[Fix],
) -> Outcome:
    originals, repaired, reasons = [], [], []
    for ext, holes in parts:
        poly = shapely.Polygon(ext, holes)
        if poly.is_valid:
            originals.append(poly)
            repaired.append(poly)
            continue
        reasons.append(shapely.is_valid_reason(poly).split("[")[0].strip().lower())
        original = _enclosed(ext)
        for h in holes:
            original = shapely.difference(original, _enclosed(h))
        originals.append(original)
        repaired.append(shapely.make_valid(poly))
    original = shapely.union_all(originals)
    region = shapely.union_all(repaired)
    if shapely.area(region) <= 0:
        return _skipped("zero-area-polygon", "polygon encloses no area", fixes)
    if reasons:
        region = _drop_slivers(region, options.min_part_area, fixes)
        fixes.append(Fix("repaired", "invalid-polygon",
                         f"invalid polygon ({', '.join(sorted(set(reasons)))}) repaired with make_valid "
                         f"(IoU {_iou(original, region):.3f})"))
    if width is not None and height is not None:
        frame = shapely.box(0, 0, width, height)
        if not shapely.covers(shapely.buffer(frame, EPS), region):
            clipped = shapely.intersection(region, frame)
            if shapely.area(clipped) <= 0:
                return _skipped("polygon-outside-image",
                                f"polygon has no area inside the {_size(width, height)} image", fixes)
            clipped = _drop_slivers(clipped, options.min_part_area, fixes)
            fixes.append(Fix("clipped", "polygon-clipped",
                             f"polygon clipped to the {_size(width, height)} image (IoU {_iou(region, clipped):.3f})"))
            region = clipped
    pieces = _polygons_of(region)
    if len(pieces) < len(parts):
        fixes.append(Fix("merged", "overlapping-parts", f"{len(parts)} overlapping parts merged into {len(pieces)}"))
    n_holes = sum(len(p.interiors) for p in pieces)
    sized = width is not None and height is not None
    if n_holes and options.holes == "mask" and sized:
        fixes.append(Fix("converted", "holes-as-mask",
                         f"polygon with {n_holes} hole(s) written as a mask (Labelbox polygons have no holes)"))
        return Outcome((polygon_mask(pieces, width=width, height=height),), tuple(fixes))  # type: ignore[arg-type]
    if len(pieces) > 1 and options.parts == "mask" and sized:
        fixes.append(Fix("converted", "parts-as-mask", f"object of {len(pieces)} parts written as one mask"))
        return Outcome((polygon_mask(pieces, width=width, height=height),), tuple(fixes))  # type: ignore[arg-type]
    if n_holes:
        outer = [shapely.Polygon(p.exterior) for p in pieces]
        why = "--holes outer" if options.holes == "outer" else "image size unknown, no mask possible"
        fixes.append(Fix("repaired", "holes-dropped",
                         f"{n_holes} hole(s) filled, outer ring only ({why}; "
                         f"IoU {_iou(region, shapely.union_all(outer)):.3f})"))
        pieces = outer
    if len(pieces) > 1:
        why = "" if options.parts == "polygons" else " (image size unknown, no mask possible)"
        fixes.append(Fix("split", "multipart-split", f"object of {len(pieces)} parts written as {len(pieces)} polygons{why}"))
    out = tuple(Polygon(exterior=_unclosed(p.exterior.coords)) for p in pieces)
    return Outcome(out, tuple(fixes))
