"""``lbconvert validate``: check any NDJSON import file before sending it to Labelbox.

Checks, per row: JSON object; ``dataRow`` with exactly one of ``globalKey`` (<= 200
characters) or ``id``; exactly one of ``name`` / ``schemaId``; a recognisable annotation
(geometry keys, entity ``location``, classification ``answer``, video ``segments``) with the
minimum point counts; the import matrix for the media and mode; with an ontology, that
names, tool kinds and answer options exist. Per file: duplicate ``uuid`` on one data row and
the 5,000 annotations per data row per feature limit.

This is our own offline check; the Labelbox SDK oracle used in CI is stricter about types.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .datarows import MAX_GLOBAL_KEY
from .errors import SourceNotFoundError
from .matrix import Mode, why_not
from .model import Kind, Media
from .ontology import TOOL_TYPES, Ontology
from .output import PER_ROW_LIMIT

__all__ = ["validate_file", "validate_row"]

_GEOMETRY = {"bbox": Kind.BBOX, "polygon": Kind.POLYGON, "point": Kind.POINT, "line": Kind.POLYLINE, "mask": Kind.MASK, "location": Kind.ENTITY}


def row_kind(row: Mapping[str, Any]) -> Kind | None:
    """The matrix kind of a row, or None when it is not recognisable."""
    for key, kind in _GEOMETRY.items():
        if key in row:
            return kind
    if "segments" in row:
        try:
            kf = row["segments"][0]["keyframes"][0]
        except (KeyError, IndexError, TypeError):
            return None
        return next((k for key, k in _GEOMETRY.items() if key in kf), None)
    if "relationship" in row:
        return Kind.RELATIONSHIP
    if "answer" in row or "answers" in row:
        answer = row.get("answer", row.get("answers"))
        if isinstance(answer, str):
            return Kind.TEXT
        if isinstance(answer, list):
            return Kind.CHECKLIST
        if isinstance(answer, Mapping):
            return Kind.RADIO
    return None


def _check_points(name: str, pts: Any, minimum: int) -> str | None:
    if not isinstance(pts, list) or not all(
        isinstance(p, Mapping) and isinstance(p.get("x"), (int, float)) and isinstance(p.get("y"), (int, float))
        for p in pts
    ):
        return f"{name} must be a list of {{x, y}} numbers"
    if len({(p["x"], p["y"]) for p in pts}) < minimum:
        return f"{name} needs at least {minimum} distinct points"
    return None


def validate_row(
    row: Any, *, mode: Mode, media: Media, ontology: Ontology | None = None
) -> list[str]:
    """Problems with one row (empty when it is valid)."""
    if not isinstance(row, Mapping):
        return ["row is not a JSON object"]
    problems = []
    dr = row.get("dataRow")
    if not isinstance(dr, Mapping) or (("globalKey" in dr) == ("id" in dr)):
        problems.append("dataRow needs exactly one of globalKey or id")
    elif "globalKey" in dr and (not isinstance(dr["globalKey"], str) or not 0 < len(dr["globalKey"]) <= MAX_GLOBAL_KEY):
        problems.append(f"globalKey must be a string of 1 to {MAX_GLOBAL_KEY} characters")
    if ("name" in row) == ("schemaId" in row):
        problems.append("needs exactly one of name or schemaId")
    kind = row_kind(row)
    if kind is None:
        return problems + ["no annotation recognised (bbox, polygon, point, line, mask, location, answer, segments)"]
    reason = why_not(kind, media, mode)
    if reason is not None:
        problems.append(reason[1])
    if "segments" in row:
        problems += _segment_problems(row["segments"])
    else:
        problems += _geometry_problems(row, kind)
    if ontology is not None and "name" in row:
        problems += _ontology_problems(row, kind, ontology)
    return problems


def _segment_problems(segments: Any) -> list[str]:
    """Video tracks: segments of keyframes, 1-based increasing frames, one shape each."""
    if not isinstance(segments, list) or not segments:
        return ["segments must be a non-empty list"]
    problems: list[str] = []
    last = 0
    for s_i, seg in enumerate(segments):
        keyframes = seg.get("keyframes") if isinstance(seg, Mapping) else None
        if not isinstance(keyframes, list) or not keyframes:
            problems.append(f"segment {s_i} needs a non-empty keyframes list")
            continue
        for kf in keyframes:
            frame = kf.get("frame") if isinstance(kf, Mapping) else None
            if not isinstance(frame, int) or frame < 1:
                problems.append(f"segment {s_i}: keyframe frame must be an integer >= 1")
                continue
            if frame <= last:
                problems.append(f"segment {s_i}: frame {frame} does not follow frame {last}")
            last = frame
            shapes = [k for k in ("bbox", "point", "line") if k in kf]
            if len(shapes) != 1:
                problems.append(f"segment {s_i}, frame {frame}: needs exactly one of bbox, point, line")
                continue
            problems += [f"frame {frame}: {p}" for p in _geometry_problems(kf, _GEOMETRY[shapes[0]])]
    return problems


def _geometry_problems(row: Mapping[str, Any], kind: Kind) -> list[str]:
    """Shape checks of one row (or keyframe) holding the geometry key of ``kind``."""
    problems: list[str] = []
    if kind is Kind.BBOX:
        b = row["bbox"]
        if not isinstance(b, Mapping) or not all(isinstance(b.get(k), (int, float)) for k in ("top", "left", "height", "width")):
            problems.append("bbox needs numeric top, left, height, width")
        elif b["width"] <= 0 or b["height"] <= 0:
            problems.append("bbox width and height must be positive")
    elif kind is Kind.POINT:
        pt = row["point"]
        if not isinstance(pt, Mapping) or not all(isinstance(pt.get(k), (int, float)) for k in ("x", "y")):
            problems.append("point needs numeric x and y")
    elif kind is Kind.POLYGON and "polygon" in row:
        p = _check_points("polygon", row["polygon"], 3)
        problems += [p] if p else []
    elif kind is Kind.POLYLINE and "line" in row:
        p = _check_points("line", row["line"], 2)
        problems += [p] if p else []
    elif kind is Kind.ENTITY:
        loc = row["location"]
        if not isinstance(loc, Mapping) or not isinstance(loc.get("start"), int) or not isinstance(loc.get("end"), int):
            problems.append("location needs integer start and end")
        elif not 0 <= loc["start"] <= loc["end"]:
            problems.append("location needs 0 <= start <= end (end is inclusive)")
    elif kind is Kind.MASK and "mask" in row:
        m = row["mask"]
        if not isinstance(m, Mapping) or not ({"png"} & set(m) or {"imBytes", "instanceURI"} & set(m)):
            problems.append("mask needs png, imBytes or instanceURI")
        elif ("imBytes" in m or "instanceURI" in m) and not (
            isinstance(m.get("colorRGB"), list) and len(m["colorRGB"]) == 3 and all(isinstance(c, int) and 0 <= c <= 255 for c in m["colorRGB"])
        ):
            problems.append("mask colorRGB must be three integers 0..255")
    return problems


def _ontology_problems(row: Mapping[str, Any], kind: Kind, ontology: Ontology) -> list[str]:
    name = row["name"]
    if kind in TOOL_TYPES:
        tools = [t for t in ontology.tools if t.name == name]
        if not tools:
            return [f"no tool named {name!r} in the ontology"]
        if not any(t.kind is kind for t in tools):
            return [f"tool {name!r} is a {tools[0].tool}, not a {kind.value} tool"]
        return []
    defs = [c for c in ontology.classifications if c.name == name]
    if not defs:
        return [f"no global classification named {name!r} in the ontology"]
    answer = row.get("answer", row.get("answers"))
    names = [a.get("name") for a in answer] if isinstance(answer, list) else [answer.get("name")] if isinstance(answer, Mapping) else []
    return [f"{a!r} is not an option of {name!r}" for a in names if defs[0].option(str(a)) is None]


def validate_file(
    path: Path, *, mode: Mode, media: Media, ontology: str | Path | None = None
) -> tuple[list[tuple[int, str]], int]:
    """(problems as (line, message), number of rows) for an NDJSON file."""
    if not path.is_file():
        raise SourceNotFoundError(path)
    onto = Ontology.load(ontology) if ontology else None
    problems: list[tuple[int, str]] = []
    uuids: dict[tuple[str, str], int] = {}
    per_name: Counter[tuple[str, str]] = Counter()
    rows = 0
    with open(path, encoding="utf-8") as fh:
        for n, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            rows += 1
            try:
                row = json.loads(text)
            except json.JSONDecodeError as exc:
                problems.append((n, f"invalid JSON: {exc.msg} (column {exc.colno})"))
                continue
            problems += [(n, p) for p in validate_row(row, mode=mode, media=media, ontology=onto)]
            if not isinstance(row, Mapping):
                continue
            dr = json.dumps(row.get("dataRow"), sort_keys=True)
            if "uuid" in row:
                first = uuids.setdefault((dr, str(row["uuid"])), n)
                if first != n:
                    problems.append((n, f"uuid {row['uuid']} repeats line {first} on the same data row"))
            feature = str(row.get("name", row.get("schemaId")))
            per_name[(dr, feature)] += 1
            if per_name[(dr, feature)] == PER_ROW_LIMIT + 1:
                problems.append((n, f"more than {PER_ROW_LIMIT} annotations of {feature!r} on one data row"))
    return problems, rows
