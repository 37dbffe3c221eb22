"""Recipe: push a detector's COCO results as pre-labels onto an existing Labelbox ontology.

A detector (Detectron2, MMDetection, YOLO's COCO export...) writes a COCO *results* file: a
list of ``{"image_id", "category_id", "bbox", "score"}``. It names images by id only, so the
dataset's COCO file (any file listing ``images`` and ``categories``) is given too. Rows are
matched to the project's ontology by class name and carry its ``schemaId``s; detections under
the score threshold are dropped and counted in the report.

Run: ``python examples/coco_results_prelabels.py`` (builds a tiny dataset in a temporary folder;
set LABELBOX_API_KEY and PROJECT_ID to import for real).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

import converters
from converters.preview import preview
from labelbox_upload import labelbox_sdk, upload


def make_inputs(root: Path) -> dict[str, Path]:
    """Two images, the dataset's COCO file, the detector's results, the project's ontology."""
    (root / "val").mkdir(parents=True, exist_ok=True)
    for name, box in (("0001.jpg", (40, 30, 120, 90)), ("0002.jpg", (150, 60, 230, 150))):
        im = Image.new("RGB", (320, 240), (90, 140, 90))
        ImageDraw.Draw(im).rectangle(box, fill=(200, 40, 40))
        im.save(root / "val" / name)
    dataset = {
        "images": [{"id": 1, "file_name": "0001.jpg", "width": 320, "height": 240},
                   {"id": 2, "file_name": "0002.jpg", "width": 320, "height": 240}],
        "categories": [{"id": 3, "name": "car"}, {"id": 8, "name": "truck"}],
        "annotations": [],
    }
    results = [
        {"image_id": 1, "category_id": 3, "bbox": [40, 30, 81, 61], "score": 0.94},
        {"image_id": 1, "category_id": 8, "bbox": [10, 10, 30, 20], "score": 0.21},  # below the threshold
        {"image_id": 2, "category_id": 3, "bbox": [150, 60, 81, 91], "score": 0.88},
    ]
    # What Labelbox's ontology export gives you (Project > Ontology > export, or
    # client.get_ontology(id).normalized): tools with featureSchemaIds.
    ontology = {"tools": [
        {"tool": "rectangle", "name": "car", "featureSchemaId": "clx0000000000000000000car", "classifications": []},
        {"tool": "rectangle", "name": "truck", "featureSchemaId": "clx00000000000000000truck", "classifications": []},
    ], "classifications": []}
    paths = {"dataset": root / "instances_val.json", "results": root / "detections.json", "ontology": root / "ontology.json"}
    paths["dataset"].write_text(json.dumps(dataset))
    paths["results"].write_text(json.dumps(results))
    paths["ontology"].write_text(json.dumps(ontology))
    return paths


def run(root: Path) -> dict:
    inputs = make_inputs(root)
    out = root / "prelabels.ndjson"
    report = converters.convert(
        [inputs["results"]], out,
        mode="prelabel",
        ontology=inputs["ontology"],         # rows use the project's schemaIds
        min_score=0.5,                       # drop weak detections (counted in the report)
        global_key="val/{name}",             # the global keys the data rows were created with
        reader_options={"images": str(inputs["dataset"])},  # --coco-images: ids -> file names
    )
    print(report.summary())
    shown = preview([out], root / "preview", images=root / "val")   # look before importing
    sdk, client = labelbox_sdk()
    jobs = upload(out, project_id=os.environ.get("PROJECT_ID", "demo-project"), mode="prelabel", sdk=sdk, client=client)
    return {"report": report, "rows": out, "preview": shown, "client": client, "jobs": jobs}


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        run(Path(tmp))
