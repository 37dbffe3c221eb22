"""Rows of the non-image media: documents, geospatial, audio, conversational text, DICOM.

Each media has its own row form (``labelbox-ndjson.md`` §4): a document box carries a page
and a unit, a document entity is text-layer token ids, geospatial coordinates are
longitude/latitude with the tiled-imagery notebook's bbox (``top`` = north, negative
``height``), audio classifications carry millisecond ranges inside an ``answer`` list,
conversational rows name their message, DICOM tracks their view (``groupKey``) and DICOM
masks are one row per view with a composite PNG per frame.

:func:`form_problem` says when an annotation is not in the form its asset's media takes
(an image box on a document, a track on an image); the writer then skips it with that
reason instead of writing it in another media's shape.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import masks
from .model import (
    XY,
    Annotation,
    Box,
    Classification,
    ClassificationKind,
    DocumentEntity,
    Entity,
    GroupKey,
    Mask,
    Media,
    PageBox,
    Point,
    Polygon,
    Polyline,
    Relationship,
    Shape,
    VideoObject,
)
from .ndjson import RowContext, answer_payload, instance_colours
from .ontology import Resolved

__all__ = [
    "GEO_DECIMALS",
    "DicomMasks",
    "document_payload",
    "form_problem",
    "geo_payload",
    "geo_problem",
    "temporal_payload",
]

#: Decimals of a geospatial coordinate: 1e-7 degree is about 1 cm on the ground (the
#: 4 decimals of pixel rows would be 11 m).
GEO_DECIMALS = 7

Reason = tuple[str, str]


def form_problem(ann: Annotation | VideoObject | Relationship, media: Media) -> Reason | None:
    """Why ``ann`` is not in the form ``media`` rows take (None when it is)."""
    if isinstance(ann, Relationship):
        return None
    if isinstance(ann, VideoObject):
        return _track_problem(ann, media)
    if ann.classification is not None:
        return _classification_problem(ann.classification, media)
    shape = ann.shape
    if media in (Media.VIDEO, Media.DICOM):
        return ("wrong-form", f"objects on {media.value} data rows are tracks (VideoObject keyframes), not single shapes")
    if isinstance(shape, (PageBox, DocumentEntity)) and media is not Media.DOCUMENT:
        what = "page boxes" if isinstance(shape, PageBox) else "token-id entities"
        return ("wrong-form", f"{what} are document annotations, not {media.value}")
    if media is Media.DOCUMENT and isinstance(shape, Box):
        return ("no-page", "document boxes need a page and a unit (PageBox), not image pixels")
    if media is Media.DOCUMENT and isinstance(shape, Entity):
        return ("no-text-layer", "document entities are token ids of the PDF's text layer (DocumentEntity), "
                "not character offsets")
    if isinstance(shape, Entity):
        if media is Media.CONVERSATIONAL and shape.message_id is None:
            return ("no-message-id", "conversational entities need the id of the message they are in")
        if media is not Media.CONVERSATIONAL and shape.message_id is not None:
            return ("wrong-form", f"message ids are conversational; {media.value} entities have none")
    return None


def _track_problem(obj: VideoObject, media: Media) -> Reason | None:
    if media not in (Media.VIDEO, Media.DICOM):
        return ("wrong-form", f"tracks (VideoObject) import on video and DICOM data rows, not {media.value}")
    if media is Media.DICOM and obj.group_key is None:
        return ("no-group-key", "DICOM tracks need a group key (axial, sagittal or coronal)")
    if media is Media.VIDEO and obj.group_key is not None:
        return ("wrong-form", "a group key is DICOM's; video tracks have none")
    first = type(obj.segments[0].keyframes[0].shape)
    if any(type(kf.shape) is not first for seg in obj.segments for kf in seg.keyframes):
        return ("mixed-track", "the keyframes of one track must all be the same kind of shape")
    return None


def _classification_problem(cls: Classification, media: Media) -> Reason | None:
    if cls.frames and media is not Media.VIDEO:
        return ("wrong-form", f"frame ranges are video's; a {media.value} classification has none")
    if cls.times_ms and media is not Media.AUDIO:
        return ("wrong-form", f"millisecond ranges are audio's; a {media.value} classification has none")
    if cls.message_id is not None and media is not Media.CONVERSATIONAL:
        return ("wrong-form", f"message ids are conversational; a {media.value} classification has none")
    return None


# --------------------------------------------------------------------------- documents


def _r(value: float) -> float:
    return round(value, 4) + 0.0


def document_payload(shape: PageBox | DocumentEntity) -> dict[str, Any]:
    """A document box (``bbox`` + ``page`` + ``unit``) or entity (``textSelections``)."""
    if isinstance(shape, PageBox):
        x0, x1 = sorted((shape.x_min, shape.x_max))
        y0, y1 = sorted((shape.y_min, shape.y_max))
        return {
            "bbox": {"top": _r(y0), "left": _r(x0), "height": _r(y1 - y0), "width": _r(x1 - x0)},
            "page": shape.page,
            "unit": shape.unit.value,
        }
    return {
        "textSelections": [
            {"tokenIds": list(s.token_ids), "groupId": s.group_id, "page": s.page} for s in shape.selections
        ]
    }


# --------------------------------------------------------------------------- geospatial


def _g(value: float) -> float:
    return round(value, GEO_DECIMALS) + 0.0


def _lonlat(points: Sequence[XY]) -> list[dict[str, float]]:
    return [{"x": _g(x), "y": _g(y)} for x, y in points]


def geo_problem(shape: Shape) -> Reason | None:
    """A coordinate outside longitude [-180, 180] / latitude [-90, 90] (likely pixels or
    swapped axes): skipped rather than put somewhere on the globe it does not belong."""
    points: list[XY]
    if isinstance(shape, Box):
        points = [(shape.x_min, shape.y_min), (shape.x_max, shape.y_max)]
    elif isinstance(shape, Point):
        points = [(shape.x, shape.y)]
    elif isinstance(shape, Polyline):
        points = list(shape.points)
    elif isinstance(shape, Polygon):
        points = list(shape.exterior)
    else:
        return None
    for x, y in points:
        if not (-180.0 <= x <= 180.0 and -90.0 <= y <= 90.0):
            return ("out-of-range", f"({x:g}, {y:g}) is not a longitude/latitude in degrees (EPSG:4326)")
    return None


def geo_payload(shape: Box | Point | Polyline | Polygon) -> dict[str, Any]:
    """Longitude/latitude geometry. A box follows Labelbox's tiled-imagery example: ``top``
    is the north edge, ``left`` the west edge, ``height`` = south - north (negative) and
    ``width`` = east - west (``labelbox-ndjson.md`` §4.5)."""
    if isinstance(shape, Box):
        west, east = sorted((shape.x_min, shape.x_max))
        south, north = sorted((shape.y_min, shape.y_max))
        return {"bbox": {"top": _g(north), "left": _g(west), "height": _g(south - north), "width": _g(east - west)}}
    if isinstance(shape, Point):
        return {"point": {"x": _g(shape.x), "y": _g(shape.y)}}
    if isinstance(shape, Polyline):
        return {"line": _lonlat(shape.points)}
    return {"polygon": _lonlat(shape.exterior)}


# --------------------------------------------------------------------------- audio


def temporal_payload(resolved: Resolved, ctx: RowContext) -> dict[str, Any]:
    """An audio classification over millisecond ranges: ``answer`` is always a list whose
    items carry the ranges (``{"value", "frames"}`` for free text)."""
    cls = resolved.classification
    out: dict[str, Any] = ctx.ref(cls.name, resolved.definition.schema_id)
    ranges = [{"start": s, "end": e} for s, e in cls.times_ms]
    if cls.kind is ClassificationKind.TEXT:
        out["answer"] = [{"value": cls.text, "frames": ranges}]
    else:
        out["answer"] = [
            {**answer_payload(a, ctx), "frames": ranges} for a in resolved.answers
        ]
    if cls.confidence is not None and ctx.keep_confidence:
        out["confidence"] = round(cls.confidence, 6)
    return out


# --------------------------------------------------------------------------- DICOM masks


@dataclass
class _Instance:
    name: str
    obj: VideoObject
    index: int  # the writer's row index (the tracks of one group key share one row)


class DicomMasks:
    """The mask tracks of one DICOM asset, per view: one ``masks`` row per group key, a
    composite PNG per frame (every instance of that frame in its own colour)."""

    def __init__(self) -> None:
        self.instances: dict[GroupKey, list[_Instance]] = {}

    def add(self, obj: VideoObject, tool_name: str, index: int) -> None:
        assert obj.group_key is not None
        self.instances.setdefault(obj.group_key, []).append(_Instance(tool_name, obj, index))

    def rows(self) -> list[tuple[GroupKey, dict[str, Any], list[VideoObject]]]:
        """Per group key: the ``masks`` payload, and the tracks left out of it (no pixel in
        any frame's composite: empty, covered by later instances, or another size)."""
        out = []
        for group, items in self.instances.items():
            colours = instance_colours(len(items))
            frames: dict[int, list[tuple[int, Mask]]] = {}
            for n, item in enumerate(items):
                for seg in item.obj.segments:
                    for kf in seg.keyframes:
                        assert isinstance(kf.shape, Mask)
                        frames.setdefault(kf.frame, []).append((n, kf.shape))
            palette = np.array([(0, 0, 0), *colours], dtype=np.uint8)
            seen: set[int] = set()
            payload_frames = []
            for frame in sorted(frames):
                entries = frames[frame]
                h, w = entries[0][1].height, entries[0][1].width
                label = np.zeros((h, w), dtype=np.int32)
                for n, mask in entries:
                    if (mask.height, mask.width) == (h, w):
                        label[masks.decode(mask) != 0] = n + 1
                present = {int(v) - 1 for v in np.unique(label) if v}
                if not present:
                    continue
                seen |= present
                png = masks.encode_rgb_png(palette[label])
                payload_frames.append({"index": frame, "imBytes": base64.b64encode(png).decode("ascii")})
            payload = {
                "groupKey": group.value,
                "masks": {
                    "frames": payload_frames,
                    "instances": [
                        {"colorRGB": list(colours[n]), "name": items[n].name} for n in range(len(items)) if n in seen
                    ],
                },
            }
            out.append((group, payload, [items[n].obj for n in range(len(items)) if n not in seen]))
        return out
