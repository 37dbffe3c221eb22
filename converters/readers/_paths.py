"""Paths named inside annotation files are untrusted: keep them inside the dataset root.

Two guards: :func:`clean_relative` / :func:`resolve_inside` for names written in a file, and
:class:`Confinement` for files found by listing folders, whose *real* path (after every
symlink, of the file or of any folder above it) must stay inside the dataset root too. An
export can hold a link to ``/etc`` or to a 100-gigapixel image elsewhere; nothing outside
the root is opened unless the user says ``--follow-links`` (link-farm datasets).
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ParseError, UnsafeInputError

__all__ = ["Confinement", "LinkOutsideError", "clean_relative", "is_plain_name", "resolve_inside"]

_DRIVE = re.compile(r"^[A-Za-z]:")
#: The longest file name part file systems accept (``NAME_MAX``); longer parts make every
#: ``stat`` fail with an OSError, so they are refused as the file's error instead.
_NAME_MAX = 255


class LinkOutsideError(UnsafeInputError):
    """A link (of a file or of a folder above it) leads outside the dataset root."""


#: A name of one part in ASCII letters, digits and ``._- `` (``normpath`` keeps it as it is).
_PLAIN_NAME = re.compile(r"[A-Za-z0-9._ -]+")


def is_plain_name(name: str) -> bool:
    """Whether ``name`` is one path part in ASCII letters, digits and ``._- `` (not ``.`` or
    ``..``, at most 255 bytes): :func:`clean_relative` returns such a name as it is."""
    return len(name) <= _NAME_MAX and _PLAIN_NAME.fullmatch(name) is not None and name not in (".", "..")


def clean_relative(name: str, *, source_file: object, location: str | None = None) -> str:
    """Normalise a relative path from an annotation file to POSIX form.

    Backslashes become slashes and ``./`` is removed. Absolute paths, Windows drive letters
    and any ``..`` that climbs above the root raise :class:`UnsafeInputError`.

    >>> clean_relative("train\\\\a.jpg", source_file="x.json")
    'train/a.jpg'
    """
    if is_plain_name(name):
        return name  # one ASCII part, nothing to normalise (most images' names)
    text = name.replace("\\", "/")
    if "\0" in text or any(len(part.encode("utf-8", "surrogatepass")) > _NAME_MAX for part in text.split("/")):
        raise ParseError(
            source_file, f"path {name[:60]!r}{'...' if len(name) > 60 else ''} is not a usable file name "
            f"(a NUL byte, or a part longer than {_NAME_MAX} bytes)", location=location,
        )
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
    root: Path,
    name: str,
    *,
    source_file: object,
    location: str | None = None,
    confine: Confinement | None = None,
) -> Path:
    """``root / name`` after :func:`clean_relative`, and never outside ``root`` even via links.

    The path returned is lexical (absolute, links not replaced), so files found under it
    keep names relative to the dataset (``images/train/a.png`` mirrors to
    ``labels/train/a.txt`` even when ``images/train`` is a link). Its real path must be
    inside ``confine`` (by default ``root`` itself; readers pass the dataset root and the
    user's ``--follow-links``), else :class:`LinkOutsideError`.
    """
    rel = clean_relative(name, source_file=source_file, location=location)
    path = Path(os.path.abspath(root))
    if rel:
        path = path / rel
    (confine or Confinement(root)).check(path, source_file=source_file, location=location)
    return path


@dataclass
class Confinement:
    """The dataset root that files may be opened under, checked on their real paths.

    ``check`` costs one ``lstat`` per file: a file that is not a link is inside when its
    folder is, and folders' answers are cached (a dataset has few folders and many files).
    With ``follow_links`` every check passes.
    """

    root: Path
    follow_links: bool = False
    _base: str = field(init=False, default="")
    _dirs: dict[str, bool] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._base = os.path.realpath(self.root)

    def _real_inside(self, path: str) -> bool:
        real = os.path.realpath(path)
        return real == self._base or real.startswith(self._base.rstrip(os.sep) + os.sep)

    def inside(self, path: Path | str) -> bool:
        """Whether ``path``'s real path is the root or below it."""
        if self.follow_links:
            return True
        text = os.fspath(path)
        if os.path.islink(text):
            return self._real_inside(text)
        folder = os.path.dirname(os.path.abspath(text))
        hit = self._dirs.get(folder)
        if hit is None:
            hit = self._dirs[folder] = self._real_inside(folder)
        return hit

    def check(self, path: Path | str, *, source_file: object = None, location: str | None = None) -> Path:
        """``path`` unchanged, or UnsafeInputError when a link leads it outside the root."""
        if not self.inside(path):
            named = "" if source_file is None else f"{path} "
            raise LinkOutsideError(
                source_file if source_file is not None else path,
                f"{named}links outside the dataset root {self.root} (to {os.path.realpath(path)}); "
                "refused (--follow-links opens linked files)",
                location=location,
            )
        return Path(path)
