"""Atomic, chunked output and the 5,000 per data row per feature limit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from converters.errors import WriteError
from converters.output import NDJSONOutput


def rows(n: int, name: str = "box", key: str = "a") -> list[tuple[str, dict]]:
    return [(name, {"dataRow": {"globalKey": key}, "name": name, "i": i}) for i in range(n)]


def lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_nothing_visible_until_commit(tmp_path: Path) -> None:
    out = NDJSONOutput(tmp_path / "o.ndjson")
    out.write_data_row(rows(3))
    assert not (tmp_path / "o.ndjson").exists()
    out.commit()
    assert len(lines(tmp_path / "o.ndjson")) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.ndjson"]


def test_abort_leaves_nothing(tmp_path: Path) -> None:
    out = NDJSONOutput(tmp_path / "o.ndjson", max_rows_per_file=2)
    out.write_data_row(rows(5))
    out.abort()
    assert list(tmp_path.iterdir()) == []


def test_chunks_at_data_row_boundaries(tmp_path: Path) -> None:
    out = NDJSONOutput(tmp_path / "o.ndjson", max_rows_per_file=4)
    out.write_data_row(rows(3, key="a"))
    out.write_data_row(rows(3, key="b"))  # does not fit beside a: new file
    out.write_data_row(rows(6, key="c"))  # larger than a chunk: split
    names = [p.name for p in out.commit()]
    assert names == ["o.part001.ndjson", "o.part002.ndjson", "o.part003.ndjson", "o.part004.ndjson"]
    assert [len(lines(tmp_path / n)) for n in names] == [3, 3, 4, 2]


def test_per_row_limit_goes_to_overflow_files(tmp_path: Path) -> None:
    out = NDJSONOutput(tmp_path / "o.ndjson", per_row_limit=5)
    out.write_data_row(rows(12, "box") + rows(2, "pt"))
    names = [p.name for p in out.commit()]
    assert names == ["o.ndjson", "o.overflow1.ndjson", "o.overflow2.ndjson"]
    assert [len(lines(tmp_path / n)) for n in names] == [7, 5, 2]
    assert out.overflow_rows == 7


def test_missing_folder_is_a_write_error(tmp_path: Path) -> None:
    with pytest.raises(WriteError, match="does not exist"):
        NDJSONOutput(tmp_path / "no" / "o.ndjson")
