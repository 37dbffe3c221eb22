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

from ..errors import ParseError, SourceNotFoundError, UnsafeInputError
from ..report import Report
from ._images import IMAGE_SUFFIXES
from ._paths import resolve_inside

__all__ = ["NAME_FILES", "Dataset", "Split", "discover", "find_images", "load_yaml"]

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
    return [(n, ln.strip()) for n, ln in enumerate(text.splitlines(), 1) if ln.strip()]


def _names_file(path: Path) -> dict[int, str]:
    return {i: line for i, (_, line) in enumerate(_read_lines(path))}


def _parse_names(value: Any, path: Path) -> dict[int, str] | None:
    if value is None:
        return None
    if isinstance(value, list):
        return {i: str(v) for i, v in enumerate(value)}
    if isinstance(value, dict):
        out: dict[int, str] = {}
        for k, v in value.items():
            try:
                out[int(k)] = str(v)
            except (TypeError, ValueError):
                raise ParseError(path, f"names: key {k!r} is not a class index") from None
        return out
    raise ParseError(path, f"names must be a list or a mapping, not {type(value).__name__}")


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


def _resolve(root: Path, name: str, origin: Path, report: Report, *, location: str | None = None) -> Path | None:
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
            path = resolve_inside(root, cand, source_file=origin, location=location)
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
    name: str, value: Any, root: Path, origin: Path, report: Report, list_files: set[Path]
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
        path = _resolve(root, entry, origin, report, location=name)
        if path is None:
            report.note("split-not-found", f"{origin.name}: {name}: {entry!r} not found under {root}; split not read")
            report.tally("split-not-found")
            continue
        if path.is_dir():
            dirs.append(path)
            images.extend(find_images(path))
        elif path.suffix.lower() == ".txt":
            list_files.add(path)
            images.extend(_list_file(path, root, report))
        elif is_image(path.name):
            images.append(path)
        else:
            raise ParseError(origin, f"{name}: {entry!r} is neither a folder, a .txt list nor an image")
    if not dirs and not images:
        return None
    image_root = dirs[0] if len(dirs) == 1 and not any(dirs[0] not in p.parents for p in images) else _common_root([p for p in images if p.exists()], root)
    return Split(name=name, images=images, image_root=image_root, origin=f"{origin.name}: {name}")


def _list_file(path: Path, root: Path, report: Report) -> list[Path]:
    out: list[Path] = []
    for lineno, line in _read_lines(path):
        if line.startswith("#"):
            continue
        img = _resolve(root, line, path, report, location=f"line {lineno}")
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


def discover(source: Path, report: Report) -> Dataset:
    """The dataset a SOURCE path (YAML, obj.data, or folder) describes."""
    if not source.exists():
        raise SourceNotFoundError(source)
    if source.is_file():
        if source.suffix.lower() in (".yaml", ".yml"):
            return _from_yaml(source, report)
        if source.suffix.lower() == ".data":
            return _from_darknet(source, report)
        raise ParseError(source, "not a YOLO dataset file (expected data.yaml or obj.data, or the dataset folder)")
    yamls = [p for p in sorted(source.glob("*.y*ml")) if p.suffix.lower() in (".yaml", ".yml") and _is_dataset_yaml(p)]
    if len(yamls) == 1:
        return _from_yaml(yamls[0], report)
    if len(yamls) > 1:
        names = ", ".join(p.name for p in yamls)
        raise ParseError(source, f"several dataset YAMLs ({names}): name the one to convert as SOURCE")
    if (source / "obj.data").is_file():
        return _from_darknet(source / "obj.data", report)
    return _from_folders(source, report)


def _is_dataset_yaml(path: Path) -> bool:
    try:
        data = load_yaml(path)
    except ParseError:
        return False
    return isinstance(data, dict) and ("names" in data or any(k in data for k in ("train", "val", "nc")))


def _from_yaml(path: Path, report: Report) -> Dataset:
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise ParseError(path, "a dataset YAML must be a mapping (path, train, val, names...)")
    base = path.parent
    root = base
    declared = data.get("path")
    if isinstance(declared, str) and declared.strip() not in ("", "."):
        try:
            candidate = resolve_inside(base, declared, source_file=path, location="path")
        except UnsafeInputError:
            candidate = None
        if candidate is not None and candidate.is_dir():
            root = candidate
        else:
            report.note("path-ignored", f"{path.name}: path {declared!r} is not a folder inside {base}; using the YAML's folder")
    names = _parse_names(data.get("names"), path)
    nc = data.get("nc") if isinstance(data.get("nc"), int) else None
    if names is None and nc is not None:
        names = {i: str(i) for i in range(nc)}
        report.note("no-class-names", f"{path.name}: no names, classes are named by their index")
    if names is not None and nc is not None and nc != len(names):
        report.note("nc-mismatch", f"{path.name}: nc is {nc} but names lists {len(names)} classes; names wins")
    list_files: set[Path] = set()
    splits = []
    for key in _SPLIT_KEYS:
        if key in data and data[key] not in (None, ""):
            split = _split_from_value(key, data[key], root, path, report, list_files)
            if split is not None:
                splits.append(split)
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
            try:
                out[int(k)] = [str(x) for x in v]
            except (TypeError, ValueError):
                raise ParseError(path, f"kpt_names: key {k!r} is not a class index") from None
        return out
    raise ParseError(path, "kpt_names must be a list or a mapping of class -> list")


def _from_darknet(path: Path, report: Report) -> Dataset:
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
        names_path = _resolve(root, values["names"], path, report, location="names")
        if names_path is None:
            raise SourceNotFoundError(root / values["names"], f"class names file named by {path.name} not found")
        names = _names_file(names_path)
    else:
        names = _names_near(root)
    nc = int(values["classes"]) if values.get("classes", "").isdigit() else None
    if names is not None and nc is not None and nc != len(names):
        report.note("nc-mismatch", f"{path.name}: classes = {nc} but the names file lists {len(names)}; names wins")
    list_files: set[Path] = set()
    splits = []
    for key in _SPLIT_KEYS:
        if values.get(key):
            split = _split_from_value(key, values[key], root, path, report, list_files)
            if split is not None:
                splits.append(split)
    return Dataset(root=root, source=path, splits=splits, names=names, nc=nc, layout="darknet", list_files=list_files)


def _names_near(folder: Path) -> dict[int, str] | None:
    for name in NAME_FILES:
        if (folder / name).is_file():
            return _names_file(folder / name)
    found = sorted(folder.glob("*.names"))
    return _names_file(found[0]) if len(found) == 1 else None


def _from_folders(root: Path, report: Report) -> Dataset:
    names = _names_near(root)
    if names is None:
        report.note("no-class-names", f"{root}: no obj.names or classes.txt; classes are named by their index")
    return Dataset(root=root, source=root, splits=_folder_splits(root, report), names=names, layout="folders")


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
