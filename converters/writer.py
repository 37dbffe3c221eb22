"""write(): assets in the model -> Labelbox import NDJSON, with a report.

This is everything :func:`converters.convert` does after reading: data rows, ontology
mapping, geometry repair, the import matrix, deterministic uuids, chunked atomic output and
the report. It takes any iterable of :class:`~converters.model.Asset` values, so a migration
script with its annotations in memory (its own database, another tool's API) uses the same
writer as the readers do. Assets stream: each asset's rows are written and forgotten.
"""

from __future__ import annotations

import dataclasses
import gc
import json
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ._fast import enabled
from .assembly import AssetConverter, RowOptions
from .datarows import DataRowMap, DataRowRef, KeyResolver
from .errors import DataRowError, NoAssetsError, OptionsError
from .matrix import Mode
from .model import Asset, Kind, Media
from .ndjson import MaskOptions
from .ontology import Ontology, load_class_map
from .options import WriteOptions, build
from .output import PER_ROW_LIMIT, DataRowsOutput, NDJSONOutput, StagedFolder, StagedText, check_output_paths, write_text_atomic
from .report import Report
from .table import ShapeTable
from .tablerows import Prepared, TableRows

if TYPE_CHECKING:  # pragma: no cover
    from typing_extensions import Unpack

    from .options import WriteKeywords

__all__ = ["DEFAULT_SOURCE", "Progress", "Source", "write"]

#: The source identity of assets handed to :func:`write` without one (the report's ``format``).
DEFAULT_SOURCE = "converters"


class Progress(Protocol):
    """What ``progress=`` is called with: the number of assets done so far."""

    def __call__(self, done: int, /) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """Where a stream of assets comes from, for the writer.

    Attributes:
        identity: names the source in the report (``options.format``; a reader's format
            name). It does not feed the uuids: they come from the feature, the data row and
            the annotation's key (never the source path), so re-converting a corrected or
            renamed export gives the same uuids and its import overrides the earlier one.
        key_template: the global key template used when the options give neither
            ``global_key`` nor ``data_rows``.
        total: how many assets are coming, when known (for a progress bar).
        inputs: files the outputs must not overwrite; roots: folders whose files they must
            not overwrite (both only for the output checks).
        label_kinds: the shape kinds each class will come with, known before the assets are
            read (:meth:`Reader.label_kinds`); a derived ontology declares them first, so its
            tool names do not depend on the order objects come in.
        no_assets: the error to raise when no asset came at all (given the report so far);
            by default a :class:`~converters.errors.NoAssetsError` naming the identity.
    """

    identity: str = DEFAULT_SOURCE
    key_template: str = "{name}"
    total: Callable[[], int | None] = lambda: None
    inputs: Sequence[Path] = ()
    roots: Sequence[Path] = ()
    label_kinds: Callable[[], Mapping[str, Collection[Kind]]] = lambda: {}
    no_assets: Callable[[Report], Exception] | None = None


def write(
    assets: Iterable[Asset | ShapeTable],
    output: str | Path,
    options: WriteOptions | None = None,
    *,
    reader_report: Report | None = None,
    source: str | Source = DEFAULT_SOURCE,
    progress: Progress | None = None,
    **kw: Unpack[WriteKeywords],
) -> Report:
    """Write ``assets`` as Labelbox import NDJSON at ``output``; returns the report.

    Options come as a :class:`~converters.options.WriteOptions` or as its fields by keyword
    (keywords override the object's fields). ``reader_report`` continues a report already
    started (:attr:`Reading.report`, so that what the reader skipped is counted too); ``source`` names where the assets come from (the report's ``format``). With
    ``strict``, nothing is written when an annotation would be skipped or changed, or
    nothing was converted.

    Raises:
        ConversionError: bad assets or options; nothing is written.
    """
    if options is None:
        options = build(WriteOptions, "write", kw)
    elif kw:
        build(WriteOptions, "write", kw)  # unknown keywords named before replace() sees them
        options = dataclasses.replace(options, **kw)
    src = source if isinstance(source, Source) else Source(identity=source)
    return _Writer(options, Path(output), src, reader_report if reader_report is not None else Report()).run(assets, progress)


