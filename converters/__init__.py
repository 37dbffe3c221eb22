"""labelbox-converters: COCO, Pascal VOC, YOLO, CVAT and spaCy exports to Labelbox NDJSON."""

__version__ = "0.1.0"
