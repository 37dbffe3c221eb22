"""SA-1B (Segment Anything 1-Billion): one JSON file per image, ``{"image": {...}, "annotations": [...]}``.

Meta's SA-1B release holds ~11M images, each with a JSON beside it (``sa_1.jpg`` +
``sa_1.json``). The ``image`` object has ``image_id``, ``width``, ``height`` and
``file_name``; each annotation has ``id``, a compressed-RLE ``segmentation``, an XYWH
``bbox``, ``area``, and what SAM's automatic mask generator knew about it:
``predicted_iou``, ``stability_score``, ``crop_box`` and ``point_coords``. There are no
categories: every mask is one class (``--sa1b-class``, default ``object``).

What each field becomes, and why:

* ``segmentation`` / ``bbox``: through the COCO object code (``--coco-geometry``; the
  default writes the mask, ``both`` adds the box), so RLE checks and errors are COCO's.
* ``predicted_iou``: the model's own estimate of the mask's quality, so the ``confidence``
  of pre-label rows (``--min-score`` filters on it); ground truth drops confidences and the
  report counts them (the writer's rule for every source). A value a little outside [0, 1]
  (the IoU head is not clamped) is clamped and reported, not fatal.
* ``stability_score``, ``crop_box``, ``point_coords``, ``area``: how SAM produced the mask,
  with no Labelbox target; not carried over, and the report says so once.

A file is one asset and nothing of it is kept after it is yielded: a folder of them streams
at constant memory, which is what makes it the shard source at SA-1B's scale. This module
gets the reader's callables, never the reader (no import cycle).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import InvalidFieldError, MissingFieldError, ParseError
from ...model import Asset, Kind, SourceRef
from ...report import Report
from ._objects import Category, CocoFile, ImageEntry, ObjectReader

__all__ = ["SA1B_FIELDS_NOTE", "SA1BReader", "is_sa1b", "looks_sa1b", "sa1b_batches", "sa1b_kinds"]

#: File kind and key prefix of SA-1B annotations (uuids: ``sa1b:<annotation id>``).
KIND = "sa1b"
#: Image sides beyond this are not images (the reader's bound for COCO image entries).
_MAX_SIDE = 2**31 - 1
#: A sharded run's SA-1B shards hold at least this many files: a shard task costs ~10 ms
#: besides its work (reader, writer, staging files, merge; ``bench_dask.py --task-overhead``)
#: against seconds of work a file (50-100 masks to PNG), and small shards balance 2 workers
#: on a 200-file folder. See docs/scaling.md.
SHARD_FILES = 10
#: ... and there are at most this many of them (bigger shards beyond: 11M files make 10,000
#: shards of 1,100): a Dask scheduler spends ~1 ms a task, and the client keeps one small
#: result and one staging file set per shard.
MAX_SHARDS = 10_000
SA1B_FIELDS_NOTE = (
    "SA-1B: predicted_iou is the confidence of pre-label rows (ground truth drops it, counted); "
    "stability_score, crop_box, point_coords and area describe how SAM made each mask and have no "
    "Labelbox target: not carried over"
)


#: How SA-1B's files begin (``{"image": {"image_id": ...``): told from the first bytes, unparsed.
_HEAD = re.compile(rb'^(?:\xef\xbb\xbf)?\s*\{\s*"image"\s*:\s*\{')


def looks_sa1b(path: Path) -> bool:
    """Whether a JSON file begins like an SA-1B file, from its first bytes (no parsing: the
    ontology scan and the progress total must not parse 11M files). A file whose keys come in
    another order is recognised when it is parsed (:func:`is_sa1b`)."""
    with open(path, "rb") as fh:
        return _HEAD.match(fh.read(256)) is not None


def sa1b_kinds(geometry: str) -> set[Kind]:
    """The kinds SA-1B objects are written with under ``--coco-geometry``: every SA-1B
    annotation has an RLE ``segmentation`` and a ``bbox``. (An annotation without a
    segmentation would still be written, as a box, under a derived ``object (bbox)`` tool.)"""
    return {"auto": {Kind.MASK}, "segmentation": {Kind.MASK}, "bbox": {Kind.BBOX}}.get(geometry, {Kind.MASK, Kind.BBOX})


def sa1b_batches(paths: list[Path]) -> list[list[Path]]:
    """SA-1B files cut into shards in path order: :data:`SHARD_FILES` files each, or more
    when that would make over :data:`MAX_SHARDS` shards (11M files: 1,100 a shard)."""
    size = max(SHARD_FILES, -(-len(paths) // MAX_SHARDS))
    return [paths[i : i + size] for i in range(0, len(paths), size)]


def is_sa1b(data: Any) -> bool:
    """Whether a parsed JSON top level is an SA-1B per-image file: one ``image`` object and
    no COCO ``images`` list."""
    return type(data) is dict and type(data.get("image")) is dict and "images" not in data


@dataclass(slots=True)
class SA1BReader:
    """Turns SA-1B files into assets, one file at a time.

    Attributes:
        report: where clamps and notes go.
        objects: the COCO object code (geometry option, RLE checks).
        label: the class of every mask (``--sa1b-class``).
        name_of: the data-row name of a ``file_name`` (the reader's path checks):
            ``(file, file_name, location) -> name``.
        asset: the asset of one image: ``(name, entry, annotations, split) -> Asset``.
    """

    report: Report
    objects: ObjectReader
    label: str
    name_of: Callable[[CocoFile, str, str], str]
    asset: Callable[[str, ImageEntry, tuple[Any, ...], str], Asset]
    #: data-row name -> the file that gave it (two files naming one image is an error).
    _seen: dict[str, Path] = field(default_factory=dict)

    def read_file(self, path: Path, data: Mapping[str, Any]) -> Asset:
        """The asset of one parsed SA-1B file."""
        self.report.note("sa1b-fields", SA1B_FIELDS_NOTE)
        f = CocoFile(path, data, "", KIND, role=KIND)
        name, image = self._image(f, data["image"])
        anns = data.get("annotations", [])
        if type(anns) is not list:
            raise InvalidFieldError(path, "annotations", "must be a list", location="top level")
        cat = Category(self.label)
        out: list[Any] = []
        for index, ann in enumerate(anns):
            if type(ann) is not dict:
                raise ParseError(path, "annotation is not an object", location=f"annotations[{index}]")
            loc = f"annotation id {ann['id']}" if "id" in ann else f"annotations[{index}]"
            confidence = self._confidence(f, ann, index, loc)
            out.extend(self.objects.annotations(f, ann, index, loc, cat, image, confidence=confidence))
        return self.asset(name, image, tuple(out), "")

    def _image(self, f: CocoFile, img: Mapping[str, Any]) -> tuple[str, ImageEntry]:
        if "image_id" not in img:
            raise MissingFieldError(f.path, "image_id", location="image")
        where = f"image id {img['image_id']}"
        file_name = img.get("file_name")
        if not isinstance(file_name, str) or not file_name:
            raise MissingFieldError(f.path, "file_name", location=where)
        name = self.name_of(f, file_name, where)
        width, height = img.get("width"), img.get("height")
        for key, side in (("width", width), ("height", height)):
            if type(side) is not int or not 0 < side <= _MAX_SIDE:
                raise InvalidFieldError(f.path, key, f"must be a whole number of pixels within 1..{_MAX_SIDE:,} "
                                        f"(SA-1B masks are checked against it), got {side!r}", location=where)
        earlier = self._seen.setdefault(name, f.path)
        if earlier != f.path:
            raise ParseError(f.path, f"image {name!r} is also the image of {earlier}: one SA-1B file per image",
                             location=where)
        return name, ImageEntry(img["image_id"], f.path, width, height)

    def _confidence(self, f: CocoFile, ann: Mapping[str, Any], index: int, loc: str) -> float | None:
        """``predicted_iou`` as a confidence: a number, clamped into [0, 1] (and reported) when
        the model's estimate strays just outside it."""
        value = ann.get("predicted_iou")
        if value is None:
            return None
        if type(value) not in (int, float) or not math.isfinite(value):
            raise InvalidFieldError(f.path, "predicted_iou", f"must be a number, got {value!r}", location=loc)
        if 0 <= value <= 1:
            return float(value)
        clamped = min(max(float(value), 0.0), 1.0)
        has_id = "id" in ann
        ref = SourceRef(file=f.name, annotation_id=str(ann["id"]) if has_id else None,
                        element=None if has_id else f"annotations[{index}]")
        kind = Kind.MASK if type(ann.get("segmentation")) is dict else Kind.BBOX
        self.report.change(ref, kind, "changed", "confidence-clamped",
                           f"predicted_iou {value:g} is outside [0, 1]: confidence {clamped:g}")
        return clamped
