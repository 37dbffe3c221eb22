"""Benchmark: ``lbconvert convert`` at ``--workers 1`` and ``--workers 2`` on two datasets.

* **masks-heavy**: an SA-1B-like folder, 200 per-image JSON files with 50 compressed-RLE masks
  each at 1500x2250 (SA-1B's shorter side is 1500): wavy blobs, sizes log-uniform from ~0.01%
  to ~25% of the image, as SAM's automatic masks spread. Writing a 0/1 PNG per mask is the work.
* **val2017-sized COCO**: one instances file, 5,000 images, ~37,000 boxes and polygons
  (``_harness.synthetic_coco``, as ``bench_coco.py``). Reading one big JSON is the work.

Each run is a whole process (``python -m converters convert SRC -o OUT --quiet``, plus
``--workers N`` when the CLI has it), so start-up, the cluster and the merge are counted.
Runs are interleaved (1, 2, 1, 2 ...); the medians and the median of the per-pair ratios
t(1 worker) / t(2 workers) are printed, against the issue's target (>= 1.6x on the
masks-heavy set, on 2 cores). ``--single`` adds a run without ``--workers`` (the plain
one-process path) to the same loop: t(single) / t(workers=1) is the cost of the Dask path.

``--task-overhead``: what one shard task costs besides its work. A folder of SA-1B files
without annotations is converted on an in-process Dask client twice, as 1 shard and as one
shard per file; (t(many) - t(one)) / (shards - 1) is the cost of a task (reader, writer,
staging files, scheduling, merging its rows), at two SOURCE sizes, since every task builds
the reader of the whole SOURCE again.

Peak memory: each run's maximum resident set (``os.wait4``: the largest of the process and
the children it waited for, so with Dask workers it is the largest single process, not
the sum). ``--rss-only`` converts one SA-1B shard (``--shard-files`` files, default 200)
in one process and prints its peak RSS: the memory figure of docs/scaling.md.

Machines are noisy and shared: only the ratios mean anything.

    python bench/bench_dask.py [--repeat 3] [--files 200] [--masks 50] [--images 5000]
                               [--only masks|coco] [--keep DIR] [--single] [--rss-only]
                               [--task-overhead]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from pycocotools import mask as cocomask  # noqa: E402

from _harness import synthetic_coco  # noqa: E402

TARGET = 1.6
HEIGHT, WIDTH = 1500, 2250


# -- the SA-1B-like folder --------------------------------------------------------------------


def blob(rng: np.random.Generator, canvas: np.ndarray) -> tuple[int, int, int, int]:
    """Draw one wavy blob into ``canvas`` (zeros, Fortran order); returns its box (x0, y0, x1, y1)."""
    height, width = canvas.shape
    area = math.exp(rng.uniform(math.log(height * width * 1e-4), math.log(height * width * 0.25)))
    aspect = math.exp(rng.uniform(-1.0, 1.0))
    ry = min(math.sqrt(area / math.pi / aspect), height / 2 - 1)
    rx = min(math.sqrt(area / math.pi * aspect), width / 2 - 1)
    cy, cx = rng.uniform(ry, height - ry), rng.uniform(rx, width - rx)
    y0, y1 = max(int(cy - 1.4 * ry), 0), min(int(cy + 1.4 * ry) + 1, height)
    x0, x1 = max(int(cx - 1.4 * rx), 0), min(int(cx + 1.4 * rx) + 1, width)
    yy, xx = np.ogrid[y0:y1, x0:x1]
    dy = ((yy + 0.5 - cy) / ry).astype(np.float32)
    dx = ((xx + 0.5 - cx) / rx).astype(np.float32)
    theta, radius = np.arctan2(dy, dx), np.hypot(dy, dx)
    edge = np.ones_like(theta)
    for k in (2, 3, 5, 7):  # a wavy outline: runs change length row by row, as real objects do
        edge += np.float32(rng.uniform(0, 0.5 / k)) * np.sin(k * theta + np.float32(rng.uniform(0, 2 * math.pi)))
    canvas[y0:y1, x0:x1] = radius <= edge * 0.85
    if not canvas[y0:y1, x0:x1].any():
        canvas[int(cy), int(cx)] = 1
    return x0, y0, x1, y1


def sa1b_folder(folder: Path, *, files: int, masks: int, seed: int = 0) -> int:
    """``folder/sa_<id>.json`` files shaped like SA-1B's; returns the bytes written."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    canvas = np.zeros((HEIGHT, WIDTH), dtype=np.uint8, order="F")
    size = 0
    for i in range(files):
        image_id = 1 + i * 7
        anns = []
        for j in range(masks):
            x0, y0, x1, y1 = blob(rng, canvas)
            rle = cocomask.encode(canvas)
            bx, by, bw, bh = (float(v) for v in cocomask.toBbox(rle))
            anns.append({
                "bbox": [bx, by, bw, bh], "area": int(cocomask.area(rle)),
                "segmentation": {"size": [HEIGHT, WIDTH], "counts": rle["counts"].decode("ascii")},
                "predicted_iou": round(float(rng.uniform(0.86, 1.0)), 6),
                "point_coords": [[bx + bw / 2, by + bh / 2]], "crop_box": [0.0, 0.0, float(WIDTH), float(HEIGHT)],
                "id": image_id * 1000 + j, "stability_score": round(float(rng.uniform(0.9, 1.0)), 6),
            })
            canvas[y0:y1, x0:x1] = 0
        data = {"image": {"image_id": image_id, "width": WIDTH, "height": HEIGHT, "file_name": f"sa_{image_id}.jpg"},
                "annotations": anns}
        text = json.dumps(data)
        (folder / f"sa_{image_id}.json").write_text(text)
        size += len(text)
    return size


