"""Sharded conversion (issue 17): one reading split into shards, converted on Dask workers.

One Python process is the ceiling of :func:`converters.convert`; a migration of millions of
images needs more. A reader splits its work into independent :class:`~converters.readers.Shard`
values (small picklable descriptions: a file, a batch of files, an image range of a large
COCO file); each is converted by a *shard task* on a ``dask.distributed`` worker, and the
client puts the run together. Dask is the engine (a local cluster for ``--workers N``, a
running one for ``--dask-scheduler``); nothing here is a home-made pool protocol.

Why the output is byte-identical to one process's:

* Everything that must agree across shards is decided before they run, in the client: the
  ontology (``--ontology``, or the label kinds of the whole source, :meth:`Reader.label_kinds`,
  declared by every shard's writer exactly as one process declares them) and the data-row
  key template. uuids come from the feature, the data row and the annotation's key, so a
  shard computes the same ones; ``key#dupN`` counts repeats within one data row, and a data
  row never spans two shards (readers cut at file or image boundaries; a COCO split's files
  are read together, being merged by image).
* A shard task reads its shard and writes its rows to files of its own in a staging folder
  beside OUT (never rows through the scheduler): one file per overflow level, and an index
  of how many rows each data row had per level. It returns only its report, its derived
  ontology and a few counts.
* The client replays the shards' rows in source order through the same chunked output as
  one process (:meth:`NDJSONOutput.write_lines`): ``--max-rows-per-file`` cuts at the same
  data-row boundaries, overflow rows land in the same files. It merges the reports
  (:meth:`Report.merge`) and ontologies (:meth:`Ontology.merge`), checks that no two
  shards gave one data row key to two assets, and finishes as one process does (the
  "no assets" error, ``--strict``, notes, the report, the atomic commit).
* ``--keep-shards`` keeps each shard's file instead (``OUT.shardNNNNN.ndjson``, what a user
  uploads in parallel at scale) with ``OUT.manifest.json`` listing them and their counts.

A failing shard cancels the rest; the staging folder is removed, nothing is committed, and
its one-line error (which names the file) is raised as :class:`~converters.errors.ShardError`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ._atomic import staging_path
from .datarows import DataRowRef
from .errors import ConversionError, DataRowError, MissingDependencyError, ShardError
from .model import Kind
from .ontology import Ontology
from .options import ConvertOptions, WriteOptions, flag_of
from .output import PER_ROW_LIMIT, DataRowsOutput, NDJSONOutput, StagedFolder, output_set, write_text_atomic
from .readers import ReadContext, Reader, Shard
from .report import Report
from .writer import Progress, Source, _Writer

__all__ = ["ShardResult", "ShardTask", "convert_sharded", "run_shard"]

#: The extra that brings Dask (named in the error when it is missing).
EXTRA = "dask"


@dataclass(frozen=True, slots=True)
class ShardTask:
    """Everything a worker needs to convert one shard (pickled to it by Dask).

    Attributes:
        shard: the part of the reading.
        reader: the reader class; ``sources`` and ``reader_options`` build it as the client did.
        context: the reader's context (its report is replaced by the shard's own).
        options: the writer's options.
        identity, key_template: the source's (the client's reader decided them).
        label_kinds: the whole source's label kinds (the labels pass), declared by the
            shard's derived ontology as one process declares them.
        folder: the staging folder the shard's files go to.
        mask_tmp, mask_final: ``--mask-dir``'s staging folder and final folder (absolute).
    """

    shard: Shard
    reader: type[Reader[Any]]
    sources: tuple[str, ...]
    reader_options: Any
    context: ReadContext
    options: WriteOptions
    identity: str
    key_template: str
    label_kinds: Mapping[str, frozenset[Kind]]
    folder: str
    mask_tmp: str | None = None
    mask_final: str | None = None


@dataclass(frozen=True, slots=True)
class ShardResult:
    """What a shard task returns: small, never rows (those are in its files)."""

    index: int
    report: Report
    ontology: Ontology | None  # the shard's derived ontology (None for a given one)
    assets: int
    matched: int
    unscored: int
    first_name: str
    defaulted: str | None
    levels: int  # overflow levels written (files shard-NNNNN.L0.ndjson, .L1...)
    rows: int


# -- the worker's side ------------------------------------------------------------------------


def _base(folder: str, index: int) -> str:
    return os.path.join(folder, f"shard-{index:05d}")


class _LevelFile:
    """One overflow level of a shard: rows appended to one file (the index says where a
    data row ends)."""

    def __init__(self, path: str, level: int, groups: list[str]) -> None:
        self.path = path
        self.handle: IO[bytes] = open(path, "wb")  # noqa: SIM115 - closed by _ShardRows
        self.level = level
        self.groups = groups

    def write(self, lines: list[bytes]) -> None:
        self.handle.write(b"".join(lines))
        self.groups.append(f"{self.level}:{len(lines)}")


class _ShardRows(NDJSONOutput):
    """The rows of one shard: :class:`NDJSONOutput`'s cut into overflow levels, each level
    to its own file, and one index line per data row (``level:count`` pairs)."""

    def __init__(self, folder: str, index: int, per_row_limit: int = PER_ROW_LIMIT) -> None:
        self.base = _base(folder, index)
        self.per_row_limit = per_row_limit
        self.max_rows = None
        self.rows_written = 0
        self.overflow_rows = 0
        self.levels: dict[int, _LevelFile] = {}
        self.index = open(self.base + ".index", "w", encoding="ascii")  # noqa: SIM115
        self._groups: list[str] = []

    def _level(self, level: int) -> Any:
        found = self.levels.get(level)
        if found is None:
            found = self.levels[level] = _LevelFile(f"{self.base}.L{level}.ndjson", level, self._groups)
        return found

    def write_data_row(self, rows: list[tuple[str, dict[str, Any]]]) -> None:
        super().write_data_row(rows)
        if self._groups:
            self.index.write(" ".join(self._groups) + "\n")
            self._groups.clear()

    def commit(self) -> list[Path]:
        self.abort()  # closes the files; they stay in the staging folder for the client
        return []

    def abort(self) -> None:
        for f in self.levels.values():
            f.handle.close()
        self.index.close()


class _ShardDataRows(DataRowsOutput):
    """``--write-data-rows`` of one shard: one JSON payload per line (the client joins them)."""

    def __init__(self, path: str) -> None:
        super().__init__(None)
        self.fragment = path
        self.out: IO[str] | None = None

    def add(self, asset: Any, ref: DataRowRef, report: Report) -> None:
        self.path = Path(self.fragment)  # DataRowsOutput.add writes only when it has a path
        super().add(asset, ref, report)

    def add_item(self, item: str) -> None:
        if self.out is None:
            self.out = open(self.fragment, "w", encoding="utf-8")  # noqa: SIM115
        self.out.write(item + "\n")
        self.count += 1

    def commit(self) -> None:
        self.abort()

    def abort(self) -> None:
        if self.out is not None:
            self.out.close()
            self.out = None


class _GivenFolder(StagedFolder):
    """``--mask-dir`` in a worker: the client's staging folder, committed by the client."""

    def __init__(self, tmp: str, final: str) -> None:
        self.tmp = Path(tmp)
        self.final = Path(final)

    def commit(self) -> None:
        pass

    def abort(self) -> None:
        pass


