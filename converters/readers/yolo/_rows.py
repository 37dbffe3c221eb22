"""YOLO label rows -> annotations in absolute pixels.

One row is ``class v1 v2 ...`` with every coordinate normalised to the image size. What the
values mean depends on the dataset's task, never on a guess per line:

========  ===============================  ======================================
task      row (n = values after the class)  becomes
========  ===============================  ======================================
detect    ``cx cy w h`` (n = 4)             Box
segment   ``x1 y1 ... xk yk`` (n = 2k, k>=3)  Polygon (a 4-value row: Box, reported)
obb       ``x1 y1 ... x4 y4`` (n = 8)       Polygon of the 4 corners
pose      box + K keypoints of D values     Box + one Point per labelled keypoint
auto      pose if ``kpt_shape`` is known, else n = 4 box, n even >= 6 polygon
========  ===============================  ======================================

A prediction (``save_txt(save_conf=True)``) appends the confidence as one more value, which
is how n tells it apart. A row whose length fits another task is a *conflict*: skipped and
reported (``task-conflict``); a row that fits nothing, has a non-number, a class outside
``names`` or a confidence outside [0, 1] is *malformed*: a ParseError naming file and line,
or, with ``--yolo-on-error skip``, skipped and reported (``malformed-row``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...errors import ParseError
from ...model import Annotation, Box, Classification, Kind, Point, Polygon, SourceRef, below_min_score, min_score_reason
from ...report import Report

__all__ = ["RowRules", "guess_kind", "parse_rows", "row_kinds", "skip_rows"]

#: Normalised values within this distance outside [0, 1] are clamped without a report
#: (float noise of ``cx - w/2``; 1e-6 of a 10,000 px image is 0.01 px).
EPS = 1e-6
_VISIBILITY = Classification.radio("visibility", "hidden")


@dataclass(frozen=True, slots=True)
class RowRules:
    """How the rows of one dataset are read."""

    task: str = "auto"
    names: Mapping[int, str] | None = None
    kpt_shape: tuple[int, int] | None = None
    kpt_names: Any = None
    keypoint_name: str = "{class} {keypoint}"
    on_error: str = "error"
    min_score: float | None = None


def guess_kind(n_values: int) -> Kind:
    """The kind a row most likely holds, for rows skipped before they are understood."""
    return Kind.BBOX if n_values <= 5 else Kind.POLYGON


def _shape_of(task: str, n: int, kpt: tuple[int, int] | None) -> tuple[str, bool] | None:
    """(what the row is, whether it ends with a confidence) for ``n`` values, or None."""
    if task == "pose" or (task == "auto" and kpt is not None):
        if kpt is None:
            return None
        m = 4 + kpt[0] * kpt[1]
        return ("pose", n == m + 1) if n in (m, m + 1) else None
    if task == "detect":
        return ("box", n == 5) if n in (4, 5) else None
    if task == "obb":
        return ("polygon", n == 9) if n in (8, 9) else None
    if task == "segment":
        if n in (4, 5):
            return "box-in-segment", n == 5
        return ("polygon", n % 2 == 1) if n >= 6 else None
    if n in (4, 5):  # auto
        return "box", n == 5
    return ("polygon", n % 2 == 1) if n >= 6 else None


def _fits_any(n: int) -> bool:
    return n >= 4


def _clip(values: list[float]) -> bool:
    """Clamp normalised values to [0, 1] in place; True when one was out by more than EPS."""
    out = False
    for i, v in enumerate(values):
        if v < 0.0 or v > 1.0:
            if v < -EPS or v > 1.0 + EPS:
                out = True
            values[i] = 0.0 if v < 0.0 else 1.0
    return out


class _RowError(Exception):
    def __init__(self, reason: str, kind: Kind) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


def parse_rows(text: str, *, file: str, width: int, height: int, rules: RowRules, report: Report) -> list[Annotation]:
    """The annotations of one label file's text for an image of ``width`` x ``height``."""
    anns: list[Annotation] = []
    seen: set[tuple[str, ...]] = set()
    for lineno, raw in enumerate(text.splitlines(), 1):
        tokens = raw.split()
        if not tokens:
            continue
        if lineno <= 2 and is_dota_header(tokens):
            report.tally("dota-header-line")
            continue
        src = SourceRef(file=file, line=lineno)
        key = tuple(tokens)
        if key in seen:
            report.skip_unread(src, guess_kind(len(tokens) - 1), "duplicate-row", "exact duplicate of an earlier row of the file (Ultralytics drops these too)")
            continue
        seen.add(key)
        try:
            made = _row(tokens, lineno, src, width, height, rules, report)
        except _RowError as exc:
            if rules.on_error == "skip":
                report.skip_unread(src, exc.kind, "malformed-row", exc.reason)
                continue
            raise ParseError(file, exc.reason, location=f"line {lineno}") from None
        if made is None:
            continue
        conf = made[0].confidence if made else None
        if below_min_score(conf, rules.min_score):
            for ann in made:
                report.skip_unread(ann.source, ann.kind, *min_score_reason(conf, rules.min_score))  # type: ignore[arg-type]
            continue
        anns.extend(made)
    return anns


