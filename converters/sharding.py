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
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

from . import _remote
from ._atomic import staging_path
from .datarows import DataRowRef
from .errors import ConversionError, DataRowError, MissingDependencyError, OptionsError, ShardError
from .model import Kind
from .ontology import Ontology
from .options import ConvertOptions, WriteOptions, flag_of
from .output import PER_ROW_LIMIT, DataRowsOutput, NDJSONOutput, StagedFolder, output_set, write_text_atomic
from .readers import ReadContext, Reader, Shard
from .report import Report
from .writer import Progress, Source, _Writer

__all__ = ["InlineClient", "ShardResult", "ShardTask", "convert_sharded", "label_shard", "run_shard"]

#: The extra that brings Dask (named in the error when it is missing).
EXTRA = "dask"

R = TypeVar("R")


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
        remote: the URLs of remote SOURCEs, copied to this machine before the reader is built
            (``sources`` name those copies; see :mod:`converters._remote`).
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
    remote: tuple[str, ...] = ()


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
    level_rows: tuple[int, ...] = ()  # rows per level


# -- the worker's side ------------------------------------------------------------------------


def _base(folder: str, index: int) -> str:
    return _remote.join(folder, f"shard-{index:05d}")


class _LevelFile:
    """One overflow level of a shard: rows appended to one file (the index says where a
    data row ends)."""

    rows = 0

    def __init__(self, path: str, level: int, groups: list[str]) -> None:
        self.path = path
        self.handle: IO[bytes] = _remote.open_file(path, "wb")  # closed by _ShardRows
        self.level = level
        self.groups = groups

    def write(self, lines: list[bytes]) -> None:
        self.write_block(b"".join(lines), len(lines))

    def write_block(self, data: bytes | memoryview, rows: int) -> None:
        self.handle.write(data)
        self.rows += rows
        self.groups.append(f"{self.level}:{rows}")


class _ShardRows(NDJSONOutput):
    """The rows of one shard: :class:`NDJSONOutput`'s cut into overflow levels, each level
    to its own file, and one index line per data row (``level:count`` pairs)."""

    def __init__(self, folder: str, index: int, per_row_limit: int = PER_ROW_LIMIT) -> None:
        # The parent's state as for any output (its path is never written: _level is ours).
        super().__init__(Path(tempfile.gettempdir()) / "shard.ndjson", per_row_limit=per_row_limit)
        self.base = _base(folder, index)
        self.levels: dict[int, _LevelFile] = {}
        self.index = _remote.open_file(self.base + ".index", "w")
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

    def write_run(self, data: bytes | memoryview, assets: list[tuple[memoryview, int]]) -> None:
        for part, rows in assets:  # one index line per data row
            self.write_encoded(part, rows)

    def write_encoded(self, data: bytes | memoryview, rows: int) -> None:
        super().write_encoded(data, rows)
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
            self.out = _remote.open_file(self.fragment, "w")
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
        for url in task.remote:  # a remote SOURCE: this machine's copy (made once)
            _remote.localize(url)
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
        raise ShardError(exc.render(flag_of) if isinstance(exc, OptionsError) else str(exc), exc.exit_code) from None
    n, matched, unscored, first_name = writer.stats
    keys_path = _base(task.folder, task.shard.index) + ".keys"
    with _remote.open_file(keys_path, "w") as fh:
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
        level_rows=tuple(rows.levels[lv].rows if lv in rows.levels else 0 for lv in range(max(rows.levels, default=-1) + 1)),
    )


def label_shard(task: ShardTask) -> dict[str, frozenset[Kind]]:
    """The labels pass of one shard on a worker: :meth:`Reader.shard_label_kinds`.

    Raises:
        ShardError: as :func:`run_shard`.
    """
    try:
        for url in task.remote:
            _remote.localize(url)
        reader = task.reader(task.sources, options=task.reader_options,
                             context=dataclasses.replace(task.context, report=Report()))
        return {label: frozenset(k) for label, k in reader.shard_label_kinds(task.shard).items()}
    except ConversionError as exc:
        raise ShardError(exc.render(flag_of) if isinstance(exc, OptionsError) else str(exc), exc.exit_code) from None


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
        self.client, self.owned = make_client(options)

    def close(self) -> None:
        for item in self.owned:
            item.close()