# -- timing whole processes ---------------------------------------------------------------------


def has_workers() -> bool:
    """Whether this checkout's CLI has ``convert --workers`` (the dask-core branch)."""
    proc = subprocess.run([sys.executable, "-m", "converters", "convert", "--help"],
                          capture_output=True, text=True, check=False)
    return "--workers" in proc.stdout


def run(src: Path, out: Path, extra: list[str]) -> tuple[float, int, float]:
    """One ``lbconvert convert`` process: (wall seconds, peak RSS in MB, CPU seconds of it and
    the children it waited for: what a busy machine does not inflate)."""
    cmd = [sys.executable, "-m", "converters", "convert", str(src), "-o", str(out), "--quiet", *extra]
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err.strip()}")
    return wall, usage.ru_maxrss // 1024, usage.ru_utime + usage.ru_stime


def shard_count(src: Path) -> int | None:
    """How many shards the COCO reader makes of ``src`` (None before dask-core)."""
    from converters.readers import ReadContext
    from converters.readers.coco import COCOOptions, COCOReader
    from converters.report import Report

    reader = COCOReader([src], options=COCOOptions(), context=ReadContext(report=Report()))
    shards = getattr(reader, "shards", None)
    return len(shards()) if shards is not None else None


def compare_workers(name: str, src: Path, work: Path, *, repeat: int, workers: bool, single: bool,
                    target: float | None) -> None:
    """Interleaved [single /] --workers 1 / --workers 2 runs; prints medians and ratios."""
    variants: dict[str, list[str]] = {}
    if single or not workers:
        variants["single"] = []
    if workers:
        variants.update({"workers=1": ["--workers", "1"], "workers=2": ["--workers", "2"]})
    times: dict[str, list[float]] = {v: [] for v in variants}
    rss: dict[str, list[int]] = {v: [] for v in variants}
    cpu: dict[str, list[float]] = {v: [] for v in variants}
    load: dict[str, list[float]] = {v: [] for v in variants}
    for _ in range(repeat):
        for variant, extra in variants.items():
            out = work / f"{name}-{variant}.ndjson"
            load[variant].append(os.getloadavg()[0])
            wall, peak, seconds = run(src, out, extra)
            times[variant].append(wall)
            rss[variant].append(peak)
            cpu[variant].append(seconds)
    print(f"\n[{name}] {src}: {shard_count(src)} shards")
    for variant in variants:
        ts = times[variant]
        print(f"  {variant:10} median {statistics.median(ts):7.2f}s  (min {min(ts):.2f}, max {max(ts):.2f})  "
              f"CPU {statistics.median(cpu[variant]):.1f}s  peak RSS {max(rss[variant])} MB  "
              f"(load average before: {statistics.median(load[variant]):.1f})")
    first = next(iter(variants))
    out = work / f"{name}-{first}.ndjson"
    with open(out, "rb") as fh:
        rows = sum(1 for _ in fh)
    print(f"  rows written: {rows}, {out.stat().st_size / rows:.0f} bytes a row")
    if not workers:
        print("  workers=2 / workers=1: not available (this CLI has no --workers; merge dask-core)")
        return
    pairs = [a / b for a, b in zip(times["workers=1"], times["workers=2"])]
    speedup = statistics.median(pairs)
    print(f"  speed-up t(workers=1)/t(workers=2): median {speedup:.2f}x  (min {min(pairs):.2f}, max {max(pairs):.2f})")
    extra_cpu = [b / a for a, b in zip(cpu["workers=1"], cpu["workers=2"])]
    print(f"  CPU(workers=2)/CPU(workers=1): median {statistics.median(extra_cpu):.2f}  (the work the 2-worker run "
          "adds: cluster start, shard tasks, merge; wall ratios only mean something on otherwise idle cores)")
    if "single" in times:
        base = [a / b for a, b in zip(times["single"], times["workers=1"])]
        print(f"  t(single)/t(workers=1): median {statistics.median(base):.2f}  (below 1: what the Dask path costs)")
    if target is not None:
        verdict = "meets" if speedup >= target else "MISSES"
        print(f"  target >= {target:.1f}x at 2 workers: {verdict}")


