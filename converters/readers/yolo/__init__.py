"""YOLO reader: darknet and Ultralytics layouts; detection, segmentation, pose, OBB, predictions.

The reader lives in :mod:`.reader`; its helpers are the private modules beside it."""

from .reader import YOLOOptions, YOLOReader

__all__ = ["YOLOOptions", "YOLOReader"]
