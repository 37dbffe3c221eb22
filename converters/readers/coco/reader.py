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
* panoptic: see ``_panoptic``. Captions: no Labelbox target on images, so reported.
* results (a top-level list, model output): names and sizes from ``--coco-images``.
* SA-1B per-image files (``{"image": {...}, "annotations": [...]}``) and folders of them:
  one asset per file, streamed; see ``_sa1b``.

Coordinates: COCO's are already ours (absolute, continuous, top-left corner), so boxes,
polygons and keypoints pass through unchanged. Category ids are looked up, never used as
indexes (they are sparse and may start at 0).
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import repeat
from pathlib import Path
from typing import Any, cast

import numpy as np

from ... import _fast
from ...errors import InvalidFieldError, MissingFieldError, ParseError, SourceNotFoundError, UnsafeInputError
from ...model import Annotation, Asset, Classification, Kind, Media, SourceRef
from ...table import ShapeTable
from ._files import file_kind, load_coco_file
from ._objects import Category, CocoFile, ImageEntry, ObjectReader
from ._panoptic import panoptic_annotations
from ._plain import plain_annotation
from ._streamtables import stream_tables
from ._table import batched, pieces, plain_kinds, plain_lookup, table_items
from ._sa1b import SA1BReader, is_sa1b, looks_sa1b, sa1b_batches, sa1b_kinds
from ._stream import STREAM_THRESHOLD
from ._streamed import Pending as _Pending
from ._streamed import Streamed, prepare, stream_assets
from .._images import image_size
from .._paths import Confinement, clean_relative, is_plain_name, resolve_inside
from ..base import Reader, Shard, check_options, option, option_error

__all__ = ["COCOOptions", "COCOReader", "load_coco_file"]

#: Image sides beyond this are not images (and 400-digit sizes overflow floats later).
MAX_SIDE = 2**31 - 1
_SPLIT = re.compile(r"^(?:instances|person_keypoints|captions|labels|panoptic|stuff|image_info)_(.+)$")
#: Files of one split are read in this order, so keypoints files can tell repeated objects.
_DRIVE = re.compile(r"^[A-Za-z]:/")
#: "annotations" holding [text, {...}] pairs: a NER Annotator (spaCy family) file, not COCO.
_TEXT_PAIRS = re.compile(rb'"annotations"\s*:\s*\[\s*\[\s*"')
_POLYGON, _BBOX = frozenset({Kind.POLYGON}), frozenset({Kind.BBOX})

_KIND_ORDER = {"instances": 0, "keypoints": 1, "labels": 2, "panoptic": 3, "captions": 4}
#: A sharded run splits the images of a split into ranges, one per this many bytes of its
#: JSON files (each range's worker parses the files again and builds only its images, so
#: ranges are large, and at most SHARD_PARTS of them: parsing a 1 GB file costs seconds, the
#: conversion of its images minutes).
SHARD_BYTES = 8 << 20
SHARD_PARTS = 32


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
    path_root: str | None = option(
        None,
        help="absolute file_name values (Detectron2-style /data/coco/train2017/x.jpg) are keyed by "
        "their path relative to this folder (default: by their base name)",
        flag="--path-root",
    )
    sa1b_class: str = option(
        "object",
        help="class name of SA-1B masks (SA-1B files have no categories)",
        flag="--sa1b-class",
    )
    stream: str = option(
        "auto",
        help="read COCO files one annotation at a time (memory stays flat): auto (files of "
        f"{STREAM_THRESHOLD // 2**20} MiB and more), always, or never (load each file whole)",
        flag="--coco-stream",
        choices=("auto", "always", "never"),
    )

    def __post_init__(self) -> None:
        check_options(self)
        try:
            self.keypoint_name.format_map({"class": "c", "keypoint": "k", "index": 1})
        except (KeyError, ValueError, IndexError) as exc:
            raise ValueError(f"--coco-keypoint-name {self.keypoint_name!r}: bad template ({exc})") from None
        if not self.sa1b_class.strip():
            raise option_error(self, "sa1b_class", "must be a class name, not empty")


def _split_of(path: Path) -> str:
    m = _SPLIT.match(path.stem)
    if m:
        return m.group(1)
    if path.name == "_annotations.coco.json":
        return path.parent.name
    return ""


