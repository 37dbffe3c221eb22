"""Paths named inside annotation files are untrusted: keep them inside the dataset root."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from ..errors import UnsafeInputError

__all__ = ["clean_relative", "resolve_inside"]

_DRIVE = re.compile(r"^[A-Za-z]:")


def clean_relative(name: str, *, source_file: object, location: str | None = None) -> str:
    """Normalise a relative path from an annotation file to POSIX form.

    Backslashes become slashes and ``./`` is removed. Absolute paths, Windows drive letters
    and any ``..`` that climbs above the root raise :class:`UnsafeInputError`.

    >>> clean_relative("train\\\\a.jpg", source_file="x.json")
    'train/a.jpg'
    """
    text = name.replace("\\", "/")
    if text.startswith("/") or _DRIVE.match(text):
        raise UnsafeInputError(
            source_file, f"absolute path {name!r} refused: paths must stay inside the dataset",
            location=location,
        )
    norm = posixpath.normpath(text)
    if norm == ".." or norm.startswith("../"):
        raise UnsafeInputError(
            source_file, f"path {name!r} leaves the dataset root", location=location
        )
    return "" if norm == "." else norm


def resolve_inside(
    root: Path, name: str, *, source_file: object, location: str | None = None
) -> Path:
    """``root / name`` after :func:`clean_relative`, and never outside ``root`` even via links."""
    rel = clean_relative(name, source_file=source_file, location=location)
    path = (root / rel).resolve()
    base = root.resolve()
    if path != base and base not in path.parents:
        raise UnsafeInputError(
            source_file, f"path {name!r} resolves outside the dataset root", location=location
        )
    return path