class _ShardWriter(_Writer):
    """The writer of one shard: rows into the shard's files; the client finishes the run."""

    check_outputs = False

    def __init__(self, task: ShardTask, source: Source, report: Report) -> None:
        self.task = task
        self.stats: tuple[int, int, int, str] = (0, 0, 0, "")
        super().__init__(task.options, Path(task.folder) / "unused.ndjson", source, report)

    def _open_outputs(self) -> tuple[Any, DataRowsOutput, StagedFolder | None]:
        t = self.task
        self.rows_out = _ShardRows(t.folder, t.shard.index)
        self.data_rows_out = (
            _ShardDataRows(_base(t.folder, t.shard.index) + ".datarows") if self.o.write_data_rows else DataRowsOutput(None)
        )
        self.mask_dir = _GivenFolder(t.mask_tmp, t.mask_final) if t.mask_tmp and t.mask_final else None
        self.staged = []
        return self.rows_out, self.data_rows_out, self.mask_dir

    def _finish(self, n: int, matched: int, unscored: int, first_name: str) -> None:
        self.stats = (n, matched, unscored, first_name)
        self.rows_out.commit()
        self.data_rows_out.commit()


def run_shard(task: ShardTask) -> ShardResult:
    """Convert one shard on a worker: read it, write its rows to its files in the staging
    folder, return its report (see the module docstring).

    Raises:
        ShardError: the shard's input is bad (the one-line message names the file).
    """
    report = Report()
    try:
        reader = task.reader(task.sources, options=task.reader_options,
                             context=dataclasses.replace(task.context, report=report))
        # What building the reader records (notes on the layout, pairing tallies) the
        # client's reader recorded once; this report keeps what reading the shard records.
        report.reset()
        kinds = task.label_kinds
        source = Source(identity=task.identity, key_template=task.key_template, label_kinds=lambda: kinds)
        writer = _ShardWriter(task, source, report)
        writer.run(reader.read_shard(task.shard), None)
    except ConversionError as exc:
        message = exc.render(flag_of) if hasattr(exc, "render") else str(exc)
        raise ShardError(message, exc.exit_code) from None
    n, matched, unscored, first_name = writer.stats
    keys_path = _base(task.folder, task.shard.index) + ".keys"
    with open(keys_path, "w", encoding="utf-8") as fh:
        for identity, name in writer.keys._seen.items():
            fh.write(json.dumps([identity, name], ensure_ascii=False) + "\n")
    rows = writer.rows_out
    return ShardResult(
        index=task.shard.index,
        report=report,
        ontology=None if writer.ontology.fixed else writer.ontology,
        assets=n,
        matched=matched,
        unscored=unscored,
        first_name=first_name,
        defaulted=writer.keys.defaulted,
        levels=max(rows.levels, default=-1) + 1,
        rows=rows.rows_written,
    )


