"""Pascal VOC reader: detection XML (boxes, parts, polygons, flags, attributes) and

The reader lives in :mod:`.reader`; its helpers are the private modules beside it."""

from .reader import VOCOptions, VOCReader

__all__ = ["VOCOptions", "VOCReader"]
