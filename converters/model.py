"""The intermediate model every reader produces and the writer consumes.

Conventions (the same for every format, converted once at each reader's edge):

* Image coordinates are absolute pixels, continuous, origin at the image's top-left
  *corner*: pixel (col i, row j) covers ``[i, i+1) x [j, j+1)``; x grows right, y down::

      (0,0) ──────────── x ──▶
        │   ┌──────────┐
        │   │  Box     │  x_min,y_min = top-left corner
        y   │          │  x_max,y_max = bottom-right corner
        │   └──────────┘
        ▼

* Text offsets are Unicode code points, ``start`` inclusive and ``end`` exclusive (Python
  slicing); the writer turns them into Labelbox's inclusive end.
* Video frames are 1-based Labelbox frame numbers (readers convert).
* Geospatial assets (tiled imagery, EPSG:4326) use the same shapes with ``x`` = longitude
  and ``y`` = latitude in degrees, ``y`` growing *north*: a :class:`Box` is
  ``x_min`` = west, ``x_max`` = east, ``y_min`` = south, ``y_max`` = north. Nothing is
  clipped to a pixel size (a geospatial asset has none).
* Documents (PDF): boxes are :class:`PageBox` (a page and a unit); entities are
  :class:`DocumentEntity`, token ids of the data row's text layer (Labelbox creates them
  when the PDF is added, so the caller supplies them: they cannot be derived from text).
* Audio: a classification's ``times_ms`` are inclusive millisecond ranges.
* Conversational text: entities and classifications name their message (``message_id``);
  a classification without one is global to the conversation.
* DICOM: :class:`VideoObject` tracks with a ``group_key`` (the view), of polylines or masks.

The classes are frozen, slotted value types with no I/O and no format knowledge. A mask
keeps its pixels lazily (RLE or a loader) so a dataset's masks are never all in memory.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = [
    "XY",
    "Annotation",
    "Answer",
    "Asset",
    "Box",
    "Classification",
    "ClassificationKind",
    "DocumentEntity",
    "Entity",
    "GroupKey",
    "Keyframe",
    "Kind",
    "Mask",
    "Media",
    "MultiPolygon",
    "PageBox",
    "Point",
    "Polygon",
    "Polyline",
    "Relationship",
    "Segment",
    "Shape",
    "SourceRef",
    "TextSelection",
    "Unit",
    "VideoObject",
    "below_min_score",
    "min_score_reason",
]

XY = tuple[float, float]


class Media(str, enum.Enum):
    """Labelbox media types (the columns of the import matrix)."""

    IMAGE = "image"
    VIDEO = "video"
    TEXT = "text"
    DOCUMENT = "document"
    GEOSPATIAL = "geospatial"
    AUDIO = "audio"
    CONVERSATIONAL = "conversational"
    DICOM = "dicom"


class Kind(str, enum.Enum):
    """Annotation kinds (the rows of the import matrix, and the report's counting unit)."""

    BBOX = "bbox"
    POLYGON = "polygon"
    POINT = "point"
    POLYLINE = "polyline"
    MASK = "mask"
    ENTITY = "entity"
    RADIO = "radio"
    CHECKLIST = "checklist"
    TEXT = "text"
    RELATIONSHIP = "relationship"


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceRef:
    """Where something came from: the file and the place inside it.

    ``annotation_id`` is the source's own id when it has one (COCO annotation id, CVAT
    shape index); ``line`` a 1-based line number; ``element`` an XML path or JSON pointer.
    """

    file: str
    line: int | None = None
    element: str | None = None
    annotation_id: str | None = None
    frame: int | None = None

    def __str__(self) -> str:
        parts = [self.file]
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.element:
            parts.append(self.element)
        if self.annotation_id is not None:
            parts.append(f"annotation {self.annotation_id}")
        if self.frame is not None:
            parts.append(f"frame {self.frame}")
        return ", ".join(parts)

    def location(self) -> str:
        """Everything but the file, for error messages that name the file separately."""
        return ", ".join(str(self).split(", ")[1:])


def _check_finite(*values: float) -> None:
    for value in values:
        if not math.isfinite(value):
            raise ValueError(f"coordinate is not a finite number: {value!r}")


# --------------------------------------------------------------------------- shapes


@dataclass(frozen=True, slots=True, kw_only=True)
class Box:
    """Axis-aligned box by its corners. May be inverted or outside the image: the
    geometry stage repairs and reports that, so readers keep what the source says."""

    x_min: float
    y_min: float
    x_max: float
    y_max: float

    def __post_init__(self) -> None:
        _check_finite(self.x_min, self.y_min, self.x_max, self.y_max)

    @classmethod
    def from_xywh(cls, x: float, y: float, width: float, height: float) -> Box:
        """From the top-left corner and size (COCO ``bbox``, Labelbox ``left/top``)."""
        return cls(x_min=x, y_min=y, x_max=x + width, y_max=y + height)

    @property
    def width(self) -> float:
        return self.x_max - self.x_min

    @property
    def height(self) -> float:
        return self.y_max - self.y_min


@dataclass(frozen=True, slots=True, kw_only=True)
class Point:
    """A single point."""

    x: float
    y: float

    def __post_init__(self) -> None:
        _check_finite(self.x, self.y)


@dataclass(frozen=True, slots=True, kw_only=True)
class Polyline:
    """An open line through two or more points."""

    points: tuple[XY, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Polygon:
    """A simple polygon: one exterior ring and optional holes, each an unclosed ring
    (the first point is not repeated at the end; the geometry stage removes it if a
    source repeats it)."""

    exterior: tuple[XY, ...]
    holes: tuple[tuple[XY, ...], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class MultiPolygon:
    """Several polygons that are one object (COCO multi-part segmentation)."""

    polygons: tuple[Polygon, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Mask:
    """A binary mask of one instance, the size of its image, held lazily.

    Exactly one pixel source is set:

    * ``rle``: COCO-style RLE ``{"size": [h, w], "counts": str | list[int]}``
      (column-major, first run counts zeros); decoded by :mod:`converters.masks`.
    * ``load``: a callable returning a ``(height, width)`` array of 0/1 (or bool),
      for sources whose pixels come from a PNG or another encoding. It is called when
      the writer needs the pixels and its result is not kept.

    Equality compares the size and the RLE, never arrays.
    """

    width: int
    height: int
    rle: Mapping[str, Any] | None = None
    load: Callable[[], np.ndarray] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"mask size must be positive, got {self.width}x{self.height}")
        if (self.rle is None) == (self.load is None):
            raise ValueError("a Mask needs exactly one of rle= or load=")


@dataclass(frozen=True, slots=True, kw_only=True)
class Entity:
    """A text span: code-point offsets, ``start`` inclusive, ``end`` exclusive."""

    start: int
    end: int
    message_id: str | None = None

    def __post_init__(self) -> None:
        if self.start < 0 or self.end < self.start:
            raise ValueError(f"invalid span [{self.start}, {self.end})")


class Unit(str, enum.Enum):
    """The unit of a document box's coordinates (Labelbox ``RectangleUnit``)."""

    POINTS = "POINTS"
    PIXELS = "PIXELS"
    INCHES = "INCHES"
    PERCENT = "PERCENT"


@dataclass(frozen=True, slots=True, kw_only=True)
class PageBox:
    """A box on one page of a document: corners as :class:`Box`, in ``unit`` from the page's
    top-left corner; ``page`` is 1-based (Labelbox's round trip shows page 1 as the first)."""

    x_min: float
    y_min: float
    x_max: float
    y_max: float
    page: int
    unit: Unit = Unit.POINTS

    def __post_init__(self) -> None:
        _check_finite(self.x_min, self.y_min, self.x_max, self.y_max)
        if self.page < 1:
            raise ValueError(f"document pages are 1-based, got page {self.page}")
        object.__setattr__(self, "unit", Unit(self.unit))


@dataclass(frozen=True, slots=True, kw_only=True)
class TextSelection:
    """Tokens of one group on one page of a document's text layer (ids from Labelbox)."""

    token_ids: tuple[str, ...]
    group_id: str
    page: int

    def __post_init__(self) -> None:
        if not self.token_ids or not all(self.token_ids):
            raise ValueError("a text selection needs at least one token id, none empty")
        if not self.group_id:
            raise ValueError("a text selection needs its group id")
        if self.page < 1:
            raise ValueError(f"document pages are 1-based, got page {self.page}")


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentEntity:
    """A named entity of a document: one or more text selections."""

    selections: tuple[TextSelection, ...]

    def __post_init__(self) -> None:
        if not self.selections:
            raise ValueError("a document entity needs at least one text selection")


Shape = Union[Box, Point, Polyline, Polygon, MultiPolygon, Mask, Entity, PageBox, DocumentEntity]


# --------------------------------------------------------------------------- classifications


class ClassificationKind(str, enum.Enum):
    """The three Labelbox classification types."""

    RADIO = "radio"
    CHECKLIST = "checklist"
    TEXT = "text"


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """One chosen option of a radio or checklist; may carry nested classifications."""

    name: str
    confidence: float | None = None
    classifications: tuple[Classification, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Classification:
    """A radio, checklist or free-text answer, global or nested on an object.

    ``answers`` holds one Answer for a radio, any number (>= 1) for a checklist and none for
    free text, whose answer is ``text``. ``frames`` restricts a video classification to
    inclusive 1-based frame ranges; ``times_ms`` an audio classification to inclusive
    millisecond ranges; ``message_id`` scopes a conversational classification to a message.
    """

    name: str
    kind: ClassificationKind
    answers: tuple[Answer, ...] = ()
    text: str | None = None
    confidence: float | None = None
    frames: tuple[tuple[int, int], ...] = ()
    times_ms: tuple[tuple[int, int], ...] = ()
    message_id: str | None = None

    def __post_init__(self) -> None:
        for what, ranges, first in (("frames", self.frames, 1), ("times_ms", self.times_ms, 0)):
            for start, end in ranges:
                if not first <= start <= end:
                    raise ValueError(f"{self.name!r}: {what} range ({start}, {end}) must have {first} <= start <= end")
        if self.frames and self.times_ms:
            raise ValueError(f"{self.name!r}: frames (video) or times_ms (audio), not both")
        if self.kind is ClassificationKind.TEXT:
            if self.text is None or self.answers:
                raise ValueError(f"free-text classification {self.name!r} needs text, no answers")
        elif self.kind is ClassificationKind.RADIO and len(self.answers) != 1:
            raise ValueError(f"radio {self.name!r} needs exactly one answer")
        elif self.kind is ClassificationKind.CHECKLIST and not self.answers:
            raise ValueError(f"checklist {self.name!r} needs at least one answer")

    @classmethod
    def radio(cls, name: str, answer: str, **kw: Any) -> Classification:
        return cls(name=name, kind=ClassificationKind.RADIO, answers=(Answer(name=answer),), **kw)

    @classmethod
    def checklist(cls, name: str, answers: tuple[str, ...] | list[str], **kw: Any) -> Classification:
        return cls(
            name=name,
            kind=ClassificationKind.CHECKLIST,
            answers=tuple(Answer(name=a) for a in answers),
            **kw,
        )

    @classmethod
    def free_text(cls, name: str, text: str, **kw: Any) -> Classification:
        return cls(name=name, kind=ClassificationKind.TEXT, text=text, **kw)


# --------------------------------------------------------------------------- annotations


def below_min_score(confidence: float | None, min_score: float | None) -> bool:
    """The one ``--min-score`` rule: a score below the threshold drops the annotation; no
    threshold, or no score, keeps it. Readers that drop predictions early (before building
    them: a results file is mostly low scores) and the writer both ask this."""
    return min_score is not None and confidence is not None and confidence < min_score


def min_score_reason(confidence: float, min_score: float) -> tuple[str, str]:
    """The report's (code, sentence) for an annotation :func:`below_min_score` drops."""
    return ("below-min-score", f"score {confidence:g} < --min-score {min_score:g}")


def _check_confidence(confidence: float | None) -> None:
    if confidence is not None and not 0.0 <= confidence <= 1.0:
        raise ValueError(f"confidence must be within [0, 1], got {confidence!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Annotation:
    """One source annotation on one asset.

    Either ``shape`` is set (an object: box, polygon, point, line, mask, entity) and
    ``label`` names its class, or ``classification`` is set (a global classification of the
    asset, such as an image tag). ``key`` identifies the annotation within its asset and
    feeds the deterministic uuid; readers build it from the source's own ids.
    """

    key: str
    source: SourceRef
    label: str | None = None
    shape: Shape | None = None
    classification: Classification | None = None
    classifications: tuple[Classification, ...] = ()
    confidence: float | None = None
    group: str | None = None

    def __post_init__(self) -> None:
        if (self.shape is None) == (self.classification is None):
            raise ValueError("an Annotation is an object (shape=) or a classification, not both")
        if self.shape is not None and not self.label:
            raise ValueError("an object annotation needs a label")
        _check_confidence(self.confidence)

    @property
    def kind(self) -> Kind:
        """The import-matrix kind of this annotation as the source gave it."""
        if self.classification is not None:
            return Kind(self.classification.kind.value)
        return shape_kind(self.shape)


_SHAPE_KINDS: dict[type, Kind] = {
    Box: Kind.BBOX,
    Point: Kind.POINT,
    Polyline: Kind.POLYLINE,
    Polygon: Kind.POLYGON,
    MultiPolygon: Kind.POLYGON,
    Mask: Kind.MASK,
    Entity: Kind.ENTITY,
    PageBox: Kind.BBOX,
    DocumentEntity: Kind.ENTITY,
}


def shape_kind(shape: object) -> Kind:
    """The matrix kind of a shape."""
    return _SHAPE_KINDS[type(shape)]


class GroupKey(str, enum.Enum):
    """The DICOM view a track is drawn in."""

    AXIAL = "axial"
    SAGITTAL = "sagittal"
    CORONAL = "coronal"


@dataclass(frozen=True, slots=True, kw_only=True)
class Keyframe:
    """One keyframe of a video track: a 1-based frame and the shape there."""

    frame: int
    shape: Box | Point | Polyline | Polygon | Mask
    classifications: tuple[Classification, ...] = ()

    def __post_init__(self) -> None:
        if self.frame < 1:
            raise ValueError(f"Labelbox frames are 1-based, got {self.frame}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Segment:
    """A continuous span of a track, from its first to its last keyframe."""

    keyframes: tuple[Keyframe, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class VideoObject:
    """A tracked object on a video: segments of keyframes (one Labelbox row per track).

    ``frames_read`` is how many source frames the track covered, for the report: a track is
    one annotation but the report also says how many source frames it accounted for.
    ``group_key`` is the DICOM view the track is drawn in (DICOM tracks need one).
    """

    key: str
    source: SourceRef
    label: str
    segments: tuple[Segment, ...]
    confidence: float | None = None
    frames_read: int = 0
    group_key: GroupKey | None = None

    def __post_init__(self) -> None:
        if not self.segments or not all(seg.keyframes for seg in self.segments):
            raise ValueError(f"track {self.key!r} needs segments of at least one keyframe each")
        if self.group_key is not None:
            object.__setattr__(self, "group_key", GroupKey(self.group_key))

    @property
    def kind(self) -> Kind:
        return shape_kind(self.segments[0].keyframes[0].shape)


@dataclass(frozen=True, slots=True, kw_only=True)
class Relationship:
    """A directed or undirected relation between two object annotations of one asset."""

    key: str
    source: SourceRef
    label: str
    from_key: str
    to_key: str
    directed: bool = True

    @property
    def kind(self) -> Kind:
        return Kind.RELATIONSHIP


AnyAnnotation = Union[Annotation, VideoObject, Relationship]


@dataclass(frozen=True, slots=True, kw_only=True)
class Asset:
    """One data row to be: an image, a video, or a text document, with its annotations.

    ``name`` is the asset's path relative to its dataset root as the source names it
    (``train/a.jpg``), used for data row keys. ``fields`` adds template fields for
    ``--global-key`` (``subset``, ``task``, ``index`` ...). ``global_key`` is a key the
    source itself states (spaCy ``user_data``); a user template still wins over it.
    """

    name: str
    media: Media
    source: SourceRef
    annotations: tuple[AnyAnnotation, ...] = ()
    width: int | None = None
    height: int | None = None
    text: str | None = None
    dataset: str = ""
    global_key: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (self.width is None) != (self.height is None):
            raise ValueError("an asset has both width and height or neither")
        if self.width is not None and (self.width <= 0 or self.height <= 0):  # type: ignore[operator]
            raise ValueError(f"image size must be positive, got {self.width}x{self.height}")
