"""A streamed COCO file turned into assets, one image's annotations at a time.

:func:`prepare` runs before anything is yielded (from ``label_kinds()``, which the writer
asks first): the top level (images, categories) is indexed with the reader's own checks,
then one scan over the annotations checks each one's image and category (so a bad id fails
before any asset is built, as when the file is read whole), and learns the file's kind, the
kinds each class is written with, and whether each image's annotations are **contiguous**.

:func:`stream_assets` then reads the annotations again and yields an image's asset as soon
as its run of annotations ends: only that image's raw annotations exist at once. Images
without annotations are yielded at their place in ``images`` (before the next annotated
image that follows them there), so an image-ordered file gives exactly the assets, in the
same order, as reading it whole.

When an image's annotations are **not contiguous** (or the file shares its split with other
files, whose objects merge by image), no asset can be yielded before the whole file is seen:
the file is then read whole (:meth:`Streamed.whole`, with a report note saying why), which
keeps every rule that needs all of an image's annotations (repeated ids, composite masks,
the per-row limit) exact, at the cost of memory for that file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ...errors import ParseError
from ...model import Asset, Kind, SourceRef
from ...report import Report
from . import _stream
from ._files import is_geometric, kind_of_annotations, load_coco_file
from ._objects import Category, CocoFile, ImageEntry, Pending
from ._table import UNKNOWN, ScanState, batched, pieces, scan_batch

__all__ = ["Pending", "Streamed", "prepare", "stream_assets"]


class Host(Protocol):
    """What streaming takes from the COCO reader (a protocol: this module does not import it)."""

    @property
    def report(self) -> Report: ...

    def index_images(self, f: CocoFile, images: dict[str, ImageEntry], order: list[str]) -> dict[str, str]: ...

    def categories(self, f: CocoFile) -> dict[str, Category]: ...

    def image_of(self, f: CocoFile, ann: Mapping[str, Any], by_id: Mapping[str, str], index: int) -> str: ...

    def category_of(self, f: CocoFile, ann: Mapping[str, Any], cats: Mapping[str, Category], index: int) -> Category: ...

    def captions(self, f: CocoFile, anns: Iterable[Any] | None = None) -> None: ...

    def scan_kinds(self, ann: Any, names: Mapping[str, Any], out: dict[str, set[Kind]]) -> None: ...

    def image_asset(self, name: str, image: ImageEntry, raw: Iterable[Pending],
                    tags: Mapping[str, SourceRef] | None, split: str) -> Asset: ...


class _Names(Mapping[str, str]):
    """Image id -> name, through the image's place in ``order`` (what ``image_of`` looks up)."""

    __slots__ = ("order", "place")

    def __init__(self, place: dict[str, int], order: list[str]) -> None:
        self.place, self.order = place, order

    @classmethod
    def of(cls, by_id: dict[str, str], index: dict[str, Any], order: list[str]) -> _Names:
        """From the reader's id -> name map, rewritten in place (no second dict of 50,000)."""
        for i, name in enumerate(order):
            index[name] = i
        place: dict[str, Any] = by_id
        for key, name in by_id.items():
            place[key] = index[name]
        return cls(place, order)

    def __getitem__(self, key: str) -> str:
        return self.order[self.place[key]]

    def __iter__(self) -> Iterator[str]:
        return iter(self.place)

    def __len__(self) -> int:
        return len(self.place)


@dataclass(slots=True)
class Streamed:
    """One prepared streamed file: its top level indexed, its annotations scanned.

    Attributes:
        file: the file (``data`` is its top level without ``annotations`` and ``images``).
        images: how many entries ``images`` lists (the progress total).
        entries / order / by_id: the image index: entries and names in file order, and
            image id -> name (through the place in ``order``: one dict for 50,000 images, not three).
        cats: category id -> category.
        kinds: the kinds each class is written with (``label_kinds``).
        contiguous: every image's annotations form one run in the file.
        annotated: per image (index in ``order``), 1 when it has annotations.
    """

    file: CocoFile
    images: int
    entries: list[ImageEntry]
    order: list[str]
    by_id: _Names
    cats: dict[str, Category]
    kinds: dict[str, set[Kind]]
    contiguous: bool
    annotated: bytearray
    #: the scan's classify() of each object (UNKNOWN: not classified), or None
    plain: bytearray | None = None

    def whole(self, report: Report, files: int) -> None:
        """Fall back to the whole file (see the module docstring), noting why in the report."""
        why = "shares its split with other files (objects merge by image)" if files > 1 else \
            "lists some image's annotations in more than one run"
        report.note("coco-stream-whole", f"{self.file.name} {why}: read whole, not streamed "
                    "(memory grows with the file)")
        self.file.data = load_coco_file(self.file.path)


