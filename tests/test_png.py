"""converters._png against Pillow: the same decoded pixels on many masks, valid PNG structure.

The encoder writes its own zlib stream (cached pieces for empty rows, Adler-32 chained by
hand), so every case is decoded twice: by Pillow (what Labelbox's SDK parser uses) and by
``zlib.decompress`` of the IDAT data, which also checks the Adler-32 that Pillow ignores
once it has read all rows. The oracle test at the end is the evidence for the PNG form
(8-bit greyscale 0/1, not 1-bit): the SDK's parser refuses the others.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from converters import masks
from converters._png import ZERO_PIECE_ROWS, encode_rows_png


def chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    """(tag, data) of every chunk; each CRC checked."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    out, pos = [], 8
    while pos < len(png):
        (n,) = struct.unpack(">I", png[pos : pos + 4])
        tag, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + n]
        (crc,) = struct.unpack(">I", png[pos + 8 + n : pos + 12 + n])
        assert crc == zlib.crc32(data, zlib.crc32(tag)), tag
        out.append((tag, data))
        pos += 12 + n
    assert pos == len(png) and out[-1] == (b"IEND", b"")
    return out


def inflate_pixels(png: bytes) -> np.ndarray:
    """Pixels of a PNG whose rows use filter 0 (None) or 1 (Sub), decoded without Pillow:
    zlib checks the stream's Adler-32; Sub is undone with a wrapping cumulative sum."""
    parts = chunks(png)
    w, h, depth, colour = struct.unpack(">IIBB", parts[0][1][:10])
    assert parts[0][0] == b"IHDR" and depth == 8 and colour in (0, 2)
    bpp = 1 if colour == 0 else 3
    raw = zlib.decompress(b"".join(d for t, d in parts if t == b"IDAT"))
    rows = np.frombuffer(raw, np.uint8).reshape(h, 1 + w * bpp)
    assert set(np.unique(rows[:, 0]).tolist()) <= {0, 1}
    px = rows[:, 1:].reshape(h, w, bpp).copy()
    sub = rows[:, 0] == 1
    px[sub] = np.cumsum(px[sub], axis=1, dtype=np.uint8)
    return px[:, :, 0] if bpp == 1 else px


def digest(arr: np.ndarray) -> bytes:
    """Shape and pixels of a mask as a short digest (a 7360x4912 mask is 36 MB)."""
    arr = np.ascontiguousarray(arr)
    return hashlib.sha1(repr(arr.shape).encode() + arr.tobytes()).digest()


def pillow_pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)))


def check_same(arr: np.ndarray) -> None:
    """The new encoding decodes to ``arr`` (Pillow and zlib) and to what Pillow's encoding decodes to."""
    grey = arr.ndim == 2
    ours = masks.encode_png(arr) if grey else masks.encode_rgb_png(arr)
    plain = masks.encode_png_pillow(arr) if grey else masks.encode_rgb_png_pillow(arr)
    img = Image.open(io.BytesIO(ours))
    assert img.mode == ("L" if grey else "RGB") and img.size == (arr.shape[1], arr.shape[0])
    assert np.array_equal(pillow_pixels(ours), pillow_pixels(plain))
    assert np.array_equal(pillow_pixels(ours), arr)
    assert np.array_equal(inflate_pixels(ours), arr)


