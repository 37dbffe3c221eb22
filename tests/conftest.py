"""Shared test fixtures: fixture paths, the Labelbox oracle, report invariant checks."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
ORACLE_SCRIPT = Path(os.environ.get("LB_ORACLE_SCRIPT", ROOT.parent / "shared" / "tools" / "lb_oracle.py"))


@pytest.fixture
def fixtures() -> Path:
    """The repository's fixtures/ folder (copies of public fixtures, source names kept)."""
    return FIXTURES


class OracleResult:
    def __init__(self, proc: subprocess.CompletedProcess[str]) -> None:
        self.returncode = proc.returncode
        self.output = proc.stdout + proc.stderr
        last = [ln for ln in proc.stdout.splitlines() if "rows ok" in ln]
        self.summary = last[-1] if last else ""
        parts = self.summary.replace(",", "").split()
        self.ok = int(parts[0]) if parts else -1
        self.failed = int(parts[3]) if len(parts) > 3 else -1


def _oracle_python() -> str | None:
    return os.environ.get("LB_ORACLE_PYTHON")


@pytest.fixture
def oracle():
    """Run ../shared/tools/lb_oracle.py (the Labelbox SDK 5.2.1 parser) on an NDJSON file.

    Needs LB_ORACLE_PYTHON: a Python with ``labelbox[data]==5.2.1`` installed (.ci/run
    sets one up). Without it the oracle tests are skipped, and say so.
    """
    python = _oracle_python()
    if not python or not ORACLE_SCRIPT.is_file():
        if os.environ.get("LB_REQUIRE_ORACLE"):
            pytest.fail(f"oracle required but missing (LB_ORACLE_PYTHON={python!r}, {ORACLE_SCRIPT})")
        pytest.skip("LB_ORACLE_PYTHON not set or oracle script missing (CI sets both)")

    def run(path: Path, *, mode: str = "mal", media: str = "image", extra: tuple[str, ...] = ()) -> OracleResult:
        proc = subprocess.run(
            [python, str(ORACLE_SCRIPT), str(path), "--mode", mode, "--media", media, *extra],
            capture_output=True,
            text=True,
            check=False,
        )
        return OracleResult(proc)

    return run


def read_ndjson(path: Path) -> list[dict]:
    """Every row of an NDJSON file."""
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
