"""convert(): read -> repair -> check the import matrix -> map -> write, with a report.

The pipeline streams: a reader yields one asset at a time, its rows are written and
forgotten. Every annotation the reader yields is counted *read* under its source kind and
ends *written* or *skipped* with a reason (see :mod:`converters.report`).
"""

from __future__ import annotations

import dataclasses
import gc
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import geometry
from .datarows import DataRowMap, DataRowRef, KeyResolver
from .errors import InputError, MappingError, OptionsError, SourceNotFoundError
from .matrix import Mode, why_not
from .model import (
    Annotation,
    Asset,
    Entity,
    Kind,
    Mask,
    Media,
    Relationship,
    VideoObject,
    shape_kind,
)
from .ndjson import (
    MASK_FORMATS,
    AssetRows,
    MaskOptions,
    RowContext,
    annotation_uuid,
    classification_payload,
    entity_payload,
    nested_payloads,
    safe_relative,
    shape_payload,
    video_payload,
)
from .ontology import Ontology, load_class_map
from .output import NDJSONOutput
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
    geometry: geometry.GeometryOptions = field(default_factory=geometry.GeometryOptions)
    reader_options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        aliases = {"mal": Mode.PRELABEL, "gt": Mode.GROUND_TRUTH}
        try:
            mode = aliases.get(self.mode, None) or Mode(self.mode)  # type: ignore[call-overload]
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
    data_rows_out = _DataRowsOut(options.write_data_rows)
    job = _Job(reader, options, report, ontology)
    frozen = False
    try:
        for n, asset in enumerate(reader.read(), start=1):
            if n == 1 and gc.isenabled() and gc.get_freeze_count() == 0:
                # The reader has loaded what it keeps for the whole run (a COCO file's JSON is
                # millions of objects): move it out of the collector's sight, or every full
                # collection walks it again (measured: ~15% of a val2017-sized conversion).
                gc.freeze()
                frozen = True
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
                _atomic_text(Path(options.write_ontology), ontology.to_json())
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
    _atomic_text(report_path, report.to_json())
    report.options["report_path"] = str(report_path)
    return report


