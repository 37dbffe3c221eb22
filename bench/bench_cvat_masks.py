"""Benchmark: the large-image CVAT job (issue #16), today's mask encoder against Pillow's.

The job is ../shared/fixtures-public/cvat/cgras_settler_counter/annotations.xml: 5 photos of
7360x4912 pixels, 273 ``<mask>`` elements with tight-box RLE. Labelbox wants image-sized
mask PNGs, so each mask becomes a 36M-pixel PNG; with Pillow that was ~45 s, 97% in zlib.

Two parts:

1. **End to end**, alternately and several times, ``converters.convert()`` on the job:
   * **plain**: the encoders swapped for ``masks.encode_png_pillow`` /
     ``encode_rgb_png_pillow`` (Pillow ``Image.save(format="PNG")`` at PNG_LEVEL on the
     full-size 0/1 array: the code path before issue #16);
   * **rows**: the library as it is (converters/_png.py).
   Medians and the median of the pairwise ratios plain/rows. A first, untimed pair checks
   that the rows are identical but for the PNG bytes and that every new PNG decodes to the
   pixels the plain encoder was given. ``--formats png composite uri`` (default png; for composite and
   uri the swap changes only the encoder: the band-wise composite and the per-instance file
   built without its RGB image are in both runs).
2. **Encoder candidates**, per mask over a sample of the job's masks: Pillow levels and
   zlib strategies, Pillow 1-bit (mode "1"), a whole-image PNG deflated by zlib / zlib-ng /
   ISA-L (each if installed), fpng (RGB only, if installed), ours; and Pillow on two threads
   and two processes. Median ms per mask and mean KB.

Machines are noisy: only ratios measured in the same run mean anything.

    python bench/bench_cvat_masks.py [--repeat 3] [--formats png composite uri] [--sample 12]
    pip install zlib-ng isal fpng   # optional candidates (not dependencies of the library)
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import functools
import hashlib
import importlib
import io
import json
import statistics
import struct
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from converters import convert, masks, read  # noqa: E402
from converters.model import Mask  # noqa: E402

JOB = Path(__file__).resolve().parents[2] / "shared/fixtures-public/cvat/cgras_settler_counter/annotations.xml"
_ENCODERS = ("encode_png", "encode_rgb_png", "encode_colour_png")


def _digest(arr: np.ndarray) -> bytes:
    arr = np.ascontiguousarray(arr)
    return hashlib.sha1(repr(arr.shape).encode() + arr.tobytes()).digest()


def _colour_pillow(arr: np.ndarray, colour: tuple[int, int, int]) -> bytes:
    """encode_colour_png the old way: build the RGB image, then Pillow."""
    return masks.encode_rgb_png_pillow((np.asarray(arr)[:, :, None] != 0) * np.asarray(colour, np.uint8))


def _run(src: Path, out: Path, fmt: str, *, plain: bool, given: list[bytes] | None) -> float:
    """convert() once, the encoders swapped for Pillow's with ``plain``; returns seconds.
    With ``given``, digests of the pixels handed to the encoders are appended to it."""
    saved = {name: getattr(masks, name) for name in _ENCODERS}
    replacements: dict[str, Callable[..., bytes]] = (
        {"encode_png": masks.encode_png_pillow, "encode_rgb_png": masks.encode_rgb_png_pillow,
         "encode_colour_png": _colour_pillow} if plain else dict(saved)
    )
    if given is not None:
        for name, fn in list(replacements.items()):
            def recording(arr: np.ndarray, *args: Any, _fn: Callable[..., bytes] = fn, _name: str = name) -> bytes:
                pixels = (np.asarray(arr)[:, :, None] != 0) * np.asarray(args[0], np.uint8) if args else arr
                given.append(_digest(pixels))
                return _fn(arr, *args)
            replacements[name] = recording
    kw: dict[str, Any] = {"mask_format": fmt}
    if fmt == "uri":
        kw |= {"mask_dir": out.with_suffix(".masks"), "mask_url_prefix": "https://example.invalid/m"}
    try:
        for name, fn in replacements.items():
            setattr(masks, name, fn)
        t = time.perf_counter()
        convert([src], out, fmt="cvat", report=out.with_suffix(".report.json"), **kw)
        return time.perf_counter() - t
    finally:
        for name, fn in saved.items():
            setattr(masks, name, fn)


def _inflate(png: bytes) -> np.ndarray:
    """Pixels of a PNG written by converters._png (filters None and Sub only), via zlib."""
    pos, idat, header = 8, [], b""
    while pos < len(png):
        (n,) = struct.unpack(">I", png[pos : pos + 4])
        tag = png[pos + 4 : pos + 8]
        if tag == b"IHDR":
            header = png[pos + 8 : pos + 8 + n]
        elif tag == b"IDAT":
            idat.append(png[pos + 8 : pos + 8 + n])
        pos += 12 + n
    w, h, _depth, colour = struct.unpack(">IIBB", header[:10])
    bpp = 1 if colour == 0 else 3
    rows = np.frombuffer(zlib.decompress(b"".join(idat)), np.uint8).reshape(h, 1 + w * bpp)
    px = rows[:, 1:].reshape(h, w, bpp).copy()
    sub = rows[:, 0] == 1
    px[sub] = np.cumsum(px[sub], axis=1, dtype=np.uint8)
    return px[:, :, 0] if bpp == 1 else px


def _pngs(out: Path, fmt: str) -> tuple[list[dict[str, Any]], list[bytes]]:
    """Rows without their PNGs, and the PNGs in the order they were encoded."""
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    pngs: list[bytes] = []
    for row in rows:
        m = row["mask"]
        if fmt == "png":
            pngs.append(base64.b64decode(m.pop("png")))
        elif fmt == "composite":
            png = base64.b64decode(m.pop("imBytes"))
            if png not in pngs:
                pngs.append(png)
        else:
            uri = m["instanceURI"].removeprefix("https://example.invalid/m/")
            pngs.append((out.with_suffix(".masks") / uri).read_bytes())
    return rows, pngs


def check(fmt: str, tmp: Path) -> None:
    """One untimed pair (recording digests costs time): rows identical but the PNG bytes,
    and every new PNG decoding to the pixels the plain encoder was given."""
    given: dict[str, list[bytes]] = {"plain": [], "rows": []}
    for name in ("plain", "rows"):
        _run(JOB, tmp / f"{fmt}-{name}-check.ndjson", fmt, plain=name == "plain", given=given[name])
    before, _ = _pngs(tmp / f"{fmt}-plain-check.ndjson", fmt)
    after, pngs = _pngs(tmp / f"{fmt}-rows-check.ndjson", fmt)
    same_rows = before == after
    same_pixels = given["plain"] == given["rows"] == [_digest(_inflate(p)) for p in pngs]
    print(f"  {fmt}: {len(after)} rows; identical but the PNG bytes: {same_rows}; "
          f"{len(pngs)} PNGs decode to the plain encoder's pixels: {same_pixels}")
    if not (same_rows and same_pixels):
        raise SystemExit("output differs from the plain encoder's")


def end_to_end(fmt: str, repeat: int, tmp: Path) -> float:
    check(fmt, tmp)
    times: dict[str, list[float]] = {"plain": [], "rows": []}
    ratios = []
    for i in range(repeat):
        pair = {}
        for name in ("plain", "rows"):
            pair[name] = _run(JOB, tmp / f"{fmt}-{name}-{i}.ndjson", fmt, plain=name == "plain", given=None)
            times[name].append(pair[name])
        ratios.append(pair["plain"] / pair["rows"])
    for name, ts in times.items():
        print(f"  {fmt:9} {name:5} median {statistics.median(ts):7.2f}s  (min {min(ts):.2f}, max {max(ts):.2f})")
    ratio = statistics.median(ratios)
    print(f"  {fmt:9} speed-up plain/rows: median {ratio:.1f}x  (min {min(ratios):.1f}, max {max(ratios):.1f})")
    return ratio


# --------------------------------------------------------------------------- candidates


def _optional(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _pillow(arr: np.ndarray, **kw: Any) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG", **kw)
    return buf.getvalue()


def _whole_png(arr: np.ndarray, compress: Callable[[bytes], bytes]) -> bytes:
    """An 8-bit greyscale PNG of the whole image, filter None, deflated by ``compress``."""
    h, w = arr.shape
    raw = np.zeros((h, w + 1), np.uint8)
    raw[:, 1:] = arr

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(tag)))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", compress(raw.tobytes())) + chunk(b"IEND", b"")


def candidates() -> dict[str, Callable[[np.ndarray], bytes]]:
    level = masks.PNG_LEVEL
    out: dict[str, Callable[[np.ndarray], bytes]] = {
        f"Pillow L level {level} (before #16)": masks.encode_png_pillow,
        "Pillow L level 1": lambda a: _pillow(a, compress_level=1),
        f"Pillow L level {level}, Z_RLE": lambda a: _pillow(a, compress_level=level, compress_type=zlib.Z_RLE),
        "Pillow L level 1, Z_RLE": lambda a: _pillow(a, compress_level=1, compress_type=zlib.Z_RLE),
        f"Pillow 1-bit (mode 1) level {level} [SDK refuses]": lambda a: _pillow(a.astype(bool), compress_level=level),
        "whole image, zlib level 1": lambda a: _whole_png(a, lambda b: zlib.compress(b, 1)),
        f"whole image, zlib level {level} Z_RLE": lambda a: _whole_png(
            a, lambda b: (lambda c: c.compress(b) + c.flush())(zlib.compressobj(level, zlib.DEFLATED, 15, 8, zlib.Z_RLE))),
    }
    zlib_ng = _optional("zlib_ng.zlib_ng")
    if zlib_ng is not None:
        out["whole image, zlib-ng level 1"] = lambda a: _whole_png(a, lambda b: zlib_ng.compress(b, 1))
        out[f"whole image, zlib-ng level {level}"] = lambda a: _whole_png(a, lambda b: zlib_ng.compress(b, level))
    isal_zlib = _optional("isal.isal_zlib")
    if isal_zlib is not None:
        out["whole image, ISA-L level 1"] = lambda a: _whole_png(a, lambda b: isal_zlib.compress(b, 1))
        out["whole image, ISA-L level 3"] = lambda a: _whole_png(a, lambda b: isal_zlib.compress(b, 3))
    fpng = _optional("fpng")
    if fpng is not None:  # RGB/RGBA only: the mask as a 0/255 RGB image (the uri file)
        out["fpng, RGB 0/255 (uri file form)"] = lambda a: fpng.from_ndarray(
            np.repeat(a[:, :, None] * np.uint8(255), 3, axis=2))
    out[f"Pillow RGB 0/255 level {level} (uri before #16)"] = lambda a: _colour_pillow(a, (255, 255, 255))
    out["ours, RGB 0/255 (encode_colour_png)"] = lambda a: masks.encode_colour_png(a, (255, 255, 255))
    out["ours, L 0/1 (encode_png)"] = masks.encode_png
    return out


@functools.lru_cache(maxsize=2)
def sample_masks(n: int) -> list[Mask]:
    found = [a.shape for asset in read([JOB], fmt="cvat").assets for a in asset.annotations if isinstance(a.shape, Mask)]
    step = max(1, len(found) // n)
    return found[::step][:n]


def _encode_sample(mask: Mask) -> int:
    return len(masks.encode_png_pillow(masks.decode(mask)))


def _encode_cvat_index(i: int, n: int) -> int:
    return _encode_sample(sample_masks(n)[i])


def _busy_rate(work: Callable[[], object]) -> float:
    """Iterations per second of a pure-Python loop on another thread while ``work`` runs:
    near its rate during a sleep when ``work`` releases the GIL, near 0 when it holds it."""
    stop = threading.Event()
    count = 0

    def busy() -> None:
        nonlocal count
        while not stop.is_set():
            count += 1

    thread = threading.Thread(target=busy)
    thread.start()
    time.sleep(0.05)
    c0, t = count, time.perf_counter()
    work()
    rate = (count - c0) / (time.perf_counter() - t)
    stop.set()
    thread.join()
    return rate


def table(n: int) -> None:
    sample = sample_masks(n)
    arrays = [masks.decode(m) for m in sample]  # n x 36 MB
    print(f"\nencoders on {len(arrays)} of the job's masks ({arrays[0].shape[1]}x{arrays[0].shape[0]}), "
          "ms per mask (median) and KB (mean):")
    base = None
    for name, fn in candidates().items():
        fn(arrays[0])  # warm caches (ours: the zero pieces of this row length)
        ms, kb = [], []
        for arr in arrays:
            t = time.perf_counter()
            data = fn(arr)
            ms.append((time.perf_counter() - t) * 1000)
            kb.append(len(data) / 1000)
        med = statistics.median(ms)
        base = base or med
        print(f"  {name:48} {med:8.1f} ms  {statistics.mean(kb):7.1f} KB  {base / med:6.1f}x")
    # Threads and processes, Pillow (the encoder they would have had to rescue).
    t = time.perf_counter()
    for arr in arrays:
        masks.encode_png_pillow(arr)
    serial = time.perf_counter() - t
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        t = time.perf_counter()
        list(pool.map(masks.encode_png_pillow, arrays))
        threads = time.perf_counter() - t
    with concurrent.futures.ProcessPoolExecutor(2) as procs:
        list(procs.map(_encode_cvat_index, [0, 1], [n, n]))  # start the workers
        t = time.perf_counter()
        list(procs.map(_encode_cvat_index, range(len(arrays)), [n] * len(arrays)))
        processes = time.perf_counter() - t
    arr = arrays[0]
    idle = _busy_rate(lambda: time.sleep(0.3))
    print("  GIL: a Python loop on another thread runs at "
          f"{_busy_rate(lambda: masks.encode_png_pillow(arr)) / idle:.0%} (Pillow encode), "
          f"{_busy_rate(lambda: zlib.compress(arr.tobytes(), 6)) / idle:.0%} (zlib.compress), "
          f"{_busy_rate(lambda: [masks.encode_png(arr) for _ in range(10)]) / idle:.0%} (ours) "
          "of its speed during a sleep")
    print(f"  Pillow L level {masks.PNG_LEVEL}, {len(arrays)} masks: serial {serial:.2f}s, 2 threads {threads:.2f}s "
          f"({serial / threads:.2f}x), 2 processes {processes:.2f}s ({serial / processes:.2f}x; each worker "
          "decodes its mask from the job, no 36 MB array pickled)")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--formats", nargs="*", default=["png"], choices=["png", "composite", "uri"])
    ap.add_argument("--sample", type=int, default=12, help="masks in the encoder table (0: no table)")
    args = ap.parse_args()
    if not JOB.is_file():
        raise SystemExit(f"{JOB} not found (the shared fixtures sit beside the repository)")
    print(f"{JOB.name}: cgras CVAT job, 5 images of 7360x4912, 273 masks")
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in args.formats:
            end_to_end(fmt, args.repeat, Path(tmp))
    if args.sample:
        table(args.sample)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
