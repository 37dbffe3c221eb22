"""Masks: decode the model's lazy masks and encode the PNGs Labelbox imports.

Stable interface used by the writer:

* :func:`decode` -> ``(height, width)`` uint8 array of 0/1 for a :class:`Mask`;
* :func:`encode_png` -> PNG bytes of a 0/1 single-channel array (the ``png`` form);
* :func:`encode_rgb_png` -> PNG bytes of an RGB composite.

Both write the PNG themselves (:mod:`converters._png`) in time proportional to the rows a
mask touches; ``*_pillow`` twins keep the plain Pillow encoding as the reference the
differential tests and the bench compare against (same decoded pixels, other bytes).

Helpers for readers and the geometry stage:

* :func:`check_rle` -> the reason an RLE cannot be decoded for an image (cheap, no pixels),
  so a reader can raise a ParseError naming file and annotation at read time;
* :func:`encode_rle` -> compressed COCO RLE of an array (tests, panoptic, polygons);
* :func:`rasterize` -> polygons (exterior + holes) to a 0/1 array, the COCO way.

COCO RLE (``maskApi.c``): runs alternate 0,1,0,... starting with zeros (the first run may
be 0), walk the image column-major (down each column, then right), and sum to h*w. ``size``
is ``[height, width]``. Compressed counts are an ASCII string (5-bit groups with a
continuation bit, offset 48, delta-coded from the fourth run on); uncompressed counts a
list of ints. pycocotools' traps are kept here: ``frPyObjects`` wants list counts and
raises on a string; ``decode`` wants str/bytes counts; ``encode`` wants a Fortran-ordered
uint8 array; a polygon of exactly 4 numbers is read as a box.

Masks are decoded one at a time by the writer, so memory stays at one image-sized array.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._png import encode_rows_png
from .errors import InputError
from .model import XY, Mask

__all__ = [
    "MAX_MASK_PIXELS",
    "PNG_LEVEL",
    "MaskDecodeError",
    "check_rle",
    "decode",
    "decode_rle",
    "encode_colour_png",
    "encode_png",
    "encode_png_pillow",
    "encode_rgb_png",
    "encode_rgb_png_pillow",
    "encode_rle",
    "pixel_rows",
    "rasterize",
    "string_counts",
]

#: zlib level of mask PNGs (the rows holding pixels; see converters/_png.py). Measured with
#: Pillow on 640x480 blobs: level 1 encodes in 1.4 ms and 2.5 KB, level 6 in 1.8 ms and
#: 1.4 KB; the rows carry base64 PNGs, so the smaller output wins.
PNG_LEVEL = 6

#: The largest mask decoded: 200 MB as uint8. Annotation files state image sizes as numbers
#: (COCO ``width``/``height``, CVAT attributes), and every such size is held to this before
#: an array is allocated; image *files* are held to the header limit
#: (``readers._images.MAX_PIXELS``, Pillow's 89.5M pixels).
MAX_MASK_PIXELS = 200_000_000

#: Characters a compressed RLE string may hold: 48 + 0..63.
_RLE_CHARS = re.compile(r"[0-o]*")


class MaskDecodeError(InputError, ValueError):
    """A mask's pixels cannot be decoded (bad RLE, size differing from its image)."""


def check_rle(
    rle: Any, *, width: int | None = None, height: int | None = None, deep: bool = False
) -> str | None:
    """Why ``rle`` is not a decodable COCO RLE for a ``width`` x ``height`` image, or None.

    Cheap checks (no pixels): ``size`` is two positive ints and matches the image when the
    image size is known; list counts are non-negative ints summing to h*w; string counts
    use the 64-character alphabet and do not end inside a number (pycocotools would read
    past the end). With ``deep``, string counts are also unpacked (vectorised, ~40 us for a
    typical mask) and their runs checked like a list's; readers use it so a corrupt string
    is a ParseError naming the annotation, not a failure later in the writer.
    """
    if not isinstance(rle, Mapping):
        return "RLE is not an object"
    size, counts = rle.get("size"), rle.get("counts")
    if not (
        isinstance(size, (list, tuple))
        and len(size) == 2
        and all(type(v) is int and v > 0 for v in size)
    ):
        return f"RLE size must be [height, width] of positive ints, got {size!r}"
    h, w = size
    if width is not None and height is not None and (w, h) != (width, height):
        return f"RLE size {w}x{h} differs from the image's {width}x{height} (width x height)"
    if isinstance(counts, bytes):
        try:
            counts = counts.decode("ascii")
        except UnicodeDecodeError:
            return "RLE counts string is not ASCII"
    if isinstance(counts, str):
        if not _RLE_CHARS.fullmatch(counts):
            return "RLE counts string holds characters outside the COCO alphabet ('0'..'o')"
        if not counts:
            return "RLE counts string is empty"
        if (ord(counts[-1]) - 48) & 0x20:
            return "RLE counts string is truncated (ends inside a run)"
        if not deep:
            return None
        runs = string_counts(counts)
        if (runs < 0).any():
            return "RLE counts string decodes to a negative run (corrupt counts)"
        total = int(runs.sum())
        if total != h * w:
            return f"RLE runs sum to {total}, not height*width = {h * w} (corrupt counts)"
        return None
    if isinstance(counts, list):
        if not all(type(c) is int and c >= 0 for c in counts):
            return "RLE counts must be non-negative integers"
        total = sum(counts)
        if total != h * w:
            return f"RLE runs sum to {total}, not height*width = {h * w}"
        return None
    return f"RLE counts must be a string or a list of run lengths, got {type(counts).__name__}"


