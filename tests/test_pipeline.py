"""The writer end to end on assets built in memory: matrix, mapping, report, strictness."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from converters.errors import MappingError, OptionsError
from converters.model import (
    Annotation,
    Asset,
    Box,
    Classification,
    Entity,
    Keyframe,
    Media,
    MultiPolygon,
    Point,
    Polygon,
    Polyline,
    Relationship,
    Segment,
    SourceRef,
    VideoObject,
)
from converters import convert, write
from tests.conftest import read_ndjson

SRC = SourceRef(file="mem.json")


def ann(key: str, label: str, shape, **kw) -> Annotation:
    return Annotation(key=key, source=SourceRef(file="mem.json", annotation_id=key), label=label, shape=shape, **kw)


IMAGE = Asset(
    name="a.jpg",
    media=Media.IMAGE,
    source=SRC,
    width=100,
    height=50,
    annotations=(
        ann("1", "car", Box(x_min=1, y_min=2, x_max=11, y_max=12), classifications=(Classification.radio("occluded", "false"),)),
        ann("2", "car", Polygon(exterior=((0, 0), (10, 0), (10, 10)))),
        ann("3", "lane", Polyline(points=((0, 0), (50, 25)))),
        ann("4", "person", MultiPolygon(polygons=(Polygon(exterior=((0, 0), (5, 0), (5, 5))), Polygon(exterior=((20, 20), (30, 20), (30, 30)))))),
        ann("5", "car", Box(x_min=1, y_min=1, x_max=5, y_max=5), confidence=0.2),
        ann("6", "nose", Point(x=3, y=4), confidence=0.9),
        Annotation(key="7", source=SRC, classification=Classification.checklist("tags", ["night"])),
        Relationship(key="8", source=SRC, label="rel", from_key="1", to_key="2"),
    ),
)
VIDEO = Asset(
    name="clip.mp4",
    media=Media.VIDEO,
    source=SRC,
    annotations=(
        VideoObject(key="t1", source=SRC, label="car", segments=(Segment(keyframes=(Keyframe(frame=1, shape=Box(x_min=0, y_min=0, x_max=5, y_max=5)), Keyframe(frame=4, shape=Box(x_min=2, y_min=2, x_max=7, y_max=7)))),), frames_read=4),
        VideoObject(key="t2", source=SRC, label="road", segments=(Segment(keyframes=(Keyframe(frame=1, shape=Polyline(points=((0, 0), (1, 1)))),)),)),
        VideoObject(key="t3", source=SRC, label="blob", segments=(Segment(keyframes=(Keyframe(frame=1, shape=Polygon(exterior=((0, 0), (1, 0), (1, 1)))),)),)),
        Annotation(key="c", source=SRC, classification=Classification.radio("weather", "sun", frames=((1, 3),))),
    ),
)
TEXT = Asset(
    name="docs.jsonl",
    media=Media.TEXT,
    source=SRC,
    text="Hello 😀 world",
    fields={"index": "0"},
    annotations=(ann("e", "GREETING", Entity(start=0, end=5)), ann("f", "WORLD", Entity(start=8, end=13))),
)


def run(tmp_path: Path, *assets: Asset, **kw):
    out = tmp_path / "out.ndjson"
    report = write(assets, out, **kw)
    report.check()
    return report, (read_ndjson(out) if out.exists() else None)


def test_image__rows_report_and_matrix(tmp_path: Path) -> None:
    report, rows = run(tmp_path, IMAGE, min_score=0.5)
    kinds = [next(k for k in ("bbox", "polygon", "line", "point", "answer") if k in r) for r in rows]
    assert kinds == ["bbox", "polygon", "line", "polygon", "polygon", "point", "answer"]
    assert rows[0]["classifications"] == [{"name": "occluded", "answer": {"name": "false"}}]
    assert rows[5]["confidence"] == 0.9  # kept for pre-labels
    assert report.counts()["bbox"] == {"read": 2, "written": 1, "skipped": 1}
    assert report.counts()["relationship"] == {"read": 1, "written": 0, "skipped": 1}
    assert report.counts()["polygon"] == {"read": 2, "written": 2, "skipped": 0}
    assert {e.code for e in report.entries} >= {"below-min-score", "not-importable", "multipart-split"}
    assert len({r["uuid"] for r in rows}) == len(rows)


def test_ground_truth_drops_confidence(tmp_path: Path) -> None:
    report, rows = run(tmp_path, IMAGE, mode="ground-truth")
    assert not any("confidence" in r for r in rows)
    assert report.tallies["confidence-dropped"] == 2


def test_video__tracks_frames_and_gt_only_lines(tmp_path: Path) -> None:
    report, rows = run(tmp_path, VIDEO)
    assert [r.get("name") for r in rows] == ["car", "weather"]
    assert rows[0]["segments"][0]["keyframes"][1] == {"frame": 4, "bbox": {"top": 2, "left": 2, "height": 5, "width": 5}}
    assert rows[1]["frames"] == [{"start": 1, "end": 3}]
    codes = {e.code for e in report.entries}
    assert {"ground-truth-only", "not-importable"} <= codes
    _, gt_rows = run(tmp_path, VIDEO, mode="ground-truth")
    assert [r.get("name") for r in gt_rows] == ["car", "road", "weather"]


def test_text__entities_and_data_rows(tmp_path: Path) -> None:
    rows_path = tmp_path / "rows.json"
    report, rows = run(tmp_path, TEXT, write_data_rows=rows_path, global_key="{stem}-{index}")
    assert [r["location"] for r in rows] == [{"start": 0, "end": 4}, {"start": 8, "end": 12}]
    assert json.loads(rows_path.read_text()) == [{"global_key": "docs-0", "row_data": TEXT.text}]
    _, utf16 = run(tmp_path, TEXT, offsets="utf16")
    assert utf16[1]["location"] == {"start": 9, "end": 13}


def test_strict__nothing_written(tmp_path: Path) -> None:
    report, rows = run(tmp_path, IMAGE, strict=True)
    assert rows is None and report.options["strict_failed"]
    assert (tmp_path / "out.report.json").exists()


def test_given_ontology_rows_use_schema_ids(tmp_path: Path) -> None:
    ont = {
        "tools": [{"tool": "rectangle", "name": "car", "featureSchemaId": "c" * 25, "classifications": [
            {"type": "radio", "name": "occluded", "featureSchemaId": "o" * 25, "options": [{"value": "false", "featureSchemaId": "f" * 25}]}]}],
        "classifications": [],
    }
    (tmp_path / "ont.json").write_text(json.dumps(ont))
    only_box = Asset(name="a.jpg", media=Media.IMAGE, source=SRC, annotations=IMAGE.annotations[:1])
    _, rows = run(tmp_path, only_box, ontology=tmp_path / "ont.json")
    assert rows[0]["schemaId"] == "c" * 25 and "name" not in rows[0]
    assert rows[0]["classifications"] == [{"schemaId": "o" * 25, "answer": {"schemaId": "f" * 25}}]
    with pytest.raises(MappingError, match="mem.json, annotation 2: class 'car' is a polygon"):
        run(tmp_path, IMAGE, ontology=tmp_path / "ont.json")
    report, rows = run(tmp_path, IMAGE, ontology=tmp_path / "ont.json", on_unmapped="skip")
    assert report.skipped["polygon"] == 2 and all("schemaId" in r for r in rows)


def test_media_mismatch_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OptionsError, match="media video: the converters source gives image data rows"):
        run(tmp_path, IMAGE, media="video")


def test_rerun_is_byte_identical(tmp_path: Path) -> None:
    write([IMAGE, VIDEO, TEXT], tmp_path / "a.ndjson")
    write(iter([IMAGE, VIDEO, TEXT]), tmp_path / "b.ndjson")
    assert (tmp_path / "a.ndjson").read_bytes() == (tmp_path / "b.ndjson").read_bytes()


def test_undecodable_mask__one_line_error_with_location(tmp_path: Path) -> None:
    from converters.errors import ParseError
    from converters.model import Mask

    def broken():
        raise OSError("truncated PNG")

    bad = Asset(name="m.png", media=Media.IMAGE, source=SRC, width=4, height=4,
                annotations=(ann("m1", "blob", Mask(width=4, height=4, load=broken)),))
    for fmt in ("png", "composite"):
        with pytest.raises(ParseError, match=r"mem.json, annotation m1: mask cannot be decoded: truncated PNG"):
            run(tmp_path, bad, mask_format=fmt)
        assert not (tmp_path / "out.ndjson").exists()


@pytest.mark.parametrize("strict", [False, True])
def test_a_run_that_finds_no_asset_is_an_error(tmp_path: Path, capsys, strict: bool) -> None:
    from converters.cli import main
    from converters.errors import NoAssetsError

    src = tmp_path / "instances.json"
    src.write_text(json.dumps({"images": [], "annotations": [], "categories": [{"id": 1, "name": "a"}]}), encoding="utf-8")
    with pytest.raises(NoAssetsError, match=r"no images found in .*instances\.json"):
        convert([src], tmp_path / "out.ndjson")
    argv = ["convert", str(src), "-o", str(tmp_path / "out.ndjson"), "--quiet", *(["--strict"] if strict else [])]
    assert main(argv) == 1
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(err) == 1 and err[0].startswith("error: no images found in ")
    assert not (tmp_path / "out.ndjson").exists()
COCO = {
    "images": [{"id": 1, "file_name": "a.jpg", "width": 40, "height": 30}],
    "categories": [{"id": 1, "name": "cat"}],
    "annotations": [
        {"id": 10, "image_id": 1, "category_id": 1, "bbox": [1, 2, 10, 5], "segmentation": [[1, 2, 11, 2, 11, 7]]},
        {"id": 11, "image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 4], "iscrowd": 1,
         "segmentation": {"size": [30, 40], "counts": [0, 16, 1184]}},
    ],
}


def test_convert_is_read_plus_write(tmp_path: Path) -> None:
    """read() hands back the reader's report (its skips), and writing that reading gives the
    same bytes and the same counts as convert()."""
    import converters

    src = tmp_path / "instances.json"
    src.write_text(json.dumps(COCO))
    opts = {"fmt": "coco", "reader_options": {"crowd": "skip"}, "mode": "ground-truth"}
    converted = converters.convert([src], tmp_path / "c.ndjson", **opts)  # type: ignore[arg-type]
    reading = converters.read([src], **opts)  # type: ignore[arg-type]
    assert reading.format == "coco" and reading.report.read == {}  # lazy: nothing read yet
    assets = list(reading.assets)
    assert reading.report.skipped["mask"] + reading.report.skipped["polygon"] == 1  # the crowd region
    written = converters.write(assets, tmp_path / "w.ndjson", mode="ground-truth",
                               reader_report=reading.report, source=reading.source)
    assert (tmp_path / "w.ndjson").read_bytes() == (tmp_path / "c.ndjson").read_bytes()
    assert written.counts() == converted.counts()
    written.check()


def test_write_defaults__uuids_do_not_follow_the_source_identity(tmp_path: Path) -> None:
    """uuids are uuid5(feature, data row, key) (issue 12): the source's identity names it in
    the report but is never hashed, so the same annotation written from another source (or a
    renamed export) keeps its uuid and a re-import overrides it."""
    only_box = Asset(name="a.jpg", media=Media.IMAGE, source=SRC, annotations=IMAGE.annotations[:1])
    _, a = run(tmp_path, only_box)
    write([only_box], tmp_path / "b.ndjson", source="my-db")
    b = read_ndjson(tmp_path / "b.ndjson")
    assert a[0]["dataRow"] == {"globalKey": "a.jpg"} and a[0]["uuid"] == b[0]["uuid"]
    assert json.loads((tmp_path / "b.report.json").read_text())["options"]["format"] == "my-db"


@pytest.mark.parametrize("call", ["write", "convert", "read"])
def test_unknown_keyword_is_an_options_error_listing_the_known(tmp_path: Path, call: str) -> None:
    import converters

    fn = getattr(converters, call)
    args = ([IMAGE], tmp_path / "o.ndjson") if call == "write" else ([tmp_path], tmp_path / "o.ndjson")
    if call == "read":
        args = ([tmp_path],)
    with pytest.raises(OptionsError, match=rf"{call}\(\) has no option 'bogus' \(options: mode, media, "):
        fn(*args, bogus=1)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"mode": "gound-truth"}, "mode must be one of"),
        ({"mask_format": "uri"}, "mask_format uri writes one PNG per instance: give mask_dir"),
        ({"mask_dir": "m"}, "mask_dir is not used with mask_format png"),
        ({"min_score": 2.0}, "min_score must be within"),
        ({"max_rows_per_file": 0}, "max_rows_per_file must be at least 1"),
        ({"offsets": "bytes"}, "offsets must be one of codepoints, utf16"),
        ({"on_unmapped": "drop"}, "on_unmapped must be one of error, skip"),
        ({"media": "hologram"}, "media must be one of image"),
    ],
)
def test_options_are_checked_at_construction_naming_the_field(kw, field) -> None:
    from converters import ConvertOptions, WriteOptions

    for cls in (WriteOptions, ConvertOptions):
        with pytest.raises(OptionsError, match=field):
            cls(**kw)


def test_geometry_options_error_is_an_options_error_naming_the_field() -> None:
    from converters import GeometryOptions
    from converters.options import flag_of

    with pytest.raises(OptionsError, match="parts must be one of polygons, mask, got 'blob'") as info:
        GeometryOptions(parts="blob")  # type: ignore[arg-type]
    assert info.value.render(flag_of).startswith("--polygon-parts must be one of")


def test_library_errors_name_fields_and_the_cli_names_flags(tmp_path: Path, capsys) -> None:
    from converters.cli import main

    with pytest.raises(OptionsError, match="^mask_url_prefix needs mask_dir"):
        write([IMAGE], tmp_path / "o.ndjson", mask_url_prefix="https://x")
    src = tmp_path / "in.json"
    src.write_text(json.dumps(COCO))
    assert main(["convert", str(src), "-o", str(tmp_path / "o.ndjson"), "--mask-url-prefix", "https://x"]) == 1
    assert capsys.readouterr().err.startswith("error: --mask-url-prefix needs --mask-dir")
