"""NDJSONOutput's one-series shortcut (a data row with no more rows than the per-row limit)
writes what the per-feature count writes (LBCONVERT_NO_FAST_PATH=1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from converters.output import NDJSONOutput


def _write(tmp_path: Path, name: str, data_rows: list[list[tuple[str, dict]]], **kw: int | None) -> dict[str, bytes]:
    folder = tmp_path / name
    folder.mkdir()
    out = NDJSONOutput(folder / "out.ndjson", **kw)  # type: ignore[arg-type]
    for rows in data_rows:
        out.write_data_row(rows)
    out.commit()
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("kw", [{}, {"max_rows_per_file": 3}, {"per_row_limit": 2}, {"max_rows_per_file": 2, "per_row_limit": 3}],
                         ids=["plain", "chunked", "overflow", "chunked-overflow"])
def test_shortcut_matches_per_feature_count(tmp_path: Path, monkeypatch, kw: dict) -> None:
    data_rows = [
        [("a", {"uuid": "1"}), ("b", {"uuid": "2"})],
        [],
        [("a", {"uuid": "3"}), ("a", {"uuid": "4"}), ("a", {"uuid": "5"}), ("b", {"uuid": "6"})],
        [("c", {"uuid": "7", "ü": [1.5, {"x": 0.0}]})],
    ]
    monkeypatch.setenv("LBCONVERT_NO_FAST_PATH", "0")
    fast = _write(tmp_path, "fast", data_rows, **kw)
    monkeypatch.setenv("LBCONVERT_NO_FAST_PATH", "1")
    general = _write(tmp_path, "general", data_rows, **kw)
    assert fast == general
    assert sum(v.count(b"\n") for v in fast.values()) == 7