def string_counts(counts: str | bytes) -> np.ndarray:
    """The run lengths of a compressed COCO RLE string (``maskApi.c`` ``rleFrString``).

    Each run is a little-endian number in 5-bit groups (48 + value, bit 0x20 = more groups
    follow, bit 0x10 of the last group = negative); from the fourth run on (index > 2) it is
    stored as the difference to the run two places earlier. Vectorised with numpy. The
    string must be well-formed (see :func:`check_rle`).
    """
    raw = counts.encode("ascii") if isinstance(counts, str) else counts
    b = np.frombuffer(raw, dtype=np.uint8).astype(np.int64) - 48
    ends = np.flatnonzero((b & 0x20) == 0)
    starts = np.concatenate(([0], ends[:-1] + 1))
    lengths = ends - starts + 1
    shift = 5 * (np.arange(b.size) - np.repeat(starts, lengths))
    vals = np.add.reduceat((b & 0x1F) << shift, starts)
    vals = np.where((b[ends] & 0x10) != 0, vals - (np.int64(1) << (5 * lengths)), vals)
    out = vals.copy()
    out[2::2] = np.cumsum(vals[2::2])  # run m = stored + run m-2, for m > 2
    out[1::2] = np.cumsum(vals[1::2])
    return np.asarray(out)


def decode(mask: Mask) -> np.ndarray:
    """The mask's pixels as a C-ordered ``(height, width)`` uint8 array of 0 and 1.

    Raises MaskDecodeError when the pixels are not the mask's size, the RLE is corrupt, or
    the size is beyond MAX_MASK_PIXELS (an annotation file can claim any image size; the
    pixels are only allocated after this check).
    """
    if mask.width * mask.height > MAX_MASK_PIXELS:
        raise MaskDecodeError(
            f"mask of {mask.width}x{mask.height} pixels refused (more than {MAX_MASK_PIXELS:,}; "
            "decompression bomb guard)"
        )
    if mask.load is not None:
        arr = np.asarray(mask.load())
    else:
        arr = decode_rle(mask.rle, width=mask.width, height=mask.height)
    if arr.shape != (mask.height, mask.width):
        shape = "x".join(str(v) for v in arr.shape[::-1])
        raise MaskDecodeError(f"mask pixels are {shape}, expected {mask.width}x{mask.height} (width x height)")
    if arr.dtype == np.uint8 and arr.flags.c_contiguous and arr.size and int(arr.max()) <= 1:
        return arr
    return np.ascontiguousarray(arr != 0, dtype=np.uint8)


def decode_rle(rle: Any, *, width: int | None = None, height: int | None = None) -> np.ndarray:
    """A COCO RLE (compressed or uncompressed) as a C-ordered ``(h, w)`` uint8 0/1 array."""
    from pycocotools import mask as cocomask

    reason = check_rle(rle, width=width, height=height)
    if reason:
        raise MaskDecodeError(reason)
    h, w = (int(v) for v in rle["size"])
    counts = rle["counts"]
    if isinstance(counts, list):
        # frPyObjects turns an uncompressed dict into a compressed one (and ignores h, w).
        obj = cocomask.frPyObjects({"size": [h, w], "counts": counts}, h, w)
    else:
        obj = {"size": [h, w], "counts": counts.encode("ascii") if isinstance(counts, str) else counts}
    try:
        arr = _cocodecode(obj)
    except ValueError:
        raise MaskDecodeError(f"RLE runs do not sum to height*width = {h * w} (corrupt counts)") from None
    return np.ascontiguousarray(arr)


def _cocodecode(obj: Any) -> np.ndarray:
    """pycocotools.mask.decode without its numpy-2 DeprecationWarning (its Cython array
    wrapper lacks the ``copy`` keyword; harmless, but loud under ``-W error``)."""
    from pycocotools import mask as cocomask

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="__array__ implementation", category=DeprecationWarning)
        return np.asarray(cocomask.decode(obj))


def encode_rle(array: np.ndarray) -> dict[str, Any]:
    """Compressed COCO RLE of a 2-D array (nonzero = 1), counts as a str (JSON-ready)."""
    from pycocotools import mask as cocomask

    arr = np.asarray(array)
    if arr.dtype != np.bool_:
        arr = arr != 0
    # bool and uint8 share a layout: a view, and no copy when the caller built the mask in
    # Fortran order (the panoptic reader does, from one Fortran-ordered id map per image).
    rle = cocomask.encode(np.asfortranarray(arr.view(np.uint8)))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