def make_client(options: ConvertOptions) -> tuple[Any, list[Any]]:
    """The Dask client for ``options`` and what to close after the run: a ``Client``
    connected to ``dask_scheduler``, or one of a new ``LocalCluster`` of ``workers``
    processes (one thread each: the conversion is CPU-bound Python). Its HTTP server takes
    any free port (``:0``): the default 8787 may be another cluster's."""
    distributed = _dask()
    if options.dask_scheduler is not None:
        try:
            client = distributed.Client(options.dask_scheduler)
        except (OSError, ValueError) as exc:  # refused, timed out, a malformed address
            raise OptionsError(f"{{dask_scheduler}} {options.dask_scheduler}: cannot connect to the Dask scheduler "
                               f"({type(exc).__name__}: {exc})", fields=("dask_scheduler",)) from None
        return client, [client]
    import dask

    # Dask starts workers with MALLOC_TRIM_THRESHOLD_=65536 (memory back to the system
    # sooner); setting it turns off glibc's adaptive mmap threshold, so every mask-sized
    # array becomes an mmap and fresh page faults: measured 30% more CPU per conversion in
    # a worker than in this process. This cluster lives for one run: keep glibc's default.
    environ = {k: v for k, v in dict(dask.config.get("distributed.nanny.pre-spawn-environ", {})).items()
               if k != "MALLOC_TRIM_THRESHOLD_"}
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        cluster = distributed.LocalCluster(
            n_workers=options.workers or 1, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
    client = distributed.Client(cluster)
    return client, [client, cluster]

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
    stage: str | None = None,
    remote: Sequence[str] = (),
) -> Report:
    """Convert ``reader``'s shards on Dask workers into ``output`` (see the module docstring).

    ``stage`` is the folder (a path or a URL every worker reaches) the shards' files go to,
    by default a hidden folder beside ``output``; ``remote`` the URLs of remote SOURCEs
    (each worker makes its copy, :func:`converters._remote.localize`).

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
    shards = reader.shards()
    reader.release()
    set_total = getattr(progress, "set_total", None)
    if set_total is not None:
        set_total(source.total())
    name = f".{output.name}.shards-{os.getpid()}"
    folder = _remote.join(stage, name) if stage is not None else str(staging_path(output).with_name(name).resolve())
    _remote.remove_tree(folder)
    _remote.make_folder(folder)
    cluster: _Cluster | None = None
    try:
        merge._open_outputs()
        tasks = [
            ShardTask(
                shard=shard, reader=type(reader), sources=tuple(str(s) for s in reader.sources),
                reader_options=reader.options, context=dataclasses.replace(reader.context, report=Report()),
                options=o, identity=source.identity, key_template=source.key_template, label_kinds={},
                folder=folder, remote=tuple(remote),
                mask_tmp=str(merge.mask_dir.tmp.resolve()) if merge.mask_dir is not None else None,
                mask_final=str(merge.mask_dir.final.resolve()) if merge.mask_dir is not None else None,
            )
            for shard in shards
        ]
        cluster = _Cluster(options, client)
        if not merge.ontology.fixed:
            # The labels pass, on the workers: the union of the shards' label kinds is the
            # source's; every shard's ontology then declares the same kinds, as one process's.
            kinds: dict[str, frozenset[Kind]] = {}
            for part in _run(cluster, label_shard, tasks):
                for label, k in part.items():
                    kinds[label] = kinds.get(label, frozenset()) | k
            merge.ontology.declare(kinds)
            tasks = [dataclasses.replace(t, label_kinds=kinds) for t in tasks]
        results = _run(cluster, run_shard, tasks, progress)
        _shard_counts(report, shards, results)
        merge.finish_shards(shards, results, folder, keep=options.keep_shards)
    except BaseException:
        merge._abort()
        raise
    finally:
        if cluster is not None:
            cluster.close()
        _remote.remove_tree(folder)
    report.options["report_path"] = str(merge.report_path)
    return report


def _shard_counts(report: Report, shards: Sequence[Shard], results: Sequence[ShardResult]) -> None:
    """How the run was cut (the report's options: a run of one shard used one worker)."""
    report.options["shards"] = len(shards)
    report.options["shard_assets"] = [r.assets for r in results]


class InlineClient:
    """A stand-in for a ``dask.distributed.Client`` that runs each shard task in this
    process when it is submitted (no Dask needed): for tests and debugging
    (``convert(..., client=InlineClient())``), so the sharded path is exercised in one
    process, where a debugger and ``memory://`` URLs reach it."""

    def __init__(self) -> None:
        self.submitted = 0

    def submit(self, fn: Any, *args: Any, **kw: Any) -> _Done:
        kw.pop("pure", None)
        self.submitted += 1
        try:
            return _Done(self.submitted, fn(*args, **kw), None)
        except Exception as exc:  # handed over as a Dask future hands it over: at result()
            return _Done(self.submitted, None, exc)

    def cancel(self, futures: Any) -> None:
        pass


@dataclass(frozen=True, slots=True)
class _Done:
    """A finished :class:`InlineClient` task."""

    key: int
    value: Any
    error: Exception | None

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


def _as_completed(client: Any, futures: list[Any]) -> Any:
    if isinstance(client, InlineClient):
        return iter(futures)
    return _dask().as_completed(futures)


def _run(cluster: _Cluster, fn: Callable[[ShardTask], R], tasks: Sequence[ShardTask],
         progress: Progress | None = None) -> list[R]:
    """Submit ``fn`` on every task, gather the results in source order; on a failure cancel
    the rest. ``progress`` is told the assets done as each shard's result comes."""
    c = cluster.client
    futures = [c.submit(fn, t, pure=False) for t in tasks]
    try:
        by_key = {f.key: i for i, f in enumerate(futures)}
        results: list[R | None] = [None] * len(tasks)
        done = 0
        for future in _as_completed(c, futures):
            try:
                result: R = future.result()
            except ConversionError:
                raise
            except Exception as exc:  # a worker lost, a bug: still one line, the shard named
                what = tasks[by_key[future.key]].shard.what
                raise ShardError(f"{what}: the worker failed ({type(exc).__name__}: {exc})") from exc
            results[by_key[future.key]] = result
            if progress is not None and isinstance(result, ShardResult):
                done += result.assets
                progress(done)
        return [r for r in results if r is not None]
    except BaseException:
        c.cancel(futures)
        raise


class _MergeWriter(_Writer):
    """The client's writer: no asset of its own; it finishes the run with the shards'."""

    def finish_shards(self, shards: Sequence[Shard], results: Sequence[ShardResult], folder: str, *, keep: bool) -> None:
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
                path = _base(folder, r.index) + ".datarows"
                if _remote.exists(path):
                    with _remote.open_file(path, "r") as fh:
                        for line in fh:
                            self.data_rows_out.add_item(line.rstrip("\n"))
        n = sum(r.assets for r in results)
        self._finish(n, sum(r.matched for r in results), sum(r.unscored for r in results),
                     next((r.first_name for r in results if r.first_name), ""))

    def _check_keys(self, shards: Sequence[Shard], folder: str) -> None:
        """Two assets of two shards must not share a data row key (one process checks it as
        it goes; here the shards' keys are compared once they are all known)."""
        seen: dict[str, tuple[str, str]] = {}
        for shard in shards:
            with _remote.open_file(_base(folder, shard.index) + ".keys", "r") as fh:
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

    def _replay(self, results: Sequence[ShardResult], folder: str) -> None:
        """Each shard's rows, in source order, through the chunked output of one process."""
        out: NDJSONOutput = self.rows_out
        for r in results:
            base = _base(folder, r.index)
            handles = [_remote.open_file(f"{base}.L{level}.ndjson", "rb") for level in range(r.levels)]
            try:
                with _remote.open_file(base + ".index", "r") as index:
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

    def __init__(self, out: Path, shards: Sequence[Shard], results: Sequence[ShardResult], folder: str) -> None:
        self.out = out
        self.moves: list[tuple[str, Path]] = []
        self.overflow_rows = 0
        entries = []
        for shard, r in zip(shards, results):
            files = []
            for level in range(max(r.levels, 1)):
                tmp = f"{_base(folder, r.index)}.L{level}.ndjson"
                tag = f".shard{r.index:05d}" + (f".overflow{level}" if level else "")
                final = out.with_name(f"{out.stem}{tag}{out.suffix}")
                if level:
                    self.overflow_rows += r.level_rows[level]
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
            if not _remote.exists(tmp):
                write_text_atomic(final, "")  # a shard without rows still has its (empty) file
            elif _remote.is_url(tmp):  # shards staged beside a remote OUT: fetched, then uploaded with it
                with _remote.open_file(tmp, "rb") as src, open(staging_path(final), "wb") as dst:
                    shutil.copyfileobj(src, dst)
                os.replace(staging_path(final), final)
            else:
                os.replace(tmp, final)
        write_text_atomic(self.manifest, self.text)
        keep = {final for _, final in self.moves}
        for stale in output_set(self.out):
            if stale not in keep:
                stale.unlink(missing_ok=True)
        return self.planned()

    def abort(self) -> None:
        pass  # the files are in the staging folder, removed by convert_sharded