class _Job:
    """Turns one asset into rows, recording every decision in the report."""

    def __init__(self, reader: Reader, options: ConvertOptions, report: Report, ontology: Ontology) -> None:
        self.reader = reader
        self.o = options
        self.report = report
        self.ontology = ontology
        self.source_identity = reader.format_name
        self.ctx = RowContext(use_ids=ontology.has_ids, keep_confidence=options.mode is Mode.PRELABEL)
        self._features: dict[int, dict[str, str]] = {}
        self.mask_options = MaskOptions(
            format=options.mask_format,
            directory=Path(options.mask_dir) if options.mask_dir else None,
            url_prefix=options.mask_url_prefix,
        )

    def skip_asset(self, asset: Asset, code: str, message: str) -> None:
        for ann in asset.annotations:
            self.report.count_read(ann.kind)
            self.report.skip(ann.source, ann.kind, code, message)

    def _feature(self, tool_or_def: Any) -> dict[str, str]:
        ref = self._features.get(id(tool_or_def))
        if ref is None:  # tools live as long as the ontology: their ids stay valid
            ref = self._features[id(tool_or_def)] = self.ctx.ref(tool_or_def.name, tool_or_def.schema_id)
        return ref

    def _confidence(self, row: dict[str, Any], confidence: float | None) -> None:
        if confidence is None:
            return
        if self.ctx.keep_confidence:
            row["confidence"] = round(confidence, 6)
        else:
            self.report.tally("confidence-dropped")

    def rows_for(self, asset: Asset, ref: DataRowRef) -> list[tuple[str, dict[str, Any]]]:
        rows = AssetRows(self.mask_options, asset_key=safe_relative(ref.global_key or ref.id or ""))
        self._data_row = ref.asdict()  # shared by the asset's rows (never mutated)
        placed: list[tuple[Any, list[int]]] = []
        read = self.report.read
        for ann in asset.annotations:
            kind = ann.kind
            read[kind._value_] += 1
            if (
                self.o.min_score is not None
                and not isinstance(ann, Relationship)
                and ann.confidence is not None
                and ann.confidence < self.o.min_score
            ):
                self.report.skip(ann.source, kind, "below-min-score", f"score {ann.confidence:g} < --min-score {self.o.min_score:g}")
                continue
            try:
                indexes = self._annotation_rows(asset, ref, ann, rows)
            except MappingError as exc:
                if self.o.on_unmapped == "skip":
                    self.report.skip(ann.source, kind, "unmapped", str(exc))
                    continue
                raise MappingError(f"{ann.source}: {exc}") from None
            if indexes:
                placed.append((ann, indexes))
        finished, dropped = rows.finish()
        lost = {i: (code, msg) for i, code, msg in dropped}
        for ann, indexes in placed:
            alive = [i for i in indexes if i not in lost]
            if alive:
                self.report.count_written(ann.kind)
            else:
                code, msg = lost[indexes[0]]
                self.report.skip(ann.source, ann.kind, code, msg)
        for name, row in finished:
            self.report.count_row(_row_kind(row))
        return finished

    def _annotation_rows(self, asset: Asset, ref: DataRowRef, ann: Any, rows: AssetRows) -> list[int]:
        media, mode = asset.media, self.o.mode
        if isinstance(ann, Relationship):
            reason = why_not(Kind.RELATIONSHIP, media, mode)
            code, msg = reason or ("not-supported", "relationships are not written")
            self.report.skip(ann.source, ann.kind, code, msg)
            return []
        if isinstance(ann, VideoObject):
            return self._video_rows(asset, ref, ann, rows)
        if ann.classification is not None:
            return self._classification_rows(asset, ref, ann, rows)
        shapes: tuple[Any, ...]
        if isinstance(ann.shape, Entity):
            shapes = (ann.shape,)
        else:
            outcome = geometry.fix_shape(ann.shape, width=asset.width, height=asset.height, options=self.o.geometry)
            for fix in outcome.fixes:
                self.report.change(ann.source, ann.kind, fix.action, fix.code, fix.message)
            if not outcome.shapes:
                skip = outcome.skip or geometry.Fix("skipped", "invalid-geometry", "shape cannot be repaired")
                self.report.skip(ann.source, ann.kind, skip.code, skip.message)
                return []
            shapes = outcome.shapes
        indexes: list[int] = []
        reasons: list[tuple[str, str]] = []
        for i, shape in enumerate(shapes):
            out_kind = shape_kind(shape)
            reason = why_not(out_kind, media, mode)
            if reason is not None:
                reasons.append(reason)
                continue
            tool = self.ontology.tool_for(ann.label, out_kind)
            key = ann.key if len(shapes) == 1 else f"{ann.key}#{i}"
            row: dict[str, Any] = {
                "uuid": annotation_uuid(self.source_identity, ref, key),
                "dataRow": self._data_row,
                **self._feature(tool),
            }
            if ann.classifications:
                for c in ann.classifications:
                    self.ontology.classification_for(c, parent=tool)
                row["classifications"] = nested_payloads(ann.classifications, tool, self.ctx)
            self._confidence(row, ann.confidence)
            if isinstance(shape, Mask):
                indexes.append(rows.add_mask(row, tool.name, shape, safe_relative(key), ann.source))
                continue
            if isinstance(shape, Entity):
                row.update(entity_payload(shape, text=asset.text, offsets=self.o.offsets))
            else:
                row.update(shape_payload(shape))
            indexes.append(rows.add(row, tool.name))
        if not indexes and reasons:
            self.report.skip(ann.source, ann.kind, *reasons[0])
        elif reasons:
            self.report.change(ann.source, ann.kind, "changed", reasons[0][0], f"part not written: {reasons[0][1]}")
        return indexes

    def _classification_rows(self, asset: Asset, ref: DataRowRef, ann: Annotation, rows: AssetRows) -> list[int]:
        cls = ann.classification
        assert cls is not None
        reason = why_not(ann.kind, asset.media, self.o.mode)
        if reason is not None:
            self.report.skip(ann.source, ann.kind, *reason)
            return []
        definition = self.ontology.classification_for(cls, scope="index" if cls.frames else "global")
        row: dict[str, Any] = {
            "uuid": annotation_uuid(self.source_identity, ref, ann.key),
            "dataRow": self._data_row,
            **classification_payload(cls, definition, self.ctx),
        }
        if cls.frames:
            row["frames"] = [{"start": s, "end": e} for s, e in cls.frames]
        return [rows.add(row, definition.name)]

    def _video_rows(self, asset: Asset, ref: DataRowRef, obj: VideoObject, rows: AssetRows) -> list[int]:
        reason = why_not(obj.kind, asset.media, self.o.mode)
        if reason is not None:
            self.report.skip(obj.source, obj.kind, *reason)
            return []
        tool = self.ontology.tool_for(obj.label, obj.kind)
        for seg in obj.segments:
            for kf in seg.keyframes:
                for c in kf.classifications:
                    self.ontology.classification_for(c, parent=tool)
        row: dict[str, Any] = {
            "uuid": annotation_uuid(self.source_identity, ref, obj.key),
            "dataRow": self._data_row,
            **self._feature(tool),
            **video_payload(obj, tool, self.ctx),
        }
        self._confidence(row, obj.confidence)
        if obj.frames_read:
            self.report.tally("video-frames-read", obj.frames_read)
        return [rows.add(row, tool.name)]


