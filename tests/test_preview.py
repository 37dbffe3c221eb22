"""lbconvert preview: pixels drawn where the rows say, the gallery page, lookups, bad input."""

from __future__ import annotations

import base64
import io
import re
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from converters.cli import main
from converters.errors import ParseError
from converters.preview import find_image, preview
from tests.conftest import OWN_FIXTURES, PUBLIC, read_ndjson

BG = (200, 200, 200)


def make_image(path: Path, size: tuple[int, int] = (100, 80), colour: tuple[int, int, int] = BG) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)
    return path


def write_rows(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def row(key: str, name: str, **payload) -> dict:
    return {"uuid": f"u-{name}-{len(json.dumps(payload))}", "dataRow": {"globalKey": key}, "name": name, **payload}


def png_b64(array: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB")).astype(int)


def test_box_edge_is_drawn_in_its_colour_at_the_right_place(tmp_path: Path) -> None:
    images = tmp_path / "images"
    make_image(images / "a.png")
    rows = write_rows(tmp_path / "o.ndjson", [row("a.png", "car", bbox={"left": 10, "top": 20, "width": 30, "height": 40})])
    result = preview([rows], tmp_path / "prev", images=images)
    colour = result.colours["car"]
    px = pixels(tmp_path / "prev" / "a.png")
    assert tuple(px[40, 10]) == colour  # left edge, halfway down
    assert tuple(px[40, 39]) == colour  # right edge: the box covers columns 10..39
    assert tuple(px[20, 25]) == colour and tuple(px[59, 25]) == colour  # top and bottom rows
    assert tuple(px[40, 8]) == BG and tuple(px[40, 41]) == BG  # just outside
    assert tuple(px[40, 25]) == BG  # a box is outlined, not filled
    assert px.shape[1] >= 100 and px.shape[0] > 80  # the image, then the legend band below


def test_polygon_is_outlined_and_lightly_filled(tmp_path: Path) -> None:
    images = tmp_path / "images"
    make_image(images / "a.png")
    poly = [{"x": 20, "y": 10}, {"x": 80, "y": 10}, {"x": 80, "y": 70}, {"x": 20, "y": 70}]
    result = preview([write_rows(tmp_path / "o.ndjson", [row("a.png", "roof", polygon=poly)])], tmp_path / "p", images=images)
    colour = np.array(result.colours["roof"])
    px = pixels(tmp_path / "p" / "a.png")
    assert tuple(px[40, 20]) == tuple(colour)
    inside = px[40, 50]
    assert tuple(inside) != BG and np.abs(inside - colour).sum() < np.abs(np.array(BG) - colour).sum()
    assert tuple(px[40, 90]) == BG


@pytest.mark.parametrize("form", ["png", "imBytes", "instanceURI-file", "instanceURI-url"])
def test_mask_interior_is_tinted_in_every_mask_form(tmp_path: Path, form: str) -> None:
    images = tmp_path / "images"
    make_image(images / "a.png")
    on = np.zeros((80, 100), dtype=bool)
    on[30:60, 40:90] = True
    colour_rgb = [10, 200, 30]
    rgb = np.zeros((80, 100, 3), dtype=np.uint8)
    rgb[on] = colour_rgb
    mask_dir = tmp_path / "masks"
    extra: list[str] = []
    if form == "png":
        mask = {"png": png_b64(on.astype(np.uint8))}
    elif form == "imBytes":
        mask = {"imBytes": png_b64(rgb), "colorRGB": colour_rgb}
    else:
        (mask_dir / "a").mkdir(parents=True)
        Image.fromarray(rgb).save(mask_dir / "a" / "m1.png")
        uri = (mask_dir / "a" / "m1.png").resolve().as_uri() if form == "instanceURI-file" else "https://cdn.example/masks/a/m1.png"
        mask = {"instanceURI": uri, "colorRGB": colour_rgb}
        extra = ["--mask-dir", str(mask_dir)] if form == "instanceURI-url" else []
    rows = write_rows(tmp_path / "o.ndjson", [row("a.png", "blob", mask=mask)])
    assert main(["preview", str(rows), "--images", str(images), "-o", str(tmp_path / "p"), *extra]) == 0
    px = pixels(tmp_path / "p" / "a.png")
    colour = np.array(preview([rows], tmp_path / "q", images=images, mask_dir=mask_dir if extra else None).colours["blob"])
    interior = px[45, 65]
    assert tuple(interior) != BG
    assert np.abs(interior - colour).sum() < np.abs(np.array(BG) - colour).sum()  # tinted towards the feature
    assert tuple(px[45, 40]) == tuple(colour)  # solid contour on the mask's first column
    assert tuple(px[10, 10]) == BG and tuple(px[45, 95]) == BG  # outside the mask untouched


def test_url_mask_without_mask_dir_is_a_note_not_a_crash(tmp_path: Path) -> None:
    rows = write_rows(tmp_path / "o.ndjson", [row("a.png", "blob", mask={"instanceURI": "https://x/m.png", "colorRGB": [1, 2, 3]})])
    result = preview([rows], tmp_path / "p")
    (page,) = result.pages
    assert any("not found" in n and "--mask-dir" in n for n in page.notes)


def test_point_is_marked(tmp_path: Path) -> None:
    images = tmp_path / "images"
    make_image(images / "a.png")
    rows = write_rows(tmp_path / "o.ndjson", [row("a.png", "nose", point={"x": 50, "y": 40})])
    result = preview([rows], tmp_path / "p", images=images)
    px = pixels(tmp_path / "p" / "a.png")
    assert tuple(px[40, 50]) == result.colours["nose"]
    assert tuple(px[40, 47]) == result.colours["nose"]  # a disc, not a single pixel
    assert tuple(px[40, 30]) == BG


def test_polyline_and_nested_answers_and_tags(tmp_path: Path) -> None:
    images = tmp_path / "images"
    make_image(images / "a.png")
    rows = write_rows(tmp_path / "o.ndjson", [
        row("a.png", "lane", line=[{"x": 10, "y": 70}, {"x": 90, "y": 70}],
            classifications=[{"name": "type", "answer": {"name": "dashed"}}]),
        row("a.png", "weather", answer=[{"name": "rain"}, {"name": "night"}]),
    ])
    result = preview([rows], tmp_path / "p", images=images)
    px = pixels(tmp_path / "p" / "a.png")
    assert tuple(px[70, 50]) == result.colours["lane"]
    (page,) = result.pages
    assert page.tags == ("weather: rain, night",)
    assert page.counts == {"lane": 1, "weather": 1}
    html = (tmp_path / "p" / "index.html").read_text()
    assert "tag: weather: rain, night" in html


def sample_coco(tmp_path: Path) -> Path:
    """A COCO file: one kept box, one box clipped at the border, one degenerate polygon (skipped)."""
    data = {
        "images": [{"id": 1, "file_name": "sub/a.png", "width": 100, "height": 80}],
        "categories": [{"id": 1, "name": "car"}, {"id": 2, "name": "road"}],
        "annotations": [
            {"id": 11, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20]},
            {"id": 12, "image_id": 1, "category_id": 1, "bbox": [70, 50, 60, 20]},
            {"id": 13, "image_id": 1, "category_id": 2, "segmentation": [[0, 0, 5, 5, 5, 5]], "bbox": [0, 0, 5, 5]},
        ],
    }
    src = tmp_path / "instances.json"
    src.write_text(json.dumps(data))
    make_image(tmp_path / "images" / "sub" / "a.png")
    return src


def test_page_lists_skipped_and_changed_annotations_and_dashes_the_changed_row(tmp_path: Path, capsys) -> None:
    src = sample_coco(tmp_path)
    out = tmp_path / "o.ndjson"
    assert main(["convert", str(src), "-o", str(out), "--quiet"]) == 0
    prev = tmp_path / "prev"
    assert main(["preview", str(out), "--images", str(tmp_path / "images"), "-o", str(prev)]) == 0  # report found beside
    assert "1 of 1 data rows drawn (0 without an image)" in capsys.readouterr().err
    html = (prev / "index.html").read_text()
    card = html[html.index('class="card"'):]
    assert "degenerate-polygon" in card and "fewer than 3 distinct points" in card and "annotation 13" in card
    assert "box-clipped" in card and "annotation 12" in card
    assert "1 rows changed by the conversion (outlined dashed)" in card
    px = pixels(prev / "sub" / "a.png")
    colour = json.loads(json.dumps(preview([out], tmp_path / "again").colours))["car"]
    # the clipped box (70..100 x 50..70) is dashed: its left edge has both the colour and white
    edge = {tuple(px[y, 70]) for y in range(52, 68)}
    assert tuple(colour) in edge and (255, 255, 255) in edge
    # the untouched box keeps a solid edge
    assert {tuple(px[y, 10]) for y in range(12, 28)} == {tuple(colour)}


def test_report_entries_without_a_data_row_are_listed_once(tmp_path: Path) -> None:
    rows = write_rows(tmp_path / "o.ndjson", [row("a.png", "car", bbox={"left": 1, "top": 1, "width": 5, "height": 5})])
    report = tmp_path / "r.json"
    report.write_text(json.dumps({"entries": [
        {"file": "x.json", "line": 4, "kind": "text", "action": "skipped", "code": "caption-unsupported", "message": "no target"},
        {"file": "x.json", "kind": "bbox", "action": "skipped", "code": "zzz", "message": "m", "data_row": "a.png"},
    ]}))
    result = preview([rows], tmp_path / "p", report=report)
    assert [e["code"] for e in result.pages[0].entries] == ["zzz"]
    html = (tmp_path / "p" / "index.html").read_text()
    assert "Entries not tied to a data row (1)" in html and "caption-unsupported" in html and "x.json, line 4" in html


def test_no_image_neutral_canvas_of_the_geometry_extent(tmp_path: Path) -> None:
    rows = write_rows(tmp_path / "o.ndjson", [row("gone.jpg", "car", bbox={"left": 100, "top": 50, "width": 100, "height": 50})])
    result = preview([rows], tmp_path / "p", images=make_image(tmp_path / "img" / "other.png").parent)
    (page,) = result.pages
    assert page.image is None and page.size == (208, 108)
    assert any("no image for this key" in n for n in page.notes)
    px = pixels(tmp_path / "p" / "gone.jpg.png")
    assert tuple(px[10, 10]) == (128, 128, 128) and tuple(px[75, 100]) == result.colours["car"]
    assert "no image: drawn on a neutral 208&times;108 canvas" in (tmp_path / "p" / "index.html").read_text()


def test_text_rows_list_entities_without_a_picture(tmp_path: Path) -> None:
    rows = write_rows(tmp_path / "o.ndjson", [row("doc-0", "PERSON", location={"start": 0, "end": 4})])
    result = preview([rows], tmp_path / "p")
    (page,) = result.pages
    assert page.size == (0, 0) and page.counts == {"PERSON": 1}
    band = pixels(tmp_path / "p" / "doc-0.png")
    assert (band == result.colours["PERSON"]).all(axis=-1).any()  # the legend swatch


def test_video_keyframes_are_drawn(tmp_path: Path) -> None:
    segs = [{"keyframes": [{"frame": 1, "bbox": {"left": 10, "top": 30, "width": 20, "height": 20}},
                           {"frame": 5, "bbox": {"left": 100, "top": 30, "width": 20, "height": 20}}]}]
    result = preview([write_rows(tmp_path / "o.ndjson", [row("v.mp4", "car", segments=segs)])], tmp_path / "p")
    assert result.pages[0].size == (128, 58)  # the extent of the keyframes, on a neutral canvas
    px = pixels(tmp_path / "p" / "v.mp4.png")
    assert tuple(px[40, 10]) == result.colours["car"] and tuple(px[40, 100]) == result.colours["car"]
    sheet = pixels(tmp_path / "p" / result.pages[0].tracks)  # one panel per keyframe
    assert result.pages[0].tracks == "v.mp4.tracks.png"
    panels = (sheet == result.colours["car"]).all(axis=-1)[20:]
    assert panels.any() and len({x // 156 for x in np.nonzero(panels)[1]}) == 2
    assert 'href="v.mp4.tracks.png"' in (tmp_path / "p" / "index.html").read_text()


def test_tiny_images_are_enlarged_by_a_whole_factor(tmp_path: Path) -> None:
    images = tmp_path / "images"
    make_image(images / "t.png", (10, 5))
    rows = write_rows(tmp_path / "o.ndjson", [row("t.png", "dot", bbox={"left": 2, "top": 1, "width": 4, "height": 3})])
    result = preview([rows], tmp_path / "p", images=images)
    (page,) = result.pages
    assert page.size == (200, 100) and "drawn at 20x" in page.notes
    px = pixels(tmp_path / "p" / "t.png")
    assert tuple(px[50, 40]) == result.colours["dot"] and tuple(px[50, 30]) == BG


def test_limit_only_and_rows_spread_over_files(tmp_path: Path, capsys) -> None:
    box = {"left": 1, "top": 1, "width": 5, "height": 5}
    a = write_rows(tmp_path / "a.ndjson", [row("k1", "x", bbox=box), row("k2", "x", bbox=box), row("k3", "x", bbox=box)])
    b = write_rows(tmp_path / "b.ndjson", [row("k1", "y", point={"x": 3, "y": 3})])
    result = preview([a, b], tmp_path / "all")
    assert [p.key for p in result.pages] == ["k1", "k2", "k3"] and result.data_rows == 3
    assert result.pages[0].counts == {"x": 1, "y": 1}  # one page for k1, rows from both files
    assert main(["preview", str(a), str(b), "-o", str(tmp_path / "lim"), "--limit", "2"]) == 0
    assert sorted(p.name for p in (tmp_path / "lim").glob("*.png") if "thumb" not in p.name) == ["k1.png", "k2.png"]
    assert "2 of 3 data rows drawn" in capsys.readouterr().err
    assert main(["preview", str(a), "-o", str(tmp_path / "only"), "--only", "k3"]) == 0
    assert sorted(p.name for p in (tmp_path / "only").glob("*.png")) == ["k3.png", "k3.thumb.png"]
    capsys.readouterr()
    assert main(["preview", str(a), "-o", str(tmp_path / "bad"), "--only", "nope"]) == 1
    assert capsys.readouterr().err.strip().startswith("error: --only nope: no rows of this data row")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('{"dataRow": {"globalKey": "a"}, "name": "x", "point": {"x": 1, "y": 1}}\n{not json\n', "o.ndjson, line 2: invalid JSON"),
        ('\n{"name": "x", "point": {"x": 1, "y": 1}}\n', "o.ndjson, line 2: row has no dataRow globalKey or id"),
        ('{"dataRow": {"globalKey": "a"}, "name": "x", "bbox": {"left": "1", "top": 1, "width": 2, "height": 2}}\n',
         "o.ndjson, line 1: bbox left is not a number"),
        ('{"dataRow": {"globalKey": "a"}, "name": "x", "mask": {"png": "%%%"}}\n', "o.ndjson, line 1: mask is not valid base64"),
    ],
)
def test_bad_rows_are_one_line_errors(tmp_path: Path, capsys, text: str, needle: str) -> None:
    (tmp_path / "o.ndjson").write_text(text)
    assert main(["preview", str(tmp_path / "o.ndjson"), "-o", str(tmp_path / "p")]) == 1
    err = capsys.readouterr().err.strip()
    assert needle in err and err.startswith("error: ") and "\n" not in err
    with pytest.raises(ParseError):
        preview([tmp_path / "o.ndjson"], tmp_path / "p2")


def test_missing_file_and_bad_limit(tmp_path: Path, capsys) -> None:
    assert main(["preview", str(tmp_path / "none.ndjson"), "-o", str(tmp_path / "p")]) == 1
    assert "none.ndjson: no such file or directory" in capsys.readouterr().err
    rows = write_rows(tmp_path / "o.ndjson", [row("a", "x", point={"x": 1, "y": 1})])
    assert main(["preview", str(rows), "-o", str(tmp_path / "p"), "--limit", "0"]) == 1
    assert "--limit must be at least 1" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("files", "key", "expected"),
    [
        (["a.png"], "a.png", "a.png"),
        (["train/a.png"], "train/a.png", "train/a.png"),
        (["train/a.png"], "coco/train/a.png", "train/a.png"),  # --global-key prefix dropped
        (["JPEGImages/2007_1.jpg"], "2007_1", "JPEGImages/2007_1.jpg"),  # VOC id: suffix added, basename found
        (["x/b.jpg"], "other/b.jpg", "x/b.jpg"),  # unique basename anywhere below
        (["x/b.jpg", "y/b.jpg"], "other/b.jpg", None),  # ambiguous basename: no guess
        (["a.png"], "../a.png", "a.png"),  # never outside the root, the tail still matches
        ([], "/etc/passwd", None),
    ],
)
def test_find_image(tmp_path: Path, files: list[str], key: str, expected: str | None) -> None:
    root = tmp_path / "root"
    root.mkdir()
    for f in files:
        make_image(root / f, (4, 4))
    found = find_image(root, key)
    assert (found.relative_to(root.resolve()).as_posix() if found else None) == (expected and Path(expected).as_posix())


