"""YOLO reader: darknet and Ultralytics layouts; detection, segmentation, pose, OBB, predictions.

SOURCE is a dataset YAML (Ultralytics ``data.yaml``), a darknet ``obj.data``, or the dataset
folder (which may hold one of those, or only ``images/`` + ``labels/`` and a names file).
Each image becomes one asset named by its path relative to its split's image folder
(``images/train/a/b.jpg`` -> ``a/b.jpg``), with ``fields={"subset": "train"}``: the subset
enters the global key only when the template asks for ``{subset}``, except when two subsets
hold the same name, where the default becomes ``{subset}/{name}`` (and a note says so).

Every coordinate is normalised, so each image's size is read from its header
(:func:`~converters.readers._images.image_size`, EXIF-aware like Ultralytics). Sizes and
label texts are read by a thread pool a window ahead of the image being converted, so a
100k-image dataset is I/O bound, not latency bound. Images whose label file is missing or
empty are yielded without annotations (tallied); label files without an image are
reported row by row.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import ConversionError, OptionsError, ParseError
from ...model import Annotation, Asset, Classification, Kind, Media, SourceRef
from .._images import image_size
from .._paths import Confinement
from ._layout import NAME_FILES, Dataset, Split, discover, find_images, holds_only_labels, is_image, label_files
from ._rows import RowRules, looks_like_labels, parse_rows, row_kinds, skip_rows
from ..base import Reader, Shard, check_options, option

__all__ = ["YOLOOptions", "YOLOReader"]

_TASKS = ("auto", "detect", "segment", "pose", "obb", "classify")
_LABEL_DIRS = ("labels", "Labels", "annotations", "Annotations", "labelTxt")
_WINDOW = 256
#: Images per shard of a sharded run (their label files are read by one worker).
SHARD_ITEMS = 2000


@dataclass(frozen=True, slots=True)
class YOLOOptions:
    """Options of the YOLO reader."""

    task: str = option(
        "auto",
        help="what the rows are: detect (cx cy w h), segment (polygons), pose (box + keypoints), obb "
        "(4 corners), classify (folder per class); auto: pose when kpt_shape is known, else by row length",
        flag="--yolo-task",
        choices=_TASKS,
    )
    kpt_shape: str = option(
        "",
        help="keypoints per pose row as K,D (D = 2 or 3); overrides data.yaml kpt_shape",
        flag="--yolo-kpt-shape",
    )
    labels_dir: str = option(
        "labels",
        help="name of the folder that mirrors images/ with the label files (DagsHub: labels_bbox...)",
        flag="--yolo-labels-dir",
    )
    on_error: str = option(
        "error",
        help="a malformed row: error (stop, naming file and line) or skip (report it and go on)",
        flag="--yolo-on-error",
        choices=("error", "skip"),
    )
    keypoint_name: str = option(
        "{class} {keypoint}",
        help="name of each keypoint's point tool; fields {class}, {keypoint} (kpt_names or index), {index}",
        flag="--yolo-keypoint-name",
    )
    exif: bool = option(True, help="apply EXIF orientation to image sizes, as Ultralytics does", flag="--yolo-exif")
    workers: int = option(8, help="threads reading image headers and label files", flag="--yolo-workers")

    def __post_init__(self) -> None:
        check_options(self)
        if self.task not in _TASKS:
            raise ValueError(f"task must be one of {', '.join(_TASKS)}, not {self.task!r}")
        if self.on_error not in ("error", "skip"):
            raise ValueError(f"on_error must be error or skip, not {self.on_error!r}")
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        if self.kpt_shape:
            parse_kpt_shape(self.kpt_shape)
        try:
            self.keypoint_name.format_map({"class": "c", "keypoint": "k", "index": 0})
        except (KeyError, ValueError, IndexError) as exc:
            raise ValueError(f"keypoint_name template {self.keypoint_name!r}: {exc}") from None


def parse_kpt_shape(text: str) -> tuple[int, int]:
    try:
        k, d = (int(p) for p in text.replace("x", ",").split(","))
    except ValueError:
        raise ValueError(f"kpt_shape must be K,D such as 17,3, not {text!r}") from None
    if k < 1 or d not in (2, 3):
        raise ValueError(f"kpt_shape must be K,D with K >= 1 and D 2 or 3, not {text!r}")
    return k, d


@dataclass(frozen=True, slots=True)
class _Item:
    split: Split
    image: Path
    label: Path | None


class YOLOReader(Reader[YOLOOptions]):
    """YOLO text labels (darknet, Ultralytics): boxes, polygons, keypoints, oriented boxes."""

    format_name = "yolo"
    description = "YOLO (darknet obj.data, Ultralytics data.yaml; detect, segment, pose, obb, predictions)"
    media = Media.IMAGE
    Options = YOLOOptions
    default_key_template = "{name}"

    @classmethod
    def sniff(cls, path: Path) -> bool:
        if path.is_file():
            return path.name == "obj.data" or (path.suffix.lower() in (".yaml", ".yml") and _yaml_has_names(path))
        if not path.is_dir():
            return False
        if (path / "obj.data").is_file() or any(_yaml_has_names(p) for p in path.glob("*.yaml")):
            return True
        if any((path / n).is_file() for n in ("obj.names", "classes.txt")):
            return True
        if (path / "images").is_dir() and any((path / n).is_dir() for n in _LABEL_DIRS):
            return True
        return _labels_only(path)

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        o: YOLOOptions = self.options
        # Absolute paths: label folders are found by mirroring image paths, which must not
        # mix a relative SOURCE with the resolved paths that resolve_inside returns.
        follow = self.context.follow_links
        self.datasets = [self._with_images_dir(discover(s.absolute(), self.report, follow_links=follow))
                         for s in self.sources]
        self._label_dirs = (o.labels_dir, *(n for n in _LABEL_DIRS if n != o.labels_dir))
        self._dir_cache: dict[Path, bool] = {}
        self._label_folders: dict[Path, Path] = {}
        self._paired: dict[int, list[_Item]] = {}  # id(dataset) -> its items (paired once)
        self._choose_key_template()

    def total(self) -> int | None:
        return sum(len(split.images) for ds in self.datasets for split in ds.splits)

    def _with_images_dir(self, ds: Dataset) -> Dataset:
        """A folder of label files without images, and ``--images DIR``: pair them by name.

        The images of DIR become the dataset's one split; each looks for its label file
        under the SOURCE folder by relative path, then by base name.
        """
        images_dir = self.context.images_dir
        if images_dir is None or any(split.images for split in ds.splits) or not label_files(ds.root):
            return ds
        images_dir = images_dir.absolute()
        split = Split(name="", images=find_images(images_dir), image_root=images_dir, origin=f"--images {images_dir}")
        ds.splits = [split]
        ds.label_root = ds.root
        return ds

    def labels(self) -> Sequence[str]:
        out: list[str] = []
        for ds in self.datasets:
            for i in sorted(ds.names or {}):
                if ds.names[i] not in out:  # type: ignore[index]
                    out.append(ds.names[i])  # type: ignore[index]
        return tuple(out)

    def _choose_key_template(self) -> None:
        """``{name}`` unless two subsets share a name (then ``{subset}/{name}``, noted)."""
        seen: dict[str, str] = {}
        for ds in self.datasets:
            for split in ds.splits:
                for image in split.images:
                    name = _rel(image, split.image_root)
                    other = seen.setdefault(name, split.name)
                    if other != split.name:
                        self.default_key_template = "{subset}/{name}"  # type: ignore[misc]
                        self.report.note(
                            "key-includes-subset",
                            f"{name!r} is in subsets {other!r} and {split.name!r}: the default global key "
                            "is {subset}/{name} (give --global-key to choose)",
                        )
                        return

    # -- pairing -------------------------------------------------------------------

    def _is_dir(self, path: Path) -> bool:
        hit = self._dir_cache.get(path)
        if hit is None:
            hit = self._dir_cache[path] = path.is_dir()
        return hit

    def _label_path(self, image: Path, root: Path) -> Path:
        """Ultralytics' rule (last ``images`` folder -> ``labels``), else the file beside the image."""
        folder = self._label_folders.get(image.parent)
        if folder is None:
            folder = self._label_folders[image.parent] = self._label_folder(image.parent, root)
        stem = image.name.rsplit(".", 1)[0]
        return folder / f"{stem}.txt"

    def _label_folder(self, parent: Path, root: Path) -> Path:
        try:
            parts = parent.relative_to(root).parts
        except ValueError:
            parts = ()
        for i in range(len(parts) - 1, -1, -1):
            if parts[i].lower() == "images":
                base = root.joinpath(*parts[:i])
                for name in self._label_dirs:
                    if self._is_dir(base / name):
                        return base.joinpath(name, *parts[i + 1 :])
                break
        return parent

    def _items(self, ds: Dataset) -> list[_Item]:
        """Each image with its label file, paired once (``label_kinds`` and ``read`` share it)."""
        items = self._paired.get(id(ds))
        if items is None:
            items = self._paired[id(ds)] = self._pair(ds)
        return items

    def _images_once(self, ds: Dataset) -> Iterator[tuple[Split, Path]]:
        """Each image of the dataset with its split, once: an image listed by several splits
        is read with the first and tallied (``image-in-several-splits``)."""
        done: set[Path] = set()
        for split in ds.splits:
            for image in split.images:
                if image in done:
                    self.report.tally("image-in-several-splits")
                    continue
                done.add(image)
                yield split, image

    def _pair(self, ds: Dataset) -> list[_Item]:
        items: list[_Item] = []
        labels: dict[Path, Path] = {}
        conf = Confinement(ds.root, self.context.follow_links)
        for split, image in self._images_once(ds):
            if ds.label_root is None:
                conf.check(image)
                label = conf.check(self._label_path(image, ds.root))
            else:  # images from --images (the user's folder), labels under the SOURCE
                label = conf.check(_paired_label(image, split, ds.label_root))
            if label in labels:
                # a.jpg and a.png share a.txt: both get its rows (as in Ultralytics), said loudly.
                self.report.tally("label-file-shared")
                self.report.note("label-file-shared", f"{label} is the label file of {labels[label].name} and {image.name}")
            labels.setdefault(label, image)
            items.append(_Item(split, image, label))
        return items

    # -- label kinds ---------------------------------------------------------------

    def label_kinds(self) -> Mapping[str, Collection[Kind]]:
        """The kind of every row, from a scan of the label files' text (no image opened, no
        model built): the ontology then names each class's tools the same whatever file
        comes first. A dataset whose rules are wrong (pose without kpt_shape) declares
        nothing: reading it raises the error."""
        out: dict[str, set[Kind]] = {}
        for ds in self.datasets:
            if self._task(ds) == "classify":
                continue
            try:
                rules = self._rules(ds)
            except ConversionError:
                continue
            self._kinds_into(out, self._items(ds), rules)
        return out

    def _kinds_into(self, out: dict[str, set[Kind]], items: Sequence[_Item], rules: RowRules) -> None:
        labels = sorted({i.label for i in items if i.label is not None})
        with ThreadPoolExecutor(max_workers=self.options.workers) as pool:
            for text in pool.map(_label_text, labels):
                if text:
                    row_kinds(text, rules, out)

    def shard_label_kinds(self, shard: Shard) -> Mapping[str, Collection[Kind]]:
        """The kinds of the rows of the shard's label files (the union over a dataset's
        shards is the dataset's, rows being read one by one)."""
        i, start, stop = shard.unit
        ds = self.datasets[i]
        out: dict[str, set[Kind]] = {}
        if self._task(ds) == "classify":
            return out
        try:
            rules = self._rules(ds)
        except ConversionError:
            return out
        report, self.context.report = self.context.report, type(self.context.report)()
        try:
            items = self._items(ds)
        finally:
            self.context.report = report
        self._kinds_into(out, items[start:stop], rules)
        return out

    # -- reading -------------------------------------------------------------------

    def read(self) -> Iterator[Asset]:
        for ds in self.datasets:
            if self._task(ds) == "classify":
                yield from self._read_classify(ds)
            else:
                yield from self._read_dataset(ds)

    def _task(self, ds: Dataset) -> str:
        o: YOLOOptions = self.options
        if o.task != "auto":
            return o.task
        if ds.task in ("detect", "segment", "pose", "obb", "classify"):
            return "auto" if ds.task == "pose" else ds.task
        return "auto"

    def _rules(self, ds: Dataset) -> RowRules:
        o: YOLOOptions = self.options
        kpt = parse_kpt_shape(o.kpt_shape) if o.kpt_shape else ds.kpt_shape
        task = self._task(ds)
        if task == "pose" and kpt is None:
            raise OptionsError(f"{ds.source}: pose rows need kpt_shape (in the YAML or --yolo-kpt-shape K,D)")
        return RowRules(
            task=task, names=ds.names, kpt_shape=kpt, kpt_names=ds.kpt_names, keypoint_name=o.keypoint_name,
            on_error=o.on_error, min_score=self.context.min_score,
        )

    def shards(self) -> Sequence[Shard]:
        """Batches of :data:`SHARD_ITEMS` images with their label files, per dataset (a
        folder-per-class dataset is one shard). Pairing images with label files is done
        here, once per reader; every shard's reader pairs alike (it is deterministic)."""
        out: list[Shard] = []
        for i, ds in enumerate(self.datasets):
            n = 0 if self._task(ds) == "classify" else len(self._items(ds))
            for start in range(0, max(n, 1), SHARD_ITEMS):
                stop = min(n, start + SHARD_ITEMS)
                what = str(ds.source) if n <= SHARD_ITEMS else f"{ds.source} (images {start + 1}-{stop} of {n})"
                out.append(Shard(len(out), what, (i, start, stop if n > SHARD_ITEMS else None)))
        return tuple(out)

    def read_shard(self, shard: Shard) -> Iterator[Asset]:
        i, start, stop = shard.unit
        ds = self.datasets[i]
        if self._task(ds) == "classify":
            return self._read_classify(ds)
        # Pairing records dataset-wide tallies (a label file shared by two images): the
        # reader that listed the shards recorded them once; this one keeps them to itself.
        report, self.context.report = self.context.report, type(self.context.report)()
        try:
            self._items(ds)
        finally:
            self.context.report = report
        return self._read_dataset(ds, start, stop)

    def _read_dataset(self, ds: Dataset, start: int = 0, stop: int | None = None) -> Iterator[Asset]:
        """Items ``start:stop`` of one dataset (``stop`` None: all, the label files no image
        points at included)."""
        rules = self._rules(ds)
        items = self._items(ds)
        if items and not any(_exists(i.label) for i in items):
            real = [i for i in items if i.image.is_file()]
            # Folder-per-class needs real images in class folders, and no sign of pose rows
            # (a kpt_shape): a list of missing images is not a classification dataset.
            if real and rules.task == "auto" and rules.kpt_shape is None and all(
                _rel(i.image, i.split.image_root).count("/") in (1, 2) for i in real
            ):
                if start == 0:  # a sharded run: the dataset's first shard reads it all
                    self.report.note("task-classify", f"{ds.source}: no label files and images sit in class folders: read as classification")
                    yield from self._read_classify(ds)
                return
            if real:
                raise ParseError(ds.source, _no_labels_message(ds, self.options.labels_dir))
        used: set[Path] = set()
        o: YOLOOptions = self.options
        whole = stop is None
        mine = items[start:stop]
        with ThreadPoolExecutor(max_workers=o.workers) as pool:
            for first in range(0, len(mine), _WINDOW):
                chunk = mine[first : first + _WINDOW]
                for item, (text, size) in zip(chunk, pool.map(self._load, chunk)):
                    if item.label is not None and text is not None:
                        used.add(item.label)
                    asset = self._asset(ds, item, text, size, rules)
                    if asset is not None:
                        yield asset
        if whole:
            self._orphans(ds, items, used)
        elif stop == len(items):  # the last shard: the orphans only ask whether any label file was read
            self._orphans(ds, items, {i.label for i in items if i.label is not None and _exists(i.label)})

    def _load(self, item: _Item) -> tuple[str | None, tuple[int, int] | ConversionError | None]:
        """Worker: the label text (None if absent) and, when there are rows, the image size."""
        text: str | None = None
        if item.label is not None:
            try:
                raw = item.label.read_bytes()
            except FileNotFoundError:
                raw = None
            except IsADirectoryError:
                raw = None
            if raw is not None:
                try:
                    text = raw.decode("utf-8-sig")
                except UnicodeDecodeError as exc:
                    return "", ParseError(item.label, f"not UTF-8 text ({exc.reason} at byte {exc.start})")
        if not text or not text.strip():
            return text, None
        return text, self._size(item.image)

    def _size(self, image: Path) -> tuple[int, int] | ConversionError:
        path = image
        if not path.is_file() and self.context.images_dir is not None:
            path = self.context.images_dir / image.name
        try:
            return image_size(path, exif=self.options.exif)
        except ConversionError as exc:
            return exc

    def _asset(
        self, ds: Dataset, item: _Item, text: str | None, size: Any, rules: RowRules
    ) -> Asset | None:
        label_file = str(item.label) if item.label is not None else str(item.image)
        if isinstance(size, ParseError) and size.path == label_file:
            raise size
        name = _rel(item.image, item.split.image_root)
        fields = {"subset": item.split.name, "image": _rel(item.image, ds.root)}
        source = SourceRef(file=str(item.image))
        if text is None:
            if not item.image.is_file():
                self.report.tally("image-not-found")
                self.report.note("image-not-found", f"{item.split.origin} lists images that do not exist (e.g. {item.image})")
                return None
            self.report.tally("label-file-missing")
            return Asset(name=name, media=Media.IMAGE, source=source, dataset=item.split.name, fields=fields)
        if not text.strip():
            self.report.tally("label-file-empty")
            return Asset(name=name, media=Media.IMAGE, source=source, dataset=item.split.name, fields=fields)
        if isinstance(size, ConversionError):
            code = "image-not-found" if not item.image.is_file() else "image-unreadable"
            skip_rows(text, file=label_file, report=self.report, code=code, message=f"cannot size the image: {size}")
            return None
        width, height = size
        anns = parse_rows(text, file=label_file, width=width, height=height, rules=rules, report=self.report)
        return Asset(
            name=name, media=Media.IMAGE, source=source, annotations=tuple(anns), width=width, height=height,
            dataset=item.split.name, fields=fields,
        )

    def _orphans(self, ds: Dataset, items: list[_Item], used: set[Path]) -> None:
        """Label files no image points at: every row reported, stray texts (README) tallied."""
        expected = {i.label for i in items if i.label is not None}
        skip = ds.list_files | {ds.source}
        folders = {p.parent for p in expected}
        if not used:
            # Nothing paired (labels without images, a list of images that moved): the label
            # files in the dataset folder itself are accounted too, never silently left.
            folders.add(ds.root if ds.label_root is None else ds.label_root)
        conf = Confinement(ds.root, self.context.follow_links)
        for folder in sorted(folders):
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError:
                continue
            for entry in entries:
                path = Path(entry.path)
                if not entry.name.endswith(".txt") or entry.name in NAME_FILES or path in expected or path in skip or not entry.is_file():
                    continue
                conf.check(path)
                try:
                    text = path.read_text(encoding="utf-8-sig")
                except (UnicodeDecodeError, OSError):
                    text = "?"
                if not looks_like_labels(text):
                    self.report.tally("stray-text-file")
                    continue
                skip_rows(text, file=str(path), report=self.report, code="label-without-image", message="no image of the dataset has this label file")
                self.report.tally("label-without-image")

    def _read_classify(self, ds: Dataset) -> Iterator[Asset]:
        """Folder-per-class datasets: one global radio ``class`` per image (an image listed
        twice is read once, as in detection datasets)."""
        for split, image in self._images_once(ds):
            if not image.is_file():
                self.report.tally("image-not-found")
                continue
            rel = _rel(image, split.image_root)
            parts = rel.split("/")
            subset = split.name
            if len(parts) == 3 and not subset:
                subset = parts[0]
            elif len(parts) != 2:
                self.report.tally("image-without-class-folder")
                continue
            cls, name = parts[-2], "/".join(parts[-2:])
            src = SourceRef(file=str(image), element=f"class folder {cls}")
            ann = Annotation(key="class", source=src, classification=Classification.radio("class", cls))
            yield Asset(
                name=name, media=Media.IMAGE, source=src, annotations=(ann,), dataset=subset,
                fields={"subset": subset, "image": _rel(image, ds.root)},
            )


