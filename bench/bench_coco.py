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
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson  # noqa: E402  (the floor uses the fastest JSON library there is)

from _harness import compare, synthetic_coco  # noqa: E402
from converters import convert  # noqa: E402


def generate(path: Path, *, images: int, seed: int = 0) -> int:
    """val2017-like: 60% of the objects carry a polygon as well as their box."""
    return synthetic_coco(path, images=images, polygon_share=0.6, seed=seed)[0]


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