def test_bundled_sample_preview(tmp_path: Path, capsys) -> None:
    """The README's sample converts and previews: every object lands on its drawing."""
    out = tmp_path / "s.ndjson"
    assert main(["convert", str(OWN_FIXTURES / "sample" / "instances.json"), "-o", str(out), "--quiet"]) == 0
    prev = tmp_path / "prev"
    assert main(["preview", str(out), "--images", str(OWN_FIXTURES / "sample"), "-o", str(prev)]) == 0
    assert sorted(p.relative_to(prev).as_posix() for p in prev.rglob("*.png") if "thumb" not in p.name) == [
        "images/kitchen.png", "images/park.png", "images/street.png"]
    result = preview([out], tmp_path / "again", images=OWN_FIXTURES / "sample")
    assert all(p.image is not None for p in result.pages)
    px = pixels(prev / "images" / "street.png")
    car = result.colours["car"]
    assert tuple(px[110, 40]) == car  # the red car's box: left edge at x=40, y 90..135
    park = pixels(prev / "images" / "park.png")
    assert tuple(park[60, 150]) == result.colours["person head"]
    street_page = next(p for p in result.pages if p.key == "images/street.png")
    assert [e["code"] for e in street_page.entries] == ["multipart-split"] and street_page.changed_rows == 2


