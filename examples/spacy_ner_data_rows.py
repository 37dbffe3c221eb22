"""Recipe: spaCy / Prodigy NER annotations, with the text data rows they land on.

Text annotations need data rows holding the text. ``write_data_rows`` (``--write-data-rows``)
writes the payloads that create them (``[{"global_key", "row_data"}]``) with the same global
keys the rows use, so creating the data rows and importing the entities is two calls.
Entities are written with Labelbox's inclusive end offset, in code points.

Run: ``python examples/spacy_ner_data_rows.py`` (writes a Prodigy JSONL file in a temporary
folder; set LABELBOX_API_KEY, DATASET_ID and PROJECT_ID to do it for real).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import converters
from labelbox_upload import create_text_data_rows, labelbox_sdk, upload

RECORDS = [
    {"text": "Ada Lovelace wrote the first program in London.",
     "spans": [{"start": 0, "end": 12, "label": "PERSON"}, {"start": 40, "end": 46, "label": "GPE"}]},
    {"text": "Café Müller opened in Zürich in 1920.",
     "spans": [{"start": 0, "end": 11, "label": "ORG"}, {"start": 22, "end": 28, "label": "GPE"},
               {"start": 32, "end": 36, "label": "DATE"}]},
]


def run(root: Path) -> dict:
    source = root / "ner.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in RECORDS), encoding="utf-8")
    out = root / "ner.ndjson"
    data_rows = root / "data_rows.json"
    report = converters.convert([source], out, mode="prelabel", write_data_rows=data_rows)
    print(report.summary())
    sdk, client = labelbox_sdk()
    create_text_data_rows(data_rows, dataset_id=os.environ.get("DATASET_ID", "demo-dataset"), client=client)
    # Labelbox needs the data rows in the project (batch) before the labels are imported.
    jobs = upload(out, project_id=os.environ.get("PROJECT_ID", "demo-project"), mode="prelabel", sdk=sdk, client=client)
    return {"report": report, "rows": out, "data_rows": data_rows, "client": client, "jobs": jobs}


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        run(Path(tmp))
