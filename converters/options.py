"""The options of ``write`` and ``convert``: each declared once, typed, checked once.

Every option is a field of :class:`WriteOptions` (what the writer needs) or of
:class:`ConvertOptions` (that plus what reading needs). A field's type says what it takes
(a ``Literal`` for a choice, so mypy catches ``mode="gound-truth"``); its metadata carries
what the command line needs (help, metavar, flag), so the CLI generates its core flags from
here exactly as it does reader flags from each reader's ``Options``. The checks run once,
when the object is built, and raise :class:`~converters.errors.OptionsError` naming the
field (``mask_dir``); the CLI spells those names as flags (``--mask-dir``).
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypedDict, TypeVar, get_args

from .errors import OptionsError
from .geometry import GeometryOptions
from .matrix import Mode
from .model import Media

__all__ = [
    "ConvertKeywords",
    "ConvertOptions",
    "MaskFormat",
    "MediaName",
    "ModeName",
    "Offsets",
    "OnUnmapped",
    "WriteKeywords",
    "WriteOptions",
    "cli_fields",
    "flag_of",
    "value_type",
]

ModeName = Literal["prelabel", "ground-truth", "mal", "gt"]
MediaName = Literal["image", "video", "text", "document", "geospatial", "audio", "conversational", "dicom"]
MaskFormat = Literal["png", "composite", "uri"]
Offsets = Literal["codepoints", "utf16"]
OnUnmapped = Literal["error", "skip"]

#: The spellings ``mode`` takes (the CLI offers them all; ``mal``/``gt`` are Labelbox's names).
MODE_ALIASES: Mapping[str, Mode] = {
    "prelabel": Mode.PRELABEL, "mal": Mode.PRELABEL, "ground-truth": Mode.GROUND_TRUTH, "gt": Mode.GROUND_TRUTH,
}  # fmt: skip


def _opt(default: Any = None, *, help: str, metavar: str | None = None, flag: str | None = None,
         choices: tuple[str, ...] | None = None, cli: bool = True, exclusive: str | None = None) -> Any:
    """A field with what the command line needs to offer it (``cli=False``: API only;
    fields sharing an ``exclusive`` name are mutually exclusive flags)."""
    meta = {"help": help, "metavar": metavar, "flag": flag, "choices": choices, "cli": cli, "exclusive": exclusive}
    return field(default=default, metadata=meta)


def _choices(literal: Any) -> tuple[str, ...]:
    return tuple(get_args(literal))


@dataclass(frozen=True, slots=True, kw_only=True)
class WriteOptions:
    """Everything :func:`converters.write` can be told; see the conversion contract."""

    mode: Mode | ModeName = _opt(
        Mode.PRELABEL, choices=tuple(sorted(MODE_ALIASES)), help="prelabel (MAL, default) or ground-truth"
    )
    media: Media | MediaName | None = _opt(
        choices=_choices(MediaName), help="media type of the data rows (default: the source's)"
    )
    ontology: str | Path | None = _opt(
        metavar="ONTOLOGY.json", help="ontology exported from Labelbox; rows use its schema ids"
    )
    class_map: str | Path | Mapping[str, str] | None = _opt(
        metavar="MAP.json|MAP.csv", help="source class -> ontology name"
    )
    write_ontology: str | Path | None = _opt(metavar="ONT.json", help="also write the ontology the rows use")
    global_key: str | None = _opt(
        metavar="TEMPLATE", exclusive="keys", help="global key template, e.g. 'coco/{subset}/{name}'"
    )
    data_rows: str | Path | None = _opt(
        metavar="MAP.csv|MAP.json|EXPORT.ndjson", exclusive="keys",
        help="source name -> data row. CSV with a header, or JSON (an object {name: global_key}, a list of "
        "objects, or a Labelbox data-row export, NDJSON or JSON, as it comes). Name column: file_name, "
        "name, source, path, external_id or file; target column: global_key or data_row_id (id); an "
        "export's data_row.id / data_row.global_key / data_row.external_id are read as such",
    )
    mask_format: MaskFormat = _opt(
        "png", choices=_choices(MaskFormat),
        help="png: inline 0/1 PNG per instance (default); composite: one RGB PNG per image; "
        "uri: one PNG file per instance under --mask-dir",
    )
    mask_dir: str | Path | None = _opt(
        metavar="DIR", help="where mask PNG files are written: used by uri, and by composite with --mask-url-prefix only"
    )
    mask_url_prefix: str | None = _opt(
        metavar="URL", help="URL under which --mask-dir will be served (Labelbox fetches masks from it)"
    )
    min_score: float | None = _opt(metavar="X", help="drop predictions scoring below X")
    report: str | Path | None = _opt(metavar="REPORT.json", help="report path (default: OUT.report.json)")
    max_rows_per_file: int | None = _opt(
        metavar="N", help="split the output into OUT.partNNN.ndjson files of at most N rows (N >= 1)"
    )
    strict: bool = _opt(
        False, help="exit 2 and write nothing if anything would be skipped or changed, or nothing was converted"
    )
    offsets: Offsets = _opt("codepoints", choices=_choices(Offsets), help="text entity offsets unit")
    on_unmapped: OnUnmapped = _opt("error", choices=_choices(OnUnmapped), help="class missing from --ontology")
    write_data_rows: str | Path | None = _opt(metavar="ROWS.json", help="write data row payloads for text assets")
    allow_file_uris: bool = _opt(
        False, help="with --mask-format uri and no --mask-url-prefix: write file:/// URIs "
        "(only for local tools; Labelbox cannot fetch them)",
    )
    geometry: GeometryOptions = field(default_factory=GeometryOptions, metadata={"cli": False})

    def __post_init__(self) -> None:
        mode = MODE_ALIASES.get(str(getattr(self.mode, "value", self.mode)))
        if mode is None:
            raise OptionsError(f"{{mode}} must be one of {', '.join(sorted(MODE_ALIASES))}, got {self.mode!r}",
                               fields=("mode",))
        object.__setattr__(self, "mode", mode)
        if self.media is not None:
            try:
                object.__setattr__(self, "media", Media(self.media))
            except ValueError:
                raise OptionsError(
                    f"{{media}} must be one of {', '.join(m.value for m in Media)}, got {self.media!r}",
                    fields=("media",),
                ) from None
        for name, literal in (("mask_format", MaskFormat), ("offsets", Offsets), ("on_unmapped", OnUnmapped)):
            if getattr(self, name) not in get_args(literal):
                raise OptionsError(
                    f"{{{name}}} must be one of {', '.join(get_args(literal))}, got {getattr(self, name)!r}",
                    fields=(name,),
                )
        if not isinstance(self.geometry, GeometryOptions):
            raise OptionsError("{geometry} must be a GeometryOptions", fields=("geometry",))
        _check_masks(self)
        if self.max_rows_per_file is not None and (
            isinstance(self.max_rows_per_file, bool) or not isinstance(self.max_rows_per_file, int)
            or self.max_rows_per_file < 1
        ):
            raise OptionsError(
                f"{{max_rows_per_file}} must be at least 1 (got {self.max_rows_per_file})", fields=("max_rows_per_file",)
            )
        if self.min_score is not None and not (
            isinstance(self.min_score, (int, float)) and 0.0 <= self.min_score <= 1.0
        ):
            raise OptionsError(f"{{min_score}} must be within [0, 1] (got {self.min_score!r})", fields=("min_score",))
        if self.global_key is not None and self.data_rows is not None:
            raise OptionsError("give {global_key} or {data_rows}, not both", fields=("global_key", "data_rows"))

    @property
    def mode_value(self) -> Mode:
        """``mode`` as the enum (what ``__post_init__`` made of any accepted spelling)."""
        return Mode(self.mode)

    @property
    def media_value(self) -> Media | None:
        return None if self.media is None else Media(self.media)


def _check_masks(o: WriteOptions) -> None:
    if o.mask_format == "uri" and o.mask_dir is None:
        raise OptionsError("{mask_format} uri writes one PNG per instance: give {mask_dir}",
                           fields=("mask_format", "mask_dir"))
    if o.mask_url_prefix is not None and o.mask_dir is None:
        raise OptionsError("{mask_url_prefix} needs {mask_dir} (where the PNGs are written)",
                           fields=("mask_url_prefix", "mask_dir"))
    if o.mask_dir is not None and not (o.mask_format == "uri" or o.mask_url_prefix is not None):
        why = "(masks are inline in the rows)" if o.mask_format == "png" else "without {mask_url_prefix} (masks are inline)"
        raise OptionsError(
            f"{{mask_dir}} is not used with {{mask_format}} {o.mask_format} {why}; it is for "
            "{mask_format} uri, or composite with {mask_url_prefix}",
            fields=("mask_dir", "mask_format", "mask_url_prefix"),
        )
    if o.mask_format == "uri" and o.mask_url_prefix is None and not o.allow_file_uris:
        raise OptionsError(
            "{mask_format} uri without {mask_url_prefix} writes file:/// URIs that Labelbox cannot "
            "fetch; give {mask_url_prefix} URL (where {mask_dir} will be served), or {allow_file_uris}",
            fields=("mask_format", "mask_url_prefix", "mask_dir", "allow_file_uris"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ConvertOptions(WriteOptions):
    """Everything ``lbconvert convert`` can be told: the writer's options and the reader's."""

    fmt: str = _opt("auto", flag="--from", cli=False,  # its choices are the readers: the CLI adds it
                    help="source format (default: auto-detect; aliases such as pascal-voc accepted)")
    images: str | Path | None = _opt(metavar="DIR", help="folder holding the images (for sizes)")
    follow_links: bool = _opt(False, help="open files whose links lead outside the dataset folder")
    workers: int | None = _opt(
        metavar="N", help="convert the source's shards on N local worker processes (Dask, extra [dask]); "
        "the output is the same as one process's",
    )
    dask_scheduler: str | None = _opt(
        metavar="tcp://HOST:PORT", help="convert the shards on this running Dask cluster (extra [dask]); "
        "SOURCE and OUT must be reachable by every worker (a shared path or an fsspec URL)",
    )
    keep_shards: bool = _opt(
        False, help="with --workers or --dask-scheduler: write one OUT.shardNNNNN.ndjson per shard and "
        "OUT.manifest.json listing them, instead of OUT.ndjson",
    )
    reader_options: Mapping[str, Any] = field(default_factory=dict, metadata={"cli": False})

    def __post_init__(self) -> None:
        WriteOptions.__post_init__(self)
        if self.workers is not None and (
            isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 1
        ):
            raise OptionsError(f"{{workers}} must be at least 1 (got {self.workers!r})", fields=("workers",))
        if self.workers is not None and self.workers > 1 and self.dask_scheduler is not None:
            raise OptionsError("give {workers} or {dask_scheduler}, not both", fields=("workers", "dask_scheduler"))
        if self.keep_shards and self.max_rows_per_file is not None:
            raise OptionsError("give {keep_shards} (one file per shard) or {max_rows_per_file}, not both",
                               fields=("keep_shards", "max_rows_per_file"))

    @property
    def sharded(self) -> bool:
        """Whether the run is sharded (``workers`` > 1 or a ``dask_scheduler``); a run given
        a Dask client through the API is sharded too."""
        return (self.workers or 1) > 1 or self.dask_scheduler is not None

    def write_options(self) -> WriteOptions:
        """The writer's part of these options."""
        names = {f.name for f in dataclasses.fields(WriteOptions)}
        return WriteOptions(**{f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name in names})


