"""Benchmark: peak memory of ``lbconvert convert`` on a file and on the same file ten times larger.

Issue #16: the peak RSS on the 10x file must stay within 1.3x the peak on the 1x file. Each
conversion is a whole CLI process (``python -m converters convert ...``); its peak RSS is the
kernel's ``ru_maxrss`` from ``os.wait4``, so nothing is sampled and the parent's own memory
does not count.

* **COCO**: the val2017-shaped file of ``bench_coco.py`` (1x: 5,000 images, ~37k objects,
  11 MB; 10x: 50,000 images, ~113 MB). Measured with the default ``--coco-stream auto`` (1x
  read whole, 10x streamed), and with ``always`` at both sizes, so the streamed path's own
  growth shows too. ``--whole`` adds the 10x file read whole (the behaviour before
  streaming: about nine times the file size).
* **spaCy DocBin** (needs the ``spacy`` extra): 1x = 5,000 short documents with entities,
  10x = 50,000, read one document at a time.

Every run is done ``--repeat`` times, sizes interleaved; medians are printed, with seconds
(the machine is shared: only ratios mean anything).

    python bench/bench_memory.py [--scale 10] [--repeat 3] [--whole] [--no-spacy] [--no-coco]
"""

from __future__ import annotations

import argparse
import filecmp
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _harness import synthetic_coco  # noqa: E402

TARGET = 1.3


def run_cli(args: list[str]) -> tuple[float, float]:
    """(peak RSS in MB, seconds) of one ``python -m converters`` process."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "converters", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"lbconvert {' '.join(args)} failed:\n{err.decode()}")
    return usage.ru_maxrss / 1024, time.perf_counter() - start  # ru_maxrss is in KiB on Linux


def measure(cases: dict[str, list[str]], repeat: int) -> dict[str, tuple[float, float]]:
    peaks: dict[str, list[float]] = {k: [] for k in cases}
    secs: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(repeat):
        for name, args in cases.items():
            peak, sec = run_cli(args)
            peaks[name].append(peak)
            secs[name].append(sec)
    out = {k: (statistics.median(peaks[k]), statistics.median(secs[k])) for k in cases}
    for k, (peak, sec) in out.items():
        print(f"  {k:28} peak {peak:8.1f} MB  {sec:7.2f} s")
    return out


def ratio(label: str, big: float, small: float) -> bool:
    r = big / small
    ok = r <= TARGET
    print(f"  {label}: {r:.2f}  (target <= {TARGET}: {'met' if ok else 'NOT met'})")
    return ok


def generate(what: str, path: Path, n: int) -> None:
    """Write a test file in a child process: a process forked from a parent that built a big
    file in memory would count the parent's pages in its own peak."""
    subprocess.run([sys.executable, __file__, "--generate", what, str(path), str(n)], check=True)


def coco(tmp: Path, scale: int, repeat: int, whole: bool) -> bool:
    src1, src10 = tmp / "instances_1x.json", tmp / "instances_10x.json"
    for path, images in ((src1, 5000), (src10, 5000 * scale)):
        generate("coco", path, images)
        print(f"COCO {path.name}: {images} images, {path.stat().st_size / 1e6:.1f} MB")

    def args(src: Path, mode: str) -> list[str]:
        out = tmp / f"{src.stem}-{mode}.ndjson"
        return ["convert", str(src), "-o", str(out), "--quiet", "--coco-stream", mode]

    cases = {"1x auto": args(src1, "auto"), f"{scale}x auto": args(src10, "auto"),
             "1x always (streamed)": args(src1, "always"), f"{scale}x always (streamed)": args(src10, "always")}
    if whole:
        cases[f"{scale}x never (whole)"] = args(src10, "never")
    got = measure(cases, repeat)
    # compared in chunks: a parent holding both files would pass its pages on to later children
    same = filecmp.cmp(tmp / "instances_10x-auto.ndjson", tmp / "instances_10x-always.ndjson", shallow=False)
    print(f"  {scale}x output identical, auto vs always: {same}")
    ok = ratio(f"{scale}x / 1x peak, default options", got[f"{scale}x auto"][0], got["1x auto"][0])
    ratio(f"{scale}x / 1x peak, both streamed", got[f"{scale}x always (streamed)"][0], got["1x always (streamed)"][0])
    if whole:
        ratio(f"{scale}x never / 1x auto peak (before streaming)", got[f"{scale}x never (whole)"][0], got["1x auto"][0])
    return ok and same


def docbin(path: Path, docs: int) -> int:
    """A DocBin of ``docs`` short documents, two entities each; returns the file size."""
    import random

    import spacy
    from spacy.tokens import DocBin, Span

    nlp = spacy.blank("en")
    rng = random.Random(0)
    words = [f"w{i}" for i in range(2000)]
    db = DocBin(store_user_data=True)
    for i in range(docs):
        doc = nlp.make_doc(" ".join(rng.choice(words) for _ in range(rng.randint(8, 30))))
        doc.ents = [Span(doc, 0, 1, label="A"), Span(doc, 2, 4, label="B")]
        doc.user_data["global_key"] = f"doc-{i}"
        db.add(doc)
    db.to_disk(path)
    return path.stat().st_size


def spacy_docbin(tmp: Path, scale: int, repeat: int) -> bool:
    paths = {}
    for label, docs in (("1x", 5000), (f"{scale}x", 5000 * scale)):
        paths[label] = tmp / f"docs_{label}.spacy"
        generate("docbin", paths[label], docs)
        size = paths[label].stat().st_size
        print(f"DocBin {paths[label].name}: {docs} documents, {size / 1e6:.1f} MB")
    cases = {f"DocBin {k}": ["convert", str(p), "-o", str(tmp / f"{p.stem}.ndjson"), "--quiet", "--from", "spacy"]
             for k, p in paths.items()}
    got = measure(cases, repeat)
    return ratio(f"DocBin {scale}x / 1x peak", got[f"DocBin {scale}x"][0], got["DocBin 1x"][0])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--whole", action="store_true", help="also the large COCO file read whole (slow, ~1 GB)")
    ap.add_argument("--no-spacy", action="store_true")
    ap.add_argument("--no-coco", action="store_true")
    ap.add_argument("--generate", nargs=3, metavar=("WHAT", "PATH", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.generate:
        what, path, n = args.generate
        if what == "coco":
            synthetic_coco(Path(path), images=int(n), polygon_share=0.6)
        else:
            docbin(Path(path), int(n))
        return 0
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        ok = coco(tmp, args.scale, args.repeat, args.whole) if not args.no_coco else True
        if not args.no_spacy:
            # looked up, not imported: children forked from a parent holding spaCy would count
            # its pages in their own peak
            if importlib.util.find_spec("spacy") is None:
                print("DocBin: skipped (pip install '.[spacy]')")
            else:
                ok = spacy_docbin(tmp, args.scale, args.repeat) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
