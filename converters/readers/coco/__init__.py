"""COCO reader: instances, stuff, keypoints, image labels, panoptic and results files.

The reader lives in :mod:`.reader`; its helpers are the private modules beside it."""

from .reader import COCOOptions, COCOReader, load_coco_file

__all__ = ["COCOOptions", "COCOReader", "load_coco_file"]
