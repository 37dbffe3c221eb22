"""Where readers are found: built-ins by name, third parties by entry point.

Built-in readers are listed as import strings and imported on first use, so
``import converters`` stays cheap and a reader with heavy optional dependencies costs
nothing until it is asked for. Third-party readers declare themselves in the
``converters.readers`` entry-point group::

    [project.entry-points."converters.readers"]
    myformat = "my_package.reader:MyFormatReader"

Entry points are read on the first lookup, never at import, and never replace a built-in
name (a warning says so). Tests and scripts can add a reader at run time with
:func:`register_reader`.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any
from types import MappingProxyType

from ..errors import UnknownFormatError
from .base import Reader

__all__ = [
    "ENTRY_POINT_GROUP",
    "available_formats",
    "get_reader",
    "register_reader",
    "unregister_reader",
]

ENTRY_POINT_GROUP = "converters.readers"

#: Built-in readers, sorted by name. The single place to add one.
BUILTIN_READERS = MappingProxyType(
    {
        "coco": "converters.readers.coco:COCOReader",
        "cvat": "converters.readers.cvat:CVATReader",
        "spacy": "converters.readers.spacy:SpacyReader",
        "voc": "converters.readers.voc:VOCReader",
        "yolo": "converters.readers.yolo:YOLOReader",
    }
)
ALIASES = MappingProxyType({"pascal-voc": "voc", "pascal_voc": "voc", "spacy-ner": "spacy"})

_runtime: dict[str, type[Reader[Any]]] = {}
_entry_points: dict[str, object] | None = None


def entry_points(group: str) -> Any:
    """``importlib.metadata.entry_points``, imported on first use: the import and the scan
    cost a start-up (~40 ms), paid only when a name is not a built-in reader."""
    from importlib.metadata import entry_points as scan

    return scan(group=group)


def _load_entry_points() -> dict[str, object]:
    global _entry_points
    if _entry_points is None:
        found: dict[str, object] = {}
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in BUILTIN_READERS:
                if ep.value != BUILTIN_READERS[ep.name]:
                    warnings.warn(
                        f"entry point {ep.name!r} ({ep.value}) ignored: a built-in reader has that name",
                        stacklevel=3,
                    )
                continue
            found[ep.name] = ep
        _entry_points = found
    return _entry_points


def _import(target: str) -> type[Reader[Any]]:
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    cls: type[Reader[Any]] = getattr(module, attr)
    return cls


def available_formats() -> list[str]:
    """Every reader name: built-ins, entry points and run-time registrations, sorted."""
    return sorted(set(BUILTIN_READERS) | set(_load_entry_points()) | set(_runtime))


def get_reader(name: str) -> type[Reader[Any]]:
    """The reader class registered under ``name`` (aliases such as ``pascal-voc`` allowed).

    Raises:
        UnknownFormatError: no reader has that name; the message lists the valid ones.
    """
    key = ALIASES.get(name, name)
    if key in _runtime:
        return _runtime[key]
    if key in BUILTIN_READERS:
        return _import(BUILTIN_READERS[key])
    ep = _load_entry_points().get(key)
    if ep is not None:
        cls = ep.load()  # type: ignore[attr-defined]
        if not (isinstance(cls, type) and issubclass(cls, Reader)):
            raise UnknownFormatError(key, available_formats())
        return cls
    raise UnknownFormatError(name, available_formats())


def register_reader(cls: type[Reader[Any]], *, name: str | None = None, replace: bool = False) -> None:
    """Register a reader class at run time (for scripts and tests).

    Raises:
        ValueError: the name is taken and ``replace`` is false.
    """
    key = name or cls.format_name
    taken = key in _runtime or key in BUILTIN_READERS or key in _load_entry_points()
    if taken and not replace:
        raise ValueError(f"a reader named {key!r} exists; pass replace=True to override it")
    _runtime[key] = cls


def unregister_reader(name: str) -> None:
    """Remove a reader added with :func:`register_reader`."""
    _runtime.pop(name, None)
