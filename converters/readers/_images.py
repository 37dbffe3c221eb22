"""Image headers, read safely: size without decoding, EXIF orientation, bomb guard."""

from __future__ import annotations

import warnings
from pathlib import Path

from ..errors import ConversionError, ParseError, SourceNotFoundError, UnsafeInputError

__all__ = ["MAX_PIXELS", "IMAGE_SUFFIXES", "image_size"]

#: Refuse images larger than this many pixels (a decompression bomb guard; Labelbox itself
#: advises against labelling beyond 9000 x 9000). It is Pillow's own default
#: (``Image.MAX_IMAGE_PIXELS``, about 9459 x 9459), which ``Image.open`` enforces anyway by
#: its warning, made an error here; the explicit check keeps the limit when a program
#: raises or removes Pillow's.
MAX_PIXELS = 89_478_485

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".jfif")

_ROTATED = {5, 6, 7, 8}  # EXIF orientations that swap width and height


def image_size(path: Path, *, exif: bool = True) -> tuple[int, int]:
    """(width, height) of an image from its header, as a viewer shows it.

    With ``exif`` (the default, as Ultralytics does) an EXIF orientation of 5-8 swaps the
    two, because such images are displayed rotated by 90 degrees.

    Raises:
        SourceNotFoundError: the file does not exist.
        UnsafeInputError: the header announces more than MAX_PIXELS pixels.
        ParseError: Pillow cannot read the header.
    """
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise SourceNotFoundError(path, "image not found")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                width, height = im.size
                if width * height > MAX_PIXELS:
                    raise UnsafeInputError(
                        path, f"image of {width}x{height} pixels refused (decompression bomb guard)"
                    )
                if exif:
                    try:
                        orientation = im.getexif().get(0x0112, 1)
                    except Exception:  # a broken EXIF block is not a broken image
                        orientation = 1
                    if orientation in _ROTATED:
                        width, height = height, width
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UnsafeInputError(path, f"image refused: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise ParseError(path, "not an image Pillow can read") from exc
    except ConversionError:
        raise
    except Exception as exc:  # Pillow's plugins raise OSError, SyntaxError ("broken PNG file"), struct.error...
        raise ParseError(path, f"cannot read image header: {type(exc).__name__}: {exc}") from None
    return width, height
