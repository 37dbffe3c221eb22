"""Mask decoding and encoding: pixel-exact against pycocotools, in every output form."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as cocomask

from converters import masks
from converters.masks import MaskDecodeError
from converters.model import Mask
from converters.pipeline import convert
from tests.conftest import read_ndjson


def asymmetric(h: int = 7, w: int = 11, seed: int = 0) -> np.ndarray:
    """A non-square, asymmetric mask: a transposed or flipped decode cannot pass for it."""
    rng = np.random.default_rng(seed)
    arr = (rng.random((h, w)) < 0.4).astype(np.uint8)
    arr[0, :3] = 1  # an L in the top-left corner
    arr[:4, 0] = 1
    arr[-1, -1] = 0
    return arr


def py_compressed(arr: np.ndarray) -> dict:
    rle = cocomask.encode(np.asfortranarray(arr))
    return {"size": list(rle["size"]), "counts": rle["counts"].decode("ascii")}


def uncompressed(arr: np.ndarray) -> dict:
    """COCO uncompressed RLE written by hand: column-major runs, zeros first."""
    flat = arr.flatten(order="F")
    counts, cur, run = [], 0, 0
    for v in flat:
        if v == cur:
            run += 1
        else:
            counts.append(run)
            cur, run = v, 1
    counts.append(run)
    return {"size": list(arr.shape), "counts": [int(c) for c in counts]}


def png_pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


# --------------------------------------------------------------------------- decoding


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("form", ["compressed", "uncompressed"])
def test_decode_equals_pycocotools(form, seed):
    arr = asymmetric(seed=seed)
    rle = py_compressed(arr) if form == "compressed" else uncompressed(arr)
    ours = masks.decode(Mask(width=11, height=7, rle=rle))
    theirs = cocomask.decode({"size": [7, 11], "counts": py_compressed(arr)["counts"].encode()})
    assert ours.shape == (7, 11) and ours.flags.c_contiguous and ours.dtype == np.uint8
    assert np.array_equal(ours, theirs) and np.array_equal(ours, arr)


def test_uncompressed_is_column_major():
    # the datumaro fixture's RLE: 20 ones in a 10x5 (h x w) image = the two left columns
    arr = masks.decode(Mask(width=5, height=10, rle={"size": [10, 5], "counts": [0, 20, 30]}))
    assert arr[:, :2].all() and not arr[:, 2:].any()


def test_first_run_counts_zeros():
    arr = masks.decode(Mask(width=2, height=2, rle={"size": [2, 2], "counts": [1, 2, 1]}))
    assert arr.tolist() == [[0, 1], [1, 0]]


def test_encode_rle_round_trip():
    arr = asymmetric(13, 4)
    rle = masks.encode_rle(arr)
    assert isinstance(rle["counts"], str) and rle["size"] == [13, 4]
    assert np.array_equal(masks.decode_rle(rle), arr)
    json.dumps(rle)  # JSON-ready


@pytest.mark.parametrize(
    ("rle", "size", "message"),
    [
        ({"size": [10, 5], "counts": [0, 20, 30]}, (10, 5), "differs from the image"),
        ({"size": [10, 5], "counts": [0, 20, 29]}, None, "sum to 49"),
        ({"size": [10, 5], "counts": [0, -20, 70]}, None, "non-negative"),
        ({"size": [10, 5], "counts": [0, 2.5, 47.5]}, None, "non-negative integers"),
        ({"size": [10], "counts": [50]}, None, "[height, width]"),
        ({"size": [0, 5], "counts": []}, None, "[height, width]"),
        ({"size": [2, 2], "counts": "0oo0"}, None, "do not sum"),  # huge run
        ({"size": [2, 2], "counts": "5"}, None, "do not sum"),  # short
        ({"size": [2, 2], "counts": "1P"}, None, "truncated"),  # continuation bit on the last char
        ({"size": [2, 2], "counts": "1 2"}, None, "alphabet"),
        ({"size": [2, 2], "counts": ""}, None, "empty"),
        ({"size": [2, 2], "counts": {"a": 1}}, None, "string or a list"),
    ],
)
def test_bad_rle_is_a_clear_error(rle, size, message):
    with pytest.raises(MaskDecodeError, match=re.escape(message)):
        masks.decode_rle(rle, width=size[0] if size else None, height=size[1] if size else None)


def test_load_mask_of_the_wrong_size_is_an_error():
    m = Mask(width=4, height=3, load=lambda: np.zeros((4, 3), np.uint8))
    with pytest.raises(MaskDecodeError, match="expected 4x3"):
        masks.decode(m)


def test_load_mask_values_become_0_1():
    m = Mask(width=3, height=2, load=lambda: np.array([[0, 255, 7], [True, 0, 0]]))
    assert masks.decode(m).tolist() == [[0, 1, 1], [1, 0, 0]]


def test_rasterize_follows_the_continuous_convention():
    # the rectangle (0,0)-(1,2) fills exactly pixels (0,0) and (0,1)
    arr = masks.rasterize([(((0, 0), (1, 0), (1, 2), (0, 2)), ())], width=3, height=3)
    assert arr.tolist() == [[1, 0, 0], [1, 0, 0], [0, 0, 0]]


# --------------------------------------------------------------------------- encoding


def test_png_round_trip_is_pixel_exact():
    arr = asymmetric(37, 53, seed=3)
    data = masks.encode_png(arr)
    img = Image.open(io.BytesIO(data))
    assert img.mode == "L" and img.size == (53, 37)
    px = png_pixels(data)
    assert set(np.unique(px).tolist()) <= {0, 1} and np.array_equal(px, arr)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [((), slice(0, 0)), ((0,), slice(0, 1)), ((6,), slice(6, 7)), ((2, 4), slice(2, 5)), ((0, 6), slice(0, 7))],
)
def test_pixel_rows_span_first_to_last_row_with_pixels(rows, expected):
    arr = np.zeros((7, 5), np.uint8)
    for r in rows:
        arr[r, r % 5] = 1
    assert masks.pixel_rows(arr) == expected


def test_rgb_png_round_trip():
    rgb = np.zeros((5, 9, 3), np.uint8)
    rgb[1:3, 2:7] = (10, 200, 30)
    assert np.array_equal(png_pixels(masks.encode_rgb_png(rgb)), rgb)
    with pytest.raises(ValueError):
        masks.encode_rgb_png(np.zeros((5, 9), np.uint8))


# --------------------------------------------------------------------------- end to end


def _coco_with_masks(tmp_path: Path) -> tuple[Path, dict[int, np.ndarray]]:
    """A COCO file of one 23x17 (w x h) image with compressed, uncompressed and crowd RLEs."""
    h, w = 17, 23
    a = np.zeros((h, w), np.uint8)
    a[2:9, 3:7] = 1
    a[2, 7:12] = 1  # asymmetric arm
    b = asymmetric(h, w, seed=9) * (1 - a)  # disjoint from a
    c = np.zeros((h, w), np.uint8)
    c[12:16, 15:22] = 1
    b[12:16, 15:22] = 0
    anns = [
        {"id": 1, "image_id": 5, "category_id": 1, "iscrowd": 0, "bbox": [3, 2, 9, 7], "segmentation": py_compressed(a)},
        {"id": 2, "image_id": 5, "category_id": 2, "iscrowd": 0, "bbox": [0, 0, w, h], "segmentation": uncompressed(b)},
        {"id": 3, "image_id": 5, "category_id": 1, "iscrowd": 1, "bbox": [15, 12, 7, 4], "segmentation": uncompressed(c)},
    ]
    data = {
        "images": [{"id": 5, "file_name": "img.jpg", "width": w, "height": h}],
        "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
        "annotations": anns,
    }
    path = tmp_path / "instances_val.json"
    path.write_text(json.dumps(data))
    return path, {1: a, 2: b, 3: c}


def _decode_by_row(rows, src):
    """Every mask row next to pycocotools' decode of its source annotation, in order."""
    data = json.loads(src.read_text())
    expected = []
    for ann in data["annotations"]:
        seg = dict(ann["segmentation"])
        rle = cocomask.frPyObjects(seg, *seg["size"]) if isinstance(seg["counts"], list) else {
            "size": seg["size"], "counts": seg["counts"].encode()}
        expected.append(cocomask.decode(rle))
    mask_rows = [r for r in rows if "mask" in r]
    assert len(mask_rows) == len(expected)
    return zip(mask_rows, expected)