# --------------------------------------------------------------------- every reader's fixtures

PUB = PUBLIC
READER_CASES = [
    # (reader, source, images folder or None, extra convert args, every page has its image)
    ("coco", PUB / "coco/openvinotoolkit-datumaro/tests/assets/coco_dataset/coco",
     PUB / "coco/openvinotoolkit-datumaro/tests/assets/coco_dataset/coco/images", [], True),
    ("voc", PUB / "voc/labelformat/tests/fixtures/semantic_segmentation/pascalvoc",
     PUB / "voc/labelformat/tests/fixtures/semantic_segmentation/pascalvoc/JPEGImages", [], True),
    ("voc-devkit-no-images", PUB / "voc/openvinotoolkit-datumaro/tests/assets/voc_dataset/voc_dataset1", None, [], False),
    ("yolo", PUB / "yolo/labelformat/tests/fixtures/instance_segmentation/YOLOv8",
     PUB / "yolo/labelformat/tests/fixtures/instance_segmentation/YOLOv8/images", [], True),
    ("coco-masks-uri", PUB / "coco/openvinotoolkit-datumaro/tests/assets/coco_dataset/coco",
     PUB / "coco/openvinotoolkit-datumaro/tests/assets/coco_dataset/coco/images", ["--mask-format", "uri"], True),
    ("coco-masks-composite", PUB / "coco/openvinotoolkit-datumaro/tests/assets/coco_dataset/coco",
     PUB / "coco/openvinotoolkit-datumaro/tests/assets/coco_dataset/coco/images", ["--mask-format", "composite"], True),
    ("cvat", PUB / "cvat/cvat-ai-datumaro/tests/assets/cvat_dataset/for_images/train.xml", None, [], False),
    ("cvat-video", PUB / "cvat/dagshub-annotation-converter/tests/cvat_video/res/sample_video.xml", None, [], False),
    ("spacy", PUB / "spacy/spaCy/extra/example_data/training-data.json", None, [], False),
]