def _box(h: int, w: int, top: int, left: int, bh: int, bw: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    arr = np.zeros((h, w), np.uint8)
    arr[top : top + bh, left : left + bw] = rng.random((bh, bw)) < 0.6
    arr[top, left] = arr[top + bh - 1, left + bw - 1] = 1  # the box is tight
    return arr


EDGE_CASES = {
    "empty": np.zeros((40, 30), np.uint8),
    "full": np.ones((40, 30), np.uint8),
    "one pixel set": np.ones((1, 1), np.uint8),
    "one pixel clear": np.zeros((1, 1), np.uint8),
    "1 px wide": _box(50, 1, 10, 0, 20, 1),
    "1 px tall": _box(1, 77, 0, 5, 1, 60),
    "odd width 7": _box(20, 7, 3, 1, 9, 5),
    "odd width 9": _box(20, 9, 0, 0, 20, 9),
    "odd width 15": _box(33, 15, 5, 3, 7, 11),
    "touches top": _box(60, 41, 0, 10, 12, 8),
    "touches bottom": _box(60, 41, 48, 10, 12, 8),
    "touches left": _box(60, 41, 20, 0, 12, 8),
    "touches right": _box(60, 41, 20, 33, 12, 8),
    "touches all borders": _box(60, 41, 0, 0, 60, 41),
    # more empty rows than one cached piece, above and below: repeated piece + ladder
    "tall, box in the middle": _box(3 * ZERO_PIECE_ROWS + 77, 13, ZERO_PIECE_ROWS + 129, 2, 5, 9),
    "tall, last row only": _box(2 * ZERO_PIECE_ROWS + 1, 5, 2 * ZERO_PIECE_ROWS, 0, 1, 5),
    "two boxes far apart": _box(300, 50, 10, 5, 6, 6) | _box(300, 50, 250, 30, 9, 9, seed=1),
    "two boxes close": _box(100, 50, 10, 5, 6, 6) | _box(100, 50, 20, 30, 9, 9, seed=2),
    "stripes every other row": np.tile(np.array([[1], [0]], np.uint8), (25, 31)),
}


@pytest.mark.parametrize("name", list(EDGE_CASES))
def test_edge_cases_decode_to_the_same_pixels(name):
    check_same(EDGE_CASES[name])


@pytest.mark.parametrize("seed", range(60))
def test_random_masks_decode_to_the_same_pixels(seed):
    rng = np.random.default_rng(seed)
    h, w = (int(v) for v in rng.integers(1, 700, 2))
    arr = np.zeros((h, w), np.uint8)
    for _ in range(int(rng.integers(0, 4))):  # 0..3 blobs of random density
        top, left = int(rng.integers(0, h)), int(rng.integers(0, w))
        bh, bw = int(rng.integers(1, h - top + 1)), int(rng.integers(1, w - left + 1))
        arr[top : top + bh, left : left + bw] |= (rng.random((bh, bw)) < rng.random()).astype(np.uint8)
    check_same(arr)


@pytest.mark.parametrize("seed", range(20))
def test_random_rgb_composites_decode_to_the_same_pixels(seed):
    rng = np.random.default_rng(seed)
    h, w = (int(v) for v in rng.integers(1, 400, 2))
    rgb = np.zeros((h, w, 3), np.uint8)
    for _ in range(int(rng.integers(0, 5))):
        top, left = int(rng.integers(0, h)), int(rng.integers(0, w))
        bh, bw = int(rng.integers(1, h - top + 1)), int(rng.integers(1, w - left + 1))
        hit = rng.random((bh, bw)) < rng.random()
        rgb[top : top + bh, left : left + bw][hit] = rng.integers(0, 256, 3)
    check_same(rgb)


@pytest.mark.parametrize("name", ["empty", "full", "touches all borders", "tall, box in the middle", "odd width 7"])
@pytest.mark.parametrize("colour", [(255, 255, 255), (10, 200, 30), (0, 0, 0)])
def test_coloured_mask_files_decode_like_the_rgb_image(name, colour):
    arr = EDGE_CASES[name]
    rgb = (arr[:, :, None] != 0) * np.asarray(colour, np.uint8)
    ours = masks.encode_colour_png(arr, colour)
    assert Image.open(io.BytesIO(ours)).mode == "RGB"
    assert np.array_equal(pillow_pixels(ours), pillow_pixels(masks.encode_rgb_png_pillow(rgb)))
    assert np.array_equal(inflate_pixels(ours), rgb)


@settings(max_examples=150, deadline=None)
@given(hnp.arrays(np.uint8, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=40), elements=st.integers(0, 1)))
def test_any_small_mask_round_trips(arr):
    check_same(arr)


