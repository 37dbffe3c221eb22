"""Masks: decode the model's lazy masks and encode the PNGs Labelbox imports.

Stable interface used by the writer:

* :func:`decode` -> ``(height, width)`` uint8 array of 0/1 for a :class:`Mask`;
* :func:`encode_png` -> PNG bytes of a 0/1 single-channel array (the ``png`` form);
* :func:`encode_rgb_png` -> PNG bytes of an RGB composite.

pycocotools wants Fortran-ordered uint8 arrays and str/bytes counts; that detail stays here.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from .model import Mask

__all__ = ["decode", "encode_png", "encode_rgb_png"]


def decode(mask: Mask) -> np.ndarray:
    """The mask's pixels as a C-ordered ``(height, width)`` uint8 array of 0 and 1."""
    if mask.load is not None:
        arr = np.asarray(mask.load())
    else:
        arr = _decode_rle(mask.rle)  # type: ignore[arg-type]
    if arr.shape != (mask.height, mask.width):
        raise ValueError(
            f"mask pixels are {arr.shape[1]}x{arr.shape[0]}, expected {mask.width}x{mask.height}"
        )
    return np.ascontiguousarray(arr != 0, dtype=np.uint8)


def _decode_rle(rle: Any) -> np.ndarray:
    from pycocotools import mask as cocomask

    counts = rle["counts"]
    h, w = (int(v) for v in rle["size"])
    if isinstance(counts, list):
        rle = cocomask.frPyObjects({"counts": counts, "size": [h, w]}, h, w)
    elif isinstance(counts, str):
        rle = {"counts": counts.encode("ascii"), "size": [h, w]}
    return cocomask.decode(rle)


def encode_png(array: np.ndarray) -> bytes:
    """A single-channel PNG with values 0 and 1 (Labelbox's ``mask.png`` form)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array != 0, dtype=np.uint8), mode="L").save(
        buf, format="PNG", optimize=False
    )
    return buf.getvalue()


def encode_rgb_png(array: np.ndarray) -> bytes:
    """An RGB PNG of an ``(height, width, 3)`` uint8 array (composite masks)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array, dtype=np.uint8), mode="RGB").save(buf, format="PNG")
    return buf.getvalue()
