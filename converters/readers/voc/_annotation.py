"""Parse one Pascal VOC annotation XML into plain records, coordinates as written.

The reader decides the coordinate convention (1-based devkit or 0-based) for the whole
dataset, so this module keeps the numbers exactly as the file states them and only checks
that they are finite numbers. Everything goes through the one safe XML parser
(:mod:`._xml`): entities, DTDs and the network are refused there.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from ...errors import InvalidFieldError, MissingFieldError, ParseError
from .._xml import child_text, location, parse_xml

__all__ = ["VocFile", "VocObject", "VocPart", "parse_bool", "parse_voc_file", "has_zero_coordinate"]

RawBox = tuple[float, float, float, float]  # xmin, ymin, xmax, ymax as written

_TRUE = {"1", "true", "yes", "1.0"}
_FALSE = {"0", "false", "no", "0.0"}
_XY_CHILD = re.compile(r"^([xy])(\d+)$")
#: A 0 in a min/max corner or a polygon vertex: impossible in the 1-based devkit convention.
_ZERO = re.compile(
    rb"<(?:xmin|ymin|xmax|ymax|[xy]\d*)>\s*[+-]?0+(?:\.0*)?\s*</", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class VocPart:
    """A ``<part>`` of an object (person layout: head, hand, foot) with its own box."""

    index: int  # 1-based, in document order
    name: str
    box: RawBox | None
    line: int | None


@dataclass(frozen=True, slots=True)
class VocObject:
    """One ``<object>``: its class, geometry as written and its flags and attributes."""

    index: int  # 1-based, in document order (the SegmentationObject instance number)
    name: str
    line: int | None
    box: RawBox | None
    polygon: tuple[tuple[float, float], ...] | None
    parts: tuple[VocPart, ...]
    difficult: bool
    truncated: bool | None
    occluded: bool | None
    pose: str | None
    actions: tuple[str, ...]  # the actions flagged 1, in document order
    has_action_point: bool
    attributes: tuple[tuple[str, str], ...]  # datumaro/CVAT <attributes>, as (name, value)


@dataclass(frozen=True, slots=True)
class VocFile:
    """One annotation file: the image it names, its declared size, its objects."""

    path: Path
    filename: str | None
    width: int | None  # None when <size> is absent, empty or 0
    height: int | None
    objects: tuple[VocObject, ...]


def has_zero_coordinate(path: Path) -> bool:
    """Whether a VOC XML has a coordinate of exactly 0 (proof of a 0-based writer).

    A byte scan, not a parse: it runs over every file of a dataset before reading, so it
    must be cheap, and it never interprets the document (no entity can be expanded).
    """
    try:
        return _ZERO.search(path.read_bytes()) is not None
    except OSError:
        return False


def parse_bool(text: str | None, *, path: Path, field: str, elem: etree._Element) -> bool | None:
    """VOC flags are 0/1, sometimes true/false; None when absent."""
    if text is None:
        return None
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InvalidFieldError(path, field, f"must be 0/1 or true/false, got {text!r}", location=location(elem))


def _number(elem: etree._Element, name: str, path: Path) -> float:
    child = elem.find(name)
    if child is None or child.text is None or not child.text.strip():
        raise MissingFieldError(path, f"<{name}>", location=location(elem))
    try:
        value = float(child.text.strip())
    except ValueError:
        raise InvalidFieldError(
            path, name, f"must be a number, got {child.text.strip()!r}", location=location(child)
        ) from None
    if not math.isfinite(value):
        raise InvalidFieldError(path, name, f"must be a finite number, got {child.text.strip()!r}", location=location(child))
    return value


def _box(elem: etree._Element, path: Path) -> RawBox | None:
    bnd = elem.find("bndbox")
    if bnd is None:
        return None
    return tuple(_number(bnd, n, path) for n in ("xmin", "ymin", "xmax", "ymax"))  # type: ignore[return-value]


def _polygon(elem: etree._Element, path: Path) -> tuple[tuple[float, float], ...] | None:
    """``<polygon>`` as Roboflow writes it (``x1,y1,x2,y2...``) or as ``<pt>``/``<point>`` children."""
    poly = elem.find("polygon")
    if poly is None:
        return None
    children = [c for c in poly if isinstance(c.tag, str)]
    pts = [c for c in children if c.tag in ("pt", "point")]
    if pts:
        return tuple((_number(p, "x", path), _number(p, "y", path)) for p in pts)
    coords: dict[int, dict[str, float]] = {}
    for c in children:
        m = _XY_CHILD.match(c.tag)
        if m is None:
            raise InvalidFieldError(path, "polygon", f"unexpected child <{c.tag}>", location=location(c))
        coords.setdefault(int(m.group(2)), {})[m.group(1)] = _number(poly, c.tag, path)
    out = []
    for i in sorted(coords):
        if set(coords[i]) != {"x", "y"}:
            raise InvalidFieldError(path, "polygon", f"vertex {i} lacks x{i} or y{i}", location=location(poly))
        out.append((coords[i]["x"], coords[i]["y"]))
    return tuple(out)


def _name(elem: etree._Element, path: Path) -> str:
    name = child_text(elem, "name", path)
    if name is None:
        raise MissingFieldError(path, "<name>", location=location(elem))
    return name


def _object(elem: etree._Element, index: int, path: Path) -> VocObject:
    name = _name(elem, path)
    parts = tuple(
        VocPart(index=j, name=_name(p, path), box=_box(p, path), line=p.sourceline)
        for j, p in enumerate(elem.findall("part"), start=1)
    )
    actions: list[str] = []
    has_point = elem.find("point") is not None
    acts = elem.find("actions")
    if acts is not None:
        for a in acts:
            if isinstance(a.tag, str) and parse_bool(a.text or "0", path=path, field=f"actions/{a.tag}", elem=a):
                actions.append(a.tag)
    attributes: list[tuple[str, str]] = []
    attrs = elem.find("attributes")
    if attrs is not None:
        for a in attrs.findall("attribute"):
            attr_name = child_text(a, "name", path)
            if attr_name is None:
                raise MissingFieldError(path, "<attribute><name>", location=location(a))
            attributes.append((attr_name, child_text(a, "value", path, default="") or ""))
    difficult = parse_bool(child_text(elem, "difficult", path), path=path, field="difficult", elem=elem)
    return VocObject(
        index=index,
        name=name,
        line=elem.sourceline,
        box=_box(elem, path),
        polygon=_polygon(elem, path),
        parts=parts,
        difficult=bool(difficult),
        truncated=parse_bool(child_text(elem, "truncated", path), path=path, field="truncated", elem=elem),
        occluded=parse_bool(child_text(elem, "occluded", path), path=path, field="occluded", elem=elem),
        pose=child_text(elem, "pose", path),
        actions=tuple(actions),
        has_action_point=has_point,
        attributes=tuple(attributes),
    )


def _size(root: etree._Element, path: Path) -> tuple[int | None, int | None]:
    size = root.find("size")
    if size is None:
        return None, None
    dims = []
    for n in ("width", "height"):
        text = child_text(size, n, path)
        if text is None:
            return None, None
        try:
            value = float(text)
        except ValueError:
            raise InvalidFieldError(path, f"size/{n}", f"must be a number, got {text!r}", location=location(size)) from None
        if not math.isfinite(value) or value < 0 or value != int(value):
            raise InvalidFieldError(path, f"size/{n}", f"must be a whole number >= 0, got {text!r}", location=location(size))
        dims.append(int(value))
    if dims[0] == 0 or dims[1] == 0:
        return None, None
    return dims[0], dims[1]


def parse_voc_file(path: Path, *, strict: bool = True) -> VocFile | None:
    """Parse one VOC annotation file.

    Raises:
        UnsafeInputError: entities or an external DTD (from the shared parser).
        ParseError: malformed XML, a root other than ``<annotation>`` (``strict``; else
            None is returned), or a bad field, naming the file and line.
    """
    root = parse_xml(path).getroot()
    if root.tag != "annotation" and not strict:
        return None  # an unrelated XML in a relaxed folder
    if root.tag != "annotation":
        raise ParseError(path, f"root element is <{root.tag}>, not a Pascal VOC <annotation>", location=location(root))
    width, height = _size(root, path)
    objects = tuple(_object(o, i, path) for i, o in enumerate(root.findall("object"), start=1))
    return VocFile(
        path=path,
        filename=child_text(root, "filename", path),
        width=width,
        height=height,
        objects=objects,
    )