def test_values_other_than_0_1_become_1_as_before():
    arr = np.array([[0, 7, 255], [3, 0, 0]], np.uint8)
    assert np.array_equal(pillow_pixels(masks.encode_png(arr)), pillow_pixels(masks.encode_png_pillow(arr)))
    assert np.array_equal(pillow_pixels(masks.encode_png(arr.astype(bool))), (arr != 0).astype(np.uint8))


@pytest.mark.parametrize(
    "arr",
    [np.zeros((3, 4), np.int32), np.zeros((3, 4, 4), np.uint8), np.zeros((0, 4), np.uint8), np.zeros(5, np.uint8)],
    ids=["int32", "rgba", "no rows", "1-d"],
)
def test_encoder_refuses_what_is_not_a_mask_image(arr):
    with pytest.raises(ValueError):
        encode_rows_png(arr)


def test_empty_rows_cost_a_cached_piece_not_their_size():
    """The point of the encoder: the PNG of a mask grows with its rows, not the image's."""
    small = encode_rows_png(_box(2000, 3000, 900, 100, 50, 70))
    assert len(small) < 20_000  # 6M pixels: Pillow writes ~6 KB too; the bytes are not the point
    assert np.array_equal(inflate_pixels(small), _box(2000, 3000, 900, 100, 50, 70))


# --------------------------------------------------------------------------- what Labelbox takes


