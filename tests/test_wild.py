"""Conformance on real exports: every entry of ../shared/fixtures-wild/cases.json, both modes.

Each entry runs inside its own folder with its ``source`` and ``args`` (as a user would type
them; spaCy entries also get ``--write-data-rows``, as in fixtures-wild/SOURCES.md). ``ok``
entries exit 0 with every listed row kind present, the Labelbox SDK (oracle) accepts every row,
and the report accounts for every annotation; ``clean-error`` entries exit 1 with one
``error:`` line and write nothing. No entry may exit 0 with zero rows.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from converters.cli import main
from tests.conftest import WILD, read_ndjson, shared_json

CASES = shared_json(WILD / "cases.json") or []
_MODES = {"mal": "prelabel", "gt": "ground-truth"}


def row_kind(row: dict) -> str:
    """The Labelbox kind of one NDJSON row (the names cases.json uses)."""
    for kind in ("bbox", "polygon", "point", "line", "mask", "location"):
        if kind in row:
            return {"line": "polyline", "location": "entity"}.get(kind, kind)
    if "segments" in row:  # video keyframe tracks carry their shape inside the segments
        shapes = {k for seg in row["segments"] for kf in seg["keyframes"] for k in kf}
        return next((k for k in ("bbox", "polygon", "point", "line") if k in shapes), "segments")
    if "answer" in row:
        answer = row["answer"]
        return "checklist" if isinstance(answer, list) else "text" if isinstance(answer, str) else "radio"
    return "other"


def _ids(case: dict) -> str:
    return case["id"]


@pytest.mark.shared
@pytest.mark.parametrize("case", CASES, ids=_ids)
@pytest.mark.parametrize("mode", ["mal", "gt"])
def test_wild_entry(tmp_path: Path, capsys, oracle, case: dict, mode: str, monkeypatch) -> None:
    folder = WILD / case["id"]
    monkeypatch.chdir(folder)
    out, rep = tmp_path / "out.ndjson", tmp_path / "report.json"
    extra = ["--write-data-rows", str(tmp_path / "rows.json")] if case["id"].startswith("spacy/") else []
    argv = ["convert", *case["source"], *case["args"], "-o", str(out), "--mode", _MODES[mode],
            "--report", str(rep), "--quiet", *extra]
    code = main(argv)
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    _log_outcome(case["id"], mode, code, out)
    if case["expect"] == "clean-error":
        assert code == 1, (code, err)
        assert len(err) == 1 and err[0].startswith("error: "), err
        assert not out.exists()
        return
    assert code == 0, err
    rows = read_ndjson(out)
    assert rows, "exit 0 with zero rows"
    kinds = {row_kind(r) for r in rows}
    assert set(case["kinds"]) <= kinds, (case["kinds"], kinds)
    report = json.loads(rep.read_text(encoding="utf-8"))
    for kind, c in report["counts"].items():
        assert c["read"] == c["written"] + c["skipped"], (kind, c)
    result = oracle(out, mode=mode, media=case["media"])
    assert result.failed == 0, result.output
    assert result.ok == len(rows)


def _log_outcome(case_id: str, mode: str, code: int, out: Path) -> None:
    """With LBC_WILD_TABLE=FILE, append one line (entry, mode, exit, rows per kind): the outcome table."""
    if not os.environ.get("LBC_WILD_TABLE"):
        return
    counts: dict[str, int] = {}
    for r in read_ndjson(out) if out.exists() else []:
        counts[row_kind(r)] = counts.get(row_kind(r), 0) + 1
    with open(os.environ["LBC_WILD_TABLE"], "a", encoding="utf-8") as fh:
        fh.write(f"{case_id}\t{mode}\t{code}\t{json.dumps(counts, sort_keys=True)}\n")
