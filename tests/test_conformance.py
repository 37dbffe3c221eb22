"""Conformance: every bundled COCO fixture converts, and the Labelbox SDK accepts every row.

The oracle is ../shared/tools/lb_oracle.py run with the Labelbox SDK 5.2.1 (see conftest).
Both modes are checked. Other readers have their own oracle tests in tests/readers/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from converters.cli import main
from converters.report import Report
from tests.conftest import FIXTURES, read_ndjson

COCO_FILES = sorted(
    p.relative_to(FIXTURES).as_posix()
    for p in (FIXTURES / "coco").rglob("*.json")
)


def _convert(src: Path, out: Path, *args: str) -> int:
    return main(["convert", str(src), "-o", str(out), "--quiet", *args])


@pytest.mark.parametrize("name", COCO_FILES)
@pytest.mark.parametrize("mode", ["mal", "gt"])
def test_coco_fixture__converts_or_fails_in_one_line(tmp_path: Path, capsys, oracle, name: str, mode: str) -> None:
    out = tmp_path / "out.ndjson"
    code = _convert(FIXTURES / name, out, "--mode", "prelabel" if mode == "mal" else "ground-truth")
    err = capsys.readouterr().err
    if code != 0:
        assert code == 1
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: ") and name.split("/")[-1] in lines[0]
        assert not out.exists()
        return
    mode_flag = "prelabel" if mode == "mal" else "ground-truth"
    assert main(["validate", str(out), "--media", "image", "--mode", mode_flag]) == 0  # our own checker agrees
    result = oracle(out, mode=mode, media="image")
    assert result.failed == 0, result.output
    assert result.ok == len(read_ndjson(out))


@pytest.mark.parametrize("name", COCO_FILES)
def test_coco_fixture__deterministic_and_accounted(tmp_path: Path, name: str) -> None:
    from converters.errors import ConversionError
    from converters.pipeline import convert

    try:
        first = convert([FIXTURES / name], tmp_path / "a.ndjson")
    except ConversionError:
        assert not (tmp_path / "a.ndjson").exists()  # rejected inputs write nothing
        return
    convert([FIXTURES / name], tmp_path / "b.ndjson")
    assert (tmp_path / "a.ndjson").read_bytes() == (tmp_path / "b.ndjson").read_bytes()
    assert isinstance(first, Report)
    first.check()
    assert sum(first.read.values()) == sum(first.written.values()) + sum(first.skipped.values())
