"""The shape kinds each CVAT label will be read with, known before reading (``label_kinds``).

The ontology gives a class's plain tool name to the first of its declared kinds in a fixed
priority, so the names must not depend on which shape of an export comes first.

CVAT says it in ``<meta>`` when it can: a label's ``<type>`` (``rectangle``, ``polygon``,
``polyline``, ``points``, ``ellipse``, ``mask``; a skeleton's nodes are points) is the kind
declared for it, and only that: two chunks of one project share the meta, so they declare
the same kinds whatever each chunk holds, even where a shape disagrees with its label's type
(a rotated ``rectangle`` written as a polygon, a box drawn with a ``points`` label: those
get the suffixed name in every chunk alike).

Labels typed ``any`` (the default of older CVAT), exports without label types, and labels
the meta does not list at all (real exports have them) are found by a pre-scan of the file
with the same streaming parser as the reader: only the shape elements' names, labels and
rotation are looked at, nothing is converted (measured at 5-25% of the read's time on the
fixtures). The scan always runs: only it can tell that a shape uses a label the meta lacks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from lxml import etree

from ...model import Kind, Media
from ._io import elements, scan
from ._meta import Meta, parse_meta



class CVATOptions(Protocol):
    """The fields of :class:`converters.readers.cvat.CVATOptions` the kinds depend on (a
    protocol, so this module does not import ``cvat``, which imports it: no cycle)."""

    @property
    def keypoint_name(self) -> str: ...
    @property
    def ellipse(self) -> str: ...
    @property
    def rotated_box(self) -> str: ...

__all__ = ["file_kinds"]

_SHAPES = ("box", "polygon", "polyline", "points", "ellipse", "mask")
_BY_TYPE = {"rectangle": Kind.BBOX, "polygon": Kind.POLYGON, "polyline": Kind.POLYLINE, "points": Kind.POINT,
            "mask": Kind.MASK}
#: Label types that give no shape row (a skeleton is written as its nodes, typed on their own).
_NO_SHAPE = {"tag", "cuboid", "skeleton"}


class _Kinds:
    """What one file declares: kinds per label, and the labels typed by the meta."""

    def __init__(self, options: CVATOptions, track_media: Media) -> None:
        self.o = options
        self.video = track_media is Media.VIDEO
        self.out: dict[str, set[Kind]] = {}
        self.typed: set[str] = set()

    def add(self, label: str, kind: Kind) -> None:
        if label:
            self.out.setdefault(label, set()).add(kind)

    def name(self, skeleton: str, point: str) -> str:
        return self.o.keypoint_name.format(skeleton=skeleton, point=point)

    def ellipse(self) -> Kind:
        return Kind.MASK if self.o.ellipse == "mask" and not self.video else Kind.POLYGON

    def from_meta(self, meta: Meta) -> None:
        """Declare the labels the meta types (the scan then passes over their shapes)."""
        for (parent, name), type_ in meta.label_types.items():
            if parent:  # a skeleton's node: always a point
                label, kind = self.name(parent, name), Kind.POINT
            elif type_ in _NO_SHAPE:
                continue  # no shape of its own; a shape drawn with it anyway is found by the scan
            elif type_ == "ellipse":
                label, kind = name, self.ellipse()
            elif type_ in _BY_TYPE:
                label, kind = name, _BY_TYPE[type_]
            else:
                continue  # "any", or a type this reader does not know: the scan finds its kinds
            self.typed.add(label)
            self.add(label, kind)

    def shape(self, elem: etree._Element, parent: etree._Element) -> None:
        """One shape element of the pre-scan, as the reader will read it."""
        tag = elem.tag
        if parent.tag == "skeleton":
            if tag != "points" or elem.get("outside") == "1":
                return  # an absent node is not written
            label = self.name(parent.get("label") or "", elem.get("label") or "")
        elif parent.tag == "track":
            label = parent.get("label") or ""
            outer = parent.getparent()
            if outer is not None and outer.tag == "track":
                label = self.name(outer.get("label") or "", label)
            if tag == "mask":
                return  # mask tracks are not carried (reported by the reader)
        elif parent.tag == "image":
            label = elem.get("label") or ""
        else:
            return
        if not label or label in self.typed:
            return
        if tag == "box":
            try:
                rotated = float(elem.get("rotation") or 0) % 360.0 != 0.0
            except ValueError:
                rotated = False  # the reader names the bad value
            in_video = parent.tag == "track" and self.video
            polygon = rotated and self.o.rotated_box == "polygon" and not in_video
            self.add(label, Kind.POLYGON if polygon else Kind.BBOX)
        elif tag == "ellipse":
            self.add(label, self.ellipse())
        else:
            self.add(label, {"polygon": Kind.POLYGON, "polyline": Kind.POLYLINE, "points": Kind.POINT,
                             "mask": Kind.MASK}[tag])


def file_kinds(path: Path, options: CVATOptions, media: Media | None) -> dict[str, set[Kind]]:
    """Label -> kinds of one CVAT XML file: from ``<meta>`` label types, else a pre-scan."""
    has_images, _ = scan(path)
    kinds = _Kinds(options, media or (Media.IMAGE if has_images else Media.VIDEO))
    # images, tracks and skeletons are streamed too, only so the parser frees them
    events = elements(path, ("meta", "image", "track", "skeleton", *_SHAPES))
    try:
        for elem in events:
            if elem.tag == "meta":
                kinds.from_meta(parse_meta(elem, path))
                continue
            parent = elem.getparent()
            if parent is not None and elem.tag in _SHAPES:
                kinds.shape(elem, parent)
    finally:
        events.close()
    return kinds.out
