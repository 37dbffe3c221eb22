"""Run the Labelbox oracle (``lb_oracle.py``) many times in one process, for the test suite.

Started by the ``oracle`` fixture (tests/conftest.py) with ``LB_ORACLE_PYTHON``, once per test
process: importing the Labelbox SDK costs about a second per oracle run, which a suite of a few
hundred oracle checks paid every time. The script is imported in place from its path and its
own ``main(argv)`` runs each request, so every check is exactly the one a command line run
makes (same arguments, same output, same exit status).

Protocol: one JSON list of arguments per line on stdin; one JSON object per line on stdout,
``{"returncode": int, "stdout": str, "stderr": str}``. EOF ends the process.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import sys


def _load(script: str):  # noqa: ANN202 - runs under the oracle's Python, not the package's
    spec = importlib.util.spec_from_file_location("lb_oracle", script)
    if spec is None or spec.loader is None:
        raise SystemExit(f"oracle_server: cannot load {script}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(oracle, argv: list[str]) -> dict:  # noqa: ANN001
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = oracle.main(argv)
        except SystemExit as exc:  # argparse errors, sys.exit in the script
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            if exc.code is not None and not isinstance(exc.code, int):
                print(exc.code, file=sys.stderr)
        except Exception as exc:  # noqa: BLE001 - reported as the failing run it would have been
            code = 1
            print(f"oracle_server: {type(exc).__name__}: {exc}", file=sys.stderr)
    return {"returncode": int(code or 0), "stdout": out.getvalue(), "stderr": err.getvalue()}


def main() -> None:
    oracle = _load(sys.argv[1])
    real_stdout = sys.stdout
    print(json.dumps({"ready": True}), file=real_stdout, flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        reply = _run(oracle, json.loads(line))
        print(json.dumps(reply), file=real_stdout, flush=True)


if __name__ == "__main__":
    main()