def task_overhead(root: Path, sizes: tuple[int, ...] = (200, 2000), repeat: int = 3) -> None:
    """Per shard task cost (see the module docstring), on an in-process Dask client."""
    import distributed

    from converters import convert
    from converters.readers.coco import _sa1b

    for n in sizes:
        folder = root / f"empty-{n}"
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            path = folder / f"sa_{i}.json"
            if not path.exists():
                image = {"image_id": i, "width": WIDTH, "height": HEIGHT, "file_name": f"sa_{i}.jpg"}
                path.write_text(json.dumps({"image": image, "annotations": []}))
        timings: dict[int, list[float]] = {1: [], n: []}
        default = _sa1b.SHARD_FILES
        with distributed.Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None) as client:
            for _ in range(repeat):
                for files_per_shard in (n, 1):
                    _sa1b.SHARD_FILES = files_per_shard
                    t = time.perf_counter()
                    convert([folder], root / "overhead.ndjson", fmt="coco", client=client)
                    timings[n // files_per_shard].append(time.perf_counter() - t)
        _sa1b.SHARD_FILES = default
        one, many = statistics.median(timings[1]), statistics.median(timings[n])
        print(f"SOURCE of {n} files: 1 shard {one:.2f}s, {n} shards {many:.2f}s: "
              f"{(many - one) / (n - 1) * 1000:.1f} ms a shard task")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--files", type=int, default=200, help="SA-1B-like files (one image each)")
    ap.add_argument("--masks", type=int, default=50, help="RLE masks per file")
    ap.add_argument("--images", type=int, default=5000, help="images of the val2017-sized COCO file")
    ap.add_argument("--only", choices=("masks", "coco"), help="run one of the two datasets")
    ap.add_argument("--keep", type=Path, help="generate into (and reuse) this folder instead of a temporary one")
    ap.add_argument("--rss-only", action="store_true", help="peak RSS of one single-process shard conversion")
    ap.add_argument("--single", action="store_true", help="also time the plain one-process path (no --workers)")
    ap.add_argument("--task-overhead", action="store_true", help="the cost of one shard task, at two SOURCE sizes")
    args = ap.parse_args()
    tmp = None
    if args.keep is None:
        tmp = tempfile.mkdtemp(prefix="bench-dask-")
    root = args.keep or Path(str(tmp))
    try:
        sa1b = root / f"sa1b-{args.files}x{args.masks}"
        coco = root / f"coco-{args.images}" / "instances_val2017.json"
        if args.only != "coco" and not args.task_overhead and not sa1b.is_dir():
            t = time.perf_counter()
            size = sa1b_folder(sa1b, files=args.files, masks=args.masks)
            print(f"generated {args.files} SA-1B-like files x {args.masks} masks at {WIDTH}x{HEIGHT}: "
                  f"{size / 1e6:.1f} MB in {time.perf_counter() - t:.0f}s")
        if args.task_overhead:
            task_overhead(root, repeat=args.repeat)
            return 0
        if args.only != "masks" and not args.rss_only and not coco.is_file():
            coco.parent.mkdir(parents=True, exist_ok=True)
            objects, _ = synthetic_coco(coco, images=args.images, polygon_share=0.6)
            print(f"generated COCO: {args.images} images, {objects} objects, {coco.stat().st_size / 1e6:.1f} MB")
        work = root / "out"
        work.mkdir(exist_ok=True)
        if args.rss_only:
            wall, peak, cpu = run(sa1b, work / "shard.ndjson", [])
            masks = args.files * args.masks
            print(f"one shard ({args.files} files x {args.masks} masks), one process: {wall:.1f}s wall, {cpu:.1f}s CPU "
                  f"({cpu / masks * 1000:.1f} ms CPU a mask), peak RSS {peak} MB")
            return 0
        workers = has_workers()
        print(f"--workers in this CLI: {'yes' if workers else 'no'}; {os.cpu_count()} CPUs; repeat {args.repeat}")
        if args.only != "coco":
            compare_workers("masks-heavy", sa1b, work, repeat=args.repeat, workers=workers, single=args.single,
                            target=TARGET)
        if args.only != "masks":
            compare_workers("val2017-sized", coco, work, repeat=args.repeat, workers=workers, single=args.single,
                            target=None)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
