"""The writer's table lane (converters/tablerows.py) against the general row builder.

Each trick of the lane (Python's rounding in numpy, uuids formatted in one array, payloads
formatted by one orjson call) is compared with the plain way it replaces; then whole
tables are written both ways (``TableRows`` vs ``AssetConverter.rows_for`` on the assets
the table stands for) and must give the same bytes and the same report.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from converters import fastrows
from converters._json import dumps_line
from converters.assembly import AssetConverter, RowOptions
from converters.datarows import DataRowRef
from converters.matrix import Mode
from converters.model import Annotation, Asset, Box, Media, Polygon, SourceRef
from converters.ndjson import annotation_uuid
from converters.ontology import Ontology
from converters.report import Report
from converters.table import ShapeTable
from converters.tablerows import TableRows, _box_bodies, _ring_bodies, _uuid_prefixes

TRICKY = [0.0, -0.0, 1.0, 0.5, 2.675, 1.00005, 0.00015, 123.45675, -7.77775, 1e-5, 5e-5, 9.99995,
          4096.00005, 1e11 + 0.00005, 2.0**52 / 1e4, 1e15, -1e15, 1e299, 391.71, 24.29 + 85.42]


def test_round4_is_pythons_round_on_tricky_values() -> None:
    values = np.array(TRICKY + [v + d for v in TRICKY for d in (1e-12, -1e-12)])
    assert fastrows.round4(values).tolist() == [round(v, 4) + 0.0 for v in values.tolist()]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12), min_size=1))
def test_round4_is_pythons_round(values: list[float]) -> None:
    assert fastrows.round4(np.array(values)).tolist() == [round(v, 4) + 0.0 for v in values]


def test_round4_on_five_decimal_ties() -> None:
    values = (np.arange(0, 200_000) + 0.5) / 10_000.0  # x.xxxx5: every one near a half
    assert fastrows.round4(values).tolist() == [round(v, 4) + 0.0 for v in values.tolist()]


def test_uuid_prefixes_are_annotation_uuids() -> None:
    import hashlib

    from converters.ndjson import NAMESPACE

    rng = random.Random(4)
    names = [(f"class {rng.randint(0, 80)}", f"{rng.randint(0, 10**6):012d}.jpg", f"instances:{i}") for i in range(500)]
    refs = [DataRowRef(global_key=gk) for _, gk, _ in names]
    digests = [hashlib.sha1(NAMESPACE.bytes + f"{f}\x1f{r.identity}\x1f{k}".encode()).digest()
               for (f, _, k), r in zip(names, refs)]
    blob = _uuid_prefixes(digests)
    want = b"".join(b'{"uuid":"' + annotation_uuid(f, r, k).encode() + b'"' for (f, _, k), r in zip(names, refs))
    assert blob == want


def _numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    out = np.array([round(v, d) + 0.0 for v, d in zip(rng.uniform(-1e4, 1e5, n).tolist(), rng.integers(0, 5, n).tolist())])
    out[: len(TRICKY)] = np.array(TRICKY)[: min(n, len(TRICKY))]
    return out


@pytest.mark.parametrize("signs", ["any", "non-negative"])  # the two sets of stand-ins
def test_box_bodies_are_orjson_dicts(signs: str) -> None:
    rng = np.random.default_rng(1)
    numbers = _numbers(rng, 4000).reshape(-1, 4)
    if signs == "non-negative":
        numbers = np.abs(numbers)
    bodies = _box_bodies(numbers)
    for body, (t, l, h, w) in zip(bodies, numbers.tolist(), strict=True):
        assert b'{"top":' + body + b"}" == orjson.dumps({"top": t, "left": l, "height": h, "width": w})


@pytest.mark.parametrize("signs", ["any", "non-negative"])
def test_ring_bodies_are_orjson_points(signs: str) -> None:
    rng = np.random.default_rng(2)
    counts = rng.integers(3, 30, 300)
    rounded = _numbers(rng, 2 * int(counts.sum())).reshape(-1, 2)
    if signs == "non-negative":
        rounded = np.abs(rounded)
    bodies = _ring_bodies(rounded, counts)
    at = 0
    for body, n in zip(bodies, counts.tolist(), strict=True):
        points = [{"x": x, "y": y} for x, y in rounded[at : at + n].tolist()]
        assert b'[{"x":' + body + b"}]" == orjson.dumps(points)
        at += n
    assert _ring_bodies(rounded[:0], counts[:0]) == [] and _box_bodies(np.zeros((0, 4))) == []


# -- whole tables, both ways ---------------------------------------------------------------


def _table(rng: random.Random, images: int, *, sizes: bool = True, tricky: bool = True) -> ShapeTable:
    """A table of random boxes and polygons; with ``tricky``, some that the lane declines
    (boxes out of the image, bow-ties, repeated keys, shapes that vanish at 4 decimals)."""
    heads, bounds, label, keys, polygon, boxes, rings, coords = [], [0], [], [], [], [], [0], []
    sizes: list[tuple[float, float]] = []
    built: list[Asset] = []
    labels = ["cat", "dog", "car"]
    for i in range(images):
        w, h = rng.choice([(640, 480), (500, 375)]) if sizes else (None, None)
        anns = []
        for j in range(rng.randint(0, 9)):
            key = f"instances:{i}-{j}" if not (tricky and rng.random() < 0.03) else f"instances:{i}-0"
            lab = rng.randrange(3)
            x, y = rng.uniform(0, (w or 640) - 81), rng.uniform(0, (h or 480) - 81)
            bw, bh = rng.uniform(0.5, 80), rng.uniform(0.5, 80)
            if tricky and rng.random() < 0.05:
                bw += 700  # out of the image: clipped by the general path
            if rng.random() < 0.5:
                shape: Box | Polygon = Box.from_xywh(x, y, bw, bh)
                boxes.append([x, y, x + bw, y + bh])
                polygon.append(False)
            else:
                pts = [(x, y), (x + bw, y), (x + bw, y + bh), (x, y + bh)]
                if tricky and rng.random() < 0.05:
                    pts = [(x, y), (x + bw, y + bh), (x + bw, y), (x, y + bh)]  # bow-tie
                if tricky and rng.random() < 0.03:
                    pts = [(x, y), (x + 1e-5, y), (x, y + 1e-5)]  # vanishes at 4 decimals
                shape = Polygon(exterior=tuple(pts))
                coords += pts
                rings.append(len(coords))
                boxes.append([np.nan] * 4)
                polygon.append(True)
            keys.append(key)
            label.append(lab)
            anns.append(Annotation(key=key, source=SourceRef(file="f.json", annotation_id=key), label=labels[lab], shape=shape))
        head = Asset(name=f"{i:06d}.jpg", media=Media.IMAGE, source=SourceRef(file="f.json"), width=w, height=h)
        heads.append(head)
        sizes.append((w, h) if w is not None else (np.nan, np.nan))
        built.append(Asset(name=head.name, media=Media.IMAGE, source=head.source, width=w, height=h,
                           annotations=tuple(anns)))
        bounds.append(len(keys))
    return ShapeTable(
        names=[h.name for h in heads], sizes=np.array(sizes, dtype=np.float64).reshape(-1, 2), bounds=np.array(bounds), labels=labels, label=np.array(label, dtype=np.intp),
        keys=keys, polygon=np.array(polygon, dtype=bool), boxes=np.array(boxes, dtype=np.float64).reshape(-1, 4),
        rings=np.array(rings), coords=np.array(coords, dtype=np.float64).reshape(-1, 2), head=heads.__getitem__,
        build=built.__getitem__,
    )


def _lines(flushed: tuple[memoryview, list[tuple[memoryview, int]]]) -> list[bytes]:
    """The lines of one flushed asset (checking the row count it came with)."""
    blob, ((data, rows),) = flushed
    assert bytes(blob) == bytes(data)
    lines = bytes(data).splitlines(keepends=True)
    assert len(lines) == rows
    return lines


def _general(table: ShapeTable, mode: Mode) -> tuple[list[bytes], Report, Ontology]:
    report, ontology = Report(), Ontology.derived()
    job = AssetConverter("coco", RowOptions(mode=mode), report, ontology)
    out: list[bytes] = []
    for i in range(len(table)):
        asset = table.build(i)
        job.prevalidate([asset])
        out += [dumps_line(row) for _, row in job.rows_for(asset, DataRowRef(global_key=asset.name))]
    return out, report, ontology


def _lane(table: ShapeTable, mode: Mode, limit: int = 5000) -> tuple[list[bytes], Report, Ontology, int]:
    report, ontology = Report(), Ontology.derived()
    job = AssetConverter("coco", RowOptions(mode=mode), report, ontology)
    lane = TableRows(job, limit)
    assert lane.active
    prepared = lane.start(table)
    out: list[bytes] = []
    declined = 0
    for i, name in enumerate(table.names):
        ref = DataRowRef(global_key=name)
        if lane.add(prepared, i, ref):
            out += _lines(lane.flush())
            continue
        declined += 1
        asset = table.build(i)
        job.prevalidate([asset])
        out += [dumps_line(row) for _, row in job.rows_for(asset, ref)]
    return out, report, ontology, declined


@pytest.mark.parametrize("mode", [Mode.PRELABEL, Mode.GROUND_TRUTH])
@pytest.mark.parametrize(("seed", "sizes", "tricky"), [(1, True, False), (2, True, True), (3, False, True), (4, True, True)])
def test_lane_rows_are_the_general_rows(seed: int, sizes: bool, tricky: bool, mode: Mode) -> None:
    table = _table(random.Random(seed), 150, sizes=sizes, tricky=tricky)
    want, report_g, ont_g = _general(table, mode)
    got, report_l, ont_l, declined = _lane(table, mode)
    assert got == want
    assert report_l.to_json() == report_g.to_json()
    assert ont_l.to_json() == ont_g.to_json()
    if tricky:
        assert 0 < declined < len(table)  # the odd ones went the general way, the rest did not
    else:
        assert declined == 0


def test_lane_declines_past_the_per_row_limit() -> None:
    table = _table(random.Random(5), 40, tricky=False)
    got, _, _, declined = _lane(table, Mode.PRELABEL, limit=3)
    assert got == _general(table, Mode.PRELABEL)[0]
    assert declined == sum(1 for i in range(len(table)) if table.bounds[i + 1] - table.bounds[i] > 3)


def test_lane_declines_unmapped_classes(tmp_path: Path) -> None:
    """With a given ontology lacking a class, the general path says what happens (here:
    --on-unmapped skip); the lane never guesses."""
    ontology = tmp_path / "ont.json"
    ontology.write_bytes(orjson.dumps({"tools": [{"name": "cat", "tool": "rectangle"}, {"name": "cat", "tool": "polygon"},
                                                 {"name": "car", "tool": "rectangle"}, {"name": "car", "tool": "polygon"}]}))
    table = _table(random.Random(6), 60, tricky=False)
    outs = []
    for lane_on in (True, False):
        report, ont = Report(), Ontology.load(ontology)
        job = AssetConverter("coco", RowOptions(on_unmapped="skip"), report, ont)
        lane = TableRows(job, 5000)
        prepared = lane.start(table)
        rows: list[bytes] = []
        for i, name in enumerate(table.names):
            ref = DataRowRef(global_key=name)
            if lane_on and lane.add(prepared, i, ref):
                rows += _lines(lane.flush())
                continue
            asset = table.build(i)
            job.prevalidate([asset])
            rows += [dumps_line(row) for _, row in job.rows_for(asset, ref)]
        outs.append((rows, report.to_json()))
    assert outs[0] == outs[1]
    assert '"unmapped"' in outs[0][1]


def test_named_rows_split_one_dump_exactly() -> None:
    from converters.tablerows import _named_rows

    names = ["a.jpg", 'we","ird.jpg', 'q"uote.png', "back\\slash", "ünï cødé/ß.jpg", "tab\tnew\nline", '","', ""]
    heads, identities = _named_rows(names)
    assert heads == [b',"dataRow":{"globalKey":' + orjson.dumps(n) + b"}," for n in names]
    assert identities == [f"\x1f{DataRowRef(global_key=n).identity}\x1f".encode() for n in names]


def _lane_bulk(table: ShapeTable, mode: Mode, ontology: Ontology | None = None,
               on_unmapped: str = "error") -> tuple[list[bytes], Report, Ontology]:
    """The writer's way: runs taken at once (bulk_end / add_bulk), the rest one by one."""
    report, ontology = Report(), ontology or Ontology.derived()
    job = AssetConverter("coco", RowOptions(mode=mode, on_unmapped=on_unmapped), report, ontology)  # type: ignore[arg-type]
    lane = TableRows(job, 5000)
    prepared = lane.start(table)
    out: list[bytes] = []
    i = 0
    while i < len(table):
        stop = lane.bulk_end(prepared, i, len(table))
        if stop > i and lane.add_bulk(prepared, i, stop):
            blob, parts = lane.flush()
            assert bytes(blob) == b"".join(bytes(d) for d, _ in parts)
            out += bytes(blob).splitlines(keepends=True)
            i = stop
            continue
        end = stop if stop > i else i + 1
        for k in range(i, end):
            ref = DataRowRef(global_key=table.names[k])
            if lane.add(prepared, k, ref):
                out += _lines(lane.flush())
                continue
            asset = table.build(k)
            job.prevalidate([asset])
            out += [dumps_line(row) for _, row in job.rows_for(asset, ref)]
        i = end
    return out, report, ontology


