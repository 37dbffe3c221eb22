"""The table lane of the COCO reader (issue 16): runs of plain images as ShapeTables.

An image whose objects are all plain (``_plain.py``: a box, or one polygon ring, and no
attributes, score, keypoints or crowd flag) is handed to the writer as part of a
:class:`~converters.table.ShapeTable`: its objects' numbers go into shared arrays with a
few C-speed passes (one type check over every number, one ``np.fromiter``), instead of one
model object each. Any image with an object this lane is not sure of (a string where a
number should be, an overflowing integer, a 1e300 coordinate...) is yielded as a normal
asset, built the general way; so is every object the writer later declines (the table's
``build``). The test here is stricter than ``plain_annotation``'s, never looser: an object
taken here is one ``plain_annotation`` takes, with the same numbers
(tests/readers/test_coco_table.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import chain, compress, repeat
from operator import itemgetter
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ...model import Asset, Kind
from ...table import ShapeTable
from . import _stream
from ._files import is_geometric
from ._objects import Category, CocoFile, ImageEntry, Pending
from ._plain import PLAIN_KEYS

__all__ = ["BATCH", "TABLE_IMAGES", "UNKNOWN", "Group", "ScanState", "TableHost", "batched", "classify", "pieces", "plain_kinds",
           "plain_lookup", "scan_batch", "table_items"]

#: Images per table at most: big enough that the column passes pay, small enough that a
#: table's rows are written (and forgotten) soon.
TABLE_IMAGES = 512
#: Coordinates beyond this (or not finite) leave the lane: any sum of them stays finite,
#: which is what ``plain_annotation``'s ``finite()`` asks.
_LIMIT = 1e300
_NUMBERS = frozenset({int, float})
_BOX, _POLYGON = 1, 2
_FIRST = itemgetter(0)


class TableHost(Protocol):
    """What the lane takes from the COCO reader (a protocol: no import of the reader)."""

    def image_asset(self, name: str, image: ImageEntry, raw: Sequence[Pending],
                    tags: Mapping[str, Any] | None, split: str) -> Asset: ...

    def asset(self, name: str, image: ImageEntry, annotations: tuple[Any, ...], split: str) -> Asset: ...


#: One image and its objects: (name, entry, first, end): its objects are ``anns[first:end]``.
Group = tuple[str, ImageEntry, int, int]


def table_items(
    host: TableHost,
    f: CocoFile,
    split: str,
    groups: Sequence[Group],
    anns: Sequence[dict[str, Any]],
    index: Sequence[int],
    cats: Sequence[Category],
    cat_of: Sequence[int],
    by_id: Mapping[str, Category],
    kinds: np.ndarray | None = None,
) -> Iterator[Asset | ShapeTable]:
    """The assets of ``groups`` (images in order, their objects contiguous in ``anns``,
    each object's position in its file in ``index`` and its category in ``cats[cat_of[k]]``;
    ``by_id`` is the file's category map; ``kinds``: :func:`classify` of ``anns`` when
    known already), with every run of plain images as tables of at
    most :data:`TABLE_IMAGES` images."""
    kind = classify(anns) if kinds is None else kinds.copy()
    box_at, poly_at = np.flatnonzero(kind == _BOX), np.flatnonzero(kind == _POLYGON)
    # each object's row in ``boxes`` and number among the polygons (where its kind says so)
    box_row = np.cumsum(kind == _BOX) - 1
    poly_no = np.cumsum(kind == _POLYGON) - 1
    boxes, box_ok = _numbers(list(map(dict.__getitem__, map(anns.__getitem__, box_at.tolist()), repeat("bbox"))), 4)
    coords, counts, poly_ok = _rings(list(map(_FIRST, map(dict.__getitem__, map(anns.__getitem__, poly_at.tolist()),
                                                              repeat("segmentation")))))
    kind[box_at[~box_ok]] = 0
    kind[poly_at[~poly_ok]] = 0
    starts = np.concatenate(([0], np.cumsum(counts)))
    plain = kind != 0
    prefix = f"{f.role or f.kind}:"
    labels = [c.name for c in cats]

    def pending(first: int, end: int) -> list[Pending]:
        return [Pending(f, anns[k], index[k], by_id, cats[cat_of[k]], True) for k in range(first, end)]

    def table(run: Sequence[Group]) -> ShapeTable:
        first, end = run[0][2], run[-1][3]
        is_poly = kind[first:end] == _POLYGON
        polys = poly_no[first:end][is_poly]
        pc = counts[polys]
        ring_bounds = np.concatenate(([0], np.cumsum(pc)))
        take = np.repeat(starts[polys] - ring_bounds[:-1], pc) + np.arange(int(ring_bounds[-1]))
        table_boxes = np.full((end - first, 4), np.nan)
        table_boxes[~is_poly] = boxes[box_row[first:end][~is_poly]]
        bounds = np.array([g[2] - first for g in run] + [end - first], dtype=np.intp)
        sizes = np.array([(e.width, e.height) if e.width is not None and e.height is not None else (np.nan, np.nan)
                          for _, e, _, _ in run], dtype=np.float64).reshape(-1, 2)

        def head(i: int) -> Asset:
            name, entry, _, _ = run[i]
            return host.asset(name, entry, (), split)

        def build(i: int) -> Asset:
            name, entry, a, b = run[i]
            return host.image_asset(name, entry, pending(a, b), None, split)

        return ShapeTable(
            names=[g[0] for g in run], sizes=sizes, bounds=bounds, labels=labels,
            label=np.asarray(cat_of[first:end], dtype=np.intp),
            keys=[prefix + key for key in map(str, map(itemgetter("id"), anns[first:end]))],
            polygon=is_poly, boxes=table_boxes, rings=ring_bounds, coords=coords[take], head=head, build=build,
        )

    # per group: whether all its objects are plain (from one cumulative count, not a call each)
    off = np.concatenate(([0], np.cumsum(~plain)))
    firsts = np.fromiter((g[2] for g in groups), dtype=np.intp, count=len(groups))
    ends = np.fromiter((g[3] for g in groups), dtype=np.intp, count=len(groups))
    all_plain = (off[ends] - off[firsts] == 0).tolist()
    run: list[Group] = []
    for group, ok in zip(groups, all_plain):
        if ok:
            run.append(group)
            if len(run) == TABLE_IMAGES:
                yield table(run)
                run = []
            continue
        if run:
            yield table(run)
            run = []
        name, entry, first, end = group
        yield host.image_asset(name, entry, pending(first, end), None, split)
    if run:
        yield table(run)


def plain_kinds(anns: Sequence[dict[str, Any]], names: Mapping[str, Any], out: dict[str, set[Kind]],
                scan_one: Callable[[Any, Mapping[str, Any], dict[str, set[Kind]]], None]) -> np.ndarray:
    """Add the kinds ``anns`` (objects) are written with to ``out`` (class name -> kinds),
    as the reader's ``scan_kinds`` (``scan_one``) does one by one, with its lookup
    (``names``: ``str(category id)`` -> name): the plain objects all at once, the others
    through ``scan_one``. Returns :func:`classify` of ``anns``."""
    kinds = classify(anns)
    plain = (kinds != 0).tolist()
    ids = list(map(dict.get, anns, repeat("category_id")))
    if set(map(type, ids)) <= {int, str}:  # the distinct (id, kind) pairs, then a name each
        # (ints and strs: equal ids have equal text, so deduplicating first loses nothing)
        pairs = [(names.get(str(c)), kind) for c, kind in set(compress(zip(ids, kinds.tolist()), plain))]
    else:
        pairs = list(set(compress(zip(map(names.get, map(str, ids)), kinds.tolist()), plain)))
    for name, kind in pairs:
        if isinstance(name, str):
            out.setdefault(name, set()).add(Kind.BBOX if kind == _BOX else Kind.POLYGON)
    for k in np.flatnonzero(kinds == 0).tolist():
        scan_one(anns[k], names, out)
    return kinds


def classify(anns: Sequence[dict[str, Any]]) -> np.ndarray:
    """Per object: a plain box (1), a plain one-ring polygon (2) or neither (0), from its
    keys and shapes (numbers are checked later, all at once). A few C-speed passes over the
    whole list; an unusual file (keys beyond the plain ones, crowd flags that are not
    numbers, shapes of other types) is classified object by object instead."""
    try:
        usual = (set().union(*anns) <= PLAIN_KEYS and all(map(dict.__contains__, anns, repeat("id")))
                 and set(map(dict.get, anns, repeat("iscrowd"))) <= {0, None, False})
    except TypeError:  # an unhashable iscrowd value
        usual = False
    segs: list[Any] = list(map(dict.get, anns, repeat("segmentation"))) if usual else []
    types = set(map(type, segs))
    if not usual or not types <= {list, type(None)}:
        return _classify_each(anns)
    if types <= {list}:
        size = np.fromiter(map(len, segs), dtype=np.intp, count=len(segs))
    else:  # no segmentation (or null) is a box's
        size = np.fromiter((0 if s is None else len(s) for s in segs), dtype=np.intp, count=len(segs))
    out = np.zeros(len(anns), dtype=np.uint8)
    at = np.flatnonzero(size == 0)
    boxes: list[Any] = list(map(dict.get, map(anns.__getitem__, at.tolist()), repeat("bbox")))
    if set(map(type, boxes)) <= {list} and set(map(len, boxes)) <= {4}:
        out[at] = _BOX
    else:
        out[[k for k, b in zip(at.tolist(), boxes) if type(b) is list and len(b) == 4]] = _BOX
    at = np.flatnonzero(size == 1)
    flats = list(map(_FIRST, map(segs.__getitem__, at.tolist())))
    if set(map(type, flats)) <= {list}:
        out[at[np.fromiter(map(len, flats), dtype=np.intp, count=len(flats)) % 2 == 0]] = _POLYGON
    else:
        out[[k for k, f in zip(at.tolist(), flats) if type(f) is list and not len(f) % 2]] = _POLYGON
    return out


def _classify_each(anns: Sequence[dict[str, Any]]) -> np.ndarray:
    """:func:`classify`, object by object."""
    out = bytearray(len(anns))
    plain_keys = PLAIN_KEYS.issuperset
    for k, a in enumerate(anns):
        if "id" not in a or not plain_keys(a) or a.get("iscrowd") in (1, True):
            continue
        seg = a.get("segmentation")
        if seg is None or (type(seg) is list and not seg):
            bbox = a.get("bbox")
            if type(bbox) is list and len(bbox) == 4:
                out[k] = _BOX
        elif type(seg) is list and len(seg) == 1:
            flat = seg[0]
            if type(flat) is list and not len(flat) % 2:
                out[k] = _POLYGON
    result: np.ndarray = np.frombuffer(bytes(out), dtype=np.uint8).copy()
    return result


def _numbers(lists: list[Any], width: int) -> tuple[np.ndarray, np.ndarray]:
    """``(n, width)`` float64 of n lists of ``width`` JSON numbers, and which rows the lane
    takes: every value an int or float (not a bool, not a string) of magnitude <= 1e300.
    Boxes become ``x_min, y_min, x_max, y_max`` (the corners ``Box.from_xywh`` computes)."""
    if not lists:
        return np.zeros((0, width)), np.zeros(0, dtype=bool)
    arr: np.ndarray | None = None
    if set(map(type, chain.from_iterable(lists))) <= _NUMBERS:  # (every list has ``width`` items)
        try:
            arr = np.fromiter(chain.from_iterable(lists), dtype=np.float64, count=width * len(lists))
            arr = arr.reshape(-1, width)
        except (OverflowError, ValueError):
            arr = None
    if arr is None:  # some value is not a plain number: row by row (rare)
        arr = np.full((len(lists), width), np.nan)
        for i, values in enumerate(lists):
            if set(map(type, values)) <= _NUMBERS:
                try:
                    arr[i] = values
                except (OverflowError, ValueError):
                    pass
    ok = (np.abs(arr) <= _LIMIT).all(axis=1)
    arr[:, 2:] += arr[:, :2]  # x + w, y + h (float64, as Box.from_xywh adds them)
    return arr, ok


def _rings(flats: list[list[Any]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One ``(m, 2)`` float64 array of every ring's points, the point count of each ring,
    and which rings the lane takes (every value a plain number of magnitude <= 1e300)."""
    counts = np.fromiter(map(len, flats), dtype=np.intp, count=len(flats)) // 2
    total = int(counts.sum())
    ok = np.ones(len(flats), dtype=bool)
    values: np.ndarray | None = None
    if set(map(type, chain.from_iterable(flats))) <= _NUMBERS:
        try:
            values = np.fromiter(chain.from_iterable(flats), dtype=np.float64, count=2 * total)
        except (OverflowError, ValueError):
            values = None
    if values is None:  # row by row (rare)
        values = np.full(2 * total, np.nan)
        at = 0
        for i, flat in enumerate(flats):
            if set(map(type, flat)) <= _NUMBERS:
                try:
                    values[at:at + len(flat)] = flat
                except (OverflowError, ValueError):
                    ok[i] = False
            at += len(flat)
    bad = ~(np.abs(values) <= _LIMIT)
    if bad.any():
        per_value = np.repeat(np.arange(len(flats)), 2 * counts)
        ok &= np.bincount(per_value[bad], minlength=len(flats)) == 0
    return values.reshape(-1, 2), counts, ok