def is_dota_row(tokens: list[str]) -> bool:
    """DOTA / Roboflow OBB ``labelTxt`` row: 8 pixel coordinates, class name, [difficult]."""
    return len(tokens) in (9, 10) and all(_is_float(t) for t in tokens[:8]) and not _is_float(tokens[8]) and (
        len(tokens) == 9 or tokens[9] in ("0", "1")
    )


def is_dota_header(tokens: list[str]) -> bool:
    """DOTA v1 files may start with ``imagesource:GoogleEarth`` and ``gsd:0.15`` lines."""
    return len(tokens) == 1 and tokens[0].split(":", 1)[0] in ("imagesource", "gsd")


def _dota(tokens: list[str], lineno: int, src: SourceRef) -> list[Annotation]:
    """A DOTA row as a polygon: pixel corners kept (clipped like any polygon later), the class
    named by the row, ``difficult`` as a nested radio as for VOC objects."""
    values = [float(t) for t in tokens[:8]]
    if not all(map(math.isfinite, values)):
        raise _RowError("a value is not a finite number", Kind.POLYGON)
    ring = tuple((values[i], values[i + 1]) for i in range(0, 8, 2))
    difficult = len(tokens) == 10 and tokens[9] == "1"
    flag = Classification.radio("difficult", "true" if difficult else "false")
    return [Annotation(key=f"L{lineno}", source=src, label=tokens[8], shape=Polygon(exterior=ring), classifications=(flag,))]


def _row(
    tokens: list[str], lineno: int, src: SourceRef, width: int, height: int, rules: RowRules, report: Report
) -> list[Annotation] | None:
    n = len(tokens) - 1
    kind = guess_kind(n)
    if is_dota_row(tokens):
        return _dota(tokens, lineno, src)
    try:
        values = [float(t) for t in tokens]
    except ValueError:
        bad = next(t for t in tokens if not _is_float(t))
        raise _RowError(f"{bad!r} is not a number", kind) from None
    if not all(map(math.isfinite, values)):
        raise _RowError("a value is not a finite number", kind)
    cls = values[0]
    if cls < 0 or cls != int(cls):
        raise _RowError(f"class id {tokens[0]!r} is not a non-negative integer", kind)
    cid = int(cls)
    if rules.names is None:
        label = str(cid)
    else:
        label = rules.names.get(cid)  # type: ignore[assignment]
        if label is None:
            top = max(rules.names) if rules.names else -1
            raise _RowError(f"class id {cid} is not in names (0..{top})", kind)
    spec = _shape_of(rules.task, n, rules.kpt_shape)
    if spec is None:
        if rules.task != "auto" and _fits_any(n):
            report.skip_unread(src, kind, "task-conflict", f"{n} values after the class do not fit the dataset's task {rules.task!r}")
            return None
        expected = "4 (box), 2k >= 6 (polygon), 8 (oriented box)"
        if rules.kpt_shape is not None:
            expected = f"{4 + rules.kpt_shape[0] * rules.kpt_shape[1]} (pose, kpt_shape {list(rules.kpt_shape)})"
        raise _RowError(f"{n} values after the class id; expected {expected}, plus 1 for a confidence", kind)
    what, has_conf = spec
    coords = values[1:-1] if has_conf else values[1:]
    conf: float | None = None
    if has_conf:
        conf = values[-1]
        if not 0.0 <= conf <= 1.0:
            raise _RowError(f"confidence {tokens[-1]} is outside [0, 1]", kind)
    key = f"L{lineno}"
    if what in ("box", "box-in-segment", "pose"):
        box = _box(coords[:4], src, width, height, report, label, key, conf)
        if what == "box-in-segment":
            report.change(src, Kind.BBOX, "converted", "box-in-segment-task", "a 4-value row in a segmentation dataset is read as a box (cx cy w h)")
        if what != "pose":
            return [box]
        return [box, *_keypoints(coords[4:], lineno, src, width, height, rules, report, cid, label, conf)]
    pts = coords
    if _clip(pts):
        report.change(src, Kind.POLYGON, "clipped", "out-of-range", "normalised coordinates outside [0, 1] clipped to the image")
    ring = tuple((pts[i] * width, pts[i + 1] * height) for i in range(0, len(pts), 2))
    return [Annotation(key=key, source=src, label=label, shape=Polygon(exterior=ring), confidence=conf)]


def _box(
    v: list[float], src: SourceRef, width: int, height: int, report: Report, label: str, key: str, conf: float | None
) -> Annotation:
    cx, cy, w, h = v
    if w < 0 or h < 0:
        raise _RowError(f"negative box size ({w:g} x {h:g})", Kind.BBOX)
    corners = [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]
    if _clip(corners) or _clip([cx, cy, w, h]):
        report.change(src, Kind.BBOX, "clipped", "out-of-range", "box outside [0, 1] (normalised) clipped to the image")
    x0, y0, x1, y1 = corners
    shape = Box(x_min=x0 * width, y_min=y0 * height, x_max=x1 * width, y_max=y1 * height)
    return Annotation(key=key, source=src, label=label, shape=shape, confidence=conf, group=key)


