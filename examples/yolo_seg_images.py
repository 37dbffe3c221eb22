"""Recipe: an Ultralytics YOLO segmentation dataset, with its images, as pre-labels.

YOLO labels are normalised to the image size, so the reader reads each image's header
(EXIF-aware, never the pixels) to get back to pixels. Segment rows become polygons; a
polygon with a hole or several parts follows ``--holes`` / ``--polygon-parts``. Then
``lbconvert preview`` draws the rows over the images, the quickest way to catch a wrong
class list or a label folder that does not match the images.

Run: ``python examples/yolo_seg_images.py`` (builds the dataset in a temporary folder).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

import converters
from converters.preview import preview
from labelbox_upload import labelbox_sdk, upload

# (image, class id, polygon in pixels) of a 200 x 100 image
OBJECTS = {
    "street_1.jpg": [(0, [(20, 20), (80, 20), (80, 70), (20, 70)]), (1, [(120, 30), (180, 50), (150, 90)])],
    "street_2.jpg": [(1, [(30, 10), (90, 40), (40, 80)])],
}
W, H = 200, 100


def make_dataset(root: Path) -> Path:
    """data.yaml, images/train/*.jpg and labels/train/*.txt (class cx cy ... normalised)."""
    for sub in ("images/train", "labels/train"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for name, objects in OBJECTS.items():
        im = Image.new("RGB", (W, H), (230, 230, 220))
        d = ImageDraw.Draw(im)
        lines = []
        for cls, poly in objects:
            d.polygon(poly, fill=(60, 90, 200) if cls == 0 else (220, 140, 30))
            coords = " ".join(f"{x / W:.6f} {y / H:.6f}" for x, y in poly)
            lines.append(f"{cls} {coords}")
        im.save(root / "images/train" / name)
        (root / "labels/train" / name).with_suffix(".txt").write_text("\n".join(lines) + "\n")
    yaml = root / "data.yaml"
    yaml.write_text("path: .\ntrain: images/train\nnames:\n  0: building\n  1: sign\n")
    return yaml


def run(root: Path) -> dict:
    data = make_dataset(root)
    out = root / "yolo.ndjson"
    report = converters.convert([data], out, mode="prelabel")
    print(report.summary())
    shown = preview([out], root / "preview", images=root / "images")
    print(f"preview: {shown.index}")
    sdk, client = labelbox_sdk()
    jobs = upload(out, project_id=os.environ.get("PROJECT_ID", "demo-project"), mode="prelabel", sdk=sdk, client=client)
    return {"report": report, "rows": out, "preview": shown, "client": client, "jobs": jobs}


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        run(Path(tmp))
