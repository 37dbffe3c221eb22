"""CVAT ``<track>`` elements: rows collected per track, then Labelbox video objects or
per-frame image shapes.

Frames: CVAT writes the *absolute* source frame (``start_frame + k * step``); the data row is
the source video, so Labelbox frame = absolute frame + 1 (``--cvat-frames relative`` reads
``frame`` as the task-relative index k instead). Rotated boxes in tracks become their
axis-aligned bounding box (Labelbox video has boxes but no polygons), reported once per track.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from lxml import etree

from ...model import (
    Annotation,
    Asset,
    Classification,
    ClassificationKind,
    Keyframe,
    Kind,
    Media,
    Segment,
    SourceRef,
    VideoObject,
    shape_kind,
)
from ...errors import ParseError
from ...report import Report
from ._elements import KIND_OF, convert_shape
from ._meta import Meta, TaskInfo
from ._options import CVATOptions
from ._shapes import flat_coords
from ._tracks import TrackRow, track_keyframes

__all__ = ["TrackBuilder", "VideoCollector", "Walker"]


class Walker(Protocol):
    """What the track code uses of the file being walked (``_stream.FileWalker``): a protocol,
    so this module does not import the walker, which imports it (no cycle). The report is
    swapped while a track row's attributes are read, hence writable."""

    report: Report

    @property
    def o(self) -> CVATOptions: ...
    @property
    def path(self) -> Path: ...
    @property
    def file(self) -> str: ...
    @property
    def root(self) -> Path: ...
    @property
    def meta(self) -> Meta: ...
    @property
    def has_images(self) -> bool: ...
    @property
    def track_media(self) -> Media: ...

    def ref(self, elem: etree._Element, *, annotation_id: str | None = None, frame: int | None = None) -> SourceRef: ...
    def classifications(
        self, elem: etree._Element | None, label: str, parent: str = "", *, pairs: list[tuple[str, str]] | None = None,
        source: SourceRef, kind: Any,
    ) -> tuple[Classification, ...]: ...
    def frame_number(self, raw: str | None, elem: etree._Element, task: TaskInfo | None) -> int: ...
    def keypoint_name(self, skeleton: str, point: str) -> str: ...
    def frame_image_name(self, frame: int) -> str: ...


@dataclass(slots=True)
class _Row:
    frame: int  # absolute, 0-based
    outside: bool
    keyframe: bool
    shapes: tuple[Any, ...]
    classifications: tuple[Classification, ...]
    line: int | None


@dataclass
class TrackBuilder:
    """The rows of one ``<track>`` (and, for a skeleton track, its node tracks)."""

    walker: Walker
    elem: etree._Element
    attrib: dict[str, str] = field(init=False)
    line: int | None = field(init=False)
    rows: list[_Row] = field(default_factory=list)
    nodes: list[TrackBuilder] = field(default_factory=list)
    unsupported: Counter[str] = field(default_factory=Counter)
    skeleton_rows: int = 0
    scratch: Report = field(default_factory=Report)
    parent_label: str = ""
    frames: set[int] = field(default_factory=set)
    tag: str = ""

    def __post_init__(self) -> None:
        self.attrib = dict(self.elem.attrib)
        self.line = self.elem.sourceline
        parent = self.elem.getparent()
        if parent is not None and parent.tag == "track":
            self.parent_label = parent.get("label") or ""

    @property
    def label(self) -> str:
        return self.attrib.get("label") or ""

    def row(self, elem: etree._Element) -> None:
        w = self.walker
        tag = elem.tag
        if tag == "skeleton":
            self.skeleton_rows += 1  # the node tracks carry the geometry
            return
        if tag in ("mask", "cuboid", "tag"):
            self.unsupported[tag] += 1
            return
        task = w.meta.task_for(self.attrib.get("task_id"))
        frame = w.frame_number(elem.get("frame"), elem, task)
        # A track is one object over time: one shape kind, one row per frame. A second row
        # on a frame (or a box row in a points track) is a broken export, not two keyframes.
        where = f"line {elem.sourceline}"
        if frame in self.frames:
            raise ParseError(w.path, f"<track id=\"{self.attrib.get('id', '?')}\"> has two rows for frame {frame}",
                             location=where)
        self.frames.add(frame)
        if self.tag and tag != self.tag:
            raise ParseError(w.path, f"<track id=\"{self.attrib.get('id', '?')}\"> mixes <{self.tag}> and <{tag}> rows",
                             location=where)
        self.tag = tag
        outside = elem.get("outside") == "1"
        source = w.ref(elem, annotation_id=self.attrib.get("id"), frame=frame)
        size = (task.width, task.height) if task and task.width and task.height else None
        video = w.track_media is Media.VIDEO
        conv = convert_shape(elem, path=w.path, source=source, report=self.scratch, size=size,
                             ellipse=w.o.ellipse, rotated_box="bbox" if video else w.o.rotated_box, video=video)
        kind = KIND_OF.get(tag, tag)
        cls: tuple[Classification, ...] = ()
        if not outside:
            issues_report = self.scratch
            saved, w.report = w.report, issues_report
            try:
                cls = w.classifications(elem, self.label, self.parent_label, source=source, kind=kind)
            finally:
                w.report = saved
        self.rows.append(_Row(frame, outside, elem.get("keyframe") == "1", conv.shapes, cls, elem.sourceline))


