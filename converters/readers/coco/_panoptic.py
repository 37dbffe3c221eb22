"""COCO panoptic: one annotation per image, a PNG of segment ids, and ``segments_info``.

The PNG is RGB; a pixel's segment id is R + 256*G + 256^2*B and id 0 is void
(panopticapi ``utils.rgb2id``). Each ``segments_info`` entry names one segment: things
(``isthing: 1``) become one instance mask each, stuff becomes one mask per class (segments
of one stuff class in one image are merged, and the merge reported).

The PNG is decoded once at read time and each segment kept as compressed RLE: memory stays
small, ids present in the PNG but not listed (and listed but absent) can be reported, and
the writer decodes one mask at a time like any other RLE. A PNG whose size differs from
its image entry is an error (datumaro's own fixtures have one: 5x5 for a 10x5 image).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ... import masks
from ...errors import InvalidFieldError, MissingFieldError, ParseError, UnsafeInputError
from ...model import Annotation, Kind, Mask, SourceRef
from ...report import Report
from ._objects import Category, CocoFile, ImageEntry
from .._images import image_size
from .._paths import Confinement, resolve_inside

__all__ = ["panoptic_annotations", "panoptic_png"]

#: Pixels per slab when listing the ids of a map (1M: 4 MB sorted at a time).
_SLAB = 1 << 20


def panoptic_png(f: CocoFile, file_name: str, loc: str, *, follow_links: bool = False) -> Path:
    """The id PNG of an entry: in ``<json dir>/<json stem>/`` (COCO and datumaro layout) or
    ``<json dir>/../<json stem>/``; never outside those folders, and (unless
    ``follow_links``) not through a link, of the file or of its folder, leading elsewhere."""
    roots = [f.path.parent / f.stem, f.path.parent.parent / f.stem, f.path.parent]
    for root in roots:
        if root.is_dir():
            path = resolve_inside(root, file_name, source_file=f.path, location=loc,
                                  confine=Confinement(root.parent, follow_links))
            if path.is_file():
                return path
    looked = ", ".join(str(r) for r in roots[:2])
    raise ParseError(f.path, f"panoptic PNG {file_name!r} not found (looked in {looked})", location=loc)


def _id_map(f: CocoFile, path: Path, loc: str, width: int | None, height: int | None) -> np.ndarray:
    from PIL import Image

    w, h = image_size(path, exif=False)  # bomb guard, header only
    if width is not None and (w, h) != (width, height):
        raise ParseError(
            f.path, f"panoptic PNG {path.name} is {w}x{h} but its image is {width}x{height} (width x height)",
            location=loc,
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                rgb = im if im.mode == "RGB" else im.convert("RGB")
                # one 1-byte band at a time, never a (h, w, 3) array of uint32 (12 B/px)
                bands = [np.asarray(rgb.getchannel(c)) for c in range(3)]
                del rgb
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise UnsafeInputError(f.path, f"panoptic PNG {path.name} unreadable: {exc}", location=loc) from None
    except Exception as exc:  # OSError, SyntaxError ("broken PNG file"), struct.error... from Pillow
        raise ParseError(f.path, f"panoptic PNG {path.name} unreadable: {type(exc).__name__}: {exc}",
                         location=loc) from None
    # Fortran order: every per-segment mask compared from it is already in the column-major
    # layout pycocotools encodes, so encoding copies nothing. Built in place (R + 256 G +
    # 65536 B) from the bands: peak about 8 bytes per pixel, not 23.
    ids = np.empty(bands[0].shape, dtype=np.uint32, order="F")
    ids[...] = bands[2]
    for band in (bands[1], bands[0]):
        ids <<= 8
        ids |= band
    return ids


def _present(ids: np.ndarray) -> set[int]:
    """The ids in the map, a slab of columns at a time (np.unique of the whole map would copy
    and sort it: 5 more bytes per pixel)."""
    found: set[int] = set()
    step = max(1, _SLAB // max(ids.shape[0], 1))
    for x in range(0, ids.shape[1], step):
        found.update(np.unique(ids[:, x : x + step]).tolist())
    return found


def panoptic_annotations(
    f: CocoFile,
    entry: Mapping[str, Any],
    loc: str,
    cats: Mapping[str, Category],
    image: ImageEntry,
    report: Report,
    *,
    skip_crowd: bool = False,
    follow_links: bool = False,
) -> list[Annotation]:
    """The masks of one panoptic entry (one image)."""
    file_name = entry.get("file_name")
    if not isinstance(file_name, str) or not file_name:
        raise MissingFieldError(f.path, "file_name", location=loc)
    infos = entry.get("segments_info")
    if not isinstance(infos, list):
        raise InvalidFieldError(f.path, "segments_info", "must be a list", location=loc)
    ids = _id_map(f, panoptic_png(f, file_name, loc, follow_links=follow_links), loc, image.width, image.height)
    h, w = ids.shape
    present = _present(ids)
    image_id = entry.get("image_id")
    listed: set[int] = set()
    out: list[Annotation] = []
    stuff: dict[str, list[tuple[int, SourceRef]]] = {}
    for info in infos:
        if not isinstance(info, dict) or "id" not in info or "category_id" not in info:
            raise InvalidFieldError(f.path, "segments_info", "entries need id and category_id", location=loc)
        seg_id = info["id"]
        if type(seg_id) is not int or seg_id < 0:
            raise InvalidFieldError(f.path, "segments_info", f"segment id {seg_id!r} is not a non-negative int", location=loc)
        cat = cats.get(str(info["category_id"]))
        if cat is None:
            raise InvalidFieldError(f.path, "segments_info", f"category_id {info['category_id']!r} of segment {seg_id} "
                                    "names no category of the file", location=loc)
        listed.add(seg_id)
        ref = SourceRef(file=f.name, element=f"image id {image_id}, segment", annotation_id=str(seg_id))
        if seg_id == 0:
            report.skip_unread(ref, Kind.MASK, "panoptic-void-segment", "segment id 0 is void in panoptic PNGs")
            continue
        if seg_id not in present:
            report.skip_unread(ref, Kind.MASK, "panoptic-segment-empty", f"segment {seg_id} has no pixel in {file_name}")
            continue
        if skip_crowd and info.get("iscrowd") in (1, True):
            report.skip_unread(ref, Kind.MASK, "crowd-skipped", "iscrowd region skipped (--coco-crowd skip)")
            continue
        if cat.isthing:
            rle = masks.encode_rle(ids == seg_id)
            out.append(Annotation(key=f"panoptic:{seg_id}", source=ref, label=cat.name,
                                  shape=Mask(width=w, height=h, rle=rle)))
        else:
            stuff.setdefault(cat.name, []).append((seg_id, ref))
    for name, segs in stuff.items():
        ref = segs[0][1]
        if len(segs) > 1:
            report.change(ref, Kind.MASK, "merged", "panoptic-stuff-merged",
                          f"{len(segs)} stuff segments of class {name!r} merged into one class mask "
                          f"(segments {', '.join(str(s) for s, _ in segs)})")
            for _, extra in segs[1:]:  # counted read, accounted for by the merged row
                report.count_read(Kind.MASK)
                report.skip(extra, Kind.MASK, "panoptic-stuff-merged", f"merged into segment {segs[0][0]}'s class mask")
        mask = ids == segs[0][0]
        for seg_id, _ in segs[1:]:  # not np.isin: its lookup table copies the map as int64
            mask |= ids == seg_id
        rle = masks.encode_rle(mask)
        del mask
        out.append(Annotation(key=f"panoptic:stuff:{name}", source=ref, label=name,
                              shape=Mask(width=w, height=h, rle=rle)))
    for seg_id in sorted(present - listed - {0}):
        ref = SourceRef(file=f.name, element=f"image id {image_id}, {file_name}", annotation_id=str(seg_id))
        report.skip_unread(ref, Kind.MASK, "panoptic-unlisted-id",
                           f"segment id {seg_id} ({int((ids == seg_id).sum())} pixels) is in the PNG but not in segments_info")
    return out
