"""Benchmark: a COCO export with a share of RLE masks, against a floor measured in the same run.

Generates a COCO instances file (default 1,000 images at val2017 sizes, ~7,500 objects) in
which a share of the objects (default 30%) carry an RLE mask instead of a polygon: most
compressed (string counts, as pycocotools writes them), one in five uncompressed crowd
regions (list counts, as COCO ground truth stores ``iscrowd: 1``). Then it times,
alternately and several times:

* **floor**: load the JSON (orjson); per mask, pycocotools ``decode`` + a 0/1 PNG
  (Pillow at our compression level, or with ``--floor-encoder rows`` the library's own
  row encoder, faster than Pillow since issue 16) + base64; per other object a Labelbox-shaped
  dict; dump every row (orjson): the least any converter writing ``png`` masks must do;
* **convert**: ``converters.convert()`` on the same file (RLE checks, geometry repair,
  ontology, uuids, report, atomic write).

Prints the medians and the ratio convert/floor. Machines are noisy: only the ratio means
anything.

    python bench/bench_masks.py [--images 1000] [--rle-share 0.3] [--repeat 3] [--floor-encoder pillow|rows]
"""

from __future__ import annotations

import argparse
import base64
import io
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import orjson  # noqa: E402  (the floor uses the fastest JSON library there is)
from PIL import Image  # noqa: E402
from pycocotools import mask as cocomask  # noqa: E402

from _harness import compare, synthetic_coco  # noqa: E402
from converters import convert  # noqa: E402
from converters.masks import PNG_LEVEL, encode_png  # noqa: E402


def _blob(rng: random.Random, w: int, h: int, x: float, y: float, bw: float, bh: float) -> np.ndarray:
    """An ellipse-ish blob with a notch: a realistic, non-trivial run structure."""
    yy, xx = np.mgrid[0:h, 0:w]
    cx, cy, rx, ry = x + bw / 2, y + bh / 2, max(bw / 2, 1), max(bh / 2, 1)
    inside = ((xx + 0.5 - cx) / rx) ** 2 + ((yy + 0.5 - cy) / ry) ** 2 <= 1
    notch = (np.abs(xx - cx) < rx * rng.uniform(0.05, 0.3)) & (yy < cy)
    return (inside & ~notch).astype(np.uint8)


def _uncompressed(arr: np.ndarray) -> dict:
    flat = arr.flatten(order="F")
    edges = np.flatnonzero(np.diff(flat)) + 1
    runs = np.diff(np.concatenate(([0], edges, [flat.size]))).tolist()
    if flat[0] == 1:
        runs = [0, *runs]
    return {"counts": runs, "size": list(arr.shape)}


def _mask(rng, w: int, h: int, x: float, y: float, bw: float, bh: float) -> tuple[dict, int]:
    """A blob as compressed RLE, or (one in five) an uncompressed crowd RLE."""
    arr = _blob(rng, w, h, x, y, bw, bh)
    if rng.random() < 0.2:
        return _uncompressed(arr), 1
    rle = cocomask.encode(np.asfortranarray(arr))
    return {"size": [h, w], "counts": rle["counts"].decode("ascii")}, 0


def generate(path: Path, *, images: int, rle_share: float, seed: int = 0) -> tuple[int, int]:
    return synthetic_coco(path, images=images, polygon_share=0.5, mask_share=rle_share, mask=_mask, seed=seed)


def _pillow_png(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG", compress_level=PNG_LEVEL)
    return buf.getvalue()


#: The floor's PNG encoder (--floor-encoder): Pillow, or the library's row encoder (issue 16),
#: which is faster than Pillow and so the fairer least-work figure since.
_ENCODERS = {"pillow": _pillow_png, "rows": encode_png}
_png = _pillow_png


def floor(src: Path, out: Path) -> None:
    data = orjson.loads(src.read_bytes())
    names = {c["id"]: c["name"] for c in data["categories"]}
    files = {i["id"]: i["file_name"] for i in data["images"]}
    with open(out, "wb") as fh:
        for a in data["annotations"]:
            row = {"uuid": str(a["id"]), "dataRow": {"globalKey": files[a["image_id"]]}, "name": names[a["category_id"]]}
            seg = a.get("segmentation")
            if isinstance(seg, dict):
                counts = seg["counts"]
                rle = (cocomask.frPyObjects(seg, *seg["size"]) if isinstance(counts, list)
                       else {"size": seg["size"], "counts": counts.encode("ascii")})
                row["mask"] = {"png": base64.b64encode(_png(cocomask.decode(rle))).decode("ascii")}
            elif seg:
                flat = seg[0]
                row["polygon"] = [{"x": flat[i], "y": flat[i + 1]} for i in range(0, len(flat), 2)]
            else:
                x, y, w, h = a["bbox"]
                row["bbox"] = {"top": y, "left": x, "height": h, "width": w}
            fh.write(orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE))


def ours(src: Path, out: Path) -> None:
    convert([src], out, fmt="coco", mode="ground-truth", report=out.with_suffix(".report.json"))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=1000)
    ap.add_argument("--rle-share", type=float, default=0.3)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--floor-encoder", choices=sorted(_ENCODERS), default="pillow")
    args = ap.parse_args()
    global _png
    _png = _ENCODERS[args.floor_encoder]
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "instances_val2017.json"
        objects, n_masks = generate(src, images=args.images, rle_share=args.rle_share)
        print(f"generated {args.images} images, {objects} objects ({n_masks} RLE masks), "
              f"{src.stat().st_size / 1e6:.1f} MB")
        compare(floor, ours, src=src, workdir=Path(tmp), repeat=args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
