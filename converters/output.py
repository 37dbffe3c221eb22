"""Writing NDJSON files atomically, in chunks, within the SDK's per-row limit.

Nothing appears at the output path until the whole conversion succeeded: rows go to
temporary files beside the targets, which are renamed into place by :meth:`commit`
(``os.replace``, atomic on one file system) and deleted by :meth:`abort`.

* ``max_rows_per_file``: rows are split into ``OUT.part001.ndjson``, ``OUT.part002.ndjson``...
  at data row boundaries (a data row is only split when it alone is larger than a chunk).
* The Labelbox SDK refuses an import with more than 5,000 annotations on one data row under
  one feature name. Rows past that limit go to overflow files ``OUT.overflow1.ndjson`` ...
  (the 5,001st to 10,000th to overflow1, and so on), each a valid import of its own.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import IO, Any

import json

from ._json import dumps_line
from .datarows import DataRowRef
from .errors import WriteError
from .model import Asset, Media
from .report import Report

__all__ = ["PER_ROW_LIMIT", "DataRowsOutput", "NDJSONOutput", "write_text_atomic"]

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
        tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
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
        for line in lines:
            if self.max_rows and self.rows_in_file >= self.max_rows:
                self._open()
            self.handle.write(line)  # type: ignore[union-attr]
            self.rows_in_file += 1

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
            raise ValueError("max_rows_per_file must be at least 1")
        if not self.path.parent.exists():
            raise WriteError(f"{self.path}: the folder {self.path.parent} does not exist")
        self.max_rows = max_rows_per_file
        self.per_row_limit = per_row_limit
        self.series: list[_Series] = []
        self.rows_written = 0
        self.overflow_rows = 0

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

    def commit(self) -> list[Path]:
        """Close and move every file into place; returns the final paths."""
        if not self.series:
            self._level(0)._open()  # an empty conversion still writes an empty file
        finals = []
        for s in self.series:
            s.close()
        for s in self.series:
            for tmp, final in s.files:
                os.replace(tmp, final)
                finals.append(final)
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


def write_text_atomic(path: Path, text: str) -> None:
    """Write a whole text file through a temporary file and a rename."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        if tmp.exists():
            tmp.unlink()
        raise WriteError(f"{path}: cannot write ({exc.strerror})") from exc
