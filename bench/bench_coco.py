"""Benchmark (issue 16): whole processes on a val2017-shaped COCO file, as ratios with targets.

Generates COCO instances files shaped like val2017 (``--scale 1`` = 5,000 images, ~37,000
objects: boxes and polygons, 80 sparse categories; ``--scale 10`` = 50,000 images), then
runs, interleaved and ``--repeat`` times (medians), one process each of:

* **floor**: ``python bench/bench_coco.py --floor SRC OUT``: load the JSON (orjson), build one
  Labelbox-shaped dict per object, dump every row (orjson): the least any converter must do;
* **lbconvert**: ``lbconvert convert SRC -o OUT`` as a user runs it (validation, geometry
  checks, ontology, uuids, report, atomic write), its package byte-compiled first as an
  installed wheel is (``--no-compile``: as it is; see :func:`byte_compile`);
* **sdk** (1x by default): ``bench/sdk_coco.py`` run with the Labelbox SDK's python
  (``--sdk-python``, default ``$LB_ORACLE_PYTHON``): the hand-written SDK conversion.

Each process's wall time and peak RSS (``os.wait4``) are recorded; the table prints every
target of the issue with the measured ratio and whether it is met. Machines are noisy: only
the ratios (measured in the same run, interleaved) mean anything.

    python bench/bench_coco.py [--scale 1 10] [--repeat 3] [--sdk-scales 1] [--baseline OTHER/lbconvert]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

#: Images at scale 1 (val2017).
IMAGES = 5000


def generate(path: Path, *, images: int, seed: int = 0) -> int:
    """val2017-like: 60% of the objects carry a polygon as well as their box."""
    from _harness import synthetic_coco

    return synthetic_coco(path, images=images, polygon_share=0.6, seed=seed)[0]


def floor(src: Path, out: Path) -> None:
    """The least any converter must do: orjson load, one dict per object, orjson dump."""
    import orjson  # the floor uses the fastest JSON library there is

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


def _warm(path: Path) -> None:
    """Read a file through once (into the page cache), keeping nothing."""
    with open(path, "rb") as fh:
        while fh.read(1 << 22):
            pass


def run(cmd: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of one child process; a failure stops the bench."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err}")
    return wall, usage.ru_maxrss * 1024  # Linux: kilobytes


def byte_compile(lbconvert: str) -> None:
    """Byte-compile the package ``lbconvert`` imports, as pip does when it installs the wheel.

    An editable checkout run with ``PYTHONDONTWRITEBYTECODE=1`` never gets a ``__pycache__``, so
    each of its processes compiles every module of ours again: ~0.1 s a start on this machine,
    a third of the 1x floor, that no installed copy pays (``bench/bench_startup.py``)."""
    python = str(Path(lbconvert).with_name("python"))
    where = "import converters, os; print(os.path.dirname(converters.__file__))"
    # run from / so that a checkout in the current folder does not shadow that venv's install
    package = subprocess.run([python, "-c", where], cwd="/", check=True, capture_output=True, text=True).stdout.strip()
    subprocess.run([python, "-m", "compileall", "-q", package], check=True, stdout=subprocess.DEVNULL)


def commands(src: Path, tmp: Path, sdk_python: str | None, baseline: str | None = None) -> dict[str, list[str]]:
    lbconvert = shutil.which("lbconvert", path=str(Path(sys.executable).parent)) or shutil.which("lbconvert")
    if lbconvert is None:
        raise SystemExit("lbconvert is not installed beside this python (pip install -e .)")
    cmds = {
        "floor": [sys.executable, str(HERE / "bench_coco.py"), "--floor", str(src), str(tmp / "floor.ndjson")],
        "lbconvert": [lbconvert, "convert", str(src), "-o", str(tmp / "ours.ndjson")],
    }
    if baseline:  # another checkout's lbconvert (e.g. main's), to show what a branch gained
        cmds["baseline"] = [baseline, "convert", str(src), "-o", str(tmp / "baseline.ndjson")]
    if sdk_python:
        cmds["sdk"] = [sdk_python, str(HERE / "sdk_coco.py"), str(src), str(tmp / "sdk.ndjson")]
    return cmds


def measure(scale: int, repeat: int, sdk_python: str | None, tmp: Path,
            base: int = IMAGES, baseline: str | None = None, compile_first: bool = True) -> dict[str, tuple[float, int]]:
    """Median wall time and peak RSS of each command at one scale (runs interleaved)."""
    src = tmp / f"instances_x{scale}.json"
    # generated in a child process: Linux carries a process's peak RSS across fork + exec, so a
    # bench process that built a 1 GB file in memory would lend that peak to every child it starts
    done = subprocess.run([sys.executable, str(HERE / "bench_coco.py"), "--generate", str(src), str(base * scale)],
                          check=True, capture_output=True, text=True)
    objects = int(done.stdout.strip())
    print(f"scale {scale}x: {base * scale} images, {objects} objects, {src.stat().st_size / 1e6:.1f} MB", flush=True)
    cmds = commands(src, tmp, sdk_python, baseline)
    if compile_first:
        for name in ("lbconvert", "baseline"):
            if name in cmds:
                byte_compile(cmds[name][0])
    times: dict[str, list[float]] = {name: [] for name in cmds}
    rss: dict[str, list[int]] = {name: [] for name in cmds}
    for _ in range(repeat):
        for name, cmd in cmds.items():
            # every process starts with the source in the page cache: the kernel may have
            # dropped it during the run before (the SDK script runs for seconds), and the
            # first process after that would pay the disk read the others do not
            _warm(src)
            wall, peak = run(cmd)
            times[name].append(wall)
            rss[name].append(peak)
    for name in cmds:
        ts = times[name]
        print(f"  {name:9} median {statistics.median(ts):7.3f}s (min {min(ts):.3f}, max {max(ts):.3f})  "
              f"peak RSS {max(rss[name]) / 2**20:7.1f} MiB", flush=True)
    src.unlink()
    return {name: (statistics.median(times[name]), max(rss[name])) for name in cmds}


def table(results: dict[int, dict[str, tuple[float, int]]]) -> list[tuple[str, str, float, bool]]:
    """(what, target, measured, met) for every target of issue 16 the run can tell."""
    rows: list[tuple[str, str, float, bool]] = []
    for scale, r in sorted(results.items()):
        ratio = r["lbconvert"][0] / r["floor"][0]
        rows.append((f"lbconvert / floor, {scale}x (time)", "<= 2.0", ratio, ratio <= 2.0))
        if "sdk" in r:
            speedup = r["sdk"][0] / r["lbconvert"][0]
            rows.append((f"SDK script / lbconvert, {scale}x (time)", ">= 3.5 (5 wanted)", speedup, speedup >= 3.5))
        if "baseline" in r:
            gain = r["baseline"][0] / r["lbconvert"][0]
            rows.append((f"baseline / lbconvert, {scale}x (time)", "(information)", gain, gain >= 1))
    if 1 in results and 10 in results:
        growth = results[10]["lbconvert"][1] / results[1]["lbconvert"][1]
        rows.append(("lbconvert peak RSS 10x / 1x", "<= 1.3", growth, growth <= 1.3))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=int, nargs="+", default=[1], help="sizes, in val2017s (1 = 5,000 images)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sdk-python", default=os.environ.get("LB_ORACLE_PYTHON"),
                    help="python with labelbox[data]==5.2.1 for bench/sdk_coco.py (default $LB_ORACLE_PYTHON)")
    ap.add_argument("--sdk-scales", type=int, nargs="*", default=[1], help="scales the SDK script runs at")
    ap.add_argument("--baseline", metavar="LBCONVERT", help="also time this lbconvert (another checkout's)")
    ap.add_argument("--images", type=int, default=IMAGES, help="images at scale 1 (a quick run: fewer)")
    ap.add_argument("--no-compile", action="store_true",
                    help="time the package as it is (by default it is byte-compiled first, as an installed wheel is)")
    ap.add_argument("--floor", nargs=2, metavar=("SRC", "OUT"), help=argparse.SUPPRESS)
    ap.add_argument("--generate", nargs=2, metavar=("OUT", "IMAGES"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.generate:
        print(generate(Path(args.generate[0]), images=int(args.generate[1])))
        return 0
    if args.floor:
        floor(Path(args.floor[0]), Path(args.floor[1]))
        return 0
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for scale in args.scale:
            sdk = args.sdk_python if scale in args.sdk_scales else None
            results[scale] = measure(scale, args.repeat, sdk, Path(tmp), args.images, args.baseline,
                                     compile_first=not args.no_compile)
    print(f"\n{'target':44} {'wanted':18} {'measured':>8}  met")
    for what, target, value, met in table(results):
        print(f"{what:44} {target:18} {value:8.2f}  {'yes' if met else 'no'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
