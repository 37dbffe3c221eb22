"""CVAT reader: "CVAT for images 1.1" and "CVAT for video 1.1" XML exports.

SOURCE is an export's XML file or its folder (``annotations.xml`` or the ``*.xml`` files
that look like CVAT). Task, project and job exports are read alike (``<meta><task>``,
``<meta><project><tasks>``, ``<meta><job>``); features are detected, never gated on
``<version>`` (it has said 1.1 for years while the content grew).

* ``<image>`` elements become image data rows (one per element, annotated or not): boxes
  (rotated ones as 4-point polygons), polygons, polylines, points (one row per point),
  ellipses (polygon or mask), masks (CVAT's tight-box RLE, see ``_rle``), skeletons (one
  point per node, ``"{skeleton} {point}"``), tags (a ``tags`` checklist), ``<attribute>``
  children as nested classifications typed by ``<meta><labels>``.
* ``<track>`` elements become one video data row per task (the source video) with one
  Labelbox video object per track (``_video``, ``_tracks``), or, with
  ``--media image``, shapes on per-frame images named like CVAT's frame files.

The XML is streamed (``_stream``): a large video export is never held whole.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from pathlib import Path

from ...errors import SourceNotFoundError
from ...model import Asset, Kind, Media
from ._io import elements
from ._kinds import file_kinds
from ._meta import parse_meta
from ._options import CVATOptions
from ._stream import FileWalker
from .._paths import Confinement
from ..base import Reader, Shard

__all__ = ["CVATOptions", "CVATReader"]


def _looks_like_cvat(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return b"<annotations" in head and (b"<version>" in head or b"<meta>" in head or b"<meta" in head)


class CVATReader(Reader[CVATOptions]):
    """CVAT XML (images and video) to images, or videos with tracked objects."""

    format_name = "cvat"
    description = "CVAT for images / video 1.1 XML (task, project or job export)"
    media = Media.IMAGE
    Options = CVATOptions
    default_key_template = "{name}"

    @classmethod
    def sniff(cls, path: Path) -> bool:
        path = Path(path)
        if path.is_file():
            return path.suffix.lower() == ".xml" and _looks_like_cvat(path)
        if path.is_dir():
            return any(_looks_like_cvat(p) for p in sorted(path.glob("*.xml"))[:20])
        return False

    def files(self) -> list[Path]:
        """The XML files to read, in order."""
        out: list[Path] = []
        for src in self.sources:
            if src.is_dir():
                main = src / "annotations.xml"
                conf = Confinement(src, self.context.follow_links)
                found = [conf.check(main)] if main.is_file() else [
                    p for p in sorted(src.glob("*.xml")) if conf.check(p) and _looks_like_cvat(p)]
                if not found:
                    raise SourceNotFoundError(src, "no CVAT XML file (annotations.xml or *.xml) in this folder")
                out.extend(found)
            elif src.is_file():
                out.append(src)
            else:
                raise SourceNotFoundError(src)
        return out

    def labels(self) -> Sequence[str]:
        names: list[str] = []
        for path in self.files():
            metas = elements(path, ("meta",))
            for meta in metas:
                parsed = parse_meta(meta, path)
                for (parent, name), kind in parsed.label_types.items():
                    if kind == "skeleton":
                        continue
                    label = self.options.keypoint_name.format(skeleton=parent, point=name) if parent else name
                    if label and label not in names:
                        names.append(label)
                break
            metas.close()
        return names

    def label_kinds(self) -> Mapping[str, Collection[Kind]]:
        """From the labels' ``<type>`` in ``<meta>``, else a streamed pre-scan of the shape
        elements (see :mod:`._kinds`)."""
        out: dict[str, set[Kind]] = {}
        for path in self.files():
            for label, kinds in file_kinds(path, self.options, self.context.media).items():
                out.setdefault(label, set()).update(kinds)
        return out

    def total(self) -> int | None:
        return sum(_count_tag(p, b"<image ") for p in self.files()) or None  # image exports only

    def read(self) -> Iterator[Asset]:
        for path in self.files():
            yield from FileWalker(path, self.options, self.context, self.report).walk()

    def shards(self) -> Sequence[Shard]:
        """One shard per XML file (a task, project or job export is read whole)."""
        return tuple(Shard(i, str(path), (str(path),)) for i, path in enumerate(self.files()))

    def shard_label_kinds(self, shard: Shard) -> Mapping[str, Collection[Kind]]:
        (path,) = shard.unit
        return file_kinds(Path(path), self.options, self.context.media)

    def read_shard(self, shard: Shard) -> Iterator[Asset]:
        (path,) = shard.unit
        return FileWalker(Path(path), self.options, self.context, self.report).walk()


def _count_tag(path: Path, tag: bytes) -> int:
    """Occurrences of ``tag`` in a file, read in 1 MiB blocks (a progress total, not a parse)."""
    count, tail = 0, b""
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            data = tail + block
            count += data.count(tag)
            tail = data[-(len(tag) - 1):]  # a tag cut by the block boundary is found next time
    return count