def _labels_only(folder: Path) -> bool:
    """A folder of YOLO label files and nothing else (X-AnyLabeling ``labels/``, LabelImg output)."""
    if not holds_only_labels(folder):
        return False
    for path in label_files(folder)[:5]:
        try:
            with open(path, encoding="utf-8-sig") as fh:
                head = fh.read(4096)
        except (OSError, UnicodeDecodeError):
            return False
        if not looks_like_labels(head.rsplit("\n", 1)[0] if len(head) == 4096 else head):
            return False
    return True


def _paired_label(image: Path, split: Split, label_root: Path) -> Path:
    """An image's label file under ``label_root``: same relative path, else same base name."""
    rel = _rel(image, split.image_root).rsplit(".", 1)[0] + ".txt"
    path = label_root / rel
    return path if path.is_file() else label_root / (image.name.rsplit(".", 1)[0] + ".txt")


def _label_text(path: Path) -> str | None:
    """A label file's text, or None when it is missing or unreadable (read() reports those)."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None


def _exists(path: Path | None) -> bool:
    return path is not None and path.is_file()


def _rel(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` in POSIX form (string work: this runs per image)."""
    p, r = str(path), str(root)
    if p.startswith(r) and len(p) > len(r) and p[len(r)] == os.sep:
        return p[len(r) + 1 :].replace(os.sep, "/")
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name


def _yaml_has_names(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(65536)
    except OSError:
        return False
    return b"names" in head and (b"train" in head or b"path" in head or b"nc" in head)


def _no_labels_message(ds: Dataset, labels_dir: str) -> str:
    images_dirs = sorted({p.parent for s in ds.splits for p in s.images[:50]})
    near: set[str] = set()
    for d in images_dirs[:20]:
        for up in (d.parent, d.parent.parent):
            if (up / "images").is_dir() or (up / "Images").is_dir():
                near.update(
                    e.name for e in up.iterdir()
                    if e.is_dir() and not is_image(e.name) and e.name not in ("images", "Images") and any(e.glob("**/*.txt"))
                )
    hint = f"; folders with .txt files nearby: {', '.join(sorted(near))} (choose one with --yolo-labels-dir)" if near else ""
    return f"no label files found for any image (looked for a {labels_dir!r} folder mirroring 'images', and .txt beside each image){hint}"
