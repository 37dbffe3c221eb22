"""Row payloads, uuids and mask forms."""

from __future__ import annotations

import dataclasses

import base64
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from converters.datarows import DataRowRef
from converters.model import (
    Answer,
    Box,
    Classification,
    ClassificationKind,
    Entity,
    Keyframe,
    Mask,
    Point,
    Polygon,
    Polyline,
    Segment,
    SourceRef,
    VideoObject,
)
from converters.ndjson import (
    AssetRows,
    MaskOptions,
    RowContext,
    annotation_uuid,
    classification_payload,
    entity_payload,
    instance_colours,
    shape_payload,
    utf16_offset,
    video_payload,
)
from converters.ontology import ClassDef, Ontology, OptionDef


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        (Box(x_min=1, y_min=2, x_max=11, y_max=7), {"bbox": {"top": 2, "left": 1, "height": 5, "width": 10}}),
        (Point(x=3.123456, y=-0.0), {"point": {"x": 3.1235, "y": 0.0}}),
        (Polyline(points=((0, 0), (5, 5))), {"line": [{"x": 0.0, "y": 0.0}, {"x": 5, "y": 5}]}),
        (Polygon(exterior=((0, 0), (4, 0), (4, 3))), {"polygon": [{"x": 0.0, "y": 0.0}, {"x": 4, "y": 0.0}, {"x": 4, "y": 3}]}),
    ],
)
def test_shape_payload(shape, expected) -> None:
    assert shape_payload(shape) == expected


def test_uuid__deterministic_and_distinct() -> None:
    ref = DataRowRef(global_key="a.jpg")
    assert annotation_uuid("coco", ref, "k1") == annotation_uuid("coco", ref, "k1")
    assert annotation_uuid("coco", ref, "k1") != annotation_uuid("coco", ref, "k2")
    assert annotation_uuid("coco", ref, "k1") != annotation_uuid("coco", DataRowRef(global_key="b.jpg"), "k1")
    assert annotation_uuid("coco", ref, "k1") != annotation_uuid("voc", ref, "k1")


@pytest.mark.parametrize(
    ("text", "start", "end", "offsets", "expected"),
    [
        ("hello world", 6, 11, "codepoints", (6, 10)),
        ("😀 hi", 2, 4, "codepoints", (2, 3)),
        ("😀 hi", 2, 4, "utf16", (3, 4)),  # the emoji is two UTF-16 units
        ("e\u0301 x", 3, 4, "utf16", (3, 3)),  # combining accent is one unit
    ],
)
def test_entity_payload__inclusive_end(text, start, end, offsets, expected) -> None:
    out = entity_payload(Entity(start=start, end=end), text=text, offsets=offsets)
    assert (out["location"]["start"], out["location"]["end"]) == expected
    if offsets == "codepoints":
        assert text[out["location"]["start"] : out["location"]["end"] + 1] == text[start:end]


def test_utf16_offset_matches_encoding() -> None:
    text = "a😀b中c"
    for i in range(len(text) + 1):
        assert utf16_offset(text, i) == len(text[:i].encode("utf-16-le")) // 2


def test_classification_payload__names_and_ids() -> None:
    nested = Classification(
        name="colour",
        kind=ClassificationKind.RADIO,
        answers=(Answer(name="red", classifications=(Classification.free_text("shade", "dark"),)),),
    )
    definition = ClassDef(
        name="colour",
        type="radio",
        schema_id="c" * 25,
        options=[OptionDef(value="red", schema_id="o" * 25, classifications=[ClassDef(name="shade", type="text", schema_id="s" * 25)])],
    )
    given = Ontology([], [definition], fixed=True)
    resolved = given.resolve(nested)
    assert resolved.definition is definition and resolved.answers[0].option is definition.options[0]
    by_name = classification_payload(resolved, RowContext(use_ids=False))
    assert by_name == {"name": "colour", "answer": {"name": "red", "classifications": [{"name": "shade", "answer": "dark"}]}}
    by_id = classification_payload(resolved, RowContext(use_ids=True))
    assert by_id == {"schemaId": "c" * 25, "answer": {"schemaId": "o" * 25, "classifications": [{"schemaId": "s" * 25, "answer": "dark"}]}}
    derived = Ontology.derived()
    check = classification_payload(derived.resolve(Classification.checklist("tags", ["a", "b"])), RowContext())
    assert check == {"name": "tags", "answer": [{"name": "a"}, {"name": "b"}]}
    assert [o.value for o in derived.classifications[0].options] == ["a", "b"]


def test_payloads_read_the_resolved_tree_not_names() -> None:
    """The payload writes the option the answer was resolved to; it does not look the answer
    up again by name (an option swapped in the resolved tree is what comes out)."""
    definition = ClassDef(name="colour", type="radio", schema_id="c" * 25, options=[OptionDef(value="red", schema_id="o" * 25)])
    resolved = Ontology([], [definition], fixed=True).resolve(Classification.radio("colour", "red"))
    renamed = dataclasses.replace(resolved.answers[0], option=OptionDef(value="red", schema_id="x" * 25))
    out = classification_payload(dataclasses.replace(resolved, answers=(renamed,)), RowContext(use_ids=True))
    assert out["answer"] == {"schemaId": "x" * 25}


