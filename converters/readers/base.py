"""The reader contract: what a format plugin implements.

A reader turns one source export into :class:`~converters.model.Asset` values, one at a
time. It knows nothing about the ontology, NDJSON, or the command line:

* ``format_name`` is the registry key (``coco``, ``voc``...); ``description`` one line for
  ``lbconvert formats``.
* ``Options`` is a frozen dataclass of reader options. Declare each field with
  :func:`option` so the CLI can offer it as a flag (``--voc-origin``) and the API as a keyword.
* ``sniff(path)`` says whether a SOURCE path looks like this format (for ``--from auto``).
* ``read()`` yields assets. Anything the reader itself drops goes to ``context.report``
  (``skip_unread``), so the report can account for every source annotation.

Errors in the input raise :class:`~converters.errors.ParseError` (or a subclass) naming the
file and the line, element or annotation id.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from ..errors import OptionsError
from ..model import Asset, Kind, Media
from ..report import Report
from ..table import ShapeTable

__all__ = ["NoOptions", "ReadContext", "Reader", "Shard", "check_options", "option", "option_error"]


def option(
    default: Any,
    *,
    help: str,
    flag: str | None = None,
    choices: Sequence[Any] | None = None,
    type: Callable[[str], Any] | None = None,
) -> Any:
    """Declare a reader option: a dataclass field with what the CLI needs to offer it."""
    meta = {"help": help, "flag": flag, "choices": tuple(choices) if choices else None, "type": type}
    if isinstance(default, (list, dict, set)):
        raise TypeError("reader option defaults must be immutable")
    return field(default=default, metadata=meta)


def check_options(options: Any) -> None:
    """Check each field of a reader's ``Options`` against its :func:`option` declaration (one
    of its ``choices``; a number where the default is one; a bool where it is a bool).

    Call it first in the Options' ``__post_init__``: then a bad value fails when the options
    are built (``COCOOptions(crowd="bogus")``), with an OptionsError naming the field (and,
    for the CLI, its flag).
    """
    for f in dataclasses.fields(options):
        value = getattr(options, f.name)
        flag = f.metadata.get("flag") or ""
        choices = f.metadata.get("choices")
        if choices and value not in choices and str(value) not in map(str, choices):
            problem = f"must be one of {', '.join(map(str, choices))}"
        elif isinstance(f.default, bool) and not isinstance(value, bool):
            problem = "must be true or false"
        elif (isinstance(f.default, (int, float)) and not isinstance(f.default, bool)
              and (isinstance(value, bool) or not isinstance(value, (int, float)))):
            problem = "must be a number"
        else:
            continue
        raise OptionsError(f"{{{f.name}}} {problem}, got {value!r}", fields=(f.name,),
                           flags={f.name: flag} if flag else None)


def option_error(options: Any, name: str, message: str) -> OptionsError:
    """An OptionsError about field ``name`` of a reader's options (``message`` follows the
    field's name: ``option_error(self, "cat_threshold", "must be within [0, 1]")``)."""
    flag = next((f.metadata.get("flag") for f in dataclasses.fields(options) if f.name == name), None)
    return OptionsError(f"{{{name}}} {message}", fields=(name,), flags={name: flag} if flag else None)


@dataclass(frozen=True, slots=True)
class NoOptions:
    """A reader without options."""


@dataclass
class ReadContext:
    """What the pipeline hands every reader: the report and the options common to all.

    Attributes:
        report: where skipped and changed annotations are recorded.
        images_dir: the folder holding the images, when the user named one (``--images``).
        min_score: predictions below this score are dropped (and counted).
        media: the media type the user asked for, or None for the reader's own.
        follow_links: open files whose real path (after symlinks) is outside the dataset
            root; off by default, so an export cannot make the reader open other files.
    """

    report: Report = field(default_factory=Report)
    images_dir: Path | None = None
    min_score: float | None = None
    media: Media | None = None
    follow_links: bool = False


@dataclass(frozen=True, slots=True)
class Shard:
    """An independent part of one reading: a small picklable description, never loaded data.

    A sharded run (``--workers``, ``--dask-scheduler``) sends each shard to a worker, which
    builds the same reader (same SOURCE, same options) and reads only that part with
    :meth:`Reader.read_shard`. Shards are numbered in source order: their outputs,
    concatenated in that order, are exactly what :meth:`Reader.read` yields.

    Attributes:
        index: the position in source order (0-based).
        what: names the part for people (``instances_val.json``, ``images 1/4 of x.json``):
            a failing shard's error and the manifest say it.
        unit: what the reader needs to find its part again (file paths, item ranges; plain
            picklable values only); ``()`` is the whole reading.
    """

    index: int
    what: str
    unit: tuple[Any, ...] = ()


