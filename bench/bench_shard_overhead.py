"""Benchmark: what sharding costs, in CPU seconds, against one process in the same run.

Wall-clock speed-ups need idle cores (``bench/bench_dask.py`` measures them); this measures
what does not depend on them: the CPU seconds of every process of a sharded run (the client,
the Dask nannies and workers) against one process's, on the ``bench_masks`` data (one COCO
file with RLE masks, cut into ``--parts`` image ranges), alternately, with a ``LocalCluster``
of 2 workers started once beforehand (its start-up is printed apart). On an idle machine the
wall-clock speed-up at N workers is at most N / (this ratio).

    python bench/bench_shard_overhead.py [--images 1500] [--parts 4] [--repeat 3]

Needs the ``[dask]`` extra (psutil comes with it).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil  # noqa: E402  (a dependency of dask.distributed)

from bench_masks import generate  # noqa: E402
from converters import convert  # noqa: E402
from converters.options import ConvertOptions  # noqa: E402
from converters.readers.coco import reader as coco_reader  # noqa: E402
from converters.sharding import make_client  # noqa: E402


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and all its descendants (the cluster's)."""
    me = psutil.Process()
    total = 0.0
    for p in [me, *me.children(recursive=True)]:
        try:
            t = p.cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system
    return total


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=1500)
    ap.add_argument("--parts", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        src = work / "instances_bench.json"
        generate(src, images=args.images, rle_share=0.3)
        coco_reader.SHARD_BYTES = src.stat().st_size // args.parts + 1  # read in this process: shards() runs here
        t = time.perf_counter()
        client, owned = make_client(ConvertOptions(workers=2))
        print(f"LocalCluster(2) start-up {time.perf_counter() - t:.1f}s")
        client.submit(lambda: __import__("converters").convert, pure=False).result()  # imports done
        cpu: dict[str, list[float]] = {"one": [], "sharded": []}
        wall: dict[str, list[float]] = {"one": [], "sharded": []}
        try:
            for _ in range(args.repeat):
                for name, kw in (("one", {}), ("sharded", {"client": client})):
                    c, t = cpu_seconds(), time.perf_counter()
                    convert([src], work / f"{name}.ndjson", **kw)
                    wall[name].append(time.perf_counter() - t)
                    cpu[name].append(cpu_seconds() - c)
        finally:
            for item in owned:
                item.close()
        same = (work / "one.ndjson").read_bytes() == (work / "sharded.ndjson").read_bytes()
    for name in cpu:
        print(f"{name:8} cpu median {statistics.median(cpu[name]):.1f}s  wall median {statistics.median(wall[name]):.1f}s")
    ratios = [s / o for s, o in zip(cpu["sharded"], cpu["one"])]
    print(f"ratio cpu sharded/one: median {statistics.median(ratios):.2f} (min {min(ratios):.2f}, max {max(ratios):.2f}); "
          f"same bytes: {same}; load average {psutil.getloadavg()[0]:.1f} on {psutil.cpu_count()} cores")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
