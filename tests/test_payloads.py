"""Media-specific rows (converters.payloads): each annotation in its media's form, or refused.

A (media, annotation) pair whose form does not fit is skipped with a reason and never written
in another media's shape; the geospatial, document and audio payloads are checked value by value.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from converters import write
from converters.model import (
    Annotation,
    Asset,
    Box,
    Classification,
    DocumentEntity,
    Entity,
    GroupKey,
    Keyframe,
    Mask,
    Media,
    PageBox,
    Point,
    Polygon,
    Polyline,
    Segment,
    SourceRef,
    TextSelection,
    VideoObject,
)
from tests.conftest import read_ndjson

SRC = SourceRef(file="mem.json")
BOX = Box(x_min=1, y_min=2, x_max=11, y_max=12)


def obj(shape, label: str = "thing") -> Annotation:
    return Annotation(key="k", source=SRC, label=label, shape=shape)


def track(shape, group_key=None) -> VideoObject:
    return VideoObject(key="t", source=SRC, label="thing", group_key=group_key,
                       segments=(Segment(keyframes=(Keyframe(frame=1, shape=shape),)),))


def tag(**kw) -> Annotation:
    return Annotation(key="c", source=SRC, classification=Classification.radio("q", "a", **kw))


def _write(tmp_path: Path, media: Media, ann, mode: str = "ground-truth", **asset_kw):
    asset = Asset(name="x", media=media, source=SRC, annotations=(ann,), **asset_kw)
    out = tmp_path / "out.ndjson"
    report = write([asset], out, mode=mode)  # type: ignore[arg-type]
    report.check()
    return report, read_ndjson(out)


SEL = DocumentEntity(selections=(TextSelection(token_ids=("t1",), group_id="g", page=1),))
MASK = Mask(width=4, height=4, rle={"size": [4, 4], "counts": [0, 16]})


@pytest.mark.parametrize(
    ("media", "ann", "code"),
    [
        (Media.DOCUMENT, obj(BOX), "no-page"),
        (Media.DOCUMENT, obj(Entity(start=0, end=3)), "no-text-layer"),
        (Media.IMAGE, obj(PageBox(x_min=0, y_min=0, x_max=1, y_max=1, page=1)), "wrong-form"),
        (Media.TEXT, obj(SEL), "wrong-form"),
        (Media.IMAGE, track(BOX), "wrong-form"),
        (Media.VIDEO, obj(BOX), "wrong-form"),
        (Media.DICOM, obj(Polyline(points=((0, 0), (1, 1)))), "wrong-form"),
        (Media.DICOM, track(Polyline(points=((0, 0), (1, 1)))), "no-group-key"),
        (Media.VIDEO, track(BOX, GroupKey.AXIAL), "wrong-form"),
        (Media.DICOM, track(BOX, GroupKey.AXIAL), "not-importable"),
        (Media.VIDEO, track(MASK), "not-produced"),
        (Media.CONVERSATIONAL, obj(Entity(start=0, end=3)), "no-message-id"),
        (Media.TEXT, obj(Entity(start=0, end=3, message_id="m")), "wrong-form"),
        (Media.VIDEO, tag(times_ms=((0, 10),)), "wrong-form"),
        (Media.AUDIO, tag(frames=((1, 2),)), "wrong-form"),
        (Media.IMAGE, tag(message_id="m"), "wrong-form"),
        (Media.GEOSPATIAL, obj(Point(x=500, y=300)), "out-of-range"),
        (Media.GEOSPATIAL, obj(MASK), "not-importable"),
    ],
)
def test_annotation_in_another_media_form_is_refused_with_a_reason(tmp_path: Path, media, ann, code) -> None:
    report, rows = _write(tmp_path, media, ann)
    assert rows == []
    assert [e.code for e in report.entries] == [code]
    assert report.skipped[ann.kind.value] == 1


def test_geospatial__degrees_unclipped_north_up_box(tmp_path: Path) -> None:
    box = Box(x_min=-99.20747, y_min=19.398, x_max=-99.20569, y_max=19.39926)
    _, rows = _write(tmp_path, Media.GEOSPATIAL, obj(box))
    assert rows[0]["bbox"] == {"top": 19.39926, "left": -99.20747, "height": -0.00126, "width": 0.00178}
    poly = Polygon(exterior=((-99.2090123, 19.4010456), (-99.207, 19.4012), (-99.2075, 19.3995)))
    _, rows = _write(tmp_path, Media.GEOSPATIAL, obj(poly))
    assert rows[0]["polygon"][0] == {"x": -99.2090123, "y": 19.4010456}  # not clipped to [0, w], 7 decimals


def test_document__page_box_and_text_selections(tmp_path: Path) -> None:
    _, rows = _write(tmp_path, Media.DOCUMENT, obj(PageBox(x_min=10, y_min=30, x_max=2, y_max=5, page=3, unit="PIXELS")))
    assert {k: rows[0][k] for k in ("bbox", "page", "unit")} == {
        "bbox": {"top": 5, "left": 2, "height": 25, "width": 8}, "page": 3, "unit": "PIXELS"}
    _, rows = _write(tmp_path, Media.DOCUMENT, obj(SEL))
    assert rows[0]["textSelections"] == [{"tokenIds": ["t1"], "groupId": "g", "page": 1}]


def test_audio__temporal_answers_carry_the_ranges(tmp_path: Path) -> None:
    cls = Classification.checklist("noise", ["music", "static"], times_ms=((5, 9), (20, 30)))
    _, rows = _write(tmp_path, Media.AUDIO, Annotation(key="n", source=SRC, classification=cls))
    frames = [{"start": 5, "end": 9}, {"start": 20, "end": 30}]
    assert rows[0]["answer"] == [{"name": "music", "frames": frames}, {"name": "static", "frames": frames}]


def test_dicom__hidden_mask_track_is_reported_not_lost(tmp_path: Path) -> None:
    full = Mask(width=4, height=4, rle={"size": [4, 4], "counts": [0, 16]})
    empty = Mask(width=4, height=4, rle={"size": [4, 4], "counts": [16]})
    asset = Asset(name="s.dcm", media=Media.DICOM, source=SRC, annotations=(
        VideoObject(key="a", source=SRC, label="organ", group_key="axial",
                    segments=(Segment(keyframes=(Keyframe(frame=1, shape=full),)),)),
        VideoObject(key="b", source=SRC, label="lesion", group_key="axial",
                    segments=(Segment(keyframes=(Keyframe(frame=1, shape=empty),)),)),
    ))
    report = write([asset], tmp_path / "d.ndjson")
    report.check()
    rows = read_ndjson(tmp_path / "d.ndjson")
    assert [i["name"] for i in rows[0]["masks"]["instances"]] == ["organ"]
    assert report.counts()["mask"] == {"read": 2, "written": 1, "skipped": 1}
    assert [e.code for e in report.entries] == ["mask-hidden"]
