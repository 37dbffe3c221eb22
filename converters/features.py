"""The features a stream of assets needs, decided as the writer decides, without building rows.

``lbconvert ontology`` (and :func:`converters.derive_ontology`) wants the ontology a
conversion would write, not the rows: running a whole conversion for it decoded and encoded
every mask and built every payload only to throw them away. :func:`register_features` walks
the same decisions :class:`~converters.assembly.AssetConverter` takes before a row exists (the
form check, the import matrix for the mode and media, the tool for each class and kind, the
classification trees with their answers) and asks the ontology for each feature in the same
order, so the derived ontology (names, order, colours) equals the one ``convert
--write-ontology`` writes.

Geometry repair is part of those decisions (it is geometry, not payloads): a polygon with
holes becomes a mask (another tool), a box wholly outside its image reaches no tool. Plain
polygons are checked in vectorised batches as the writer does (:func:`geometry.valid_polygons`);
only the others go through :func:`geometry.fix_shape`. Masks are checked (RLE area), never
decoded or encoded. A test compares the two outputs on every fixture.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from . import geometry
from ._iter import batches
from .errors import MappingError
from .matrix import Mode, why_not
from .model import (
    Annotation,
    AnyAnnotation,
    Asset,
    DocumentEntity,
    Entity,
    Media,
    PageBox,
    Polygon,
    Relationship,
    Shape,
    VideoObject,
    shape_kind,
)
from .ontology import Ontology
from .payloads import form_problem, geo_problem

__all__ = ["FeatureCount", "register_features"]


@dataclass(slots=True)
class FeatureCount:
    """What a derivation looked at (for the command's one-line summary)."""

    assets: int = 0
    annotations: int = 0
    used: int = 0


def register_features(
    assets: Iterable[Asset], ontology: Ontology, *, mode: Mode, media: Media | None = None,
    on_unmapped: str = "error", geometry_options: geometry.GeometryOptions | None = None,
) -> FeatureCount:
    """Ask ``ontology`` for every feature the rows of ``assets`` would use, in row order.

    ``media``, when given, must be every asset's media (the writer's check, same message).

    Raises:
        MappingError: a source classification clashes with the ontology (named with the
            annotation it came from), unless ``on_unmapped`` is ``"skip"``.
        OptionsError: an asset of another media than ``media``.
    """
    from .errors import OptionsError

    count = FeatureCount()
    repair = _Repair(geometry_options or geometry.GeometryOptions())
    for batch in batches(assets, 128):
        repair.prevalidate(batch)
        for asset in batch:
            count.assets += 1
            if media is not None and asset.media is not media:
                raise OptionsError(
                    f"{{media}} {media.value}: the source gives {asset.media.value} data rows "
                    f"({asset.name!r}); it cannot produce {media.value}",
                    fields=("media",),
                )
            for ann in asset.annotations:
                count.annotations += 1
                try:
                    count.used += _register(ontology, asset, ann, mode, repair)
                except MappingError as exc:
                    if on_unmapped != "skip":
                        raise MappingError(f"{ann.source}: {exc}") from None
    return count


class _Repair:
    """The shapes a conversion would write for one annotation's shape, as the writer repairs."""

    def __init__(self, options: geometry.GeometryOptions) -> None:
        self.options = options
        self._valid: set[int] = set()

    def prevalidate(self, assets: list[Asset]) -> None:
        items = [
            (ann.shape, asset.width, asset.height)
            for asset in assets
            if asset.media is not Media.GEOSPATIAL
            for ann in asset.annotations
            if isinstance(ann, Annotation) and type(ann.shape) is Polygon
        ]
        flags = geometry.valid_polygons(items) if items else []
        self._valid = {id(item[0]) for item, ok in zip(items, flags) if ok}

    def shapes(self, asset: Asset, shape: Shape) -> tuple[Shape, ...]:
        if isinstance(shape, (Entity, PageBox, DocumentEntity)) or id(shape) in self._valid:
            return (shape,)
        geo = asset.media is Media.GEOSPATIAL  # degrees: no image to clip to
        return geometry.fix_shape(shape, width=None if geo else asset.width, height=None if geo else asset.height,
                                  options=self.options).shapes




def _register(ontology: Ontology, asset: Asset, ann: AnyAnnotation, mode: Mode, repair: _Repair) -> int:
    """1 when ``ann`` would reach the ontology in a conversion (and did here), else 0."""
    media = asset.media
    if isinstance(ann, Relationship) or form_problem(ann, media) is not None:
        return 0
    if isinstance(ann, VideoObject):
        if why_not(ann.kind, media, mode) is not None:
            return 0
        tool = ontology.tool_for(ann.label, ann.kind)
        for seg in ann.segments:
            for kf in seg.keyframes:
                for c in kf.classifications:
                    ontology.classification_for(c, parent=tool)
        return 1
    if ann.classification is not None:
        cls = ann.classification
        if why_not(ann.kind, media, mode) is not None:
            return 0
        scoped = bool(cls.frames or cls.times_ms or cls.message_id is not None)
        ontology.classification_for(cls, scope="index" if scoped else "global")
        return 1
    assert ann.shape is not None and ann.label is not None
    used = 0
    for shape in repair.shapes(asset, ann.shape):
        kind = shape_kind(shape)
        if why_not(kind, media, mode) is not None:
            continue
        if media is Media.GEOSPATIAL and geo_problem(shape) is not None:
            continue
        tool = ontology.tool_for(ann.label, kind)
        for c in ann.classifications:
            ontology.classification_for(c, parent=tool)
        used = 1
    return used
