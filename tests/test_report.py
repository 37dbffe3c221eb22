"""The report: counts per kind and outcome, entries with their place, the invariant."""

from __future__ import annotations

import json

import pytest

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