def prepare(path: Path, host: Host, split: str, role_of: Callable[[Path, str], str],
            fast: bool = False) -> Streamed | None:
    """Index and scan a streamed file; None when it cannot be streamed (a results list, or a
    top level the whole-file path must refuse with its own error). With ``fast``, batches of
    an instances file are scanned at once where they can be (:func:`._streamtables.scan_batch`)."""
    head = _stream.read_head(path)
    if head is None or not head.has_annotations:
        return None  # a small or malformed file: the whole-file path reads (or refuses) it
    head.complete("images", "categories")
    top = head.top
    raw_cats = top.get("categories")
    names = {str(c.get("id")): c.get("name") for c in raw_cats if isinstance(c, dict)} if isinstance(raw_cats, list) else {}
    # Indexed first, as the whole-file path does (images, categories, then annotations); the
    # raw entries go as soon as they are indexed (at 50,000 images they are the peak).
    f = CocoFile(path, top, split, "instances", role=role_of(path, "instances"))
    index: dict[str, ImageEntry] = {}
    order: list[str] = []
    by_name = host.index_images(f, index, order)
    raw = top.pop("images", None)
    count = len(raw) if isinstance(raw, list) else 0
    del raw
    entries = [index[name] for name in order]
    by_id = _Names.of(by_name, index, order)
    del index, by_name
    checks = _Checks(host, f, by_id, host.categories(f))
    annotated = bytearray(len(order))  # 1: the image has annotations (a run of them was met)
    kinds: dict[str, set[Kind]] = {}
    first: list[dict[str, Any]] = []  # the first 50 annotation objects tell the kind
    head_items: list[Any] | None = []  # the first 50 items, checked once the kind is known
    geometric = False
    current: int | None = None
    contiguous = True
    state = ScanState(annotated) if fast else None
    i = -1
    for batch in batched(pieces(path)):
        if state is not None and head_items is None and f.kind == "instances":
            state.geometric, state.contiguous = geometric, contiguous
            state.current = -1 if current is None else current
            if scan_batch(batch, state, by_id.place, checks.cats, names, kinds, host.scan_kinds):
                geometric, current, contiguous = state.geometric, state.current, state.contiguous
                i += len(batch)
                continue
        if state is not None:
            state.plain += bytes([UNKNOWN]) * len(batch)  # scanned one by one, below
        for ann in batch:
            i += 1
            host.scan_kinds(ann, names, kinds)
            if type(ann) is dict:
                geometric = geometric or is_geometric(ann)
                at = by_id.place.get(str(ann.get("image_id")))
                if at != current and at is not None:
                    contiguous = contiguous and not annotated[at]  # a second run of this image
                    annotated[at] = 1
                current = at
            if head_items is None:
                checks.check(i, ann)
                continue
            head_items.append(ann)
            if type(ann) is dict:
                first.append(ann)
            if i == 49:  # which checks apply is known now (labels or instances: the same ones)
                f.kind = kind_of_annotations(path, first, True)
                checks.check_all(head_items)
                head_items = None
    f.kind = kind_of_annotations(path, first, geometric)
    f.role = role_of(path, f.kind)
    if head_items is not None:  # fewer than 50 annotations
        checks.check_all(head_items)
    return Streamed(f, count, entries, order, by_id, checks.cats, kinds, contiguous, annotated,
                    state.plain if state is not None else None)


class _Checks:
    """The checks the whole-file path makes on each annotation before building anything:
    its image and its category."""

    def __init__(self, host: Host, f: CocoFile, by_id: Mapping[str, str], cats: dict[str, Category]) -> None:
        self.host, self.f, self.by_id, self.cats = host, f, by_id, cats

    def check_all(self, items: list[Any]) -> None:
        for index, ann in enumerate(items):
            self.check(index, ann)

    def check(self, index: int, ann: Any) -> None:
        f = self.f
        if f.kind == "captions":
            return
        if type(ann) is not dict:
            raise ParseError(f.path, "annotation is not an object", location=_location(f, ann, index))
        self.host.image_of(f, ann, self.by_id, index)
        if f.kind != "panoptic":
            self.host.category_of(f, ann, self.cats, index)


def stream_assets(host: Host, s: Streamed) -> Iterator[Asset]:
    """The assets of a prepared file whose images' annotations are contiguous."""
    f, split, order = s.file, s.file.split, s.order
    if f.kind == "captions":
        host.captions(f, _stream.iter_items(f.path))
        for name, entry in zip(order, s.entries):
            yield host.image_asset(name, entry, (), None, split)
        return
    yielded = bytearray(len(order))
    panoptic, labels = f.kind == "panoptic", f.kind == "labels"
    current: str | None = None
    group: list[Pending] = []
    tags: dict[str, SourceRef] = {}
    ahead = 0  # images before this index in ``order`` are yielded or annotated

    def flush() -> Asset:
        assert current is not None
        yielded[at] = 1
        return host.image_asset(current, s.entries[at], group, tags, split)

    for index, ann in enumerate(_stream.iter_items(f.path)):
        name = host.image_of(f, ann, s.by_id, index)
        if name != current:
            if current is not None:
                yield flush()
                group, tags = [], {}
            at = s.by_id.place[str(ann["image_id"])]
            if yielded[at]:  # the scan found every run contiguous: the file changed since
                raise ParseError(f.path, f"image {name!r} has annotations in two runs: the file changed while "
                                 "it was read", location=_location(f, ann, index))
            while ahead < at:  # images without annotations, at their place
                if not s.annotated[ahead] and not yielded[ahead]:
                    yielded[ahead] = 1
                    yield host.image_asset(order[ahead], s.entries[ahead], (), None, split)
                ahead += 1
            current = name
        if panoptic:
            group.append(Pending(f, ann, index, s.cats, None, True))
            continue
        cat = host.category_of(f, ann, s.cats, index)
        if labels:
            tags.setdefault(cat.name, SourceRef(file=f.name, annotation_id=str(ann.get("id", f"#{index}"))))
            continue
        group.append(Pending(f, ann, index, s.cats, cat, True))
    if current is not None:
        yield flush()
    for i, name in enumerate(order):
        if not yielded[i]:
            yield host.image_asset(name, s.entries[i], (), None, split)


def _location(f: CocoFile, ann: Any, index: int) -> str:
    if f.kind == "panoptic":
        if isinstance(ann, dict) and "image_id" in ann:
            return f"annotations[{index}] (image id {ann['image_id']})"
        return f"annotations[{index}]"
    if isinstance(ann, dict) and "id" in ann:
        return f"annotation id {ann['id']}"
    return f"annotations[{index}]"
