"""The bundled sample (fixtures/sample, made by fixtures/make_sample.py): what the README's first command converts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from converters.cli import main
from tests.conftest import OWN_FIXTURES, read_ndjson

SAMPLE = OWN_FIXTURES / "sample" / "instances.json"


def test_sample_is_what_the_script_writes(tmp_path: Path) -> None:
    """The committed JSON is byte-identical to a fresh run of make_sample.py (so it can be regenerated)."""
    script = (OWN_FIXTURES / "make_sample.py").read_text(encoding="utf-8")
    copy = tmp_path / "make_sample.py"
    copy.write_text(script, encoding="utf-8")
    subprocess.run([sys.executable, str(copy)], check=True)
    assert (tmp_path / "sample" / "instances.json").read_bytes() == SAMPLE.read_bytes()
    assert sorted(p.name for p in (tmp_path / "sample" / "images").iterdir()) == ["kitchen.png", "park.png", "street.png"]


def test_sample_converts_with_every_kind(tmp_path: Path, capsys, oracle) -> None:
    out = tmp_path / "sample.ndjson"
    assert main(["convert", str(SAMPLE), "-o", str(out), "--quiet"]) == 0
    rows = read_ndjson(out)
    kinds = sorted({k for r in rows for k in ("bbox", "polygon", "point", "mask") if k in r})
    assert kinds == ["bbox", "mask", "point", "polygon"]
    # the two-part road becomes two polygons; the crowd object a mask; 4 labelled keypoints 4 points
    assert sum(1 for r in rows if r["name"] == "road") == 2
    assert sum(1 for r in rows if "point" in r) == 4
    assert {r["dataRow"]["globalKey"] for r in rows} == {"images/street.png", "images/park.png", "images/kitchen.png"}
    report = json.loads((tmp_path / "sample.report.json").read_text())
    for kind, c in report["counts"].items():
        assert c["read"] == c["written"] + c["skipped"], kind
    result = oracle(out, mode="mal", media="image")
    assert result.failed == 0 and result.ok == len(rows), result.output


def test_no_tracked_file_is_a_copy_of_a_third_party_fixture(fixtures: Path, wild: Path) -> None:
    """Files from other projects are read in place from ../shared, never committed here."""
    import hashlib

    def digest(path: Path) -> str:
        return hashlib.sha256(path.read_bytes()).hexdigest()

    third_party = {digest(p) for root in (fixtures, wild) for p in root.rglob("*") if p.is_file() and p.stat().st_size}
    root = OWN_FIXTURES.parent
    proc = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=False)
    if proc.returncode != 0:  # not a git checkout (an sdist): check the whole tree we ship
        tracked = [p for p in root.rglob("*") if p.is_file() and ".venv" not in p.parts and ".git" not in p.parts]
    else:
        tracked = [root / name for name in proc.stdout.decode().split("\0") if name]
    copies = [str(p.relative_to(root)) for p in tracked if p.is_file() and p.stat().st_size and digest(p) in third_party]
    assert copies == []
