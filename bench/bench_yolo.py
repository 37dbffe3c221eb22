"""Benchmark: a 10,000-image YOLO dataset against a floor measured in the same run.

Generates an Ultralytics dataset (``data.yaml``, ``images/train/*.png`` small PNGs of a few
sizes, ``labels/train/*.txt`` with 1-10 rows each: boxes, some polygons, some images with
no label file) and times, alternately and several times:

* **floor**: for each image, open it with Pillow for its size (header only), read its label
  file, split and float() every row, build one Labelbox-shaped dict per row, dump every row
  to a file with the standard json module: the least a YOLO converter must do, single-threaded;
* **convert**: ``converters.convert(fmt="yolo")`` on the same folder (layout discovery,
  EXIF-aware sizes read by the reader's thread pool, clipping checks, geometry, ontology,
  uuids, report, atomic write).

Prints the medians and the ratio convert/floor. Only the ratio means anything.

    python bench/bench_yolo.py [--images 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image  # noqa: E402

from converters import convert  # noqa: E402

SIZES = [(64, 48), (48, 64), (80, 60), (50, 50)]


def generate(root: Path, *, images: int, seed: int = 0) -> int:
    rng = random.Random(seed)
    (root / "images/train").mkdir(parents=True)
    (root / "labels/train").mkdir(parents=True)
    blanks = {}
    for size in SIZES:
        path = root / f"blank_{size[0]}x{size[1]}.png"
        Image.new("RGB", size, (30, 60, 90)).save(path)
        blanks[size] = path.read_bytes()
    rows = 0
    for i in range(images):
        size = rng.choice(SIZES)
        (root / f"images/train/{i:06d}.png").write_bytes(blanks[size])
        if rng.random() < 0.05:
            continue  # background image: no label file
        lines = []
        for _ in range(rng.randint(1, 10)):
            cls = rng.randrange(20)
            if rng.random() < 0.3:
                cx, cy, r = rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8), rng.uniform(0.05, 0.2)
                pts = [(cx + r * rng.uniform(0.7, 1) * c, cy + r * rng.uniform(0.7, 1) * s)
                       for c, s in ((1, 0), (0.7, 0.7), (0, 1), (-0.7, 0.7), (-1, 0), (0, -1))]
                lines.append(f"{cls} " + " ".join(f"{x:.6f} {y:.6f}" for x, y in pts))
            else:
                w, h = rng.uniform(0.05, 0.4), rng.uniform(0.05, 0.4)
                lines.append(f"{cls} {rng.uniform(w / 2, 1 - w / 2):.6f} {rng.uniform(h / 2, 1 - h / 2):.6f} {w:.6f} {h:.6f}")
        rows += len(lines)
        (root / f"labels/train/{i:06d}.txt").write_text("\n".join(lines) + "\n")
    for path in root.glob("blank_*.png"):
        path.unlink()
    names = "\n".join(f"  {i}: class {i}" for i in range(20))
    (root / "data.yaml").write_text(f"path: .\ntrain: images/train\nnames:\n{names}\n")
    return rows


def floor(root: Path, out: Path) -> int:
    n = 0
    with open(out, "w", encoding="utf-8") as fh:
        for img in sorted((root / "images/train").iterdir()):
            label = root / "labels/train" / (img.stem + ".txt")
            try:
                text = label.read_text()
            except FileNotFoundError:
                continue
            with Image.open(img) as im:
                width, height = im.size
            for line in text.splitlines():
                v = [float(t) for t in line.split()]
                row: dict = {"uuid": f"{img.stem}-{n}", "dataRow": {"globalKey": img.name}, "name": f"class {int(v[0])}"}
                if len(v) == 5:
                    _, cx, cy, w, h = v
                    row["bbox"] = {"top": (cy - h / 2) * height, "left": (cx - w / 2) * width, "height": h * height, "width": w * width}
                else:
                    row["polygon"] = [{"x": v[i] * width, "y": v[i + 1] * height} for i in range(1, len(v), 2)]
                fh.write(json.dumps(row) + "\n")
                n += 1
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ds"
        t0 = time.perf_counter()
        rows = generate(root, images=args.images)
        print(f"generated {args.images} images, {rows} rows in {time.perf_counter() - t0:.1f}s")
        t_floor, t_conv = [], []
        for _ in range(args.repeat):
            t = time.perf_counter()
            n = floor(root, Path(tmp) / "floor.ndjson")
            t_floor.append(time.perf_counter() - t)
            t = time.perf_counter()
            report = convert([root], Path(tmp) / "out.ndjson", fmt="yolo")
            t_conv.append(time.perf_counter() - t)
            assert n == rows == sum(report.rows.values()), (n, rows, report.summary())
        f, c = statistics.median(t_floor), statistics.median(t_conv)
        print(f"floor   median {f:.2f}s  ({rows / f:,.0f} rows/s)")
        print(f"convert median {c:.2f}s  ({rows / c:,.0f} rows/s)")
        print(f"ratio convert/floor = {c / f:.2f}")


if __name__ == "__main__":
    main()
