"""Rows of one asset: geometry repair, the import matrix, ontology mapping, payloads.

:class:`AssetConverter` is the per-asset core of :func:`converters.pipeline.convert`: every
annotation of an asset is counted read, then either becomes rows or is skipped with a
reason; changes on the way are listed in the report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import fastrows, geometry
from .datarows import DataRowRef
from .errors import MappingError
from .matrix import Mode, why_not
from .model import (
    AnyAnnotation,
    Annotation,
    Asset,
    Box,
    DocumentEntity,
    Entity,
    Kind,
    Mask,
    Media,
    MultiPolygon,
    PageBox,
    Point,
    Polygon,
    Polyline,
    Relationship,
    Shape,
    SourceRef,
    VideoObject,
    below_min_score,
    min_score_reason,
    shape_kind,
)
from .ndjson import (
    AssetRows,
    MaskOptions,
    RowContext,
    annotation_uuid,
    classification_payload,
    entity_payload,
    points_payloads,
    safe_relative,
    shape_payload,
    video_payload,
)
from .ontology import ClassDef, Ontology, Tool
from .payloads import DicomMasks, document_payload, form_problem, geo_payload, geo_problem, temporal_payload
from .options import OnUnmapped, Offsets, WriteOptions
from .report import Report

__all__ = ["AssetConverter", "RowOptions"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RowOptions:
    """What building one asset's rows depends on (a small part of the write options)."""

    mode: Mode = Mode.PRELABEL
    offsets: Offsets = "codepoints"
    on_unmapped: OnUnmapped = "error"
    min_score: float | None = None
    geometry: geometry.GeometryOptions = field(default_factory=geometry.GeometryOptions)

    @classmethod
    def of(cls, o: WriteOptions) -> RowOptions:
        return cls(mode=o.mode_value, offsets=o.offsets, on_unmapped=o.on_unmapped,
                   min_score=o.min_score, geometry=o.geometry)