@pytest.mark.parametrize(("reader", "source", "images", "extra", "with_images"), READER_CASES, ids=[c[0] for c in READER_CASES])
def test_preview_of_every_readers_fixture_output(tmp_path: Path, capsys, reader, source, images, extra, with_images) -> None:
    out = tmp_path / "o.ndjson"
    if "uri" in extra:
        extra = [*extra, "--mask-dir", str(tmp_path / "masks"), "--allow-file-uris"]
    assert main(["convert", str(source), "-o", str(out), "--quiet", *extra]) == 0
    rows = read_ndjson(out)
    keys = list(dict.fromkeys(r["dataRow"]["globalKey"] for r in rows))
    assert keys, "the fixture converts to rows"
    args = ["preview", str(out), "-o", str(tmp_path / "p")] + (["--images", str(images)] if images else [])
    args += ["--mask-dir", str(tmp_path / "masks")] if "--mask-dir" in extra else []
    assert main(args) == 0
    capsys.readouterr()
    result = preview([out], tmp_path / "api", images=images, mask_dir=tmp_path / "masks" if "--mask-dir" in extra else None)
    assert [p.key for p in result.pages] == keys
    report = json.loads((tmp_path / "o.report.json").read_text())
    listed = sum(len(p.entries) for p in result.pages) + len(result.unattributed)
    assert listed == len(report["entries"])  # every report entry is on the page of its data row, or in the loose list
    for page in result.pages:
        mine = [r for r in rows if r["dataRow"]["globalKey"] == page.key]
        assert sum(page.counts.values()) + sum(page.not_drawn.values()) == len(mine)
        assert (page.image is not None) == with_images
        assert not any("not found" in n for n in page.notes), page.notes
        px = pixels(tmp_path / "p" / page.png)
        picture = px[: page.size[1]]
        drawn = {n for r in mine if (n := r.get("name")) and not ("answer" in r or "location" in r)}
        for name in drawn:  # each drawn feature's colour is on the picture
            assert (picture == result.colours[name]).all(axis=-1).any(), (page.key, name)
        assert (tmp_path / "p" / page.thumbnail).is_file()
    html = (tmp_path / "p" / "index.html").read_text()
    assert all(p.key.replace("&", "&amp;") in html for p in result.pages)


