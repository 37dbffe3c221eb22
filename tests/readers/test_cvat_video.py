"""CVAT video: tracks to segments and keyframes, Labelbox re-interpolation, end to end."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from converters.cli import main
from converters.model import Box, Media, Point, VideoObject
from converters.readers import ReadContext
from converters.readers.cvat._tracks import TrackRow, interpolate, select_keyframes, split_segments
from converters.readers.cvat import CVATOptions, CVATReader
from converters.readers._xml import parse_xml
from tests.conftest import FIXTURES, read_ndjson

FX = FIXTURES / "cvat"
DATUMARO_VIDEO = FX / "cvat-ai-datumaro/tests/assets/cvat_dataset/for_video/annotations.xml"
OLD_VIDEO = FX / "openvinotoolkit-datumaro/tests/assets/cvat_dataset/for_video/annotations.xml"
SAMPLE = FX / "dagshub-annotation-converter/tests/cvat_video/res/sample_video.xml"
IMAGE_FIXTURES = [
    FX / "cvat-ai-datumaro/tests/assets/cvat_dataset/for_images/train.xml",
    FX / "openvinotoolkit-datumaro/tests/assets/cvat_dataset/for_images/export_project/annotations.xml",
    FX / "openvinotoolkit-datumaro/tests/assets/cvat_dataset/for_images/export_task/train.xml",
    FX / "dagshub-annotation-converter/tests/fs_import/cvat/annotations.xml",
    FX / "dagshub-annotation-converter/tests/cvat/res/pose_grouping.xml",
]  # cgras (273 masks of 7360x4912) is checked by hand: the oracle takes minutes on it


def read(path: Path, media: Media | None = None, **options: object) -> tuple[list, ReadContext]:
    ctx = ReadContext(media=media)
    return list(CVATReader([path], options=CVATOptions(**options), context=ctx).read()), ctx


def video_xml(tmp_path: Path, tracks: str, *, start: int = 0, step: int = 1) -> Path:
    path = tmp_path / "annotations.xml"
    path.write_text(
        f"""<?xml version="1.0"?>
