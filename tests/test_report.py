"""The report: counts per kind and outcome, entries with their place, the invariant; entries
tied to their data row and rows (what lbconvert preview shows per data row)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from converters.cli import main
from converters.model import Kind, SourceRef
from converters.report import Report

REF = SourceRef(file="in.json", line=4, annotation_id="9")


def test_read_equals_written_plus_skipped_per_kind() -> None:
    r = Report()
    r.count_read(Kind.BBOX, 3)
    r.count_written(Kind.BBOX, 2)
    r.skip(REF, Kind.BBOX, "zero-area-box", "nothing left")
    r.skip_unread(REF, "polygon", "no-segmentation", "annotation has no segmentation")
    r.check()
    assert r.counts() == {"bbox": {"read": 3, "written": 2, "skipped": 1},
                          "polygon": {"read": 1, "written": 0, "skipped": 1}}
    assert r.total_skipped == 2 and r.reasons() == {"zero-area-box": 1, "no-segmentation": 1}


def test_a_lost_annotation_breaks_the_invariant() -> None:
    r = Report()
    r.count_read(Kind.POINT, 2)
    r.count_written(Kind.POINT)
    with pytest.raises(ValueError, match=r"invariant broken .*'point': \(2, 1, 0\)"):
        r.check()


def test_entries_carry_place_action_code_and_sentence() -> None:
    r = Report()
    r.count_read(Kind.POLYGON)
    r.change(REF, Kind.POLYGON, "repaired", "self-intersection", "bow-tie split")
    r.count_written(Kind.POLYGON)
    (entry,) = json.loads(r.to_json())["entries"]
    assert entry["file"] == "in.json" and entry["line"] == 4 and entry["annotation_id"] == "9"
    assert (entry["action"], entry["code"], entry["message"]) == ("repaired", "self-intersection", "bow-tie split")
    assert r.changed == 1 and r.total_skipped == 0


def test_unknown_action_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown report action"):
        Report().change(REF, Kind.BBOX, "teleported", "x", "y")  # type: ignore[arg-type]


def test_entries_are_capped_but_counts_stay_exact() -> None:
    r = Report(max_entries=2)
    r.count_read(Kind.BBOX, 5)
    for _ in range(5):
        r.skip(REF, Kind.BBOX, "c", "m")
    assert len(r.entries) == 2 and r.entries_dropped == 3 and r.skipped["bbox"] == 5
    r.check()


def test_notes_are_kept_once_and_summary_counts_rows() -> None:
    r = Report()
    r.note("default-global-key", "keys guessed")
    r.note("default-global-key", "keys guessed")
    assert len(r.notes) == 1 and r.warnings() == r.notes
    r.count_read(Kind.BBOX)
    r.count_written(Kind.BBOX)
    r.count_row("bbox", 2)
    r.assets = 1
    assert r.summary().startswith("1 assets, 2 rows written (bbox 2)")


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
