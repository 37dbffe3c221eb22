"""File-level helpers of the CVAT reader: a byte pre-scan and a parser that is released on time."""

from __future__ import annotations

import warnings
from collections.abc import Generator
from pathlib import Path

from lxml import etree

from ...errors import ConversionError
from .._xml import iterparse_xml

__all__ = ["elements", "scan"]


def elements(path: Path, tags: tuple[str, ...]) -> Generator[etree._Element, None, None]:
    """``iterparse_xml``, releasing the parser at a known point when the walk ends early.

    lxml's iterparse opens the file itself and only closes it when parsing finishes; a parser
    abandoned by an error or a ``break`` closes it on deallocation with a ResourceWarning,
    which may happen anywhere later (and a traceback keeps it alive). Here the generator is
    closed and an error's traceback dropped where that warning is expected and silenced.
    """
    gen = iterparse_xml(path, tags=tags)
    error: ConversionError | None = None
    try:
        for elem in gen:  # not "yield from": closing must reach the finally below first
            yield elem
    except ConversionError as exc:
        error = exc
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gen.close()
            del gen
    if error is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            error.__cause__ = error.__context__ = None
            error.__suppress_context__ = True
            error.__traceback__ = None
        raise error


def scan(path: Path) -> tuple[bool, bool]:
    """(has ``<image``, has ``<track``): a byte scan, to plan the walk before it starts."""
    images = tracks = False
    tail = b""
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            buf = tail + chunk
            images = images or b"<image" in buf
            tracks = tracks or b"<track" in buf
            if images and tracks:
                break
            tail = buf[-8:]
    return images, tracks
