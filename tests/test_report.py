"""Report entries tied to their data row and rows (what lbconvert preview shows per data row)."""

from __future__ import annotations

import json
from pathlib import Path

from converters.cli import main
from converters.model import Kind, SourceRef
from converters.report import Report


def test_attribute_ties_waiting_entries_by_source_once() -> None:
    report = Report()
    a, b, c = (SourceRef(file="f.json", annotation_id=str(i)) for i in (1, 2, 3))
    report.count_read(Kind.BBOX, 3)
    report.change(a, Kind.BBOX, "clipped", "box-clipped", "clipped")
    report.skip(b, Kind.BBOX, "x", "skipped")
    report.skip(c, Kind.BBOX, "y", "dropped by a reader")
    assert report.has_pending
    report.attribute({a: ["u1"], b: []}, "img/1.png")
    report.attribute({a: ["other"]}, "img/2.png")  # already tied: an entry belongs to one data row
    assert [(e.data_row, e.uuids) for e in report.entries] == [("img/1.png", ("u1",)), ("img/1.png", ()), (None, ())]
    d = report.asdict()["entries"]
    assert d[0]["data_row"] == "img/1.png" and d[0]["uuids"] == ["u1"]
    assert "data_row" not in d[2] and "uuids" not in d[2]


def test_converted_report_names_data_rows_and_uuids_of_changed_rows(tmp_path: Path) -> None:
    data = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 50, "height": 50}],
        "categories": [{"id": 1, "name": "x"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [40, 40, 20, 20]},
            {"id": 2, "image_id": 1, "category_id": 1, "segmentation": [[0, 0, 1, 1, 1, 1]], "bbox": [0, 0, 1, 1]},
        ],
    }
    src = tmp_path / "in.json"
    src.write_text(json.dumps(data))
    out = tmp_path / "o.ndjson"
    assert main(["convert", str(src), "-o", str(out), "--quiet"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    entries = json.loads((tmp_path / "o.report.json").read_text())["entries"]
    by_id = {e["annotation_id"]: e for e in entries}
    assert by_id["1"]["code"] == "box-clipped" and by_id["1"]["data_row"] == "a.jpg"
    assert by_id["1"]["uuids"] == [rows[0]["uuid"]]
    assert by_id["2"]["action"] == "skipped" and by_id["2"]["data_row"] == "a.jpg" and "uuids" not in by_id["2"]
