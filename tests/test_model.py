"""The model: frozen slotted value types whose constructors refuse what no source can mean."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from converters import model
from converters.model import (
    Annotation,
    Answer,
    Asset,
    Box,
    Classification,
    ClassificationKind,
    DocumentEntity,
    Entity,
    GroupKey,
    Keyframe,
    Kind,
    Mask,
    Media,
    MultiPolygon,
    PageBox,
    Point,
    Polygon,
    Polyline,
    Relationship,
    Segment,
    SourceRef,
    TextSelection,
    Unit,
    VideoObject,
    shape_kind,
)

SRC = SourceRef(file="f.json")
CLASSES = [obj for _, obj in inspect.getmembers(model, inspect.isclass)
           if dataclasses.is_dataclass(obj) and obj.__module__ == model.__name__]


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_model_class_is_frozen_and_slotted(cls) -> None:
    assert cls.__dataclass_params__.frozen
    assert "__slots__" in cls.__dict__


def test_values_cannot_be_changed() -> None:
    box = Box(x_min=0, y_min=0, x_max=1, y_max=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        box.x_min = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Box(x_min=float("nan"), y_min=0, x_max=1, y_max=1), "not a finite number"),
        (lambda: Point(x=float("inf"), y=0), "not a finite number"),
        (lambda: Mask(width=0, height=3, rle={"size": [3, 0], "counts": []}), "must be positive"),
        (lambda: Mask(width=2, height=2), "exactly one of rle= or load="),
        (lambda: Entity(start=5, end=2), "invalid span"),
        (lambda: Classification(name="q", kind=ClassificationKind.RADIO), "exactly one answer"),
        (lambda: Classification(name="c", kind=ClassificationKind.CHECKLIST), "at least one answer"),
        (lambda: Classification(name="t", kind=ClassificationKind.TEXT, text=None), "needs text"),
        (lambda: Classification.radio("q", "a", frames=((0, 3),)), "1 <= start <= end"),
        (lambda: Classification.radio("q", "a", times_ms=((9, 3),)), "0 <= start <= end"),
        (lambda: Classification.radio("q", "a", frames=((1, 2),), times_ms=((0, 1),)), "not both"),
        (lambda: Annotation(key="k", source=SRC), "an object"),
        (lambda: Annotation(key="k", source=SRC, shape=Point(x=0, y=0)), "needs a label"),
        (lambda: Annotation(key="k", source=SRC, label="a", shape=Point(x=0, y=0), confidence=1.5), "confidence"),
        (lambda: Keyframe(frame=0, shape=Point(x=0, y=0)), "1-based"),
        (lambda: VideoObject(key="v", source=SRC, label="a", segments=()), "segments"),
        (lambda: VideoObject(key="v", source=SRC, label="a", group_key="frontal",  # type: ignore[arg-type]
                             segments=(Segment(keyframes=(Keyframe(frame=1, shape=Point(x=0, y=0)),)),)), "frontal"),
        (lambda: PageBox(x_min=0, y_min=0, x_max=1, y_max=1, page=0), "1-based"),
        (lambda: PageBox(x_min=0, y_min=0, x_max=1, y_max=1, page=1, unit="FEET"), "FEET"),  # type: ignore[arg-type]
        (lambda: TextSelection(token_ids=(), group_id="g", page=1), "token id"),
        (lambda: TextSelection(token_ids=("t",), group_id="", page=1), "group id"),
        (lambda: DocumentEntity(selections=()), "text selection"),
        (lambda: Asset(name="a", media=Media.IMAGE, source=SRC, width=3), "both width and height"),
        (lambda: Asset(name="a", media=Media.IMAGE, source=SRC, width=0, height=3), "must be positive"),
    ],
)
def test_constructors_refuse_nonsense(build, message) -> None:
    with pytest.raises(ValueError, match=message):
        build()


@pytest.mark.parametrize(
    ("shape", "kind"),
    [
        (Box(x_min=0, y_min=0, x_max=1, y_max=1), Kind.BBOX),
        (PageBox(x_min=0, y_min=0, x_max=1, y_max=1, page=2), Kind.BBOX),
        (Point(x=0, y=0), Kind.POINT),
        (Polyline(points=((0, 0), (1, 1))), Kind.POLYLINE),
        (Polygon(exterior=((0, 0), (1, 0), (1, 1))), Kind.POLYGON),
        (MultiPolygon(polygons=(Polygon(exterior=((0, 0), (1, 0), (1, 1))),)), Kind.POLYGON),
        (Mask(width=1, height=1, rle={"size": [1, 1], "counts": [1]}), Kind.MASK),
        (Entity(start=0, end=1), Kind.ENTITY),
        (DocumentEntity(selections=(TextSelection(token_ids=("t",), group_id="g", page=1),)), Kind.ENTITY),
    ],
)
def test_every_shape_has_its_matrix_kind(shape, kind) -> None:
    assert shape_kind(shape) is kind
    assert Annotation(key="k", source=SRC, label="a", shape=shape).kind is kind


def test_strings_become_enums_and_kinds_follow_the_payload() -> None:
    box = PageBox(x_min=0, y_min=0, x_max=1, y_max=1, page=1, unit="PIXELS")  # type: ignore[arg-type]
    assert box.unit is Unit.PIXELS
    track = VideoObject(key="v", source=SRC, label="a", group_key="axial",  # type: ignore[arg-type]
                        segments=(Segment(keyframes=(Keyframe(frame=1, shape=Polyline(points=((0, 0), (1, 1)))),)),))
    assert track.group_key is GroupKey.AXIAL and track.kind is Kind.POLYLINE
    tag = Annotation(key="t", source=SRC, classification=Classification.checklist("tags", ["a", "b"]))
    assert tag.kind is Kind.CHECKLIST and [a.name for a in tag.classification.answers] == ["a", "b"]
    assert Relationship(key="r", source=SRC, label="l", from_key="a", to_key="b").kind is Kind.RELATIONSHIP
    assert Answer(name="x").classifications == ()


@pytest.mark.parametrize(
    ("ref", "text"),
    [
        (SourceRef(file="a.json"), "a.json"),
        (SourceRef(file="a.xml", line=3, element="/annotations/image[2]"), "a.xml, line 3, /annotations/image[2]"),
        (SourceRef(file="a.json", annotation_id="17", frame=4), "a.json, annotation 17, frame 4"),
    ],
)
def test_source_ref_names_the_place(ref, text) -> None:
    assert str(ref) == text
    assert ref.location() == text.partition(", ")[2]


def test_mask_equality_ignores_the_loader() -> None:
    rle = {"size": [2, 2], "counts": [4]}
    assert Mask(width=2, height=2, rle=rle) == Mask(width=2, height=2, rle=dict(rle))