def test_schema_ids_are_shown_by_their_ontology_names(tmp_path: Path) -> None:
    ontology = tmp_path / "ontology.json"
    ontology.write_text(json.dumps({"tools": [{"tool": "rectangle", "name": "car", "featureSchemaId": "c" * 25, "classifications": [
        {"type": "radio", "name": "color", "featureSchemaId": "k" * 25, "options": [{"value": "red", "featureSchemaId": "r" * 25}]}]}],
        "classifications": []}))
    rows = write_rows(tmp_path / "o.ndjson", [{"uuid": "u1", "dataRow": {"globalKey": "a"}, "schemaId": "c" * 25,
                                               "bbox": {"left": 1, "top": 1, "width": 5, "height": 5},
                                               "classifications": [{"schemaId": "k" * 25, "answer": {"schemaId": "r" * 25}}]}])
    named = preview([rows], tmp_path / "p", ontology=ontology)
    assert named.pages[0].counts == {"car": 1} and list(named.colours) == ["car"]
    bare = preview([rows], tmp_path / "q")  # without the ontology the ids are what there is to show
    assert bare.pages[0].counts == {"c" * 25: 1}
    (tmp_path / "o.report.json").write_text(json.dumps({"entries": [], "options": {"ontology": str(ontology)}}))
    assert preview([rows], tmp_path / "r").pages[0].counts == {"car": 1}  # the report says which ontology


