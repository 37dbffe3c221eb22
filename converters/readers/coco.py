"""COCO reader: instances, stuff, keypoints, image labels, panoptic and results files.

SOURCE is a COCO JSON file, several files of one dataset, or a dataset folder
(``annotations/*.json``, ``*.json``, or Roboflow's ``<split>/_annotations.coco.json``).
Files of one split (``instances_val.json`` + ``person_keypoints_val.json`` + ``labels_val.json``)
are merged by image: one asset per (split, ``file_name``).

What each file kind becomes (the kind is read from the file, not only its name):

* instances / stuff: boxes, polygons (several parts kept as one object; the geometry stage
  splits or masks them), RLE masks (compressed or not). ``iscrowd`` regions become masks
  (``--coco-crowd``). Annotation ``attributes`` (datumaro) become nested classifications.
* person_keypoints: one point per labelled keypoint (v > 0), named ``"{class} {keypoint}"``;
  v = 1 (labelled, hidden) carries a nested ``visibility: occluded`` radio; v = 0 is counted
  as absent. An object repeated from an instances file of the same split (same id, as in
  official COCO) is written once.
* labels_*: image-level labels, one ``tags`` checklist per image.
* panoptic: see ``_coco_panoptic``. Captions: no Labelbox target on images, so reported.
* results (a top-level list, model output): names and sizes from ``--coco-images``.

Coordinates: COCO's are already ours (absolute, continuous, top-left corner), so boxes,
polygons and keypoints pass through unchanged. Category ids are looked up, never used as
indexes (they are sparse and may start at 0).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import _json
from ..errors import InvalidFieldError, MissingFieldError, ParseError, SourceNotFoundError
from ..model import Annotation, Asset, Classification, Kind, Media, SourceRef
from ._coco_objects import Category, CocoFile, ObjectReader
from ._coco_panoptic import panoptic_annotations
from ._coco_results import read_results
from ._paths import clean_relative
from .base import Reader, check_options, option

__all__ = ["COCOOptions", "COCOReader", "load_coco_file"]

_SPLIT = re.compile(r"^(?:instances|person_keypoints|captions|labels|panoptic|stuff|image_info)_(.+)$")
#: Files of one split are read in this order, so keypoints files can tell repeated objects.
_KIND_ORDER = {"instances": 0, "keypoints": 1, "labels": 2, "panoptic": 3, "captions": 4}


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
    crowd: str = option(
        "mask",
        help="iscrowd regions: mask (polygons rasterised like COCO does), keep (as the source "
        "draws them), or skip (reported)",
        flag="--coco-crowd",
        choices=("mask", "keep", "skip"),
    )
    images: str | None = option(
        None,
        help="for COCO results files (a top-level list): a COCO JSON with the images and "
        "categories the results refer to (file names, sizes, class names)",
        flag="--coco-images",
    )
    keypoint_name: str = option(
        "{class} {keypoint}",
        help="class name of keypoint points: {class}, {keypoint} (the category's name for it, "
        "or its 1-based index) and {index}",
        flag="--coco-keypoint-name",
    )

    def __post_init__(self) -> None:
        check_options(self)
        try:
            self.keypoint_name.format_map({"class": "c", "keypoint": "k", "index": 1})
        except (KeyError, ValueError, IndexError) as exc:
            raise ValueError(f"--coco-keypoint-name {self.keypoint_name!r}: bad template ({exc})") from None


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


def file_kind(path: Path, data: Any) -> str:
    """What a parsed COCO file holds, from its content (names are only a hint)."""
    if isinstance(data, list):
        return "results"
    anns = data.get("annotations") if isinstance(data, dict) else None
    if not isinstance(anns, list) or not anns:
        return "instances"
    first = [a for a in anns[:50] if isinstance(a, dict)]
    if any("segments_info" in a for a in first):
        return "panoptic"
    if path.stem.startswith("captions_") or all("caption" in a for a in first):
        return "captions"
    if any("keypoints" in a for a in first):
        return "keypoints"
    geometric = ("bbox", "segmentation", "keypoints")
    if path.stem.startswith("labels_") or all(not any(k in a for k in geometric) for a in anns if isinstance(a, dict)):
        return "labels"
    return "instances"


def find_coco_files(source: Path) -> list[Path]:
    """The COCO JSON files of a SOURCE path (a file, or a dataset folder)."""
    if source.is_file():
        return [source]
    for pattern in ("annotations/*.json", "*.json", "*/_annotations.coco.json", "*/annotations/*.json"):
        found = sorted(p for p in source.glob(pattern) if p.is_file())
        if found:
            return found
    raise SourceNotFoundError(source, "no COCO JSON files found (looked in annotations/, the folder, */_annotations.coco.json)")


class COCOReader(Reader[COCOOptions]):
    """COCO JSON: instances, stuff, keypoints, image labels, panoptic, results."""

    format_name = "coco"
    description = "COCO JSON (instances, RLE/crowd, keypoints, labels, panoptic, results; merged by image)"
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
        self.objects = ObjectReader(geometry=self.options.geometry, crowd=self.options.crowd,
                                    keypoint_name=self.options.keypoint_name, report=self.report)

    def labels(self) -> Sequence[str]:
        return tuple(self._labels)

    def total(self) -> int | None:
        return getattr(self, "_total", None)  # images, known once the files are loaded

    def read(self) -> Iterator[Asset]:
        groups: dict[str, list[CocoFile]] = defaultdict(list)
        results: list[CocoFile] = []
        for path in self.files:
            data = load_coco_file(path)
            kind = file_kind(path, data)
            if kind != "results" and not isinstance(data, dict):
                raise ParseError(path, "top level must be an object (or a list, for a results file)")
            f = CocoFile(path, data, _split_of(path), kind)
            (results if kind == "results" else groups[f.split]).append(f)
        self._total = sum(max(len(f.data.get("images") or ()) for f in fs) for fs in groups.values())
        for split in sorted(groups):
            files = sorted(groups[split], key=lambda f: (_KIND_ORDER.get(f.kind, 9), f.name))
            yield from self._read_split(split, files)
        if results:
            yield from read_results(self, results)

    # -- ground-truth files ---------------------------------------------------------------

    def _read_split(self, split: str, files: list[CocoFile]) -> Iterator[Asset]:
        """One asset per image of the split.

        A first pass checks every annotation's image and category (so a bad id fails before
        anything is built) and groups the raw annotations by image; the model objects of an
        image are only built when it is yielded, so they never all exist at once.
        """
        images: dict[str, dict[str, Any]] = {}  # file_name -> image entry (+ source file)
        order: list[str] = []
        pending: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        tags: dict[str, dict[str, SourceRef]] = defaultdict(dict)
        objects: set[tuple[str, str]] = set()  # (file_name, ann id) of instances objects
        for f in files:
            by_id = self._images(f, images, order)
            cats = self.categories(f)
            if f.kind == "captions":
                self._captions(f)
                continue
            panoptic = f.kind == "panoptic"
            for index, ann in enumerate(_list(f, "annotations", required=False)):
                if type(ann) is not dict:
                    raise ParseError(f.path, "annotation is not an object", location=_location(f, ann, index))
                name = self._image_of(f, ann, by_id, index)
                if panoptic:
                    pending[name].append((f, ann, index, cats, None, True))
                    continue
                cat = self._category_of(f, ann, cats, index)
                if f.kind == "labels":
                    ref = SourceRef(file=f.name, annotation_id=str(ann.get("id", f"#{index}")))
                    tags[name].setdefault(cat.name, ref)
                    continue
                shapes = True
                if f.kind == "keypoints" and "id" in ann:
                    if (name, str(ann["id"])) in objects:
                        shapes = False
                        self.report.tally("keypoint-object-in-instances")
                elif "id" in ann:
                    objects.add((name, str(ann["id"])))
                pending[name].append((f, ann, index, cats, cat, shapes))
        for name in order:
            image = images[name]
            anns = self._build(pending.pop(name, ()), image)
            if name in tags:
                self.report.note("coco-labels-as-tags",
                                 "image labels (labels_* files) are written as one 'tags' checklist per image")
                anns.append(_tags_annotation(f"{split}:{name}", tags[name]))
            yield self.asset(name, image, tuple(anns), split)

    def _build(self, raw: Iterable[tuple[Any, ...]], image: dict[str, Any]) -> list[Any]:
        """The model annotations of one image from its grouped raw annotations."""
        out: list[Any] = []
        for f, ann, index, cats, cat, shapes in raw:
            loc = _location(f, ann, index)
            if cat is None:  # panoptic segment list
                out.extend(panoptic_annotations(
                    f, ann, loc, cats, image, self.report, skip_crowd=self.options.crowd == "skip"))
            else:
                out.extend(self.objects.annotations(f, ann, index, loc, cat, image, shapes=shapes))
        return out

    def asset(self, name: str, image: Mapping[str, Any], annotations: tuple[Any, ...], split: str) -> Asset:
        return Asset(
            name=name,
            media=Media.IMAGE,
            source=SourceRef(file=str(image["_file"]), element=f"image id {image['id']}"),
            width=image.get("_width"),
            height=image.get("_height"),
            annotations=annotations,
            dataset=split,
            fields={"subset": split, "image_id": str(image["id"])},
        )

    def _image_of(self, f: CocoFile, ann: Mapping[str, Any], by_id: Mapping[str, str], index: int) -> str:
        image_id = ann.get("image_id")
        name = by_id.get(str(image_id)) if image_id is not None else None
        if name is None:
            loc = _location(f, ann, index)
            if image_id is None:
                raise MissingFieldError(f.path, "image_id", location=loc)
            raise InvalidFieldError(f.path, "image_id", f"{image_id!r} names no image of the file", location=loc)
        return name

    def _category_of(self, f: CocoFile, ann: Mapping[str, Any], cats: Mapping[str, Category], index: int) -> Category:
        cat = cats.get(str(ann["category_id"])) if "category_id" in ann else None
        if cat is None:
            loc = _location(f, ann, index)
            if "category_id" not in ann:
                raise MissingFieldError(f.path, "category_id", location=loc)
            raise InvalidFieldError(f.path, "category_id", f"{ann['category_id']!r} names no category of the file",
                                    location=loc)
        return cat

    def _captions(self, f: CocoFile) -> None:
        for index, ann in enumerate(_list(f, "annotations", required=False)):
            ref = SourceRef(file=f.name, annotation_id=str(ann["id"]) if isinstance(ann, dict) and "id" in ann else None,
                            element=None if isinstance(ann, dict) and "id" in ann else f"annotations[{index}]")
            self.report.skip_unread(ref, Kind.TEXT, "caption-unsupported",
                                    "captions have no Labelbox target on images (not converted)")

    def images_of(self, f: CocoFile) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
        """The image entries of one file: (file_name -> entry, image id -> file_name)."""
        images: dict[str, dict[str, Any]] = {}
        return images, self._images(f, images, [])

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
            ok = type(width) is int and type(height) is int and width > 0 and height > 0
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
            if str(img["id"]) in by_id:
                raise ParseError(f.path, f"image id {img['id']} appears twice", location=loc)
            by_id[str(img["id"])] = name
        return by_id

    def categories(self, f: CocoFile) -> dict[str, Category]:
        """Category id (as a string) -> Category of one file; records the label names."""
        cats: dict[str, Category] = {}
        for index, cat in enumerate(_list(f, "categories", required=False)):
            loc = f"categories[{index}]"
            if not isinstance(cat, dict) or "id" not in cat:
                raise MissingFieldError(f.path, "id", location=loc)
            if not isinstance(cat.get("name"), str):
                raise MissingFieldError(f.path, "name", location=f"category id {cat['id']}")
            names = cat.get("keypoints") or []
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise InvalidFieldError(f.path, "keypoints", "must be a list of names", location=f"category id {cat['id']}")
            if cat.get("skeleton"):
                self.report.note("coco-skeleton-dropped",
                                 "keypoint skeleton edges are not carried over (Labelbox points have no edges)")
            cats[str(cat["id"])] = Category(cat["name"], tuple(names), cat.get("isthing", 1) not in (0, False))
            if cat["name"] not in self._labels:
                self._labels.append(cat["name"])
        return cats


def _tags_annotation(key: str, tags: Mapping[str, SourceRef]) -> Annotation:
    """An image's labels as one ``tags`` checklist (the contract's default for image tags)."""
    first = next(iter(tags.values()))
    return Annotation(key=f"{key}:tags", source=first, classification=Classification.checklist("tags", list(tags)))


def _list(f: CocoFile, key: str, *, required: bool) -> list[Any]:
    value = f.data.get(key)
    if value is None:
        if required:
            raise MissingFieldError(f.path, key, location="top level")
        return []
    if not isinstance(value, list):
        raise InvalidFieldError(f.path, key, "must be a list", location="top level")
    return value


def _location(f: CocoFile, ann: Any, index: int) -> str:
    return _panoptic_location(ann, index) if f.kind == "panoptic" else _ann_location(ann, index)


def _ann_location(ann: Any, index: int) -> str:
    if isinstance(ann, dict) and "id" in ann:
        return f"annotation id {ann['id']}"
    return f"annotations[{index}]"


def _panoptic_location(ann: Any, index: int) -> str:
    if isinstance(ann, dict) and "image_id" in ann:
        return f"annotations[{index}] (image id {ann['image_id']})"
    return f"annotations[{index}]"
