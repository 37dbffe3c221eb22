"""Streamed COCO files (``--coco-stream``): the same output as the whole-file path, and the
same one-line errors.

Differential: every case converts a file with ``stream="never"`` and ``stream="always"`` and
compares the NDJSON bytes, the ontology and the report (options aside): identical for an
image-ordered file; the same rows, sorted, when the annotations are not in image order.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from converters import convert
from converters.cli import main
from converters.errors import ConversionError, InvalidFieldError, ParseError
from converters.readers import ReadContext
from converters.readers.coco import COCOOptions, COCOReader
from converters.readers.coco import _stream

from ..conftest import PUBLIC, WILD


def coco(images: int, *, seed: int = 0, empty_every: int = 0, crowd: bool = False) -> dict[str, Any]:
    """A small val2017-shaped file: boxes and polygons, sparse categories, image-ordered."""
    rng = random.Random(seed)
    cats = [{"id": i * 3 + 1, "name": f"class {i}"} for i in range(6)]
    imgs, anns = [], []
    for i in range(images):
        imgs.append({"id": 100 + i, "file_name": f"im{i:04d}.jpg", "width": 64, "height": 48})
        if empty_every and i % empty_every == 0:
            continue
        for _ in range(rng.randint(1, 4)):
            x, y = rng.uniform(0, 30), rng.uniform(0, 20)
            ann: dict[str, Any] = {"id": len(anns) + 1, "image_id": 100 + i, "category_id": rng.choice(cats)["id"],
                                   "bbox": [round(x, 2), round(y, 2), 10.5, 8.25], "iscrowd": 0, "segmentation": []}
            if rng.random() < 0.5:
                ann["segmentation"] = [[x, y, x + 10, y, x + 10, y + 8, x, y + 8]]
            if crowd and rng.random() < 0.1:
                ann["iscrowd"] = 1
            anns.append(ann)
    return {"info": {"description": "test"}, "licenses": [], "images": imgs, "annotations": anns, "categories": cats}


def dump(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def run(source: Path | list[Path], out: Path, mode: str, **kw: Any) -> tuple[bytes, str, dict[str, Any]]:
    """NDJSON bytes, ontology text and report (without options/outputs) of one conversion."""
    out.mkdir(parents=True, exist_ok=True)
    sources = source if isinstance(source, list) else [source]
    convert(sources, out / "o.ndjson", fmt="coco", reader_options={"stream": mode, **kw.pop("reader", {})},
            write_ontology=str(out / "ontology.json"), **kw)
    report = json.loads((out / "o.report.json").read_text())
    report.pop("options")
    report.pop("outputs")
    return (out / "o.ndjson").read_bytes(), (out / "ontology.json").read_text(), report


def both(source: Path | list[Path], tmp: Path, **kw: Any) -> tuple[Any, Any]:
    return run(source, tmp / "never", "never", **dict(kw)), run(source, tmp / "always", "always", **dict(kw))


def error(source: Path, mode: str) -> ConversionError:
    with pytest.raises(ConversionError) as info:
        convert([source], source.parent / f"{mode}.ndjson", fmt="coco", reader_options={"stream": mode})
    return info.value


# -- same output ------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "data", "kw"), [
    ("image-ordered", coco(60), {}),
    ("empty images between", coco(60, empty_every=4), {}),
    ("crowd as masks", coco(40, crowd=True), {}),
    ("geometry both", coco(30), {"reader": {"geometry": "both"}}),
    ("categories first", {k: coco(30)[k] for k in ("categories", "images", "annotations")}, {}),
    ("images and categories last", {k: coco(30)[k] for k in ("annotations", "info", "categories", "images")}, {}),
    ("info after categories", {**coco(30), "info": {"note": '"categories": [{"id": 1}]}'}}, {}),
    ("fewer than 50 annotations", coco(5), {}),
])  # fmt: skip
def test_streamed_file_gives_the_same_bytes(tmp_path: Path, name: str, data: Any, kw: dict[str, Any]) -> None:
    source = dump(tmp_path / "instances_val.json", data)
    never, always = both(source, tmp_path, **kw)
    assert never[0] and always == never


def test_key_after_categories_inside_a_string_is_not_taken_for_them(tmp_path: Path) -> None:
    """The tail holds a decoy ``"categories": [...]}`` inside a string (quotes escaped): the
    real, earlier categories are used."""
    data = coco(20)
    data["zz"] = 'x "categories": [{"id": 1, "name": "decoy"}]}'
    source = dump(tmp_path / "instances_val.json", data)
    never, always = both(source, tmp_path)
    assert always == never and b"decoy" not in always[0]


def test_a_byte_order_mark_is_read_as_by_the_whole_file_path(tmp_path: Path) -> None:
    source = tmp_path / "instances_val.json"
    source.write_bytes(b"\xef\xbb\xbf" + json.dumps(coco(10)).encode())
    never, always = both(source, tmp_path)
    assert always == never


def test_labels_and_keypoints_files_stream(tmp_path: Path) -> None:
    data = coco(20)
    labels = {**data, "annotations": [{"id": a["id"], "image_id": a["image_id"], "category_id": a["category_id"]}
                                      for a in data["annotations"]]}
    kps = {**data, "annotations": [{**a, "keypoints": [5, 5, 2, 6, 6, 1, 0, 0, 0]} for a in data["annotations"]]}
    for name, content in (("labels_val.json", labels), ("person_keypoints_val.json", kps)):
        source = dump(tmp_path / name.removesuffix(".json") / name, content)
        never, always = both(source, tmp_path / name)
        assert always == never


def test_derived_tool_names_do_not_depend_on_object_order(tmp_path: Path) -> None:
    """A class met as a box first and as a polygon later is named as when the file is read
    whole (the box, first in the priority, gets the plain name): the scan knows its kinds
    before the first row."""
    data = coco(3)
    data["categories"] = [{"id": 1, "name": "car"}]
    data["annotations"] = [
        {"id": 1, "image_id": 100, "category_id": 1, "bbox": [1, 1, 5, 5], "segmentation": [[1, 1, 6, 1, 6, 6]]},
        {"id": 2, "image_id": 102, "category_id": 1, "bbox": [1, 1, 5, 5], "segmentation": []},
    ]
    source = dump(tmp_path / "instances_val.json", data)
    never, always = both(source, tmp_path)
    assert always == never
    names = {t["name"]: t["tool"] for t in json.loads(always[1])["tools"]}
    assert names == {"car": "rectangle", "car (polygon)": "polygon"}


def test_annotations_out_of_image_order_give_the_same_rows(tmp_path: Path) -> None:
    """Each image's annotations contiguous, images in another order: streamed, rows equal."""
    data = coco(30)
    runs: dict[int, list[Any]] = {}
    for a in data["annotations"]:
        runs.setdefault(a["image_id"], []).append(a)
    order = list(runs)
    random.Random(1).shuffle(order)
    data["annotations"] = [a for i in order for a in runs[i]]
    source = dump(tmp_path / "instances_val.json", data)
    never, always = both(source, tmp_path)
    assert sorted(always[0].splitlines()) == sorted(never[0].splitlines())
    assert always[0] != never[0]  # the order of the data rows follows the file
    tools = [{(t["name"], t["tool"]) for t in json.loads(o[1])["tools"]} for o in (always, never)]
    assert tools[0] == tools[1]  # the same names (their order and colours follow first use)
    counts = ("assets", "counts", "rows", "skipped_by_reason", "tallies", "entries")
    assert [always[2][k] for k in counts] == [never[2][k] for k in counts]


