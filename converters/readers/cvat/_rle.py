"""CVAT mask RLE: run lengths over the mask's tight box, decoded into a full-image array.

CVAT writes ``<mask rle="..." left top width height>``. The runs cover only the
``width`` x ``height`` box at (``left``, ``top``), walked row-major (C order), starting with a
run of background (``0`` when the first pixel is set) and alternating. That is the opposite
of COCO RLE (column-major over the whole image), so it is decoded here, not by pycocotools.

CVAT's own UI decoder zero-fills, and real exports (cgras fixture) end up to ~150 pixels
short, usually on a foreground run: short data is padded with background. Longer data or a
negative run is corrupt and refused. Validation runs at read time (so an error names the
line); pixels are only produced when the writer asks (:func:`decode_full`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["MAX_BOX_PIXELS", "CvatRle", "decode_box", "decode_full", "parse_rle"]

#: The largest mask box accepted (the mask decoder's own limit, 200M pixels).
MAX_BOX_PIXELS = 200_000_000


@dataclass(frozen=True, slots=True)
class CvatRle:
    """Validated runs and the box they cover; ``short`` = pixels padded with background."""

    runs: tuple[int, ...]
    left: int
    top: int
    width: int
    height: int
    short: int


def parse_rle(text: str, left: str, top: str, width: str, height: str) -> CvatRle:
    """Parse and check the ``rle`` attribute and its box.

    Raises:
        ValueError: a run or box value is not an integer, a run is negative, the box is
            empty, or the runs cover more pixels than the box holds.
    """
    try:
        runs = tuple(int(v) for v in text.replace(" ", "").split(",") if v != "")
    except ValueError:
        raise ValueError(f"rle is not a comma-separated list of integers: {text[:40]!r}") from None
    try:
        box = [int(float(v)) for v in (left, top, width, height)]
    except (TypeError, ValueError):
        raise ValueError("mask left/top/width/height must be integers") from None
    l, t, w, h = box
    if w <= 0 or h <= 0:
        raise ValueError(f"mask box is empty ({w}x{h})")
    if w * h > MAX_BOX_PIXELS:
        raise ValueError(f"mask box of {w}x{h} pixels refused (more than {MAX_BOX_PIXELS:,}; bomb guard)")
    if any(r < 0 for r in runs):
        raise ValueError("rle has a negative run")
    total = sum(runs)
    if total > w * h:
        raise ValueError(f"rle covers {total} pixels but the {w}x{h} box holds {w * h}")
    return CvatRle(runs, l, t, w, h, w * h - total)


def decode_box(rle: CvatRle) -> np.ndarray:
    """The ``(height, width)`` uint8 0/1 array of the tight box (short data padded)."""
    runs = np.asarray(rle.runs, dtype=np.int64)
    values = (np.arange(runs.size) % 2).astype(np.uint8)
    flat = np.repeat(values, runs)
    if rle.short:
        flat = np.concatenate([flat, np.zeros(rle.short, dtype=np.uint8)])
    return flat.reshape(rle.height, rle.width)


def decode_full(rle: CvatRle, image_width: int, image_height: int) -> np.ndarray:
    """The mask pasted into an ``(image_height, image_width)`` canvas; parts outside are cut.

    Only the box rows that fall inside the image are expanded: a box claiming 100000 x
    100000 pixels on a 10 x 10 image costs its runs and ten box rows, never the whole box
    (the box's size is a number in the file; the image bounds the memory).
    """
    canvas = np.zeros((image_height, image_width), dtype=np.uint8)
    x0, y0 = max(rle.left, 0), max(rle.top, 0)
    x1 = min(rle.left + rle.width, image_width)
    y1 = min(rle.top + rle.height, image_height)
    if x1 <= x0 or y1 <= y0:
        return canvas
    w = rle.width
    lo, hi = (y0 - rle.top) * w, (y1 - rle.top) * w  # window of the row-major box
    runs = np.asarray(rle.runs, dtype=np.int64)
    ends = np.cumsum(runs)
    starts = ends - runs
    lengths = np.clip(np.minimum(ends, hi) - np.maximum(starts, lo), 0, None)
    values = (np.arange(runs.size) % 2).astype(np.uint8)
    window = np.repeat(values, lengths)
    if window.size < hi - lo:  # short data and rows past the runs: background
        window = np.concatenate([window, np.zeros(hi - lo - window.size, dtype=np.uint8)])
    rows = window.reshape(y1 - y0, w)
    canvas[y0:y1, x0:x1] = rows[:, x0 - rle.left : x1 - rle.left]
    return canvas


def outside_pixels(rle: CvatRle, image_width: int, image_height: int) -> bool:
    """Whether the box reaches beyond the image (its outer part will be cut)."""
    return (
        rle.left < 0
        or rle.top < 0
        or rle.left + rle.width > image_width
        or rle.top + rle.height > image_height
    )
