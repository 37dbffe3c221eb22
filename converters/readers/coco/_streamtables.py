"""A streamed COCO file in batches (issue 16): the scan and the read, a list of objects at a time.

:mod:`._streamed` scans and reads a big file one annotation at a time, a few microseconds of
Python each: at 400,000 objects, seconds per pass. Here both passes take the annotations in
batches of a few thousand and do per batch what the per-object code does per object, with
the same lookups (``str(image id)`` in the image index, ``str(category id)`` in the
categories), all at once:

* :func:`scan_batch`: the kinds each class is written with (:func:`._table.plain_kinds`),
  whether the file draws anything, which images have annotations and whether each image's
  annotations form one run; the image and category checks. A batch it cannot vouch for (an
  object that is not a dict, an unknown id) is left to the per-object scan, which raises
  the one-line error or copes exactly as before.
* :func:`stream_tables`: the assets of a prepared, contiguous instances file, with runs of
  plain images as :class:`~converters.table.ShapeTable` values (:func:`._table.table_items`),
  in the order :func:`._streamed.stream_assets` yields them (images without annotations at
  their place).

tests/readers/test_coco_stream.py checks both against the per-object code on every COCO
fixture, streamed, and the CLI differential tests compare the bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import repeat
from operator import itemgetter
from typing import Any

import numpy as np

from ...errors import ParseError
from ...model import Asset
from ...table import ShapeTable
from ._streamed import Host, Streamed
from ._table import UNKNOWN, Group, TableHost, table_items

__all__ = ["stream_tables"]

def stream_tables(host: Host, s: Streamed, batches: Iterable[list[Any]]) -> Iterator[Asset | ShapeTable]:
    """The assets of a prepared, contiguous instances file (``s``) from its annotations in
    ``batches``, with runs of plain images as tables; what :func:`._streamed.stream_assets`
    yields, in the same order."""
    f, split, order, entries = s.file, s.file.split, s.order, s.entries
    place = s.by_id.place
    cat_list = list(s.cats.values())
    cat_at = {key: i for i, key in enumerate(s.cats)}
    annotated = s.annotated
    yielded = bytearray(len(order))
    lane: TableHost = host  # type: ignore[assignment]  # the reader is both hosts
    ahead = 0  # images before this place in ``order`` are yielded or annotated
    # the objects of the last image of the last batch (it may go on in the next one)
    carry: list[Any] = []
    carry_at: list[int] = []
    carry_cat: list[int] = []
    seen = 0  # objects read before this batch (their index in the file)

    plain = np.frombuffer(s.plain, dtype=np.uint8) if s.plain is not None else None

    def known(base: int, n: int) -> np.ndarray | None:
        """What the scan classified of objects ``base:base + n``, when it classified them all."""
        if plain is None or len(plain) < base + n:
            return None
        part = plain[base : base + n]
        return None if (part == UNKNOWN).any() else part

    def groups_of(at: list[int], base: int) -> list[Group]:
        """Images with their objects' ranges (one run each; ``at``: each object's image),
        each after the images without annotations that come before it in ``order``."""
        nonlocal ahead
        out: list[Group] = []
        first = 0
        for end in _run_ends(at):
            image = at[first]
            if yielded[image]:  # the scan found every run contiguous: the file changed since
                raise ParseError(f.path, f"image {order[image]!r} has annotations in two runs: the file changed "
                                 "while it was read", location=f"annotations[{base + first}]")
            while ahead < image:
                if not annotated[ahead] and not yielded[ahead]:
                    yielded[ahead] = 1
                    out.append((order[ahead], entries[ahead], first, first))
                ahead += 1
            yielded[image] = 1
            out.append((order[image], entries[image], first, end))
            first = end
        return out

    for batch in batches:
        try:
            at = list(map(place.__getitem__, map(str, map(dict.get, batch, repeat("image_id")))))
            cat = list(map(cat_at.__getitem__, map(str, map(itemgetter("category_id"), batch))))
        except (KeyError, TypeError, AttributeError):
            for index, ann in enumerate(batch, start=seen):  # the file changed since the scan
                host.image_of(f, ann, s.by_id, index)
                host.category_of(f, ann, s.cats, index)
            raise
        base = seen - len(carry)
        seen += len(batch)
        anns, at, cat = carry + batch, carry_at + at, carry_cat + cat
        ends = _run_ends(at)
        last = ends[-2] if len(ends) > 1 else 0  # the last image's run may go on in the next batch: it waits
        carry, carry_at, carry_cat = anns[last:], at[last:], cat[last:]
        if last:
            yield from table_items(lane, f, split, groups_of(at[:last], base), anns[:last],
                                   range(base, base + last), cat_list, cat[:last], s.cats, known(base, last))
    if carry:
        base = seen - len(carry)
        yield from table_items(lane, f, split, groups_of(carry_at, base), carry,
                               range(base, seen), cat_list, carry_cat, s.cats, known(base, len(carry)))
    rest: list[Group] = [(name, entries[i], 0, 0) for i, name in enumerate(order) if not yielded[i]]
    if rest:
        yield from table_items(lane, f, split, rest, [], [], cat_list, [], s.cats)


def _run_ends(at: list[int]) -> list[int]:
    """Where each run of equal values in ``at`` ends (the last one at ``len(at)``)."""
    values = np.asarray(at)
    return [*(np.flatnonzero(values[1:] != values[:-1]) + 1).tolist(), len(at)]