def test_text_entities_are_highlighted_in_the_text(tmp_path: Path) -> None:
    text = "Ada met Bob in Zürich & <Paris>."
    rows = write_rows(tmp_path / "o.ndjson", [
        row("doc-0", "PERSON", location={"start": 0, "end": 2}),       # inclusive end: "Ada"
        row("doc-0", "GPE", location={"start": 15, "end": 20}),        # "Zürich"
        row("doc-0", "GPE", location={"start": 24, "end": 30}),        # "<Paris>"
    ])
    data_rows = tmp_path / "rows.json"
    data_rows.write_text(json.dumps([{"global_key": "doc-0", "row_data": text}, {"global_key": "other", "row_data": "x"}]))
    assert main(["preview", str(rows), "-o", str(tmp_path / "p"), "--text-rows", str(data_rows)]) == 0
    html = (tmp_path / "p" / "index.html").read_text()
    marked = re.findall(r'<mark[^>]*title="([^"]+)">([^<]*)</mark>', html)
    assert marked == [("PERSON", "Ada"), ("GPE", "Zürich"), ("GPE", "&lt;Paris&gt;")]
    assert " met Bob in " in html
    (tmp_path / "o.report.json").write_text(json.dumps({"entries": [], "options": {"write_data_rows": str(data_rows)}}))
    assert preview([rows], tmp_path / "q").pages[0].text == text  # found through the report