def test_video_payload__segments_and_keyframes() -> None:
    obj = VideoObject(
        key="t1",
        source=SourceRef(file="x.xml"),
        label="car",
        segments=(
            Segment(keyframes=(Keyframe(frame=1, shape=Point(x=1, y=2)), Keyframe(frame=5, shape=Point(x=3, y=4)))),
            Segment(keyframes=(Keyframe(frame=9, shape=Point(x=5, y=6), classifications=(Classification.radio("q", "a"),)),)),
        ),
    )
    out = video_payload(obj, Ontology.derived().resolve, RowContext())
    assert [[k["frame"] for k in s["keyframes"]] for s in out["segments"]] == [[1, 5], [9]]
    assert out["segments"][1]["keyframes"][0]["classifications"] == [{"name": "q", "answer": {"name": "a"}}]


def _mask(arr: np.ndarray) -> Mask:
    return Mask(width=arr.shape[1], height=arr.shape[0], load=lambda: arr)


def _png(b64: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(b64))))


def test_mask_png_form__single_channel_01_image_size() -> None:
    arr = np.zeros((3, 5), dtype=np.uint8)
    arr[1, 2:4] = 1
    rows = AssetRows(MaskOptions(format="png"))
    rows.add_mask({"name": "m"}, "m", _mask(arr), "k")
    (name, row), = rows.finish()[0]
    decoded = _png(row["mask"]["png"])
    assert decoded.shape == (3, 5) and decoded.dtype == np.uint8
    assert np.array_equal(decoded, arr)


def test_mask_composite__colours_map_back_to_instances_and_hidden_dropped() -> None:
    a = np.zeros((4, 6), dtype=np.uint8)
    a[0:2, 0:3] = 1
    b = np.zeros((4, 6), dtype=np.uint8)
    b[2:4, 3:6] = 1
    hidden = a.copy()
    c = np.zeros((4, 6), dtype=np.uint8)
    c[0:2, 0:3] = 1  # covers `hidden` completely
    rows = AssetRows(MaskOptions(format="composite"))
    for key, arr in (("a", a), ("b", b), ("h", hidden), ("c", c)):
        rows.add_mask({"name": key}, key, _mask(arr), key)
    finished, dropped = rows.finish()
    assert [r["name"] for _, r in finished] == ["b", "c"]  # a and h are both under c
    names = {r["name"]: r for _, r in finished}
    assert {d[1] for d in dropped} == {"mask-hidden"}
    composite = _png(names["b"]["mask"]["imBytes"])
    for key, arr in (("b", b), ("c", c)):
        colour = names[key]["mask"]["colorRGB"]
        assert np.array_equal(np.all(composite == colour, axis=2), arr.astype(bool))


def test_instance_colours__distinct_and_not_black() -> None:
    colours = instance_colours(500)
    assert len(set(colours)) == 500 and (0, 0, 0) not in colours


def test_mask_uri_form__files_under_mask_dir(tmp_path) -> None:
    arr = np.eye(4, dtype=np.uint8)
    rows = AssetRows(MaskOptions(format="uri", directory=tmp_path, url_prefix="https://x.test/m"), asset_key="img/a.jpg")
    rows.add_mask({"name": "m"}, "m", _mask(arr), "k1")
    (_, row), = rows.finish()[0]
    assert row["mask"] == {"instanceURI": "https://x.test/m/img/a.jpg/k1.png", "colorRGB": [255, 255, 255]}
    saved = np.asarray(Image.open(tmp_path / "img/a.jpg/k1.png"))
    assert np.array_equal(saved[:, :, 0] == 255, arr.astype(bool))


def test_uuids_do_not_depend_on_the_source_path(tmp_path: Path) -> None:
    # issue 12 item 11: a renamed (corrected) export keeps its uuids, so a re-import overrides.
    import json

    from converters.cli import main

    doc = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 20, "height": 20}],
        "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
        "annotations": [{"id": 7, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5]},
                        {"id": 8, "image_id": 1, "category_id": 2, "bbox": [2, 2, 5, 5],
                         "segmentation": [[2, 2, 7, 2, 7, 7], [10, 10, 15, 10, 15, 15]]}],
    }
    uuids = []
    for folder, name in (("v1", "instances_default.json"), ("v2-fixed", "instances_corrected.json")):
        src = tmp_path / folder / name
        src.parent.mkdir()
        src.write_text(json.dumps(doc), encoding="utf-8")
        out = tmp_path / f"{folder}.ndjson"
        assert main(["convert", str(src), "-o", str(out), "--quiet"]) == 0
        uuids.append([json.loads(line)["uuid"] for line in out.read_text().splitlines()])
    assert uuids[0] == uuids[1] and len(set(uuids[0])) == len(uuids[0]) == 3
    # the feature is part of the identity: the same annotation under another class is another row
    ref = DataRowRef(global_key="a.jpg")
    assert annotation_uuid("cat", ref, "id:7") != annotation_uuid("dog", ref, "id:7")
