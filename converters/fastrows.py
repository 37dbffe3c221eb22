"""The fast lane of row building: plain image boxes and valid polygons (issue 16).

A val2017-sized COCO file is ~37k boxes and polygons, nearly all already valid and inside
their image; the general path (:func:`converters.geometry.fix_shape`, one payload function
per shape, a repair check per shape) spends most of a conversion on them. Each
trick here is a named function with a differential test against the plain way it replaces
(``tests/test_fastrows.py``); whatever a trick cannot vouch for (a box to clip, a polygon
to repair, a shape that collapses at the output's precision) returns ``None`` and takes the
general path, which reports it exactly as before. ``LBCONVERT_NO_FAST_PATH=1`` turns the
lane off (:func:`enabled`), so the two can be compared byte for byte.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from typing import Any

import numpy as np

from . import geometry
from ._fast import enabled
from .model import Box, Polygon

__all__ = ["box_payload", "enabled", "plain_rings", "polygon_points"]


def box_payload(box: Box, width: int | None, height: int | None) -> dict[str, Any] | None:
    """The ``bbox`` payload of a box that :func:`geometry.fix_box` would pass unchanged (not
    inverted, with area, inside its image) and that keeps its extent at 4 decimals; ``None``
    for every other box (the general path repairs and reports it)."""
    x0, y0, x1, y1 = box.x_min, box.y_min, box.x_max, box.y_max
    if not (x0 < x1 and y0 < y1):
        return None
    if width is not None and height is not None and not (
        0.0 <= x0 and 0.0 <= y0 and x1 <= width and y1 <= height
        and x1 - x0 > geometry.EPS and y1 - y0 > geometry.EPS
    ):
        return None
    w, h = round(x1 - x0, 4) + 0.0, round(y1 - y0, 4) + 0.0
    if not (w > 0 and h > 0):
        return None
    return {"bbox": {"top": round(y0, 4) + 0.0, "left": round(x0, 4) + 0.0, "height": h, "width": w}}


def polygon_points(items: Sequence[tuple[Polygon, int | None, int | None]]) -> dict[int, list[dict[str, float]]]:
    """``id(polygon) -> rounded points`` for the hole-free polygons of a batch that are valid
    Labelbox polygons inside their image (the test of :func:`geometry.valid_polygons`) and
    keep a non-zero area once rounded to 4 decimals (so ``_vanishes`` cannot drop them).

    One coordinate array is built for the whole batch (``np.fromiter`` over the flattened
    rings) and serves both the validity test and the rounding; the general path builds it
    twice from tuples. Polygons left out take the general path.
    """
    chosen = [(p, w, h) for p, w, h in items if not p.holes and len(p.exterior) >= 3]
    if not chosen:
        return {}
    counts = np.fromiter((len(p.exterior) for p, _, _ in chosen), dtype=np.intp, count=len(chosen))
    total = int(counts.sum())
    try:
        coords = np.fromiter(chain.from_iterable(chain.from_iterable(p.exterior for p, _, _ in chosen)),
                             dtype=np.float64)
    except (TypeError, ValueError):  # a point that is not numbers: the general path says so
        return {}
    if coords.size != 2 * total:  # a point that is not two numbers
        return {}
    coords = coords.reshape(-1, 2)
    keep, rounded, sub, local_starts = plain_rings(coords, counts, [(w, h) for _, w, h in chosen])
    flat = rounded.tolist()
    return {id(chosen[i][0]): [{"x": px, "y": py} for px, py in flat[start : start + n]]
            for i, start, n in zip(keep.tolist(), local_starts.tolist(), sub.tolist())}


def plain_rings(
    coords: np.ndarray, counts: np.ndarray, sizes: Sequence[tuple[int | None, int | None]] | np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Which of the rings (``counts`` points each, in one ``(n, 2)`` array, on images of
    ``sizes``) are written as they are: valid Labelbox polygons inside their image
    (:func:`geometry.valid_rings`) that keep a non-zero area once rounded to 4 decimals.

    Returns ``(kept, rounded, counts, starts)``: the kept rings' numbers, their points
    rounded (one array, ring after ring), and each kept ring's point count and first row
    in ``rounded``.
    """
    flags = geometry.valid_rings(coords, counts, sizes)
    rounded = np.round(coords[np.repeat(flags, counts)], 4) + 0.0
    sub = counts[flags]
    local_starts = np.concatenate(([0], np.cumsum(sub)[:-1])).astype(np.intp)
    keep = np.flatnonzero(flags)
    if not len(keep):
        return keep, rounded, sub, local_starts
    # Shoelace area of each rounded ring: non-zero means 3+ distinct, non-collinear points.
    x, y = rounded[:, 0], rounded[:, 1]
    nxt = np.arange(len(rounded)) + 1
    nxt[local_starts + sub - 1] = local_starts
    cross = x * y[nxt] - x[nxt] * y
    area = np.add.reduceat(cross, local_starts)
    if (area != 0.0).all():
        return keep, rounded, sub, local_starts
    alive = area != 0.0
    rows = np.repeat(alive, sub)
    sub = sub[alive]
    return keep[alive], rounded[rows], sub, np.concatenate(([0], np.cumsum(sub)[:-1])).astype(np.intp)


def round4(values: np.ndarray) -> np.ndarray:
    """``round(v, 4) + 0.0`` of every value, exactly as Python rounds (the box payload's
    rounding), computed in numpy.

    ``np.round`` scales, rounds and scales back, which differs from Python's correctly
    rounded ``round()`` where ``v * 10**4`` lies within a rounding error of a half (5-decimal
    values ending in 5 do). Away from a half both find the same integer, and dividing it by
    10**4 is the same correctly rounded division; the few values near a half (or too large
    to scale exactly) are rounded by Python itself (tests/test_fastrows.py compares them).
    """
    scaled = values * 10000.0
    out = np.rint(scaled) / 10000.0
    near_half = np.abs(scaled - np.floor(scaled) - 0.5) <= np.abs(scaled) * 2.0**-50 + 2.0**-1000
    risky = np.flatnonzero(near_half | ~(np.abs(scaled) < 2.0**52))
    if len(risky):
        out[risky] = [round(v, 4) for v in values[risky].tolist()]
    return out + 0.0
