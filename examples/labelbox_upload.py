"""Hand an import file to Labelbox: pre-labels with MALPredictionImport, ground truth with LabelImport.

For real (needs ``pip install labelbox`` and an API key)::

    LABELBOX_API_KEY=... python examples/labelbox_upload.py out.ndjson --project PROJECT_ID --mode prelabel

Without ``LABELBOX_API_KEY`` the same code runs against ``fake_labelbox`` (a stand-in with the
SDK's signatures that records the calls), which is how CI runs every recipe without network.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
from pathlib import Path
from types import ModuleType
from typing import Any

#: Rows per import job: Labelbox advises splitting large imports (and ~1,000 mask rows per job).
ROWS_PER_JOB = 5000


def labelbox_sdk() -> tuple[ModuleType, Any]:
    """The real SDK and a client when an API key is set, else the fake and its client."""
    if os.environ.get("LABELBOX_API_KEY"):
        lb = importlib.import_module("labelbox")
        return lb, lb.Client(api_key=os.environ["LABELBOX_API_KEY"])
    import fake_labelbox

    return fake_labelbox, fake_labelbox.Client()


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    """Every row of an NDJSON file (lbconvert writes one annotation per line)."""
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def upload(
    path: str | Path, *, project_id: str, mode: str, sdk: ModuleType, client: Any, name: str | None = None
) -> list[Any]:
    """Import ``path`` into the project; returns the jobs (raises if Labelbox reports errors).

    ``mode`` is the one given to ``lbconvert convert``: ``prelabel`` rows go through
    ``MALPredictionImport`` (editable suggestions), ``ground-truth`` rows through
    ``LabelImport`` (submitted labels). Rows of one data row stay in one job.
    """
    rows = read_rows(path)
    base = name or Path(path).stem
    jobs = []
    for i, chunk in enumerate(_chunks(rows, ROWS_PER_JOB)):
        job_name = f"{base}-{i + 1}"
        if mode == "prelabel":
            job = sdk.MALPredictionImport.create_from_objects(
                client=client, project_id=project_id, name=job_name, predictions=chunk
            )
        elif mode == "ground-truth":
            job = sdk.LabelImport.create_from_objects(client=client, project_id=project_id, name=job_name, labels=chunk)
        else:
            raise ValueError(f"mode must be prelabel or ground-truth, not {mode!r}")
        job.wait_until_done()
        if job.errors:
            raise RuntimeError(f"{job_name}: Labelbox refused rows: {job.errors[:3]}")
        jobs.append(job)
    return jobs


def create_text_data_rows(rows_json: str | Path, *, dataset_id: str, client: Any) -> None:
    """Create the data rows ``lbconvert convert --write-data-rows`` wrote (text sources)."""
    items = json.loads(Path(rows_json).read_text(encoding="utf-8"))
    task = client.get_dataset(dataset_id).create_data_rows(items)
    task.wait_till_done()
    if task.errors:
        raise RuntimeError(f"data rows not created: {task.errors[:3]}")


def _chunks(rows: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    """Chunks of at most ``size`` rows, cut between data rows."""
    chunks: list[list[dict[str, Any]]] = [[]]
    last = None
    for row in rows:
        key = json.dumps(row.get("dataRow"), sort_keys=True)
        if len(chunks[-1]) >= size and key != last:
            chunks.append([])
        chunks[-1].append(row)
        last = key
    return [c for c in chunks if c]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("file", metavar="OUT.ndjson")
    p.add_argument("--project", required=True, metavar="PROJECT_ID")
    p.add_argument("--mode", default="prelabel", choices=("prelabel", "ground-truth"))
    args = p.parse_args(argv)
    sdk, client = labelbox_sdk()
    jobs = upload(args.file, project_id=args.project, mode=args.mode, sdk=sdk, client=client)
    print(f"{len(jobs)} import job(s) done with {sdk.__name__}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