class _Writer:
    """One write: the outputs staged, every asset turned into rows, then commit or abort.

    A sharded run (:mod:`converters.sharding`) uses it in two halves: each shard's worker
    runs the rows into its shard's files (a subclass's outputs, :meth:`_finish` left to the
    client), and the client finishes the run once with the shards' counts and rows.
    """

    #: Whether the output paths are checked (the client of a sharded run checks them; its
    #: workers write to the shard folder it made).
    check_outputs = True

    def __init__(self, options: WriteOptions, output: Path, source: Source, report: Report) -> None:
        self.o = options
        self.out = output
        self.source = source
        self.report = report
        self.report_path = Path(options.report) if options.report else output.with_name(
            output.name.removesuffix(".ndjson") + ".report.json"
        )
        if self.check_outputs:
            _check_paths(options, output, self.report_path, source)
        if not report.options:
            report.options = _options_dict(options)
        report.options.setdefault("format", source.identity)
        class_map = (
            dict(options.class_map)
            if isinstance(options.class_map, Mapping)
            else load_class_map(options.class_map) if options.class_map else None
        )
        self.ontology = (
            Ontology.load(options.ontology, class_map=class_map)
            if options.ontology
            else Ontology.derived(class_map=class_map)
        )
        if options.class_map is not None and not isinstance(options.class_map, Mapping):
            self.ontology.class_map_source = str(options.class_map)
        self.data_rows = DataRowMap.load(options.data_rows) if options.data_rows else None
        self.keys = KeyResolver(
            template=options.global_key, default_template=source.key_template, data_rows=self.data_rows
        )

    def run(self, assets: Iterable[Asset | ShapeTable], progress: Progress | None) -> Report:
        """:meth:`_run` with the collector's young generation raised to :data:`_GC_YOUNG`
        allocations (restored after): the rows of an asset are short-lived and mostly freed by
        reference counting before a collection would scan them; at the default (700) the
        collector scans them again and again (measured: ~13% of a val2017-sized conversion)."""
        threshold = gc.get_threshold()
        if enabled():
            gc.set_threshold(max(threshold[0], _GC_YOUNG), *threshold[1:])
        try:
            return self._run(assets, progress)
        finally:
            gc.set_threshold(*threshold)

    def _run(self, assets: Iterable[Asset | ShapeTable], progress: Progress | None) -> Report:
        o, report = self.o, self.report
        if o.mask_format == "uri" and o.mask_url_prefix is None:
            report.note(
                "file-uris",
                f"mask rows point at file:/// URIs under {o.mask_dir} (--allow-file-uris): "
                "Labelbox cannot fetch them; serve the folder and use --mask-url-prefix for an import",
            )
        writer, data_rows_out, mask_dir = self._open_outputs()
        # Mask files go to a staging folder; their URLs already name the final place (a
        # file:/// URI is the final folder's, exactly as if the files were written there).
        mask_options = MaskOptions(
            format=o.mask_format,
            directory=mask_dir.tmp if mask_dir is not None else None,
            url_prefix=o.mask_url_prefix or (mask_dir.final.resolve().as_uri() if mask_dir is not None else None),
        )
        job = AssetConverter(self.source.identity, RowOptions.of(o), report, self.ontology, mask_options)
        set_total = getattr(progress, "set_total", None)
        self._n = self._matched = self._unscored = 0
        self._first_name = ""
        self._job, self._progress = job, progress
        tables = TableRows(job, getattr(writer, "per_row_limit", PER_ROW_LIMIT))
        frozen = False
        try:
            if not self.ontology.fixed:
                # The scan loads what the reader keeps for the run (a COCO file's JSON: a
                # million objects): no collection runs while it loads, and it is frozen before
                # one walks it (measured: a young collection over the loaded file, ~5% of a
                # val2017-sized run).
                quiet = enabled() and gc.isenabled() and gc.get_freeze_count() == 0
                if quiet:
                    gc.disable()
                try:
                    kinds = self.source.label_kinds()
                    if quiet:
                        gc.freeze()
                        frozen = True
                finally:
                    if quiet:
                        gc.enable()
                self.ontology.declare(kinds)
            if set_total is not None:
                set_total(self.source.total())
            for window in _windows(assets, _BATCH, tables):
                if not frozen and gc.isenabled() and gc.get_freeze_count() == 0:
                    # The reader has loaded what it keeps for the whole run (a COCO file's JSON is
                    # millions of objects): move it out of the collector's sight, or every full
                    # collection walks it again (measured: ~15% of a val2017-sized conversion).
                    gc.freeze()
                    frozen = True
                if self._n == 0 and set_total is not None:
                    set_total(self.source.total())  # readers that learn it while loading
                job.prevalidate([item for item in window if isinstance(item, Asset)])
                for item in window:
                    if isinstance(item, Asset):
                        self._asset(item, self._begin(item))
                    else:
                        self._table(*item, tables)
            self._finish(self._n, self._matched, self._unscored, self._first_name)
        except BaseException:
            self._abort()
            raise
        finally:
            if frozen:
                gc.unfreeze()
        report.options["report_path"] = str(self.report_path)
        return report

    def _begin(self, asset: Asset) -> DataRowRef | None:
        """Count an asset in and find its data row (None: the --data-rows map lacks it)."""
        self._n += 1
        self.report.assets += 1
        self._first_name = self._first_name or asset.name
        media = self.o.media_value
        if media is not None and asset.media is not media:
            raise OptionsError(
                f"{{media}} {media.value}: the {self.source.identity} source gives "
                f"{asset.media.value} data rows ({asset.name!r}); it cannot produce {media.value}",
                fields=("media",),
            )
        if self.o.min_score is not None:
            self._unscored += sum(1 for a in asset.annotations if getattr(a, "confidence", 0.0) is None)
        return self.keys.resolve(asset)

    def _asset(self, asset: Asset, ref: DataRowRef | None, n: int | None = None) -> None:
        """Write one asset's rows the general way (:meth:`_begin` done; ``n``: its count, for
        the progress callback, when later assets were begun already)."""
        if ref is None:
            self._job.skip_asset(asset, "no-data-row", "the --data-rows map does not list this asset")
        else:
            self._matched += 1
            self.rows_out.write_data_row(self._job.rows_for(asset, ref))
            self.data_rows_out.add(asset, ref, self.report)
        if self._progress is not None:
            self._progress(self._n if n is None else n)

    def _table(self, prepared: Prepared, first: int, end: int, lane: TableRows) -> None:
        """Write assets ``first:end`` of a table: by their columns (:class:`TableRows`), a
        run at a time; an asset the lane declines is built from the table and written the
        general way, after the run before it (so the ontology's tools and the report's
        entries come in the order the general path gives them)."""
        table = prepared.table
        media = self.o.media_value
        by_name = self.keys.by_name and (media is None or media is Media.IMAGE)
        i = first
        known: dict[int, tuple[DataRowRef, int]] = {}  # (data row, count) of a bulk the lane then refused
        while i < end:
            if by_name and not self.report.has_pending:
                stop = lane.bulk_end(prepared, i, end)
                if stop > i:  # a run of assets keyed by their names, taken at once
                    done = self._n
                    self._begin_names(table, i, stop)
                    if lane.add_bulk(prepared, i, stop):
                        blob, parts = lane.flush()
                        self.rows_out.write_run(blob, parts)
                        self._matched += stop - i
                        if self._progress is not None:
                            for n in range(done + 1, self._n + 1):
                                self._progress(n)
                        i = stop
                        continue
                    # a repeated id: one by one, below (their data rows were found already)
                    known = {k: (DataRowRef(global_key=table.names[k]), done + 1 + k - i) for k in range(i, stop)}
            taken: list[tuple[DataRowRef, int]] = []
            declined: tuple[int, DataRowRef | None, int] | None = None
            while i < end and declined is None:
                ref: DataRowRef | None
                if i in known:
                    ref, n = known.pop(i)
                else:
                    ref = self._begin_name(table, i) if by_name else self._begin(table.head(i))
                    n = self._n
                if ref is not None and lane.add(prepared, i, ref):
                    taken.append((ref, n))
                else:
                    declined = (i, ref, n)
                i += 1
            blob, parts = lane.flush()
            self.rows_out.write_run(blob, parts)
            self._matched += len(taken)
            # (a table's assets are images without text: --write-data-rows has nothing of them)
            if self._progress is not None:
                for _, n in taken:
                    self._progress(n)
            if declined is not None:
                self._asset(table.build(declined[0]), declined[1], declined[2])

    def _begin_names(self, table: ShapeTable, first: int, end: int) -> None:
        """:meth:`_begin_name` of assets ``first:end`` at once (no data row object each:
        the lane writes theirs from their names)."""
        names = table.names[first:end]
        self._n += len(names)
        self.report.assets += len(names)
        self._first_name = self._first_name or names[0]
        self.keys.check_names(names, lambda k: table.head(first + k))

    def _begin_name(self, table: ShapeTable, i: int) -> DataRowRef:
        """:meth:`_begin` of a table's asset whose data row is its name
        (:attr:`KeyResolver.by_name`), without building the asset."""
        name = table.names[i]
        self._n += 1
        self.report.assets += 1
        self._first_name = self._first_name or name
        return self.keys.resolve_name(name, lambda: table.head(i))

    def _open_outputs(self) -> tuple[Any, DataRowsOutput, StagedFolder | None]:
        """The staged outputs the rows go to: the NDJSON files, ``--write-data-rows`` and
        ``--mask-dir`` (kept on the writer, so :meth:`_finish` and :meth:`_abort` find them)."""
        o = self.o
        self.rows_out: Any = NDJSONOutput(self.out, max_rows_per_file=o.max_rows_per_file)
        self.data_rows_out = DataRowsOutput(o.write_data_rows)
        self.mask_dir = StagedFolder(Path(o.mask_dir)) if o.mask_dir is not None else None
        self.staged: list[StagedText] = []
        return self.rows_out, self.data_rows_out, self.mask_dir

    def _finish(self, n: int, matched: int, unscored: int, first_name: str) -> None:
        """After the last asset: the run-wide checks and notes, then commit (or, with
        ``strict``, refuse); ``n`` assets were read, ``matched`` of them had a data row."""
        o, report = self.o, self.report
        writer, data_rows_out, mask_dir, staged = self.rows_out, self.data_rows_out, self.mask_dir, self.staged
        if n == 0:
            if self.source.no_assets is not None:
                raise self.source.no_assets(report)
            raise NoAssetsError(f"the assets given to write() ({self.source.identity})", "assets")
        report.check()
        if self.data_rows is not None and n and not matched:
            raise DataRowError(
                f"{self.data_rows.source}: the --data-rows map lists none of the {n} assets "
                f"(e.g. {first_name!r}); names must match the source's file names"
            )
        self._notes(unscored)
        rows_out = sum(report.rows.values())
        if o.strict and (report.total_skipped or report.changed or rows_out == 0):
            writer.abort()
            data_rows_out.abort()
            if mask_dir is not None:
                mask_dir.abort()
            report.options["strict_failed"] = True
            write_text_atomic(self.report_path, report.to_json())
        else:
            report.outputs = [str(p) for p in writer.planned()]
            if writer.overflow_rows:
                report.note(
                    "per-row-limit",
                    f"{writer.overflow_rows} rows exceed Labelbox's 5,000 annotations per data row "
                    "and feature; they are in the .overflowN files, to import as separate jobs",
                )
            if o.write_ontology:
                staged.append(StagedText(Path(o.write_ontology), self._ontology_text()))
            staged.append(StagedText(self.report_path, report.to_json()))
            writer.commit()
            data_rows_out.commit()
            if mask_dir is not None:
                mask_dir.commit()
            for item in staged:
                item.commit()

    def _abort(self) -> None:
        """Remove every staged output (nothing is left at the output paths)."""
        self.rows_out.abort()
        self.data_rows_out.abort()
        if self.mask_dir is not None:
            self.mask_dir.abort()
        for item in self.staged:
            item.abort()

    def _ontology_text(self) -> str:
        """The ontology the rows use. A given ``ontology`` is fixed (nothing is added), so it is
        written back as it came, every field kept (``schemaNodeId``, ``featureSchemaId``, colours);
        a derived one is written in the ``OntologyBuilder.asdict()`` shape."""
        if self.o.ontology is None:
            return self.ontology.to_json()
        data = json.loads(Path(self.o.ontology).read_text(encoding="utf-8"))  # Ontology.load parsed it already
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

    def _notes(self, unscored: int) -> None:
        """Dataset-wide facts that change what the rows mean (printed as warnings by the CLI)."""
        o, keys = self.o, self.keys
        if o.global_key is None and o.data_rows is None and keys.defaulted:
            self.report.note(
                "default-global-key",
                f"global keys follow the default template {keys.default_template!r} (e.g. {keys.defaulted!r}); "
                "they must equal your data rows' global keys in Labelbox (--global-key or --data-rows to choose)",
            )
        if unscored and o.min_score is not None:
            self.report.note(
                "min-score-unscored",
                f"{unscored} annotations carry no score and were kept despite --min-score {o.min_score:g}",
            )