def _count(images: Any) -> int:
    """Entries of an ``images`` list (the progress total); anything else counts 0 here and is
    refused, with its one-line error, when the file is read."""
    return len(images) if isinstance(images, list) else 0


def _role_of(path: Path, kind: str) -> str:
    m = _SPLIT.match(path.stem)
    return path.stem[: m.start(1) - 1] if m else kind


def find_coco_files(source: Path, *, follow_links: bool = False) -> list[Path]:
    """The COCO JSON files of a SOURCE path (a file, or a dataset folder); in a folder, a
    file (or sub-folder) linking outside it is refused unless ``follow_links``."""
    if source.is_file():
        return [source]
    conf = Confinement(source, follow_links)
    # */sa_*.json: SA-1B's tar files unpacked side by side (sa_000000/sa_1.json, sa_000001/...)
    for pattern in ("annotations/*.json", "*.json", "*/_annotations.coco.json", "*/annotations/*.json", "*/sa_*.json"):
        found = sorted(p for p in source.glob(pattern) if p.is_file())
        if found:
            return [conf.check(p) for p in found]
    raise SourceNotFoundError(source, "no COCO JSON files found (looked in annotations/, the folder, */_annotations.coco.json, "
                          "*/annotations/, */sa_*.json)")


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
                # detection reads file heads only; read() refuses links (unless --follow-links)
                return any(cls.sniff(p) for p in find_coco_files(path, follow_links=True)[:3])
            except SourceNotFoundError:
                return False
        if path.suffix.lower() != ".json":
            return False
        with open(path, "rb") as fh:
            head = fh.read(65536)
        if b'"images"' not in head and _TEXT_PAIRS.search(head):
            return False  # NER Annotator JSON: "annotations" holds [text, {...}] pairs (spaCy family)
        return b'"annotations"' in head or b'"images"' in head or (
            head.lstrip().startswith(b"[") and b'"image_id"' in head
        )

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._files: list[Path] | None = None
        self._labels: list[str] = []
        self._absolute: dict[str, str] = {}  # base name -> the absolute file_name it came from
        self._loaded: dict[Path, Any] = {}  # files parsed by label_kinds(), handed to read()
        self._fast = _fast.enabled()  # the plain-object lanes (_plain.py); LBCONVERT_NO_FAST_PATH=1: off
        self._streamed: dict[Path, Streamed | None] = {}
        self._classified: dict[Path, np.ndarray] = {}  # label_kinds' classify() of a loaded file  # streamed files, prepared once (None: read whole)
        self.objects = ObjectReader(geometry=self.options.geometry, crowd=self.options.crowd,
                                    keypoint_name=self.options.keypoint_name, report=self.report)
        self.sa1b = SA1BReader(self.report, self.objects, self.options.sa1b_class, self._image_name, self.asset)

    @property
    def files(self) -> list[Path]:
        """The COCO JSON files of the sources, listed on first use: a sharded run's task reads
        the files its shard names, and listing a SOURCE of 11M SA-1B files (~35 us a file,
        links checked) in every task would cost minutes a task (bench/bench_dask.py)."""
        if self._files is None:
            self._files = [p for s in self.sources for p in find_coco_files(s, follow_links=self.context.follow_links)]
        return self._files

    def labels(self) -> Sequence[str]:
        return tuple(self._labels)

    def total(self) -> int | None:
        return getattr(self, "_total", None)  # images, known once the files are loaded

    def label_kinds(self) -> Mapping[str, Collection[Kind]]:
        """The kinds each category will be written with (boxes, polygons, masks), from a scan
        of the parsed files (kept for :meth:`read`): the ontology gives the plain class name
        to the same kind whatever order the objects come in."""
        out: dict[str, set[Kind]] = {}
        for path in self.files:
            streamed = self._stream_state(path)
            if streamed is not None:
                for name, kinds in streamed.kinds.items():
                    out.setdefault(name, set()).update(kinds)
                continue
            # SA-1B files are not parsed here (their kinds follow from the options) nor kept:
            # read() streams them, one at a time
            if path in self._loaded:
                data = self._loaded[path]
            else:
                data = None if looks_sa1b(path) else load_coco_file(path)
            if data is None or is_sa1b(data):
                out.setdefault(self.options.sa1b_class, set()).update(sa1b_kinds(self.options.geometry))
                continue
            self._loaded[path] = data
            if not isinstance(data, dict):
                continue  # a results file: its categories are in --coco-images
            # a scan only: anything malformed is left for read() to refuse with its one-line error
            cats = data.get("categories")
            names = {str(c.get("id")): c.get("name") for c in cats if isinstance(c, dict)} if isinstance(cats, list) else {}
            anns = data.get("annotations")
            if isinstance(anns, list):
                self._scan_file(path, anns, cats if isinstance(cats, list) else [], names, out)
        return out

    def _scan_file(self, path: Path, anns: list[Any], cats: list[Any], names: Mapping[str, Any],
                   out: dict[str, set[Kind]]) -> None:
        """:meth:`scan_kinds` of every annotation of a loaded file; the plain objects (the
        table lane's :func:`classify`, kept for :meth:`_table_lane`) all at once."""
        if not (self._fast and self.options.geometry == "auto" and anns and set(map(type, anns)) == {dict}):
            for ann in anns:
                self.scan_kinds(ann, names, out)
            return
        self._classified[path] = plain_kinds(anns, names, out, self.scan_kinds)

    def scan_kinds(self, ann: Any, names: Mapping[str, Any], out: dict[str, set[Kind]]) -> None:
        """Add the kinds one annotation will be written with to ``out`` (a scan: anything
        malformed is left for the read to refuse)."""
        if not isinstance(ann, dict):
            return
        segments = ann.get("segments_info")
        for seg in segments if isinstance(segments, list) else ():  # panoptic: masks
            seg_name = names.get(str(seg.get("category_id"))) if isinstance(seg, dict) else None
            if isinstance(seg_name, str):
                out.setdefault(seg_name, set()).add(Kind.MASK)
        name = names.get(str(ann.get("category_id")))
        if isinstance(name, str):
            kinds = out.get(name)
            if kinds is None:
                kinds = out[name] = set()
            kinds.update(self._kinds_of(ann))

    def _stream_state(self, path: Path) -> Streamed | None:
        """The prepared stream of a file read one annotation at a time (``--coco-stream``),
        or None when it is read whole."""
        mode = self.options.stream
        if mode == "never" or path in self._loaded or looks_sa1b(path):
            return None  # SA-1B files are small and read one at a time anyway
        if path not in self._streamed:
            split = _split_of(path)
            if mode == "auto" and (not path.is_file() or path.stat().st_size < STREAM_THRESHOLD):
                self._streamed[path] = None
            elif sum(_split_of(p) == split for p in self.files) > 1:
                # objects of one split merge by image across its files: no image is complete
                # before every file is read, so they are read whole (see _streamed)
                self.report.note("coco-stream-whole", f"{path} shares its split with other files (objects merge "
                                 "by image): read whole, not streamed (memory grows with the file)")
                self._streamed[path] = None
            else:
                self._streamed[path] = prepare(path, self, _split_of(path), _role_of,
                                               fast=self._fast and self.options.geometry == "auto")
        return self._streamed[path]

    def _kinds_of(self, ann: Mapping[str, Any]) -> Collection[Kind]:
        seg, bbox = ann.get("segmentation"), ann.get("bbox")
        if self._fast and self.options.geometry == "auto" and type(seg) is list and ann.get("iscrowd") not in (1, True):
            # the plain objects' answers, without building a set each (val2017: every object)
            if seg:
                return _POLYGON
            if bbox is not None and bbox != []:
                return _BBOX
        has_seg = seg is not None and seg != [] and seg != {}
        want, kinds = self.options.geometry, set()
        if has_seg and (want in ("segmentation", "both") or want == "auto"):
            crowd_mask = ann.get("iscrowd") in (1, True) and self.options.crowd == "mask"
            kinds.add(Kind.MASK if isinstance(seg, dict) or crowd_mask else Kind.POLYGON)
        if bbox not in (None, []) and (want in ("bbox", "both") or (want == "auto" and not has_seg)):
            kinds.add(Kind.BBOX)
        return kinds

    def read(self) -> Iterator[Asset]:
        return cast(Iterator[Asset], self._items(tables=False))  # no table without tables=True

    def read_tables(self) -> Iterator[Asset | ShapeTable]:
        """:meth:`read` with runs of plain images as tables (``_table.py``), under
        ``--coco-geometry auto`` and with the fast lanes on."""
        return self._items(tables=self._fast and self.options.geometry == "auto")

    def _items(self, tables: bool) -> Iterator[Asset | ShapeTable]:
        groups: dict[str, list[CocoFile]] = defaultdict(list)
        results: list[CocoFile] = []
        sa1b = 0
        streams: dict[str, Streamed] = {}
        for path in self.files:
            streamed = self._stream_state(path)
            if streamed is not None:
                groups[streamed.file.split].append(streamed.file)
                streams[str(path)] = streamed
                continue
            data = self._loaded.pop(path) if path in self._loaded else load_coco_file(path)
            if is_sa1b(data):  # one asset per file, yielded now: nothing of it is kept
                sa1b += 1
                self._total = len(self.files)  # exact for a folder of SA-1B files; set below otherwise
                yield self.sa1b.read_file(path, data)
                continue
            f = _coco_file(path, data, len(results))
            (results if f.kind == "results" else groups[f.split]).append(f)
        self._total = sa1b + sum(max(streams[f.name].images if f.name in streams else _count(f.data.get("images"))
                                     for f in fs) for fs in groups.values())
        for split in sorted(groups):
            files = sorted(groups[split], key=lambda f: (_KIND_ORDER.get(f.kind, 9), f.name))
            if len(files) == 1 and files[0].name in streams and streams[files[0].name].contiguous:
                streamed = streams.pop(files[0].name)
                if tables and streamed.file.kind == "instances":
                    yield from stream_tables(self, streamed, batched(pieces(streamed.file.path)))
                else:
                    yield from stream_assets(self, streamed)
                continue
            for f in files:
                if f.name in streams:  # grouping by image needs the whole file (see _streamed)
                    streams.pop(f.name).whole(self.report, len(files))
            yield from self._read_split(split, files, tables=tables)
        if results:
            from ._results import ResultsInput, read_results  # results files only (issue 16: start-up)

            yield from read_results(results, ResultsInput(
                report=self.report, min_score=self.context.min_score, images=self.options.images,
                objects=self.objects, index=self._index, asset=self.asset))

    def release(self) -> None:
        self._loaded.clear()
        self._classified.clear()

    # -- shards (issue 17) ----------------------------------------------------------------

    def shards(self) -> Sequence[Shard]:
        """One shard per split (its files are merged by image, so they are read together),
        or per file when the split's files have no image in common (a folder of per-image or
        per-batch files); each split into image ranges when its files are
        large (:data:`SHARD_BYTES`); then one for the results files. File names give the
        split, the first byte tells a results file (a top-level list); telling disjoint
        files needs their image lists (parsed by :meth:`label_kinds` already, else here).
        SA-1B files (told by their first bytes) come first, as read() yields them: batches
        of files (:func:`._sa1b.sa1b_batches`), nothing parsed."""
        groups: dict[str, list[Path]] = defaultdict(list)
        results: list[Path] = []
        sa1b: list[Path] = []
        for path in self.files:
            if looks_sa1b(path):
                sa1b.append(path)
                continue
            (results if _starts_list(path) else groups[_split_of(path)]).append(path)
        out: list[Shard] = []
        for batch in sa1b_batches(sa1b):
            what = str(batch[0]) if len(batch) == 1 else f"{batch[0]} .. {batch[-1]} ({len(batch)} SA-1B files)"
            out.append(Shard(len(out), what, ("sa1b", tuple(str(p) for p in batch))))
        if sa1b and not groups and not results:
            self._total = len(sa1b)  # the progress total: one asset per file
        for split in sorted(groups):
            files = groups[split]
            kinds = self._apart(files)
            units = [[p] for p in sorted(files, key=lambda p: (_KIND_ORDER.get(kinds[p], 9), str(p)))] if kinds else [files]
            for unit in units:
                size = sum(p.stat().st_size for p in unit)
                parts = min(SHARD_PARTS, max(1, -(-size // SHARD_BYTES)))
                names = ", ".join(str(p) for p in unit)
                for k in range(parts):
                    what = names if parts == 1 else f"{names} (images part {k + 1} of {parts})"
                    out.append(Shard(len(out), what, ("split", tuple(str(p) for p in unit), k, parts)))
        if results:
            out.append(Shard(len(out), ", ".join(str(p) for p in results), ("results", tuple(str(p) for p in results))))
        return tuple(out)

    def _apart(self, files: Sequence[Path]) -> dict[Path, str]:
        """When several files of one split have no image in common, each file's kind (else
        empty): each then reads alone exactly as in the merge, which only joins what files
        say of one image (read in the merge's order: by kind, then name)."""
        if len(files) < 2:
            return {}
        seen: set[str] = set()
        kinds: dict[Path, str] = {}
        for path in files:
            data = self._loaded[path] if path in self._loaded else load_coco_file(path)
            names = _image_names(data)
            if names is None or not seen.isdisjoint(names):
                return {}
            seen.update(names)
            kinds[path] = file_kind(path, data)
        return kinds

    def shard_label_kinds(self, shard: Shard) -> Mapping[str, Collection[Kind]]:
        """The kinds of the shard's files (a split's first image range only; results files
        declare none)."""
        if shard.unit[0] == "results" or (shard.unit[0] == "split" and shard.unit[2] > 0):
            return {}
        files = self._files
        self._files = [Path(p) for p in shard.unit[1]]  # SA-1B: told by their first bytes
        try:
            return self.label_kinds()
        finally:
            self._files = files
            self._loaded.clear()

    def read_shard(self, shard: Shard) -> Iterator[Asset]:
        if shard.unit[0] in ("results", "sa1b"):
            return self._read_files([Path(p) for p in shard.unit[1]], None)
        _, files, k, parts = shard.unit
        return self._read_files([Path(p) for p in files], (k, parts))

    def _read_files(self, paths: list[Path], part: tuple[int, int] | None) -> Iterator[Asset]:
        """The assets of some files: one split (image range ``part``), the results files, or
        SA-1B files (yielded as they are parsed, as read() does)."""
        split: list[CocoFile] = []
        results: list[CocoFile] = []
        for path in paths:
            data = load_coco_file(path)
            if is_sa1b(data):
                yield self.sa1b.read_file(path, data)
                continue
            f = _coco_file(path, data, len(results))
            (results if f.kind == "results" else split).append(f)
        if split:
            files = sorted(split, key=lambda f: (_KIND_ORDER.get(f.kind, 9), f.name))
            yield from cast(Iterator[Asset], self._read_split(split[0].split, files, part))
        if results:
            from ._results import ResultsInput, read_results  # results files only (issue 16: start-up)

            yield from read_results(results, ResultsInput(
                report=self.report, min_score=self.context.min_score, images=self.options.images,
                objects=self.objects, index=self._index, asset=self.asset))

    # -- ground-truth files ---------------------------------------------------------------

    def _read_split(self, split: str, files: list[CocoFile], part: tuple[int, int] | None = None,
                    tables: bool = False) -> Iterator[Asset | ShapeTable]:
        """One asset per image of the split.

        A first pass checks every annotation's image and category (so a bad id fails before
        anything is built) and groups the raw annotations by image; the model objects of an
        image are only built when it is yielded, so they never all exist at once.
        """
        images: dict[str, ImageEntry] = {}  # file_name -> image entry
        order: list[str] = []
        pending: dict[str, list[_Pending]] = defaultdict(list)
        tags: dict[str, dict[str, SourceRef]] = defaultdict(dict)
        objects: set[tuple[str, str]] = set()  # (file_name, ann id) of instances objects
        # A sharded run's later image ranges check the whole split again but record nothing
        # of it (captions, repeated keypoint objects): the first range records it once. (On
        # an error the shard's report is dropped anyway.)
        report = self.context.report
        if part is not None and part[0] > 0:
            self.context.report = type(report)()
        for f in files:
            by_id = self.index_images(f, images, order)
            cats = self.categories(f)
            if f.kind == "captions":
                self.captions(f)
                continue
            if tables and len(files) == 1 and f.kind == "instances":
                lane = self._table_lane(f, split, images, order, by_id, cats, part)
                if lane is not None:
                    self.context.report = report
                    yield from lane
                    return
            panoptic = f.kind == "panoptic"
            for index, ann in enumerate(_list(f, "annotations", required=False)):
                if type(ann) is not dict:
                    raise ParseError(f.path, "annotation is not an object", location=_location(f, ann, index))
                name = self.image_of(f, ann, by_id, index)
                if panoptic:
                    pending[name].append(_Pending(f, ann, index, cats, None, True))
                    continue
                cat = self.category_of(f, ann, cats, index)
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
                pending[name].append(_Pending(f, ann, index, cats, cat, shapes))
        self.context.report = report
        if part is not None:
            k, parts = part
            order = order[k * len(order) // parts : (k + 1) * len(order) // parts]
        for name in order:
            yield self.image_asset(name, images[name], pending.pop(name, ()), tags.get(name), split)

    def _table_lane(self, f: CocoFile, split: str, images: Mapping[str, ImageEntry], order: Sequence[str],
                    by_id: Mapping[str, str], cats: Mapping[str, Category],
                    part: tuple[int, int] | None) -> Iterator[Asset | ShapeTable] | None:
        """The split's assets with runs of plain images as tables (one instances file), or
        None when an image or category id is not a plain int or str, or any annotation is
        not an object, names no known image or category: the general first pass then
        raises (or copes) exactly as without tables."""
        anns = f.data.get("annotations")
        anns = [] if anns is None else anns
        if type(anns) is not list or (anns and set(map(type, anns)) != {dict}):
            return None
        place = {name: k for k, name in enumerate(order)}
        try:
            raw_images = {img["id"]: place[by_id[str(img["id"])]] for img in f.data["images"]}
            at = {key: k for k, key in enumerate(cats)}
            raw_cats = {c["id"]: at[str(c["id"])] for c in _list(f, "categories", required=False)}
        except (KeyError, TypeError):
            return None
        image_of = plain_lookup(list(map(dict.get, anns, repeat("image_id"))), raw_images)
        cat_of = plain_lookup(list(map(dict.get, anns, repeat("category_id"))), raw_cats)
        if image_of is None or cat_of is None:
            return None
        lo, hi = 0, len(order)
        if part is not None:
            lo, hi = part[0] * len(order) // part[1], (part[0] + 1) * len(order) // part[1]
        if hi <= lo:
            return iter(())
        image_at = np.asarray(image_of, dtype=np.intp)
        per_image = np.bincount(image_at, minlength=len(order))
        ends = np.cumsum(per_image)
        firsts = ends - per_image
        base = int(firsts[lo])
        # the objects of images lo..hi-1, grouped by image, in file order within each
        index = np.argsort(image_at, kind="stable")[base:int(ends[hi - 1])].tolist()
        starts, stops = (firsts[lo:hi] - base).tolist(), (ends[lo:hi] - base).tolist()
        groups = [(name, images[name], a, b) for name, a, b in zip(order[lo:hi], starts, stops)]
        known = self._classified.pop(f.path, None)
        kinds = known[index] if known is not None and len(known) == len(anns) else None
        return table_items(self, f, split, groups, list(map(anns.__getitem__, index)), index, list(cats.values()),
                           list(map(cat_of.__getitem__, index)), cats, kinds)

    def image_asset(self, name: str, image: ImageEntry, raw: Iterable[_Pending],
                    tags: Mapping[str, SourceRef] | None, split: str) -> Asset:
        """The asset of one image from its grouped raw annotations and image labels."""
        anns = self._build(raw, image)
        if tags:
            self.report.note("coco-labels-as-tags",
                             "image labels (labels_* files) are written as one 'tags' checklist per image")
            anns.append(_tags_annotation("labels", tags))
        return self.asset(name, image, tuple(anns), split)

    def _build(self, raw: Iterable[_Pending], image: ImageEntry) -> list[Any]:
        """The model annotations of one image from its grouped raw annotations."""
        out: list[Any] = []
        plain = self.options.geometry == "auto" and self._fast
        for p in raw:
            if plain and p.cat is not None and p.shapes:
                a = plain_annotation(p.file, p.ann, p.cat)
                if a is not None:
                    out.append(a)
                    continue
            loc = _location(p.file, p.ann, p.index)
            if p.cat is None:  # panoptic segment list
                out.extend(panoptic_annotations(
                    p.file, p.ann, loc, p.cats, image, self.report, skip_crowd=self.options.crowd == "skip",
                    follow_links=self.context.follow_links))
            else:
                out.extend(self.objects.annotations(p.file, p.ann, p.index, loc, p.cat, image, shapes=p.shapes))
        return out

    def asset(self, name: str, image: ImageEntry, annotations: tuple[Any, ...], split: str) -> Asset:
        return Asset(
            name=name,
            media=Media.IMAGE,
            source=SourceRef(file=str(image.file), element=f"image id {image.id}"),
            width=image.width,
            height=image.height,
            annotations=annotations,
            dataset=split,
            fields={"subset": split, "image_id": str(image.id)},
        )

    def _image_name(self, f: CocoFile, file_name: str, loc: str) -> str:
        """The data-row name of an image: its relative ``file_name``; for an absolute one
        (Detectron2 writes ``/data/coco/train2017/x.jpg``), the path relative to
        ``--path-root``, else the base name (noted once; two paths sharing a base name are an
        error). The path is only a key: nothing is read from it."""
        text = file_name.replace("\\", "/")
        if not (text.startswith("/") or _DRIVE.match(text)):
            return clean_relative(file_name, source_file=f.path, location=loc)
        root = self.options.path_root
        if root is not None:
            prefix = root.replace("\\", "/").rstrip("/") + "/"
            if not text.startswith(prefix):
                raise UnsafeInputError(f.path, f"absolute path {file_name!r} is not under --path-root {root!r}", location=loc)
            return clean_relative(text[len(prefix):], source_file=f.path, location=loc)
        name = clean_relative(posixpath.basename(text), source_file=f.path, location=loc)
        seen = self._absolute.setdefault(name, text)
        if seen != text:
            raise ParseError(f.path, f"images {seen!r} and {file_name!r} share the base name {name!r}: "
                             "give --path-root DIR to key them by their path under DIR", location=loc)
        if len(self._absolute) == 1 and seen is text:  # once per run: the first absolute name
            self.report.note("coco-absolute-file-name",
                             f"{f.name}: absolute file_name values (e.g. {file_name!r}) are keyed by their base name "
                             "(--path-root DIR keeps the path relative to DIR); nothing is read from those paths")
        return name

    def _size_from_images(self, name: str) -> tuple[int | None, int | None]:
        """An image's size from ``--images DIR`` (by relative, then base name), for entries without one."""
        root = self.context.images_dir
        assert root is not None
        for rel in dict.fromkeys((name, posixpath.basename(name))):
            try:
                # the folder the user named (--images) is trusted, links included
                path = resolve_inside(root, rel, source_file=root, confine=Confinement(root, True))
            except UnsafeInputError:
                continue
            if path.is_file():
                return image_size(path)
        return None, None

    def image_of(self, f: CocoFile, ann: Mapping[str, Any], by_id: Mapping[str, str], index: int) -> str:
        image_id = ann.get("image_id")
        name = by_id.get(str(image_id)) if image_id is not None else None
        if name is None:
            loc = _location(f, ann, index)
            if image_id is None:
                raise MissingFieldError(f.path, "image_id", location=loc)
            raise InvalidFieldError(f.path, "image_id", f"{image_id!r} names no image of the file", location=loc)
        return name

    def category_of(self, f: CocoFile, ann: Mapping[str, Any], cats: Mapping[str, Category], index: int) -> Category:
        cat = cats.get(str(ann["category_id"])) if "category_id" in ann else None
        if cat is None:
            loc = _location(f, ann, index)
            if "category_id" not in ann:
                raise MissingFieldError(f.path, "category_id", location=loc)
            raise InvalidFieldError(f.path, "category_id", f"{ann['category_id']!r} names no category of the file",
                                    location=loc)
        return cat

    def captions(self, f: CocoFile, anns: Iterable[Any] | None = None) -> None:
        """Report every caption of a captions file (``anns``: its annotations, when streamed)."""
        for index, ann in enumerate(_list(f, "annotations", required=False) if anns is None else anns):
            ref = SourceRef(file=f.name, annotation_id=str(ann["id"]) if isinstance(ann, dict) and "id" in ann else None,
                            element=None if isinstance(ann, dict) and "id" in ann else f"annotations[{index}]")
            self.report.skip_unread(ref, Kind.TEXT, "caption-unsupported",
                                    "captions have no Labelbox target on images (not converted)")

    def _index(self, f: CocoFile) -> tuple[dict[str, ImageEntry], dict[str, str], dict[str, Category]]:
        """The images and categories of one file (the ``--coco-images`` index of results files):
        (file_name -> entry, image id -> file_name, category id -> category)."""
        images: dict[str, ImageEntry] = {}
        by_id = self.index_images(f, images, [])
        return images, by_id, self.categories(f)

    def index_images(self, f: CocoFile, images: dict[str, ImageEntry], order: list[str]) -> dict[str, str]:
        by_id: dict[str, str] = {}
        path, images_dir, plain, add = f.path, self.context.images_dir, is_plain_name, order.append
        for index, img in enumerate(_list(f, "images", required=True)):
            if not isinstance(img, dict):
                raise ParseError(path, "image entry is not an object", location=f"images[{index}]")
            if "id" not in img:
                raise MissingFieldError(path, "id", location=f"images[{index}]")
            file_name = img.get("file_name")
            if not isinstance(file_name, str) or not file_name:
                raise MissingFieldError(path, "file_name", location=f"image id {img['id']}")
            name = file_name if plain(file_name) else self._image_name(f, file_name, f"image id {img['id']}")
            width, height = img.get("width"), img.get("height")
            ok = type(width) is int and type(height) is int and width > 0 and height > 0
            if ok and max(width or 0, height or 0) > MAX_SIDE:
                raise InvalidFieldError(path, "width", f"{width}x{height} is beyond any image "
                                        f"(at most {MAX_SIDE:,} pixels a side)", location=f"image id {img['id']}")
            if not ok and images_dir is not None:
                width, height = self._size_from_images(name)
                ok = width is not None
            known = images.get(name)
            if known is None:
                images[name] = ImageEntry(img["id"], path, width if ok else None, height if ok else None)
                add(name)
            elif ok and known.width is not None and (known.width, known.height) != (width, height):
                raise ParseError(
                    f.path,
                    f"image {name!r} is {width}x{height} here but {known.width}x{known.height} in {known.file}",
                    location=f"image id {img['id']}",
                )
            elif ok and known.width is None:
                images[name] = replace(known, width=width, height=height)
            key = str(img["id"])
            if key in by_id:
                raise ParseError(f.path, f"image id {img['id']} appears twice", location=f"images[{index}]")
            by_id[key] = name
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
            if not cat["name"].strip():
                raise InvalidFieldError(f.path, "name", "is empty: a category needs a class name",
                                        location=f"category id {cat['id']}")
            if str(cat["id"]) in cats:
                raise ParseError(f.path, f"category id {cat['id']} appears twice ({cats[str(cat['id'])].name!r} "
                                 f"and {cat['name']!r})", location=loc)
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


def _coco_file(path: Path, data: Any, results_before: int) -> CocoFile:
    """A parsed file with its kind, split and role (``results_before``: results files already
    seen, which orders this one among them)."""
    kind = file_kind(path, data)
    if kind != "results" and not isinstance(data, dict):
        raise ParseError(path, "top level must be an object (or a list, for a results file)")
    return CocoFile(path, data, _split_of(path), kind, ordinal=results_before if kind == "results" else 0,
                    role=_role_of(path, kind))


def _image_names(data: Any) -> list[str] | None:
    """The ``file_name`` of every image of a parsed file, or None when the file is not a
    well-formed object with an ``images`` list (then it is read with its split's files)."""
    images = data.get("images") if isinstance(data, dict) else None
    if not isinstance(images, list):
        return None
    names = [img.get("file_name") for img in images if isinstance(img, dict)]
    if len(names) != len(images) or not all(isinstance(n, str) for n in names):
        return None
    return [str(n) for n in names]


def _starts_list(path: Path) -> bool:
    """Whether a JSON file's top level is a list (a results file), from its first bytes."""
    with open(path, "rb") as fh:
        head = fh.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"[")


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