W = TypeVar("W", bound=WriteOptions)


class WriteKeywords(TypedDict, total=False):
    """The keyword arguments of :func:`converters.write` (the fields of :class:`WriteOptions`)."""

    mode: Mode | ModeName
    media: Media | MediaName | None
    ontology: str | Path | None
    class_map: str | Path | Mapping[str, str] | None
    write_ontology: str | Path | None
    global_key: str | None
    data_rows: str | Path | None
    mask_format: MaskFormat
    mask_dir: str | Path | None
    mask_url_prefix: str | None
    min_score: float | None
    report: str | Path | None
    max_rows_per_file: int | None
    strict: bool
    offsets: Offsets
    on_unmapped: OnUnmapped
    write_data_rows: str | Path | None
    allow_file_uris: bool
    geometry: GeometryOptions


class ConvertKeywords(WriteKeywords, total=False):
    """The keyword arguments of :func:`converters.convert` and :func:`converters.read`."""

    fmt: str
    images: str | Path | None
    follow_links: bool
    workers: int | None
    dask_scheduler: str | None
    keep_shards: bool
    reader_options: Mapping[str, Any]


def build(cls: type[W], where: str, kw: Mapping[str, Any]) -> W:
    """``cls(**kw)`` with an unknown keyword reported as an OptionsError listing the known ones."""
    known = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(kw) - set(known))
    if unknown:
        raise OptionsError(f"{where}() has no option {', '.join(map(repr, unknown))} (options: {', '.join(known)})")
    return cls(**kw)