def _check_paths(o: WriteOptions, out: Path, report: Path, source: Source) -> None:
    """Every output checked against every input before anything is read (issue 14 B)."""
    inputs = list(source.inputs)
    inputs += [Path(p) for p in (o.ontology, o.data_rows, o.class_map) if isinstance(p, (str, Path))]
    outputs = {
        "-o": out,
        "--report": report,
        "--write-ontology": Path(o.write_ontology) if o.write_ontology else None,
        "--write-data-rows": Path(o.write_data_rows) if o.write_data_rows else None,
    }
    folders = {"--mask-dir": Path(o.mask_dir) if o.mask_dir else None}
    check_output_paths(outputs, inputs=inputs, roots=list(source.roots), folders=folders)


#: The collector's young-generation threshold while writing (Python's default is 700).
_GC_YOUNG = 20_000

#: Assets read ahead and handled together (vectorised polygon checks); small enough that
#: memory stays flat, large enough that the vectorised calls pay off.
_BATCH = 128




def _windows(items: Iterable[Asset | ShapeTable], size: int,
             lane: TableRows) -> Iterator[list[Asset | tuple[Prepared, int, int]]]:
    """The assets in windows of ``size`` (assets of tables counted one by one): assets, and
    ranges ``(table, first, end)`` of tables prepared by ``lane``.

    A window is read whole before any of it is written, tables or not, so what the reader
    records while building assets (report entries) comes in the same order relative to what
    the writer records as without tables; the vectorised polygon checks of the general path
    run on a window's assets. With the lane off, every table is read as its assets.
    """
    window: list[Asset | tuple[Prepared, int, int]] = []
    count = 0
    for item in items:
        if not isinstance(item, ShapeTable):
            window.append(item)
            count += 1
        elif not lane.active:
            for asset in item.assets():
                window.append(asset)
                count += 1
                if count == size:
                    yield window
                    window, count = [], 0
            continue
        else:
            prepared, at = lane.start(item), 0
            while at < len(item):
                take = min(size - count, len(item) - at)
                window.append((prepared, at, at + take))
                count += take
                at += take
                if count == size:
                    yield window
                    window, count = [], 0
            continue
        if count == size:
            yield window
            window, count = [], 0
    if window:
        yield window


def _options_dict(o: WriteOptions) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(o):
        v = getattr(o, f.name)
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            v = dataclasses.asdict(v)
        elif isinstance(v, Mode | Media):
            v = v.value
        elif isinstance(v, Path):
            v = str(v)
        elif isinstance(v, Mapping):
            v = dict(v)
        out[f.name] = v
    return out
