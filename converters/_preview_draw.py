"""Drawing one data row's import rows over its image, with Pillow only (``lbconvert preview``).

The rows are drawn as Labelbox will receive them (the payloads themselves, after repair),
never re-read from the source: boxes, polygons, polylines and points as outlines in their
feature's colour, masks as a tinted interior with a solid contour, video keyframes with
their frame numbers. Fills and tints go on a translucent layer first and outlines on top,
so an edge pixel is exactly the feature's colour (the tests rely on that). Rows the report
lists as changed are outlined dashed (colour and white), so repairs stand out.

A band below the picture holds what has no place on it: the legend, the data row's
tags (global classifications), text entities, notes. The picture keeps the image's pixel
grid, so a pixel of the PNG is the pixel of the image (unless the image is larger than
``MAX_SIDE`` or smaller than ``MIN_SIDE``, when everything is scaled by the same factor).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ._preview_images import DrawError, MaskLoader, MaskPixels, load_image

__all__ = ["MAX_SIDE", "NEUTRAL", "Drawing", "DrawError", "draw_rows", "load_image", "row_kind"]

#: Longest side of a preview picture; larger images are scaled down (coordinates with them).
MAX_SIDE = 2048
#: Pictures shorter than this on their longest side are enlarged (nearest neighbour).
MIN_SIDE = 100
#: The canvas colour of a data row whose image was not found.
NEUTRAL = (128, 128, 128)
_FILL_ALPHA = 60
_MASK_ALPHA = 120
_BAND_BG = (250, 250, 250)
_MIN_WIDTH = 360

Colour = tuple[int, int, int]


def row_kind(row: Mapping[str, Any]) -> str | None:
    """What a row draws as: bbox, polygon, point, polyline, mask, video, entity, classification."""
    for key, kind in (("bbox", "bbox"), ("polygon", "polygon"), ("point", "point"), ("line", "polyline"),
                      ("mask", "mask"), ("segments", "video"), ("location", "entity")):
        if key in row:
            return kind
    if "answer" in row or "answers" in row:
        return "classification"
    return None


def feature_of(row: Mapping[str, Any]) -> str:
    """The feature a row belongs to: its ``name``, else its ``schemaId``."""
    return str(row.get("name") or row.get("schemaId") or "?")


@dataclass
class Drawing:
    """What was drawn for one data row, for the gallery page."""

    image: Image.Image
    size: tuple[int, int]
    counts: dict[str, int] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    not_drawn: dict[str, int] = field(default_factory=dict)
    changed: int = 0
    #: Text entities as (start, inclusive end, feature): the gallery highlights them in the text.
    entities: list[tuple[int, int, str]] = field(default_factory=list)


def _font(size: int = 12) -> Any:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: the fixed bitmap font
        return ImageFont.load_default()


def _text_colour(bg: Colour) -> Colour:
    return (0, 0, 0) if 0.299 * bg[0] + 0.587 * bg[1] + 0.114 * bg[2] > 140 else (255, 255, 255)


def answer_text(classifications: Any) -> str:
    """Nested classifications as ``q: a; r: b, c`` (sub-answers in brackets)."""
    if not isinstance(classifications, list):
        return ""
    return "; ".join(_one_answer(c) for c in classifications if isinstance(c, Mapping))


def _one_answer(c: Mapping[str, Any]) -> str:
    name = feature_of(c)
    answer = c.get("answer", c.get("answers"))
    if isinstance(answer, str):
        return f"{name}: {answer!r}"
    items = answer if isinstance(answer, list) else [answer] if isinstance(answer, Mapping) else []
    parts = []
    for a in items:
        if not isinstance(a, Mapping):
            continue
        text = str(a.get("name") or a.get("schemaId") or a.get("value") or "?")
        sub = answer_text(a.get("classifications"))
        if a.get("frames"):
            text += " " + _frames(a["frames"])
        parts.append(f"{text} [{sub}]" if sub else text)
    return f"{name}: {', '.join(parts)}"


def _frames(frames: Any) -> str:
    spans = [f"{f.get('start')}-{f.get('end')}" for f in frames if isinstance(f, Mapping)]
    return f"(frames {', '.join(spans)})"


def _num(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise DrawError(f"{what} is not a number: {value!r}")
    return float(value)


def _xy(points: Any, what: str) -> list[tuple[float, float]]:
    if not isinstance(points, list):
        raise DrawError(f"{what} must be a list of points")
    out = []
    for p in points:
        if not isinstance(p, Mapping):
            raise DrawError(f"{what} must be a list of {{x, y}} points")
        out.append((_num(p.get("x"), f"{what} x"), _num(p.get("y"), f"{what} y")))
    return out


def _box(b: Any) -> tuple[float, float, float, float]:
    if not isinstance(b, Mapping):
        raise DrawError("bbox must be an object")
    left, top = _num(b.get("left"), "bbox left"), _num(b.get("top"), "bbox top")
    return left, top, left + _num(b.get("width"), "bbox width"), top + _num(b.get("height"), "bbox height")


def _shape_extent(row: Mapping[str, Any]) -> tuple[float, float]:
    """Largest x and y a row's geometry reaches (for a canvas without an image)."""
    shapes: list[Mapping[str, Any]] = [row]
    for seg in row.get("segments") or []:
        shapes += [kf for kf in (seg.get("keyframes") or []) if isinstance(kf, Mapping)] if isinstance(seg, Mapping) else []
    xs, ys = [0.0], [0.0]
    for s in shapes:
        if "bbox" in s:
            x0, y0, x1, y1 = _box(s["bbox"])
            xs += [x0, x1]
            ys += [y0, y1]
        if "point" in s and isinstance(s["point"], Mapping):
            xs.append(_num(s["point"].get("x"), "point x"))
            ys.append(_num(s["point"].get("y"), "point y"))
        for key in ("polygon", "line"):
            if key in s:
                pts = _xy(s[key], key)
                xs += [p[0] for p in pts]
                ys += [p[1] for p in pts]
    return max(xs), max(ys)




