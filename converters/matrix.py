"""The Labelbox import matrix: which annotation kinds import for which media, per mode.

Source: Labelbox's own import tables ("Import annotations" pages per media type,
docs.labelbox.com/reference/import-{image,video,text,document,audio,dicom}-annotations, and
the annotation-import notebooks), as reproduced in the conversion contract §3. This table is
the single place to change when Labelbox changes what it accepts.

Cell values: ``P`` importable in both modes; ``GT`` ground truth only; ``-`` not supported;
``n/a`` meaningless for that media.
"""

from __future__ import annotations

import enum
import functools
from types import MappingProxyType

from .model import Kind, Media

__all__ = ["MATRIX", "Mode", "importable", "why_not"]


class Mode(str, enum.Enum):
    """The two import paths."""

    PRELABEL = "prelabel"  # model-assisted labeling (MAL)
    GROUND_TRUTH = "ground-truth"  # label import


_COLUMNS = (
    Media.IMAGE, Media.VIDEO, Media.TEXT, Media.DOCUMENT,
    Media.GEOSPATIAL, Media.AUDIO, Media.CONVERSATIONAL, Media.DICOM,
)  # fmt: skip

_ROWS = {
    #                   image  video  text   document geo   audio  conv   dicom
    Kind.BBOX:         ("P",   "P",   "n/a", "P",     "P",  "n/a", "n/a", "-"),
    Kind.POLYGON:      ("P",   "-",   "n/a", "n/a",   "P",  "n/a", "n/a", "-"),
    Kind.POINT:        ("P",   "P",   "n/a", "n/a",   "P",  "n/a", "n/a", "-"),
    Kind.POLYLINE:     ("P",   "GT",  "n/a", "n/a",   "P",  "n/a", "n/a", "P"),
    Kind.MASK:         ("P",   "GT",  "n/a", "n/a",   "-",  "n/a", "n/a", "P"),
    Kind.ENTITY:       ("n/a", "n/a", "P",   "GT",    "n/a", "n/a", "GT", "n/a"),
    Kind.RADIO:        ("P",   "P",   "P",   "P",     "P",  "P",   "GT",  "-"),
    Kind.CHECKLIST:    ("P",   "P",   "P",   "P",     "P",  "P",   "GT",  "-"),
    Kind.TEXT:         ("P",   "-",   "P",   "P",     "P",  "P",   "GT",  "-"),
    Kind.RELATIONSHIP: ("-",   "-",   "-",   "-",     "-",  "n/a", "-",   "-"),
}  # fmt: skip

#: kind -> media -> cell
MATRIX = MappingProxyType(
    {kind: MappingProxyType(dict(zip(_COLUMNS, cells))) for kind, cells in _ROWS.items()}
)


def importable(kind: Kind, media: Media, mode: Mode) -> bool:
    """Whether Labelbox imports ``kind`` on ``media`` in ``mode``."""
    cell = MATRIX[kind][media]
    return cell == "P" or (cell == "GT" and mode is Mode.GROUND_TRUTH)


@functools.lru_cache(maxsize=None)
def why_not(kind: Kind, media: Media, mode: Mode) -> tuple[str, str] | None:
    """None when importable, else (reason code, sentence) for the report."""
    cell = MATRIX[kind][media]
    if cell == "P" or (cell == "GT" and mode is Mode.GROUND_TRUTH):
        return None
    if cell == "GT":
        return (
            "ground-truth-only",
            f"Labelbox imports {kind.value} on {media.value} only as ground truth, not as pre-labels",
        )
    if cell == "n/a":
        return ("not-applicable", f"{kind.value} has no meaning on {media.value} data rows")
    return ("not-importable", f"Labelbox does not import {kind.value} annotations on {media.value}")
