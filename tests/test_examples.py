"""examples/media_*.py: each runs, and the Labelbox SDK oracle accepts every row it writes.

Together the scripts cover every importable cell of document, geospatial, audio,
conversational and DICOM rows; the table below says which row forms each must produce.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from converters.matrix import MATRIX, PRODUCED
from converters.model import Kind, Media
from tests.conftest import read_ndjson

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

#: media -> the row forms its example must write in ground truth (a predicate per form).
FORMS = {
    "document": {
        "bbox": lambda r: "bbox" in r and r.get("page") == 1 and r.get("unit") == "POINTS",
        "entity": lambda r: [s["page"] for s in r.get("textSelections", [])] == [1, 2],
    },
    "geospatial": {
        "bbox": lambda r: "bbox" in r and r["bbox"]["height"] < 0 < r["bbox"]["width"] and r["bbox"]["left"] < -99,
        "polygon": lambda r: "polygon" in r and all(-180 <= p["x"] <= 180 for p in r["polygon"]),
        "point": lambda r: r.get("point", {}).get("x") == -99.2064786,  # 7 decimals, not 4
        "polyline": lambda r: "line" in r,
    },
    "audio": {
        "temporal text": lambda r: isinstance(r.get("answer"), list) and "value" in r["answer"][0],
        "temporal radio": lambda r: r.get("name") == "speaker" and r["answer"][0]["frames"][1] == {"start": 9000, "end": 12500},
    },
    "conversational": {
        "entity": lambda r: "location" in r and r.get("messageId") == "msg-2",
        "message classification": lambda r: "answer" in r and r.get("messageId") == "msg-3",
        "global classification": lambda r: "answer" in r and "messageId" not in r,
    },
    "dicom": {
        "polyline": lambda r: r.get("groupKey") == "axial" and "segments" in r,
        "mask": lambda r: r.get("groupKey") == "axial" and len(r.get("masks", {}).get("instances", [])) == 2,
    },
}


def _run(media: str, mode: str, tmp_path: Path) -> tuple[list[dict], dict]:
    out = tmp_path / f"{media}-{mode}.ndjson"
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / f"media_{media}.py"), str(out), "--mode", mode],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(out.with_name(out.stem + ".report.json").read_text())
    return read_ndjson(out), report


def _importable(media: str, mode: str) -> set[Kind]:
    cells = ("P",) if mode == "prelabel" else ("P", "GT")
    return {k for k in Kind if MATRIX[k][Media(media)] in cells and (k, Media(media)) in PRODUCED}


@pytest.mark.oracle
@pytest.mark.parametrize("mode", ["ground-truth", "prelabel"])
@pytest.mark.parametrize("media", sorted(FORMS))
def test_example_rows_pass_the_oracle(media: str, mode: str, tmp_path: Path, oracle) -> None:
    rows, report = _run(media, mode, tmp_path)
    kinds_written = {k for k, n in report["counts"].items() if n["written"]}
    assert kinds_written == {k.value for k in _importable(media, mode)}, "covers every importable cell"
    skipped = {e["code"] for e in report["entries"] if e["action"] == "skipped"}
    assert skipped <= {"ground-truth-only"}
    if not rows:  # conversational pre-labels: nothing importable, and the report says why
        assert mode == "prelabel" and report["counts"]["entity"]["skipped"] == 1
        return
    from converters.cli import main

    assert main(["validate", str(tmp_path / f"{media}-{mode}.ndjson"), "--media", media, "--mode", mode]) == 0
    result = oracle(tmp_path / f"{media}-{mode}.ndjson", mode="gt" if mode == "ground-truth" else "mal",
                    media=media, extra=("--strict",))
    assert result.failed == 0 and result.ok == len(rows), result.output
    if mode == "ground-truth":
        for form, test in FORMS[media].items():
            assert any(test(r) for r in rows), f"{media}: no {form} row"


@pytest.mark.oracle
@pytest.mark.parametrize("media", sorted(FORMS))
def test_example_rows_match_their_derived_ontology(media: str, tmp_path: Path, oracle) -> None:
    """The ontology derived while writing each example names every tool, kind and answer the
    rows use (the oracle's [ontology] stage)."""
    import importlib.util

    import converters

    spec = importlib.util.spec_from_file_location(f"media_{media}", EXAMPLES / f"media_{media}.py")
    assert spec is not None and spec.loader is not None
    sys.path.insert(0, str(EXAMPLES))
    try:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(EXAMPLES))
    assets = [v for v in vars(module).values() if isinstance(v, converters.Asset)]
    out, ont = tmp_path / "o.ndjson", tmp_path / "ont.json"
    converters.write(assets, out, mode="ground-truth", write_ontology=ont)
    result = oracle(out, mode="gt", media=media, extra=("--ontology", str(ont)))
    assert result.failed == 0 and result.ok == len(read_ndjson(out)) > 0, result.output
