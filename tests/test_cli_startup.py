"""``lbconvert convert`` start-up (issue 16): the quick parse without reader flags gives the
full parser's namespace, defers to it whenever it cannot, and imports no other reader."""

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
    unwanted = {"converters.readers.cvat", "converters.readers.voc", "converters.readers.yolo",
                "converters.readers.spacy", "converters.preview", "importlib.metadata", "tqdm"}
    assert not loaded & unwanted
