"""Benchmark: COCO val2017-sized conversion against a floor measured in the same run.

Generates a COCO instances file the size of val2017 (5,000 images, ~37,000 objects: boxes
and polygons, 80 sparse categories), then times, alternately and several times:

* **floor**: load the JSON (orjson), build one Labelbox-shaped dict per object, dump every
  row (orjson) to a file: the least any converter must do;
* **convert**: ``converters.convert()`` on the same file (validation, geometry checks,
  ontology, uuids, report, atomic write).

Prints the medians and the ratio convert/floor (target for the foundation issue: <= 3).
Machines are noisy: only the ratio means anything.

    python bench/bench_coco.py [--images 5000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson  # noqa: E402  (the floor uses the fastest JSON library there is)

from _harness import compare  # noqa: E402
from converters import convert  # noqa: E402


def generate(path: Path, *, images: int, seed: int = 0) -> int:
    rng = random.Random(seed)
    cats = [{"id": i * 2 + 1, "name": f"class {i}", "supercategory": "thing"} for i in range(80)]
    imgs, anns = [], []
    for i in range(images):
        w, h = rng.choice([(640, 480), (640, 427), (500, 375), (480, 640)])
        imgs.append({"id": 1000 + i, "file_name": f"{1000 + i:012d}.jpg", "width": w, "height": h})
        for _ in range(rng.randint(1, 14)):
            x, y = rng.uniform(0, w - 40), rng.uniform(0, h - 40)
            bw, bh = rng.uniform(5, min(200, w - x)), rng.uniform(5, min(200, h - y))
            ann = {"id": len(anns) + 1, "image_id": 1000 + i, "category_id": rng.choice(cats)["id"],
                   "bbox": [round(x, 2), round(y, 2), round(bw, 2), round(bh, 2)], "iscrowd": 0, "area": bw * bh}
            if rng.random() < 0.6:  # most objects also carry a polygon, as in val2017
                n = rng.randint(6, 24)
                cx, cy = x + bw / 2, y + bh / 2
                pts = []
                for k in range(n):
                    import math

                    a = 2 * math.pi * k / n
                    r = rng.uniform(0.6, 1.0)
                    pts += [round(cx + r * bw / 2 * math.cos(a), 2), round(cy + r * bh / 2 * math.sin(a), 2)]
                ann["segmentation"] = [pts]
            else:
                ann["segmentation"] = []
            anns.append(ann)
    path.write_text(json.dumps({"images": imgs, "annotations": anns, "categories": cats}))
    return len(anns)


def floor(src: Path, out: Path) -> None:
    data = orjson.loads(src.read_bytes())
    names = {c["id"]: c["name"] for c in data["categories"]}
    files = {i["id"]: i["file_name"] for i in data["images"]}
    with open(out, "wb") as fh:
        for a in data["annotations"]:
            row = {"uuid": str(a["id"]), "dataRow": {"globalKey": files[a["image_id"]]}, "name": names[a["category_id"]]}
            seg = a.get("segmentation")
            if seg:
                flat = seg[0]
                row["polygon"] = [{"x": flat[i], "y": flat[i + 1]} for i in range(0, len(flat), 2)]
            else:
                x, y, w, h = a["bbox"]
                row["bbox"] = {"top": y, "left": x, "height": h, "width": w}
            fh.write(orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE))


def ours(src: Path, out: Path) -> None:
    convert([src], out, fmt="coco", report=out.with_suffix(".report.json"))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "instances_val2017.json"
        objects = generate(src, images=args.images)
        print(f"generated {args.images} images, {objects} objects, {src.stat().st_size / 1e6:.1f} MB")
        compare(floor, ours, src=src, workdir=Path(tmp), repeat=args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