def plain_lookup(values: Sequence[Any], raw: Mapping[Any, int]) -> list[int] | None:
    """Positions of raw ids (``image_id`` / ``category_id`` values) in ``raw``, or None when
    one is missing, of a type other than int or str (``str()`` of a float or bool names
    another id than its hash does), or unknown: the general way then says which."""
    if not set(map(type, values)) <= {int, str}:
        return None
    try:
        return list(map(raw.__getitem__, values))
    except KeyError:
        return None


# -- streamed files: the scan a batch at a time (see _streamtables) -------------------

#: Objects per batch at least (the parser's pieces are joined up to this many).
BATCH = 4096


def pieces(path: Path) -> Iterator[list[Any]]:
    """The annotations of a streamed file in lists, in file order (the parser's pieces)."""
    return _stream.item_batches(path)


def batched(pieces: Iterable[list[Any]], size: int = BATCH) -> Iterator[list[Any]]:
    """The parser's lists of items joined into lists of at least ``size`` (the last may be
    shorter), in order."""
    out: list[Any] = []
    for piece in pieces:
        out += piece
        if len(out) >= size:
            yield out
            out = []
    if out:
        yield out


class ScanState:
    """What the scan carries from one batch to the next (``annotated``: per image, 1 when a
    run of its annotations was met; the scan's own bytearray, written through), and
    ``plain``: :func:`classify` of every object scanned, 255 for those scanned one by one
    (the read reuses it rather than classify the file again)."""

    __slots__ = ("annotated", "contiguous", "current", "geometric", "plain")

    def __init__(self, annotated: bytearray) -> None:
        self.annotated = np.frombuffer(annotated, dtype=np.uint8)
        self.plain = bytearray()
        self.contiguous = True
        self.geometric = False
        self.current = -1  # the image of the last object scanned


