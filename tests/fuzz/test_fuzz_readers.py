"""Property-based fuzzing of every reader with mutated real fixtures (issue 14).

Each seed is a real dataset from ``../shared`` (other tools' exports), copied once into a
temporary folder (the shared files are read in place and never enter the repository). A
case rewrites one of its files with a Hypothesis mutation (``_mutate``: byte flips,
truncation, deleted fields, swapped types, extreme numbers, duplicated elements), converts,
and restores the file. Whatever the input:

* only a :class:`~converters.errors.ConversionError` escapes, and its message is one line;
* on success the report invariant holds (per kind read = written + skipped);
* the project's validator accepts every row written (and no uuid repeats on a data row).

Profiles (tests/conftest.py): ``ci``, the default, runs 300 cases per reader (about a
minute for all five); ``--hypothesis-profile=long`` runs 10,000 per reader.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import converters
from converters.errors import ConversionError
from converters.matrix import Mode
from converters.model import Media
from converters.validate import validate_file
from tests.conftest import PUBLIC, WILD
from tests.fuzz._mutate import mutate

pytestmark = pytest.mark.shared


@dataclass(frozen=True)
class Seed:
    """A dataset to break: its folder, the SOURCE inside it, the files mutations may touch."""

    name: str
    fmt: str
    folder: Path  # under ../shared
    source: str  # relative to folder
    files: dict[str, str]  # relative path -> kind (json, jsonl, xml, lines, png, docbin)
    media: Media = Media.IMAGE
    options: dict = field(default_factory=dict)


_DM = PUBLIC / "coco/openvinotoolkit-datumaro/tests/assets/coco_dataset/coco"
SEEDS: dict[str, list[Seed]] = {
    "coco": [
        Seed("labelformat-instances", "coco", PUBLIC / "coco/labelformat/tests/fixtures/instance_segmentation/COCO",
             "instances.json", {"instances.json": "json"}),
        Seed("datumaro-split", "coco", _DM / "annotations", ".", {
            "instances_val.json": "json", "person_keypoints_val.json": "json", "labels_val.json": "json",
            "panoptic_val.json": "json", "panoptic_val/b.png": "png"}),
        Seed("panopticapi", "coco", WILD / "coco/panopticapi-panoptic/sample_data", "panoptic_examples.json",
             {"panoptic_examples.json": "json"}),
        Seed("sahi-terrain", "coco", WILD / "coco/sahi-terrain-all/tests/data/coco_utils", "terrain_all_coco.json",
             {"terrain_all_coco.json": "json"}),
        # the same files streamed (--coco-stream always: ijson, head / tail / scan / read passes)
        Seed("labelformat-instances-streamed", "coco", PUBLIC / "coco/labelformat/tests/fixtures/instance_segmentation/COCO",
             "instances.json", {"instances.json": "json"}, options={"reader_options": {"stream": "always"}}),
        Seed("panopticapi-streamed", "coco", WILD / "coco/panopticapi-panoptic/sample_data", "panoptic_examples.json",
             {"panoptic_examples.json": "json"}, options={"reader_options": {"stream": "always"}}),
    ],
    "voc": [
        Seed("datumaro-devkit", "voc", PUBLIC / "voc/openvinotoolkit-datumaro/tests/assets/voc_dataset/voc_dataset1", ".", {
            "Annotations/2007_000001.xml": "xml", "ImageSets/Main/train.txt": "lines",
            "SegmentationObject/2007_000001.png": "png", "SegmentationClass/2007_000001.png": "png"}),
        Seed("labelformat-xml", "voc", PUBLIC / "voc/labelformat/tests/fixtures/object_detection/PascalVOC", ".",
             {"a-weird Filename.asdf.xml": "xml"}),
        Seed("fruit", "voc", WILD / "voc/cvat-voc-fruit", ".", {}),
    ],
    "yolo": [
        Seed("labelformat", "yolo", PUBLIC / "yolo/labelformat/tests/fixtures/object_detection/YOLOv8", "example.yaml", {
            "example.yaml": "lines", "labels/a-difficult subfolder/a-weird Filename.asdf.txt": "lines"}),
        Seed("dagshub-pose", "yolo", PUBLIC / "yolo/dagshub-annotation-converter/tests/fs_import/yolo/res", "pose_3dim.yaml",
             {"pose_3dim.yaml": "lines", "data/labels_pose_3dim/testimg.txt": "lines", "data/images/testimg.png": "png"},
             options={"reader_options": {"labels_dir": "labels_pose_3dim"}}),
        Seed("datumaro-darknet", "yolo", PUBLIC / "yolo/openvinotoolkit-datumaro/tests/assets/yolo_dataset/strict", "obj.data",
             {"obj.data": "lines", "train.txt": "lines", "obj.names": "lines"}),
    ],
    "cvat": [
        Seed("datumaro-images", "cvat", PUBLIC / "cvat/openvinotoolkit-datumaro/tests/assets/cvat_dataset/for_images/export_task",
             "train.xml", {"train.xml": "xml"}),
        Seed("datumaro-video", "cvat", PUBLIC / "cvat/cvat-ai-datumaro/tests/assets/cvat_dataset/for_video", "annotations.xml",
             {"annotations.xml": "xml"}, media=Media.VIDEO, options={"media": "video"}),
        Seed("dagshub-skeletons", "cvat", PUBLIC / "cvat/dagshub-annotation-converter/tests/cvat/res", "pose_grouping.xml",
             {"pose_grouping.xml": "xml"}),
        Seed("dagshub-video", "cvat", PUBLIC / "cvat/dagshub-annotation-converter/tests/cvat_video/res", "sample_video.xml",
             {"sample_video.xml": "xml"}, media=Media.VIDEO, options={"media": "video"}),
    ],
    "spacy": [
        Seed("v2-json", "spacy", PUBLIC / "spacy/spaCy/extra/example_data", "training-data.json", {"training-data.json": "json"},
             media=Media.TEXT),
        Seed("prodigy-jsonl", "spacy", PUBLIC / "spacy/explosion-projects/tutorials/ner_fashion_brands/assets",
             "fashion_brands_training.jsonl", {"fashion_brands_training.jsonl": "jsonl"}, media=Media.TEXT),
        Seed("textcat-jsonl", "spacy", PUBLIC / "spacy/spaCy/extra/example_data/textcat_example_data", "cooking.jsonl",
             {"cooking.jsonl": "jsonl"}, media=Media.TEXT),
        Seed("tuples-json", "spacy", PUBLIC / "spacy/explosion-projects/pipelines/ner_demo_update/assets", "train.json",
             {"train.json": "json"}, media=Media.TEXT),
        Seed("docbin", "spacy", PUBLIC / "spacy/generated-spacy-3.8.18", "spans_overlapping.spacy",
             {"spans_overlapping.spacy": "docbin"}, media=Media.TEXT),
    ],
}


def _copy(src: Path, dst: Path) -> None:
    """Copy a dataset folder with writable modes (the shared files are read-only)."""
    for dirpath, _dirs, files in os.walk(src):
        target = dst / Path(dirpath).relative_to(src)
        target.mkdir(parents=True, exist_ok=True)
        for name in files:
            shutil.copyfile(Path(dirpath, name), target / name)


@pytest.fixture(scope="module")
def workspace() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="lbc-fuzz-") as tmp:
        yield Path(tmp)


def _prepare(workspace: Path, seed: Seed) -> Path:
    root = workspace / seed.fmt / seed.name
    if not root.exists():
        if not seed.folder.is_dir():
            pytest.skip(f"fixture folder {seed.folder} not found")
        _copy(seed.folder, root)
    return root


def _files(seed: Seed, root: Path) -> dict[str, str]:
    """The files a case may break: the seed's list, else every annotation-like file."""
    if seed.files:
        return seed.files
    kinds = {".xml": "xml", ".json": "json", ".jsonl": "jsonl", ".txt": "lines", ".yaml": "lines"}
    found = sorted(p for p in root.rglob("*") if p.suffix.lower() in kinds)[:50]
    return {p.relative_to(root).as_posix(): kinds[p.suffix.lower()] for p in found}


