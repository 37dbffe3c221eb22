"""Turn parsed VOC objects and segmentation PNGs into model annotations.

Coordinates: the devkit writes 1-based inclusive pixel indices, so a box covering pixel
columns ``xmin..xmax`` spans ``[xmin - 1, xmax)`` in our continuous coordinates (origin 1).
0-based writers (CVAT, datumaro, Roboflow) already write continuous corners (origin 0).
Polygon vertices get the same shift as a box's top-left corner. Boxes are kept as the file
says, outside the image or inverted: the geometry stage repairs and reports them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...model import Annotation, Box, Classification, Kind, Mask, Polygon, SourceRef
from ...report import Report
from ._masks import BACKGROUND, VOID, LabelMap, PngMaskLoader, SharedPng, class_indices, instance_indices
from ._annotation import VocObject

__all__ = ["BuildOptions", "class_masks", "instance_masks", "object_annotations"]

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


@dataclass(frozen=True, slots=True)
class BuildOptions:
    origin: int  # 1: devkit 1-based inclusive pixels; 0: continuous corners as written
    drop_difficult: bool
    geometry: str  # auto | bbox | both


def _flag(name: str, value: bool) -> Classification:
    return Classification.radio(name, "true" if value else "false")


def nested(obj: VocObject, report: Report) -> tuple[Classification, ...]:
    """The object's flags and attributes as nested classifications.

    ``difficult`` is always there (absent means 0 in the devkit); ``truncated``,
    ``occluded`` and ``pose`` only when the file has them; flagged ``actions`` as one
    checklist; datumaro ``<attributes>``: true/false -> radio, numbers -> free text,
    other text -> radio whose option is the value.
    """
    out = [_flag("difficult", obj.difficult)]
    if obj.truncated is not None:
        out.append(_flag("truncated", obj.truncated))
    if obj.occluded is not None:
        out.append(_flag("occluded", obj.occluded))
    if obj.pose is not None:
        out.append(Classification.radio("pose", obj.pose))
    if obj.actions:
        out.append(Classification.checklist("actions", obj.actions))
    taken = {c.name for c in out}
    for name, value in obj.attributes:
        if name in taken:
            report.tally("voc-duplicate-attribute")
            continue
        taken.add(name)
        text = value.strip()
        if not text:
            report.tally("voc-empty-attribute")
        elif text.lower() in ("true", "false"):
            out.append(Classification.radio(name, text.lower()))
        elif _NUMBER.match(text):
            out.append(Classification.free_text(name, text))
        else:
            out.append(Classification.radio(name, text))
    return tuple(out)


def _box(raw: tuple[float, float, float, float], origin: int) -> Box:
    xmin, ymin, xmax, ymax = raw
    return Box(x_min=xmin - origin, y_min=ymin - origin, x_max=xmax, y_max=ymax)


def object_annotations(
    xml: Path, obj: VocObject, o: BuildOptions, report: Report, classes: tuple[Classification, ...]
) -> tuple[list[Annotation], bool]:
    """The annotations of one ``<object>`` (its box or polygon, and its parts).

    ``classes`` are the object's nested classifications (:func:`nested`, computed once per
    object because its instance mask carries them too). Returns the annotations and whether
    the object was dropped as difficult (its parts and its instance mask follow it). Raises MissingFieldError for an object with no geometry.
    """
    from ...errors import MissingFieldError

    file = str(xml)
    src = SourceRef(file=file, line=obj.line, element=f"object {obj.index}")
    group = f"object{obj.index}"
    shapes: list[tuple[str, Box | Polygon]] = []
    want_box = obj.box is not None and (o.geometry != "auto" or obj.polygon is None)
    want_poly = obj.polygon is not None and (o.geometry != "bbox" or obj.box is None)
    if want_box:
        shapes.append((group, _box(obj.box, o.origin)))  # type: ignore[arg-type]
    if want_poly:
        pts = tuple((x - o.origin, y - o.origin) for x, y in obj.polygon)  # type: ignore[union-attr]
        shapes.append((f"{group}/polygon" if want_box else group, Polygon(exterior=pts)))
    if not shapes:
        raise MissingFieldError(xml, "<bndbox>", location=f"line {obj.line}, object {obj.index} ({obj.name!r})")
    if obj.box is not None and not want_box:
        report.tally("voc-bndbox-replaced-by-polygon")
    if obj.has_action_point:
        report.tally("voc-action-point-not-converted")
    parts = [
        (p, SourceRef(file=file, line=p.line, element=f"object {obj.index} part {p.index}")) for p in obj.parts
    ]
    if obj.difficult and o.drop_difficult:
        msg = f"difficult {obj.name!r} dropped (--voc-difficult drop)"
        for _, shape in shapes:
            report.skip_unread(src, Kind.POLYGON if isinstance(shape, Polygon) else Kind.BBOX, "voc-difficult-dropped", msg)
        for _, psrc in parts:
            report.skip_unread(psrc, Kind.BBOX, "voc-difficult-dropped", f"part of a {msg}")
        return [], True
    out = [
        Annotation(key=key, source=src, label=obj.name, shape=shape, classifications=classes, group=group)
        for key, shape in shapes
    ]
    for part, psrc in parts:
        if part.box is None:
            report.skip_unread(psrc, Kind.BBOX, "voc-part-without-box", f"part {part.name!r} has no <bndbox>")
            continue
        out.append(
            Annotation(
                key=f"{group}/part{part.index}",
                source=psrc,
                label=f"{obj.name} {part.name}",
                shape=_box(part.box, o.origin),
                group=group,
            )
        )
    return out, False


@dataclass(frozen=True, slots=True)
class MaskInput:
    """What the mask builders need to know about one image."""

    width: int
    height: int
    objects: tuple[VocObject, ...]
    dropped: frozenset[int]  # object indexes dropped as difficult
    labelmap: LabelMap
    nested: Mapping[int, tuple[Classification, ...]]  # object index -> its nested classifications


def _size_ok(path: Path, arr: np.ndarray, m: MaskInput, report: Report, ids: list[int], what: str) -> bool:
    if arr.shape == (m.height, m.width):
        return True
    h, w = arr.shape
    for k in ids:
        report.skip_unread(
            SourceRef(file=str(path), element=f"{what} {k}"),
            Kind.MASK,
            "voc-mask-size-mismatch",
            f"mask PNG is {w}x{h}, the image is {m.width}x{m.height}",
        )
    return False


def _background(labelmap: LabelMap) -> set[int]:
    bg = labelmap.background
    return {VOID, BACKGROUND} | ({bg} if bg is not None else set())


def instance_masks(seg_object: Path, seg_class: Path | None, m: MaskInput, report: Report) -> list[Annotation]:
    """One mask per instance of a SegmentationObject PNG, its class from SegmentationClass.

    The class is the most frequent class under the instance's pixels; without a class PNG
    (or where it shows only background) it is the class of the XML object with the same
    number. A disagreement between the two is reported and the PNG's class wins: the
    pixels are the segmentation ground truth.
    """
    inst = instance_indices(seg_object)
    ids = [int(k) for k in np.unique(inst) if k > 0]
    if not _size_ok(seg_object, inst, m, report, ids, "instance"):
        return []
    void = int(np.count_nonzero(inst == VOID))
    if void:
        report.tally("voc-void-pixels", void)
    cls = class_indices(seg_class, m.labelmap) if seg_class is not None else None
    if cls is not None and cls.shape != inst.shape:
        report.tally("voc-class-png-size-mismatch")
        cls = None
    ignore = _background(m.labelmap)
    votes = None
    if cls is not None:
        foreground = ~np.isin(cls, list(ignore))
        uncovered = int(np.count_nonzero(foreground & (inst == 0)))
        if uncovered:
            report.tally("voc-class-pixels-outside-instances", uncovered)
        # class pixels under every instance in one pass (not one pass per instance: a
        # 4000x4000 PNG with 254 instances took 47 s that way)
        sel = foreground & (inst > 0)
        nc = len(m.labelmap.names)
        votes = np.bincount(inst[sel].astype(np.int64) * nc + cls[sel],
                            minlength=(max(ids, default=0) + 1) * nc).reshape(-1, nc)
    shared = SharedPng(seg_object, users=len(ids))
    out = []
    for k in ids:
        src = SourceRef(file=str(seg_object), element=f"instance {k}")
        obj = m.objects[k - 1] if k <= len(m.objects) else None
        label = None
        if votes is not None and votes[k].any():
            label = m.labelmap.names[int(votes[k].argmax())]
        if label is None and obj is not None:
            label = obj.name
        if label is None:
            report.skip_unread(src, Kind.MASK, "voc-mask-no-class", f"instance {k} has no class: no SegmentationClass pixels and no object {k} in the XML")
            continue
        if obj is not None and obj.name != label:
            report.change(src, Kind.MASK, "changed", "voc-mask-class-mismatch",
                          f"instance {k} is {label!r} in SegmentationClass but object {k} in the XML is {obj.name!r}; the PNG's class is used")
        if obj is not None and obj.index in m.dropped:
            report.skip_unread(src, Kind.MASK, "voc-difficult-dropped", f"mask of difficult object {k} dropped (--voc-difficult drop)")
            continue
        out.append(
            Annotation(
                key=f"mask/instance{k}",
                source=src,
                label=label,
                shape=Mask(width=m.width, height=m.height, load=PngMaskLoader(seg_object, k, shared=shared)),
                classifications=m.nested.get(obj.index, ()) if obj is not None and obj.name == label else (),
                group=f"object{k}" if obj is not None else None,
            )
        )
    return out


def class_masks(seg_class: Path, m: MaskInput, report: Report) -> list[Annotation]:
    """One mask per class present in a SegmentationClass PNG (datasets without instances)."""
    cls = class_indices(seg_class, m.labelmap)
    ignore = _background(m.labelmap)
    ids = [int(c) for c in np.unique(cls) if int(c) not in ignore]
    if not _size_ok(seg_class, cls, m, report, ids, "class"):
        return []
    void = int(np.count_nonzero(cls == VOID))
    if void:
        report.tally("voc-void-pixels", void)
    shared = SharedPng(seg_class, m.labelmap, users=len(ids))
    out = []
    for c in ids:
        name = m.labelmap.names[c]
        out.append(
            Annotation(
                key=f"mask/class/{name}",
                source=SourceRef(file=str(seg_class), element=f"class {c} ({name})"),
                label=name,
                shape=Mask(width=m.width, height=m.height, load=PngMaskLoader(seg_class, c, m.labelmap, shared=shared)),
            )
        )
    return out
