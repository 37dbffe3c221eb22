"""``lbconvert validate``: every offline SDK check with a row of its own, media inference, speed.

Rows are written here; each bad row is a good row with one defect, so the expected message is
the only problem (checked through the CLI in-process: exit code and the printed line).
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from converters.cli import main
from converters.matrix import Mode
from converters.model import Media
from converters.validate import validate_file, validate_row

GK = {"globalKey": "img-1.jpg"}
CUID = "c" * 25


def _png(arr: np.ndarray, mode: str | None = None) -> str:
    buf = io.BytesIO()
    Image.fromarray(arr.astype(np.uint8), mode).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


BINARY = _png(np.array([[0, 1], [1, 0]]))
GREY255 = _png(np.array([[0, 255], [255, 0]]))
RGB = _png(np.stack([np.array([[255, 0], [0, 0]])] * 3, axis=-1) * np.array([1, 0, 0]))  # one red pixel
JPEG = base64.b64encode(b"\xff\xd8\xff\xe0" + b"0" * 40).decode()
BOX = {"top": 1, "left": 1, "height": 3, "width": 3}


def _row(**kw):
    return {"uuid": "u-" + json.dumps(kw, sort_keys=True)[:40], "dataRow": GK, "name": "x", **kw}


# (id, row, media, mode, expected problem or None)
CASES = [
    ("box ok", _row(bbox=BOX), "image", "prelabel", None),
    ("schemaId too long", {**_row(bbox=BOX), "name": None, "schemaId": "c" * 30}, "image", "prelabel", "schemaId must be a 25-character feature schema id"),
    ("schemaId ok", {"dataRow": GK, "schemaId": CUID, "bbox": BOX}, "image", "prelabel", None),
    ("name not a string", {**_row(bbox=BOX), "name": 7}, "image", "prelabel", "name must be a string"),
    ("uuid not a string", {**_row(bbox=BOX), "uuid": 5}, "image", "prelabel", "uuid must be a string"),
    ("dataRow id not a string", {**_row(bbox=BOX), "dataRow": {"id": 12}}, "image", "prelabel", "dataRow id must be a non-empty string"),
    ("confidence above 1", _row(bbox=BOX, confidence=1.5), "image", "prelabel", "confidence must be a number within [0, 1], not 1.5"),
    ("confidence below 0", _row(bbox=BOX, confidence=-0.1), "image", "prelabel", "confidence must be a number within [0, 1]"),
    ("confidence a string", _row(bbox=BOX, confidence="high"), "image", "prelabel", "confidence must be a number within [0, 1]"),
    ("answer confidence", _row(answer={"name": "a", "confidence": 2}), "image", "prelabel", "answer confidence must be a number within [0, 1]"),
    ("png mask ok", _row(mask={"png": BINARY}), "image", "prelabel", None),
    ("png mask 0/255", _row(mask={"png": GREY255}), "image", "prelabel", "mask png must be binary (values 0 and 1), found 255"),
    ("png mask not a PNG", _row(mask={"png": JPEG}), "image", "prelabel", "mask png is not a PNG"),
    ("png mask not base64", _row(mask={"png": "%%%"}), "image", "prelabel", "mask png is not valid base64"),
    ("imBytes ok", _row(mask={"imBytes": RGB, "colorRGB": [255, 0, 0]}), "image", "prelabel", None),
    ("imBytes colour absent", _row(mask={"imBytes": RGB, "colorRGB": [0, 255, 0]}), "image", "prelabel", "mask colorRGB [0, 255, 0] does not occur in the imBytes PNG"),
    ("imBytes not a PNG", _row(mask={"imBytes": JPEG, "colorRGB": [255, 0, 0]}), "image", "prelabel", "mask imBytes is not a PNG"),
    ("colorRGB out of range", _row(mask={"instanceURI": "https://x/m.png", "colorRGB": [300, 0, 0]}), "image", "prelabel", "mask colorRGB must be three integers 0..255"),
    ("colorRGB bools", _row(mask={"instanceURI": "https://x/m.png", "colorRGB": [True, 0, 0]}), "image", "prelabel", "mask colorRGB must be three integers 0..255"),
    ("checklist empty", _row(answer=[]), "image", "prelabel", "checklist answer must list at least one option"),
    ("answer without name", _row(answer={"value": "first"}), "image", "prelabel", "answer needs a name or a schemaId"),
    ("nested answer without name", _row(bbox=BOX, classifications=[{"name": "q", "answer": {}}]), "image", "prelabel", "classifications[0] answer needs a name or a schemaId"),
    ("dicom group ok", {"dataRow": GK, "name": "l", "groupKey": "axial", "segments": [{"keyframes": [{"frame": 1, "line": [{"x": 1, "y": 1}, {"x": 2, "y": 2}]}]}]}, "dicom", "prelabel", None),
    ("dicom bad group", {"dataRow": GK, "name": "l", "groupKey": "frontal", "segments": [{"keyframes": [{"frame": 1, "line": [{"x": 1, "y": 1}, {"x": 2, "y": 2}]}]}]}, "dicom", "prelabel", "groupKey must be one of axial, sagittal, coronal, not 'frontal'"),
    ("dicom without group", {"dataRow": GK, "name": "l", "segments": [{"keyframes": [{"frame": 1, "line": [{"x": 1, "y": 1}, {"x": 2, "y": 2}]}]}]}, "dicom", "prelabel", "DICOM annotations are segments or masks with a groupKey"),
    ("track on image", {"dataRow": GK, "name": "v", "segments": [{"keyframes": [{"frame": 1, "bbox": BOX}]}]}, "image", "prelabel", "track rows (segments of keyframes) import only on video data rows, not image"),
    ("plain box on video", _row(bbox=BOX), "video", "prelabel", "on video data rows an object is a track (segments of keyframes), not a plain bbox row"),
    ("track on video ok", {"dataRow": GK, "name": "v", "segments": [{"keyframes": [{"frame": 1, "bbox": BOX}, {"frame": 4, "bbox": BOX}]}]}, "video", "prelabel", None),
    ("frames reversed", _row(answer={"name": "a"}, frames=[{"start": 9, "end": 3}]), "video", "prelabel", "frames needs 0 <= start <= end (got 9..3)"),
    ("answer frames reversed", _row(answer=[{"name": "a", "frames": [{"start": 9, "end": 3}]}]), "video", "prelabel", "answer[0] frames needs 0 <= start <= end"),
    ("pdf page 0", _row(textSelections=[{"tokenIds": ["t"], "groupId": "g", "page": 0}]), "document", "ground-truth", "textSelections page must be an integer >= 1"),
    ("pdf box without unit", _row(bbox=BOX, page=1), "document", "prelabel", "a document box needs a page and a unit"),
    ("pdf box ok", _row(bbox=BOX, page=1, unit="POINTS"), "document", "prelabel", None),
    ("relationship type", _row(relationship={"source": "a", "target": "b", "type": "sideways"}), "image", "prelabel", "relationship type must be unidirectional or bidirectional"),
    ("conversational entity without message", _row(location={"start": 0, "end": 3}), "conversational", "ground-truth", "conversational entities need the messageId"),
    ("classifications not a list", _row(bbox=BOX, classifications={"name": "q"}), "image", "prelabel", "classifications must be a list"),
    ("keyframe answer confidence", {"dataRow": GK, "name": "v", "segments": [{"keyframes": [{"frame": 1, "bbox": BOX, "classifications": [{"name": "q", "answer": {"name": "a", "confidence": 3}}]}]}]}, "video", "prelabel", "frame 1: classifications[0] answer confidence must be a number within [0, 1]"),
    ("metric row", {"dataRow": GK, "metricValue": 0.5, "metricName": "iou"}, "image", "prelabel", "custom metrics go to model runs"),
]


@pytest.mark.parametrize(("row", "media", "mode", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_validate_row__sdk_checks(row, media: str, mode: str, expected: str | None) -> None:
    problems = validate_row(row, mode=Mode(mode if mode != "prelabel" else "prelabel"), media=Media(media))
    if expected is None:
        assert problems == []
    else:
        assert [p for p in problems if expected in p], problems


def test_validate_cli__one_line_per_bad_row(tmp_path: Path, capsys) -> None:
    rows = [c[1] for c in CASES if c[2] == "image" and c[0] != "relationship type"]
    path = tmp_path / "rows.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["validate", str(path), "--media", "image"]) == 1
    out = capsys.readouterr()
    bad = {n for n, c in enumerate((c for c in CASES if c[2] == "image" and c[0] != "relationship type"), start=1) if c[4]}
    flagged = {int(ln.split("line ")[1].split(":")[0]) for ln in out.out.splitlines()}
    assert flagged == bad
    assert out.err.strip() == f"{len(rows) - len(bad)} rows valid, {len(bad)} rows invalid (media image, given)"


def test_validate__media_inferred_from_rows(tmp_path: Path, capsys) -> None:
    track = {"dataRow": GK, "name": "v", "uuid": "t1", "segments": [{"keyframes": [{"frame": 1, "bbox": BOX}]}]}
    radio = {"dataRow": GK, "name": "q", "uuid": "q1", "answer": {"name": "a"}}
    path = tmp_path / "video.ndjson"
    path.write_text(json.dumps(track) + "\n" + json.dumps(radio) + "\n")
    assert main(["validate", str(path)]) == 0  # no --media: video, from the track row
    assert capsys.readouterr().err.strip() == "2 rows valid, 0 rows invalid (media video, inferred from the rows)"
    assert main(["validate", str(path), "--media", "image"]) == 1
    assert "track rows (segments of keyframes) import only on video data rows" in capsys.readouterr().out


def test_validate__classifications_only_no_media_checks(tmp_path: Path, capsys) -> None:
    path = tmp_path / "tags.ndjson"
    path.write_text(json.dumps({"dataRow": GK, "name": "q", "answer": {"name": "a"}}) + "\n")
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().err.strip() == "1 rows valid, 0 rows invalid (no media checks: no row tells the media; give --media)"


def test_validate__mixed_media_is_an_error(tmp_path: Path, capsys) -> None:
    track = {"dataRow": GK, "name": "v", "segments": [{"keyframes": [{"frame": 1, "bbox": BOX}]}]}
    path = tmp_path / "mixed.ndjson"
    path.write_text(json.dumps(_row(bbox=BOX)) + "\n" + json.dumps(track) + "\n")
    assert main(["validate", str(path)]) == 1
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln]
    assert err == [
        f"error: {path}: rows of several media: image (line 1), video (line 2); an import goes to one "
        "kind of data row (give --media to check every row against one)"
    ]


def test_validate__relationship_to_unknown_uuid(tmp_path: Path) -> None:
    box = _row(bbox=BOX)
    rel = {"dataRow": GK, "name": "r", "uuid": "r1", "relationship": {"source": box["uuid"], "target": "nope", "type": "unidirectional"}}
    path = tmp_path / "rel.ndjson"
    path.write_text(json.dumps(box) + "\n" + json.dumps(rel) + "\n")
    result = validate_file(path, mode=Mode.PRELABEL, media=Media.IMAGE)
    assert (2, "relationship target 'nope' is the uuid of no row on this data row") in result.problems
    assert not any("source" in p for _, p in result.problems)


_ORACLE_RUNS = [(m, "ground-truth", "gt") for m in ("image", "video", "text", "document", "conversational", "audio", "dicom", "geospatial")]
_ORACLE_RUNS.append(("image", "prelabel", "mal"))  # the mode changes only the matrix and relationships


@pytest.mark.parametrize(("media", "mode", "flag"), _ORACLE_RUNS)
def test_validate__oracle_examples_agree(oracle, media: str, mode: str, flag: str) -> None:
    """Every row the SDK oracle fails in its own examples is failed here too."""
    from tests.conftest import ORACLE_SCRIPT

    for name in ("good.ndjson", "bad.ndjson"):
        path = ORACLE_SCRIPT.parent / "lb_oracle_examples" / name
        result = oracle(path, mode=flag, media=media)
        theirs = {int(ln.split()[1].rstrip(":")) for ln in result.output.splitlines() if ln.startswith("line ") and ": FAIL" in ln}
        assert theirs, "the oracle failed no row: its examples changed"
        ours = {n for n, _ in validate_file(path, mode=Mode(mode), media=Media(media)).problems}
        assert theirs <= ours, (name, sorted(theirs - ours))


@pytest.mark.parametrize(
    ("media", "row", "expected"),
    [
        ("document", {"name": "b", "bbox": BOX}, "page"),
        ("document", {"name": "e", "location": {"start": 0, "end": 3}}, "textSelections"),
        ("geospatial", {"name": "m", "mask": {"png": BINARY}}, "mask"),
        ("audio", {"name": "b", "bbox": BOX}, "audio"),
        ("conversational", {"name": "b", "bbox": BOX}, "conversational"),
        ("conversational", {"name": "e", "location": {"start": 0, "end": 3}}, "messageId"),
        ("dicom", {"name": "l", "line": [{"x": 0, "y": 0}, {"x": 1, "y": 1}]}, "dicom"),
    ],
)
def test_validate_media__image_shaped_rows_are_rejected(tmp_path: Path, capsys, media, row, expected) -> None:
    path = tmp_path / "rows.ndjson"
    path.write_text(json.dumps({"dataRow": GK, **row}) + "\n")
    assert main(["validate", str(path), "--mode", "ground-truth", "--media", media]) == 1
    out = capsys.readouterr().out
    assert "line 1:" in out and expected.lower() in out.lower(), out
