"""Walk one CVAT XML file as a stream of element end-events and build assets.

The file is never held whole: :func:`~converters.readers._xml.iterparse_xml` yields every
shape, skeleton node, tag, image and track as it closes and frees what came before it, so
each element is handled on its own end event with its ancestors' attributes as context.
Images are yielded as soon as they close. Tracks become :class:`VideoObject` values (one
video asset per task, at the end of the file) or, with ``--media image`` or inside an images
export, per-frame shapes on frame images.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from ...errors import InvalidFieldError, OptionsError, ParseError
from ...model import (
    Annotation,
    Answer,
    Asset,
    Classification,
    ClassificationKind,
    Kind,
    Media,
    Point,
    SourceRef,
)
from ...report import Report
from ._elements import KIND_OF, convert_shape
from ._meta import MAX_INT, Meta, TaskInfo, parse_meta
from ._shapes import AttrIssue, attribute_classifications, attribute_pairs, parse_points
from ._options import CVATOptions
from ._video import TrackBuilder, VideoCollector
from .._images import IMAGE_SUFFIXES, image_size
from .._paths import Confinement, clean_relative, resolve_inside
from ..base import ReadContext
from ._io import elements, scan


__all__ = ["SHAPE_TAGS", "FileWalker"]

SHAPE_TAGS = ("box", "polygon", "polyline", "points", "ellipse", "mask", "skeleton", "cuboid")
_EVENT_TAGS = ("meta", "image", "track", "tag", *SHAPE_TAGS)
_KNOWN_CHILDREN = set(_EVENT_TAGS) | {"attribute", "version"}


@dataclass
class _ImageState:
    """Annotations of the ``<image>`` being read, and its skeleton's pending nodes."""

    anns: list[Any] = field(default_factory=list)
    tags: list[tuple[str, tuple[Classification, ...], SourceRef]] = field(default_factory=list)
    nodes: list[tuple[etree._Element, list[tuple[str, str]]]] = field(default_factory=list)
    count: int = 0


