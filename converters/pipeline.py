"""convert(): read -> repair -> check the import matrix -> map -> write, with a report.

The pipeline streams: a reader yields one asset at a time, its rows are written and
forgotten. Every annotation the reader yields is counted *read* under its source kind and
ends *written* or *skipped* with a reason (see :mod:`converters.report`).
"""

from __future__ import annotations

import dataclasses
import gc
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import geometry
from .assembly import AssetConverter
from .datarows import DataRowMap, KeyResolver
from .errors import DataRowError, InputError, NoAssetsError, OptionsError, SourceNotFoundError
from .matrix import Mode
from .model import Asset, Media
from .ndjson import MASK_FORMATS, MaskOptions
from .ontology import Ontology, load_class_map
from .output import (
    DataRowsOutput,
    NDJSONOutput,
    StagedFolder,
    StagedText,
    check_output_paths,
    write_text_atomic,
)
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
    allow_file_uris: bool = False
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
    if o.mask_dir is not None and not (o.mask_format == "uri" or o.mask_url_prefix is not None):
        raise OptionsError(
            f"--mask-dir is not used with --mask-format {o.mask_format}"
            + (" (masks are inline in the rows)" if o.mask_format == "png" else " without --mask-url-prefix (masks are inline)")
            + "; it is for --mask-format uri, or composite with --mask-url-prefix"
        )
    if o.mask_format == "uri" and o.mask_url_prefix is None and not o.allow_file_uris:
        raise OptionsError(
            "--mask-format uri without --mask-url-prefix writes file:/// URIs that Labelbox cannot "
            "fetch; give --mask-url-prefix URL (where --mask-dir will be served), or --allow-file-uris"
        )
    if o.max_rows_per_file is not None and o.max_rows_per_file < 1:
        raise OptionsError(f"--max-rows-per-file must be at least 1 (got {o.max_rows_per_file})")
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
    when an annotation would be skipped or changed, or nothing was converted; the report
    says which. ``progress`` is called with the number of assets done; when it also has a
    ``set_total(n)`` method, that is called with the reader's total once it is known.

    Every output path is checked before the input is read; the report, the ontology and
    the NDJSON files are staged and put in place together at the end.

    Raises:
        ConversionError: bad input or options; nothing is written.
    """
    if options is None:
        options = ConvertOptions(**kw)
    elif kw:
        options = dataclasses.replace(options, **kw)
    _check_options(options)
    out_path = Path(output)
    report_path = Path(options.report) if options.report else out_path.with_name(
        out_path.name.removesuffix(".ndjson") + ".report.json"
    )
    _check_paths(sources, out_path, report_path, options)
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
    if options.class_map is not None and not isinstance(options.class_map, Mapping):
        ontology.class_map_source = str(options.class_map)
    data_rows = DataRowMap.load(options.data_rows) if options.data_rows else None
    if not ontology.fixed:
        ontology.declare(reader.label_kinds())
    keys = KeyResolver(
        template=options.global_key,
        default_template=reader.default_key_template,
        data_rows=data_rows,
    )
    if options.mask_format == "uri" and options.mask_url_prefix is None:
        report.note(
            "file-uris",
            f"mask rows point at file:/// URIs under {options.mask_dir} (--allow-file-uris): "
            "Labelbox cannot fetch them; serve the folder and use --mask-url-prefix for an import",
        )
    writer = NDJSONOutput(out_path, max_rows_per_file=options.max_rows_per_file)
    data_rows_out = DataRowsOutput(options.write_data_rows)
    job = AssetConverter(reader, options, report, ontology)
    mask_dir = StagedFolder(Path(options.mask_dir)) if options.mask_dir is not None else None
    if mask_dir is not None:
        # Mask files go to a staging folder; their URLs already name the final place (a
        # file:/// URI is the final folder's, exactly as if the files were written there).
        job.mask_options = MaskOptions(
            format=options.mask_format,
            directory=mask_dir.tmp,
            url_prefix=options.mask_url_prefix or mask_dir.final.resolve().as_uri(),
        )
    set_total = getattr(progress, "set_total", None)
    if set_total is not None:
        set_total(reader.total())
    frozen = False
    staged: list[StagedText] = []
    matched = unscored = 0
    first_name = ""
    try:
        n = 0
        for batch in _batches(reader.read(), _BATCH):
            if not frozen and gc.isenabled() and gc.get_freeze_count() == 0:
                # The reader has loaded what it keeps for the whole run (a COCO file's JSON is
                # millions of objects): move it out of the collector's sight, or every full
                # collection walks it again (measured: ~15% of a val2017-sized conversion).
                gc.freeze()
                frozen = True
            if n == 0 and set_total is not None:
                set_total(reader.total())  # readers that learn it while loading
            job.prevalidate(batch)
            for asset in batch:
                n += 1
                report.assets += 1
                first_name = first_name or asset.name
                if options.media is not None and asset.media is not options.media:
                    raise OptionsError(
                        f"--media {options.media.value}: the {reader.format_name} reader gives "
                        f"{asset.media.value} data rows ({asset.name!r}); it cannot produce {options.media.value}"
                    )
                if options.min_score is not None:
                    unscored += sum(1 for a in asset.annotations if getattr(a, "confidence", 0.0) is None)
                ref = keys.resolve(asset)
                if ref is None:
                    job.skip_asset(asset, "no-data-row", "the --data-rows map does not list this asset")
                else:
                    matched += 1
                    writer.write_data_row(job.rows_for(asset, ref))
                    data_rows_out.add(asset, ref, report)
                if progress is not None:
                    progress(n)
        if n == 0:
            raise _no_assets(sources, reader, report)
        report.check()
        if data_rows is not None and n and not matched:
            raise DataRowError(
                f"{data_rows.source}: the --data-rows map lists none of the {n} assets "
                f"(e.g. {first_name!r}); names must match the source's file names"
            )
        _notes(report, options, keys, unscored)
        rows_out = sum(report.rows.values())
        if options.strict and (report.total_skipped or report.changed or rows_out == 0):
            writer.abort()
            data_rows_out.abort()
            if mask_dir is not None:
                mask_dir.abort()
            report.options["strict_failed"] = True
            write_text_atomic(report_path, report.to_json())
        else:
            report.outputs = [str(p) for p in writer.planned()]
            if writer.overflow_rows:
                report.note(
                    "per-row-limit",
                    f"{writer.overflow_rows} rows exceed Labelbox's 5,000 annotations per data row "
                    "and feature; they are in the .overflowN files, to import as separate jobs",
                )
            if options.write_ontology:
                staged.append(StagedText(Path(options.write_ontology), _ontology_text(options, ontology)))
            staged.append(StagedText(report_path, report.to_json()))
            writer.commit()
            data_rows_out.commit()
            if mask_dir is not None:
                mask_dir.commit()
            for item in staged:
                item.commit()
    except BaseException:
        writer.abort()
        data_rows_out.abort()
        if mask_dir is not None:
            mask_dir.abort()
        for item in staged:
            item.abort()
        raise
    finally:
        if frozen:
            gc.unfreeze()
    report.options["report_path"] = str(report_path)
    return report


def _ontology_text(o: ConvertOptions, ontology: Ontology) -> str:
    """The ontology the rows use. A given ``--ontology`` is fixed (nothing is added), so it is
    written back as it came, every field kept (``schemaNodeId``, ``featureSchemaId``, colours);
    a derived one is written in the ``OntologyBuilder.asdict()`` shape."""
    if o.ontology is None:
        return ontology.to_json()
    data = json.loads(Path(o.ontology).read_text(encoding="utf-8"))  # Ontology.load parsed it already
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _check_paths(sources: Sequence[str | Path], out: Path, report: Path, o: ConvertOptions) -> None:
    """Every output checked against every input before anything is read (issue 14 B)."""
    paths = [Path(s) for s in sources]
    inputs = [p for p in paths if p.is_file()]
    inputs += [Path(p) for p in (o.ontology, o.data_rows, o.class_map) if isinstance(p, (str, Path))]
    roots = [p if p.is_dir() else p.parent for p in paths if p.exists()]
    if o.images:
        roots.append(Path(o.images))
    outputs = {
        "-o": out,
        "--report": report,
        "--write-ontology": Path(o.write_ontology) if o.write_ontology else None,
        "--write-data-rows": Path(o.write_data_rows) if o.write_data_rows else None,
    }
    folders = {"--mask-dir": Path(o.mask_dir) if o.mask_dir else None}
    check_output_paths(outputs, inputs=inputs, roots=roots, folders=folders)


def _notes(report: Report, o: ConvertOptions, keys: KeyResolver, unscored: int) -> None:
    """Dataset-wide facts that change what the rows mean (printed as warnings by the CLI)."""
    if o.global_key is None and o.data_rows is None and keys.defaulted:
        report.note(
            "default-global-key",
            f"global keys follow the default template {keys.default_template!r} (e.g. {keys.defaulted!r}); "
            "they must equal your data rows' global keys in Labelbox (--global-key or --data-rows to choose)",
        )
    if unscored:
        report.note(
            "min-score-unscored",
            f"{unscored} annotations carry no score and were kept despite --min-score {o.min_score:g}",
        )


_WHAT = {Media.IMAGE: "images", Media.VIDEO: "videos", Media.TEXT: "documents", Media.CONVERSATIONAL: "conversations"}


def _no_assets(sources: Sequence[str | Path], reader: Reader, report: Report) -> NoAssetsError:
    """The error for a run that found nothing to convert, with what the reader counted on the way."""
    source = ", ".join(str(s) for s in sources)
    what = _WHAT.get(reader.media, "images / documents")
    counted = sorted((report.tallies + report.reasons()).items())
    hint = ", ".join(f"{code} {n}" for code, n in counted if n)
    return NoAssetsError(source, what, f"the report counted: {hint}" if hint else "")


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
