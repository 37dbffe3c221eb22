"""Benchmark: ``lbconvert validate`` on a val2017-sized output against the conversion itself.

Issue 13 asks that validating the ~37k-row output of a val2017-sized COCO file take well under
the time converting it took. Converts the bench_coco file, then times, alternately and several
times, ``convert()`` and ``validate_file()`` on its output (media inferred, as the CLI does
without ``--media``), and prints the ratio validate/convert (lower is better).

    python bench/bench_validate.py [--images 5000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_coco import generate  # noqa: E402
from converters import convert  # noqa: E402
from converters.matrix import Mode  # noqa: E402
from converters.validate import validate_file  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "instances_val2017.json"
        objects = generate(src, images=args.images)
        out = Path(tmp) / "out.ndjson"
        times: dict[str, list[float]] = {"convert": [], "validate": []}
        for _ in range(args.repeat):
            t = time.perf_counter()
            convert([src], out, fmt="coco", report=Path(tmp) / "r.json")
            times["convert"].append(time.perf_counter() - t)
            t = time.perf_counter()
            result = validate_file(out, mode=Mode.PRELABEL)
            times["validate"].append(time.perf_counter() - t)
        assert not result.problems, result.problems[:3]
        print(f"{objects} objects, {result.rows} rows, media {result.media.value if result.media else None}")
        for name, ts in times.items():
            print(f"{name:8} median {statistics.median(ts):.3f}s  (min {min(ts):.3f}, max {max(ts):.3f})")
        ratio = statistics.median(times["validate"]) / statistics.median(times["convert"])
        print(f"ratio validate/convert: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