#: ``ScanState.plain`` of an object the scan did not classify.
UNKNOWN = 255


def scan_batch(batch: list[Any], state: ScanState, place: Mapping[str, int], cats: Mapping[str, Category] | None,
               names: Mapping[str, Any], kinds: dict[str, set[Kind]],
               scan_one: Callable[[Any, Mapping[str, Any], dict[str, set[Kind]]], None]) -> bool:
    """Scan a batch of annotations at once: checks (image, and category unless ``cats`` is
    None), kinds, runs. False, having recorded nothing, when a check fails or an item is not
    an object: the per-object scan then goes through the batch and says what is wrong."""
    if not batch or set(map(type, batch)) != {dict}:
        return False
    ids = list(map(dict.get, batch, repeat("image_id")))
    if None in ids:
        return False
    try:
        at = np.fromiter(map(place.__getitem__, map(str, ids)), dtype=np.intp, count=len(ids))
        if cats is not None:
            list(map(cats.__getitem__, map(str, map(itemgetter("category_id"), batch))))
    except KeyError:
        return False
    plain = plain_kinds(batch, names, kinds, scan_one)
    state.plain += plain.tobytes()
    state.geometric = state.geometric or bool(plain.any()) or any(map(is_geometric, batch))
    starts = np.concatenate(([0], np.flatnonzero(at[1:] != at[:-1]) + 1))
    runs = at[starts]
    if runs[0] == state.current:
        runs = runs[1:]
    if len(np.unique(runs)) != len(runs) or state.annotated[runs].any():
        state.contiguous = False  # an image met again in a second run
    state.annotated[runs] = 1
    state.current = int(at[-1])
    return True