def run_case(workspace: Path, seed: Seed, data: st.DataObject) -> None:
    root = _prepare(workspace, seed)
    files = _files(seed, root)
    rel = data.draw(st.sampled_from(sorted(files)), label="file")
    target = root / rel
    original = target.read_bytes()
    mode = data.draw(st.sampled_from([Mode.PRELABEL, Mode.GROUND_TRUTH]), label="mode")
    out = workspace / "out" / "out.ndjson"
    out.parent.mkdir(exist_ok=True)
    for stale in out.parent.iterdir():
        stale.unlink()
    try:
        target.write_bytes(mutate(data, original, files[rel]))
        try:
            report = converters.convert([root / seed.source], out, fmt=seed.fmt, mode=mode.value,
                                        report=out.with_suffix(".report.json"), **seed.options)
        except ConversionError as exc:
            message = str(exc)
            assert message and "\n" not in message and "\r" not in message, repr(message)
            return
    finally:
        target.write_bytes(original)
    report.check()
    for part in sorted(out.parent.glob("*.ndjson")):
        problems = validate_file(part, mode=mode, media=seed.media).problems
        assert problems == [], problems[:5]


def _fuzz(fmt: str):
    seeds = SEEDS[fmt]

    @settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                     HealthCheck.function_scoped_fixture])
    @given(data=st.data())
    def test(workspace: Path, data: st.DataObject) -> None:
        seed = data.draw(st.sampled_from(seeds), label="seed")
        run_case(workspace, seed, data)

    test.__name__ = f"test_fuzz_{fmt}"
    test.__doc__ = f"Mutated {fmt} fixtures: only ConversionError escapes, the report adds up, every row validates."
    return test


test_fuzz_coco = _fuzz("coco")
test_fuzz_voc = _fuzz("voc")
test_fuzz_yolo = _fuzz("yolo")
test_fuzz_cvat = _fuzz("cvat")
test_fuzz_spacy = _fuzz("spacy")


@pytest.mark.parametrize("seed", [s for seeds in SEEDS.values() for s in seeds], ids=lambda s: f"{s.fmt}-{s.name}")
def test_seed_converts_unmutated(workspace: Path, seed: Seed) -> None:
    """Every seed converts as it is (so the fuzz cases start from a working dataset)."""
    if seed.fmt == "spacy" and seed.source.endswith(".spacy"):
        pytest.importorskip("spacy")
    root = _prepare(workspace, seed)
    out = workspace / f"seed-{seed.fmt}-{seed.name}.ndjson"
    report = converters.convert([root / seed.source], out, fmt=seed.fmt, report=out.with_suffix(".report.json"),
                                **seed.options)
    report.check()
    assert report.assets > 0
    checked = validate_file(out, mode=Mode.PRELABEL, media=seed.media)
    problems, rows = checked.problems, checked.rows
    assert problems == [] and rows > 0
