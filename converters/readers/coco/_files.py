"""Loading a COCO JSON file and telling what it holds (used by the reader and the results files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ... import _json
from ...errors import ParseError, SourceNotFoundError

__all__ = ["file_kind", "load_coco_file"]


def load_coco_file(path: Path) -> Any:
    """Parse a COCO JSON file; a truncated or malformed file is a one-line ParseError."""
    if not path.is_file():
        raise SourceNotFoundError(path)
    raw = path.read_bytes()
    try:
        return _json.loads(raw)
    except _json.JSONDecodeError as exc:
        raise ParseError(path, f"invalid JSON: {exc.msg}", location=f"line {exc.lineno}, column {exc.colno}") from None
    except UnicodeDecodeError as exc:
        raise ParseError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def file_kind(path: Path, data: Any) -> str:
    """What a parsed COCO file holds, from its content (names are only a hint)."""
    if isinstance(data, list):
        return "results"
    anns = data.get("annotations") if isinstance(data, dict) else None
    if not isinstance(anns, list) or not anns:
        return "instances"
    first = [a for a in anns[:50] if isinstance(a, dict)]
    if any("segments_info" in a for a in first):
        return "panoptic"
    if path.stem.startswith("captions_") or all("caption" in a for a in first):
        return "captions"
    if any("keypoints" in a for a in first):
        return "keypoints"
    geometric = ("bbox", "segmentation", "keypoints")
    if path.stem.startswith("labels_") or all(not any(k in a for k in geometric) for a in anns if isinstance(a, dict)):
        return "labels"
    return "instances"