@pytest.mark.parametrize("mode", [Mode.PRELABEL, Mode.GROUND_TRUTH])
@pytest.mark.parametrize(("seed", "tricky"), [(11, False), (12, True), (13, True)])
def test_bulk_rows_are_the_general_rows(seed: int, tricky: bool, mode: Mode) -> None:
    table = _table(random.Random(seed), 200, tricky=tricky)
    want, report_g, ont_g = _general(table, mode)
    got, report_b, ont_b = _lane_bulk(table, mode)
    assert got == want
    assert report_b.to_json() == report_g.to_json()
    assert ont_b.to_json() == ont_g.to_json()


def test_bulk_end_stops_before_an_unmapped_class(tmp_path: Path) -> None:
    ontology = tmp_path / "ont.json"
    ontology.write_bytes(orjson.dumps({"tools": [{"name": "cat", "tool": "rectangle"}, {"name": "cat", "tool": "polygon"},
                                                 {"name": "car", "tool": "rectangle"}, {"name": "car", "tool": "polygon"}]}))
    table = _table(random.Random(14), 80, tricky=False)
    job = AssetConverter("coco", RowOptions(on_unmapped="skip"), Report(), Ontology.load(ontology))
    lane = TableRows(job, 5000)
    prepared = lane.start(table)
    stop = lane.bulk_end(prepared, 0, len(table))
    first_dog = next(i for i in range(len(table)) if "dog" in
                     {table.labels[table.label[k]] for k in range(table.bounds[i], table.bounds[i + 1])})
    assert stop == first_dog
    want = _general_with(table, ontology)
    got, _, _ = _lane_bulk(table, Mode.PRELABEL, Ontology.load(ontology), on_unmapped="skip")
    assert got == want


def _general_with(table: ShapeTable, ontology: Path) -> list[bytes]:
    job = AssetConverter("coco", RowOptions(on_unmapped="skip"), Report(), Ontology.load(ontology))
    out: list[bytes] = []
    for i in range(len(table)):
        asset = table.build(i)
        job.prevalidate([asset])
        out += [dumps_line(row) for _, row in job.rows_for(asset, DataRowRef(global_key=asset.name))]
    return out