# -- the client's side ------------------------------------------------------------------------


def _dask() -> Any:
    try:
        import dask.distributed as distributed
    except ImportError:
        raise MissingDependencyError("--workers / --dask-scheduler", EXTRA, "dask[distributed]") from None
    return distributed


def check_available() -> None:
    """Raise :class:`MissingDependencyError` (naming the extra) unless Dask can be imported."""
    _dask()


class _Cluster:
    """The Dask client a run uses: the caller's, one connected to ``dask_scheduler``, or a
    local cluster of ``workers`` processes (closed at the end)."""

    def __init__(self, options: ConvertOptions, client: Any) -> None:
        self.owned: list[Any] = []
        if client is not None:
            self.client = client
            return
        distributed = _dask()
        if options.dask_scheduler is not None:
            self.client = distributed.Client(options.dask_scheduler)
            self.owned = [self.client]
        else:
            cluster = distributed.LocalCluster(
                n_workers=options.workers or 1, threads_per_worker=1, processes=True, dashboard_address=None
            )
            self.client = distributed.Client(cluster)
            self.owned = [self.client, cluster]

    def close(self) -> None:
        for item in self.owned:
            item.close()


def convert_sharded(
    reader: Reader[Any],
    source: Source,
    report: Report,
    output: Path,
    options: ConvertOptions,
    *,
    progress: Progress | None = None,
    client: Any = None,
) -> Report:
    """Convert ``reader``'s shards on Dask workers into ``output`` (see the module docstring).

    ``reader``, ``source`` and ``report`` are the client's (:func:`converters.pipeline.convert`
    built them and checked the output paths); ``client`` is a ``dask.distributed.Client``,
    else one is made from ``options`` (``dask_scheduler`` or ``workers``).

    Raises:
        ShardError: a shard failed (named in the message); nothing is written.
        ConversionError: as :func:`converters.convert`.
    """
    if client is None:
        check_available()
    o = options.write_options()
    merge = _MergeWriter(o, output, source, report)
    if not merge.ontology.fixed:  # the labels pass: every shard declares the same kinds
        kinds = {label: frozenset(k) for label, k in source.label_kinds().items()}
        merge.ontology.declare(kinds)
    else:
        kinds = {}
    reader.release()
    shards = reader.shards()
    set_total = getattr(progress, "set_total", None)
    if set_total is not None:
        set_total(source.total())
    folder = staging_path(output).with_name(f".{output.name}.shards-{os.getpid()}")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    try:
        merge._open_outputs()
        tasks = [
            ShardTask(
                shard=shard, reader=type(reader), sources=tuple(str(s) for s in reader.sources),
                reader_options=reader.options, context=dataclasses.replace(reader.context, report=Report()),
                options=o, identity=source.identity, key_template=source.key_template, label_kinds=kinds,
                folder=str(folder.resolve()),
                mask_tmp=str(merge.mask_dir.tmp.resolve()) if merge.mask_dir is not None else None,
                mask_final=str(merge.mask_dir.final.resolve()) if merge.mask_dir is not None else None,
            )
            for shard in shards
        ]
        results = _run(tasks, options, client, progress)
        merge.finish_shards(shards, results, folder, keep=options.keep_shards)
    except BaseException:
        merge._abort()
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report.options["report_path"] = str(merge.report_path)
    return report


def _run(tasks: Sequence[ShardTask], options: ConvertOptions, client: Any, progress: Progress | None) -> list[ShardResult]:
    """Submit every task, gather the results in source order; on a failure cancel the rest."""
    cluster = _Cluster(options, client)
    futures: list[Any] = []
    try:
        distributed = _dask()
        c = cluster.client
        futures = [c.submit(run_shard, t, pure=False) for t in tasks]
        by_future = {f.key: t for f, t in zip(futures, tasks)}
        results: list[ShardResult | None] = [None] * len(tasks)
        done = 0
        for future in distributed.as_completed(futures):
            try:
                result: ShardResult = future.result()
            except ConversionError:
                raise
            except Exception as exc:  # a worker lost, a bug: still one line, the shard named
                what = by_future[future.key].shard.what
                raise ShardError(f"{what}: the worker failed ({type(exc).__name__}: {exc})") from exc
            results[result.index] = result
            done += result.assets
            if progress is not None:
                progress(done)
        return [r for r in results if r is not None]
    except BaseException:
        if futures:
            cluster.client.cancel(futures)
        raise
    finally:
        cluster.close()


