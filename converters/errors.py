"""The exception hierarchy of labelbox-converters.

Every error the library raises on purpose derives from :class:`ConversionError`, so a
migration script can catch one type. Errors about an input carry the file and the place in
it (a line, an XML element, a JSON annotation id) and build their one-line message from
those fields, so the CLI can print ``error: <message>`` and never a traceback::

    ConversionError
    ├── InputError                     the input is wrong (exit code 1)
    │   ├── SourceNotFoundError        (also FileNotFoundError)
    │   ├── UnknownFormatError         (also LookupError)
    │   ├── ParseError                 (also ValueError) file + location + reason
    │   │   ├── MissingFieldError
    │   │   └── InvalidFieldError
    │   ├── UnsafeInputError           entity expansion, path escaping the dataset root, bombs
    │   ├── MissingDependencyError     an optional extra is needed (also ImportError)
    │   └── NoAssetsError              the reader found no image / document at all
    ├── OptionsError                   the options are wrong (exit code 1)
    ├── MappingError                   a class or attribute maps to nothing / the wrong kind
    ├── DataRowError                   a global key or data row map is unusable
    └── WriteError                     the output could not be written
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = [
    "ConversionError",
    "one_line",
    "DataRowError",
    "InputError",
    "InvalidFieldError",
    "MappingError",
    "MissingDependencyError",
    "MissingFieldError",
    "NoAssetsError",
    "OptionsError",
    "ParseError",
    "ShardError",
    "SourceNotFoundError",
    "UnknownFormatError",
    "UnsafeInputError",
    "WriteError",
]


def one_line(text: str) -> str:
    """``text`` on one line: line breaks (lxml messages end in one, YAML marks add a context
    block) and the indentation after them become single spaces, so ``error: ...`` is
    always exactly one line."""
    if "\n" not in text and "\r" not in text:
        return text
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


class ConversionError(Exception):
    """Root of every error raised by the converters on purpose; its message is one line."""

    exit_code = 1

    def __str__(self) -> str:
        return one_line(super().__str__())


class InputError(ConversionError):
    """The input files cannot be converted as they are."""


class SourceNotFoundError(InputError, FileNotFoundError):
    """A SOURCE path (or a file it names) does not exist."""

    def __init__(self, path: object, reason: str = "no such file or directory") -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    def __str__(self) -> str:
        return one_line(f"{self.path}: {self.reason}")


class UnknownFormatError(InputError, LookupError):
    """A format name is not registered, or auto-detection found nothing."""

    def __init__(self, name: str, known: list[str] | tuple[str, ...] = ()) -> None:
        self.name = name
        self.known = tuple(known)
        super().__init__(name)

    def __str__(self) -> str:
        known = ", ".join(self.known) or "none"
        return one_line(f"unknown format {self.name!r} (known: {known})")


class ParseError(InputError, ValueError):
    """A source file is malformed at a known place.

    Attributes:
        path: the file.
        location: where in it: ``line 12``, ``annotation id 7``, ``<image id="3">``; may be empty.
        reason: what is wrong, one sentence.
    """

    def __init__(self, path: object, reason: str, *, location: str | None = None) -> None:
        self.path = str(path)
        self.location = location or ""
        self.reason = reason
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}, {self.location}" if self.location else self.path
        return one_line(f"{where}: {self.reason}")


class MissingFieldError(ParseError):
    """A required field is absent."""

    def __init__(self, path: object, field: str, *, location: str | None = None) -> None:
        self.field = field
        super().__init__(path, f"missing field {field!r}", location=location)


class InvalidFieldError(ParseError):
    """A field holds a value of the wrong type or range."""

    def __init__(
        self, path: object, field: str, reason: str, *, location: str | None = None
    ) -> None:
        self.field = field
        super().__init__(path, f"field {field!r} {reason}", location=location)


class UnsafeInputError(ParseError):
    """The input tries something we refuse: entities, a path outside the root, a pixel bomb."""


class MissingDependencyError(InputError, ImportError):
    """A feature needs an optional extra that is not installed."""

    def __init__(self, feature: str, extra: str, module: str) -> None:
        self.feature = feature
        self.extra = extra
        self.module = module
        super().__init__(str(self))

    def __str__(self) -> str:
        return one_line(
            f"{self.feature} needs the {self.module!r} package: "
            f"pip install 'labelbox-converters[{self.extra}]'"
        )


class NoAssetsError(InputError):
    """A run found no asset (image, video, document) at all.

    Exit 0 with an empty file would read as "converted"; a user who pointed at the wrong
    folder (labels without images, a data.yaml whose splits moved) must be told instead.
    ``hint`` is what the report counted on the way (label files without an image...).
    """

    def __init__(self, source: object, what: str = "images", hint: str = "") -> None:
        self.source = str(source)
        self.what = what
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        tail = f"; {self.hint}" if self.hint else ""
        return f"no {self.what} found in {self.source}; nothing to convert{tail}"


class OptionsError(ConversionError, ValueError):
    """The options given to convert() or the CLI are inconsistent or invalid (also a
    ValueError: a bad option value is one, and callers catching that keep working).

    ``fields`` names the option fields the message is about; the message holds a ``{field}``
    placeholder for each, rendered as the field name by the library (``mask_dir``) and as
    the flag by the CLI (``--mask-dir``, through :meth:`render`), so neither has to guess
    the other's spelling.
    """

    def __init__(
        self, message: str, *, fields: tuple[str, ...] = (), flags: dict[str, str] | None = None
    ) -> None:
        self.template = message
        self.fields = fields
        #: Flags the raiser already knows (a reader option's own flag, ``--coco-crowd``).
        self.flags = dict(flags or {})
        super().__init__(self.render())

    def render(self, spell: Callable[[str], str] | None = None) -> str:
        """The message with each field spelled by ``spell`` (default: the field name); a
        field with a known flag is spelled as that flag whenever ``spell`` is given."""
        if not self.fields:
            return self.template
        return self.template.format_map(
            {f: (self.flags.get(f) or spell(f)) if spell else f for f in self.fields}
        )


class MappingError(ConversionError):
    """A source class or attribute cannot be mapped onto the ontology."""


class DataRowError(ConversionError):
    """A data row key is empty, too long, duplicated, or missing from a data row map."""


class WriteError(ConversionError):
    """The output could not be written."""


class ShardError(ConversionError):
    """A shard of a sharded run (``--workers``, ``--dask-scheduler``) failed: the worker's
    one-line error (naming the file), raised again in the client, which committed nothing.

    It carries the message, not the worker's exception, so it crosses process boundaries
    (pickled by Dask) whatever the original's constructor takes.
    """

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def __reduce__(self) -> tuple[type[ShardError], tuple[str, int]]:
        return (type(self), (str(self), self.exit_code))