class AssetConverter:
    """Turns one asset into rows, recording every decision in the report.

    ``source_identity`` names where the assets come from (a reader's format name; kept for
    messages, never hashed: uuids come from the feature, the data row and the annotation key,
    so a renamed or re-exported source keeps its uuids); ``mask_options`` says how mask
    pixels are written.
    """

    def __init__(
        self,
        source_identity: str,
        options: RowOptions,
        report: Report,
        ontology: Ontology,
        mask_options: MaskOptions | None = None,
    ) -> None:
        self.o = options
        self.report = report
        self.ontology = ontology
        self.source_identity = source_identity
        self.ctx = RowContext(use_ids=ontology.has_ids, keep_confidence=options.mode is Mode.PRELABEL)
        self._features: dict[int, dict[str, str]] = {}
        self._valid: set[int] = set()
        self._points: dict[int, list[dict[str, float]]] = {}
        self._uuids: set[str] = set()
        self.mask_options = mask_options or MaskOptions()
        #: The fast lane (:mod:`converters.fastrows`) for plain boxes and valid polygons.
        self._fast = fastrows.enabled()
        self._importable: dict[Kind, bool] = {}

    def prevalidate(self, assets: Sequence[Asset]) -> None:
        """Check the plain polygons of a batch of image assets in one vectorised pass.

        Polygons found valid and inside their image skip :func:`geometry.fix_shape` in
        :meth:`rows_for` (ids are only trusted while the batch is alive: call this again for
        every batch). Geospatial polygons are not pixels: they take the per-shape way.
        """
        items: list[tuple[Polygon, int | None, int | None]] = [
            (ann.shape, asset.width, asset.height)
            for asset in assets
            if asset.media is not Media.GEOSPATIAL
            for ann in asset.annotations
            if isinstance(ann, Annotation) and type(ann.shape) is Polygon
        ]
        if self._fast:
            self._points = fastrows.polygon_points(items) if items else {}
            self._valid = set(self._points)
            return
        flags = geometry.valid_polygons(items) if items else []
        valid = [item[0] for item, ok in zip(items, flags) if ok]
        # Valid polygons are written as they are: round all their points in one go too.
        self._points = dict(zip(map(id, valid), points_payloads([p.exterior for p in valid]))) if valid else {}
        self._valid = set(self._points)

    def skip_asset(self, asset: Asset, code: str, message: str) -> None:
        for ann in asset.annotations:
            self.report.count_read(ann.kind)
            self.report.skip(ann.source, ann.kind, code, message)

    def _feature(self, tool_or_def: Tool | ClassDef) -> dict[str, str]:
        ref = self._features.get(id(tool_or_def))
        if ref is None:  # tools live as long as the ontology: their ids stay valid
            ref = self._features[id(tool_or_def)] = self.ctx.ref(tool_or_def.name, tool_or_def.schema_id)
        return ref

    def _confidence(self, row: dict[str, Any], confidence: float | None) -> None:
        if confidence is None:
            return
        if self.ctx.keep_confidence:
            row["confidence"] = round(confidence, 6)
        else:
            self.report.tally("confidence-dropped")

    def rows_for(self, asset: Asset, ref: DataRowRef) -> list[tuple[str, dict[str, Any]]]:
        rows = AssetRows(self.mask_options, asset_key=safe_relative(ref.global_key or ref.id or ""))
        self._data_row = ref.asdict()  # shared by the asset's rows (never mutated)
        self._uuids = set()
        self._dicom = DicomMasks()
        placed: list[tuple[AnyAnnotation, list[int]]] = []
        read = self.report.read
        min_score = self.o.min_score
        plain = self._fast and asset.media is Media.IMAGE and min_score is None
        for ann in asset.annotations:
            kind = ann.kind
            read[kind._value_] += 1
            if min_score is not None and not isinstance(ann, Relationship) and below_min_score(ann.confidence, min_score):
                self.report.skip(ann.source, kind, *min_score_reason(ann.confidence, min_score))  # type: ignore[arg-type]
                continue
            try:
                fast = self._plain_row(asset, ref, ann, kind, rows) if plain else None
                indexes = self._annotation_rows(asset, ref, ann, rows) if fast is None else [fast]
            except MappingError as exc:
                if self.o.on_unmapped == "skip":
                    self.report.skip(ann.source, kind, "unmapped", str(exc))
                    continue
                raise MappingError(f"{ann.source}: {exc}") from None
            if indexes:
                placed.append((ann, indexes))
        hidden = self._finish_dicom_masks(rows)
        finished, dropped = rows.finish()
        lost = {i: (code, msg) for i, code, msg in dropped}
        for ann, indexes in placed:
            alive = [i for i in indexes if i not in lost]
            if id(ann) in hidden:
                self.report.skip(ann.source, ann.kind, *hidden[id(ann)])
            elif alive:
                self.report.count_written(ann.kind)
            else:
                code, msg = lost[indexes[0]]
                self.report.skip(ann.source, ann.kind, code, msg)
        for kind_name in rows.written_kinds():
            self.report.count_row(kind_name)
        if self.report.has_pending:
            self._attribute(asset, ref, placed, rows)
        return finished

    def _attribute(
        self, asset: Asset, ref: DataRowRef, placed: list[tuple[AnyAnnotation, list[int]]], rows: AssetRows
    ) -> None:
        """Tie this asset's report entries to its data row and to the uuids of their rows."""
        uuids: dict[SourceRef, list[str]] = {ann.source: [] for ann in asset.annotations}
        for ann, indexes in placed:
            uuids[ann.source] += [r["uuid"] for r in (rows.rows[i] for i in indexes) if r is not None and "uuid" in r]
        self.report.attribute(uuids, ref.global_key if ref.global_key is not None else str(ref.id))

    def _uuid(self, feature: str, ref: DataRowRef, key: str, source: Any, kind: Kind) -> str:
        """The row's uuid (from the feature, the data row and the annotation's key, never the
        source path); a key repeated within the asset for the same feature (two COCO
        annotations with ``"id": 1``, two CVAT ``<track id="1">``, a repeated skeleton node)
        gets a uuid of its own and a report entry: Labelbox refuses a file repeating a uuid on
        one data row."""
        uuid = annotation_uuid(feature, ref, key)
        n = 1
        while uuid in self._uuids:
            n += 1
            uuid = annotation_uuid(feature, ref, f"{key}#dup{n}")
        if n > 1:
            self.report.change(source, kind, "changed", "duplicate-id",
                               f"the source repeats this annotation's id ({key!r}) on the same image or text; "
                               "written with a uuid of its own")
        self._uuids.add(uuid)
        return uuid

    def _plain_row(self, asset: Asset, ref: DataRowRef, ann: AnyAnnotation, kind: Kind, rows: AssetRows) -> int | None:
        """The fast lane: the row of a plain box or valid polygon (no classifications, no
        confidence) written as it is, or ``None`` for the general path. Same row, same uuid,
        same report as :meth:`_annotation_rows` gives it (tests/test_fastrows.py)."""
        if type(ann) is not Annotation or ann.classifications or ann.confidence is not None:
            return None
        importable = self._importable.get(kind)
        if importable is None:
            importable = self._importable[kind] = why_not(kind, Media.IMAGE, self.o.mode) is None
        if not importable:
            return None
        shape = ann.shape
        payload: dict[str, Any] | None
        if type(shape) is Box:
            payload = fastrows.box_payload(shape, asset.width, asset.height)
        elif type(shape) is Polygon and id(shape) in self._points:
            payload = {"polygon": self._points.pop(id(shape))}
        else:
            return None
        if payload is None:
            return None
        assert ann.label is not None
        tool = self.ontology.tool_for(ann.label, kind)
        row: dict[str, Any] = {"uuid": self._uuid(tool.name, ref, ann.key, ann.source, kind), "dataRow": self._data_row, **self._feature(tool)}
        row.update(payload)
        return rows.add(row, tool.name, kind.value)

    def _annotation_rows(self, asset: Asset, ref: DataRowRef, ann: AnyAnnotation, rows: AssetRows) -> list[int]:
        media, mode = asset.media, self.o.mode
        if isinstance(ann, Relationship):
            reason = why_not(Kind.RELATIONSHIP, media, mode)
            code, msg = reason or ("not-supported", "relationships are not written")
            self.report.skip(ann.source, ann.kind, code, msg)
            return []
        fast = media is Media.IMAGE and type(ann) is Annotation and type(ann.shape) in _IMAGE_SHAPES
        problem = None if fast else form_problem(ann, media)
        if problem is not None:
            self.report.skip(ann.source, ann.kind, *problem)
            return []
        if isinstance(ann, VideoObject):
            return self._video_rows(asset, ref, ann, rows)
        if ann.classification is not None:
            return self._classification_rows(asset, ref, ann, rows)
        assert ann.shape is not None and ann.label is not None
        shapes: tuple[Shape, ...]
        if isinstance(ann.shape, _NOT_GEOMETRY) or id(ann.shape) in self._valid:
            shapes = (ann.shape,)
        else:
            geo = media is Media.GEOSPATIAL  # degrees: no image to clip to
            outcome = geometry.fix_shape(ann.shape, width=None if geo else asset.width,
                                         height=None if geo else asset.height, options=self.o.geometry)
            for fix in outcome.fixes:
                self.report.change(ann.source, ann.kind, fix.action, fix.code, fix.message)
            if not outcome.shapes:
                skip = outcome.skip or geometry.Fix("skipped", "invalid-geometry", "shape cannot be repaired")
                self.report.skip(ann.source, ann.kind, skip.code, skip.message)
                return []
            shapes = outcome.shapes
        indexes: list[int] = []
        reasons: list[tuple[str, str]] = []
        for i, shape in enumerate(shapes):
            out_kind = shape_kind(shape)
            reason = why_not(out_kind, media, mode)
            if reason is None and media is Media.GEOSPATIAL:
                reason = geo_problem(shape)
            if reason is not None:
                reasons.append(reason)
                continue
            tool = self.ontology.tool_for(ann.label, out_kind)
            key = ann.key if len(shapes) == 1 else f"{ann.key}#{i}"
            row: dict[str, Any] = {
                "uuid": self._uuid(tool.name, ref, key, ann.source, ann.kind),
                "dataRow": self._data_row,
                **self._feature(tool),
            }
            if ann.classifications:  # each resolved once, and written with what it resolved to
                row["classifications"] = [
                    classification_payload(self.ontology.resolve(c, parent=tool), self.ctx)
                    for c in ann.classifications
                ]
            self._confidence(row, ann.confidence)
            if isinstance(shape, Mask):
                indexes.append(rows.add_mask(row, tool.name, shape, safe_relative(key), ann.source))
                continue
            if isinstance(shape, (PageBox, DocumentEntity)):
                row.update(document_payload(shape))
            elif isinstance(shape, Entity):
                row.update(entity_payload(shape, text=asset.text, offsets=self.o.offsets))
            elif media is Media.GEOSPATIAL:
                row.update(geo_payload(shape))  # type: ignore[arg-type]
            elif id(shape) in self._points:
                row["polygon"] = self._points.pop(id(shape))
            else:
                row.update(shape_payload(shape))
            if media is not Media.GEOSPATIAL and _vanishes(row, out_kind):  # degrees: north-up boxes have height < 0
                reasons.append(("degenerate-at-output-precision",
                                "the shape has no extent at the output's precision (0.0001 px)"))
                continue
            indexes.append(rows.add(row, tool.name, out_kind.value))
        if not indexes and reasons:
            self.report.skip(ann.source, ann.kind, *reasons[0])
        elif reasons:
            self.report.change(ann.source, ann.kind, "changed", reasons[0][0], f"part not written: {reasons[0][1]}")
        return indexes

    def _classification_rows(self, asset: Asset, ref: DataRowRef, ann: Annotation, rows: AssetRows) -> list[int]:
        cls = ann.classification
        assert cls is not None
        reason = why_not(ann.kind, asset.media, self.o.mode)
        if reason is not None:
            self.report.skip(ann.source, ann.kind, *reason)
            return []
        scoped = bool(cls.frames or cls.times_ms or cls.message_id is not None)
        resolved = self.ontology.resolve(cls, scope="index" if scoped else "global")
        payload = temporal_payload(resolved, self.ctx) if cls.times_ms else classification_payload(resolved, self.ctx)
        definition = resolved.definition
        row: dict[str, Any] = {
            "uuid": self._uuid(definition.name, ref, ann.key, ann.source, ann.kind),
            "dataRow": self._data_row,
            **payload,
        }
        if cls.frames:
            row["frames"] = [{"start": s, "end": e} for s, e in cls.frames]
        if cls.message_id is not None:
            row["messageId"] = cls.message_id
        return [rows.add(row, definition.name, cls.kind.value)]

    def _video_rows(self, asset: Asset, ref: DataRowRef, obj: VideoObject, rows: AssetRows) -> list[int]:
        reason = why_not(obj.kind, asset.media, self.o.mode)
        if reason is not None:
            self.report.skip(obj.source, obj.kind, *reason)
            return []
        tool = self.ontology.tool_for(obj.label, obj.kind)
        if obj.frames_read:
            self.report.tally("video-frames-read", obj.frames_read)
        if obj.kind is Kind.MASK:  # DICOM: the form check let no other mask track through
            return [self._dicom_mask_row(ref, obj, tool, rows)]
        row: dict[str, Any] = {
            "uuid": self._uuid(tool.name, ref, obj.key, obj.source, obj.kind),
            "dataRow": self._data_row,
            **self._feature(tool),
        }
        if obj.group_key is not None:
            row["groupKey"] = obj.group_key.value
        row.update(video_payload(obj, lambda c: self.ontology.resolve(c, parent=tool), self.ctx))
        if not self._keep_keyframes(row, obj):
            return []
        self._confidence(row, obj.confidence)
        return [rows.add(row, tool.name, "video-track")]

    def _dicom_mask_row(self, ref: DataRowRef, obj: VideoObject, tool: Tool, rows: AssetRows) -> int:
        """DICOM mask tracks share one row per group key, filled when the asset is done."""
        assert obj.group_key is not None
        if obj.confidence is not None:
            self.report.tally("confidence-dropped")  # a masks row has no place for it
        existing = self._dicom.instances.get(obj.group_key)
        if existing:
            index = existing[0].index
        else:
            row = {
                "uuid": annotation_uuid(f"masks:{obj.group_key.value}", ref, "masks"),  # feature = the group
                "dataRow": self._data_row,
            }
            index = rows.add(row, f"masks:{obj.group_key.value}", "mask")
        self._dicom.add(obj, tool.name, index)
        return index

    def _finish_dicom_masks(self, rows: AssetRows) -> dict[int, tuple[str, str]]:
        """Fill the DICOM masks rows; returns id(track) -> reason for tracks left out."""
        hidden: dict[int, tuple[str, str]] = {}
        for group, payload, left_out in self._dicom.rows():
            index = self._dicom.instances[group][0].index
            if payload["masks"]["instances"]:
                rows.rows[index].update(payload)  # type: ignore[union-attr]
            else:
                rows.rows[index] = None
            for obj in left_out:
                hidden[id(obj)] = ("mask-hidden", "no pixel of this track shows in any frame's composite mask "
                                   "(empty, covered by later tracks, or not the frame's size)")
        return hidden

    def _keep_keyframes(self, row: dict[str, Any], obj: VideoObject) -> bool:
        """Drop keyframes whose shape has no extent (a zero-width box row in a CVAT track),
        reported; a track left without keyframes is skipped. Labelbox refuses the row else."""
        segments, dropped = [], 0
        for seg, source_seg in zip(row["segments"], obj.segments):
            kept = [kf for kf, skf in zip(seg["keyframes"], source_seg.keyframes)
                    if not _vanishes(kf, shape_kind(skf.shape))]
            dropped += len(seg["keyframes"]) - len(kept)
            if kept:
                segments.append({**seg, "keyframes": kept})
        if not dropped:
            return True
        if not segments:
            self.report.skip(obj.source, obj.kind, "degenerate-at-output-precision",
                             "no keyframe of the track has a shape with extent (0.0001 px precision)")
            return False
        row["segments"] = segments
        self.report.change(obj.source, obj.kind, "changed", "degenerate-keyframe",
                           f"{dropped} keyframe(s) whose shape has no extent dropped (zero width or height, "
                           "fewer than 3 distinct polygon points)")
        return True


#: Image shapes whose form is right on an image by construction (the common case skips
#: :func:`form_problem`; a test keeps the two in agreement).
_IMAGE_SHAPES = frozenset({Box, Point, Polyline, Polygon, MultiPolygon, Mask})


def _vanishes(payload: Mapping[str, Any], kind: Kind) -> bool:
    """Whether a repaired shape of ``kind`` collapsed once rounded to the payload's 4 decimals
    (a sliver left by clipping a far-away vertex): fewer than 3 distinct polygon points, 2
    line points, or a box without width or height. Labelbox refuses such rows."""
    if kind is Kind.POLYGON:
        return len({(p["x"], p["y"]) for p in payload["polygon"]}) < 3
    if kind is Kind.POLYLINE:
        return len({(p["x"], p["y"]) for p in payload["line"]}) < 2
    if kind is Kind.BBOX:
        return not (payload["bbox"]["width"] > 0 and payload["bbox"]["height"] > 0)
    return False



#: Shapes that are not pixel geometry: no repair applies to them.
_NOT_GEOMETRY = (Entity, PageBox, DocumentEntity)
