"""Class C of issue 14: every size a file claims is checked before memory is allocated.

Memory is measured with tracemalloc (numpy reports its buffers to it): each reproducer
must fail, or convert, while allocating a few megabytes, not the gigabytes it claims.
"""

from __future__ import annotations

import itertools
import json
import struct
import tracemalloc
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from converters.errors import UnsafeInputError
from converters.masks import MAX_MASK_PIXELS
from converters.readers import _images
from converters.readers.cvat._rle import MAX_BOX_PIXELS, decode_box, decode_full, parse_rle
from converters.readers._images import MAX_PIXELS, image_size
from converters.readers.spacy._docbin import inflated_size
from tests.conftest import read_ndjson
from tests.hostile import _build as b

MB = 1 << 20


def _peak(fn: Callable[[], object]) -> tuple[object, int]:
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def png_header(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims ``width`` x ``height`` (no pixel data: only the header is read)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b""))
    return path


# ----------------------------------------------------------------------------- reproducers


def _coco_big_rle(tmp: Path) -> Path:
    side = 100_000
    return b.coco(tmp, images=[{"id": 1, "file_name": "a.jpg", "width": side, "height": side}],
                  annotations=[{"id": 1, "image_id": 1, "category_id": 1,
                                "segmentation": {"size": [side, side], "counts": [side * side - 1, 1]}}])


def _coco_big_crowd_polygon(tmp: Path) -> Path:
    side = 100_000
    return b.coco(tmp, images=[{"id": 1, "file_name": "a.jpg", "width": side, "height": side}],
                  annotations=[{"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 1,
                                "segmentation": [[1, 1, 5, 1, 5, 5]]}])


def _cvat_mask(width: int, height: int) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        return b.cvat(tmp, f'<image id="0" name="a.jpg" width="10" height="10"><mask label="cat" source="manual" '
                           f'occluded="0" rle="0,1" left="0" top="0" width="{width}" height="{height}" z_order="0">'
                           "</mask></image>")
    return build


def _cvat_big_image(tmp: Path) -> Path:
    return b.cvat(tmp, '<image id="0" name="a.jpg" width="100000" height="100000"><mask label="cat" source="manual" '
                       'occluded="0" rle="0,1" left="0" top="0" width="1" height="1" z_order="0"></mask></image>')


def _voc_header_bomb(tmp: Path) -> Path:
    root = b.voc(tmp, b.voc_xml(size=""), devkit=True)  # no <size>: the header is read
    png_header(root / "JPEGImages" / "a.jpg", 20_000, 20_000)
    return root