def rasterize(
    polygons: Sequence[tuple[Sequence[XY], Sequence[Sequence[XY]]]], *, width: int, height: int
) -> np.ndarray:
    """Fill polygons ``[(exterior, holes), ...]`` into a ``(height, width)`` 0/1 array.

    Uses pycocotools' rasterizer, which follows the continuous convention (a pixel is in
    when the polygon covers it the COCO way), so a mask made from a polygon matches what
    COCO tools show for that polygon. Exteriors are unioned, then every hole is cut out.
    """
    from pycocotools import mask as cocomask

    out = np.zeros((height, width), dtype=np.uint8)

    def fill(ring: Sequence[XY]) -> np.ndarray:
        flat = [float(c) for xy in ring for c in xy]
        if len(flat) < 6:
            return np.zeros((height, width), dtype=np.uint8)
        # A list of lists, never a bare 4-number list (which pycocotools reads as a box).
        rles = cocomask.frPyObjects([flat], height, width)
        return _cocodecode(rles[0])

    for exterior, holes in polygons:
        part = fill(exterior)
        for hole in holes:
            part &= 1 - fill(hole)
        out |= part
    return out


def encode_png(array: np.ndarray) -> bytes:
    """A single-channel 8-bit PNG with values 0 and 1 (Labelbox's ``mask.png`` form).

    Written by :func:`converters._png.encode_rows_png`: time grows with the rows the mask
    touches, not with the image (issue #16: the 273-mask 7360x4912 CVAT job converts ~35x faster). Decodes
    to the same pixels as :func:`encode_png_pillow`, the encoder used before; the bytes
    differ. 8-bit greyscale because the SDK's parser reads a 1-bit PNG as a bool array
    and refuses it (``MaskData.from_2D_arr``: "Array must be an integer subtype").
    """
    arr = np.asarray(array)
    if arr.dtype == np.uint8 and arr.ndim == 2 and arr.size:
        # One pass gives both the 0/1 check and the rows the encoder must deflate.
        arr = np.ascontiguousarray(arr)
        row_max = arr.max(axis=1)
        if int(row_max.max()) <= 1:
            return encode_rows_png(arr, level=PNG_LEVEL, row_max=row_max)
    return encode_rows_png(_binary(arr), level=PNG_LEVEL)


def encode_rgb_png(array: np.ndarray) -> bytes:
    """An RGB PNG of an ``(height, width, 3)`` uint8 array (composite masks, mask files).

    Same encoder and guarantee as :func:`encode_png` (pixels as :func:`encode_rgb_png_pillow`).
    """
    return encode_rows_png(_rgb(array), level=PNG_LEVEL)


def pixel_rows(array: np.ndarray) -> slice:
    """The rows of a 2-D mask from its first to its last holding a nonzero pixel (an empty
    slice when there is none): image-sized masks touch few rows, and work on that band
    costs O(box), not O(image). One pass over the array (~2 ms for 36M pixels)."""
    arr = np.asarray(array)
    rows = np.flatnonzero(arr.max(axis=1)) if arr.size else np.empty(0, np.intp)
    if rows.size == 0:
        return slice(0, 0)
    return slice(int(rows[0]), int(rows[-1]) + 1)


def encode_colour_png(array: np.ndarray, colour: tuple[int, int, int]) -> bytes:
    """An RGB PNG, ``colour`` where the 2-D ``array`` is nonzero and black elsewhere (one
    instance's mask file): pixels as :func:`encode_rgb_png` of that image, which is never
    built (108 MB for a 7360x4912 photo)."""
    return encode_rows_png(np.ascontiguousarray(array, dtype=np.uint8), level=PNG_LEVEL, colour=colour)


def encode_png_pillow(array: np.ndarray) -> bytes:
    """The 0/1 PNG as Pillow writes it (the encoder before issue #16): the reference the
    differential tests and bench/bench_cvat_masks.py compare :func:`encode_png` with."""
    return _pillow_png(_binary(array))


def encode_rgb_png_pillow(array: np.ndarray) -> bytes:
    """:func:`encode_rgb_png` as Pillow writes it (the reference, as above)."""
    return _pillow_png(_rgb(array))


def _binary(array: np.ndarray) -> np.ndarray:
    arr = np.asarray(array)
    if arr.dtype != np.uint8 or (arr.size and int(arr.max()) > 1):
        arr = (arr != 0).astype(np.uint8)
    return np.ascontiguousarray(arr)


def _rgb(array: np.ndarray) -> np.ndarray:
    arr = np.ascontiguousarray(array, dtype=np.uint8)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(f"an RGB composite is (height, width, 3), got {arr.shape}")
    return arr


def _pillow_png(arr: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG", compress_level=PNG_LEVEL)
    return buf.getvalue()
