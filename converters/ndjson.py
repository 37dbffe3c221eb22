"""Labelbox import rows: one payload function per shape, deterministic uuids, mask forms.

Rows follow ``docs/labelbox-ndjson.md``: ``dataRow`` by global key or id, ``name`` (or
``schemaId`` when the ontology carries ids), a ``uuid`` derived with uuid5 from the feature,
the data row and the annotation's own key (never the source path), so that converting twice
gives the same bytes and re-importing a corrected or renamed export overrides earlier rows.

Coordinates are written with 4 decimals (a ten-thousandth of a pixel): enough for any
source, and it keeps the output identical whichever JSON library serialises it.
"""

from __future__ import annotations

import base64
import colorsys
import functools
import hashlib
import uuid as uuidlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import masks
from ._atomic import write_atomic
from .datarows import DataRowRef
from .model import (
    Answer,
    Box,
    Classification,
    ClassificationKind,
    Entity,
    Keyframe,
    Mask,
    Point,
    Polygon,
    Polyline,
    Shape,
    SourceRef,
    VideoObject,
)
from .errors import ParseError
from .ontology import Resolved, ResolvedAnswer

__all__ = [
    "NAMESPACE",
    "AssetRows",
    "MaskOptions",
    "RowContext",
    "annotation_uuid",
    "answer_payload",
    "classification_payload",
    "keyframe_payload",
    "video_payload",
    "shape_payload",
]

#: uuid5 namespace of labelbox-converters (uuid5(NAMESPACE_URL, "labelbox-converters")).
NAMESPACE = uuidlib.uuid5(uuidlib.NAMESPACE_URL, "https://pypi.org/project/labelbox-converters")

_NS_BYTES = NAMESPACE.bytes