def test_png_form_round_trip(tmp_path):
    src, _ = _coco_with_masks(tmp_path)
    out = tmp_path / "out.ndjson"
    report = convert([src], out, fmt="coco", mode="ground-truth")
    report.check()
    for row, expected in _decode_by_row(read_ndjson(out), src):
        px = png_pixels(base64.b64decode(row["mask"]["png"]))
        assert px.shape == (17, 23) and np.array_equal(px, expected)


def test_composite_colours_map_back_to_instances(tmp_path):
    src, _ = _coco_with_masks(tmp_path)
    out = tmp_path / "out.ndjson"
    convert([src], out, fmt="coco", mode="ground-truth", mask_format="composite")
    rows = read_ndjson(out)
    pngs = {r["mask"]["imBytes"] for r in rows if "mask" in r}
    assert len(pngs) == 1  # one composite per image
    rgb = png_pixels(base64.b64decode(pngs.pop()))
    assert rgb.shape == (17, 23, 3)
    colours = set()
    for row, expected in _decode_by_row(rows, src):
        colour = tuple(row["mask"]["colorRGB"])
        colours.add(colour)
        assert np.array_equal(np.all(rgb == colour, axis=2), expected.astype(bool))
    assert len(colours) == 3 and (0, 0, 0) not in colours