class _MergeWriter(_Writer):
    """The client's writer: no asset of its own; it finishes the run with the shards'."""

    def finish_shards(self, shards: Sequence[Shard], results: Sequence[ShardResult], folder: Path, *, keep: bool) -> None:
        report = self.report
        for result in results:
            report.merge(result.report)
            if result.ontology is not None:
                self.ontology.merge(result.ontology)
        self._check_keys(shards, folder)
        self.keys.defaulted = next((r.defaulted for r in results if r.defaulted is not None), None)
        if keep:
            self.rows_out = _KeptShards(self.out, shards, results, folder)
        else:
            self._replay(results, folder)
        if self.o.write_data_rows:
            for r in results:
                path = _base(str(folder), r.index) + ".datarows"
                if os.path.exists(path):
                    with open(path, encoding="utf-8") as fh:
                        for line in fh:
                            self.data_rows_out.add_item(line.rstrip("\n"))
        n = sum(r.assets for r in results)
        self._finish(n, sum(r.matched for r in results), sum(r.unscored for r in results),
                     next((r.first_name for r in results if r.first_name), ""))

    def _check_keys(self, shards: Sequence[Shard], folder: Path) -> None:
        """Two assets of two shards must not share a data row key (one process checks it as
        it goes; here the shards' keys are compared once they are all known)."""
        seen: dict[str, tuple[str, str]] = {}
        for shard in shards:
            with open(_base(str(folder), shard.index) + ".keys", encoding="utf-8") as fh:
                for line in fh:
                    identity, name = json.loads(line)
                    other = seen.get(identity)
                    if other is not None and other[0] != name:
                        raise DataRowError(
                            f"{shard.what}: assets {other[0]!r} (in {other[1]}) and {name!r} both map to "
                            f"data row {identity!r}; use a --global-key template that tells them apart "
                            "(e.g. with {name} or {subset})"
                        )
                    seen.setdefault(identity, (name, shard.what))

    def _replay(self, results: Sequence[ShardResult], folder: Path) -> None:
        """Each shard's rows, in source order, through the chunked output of one process."""
        out: NDJSONOutput = self.rows_out
        for r in results:
            base = _base(str(folder), r.index)
            handles = [open(f"{base}.L{level}.ndjson", "rb") for level in range(r.levels)]  # noqa: SIM115
            try:
                with open(base + ".index", encoding="ascii") as index:
                    for line in index:
                        for group in line.split():
                            level, count = map(int, group.split(":"))
                            fh = handles[level]
                            out.write_lines(level, [fh.readline() for _ in range(count)])
            finally:
                for fh in handles:
                    fh.close()


class _KeptShards:
    """``--keep-shards``: the shards' files moved into place as ``OUT.shardNNNNN.ndjson``
    (overflow levels as ``OUT.shardNNNNN.overflowN.ndjson``), with ``OUT.manifest.json``."""

    def __init__(self, out: Path, shards: Sequence[Shard], results: Sequence[ShardResult], folder: Path) -> None:
        self.out = out
        self.moves: list[tuple[Path, Path]] = []
        self.overflow_rows = 0
        entries = []
        for shard, r in zip(shards, results):
            files = []
            for level in range(max(r.levels, 1)):
                tmp = Path(f"{_base(str(folder), r.index)}.L{level}.ndjson")
                tag = f".shard{r.index:05d}" + (f".overflow{level}" if level else "")
                final = out.with_name(f"{out.stem}{tag}{out.suffix}")
                if not tmp.exists():
                    tmp.touch()  # a shard without rows still has its (empty) file
                if level:
                    self.overflow_rows += _count_lines(tmp)
                self.moves.append((tmp, final))
                files.append(final.name)
            entries.append({"shard": r.index, "source": shard.what, "files": files, "assets": r.assets,
                            "rows": r.rows})
        self.manifest = out.with_name(f"{out.stem}.manifest.json")
        self.text = json.dumps({"output": str(out), "shards": entries}, indent=2, ensure_ascii=False) + "\n"

    def planned(self) -> list[Path]:
        return [final for _, final in self.moves] + [self.manifest]

    def commit(self) -> list[Path]:
        for tmp, final in self.moves:
            os.replace(tmp, final)
        write_text_atomic(self.manifest, self.text)
        keep = {final for _, final in self.moves}
        for stale in output_set(self.out):
            if stale not in keep:
                stale.unlink(missing_ok=True)
        return self.planned()

    def abort(self) -> None:
        pass  # the files are in the staging folder, removed by convert_sharded


def _count_lines(path: Path) -> int:
    with open(path, "rb") as fh:
        return sum(1 for _ in fh)
