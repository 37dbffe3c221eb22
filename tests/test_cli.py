"""The command line, in-process: convert, formats, ontology, validate, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from converters.cli import main
from tests.conftest import FIXTURES, read_ndjson

SAMPLE = FIXTURES / "coco/labelformat/tests/fixtures/object_detection/COCO/train.json"
DATUMARO = FIXTURES / "coco/openvinotoolkit-datumaro/tests/assets/coco_dataset/coco/annotations"


def test_convert__summary_and_report(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out.ndjson"
    assert main(["convert", str(SAMPLE), "-o", str(out), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "2 assets, 16 rows written (bbox 16); 0 skipped" in err
    report = json.loads((tmp_path / "out.report.json").read_text())
    assert report["counts"]["bbox"] == {"read": 16, "written": 16, "skipped": 0}
    assert report["options"]["format"] == "coco"
    assert len(read_ndjson(out)) == 16


def test_convert__global_key_and_chunks(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out.ndjson"
    code = main(["convert", str(SAMPLE), "-o", str(out), "--global-key", "coco/{stem}", "--max-rows-per-file", "5", "--quiet"])
    assert code == 0
    files = sorted(tmp_path.glob("out.part*.ndjson"))
    sizes = [len(read_ndjson(f)) for f in files]
    assert sum(sizes) == 16 and max(sizes) == 5 and len(files) >= 4
    keys = {r["dataRow"]["globalKey"] for f in files for r in read_ndjson(f)}
    assert keys == {"coco/a-weird Filename.asdf", "coco/aNother-weird__ filename.with.many.characters"}


def test_convert__strict_exit_2(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out.ndjson"
    # a polygon of two distinct points is skipped -> strict refuses
    data = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 10, "height": 10}],
        "categories": [{"id": 1, "name": "x"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [5, 5, 10, 10]}, {"id": 2, "image_id": 1, "category_id": 1, "segmentation": [[0, 0, 1, 1, 1, 1]], "bbox": [0, 0, 2, 2]}],
    }
    src = tmp_path / "in.json"
    src.write_text(json.dumps(data))
    assert main(["convert", str(src), "-o", str(out), "--strict", "--quiet"]) == 2
    assert not out.exists()
    assert "strict: nothing written" in capsys.readouterr().err
    assert main(["convert", str(src), "-o", str(out), "--quiet"]) == 0


def test_convert__options_of_another_reader(tmp_path: Path, capsys) -> None:
    assert main(["convert", str(SAMPLE), "-o", str(tmp_path / "o.ndjson"), "--from", "coco", "--coco-geometry", "bbox"]) == 0
    capsys.readouterr()


def test_convert__missing_source(tmp_path: Path, capsys) -> None:
    assert main(["convert", str(tmp_path / "nope.json"), "-o", str(tmp_path / "o.ndjson")]) == 1
    assert capsys.readouterr().err.strip() == f"error: {tmp_path / 'nope.json'}: no such file or directory"


def test_formats_lists_readers_and_flags(capsys) -> None:
    assert main(["formats"]) == 0
    out = capsys.readouterr().out
    assert "coco" in out and "--coco-geometry" in out


def test_ontology_command(tmp_path: Path, capsys) -> None:
    out = tmp_path / "ont.json"
    assert main(["ontology", str(DATUMARO / "instances_val.json"), "-o", str(out)]) == 0
    ont = json.loads(out.read_text())
    assert [(t["name"], t["tool"]) for t in ont["tools"]] == [("a", "polygon"), ("b", "raster-segmentation")]
    assert [c["name"] for c in ont["tools"][0]["classifications"]] == ["x", "y"]
    assert list(tmp_path.iterdir()) == [out]


def test_validate__good_and_bad(tmp_path: Path, capsys) -> None:
    good = tmp_path / "good.ndjson"
    assert main(["convert", str(SAMPLE), "-o", str(good), "--quiet"]) == 0
    assert main(["validate", str(good)]) == 0
    rows = read_ndjson(good)
    rows[1]["dataRow"] = {"globalKey": "a", "id": "b"}
    rows[2]["uuid"] = rows[3]["uuid"]
    rows[3]["dataRow"] = rows[2]["dataRow"]
    rows[4]["bbox"]["width"] = -1
    rows.append({"dataRow": {"globalKey": "x"}, "name": "l", "line": [{"x": 1, "y": 1}], "uuid": "z"})
    bad = tmp_path / "bad.ndjson"
    bad.write_text("\n".join(json.dumps(r) for r in rows) + "\n{not json\n")
    capsys.readouterr()
    assert main(["validate", str(bad)]) == 1
    out = capsys.readouterr().out
    for line, text in [(2, "exactly one of globalKey or id"), (4, "repeats line 3"), (5, "must be positive"), (17, "at least 2 distinct"), (18, "invalid JSON")]:
        assert f"bad.ndjson, line {line}: " in out and text in out
    assert main(["validate", str(good), "--media", "text"]) == 1  # boxes do not import on text


def test_python_dash_m(tmp_path: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "converters", "formats"], capture_output=True, text=True, cwd=Path(__file__).parents[1])
    assert proc.returncode == 0 and "coco" in proc.stdout


@pytest.mark.parametrize(
    ("folder", "source", "rows"),
    [
        ("coco/labelformat/tests/fixtures/object_detection", "COCO/train.json", 16),
        ("voc/openvinotoolkit-datumaro/tests/assets/voc_dataset", "voc_dataset1", 5),  # + image labels as tags (issue 12 item 4)
        ("yolo/cvat-ai-datumaro/tests/assets/yolo_dataset", "yolov8_pose", 4),
        ("cvat/dagshub-annotation-converter/tests/cvat_video", "res/sample_video.xml", 2),
        ("spacy/spaCy/extra/example_data", "textcat_example_data/cooking.jsonl", 10),
    ],
)
def test_convert__relative_source_paths(tmp_path: Path, monkeypatch, capsys, folder: str, source: str, rows: int) -> None:
    """SOURCE given relative to the working directory, as people type it."""
    monkeypatch.chdir(FIXTURES / folder)
    out = tmp_path / "out.ndjson"
    assert main(["convert", source, "-o", str(out), "--quiet"]) == 0, capsys.readouterr().err
    assert len(read_ndjson(out)) == rows


def test_convert__unknown_format_one_line(tmp_path: Path, capsys) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    assert main(["convert", str(tmp_path / "notes.txt"), "-o", str(tmp_path / "o.ndjson")]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"error: {tmp_path / 'notes.txt'}: cannot tell which format this is; name it with --from (coco, cvat, voc, yolo, spacy)"


def test_validate__video_tracks(tmp_path: Path, capsys) -> None:
    src = FIXTURES / "cvat/cvat-ai-datumaro/tests/assets/cvat_dataset/for_video/annotations.xml"
    out = tmp_path / "v.ndjson"
    assert main(["convert", str(src), "-o", str(out), "--mode", "ground-truth", "--quiet"]) == 0
    assert main(["validate", str(out), "--media", "video", "--mode", "ground-truth"]) == 0
    assert main(["validate", str(out), "--media", "video", "--mode", "prelabel"]) == 1  # polylines: GT only
    rows = read_ndjson(out)
    track = next(i for i, r in enumerate(rows) if "segments" in r)
    rows[track]["segments"][0]["keyframes"][0]["frame"] = 0
    bad = tmp_path / "bad.ndjson"
    bad.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    capsys.readouterr()
    assert main(["validate", str(bad), "--media", "video", "--mode", "ground-truth"]) == 1
    assert f"bad.ndjson, line {track + 1}: segment 0: keyframe frame must be an integer >= 1" in capsys.readouterr().out
