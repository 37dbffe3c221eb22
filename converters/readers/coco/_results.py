"""COCO results files: model output as a top-level JSON list, for pre-labels.

Rows are ``{image_id, category_id, bbox | segmentation | keypoints, score}`` with no ids,
no images and no categories (cocoapi ``COCO.loadRes``). File names, image sizes and class
names come from ``--coco-images``: any COCO JSON with ``images`` and ``categories`` (the
ground truth, or an ``image_info_*`` file). Its own annotations are not converted.

Each row is one object: its key is the file stem and the row index (stable across runs),
``score`` becomes the confidence, and rows under ``--min-score`` are dropped and counted
here, before any mask is built. Caption rows have no Labelbox target on images: reported.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import InvalidFieldError, MissingFieldError, OptionsError, ParseError
from ...model import Annotation, Asset, Kind, SourceRef, below_min_score, min_score_reason
from ._objects import CocoFile, _score

if TYPE_CHECKING:  # pragma: no cover
    from .reader import COCOReader

__all__ = ["read_results"]


def _kind(row: dict[str, Any]) -> Kind:
    seg = row.get("segmentation")
    if isinstance(seg, dict):
        return Kind.MASK
    if seg:
        return Kind.POLYGON
    if row.get("bbox"):
        return Kind.BBOX
    return Kind.POINT


def read_results(reader: COCOReader, files: list[CocoFile]) -> Iterator[Asset]:
    """The assets of results files, in the order of the ``--coco-images`` file."""
    report, min_score = reader.report, reader.context.min_score
    needs_images = [f for f in files if any(not _is_caption(r) for r in f.data)]
    if needs_images and not reader.options.images:
        raise ParseError(
            needs_images[0].path,
            "a COCO results file (a top-level list) needs --coco-images FILE: a COCO JSON with the "
            "images and categories it refers to (file names, sizes, class names)",
        )
    images: dict[str, dict[str, Any]] = {}
    by_id: dict[str, str] = {}
    cats: dict[str, Any] = {}
    index_path: Path | None = None
    if needs_images:
        index_path = Path(str(reader.options.images))  # not None: checked above
        from .reader import file_kind, load_coco_file

        if not index_path.is_file():
            raise OptionsError(f"--coco-images {index_path}: no such file")
        data = load_coco_file(index_path)
        if not isinstance(data, dict):
            raise ParseError(index_path, "--coco-images needs a COCO JSON object with images and categories")
        index = CocoFile(index_path, data, "", file_kind(index_path, data))
        images, by_id = reader.images_of(index)
        cats = reader.categories(index)
    per_image: dict[str, list[Annotation]] = defaultdict(list)
    for f in files:
        for i, row in enumerate(f.data):
            loc = f"result [{i}]"
            if type(row) is not dict:
                raise ParseError(f.path, "result is not an object", location=loc)
            if _is_caption(row):
                report.skip_unread(SourceRef(file=f.name, element=f"[{i}]"), Kind.TEXT, "caption-unsupported",
                                   "captions have no Labelbox target on images (not converted)")
                continue
            for key in ("image_id", "category_id"):
                if key not in row:
                    raise MissingFieldError(f.path, key, location=loc)
            name = by_id.get(str(row["image_id"]))
            if name is None:
                raise InvalidFieldError(f.path, "image_id", f"{row['image_id']!r} names no image of {index_path}",
                                        location=loc)
            cat = cats.get(str(row["category_id"]))
            if cat is None:
                raise InvalidFieldError(f.path, "category_id", f"{row['category_id']!r} names no category of "
                                        f"{index_path}", location=loc)
            score = _score(f, row.get("score"), loc)
            if below_min_score(score, min_score):
                report.skip_unread(SourceRef(file=f.name, element=f"[{i}]"), _kind(row),
                                   *min_score_reason(score, min_score))  # type: ignore[arg-type]
                continue
            per_image[name].extend(reader.objects.annotations(f, row, i, loc, cat, images[name], confidence=score))
    for name, image in images.items():
        if name in per_image:
            yield reader.asset(name, image, tuple(per_image[name]), "")


def _is_caption(row: Any) -> bool:
    return isinstance(row, dict) and "caption" in row and not any(k in row for k in ("bbox", "segmentation", "keypoints"))
