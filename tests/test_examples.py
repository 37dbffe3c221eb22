"""The recipes in examples/ run, produce rows the Labelbox SDK accepts, and call the SDK as it expects.

Each recipe builds its own small input in tmp_path; network calls go to examples/fake_labelbox.py,
whose signatures are compared with the real SDK's when LB_ORACLE_PYTHON names a Python with it.

examples/media_*.py: each runs, and the Labelbox SDK oracle accepts every row it writes.
Together the scripts cover every importable cell of document, geospatial, audio,
conversational and DICOM rows; the FORMS table says which row forms each must produce.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from converters.matrix import MATRIX, PRODUCED
from converters.model import Kind, Media
from tests.conftest import ROOT, read_ndjson

EXAMPLES = ROOT / "examples"


@pytest.fixture
def recipe(monkeypatch: pytest.MonkeyPatch):
    """Import a recipe module from examples/ (no API key: the fake SDK is used)."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    monkeypatch.delenv("LABELBOX_API_KEY", raising=False)

    def load(name: str):
        return importlib.import_module(name)

    return load


def calls(client, kind: str) -> list[dict]:
    return [args for name, args in client.calls if name == kind]


def test_coco_results_prelabels(tmp_path: Path, recipe, oracle, capsys) -> None:
    result = recipe("coco_results_prelabels").run(tmp_path)
    rows = read_ndjson(result["rows"])
    assert len(rows) == 2 and all("bbox" in r and r["schemaId"] == "clx0000000000000000000car" for r in rows)
    assert {r["dataRow"]["globalKey"] for r in rows} == {"val/0001.jpg", "val/0002.jpg"}
    assert result["report"].reasons() == {"below-min-score": 1}
    assert all(p.image is not None for p in result["preview"].pages)  # found under val/ despite the key prefix
    (job,) = calls(result["client"], "MALPredictionImport")
    assert job["rows"] == rows
    check = oracle(result["rows"], mode="mal", media="image")
    assert check.failed == 0 and check.ok == 2, check.output


def test_cvat_video_ground_truth(tmp_path: Path, recipe, oracle, capsys) -> None:
    result = recipe("cvat_video_ground_truth").run(tmp_path)
    rows = {r["name"]: r for r in read_ndjson(result["rows"])}
    assert set(rows) == {"car", "lane"}
    car = rows["car"]["segments"]
    assert len(car) == 1 and [k["frame"] for k in car[0]["keyframes"]][0] == 1  # CVAT frame 0 is Labelbox frame 1
    assert car[0]["keyframes"][-1]["frame"] == 11 and car[0]["keyframes"][-1]["bbox"]["left"] == 110
    assert "line" in rows["lane"]["segments"][0]["keyframes"][0]
    assert json.loads((tmp_path / "ontology.json").read_text())["tools"]
    (job,) = calls(result["client"], "LabelImport")
    assert len(job["rows"]) == 2
    check = oracle(result["rows"], mode="gt", media="video")
    assert check.failed == 0 and check.ok == 2, check.output


def test_yolo_seg_images(tmp_path: Path, recipe, oracle, capsys) -> None:
    result = recipe("yolo_seg_images").run(tmp_path)
    rows = read_ndjson(result["rows"])
    assert sorted(r["name"] for r in rows) == ["building", "sign", "sign"]
    building = next(r for r in rows if r["name"] == "building")
    assert {(p["x"], p["y"]) for p in building["polygon"]} == {(20, 20), (80, 20), (80, 70), (20, 70)}
    assert all(p.image is not None for p in result["preview"].pages)
    check = oracle(result["rows"], mode="mal", media="image")
    assert check.failed == 0 and check.ok == 3, check.output


def test_spacy_ner_data_rows(tmp_path: Path, recipe, oracle, capsys) -> None:
    mod = recipe("spacy_ner_data_rows")
    result = mod.run(tmp_path)
    rows = read_ndjson(result["rows"])
    items = json.loads(result["data_rows"].read_text())
    texts = {i["global_key"]: i["row_data"] for i in items}
    assert {r["dataRow"]["globalKey"] for r in rows} == set(texts)
    for r in rows:  # inclusive end: the entity's text is text[start:end + 1]
        text = texts[r["dataRow"]["globalKey"]]
        loc = r["location"]
        assert text[loc["start"]: loc["end"] + 1] in {"Ada Lovelace", "London", "Café Müller", "Zürich", "1920"}
    (created,) = calls(result["client"], "create_data_rows")
    assert created["items"] == items
    check = oracle(result["rows"], mode="mal", media="text")
    assert check.failed == 0 and check.ok == 5, check.output


def test_upload_script_chunks_between_data_rows(tmp_path: Path, recipe, capsys, monkeypatch) -> None:
    up = recipe("labelbox_upload")
    rows = [{"dataRow": {"globalKey": k}, "name": "x", "uuid": f"{k}{i}", "point": {"x": 1, "y": 1}}
            for k, n in (("a", 3), ("b", 2), ("c", 1)) for i in range(n)]
    assert [len(c) for c in up._chunks(rows, 2)] == [3, 2, 1]  # a data row is never split
    path = tmp_path / "o.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    monkeypatch.setattr(up, "ROWS_PER_JOB", 4)
    assert up.main([str(path), "--project", "p1", "--mode", "ground-truth"]) == 0
    assert "2 import job(s) done with fake_labelbox" in capsys.readouterr().out
    fake = recipe("fake_labelbox")
    with pytest.raises(ValueError, match="repeats"):
        fake.LabelImport.create_from_objects(fake.Client(), "p", "n", [rows[0], rows[0]])


def test_fake_sdk_matches_the_real_sdk() -> None:
    python = os.environ.get("LB_ORACLE_PYTHON")
    if not python:
        if os.environ.get("LB_REQUIRE_ORACLE"):
            pytest.fail("LB_ORACLE_PYTHON required (the Labelbox SDK) but not set")
        pytest.skip("LB_ORACLE_PYTHON not set: the real SDK is not available (CI sets it)")
    proc = subprocess.run([python, str(EXAMPLES / "fake_labelbox.py")], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("script", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_every_example_is_in_the_docs(script: str) -> None:
    docs = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "docs" / "recipes").glob("*.md"))
    assert f"examples/{script}" in docs


def test_recipe_runs_as_a_script(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "LABELBOX_API_KEY"}
    proc = subprocess.run([sys.executable, "spacy_ner_data_rows.py"], cwd=EXAMPLES, capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0 and "5 rows written" in proc.stdout, proc.stderr


# --------------------------------------------------------------------------- media examples

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
