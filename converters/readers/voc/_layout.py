"""Where a Pascal VOC dataset keeps its files: devkit trees, VOCdevkit roots, relaxed folders.

Layouts understood (folder names matched case-insensitively, as exports vary):

* devkit: ``Annotations/``, ``JPEGImages/`` (or ``images/``), ``SegmentationClass/``,
  ``SegmentationObject/``, ``ImageSets/{Main,Segmentation,Layout,Action}/<subset>.txt``,
  optional ``labelmap.txt``. A dataset may have masks and no XML at all.
* ``VOCdevkit/``: a folder whose children are devkit trees (``VOC2007``, ``VOC2012``).
* relaxed: ``*.xml`` anywhere below the folder, each next to its image (labelImg, Roboflow,
  Kaggle); the first sub-folder is the subset (``train/``, ``valid/``).
* one ``.xml`` file.

Subset lists are read for their subset names only: every annotation file and mask found is
converted, listed or not, so a partial ImageSets folder cannot drop data silently.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ...errors import SourceNotFoundError
from .._paths import Confinement, clean_relative

__all__ = ["VocDataset", "VocItem", "discover", "looks_like_voc", "read_image_labels"]

_IMAGE_DIRS = ("JPEGImages", "images", "JPEGImage", "imgs")
_LIST_TASKS = ("Main", "Segmentation", "Layout", "Action")
_ANNOTATION_ROOT = re.compile(rb"<annotation[\s>]")


@dataclass(frozen=True, slots=True)
class VocItem:
    """One image of a dataset and the files that describe it (any may be missing)."""

    id: str  # path relative to the annotation folder, POSIX, without suffix
    xml: Path | None
    subset: str
    image_dir: Path  # the image is image_dir / name_prefix / <filename>
    name_prefix: str  # sub-folder of the item, prepended to the asset name
    seg_object: Path | None = None
    seg_class: Path | None = None


@dataclass(frozen=True, slots=True)
class VocDataset:
    """One VOC dataset root and its items, in reading order."""

    root: Path
    name: str
    items: tuple[VocItem, ...]
    labelmap: Path | None
    relaxed: bool
    class_lists: int  # ImageSets/Main/<class>_<subset>.txt files seen
    unlisted: int  # items not named by any ImageSets list, when lists exist
    #: The per-class lists: ``(label, file)``; read by :func:`read_image_labels` on demand.
    class_list_files: tuple[tuple[str, Path], ...] = ()
    conf: Confinement | None = None  # where images may be opened (None: the root)


def _child(folder: Path, *names: str) -> Path | None:
    """The sub-folder (or file) of ``folder`` named like one of ``names``, any case."""
    try:
        entries = {e.lower(): e for e in os.listdir(folder)}
    except OSError:
        return None
    for name in names:
        hit = entries.get(name.lower())
        if hit is not None:
            return folder / hit
    return None


def _dir(folder: Path, *names: str) -> Path | None:
    hit = _child(folder, *names)
    return hit if hit is not None and hit.is_dir() else None


def _is_devkit(folder: Path) -> bool:
    return any(_dir(folder, n) for n in ("Annotations", "SegmentationClass", "SegmentationObject"))


def _files(conf: Confinement, folder: Path, suffix: str) -> dict[str, Path]:
    """``id -> path`` for every file with ``suffix`` below ``folder``, sorted by id.

    Sub-folder links are not followed (``os.walk``); a file, or ``folder`` itself, that is a
    link must stay inside the dataset root, so an export cannot make the reader open a
    file elsewhere on the machine (see :class:`Confinement`).
    """
    found: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        rel_dir = Path(dirpath).relative_to(folder).as_posix()
        for fname in filenames:
            if not fname.lower().endswith(suffix):
                continue
            path = Path(dirpath, fname)
            conf.check(path)
            stem = fname[: -len(suffix)]
            found.append((stem if rel_dir == "." else f"{rel_dir}/{stem}", path))
    return dict(sorted(found))


def _subset_lists(root: Path, conf: Confinement) -> list[tuple[str, Path]]:
    """``(subset, list file)`` of ImageSets, per-class lists (``cat_train.txt``) left out."""
    sets = _dir(root, "ImageSets")
    if sets is None:
        return []
    found: list[tuple[str, Path]] = []
    for task in _LIST_TASKS:
        folder = _dir(sets, task)
        if folder is None:
            continue
        stems = {p.stem: p for p in folder.glob("*.txt") if p.is_file()}
        for stem, path in sorted(stems.items()):
            if "_" in stem and stem.rsplit("_", 1)[1] in stems and stem.rsplit("_", 1)[1] != stem:
                continue  # <class>_<subset>.txt: image-level class flags, not a subset
            found.append((stem, conf.check(path)))
    # unions such as trainval last, so an image takes its most specific subset
    found.sort(key=lambda sp: (sp[0] == "trainval", sp[0]))
    return found


def _class_lists(root: Path) -> int:
    return len(_class_list_files(root))


def _class_list_files(root: Path) -> tuple[tuple[str, Path], ...]:
    """``(label, path)`` of every ``ImageSets/Main/<label>_<subset>.txt`` (subset listed too)."""
    main = _dir(root, "ImageSets")
    main = _dir(main, "Main") if main is not None else None
    if main is None:
        return ()
    stems = {p.stem: p for p in main.glob("*.txt")}
    return tuple(
        (s.rsplit("_", 1)[0], p) for s, p in sorted(stems.items()) if "_" in s and s.rsplit("_", 1)[1] in stems
    )


def read_image_labels(
    files: Iterable[tuple[str, Path]], conf: Confinement | None = None
) -> dict[str, list[tuple[str, Path, int]]]:
    """Image id -> ``(label, list file, line)`` of every label marked present (``1``).

    The devkit's per-class lists say, per image, ``1`` (present), ``-1`` (absent) or ``0``
    (present but only as difficult objects); datumaro keeps image-level labels this way.
    Only ``1`` counts as present. A list that links outside the dataset root (``conf``) is
    refused, as the subset lists are.
    """
    out: dict[str, list[tuple[str, Path, int]]] = {}
    for label, path in files:
        if conf is not None:
            conf.check(path)
        text = path.read_text(encoding="utf-8-sig", errors="replace")
        for lineno, raw in enumerate(text.splitlines(), start=1):
            parts = raw.split()
            if len(parts) == 2 and parts[1] == "1" and not parts[0].startswith("#"):
                ident = clean_relative(parts[0], source_file=path, location=f"line {lineno}")
                out.setdefault(ident, []).append((label, path, lineno))
    return out


def _read_list(path: Path) -> Iterable[str]:
    """Ids of a subset list: first word of each line; blank lines and ``#`` comments skipped."""
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        yield clean_relative(line.split()[0], source_file=path, location=f"line {lineno}")


