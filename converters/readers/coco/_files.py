"""Loading a COCO JSON file and telling what it holds (used by the reader and the results files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ... import _json
from ...errors import ParseError, SourceNotFoundError

__all__ = ["file_kind", "is_geometric", "kind_of_annotations", "load_coco_file"]


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
    return kind_of_annotations(path, first, any(is_geometric(a) for a in anns if isinstance(a, dict)))


def is_geometric(ann: dict[str, Any]) -> bool:
    """Whether an annotation object draws something (a labels file's objects do not)."""
    return "bbox" in ann or "segmentation" in ann or "keypoints" in ann


def kind_of_annotations(path: Path, first: list[dict[str, Any]], geometric: bool) -> str:
    """The kind of a file with annotations, from its first (up to 50) annotation objects and
    whether any of them all is geometric (shared by the streamed scan, which sees them one
    at a time)."""
    if any("segments_info" in a for a in first):
        return "panoptic"
    if path.stem.startswith("captions_") or all("caption" in a for a in first):
        return "captions"
    if any("keypoints" in a for a in first):
        return "keypoints"
    if path.stem.startswith("labels_") or not geometric:
        return "labels"
    return "instances"