def annotation_uuid(feature: str, data_row: DataRowRef, key: str) -> str:
    """uuid5 over (feature, data row, annotation key).

    The feature is the ontology name the row answers (tool or classification); the key is the
    annotation's identity inside its dataset (its id, track id, or index within its asset),
    never the source file's path or name, so a renamed or corrected export gives the same
    uuids and a re-import overrides instead of duplicating. The same value as
    ``uuid.uuid5(NAMESPACE, ...)``, computed without building UUID objects (this runs once
    per row).
    """
    name = f"{feature}\x1f{data_row.identity}\x1f{key}".encode()
    d = bytearray(hashlib.sha1(_NS_BYTES + name).digest()[:16])
    d[6] = (d[6] & 0x0F) | 0x50  # version 5
    d[8] = (d[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = d.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _r(value: float) -> float:
    # + 0.0 turns -0.0 into 0.0; 4 decimals = 1/10,000 px.
    return round(value, 4) + 0.0


def _xy(points: Sequence[tuple[float, float]]) -> list[dict[str, float]]:
    # One vectorised rounding beats a round() call per coordinate on real polygons.
    rounded = (np.round(np.asarray(points, dtype=np.float64), 4) + 0.0).tolist()
    return [{"x": x, "y": y} for x, y in rounded]


def points_payloads(rings: Sequence[Sequence[tuple[float, float]]]) -> list[list[dict[str, float]]]:
    """``_xy`` of many rings at once (one numpy rounding for all): the same values, cheaper."""
    counts = [len(r) for r in rings]
    flat = (np.round(np.array([xy for r in rings for xy in r], dtype=np.float64).reshape(-1, 2), 4) + 0.0).tolist()
    out: list[list[dict[str, float]]] = []
    i = 0
    for n in counts:
        out.append([{"x": x, "y": y} for x, y in flat[i : i + n]])
        i += n
    return out


def shape_payload(shape: Shape) -> dict[str, Any]:
    """The geometry part of a row (or of a video keyframe) for a non-mask shape."""
    if isinstance(shape, Box):
        return {
            "bbox": {
                "top": _r(shape.y_min),
                "left": _r(shape.x_min),
                "height": _r(shape.y_max - shape.y_min),
                "width": _r(shape.x_max - shape.x_min),
            }
        }
    if isinstance(shape, Point):
        return {"point": {"x": _r(shape.x), "y": _r(shape.y)}}
    if isinstance(shape, Polyline):
        return {"line": _xy(shape.points)}
    if isinstance(shape, Polygon):
        return {"polygon": _xy(shape.exterior)}
    raise TypeError(f"no row payload for {type(shape).__name__} here")


@functools.lru_cache(maxsize=8)
def _astral_before(text: str) -> tuple[int, ...] | None:
    """For each code point index, how many astral (non-BMP) characters precede it; None when
    the text has none (then code points and UTF-16 units agree). Cached: a document's
    entities are written one after another."""
    if all(ord(ch) <= 0xFFFF for ch in text):
        return None
    counts = [0]
    for ch in text:
        counts.append(counts[-1] + (ord(ch) > 0xFFFF))
    return tuple(counts)


def utf16_offset(text: str, index: int) -> int:
    """UTF-16 code units before code point ``index`` (JavaScript string indices)."""
    astral = _astral_before(text)
    return index if astral is None else index + astral[min(index, len(text))]


def entity_payload(entity: Entity, *, text: str | None, offsets: str) -> dict[str, Any]:
    """``location`` with Labelbox's INCLUSIVE end; code points or UTF-16 units."""
    start, end = entity.start, entity.end
    if offsets == "utf16" and text is not None:
        start, end = utf16_offset(text, start), utf16_offset(text, end)
    out: dict[str, Any] = {"location": {"start": start, "end": end - 1}}
    if entity.message_id is not None:
        out["messageId"] = entity.message_id
    return out


@dataclass(frozen=True, slots=True)
class RowContext:
    """What every payload needs to name features: names, or schema ids."""

    use_ids: bool = False
    keep_confidence: bool = True

    def ref(self, name: str, schema_id: str | None) -> dict[str, str]:
        if self.use_ids and schema_id:
            return {"schemaId": schema_id}
        return {"name": name}


def answer_payload(resolved: ResolvedAnswer, ctx: RowContext) -> dict[str, Any]:
    """One chosen option, named as the ontology names it (``schemaId`` when it has one)."""
    answer = resolved.answer
    out: dict[str, Any] = ctx.ref(answer.name, resolved.option.schema_id)
    if answer.confidence is not None and ctx.keep_confidence:
        out["confidence"] = round(answer.confidence, 6)
    if resolved.classifications:
        out["classifications"] = [classification_payload(c, ctx) for c in resolved.classifications]
    return out


def classification_payload(resolved: Resolved, ctx: RowContext) -> dict[str, Any]:
    """A classification (global or nested), as resolved against the ontology."""
    cls = resolved.classification
    out: dict[str, Any] = ctx.ref(cls.name, resolved.definition.schema_id)
    if cls.kind is ClassificationKind.TEXT:
        out["answer"] = cls.text
    elif cls.kind is ClassificationKind.RADIO:
        out["answer"] = answer_payload(resolved.answers[0], ctx)
    else:
        out["answer"] = [answer_payload(a, ctx) for a in resolved.answers]
    if cls.confidence is not None and ctx.keep_confidence:
        out["confidence"] = round(cls.confidence, 6)
    return out


#: How a video payload gets a keyframe classification resolved (under the track's tool).
Resolver = Callable[[Classification], Resolved]


def keyframe_payload(kf: Keyframe, resolve: Resolver, ctx: RowContext) -> dict[str, Any]:
    out: dict[str, Any] = {"frame": kf.frame, **shape_payload(kf.shape)}
    if kf.classifications:
        out["classifications"] = [classification_payload(resolve(c), ctx) for c in kf.classifications]
    return out


def video_payload(obj: VideoObject, resolve: Resolver, ctx: RowContext) -> dict[str, Any]:
    """A track's keyframes; each keyframe classification is resolved once, by ``resolve``."""
    return {
        "segments": [
            {"keyframes": [keyframe_payload(kf, resolve, ctx) for kf in seg.keyframes]}
            for seg in obj.segments
        ]
    }


# --------------------------------------------------------------------------- masks


@dataclass(frozen=True, slots=True, kw_only=True)
class MaskOptions:
    """How masks are written (``--mask-format``, ``--mask-dir``, ``--mask-url-prefix``)."""

    format: str = "png"
    directory: Path | None = None
    url_prefix: str | None = None


def instance_colours(n: int) -> list[tuple[int, int, int]]:
    """``n`` distinct, deterministic, non-black RGB colours (golden-ratio hues)."""
    out: list[tuple[int, int, int]] = []
    seen: set[tuple[int, int, int]] = set()
    i = 0
    while len(out) < n:
        h = (i * 0.618033988749895) % 1.0
        s = 0.55 + 0.45 * ((i // 7) % 3) / 2
        v = 1.0 - 0.35 * ((i // 21) % 3) / 2
        rgb = tuple(int(round(c * 255)) for c in colorsys.hsv_to_rgb(h, s, v))
        i += 1
        if rgb in seen or rgb == (0, 0, 0):
            if i > 50 * n + 1000:  # fall back to an exact integer code
                rgb = ((i >> 16) & 255, (i >> 8) & 255, i & 255)
            else:
                continue
        seen.add(rgb)  # type: ignore[arg-type]
        out.append(rgb)  # type: ignore[arg-type]
    return out


@dataclass
class _PendingMask:
    row: dict[str, Any]
    mask: Mask
    key: str
    index: int
    source: SourceRef | None = None


def _decode(mask: Mask, source: SourceRef | None) -> np.ndarray:
    """masks.decode, with a failure turned into an error naming the annotation's file and place."""
    try:
        return masks.decode(mask)
    except (masks.MaskDecodeError, ValueError, OSError) as exc:
        if source is None:
            raise
        raise ParseError(source.file, f"mask cannot be decoded: {exc}", location=source.location() or None) from exc


@dataclass
class AssetRows:
    """The rows of one asset, in order; masks are encoded when the asset is finished.

    ``finish()`` returns the rows and the indexes (into ``add`` calls) of mask rows that
    could not be written (an instance completely hidden under later ones in a composite),
    so the pipeline can report them.
    """

    mask_options: MaskOptions
    asset_key: str = ""
    rows: list[dict[str, Any] | None] = field(default_factory=list)
    feature_names: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    pending: list[_PendingMask] = field(default_factory=list)

    def add(self, row: dict[str, Any], feature_name: str, kind: str) -> int:
        """Add a row of ``kind`` (the report's row kind, known where the row is built)."""
        self.rows.append(row)
        self.feature_names.append(feature_name)
        self.kinds.append(kind)
        return len(self.rows) - 1

    def add_mask(
        self, row: dict[str, Any], feature_name: str, mask: Mask, key: str, source: SourceRef | None = None
    ) -> int:
        index = self.add(row, feature_name, "mask")
        if self.mask_options.format == "png":
            row["mask"] = {"png": _b64(masks.encode_png(_decode(mask, source)))}
        else:
            self.pending.append(_PendingMask(row, mask, key, index, source))
        return index

    def written_kinds(self) -> list[str]:
        """The kinds of the rows :meth:`finish` returned, in order."""
        return [k for k, row in zip(self.kinds, self.rows) if row is not None]

    def finish(self) -> tuple[list[tuple[str, dict[str, Any]]], list[tuple[int, str, str]]]:
        dropped: list[tuple[int, str, str]] = []
        if self.pending:
            if self.mask_options.format == "composite":
                dropped = self._composite()
            else:
                self._per_instance_files()
        rows = [
            (name, row)
            for name, row in zip(self.feature_names, self.rows)
            if row is not None
        ]
        return rows, dropped

    def _composite(self) -> list[tuple[int, str, str]]:
        # The canvas is allocated from the first *decoded* mask, so the size a file claims
        # has passed the decoder's pixel limit before any image-sized array exists.
        label: np.ndarray | None = None
        for n, p in enumerate(self.pending, start=1):
            arr = _decode(p.mask, p.source)
            if label is None:
                label = np.zeros(arr.shape, dtype=np.int32)
            if arr.shape != label.shape:
                raise ParseError(p.source.file if p.source else self.asset_key,
                                 f"mask is {arr.shape[1]}x{arr.shape[0]} but the image's other masks are "
                                 f"{label.shape[1]}x{label.shape[0]} (width x height)",
                                 location=(p.source.location() or None) if p.source else None)
            label[arr != 0] = n
        assert label is not None  # pending is not empty
        h, w = label.shape
        colours = instance_colours(len(self.pending))
        rgb = np.zeros((h, w, 3), dtype=np.uint8)
        palette = np.array([(0, 0, 0), *colours], dtype=np.uint8)
        rgb[...] = palette[label]
        present = set(np.unique(label).tolist())
        png = masks.encode_rgb_png(rgb)
        dropped = []
        if self.mask_options.url_prefix is not None:
            ref = self._write_file(png, f"{self.asset_key}/composite.png")
            payload_base: dict[str, Any] = {"instanceURI": ref}
        else:
            payload_base = {"imBytes": _b64(png)}
        for n, (p, colour) in enumerate(zip(self.pending, colours), start=1):
            if n not in present:
                self.rows[p.index] = None
                dropped.append((p.index, "mask-hidden", "instance fully covered by later instances in the composite mask"))
                continue
            p.row["mask"] = {**payload_base, "colorRGB": list(colour)}
        return dropped

    def _per_instance_files(self) -> None:
        for p in self.pending:
            arr = _decode(p.mask, p.source)
            rgb = np.repeat((arr != 0).astype(np.uint8)[:, :, None] * 255, 3, axis=2)
            ref = self._write_file(masks.encode_rgb_png(rgb), f"{self.asset_key}/{p.key}.png")
            p.row["mask"] = {"instanceURI": ref, "colorRGB": [255, 255, 255]}

    def _write_file(self, data: bytes, relative: str) -> str:
        directory = self.mask_options.directory
        if directory is None:
            raise ValueError("mask files need --mask-dir")
        rel = safe_relative(relative)
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)
        prefix = self.mask_options.url_prefix
        return f"{prefix.rstrip('/')}/{rel}" if prefix else path.resolve().as_uri()


def safe_relative(name: str) -> str:
    """A file-system-safe relative path built from a data row key."""
    keep = []
    for part in name.replace("\\", "/").split("/"):
        part = "".join(c if c.isalnum() or c in "-_.=" else "_" for c in part).strip(".")
        if part:
            keep.append(part[:120])
    return "/".join(keep) or "_"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
