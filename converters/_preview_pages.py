"""What ``lbconvert preview`` drew: one :class:`Page` per data row and the :class:`PreviewResult`
(shared by :mod:`converters.preview`, which fills them, and the ``index.html`` writer)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._preview_draw import Colour

__all__ = ["Page", "PreviewResult"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Page:
    """One drawn data row, as the gallery lists it."""

    key: str
    png: str
    thumbnail: str
    image: str | None
    size: tuple[int, int]
    counts: Mapping[str, int]
    tags: tuple[str, ...]
    notes: tuple[str, ...]
    not_drawn: Mapping[str, int]
    entries: tuple[Mapping[str, Any], ...]
    changed_rows: int
    text: str | None = None
    entities: tuple[tuple[int, int, str], ...] = ()
    #: A sheet of each video track's keyframes (video data rows only).
    tracks: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PreviewResult:
    """What :func:`preview` wrote."""

    output: Path
    index: Path
    pages: tuple[Page, ...]
    data_rows: int
    colours: Mapping[str, Colour]
    report: Path | None
    unattributed: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)
