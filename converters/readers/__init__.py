"""Readers: one module per source format, found through the registry."""

from ._registry import (
    ENTRY_POINT_GROUP,
    available_formats,
    get_reader,
    register_reader,
    unregister_reader,
)
from .base import NoOptions, ReadContext, Reader, Shard, option

__all__ = [
    "ENTRY_POINT_GROUP",
    "NoOptions",
    "ReadContext",
    "Reader",
    "Shard",
    "available_formats",
    "get_reader",
    "option",
    "register_reader",
    "unregister_reader",
]
