"""Where a YOLO dataset keeps its images, labels and class names.

Three families of layout are found here, and each becomes a list of :class:`Split`:

* **Ultralytics** ``data.yaml``: ``path`` (dataset root, relative to the YAML), ``train`` /
  ``val`` / ``test`` as a folder, a ``.txt`` list of images or a YAML list; ``names`` as a
  list or an ``{id: name}`` dict; ``kpt_shape``, ``kpt_names``.
* **Darknet** ``obj.data`` (CVAT "YOLO 1.1"): ``train = data/train.txt``,
  ``names = data/obj.names``; the ``data/`` prefix is darknet's working folder, i.e. the root.
* **Folders** with no YAML: ``images/<split>/`` (or ``Images/``), ``<split>/images/``
  (Roboflow), or images with labels beside them; names from ``obj.names`` / ``classes.txt``.

Every path named in a YAML, a ``.data`` file or a list file is untrusted: it is resolved
inside the dataset root with :func:`resolve_inside`, and what cannot be found is reported,
never guessed outside the root (Ultralytics also looks in the current folder and a global
datasets folder; we do not).
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ...errors import ParseError, SourceNotFoundError, UnsafeInputError
from ...report import Report
from .._images import IMAGE_SUFFIXES
from .._paths import Confinement, LinkOutsideError, resolve_inside

__all__ = ["NAME_FILES", "Dataset", "Split", "discover", "find_images", "holds_only_labels", "label_files", "load_yaml"]

#: More classes than any detection dataset has (Open Images: 601, LVIS: 1,203, ImageNet-21k:
#: 21,841); a larger ``nc`` or class index is an error, not a table to allocate.
MAX_CLASSES = 100_000
#: Dataset YAMLs bigger than this are not dataset YAMLs.
MAX_YAML_BYTES = 4_000_000
_SPLIT_KEYS = ("train", "val", "valid", "test")
NAME_FILES = ("obj.names", "classes.txt", "classes.names", "labels.txt")
_IMAGE_DIRS = ("images", "Images", "JPEGImages")


@dataclass(slots=True)
class Split:
    """One subset: its images (absolute paths) and the folder their names are relative to."""

    name: str
    images: list[Path]
    image_root: Path
    origin: str  # where the split was declared, for messages


@dataclass(slots=True)
class Dataset:
    """What the layout says about a dataset: root, splits, classes, keypoint shape."""

    root: Path
    source: Path  # the YAML / obj.data / folder the user named
    splits: list[Split]
    names: dict[int, str] | None
    kpt_shape: tuple[int, int] | None = None
    kpt_names: dict[int, list[str]] | list[str] | None = None
    task: str | None = None
    nc: int | None = None
    layout: str = "folders"
    list_files: set[Path] = field(default_factory=set)
    #: Set when the labels sit apart from the images (a labels-only folder + ``--images``):
    #: each image's label file is looked up here by relative path, then by base name.
    label_root: Path | None = None


# --------------------------------------------------------------------------- files


def load_yaml(path: Path) -> Any:
    """``yaml.safe_load`` of a dataset YAML; a syntax error is a one-line ParseError."""
    import yaml

    if path.stat().st_size > MAX_YAML_BYTES:
        raise ParseError(path, f"larger than {MAX_YAML_BYTES} bytes: not a dataset YAML")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        return yaml.load(text, Loader=_loader())  # noqa: S506 (a SafeLoader that also refuses aliases)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        loc = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        raise ParseError(path, f"invalid YAML: {exc.problem}", location=loc) from None
    except yaml.YAMLError as exc:
        raise ParseError(path, f"invalid YAML: {exc}") from None
    except RecursionError:
        raise ParseError(path, "invalid YAML: nested too deeply") from None


def _loader() -> type:
    """``yaml.SafeLoader`` refusing aliases: a few anchors can expand to gigabytes ("billion
    laughs") and no dataset YAML needs them."""
    import yaml

    class NoAliasSafeLoader(yaml.SafeLoader):  # type: ignore[misc]  # yaml has no stubs here
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(None, None, "YAML aliases (*name) are refused", mark)
            return super().compose_node(parent, index)

    return NoAliasSafeLoader


def _read_lines(path: Path) -> list[tuple[int, str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if "\0" in text:
        line = text.count("\n", 0, text.index("\0")) + 1
        raise ParseError(path, "holds a NUL byte: not a text file", location=f"line {line}")
    return [(n, ln.strip()) for n, ln in enumerate(text.splitlines(), 1) if ln.strip()]


def _names_file(path: Path) -> dict[int, str]:
    return {i: line for i, (_, line) in enumerate(_read_lines(path))}


def _parse_names(value: Any, path: Path) -> dict[int, str] | None:
    if value is None:
        return None
    if isinstance(value, list):
        return {i: _class_name(v, path, i) for i, v in enumerate(value)}
    if isinstance(value, dict):
        out: dict[int, str] = {}
        for k, v in value.items():
            index = _class_index(k, path, "names")
            out[index] = _class_name(v, path, index)
        return out
    raise ParseError(path, f"names must be a list or a mapping, not {type(value).__name__}")


def _class_index(key: Any, path: Path, field: str) -> int:
    """A class index key (``0``, ``"3"``); ``.inf``, ``1.5``, ``true`` or a 400-digit number
    are one-line errors, not an OverflowError."""
    try:
        if isinstance(key, bool) or (isinstance(key, float) and not key.is_integer()):
            raise ValueError
        index = int(key)
    except (TypeError, ValueError, OverflowError):
        raise ParseError(path, f"{field}: key {str(key)[:40]!r} is not a class index") from None
    if not 0 <= index < MAX_CLASSES:
        raise ParseError(path, f"{field}: class index {str(key)[:40]} is outside 0..{MAX_CLASSES - 1}")
    return index


def _class_name(value: Any, path: Path, index: int) -> str:
    """A class name: text, not empty, no control characters (a Labelbox feature name)."""
    name = str(value).strip()
    if not name or any(ord(c) < 32 for c in name):
        raise ParseError(path, f"names: class {index} has an empty or unprintable name {str(value)[:40]!r}")
    return name


def _kpt_shape(value: Any, path: Path) -> tuple[int, int] | None:
    if value is None:
        return None
    if (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        and value[0] > 0
        and value[1] in (2, 3)
    ):
        return int(value[0]), int(value[1])
    raise ParseError(path, f"kpt_shape must be [K, 2] or [K, 3], got {value!r}")


def is_image(name: str) -> bool:
    return name.lower().endswith(IMAGE_SUFFIXES)


def find_images(folder: Path) -> list[Path]:
    """Every image under ``folder`` (recursive), sorted by path; symlinked folders not followed."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        found.extend(Path(dirpath, f) for f in filenames if is_image(f))
    found.sort()
    return found


# --------------------------------------------------------------------------- resolving


def _resolve(
    root: Path, name: str, origin: Path, report: Report, *, location: str | None = None, follow: bool = False
) -> Path | None:
    """A path named by the dataset, inside ``root``, or None (reported) when absent.

    Tried in order: as written; without darknet's ``data/`` prefix; without Roboflow's
    leading ``../`` (Ultralytics retries the same way); an absolute path by its shortest
    tail that exists under the root.
    """
    text = name.strip().replace("\\", "/")
    candidates: list[str] = []
    if text.startswith("/") or (len(text) > 1 and text[1] == ":"):
        parts = PurePosixPath(text.split(":", 1)[-1]).parts[1:]
        candidates = ["/".join(parts[i:]) for i in range(len(parts) - 1, -1, -1)]
        candidates.reverse()
    else:
        candidates.append(text)
        stripped = text
        while stripped.startswith("../"):
            stripped = stripped[3:]
            candidates.append(stripped)
        if text.startswith("data/"):
            candidates.append(text[5:])
        if text.startswith("./"):
            try:
                here = origin.parent.resolve().relative_to(root.resolve()).as_posix()
            except ValueError:
                here = ""
            if here and here != ".":
                candidates.append(f"{here}/{text[2:]}")
    for cand in candidates:
        try:
            path = resolve_inside(root, cand, source_file=origin, location=location,
                                  confine=Confinement(root, follow))
        except LinkOutsideError:
            if not os.path.lexists(root / cand):
                continue
            raise  # a link leading out of the dataset: refused, with --follow-links named
        except UnsafeInputError:
            continue  # never read outside the root; a retry may still find it inside
        if path.exists():
            return path
    return None


def _common_root(paths: list[Path], fallback: Path) -> Path:
    if not paths:
        return fallback
    parents = {p.parent for p in paths}
    if len(parents) == 1:
        return next(iter(parents))
    return Path(os.path.commonpath([str(p) for p in parents]))


def _split_from_value(
    name: str, value: Any, root: Path, origin: Path, report: Report, list_files: set[Path], follow: bool = False
) -> Split | None:
    """A split from a YAML / obj.data value: a folder, a list file, an image, or a list of those."""
    entries = value if isinstance(value, list) else [value]
    images: list[Path] = []
    dirs: list[Path] = []
    for entry in entries:
        if entry is None or entry == "":
            continue
        if not isinstance(entry, str):
            raise ParseError(origin, f"{name}: expected a path or a list of paths, got {entry!r}")
        path = _resolve(root, entry, origin, report, location=name, follow=follow)
        if path is None:
            report.note("split-not-found", f"{origin.name}: {name}: {entry!r} not found under {root}; split not read")
            report.tally("split-not-found")
            continue
        if path.is_dir():
            dirs.append(path)
            images.extend(find_images(path))
        elif path.suffix.lower() == ".txt":
            list_files.add(path)
            images.extend(_list_file(path, root, report, follow))
        elif is_image(path.name):
            images.append(path)
        else:
            raise ParseError(origin, f"{name}: {entry!r} is neither a folder, a .txt list nor an image")
    if not dirs and not images:
        return None
    image_root = dirs[0] if len(dirs) == 1 and not any(dirs[0] not in p.parents for p in images) else _common_root([p for p in images if p.exists()], root)
    return Split(name=name, images=images, image_root=image_root, origin=f"{origin.name}: {name}")


def _list_file(path: Path, root: Path, report: Report, follow: bool = False) -> list[Path]:
    out: list[Path] = []
    for lineno, line in _read_lines(path):
        if line.startswith("#"):
            continue
        img = _resolve(root, line, path, report, location=f"line {lineno}", follow=follow)
        if img is None:
            # Keep it: the reader reports the missing image together with its labels.
            out.append(_unresolved(root, line))
        else:
            out.append(img)
    return out


def _unresolved(root: Path, line: str) -> Path:
    text = line.replace("\\", "/")
    if text.startswith("data/"):
        text = text[5:]
    clean = posixpath.normpath(text.lstrip("/"))
    while clean.startswith("../"):
        clean = clean[3:]
    return root / clean


# --------------------------------------------------------------------------- layouts


def discover(source: Path, report: Report, *, follow_links: bool = False) -> Dataset:
    """The dataset a SOURCE path (YAML, obj.data, or folder) describes.

    The SOURCE itself is trusted (the user named it); files found by listing its folder
    (YAMLs, name files) must really be inside it (see :class:`Confinement`).
    """
    if not source.exists():
        raise SourceNotFoundError(source)
    if source.is_file():
        if source.suffix.lower() in (".yaml", ".yml"):
            return _from_yaml(source, report, follow_links)
        if source.suffix.lower() == ".data":
            return _from_darknet(source, report, follow_links)
        raise ParseError(source, "not a YOLO dataset file (expected data.yaml or obj.data, or the dataset folder)")
    conf = Confinement(source, follow_links)
    yamls = [p for p in sorted(source.glob("*.y*ml"))
             if p.suffix.lower() in (".yaml", ".yml") and conf.check(p) and _is_dataset_yaml(p)]
    if not yamls and (source / "data.yaml").is_file():
        # A data.yaml that does not parse is still the dataset's YAML: the same error as
        # when it is named, never a silent fall back to guessing folders.
        load_yaml(conf.check(source / "data.yaml"))
    if len(yamls) == 1:
        return _from_yaml(yamls[0], report, follow_links)
    if len(yamls) > 1:
        names = ", ".join(p.name for p in yamls)
        raise ParseError(source, f"several dataset YAMLs ({names}): name the one to convert as SOURCE")
    if (source / "obj.data").is_file():
        return _from_darknet(conf.check(source / "obj.data"), report, follow_links)
    return _from_folders(source, report, conf)


def _is_dataset_yaml(path: Path) -> bool:
    try:
        data = load_yaml(path)
    except ParseError:
        return False
    return isinstance(data, dict) and ("names" in data or any(k in data for k in ("train", "val", "nc")))


def _from_yaml(path: Path, report: Report, follow: bool = False) -> Dataset:
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise ParseError(path, "a dataset YAML must be a mapping (path, train, val, names...)")
    base = path.parent
    root = base
    declared = data.get("path")
    if isinstance(declared, str) and declared.strip() not in ("", "."):
        try:
            candidate = resolve_inside(base, declared, source_file=path, location="path",
                                       confine=Confinement(base, follow))
        except LinkOutsideError:
            raise
        except UnsafeInputError:
            candidate = None
        if candidate is not None and candidate.is_dir():
            root = candidate
        else:
            report.note("path-ignored", f"{path.name}: path {declared!r} is not a folder inside {base}; using the YAML's folder")
    names = _parse_names(data.get("names"), path)
    nc = _nc(data.get("nc"), path)
    if names is None and nc is not None:
        names = {i: str(i) for i in range(nc)}
        report.note("no-class-names", f"{path.name}: no names, classes are named by their index")
    if names is not None and nc is not None and nc != len(names):
        report.note("nc-mismatch", f"{path.name}: nc is {nc} but names lists {len(names)} classes; names wins")
    list_files: set[Path] = set()
    splits = []
    missing: list[str] = []
    for key in _SPLIT_KEYS:
        if key in data and data[key] not in (None, ""):
            split = _split_from_value(key, data[key], root, path, report, list_files, follow)
            if split is not None:
                splits.append(split)
            else:
                missing.append(f"{key} {data[key]!r}")
    if missing and not splits:
        raise ParseError(path, f"no split found under {root}: {', '.join(missing)} (nothing there; fix the paths in the YAML)")
    layout = "ultralytics"
    if not any(k in data for k in _SPLIT_KEYS):
        # No split declared (DagsHub writes only path + names): look at the folders.
        splits = _folder_splits(root, report)
        layout = "ultralytics-folders"
    kpt_names = data.get("kpt_names")
    task = data.get("task") if isinstance(data.get("task"), str) else None
    return Dataset(
        root=root, source=path, splits=splits, names=names, kpt_shape=_kpt_shape(data.get("kpt_shape"), path),
        kpt_names=_parse_kpt_names(kpt_names, path), task=task, nc=nc, layout=layout, list_files=list_files,
    )


def _nc(value: Any, path: Path) -> int | None:
    """``nc``, bounded: the reader names classes 0..nc-1 when the YAML lists no names, so a
    claimed ``nc: 100000000000`` must fail before that table is made."""
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    if not 0 <= value <= MAX_CLASSES:
        raise ParseError(path, f"nc is {str(value)[:40]}: expected 0 to {MAX_CLASSES:,} classes", location="nc")
    return value


def _parse_kpt_names(value: Any, path: Path) -> dict[int, list[str]] | list[str] | None:
    if value is None:
        return None
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, dict):
        out: dict[int, list[str]] = {}
        for k, v in value.items():
            if not isinstance(v, list):
                raise ParseError(path, f"kpt_names: class {k!r} needs a list of names")
            out[_class_index(k, path, "kpt_names")] = [str(x) for x in v]
        return out
    raise ParseError(path, "kpt_names must be a list or a mapping of class -> list")


def _from_darknet(path: Path, report: Report, follow: bool = False) -> Dataset:
    root = path.parent
    values: dict[str, str] = {}
    for lineno, line in _read_lines(path):
        if line.startswith("#"):
            continue
        if "=" not in line:
            raise ParseError(path, f"expected 'key = value', got {line!r}", location=f"line {lineno}")
        key, value = (s.strip() for s in line.split("=", 1))
        values[key] = value
    names: dict[int, str] | None = None
    if "names" in values:
        names_path = _resolve(root, values["names"], path, report, location="names", follow=follow)
        if names_path is None:
            raise SourceNotFoundError(root / values["names"], f"class names file named by {path.name} not found")
        if not names_path.is_file():
            raise ParseError(path, f"names = {values['names']!r} is a folder, not a class names file", location="names")
        names = _names_file(names_path)
    else:
        names = _names_near(root, Confinement(root, follow))
    nc = int(values["classes"]) if values.get("classes", "").isdigit() else None
    if names is not None and nc is not None and nc != len(names):
        report.note("nc-mismatch", f"{path.name}: classes = {nc} but the names file lists {len(names)}; names wins")
    list_files: set[Path] = set()
    splits = []
    for key in _SPLIT_KEYS:
        if values.get(key):
            split = _split_from_value(key, values[key], root, path, report, list_files, follow)
            if split is not None:
                splits.append(split)
    return Dataset(root=root, source=path, splits=splits, names=names, nc=nc, layout="darknet", list_files=list_files)


def _names_near(folder: Path, conf: Confinement | None = None) -> dict[int, str] | None:
    conf = conf or Confinement(folder)
    for name in NAME_FILES:
        if (folder / name).is_file():
            return _names_file(conf.check(folder / name))
    found = sorted(folder.glob("*.names"))
    return _names_file(conf.check(found[0])) if len(found) == 1 else None


def _from_folders(root: Path, report: Report, conf: Confinement | None = None) -> Dataset:
    names = _names_near(root, conf)
    if names is None and root.name.lower() in ("labels", "annotations") and holds_only_labels(root):
        # labels/ + classes.txt beside it (X-AnyLabeling); that file may not link elsewhere either
        follow = conf.follow_links if conf is not None else False
        names = _names_near(root.parent, Confinement(root.parent, follow))
    if names is None:
        report.note("no-class-names", f"{root}: no obj.names or classes.txt; classes are named by their index")
    return Dataset(root=root, source=root, splits=_folder_splits(root, report), names=names, layout="folders")


def holds_only_labels(folder: Path) -> bool:
    """Whether ``folder`` has .txt files and no image at its top level (a labels-only folder)."""
    try:
        names = [e.name for e in os.scandir(folder) if e.is_file()]
    except OSError:
        return False
    return any(n.endswith(".txt") for n in names) and not any(is_image(n) for n in names)


def label_files(folder: Path) -> list[Path]:
    """The ``.txt`` files directly in ``folder`` that are not class-name files, sorted."""
    try:
        entries = [e for e in os.scandir(folder) if e.is_file() and e.name.endswith(".txt")]
    except OSError:
        return []
    return sorted(Path(e.path) for e in entries if e.name not in NAME_FILES)


def _folder_splits(root: Path, report: Report) -> list[Split]:
    """Splits of a dataset without a split list: ``images/<split>``, ``<split>/images``, or flat."""
    for dirname in _IMAGE_DIRS:
        images_dir = root / dirname
        if images_dir.is_dir():
            return _splits_under(images_dir, root)
    nested = [d for d in sorted(p for p in root.iterdir() if p.is_dir()) if any((d / n).is_dir() for n in _IMAGE_DIRS)]
    if nested:
        splits = []
        for d in nested:
            img_dir = next(d / n for n in _IMAGE_DIRS if (d / n).is_dir())
            splits.append(Split(name=d.name, images=find_images(img_dir), image_root=img_dir, origin=str(img_dir)))
        return splits
    return [Split(name="", images=find_images(root), image_root=root, origin=str(root))]


def _splits_under(images_dir: Path, root: Path) -> list[Split]:
    direct = sorted(p for p in images_dir.iterdir() if p.is_file() and is_image(p.name))
    subdirs = sorted(p for p in images_dir.iterdir() if p.is_dir())
    if direct or not subdirs:
        return [Split(name="", images=find_images(images_dir), image_root=images_dir, origin=str(images_dir))]
    return [Split(name=d.name, images=find_images(d), image_root=d, origin=str(d)) for d in subdirs]