class FileWalker:
    """Reads one CVAT XML file: the reader's options and context in, assets out (it does not
    call back into the reader)."""

    def __init__(self, path: Path, options: CVATOptions, context: ReadContext, report: Report) -> None:
        self.o = options
        self.path = path
        self.file = str(path)
        self.report = report
        self.asked = context.media
        self.root = path.parent
        self.images_dir = context.images_dir
        self.conf = Confinement(self.root, context.follow_links)
        self.meta = Meta()
        self.has_images, self.has_tracks = scan(path)
        if self.asked is Media.VIDEO and self.has_images:
            raise OptionsError(
                f"{path}: --media video needs a 'CVAT for video' export (tracks); this file lists <image> elements"
            )
        if self.asked not in (None, Media.IMAGE, Media.VIDEO):
            raise OptionsError(f"{path}: the cvat reader gives image or video data rows, not {self.asked.value}")
        self.track_media = self.asked or (Media.IMAGE if self.has_images else Media.VIDEO)
        self.buffer_images = self.has_tracks and self.track_media is Media.IMAGE
        self.image = _ImageState()
        self.video = VideoCollector(self)
        self.tracks: dict[int, TrackBuilder] = {}
        self.seen_images: set[tuple[str, str]] = set()
        self.buffered: list[Asset] = []

    # -- helpers shared with _video ------------------------------------------------

    def ref(self, elem: etree._Element, *, annotation_id: str | None = None, frame: int | None = None) -> SourceRef:
        return SourceRef(file=self.file, line=elem.sourceline, element=f"<{elem.tag}>",
                         annotation_id=annotation_id, frame=frame)

    def classifications(
        self, elem: etree._Element | None, label: str, parent: str = "", *, pairs: list[tuple[str, str]] | None = None,
        source: SourceRef, kind: Any,
    ) -> tuple[Classification, ...]:
        issues: list[AttrIssue] = []
        if pairs is None:
            pairs = attribute_pairs(elem, issues) if elem is not None else []
        out = list(attribute_classifications(
            pairs, self.meta.attrs(label, parent), fill_defaults=self.o.attribute_defaults == "fill", issues=issues
        ))
        for issue in issues:
            self.report.change(source, kind, "changed", issue.code, issue.message)
        if elem is not None:
            out.extend(self.flags(elem, source, kind))
        return tuple(out)

    def flags(self, elem: etree._Element, source: SourceRef, kind: Any) -> list[Classification]:
        """``occluded``, ``group_id``, ``z_order`` and ``source``: carried, or reported."""
        out: list[Classification] = []
        if elem.get("occluded") == "1":
            if self.o.occluded == "attribute":
                out.append(Classification.radio("occluded", "true"))
            else:
                self.report.tally("cvat-occluded-dropped")
        group = elem.get("group_id")
        if group and group != "0":
            if self.o.groups == "attribute":
                out.append(Classification.radio("group", group))
            else:
                self.report.change(source, kind, "changed", "cvat-group-dropped",
                                   f"group_id {group} has no Labelbox equivalent; dropped (--cvat-groups attribute keeps it)")
        z = elem.get("z_order")
        if z not in (None, "", "0"):
            self.report.tally("cvat-z-order-dropped")
        src = elem.get("source")
        if src and src != "manual":
            self.report.tally(f"cvat-source-{src}")
        return out

    def frame_number(self, raw: str | None, elem: etree._Element, task: TaskInfo | None) -> int:
        """The absolute 0-based source frame of a track row or video tag."""
        try:
            f = int(raw) if raw is not None else None
        except ValueError:
            f = None
        if f is None or not 0 <= f <= MAX_INT:
            raise InvalidFieldError(self.path, "frame", f"must be a non-negative integer, got {raw!r}",
                                    location=f"line {elem.sourceline}")
        start = task.start_frame if task else 0
        step = task.step if task else 1
        if self.o.frames == "relative":
            return start + f * step
        if f < start:
            raise InvalidFieldError(
                self.path, "frame", f"{f} is before the task's start_frame {start}; if this export numbers "
                "frames from 0, use --cvat-frames relative", location=f"line {elem.sourceline}")
        return f

    def keypoint_name(self, skeleton: str, point: str) -> str:
        return self.o.keypoint_name.format(skeleton=skeleton, point=point)

    # -- the walk ----------------------------------------------------------------------------

    def walk(self) -> Iterator[Asset]:
        events = elements(self.path, _EVENT_TAGS)
        try:
            yield from self._events(events)
        finally:
            events.close()
        yield from self._finish()

    def _events(self, events: Iterator[etree._Element]) -> Iterator[Asset]:
        for elem in events:
            parent = elem.getparent()
            ptag = parent.tag if parent is not None else None
            tag = elem.tag
            if ptag is not None:
                self._unknown(elem.itersiblings(preceding=True))
            if tag == "meta":
                self.meta = parse_meta(elem, self.path)
            elif tag == "image":
                self._unknown(elem.iterchildren())
                asset = self._image(elem)
                if asset is not None:
                    if self.buffer_images:
                        self.buffered.append(asset)
                    else:
                        yield asset
            elif tag == "track":
                self._track_end(elem, parent)
            elif ptag == "image":
                self._image_child(elem, parent)
            elif ptag == "skeleton":
                if tag == "points":
                    self.image.nodes.append((_Detached.of(elem), attribute_pairs(elem, [])))
            elif ptag == "track":
                self._builder(parent).row(elem)
            elif tag == "tag" and ptag == "annotations":
                self.video.tag(elem)
            else:
                self.report.skip_unread(self.ref(elem), tag, "cvat-unexpected-element",
                                        f"<{tag}> inside <{ptag}> is not part of the CVAT format; ignored")

    def _unknown(self, elems: Any) -> None:
        for other in elems:
            if isinstance(other.tag, str) and other.tag not in _KNOWN_CHILDREN:
                self.report.skip_unread(self.ref(other), other.tag, "cvat-unknown-element",
                                        f"<{other.tag}> is not a shape this reader knows; skipped")

    # -- images ------------------------------------------------------------------------------

    def _image_size(self, elem: etree._Element, name: str) -> tuple[int, int] | None:
        try:
            w, h = int(elem.get("width", "")), int(elem.get("height", ""))
        except ValueError:
            w = h = 0
        if max(w, h) > MAX_INT:
            raise InvalidFieldError(self.path, "width", f"or height beyond {MAX_INT:,} pixels",
                                    location=f"line {elem.sourceline}")
        if w > 0 and h > 0:
            return w, h
        for base in (self.images_dir, self.root / "images", self.root):
            if base is None:
                continue
            # the folder the user named (--images) is trusted; the export's own are confined
            confine = self.conf if base is not self.images_dir else Confinement(base, True)
            candidate = resolve_inside(base, name, source_file=self.path, location=f"line {elem.sourceline}",
                                       confine=confine)
            if candidate.is_file():
                return image_size(candidate)
        return None

    def _image_name(self, elem: etree._Element) -> tuple[str, str]:
        raw = elem.get("name")
        if not raw:
            raise ParseError(self.path, "<image> has no 'name'", location=f"line {elem.sourceline}")
        name = clean_relative(raw, source_file=self.path, location=f"line {elem.sourceline}")
        subset = elem.get("subset")
        return name, (f"{clean_relative(subset, source_file=self.path)}/{name}" if subset else name)

    def _image_child(self, elem: etree._Element, image: etree._Element) -> None:
        st = self.image
        st.count += 1
        key = str(st.count)
        label = elem.get("label") or ""
        source = self.ref(elem, annotation_id=f"{image.get('id', '?')}/{key}")
        kind = KIND_OF.get(elem.tag, elem.tag)
        if elem.tag == "tag":
            if not label:
                self.report.skip_unread(source, Kind.CHECKLIST, "cvat-empty-label", "tag without a label; skipped")
                return
            cls = self.classifications(elem, label, source=source, kind=Kind.CHECKLIST)
            st.tags.append((label, cls, source))
            return
        if elem.tag == "cuboid":
            self.report.skip_unread(source, "cuboid", "cvat-cuboid-unsupported",
                                    "Labelbox has no cuboid tool for images; skipped")
            return
        if elem.tag == "skeleton":
            self._skeleton(elem, label, key, source)
            return
        if not label:
            self.report.skip_unread(source, kind, "cvat-empty-label", f"<{elem.tag}> with label=\"\"; skipped")
            return
        name = image.get("name", "")
        size = self._image_size(image, name)
        conv = convert_shape(elem, path=self.path, source=source, report=self.report, size=size,
                             ellipse=self.o.ellipse, rotated_box=self.o.rotated_box)
        if not conv.shapes:
            return
        cls = self.classifications(elem, label, source=source, kind=kind)
        group = elem.get("group_id")
        for i, shape in enumerate(conv.shapes):
            st.anns.append(Annotation(
                key=key if len(conv.shapes) == 1 else f"{key}#{i}", source=source, label=label, shape=shape,
                classifications=cls, group=group if group and group != "0" else None,
            ))

    def _skeleton(self, elem: etree._Element, label: str, key: str, source: SourceRef) -> None:
        nodes, self.image.nodes = self.image.nodes, []
        if not label:
            for _ in nodes:
                self.report.skip_unread(source, Kind.POINT, "cvat-empty-label", "skeleton with label=\"\"; skipped")
            return
        sk_flags = self.flags(elem, source, Kind.POINT)
        for node, pairs in nodes:
            nlabel = node.attrib.get("label") or ""
            nsource = SourceRef(file=self.file, line=node.line, element="<points>", annotation_id=f"{source.annotation_id}/{nlabel}")
            if node.attrib.get("outside") == "1":
                self.report.tally("keypoint-absent")
                continue
            try:
                (x, y), *_ = parse_points(node.attrib.get("points"))
            except ValueError as exc:
                raise ParseError(self.path, f"<points>: {exc}", location=f"line {node.line}") from None
            cls = list(self.classifications(None, nlabel, label, pairs=pairs, source=nsource, kind=Kind.POINT))
            if node.attrib.get("occluded") == "1":
                cls.append(Classification.radio("visibility", "occluded"))
            cls.extend(c for c in sk_flags if c.name != "occluded")
            self.image.anns.append(Annotation(
                key=f"{key}/{nlabel}", source=nsource, label=self.keypoint_name(label, nlabel),
                shape=Point(x=x, y=y), classifications=tuple(cls),
            ))

    def _tags_annotation(self, tags: list[tuple[str, tuple[Classification, ...], SourceRef]]) -> list[Annotation]:
        if not tags:
            return []
        answers: dict[str, Answer] = {}
        for label, cls, source in tags:
            if label in answers:
                self.report.skip_unread(source, Kind.CHECKLIST, "cvat-duplicate-tag",
                                        f"tag {label!r} is given twice on this image; kept once")
                continue
            answers[label] = Answer(name=label, classifications=cls)
        tag_list = Classification(name="tags", kind=ClassificationKind.CHECKLIST, answers=tuple(answers.values()))
        return [Annotation(key="tags", source=tags[0][2], classification=tag_list)]

    def _image(self, elem: etree._Element) -> Asset | None:
        st, self.image = self.image, _ImageState()
        name, asset_name = self._image_name(elem)
        task_id = elem.get("task_id")
        ident = (elem.get("subset") or task_id or "", name)
        if ident in self.seen_images:
            raise ParseError(self.path, f"image {asset_name!r} is listed twice", location=f"line {elem.sourceline}")
        self.seen_images.add(ident)
        size = self._image_size(elem, asset_name if (self.root / "images" / asset_name).is_file() else name)
        task = self.meta.task_for(task_id)
        anns = [*st.anns, *self._tags_annotation(st.tags)]
        return Asset(
            name=asset_name, media=Media.IMAGE, source=SourceRef(file=self.file, line=elem.sourceline, element="<image>"),
            annotations=tuple(anns), width=size[0] if size else None, height=size[1] if size else None,
            dataset=self.root.name,
            fields={"subset": elem.get("subset") or (task.subset if task else "") or "", "task": task_id or (task.id if task else ""),
                    "task_name": task.name if task else "", "index": elem.get("id", ""), "frame": elem.get("id", "")},
        )

    # -- tracks ------------------------------------------------------------------------------

    def _builder(self, track: etree._Element) -> TrackBuilder:
        key = id(track)
        if key not in self.tracks:
            self.tracks[key] = TrackBuilder(self, track)
        return self.tracks[key]

    def _track_end(self, elem: etree._Element, parent: etree._Element | None) -> None:
        builder = self.tracks.pop(id(elem), None) or TrackBuilder(self, elem)
        if parent is not None and parent.tag == "track":
            self._builder(parent).nodes.append(builder)
        else:
            self.video.track(builder)

    def _finish(self) -> Iterator[Asset]:
        frame_assets = self.video.finish()
        if not self.buffer_images:
            yield from frame_assets
            return
        extra: dict[str, list[Any]] = defaultdict(list)
        for a in frame_assets:
            extra[a.fields.get("frame", "")].extend(a.annotations)
        for asset in self.buffered:
            more = extra.pop(asset.fields.get("frame", ""), [])
            yield Asset(**{**_asset_kwargs(asset), "annotations": (*asset.annotations, *more)}) if more else asset
        for a in frame_assets:
            if a.fields.get("frame", "") in extra:
                yield a

    def frame_image_name(self, frame: int) -> str:
        stem = self.o.frame_name.format(frame=frame)
        for base in (self.images_dir, self.root / "images"):
            if base is not None:
                for ext in IMAGE_SUFFIXES:
                    if (base / (stem + ext)).is_file():
                        return stem + ext
        return stem + ".png"


def _asset_kwargs(asset: Asset) -> dict[str, Any]:
    return {f: getattr(asset, f) for f in Asset.__dataclass_fields__}


@dataclass(frozen=True, slots=True)
class _Detached:
    """What a skeleton node element said, kept after the parser frees the element."""

    attrib: dict[str, str]
    line: int | None

    @classmethod
    def of(cls, elem: etree._Element) -> _Detached:
        return cls(dict(elem.attrib), elem.sourceline)
