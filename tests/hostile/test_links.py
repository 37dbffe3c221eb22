"""Class A of issue 14: nothing whose real path is outside the dataset root is opened.

Each row builds a dataset, moves one file or folder outside it and leaves a symlink in its
place (the battery's ``images/train/a.png -> /elsewhere/big.png`` and its neighbours in the
other readers). Without ``--follow-links`` the conversion fails with one line naming the
link; with it, the same dataset converts as if the link were a copy.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from converters.errors import UnsafeInputError
from converters.readers._paths import Confinement
from tests.conftest import read_ndjson
from tests.hostile import _build as b


def _move_out(inside: Path, elsewhere: Path) -> None:
    """Move ``inside`` (a file or folder) to ``elsewhere`` and link it back."""
    elsewhere.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(inside), str(elsewhere))
    inside.symlink_to(elsewhere, target_is_directory=elsewhere.is_dir())


def _yolo(rel: str) -> Callable[[Path, Path], Path]:
    def build(ds: Path, out: Path) -> Path:
        source = b.yolo(ds)
        _move_out(ds / rel, out / "moved")
        return source
    return build


def _voc(rel: str) -> Callable[[Path, Path], Path]:
    def build(ds: Path, out: Path) -> Path:
        root = b.voc(ds, b.voc_xml(size=""), devkit=True)  # no <size>: the image header is read
        if rel.startswith("ImageSets"):
            (root / "ImageSets" / "Main").mkdir(parents=True)
            (root / "ImageSets" / "Main" / "train.txt").write_text("a\n")
        _move_out(ds / rel, out / "moved")
        return root
    return build


def _cvat(rel: str) -> Callable[[Path, Path], Path]:
    def build(ds: Path, out: Path) -> Path:
        b.cvat(ds, image_attrs="")  # no width/height: the image header is read
        b.png(ds / "images" / "a.jpg")
        _move_out(ds / rel, out / "moved")
        return ds
    return build


def _coco_file(ds: Path, out: Path) -> Path:
    b.coco(ds / "annotations", name="instances_train.json")
    _move_out(ds / "annotations" / "instances_train.json", out / "moved.json")
    return ds


def _coco_dir(ds: Path, out: Path) -> Path:
    b.coco(ds / "annotations", name="instances_train.json")
    _move_out(ds / "annotations", out / "moved")
    return ds


def _panoptic(rel: str) -> Callable[[Path, Path], Path]:
    def build(ds: Path, out: Path) -> Path:
        import json

        import numpy as np
        from PIL import Image

        ds.mkdir(parents=True)
        data = {"images": [{"id": 1, "file_name": "a.jpg", "width": 4, "height": 4}],
                "categories": [{"id": 1, "name": "cat", "isthing": 1}],
                "annotations": [{"image_id": 1, "file_name": "a.png", "segments_info": [{"id": 1, "category_id": 1}]}]}
        (ds / "panoptic_train.json").write_text(json.dumps(data))
        (ds / "panoptic_train").mkdir()
        Image.fromarray(np.full((4, 4, 3), (1, 0, 0), dtype=np.uint8)).save(ds / "panoptic_train" / "a.png")
        _move_out(ds / rel, out / "moved")
        return ds / "panoptic_train.json"
    return build


def _spacy(linked_dir: bool) -> Callable[[Path, Path], Path]:
    def build(ds: Path, out: Path) -> Path:
        b.spacy(ds / "part", name="a.jsonl")
        _move_out(ds / "part" if linked_dir else ds / "part" / "a.jsonl", out / "moved")
        return ds
    return build


#: (id, build(dataset dir, outside dir) -> SOURCE, rows written when links are followed)
CASES = [
    ("yolo-image-file", _yolo("images/train/a.png"), 1),
    ("yolo-label-file", _yolo("labels/train/a.txt"), 1),
    ("yolo-split-folder", _yolo("images/train"), 1),
    ("yolo-labels-folder", _yolo("labels"), 1),
    ("voc-annotation-file", _voc("Annotations/a.xml"), 1),
    ("voc-annotations-folder", _voc("Annotations"), 1),
    ("voc-image-file", _voc("JPEGImages/a.jpg"), 1),
    ("voc-images-folder", _voc("JPEGImages"), 1),
    ("voc-imagesets-list", _voc("ImageSets/Main/train.txt"), 1),
    ("cvat-annotation-file", _cvat("annotations.xml"), 1),
    ("cvat-image-file", _cvat("images/a.jpg"), 1),
    ("cvat-images-folder", _cvat("images"), 1),
    ("coco-annotation-file", _coco_file, 1),
    ("coco-annotations-folder", _coco_dir, 1),
    ("coco-panoptic-png", _panoptic("panoptic_train/a.png"), 1),
    ("coco-panoptic-folder", _panoptic("panoptic_train"), 1),
    ("spacy-file", _spacy(False), 1),
    ("spacy-folder", _spacy(True), 1),
]


@pytest.mark.parametrize(("build", "rows"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_link_out_of_the_dataset_is_refused(tmp_path: Path, capsys, request, build, rows) -> None:
    source = build(tmp_path / "ds", tmp_path / "elsewhere")
    out = tmp_path / "out.ndjson"
    fmt = ("--from", request.node.callspec.id.split("-")[0])
    code, err = b.run(capsys, source, out, *fmt)
    assert code == 1, err
    assert err.count("\n") == 1 and "links outside the dataset root" in err and "--follow-links" in err, err
    assert not out.exists()
    code, err = b.run(capsys, source, out, "--follow-links", *fmt)
    assert code == 0, err
    assert len(read_ndjson(out)) == rows


def test_links_inside_the_root_are_fine(tmp_path: Path, capsys) -> None:
    """A link farm inside the dataset (train -> all) needs no option."""
    source = b.yolo(tmp_path / "ds")
    shutil.move(str(tmp_path / "ds" / "images" / "train"), str(tmp_path / "ds" / "images" / "all"))
    (tmp_path / "ds" / "images" / "train").symlink_to(tmp_path / "ds" / "images" / "all")
    code, err = b.run(capsys, source, tmp_path / "out.ndjson")
    assert code == 0, err


def test_source_given_through_a_link_is_trusted(tmp_path: Path, capsys) -> None:
    """The SOURCE the user names may itself be a link: its target is the dataset root."""
    b.yolo(tmp_path / "real")
    (tmp_path / "named").symlink_to(tmp_path / "real")
    code, err = b.run(capsys, tmp_path / "named", tmp_path / "out.ndjson")
    assert code == 0, err


@pytest.mark.parametrize(
    ("relative", "inside"),
    [("a.txt", True), ("sub/a.txt", True), ("link-out/a.txt", False), ("sub/link-file", False), ("sub/link-in", True)],
)
def test_confinement(tmp_path: Path, relative: str, inside: bool) -> None:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.txt").write_text("x")
    (root / "link-out").symlink_to(tmp_path / "out")
    (root / "sub" / "link-file").symlink_to(tmp_path / "out" / "a.txt")
    (root / "sub" / "link-in").symlink_to(root / "sub")
    conf = Confinement(root)
    assert conf.inside(root / relative) is inside
    assert Confinement(root, follow_links=True).inside(root / relative)
    if not inside:
        with pytest.raises(UnsafeInputError, match="links outside the dataset root"):
            conf.check(root / relative)


def test_ontology_command_refuses_and_follows_links_too(tmp_path: Path, capsys) -> None:
    from converters.cli import main

    source = _yolo("images/train/a.png")(tmp_path / "ds", tmp_path / "elsewhere")
    assert main(["ontology", str(source), "-o", str(tmp_path / "ont.json")]) == 1
    assert "links outside the dataset root" in capsys.readouterr().err
    assert main(["ontology", str(source), "-o", str(tmp_path / "ont.json"), "--follow-links"]) == 0
    assert (tmp_path / "ont.json").is_file()
