"""Pascal VOC segmentation PNGs: class and instance index images, read safely and lazily.

Official VOC PNGs are palette images (mode ``P``) whose pixel values are the indices
(class id in ``SegmentationClass``, instance number in ``SegmentationObject``); datumaro and
CVAT write RGB PNGs instead, whose colours map back to indices through ``labelmap.txt`` or
the VOC colour map. Palette images are read as indices and never converted to RGB first
(the palette is only how a viewer shows them). Index 255, drawn (224, 224, 192), is the
"void" border around objects: it is no class and no instance, so it is left out of every
mask and counted.

Nothing here keeps pixels between images: the reader scans a PNG once to learn which
instances and classes it holds, and the :class:`PngMaskLoader` of each instance takes the
indices from a :class:`SharedPng`, decoded again once when the writer asks for the image's
first mask and dropped after its last.
"""

from __future__ import annotations

from types import TracebackType

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import ConversionError, ParseError, UnsafeInputError
from .._images import MAX_PIXELS

__all__ = [
    "BACKGROUND",
    "VOC_CLASSES",
    "VOID",
    "LabelMap",
    "PngMaskLoader",
    "SharedPng",
    "class_indices",
    "instance_indices",
    "load_labelmap",
    "png_size",
    "voc_colormap",
]

#: The 21 official classes; the index is the class id in SegmentationClass PNGs.
VOC_CLASSES = (
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat",
    "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
    "sheep", "sofa", "train", "tvmonitor",
)  # fmt: skip

#: Internal values, in the index arrays this module returns, of void pixels and of black
#: pixels of an RGB class PNG whose label map names no background.
VOID = -1
BACKGROUND = -2
_VOID_INDEX = 255

RGB = tuple[int, int, int]