def _yolo_header_bomb(tmp: Path) -> Path:
    source = b.yolo(tmp)
    png_header(tmp / "images" / "train" / "a.png", 20_000, 20_000)
    # a sound image beside it: a run that converts no image at all is an error of its own
    # (NoAssetsError, issue 12), while the bomb alone is a reported skip
    b.png(tmp / "images" / "train" / "b.png")
    (tmp / "labels" / "train" / "b.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    return source


def _cvat_header_bomb(tmp: Path) -> Path:
    source = b.cvat(tmp, image_attrs="")
    png_header(tmp / "images" / "a.jpg", 20_000, 20_000)
    return source


#: (id, build, extra args, substring of the one-line error)
REFUSED = [
    ("coco-rle-100000x100000-composite", _coco_big_rle, ("--mask-format", "composite"), "refused"),
    ("coco-rle-100000x100000-png", _coco_big_rle, (), "refused"),
    ("coco-crowd-polygon-100000x100000", _coco_big_crowd_polygon, (), "refused"),
    ("cvat-mask-box-100000x100000", _cvat_mask(100_000, 100_000), (), "bomb guard"),
    ("cvat-image-100000x100000", _cvat_big_image, ("--mask-format", "composite"), "refused"),
    ("yolo-nc-1e11", lambda t: b.yolo(t, yaml="train: images/train\nnc: 100000000000\n"), ("--from", "yolo"),
     "nc is 100000000000"),
    ("yolo-header-20000x20000", _yolo_header_bomb, (), None),  # a reported skip, see below
    ("voc-header-20000x20000", _voc_header_bomb, (), "decompression bomb"),
    ("cvat-header-20000x20000", _cvat_header_bomb, (), "decompression bomb"),
]


@pytest.mark.parametrize(("build", "extra", "message"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_claimed_size_is_refused_before_allocation(tmp_path: Path, capsys, build, extra, message) -> None:
    source = build(tmp_path / "in")
    out = tmp_path / "out.ndjson"
    (code, err), peak = _peak(lambda: b.run(capsys, source, out, *extra))
    assert peak < 64 * MB, f"peak {peak / MB:.0f} MB"
    if message is None:  # YOLO sizes images in workers: an unreadable image skips its rows, reported
        assert code == 0, err
        report = json.loads((tmp_path / "out.report.json").read_text())
        assert [e["code"] for e in report["entries"]] == ["image-unreadable"]
        assert "decompression bomb" in report["entries"][0]["message"]
        return
    assert code == 1, err
    assert err.count("\n") == 1 and message in err, err
    assert not out.exists()


def test_cvat_mask_box_is_bounded_by_the_image(tmp_path: Path, capsys) -> None:
    """A 10000 x 10000 box (within the mask limit) on a 10 x 10 image: only the part of the
    box inside the image is expanded."""
    source = _cvat_mask(10_000, 10_000)(tmp_path / "in")
    out = tmp_path / "out.ndjson"
    (code, err), peak = _peak(lambda: b.run(capsys, source, out))
    assert code == 0, err
    assert peak < 16 * MB, f"peak {peak / MB:.0f} MB"
    assert len(read_ndjson(out)) == 1


@pytest.mark.parametrize(
    ("left", "top", "width", "height", "image"),
    [(0, 0, 4, 3, (10, 10)), (-2, -1, 5, 4, (3, 3)), (8, 8, 4, 4, (10, 10)), (20, 20, 2, 2, (10, 10)), (0, 0, 10, 1, (10, 10))],
)
def test_cvat_window_decode_matches_the_whole_box(left, top, width, height, image) -> None:
    runs: list[int] = []
    for r in itertools.cycle([1, 2, 3, 1]):  # leaves the box a pixel short: padded
        if sum(runs) + r > width * height - 1:
            break
        runs.append(r)
    rle = parse_rle(",".join(map(str, runs)), str(left), str(top), str(width), str(height))
    full = decode_full(rle, *image)
    expanded = decode_box(rle)
    w, h = image
    for y in range(h):
        for x in range(w):
            by, bx = y - top, x - left
            inside = 0 <= by < height and 0 <= bx < width
            assert full[y, x] == (expanded[by, bx] if inside else 0)


def test_cvat_box_limit_is_the_mask_limit() -> None:
    assert MAX_BOX_PIXELS == MAX_MASK_PIXELS
    with pytest.raises(ValueError, match="bomb guard"):
        parse_rle("0,1", "0", "0", str(MAX_BOX_PIXELS + 1), "1")


def test_docbin_inflated_size_stops_at_the_limit() -> None:
    data = zlib.compress(bytes(64 * MB), 9)  # ~64 KB that inflate to 64 MB
    size, peak = _peak(lambda: inflated_size(data, 8 * MB))
    assert size > 8 * MB and peak < 4 * MB
    assert inflated_size(zlib.compress(b"abc"), 8 * MB) == 3
    assert inflated_size(b"not zlib", 8 * MB) == 0


def test_docbin_bomb_is_refused_before_spacy(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr("converters.readers.spacy._docbin.MAX_DOCBIN_BYTES", 4 * MB)
    path = tmp_path / "in" / "big.spacy"
    path.parent.mkdir()
    path.write_bytes(zlib.compress(bytes(32 * MB), 9))
    code, err = b.run(capsys, path, tmp_path / "out.ndjson", "--from", "spacy")
    assert code == 1
    assert err.count("\n") == 1 and "big.spacy" in err and "decompression bomb guard" in err


# ----------------------------------------------------------------------------- header limit


def test_header_limit_is_pillows_default() -> None:
    """The documented limit is the one in force: Pillow's default, checked by us too."""
    assert MAX_PIXELS == Image.MAX_IMAGE_PIXELS == 89_478_485


@pytest.mark.parametrize(("side", "refused"), [(9000, False), (9459, False), (9460, True), (14143, True), (20000, True)])
def test_header_limit(tmp_path: Path, side: int, refused: bool) -> None:
    path = png_header(tmp_path / "a.png", side, side)
    if refused:
        with pytest.raises(UnsafeInputError):
            image_size(path)
    else:
        assert image_size(path) == (side, side)


def test_header_limit_holds_when_pillows_is_lifted(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    with pytest.raises(UnsafeInputError, match="decompression bomb guard"):
        image_size(png_header(tmp_path / "a.png", 10_000, 10_000))
    assert _images.MAX_PIXELS == 89_478_485