_HINTS: dict[type[Any], dict[str, Any]] = {}


def _hints(cls: type[Any]) -> dict[str, Any]:
    """``typing.get_type_hints(cls)``, once per class (it evaluates every annotation of the
    class each call: ~1 ms a flag when the command line is built)."""
    found = _HINTS.get(cls)
    if found is None:
        found = _HINTS[cls] = typing.get_type_hints(cls)
    return found


def cli_fields(cls: type[Any]) -> tuple[dataclasses.Field[Any], ...]:
    """The fields of ``cls`` the command line offers as flags, in declaration order."""
    return tuple(f for f in dataclasses.fields(cls) if f.metadata.get("cli", False))


def value_type(cls: type[Any], name: str) -> type[Any]:
    """What a flag's text converts to: ``int`` or ``float`` when the field takes one, else ``str``."""
    hint = _hints(cls)[name]
    args = set(get_args(hint)) or {hint}
    for t in (int, float):
        if t in args:
            return t
    return str


def flag_of(name: str) -> str:
    """The command-line spelling of an option field (``mask_dir`` -> ``--mask-dir``)."""
    for cls in (ConvertOptions, GeometryOptions):
        for f in dataclasses.fields(cls):
            if f.name == name and f.metadata.get("flag"):
                return str(f.metadata["flag"])
    return "--" + name.replace("_", "-")