<annotations><version>1.1</version><meta><task><id>7</id><name>clip</name><mode>interpolation</mode>
<start_frame>{start}</start_frame><frame_filter>step={step}</frame_filter>
<labels><label><name>car</name><attributes><attribute><name>speed</name><mutable>True</mutable>
<input_type>select</input_type><default_value>slow</default_value><values>slow
fast</values></attribute><attribute><name>note</name><mutable>True</mutable><input_type>text</input_type>
<default_value></default_value><values></values></attribute></attributes></label></labels>
<original_size><width>640</width><height>480</height></original_size></task>
<source>clip.mp4</source></meta>
{tracks}
</annotations>
""",
        encoding="utf-8",
    )
    return path


def box_rows(frames: list[int], xy: callable, keyframes: set[int], outside: set[int] = frozenset()) -> str:
    rows = []
    for f in frames:
        x, y = xy(f)
        rows.append(f'<box frame="{f}" outside="{int(f in outside)}" occluded="0" keyframe="{int(f in keyframes)}" '
                    f'xtl="{x:.2f}" ytl="{y:.2f}" xbr="{x + 40:.2f}" ybr="{y + 30:.2f}" z_order="0"/>')
    return "\n".join(rows)


# --------------------------------------------------------------------------- pure functions


def test_linear_motion_needs_only_its_ends() -> None:
    frames = list(range(10))
    coords = [(float(f), 2.0 * f) for f in frames]
    assert select_keyframes(frames, coords) == [0, 9]


def test_a_bend_is_kept_and_forced_rows_stay() -> None:
    frames = list(range(11))
    coords = [(float(min(f, 5)), 0.0) for f in frames]  # moves, then stops at frame 5
    assert select_keyframes(frames, coords) == [0, 5, 10]
    assert select_keyframes(frames, coords, forced={2}) == [0, 2, 5, 10]


def test_vertex_count_change_cannot_be_interpolated() -> None:
    coords = [(0.0, 0.0, 1.0, 1.0), (0.0, 0.0, 1.0, 1.0, 2.0, 2.0), (0.0, 0.0, 1.0, 1.0)]
    assert select_keyframes([0, 1, 2], coords) == [0, 1, 2]


def test_outside_rows_split_segments() -> None:
    rows = [TrackRow(f, f in (3, 4), False, (0.0, 0.0)) for f in range(1, 8)]
    assert [[r.frame for r in s] for s in split_segments(rows)] == [[1, 2], [5, 6, 7]]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(-500, 500), st.floats(-500, 500)), min_size=1, max_size=40),
       st.floats(0.05, 3.0))
def test_dropped_rows_are_recovered_within_the_tolerance(points: list, tolerance: float) -> None:
    frames = list(range(0, 2 * len(points), 2))
    kept = select_keyframes(frames, points, tolerance=tolerance)
    assert kept[0] == 0 and kept[-1] == len(points) - 1
    for a, b in zip(kept, kept[1:]):
        for i in range(a + 1, b):
            x, y = interpolate(frames[i], frames[a], points[a], frames[b], points[b])
            assert math.hypot(x - points[i][0], y - points[i][1]) <= tolerance + 1e-9


# --------------------------------------------------------------------------- fixtures


def test_datumaro_video_frames_segments_and_skeleton_tracks() -> None:
    (asset,), ctx = read(DATUMARO_VIDEO)
    assert asset.media is Media.VIDEO and asset.name == "t.mp4" and (asset.width, asset.height) == (25, 20)
    objs = {o.key: o for o in asset.annotations}
    assert set(objs) == {"track0", "track1#0", "track1#1", "track1#2", "track2",
                         "track3/1", "track3/2", "track3/3", "track3/4"}
    # start_frame 10, step 3: CVAT frame 10 is the video's 11th frame; outside at 13 ends the box.
    assert [[k.frame for k in s.keyframes] for s in objs["track0"].segments] == [[11]]
    assert objs["track0"].segments[0].keyframes[0].shape == Box(x_min=3, y_min=4, x_max=10, y_max=5)
    assert [k.frame for k in objs["track3/1"].segments[0].keyframes] == [11, 17]  # runs to the task's end
    assert objs["track3/3"].label == "skeleton 3" and len(objs["track3/3"].segments[0].keyframes) == 1
    speed = objs["track1#0"].segments[0].keyframes[0].classifications
    assert [(c.name, c.answers[0].name) for c in speed] == [("hgl", "hgkf")]
    assert objs["track3/1"].frames_read == 3


def test_sample_video_reappearing_track_gets_a_second_segment() -> None:
    (asset,), _ = read(SAMPLE)
    person, car = asset.annotations
    assert [[k.frame for k in s.keyframes] for s in car.segments] == [[1, 4 - 1], [5]]
    # person: keyframes at CVAT 0 and 3, the occlusion change at 2, and the last row (4) ends it
    assert [k.frame for k in person.segments[0].keyframes] == [1, 3, 4, 5]


def test_frames_before_start_frame_need_the_relative_option(tmp_path: Path) -> None:
    track = '<track id="0" label="car">' + box_rows([0, 1], lambda f: (f, f), {0, 1}) + "</track>"
    path = video_xml(tmp_path, track, start=100, step=2)
    with pytest.raises(Exception) as exc:
        read(path)
    assert "--cvat-frames relative" in str(exc.value) and "line" in str(exc.value)
    (asset,), _ = read(path, frames="relative")
    assert [k.frame for k in asset.annotations[0].segments[0].keyframes] == [101, 103]


def test_mutable_attributes_force_keyframes_and_text_is_dropped_on_video(tmp_path: Path) -> None:
    rows = []
    for f in range(6):
        speed = "fast" if f >= 3 else "slow"
        rows.append(f'<box frame="{f}" outside="0" occluded="0" keyframe="{int(f == 0)}" xtl="{f}" ytl="0" xbr="{f + 5}" '
                    f'ybr="5"><attribute name="speed">{speed}</attribute><attribute name="note">n{f}</attribute></box>')
    (asset,), ctx = read(video_xml(tmp_path, '<track id="4" label="car">' + "".join(rows) + "</track>"))
    kfs = asset.annotations[0].segments[0].keyframes
    assert [k.frame for k in kfs] == [1, 4, 6]  # linear motion; speed changes at CVAT frame 3
    assert [k.classifications[0].answers[0].name for k in kfs] == ["slow", "fast", "fast"]
    assert all(c.name != "note" for k in kfs for c in k.classifications)
    assert "cvat-video-text-attribute" in {e.code for e in ctx.report.entries}


def test_media_image_turns_a_video_into_frame_images() -> None:
    assets, ctx = read(DATUMARO_VIDEO, Media.IMAGE)
    assert [a.name for a in assets] == ["frame_000010.png", "frame_000013.png", "frame_000016.png"]
    assert all(a.media is Media.IMAGE and (a.width, a.height) == (25, 20) for a in assets)
    assert ctx.report.tallies["cvat-track-outside-rows"] == 7


def test_media_video_on_an_images_export_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["convert", str(IMAGE_FIXTURES[0]), "-o", str(tmp_path / "o.ndjson"), "--from", "cvat",
                 "--media", "video", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1 and "--media video" in err


# --------------------------------------------------------------------------- end to end


def _visible_cvat_boxes(path: Path, track_id: str) -> dict[int, tuple[float, float, float, float]]:
    out = {}
    for track in parse_xml(path).getroot().iter("track"):
        if track.get("id") != track_id:
            continue
        for box in track.iter("box"):
            if box.get("outside") != "1":
                out[int(box.get("frame"))] = tuple(float(box.get(k)) for k in ("xtl", "ytl", "xbr", "ybr"))
    return out


def _labelbox_interpolation(row: dict, frame: int) -> tuple[float, float, float, float] | None:
    """Where Labelbox draws the box at ``frame`` (1-based): linear between keyframes of a segment."""
    for seg in row["segments"]:
        kfs = seg["keyframes"]
        for a, b in zip(kfs, kfs[1:] or kfs):
            if a["frame"] <= frame <= b["frame"]:
                t = 0.0 if b["frame"] == a["frame"] else (frame - a["frame"]) / (b["frame"] - a["frame"])
                vals = [a["bbox"][k] + (b["bbox"][k] - a["bbox"][k]) * t for k in ("left", "top", "width", "height")]
                return (vals[0], vals[1], vals[0] + vals[2], vals[1] + vals[3])
    return None


@pytest.mark.parametrize("gt", [False, True])
def test_written_keyframes_reinterpolate_to_every_visible_cvat_frame(tmp_path: Path, gt: bool) -> None:
    frames = list(range(0, 60))
    curve = lambda f: (100 + 3 * f + 0.04 * f * f, 200 - 40 * math.sin(f / 9))  # noqa: E731
    tracks = (
        '<track id="0" label="car">' + box_rows(frames, curve, {0, 30}, outside={45, 46, 47}) + "</track>\n"
        '<track id="1" label="car">' + box_rows(frames[:20], lambda f: (5 * f, 7.0), {0}) + "</track>"
    )
    src = video_xml(tmp_path, tracks, start=0)
    out = tmp_path / "out.ndjson"
    args = ["convert", str(src), "-o", str(out), "--from", "cvat", "--quiet"]
    assert main(args + (["--mode", "ground-truth"] if gt else [])) == 0
    rows = read_ndjson(out)
    assert len(rows) == 2
    for row, track_id in zip(rows, ("0", "1")):
        cvat = _visible_cvat_boxes(src, track_id)
        for f, want in cvat.items():
            got = _labelbox_interpolation(row, f + 1)
            assert got is not None, f"frame {f} not covered"
            assert max(math.hypot(got[i] - want[i], got[i + 1] - want[i + 1]) for i in (0, 2)) <= 0.5
        covered = {fr for seg in row["segments"] for fr in range(seg["keyframes"][0]["frame"], seg["keyframes"][-1]["frame"] + 1)}
        assert covered == {f + 1 for f in cvat}  # nothing drawn where CVAT says outside
    linear = rows[1]["segments"][0]["keyframes"]
    assert [k["frame"] for k in linear] == [1, 20]  # straight motion: only its ends
    assert len(rows[0]["segments"]) == 2 and len(rows[0]["segments"][0]["keyframes"]) < 45


@pytest.mark.parametrize("path", [SAMPLE, DATUMARO_VIDEO], ids=lambda p: p.parts[-5])
def test_fixture_tracks_reinterpolate_within_half_a_pixel(tmp_path: Path, path: Path) -> None:
    out = tmp_path / "out.ndjson"
    assert main(["convert", str(path), "-o", str(out), "--from", "cvat", "--quiet"]) == 0
    rows = [r for r in read_ndjson(out) if "bbox" in r["segments"][0]["keyframes"][0]]
    tracks = [t.get("id") for t in parse_xml(path).getroot().findall("track") if t.find("box") is not None]
    assert len(rows) == len(tracks)
    for row, tid in zip(rows, tracks):
        for f, want in _visible_cvat_boxes(path, tid).items():
            got = _labelbox_interpolation(row, f + 1)
            assert got is not None and max(abs(g - w) for g, w in zip(got, want)) <= 0.5


@pytest.mark.parametrize(
    ("path", "media", "mode", "oracle_media"),
    [(p, None, m, "image") for p in IMAGE_FIXTURES for m in ("prelabel", "ground-truth")]
    + [(p, None, m, "video") for p in (DATUMARO_VIDEO, OLD_VIDEO, SAMPLE) for m in ("prelabel", "ground-truth")]
    + [(p, "image", "prelabel", "image") for p in (DATUMARO_VIDEO, OLD_VIDEO, SAMPLE)],
    ids=lambda v: v.parts[-3] + "/" + v.name if isinstance(v, Path) else str(v),
)
def test_fixtures_pass_the_labelbox_oracle(tmp_path: Path, oracle, path: Path, media: str | None, mode: str,
                                           oracle_media: str) -> None:
    out = tmp_path / "out.ndjson"
    args = ["convert", str(path), "-o", str(out), "--from", "cvat", "--mode", mode, "--quiet"]
    assert main(args + (["--media", media] if media else [])) == 0
    result = oracle(out, mode="mal" if mode == "prelabel" else "gt", media=oracle_media)
    assert result.failed == 0 and result.ok == len(read_ndjson(out)) > 0, result.output
    report = json.loads(out.with_name("out.report.json").read_text())
    for kind, c in report["counts"].items():
        assert c["read"] == c["written"] + c["skipped"], kind


def test_polylines_on_video_are_ground_truth_only(tmp_path: Path) -> None:
    out = tmp_path / "o.ndjson"
    assert main(["convert", str(DATUMARO_VIDEO), "-o", str(out), "--from", "cvat", "--quiet"]) == 0
    report = json.loads(out.with_name("o.report.json").read_text())
    assert report["skipped_by_reason"] == {"ground-truth-only": 1}
    assert report["tallies"]["video-frames-read"] > 0
    assert not any("line" in k["segments"][0]["keyframes"][0] for k in read_ndjson(out))


def test_video_objects_are_video_objects() -> None:
    (asset,), _ = read(OLD_VIDEO)
    assert all(isinstance(o, VideoObject) for o in asset.annotations)
    assert isinstance(asset.annotations[1].segments[0].keyframes[0].shape, Point)


# --------------------------------------------------------------------------- keyframe cost (issue 14, F)


def _examined(monkeypatch, frames: list[int], coords: list) -> tuple[list[int], int]:
    """Keyframes kept and the number of rows the span checks looked at."""
    from converters.readers.cvat import _tracks as _cvat_tracks

    seen = [0]
    original = _cvat_tracks._Spans.ok

    def counting(self, a: int, b: int) -> bool:
        seen[0] += max(b - a - 1, 0)
        return original(self, a, b)

    monkeypatch.setattr(_cvat_tracks._Spans, "ok", counting)
    return select_keyframes(frames, coords), seen[0]


@pytest.mark.parametrize(
    "shape",
    ["zigzag", "linear", "sine", "steps"],
)
def test_keyframe_selection_is_near_linear(monkeypatch, shape: str) -> None:
    """Rows examined grow like n log n, not n^2: the battery's point alternating 0 / 10 px on
    every frame (30,000 frames took over a minute) and smooth neighbours."""
    def coords(n: int) -> list[tuple[float, float]]:
        return {
            "zigzag": [(10.0 * (i % 2), 0.0) for i in range(n)],
            "linear": [(0.5 * i, 0.25 * i) for i in range(n)],
            "sine": [(100 * math.sin(i / 50), 50 * math.cos(i / 80)) for i in range(n)],
            "steps": [(float(i // 100 * 10), 0.0) for i in range(n)],
        }[shape]

    costs = {}
    for n in (5_000, 40_000):
        kept, costs[n] = _examined(monkeypatch, list(range(n)), coords(n))
        assert kept[0] == 0 and kept[-1] == n - 1
    bound = lambda n: 4 * n * math.log2(n)  # noqa: E731
    assert costs[40_000] <= bound(40_000), costs
    assert costs[40_000] / max(costs[5_000], 1) < 8 * 1.3  # x8 rows: about x8 work, never x64


def test_zigzag_track_keeps_every_row_and_reinterpolates_exactly() -> None:
    n = 30_000
    frames = list(range(n))
    coords = [(10.0 * (i % 2), 5.0) for i in range(n)]
    assert select_keyframes(frames, coords) == frames
    forced = select_keyframes(frames[::2], coords[::2])  # every other row: a still point
    assert forced == [0, n // 2 - 1]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 5), st.floats(-50, 50), st.floats(-50, 50), st.floats(0, 30), st.floats(0, 30)),
                min_size=1, max_size=60),
       st.sets(st.integers(0, 59), max_size=5))
def test_boxes_with_gaps_and_forced_rows_are_recovered(rows: list, forced: set[int]) -> None:
    """Boxes (two vertices), uneven frame gaps, forced rows: every dropped row is still
    re-interpolated within 0.5 px (vectorised and per-row checks alike)."""
    frames, coords, f = [], [], 0
    for gap, x, y, w, h in rows:
        f += gap
        frames.append(f)
        coords.append((x, y, x + w, y + h))
    kept = select_keyframes(frames, coords, forced={i for i in forced if i < len(rows)})
    assert {i for i in forced if i < len(rows)} <= set(kept)
    for a, b in zip(kept, kept[1:]):
        for i in range(a + 1, b):
            p = interpolate(frames[i], frames[a], coords[a], frames[b], coords[b])
            for v in (0, 2):
                assert math.hypot(p[v] - coords[i][v], p[v + 1] - coords[i][v + 1]) <= 0.5 + 1e-9
