"""COCO reader: instances files (boxes, polygons, RLE masks, attributes), merged by image.

SOURCE is a COCO JSON file, several files of one dataset, or a dataset folder
(``annotations/*.json``, ``*.json``, or Roboflow's ``<split>/_annotations.coco.json``).
Files of one split (``instances_val.json`` + ``person_keypoints_val.json``) are merged by
image: one asset per (split, ``file_name``).

Coordinates: COCO's are already ours (absolute, continuous, top-left corner), so boxes and
polygons pass through unchanged. Category ids are looked up, never used as indexes (they
are sparse and may start at 0). Annotation ``attributes`` (datumaro writes them) become
nested classifications: booleans a ``true``/``false`` radio, strings a radio whose option is
the value, numbers free text.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import _json
from ..errors import InvalidFieldError, MissingFieldError, ParseError, SourceNotFoundError
from ..model import (
    Annotation,
    Asset,
    Box,
    Classification,
    Kind,
    Mask,
    Media,
    MultiPolygon,
    Polygon,
    SourceRef,
)
from ._paths import clean_relative
from .base import Reader, option

__all__ = ["COCOOptions", "COCOReader", "load_coco_file"]

_NUMBER_TYPES = {int, float}
_SPLIT = re.compile(r"^(?:instances|person_keypoints|captions|labels|panoptic|stuff|image_info)_(.+)$")


@dataclass(frozen=True, slots=True)
class COCOOptions:
    """Options of the COCO reader."""

    geometry: str = option(
        "auto",
        help="which geometry to write per object: auto (segmentation when present, else bbox), "
        "bbox, segmentation, or both",
        flag="--coco-geometry",
        choices=("auto", "bbox", "segmentation", "both"),
    )


@dataclass(slots=True)
class CocoFile:
    """One parsed COCO JSON file."""

    path: Path
    data: Any
    split: str
    name: str = ""
    stem: str = ""

    def __post_init__(self) -> None:
        self.name, self.stem = str(self.path), self.path.stem


def load_coco_file(path: Path) -> Any:
    """Parse a COCO JSON file; a truncated or malformed file is a one-line ParseError."""
    if not path.is_file():
        raise SourceNotFoundError(path)
    raw = path.read_bytes()
    try:
        return _json.loads(raw)
    except _json.JSONDecodeError as exc:
        raise ParseError(path, f"invalid JSON: {exc.msg}", location=f"line {exc.lineno}, column {exc.colno}") from None
    except UnicodeDecodeError as exc:
        raise ParseError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _split_of(path: Path) -> str:
    m = _SPLIT.match(path.stem)
    if m:
        return m.group(1)
    if path.name == "_annotations.coco.json":
        return path.parent.name
    return ""


def find_coco_files(source: Path) -> list[Path]:
    """The COCO JSON files of a SOURCE path (a file, or a dataset folder)."""
    if source.is_file():
        return [source]
    for pattern in ("annotations/*.json", "*.json", "*/_annotations.coco.json", "*/annotations/*.json"):
        found = sorted(p for p in source.glob(pattern) if p.is_file())
        if found:
            return found
    raise SourceNotFoundError(source, "no COCO JSON files found (looked in annotations/, the folder, */_annotations.coco.json)")


class COCOReader(Reader):
    """COCO object detection and instance segmentation JSON."""

    format_name = "coco"
    description = "COCO JSON (instances: bbox, polygons, RLE; several files merged by image)"
    media = Media.IMAGE
    Options = COCOOptions
    default_key_template = "{name}"

    @classmethod
    def sniff(cls, path: Path) -> bool:
        if path.is_dir():
            try:
                return any(cls.sniff(p) for p in find_coco_files(path)[:3])
            except SourceNotFoundError:
                return False
        if path.suffix.lower() != ".json":
            return False
        with open(path, "rb") as fh:
            head = fh.read(65536)
        return b'"annotations"' in head or b'"images"' in head or (
            head.lstrip().startswith(b"[") and b'"image_id"' in head
        )

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.files = [p for s in self.sources for p in find_coco_files(s)]
        self._labels: list[str] = []

    def labels(self) -> Sequence[str]:
        return tuple(self._labels)

    def read(self) -> Iterator[Asset]:
        groups: dict[str, list[CocoFile]] = defaultdict(list)
        for path in self.files:
            data = load_coco_file(path)
            if not isinstance(data, dict):
                raise ParseError(
                    path,
                    "top level is a list: a COCO results file needs image sizes and names "
                    "(not supported by the instances reader yet)",
                )
            groups[_split_of(path)].append(CocoFile(path, data, _split_of(path)))
        for split in sorted(groups):
            yield from self._read_split(split, groups[split])

    def _read_split(self, split: str, files: list[CocoFile]) -> Iterator[Asset]:
        images: dict[str, dict[str, Any]] = {}  # file_name -> image entry (+ source file)
        order: list[str] = []
        per_image: dict[str, list[Annotation]] = defaultdict(list)
        for f in files:
            by_id = self._images(f, images, order)
            cats = self._categories(f)
            for index, ann in enumerate(_list(f, "annotations", required=False)):
                loc = _ann_location(ann, index)
                if not isinstance(ann, dict):
                    raise ParseError(f.path, "annotation is not an object", location=loc)
                image_id = ann.get("image_id")
                if image_id is None:
                    raise MissingFieldError(f.path, "image_id", location=loc)
                name = by_id.get(_id(image_id))
                if name is None:
                    raise InvalidFieldError(f.path, "image_id", f"{image_id!r} names no image of the file", location=loc)
                per_image[name].extend(self._annotation(f, ann, index, loc, cats, images[name]))
        for name in order:
            image = images[name]
            yield Asset(
                name=name,
                media=Media.IMAGE,
                source=SourceRef(file=str(image["_file"]), element=f"image id {image['id']}"),
                width=image.get("_width"),
                height=image.get("_height"),
                annotations=tuple(per_image.get(name, ())),
                dataset=split,
                fields={"subset": split, "image_id": str(image["id"])},
            )

    def _images(self, f: CocoFile, images: dict[str, dict[str, Any]], order: list[str]) -> dict[str, str]:
        by_id: dict[str, str] = {}
        for index, img in enumerate(_list(f, "images", required=True)):
            loc = f"images[{index}]"
            if not isinstance(img, dict):
                raise ParseError(f.path, "image entry is not an object", location=loc)
            if "id" not in img:
                raise MissingFieldError(f.path, "id", location=loc)
            if not isinstance(img.get("file_name"), str) or not img["file_name"]:
                raise MissingFieldError(f.path, "file_name", location=f"image id {img['id']}")
            name = clean_relative(img["file_name"], source_file=f.path, location=f"image id {img['id']}")
            width, height = img.get("width"), img.get("height")
            ok = isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0
            entry = {"id": img["id"], "_file": f.path, "_width": width if ok else None, "_height": height if ok else None}
            if name not in images:
                images[name] = entry
                order.append(name)
            elif ok and images[name]["_width"] is not None and (images[name]["_width"], images[name]["_height"]) != (width, height):
                raise ParseError(
                    f.path,
                    f"image {name!r} is {width}x{height} here but {images[name]['_width']}x"
                    f"{images[name]['_height']} in {images[name]['_file']}",
                    location=f"image id {img['id']}",
                )
            elif ok and images[name]["_width"] is None:
                images[name].update(_width=width, _height=height)
            if _id(img["id"]) in by_id:
                raise ParseError(f.path, f"image id {img['id']} appears twice", location=loc)
            by_id[_id(img["id"])] = name
        return by_id

    def _categories(self, f: CocoFile) -> dict[str, str]:
        cats: dict[str, str] = {}
        for index, cat in enumerate(_list(f, "categories", required=False)):
            loc = f"categories[{index}]"
            if not isinstance(cat, dict) or "id" not in cat:
                raise MissingFieldError(f.path, "id", location=loc)
            if not isinstance(cat.get("name"), str):
                raise MissingFieldError(f.path, "name", location=f"category id {cat['id']}")
            cats[_id(cat["id"])] = cat["name"]
            if cat["name"] not in self._labels:
                self._labels.append(cat["name"])
        return cats

    def _annotation(
        self, f: CocoFile, ann: Mapping[str, Any], index: int, loc: str, cats: Mapping[str, str], image: Mapping[str, Any]
    ) -> list[Annotation]:
        ref = SourceRef(file=f.name, annotation_id=str(ann["id"]) if "id" in ann else None,
                        element=None if "id" in ann else f"annotations[{index}]")
        key = f"{f.stem}:{ann['id'] if 'id' in ann else f'#{index}'}"
        if "category_id" not in ann:
            raise MissingFieldError(f.path, "category_id", location=loc)
        label = cats.get(_id(ann["category_id"]))
        if label is None:
            raise InvalidFieldError(f.path, "category_id", f"{ann['category_id']!r} names no category of the file", location=loc)
        seg = ann.get("segmentation")
        bbox = ann.get("bbox")
        has_seg = seg not in (None, [], {})
        if not has_seg and bbox in (None, []):
            raise ParseError(f.path, "annotation has neither bbox nor segmentation", location=loc)
        want = self.options.geometry
        shapes: list[tuple[str, Any]] = []
        if want in ("segmentation", "both") or (want == "auto" and has_seg):
            if has_seg:
                shapes.append(("", self._segmentation(f, seg, loc, image)))
            elif want == "segmentation":
                self.report.skip_unread(ref, Kind.POLYGON, "no-segmentation", "annotation has no segmentation (--coco-geometry segmentation)")
        if want in ("bbox", "both") or (want == "auto" and not has_seg):
            if bbox in (None, []):
                self.report.skip_unread(ref, Kind.BBOX, "no-bbox", "annotation has no bbox")
            else:
                shapes.append((":bbox" if want == "both" else "", _box(f, bbox, loc)))
        attrs = _attributes(f, ann.get("attributes"), loc)
        confidence = _score(f, ann.get("score"), loc)
        return [
            Annotation(key=key + suffix, source=ref, label=label, shape=shape,
                       classifications=attrs, confidence=confidence)
            for suffix, shape in shapes
        ]

    def _segmentation(self, f: CocoFile, seg: Any, loc: str, image: Mapping[str, Any]) -> Any:
        if isinstance(seg, dict):
            return _rle_mask(f, seg, loc, image)
        if not isinstance(seg, list) or not all(isinstance(p, list) for p in seg):
            raise InvalidFieldError(f.path, "segmentation", "is neither a list of polygons nor an RLE object", location=loc)
        polygons = []
        for part, flat in enumerate(seg):
            if len(flat) % 2:
                raise InvalidFieldError(
                    f.path, "segmentation", f"polygon {part} has an odd number of coordinates ({len(flat)})", location=loc
                )
            if not set(map(type, flat)) <= _NUMBER_TYPES:
                raise InvalidFieldError(f.path, "segmentation", f"polygon {part} holds a non-number", location=loc)
            polygons.append(Polygon(exterior=tuple(zip(flat[0::2], flat[1::2]))))  # numbers checked above
        if len(polygons) == 1:
            return polygons[0]
        return MultiPolygon(polygons=tuple(polygons))


def _rle_mask(f: CocoFile, seg: Mapping[str, Any], loc: str, image: Mapping[str, Any]) -> Mask:
    size, counts = seg.get("size"), seg.get("counts")
    if not (isinstance(size, list) and len(size) == 2 and all(isinstance(v, int) and v > 0 for v in size)):
        raise InvalidFieldError(f.path, "segmentation.size", "must be [height, width]", location=loc)
    if not isinstance(counts, (str, list)):
        raise InvalidFieldError(f.path, "segmentation.counts", "must be a string or a list of run lengths", location=loc)
    height, width = size
    if image.get("_width") is not None and (width, height) != (image["_width"], image["_height"]):
        raise ParseError(
            f.path,
            f"RLE size {width}x{height} differs from the image's {image['_width']}x{image['_height']}",
            location=loc,
        )
    if isinstance(counts, list) and sum(counts) != width * height:
        raise InvalidFieldError(
            f.path, "segmentation.counts", f"runs sum to {sum(counts)}, not height*width = {width * height}", location=loc
        )
    return Mask(width=width, height=height, rle={"size": [height, width], "counts": counts})


def _box(f: CocoFile, bbox: Any, loc: str) -> Box:
    if not (isinstance(bbox, list) and len(bbox) == 4 and set(map(type, bbox)) <= _NUMBER_TYPES):
        raise InvalidFieldError(f.path, "bbox", f"must be [x, y, width, height], got {bbox!r}", location=loc)
    try:
        return Box.from_xywh(*(float(v) for v in bbox))
    except ValueError as exc:
        raise InvalidFieldError(f.path, "bbox", str(exc), location=loc) from None


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


def _list(f: CocoFile, key: str, *, required: bool) -> list[Any]:
    value = f.data.get(key)
    if value is None:
        if required:
            raise MissingFieldError(f.path, key, location="top level")
        return []
    if not isinstance(value, list):
        raise InvalidFieldError(f.path, key, "must be a list", location="top level")
    return value


def _id(value: Any) -> str:
    return str(value)


def _ann_location(ann: Any, index: int) -> str:
    if isinstance(ann, dict) and "id" in ann:
        return f"annotation id {ann['id']}"
    return f"annotations[{index}]"
