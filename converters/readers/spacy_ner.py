"""Where the spaCy reader used to live: kept so ``from converters.readers.spacy_ner import SpacyReader`` works.

The reader is :mod:`converters.readers.spacy` (a package, like every reader).
"""

from .spacy import MAX_TEXT_CHARS, SpacyOptions, SpacyReader

__all__ = ["MAX_TEXT_CHARS", "SpacyOptions", "SpacyReader"]