def voc_colormap(n: int = 256) -> tuple[RGB, ...]:
    """The devkit's colour map: the bits of the index spread over r, g, b from the top bit."""
    out = []
    for i in range(n):
        r = g = b = 0
        c = i
        for j in range(8):
            r |= (c & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        out.append((r, g, b))
    return tuple(out)


_COLORMAP = voc_colormap()
_VOID_RGB = _COLORMAP[_VOID_INDEX]  # (224, 224, 192)


def _key(rgb: RGB) -> int:
    return (rgb[0] << 16) | (rgb[1] << 8) | rgb[2]


@dataclass(frozen=True, slots=True)
class LabelMap:
    """Class names by index, and the colour of each (for RGB PNGs)."""

    names: tuple[str, ...]
    colors: tuple[RGB, ...]
    source: str = "the VOC default classes"

    @property
    def background(self) -> int | None:
        for i, name in enumerate(self.names):
            if name.lower() == "background":
                return i
        return None


DEFAULT_LABELMAP = LabelMap(names=VOC_CLASSES, colors=_COLORMAP[: len(VOC_CLASSES)])


def load_labelmap(path: Path) -> LabelMap:
    """``labelmap.txt`` (datumaro/CVAT): ``name:r,g,b:parts:actions`` per line, ``#`` comments.

    Line order is the class index of grayscale/palette PNGs; a missing colour takes the
    VOC colour map's colour for that index (as datumaro does).
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(path, f"not UTF-8 text ({exc.reason})") from None
    names: list[str] = []
    colors: list[RGB] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, _, rest = line.partition(":")
        color_text = rest.partition(":")[0].strip()
        name = name.strip()
        if not name:
            raise ParseError(path, "label line has no name", location=f"line {lineno}")
        if name in names:
            raise ParseError(path, f"label {name!r} is listed twice", location=f"line {lineno}")
        if color_text:
            try:
                rgb = tuple(int(v) for v in color_text.split(","))
            except ValueError:
                rgb = ()
            if len(rgb) != 3 or not all(0 <= v <= 255 for v in rgb):
                raise ParseError(path, f"colour {color_text!r} is not r,g,b within 0..255", location=f"line {lineno}")
        else:
            rgb = _COLORMAP[len(names) % 256]
        names.append(name)
        colors.append(rgb)
    if not names:
        raise ParseError(path, "no labels")
    return LabelMap(names=tuple(names), colors=tuple(colors), source=path.name)


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) of a PNG from its header, with the bomb guard."""
    from PIL import Image

    with _guard(path):
        with Image.open(path) as im:
            return _checked_size(path, im.size)


def _checked_size(path: Path, size: tuple[int, int]) -> tuple[int, int]:
    if size[0] * size[1] > MAX_PIXELS:
        raise UnsafeInputError(path, f"mask PNG of {size[0]}x{size[1]} pixels refused (decompression bomb guard)")
    return size


class _guard:
    """Turn Pillow's failures into one-line errors naming the PNG."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._warnings = warnings.catch_warnings()

    def __enter__(self) -> None:
        from PIL import Image

        self._warnings.__enter__()
        warnings.simplefilter("error", Image.DecompressionBombWarning)

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        from PIL import Image, UnidentifiedImageError

        self._warnings.__exit__(exc_type, exc, tb)
        if exc is None or isinstance(exc, ParseError):
            return None
        if isinstance(exc, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
            raise UnsafeInputError(self.path, f"mask PNG refused: {exc}") from None
        if isinstance(exc, UnidentifiedImageError):
            raise ParseError(self.path, "not an image Pillow can read") from None
        if isinstance(exc, Exception) and not isinstance(exc, ConversionError):
            # OSError, and SyntaxError ("broken PNG file"), struct.error... from Pillow's plugins
            raise ParseError(self.path, f"cannot read mask PNG: {type(exc).__name__}: {exc}") from None
        return None


def _pixels(path: Path) -> np.ndarray:
    """The PNG as an ``(h, w)`` index array (palette/grayscale) or ``(h, w, 3)`` RGB array."""
    from PIL import Image

    if not path.is_file():
        raise ParseError(path, "mask PNG not found")
    with _guard(path):
        with Image.open(path) as im:
            _checked_size(path, im.size)
            mode = im.mode
            if mode in ("P", "L", "1", "I", "I;16", "I;16B", "I;16L"):
                return np.asarray(im).astype(np.int32)
            if mode in ("RGB", "RGBA"):
                return np.asarray(im)[..., :3]
            if mode == "LA":
                return np.asarray(im)[..., 0].astype(np.int32)
            raise ParseError(path, f"unsupported PNG mode {mode!r} for a VOC mask (need palette, grayscale or RGB)")


def _rgb_to_index(path: Path, rgb: np.ndarray, table: dict[int, int], what: str) -> np.ndarray:
    keys = (rgb[..., 0].astype(np.int32) << 16) | (rgb[..., 1].astype(np.int32) << 8) | rgb[..., 2]
    uniq, inverse = np.unique(keys, return_inverse=True)
    mapped = np.empty(len(uniq), dtype=np.int32)
    for i, k in enumerate(uniq.tolist()):
        if k not in table:
            n = int(np.count_nonzero(keys == k))
            colour = f"({k >> 16}, {(k >> 8) & 255}, {k & 255})"
            raise ParseError(path, f"colour {colour} ({n} pixels) is no {what}")
        mapped[i] = table[k]
    return np.asarray(mapped[inverse.reshape(keys.shape)])


def instance_indices(path: Path) -> np.ndarray:
    """``(h, w)`` int32: 0 background, 1..N instance numbers, VOID for the void border."""
    arr = _pixels(path)
    if arr.ndim == 3:
        table = {_key(c): i for i, c in enumerate(_COLORMAP)}
        arr = _rgb_to_index(path, arr, table, "VOC colour-map instance colour")
    return np.where(arr == _VOID_INDEX, VOID, arr).astype(np.int32)


def class_indices(path: Path, labelmap: LabelMap) -> np.ndarray:
    """``(h, w)`` int32 of indices into ``labelmap.names``, VOID for void pixels."""
    arr = _pixels(path)
    if arr.ndim == 3:
        table = {_key(c): i for i, c in enumerate(labelmap.colors)}
        table[_key(_VOID_RGB)] = VOID
        if labelmap.background is None:
            table.setdefault(0, BACKGROUND)
        arr = _rgb_to_index(path, arr, table, f"class colour of {labelmap.source}")
        return arr
    arr = np.where(arr == _VOID_INDEX, VOID, arr)
    top = int(arr.max()) if arr.size else 0
    if top >= len(labelmap.names):
        n = int(np.count_nonzero(arr == top))
        raise ParseError(path, f"class index {top} ({n} pixels) is not in {labelmap.source} ({len(labelmap.names)} classes)")
    return arr.astype(np.int32)


class SharedPng:
    """One PNG's index array, shared by the loaders of its instances (or classes).

    Decoded when the writer asks for the first of them and released after the last, so a
    PNG of 254 instances is decoded once per image, not 254 times, and no pixels are held
    between images.
    """

    __slots__ = ("_arr", "_left", "labelmap", "path")

    def __init__(self, path: Path, labelmap: LabelMap | None = None, *, users: int) -> None:
        self.path = path
        self.labelmap = labelmap
        self._left = users
        self._arr: np.ndarray | None = None

    def take(self) -> np.ndarray:
        arr = self._arr
        if arr is None:
            arr = instance_indices(self.path) if self.labelmap is None else class_indices(self.path, self.labelmap)
        self._left -= 1
        self._arr = arr if self._left > 0 else None
        return arr


@dataclass(frozen=True, slots=True)
class PngMaskLoader:
    """Reads one instance (or one class) of a VOC PNG as a 0/1 array, when called."""

    path: Path
    value: int
    labelmap: LabelMap | None = None  # set for class PNGs, None for instance PNGs
    shared: SharedPng | None = None  # the PNG's decoded indices, shared with its siblings

    def __call__(self) -> np.ndarray:
        if self.shared is not None:
            arr = self.shared.take()
        elif self.labelmap is None:
            arr = instance_indices(self.path)
        else:
            arr = class_indices(self.path, self.labelmap)
        return np.asarray(arr == self.value, dtype=np.uint8)
