"""ShapeTable: plain boxes and one-ring polygons of many image assets, held as columns.

Why (issue 16): a val2017-sized COCO file is ~37,000 boxes and polygons on 5,000 images,
nearly all already valid. Built one model object per annotation and turned into rows one
dict at a time, they cost several times what loading the file costs. A reader that can tell
such objects cheaply hands them over as a table instead: one array of coordinates for all
the table's polygons, one of corners for its boxes, a label and a key per object. The
writer checks and formats whole columns at once (:mod:`converters.tablerows`), and whatever
it cannot vouch for (a box to clip, a polygon to repair, a repeated id) it asks the table
for as a real :class:`~converters.model.Asset` (:attr:`ShapeTable.build`) and writes the
general way, so a table never changes a byte of the output (tests/test_table_lane.py).

A table is only an encoding of a run of assets: :meth:`ShapeTable.assets` gives them back,
and code that does not know tables never sees one (readers' ``read()`` yields assets).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from .model import Asset

__all__ = ["ShapeTable"]


@dataclass(frozen=True, slots=True, eq=False)
class ShapeTable:
    """Consecutive image assets whose annotations are all plain boxes and one-ring polygons
    (no holes, classifications, confidence or attributes), in columns.

    The assets are images with no global key, no text and no ``name`` field of their own
    (what a COCO image is): under the default key template, an asset's data row is its name.

    Attributes:
        names: the assets' names, in order.
        sizes: ``(assets, 2)`` float64 width and height of each image (NaN when unknown).
        bounds: ``len(names) + 1`` offsets: the annotations of asset ``i`` are rows
            ``bounds[i]:bounds[i + 1]`` of every per-annotation column, in source order.
        labels: class names; ``label[k]`` indexes it.
        label: the class of each annotation (int).
        keys: each annotation's key (:attr:`Annotation.key`: its identity in the dataset).
        polygon: whether each annotation is a polygon (else a box).
        boxes: ``(n, 4)`` float64 ``x_min, y_min, x_max, y_max`` of each annotation (only
            the rows of boxes are meaningful).
        rings: ``polygons + 1`` offsets into ``coords``: the ``j``-th polygon of the table
            (in annotation order) is ``coords[rings[j]:rings[j + 1]]``.
        coords: ``(m, 2)`` float64 points of every polygon, absolute pixels, unclosed.
        head: asset ``i`` without its annotations (``annotations=()``): for what needs an
            ``Asset`` (a key template, a data-row map, an error message).
        build: the full asset ``i`` (its model annotations), exactly as the reader's
            ``read()`` gives it: the general way for anything the table lane declines.
    """

    names: Sequence[str]
    sizes: np.ndarray
    bounds: np.ndarray
    labels: Sequence[str]
    label: np.ndarray
    keys: Sequence[str]
    polygon: np.ndarray
    boxes: np.ndarray
    rings: np.ndarray
    coords: np.ndarray
    head: Callable[[int], Asset]
    build: Callable[[int], Asset]

    def __len__(self) -> int:
        return len(self.names)

    @property
    def size(self) -> int:
        """How many annotations the table holds."""
        return len(self.keys)

    def assets(self) -> Iterator[Asset]:
        """The table's assets with their annotations (what ``read()`` yields for them)."""
        for i in range(len(self.names)):
            yield self.build(i)


def expand(items: Iterator[Asset | ShapeTable]) -> Iterator[Asset]:
    """``items`` with every table replaced by its assets."""
    for item in items:
        if isinstance(item, ShapeTable):
            yield from item.assets()
        else:
            yield item
