"""The shape kinds each VOC class will be read with, known before reading (``label_kinds``).

The ontology gives a class's plain tool name to the first of its declared kinds in a fixed
priority, so the names must not depend on which object of a dataset comes first. This pass
parses each annotation XML with the same safe parser as the reader but builds no model: per
``<object>``, its name and whether it has a ``<bndbox>`` / ``<polygon>`` (chosen as the reader
chooses, ``--voc-geometry`` and ``--voc-difficult drop`` included) and its parts' names.

Masks come from PNGs, and which classes a PNG holds is only known by decoding it. Decoding
every PNG twice is not cheap, so a mask is declared for every class a mask of the dataset
*can* have: the objects of items with a SegmentationObject PNG, and every class of the label
map when there are SegmentationClass PNGs. Declaring a mask that never comes is harmless
here: boxes and polygons rank before masks, and every class with a box or a polygon is
declared from its XML, so the extra mask never takes the plain name from one of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from lxml import etree

from ...model import Kind
from ._layout import VocDataset
from ._masks import LabelMap
from .._xml import child_text, parse_xml

__all__ = ["dataset_kinds"]

_TRUE = {"1", "true", "yes", "1.0"}


def dataset_kinds(
    ds: VocDataset, labelmap: LabelMap, *, geometry: str, drop_difficult: bool, masks: str
) -> dict[str, set[Kind]]:
    """Class name -> the kinds its annotations will have, for one dataset."""
    out: dict[str, set[Kind]] = {}
    mask_names: set[str] = set()
    class_pngs = False
    for item in ds.items:
        names = _xml_kinds(item.xml, out, geometry=geometry, drop_difficult=drop_difficult) if item.xml is not None else []
        if masks == "none":
            continue
        if item.seg_object is not None and (masks == "auto" or item.seg_class is None):
            mask_names.update(names)
        if item.seg_class is not None:
            class_pngs = True
    if class_pngs:
        bg = labelmap.background
        mask_names.update(n for i, n in enumerate(labelmap.names) if i != bg)
    for name in mask_names:
        out.setdefault(name, set()).add(Kind.MASK)
    return out


def _xml_kinds(path: Path, out: dict[str, set[Kind]], *, geometry: str, drop_difficult: bool) -> list[str]:
    """Add the kinds of one file's objects to ``out``; return the kept objects' names.

    Fields the reader would refuse are passed over (the reader names them when it gets
    there); an XML the parser refuses raises the same error reading would.
    """
    root = parse_xml(path).getroot()
    if root.tag != "annotation":
        return []  # an unrelated XML (relaxed folder) or one the reader refuses
    names: list[str] = []
    for obj in root.iterfind("object"):
        name = child_text(obj, "name", path)
        if name is None:
            continue
        if drop_difficult and (child_text(obj, "difficult", path) or "0").lower() in _TRUE:
            continue
        names.append(name)
        has_box, has_poly = obj.find("bndbox") is not None, obj.find("polygon") is not None
        kinds = out.setdefault(name, set())
        if has_box and (geometry != "auto" or not has_poly):
            kinds.add(Kind.BBOX)
        if has_poly and (geometry != "bbox" or not has_box):
            kinds.add(Kind.POLYGON)
        for part in _parts(obj, path):
            out.setdefault(f"{name} {part}", set()).add(Kind.BBOX)
    return names


def _parts(obj: etree._Element, path: Path) -> Iterable[str]:
    for part in obj.iterfind("part"):
        pname = child_text(part, "name", path)
        if pname is not None and part.find("bndbox") is not None:
            yield pname
