"""A DICOM data row: polyline tracks and mask tracks, each in a view (group key).

Masks of one view share one row: a composite PNG per frame, each track in its own colour.
"""

from __future__ import annotations

import sys

import numpy as np
from _common import run

from converters import (
    Asset,
    GroupKey,
    Keyframe,
    Mask,
    Media,
    Polyline,
    Segment,
    SourceRef,
    VideoObject,
)

SRC = SourceRef(file="study-1.json")
SIZE = 64


def disc(cx: int, cy: int, r: int) -> Mask:
    yy, xx = np.mgrid[:SIZE, :SIZE]
    pixels = ((xx - cx) ** 2 + (yy - cy) ** 2 <= r * r).astype(np.uint8)
    return Mask(width=SIZE, height=SIZE, load=lambda: pixels)


SCAN = Asset(
    name="scan-0001.dcm",
    media=Media.DICOM,
    source=SRC,
    annotations=(
        VideoObject(key="l1", source=SRC, label="vessel", group_key=GroupKey.AXIAL, segments=(
            Segment(keyframes=(Keyframe(frame=1, shape=Polyline(points=((10, 10), (40, 22)))),
                               Keyframe(frame=3, shape=Polyline(points=((12, 10), (42, 25)))))),
        )),
        VideoObject(key="l2", source=SRC, label="vessel", group_key=GroupKey.SAGITTAL, segments=(
            Segment(keyframes=(Keyframe(frame=2, shape=Polyline(points=((5, 5), (30, 50)))),)),
        )),
        VideoObject(key="m1", source=SRC, label="lesion", group_key=GroupKey.AXIAL, segments=(
            Segment(keyframes=(Keyframe(frame=1, shape=disc(20, 20, 6)), Keyframe(frame=2, shape=disc(21, 20, 7)))),
        )),
        VideoObject(key="m2", source=SRC, label="organ", group_key=GroupKey.AXIAL, segments=(
            Segment(keyframes=(Keyframe(frame=1, shape=disc(45, 40, 10)),)),
        )),
    ),
)

if __name__ == "__main__":
    sys.exit(run([SCAN], sys.argv[1:], "dicom"))
