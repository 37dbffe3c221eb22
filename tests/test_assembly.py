"""The per-asset row builder: a source identity, small row options, the report, the ontology.

Also the speed tricks it relies on, each against the plain way (differential tests).
"""

from __future__ import annotations

import uuid
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from converters.assembly import AssetConverter, RowOptions
from converters.datarows import DataRowRef
from converters.matrix import Mode
from converters.model import Annotation, Asset, Box, Classification, Media, Point, SourceRef
from converters.ndjson import NAMESPACE, _xy, annotation_uuid, points_payloads
from converters.ontology import Ontology
from converters.report import Report

SRC = SourceRef(file="mem")


def test_row_builder_needs_only_identity_and_row_options() -> None:
    asset = Asset(name="a.jpg", media=Media.IMAGE, source=SRC, width=10, height=10, annotations=(
        Annotation(key="b", source=SRC, label="car", shape=Box(x_min=1, y_min=1, x_max=4, y_max=4), confidence=0.9),
        Annotation(key="p", source=SRC, label="car", shape=Point(x=2, y=2), confidence=0.1),
        Annotation(key="t", source=SRC, classification=Classification.radio("weather", "sun")),
    ))
    report = Report()
    job = AssetConverter("my-db", RowOptions(mode=Mode.GROUND_TRUTH, min_score=0.5), report, Ontology.derived())
    ref = DataRowRef(global_key="a.jpg")
    job.prevalidate([asset])
    rows = [row for _, row in job.rows_for(asset, ref)]
    # uuid5(feature, data row, key) (issue 12): the source identity is not hashed
    assert [r["uuid"] for r in rows] == [annotation_uuid(rows[0]["name"], ref, "b"), annotation_uuid("weather", ref, "t")]
    other = AssetConverter("other-db", RowOptions(mode=Mode.GROUND_TRUTH, min_score=0.5), Report(), Ontology.derived())
    other.prevalidate([asset])
    assert [r["uuid"] for _, r in other.rows_for(asset, ref)] == [r["uuid"] for r in rows]
    assert "confidence" not in rows[0]  # ground truth
    assert report.rows == {"bbox": 1, "radio": 1}  # kinds carried by the rows, not re-derived
    assert report.skipped == {"point": 1} and report.entries[0].code == "below-min-score"
    report.check()


def test_min_score_rule_is_one_function() -> None:
    """Readers (COCO results, YOLO predictions) and the writer all drop with this rule."""
    from converters.model import below_min_score, min_score_reason

    assert below_min_score(0.3, 0.5) and not below_min_score(0.5, 0.5) and not below_min_score(0.3, None)
    assert not below_min_score(None, 0.5)
    assert min_score_reason(0.25, 0.5) == ("below-min-score", "score 0.25 < --min-score 0.5")
    import converters.readers.coco._results as coco_results
    import converters.readers.yolo._rows as yolo_rows

    for module in (coco_results, yolo_rows):
        assert module.below_min_score is below_min_score and "< min_score" not in Path(module.__file__).read_text()


@settings(max_examples=200, deadline=None)
@given(st.text(), st.text(min_size=1), st.text())
def test_hand_built_uuid5_equals_uuid_uuid5(identity: str, key: str, annotation_key: str) -> None:
    ref = DataRowRef(global_key=key)
    expected = uuid.uuid5(NAMESPACE, f"{identity}\x1f{ref.identity}\x1f{annotation_key}")
    assert annotation_uuid(identity, ref, annotation_key) == str(expected)


_xyf = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.tuples(_xyf, _xyf), min_size=1, max_size=6), min_size=1, max_size=5))
def test_batched_point_rounding_equals_one_ring_at_a_time(rings) -> None:
    assert points_payloads(rings) == [_xy(r) for r in rings]


def test_image_fast_path_agrees_with_the_form_check() -> None:
    """The row builder skips form_problem for plain image shapes: it must find none there."""
    from converters.assembly import _IMAGE_SHAPES
    from converters.model import Mask, MultiPolygon, Polygon, Polyline
    from converters.payloads import form_problem

    samples = {Box: Box(x_min=0, y_min=0, x_max=1, y_max=1), Point: Point(x=0, y=0),
               Polyline: Polyline(points=((0, 0), (1, 1))), Polygon: Polygon(exterior=((0, 0), (1, 0), (1, 1))),
               MultiPolygon: MultiPolygon(polygons=(Polygon(exterior=((0, 0), (1, 0), (1, 1))),)),
               Mask: Mask(width=1, height=1, rle={"size": [1, 1], "counts": [1]})}
    assert set(samples) == set(_IMAGE_SHAPES)
    for shape in samples.values():
        assert form_problem(Annotation(key="k", source=SRC, label="x", shape=shape), Media.IMAGE) is None
