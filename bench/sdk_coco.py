"""The same COCO file converted by hand with the Labelbox SDK (the baseline of issue 16).

What a user without labelbox-converters would write: load the COCO JSON, build one
``ObjectAnnotation`` (``Rectangle`` for a box, ``Polygon`` for the first polygon of a
segmentation) per object, one ``Label`` per image keyed by its file name, and serialise
with ``NDJsonConverter.serialize`` to an NDJSON file. No repair, no report, no ontology:
a lower bar than ours. Run it with the oracle venv's python (``labelbox`` is a bench-only
dependency, never the package's):

    /work/main/.venv-oracle/bin/python bench/sdk_coco.py instances.json out.ndjson
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict

import labelbox.types as lb_types
from labelbox.data.serialization import NDJsonConverter


def main(src: str, out: str) -> int:
    with open(src, "rb") as fh:
        data = json.load(fh)
    names = {c["id"]: c["name"] for c in data["categories"]}
    files = {i["id"]: i["file_name"] for i in data["images"]}
    per_image: dict[int, list[lb_types.ObjectAnnotation]] = defaultdict(list)
    for a in data["annotations"]:
        seg = a.get("segmentation")
        if seg:
            flat = seg[0]
            value: lb_types.Geometry = lb_types.Polygon(
                points=[lb_types.Point(x=flat[i], y=flat[i + 1]) for i in range(0, len(flat), 2)])
        else:
            x, y, w, h = a["bbox"]
            value = lb_types.Rectangle(start=lb_types.Point(x=x, y=y), end=lb_types.Point(x=x + w, y=y + h))
        per_image[a["image_id"]].append(lb_types.ObjectAnnotation(name=names[a["category_id"]], value=value))
    labels = [lb_types.Label(data={"global_key": files[i]}, annotations=anns) for i, anns in per_image.items()]
    with open(out, "w", encoding="utf-8") as fh:
        for row in NDJsonConverter.serialize(labels):
            fh.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1], sys.argv[2]))
