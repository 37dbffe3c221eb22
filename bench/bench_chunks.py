"""Benchmark: a streamed COCO file's annotations read by ijson events vs in orjson pieces.

``_stream.items`` (ijson, one item at a time) against ``_stream.item_batches`` (pieces of
``--piece`` bytes parsed by orjson, verified by the parse): one pass over the annotations of
the val2017-shaped 10x file (50,000 images, ~375k objects, ~115 MB), the items dropped as
they come (the scan and the read of a streamed conversion each make one such pass). With
``--convert``, also whole ``lbconvert convert`` processes on that file (streamed: it is above
the threshold) against the same CLI from another source tree (``--baseline-src``, e.g. an
export of ``main``: ``git -C /work/main archive main | tar -x -C /tmp/base``), and the floor
of bench_coco.py (orjson load + one dict per row + dump).

Every measurement is a child process (wall time and peak RSS from ``os.wait4``), interleaved,
``--repeat`` times; medians, printed as ratios (the machine is shared: only ratios count).

    python bench/bench_chunks.py [--src FILE] [--repeat 5] [--piece 1048576 4194304]
                                 [--convert --baseline-src DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def one_pass(mode: str, src: Path, piece: int) -> None:
    """In the child: one pass over the annotations, items dropped."""
    sys.path.insert(0, str(ROOT))
    from converters.readers.coco import _stream

    n = 0
    if mode == "ijson":
        for _ in _stream.items(src):
            n += 1
    else:
        for batch in _stream.item_batches(src, piece):
            n += len(batch)
    print(n)


def run(cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of one child; a failure stops the bench."""
    t = time.perf_counter()
    # cwd: ``python -m`` puts it first on sys.path, before PYTHONPATH's tree
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err}")
    return wall, usage.ru_maxrss * 1024


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", type=Path, help="a COCO file (default: the 10x file, generated)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--piece", type=int, nargs="+", default=[2**20, 4 * 2**20])
    ap.add_argument("--convert", action="store_true", help="also whole conversions (lbconvert vs baseline vs floor)")
    ap.add_argument("--baseline-src", type=Path, help="a source tree whose converters package is the baseline CLI")
    ap.add_argument("--pass", dest="one", nargs=3, metavar=("MODE", "SRC", "PIECE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        one_pass(args.one[0], Path(args.one[1]), int(args.one[2]))
        return 0
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        src = args.src
        if src is None:
            src = tmp / "instances_x10.json"
            subprocess.run([sys.executable, str(HERE / "bench_coco.py"), "--generate", str(src), "50000"],
                           check=True, capture_output=True)
        print(f"{src}: {src.stat().st_size / 1e6:.1f} MB", flush=True)
        me = [sys.executable, str(Path(__file__).resolve()), "--pass"]
        cases: dict[str, tuple[list[str], dict[str, str] | None]] = {
            "ijson pass": ([*me, "ijson", str(src), "0"], None)}
        for piece in args.piece:
            cases[f"chunks pass {piece // 1024} KiB"] = ([*me, "chunks", str(src), str(piece)], None)
        if args.convert:
            here_env = {**os.environ, "PYTHONPATH": str(ROOT)}
            cli = [sys.executable, "-m", "converters", "convert", str(src), "-o"]
            cases["floor"] = ([sys.executable, str(HERE / "bench_coco.py"), "--floor", str(src), str(tmp / "f.ndjson")], None)
            cases["convert (this tree)"] = ([*cli, str(tmp / "a.ndjson")], here_env)
            if args.baseline_src:
                base_env = {**os.environ, "PYTHONPATH": str(args.baseline_src.resolve())}
                cases["convert (baseline)"] = ([*cli, str(tmp / "b.ndjson")], base_env)
        walls: dict[str, list[float]] = {k: [] for k in cases}
        peaks: dict[str, list[int]] = {k: [] for k in cases}
        for _ in range(args.repeat):
            for name, (cmd, env) in cases.items():
                wall, peak = run(cmd, env, tmp)
                walls[name].append(wall)
                peaks[name].append(peak)
        med = {k: statistics.median(v) for k, v in walls.items()}
        rss = {k: max(v) for k, v in peaks.items()}
        for name in cases:
            print(f"  {name:24} median {med[name]:7.3f}s  peak RSS {rss[name] / 2**20:7.1f} MiB", flush=True)
        for name in cases:
            if name.startswith("chunks"):
                print(f"{name} / ijson pass: wall {med[name] / med['ijson pass']:.2f}x, "
                      f"peak RSS {rss[name] / rss['ijson pass']:.2f}x")
        if args.convert:
            print(f"convert (this tree) / floor: wall {med['convert (this tree)'] / med['floor']:.2f}x")
            if "convert (baseline)" in cases:
                print(f"convert (this tree) / baseline: wall {med['convert (this tree)'] / med['convert (baseline)']:.2f}x, "
                      f"peak RSS {rss['convert (this tree)'] / rss['convert (baseline)']:.2f}x")
                print(f"convert (baseline) / floor: wall {med['convert (baseline)'] / med['floor']:.2f}x")
            if args.baseline_src:
                a, b = (tmp / "a.ndjson").read_bytes(), (tmp / "b.ndjson").read_bytes()
                print("outputs", "identical" if _rows(a) == _rows(b) else "DIFFER")
    return 0


def _rows(data: bytes) -> list[bytes]:
    """The rows without their uuids (fresh per run)."""
    import re

    return sorted(re.sub(rb'"uuid":"[^"]*"', b"", line) for line in data.splitlines())


if __name__ == "__main__":
    raise SystemExit(main())
