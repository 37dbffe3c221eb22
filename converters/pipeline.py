"""convert(): read -> repair -> check the import matrix -> map -> write, with a report.

The pipeline streams: a reader yields one asset at a time, its rows are written and
forgotten. Every annotation the reader yields is counted *read* under its source kind and
ends *written* or *skipped* with a reason (see :mod:`converters.report`).
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import geometry
from .assembly import AssetConverter
from .datarows import DataRowMap, KeyResolver
from .errors import InputError, OptionsError, SourceNotFoundError
from .matrix import Mode
from .model import Asset, Media
from .ndjson import MASK_FORMATS
from .ontology import Ontology, load_class_map
from .output import DataRowsOutput, NDJSONOutput, write_text_atomic
from .readers import ReadContext, Reader, available_formats, get_reader
from .report import Report

__all__ = ["ConvertOptions", "build_reader", "convert", "detect_format", "read_assets"]

#: The order auto-detection tries readers in (more specific formats first).
_DETECT_ORDER = ("coco", "cvat", "voc", "yolo", "spacy")


@dataclass(frozen=True, slots=True, kw_only=True)
class ConvertOptions:
    """Everything ``lbconvert convert`` can be told; see the contract for each option."""

    fmt: str = "auto"
    mode: Mode = Mode.PRELABEL
    media: Media | None = None
    ontology: str | Path | None = None
    class_map: str | Path | Mapping[str, str] | None = None
    write_ontology: str | Path | None = None
    global_key: str | None = None
    data_rows: str | Path | None = None
    mask_format: str = "png"
    mask_dir: str | Path | None = None
    mask_url_prefix: str | None = None
    min_score: float | None = None
    images: str | Path | None = None
    report: str | Path | None = None
    max_rows_per_file: int | None = None
    strict: bool = False
    offsets: str = "codepoints"
    on_unmapped: str = "error"
    write_data_rows: str | Path | None = None
    follow_links: bool = False
    geometry: geometry.GeometryOptions = field(default_factory=geometry.GeometryOptions)
    reader_options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        aliases = {"mal": Mode.PRELABEL, "gt": Mode.GROUND_TRUTH}
        try:
            mode = aliases.get(self.mode, None) or Mode(self.mode)
            media = None if self.media is None else Media(self.media)
        except ValueError as exc:
            raise OptionsError(str(exc)) from None
        object.__setattr__(self, "mode", mode)
        object.__setattr__(self, "media", media)


def detect_format(sources: Sequence[Path]) -> str:
    """The reader name whose ``sniff`` accepts the first SOURCE."""
    first = sources[0]
    order = [n for n in _DETECT_ORDER if n in available_formats()]
    order += [n for n in available_formats() if n not in order]
    for name in order:
        try:
            if get_reader(name).sniff(first):
                return name
        except ImportError:
            continue
    raise InputError(f"{first}: cannot tell which format this is; name it with --from ({', '.join(order)})")


def build_reader(
    sources: Sequence[str | Path], options: ConvertOptions, report: Report
) -> Reader:
    """The reader for ``sources`` with its options checked."""
    paths = [Path(s) for s in sources]
    if not paths:
        raise OptionsError("no SOURCE given")
    for p in paths:
        if not p.exists():
            raise SourceNotFoundError(p)
    name = detect_format(paths) if options.fmt == "auto" else options.fmt
    cls = get_reader(name)
    known = {f.name for f in dataclasses.fields(cls.Options)}
    unknown = sorted(set(options.reader_options) - known)
    if unknown:
        raise OptionsError(
            f"the {cls.format_name} reader has no option {', '.join(unknown)} "
            f"(it has: {', '.join(sorted(known)) or 'none'})"
        )
    try:
        reader_options = cls.Options(**options.reader_options)
    except (TypeError, ValueError) as exc:
        raise OptionsError(f"{cls.format_name} reader options: {exc}") from exc
    context = ReadContext(
        report=report,
        images_dir=Path(options.images) if options.images else None,
        min_score=options.min_score,
        media=options.media,
        follow_links=options.follow_links,
    )
    return cls(paths, options=reader_options, context=context)


def read_assets(sources: Sequence[str | Path], **kw: Any) -> Iterable[Asset]:
    """Read a source into the intermediate model, without writing anything."""
    options = ConvertOptions(**kw)
    return build_reader(sources, options, Report()).read()


def _check_options(o: ConvertOptions) -> None:
    if o.mask_format not in MASK_FORMATS:
        raise OptionsError(f"--mask-format must be one of {', '.join(MASK_FORMATS)}")
    if o.mask_format == "uri" and o.mask_dir is None:
        raise OptionsError("--mask-format uri writes one PNG per instance: give --mask-dir")
    if o.mask_url_prefix is not None and o.mask_dir is None:
        raise OptionsError("--mask-url-prefix needs --mask-dir (where the PNGs are written)")
    if o.offsets not in ("codepoints", "utf16"):
        raise OptionsError("--offsets must be codepoints or utf16")
    if o.on_unmapped not in ("error", "skip"):
        raise OptionsError("--on-unmapped must be error or skip")
    if o.min_score is not None and not 0.0 <= o.min_score <= 1.0:
        raise OptionsError("--min-score must be within [0, 1]")


def convert(
    sources: Sequence[str | Path],
    output: str | Path,
    options: ConvertOptions | None = None,
    *,
    progress: Callable[[int], None] | None = None,
    **kw: Any,
) -> Report:
    """Convert ``sources`` into Labelbox import NDJSON at ``output``.

    Options come as a :class:`ConvertOptions` or as its fields by keyword. Returns the
    report (also written as JSON beside the output). With ``strict``, nothing is written
    when an annotation would be skipped or changed; the report says which.

    Raises:
        ConversionError: bad input or options; nothing is written.
    """
    if options is None:
        options = ConvertOptions(**kw)
    elif kw:
        options = dataclasses.replace(options, **kw)
    _check_options(options)
    out_path = Path(output)
    report = Report(inputs=[str(s) for s in sources], options=_options_dict(options))
    reader = build_reader(sources, options, report)
    report.options["format"] = reader.format_name
    class_map = (
        dict(options.class_map)
        if isinstance(options.class_map, Mapping)
        else load_class_map(options.class_map) if options.class_map else None
    )
    ontology = (
        Ontology.load(options.ontology, class_map=class_map)
        if options.ontology
        else Ontology.derived(class_map=class_map)
    )
    keys = KeyResolver(
        template=options.global_key,
        default_template=reader.default_key_template,
        data_rows=DataRowMap.load(options.data_rows) if options.data_rows else None,
    )
    writer = NDJSONOutput(out_path, max_rows_per_file=options.max_rows_per_file)
    data_rows_out = DataRowsOutput(options.write_data_rows)
    job = AssetConverter(reader, options, report, ontology)
    frozen = False
    try:
        n = 0
        for batch in _batches(reader.read(), _BATCH):
            if not frozen and gc.isenabled() and gc.get_freeze_count() == 0:
                # The reader has loaded what it keeps for the whole run (a COCO file's JSON is
                # millions of objects): move it out of the collector's sight, or every full
                # collection walks it again (measured: ~15% of a val2017-sized conversion).
                gc.freeze()
                frozen = True
            job.prevalidate(batch)
            for asset in batch:
                n += 1
                report.assets += 1
                if options.media is not None and asset.media is not options.media:
                    raise OptionsError(
                        f"--media {options.media.value}: the {reader.format_name} reader gives "
                        f"{asset.media.value} data rows ({asset.name!r}); it cannot produce {options.media.value}"
                    )
                ref = keys.resolve(asset)
                if ref is None:
                    job.skip_asset(asset, "no-data-row", "the --data-rows map does not list this asset")
                else:
                    writer.write_data_row(job.rows_for(asset, ref))
                    data_rows_out.add(asset, ref, report)
                if progress is not None:
                    progress(n)
        report.check()
        if options.strict and (report.total_skipped or report.changed):
            writer.abort()
            data_rows_out.abort()
            report.options["strict_failed"] = True
        else:
            report.outputs = [str(p) for p in writer.commit()]
            data_rows_out.commit()
            if writer.overflow_rows:
                report.note(
                    "per-row-limit",
                    f"{writer.overflow_rows} rows exceed Labelbox's 5,000 annotations per data row "
                    "and feature; they are in the .overflowN files, to import as separate jobs",
                )
            if options.write_ontology:
                write_text_atomic(Path(options.write_ontology), ontology.to_json())
    except BaseException:
        writer.abort()
        data_rows_out.abort()
        raise
    finally:
        if frozen:
            gc.unfreeze()
    report_path = Path(options.report) if options.report else out_path.with_name(
        out_path.name.removesuffix(".ndjson") + ".report.json"
    )
    write_text_atomic(report_path, report.to_json())
    report.options["report_path"] = str(report_path)
    return report


#: Assets read ahead and handled together (vectorised polygon checks); small enough that
#: memory stays flat, large enough that the vectorised calls pay off.
_BATCH = 128


def _batches(assets: Iterable[Asset], size: int) -> Iterator[list[Asset]]:
    batch: list[Asset] = []
    for asset in assets:
        batch.append(asset)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _options_dict(o: ConvertOptions) -> dict[str, Any]:
    out = {}
    for f in dataclasses.fields(o):
        v = getattr(o, f.name)
        if dataclasses.is_dataclass(v):
            v = dataclasses.asdict(v)  # type: ignore[arg-type]
        elif isinstance(v, Mode | Media):
            v = v.value
        elif isinstance(v, Path):
            v = str(v)
        out[f.name] = v
    return out
