"""Writing NDJSON files atomically, in chunks, within the SDK's per-row limit.

Nothing appears at the output path until the whole conversion succeeded: rows go to
temporary files beside the targets, which are renamed into place by :meth:`commit`
(``os.replace``, atomic on one file system) and deleted by :meth:`abort`.

* ``max_rows_per_file``: rows are split into ``OUT.part001.ndjson``, ``OUT.part002.ndjson``...
  at data row boundaries (a data row is only split when it alone is larger than a chunk).
* The Labelbox SDK refuses an import with more than 5,000 annotations on one data row under
  one feature name. Rows past that limit go to overflow files ``OUT.overflow1.ndjson`` ...
  (the 5,001st to 10,000th to overflow1, and so on), each a valid import of its own.
* The files of one OUT (``OUT.ndjson``, ``OUT.partNNN.ndjson``, ``OUT.overflowN[.partNNN].ndjson``)
  are one set: :meth:`NDJSONOutput.commit` renames the new ones into place and then deletes
  the files of an earlier run that the new run did not write, so a user never uploads a stale
  part beside fresh ones. (No file system renames several files at once; the window between
  the first rename and the last deletion is a few system calls.)
* :func:`check_output_paths` runs before any input is read: an output that is an input, a
  folder, or lies in a missing or read-only folder is an error while nothing is written yet.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from ._atomic import staging_path, write_atomic
from ._fast import enabled
from ._json import dumps_line
from .datarows import DataRowRef
from .errors import WriteError
from .model import Asset, Media
from .report import Report

__all__ = [
    "PER_ROW_LIMIT",
    "DataRowsOutput",
    "NDJSONOutput",
    "StagedFolder",
    "StagedText",
    "check_output_paths",
    "output_set",
    "write_text_atomic",
]

PER_ROW_LIMIT = 5000


class _Series:
    """One series of chunk files (the main output or one overflow level)."""

    def __init__(self, base: Path, max_rows: int | None, chunked: bool) -> None:
        self.base = base
        self.max_rows = max_rows
        self.chunked = chunked
        self.index = 0
        self.rows_in_file = 0
        self.handle: IO[bytes] | None = None
        self.files: list[tuple[Path, Path]] = []  # (temporary, final)

    def _target(self) -> Path:
        if not self.chunked:
            return self.base
        return self.base.with_name(f"{self.base.stem}.part{self.index:03d}{self.base.suffix}")

    def _open(self) -> None:
        if self.handle is not None:
            self.handle.close()
        self.index += 1
        target = self._target()
        tmp = staging_path(target)
        try:
            self.handle = open(tmp, "wb")  # noqa: SIM115 - closed in close()/abort()
        except OSError as exc:
            raise WriteError(f"{target}: cannot write ({exc.strerror})") from exc
        self.files.append((tmp, target))
        self.rows_in_file = 0

    def write(self, lines: list[bytes]) -> None:
        if self.handle is None:
            self._open()
        elif self.max_rows and self.rows_in_file and self.rows_in_file + len(lines) > self.max_rows:
            self._open()
        if not self.max_rows:  # one write per data row
            self.handle.write(b"".join(lines))  # type: ignore[union-attr]
            self.rows_in_file += len(lines)
            return
        for line in lines:
            if self.max_rows and self.rows_in_file >= self.max_rows:
                self._open()
            self.handle.write(line)  # type: ignore[union-attr]
            self.rows_in_file += 1

    def write_block(self, data: bytes | memoryview, rows: int) -> None:
        """:meth:`write` of ``rows`` lines given joined (split again only to cut files)."""
        if self.max_rows:
            self.write(bytes(data).splitlines(keepends=True))
            return
        if self.handle is None:
            self._open()
        self.handle.write(data)  # type: ignore[union-attr]
        self.rows_in_file += rows

    def close(self) -> None:
        if self.handle is not None:
            self.handle.flush()
            os.fsync(self.handle.fileno())
            self.handle.close()
            self.handle = None


class NDJSONOutput:
    """Streams rows into the output file(s); see the module docstring."""

    def __init__(
        self, path: str | Path, *, max_rows_per_file: int | None = None, per_row_limit: int = PER_ROW_LIMIT
    ) -> None:
        self.path = Path(path)
        if max_rows_per_file is not None and max_rows_per_file < 1:
            raise ValueError("max_rows_per_file must be at least 1")  # the pipeline says it first
        if not self.path.parent.exists():
            raise WriteError(f"{self.path}: the folder {self.path.parent} does not exist")
        self.max_rows = max_rows_per_file
        self.per_row_limit = per_row_limit
        self.series: list[_Series] = []
        self.rows_written = 0
        self.overflow_rows = 0
        self._fast = enabled()  # LBCONVERT_NO_FAST_PATH=1: every data row takes the per-feature count

    def _level(self, level: int) -> _Series:
        while len(self.series) <= level:
            n = len(self.series)
            base = self.path if n == 0 else self.path.with_name(
                f"{self.path.stem}.overflow{n}{self.path.suffix}"
            )
            self.series.append(_Series(base, self.max_rows, self.max_rows is not None))
        return self.series[level]

    def write_data_row(self, rows: list[tuple[str, dict[str, Any]]]) -> None:
        """Write all rows of one data row: ``(feature name, row)`` pairs."""
        if 0 < len(rows) <= self.per_row_limit and self._fast:  # no feature can pass the limit: all in the main series
            self._level(0).write([dumps_line(row) for _, row in rows])
            self.rows_written += len(rows)
            return
        per_name: Counter[str] = Counter()
        by_level: dict[int, list[bytes]] = {}
        for name, row in rows:
            level = per_name[name] // self.per_row_limit
            per_name[name] += 1
            by_level.setdefault(level, []).append(dumps_line(row))
        for level in sorted(by_level):
            self._level(level).write(by_level[level])
            if level:
                self.overflow_rows += len(by_level[level])
        self.rows_written += len(rows)

    def write_encoded(self, data: bytes | memoryview, rows: int) -> None:
        """Write all ``rows`` rows of one data row, already encoded one after the other,
        none of its features past the per-row limit (the table lane checks that): all in
        the main series."""
        if not rows:
            return
        self._level(0).write_block(data, rows)
        self.rows_written += rows

    def write_run(self, data: bytes | memoryview, assets: list[tuple[memoryview, int]]) -> None:
        """:meth:`write_encoded` of several data rows whose rows are ``data`` (each asset's
        part of it, with its row count, in ``assets``): one write when no file is cut."""
        if self.max_rows:
            for part, rows in assets:
                self.write_encoded(part, rows)
            return
        rows = sum(n for _, n in assets)
        if rows:
            self._level(0).write_block(data, rows)
            self.rows_written += rows

    def write_lines(self, level: int, lines: list[bytes]) -> None:
        """Write rows already encoded, of one data row and one overflow level (a sharded run
        replays each shard's rows through here, so the files are cut exactly as when
        :meth:`write_data_row` wrote them in one process)."""
        self._level(level).write(lines)
        if level:
            self.overflow_rows += len(lines)
        self.rows_written += len(lines)

    def planned(self) -> list[Path]:
        """The final paths :meth:`commit` will write (known once every row is written)."""
        if not self.series:
            self._level(0)._open()  # an empty conversion still writes an empty file
        return [final for s in self.series for _, final in s.files]

    def commit(self) -> list[Path]:
        """Close and move every file into place, remove the earlier run's other files of
        this OUT; returns the final paths."""
        finals = self.planned()
        for s in self.series:
            s.close()
        for s in self.series:
            for tmp, final in s.files:
                os.replace(tmp, final)
        keep = set(finals)
        for stale in output_set(self.path):
            if stale not in keep:
                try:
                    stale.unlink()
                except FileNotFoundError:
                    pass
        return finals

    def abort(self) -> None:
        """Delete every temporary file; nothing is left at the output paths."""
        for s in self.series:
            if s.handle is not None:
                s.handle.close()
                s.handle = None
            for tmp, _ in s.files:
                try:
                    tmp.unlink()
                except FileNotFoundError:
                    pass


class DataRowsOutput:
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
        self.add_item(json.dumps({"global_key": ref.global_key, "row_data": asset.text}, ensure_ascii=False))

    def add_item(self, item: str) -> None:
        """Add one data row payload, already JSON (one line)."""
        if self.handle is None:
            self.tmp = staging_path(self.path)  # type: ignore[arg-type]
            self.handle = open(self.tmp, "w", encoding="utf-8")  # noqa: SIM115
            self.handle.write("[")
        self.handle.write(("\n" if self.count == 0 else ",\n") + item)
        self.count += 1

    def commit(self) -> None:
        if self.path is None:
            return
        if self.handle is None:
            write_text_atomic(self.path, "[]\n")
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


def output_set(path: Path) -> list[Path]:
    """The existing files of one OUT: itself, its parts, its overflow files and their parts,
    and the shard files of a ``--keep-shards`` run (``OUT.shardNNNNN[.overflowN].ndjson``)."""
    pattern = re.compile(
        rf"{re.escape(path.stem)}(?:\.shard[0-9]{{5,}})?(?:\.overflow[0-9]+)?(?:\.part[0-9]{{3,}})?{re.escape(path.suffix)}"
    )
    try:
        names = os.listdir(path.parent)
    except OSError:
        return []
    return sorted(path.parent / n for n in names if pattern.fullmatch(n) and (path.parent / n).is_file())


class StagedText:
    """A whole text file written to a temporary name now and renamed into place later.

    The pipeline stages the report and the ontology before it commits the NDJSON, so a path
    that cannot be written fails while nothing is in place yet.
    """

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.tmp = staging_path(path)
        try:
            self.tmp.write_text(text, encoding="utf-8")
        except OSError as exc:
            self.abort()
            raise WriteError(f"{path}: cannot write ({exc.strerror})") from exc

    def commit(self) -> None:
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        try:
            self.tmp.unlink()
        except OSError:
            pass


class StagedFolder:
    """``--mask-dir``: mask PNGs are written to a hidden sibling folder and moved into place
    by :meth:`commit`, so a failed or refused run leaves no mask files behind."""

    def __init__(self, final: Path) -> None:
        self.final = final
        self.tmp = staging_path(final)

    def commit(self) -> None:
        self.final.mkdir(exist_ok=True)
        if self.tmp.is_dir():
            for path in sorted(self.tmp.rglob("*")):
                if path.is_file():
                    dest = self.final / path.relative_to(self.tmp)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(path, dest)
        self.abort()

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


def check_output_paths(
    outputs: Mapping[str, Path | None],
    *,
    inputs: Iterable[Path],
    roots: Sequence[Path],
    folders: Mapping[str, Path | None] | None = None,
) -> None:
    """Refuse, before anything is read, outputs that would clobber an input or cannot be written.

    Args:
        outputs: flag -> file path (``-o``, ``--report``...); None entries are ignored. The
            existing ``.partNNN`` / ``.overflowN`` files of ``-o`` are checked as outputs too.
        inputs: files the conversion reads (SOURCE files, ``--ontology``, ``--class-map``...).
        roots: dataset folders (SOURCE folders, the folder of a SOURCE file): an existing file
            under one is replaced only when this tool wrote it.
        folders: flag -> output folder (``--mask-dir``).

    Raises:
        WriteError: naming the path and the flag.
    """
    inputs_resolved = {p.resolve() for p in inputs}
    roots_resolved = [r.resolve() for r in roots]
    seen: dict[Path, str] = {}
    items: list[tuple[str, Path]] = [(f, p) for f, p in outputs.items() if p is not None]
    out = outputs.get("-o")
    if out is not None:  # an earlier run's parts: replaced or removed by this one
        items += [("-o", p) for p in output_set(out) if p != out]
    for flag, path in items:
        if path.is_dir():
            raise WriteError(f"{path}: {flag} names a folder; give a file path")
        _check_folder(path.parent, path, flag)
        real = path.resolve()
        if real in seen and seen[real] != flag:
            raise WriteError(f"{path}: given as both {seen[real]} and {flag}")
        seen[real] = flag
        if real in inputs_resolved:
            raise WriteError(f"{path}: {flag} is also an input of this conversion; it would be overwritten")
        if path.is_file() and not _written_by_us(path):
            root = next((r for r in roots_resolved if real.is_relative_to(r)), None)
            if root is not None:
                raise WriteError(
                    f"{path}: {flag} would overwrite a file of the dataset in {root} that lbconvert "
                    "did not write; choose another path"
                )
    for flag, folder in (folders or {}).items():
        if folder is None:
            continue
        if folder.exists() and not folder.is_dir():
            raise WriteError(f"{folder}: {flag} names a file, not a folder")
        if folder.resolve() in inputs_resolved or folder.resolve() in roots_resolved:
            raise WriteError(f"{folder}: {flag} is an input folder of this conversion")
        _check_folder(folder if folder.is_dir() else folder.parent, folder, flag)


def _check_folder(folder: Path, path: Path, flag: str) -> None:
    if not folder.is_dir():
        raise WriteError(f"{path}: {flag}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise WriteError(f"{path}: {flag}: the folder {folder} is not writable")


def _written_by_us(path: Path) -> bool:
    """Whether an existing file looks like one lbconvert writes (NDJSON rows, a report, an
    ontology, data rows): those may be replaced by a re-run even inside a dataset folder."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    text = head.lstrip()
    if not text:
        return path.suffix == ".ndjson"
    if text.startswith(b"{") and b'"dataRow"' in text.split(b"\n", 1)[0]:
        return True
    if text.startswith(b"{") and b'"counts"' in text and b'"inputs"' in text:
        return True
    if text.startswith(b"{") and b'"tools"' in text[:64]:
        return True
    return text.startswith(b"[") and (b'"row_data"' in text or text.rstrip() == b"[]")


def write_text_atomic(path: Path, text: str) -> None:
    """Write a whole text file through a temporary file and a rename."""
    try:
        write_atomic(path, text)
    except OSError as exc:
        raise WriteError(f"{path}: cannot write ({exc.strerror})") from exc
