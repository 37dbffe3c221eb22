"""The recipes in examples/ run, produce rows the Labelbox SDK accepts, and call the SDK as it expects.

Each recipe builds its own small input in tmp_path; network calls go to examples/fake_labelbox.py,
whose signatures are compared with the real SDK's when LB_ORACLE_PYTHON names a Python with it.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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
