"""The Labelbox import matrix: which annotation kinds import for which media, per mode.

Source: Labelbox's own import tables ("Import annotations" pages per media type,
docs.labelbox.com/reference/import-{image,video,text,document,audio,dicom}-annotations, and
the annotation-import notebooks), as reproduced in the conversion contract §3. This table is
the single place to change when Labelbox changes what it accepts.

Two columns per cell. :data:`MATRIX` is what Labelbox accepts: ``P`` importable in both
modes; ``GT`` ground truth only; ``-`` not supported; ``n/a`` meaningless for that media.
:data:`PRODUCED` is what this writer has a payload for (``Y``): a cell Labelbox accepts but
the writer does not produce is refused with ``not-produced``, never written in another
media's shape. ``tests/test_examples.py`` checks that each produced cell of the non-image
media is written (and accepted by the SDK), ``tests/test_payloads.py`` that the rest is refused.
"""

from __future__ import annotations

import enum
import functools
from types import MappingProxyType

from .model import Kind, Media

__all__ = ["MATRIX", "PRODUCED", "Mode", "why_not"]


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

_PRODUCED_ROWS = {
    #                   image  video  text   document geo   audio  conv   dicom
    Kind.BBOX:         ("Y",   "Y",   "",    "Y",     "Y",  "",    "",    ""),
    Kind.POLYGON:      ("Y",   "",    "",    "",      "Y",  "",    "",    ""),
    Kind.POINT:        ("Y",   "Y",   "",    "",      "Y",  "",    "",    ""),
    Kind.POLYLINE:     ("Y",   "Y",   "",    "",      "Y",  "",    "",    "Y"),
    Kind.MASK:         ("Y",   "",    "",    "",      "",   "",    "",    "Y"),
    Kind.ENTITY:       ("",    "",    "Y",   "Y",     "",   "",    "Y",   ""),
    Kind.RADIO:        ("Y",   "Y",   "Y",   "Y",     "Y",  "Y",   "Y",   ""),
    Kind.CHECKLIST:    ("Y",   "Y",   "Y",   "Y",     "Y",  "Y",   "Y",   ""),
    Kind.TEXT:         ("Y",   "",    "Y",   "Y",     "Y",  "Y",   "Y",   ""),
    Kind.RELATIONSHIP: ("",    "",    "",    "",      "",   "",    "",    ""),
}  # fmt: skip

#: kind -> media -> cell (what Labelbox accepts)
MATRIX = MappingProxyType(
    {kind: MappingProxyType(dict(zip(_COLUMNS, cells))) for kind, cells in _ROWS.items()}
)

#: (kind, media) pairs this writer has a payload for
PRODUCED = frozenset(
    (kind, media) for kind, cells in _PRODUCED_ROWS.items() for media, cell in zip(_COLUMNS, cells) if cell == "Y"
)


@functools.lru_cache(maxsize=None)
def why_not(kind: Kind, media: Media, mode: Mode) -> tuple[str, str] | None:
    """None when importable, else (reason code, sentence) for the report."""
    cell = MATRIX[kind][media]
    if cell == "P" or (cell == "GT" and mode is Mode.GROUND_TRUTH):
        return _why_not_produced(kind, media)
    if cell == "GT":
        return (
            "ground-truth-only",
            f"Labelbox imports {kind.value} on {media.value} only as ground truth, not as pre-labels",
        )
    if cell == "n/a":
        return ("not-applicable", f"{kind.value} has no meaning on {media.value} data rows")
    return ("not-importable", f"Labelbox does not import {kind.value} annotations on {media.value}")


def _why_not_produced(kind: Kind, media: Media) -> tuple[str, str] | None:
    if (kind, media) in PRODUCED:
        return None
    return ("not-produced", f"Labelbox imports {kind.value} on {media.value}, but this writer has no payload for it")