def test_an_image_in_two_runs_is_read_whole_and_noted(tmp_path: Path) -> None:
    data = coco(30)
    random.Random(2).shuffle(data["annotations"])
    source = dump(tmp_path / "instances_val.json", data)
    never, always = both(source, tmp_path)
    assert always[0] == never[0] and always[1] == never[1]
    notes = [n for n in always[2]["notes"] if n["code"] == "coco-stream-whole"]
    assert len(notes) == 1 and "more than one run" in notes[0]["message"]
    assert [n for n in always[2]["notes"] if n["code"] != "coco-stream-whole"] == never[2]["notes"]


def test_a_split_of_several_files_is_read_whole_and_noted(tmp_path: Path) -> None:
    data = coco(10)
    kps = {**data, "annotations": [{**a, "keypoints": [5, 5, 2]} for a in data["annotations"][:5]]}
    folder = tmp_path / "ds" / "annotations"
    dump(folder / "instances_val.json", data)
    dump(folder / "person_keypoints_val.json", kps)
    never, always = both(tmp_path / "ds", tmp_path)
    assert always[0] == never[0]
    assert sum(n["code"] == "coco-stream-whole" for n in always[2]["notes"]) == 2


def test_auto_streams_only_files_above_the_threshold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = dump(tmp_path / "instances_val.json", coco(10))
    size = source.stat().st_size
    for threshold, streamed in ((size + 1, False), (size, True)):
        monkeypatch.setattr("converters.readers.coco.reader.STREAM_THRESHOLD", threshold)
        reader = COCOReader([source], options=COCOOptions(stream="auto"), context=ReadContext())
        assets = list(reader.read())
        assert len(assets) == 10
        assert (reader._streamed.get(source) is not None) is streamed


