"""The plain-object lane of the COCO reader (issue 16): most objects are a box or one polygon.

A val2017 object is ``{id, image_id, category_id, bbox, segmentation, area, iscrowd}`` with
a box or a single polygon and nothing else: no attributes, score, keypoints or crowd. Such
an annotation is built here in a few type tests, without the general reader's dispatch
(:meth:`ObjectReader.annotations`); anything else (or anything this lane is unsure of)
returns ``None`` and takes the general way, which also raises the one-line errors. The lane
takes one raw annotation dict at a time, so it serves a per-image group or a streamed one
alike. ``tests/readers/test_coco_plain.py`` checks it gives what the general way gives.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...model import Annotation, Box, Polygon, SourceRef
from ._objects import Category, CocoFile, finite

__all__ = ["PLAIN_KEYS", "plain_annotation"]

#: The keys a plain object may have; any other (attributes, score, keypoints...) means the general way.
PLAIN_KEYS = frozenset({"id", "image_id", "category_id", "bbox", "segmentation", "area", "iscrowd"})
_NUMBERS = {int, float}


def plain_annotation(f: CocoFile, ann: Mapping[str, Any], cat: Category) -> Annotation | None:
    """The model annotation of a plain COCO object under ``--coco-geometry auto`` (a box
    when the segmentation is empty, else its one polygon), or ``None`` when it is not plain."""
    if "id" not in ann or not PLAIN_KEYS.issuperset(ann) or ann.get("iscrowd") in (1, True):
        return None
    seg = ann.get("segmentation")
    shape: Box | Polygon
    if seg is None or (type(seg) is list and not seg):
        bbox = ann.get("bbox")
        if not (type(bbox) is list and len(bbox) == 4 and set(map(type, bbox)) <= _NUMBERS and finite(bbox)):
            return None
        x, y, w, h = bbox
        try:
            shape = Box.from_xywh(float(x), float(y), float(w), float(h))
        except ValueError:
            return None
    elif type(seg) is list and len(seg) == 1:
        flat = seg[0]
        if type(flat) is not list or len(flat) % 2 or not set(map(type, flat)) <= _NUMBERS or not finite(flat):
            return None
        shape = Polygon(exterior=tuple(zip(flat[0::2], flat[1::2])))
    else:
        return None
    ident = ann["id"]
    return Annotation(key=f"{f.role or f.kind}:{ident}", source=SourceRef(file=f.name, annotation_id=str(ident)),
                      label=cat.name, shape=shape)