_ROW_KINDS = (
    ("bbox", "bbox"), ("polygon", "polygon"), ("point", "point"), ("line", "polyline"),
    ("mask", "mask"), ("location", "entity"), ("segments", "video-track"),
)  # fmt: skip


def _row_kind(row: Mapping[str, Any]) -> str:
    for key, kind in _ROW_KINDS:
        if key in row:
            return kind
    answer = row.get("answer")
    if isinstance(answer, list):
        return "checklist"
    if isinstance(answer, dict):
        return "radio"
    return "text"


class _DataRowsOut:
    """``--write-data-rows``: the data row payloads for text assets, as one JSON array."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path else None
        self.tmp: Path | None = None
        self.handle: Any = None
        self.count = 0

    def add(self, asset: Asset, ref: DataRowRef, report: Report) -> None:
        if self.path is None or asset.text is None or ref.global_key is None:
            return
        if asset.media is Media.CONVERSATIONAL:
            report.note(
                "conversational-data-rows-not-written",
                "--write-data-rows writes plain-text rows only; conversational data rows need "
                "Labelbox's conversation JSON (messages with ids), which the source does not carry",
            )
            return
        if self.handle is None:
            self.tmp = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}")
            self.handle = open(self.tmp, "w", encoding="utf-8")  # noqa: SIM115
            self.handle.write("[")
        item = json.dumps({"global_key": ref.global_key, "row_data": asset.text}, ensure_ascii=False)
        self.handle.write(("\n" if self.count == 0 else ",\n") + item)
        self.count += 1

    def commit(self) -> None:
        if self.path is None:
            return
        if self.handle is None:
            _atomic_text(self.path, "[]\n")
            return
        self.handle.write("\n]\n")
        self.handle.close()
        os.replace(self.tmp, self.path)  # type: ignore[arg-type]

    def abort(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None
            if self.tmp is not None and self.tmp.exists():
                self.tmp.unlink()


def _atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        if tmp.exists():
            tmp.unlink()
        from .errors import WriteError

        raise WriteError(f"{path}: cannot write ({exc.strerror})") from exc


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
