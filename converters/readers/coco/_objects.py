"""COCO object annotations -> model annotations: boxes, polygons, RLE, crowd, keypoints.

Shared by the instances/keypoints files and the results files (see coco.py). Checks are
plain type tests on the hot path (a val2017 file has ~37k objects); every bad value is a
one-line InvalidFieldError naming the file and the annotation id.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ... import masks
from ...errors import InvalidFieldError, ParseError
from ...model import (
    Annotation,
    Box,
    Classification,
    Kind,
    Mask,
    MultiPolygon,
    Point,
    Polygon,
    SourceRef,
)
from ...report import Report

__all__ = ["Category", "CocoFile", "ImageEntry", "ObjectReader"]

_NUMBER_TYPES = {int, float}


@dataclass(slots=True)
class CocoFile:
    """One parsed COCO JSON file and what kind of file it is."""

    path: Path
    data: Any
    split: str
    kind: str = "instances"  # instances | keypoints | labels | captions | panoptic | results
    name: str = ""
    stem: str = ""
    #: Position among the run's results files: keys of rows without an id (results rows),
    #: so they never depend on the file's name (a renamed export keeps its uuids).
    ordinal: int = 0
    #: What the file holds within its split, from the name's prefix (``instances``, ``stuff``,
    #: ``person_keypoints``) or else its kind: ids are unique per file, not per split (stuff
    #: and instances files both count from 1), so keys are ``role:id``. A renamed export
    #: (``instances_default`` -> ``instances_fixed``) keeps its role, hence its uuids.
    role: str = ""

    def __post_init__(self) -> None:
        self.name, self.stem = str(self.path), self.path.stem


@dataclass(frozen=True, slots=True)
class ImageEntry:
    """One ``images`` entry as the reader keeps it: its id, the file that listed it, and its
    size (``None`` when the entry has none and ``--images`` gives none)."""

    id: Any
    file: Path
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True, slots=True)
class Category:
    """A category entry: its name, keypoint names (may be empty) and isthing (panoptic)."""

    name: str
    keypoints: tuple[str, ...] = ()
    isthing: bool = True


@dataclass(frozen=True, slots=True)
class Pending:
    """A raw annotation waiting for its image to be yielded (built then, not before)."""

    file: CocoFile
    ann: Mapping[str, Any]
    index: int
    cats: Mapping[str, Category]
    #: ``None`` for a panoptic entry (its segments name their own categories).
    cat: Category | None
    #: False for a keypoints annotation whose object is already in an instances file.
    shapes: bool


@dataclass(slots=True)
class ObjectReader:
    """Turns one COCO object annotation into model annotations, with the reader's options.

    Attributes:
        geometry: auto | bbox | segmentation | both (``--coco-geometry``).
        crowd: mask | keep | skip (``--coco-crowd``).
        keypoint_name: template of keypoint class names (``{class}``, ``{keypoint}``, ``{index}``).
        report: where drops and changes go.
    """

    geometry: str
    crowd: str
    keypoint_name: str
    report: Report
    _skeleton_noted: set[str] = field(default_factory=set)

    def annotations(
        self,
        f: CocoFile,
        ann: Mapping[str, Any],
        index: int,
        loc: str,
        cat: Category,
        image: ImageEntry,
        *,
        shapes: bool = True,
        confidence: float | None = None,
    ) -> list[Annotation]:
        """Objects of one annotation: its geometry (unless ``shapes`` is False, for a keypoints
        file repeating an instances object) and one point per labelled keypoint."""
        has_id = "id" in ann
        ref = SourceRef(file=f.name, annotation_id=str(ann["id"]) if has_id else None,
                        element=None if has_id else f"annotations[{index}]" if f.kind != "results" else f"[{index}]")
        # The annotation's identity inside its dataset, never the file's path or name: a
        # renamed or corrected export keeps its uuids (a re-import overrides, not duplicates).
        key = f"{f.role or f.kind}:{ann['id']}" if has_id else f"{f.kind}{f.ordinal}#{index}"
        label = cat.name
        seg = ann.get("segmentation")
        bbox = ann.get("bbox")
        kps = ann.get("keypoints")
        has_seg = seg is not None and seg != [] and seg != {}
        has_box = bbox is not None and bbox != []
        if not has_seg and not has_box and kps is None:
            raise ParseError(f.path, "annotation has neither bbox nor segmentation", location=loc)
        if confidence is None:
            confidence = _score(f, ann.get("score"), loc)
        attrs = _attributes(f, ann.get("attributes"), loc)
        out: list[Annotation] = []
        if shapes and (has_seg or has_box):
            for suffix, shape in self._shapes(f, ann, loc, ref, image, seg, bbox, has_seg, has_box):
                out.append(Annotation(key=key + suffix, source=ref, label=label, shape=shape,
                                      classifications=attrs, confidence=confidence))
        if kps is not None:
            out.extend(self._keypoints(f, kps, loc, ref, key, cat, confidence, attrs))
        return out

    def _shapes(
        self, f: CocoFile, ann: Mapping[str, Any], loc: str, ref: SourceRef, image: ImageEntry,
        seg: Any, bbox: Any, has_seg: bool, has_box: bool,
    ) -> list[tuple[str, Any]]:
        crowd = ann.get("iscrowd") in (1, True)
        if crowd and self.crowd == "skip":
            kind = Kind.MASK if isinstance(seg, dict) else Kind.POLYGON if has_seg else Kind.BBOX
            self.report.skip_unread(ref, kind, "crowd-skipped", "iscrowd region skipped (--coco-crowd skip)")
            return []
        want = self.geometry
        shapes: list[tuple[str, Any]] = []
        if want in ("segmentation", "both") or (want == "auto" and has_seg):
            if has_seg:
                shape = self._segmentation(f, seg, loc, image)
                if crowd and self.crowd == "mask" and not isinstance(shape, Mask):
                    shape = self._crowd_mask(shape, ref, image)
                shapes.append(("", shape))
            elif want == "segmentation":
                self.report.skip_unread(ref, Kind.POLYGON, "no-segmentation",
                                        "annotation has no segmentation (--coco-geometry segmentation)")
        if want in ("bbox", "both") or (want == "auto" and not has_seg):
            if not has_box:
                self.report.skip_unread(ref, Kind.BBOX, "no-bbox", "annotation has no bbox")
            else:
                if crowd and not has_seg:
                    self.report.change(ref, Kind.BBOX, "changed", "crowd-without-mask",
                                       "iscrowd region has no segmentation: written as its box")
                shapes.append((":bbox" if want == "both" else "", _box(f, bbox, loc)))
        return shapes

    def _crowd_mask(self, shape: Polygon | MultiPolygon, ref: SourceRef, image: ImageEntry) -> Any:
        """A crowd region drawn as polygons becomes the mask COCO itself would rasterise."""
        width, height = image.width, image.height
        if width is None or height is None:
            self.report.change(ref, Kind.POLYGON, "changed", "crowd-kept-as-polygon",
                               "iscrowd polygons kept as polygons: image size unknown, no mask possible")
            return shape
        parts = shape.polygons if isinstance(shape, MultiPolygon) else (shape,)
        rings = tuple((p.exterior, ()) for p in parts)
        self.report.change(ref, Kind.POLYGON, "converted", "crowd-as-mask",
                           "iscrowd polygons written as one mask (COCO's crowd semantics)")
        return Mask(width=width, height=height, load=lambda: masks.rasterize(rings, width=width, height=height))

    def _segmentation(self, f: CocoFile, seg: Any, loc: str, image: ImageEntry) -> Any:
        if type(seg) is dict:
            return rle_mask(f, seg, loc, image)
        if type(seg) is not list:
            raise InvalidFieldError(f.path, "segmentation", "is neither a list of polygons nor an RLE object", location=loc)
        polygons = []
        for part, flat in enumerate(seg):
            if type(flat) is not list:
                raise InvalidFieldError(f.path, "segmentation", "is neither a list of polygons nor an RLE object", location=loc)
            if len(flat) % 2:
                raise InvalidFieldError(
                    f.path, "segmentation", f"polygon {part} has an odd number of coordinates ({len(flat)})", location=loc
                )
            if not set(map(type, flat)) <= _NUMBER_TYPES or not finite(flat):
                raise InvalidFieldError(f.path, "segmentation", f"polygon {part} holds a non-number or a number "
                                        "beyond float range", location=loc)
            polygons.append(Polygon(exterior=tuple(zip(flat[0::2], flat[1::2]))))
        if len(polygons) == 1:
            return polygons[0]
        return MultiPolygon(polygons=tuple(polygons))

    def _keypoints(
        self, f: CocoFile, kps: Any, loc: str, ref: SourceRef, key: str, cat: Category, confidence: float | None,
        attrs: tuple[Classification, ...] = (),
    ) -> list[Annotation]:
        """One point per labelled keypoint; each carries the object's attributes (a keypoint
        row is the object, as a CVAT skeleton node carries its skeleton's), plus its own
        ``visibility`` when occluded."""
        if type(kps) is not list or len(kps) % 3 or any(type(v) not in _NUMBER_TYPES for v in kps) or not finite(kps):
            raise InvalidFieldError(f.path, "keypoints", "must be a flat list [x1, y1, v1, x2, y2, v2, ...]", location=loc)
        n = len(kps) // 3
        if cat.keypoints and len(cat.keypoints) != n:
            raise InvalidFieldError(
                f.path, "keypoints", f"has {n} points but category {cat.name!r} names {len(cat.keypoints)}", location=loc
            )
        out = []
        for i in range(n):
            x, y, v = kps[3 * i : 3 * i + 3]
            if v == 0:
                self.report.tally("keypoint-absent")
                continue
            if v not in (1, 2):
                raise InvalidFieldError(f.path, "keypoints", f"visibility of point {i + 1} is {v!r}, not 0, 1 or 2",
                                        location=loc)
            name = cat.keypoints[i] if cat.keypoints else str(i + 1)
            label = self.keypoint_name.format_map({"class": cat.name, "keypoint": name, "index": i + 1})
            own = (Classification.radio("visibility", "occluded"),) if v == 1 else ()
            nested = (*(a for a in attrs if not (own and a.name == "visibility")), *own)
            try:
                point = Point(x=float(x), y=float(y))
            except ValueError as exc:
                raise InvalidFieldError(f.path, "keypoints", str(exc), location=loc) from None
            out.append(Annotation(key=f"{key}:kp{i + 1}", source=ref, label=label, shape=point,
                                  classifications=nested, confidence=confidence))
        return out


def rle_mask(f: CocoFile, seg: Mapping[str, Any], loc: str, image: ImageEntry) -> Mask:
    """An RLE segmentation as a lazy Mask, checked against the image (no pixels decoded)."""
    reason = masks.check_rle(seg, width=image.width, height=image.height, deep=True)
    if reason:
        if "differs from the image" in reason:
            raise ParseError(f.path, reason, location=loc)
        raise InvalidFieldError(f.path, "segmentation", reason, location=loc)
    height, width = seg["size"]
    return Mask(width=width, height=height, rle={"size": [height, width], "counts": seg["counts"]})


def _box(f: CocoFile, bbox: Any, loc: str) -> Box:
    if not (type(bbox) is list and len(bbox) == 4 and set(map(type, bbox)) <= _NUMBER_TYPES and finite(bbox)):
        raise InvalidFieldError(f.path, "bbox", f"must be [x, y, width, height], got {bbox!r}", location=loc)
    try:
        return Box.from_xywh(*(float(v) for v in bbox))
    except ValueError as exc:
        raise InvalidFieldError(f.path, "bbox", str(exc), location=loc) from None


def finite(values: list[Any]) -> bool:
    """Whether every number is finite and their sum fits a float: rejects NaN / Infinity
    (Python's JSON parser accepts them) and 400-digit integers (an OverflowError later), at
    the cost of one C-speed ``fsum`` on the hot path."""
    try:
        return math.isfinite(math.fsum(values))
    except (OverflowError, TypeError):
        return False


def _attributes(f: CocoFile, attrs: Any, loc: str) -> tuple[Classification, ...]:
    if attrs is None:
        return ()
    if not isinstance(attrs, dict):
        raise InvalidFieldError(f.path, "attributes", "must be an object", location=loc)
    out = []
    for name in sorted(attrs):
        value = attrs[name]
        if isinstance(value, bool):
            out.append(Classification.radio(name, "true" if value else "false"))
        elif isinstance(value, str):
            if value.strip():
                out.append(Classification.radio(name, value))
        elif isinstance(value, (int, float)):
            out.append(Classification.free_text(name, f"{value:g}" if isinstance(value, float) else str(value)))
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            out.append(Classification.checklist(name, value))
    return tuple(out)


def _score(f: CocoFile, score: Any, loc: str) -> float | None:
    if score is None:
        return None
    if not isinstance(score, (int, float)) or isinstance(score, bool) or not 0 <= score <= 1:
        raise InvalidFieldError(f.path, "score", f"must be a number within [0, 1], got {score!r}", location=loc)
    return float(score)
