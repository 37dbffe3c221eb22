"""Tracks to Labelbox segments and keyframes: pure functions, no XML.

A CVAT video export lists a track on *every* frame it covers: rows a person set
(``keyframe="1"``) and rows CVAT interpolated (``keyframe="0"``), with ``outside="1"`` rows
ending a visible stretch. Labelbox stores a track as segments of keyframes and interpolates
linearly between consecutive keyframes of a segment (a box by its top/left/height/width, a
point or line vertex by vertex); a segment ends at its last keyframe.

So for each visible stretch we keep: its first and last rows (the segment's extent), every
row CVAT marks as a keyframe, every row whose classifications differ from the previous one
(a mutable attribute changed), and then, Douglas-Peucker style, any row that Labelbox's
interpolation between the kept rows would miss by more than ``tolerance`` pixels. The result
reproduces every visible CVAT row within the tolerance (tested by re-interpolating).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["TrackRow", "interpolate", "select_keyframes", "split_segments", "track_keyframes"]

Coords = tuple[float, ...]


@dataclass(frozen=True, slots=True)
class TrackRow:
    """One row of a track: its frame, flags, flat vertex coordinates and a payload.

    ``coords`` is ``(x0, y0, x1, y1, ...)``: a box as its two corners, a point as one vertex.
    ``payload`` is whatever the caller builds the keyframe from; ``tag`` compares rows'
    classifications (a change forces a keyframe).
    """

    frame: int
    outside: bool
    keyframe: bool
    coords: Coords
    payload: Any = None
    tag: Any = None


def split_segments(rows: Sequence[TrackRow]) -> list[list[TrackRow]]:
    """Visible stretches of a track, in frame order; ``outside`` rows separate them."""
    segments: list[list[TrackRow]] = []
    current: list[TrackRow] = []
    for row in sorted(rows, key=lambda r: r.frame):
        if row.outside:
            if current:
                segments.append(current)
            current = []
        else:
            current.append(row)
    if current:
        segments.append(current)
    return segments


def interpolate(frame: float, f0: int, c0: Coords, f1: int, c1: Coords) -> Coords:
    """Labelbox's linear interpolation of flat coordinates between two keyframes."""
    if f1 == f0:
        return c0
    t = (frame - f0) / (f1 - f0)
    return tuple(a + (b - a) * t for a, b in zip(c0, c1))


def _error(actual: Coords, predicted: Coords) -> float:
    """Largest vertex distance, in pixels."""
    if len(actual) != len(predicted):
        return math.inf
    worst = 0.0
    for i in range(0, len(actual) - 1, 2):
        d = math.hypot(actual[i] - predicted[i], actual[i + 1] - predicted[i + 1])
        worst = max(worst, d)
    return worst


def select_keyframes(
    frames: Sequence[int],
    coords: Sequence[Coords],
    forced: set[int] | frozenset[int] = frozenset(),
    tolerance: float = 0.5,
) -> list[int]:
    """Indexes of the rows to keep as keyframes (sorted).

    ``frames`` ascending, ``coords`` per row, ``forced`` indexes that must be kept (the first
    and last are always kept). A dropped row is reproduced by linear interpolation between
    its kept neighbours within ``tolerance`` px; rows whose vertex count differs from a
    neighbour's cannot be interpolated and are kept.
    """
    n = len(frames)
    if n == 0:
        return []
    keep = {0, n - 1} | {i for i in forced if 0 <= i < n}
    anchors = sorted(keep)
    stack = list(zip(anchors, anchors[1:]))
    while stack:
        a, b = stack.pop()
        if b - a < 2:
            continue
        worst, where = -1.0, -1
        if len(coords[a]) != len(coords[b]):
            worst, where = math.inf, a + 1
        else:
            for i in range(a + 1, b):
                e = _error(coords[i], interpolate(frames[i], frames[a], coords[a], frames[b], coords[b]))
                if e > worst:
                    worst, where = e, i
        if worst > tolerance:
            keep.add(where)
            stack.append((a, where))
            stack.append((where, b))
    return sorted(keep)


def track_keyframes(rows: Sequence[TrackRow], tolerance: float = 0.5) -> list[list[TrackRow]]:
    """Segments of kept rows for one track (see the module docstring for the rules)."""
    out: list[list[TrackRow]] = []
    for seg in split_segments(rows):
        forced = {i for i, r in enumerate(seg) if r.keyframe}
        forced |= {i for i in range(1, len(seg)) if seg[i].tag != seg[i - 1].tag}
        kept = select_keyframes([r.frame for r in seg], [r.coords for r in seg], forced, tolerance)
        out.append([seg[i] for i in kept])
    return out