def _png_bytes(img: Image.Image, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", **kw)
    return buf.getvalue()


def _palette(arr: np.ndarray) -> bytes:
    img = Image.fromarray(arr, "L").convert("P")
    img.putpalette([0, 0, 0, 1, 1, 1])
    return _png_bytes(img, bits=1)


_ARR = _box(37, 53, 5, 7, 15, 33)
#: ``mask.png`` forms and whether the SDK 5.2.1 parser takes them (the oracle's
#: [sdk-convert] check: NDMask.to_common -> MaskData.from_2D_arr).
PNG_FORMS = {
    "8-bit L 0/1, ours": (lambda: masks.encode_png(_ARR), True),
    "8-bit L 0/1, Pillow": (lambda: masks.encode_png_pillow(_ARR), True),
    "1-bit greyscale (mode 1)": (lambda: _png_bytes(Image.fromarray(_ARR.astype(bool))), False),  # bool array
    "8-bit L 0/255": (lambda: _png_bytes(Image.fromarray(_ARR * 255)), False),  # max > 1
    "RGB 0/1": (lambda: _png_bytes(Image.fromarray(np.repeat(_ARR[:, :, None], 3, axis=2))), False),  # 3-D
    # The parser takes a 1-bit palette PNG (indices 0/1), but the docs ask for a
    # single-channel 0/1 PNG and a palette's values are colours: not adopted.
    "1-bit palette 0/1": (lambda: _palette(_ARR), True),
}


def test_oracle_takes_only_integer_single_channel_png_masks(tmp_path, oracle):
    path = tmp_path / "forms.ndjson"
    with open(path, "w", encoding="utf-8") as fh:
        for i, (make, _ok) in enumerate(PNG_FORMS.values()):
            row = {"uuid": f"00000000-0000-4000-8000-{i:012d}", "dataRow": {"globalKey": f"img{i}"},
                   "name": "mask", "mask": {"png": base64.b64encode(make()).decode("ascii")}}
            fh.write(json.dumps(row) + "\n")
    result = oracle(path, mode="gt", media="image")
    for i, (name, (_make, ok)) in enumerate(PNG_FORMS.items(), start=1):
        line = next(ln for ln in result.output.splitlines() if ln.startswith(f"line {i}:"))
        assert ("ok" in line) == ok, (name, line)


# --------------------------------------------------------------------------- a real job


def _cgras_subset(fixtures: Path, tmp_path: Path, images: set[str], masks_per_image: int = 12) -> Path:
    """The cgras CVAT job (7360x4912 photos, tight-box RLE masks) cut to some images and
    their first masks, so the reference run with Pillow (~0.2 s a mask) stays short;
    bench/bench_cvat_masks.py checks the whole job the same way."""
    from lxml import etree

    tree = etree.parse(str(fixtures / "cvat/cgras_settler_counter/annotations.xml"), etree.XMLParser(resolve_entities=False))
    root = tree.getroot()
    for image in root.findall("image"):
        if image.get("id") not in images:
            root.remove(image)
            continue
        for extra in image.findall("mask")[masks_per_image:]:
            image.remove(extra)
    out = tmp_path / "annotations.xml"
    tree.write(str(out), xml_declaration=True, encoding="utf-8")
    return out


def _convert_recording(src: Path, out: Path, monkeypatch: pytest.MonkeyPatch, *, plain: bool, **kw: object) -> list[bytes]:
    """Convert ``src``; with ``plain`` the PNGs come from the Pillow encoders (today's code
    path). Returns the pixels handed to the encoder, call by call."""
    from converters.pipeline import convert

    given: list[bytes] = []
    for name in ("encode_png", "encode_rgb_png"):
        encoder = getattr(masks, f"{name}_pillow" if plain else name)

        def recording(arr: np.ndarray, _encoder=encoder) -> bytes:
            given.append(digest(arr))
            return _encoder(arr)

        monkeypatch.setattr(masks, name, recording)
    convert([src], out, fmt="cvat", **kw)
    monkeypatch.undo()
    return given


@pytest.mark.parametrize("mask_format", ["png", "composite"])
def test_cgras_job_rows_are_as_before_and_pixels_identical(fixtures, tmp_path, monkeypatch, mask_format):
    from tests.conftest import read_ndjson

    src = _cgras_subset(fixtures, tmp_path, {"1", "2"})  # 3 + 12 masks
    rows: dict[str, list[dict]] = {}
    given: dict[str, list[bytes]] = {}
    for plain in (True, False):
        out = tmp_path / f"{mask_format}-{plain}.ndjson"
        given[str(plain)] = _convert_recording(src, out, monkeypatch, plain=plain, mask_format=mask_format)
        rows[str(plain)] = read_ndjson(out)
    before, after = rows["True"], rows["False"]
    assert given["True"] == given["False"]  # the same pixels reached both encoders
    assert len(after) == len(before) == 15
    key = "png" if mask_format == "png" else "imBytes"
    pngs_before = [base64.b64decode(r["mask"].pop(key)) for r in before]
    pngs_after = [base64.b64decode(r["mask"].pop(key)) for r in after]
    assert after == before  # every row the same but the PNG bytes
    assert pngs_after != pngs_before  # (the bytes did change: this is the new encoder)
    # Pixels: each new PNG decodes to the pixels the plain encoder was given (and encoded
    # losslessly: one of its PNGs decoded by Pillow, the slow 36M-pixel decode, as a check).
    if mask_format == "composite":  # one composite per image, shared by the image's rows
        pngs_before, pngs_after = list(dict.fromkeys(pngs_before)), list(dict.fromkeys(pngs_after))
    assert [digest(inflate_pixels(p)) for p in pngs_after] == given["False"]
    for png, pixels in list(zip(pngs_before, given["True"]))[:1]:
        assert digest(pillow_pixels(png)) == pixels


def test_cgras_subset_rows_pass_the_oracle(fixtures, tmp_path, oracle):
    from converters.pipeline import convert

    src = _cgras_subset(fixtures, tmp_path, {"1"})
    for fmt in ("png", "composite"):
        out = tmp_path / f"{fmt}.ndjson"
        convert([src], out, fmt="cvat", mask_format=fmt)
        result = oracle(out, mode="gt", media="image")
        assert result.failed == 0 and result.ok == 3, result.output
