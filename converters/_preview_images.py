"""Reading images and mask PNGs for ``lbconvert preview``, with the readers' bomb guard.

Masks arrive in the three forms the writer produces (``png`` 0/1, composite ``imBytes``,
``instanceURI``). :class:`MaskPixels` reads their size from the PNG header first (the canvas
of a data row without an image depends on it) and decodes one instance at a time straight to
the picture's size, so a data row of hundreds of full-resolution masks never holds more than
one of them; a composite shared by many rows is decoded once per data row.
"""

from __future__ import annotations

import base64
import binascii
import io
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from .readers._images import MAX_PIXELS

__all__ = ["DrawError", "MaskLoader", "MaskPixels", "load_image"]

MaskLoader = Callable[[str], bytes]


class DrawError(ValueError):
    """A row or an image cannot be drawn (the caller names the file and the line)."""


def load_image(path: Any) -> Image.Image:
    """An RGB image as a viewer shows it (EXIF orientation applied), bomb-guarded.

    Raises:
        DrawError: not an image, unreadable, or more than MAX_PIXELS pixels.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(path)
            if opened.size[0] * opened.size[1] > MAX_PIXELS:
                raise DrawError(f"image of {opened.size[0]}x{opened.size[1]} pixels refused (decompression bomb guard)")
            return (ImageOps.exif_transpose(opened) or opened).convert("RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DrawError(f"image refused: {exc}") from exc
    except OSError as exc:  # UnidentifiedImageError is an OSError
        raise DrawError(f"not an image Pillow can read ({exc})") from exc


def _png(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
            if im.size[0] * im.size[1] > MAX_PIXELS:
                raise DrawError(f"mask of {im.size[0]}x{im.size[1]} pixels refused (decompression bomb guard)")
            im.load()
            return im
    except (Image.DecompressionBombError, Image.DecompressionBombWarning, OSError) as exc:
        raise DrawError(f"mask PNG cannot be read ({exc})") from exc


class MaskPixels:
    """The masks of one data row: sizes from PNG headers, pixels decoded one row at a time
    straight to the picture's size. A composite (``imBytes`` or one ``instanceURI`` shared by
    many rows) is decoded once per data row; nothing is kept at full resolution."""

    def __init__(self, load_uri: MaskLoader) -> None:
        self.load_uri = load_uri
        self.codes: dict[str, np.ndarray] = {}

    def _data(self, row: Mapping[str, Any]) -> tuple[str | None, bytes, int | None]:
        """(cache key or None, PNG bytes, colour code or None for the 0/1 ``png`` form)."""
        m = row["mask"]
        if not isinstance(m, Mapping):
            raise DrawError("mask must be an object")
        if "png" in m:
            return None, _b64(m["png"]), None
        colour = m.get("colorRGB")
        if not (isinstance(colour, list) and len(colour) == 3 and all(isinstance(c, int) for c in colour)):
            raise DrawError("mask colorRGB must be three integers")
        code = (colour[0] << 16) | (colour[1] << 8) | colour[2]
        if "imBytes" in m:
            text = m["imBytes"]
            return f"b64:{hash(text)}:{len(text)}", _b64(text), code
        if "instanceURI" in m:
            uri = str(m["instanceURI"])
            return f"uri:{uri}", self.load_uri(uri), code
        raise DrawError("mask needs png, imBytes or instanceURI")

    def size(self, row: Mapping[str, Any]) -> tuple[int, int]:
        """(width, height) from the PNG header, without decoding the pixels."""
        return _png_size(self._data(row)[1])

    def pixels(self, row: Mapping[str, Any], size: tuple[int, int]) -> np.ndarray:
        """The instance's pixels as a bool array of ``size`` (nearest neighbour)."""
        key, data, code = self._data(row)
        if code is None:
            im = _png(data).convert("L")
            if im.size != size:
                im = im.resize(size, Image.Resampling.NEAREST)
            return np.asarray(im) > 0
        assert key is not None
        codes = self.codes.get(key)
        if codes is None:
            rgb = _png(data).convert("RGB")
            if rgb.size != size:
                rgb = rgb.resize(size, Image.Resampling.NEAREST)  # keeps the exact colours
            arr = np.asarray(rgb).astype(np.uint32)
            codes = self.codes[key] = (arr[..., 0] << 16) | (arr[..., 1] << 8) | arr[..., 2]
        mask: np.ndarray = codes == code
        return mask


def _b64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise DrawError("mask bytes must be a base64 string")
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise DrawError(f"mask is not valid base64 ({exc})") from exc


def _png_size(data: bytes) -> tuple[int, int]:
    try:
        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
    except OSError as exc:
        raise DrawError(f"mask PNG cannot be read ({exc})") from exc
    if w * h > MAX_PIXELS:
        raise DrawError(f"mask of {w}x{h} pixels refused (decompression bomb guard)")
    return w, h