def _scale(size: tuple[int, int]) -> float:
    """Pictures longer than MAX_SIDE shrink; pictures under MIN_SIDE grow by a whole factor
    (a 10x5 test image with labels on it would show only labels)."""
    longest = max(size)
    if longest > MAX_SIDE:
        return MAX_SIDE / longest
    if longest < MIN_SIDE:
        return float(math.ceil(2 * MIN_SIDE / longest))
    return 1.0

_GEOMETRIC = {"bbox", "polygon", "point", "polyline", "mask", "video"}


class _Painter:
    def __init__(self, base: Image.Image, scale: float) -> None:
        self.base = base
        self.scale = scale
        self.overlay = Image.new("RGBA", base.size, (0, 0, 0, 0))
        self.fills = ImageDraw.Draw(self.overlay)
        # painted after the translucent layer, in this order: outlines, labels, points
        self.later: list[Callable[[ImageDraw.ImageDraw, Image.Image], None]] = []
        self.dots: list[Callable[[ImageDraw.ImageDraw, Image.Image], None]] = []
        self.labels: list[Callable[[ImageDraw.ImageDraw, Image.Image], None]] = []
        self.font = _font()
        self.tint: np.ndarray | None = None
        self.placed: list[tuple[float, float, float, float]] = []
        self.edges: np.ndarray | None = None

    def s(self, pts: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
        k = self.scale
        return [(x * k, y * k) for x, y in pts]

    # -- shapes ------------------------------------------------------------------------------

    def box(self, b: tuple[float, float, float, float], colour: Colour, dashed: bool, label: str) -> None:
        x0, y0, x1, y1 = (v * self.scale for v in b)
        # pixel i covers [i, i+1): a box from 40 to 120 covers columns 40..119
        rect = (math.floor(x0), math.floor(y0), max(math.floor(x0), math.ceil(x1) - 1), max(math.floor(y0), math.ceil(y1) - 1))
        corners: list[tuple[float, float]] = [(rect[0], rect[1]), (rect[2], rect[1]), (rect[2], rect[3]), (rect[0], rect[3]), (rect[0], rect[1])]
        self._outline(corners, colour, dashed, inward=True)
        self._label((rect[0], rect[1]), label, colour)

    def polygon(self, pts: list[tuple[float, float]], colour: Colour, dashed: bool, label: str) -> None:
        sp = self.s(pts)
        if len(sp) >= 3:
            self.fills.polygon(sp, fill=(*colour, _FILL_ALPHA))
        self._outline([*sp, sp[0]], colour, dashed)
        self._label((min(p[0] for p in sp), min(p[1] for p in sp)), label, colour)

    def polyline(self, pts: list[tuple[float, float]], colour: Colour, dashed: bool, label: str) -> None:
        sp = self.s(pts)
        self._outline(sp, colour, dashed)
        if sp:
            self._label(sp[0], label, colour)

    def point(self, xy: tuple[float, float], colour: Colour, label: str, dashed: bool = False) -> None:
        (x, y), r = self.s([xy])[0], 4

        def paint(d: ImageDraw.ImageDraw, _: Image.Image) -> None:
            d.ellipse((x - r - 1, y - r - 1, x + r + 1, y + r + 1), fill=(255, 255, 255) if not dashed else (0, 0, 0))
            d.ellipse((x - r, y - r, x + r, y + r), fill=colour)

        self.dots.append(paint)
        self._label((x + r + 3, y - 7), label, colour, above=False)

    def mask(self, on: np.ndarray, colour: Colour, dashed: bool, label: str) -> None:
        """Tint the instance's pixels and draw its contour (one shared layer for all masks,
        so a data row of hundreds of masks costs two arrays of the picture's size)."""
        if on.shape[::-1] != self.base.size:
            on = np.asarray(Image.fromarray(on.astype(np.uint8) * 255).resize(self.base.size, Image.Resampling.NEAREST)) > 0
        if not on.any():
            return
        if self.tint is None or self.edges is None:
            self.tint = np.zeros((*on.shape, 4), dtype=np.uint8)
            self.edges = np.zeros((*on.shape, 4), dtype=np.uint8)
        self.tint[on] = (*colour, _MASK_ALPHA)
        inner = on.copy()
        inner[1:, :] &= on[:-1, :]
        inner[:-1, :] &= on[1:, :]
        inner[:, 1:] &= on[:, :-1]
        inner[:, :-1] &= on[:, 1:]
        edge = on & ~inner
        self.edges[edge] = (*colour, 255)
        if dashed:  # every other 4-pixel run of the contour in white
            yy, xx = np.nonzero(edge)
            white = ((xx + yy) // 4) % 2 == 1
            self.edges[yy[white], xx[white]] = (255, 255, 255, 255)
        ys, xs = np.nonzero(on)
        self._label((float(xs.min()), float(ys.min())), label, colour)

    # -- helpers -------------------------------------------------------------------------------

    def _outline(self, pts: list[tuple[float, float]], colour: Colour, dashed: bool, inward: bool = False) -> None:
        width = 2

        def paint(d: ImageDraw.ImageDraw, _: Image.Image) -> None:
            if len(pts) < 2:
                return
            if not dashed:
                if inward:  # a rectangle drawn inside its pixel bounds
                    d.rectangle((pts[0][0], pts[0][1], pts[2][0], pts[2][1]), outline=colour, width=width)
                else:
                    d.line(pts, fill=colour, width=width, joint="curve")
                return
            for (ax, ay), (bx, by) in zip(pts, pts[1:]):
                length = math.hypot(bx - ax, by - ay)
                steps = max(1, int(length // 6))
                for i in range(steps):
                    t0, t1 = i / steps, (i + 1) / steps
                    seg = [(ax + (bx - ax) * t0, ay + (by - ay) * t0), (ax + (bx - ax) * t1, ay + (by - ay) * t1)]
                    d.line(seg, fill=colour if i % 2 == 0 else (255, 255, 255), width=width)

        self.later.append(paint)

    def _label(self, xy: tuple[float, float], text: str, colour: Colour, *, above: bool = True) -> None:
        if not text:
            return
        font = self.font

        def paint(d: ImageDraw.ImageDraw, _: Image.Image) -> None:
            x0, y0, x1, y1 = d.textbbox((0, 0), text, font=font)
            w, h = x1 - x0 + 4, y1 - y0 + 2
            x, y = xy
            if above and y - h - 1 >= 0:
                y = y - h - 1
            elif above:  # no room above: inside, clear of the left and top edges
                x, y = x + 3, y + 3
            else:
                y = y + 2
            x = max(0.0, min(x, self.base.size[0] - w))
            y = self._free_row(x, y, w, h)
            self.placed.append((x, y, x + w, y + h))
            d.rectangle((x, y, x + w, y + h), fill=colour)
            d.text((x + 2 - x0, y + 1 - y0), text, fill=_text_colour(colour), font=font)

        self.labels.append(paint)

    def _free_row(self, x: float, y: float, w: float, h: float) -> float:
        """``y``, or the nearest position a label height above or below it where the label
        overlaps no label placed before (labels would otherwise hide each other)."""
        def clear(top: float) -> bool:
            return all(x + w < a or x > c or top + h < b or top > e for a, b, c, e in self.placed)

        for step in range(8):
            for top in ((y,) if step == 0 else (y - step * (h + 1), y + step * (h + 1))):
                if 0 <= top <= self.base.size[1] - h and clear(top):
                    return top
        return y

    def finish(self) -> Image.Image:
        layered = self.base.convert("RGBA")
        if self.tint is not None:
            layered = Image.alpha_composite(layered, Image.fromarray(self.tint, "RGBA"))
        out = Image.alpha_composite(layered, self.overlay).convert("RGB")
        if self.edges is not None:
            edges = Image.fromarray(self.edges, "RGBA")
            out.paste(edges, (0, 0), edges)
        d = ImageDraw.Draw(out)
        for paint in (*self.later, *self.labels, *self.dots):  # a label never hides a point
            paint(d, out)
        return out


def draw_rows(
    rows: Sequence[tuple[int, Mapping[str, Any]]],
    *,
    image: Image.Image | None,
    colours: Mapping[str, Colour],
    changed: set[str],
    load_uri: MaskLoader,
    on_error: Callable[[int, str], Exception],
) -> Drawing:
    """Draw one data row's rows (``(line, row)`` pairs) over ``image`` (or a neutral canvas).

    ``changed`` holds uuids the report lists as repaired or otherwise changed; those rows
    are outlined dashed. ``on_error(line, message)`` builds the exception raised for a row
    that cannot be drawn. A mask that cannot be found (``instanceURI`` not readable) is a
    note on the page, not an error.
    """
    source = MaskPixels(load_uri)
    mask_sizes: dict[int, tuple[int, int] | None] = {}
    notes: list[str] = []
    extent = (0.0, 0.0)
    for line, row in rows:
        try:
            if row_kind(row) == "mask":
                try:
                    size = source.size(row)
                except FileNotFoundError as exc:
                    notes.append(f"mask of {feature_of(row)!r} not found: {exc}")
                    size = None
                mask_sizes[id(row)] = size
                if size is not None:
                    extent = (max(extent[0], size[0]), max(extent[1], size[1]))
            elif image is None:
                ex = _shape_extent(row)
                extent = (max(extent[0], ex[0] + 8), max(extent[1], ex[1] + 8))
        except DrawError as exc:
            raise on_error(line, str(exc)) from None
    geometric = any(row_kind(r) in _GEOMETRIC for _, r in rows)
    if image is None and not geometric:  # text, conversations: no picture, only the band
        return _text_only(rows, colours, notes, on_error)
    if image is None:
        w, h = max(16, math.ceil(extent[0])), max(16, math.ceil(extent[1]))
        size = (min(w, 4 * MAX_SIDE), min(h, 4 * MAX_SIDE))
        scale = _scale(size)
        base = Image.new("RGB", (max(1, round(size[0] * scale)), max(1, round(size[1] * scale))), NEUTRAL)
    else:
        scale = _scale(image.size)
        new_size = (max(1, round(image.size[0] * scale)), max(1, round(image.size[1] * scale)))
        base = image if scale == 1.0 else image.resize(new_size, Image.Resampling.NEAREST if scale > 1 else Image.Resampling.BILINEAR)
        for line, row in rows:
            size = mask_sizes.get(id(row))
            if size is not None and size != image.size:
                notes.append(f"mask of {feature_of(row)!r} is {size[0]}x{size[1]}, the image {image.size[0]}x{image.size[1]}: stretched")
    painter = _Painter(base, scale)
    result = Drawing(image=base, size=base.size, notes=notes)
    band: list[tuple[str, Colour | None]] = []
    for line, row in rows:
        kind = row_kind(row)
        name = feature_of(row)
        colour = colours.get(name, (255, 0, 255))
        dashed = str(row.get("uuid")) in changed
        result.changed += dashed
        label = name + (f" ({answer_text(row.get('classifications'))})" if row.get("classifications") else "")
        try:
            if kind is None:
                what = "relationship" if "relationship" in row else "unrecognised row"
                result.not_drawn[what] = result.not_drawn.get(what, 0) + 1
                continue
            if kind == "classification":
                answer = _one_answer(row)
                if row.get("frames"):
                    answer += " " + _frames(row["frames"])
                result.tags.append(answer)
                result.counts[name] = result.counts.get(name, 0) + 1
                continue
            result.counts[name] = result.counts.get(name, 0) + 1
            if kind == "bbox":
                painter.box(_box(row["bbox"]), colour, dashed, label)
            elif kind == "polygon":
                painter.polygon(_xy(row["polygon"], "polygon"), colour, dashed, label)
            elif kind == "polyline":
                painter.polyline(_xy(row["line"], "line"), colour, dashed, label)
            elif kind == "point":
                p = row["point"]
                if not isinstance(p, Mapping):
                    raise DrawError("point must be an object")
                painter.point((_num(p.get("x"), "point x"), _num(p.get("y"), "point y")), colour, label, dashed)
            elif kind == "mask":
                if mask_sizes.get(id(row)) is not None:
                    painter.mask(source.pixels(row, base.size), colour, dashed, label)
            elif kind == "video":
                _video(painter, row, colour, name)
            elif kind == "entity":
                loc = row["location"]
                if not isinstance(loc, Mapping):
                    raise DrawError("location must be an object")
                where = f"[{loc.get('start')}..{loc.get('end')}]"
                if "messageId" in row:
                    where += f" message {row['messageId']}"
                band.append((f"{label} {where}", colour))
        except DrawError as exc:
            raise on_error(line, str(exc)) from None
        except (KeyError, TypeError, AttributeError) as exc:
            raise on_error(line, f"row cannot be drawn ({type(exc).__name__}: {exc})") from None
    if scale != 1.0:
        notes.insert(0, f"drawn at {scale:.3g}x" if scale > 1 else f"image scaled by {scale:.3g} (longest side {MAX_SIDE} px)")
    if image is None:
        notes.insert(0, f"no image: drawn on a neutral {base.size[0]}x{base.size[1]} canvas")
    picture = painter.finish()
    result.image = _with_band(picture, result, colours, band)
    return result


def _text_only(
    rows: Sequence[tuple[int, Mapping[str, Any]]], colours: Mapping[str, Colour], notes: list[str],
    on_error: Callable[[int, str], Exception],
) -> Drawing:
    """A data row without geometry (text, conversation): entities and tags in the band only."""
    result = Drawing(image=Image.new("RGB", (1, 1)), size=(0, 0), notes=notes)
    band: list[tuple[str, Colour | None]] = []
    for line, row in rows:
        kind, name = row_kind(row), feature_of(row)
        if kind is None:
            what = "relationship" if "relationship" in row else "unrecognised row"
            result.not_drawn[what] = result.not_drawn.get(what, 0) + 1
            continue
        result.counts[name] = result.counts.get(name, 0) + 1
        if kind == "classification":
            result.tags.append(_one_answer(row) + (" " + _frames(row["frames"]) if row.get("frames") else ""))
            continue
        loc = row.get("location")
        if not isinstance(loc, Mapping):
            raise on_error(line, "location must be an object")
        where = f"[{loc.get('start')}..{loc.get('end')}]" + (f" message {row['messageId']}" if "messageId" in row else "")
        label = name + (f" ({answer_text(row.get('classifications'))})" if row.get("classifications") else "")
        band.append((f"{label} {where}", colours.get(name)))
        if isinstance(loc.get("start"), int) and isinstance(loc.get("end"), int) and "messageId" not in row:
            result.entities.append((loc["start"], loc["end"], name))
    if band:
        notes.insert(0, "text data row: entities by offset [start..end], end inclusive")
    result.image = _with_band(None, result, colours, band)
    return result


def _video(painter: _Painter, row: Mapping[str, Any], colour: Colour, name: str) -> None:
    """Every keyframe of a track, labelled with its frame; a thin path joins their centres."""
    segments = row["segments"]
    if not isinstance(segments, list):
        raise DrawError("segments must be a list")
    for seg in segments:
        centres = []
        for kf in (seg.get("keyframes") or []) if isinstance(seg, Mapping) else []:
            label = f"{name} f{kf.get('frame')}"
            if "bbox" in kf:
                b = _box(kf["bbox"])
                painter.box(b, colour, False, label)
                centres.append(((b[0] + b[2]) / 2, (b[1] + b[3]) / 2))
            elif "point" in kf:
                p = (_num(kf["point"].get("x"), "point x"), _num(kf["point"].get("y"), "point y"))
                painter.point(p, colour, label)
                centres.append(p)
            elif "line" in kf:
                pts = _xy(kf["line"], "line")
                painter.polyline(pts, colour, False, label)
                centres.append(pts[0])
        if len(centres) > 1:
            path = painter.s(centres)
            painter.later.insert(0, _path_painter(path, colour))


def _path_painter(path: list[tuple[float, float]], colour: Colour) -> Callable[[ImageDraw.ImageDraw, Image.Image], None]:
    def paint(d: ImageDraw.ImageDraw, _: Image.Image) -> None:
        d.line(path, fill=colour, width=1)

    return paint


def _with_band(picture: Image.Image | None, result: Drawing, colours: Mapping[str, Colour], band: list[tuple[str, Colour | None]]) -> Image.Image:
    """The picture with a band below: legend (feature, count), tags, entities, notes."""
    lines: list[tuple[str, Colour | None]] = [(f"{n} x{c}", colours.get(n)) for n, c in sorted(result.counts.items())]
    lines += [(f"tag {t}", None) for t in result.tags]
    lines += band[:40] + ([(f"... and {len(band) - 40} more entities", None)] if len(band) > 40 else [])
    lines += [(f"note: {n}", None) for n in result.notes]
    lines += [(f"not drawn: {k} x{n}", None) for k, n in sorted(result.not_drawn.items())]
    font = _font()
    step = 16
    top = picture.size[1] if picture is not None else 0
    width = max(picture.size[0] if picture is not None else 0, _MIN_WIDTH)
    out = Image.new("RGB", (width, top + step * len(lines) + 8), _BAND_BG)
    if picture is not None:
        out.paste(picture, (0, 0))
    d = ImageDraw.Draw(out)
    y = top + 4
    for text, colour in lines:
        if colour is not None:
            d.rectangle((4, y + 2, 14, y + 12), fill=colour)
        d.text((20, y), text, fill=(20, 20, 20), font=font)
        y += step
    return out


#: Track sheets: panel size (longest side), panels per line, keyframes shown per track.
_PANEL = 150
_PANELS_PER_LINE = 6
_MAX_KEYFRAMES = 24


def track_sheet(rows: Sequence[Mapping[str, Any]], colours: Mapping[str, Colour]) -> Image.Image | None:
    """One line of panels per video track: each keyframe's shape on its own small canvas,
    with its frame and segment, so a track's motion and its gaps read left to right.
    None when no row is a video track."""
    tracks = [r for r in rows if isinstance(r.get("segments"), list)]
    if not tracks:
        return None
    w, h = 16.0, 16.0
    for r in tracks:
        ex = _shape_extent(r)
        w, h = max(w, ex[0] + 8), max(h, ex[1] + 8)
    k = _PANEL / max(w, h)
    pw, ph = max(1, round(w * k)), max(1, round(h * k))
    font = _font()
    blocks: list[tuple[str, Colour, list[tuple[int, Any, Mapping[str, Any]]]]] = []
    for r in tracks:
        frames = [(s_i, kf.get("frame"), kf) for s_i, seg in enumerate(r["segments"]) if isinstance(seg, Mapping)
                  for kf in (seg.get("keyframes") or []) if isinstance(kf, Mapping)]
        name = feature_of(r)
        blocks.append((f"{name}  {len(r['segments'])} segment(s), {len(frames)} keyframes", colours.get(name, (255, 0, 255)), frames))
    heights = [18 + ((min(len(f), _MAX_KEYFRAMES) + _PANELS_PER_LINE - 1) // _PANELS_PER_LINE) * (ph + 18) for _, _, f in blocks]
    sheet = Image.new("RGB", (max(_MIN_WIDTH, _PANELS_PER_LINE * (pw + 6) + 6), sum(heights) + 8 + 16 * sum(len(f) > _MAX_KEYFRAMES for _, _, f in blocks)), _BAND_BG)
    d = ImageDraw.Draw(sheet)
    y = 4
    for title, colour, frames in blocks:
        d.rectangle((4, y + 2, 14, y + 12), fill=colour)
        d.text((20, y), title, fill=(20, 20, 20), font=font)
        y += 18
        for n, (seg, frame, kf) in enumerate(frames[:_MAX_KEYFRAMES]):
            x0 = 6 + (n % _PANELS_PER_LINE) * (pw + 6)
            y0 = y + (n // _PANELS_PER_LINE) * (ph + 18)
            panel = _Painter(Image.new("RGB", (pw, ph), NEUTRAL), k)
            if "bbox" in kf:
                panel.box(_box(kf["bbox"]), colour, False, "")
            elif "point" in kf and isinstance(kf["point"], Mapping):
                panel.point((_num(kf["point"].get("x"), "point x"), _num(kf["point"].get("y"), "point y")), colour, "")
            elif "line" in kf:
                panel.polyline(_xy(kf["line"], "line"), colour, False, "")
            sheet.paste(panel.finish(), (x0, y0))
            d.text((x0, y0 + ph + 2), f"frame {frame} (segment {seg + 1})", fill=(20, 20, 20), font=font)
        y += ((min(len(frames), _MAX_KEYFRAMES) + _PANELS_PER_LINE - 1) // _PANELS_PER_LINE) * (ph + 18)
        if len(frames) > _MAX_KEYFRAMES:
            d.text((6, y), f"... and {len(frames) - _MAX_KEYFRAMES} more keyframes", fill=(20, 20, 20), font=font)
            y += 16
    return sheet
