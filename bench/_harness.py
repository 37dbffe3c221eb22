"""The timing loop the bench scripts share: floor and convert alternately, ratio per pair.

Alternating A B A B and taking the ratio pair by pair keeps the figure meaningful when the
machine's speed drifts; medians, not means, are printed.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path


def compare(
    floor: Callable[[Path, Path], object],
    convert: Callable[[Path, Path], object],
    *,
    src: Path,
    workdir: Path,
    repeat: int,
) -> float:
    """Time ``floor(src, out)`` against ``convert(src, out)``; print and return the median ratio."""
    times: dict[str, list[float]] = {"floor": [], "convert": []}
    ratios = []
    for _ in range(repeat):
        pair = {}
        for name, fn in (("floor", floor), ("convert", convert)):
            t = time.perf_counter()
            fn(src, workdir / f"{name}.ndjson")
            pair[name] = time.perf_counter() - t
            times[name].append(pair[name])
        ratios.append(pair["convert"] / pair["floor"])
    for name, ts in times.items():
        print(f"{name:8} median {statistics.median(ts):.3f}s  (min {min(ts):.3f}, max {max(ts):.3f})")
    ratio = statistics.median(ratios)
    print(f"ratio convert/floor: median {ratio:.2f}  (min {min(ratios):.2f}, max {max(ratios):.2f})")
    return ratio


def synthetic_coco(
    path: Path,
    *,
    images: int,
    polygon_share: float,
    mask_share: float = 0.0,
    mask: Callable[..., tuple[object, int]] | None = None,
    seed: int = 0,
) -> tuple[int, int]:
    """Write a COCO instances file shaped like val2017 (80 sparse categories, 1-14 objects
    per image, boxes with star-shaped polygons); ``mask(rng, w, h, x, y, bw, bh)`` returns
    (segmentation, iscrowd) for the ``mask_share`` of objects that get an RLE mask.

    Returns (objects, masks).
    """
    import json
    import math
    import random

    rng = random.Random(seed)
    cats = [{"id": i * 2 + 1, "name": f"class {i}", "supercategory": "thing"} for i in range(80)]
    imgs, anns = [], []
    n_masks = 0
    for i in range(images):
        w, h = rng.choice([(640, 480), (640, 427), (500, 375), (480, 640)])
        imgs.append({"id": 1000 + i, "file_name": f"{1000 + i:012d}.jpg", "width": w, "height": h})
        for _ in range(rng.randint(1, 14)):
            x, y = rng.uniform(0, w - 40), rng.uniform(0, h - 40)
            bw, bh = rng.uniform(5, min(200, w - x)), rng.uniform(5, min(200, h - y))
            ann = {"id": len(anns) + 1, "image_id": 1000 + i, "category_id": rng.choice(cats)["id"],
                   "bbox": [round(x, 2), round(y, 2), round(bw, 2), round(bh, 2)], "iscrowd": 0, "area": bw * bh}
            roll = rng.random()
            if mask is not None and roll < mask_share:
                ann["segmentation"], ann["iscrowd"] = mask(rng, w, h, x, y, bw, bh)
                n_masks += 1
            elif roll < mask_share + polygon_share:
                n = rng.randint(6, 24)
                cx, cy = x + bw / 2, y + bh / 2
                pts: list[float] = []
                for k in range(n):
                    a = 2 * math.pi * k / n
                    r = rng.uniform(0.6, 1.0)
                    pts += [round(cx + r * bw / 2 * math.cos(a), 2), round(cy + r * bh / 2 * math.sin(a), 2)]
                ann["segmentation"] = [pts]
            else:
                ann["segmentation"] = []
            anns.append(ann)
    path.write_text(json.dumps({"images": imgs, "annotations": anns, "categories": cats}))
    return len(anns), n_masks
