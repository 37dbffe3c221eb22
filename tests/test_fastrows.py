"""Each fast-lane trick of converters/fastrows.py against the plain way it replaces."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from converters import fastrows, geometry
from converters.assembly import _vanishes
from converters.model import Box, Kind, Polygon
from converters.ndjson import points_payloads, shape_payload

GEO = geometry.GeometryOptions()


def plain_box(box: Box, width: int | None, height: int | None) -> dict | None:
    """The general path: fix_box, then the payload, then the output-precision check; None
    whenever that path would change, clip, skip or report anything."""
    outcome = geometry.fix_box(box, width=width, height=height)
    if outcome.fixes or outcome.skip or outcome.shapes != (box,):
        return None
    payload = shape_payload(box)
    return None if _vanishes(payload, Kind.BBOX) else payload


BOXES = [
    ("inside", Box(x_min=1.5, y_min=2.25, x_max=30.125, y_max=40.0), 640, 480),
    ("whole image", Box(x_min=0.0, y_min=0.0, x_max=640.0, y_max=480.0), 640, 480),
    ("minus zero", Box(x_min=-0.0, y_min=-0.0, x_max=10.0, y_max=10.0), 640, 480),
    ("past the right edge", Box(x_min=600.0, y_min=0.0, x_max=640.5, y_max=10.0), 640, 480),
    ("past the edge by noise", Box(x_min=600.0, y_min=0.0, x_max=640.0000000001, y_max=10.0), 640, 480),
    ("left of the image", Box(x_min=-3.0, y_min=0.0, x_max=10.0, y_max=10.0), 640, 480),
    ("inverted", Box(x_min=30.0, y_min=2.0, x_max=1.0, y_max=40.0), 640, 480),
    ("zero width", Box(x_min=3.0, y_min=2.0, x_max=3.0, y_max=40.0), 640, 480),
    ("thinner than EPS", Box(x_min=3.0, y_min=2.0, x_max=3.0000001, y_max=40.0), 640, 480),
    ("vanishes at 4 decimals", Box(x_min=3.0, y_min=2.0, x_max=3.00004, y_max=40.0), None, None),
    ("size unknown, far out", Box(x_min=-50.0, y_min=-5.0, x_max=1e6, y_max=7.0), None, None),
    ("outside entirely", Box(x_min=700.0, y_min=0.0, x_max=710.0, y_max=10.0), 640, 480),
]


@pytest.mark.parametrize(("box", "width", "height"), [b[1:] for b in BOXES], ids=[b[0] for b in BOXES])
def test_box_payload_table(box: Box, width: int | None, height: int | None) -> None:
    assert fastrows.box_payload(box, width, height) == plain_box(box, width, height)


coord = st.floats(min_value=-20, max_value=700, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(coord, coord, coord, coord, st.sampled_from([(640, 480), (500, 375), (None, None)]))
def test_box_payload_any(x0: float, y0: float, x1: float, y1: float, size: tuple) -> None:
    box = Box(x_min=x0, y_min=y0, x_max=x1, y_max=y1)
    fast = fastrows.box_payload(box, *size)
    assert fast == plain_box(box, *size)
    if fast is not None:  # the same float bits, not only equal values (-0.0 vs 0.0)
        assert all(math.copysign(1, v) == 1 for v in fast["bbox"].values() if v == 0)


def plain_polygons(items: list[tuple[Polygon, int | None, int | None]]) -> dict[int, list[dict]]:
    """The general path: valid_polygons, points_payloads, then _vanishes on the payload."""
    flags = geometry.valid_polygons(items)
    valid = [p for (p, _, _), ok in zip(items, flags) if ok]
    payloads = points_payloads([p.exterior for p in valid]) if valid else []
    return {id(p): pts for p, pts in zip(valid, payloads) if not _vanishes({"polygon": pts}, Kind.POLYGON)}


def _area(pts: list[dict]) -> float:
    n = len(pts)
    return sum(pts[i]["x"] * pts[(i + 1) % n]["y"] - pts[(i + 1) % n]["x"] * pts[i]["y"] for i in range(n))


def agrees(fast: dict[int, list[dict]], plain: dict[int, list[dict]]) -> None:
    """The lane vouches for a subset of what the general path writes unchanged, with the same
    points; it leaves out only rings whose rounded area is zero (the general path then
    decides on them, as it always did)."""
    assert fast.keys() <= plain.keys()
    for key, pts in fast.items():
        assert pts == plain[key]
    for key in plain.keys() - fast.keys():
        assert _area(plain[key]) == 0, plain[key]


def star(rng: random.Random, cx: float, cy: float, r: float, n: int) -> tuple[tuple[float, float], ...]:
    return tuple((cx + r * rng.uniform(0.5, 1) * math.cos(2 * math.pi * k / n),
                  cy + r * rng.uniform(0.5, 1) * math.sin(2 * math.pi * k / n)) for k in range(n))


POLYGONS = {
    "star": Polygon(exterior=star(random.Random(1), 100, 100, 40, 12)),
    "bow-tie": Polygon(exterior=((0.0, 0.0), (10.0, 10.0), (10.0, 0.0), (0.0, 10.0))),
    "closed ring": Polygon(exterior=((0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 0.0))),
    "repeated vertex": Polygon(exterior=((0.0, 0.0), (10.0, 0.0), (10.0, 0.0), (10.0, 10.0))),
    "two points": Polygon(exterior=((0.0, 0.0), (10.0, 0.0))),
    "outside": Polygon(exterior=((630.0, 0.0), (660.0, 0.0), (650.0, 20.0))),
    "hole": Polygon(exterior=((0.0, 0.0), (50.0, 0.0), (50.0, 50.0), (0.0, 50.0)),
                    holes=(((10.0, 10.0), (20.0, 10.0), (20.0, 20.0)),)),
    "tiny": Polygon(exterior=((5.0, 5.0), (5.00001, 5.0), (5.0, 5.00001))),
    "collinear once rounded": Polygon(exterior=((5.0, 5.0), (6.0, 5.00001), (7.0, 5.0))),
    "nan": Polygon(exterior=((0.0, 0.0), (math.nan, 0.0), (10.0, 10.0))),
    "huge": Polygon(exterior=((0.0, 0.0), (1e12, 0.0), (10.0, 10.0))),
    "negative zero": Polygon(exterior=((-0.0, 0.0), (10.0, -0.0), (10.0, 10.0))),
    "unrounded": Polygon(exterior=((1.123456, 2.654321), (30.99999, 2.00001), (15.55555, 40.44444))),
}


@pytest.mark.parametrize("sized", [True, False], ids=["sized", "size-unknown"])
def test_polygon_points_table(sized: bool) -> None:
    w, h = (640, 480) if sized else (None, None)
    items = [(p, w, h) for p in POLYGONS.values()]
    fast = fastrows.polygon_points(items)
    agrees(fast, plain_polygons(items))
    names = {id(p): n for n, p in POLYGONS.items()}
    kept = {names[i] for i in fast}
    assert {"star", "unrounded", "negative zero"} <= kept
    assert not kept & {"bow-tie", "closed ring", "repeated vertex", "two points", "hole", "tiny", "nan", "huge",
                       "collinear once rounded"}
    for pts in fast.values():
        assert all(math.copysign(1, v) == 1 for pt in pts for v in pt.values() if v == 0)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 40))
def test_polygon_points_random_batches(seed: int, n: int) -> None:
    """Random batches of stars, self-crossing rings and rings reaching past the image."""
    rng = random.Random(seed)
    items: list[tuple[Polygon, int | None, int | None]] = []
    for _ in range(n):
        cx, cy, r = rng.uniform(-10, 650), rng.uniform(-10, 490), rng.choice([0.00002, 0.5, 30, 400])
        ring = list(star(rng, cx, cy, r, rng.randint(3, 16)))
        if rng.random() < 0.2:
            rng.shuffle(ring)  # usually self-intersecting
        size = rng.choice([(640, 480), (None, None)])
        items.append((Polygon(exterior=tuple(ring)), *size))
    agrees(fastrows.polygon_points(items), plain_polygons(items))


def test_polygon_points_odd_values_fall_back() -> None:
    """A point that is not two numbers: nothing is vouched for (the general path reports it)."""
    bad = Polygon(exterior=((0.0, 0.0), (1.0, 0.0, 5.0), (1.0, 1.0)))  # type: ignore[arg-type]
    good = Polygon(exterior=((0.0, 0.0), (1.0, 0.0), (1.0, 1.0)))
    assert fastrows.polygon_points([(bad, 640, 480), (good, 640, 480)]) == {}


def test_switch(monkeypatch) -> None:
    monkeypatch.setenv("LBCONVERT_NO_FAST_PATH", "1")
    assert not fastrows.enabled()
    monkeypatch.setenv("LBCONVERT_NO_FAST_PATH", "0")
    assert fastrows.enabled()
    monkeypatch.delenv("LBCONVERT_NO_FAST_PATH")
    assert fastrows.enabled()
