"""CVAT reader: "CVAT for images 1.1" and "CVAT for video 1.1" XML exports.

The reader lives in :mod:`.reader`; its helpers are the private modules beside it."""

from .reader import CVATOptions, CVATReader

__all__ = ["CVATOptions", "CVATReader"]
