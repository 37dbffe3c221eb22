"""``lbconvert convert`` start-up (issue 16): the quick parse without reader flags gives the
full parser's namespace, defers to it whenever it cannot, and imports no other reader; the
package, the CLI and a COCO run import only what they use (checked on ``sys.modules`` of a
fresh interpreter, never on time)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from converters.cli import _parse_convert, _parser

#: argv the quick parse takes (it must give the full parser's values).
TAKEN = [
    ["convert", "a.json", "-o", "o.ndjson"],
    ["convert", "a.json", "b.json", "-o", "o.ndjson", "--mode", "ground-truth", "--quiet"],
    ["convert", "--from", "coco", "a.json", "--output=o.ndjson", "--strict", "--polygon-parts", "mask"],
    ["convert", "a.json", "-o", "o.ndjson", "--global-key", "coco/{name}", "--min-score", "0.5"],
]
#: argv it leaves to the full parser (reader flags, abbreviations, help, mistakes, other commands).
LEFT = [
    ["convert", "a.json", "-o", "o.ndjson", "--coco-geometry", "bbox"],
    ["convert", "a.json", "-o", "o.ndjson", "--path-root", "/data"],
    ["convert", "a.json", "--out", "o.ndjson"],
    ["convert", "a.json", "-o", "o.ndjson", "--help"],
    ["convert", "a.json"],
    ["convert", "a.json", "-o", "o.ndjson", "--bogus"],
    ["--debug", "convert", "a.json", "-o", "o.ndjson"],
    ["validate", "o.ndjson"],
    ["formats"],
    [],
]


@pytest.mark.parametrize("argv", TAKEN, ids=lambda a: " ".join(a[1:]))
def test_quick_parse_equals_the_full_parser(argv: list[str]) -> None:
    quick = _parse_convert(argv)
    assert quick is not None
    parser, dests = _parser()
    full = vars(parser.parse_args(argv))
    assert all(full.pop(dest) is None for dest in dests)  # reader flags: all unset
    assert vars(quick) == full


@pytest.mark.parametrize("argv", LEFT, ids=lambda a: " ".join(a) or "(none)")
def test_quick_parse_leaves_the_rest(argv: list[str]) -> None:
    assert _parse_convert(argv) is None


#: Never needed to start ``lbconvert convert`` on a COCO file of boxes and polygons: masks
#: (pycocotools, Pillow), Dask and fsspec, the XML / YAML readers' libraries, the progress bar
#: without a terminal, the entry-point scan, and our own modules for other commands and paths.
NOT_FOR_CONVERT = {
    "pycocotools", "PIL", "dask", "distributed", "fsspec", "lxml", "yaml", "ijson", "tqdm", "spacy",
    "importlib.metadata", "difflib",
    "converters.sharding", "converters.features", "converters.validate", "converters.preview",
    "converters._preview_draw", "converters._preview_images", "converters.readers.coco._results",
    "converters.readers.cvat", "converters.readers.voc", "converters.readers.yolo", "converters.readers.spacy",
}  # fmt: skip


def _modules_after(code: str) -> set[str]:
    """``sys.modules`` of a fresh interpreter once ``code`` ran (this process has imported everything)."""
    code += "\nimport sys\nprint(' '.join(sorted(sys.modules)))\n"
    return set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())


def test_import_converters_imports_nothing_of_the_package() -> None:
    """The public names are imported on first use (PEP 562): ``import converters`` alone costs
    no submodule, no numpy."""
    loaded = _modules_after("import converters")
    assert "converters" in loaded
    assert sorted(m for m in loaded if m.startswith("converters.")) == []
    assert "numpy" not in loaded and "shapely" not in loaded


def test_parsing_convert_imports_no_reader_nor_pipeline() -> None:
    """``import converters.cli`` + the quick parse: neither the pipeline nor a reader yet."""
    loaded = _modules_after(
        "from converters.cli import _parse_convert\n"
        "assert _parse_convert(['convert', 'a.json', '-o', 'o.ndjson']) is not None"
    )
    assert "converters.cli" in loaded and "converters.options" in loaded  # it did run
    unwanted = NOT_FOR_CONVERT | {"converters.pipeline", "converters.writer", "converters.readers.coco"}
    assert sorted(loaded & unwanted) == []


def test_convert_imports_only_its_reader(tmp_path: Path) -> None:
    src = tmp_path / "instances_val.json"
    src.write_text(json.dumps({"images": [{"id": 1, "file_name": "a.jpg", "width": 9, "height": 9}],
                               "categories": [{"id": 1, "name": "c"}],
                               "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2]}]}))
    code = (
        "import sys\nfrom converters.cli import main\n"
        f"assert main(['convert', {str(src)!r}, '-o', {str(tmp_path / 'o.ndjson')!r}, '--quiet']) == 0\n"
        "print(' '.join(sorted(m for m in sys.modules)))\n"
    )
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())
    assert "converters.readers.coco" in loaded
    assert {"converters.pipeline", "converters.writer", "numpy"} <= loaded  # the run happened
    assert sorted(loaded & NOT_FOR_CONVERT) == []
    assert "shapely" not in loaded  # one box inside its image: no repair, GEOS never loaded


def test_a_polygon_to_repair_loads_shapely(tmp_path: Path) -> None:
    """The other side of shapely's lazy import: a bow-tie needs GEOS, which then loads."""
    src = tmp_path / "instances_val.json"
    bow_tie = [1, 1, 8, 8, 8, 1, 1, 8]
    src.write_text(json.dumps({"images": [{"id": 1, "file_name": "a.jpg", "width": 9, "height": 9}],
                               "categories": [{"id": 1, "name": "c"}],
                               "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "segmentation": [bow_tie]}]}))
    code = (
        "import sys\nfrom converters.cli import main\n"
        f"assert main(['convert', {str(src)!r}, '-o', {str(tmp_path / 'o.ndjson')!r}, '--quiet']) == 0\n"
        "print('shapely' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True"]