class VideoCollector:
    """Collects finished tracks of a file, per task; builds the assets at the end."""

    def __init__(self, walker: Walker) -> None:
        self.w = walker
        self.objects: dict[str, list[Any]] = defaultdict(list)
        self.frames: dict[tuple[str, int], list[Annotation]] = defaultdict(list)
        self.tags: dict[tuple[str, str], set[int]] = defaultdict(set)
        self.tag_refs: dict[tuple[str, str], SourceRef] = {}

    def _task_id(self, attrib: dict[str, str]) -> str:
        task = self.w.meta.task_for(attrib.get("task_id"))
        return task.id if task else attrib.get("task_id", "")

    # -- tags ------------------------------------------------------------------------------

    def tag(self, elem: etree._Element) -> None:
        w = self.w
        task_id = self._task_id(dict(elem.attrib))
        frame = w.frame_number(elem.get("frame"), elem, w.meta.task_for(task_id))
        label = elem.get("label") or ""
        source = w.ref(elem, frame=frame)
        if not label:
            w.report.skip_unread(source, Kind.CHECKLIST, "cvat-empty-label", "tag without a label; skipped")
            return
        if w.track_media is Media.IMAGE:
            cls = Classification.checklist("tags", [label])
            self.frames[(task_id, frame)].append(Annotation(key=f"tag:{label}", source=source, classification=cls))
            return
        if (task_id, label) in self.tag_refs:
            w.report.tally("cvat-video-tag-frames-merged")
        self.tags[(task_id, label)].add(frame)
        self.tag_refs.setdefault((task_id, label), source)

    # -- tracks ----------------------------------------------------------------------------

    def track(self, b: TrackBuilder) -> None:
        w = self.w
        tid = b.attrib.get("id", "?")
        task_id = self._task_id(b.attrib)
        source = SourceRef(file=w.file, line=b.line, element="<track>", annotation_id=tid)
        for tag, n in b.unsupported.items():
            code = "cvat-cuboid-unsupported" if tag == "cuboid" else f"cvat-{tag}-track-unsupported"
            w.report.skip_unread(source, KIND_OF.get(tag, tag), code,
                                 f"a track of {n} <{tag}> rows cannot be carried over (Labelbox has no such track); skipped")
        if b.nodes:
            for node in b.nodes:
                name = w.keypoint_name(b.label, node.label)
                self._emit(node, name, f"track{tid}/{node.label}", task_id, node_of=b)
            return
        if b.rows:
            self._emit(b, b.label, f"track{tid}", task_id)

    def _emit(self, b: TrackBuilder, label: str, key: str, task_id: str, node_of: TrackBuilder | None = None) -> None:
        w = self.w
        owner = node_of or b
        source = SourceRef(file=w.file, line=b.line, element="<track>", annotation_id=key.removeprefix("track"))
        kind = next((shape_kind(r.shapes[0]) for r in b.rows if r.shapes), Kind.BBOX)
        w.report.tallies.update(b.scratch.tallies)
        if not b.label or not owner.label:
            w.report.skip_unread(source, kind, "cvat-empty-label", "track with label=\"\"; skipped")
            return
        for code, n in Counter(e.code for e in b.scratch.entries).items():
            w.report.change(source, kind, "converted" if "rotated" in code or "ellipse" in code else "changed",
                            code, f"{n} rows of this track: {next(e.message for e in b.scratch.entries if e.code == code)}")
        group = owner.attrib.get("group_id")
        if group and group != "0":
            if w.o.groups == "report":
                w.report.change(source, kind, "changed", "cvat-group-dropped",
                                f"group_id {group} has no Labelbox equivalent; dropped")
        width = max((len(r.shapes) for r in b.rows), default=1)
        for i in range(width):
            sub_key = key if width == 1 else f"{key}#{i}"
            rows = [r for r in b.rows if r.outside or i < len(r.shapes)]
            if w.track_media is Media.VIDEO:
                self._video_object(rows, i, label, sub_key, task_id, source)
            else:
                self._frame_shapes(rows, i, label, sub_key, task_id)

    def _video_object(self, rows: list[_Row], i: int, label: str, key: str, task_id: str, source: SourceRef) -> None:
        w = self.w
        track_rows = []
        dropped_text = 0
        for r in rows:
            shape = r.shapes[i] if i < len(r.shapes) else None
            cls = tuple(c for c in r.classifications if c.kind is not ClassificationKind.TEXT)
            dropped_text += len(r.classifications) - len(cls)
            coords = flat_coords(shape) if shape is not None else ()
            track_rows.append(TrackRow(r.frame + 1, r.outside or shape is None, r.keyframe, coords, (shape, cls), cls))
        if dropped_text:
            w.report.change(source, "text", "changed", "cvat-video-text-attribute",
                            "free-text attributes cannot be imported on video keyframes; dropped")
        segments = []
        for seg in track_keyframes(track_rows, w.o.keyframe_tolerance):
            segments.append(Segment(keyframes=tuple(
                Keyframe(frame=r.frame, shape=r.payload[0], classifications=r.payload[1]) for r in seg
            )))
        if not segments:
            kind = next((shape_kind(r.shapes[i]) for r in rows if i < len(r.shapes)), Kind.BBOX)
            w.report.skip_unread(source, kind, "cvat-track-never-visible", "every row of the track is outside; skipped")
            return
        self.objects[task_id].append(
            VideoObject(key=key, source=source, label=label, segments=tuple(segments), frames_read=len(rows))
        )

    def _frame_shapes(self, rows: list[_Row], i: int, label: str, key: str, task_id: str) -> None:
        for r in rows:
            if r.outside:
                self.w.report.tally("cvat-track-outside-rows")
                continue
            src = SourceRef(file=self.w.file, line=r.line, element="<track>", annotation_id=key, frame=r.frame)
            self.frames[(task_id, r.frame)].append(
                Annotation(key=f"{key}@{r.frame}", source=src, label=label, shape=r.shapes[i],
                           classifications=r.classifications)
            )

    # -- assets ----------------------------------------------------------------------------

    def _tag_annotations(self, task_id: str, step: int) -> list[Annotation]:
        out = []
        for (tid, label), frames in sorted(self.tags.items()):
            if tid != task_id:
                continue
            ranges: list[list[int]] = []
            for f in sorted(frames):
                if ranges and f - ranges[-1][1] <= step:
                    ranges[-1][1] = f
                else:
                    ranges.append([f, f])
            cls = Classification.checklist("tags", [label], frames=tuple((s + 1, e + 1) for s, e in ranges))
            out.append(Annotation(key=f"tag:{label}", source=self.tag_refs[(tid, label)], classification=cls))
        return out

    def finish(self) -> list[Asset]:
        w = self.w
        out: list[Asset] = []
        if w.track_media is Media.VIDEO:
            task_ids = list(w.meta.tasks) or [""]
            if w.has_images:
                task_ids = [t for t in task_ids if t in self.objects or any(k[0] == t for k in self.tags)]
            names: Counter[str] = Counter()
            for tid in task_ids:
                task = w.meta.tasks.get(tid)
                names[(task.source or task.name) if task else ""] += 1
            for tid in task_ids:
                task = w.meta.tasks.get(tid)
                base = ((task.source or task.name) if task else "") or w.path.stem
                name = base if names[base] <= 1 else f"{base}-task{tid}"
                anns = [*self.objects.get(tid, []), *self._tag_annotations(tid, task.step if task else 1)]
                out.append(Asset(
                    name=name, media=Media.VIDEO, source=SourceRef(file=w.file, element="<meta>"),
                    annotations=tuple(anns), width=task.width if task else None, height=task.height if task else None,
                    dataset=w.root.name,
                    fields={"task": tid, "task_name": task.name if task else "", "subset": (task.subset or "") if task else "",
                            "source": (task.source or "") if task else ""},
                ))
            return out
        multi = len(w.meta.tasks) > 1
        for (tid, frame), anns in sorted(self.frames.items()):
            task = w.meta.tasks.get(tid)
            fname = w.frame_image_name(frame)
            name = f"{task.name or tid}/{fname}" if multi and task else fname
            size = (task.width, task.height) if task and task.width and task.height else (None, None)
            out.append(Asset(
                name=name, media=Media.IMAGE, source=SourceRef(file=w.file, frame=frame),
                annotations=tuple(anns), width=size[0], height=size[1], dataset=w.root.name,
                fields={"task": tid, "task_name": task.name if task else "", "frame": str(frame),
                        "index": str(frame), "subset": (task.subset or "") if task and task.subset else ""},
            ))
        return out
