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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import InvalidFieldError, MissingFieldError, OptionsError, ParseError
from ...model import Annotation, Asset, Kind, SourceRef, below_min_score, min_score_reason
from ...report import Report
from ._files import file_kind, load_coco_file
from ._objects import Category, CocoFile, ImageEntry, ObjectReader, _score

__all__ = ["ResultsInput", "read_results"]


@dataclass(frozen=True, slots=True)
class ResultsInput:
    """What reading results files takes from the COCO reader: values and callables, not the
    reader itself (so this module does not import it)."""

    report: Report
    min_score: float | None
    #: ``--coco-images``: the COCO JSON naming the images and categories of the results rows.
    images: str | None
    objects: ObjectReader
    #: The images and categories of a COCO file: (file_name -> entry, image id -> file_name,
    #: category id -> category).
    index: Callable[[CocoFile], tuple[dict[str, ImageEntry], dict[str, str], dict[str, Category]]]
    #: The asset of one image: (name, entry, annotations, split) -> Asset.
    asset: Callable[[str, ImageEntry, tuple[Any, ...], str], Asset]


def _kind(row: dict[str, Any]) -> Kind:
    seg = row.get("segmentation")
    if isinstance(seg, dict):
        return Kind.MASK
    if seg:
        return Kind.POLYGON
    if row.get("bbox"):
        return Kind.BBOX
    return Kind.POINT


def read_results(files: list[CocoFile], source: ResultsInput) -> Iterator[Asset]:
    """The assets of results files, in the order of the ``--coco-images`` file."""
    report, min_score = source.report, source.min_score
    needs_images = [f for f in files if any(not _is_caption(r) for r in f.data)]
    if needs_images and not source.images:
        raise ParseError(
            needs_images[0].path,
            "a COCO results file (a top-level list) needs --coco-images FILE: a COCO JSON with the "
            "images and categories it refers to (file names, sizes, class names)",
        )
    images: dict[str, ImageEntry] = {}
    by_id: dict[str, str] = {}
    cats: dict[str, Category] = {}
    index_path: Path | None = None
    if needs_images:
        index_path = Path(str(source.images))  # not None: checked above
        if not index_path.is_file():
            raise OptionsError(f"--coco-images {index_path}: no such file")
        data = load_coco_file(index_path)
        if not isinstance(data, dict):
            raise ParseError(index_path, "--coco-images needs a COCO JSON object with images and categories")
        index = CocoFile(index_path, data, "", file_kind(index_path, data))
        images, by_id, cats = source.index(index)
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
            per_image[name].extend(source.objects.annotations(f, row, i, loc, cat, images[name], confidence=score))
    for name, image in images.items():
        if name in per_image:
            yield source.asset(name, image, tuple(per_image[name]), "")


def _is_caption(row: Any) -> bool:
    return isinstance(row, dict) and "caption" in row and not any(k in row for k in ("bbox", "segmentation", "keypoints"))