def test_uri_form_writes_one_png_per_instance(tmp_path):
    src, _ = _coco_with_masks(tmp_path)
    out = tmp_path / "out.ndjson"
    convert([src], out, fmt="coco", mode="ground-truth", mask_format="uri", mask_dir=tmp_path / "m",
            mask_url_prefix="https://example.com/m")
    rows = read_ndjson(out)
    for row, expected in _decode_by_row(rows, src):
        uri = row["mask"]["instanceURI"]
        assert uri.startswith("https://example.com/m/") and row["mask"]["colorRGB"] == [255, 255, 255]
        rgb = png_pixels((tmp_path / "m" / uri.removeprefix("https://example.com/m/")).read_bytes())
        assert np.array_equal(np.all(rgb == 255, axis=2), expected.astype(bool))


def test_oracle_accepts_mask_rows(tmp_path, oracle):
    src, _ = _coco_with_masks(tmp_path)
    for fmt in ("png", "composite"):
        out = tmp_path / f"{fmt}.ndjson"
        convert([src], out, fmt="coco", mode="ground-truth", mask_format=fmt)
        result = oracle(out, mode="gt", media="image")
        assert result.failed == 0 and result.ok == 3, result.output


def _runs(arr: np.ndarray) -> list[int]:
    return uncompressed(arr)["counts"]


@pytest.mark.parametrize("seed", range(40))
def test_string_counts_match_the_runs(seed):
    rng = np.random.default_rng(seed)
    h, w = (int(v) for v in rng.integers(1, 70, 2))
    arr = (rng.random((h, w)) < rng.random()).astype(np.uint8)
    if seed == 0:
        arr[:] = 1  # first run of zeros is 0
    assert masks.string_counts(py_compressed(arr)["counts"]).tolist() == _runs(arr)


def test_string_counts_of_real_results(fixtures):
    rows = json.loads((fixtures / "coco/cocoapi/results/instances_val2014_fakesegm100_results.json").read_text())
    for row in rows[:60]:
        seg = row["segmentation"]
        arr = cocomask.decode({"size": seg["size"], "counts": seg["counts"].encode()})
        assert masks.string_counts(seg["counts"]).tolist() == _runs(arr)


@pytest.mark.parametrize(("counts", "text"), [("0oo0", "sum to"), ("5", "sum to 5"), ("6@", "negative")])
def test_deep_check_catches_corrupt_strings(counts, text):
    assert masks.check_rle({"size": [2, 2], "counts": counts}) is None  # the cheap check cannot tell
    assert text in masks.check_rle({"size": [2, 2], "counts": counts}, deep=True)


@pytest.mark.parametrize(
    "ring",
    [((0, 0), (4, 4)), ((1, 1),), ()],  # 4 numbers: pycocotools would read a box [x, y, w, h]
)
def test_rasterize_never_falls_into_the_four_number_trap(ring):
    arr = masks.rasterize([(ring, ())], width=6, height=6)
    assert arr.shape == (6, 6) and arr.sum() == 0


def test_decode__refuses_absurd_sizes_before_allocating() -> None:
    """An annotation file can claim a 100,000 x 100,000 image; nothing is allocated for it."""
    from converters.masks import MaskDecodeError, decode
    from converters.model import Mask

    called = []
    huge = Mask(width=100_000, height=100_000, load=lambda: called.append(1))
    with pytest.raises(MaskDecodeError, match="100000x100000 pixels refused"):
        decode(huge)
    assert called == []
    rle = Mask(width=100_000, height=100_000, rle={"size": [100_000, 100_000], "counts": [10_000_000_000]})
    with pytest.raises(MaskDecodeError, match="decompression bomb guard"):
        decode(rle)
