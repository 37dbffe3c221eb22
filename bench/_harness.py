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