O = TypeVar("O")


class Reader(abc.ABC, Generic[O]):
    """Base class of every reader. Subclasses set the class attributes and ``read``.

    Generic over its options type (``class COCOReader(Reader[COCOOptions])``), so
    ``self.options`` is typed in the reader's code; ``Options`` is that same class.
    """

    format_name: ClassVar[str]
    description: ClassVar[str] = ""
    media: ClassVar[Media] = Media.IMAGE
    Options: ClassVar[type[Any]] = NoOptions
    #: The ``--global-key`` template used when the user gives none.
    default_key_template: ClassVar[str] = "{name}"

    def __init__(
        self,
        sources: Sequence[str | Path],
        *,
        options: O | None = None,
        context: ReadContext | None = None,
    ) -> None:
        self.sources = tuple(Path(s) for s in sources)
        self.options: O = options if options is not None else self.Options()
        if not isinstance(self.options, self.Options):
            raise TypeError(f"{type(self).__name__} takes {self.Options.__name__} options")
        self.context = context if context is not None else ReadContext()

    @property
    def report(self) -> Report:
        return self.context.report

    @classmethod
    def sniff(cls, path: Path) -> bool:
        """Whether ``path`` (a file or a folder) looks like this reader's format."""
        return False

    @classmethod
    def make_options(cls, values: Mapping[str, Any]) -> Any:
        """``Options(**values)``, any mistake (an unknown name, a bad value) an OptionsError."""
        known = {f.name for f in dataclasses.fields(cls.Options)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise OptionsError(
                f"the {cls.format_name} reader has no option {', '.join(unknown)} "
                f"(it has: {', '.join(sorted(known)) or 'none'})"
            )
        try:
            return cls.Options(**values)
        except OptionsError:
            raise
        except (TypeError, ValueError) as exc:
            raise OptionsError(f"{cls.format_name} reader options: {exc}") from exc

    def labels(self) -> Sequence[str]:
        """The class names the source declares (may be empty when it declares none)."""
        return ()

    def total(self) -> int | None:
        """How many assets :meth:`read` will yield, when the reader knows (None otherwise).

        Only for the progress bar: asked before reading and again once the first assets are
        read (a reader that learns it while loading a file answers then). An estimate is
        fine; it must be cheap.
        """
        return None

    def label_kinds(self) -> Mapping[str, Collection[Kind]]:
        """The shape kinds each class will be read with, known before ``read()`` (may be
        empty). The ontology names a class's tools from it, so the names do not depend on
        the order objects come in."""
        return {}

    @abc.abstractmethod
    def read(self) -> Iterator[Asset]:
        """Yield the source's assets, each with its annotations."""

    def read_tables(self) -> Iterator[Asset | ShapeTable]:
        """:meth:`read`, with runs of assets whose annotations are all plain boxes and
        polygons given as :class:`~converters.table.ShapeTable` values where the reader can
        tell them cheaply (the writer turns a table into rows without a model object per
        annotation; ``convert`` reads this way). A table's :meth:`~ShapeTable.assets` must
        be exactly what :meth:`read` yields for them. The default is :meth:`read`."""
        return self.read()

    # -- shards (issue 17) --------------------------------------------------------------

    def shards(self) -> Sequence[Shard]:
        """The independent parts of this reading, in source order (see :class:`Shard`).

        The default is one shard, the whole reading: a reader that does not split still runs
        on a worker. Readers split at file granularity (one file or a batch of files each),
        and must keep :meth:`read_shard` of every shard, concatenated, equal to :meth:`read`:
        decisions that need the whole dataset are taken again by each shard's reader (they
        are deterministic) or carried in the shard's ``unit``.
        """
        return (Shard(0, ", ".join(str(s) for s in self.sources)),)

    def read_shard(self, shard: Shard) -> Iterator[Asset]:
        """The assets of one shard (of :meth:`shards` of a reader built like this one)."""
        if shard.unit:
            raise ValueError(f"{type(self).__name__} cannot read shard {shard.what!r}: it does not split")
        return self.read()

    def shard_label_kinds(self, shard: Shard) -> Mapping[str, Collection[Kind]]:
        """:meth:`label_kinds` of one shard's part: their union over the shards is the whole
        source's (a sharded run's labels pass runs on the workers). The default gives the
        whole source's for the first shard and nothing for the others."""
        return self.label_kinds() if shard.index == 0 else {}

    def release(self) -> None:
        """Forget what :meth:`label_kinds` kept for :meth:`read` (a sharded run's client
        never reads: the workers do)."""