def _devkit(root: Path, conf: Confinement, name: str = "", only: Path | None = None) -> VocDataset:
    ann = _dir(root, "Annotations")
    images = _dir(root, *_IMAGE_DIRS) or root
    seg_obj = _dir(root, "SegmentationObject")
    seg_cls = _dir(root, "SegmentationClass")
    labelmap = _child(root, "labelmap.txt")
    xmls = _files(conf, ann, ".xml") if ann is not None else {}
    objs = _files(conf, seg_obj, ".png") if seg_obj is not None else {}
    clss = _files(conf, seg_cls, ".png") if seg_cls is not None else {}
    if labelmap is not None and labelmap.is_file():
        conf.check(labelmap)
    if only is not None:
        ident = only.relative_to(ann).with_suffix("").as_posix() if ann else only.stem
        xmls = {ident: only}
        order = [(ident, "")]
        lists: list[tuple[str, Path]] = []
    else:
        lists = _subset_lists(root, conf)
        seen: dict[str, str] = {}
        for subset, path in lists:
            for ident in _read_list(path):
                seen.setdefault(ident, subset)
        order = list(seen.items())
        rest = sorted((set(xmls) | set(objs) | set(clss)) - set(seen))
        order += [(ident, "") for ident in rest]
    items = []
    for ident, subset in order:
        prefix = ident.rpartition("/")[0]
        items.append(
            VocItem(
                id=ident,
                xml=xmls.get(ident),
                subset=subset,
                image_dir=images,
                name_prefix=f"{prefix}/" if prefix else "",
                seg_object=objs.get(ident),
                seg_class=clss.get(ident),
            )
        )
    unlisted = len(order) - len(seen) if only is None and lists else 0
    return VocDataset(
        root=root,
        name=name,
        items=tuple(items),
        labelmap=labelmap if labelmap is not None and labelmap.is_file() else None,
        relaxed=False,
        class_lists=_class_lists(root) if only is None else 0,
        unlisted=unlisted,
        class_list_files=_class_list_files(root) if only is None else (),
        conf=conf,
    )