def test_the_cli_offers_the_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = dump(tmp_path / "instances_val.json", coco(5))
    assert main(["convert", str(source), "-o", str(tmp_path / "o.ndjson"), "--coco-stream", "always", "--quiet"]) == 0
    assert (tmp_path / "o.ndjson").read_bytes().count(b"\n") == len(coco(5)["annotations"])
    assert main(["convert", str(source), "-o", str(tmp_path / "o.ndjson"), "--coco-stream", "sometimes"]) != 0
    assert "--coco-stream" in capsys.readouterr().err


# -- every COCO file of the shared fixtures --------------------------------------------------


def _fixture_files() -> list[Path]:
    return sorted(p for root in (PUBLIC / "coco", WILD / "coco") for p in root.rglob("*.json")) \
        if PUBLIC.is_dir() and WILD.is_dir() else []


@pytest.mark.shared
@pytest.mark.parametrize("source", _fixture_files(), ids=lambda p: str(p.relative_to(p.parents[2])))
def test_every_fixture_streams_to_the_same_output(tmp_path: Path, source: Path) -> None:
    """Converted, or refused with the same one-line error, by either path."""
    outcome = []
    for mode in ("never", "always"):
        try:
            outcome.append(run(source, tmp_path / mode, mode))
        except ConversionError as exc:
            outcome.append((type(exc).__name__, str(exc)))
    assert outcome[1] == outcome[0]


# -- errors -----------------------------------------------------------------------------------


def test_a_truncated_file_is_one_line_naming_the_file_and_the_byte(tmp_path: Path) -> None:
    text = json.dumps(coco(20))
    source = tmp_path / "instances_val.json"
    source.write_text(text[: len(text) // 2], encoding="utf-8")
    exc = error(source, "always")
    assert isinstance(exc, ParseError)
    message = str(exc)
    assert "instances_val.json" in message and "invalid JSON" in message and "near byte" in message
    assert "\n" not in message
    assert isinstance(error(source, "never"), ParseError)


def test_a_syntax_error_in_the_annotations_names_the_byte(tmp_path: Path) -> None:
    text = json.dumps(coco(20))
    at = text.index('"bbox"', len(text) // 2)
    source = tmp_path / "instances_val.json"
    source.write_text(text[:at] + "!" + text[at + 1:], encoding="utf-8")
    message = str(error(source, "always"))
    byte = int(message.split("near byte ", 1)[1].split(":")[0].replace(",", ""))
    assert abs(byte - at) <= 70_000  # ijson reads 64 KiB at a time


@pytest.mark.parametrize(("change", "cls", "words"), [
    (lambda a: a.update(bbox=[1, 2, "x", 4]), InvalidFieldError, ("bbox", "annotation id 40")),
    (lambda a: a.update(image_id=99999), InvalidFieldError, ("image_id", "annotation id 40")),
    (lambda a: a.update(category_id=2), InvalidFieldError, ("category_id", "annotation id 40")),
    (lambda a: a.pop("category_id"), ConversionError, ("category_id", "annotation id 40")),
])  # fmt: skip
def test_a_bad_annotation_in_a_streamed_file_names_the_file_and_its_id(
    tmp_path: Path, change: Any, cls: type[Exception], words: tuple[str, ...]
) -> None:
    data = coco(40)
    change(data["annotations"][39])
    source = dump(tmp_path / "instances_val.json", data)
    streamed, whole = error(source, "always"), error(source, "never")
    assert isinstance(streamed, cls)
    assert str(streamed) == str(whole)
    assert "instances_val.json" in str(streamed) and all(w in str(streamed) for w in words)


def test_a_bad_id_fails_before_any_asset_is_built(tmp_path: Path) -> None:
    """As when the file is read whole: the scan checks every image and category id first, so
    a bad box early and a bad image id late give the image id's error."""
    data = coco(40)
    data["annotations"][0]["bbox"] = "nope"
    data["annotations"][-1]["image_id"] = 99999
    source = dump(tmp_path / "instances_val.json", data)
    assert str(error(source, "always")) == str(error(source, "never"))
    assert "99999" in str(error(source, "always"))


def test_the_tail_search_takes_only_a_last_top_level_array(tmp_path: Path) -> None:
    data = coco(3)
    source = dump(tmp_path / "a.json", {"images": [], "annotations": [], "categories": [{"id": 1, "name": "a"}]})
    assert _stream._tail_categories(source) == ([{"id": 1, "name": "a"}],)
    nested = dump(tmp_path / "b.json", {"images": [], "x": {"categories": [{"id": 2}]}})
    assert _stream._tail_categories(nested) is None
    after = dump(tmp_path / "c.json", {**data, "zz": {}})
    assert _stream._tail_categories(after) is None
