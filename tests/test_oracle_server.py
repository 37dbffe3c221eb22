"""The oracle server (tests/oracle_server.py) answers exactly as a command line run of the oracle."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import ORACLE_SCRIPT, OracleResult


def _rows(path: Path) -> Path:
    good = {"uuid": "00000000-0000-4000-8000-000000000001", "dataRow": {"globalKey": "a.jpg"}, "name": "car",
            "bbox": {"top": 1, "left": 1, "height": 2, "width": 2}}
    bad = {**good, "uuid": "00000000-0000-4000-8000-000000000002", "polygon": [{"x": 1, "y": 1}]}
    del bad["bbox"]  # a one-vertex polygon: the SDK refuses it
    path.write_text("\n".join(json.dumps(r) for r in (good, bad)) + "\n", encoding="utf-8")
    return path


def test_server_answers_as_a_command_line_run(tmp_path: Path, oracle, oracle_server) -> None:
    path = _rows(tmp_path / "rows.ndjson")
    for argv in ([str(path), "--mode", "mal", "--media", "image"], [str(path), "--mode", "gt", "--media", "video"],
                 [str(path), "--no-such-flag"]):
        served = oracle_server.run(argv)
        direct = subprocess.run([oracle_server.python, str(ORACLE_SCRIPT), *argv], capture_output=True, text=True, check=False)
        assert (served.returncode, served.stdout) == (direct.returncode, direct.stdout), argv
    result = oracle(path)
    assert (result.returncode, result.ok, result.failed) == (1, 1, 1), result.output
    assert OracleResult(oracle_server.run([str(path), "--media", "video"])).failed == 2  # a bbox row is no video row
