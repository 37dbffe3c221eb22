"""Geometry repair: make every shape one Labelbox accepts, and say what changed.

Interface used by the pipeline (stable): :func:`fix_shape` takes one shape and the image
size and returns an :class:`Outcome` with the shapes to write (none = skipped), the fixes
made (each becomes a report entry) and, when skipped, why.

This first version only splits multi-part polygons and drops degenerate ones; the geometry
issue replaces the internals with shapely-backed repairs.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import Box, MultiPolygon, Point, Polygon, Polyline, Shape

__all__ = ["Fix", "GeometryOptions", "Outcome", "fix_shape"]


@dataclass(frozen=True, slots=True, kw_only=True)
class GeometryOptions:
    """What to do with shapes Labelbox would reject.

    Attributes:
        parts: a multi-part object becomes several ``polygons`` rows or one ``mask``.
        holes: a polygon with holes becomes a ``mask`` or keeps its ``outer`` ring only.
        points_outside: points outside the image are kept (``keep``) or dropped (``drop``).
    """

    parts: str = "polygons"
    holes: str = "mask"
    points_outside: str = "keep"


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


def fix_shape(
    shape: Shape, *, width: int | None, height: int | None, options: GeometryOptions
) -> Outcome:
    """Repair one shape for an image of ``width`` x ``height`` (None when unknown)."""
    if isinstance(shape, MultiPolygon):
        parts = tuple(p for p in shape.polygons if len(set(p.exterior)) >= 3)
        if not parts:
            return Outcome((), skip=Fix("skipped", "degenerate-polygon", "no part has 3 distinct points"))
        if len(parts) == 1:
            return Outcome(parts)
        return Outcome(
            parts,
            (Fix("split", "multipart-split", f"object of {len(parts)} parts written as {len(parts)} polygons"),),
        )
    if isinstance(shape, Polygon) and len(set(shape.exterior)) < 3:
        return Outcome((), skip=Fix("skipped", "degenerate-polygon", "fewer than 3 distinct points"))
    if isinstance(shape, Polyline) and len(shape.points) < 2:
        return Outcome((), skip=Fix("skipped", "degenerate-polyline", "fewer than 2 points"))
    if isinstance(shape, (Box, Point, Polygon, Polyline)):
        return Outcome((shape,))
    return Outcome((shape,))
