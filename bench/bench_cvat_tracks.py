"""Benchmark: CVAT video tracks of 100,000 frames against a floor measured in the same run.

Generates a CVAT for video 1.1 export with two tracks of ``--frames`` rows each (every row
written, as CVAT exports them):

* a point alternating between x = 0 and x = 10 px on every frame (the battery case that was
  quadratic: every row must be kept, 30,000 frames took over a minute);
* a box drifting smoothly (most rows are dropped as re-interpolable).

and times, alternately and several times:

* **floor**: stream the XML with lxml, read every row's frame and coordinates, build one
  Labelbox-shaped keyframe dict per row and dump one row per track (keeping every row: the
  least a converter must do, without any keyframe selection);
* **convert**: ``converters.convert(media="video")`` (segments, keyframe selection with the
  0.5 px guarantee, payloads, uuids, report, atomic write).

Only the ratio means anything.

    python bench/bench_cvat_tracks.py [--frames 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lxml import etree  # noqa: E402

from _harness import compare  # noqa: E402
from converters import convert  # noqa: E402


def generate(path: Path, frames: int) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write('<?xml version="1.0" encoding="utf-8"?>\n<annotations><version>1.1</version><meta><task>'
                 f"<name>bench</name><mode>interpolation</mode><size>{frames}</size><labels>"
                 "<label><name>dot</name><type>points</type><attributes></attributes></label>"
                 "<label><name>car</name><type>rectangle</type><attributes></attributes></label></labels>"
                 "<original_size><width>1920</width><height>1080</height></original_size></task>"
                 "<source>bench.mp4</source></meta>\n")
        fh.write('<track id="0" label="dot" source="manual">\n')
        for f in range(frames):
            fh.write(f'<points frame="{f}" keyframe="{int(f == 0)}" outside="0" occluded="0" '
                     f'points="{10 * (f % 2) + 100:.2f},200.00" z_order="0"></points>\n')
        fh.write("</track>\n")
        fh.write('<track id="1" label="car" source="manual">\n')
        for f in range(frames):
            x, y = 500 + 300 * math.sin(f / 900), 400 + 200 * math.cos(f / 1300)
            fh.write(f'<box frame="{f}" keyframe="{int(f == 0)}" outside="0" occluded="0" xtl="{x:.2f}" '
                     f'ytl="{y:.2f}" xbr="{x + 80:.2f}" ybr="{y + 40:.2f}" z_order="0"></box>\n')
        fh.write("</track>\n</annotations>\n")


def floor(src: Path, out: Path) -> None:
    tracks: list[list[dict]] = []
    for _, elem in etree.iterparse(str(src), events=("end",), tag=("track", "points", "box")):
        if elem.tag == "track":
            tracks.append(current)  # noqa: F821 - set by the first row of each track
            elem.clear()
            continue
        if elem.getprevious() is None:
            current = []
        f = int(elem.get("frame"))
        if elem.tag == "points":
            x, y = (float(v) for v in elem.get("points").split(","))
            current.append({"frame": f + 1, "point": {"x": x, "y": y}})
        else:
            x0, y0, x1, y1 = (float(elem.get(k)) for k in ("xtl", "ytl", "xbr", "ybr"))
            current.append({"frame": f + 1, "bbox": {"top": y0, "left": x0, "height": y1 - y0, "width": x1 - x0}})
    with open(out, "w", encoding="utf-8") as fh:
        for i, kfs in enumerate(tracks):
            fh.write(json.dumps({"uuid": str(i), "dataRow": {"globalKey": "bench.mp4"}, "name": "x",
                                 "segments": [{"keyframes": kfs}]}) + "\n")


def run(src: Path, out: Path) -> None:
    convert([src], out, fmt="cvat", media="video", report=out.with_suffix(".report.json"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        src = work / "annotations.xml"
        generate(src, args.frames)
        print(f"{args.frames:,} frames x 2 tracks, {src.stat().st_size / 1e6:.1f} MB of XML")
        compare(floor, run, src=src, workdir=work, repeat=args.repeat)


if __name__ == "__main__":
    main()
