"""Pascal VOC reader: detection XML (boxes, parts, polygons, flags, attributes) and
segmentation PNGs (one mask per instance, or per class).

SOURCE is a devkit tree (``Annotations/``, ``JPEGImages/``, ``Segmentation*/``,
``ImageSets/``), a ``VOCdevkit/`` folder holding several, a relaxed folder of XML files
next to their images, or one XML file (see :mod:`._layout`).

Coordinates: the devkit convention is 1-based inclusive pixel indices; many writers emit
0-based continuous values instead, and nothing in a file says which. ``--voc-origin``
chooses; its default ``auto`` reads 1-based unless a 0 coordinate somewhere in the dataset
proves a 0-based writer. The report's notes state the convention used and why.

Image sizes come from ``<size>``; when it is absent or 0, from the image header (never a
full decode), then from a mask PNG; an image with annotations and no size is an error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import ParseError
from ...model import Annotation, Asset, Classification, Kind, Media, SourceRef
from .._images import IMAGE_SUFFIXES, image_size
from .._paths import Confinement, clean_relative, resolve_inside
from ._build import BuildOptions, MaskInput, class_masks, instance_masks, nested, object_annotations
from ._kinds import dataset_kinds
from ._layout import VocDataset, VocItem, discover, looks_like_voc, read_image_labels
from ._masks import DEFAULT_LABELMAP, LabelMap, load_labelmap, png_size
from ._annotation import VocFile, has_zero_coordinate, parse_voc_file
from ..base import Reader, Shard, check_options, option

__all__ = ["VOCOptions", "VOCReader"]

_CHOICES = {
    "origin": ("auto", "1", "0"),
    "difficult": ("keep", "drop"),
    "geometry": ("auto", "bbox", "both"),
    "masks": ("auto", "class", "none"),
    "image_labels": ("tags", "none"),
}


@dataclass(frozen=True, slots=True)
class VOCOptions:
    """Options of the Pascal VOC reader."""

    origin: str = option(
        "auto",
        help="coordinate convention: 1 = devkit 1-based inclusive pixels (xmin-1, ymin-1; xmax, ymax kept), "
        "0 = 0-based continuous values taken as written, auto = 1 unless a 0 coordinate in the dataset proves 0",
        flag="--voc-origin",
        choices=_CHOICES["origin"],
    )
    difficult: str = option(
        "keep",
        help="objects flagged difficult: keep (with a nested 'difficult' radio true/false on every object) "
        "or drop (each one reported as voc-difficult-dropped)",
        flag="--voc-difficult",
        choices=_CHOICES["difficult"],
    )
    geometry: str = option(
        "auto",
        help="objects with both <bndbox> and <polygon>: auto (the polygon), bbox (the box), both",
        flag="--voc-geometry",
        choices=_CHOICES["geometry"],
    )
    masks: str = option(
        "auto",
        help="segmentation PNGs: auto (one mask per instance of SegmentationObject, else per class of "
        "SegmentationClass), class (per class even when instances exist), none (not read; noted)",
        flag="--voc-masks",
        choices=_CHOICES["masks"],
    )

    image_labels: str = option(
        "tags",
        help="ImageSets/Main/<label>_<subset>.txt image labels: tags (a label marked present on an image "
        "with no object of that label becomes an answer of the global 'tags' checklist) or none (not read)",
        flag="--voc-image-labels",
        choices=_CHOICES["image_labels"],
    )

    def __post_init__(self) -> None:
        check_options(self)
        for name, choices in _CHOICES.items():
            value = str(getattr(self, name))
            if value not in choices:
                raise ValueError(f"voc {name} must be one of {', '.join(choices)}, got {value!r}")
            object.__setattr__(self, name, value)


#: Images per shard of a sharded run (one XML file and its PNGs each).
SHARD_ITEMS = 2000


class VOCReader(Reader[VOCOptions]):
    """Pascal VOC XML and segmentation PNGs."""

    format_name = "voc"
    description = "Pascal VOC (Annotations/*.xml boxes, parts, polygons; SegmentationObject/Class PNG masks)"
    media = Media.IMAGE
    Options = VOCOptions
    default_key_template = "{name}"

    @classmethod
    def sniff(cls, path: Path) -> bool:
        return looks_like_voc(path)

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        follow = self.context.follow_links
        self.datasets = [ds for source in self.sources for ds in discover(source, follow_links=follow)]
        self._conf = Confinement(Path("."), follow)
        self._labels: dict[str, None] = {}
        for ds in self.datasets:
            if ds.labelmap is not None:
                lm = load_labelmap(ds.labelmap)
                self._labels.update((n, None) for i, n in enumerate(lm.names) if i != lm.background)

    def total(self) -> int | None:
        return sum(len(ds.items) for ds in self.datasets)

    def labels(self) -> Sequence[str]:
        """Classes of the label maps, then every class met while reading."""
        return tuple(self._labels)

    def label_kinds(self) -> Mapping[str, Collection[Kind]]:
        """Boxes and polygons from a parse of every XML (no model built), masks for every
        class a segmentation PNG of the dataset can hold (see :mod:`._kinds`)."""
        out: dict[str, set[Kind]] = {}
        for ds in self.datasets:
            self._kinds_into(out, ds)
        return out

    def shard_label_kinds(self, shard: Shard) -> Mapping[str, Collection[Kind]]:
        """The kinds of the shard's images (their union over a dataset's shards is the
        dataset's: every rule of :mod:`._kinds` is per image, or any image's)."""
        i, start, stop, _ = shard.unit
        ds = self.datasets[i]
        out: dict[str, set[Kind]] = {}
        self._kinds_into(out, dataclasses.replace(ds, items=ds.items[start:stop]))
        return out

    def _kinds_into(self, out: dict[str, set[Kind]], ds: VocDataset) -> None:
        labelmap = load_labelmap(ds.labelmap) if ds.labelmap is not None else DEFAULT_LABELMAP
        found = dataset_kinds(
            ds, labelmap, geometry=self.options.geometry, drop_difficult=self.options.difficult == "drop",
            masks=self.options.masks,
        )
        for name, kinds in found.items():
            out.setdefault(name, set()).update(kinds)

    def read(self) -> Iterator[Asset]:
        for ds in self.datasets:
            yield from self._read_items(ds, self._origin(ds), 0, len(ds.items))

    def _read_items(self, ds: VocDataset, origin: int, start: int, stop: int) -> Iterator[Asset]:
        """Items ``start:stop`` of one dataset (all of them for :meth:`read`)."""
        labelmap = load_labelmap(ds.labelmap) if ds.labelmap is not None else DEFAULT_LABELMAP
        build = BuildOptions(
            origin=origin,
            drop_difficult=self.options.difficult == "drop",
            geometry=self.options.geometry,
        )
        self._notes(ds)
        self._conf = ds.conf or Confinement(ds.root, self.context.follow_links)
        image_labels = read_image_labels(ds.class_list_files, self._conf) if self.options.image_labels == "tags" else {}
        for item in ds.items[start:stop]:
            asset = self._asset(ds, item, build, labelmap, image_labels.get(item.id, ()))
            if asset is not None:
                yield asset

    def shards(self) -> Sequence[Shard]:
        """Batches of :data:`SHARD_ITEMS` images (their XML files and PNGs) per dataset. The
        coordinate origin is a dataset-wide decision (one 0 coordinate anywhere proves a
        0-based writer): taken here, once, and carried in each shard."""
        out: list[Shard] = []
        for i, ds in enumerate(self.datasets):
            origin = self._origin(ds)
            n = len(ds.items)
            for start in range(0, max(n, 1), SHARD_ITEMS):
                stop = min(n, start + SHARD_ITEMS)
                what = str(ds.root) if n <= SHARD_ITEMS else f"{ds.root} (images {start + 1}-{stop} of {n})"
                out.append(Shard(len(out), what, (i, start, stop, origin)))
        return tuple(out)

    def read_shard(self, shard: Shard) -> Iterator[Asset]:
        i, start, stop, origin = shard.unit
        return self._read_items(self.datasets[i], origin, start, stop)

    # -- dataset-wide decisions -----------------------------------------------------------

    def _origin(self, ds: VocDataset) -> int:
        where = str(ds.root)
        choice = self.options.origin
        if not any(item.xml is not None for item in ds.items):
            return 1  # masks only: no coordinates to convert
        if choice != "auto":
            self.report.note("voc-origin", f"{where}: VOC coordinates read as {_convention(int(choice))} (--voc-origin {choice})")
            return int(choice)
        for item in ds.items:
            if item.xml is not None and has_zero_coordinate(item.xml):
                self.report.note(
                    "voc-origin",
                    f"{where}: VOC coordinates read as {_convention(0)}: {item.xml} has a 0 coordinate, "
                    "impossible in the devkit's 1-based convention (--voc-origin 1 overrides)",
                )
                return 0
        self.report.note(
            "voc-origin",
            f"{where}: VOC coordinates read as {_convention(1)} (the devkit convention; no file proves "
            "a 0-based writer; --voc-origin 0 overrides)",
        )
        return 1

    def _notes(self, ds: VocDataset) -> None:
        if ds.class_lists and self.options.image_labels == "none":
            self.report.note(
                "voc-class-lists-not-read",
                f"{ds.root}: {ds.class_lists} ImageSets/Main/<class>_<subset>.txt files (image-level labels) "
                "were not read (--voc-image-labels none)",
            )
        elif ds.class_lists:
            self.report.note(
                "voc-image-labels",
                f"{ds.root}: {ds.class_lists} ImageSets/Main/<class>_<subset>.txt files read: a label marked "
                "present (1) on an image with no object of that label is an answer of the global 'tags' "
                "checklist; labels that only repeat the image's objects are not repeated",
            )
        if ds.unlisted:
            self.report.note(
                "voc-unlisted",
                f"{ds.root}: {ds.unlisted} images not named by any ImageSets list were converted too (empty subset)",
            )
        if self.options.masks == "none" and any(i.seg_class or i.seg_object for i in ds.items):
            self.report.note("voc-masks-not-read", f"{ds.root}: segmentation PNGs not read (--voc-masks none)")

    # -- one image ---------------------------------------------------------------------------

    def _asset(
        self, ds: VocDataset, item: VocItem, build: BuildOptions, labelmap: LabelMap,
        present: Sequence[tuple[str, Path, int]] = (),
    ) -> Asset | None:
        vf: VocFile | None = None
        if item.xml is not None:
            vf = parse_voc_file(item.xml, strict=not ds.relaxed)
            if vf is None:
                self.report.tally("voc-non-voc-xml-skipped")
                return None
        name, image = self._image(item, vf)
        anchor = item.xml or item.seg_object or item.seg_class
        annotations: list[Annotation] = []
        dropped: set[int] = set()
        classes = {obj.index: nested(obj, self.report) for obj in (vf.objects if vf is not None else ())}
        for obj in vf.objects if vf is not None else ():
            anns, was_dropped = object_annotations(item.xml, obj, build, self.report, classes[obj.index])  # type: ignore[arg-type]
            annotations.extend(anns)
            if was_dropped:
                dropped.add(obj.index)
            self._labels.setdefault(obj.name, None)
        masks_wanted = self.options.masks != "none" and (item.seg_object or item.seg_class)
        width, height = self._size(item, vf, name, image, need=bool(annotations or masks_wanted))
        if masks_wanted:
            assert width is not None and height is not None
            m = MaskInput(
                width=width,
                height=height,
                objects=vf.objects if vf is not None else (),
                dropped=frozenset(dropped),
                labelmap=labelmap,
                nested=classes,
            )
            if item.seg_object is not None and self.options.masks == "auto":
                masks = instance_masks(item.seg_object, item.seg_class, m, self.report)
            elif item.seg_class is not None:
                masks = class_masks(item.seg_class, m, self.report)
            else:  # --voc-masks class, but only instance PNGs: their classes are the objects'
                masks = instance_masks(item.seg_object, None, m, self.report)  # type: ignore[arg-type]
            for mask in masks:
                self._labels.setdefault(mask.label or "", None)
            annotations.extend(masks)
        if item.xml is None and not annotations and image is None:
            self.report.tally("voc-listed-image-missing")
            return None
        tags = self._tags(item, present, annotations, labelmap)
        if tags is not None:
            annotations.append(tags)
        fields = {"subset": item.subset, "id": item.id, "dataset": ds.name}
        return Asset(
            name=name,
            media=Media.IMAGE,
            source=SourceRef(file=str(anchor) if anchor else str(ds.root), element=f"image {item.id}"),
            annotations=tuple(annotations),
            width=width,
            height=height,
            dataset=ds.name,
            fields=fields,
        )

    def _tags(
        self, item: VocItem, present: Sequence[tuple[str, Path, int]], annotations: list[Annotation], labelmap: LabelMap
    ) -> Annotation | None:
        """Image labels (per-class lists) the objects do not already say, as the ``tags`` checklist."""
        if not present:
            return None
        background = labelmap.names[labelmap.background] if labelmap.background is not None else None
        objects = {a.label for a in annotations if a.label}
        tags: list[str] = []
        for label, _, _ in present:
            if label in objects:
                self.report.tally("voc-image-label-repeats-object")
            elif label != background and label not in tags:
                tags.append(label)
        if not tags:
            return None
        path = present[0][1]
        source = SourceRef(file=str(path.parent), element=f"image {item.id} in {len(present)} class lists")
        return Annotation(key="tags", source=source, classification=Classification.checklist("tags", tags))

    def _image(self, item: VocItem, vf: VocFile | None) -> tuple[str, Path | None]:
        """The asset name (dataset-relative image path) and the image file when it had to be
        searched for (a file name without extension, or none); else None (not looked up)."""
        source = item.xml or item.seg_object or item.seg_class or item.image_dir
        filename = vf.filename if vf is not None else None
        if filename:
            rel = clean_relative(filename, source_file=source, location="<filename>")
            # a bare file name: the image is in the item's folder; a path: as written
            name = rel if "/" in rel else item.name_prefix + rel
            if Path(rel).suffix.lower() in IMAGE_SUFFIXES:
                return name, None  # looked up only if the size is needed (see _size)
        else:
            name = item.id
        found = self._by_stem(item, name)
        return (found[0], found[1]) if found else (name if filename else f"{name}.jpg", None)

    def _candidates(self, item: VocItem, name: str) -> list[Path]:
        roots = [self.context.images_dir] if self.context.images_dir is not None else []
        return [*roots, item.image_dir]

    def _existing(self, item: VocItem, name: str) -> Path | None:
        for root in self._candidates(item, name):
            path = resolve_inside(root, name, source_file=item.xml or root, confine=self._confine(root, item))
            if path.is_file():
                return path
        return None

    def _confine(self, root: Path, item: VocItem) -> Confinement:
        """Images under the dataset's image folder must really be inside the dataset root (a
        link, of the file or of ``JPEGImages`` itself, may not lead elsewhere); the
        ``--images`` folder the user named is trusted."""
        return self._conf if root == item.image_dir else Confinement(root, True)

    def _by_stem(self, item: VocItem, name: str) -> tuple[str, Path] | None:
        for root in self._candidates(item, name):
            confine = self._confine(root, item)
            base = resolve_inside(root, name, source_file=item.xml or root, confine=confine)
            for suffix in IMAGE_SUFFIXES:
                for candidate in (base.with_name(base.name + suffix), base.with_name(base.name + suffix.upper())):
                    if candidate.is_file():
                        return f"{name}{candidate.suffix}", confine.check(candidate, source_file=item.xml or root)
        return None

    def _size(
        self, item: VocItem, vf: VocFile | None, name: str, image: Path | None, *, need: bool
    ) -> tuple[int | None, int | None]:
        if vf is not None and vf.width is not None:
            return vf.width, vf.height
        image = image or self._existing(item, name)
        if image is not None:
            return image_size(image)
        for png in (item.seg_object, item.seg_class):
            if png is not None:
                return png_size(png)
        self.report.tally("voc-size-unknown")
        if need:
            # Boxes need no size: they are written as the XML gives them (not clipped to an
            # image nobody can measure); only masks need it, and they come with their PNG.
            self.report.note(
                "voc-size-unknown",
                "some XML files have no <size> and their image was not found (give --images DIR): "
                "their boxes are written as given, not clipped to the image",
            )
        return None, None


def _convention(origin: int) -> str:
    return "1-based inclusive pixels (xmin-1, ymin-1; xmax, ymax kept)" if origin else "0-based continuous values, as written"