def _keypoint_names(rules: RowRules, cid: int, k: int) -> list[str]:
    names = rules.kpt_names
    if isinstance(names, Mapping):
        names = names.get(cid)
    if isinstance(names, list) and len(names) == k:
        return names
    return [str(j) for j in range(k)]


def _keypoints(
    kv: list[float], lineno: int, src: SourceRef, width: int, height: int, rules: RowRules,
    report: Report, cid: int, label: str, conf: float | None,
) -> list[Annotation]:
    assert rules.kpt_shape is not None
    k, d = rules.kpt_shape
    names = _keypoint_names(rules, cid, k)
    out: list[Annotation] = []
    for j in range(k):
        x, y = kv[j * d], kv[j * d + 1]
        v = kv[j * d + 2] if d == 3 else (0.0 if x == 0.0 and y == 0.0 else 2.0)
        point_conf = conf
        nested: tuple[Classification, ...] = ()
        if v == 0:
            report.tally("keypoint-absent")
            continue
        if v == 1:
            nested = (_VISIBILITY,)
        elif v != 2:
            if not 0.0 < v < 1.0:
                raise _RowError(f"keypoint {j} visibility {v:g} is not 0, 1, 2 or a confidence in (0, 1)", Kind.POINT)
            point_conf = v  # predictions write each keypoint's confidence in place of v
        xy = [x, y]
        ksrc = SourceRef(file=src.file, line=lineno, element=f"keypoint {j}")
        if _clip(xy):
            report.change(ksrc, Kind.POINT, "clipped", "out-of-range", "keypoint outside [0, 1] (normalised) clipped to the image")
        name = rules.keypoint_name.format_map({"class": label, "keypoint": names[j], "index": j})
        out.append(
            Annotation(
                key=f"L{lineno}/kp{j}", source=ksrc, label=name, shape=Point(x=xy[0] * width, y=xy[1] * height),
                classifications=nested, confidence=point_conf, group=f"L{lineno}",
            )
        )
    return out


def _is_float(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def row_kinds(text: str, rules: RowRules, out: dict[str, set[Kind]]) -> None:
    """Add to ``out`` the kind of every row of a label file, as :func:`parse_rows` would read it.

    For ``label_kinds``: splits and counts tokens only (no coordinate is converted, no model
    built). Rows :func:`parse_rows` would refuse, skip or drop below ``--min-score`` are
    passed over; a pose row declares its box and every keypoint's point tool.
    """
    for lineno, raw in enumerate(text.splitlines(), 1):
        tokens = raw.split()
        if not tokens or (lineno <= 2 and is_dota_header(tokens)):
            continue
        if is_dota_row(tokens):
            out.setdefault(tokens[8], set()).add(Kind.POLYGON)
            continue
        try:
            cls = float(tokens[0])
            cid = int(cls)
        except (ValueError, OverflowError):
            continue
        if cid != cls or cid < 0:
            continue
        label = str(cid) if rules.names is None else rules.names.get(cid)
        spec = _shape_of(rules.task, len(tokens) - 1, rules.kpt_shape)
        if label is None or spec is None:
            continue
        what, has_conf = spec
        if has_conf and rules.min_score is not None:
            try:
                if float(tokens[-1]) < rules.min_score:
                    continue
            except ValueError:
                continue
        if what == "polygon":
            out.setdefault(label, set()).add(Kind.POLYGON)
            continue
        out.setdefault(label, set()).add(Kind.BBOX)
        if what == "pose" and rules.kpt_shape is not None:
            k, d = rules.kpt_shape
            for j, name in enumerate(_keypoint_names(rules, cid, k)):
                if _absent(tokens[5 + j * d : 5 + (j + 1) * d]):
                    continue
                point = rules.keypoint_name.format_map({"class": label, "keypoint": name, "index": j})
                out.setdefault(point, set()).add(Kind.POINT)


def _absent(values: list[str]) -> bool:
    """A keypoint :func:`_keypoints` leaves out: visibility 0, or x = y = 0 without one."""
    try:
        numbers = [float(v) for v in values]
    except ValueError:
        return False
    return numbers[2] == 0 if len(numbers) == 3 else numbers[0] == numbers[1] == 0.0


def skip_rows(text: str, *, file: str, report: Report, code: str, message: str) -> int:
    """Count every row of a label file that cannot be placed (no image) as read and skipped."""
    n = 0
    for lineno, raw in enumerate(text.splitlines(), 1):
        tokens = raw.split()
        if tokens and not (lineno <= 2 and is_dota_header(tokens)):
            report.skip_unread(SourceRef(file=file, line=lineno), guess_kind(len(tokens) - 1), code, message)
            n += 1
    return n


def looks_like_labels(text: str) -> bool:
    """Whether every non-empty line is numbers only (a label file, not a README)."""
    for raw in text.splitlines():
        tokens = raw.split()
        if not tokens or is_dota_row(tokens) or is_dota_header(tokens):
            continue
        if len(tokens) < 5 or not all(_is_float(t) for t in tokens):
            return False
    return True
