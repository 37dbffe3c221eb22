"""The COCO reader's table lane (readers/coco/_table.py): tables are read() in columns.

A table must be exactly the assets ``read()`` gives for its images (``ShapeTable.assets``),
and the lane may only take an object that the plain-object lane takes too, with the same
numbers.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from converters.options import ConvertOptions
from converters.pipeline import build_reader
from converters.readers.coco._table import _numbers, _rings, classify, table_items
from converters.report import Report
from converters.table import ShapeTable, expand
from tests.conftest import PUBLIC
from tests.readers.test_coco_plain import CASES, FILE, CAT
from converters.readers.coco._plain import plain_annotation
from tests.test_fast_differential import _harness, _mangle


def _file(tmp_path: Path, anns: list[dict], *, images: int = 3, name: str = "instances_val.json") -> Path:
    data = {
        "images": [{"id": 7 + i, "file_name": f"img{i}.jpg", "width": 640, "height": 480} for i in range(images)],
        "categories": [{"id": 3, "name": "traffic light"}, {"id": 4, "name": "car"}],
        "annotations": anns,
    }
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def _reader(path: Path, **options: object):
    return build_reader([path], ConvertOptions(fmt="coco", reader_options=dict(options)), Report())


def _both(path: Path, **options: object) -> tuple[list, list, Report, Report, list]:
    """(read(), the expanded read_tables(), both reports, read_tables()'s items)."""
    plain = _reader(path, **options)
    tabled = _reader(path, **options)
    plain.label_kinds()
    tabled.label_kinds()
    assets = list(plain.read())
    items = list(tabled.read_tables())
    return assets, list(expand(iter(items))), plain.context.report, tabled.context.report, items


@pytest.mark.parametrize(("ann", "taken"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_the_lane_is_never_looser_than_the_plain_lane(ann: dict, taken: bool) -> None:
    kind = int(classify([ann])[0])
    if kind == 1:
        boxes, ok = _numbers([ann["bbox"]], 4)
        kind *= bool(ok[0])
    elif kind == 2:
        coords, counts, ok = _rings([ann["segmentation"][0]])
        kind *= bool(ok[0])
    if kind:
        assert taken, "the table lane took an object the plain lane refuses"
        assert plain_annotation(FILE, ann, CAT) is not None


@pytest.mark.parametrize(("ann", "taken"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_case_reads_the_same_with_tables(tmp_path: Path, ann: dict, taken: bool) -> None:
    neighbour = {"id": 99, "image_id": 7, "category_id": 4, "bbox": [1, 1, 5, 5], "iscrowd": 0, "area": 25}
    other = {"id": 100, "image_id": 8, "category_id": 4, "segmentation": [[1, 1, 9, 1, 9, 9]], "area": 30}
    path = _file(tmp_path, [{**ann, "image_id": 7, "category_id": 3}, neighbour, other])
    try:
        list(_reader(path).read())
    except Exception as exc:  # noqa: BLE001 - what the general reader refuses, the lane refuses alike
        with pytest.raises(type(exc)) as caught:
            list(expand(_reader(path).read_tables()))
        assert str(caught.value) == str(exc)
        return
    assets, expanded, r1, r2, items = _both(path)
    assert expanded == assets
    assert r1.entries == r2.entries and r1.tallies == r2.tallies
    tabled = {name for t in items if isinstance(t, ShapeTable) for name in t.names}
    if "keypoints" not in ann:  # (a keypoints object makes it a keypoints file: no table lane)
        assert "img1.jpg" in tabled and "img2.jpg" in tabled  # the plain neighbours are in tables
    if "img0.jpg" in tabled:  # only if its object is one the plain lane takes with the same numbers
        assert taken


def test_table_columns_hold_the_plain_lanes_numbers(tmp_path: Path) -> None:
    anns = [
        {"id": 1, "image_id": 7, "category_id": 3, "bbox": [1, 2.5, 10, 5], "segmentation": []},
        {"id": "b", "image_id": 7, "category_id": 4, "segmentation": [[10, 10, 20.5, 10, 20.5, 20]]},
        {"id": 3, "image_id": 8, "category_id": 3, "bbox": [0.1, 0.2, 0.3, 0.4]},
        {"id": 4, "image_id": 7, "category_id": 4, "segmentation": [[1, 1, 5, 1, 5, 5, 1, 5]]},
    ]
    items = list(_reader(_file(tmp_path, anns)).read_tables())
    (table,) = items
    assert isinstance(table, ShapeTable)
    assert list(table.names) == ["img0.jpg", "img1.jpg", "img2.jpg"]
    assert table.sizes.tolist() == [[640, 480]] * 3
    assert table.bounds.tolist() == [0, 3, 4, 4]  # objects grouped by image, file order within
    assert list(table.keys) == ["instances:1", "instances:b", "instances:4", "instances:3"]
    assert [table.labels[k] for k in table.label] == ["traffic light", "car", "car", "traffic light"]
    assert table.polygon.tolist() == [False, True, True, False]
    assert table.boxes[0].tolist() == [1.0, 2.5, 11.0, 7.5]
    assert table.boxes[3].tolist() == [0.1, 0.2, 0.1 + 0.3, 0.2 + 0.4]  # x + w, as Box.from_xywh adds
    assert table.rings.tolist() == [0, 3, 7]
    assert table.coords.tolist() == [[10, 10], [20.5, 10], [20.5, 20], [1, 1], [5, 1], [5, 5], [1, 5]]
    for i, name in enumerate(table.names):
        built, head = table.build(i), table.head(i)
        assert built.name == head.name == name and head.annotations == ()
        assert dataclasses.replace(built, annotations=()) == head
        assert len(built.annotations) == int(table.bounds[i + 1] - table.bounds[i])


@pytest.mark.parametrize("mangled", [False, True], ids=["bench", "bench-mangled"])
def test_bench_data_reads_the_same_with_tables(tmp_path: Path, mangled: bool) -> None:
    src = tmp_path / "instances_val.json"
    _harness().synthetic_coco(src, images=300, polygon_share=0.6, seed=11)
    if mangled:
        _mangle(src, seed=2)
    assets, expanded, r1, r2, items = _both(src)
    assert expanded == assets
    assert r1.entries == r2.entries and r1.notes == r2.notes and r1.tallies == r2.tallies
    in_tables = sum(len(t) for t in items if isinstance(t, ShapeTable))
    if mangled:
        assert 0 < in_tables < len(assets)  # some images left the lane, the rest stayed
    else:
        assert in_tables == len(assets)


def _public_coco() -> list[Path]:
    root = PUBLIC / "coco"
    return sorted(p for p in root.rglob("*.json")) if root.is_dir() else []


@pytest.mark.shared
@pytest.mark.parametrize("src", _public_coco(), ids=lambda p: str(p.relative_to(PUBLIC / "coco")))
def test_public_files_read_the_same_with_tables(src: Path) -> None:
    try:
        plain = list(_reader(src).read())
    except Exception as exc:  # noqa: BLE001 - a file the reader refuses must be refused alike
        with pytest.raises(type(exc)) as caught:
            list(_reader(src).read_tables())
        assert str(caught.value) == str(exc)
        return
    assert list(expand(_reader(src).read_tables())) == plain


def test_bad_ids_leave_the_lane_for_the_general_errors(tmp_path: Path) -> None:
    """An annotation naming an unknown image, or with a float id, is the general path's to
    refuse (or to match by its text, as ``str(id)`` does)."""
    unknown = _file(tmp_path, [{"id": 1, "image_id": 70, "category_id": 3, "bbox": [1, 2, 3, 4]}], name="a.json")
    with pytest.raises(Exception) as general:
        list(_reader(unknown).read())
    with pytest.raises(type(general.value)) as tabled:
        list(_reader(unknown).read_tables())
    assert str(tabled.value) == str(general.value)
    text_id = _file(tmp_path, [{"id": 1, "image_id": "7", "category_id": "3", "bbox": [1, 2, 3, 4]}], name="b.json")
    assets, expanded, *_ = _both(text_id)
    assert expanded == assets and len(assets[0].annotations) == 1


def test_table_items_cuts_long_runs(tmp_path: Path, monkeypatch) -> None:
    import converters.readers.coco._table as lane

    monkeypatch.setattr(lane, "TABLE_IMAGES", 2)
    anns = [{"id": i, "image_id": 7 + i % 5, "category_id": 3, "bbox": [1, 2, 3, 4]} for i in range(20)]
    path = _file(tmp_path, anns, images=5)
    items = list(_reader(path).read_tables())
    assert [len(t) for t in items] == [2, 2, 1]
    assert list(expand(iter(items))) == list(_reader(path).read())
    assert table_items is lane.table_items and np.array_equal(items[0].bounds, [0, 4, 8])
