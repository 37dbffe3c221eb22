"""SA-1B per-image JSON files and folders of them, through the COCO reader.

The files are generated here (pycocotools encodes the RLE), shaped like SA-1B's: an
``image`` object, annotations with ``id``, ``segmentation``, ``bbox``, ``area``,
``predicted_iou``, ``stability_score``, ``crop_box`` and ``point_coords``.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as cocomask

from converters import masks
from converters.cli import main
from converters.errors import InvalidFieldError, MissingFieldError, OptionsError, ParseError, UnsafeInputError
from converters.model import Box, Kind, Mask
from converters.pipeline import convert, detect_format
from converters.readers import ReadContext
from converters.readers.coco import COCOOptions, COCOReader
from converters.report import Report
from tests.conftest import read_ndjson

W, H = 48, 32


def blob(rng: np.random.Generator, width: int = W, height: int = H) -> np.ndarray:
    """A filled ellipse at a random place: a (height, width) uint8 0/1 array."""
    cy, cx = rng.uniform(0, height), rng.uniform(0, width)
    ry, rx = rng.uniform(2, height / 3), rng.uniform(2, width / 3)
    yy, xx = np.mgrid[:height, :width]
    return (((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1).astype(np.uint8)


def sa1b_annotation(ann_id: int, mask: np.ndarray, iou: float) -> dict[str, Any]:
    rle = cocomask.encode(np.asfortranarray(mask))
    x, y, w, h = (float(v) for v in cocomask.toBbox(rle))
    return {
        "id": ann_id, "bbox": [x, y, w, h], "area": int(mask.sum()),
        "segmentation": {"size": [int(mask.shape[0]), int(mask.shape[1])], "counts": rle["counts"].decode()},
        "predicted_iou": iou, "stability_score": 0.97, "crop_box": [0.0, 0.0, float(W), float(H)],
        "point_coords": [[x + w / 2, y + h / 2]],
    }


def sa1b_file(folder: Path, image_id: int, n: int, seed: int = 0, **image: Any) -> tuple[Path, list[np.ndarray]]:
    """``folder/sa_<id>.json`` with ``n`` blob masks (ids image_id*100 + i); returns the masks too."""
    rng = np.random.default_rng(seed + image_id)
    arrays = [blob(rng) for _ in range(n)]
    arrays = [m if m.any() else np.pad(np.ones((1, 1), np.uint8), ((0, H - 1), (0, W - 1))) for m in arrays]
    data = {
        "image": {"image_id": image_id, "width": W, "height": H, "file_name": f"sa_{image_id}.jpg", **image},
        "annotations": [sa1b_annotation(image_id * 100 + i, m, round(0.88 + 0.01 * i, 4)) for i, m in enumerate(arrays)],
    }
    path = folder / f"sa_{image_id}.json"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path, arrays


def read(paths: Path | list[Path], report: Report | None = None, **options: Any) -> list[Any]:
    ctx = ReadContext(report=report or Report())
    return list(COCOReader(paths if isinstance(paths, list) else [paths], options=COCOOptions(**options),
                           context=ctx).read())


def edit(path: Path, change: Any) -> Path:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    return path


# --------------------------------------------------------------------------- reading


def test_one_file_is_one_asset_with_pixel_exact_masks(tmp_path: Path) -> None:
    path, arrays = sa1b_file(tmp_path, 7, 4)
    report = Report()
    (asset,) = read(path, report)
    assert (asset.name, asset.width, asset.height, asset.fields["image_id"]) == ("sa_7.jpg", W, H, "7")
    assert [a.key for a in asset.annotations] == [f"sa1b:{700 + i}" for i in range(4)]
    for ann, expected, i in zip(asset.annotations, arrays, range(4)):
        assert isinstance(ann.shape, Mask) and ann.label == "object"
        assert np.array_equal(masks.decode(ann.shape), expected)
        assert ann.confidence == round(0.88 + 0.01 * i, 4)
        assert ann.source.annotation_id == str(700 + i) and ann.source.file == str(path)
    assert [n["code"] for n in report.notes] == ["sa1b-fields"]


def test_a_folder_is_one_asset_per_file_sorted_by_name(tmp_path: Path) -> None:
    for image_id in (30, 4, 100):
        sa1b_file(tmp_path / "sa_000000", image_id, 2)
    (tmp_path / "sa_000000" / "sa_4.jpg").write_bytes(b"not read")  # images sit beside their JSON
    reader = COCOReader([tmp_path / "sa_000000"], options=COCOOptions(), context=ReadContext(report=Report()))
    assets = list(reader.read())
    assert [a.name for a in assets] == ["sa_100.jpg", "sa_30.jpg", "sa_4.jpg"]  # by file name
    assert reader.total() == 3 and all(len(a.annotations) == 2 for a in assets)


def test_a_root_of_unpacked_tar_folders_is_read_folder_by_folder(tmp_path: Path) -> None:
    """SA-1B ships 1,000 tar files (sa_000000.tar ...): unpacked side by side, their parent is a SOURCE."""
    for folder, image_id in (("sa_000001", 9), ("sa_000000", 5), ("sa_000000", 1)):
        sa1b_file(tmp_path / folder, image_id, 1)
    assert detect_format([tmp_path]) == "coco"
    assert [a.name for a in read(tmp_path)] == ["sa_1.jpg", "sa_5.jpg", "sa_9.jpg"]


def test_label_kinds_scan_keeps_nothing_of_sa1b_files(tmp_path: Path) -> None:
    """A folder streams: the ontology scan does not hold the parsed files for read()."""
    for image_id in (1, 2):
        sa1b_file(tmp_path, image_id, 3)
    reader = COCOReader([tmp_path], options=COCOOptions(geometry="both", sa1b_class="thing"),
                        context=ReadContext(report=Report()))
    assert {k: sorted(v) for k, v in reader.label_kinds().items()} == {"thing": ["bbox", "mask"]}
    assert reader._loaded == {}
    assert sum(len(a.annotations) for a in reader.read()) == 12


def test_label_kinds_does_not_parse_sa1b_files(tmp_path: Path) -> None:
    """11M files: the ontology scan tells SA-1B files by their first bytes and takes their
    kinds from the options; a broken file is read()'s one-line error, not the scan's."""
    path, _ = sa1b_file(tmp_path, 1, 2)
    path.write_text(path.read_text()[:-40])
    reader = COCOReader([path], options=COCOOptions(), context=ReadContext(report=Report()))
    assert reader.label_kinds() == {"object": {Kind.MASK}}
    with pytest.raises(ParseError, match="invalid JSON"):
        list(reader.read())


def test_keys_in_another_order_are_still_sa1b(tmp_path: Path) -> None:
    path, _ = sa1b_file(tmp_path, 1, 2)
    data = json.loads(path.read_text())
    path.write_text(json.dumps({"annotations": data["annotations"], "image": data["image"]}))
    reader = COCOReader([path], options=COCOOptions(geometry="bbox"), context=ReadContext(report=Report()))
    assert reader.label_kinds() == {"object": {Kind.BBOX}} and reader._loaded == {}
    assert [len(a.annotations) for a in reader.read()] == [2]


@pytest.mark.parametrize(("geometry", "shapes"), [("auto", [Mask]), ("segmentation", [Mask]), ("bbox", [Box]),
                                                 ("both", [Mask, Box])])
def test_geometry_option(tmp_path: Path, geometry: str, shapes: list[type]) -> None:
    path, _ = sa1b_file(tmp_path, 1, 1)
    (asset,) = read(path, geometry=geometry)
    assert [type(a.shape) for a in asset.annotations] == shapes


def test_class_option(tmp_path: Path) -> None:
    path, _ = sa1b_file(tmp_path, 1, 2)
    (asset,) = read(path, sa1b_class="sam region")
    assert {a.label for a in asset.annotations} == {"sam region"}
    with pytest.raises(OptionsError, match="sa1b_class"):
        COCOOptions(sa1b_class="  ")


def test_predicted_iou_outside_the_unit_range_is_clamped_and_reported(tmp_path: Path) -> None:
    path, _ = sa1b_file(tmp_path, 1, 2)
    edit(path, lambda d: d["annotations"][1].update(predicted_iou=1.0125))
    report = Report()
    (asset,) = read(path, report)
    assert [a.confidence for a in asset.annotations] == [0.88, 1.0]
    (entry,) = report.entries
    assert (entry.source.annotation_id, entry.action, entry.code) == ("101", "changed", "confidence-clamped")


@pytest.mark.parametrize(("change", "error", "where", "text"), [
    (lambda d: d["image"].pop("image_id"), MissingFieldError, "image", "image_id"),
    (lambda d: d["image"].pop("file_name"), MissingFieldError, "image id 1", "file_name"),
    (lambda d: d["image"].update(width=0), InvalidFieldError, "image id 1", "width"),
    (lambda d: d["image"].update(height="32"), InvalidFieldError, "image id 1", "height"),
    (lambda d: d["image"].update(file_name="../../etc/x.jpg"), UnsafeInputError, "image id 1", ".."),
    (lambda d: d.update(annotations={}), InvalidFieldError, "top level", "annotations"),
    (lambda d: d["annotations"].append(3), ParseError, "annotations[2]", "not an object"),
    (lambda d: d["annotations"][1].update(predicted_iou="high"), InvalidFieldError, "annotation id 101", "predicted_iou"),
    (lambda d: d["annotations"][1]["segmentation"].update(size=[10, 10]), ParseError, "annotation id 101", "differs"),
    (lambda d: d["annotations"][1]["segmentation"].update(counts="0oo0"), InvalidFieldError, "annotation id 101",
     "RLE"),
    (lambda d: (d["annotations"][0].pop("id"), d["annotations"][0].update(predicted_iou="x")), InvalidFieldError,
     "annotations[0]", "predicted_iou"),
])
def test_bad_files_name_the_file_and_the_annotation(tmp_path: Path, change: Any, error: type, where: str,
                                                    text: str) -> None:
    path, _ = sa1b_file(tmp_path, 1, 2)
    edit(path, change)
    with pytest.raises(error) as info:
        read(path)
    message = str(info.value)
    assert message.startswith(f"{path}, {where}") and text in message, message


def test_two_files_naming_one_image_is_an_error(tmp_path: Path) -> None:
    first, _ = sa1b_file(tmp_path, 1, 1)
    second, _ = sa1b_file(tmp_path, 2, 1, file_name="sa_1.jpg")
    with pytest.raises(ParseError, match=f"also the image of {first}"):
        read([first, second])


def test_an_sa1b_file_beside_a_coco_file_keeps_both(tmp_path: Path) -> None:
    sa1b, _ = sa1b_file(tmp_path, 1, 1)
    coco = tmp_path / "instances_val.json"
    coco.write_text(json.dumps({"images": [{"id": 1, "file_name": "a.jpg", "width": 4, "height": 4}],
                                "categories": [{"id": 1, "name": "cat"}],
                                "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2]}]}))
    reader = COCOReader([coco, sa1b], options=COCOOptions(), context=ReadContext(report=Report()))
    assert sorted(a.name for a in reader.read()) == ["a.jpg", "sa_1.jpg"] and reader.total() == 2


# --------------------------------------------------------------------------- detection and the CLI


def test_auto_detection_recognises_a_file_and_a_folder(tmp_path: Path) -> None:
    path, _ = sa1b_file(tmp_path / "sa_000001", 5, 1)
    assert detect_format([path]) == "coco" and detect_format([path.parent]) == "coco"


@pytest.mark.parametrize(("mode", "kept"), [("prelabel", True), ("ground-truth", False)])
def test_cli_rows_confidence_and_report_invariant(tmp_path: Path, mode: str, kept: bool) -> None:
    folder = tmp_path / "sa_000000"
    arrays = {f"sa_{i}.jpg": sa1b_file(folder, i, 3)[1] for i in (1, 2)}
    out = tmp_path / "out.ndjson"
    assert main(["convert", str(folder), "-o", str(out), "--mode", mode, "--quiet"]) == 0
    rows = read_ndjson(out)
    assert len(rows) == 6 and all(r["name"] == "object" for r in rows)
    by_image: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_image.setdefault(r["dataRow"]["globalKey"], []).append(r)
    for name, expected in arrays.items():
        got = [np.asarray(Image.open(io.BytesIO(base64.b64decode(r["mask"]["png"])))) for r in by_image[name]]
        assert [np.array_equal(g, e) for g, e in zip(got, expected)] == [True] * 3
    assert all(("confidence" in r) is kept for r in rows)
    report = json.loads(out.with_suffix(".report.json").read_text())
    assert report["counts"]["mask"]["read"] == report["counts"]["mask"]["written"] == 6
    assert report["tallies"].get("confidence-dropped", 0) == (0 if kept else 6)
    assert "sa1b-fields" in {n["code"] for n in report["notes"]}


def test_min_score_filters_on_predicted_iou(tmp_path: Path) -> None:
    path, _ = sa1b_file(tmp_path, 1, 4)  # predicted_iou 0.88, 0.89, 0.90, 0.91
    out = tmp_path / "out.ndjson"
    report = convert([path], out, fmt="coco", min_score=0.895)
    report.check()
    assert [r["confidence"] for r in read_ndjson(out)] == [0.9, 0.91]
    assert report.skipped["mask"] == 2 and {e.code for e in report.entries} == {"below-min-score"}


def test_a_bad_file_is_a_one_line_cli_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = sa1b_file(tmp_path, 1, 2)
    edit(path, lambda d: d["annotations"][1]["segmentation"].update(counts="1P"))
    out = tmp_path / "out.ndjson"
    assert main(["convert", str(tmp_path), "-o", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {path}, annotation id 101: ") and "\n" not in err
    assert not out.exists()


@pytest.mark.parametrize(("mode", "oracle_mode", "mask_format"), [
    ("prelabel", "mal", "png"), ("ground-truth", "gt", "png"), ("prelabel", "mal", "composite"),
])
def test_rows_pass_the_oracle(tmp_path: Path, oracle: Any, mode: str, oracle_mode: str, mask_format: str) -> None:
    for i in (1, 2, 3):
        sa1b_file(tmp_path / "src", i, 4)
    out = tmp_path / "out.ndjson"
    assert main(["convert", str(tmp_path / "src"), "-o", str(out), "--mode", mode, "--mask-format", mask_format,
                 "--coco-geometry", "both", "--quiet"]) == 0
    rows = read_ndjson(out)
    assert sum("mask" in r for r in rows) == 12 and sum("bbox" in r for r in rows) == 12
    result = oracle(out, mode=oracle_mode, media="image")
    assert result.failed == 0 and result.ok == len(rows), result.output


# --------------------------------------------------------------------------- sharded runs


def test_shards_are_batches_of_files_in_path_order(tmp_path: Path) -> None:
    for image_id in range(1, 26):
        sa1b_file(tmp_path, image_id, 1)
    reader = COCOReader([tmp_path], options=COCOOptions(), context=ReadContext(report=Report()))
    shards = reader.shards()
    assert [len(s.unit[1]) for s in shards] == [10, 10, 5] and {s.unit[0] for s in shards} == {"sa1b"}
    assert reader.total() == 25
    assert shards[0].what == f"{tmp_path / 'sa_1.json'} .. {tmp_path / 'sa_18.json'} (10 SA-1B files)"
    sharded = [a.name for s in shards for a in reader.read_shard(s)]
    assert sharded == [a.name for a in read(tmp_path)]


def test_shard_batches_grow_past_the_shard_cap() -> None:
    from converters.readers.coco._sa1b import MAX_SHARDS, sa1b_batches

    paths = [Path(f"sa_{i}.json") for i in range(MAX_SHARDS * 10 + 7)]
    batches = sa1b_batches(paths)
    assert len(batches) <= MAX_SHARDS and [p for b in batches for p in b] == paths


def test_a_sharded_run_writes_what_one_process_writes(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed", reason="the [dask] extra is not installed")
    for image_id in range(1, 24):
        sa1b_file(tmp_path / "src", image_id, 3)
    one, sharded = tmp_path / "one.ndjson", tmp_path / "sharded.ndjson"
    convert([tmp_path / "src"], one, fmt="coco", mode="prelabel")
    with distributed.Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=None) as client:
        report = convert([tmp_path / "src"], sharded, fmt="coco", mode="prelabel", client=client)
    assert sharded.read_bytes() == one.read_bytes() and len(read_ndjson(one)) == 69
    report.check()
    assert report.read["mask"] == 69 and "sa1b-fields" in {n["code"] for n in report.notes}
