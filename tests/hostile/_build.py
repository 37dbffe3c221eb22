"""Smallest valid dataset of each reader, written into a test's tmp_path, and the CLI
runner the hostile-input tests share.

Each builder returns the SOURCE path to convert. The tests then break one thing (a link, a
size, a duplicated id) so the reproducer and its neighbours are each one line of a table.
"""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from converters.cli import main

__all__ = ["CVAT_BOX", "coco", "cvat", "png", "run", "spacy", "voc", "voc_xml", "yolo"]


def png(path: Path, size: tuple[int, int] = (10, 10)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size).save(path)
    return path


def coco(folder: Path, *, images=None, categories=None, annotations=None, name: str = "instances.json") -> Path:
    data = {
        "images": images if images is not None else [{"id": 1, "file_name": "a.jpg", "width": 10, "height": 10}],
        "categories": categories if categories is not None else [{"id": 1, "name": "cat"}],
        "annotations": annotations if annotations is not None else [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 4, 4]}
        ],
    }
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def voc_xml(objects: str = "", *, filename: str = "a.jpg", size: str = "<width>10</width><height>10</height>") -> str:
    objects = objects or "<object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object>"
    return (f"<annotation><filename>{filename}</filename><size>{size}<depth>3</depth></size>"
            f"{objects}</annotation>")


def voc(folder: Path, xml: str | None = None, *, devkit: bool = False) -> Path:
    """A single XML file, or (``devkit``) a devkit tree with Annotations/ and JPEGImages/."""
    if devkit:
        (folder / "Annotations").mkdir(parents=True, exist_ok=True)
        (folder / "Annotations" / "a.xml").write_text(xml or voc_xml())
        png(folder / "JPEGImages" / "a.jpg")
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "a.xml"
    path.write_text(xml or voc_xml())
    return path


def yolo(folder: Path, *, yaml: str | None = None, label: str = "0 0.5 0.5 0.2 0.2\n", image: bool = True) -> Path:
    """An Ultralytics dataset: data.yaml, images/train/a.png, labels/train/a.txt."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data.yaml").write_text(yaml if yaml is not None else "train: images/train\nnames: [cat]\n")
    if image:
        png(folder / "images" / "train" / "a.png")
    (folder / "labels" / "train").mkdir(parents=True, exist_ok=True)
    (folder / "labels" / "train" / "a.txt").write_text(label)
    return folder / "data.yaml"


CVAT_BOX = '<box label="cat" xtl="1" ytl="1" xbr="5" ybr="5" occluded="0" source="manual" z_order="0"></box>'


def cvat(folder: Path, body: str | None = None, *, labels: str | None = None, image_attrs: str = 'width="10" height="10"') -> Path:
    labels = labels if labels is not None else "<label><name>cat</name><type>any</type><attributes></attributes></label>"
    body = body if body is not None else f'<image id="0" name="a.jpg" {image_attrs}>{CVAT_BOX}</image>'
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "annotations.xml"
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<annotations><version>1.1</version><meta><task><name>t</name>'
        f"<labels>{labels}</labels></task></meta>{body}</annotations>"
    )
    return path


def spacy(folder: Path, text: str | None = None, *, name: str = "a.jsonl") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text if text is not None else '{"text": "hello world", "spans": [{"start": 0, "end": 5, "label": "X"}]}\n')
    return path


def run(capsys, source: Path | str, out: Path, *extra: str) -> tuple[int, str]:
    """``lbconvert convert SOURCE -o OUT --quiet ...`` in-process: (exit code, stderr)."""
    code = main(["convert", str(source), "-o", str(out), "--quiet", *extra])
    return code, capsys.readouterr().err
