"""Output bytes do not depend on whether orjson (the ``fast`` extra) is installed."""

from __future__ import annotations

from pathlib import Path

import pytest

from converters import _json
from converters.pipeline import convert
from tests.conftest import FIXTURES

SOURCES = [
    "coco/openvinotoolkit-datumaro/tests/assets/coco_dataset/coco/annotations",
    "coco/labelformat/tests/fixtures/instance_segmentation/COCO/instances.json",
    "spacy/spaCy/extra/example_data/textcat_example_data/cooking.jsonl",
    "spacy/explosion-projects/tutorials/ner_fashion_brands/assets/fashion_brands_training.jsonl",
    "cvat/dagshub-annotation-converter/tests/fs_import/cvat/annotations.xml",
    "yolo/cvat-ai-datumaro/tests/assets/yolo_dataset/yolov8_segmentation/data.yaml",
    "yolo/cvat-ai-datumaro/tests/assets/yolo_dataset/yolov8_pose/data.yaml",
]


@pytest.mark.skipif(not _json.HAVE_ORJSON, reason="orjson not installed: nothing to compare")
@pytest.mark.parametrize("source", SOURCES)
def test_same_bytes_with_and_without_orjson(tmp_path: Path, monkeypatch, source: str) -> None:
    src = FIXTURES / source
    convert([src], tmp_path / "fast.ndjson")
    monkeypatch.setattr(_json, "_orjson", None)
    convert([src], tmp_path / "plain.ndjson")
    assert (tmp_path / "fast.ndjson").read_bytes() == (tmp_path / "plain.ndjson").read_bytes()
    assert (tmp_path / "fast.ndjson").stat().st_size > 0


def test_loads_reports_line_and_column() -> None:
    with pytest.raises(_json.JSONDecodeError) as info:
        _json.loads(b'{"a": 1,\n "b": }')
    assert (info.value.lineno, info.value.colno) == (2, 7)