def _relaxed(root: Path, conf: Confinement) -> VocDataset | None:
    items = []
    for ident, path in _files(conf, root, ".xml").items():
        parent = ident.rpartition("/")[0]
        items.append(
            VocItem(
                id=ident,
                xml=path,
                subset=parent.split("/")[0] if parent else "",
                image_dir=root,
                name_prefix=f"{parent}/" if parent else "",
            )
        )
    if not items:
        return None
    return VocDataset(root=root, name="", items=tuple(items), labelmap=None, relaxed=True, class_lists=0, unlisted=0,
                      conf=conf)


def discover(source: Path, *, follow_links: bool = False) -> list[VocDataset]:
    """The datasets of one SOURCE path (a file, a devkit tree, a VOCdevkit root, a folder).

    Files found by listing folders must really be inside the SOURCE folder (or the devkit
    of a SOURCE file); ``follow_links`` lifts that.
    """
    if source.is_file():
        if source.suffix.lower() != ".xml":
            raise SourceNotFoundError(source, "not a Pascal VOC annotation file (.xml) or dataset folder")
        parent = source.parent
        if parent.name.lower() == "annotations":
            return [_devkit(parent.parent, Confinement(parent.parent, follow_links), only=source)]
        return [
            VocDataset(
                root=parent,
                name="",
                items=(VocItem(id=source.stem, xml=source, subset="", image_dir=parent, name_prefix=""),),
                labelmap=None,
                relaxed=False,
                class_lists=0,
                unlisted=0,
            )
        ]
    if not source.is_dir():
        raise SourceNotFoundError(source)
    conf = Confinement(source, follow_links)
    if _is_devkit(source):
        return [_devkit(source, conf)]
    children = sorted(p for p in source.iterdir() if p.is_dir() and _is_devkit(p))
    if children:
        return [_devkit(child, conf, name=child.name) for child in children]
    relaxed = _relaxed(source, conf)
    if relaxed is None:
        raise SourceNotFoundError(
            source, "no Pascal VOC data found (no Annotations/, Segmentation*/ or *.xml files)"
        )
    return [relaxed]


def looks_like_voc(path: Path) -> bool:
    """Cheap check for ``--from auto``: a ``<annotation>`` root in an XML, or a devkit tree."""
    if path.is_file():
        return path.suffix.lower() == ".xml" and _head_is_voc(path)
    if not path.is_dir():
        return False
    if _is_devkit(path):
        ann = _dir(path, "Annotations")
        if ann is None:
            return True  # segmentation-only devkit tree
        return any(_head_is_voc(p) for _, p in zip(range(3), ann.glob("*.xml")))
    for child in (p for p in path.iterdir() if p.is_dir()):
        if _is_devkit(child):
            return True
    return any(_head_is_voc(p) for _, p in zip(range(3), path.rglob("*.xml")))


def _head_is_voc(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return _ANNOTATION_ROOT.search(head) is not None
