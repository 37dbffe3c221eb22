"""spaCy reader: entities, span groups and categories as Labelbox text annotations.

The reader lives in :mod:`.reader`; its helpers are the private modules beside it."""

from .reader import MAX_TEXT_CHARS, SpacyOptions, SpacyReader

__all__ = ["MAX_TEXT_CHARS", "SpacyOptions", "SpacyReader"]
