"""Benchmark (issue 16): what ``lbconvert convert`` pays for imports, per git ref, as ratios.

Each REF's ``converters/`` is exported (``git archive``) into a temporary folder and run from
there (``PYTHONPATH``, ahead of the editable install) with this venv's python, so two
commits are timed under the same interpreter and packages. Per REF and per bytecode state:

* **source**: no ``__pycache__`` (``PYTHONDONTWRITEBYTECODE=1``, an editable checkout that
  never wrote one): every module of ours is compiled at each start;
* **compiled**: ``compileall`` first, as a wheel installed by pip is.

Timed, interleaved REF by REF, ``--repeat`` times (medians):

* ``imports``: the sum of the top-level ``-X importtime`` entries of ``import converters.cli``
  + one ``convert`` run of a small COCO file (so imports made inside the run count too);
* ``wall``: the whole ``lbconvert convert SRC -o OUT`` process on SRC (``--generate`` one
  with ``bench/bench_coco.py --generate SRC 5000``: the 11 MB val2017-shaped file), next to
  the floor process of bench_coco.py (orjson load + one dict per row + dump).

    python bench/bench_startup.py SRC [--refs main HEAD] [--repeat 9] [--no-wall]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

#: What the ``lbconvert`` console script runs.
ENTRY = "import sys; from converters.cli import main; sys.exit(main())"


def export(ref: str, into: Path, compiled: bool) -> Path:
    """``ref``'s package in ``into`` (byte-compiled when ``compiled``)."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "converters"], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    if compiled:
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(into / "converters")], check=True)
    return into


def import_total_ms(code: str, env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Sum of the top-level ``-X importtime`` cumulative figures of one process, in ms, and
    the process's CPU seconds (user + system)."""
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, "-X", "importtime", "-c", code], env=env, cwd=cwd,
                                stdout=subprocess.DEVNULL, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        err.seek(0)
        stderr = err.read()
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"import run failed:\n{stderr}")
    total = 0
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = line.split("|", 2)
            if cumulative.strip().isdigit() and not name.startswith("  "):  # depth 0 only
                total += int(cumulative)
    return total / 1000, usage.ru_utime + usage.ru_stime


def wall_s(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one child process (CPU is less disturbed by the
    other processes of a busy machine than wall time is)."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{' '.join(cmd)} failed")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("src", type=Path, help="the COCO file the wall-time runs convert")
    ap.add_argument("--refs", nargs="+", default=["main", "HEAD"], help="git refs; the first is the baseline")
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--bytecode", choices=["source", "compiled", "both"], default="both")
    ap.add_argument("--no-wall", action="store_true", help="the start-up runs only (no conversion of SRC)")
    args = ap.parse_args()
    states = ["source", "compiled"] if args.bytecode == "both" else [args.bytecode]
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp_name:
        tmp = Path(tmp_name)
        small = tmp / "small.json"
        small.write_text(json.dumps({
            "images": [{"id": 1, "file_name": "a.jpg", "width": 9, "height": 9}],
            "categories": [{"id": 1, "name": "c"}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2],
                             "segmentation": [[1, 1, 3, 1, 3, 3]]}],
        }))
        small_run = f"import converters.cli as c; c.main(['convert', {str(small)!r}, '-o', {str(tmp / 's.ndjson')!r}, '--quiet'])"
        variants = {(ref, state): export(ref, tmp / f"{i}-{state}", state == "compiled")
                    for i, ref in enumerate(args.refs) for state in states}
        base_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        base_env["PYTHONDONTWRITEBYTECODE"] = "1"  # nothing written: every run sees the same state
        envs = {key: {**base_env, "PYTHONPATH": str(path)} for key, path in variants.items()}
        floor = [sys.executable, str(HERE / "bench_coco.py"), "--floor", str(args.src), str(tmp / "floor.ndjson")]
        imports: dict[tuple[str, str], list[float]] = {k: [] for k in variants}
        walls: dict[tuple[str, str], list[float]] = {k: [] for k in variants}
        cpus: dict[tuple[str, str], list[float]] = {k: [] for k in variants}
        starts: dict[tuple[str, str], list[float]] = {k: [] for k in variants}
        floors: list[float] = []
        for _ in range(args.repeat):
            if not args.no_wall:
                floors.append(wall_s(floor, base_env, tmp)[0])
            for key, path in variants.items():
                total, start_cpu = import_total_ms(small_run, envs[key], path)
                imports[key].append(total)
                starts[key].append(start_cpu)
                if args.no_wall:
                    continue
                wall, cpu = wall_s([sys.executable, "-c", ENTRY, "convert", str(args.src), "-o",
                                    str(tmp / "out.ndjson")], envs[key], path)
                walls[key].append(wall)
                cpus[key].append(cpu)
    median = statistics.median
    print(f"{args.repeat} interleaved runs, medians; 'vs base': ratio to the first ref's median")
    print("start-up: `import converters.cli` + a 1-object COCO convert under -X importtime: the sum of")
    print("          its top-level imports and the process's CPU (user + system), ms; min in brackets")
    print(f"{'ref':12} {'bytecode':9} {'imports ms':>18} {'vs base':>8} {'cpu ms':>16} {'vs base':>8}")
    for state in states:
        base = (args.refs[0], state)
        for ref in args.refs:
            key = (ref, state)
            mi, mc = median(imports[key]), median(starts[key])
            print(f"{ref:12} {state:9} {mi:8.1f} ({min(imports[key]):6.1f}) {mi / median(imports[base]):8.2f} "
                  f"{mc * 1000:7.1f} ({min(starts[key]) * 1000:6.1f}) {mc / median(starts[base]):8.2f}")
    if args.no_wall:
        return 0
    floor_s = median(floors)
    print(f"\nconversion of {args.src.name}: the whole `lbconvert convert` process; floor (bench_coco.py --floor) {floor_s:.3f} s")
    print(f"{'ref':12} {'bytecode':9} {'wall s':>7} {'vs base':>8} {'x floor':>8} {'cpu s':>7} {'vs base':>8}")
    for state in states:
        base = (args.refs[0], state)
        for ref in args.refs:
            key = (ref, state)
            mw, mc = median(walls[key]), median(cpus[key])
            print(f"{ref:12} {state:9} {mw:7.3f} {mw / median(walls[base]):8.2f} {mw / floor_s:8.2f} "
                  f"{mc:7.3f} {mc / median(cpus[base]):8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
