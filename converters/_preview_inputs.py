"""Inputs of ``lbconvert preview`` besides the rows: images, mask files, the report, names, texts.

Images are looked up by data-row key with the readers' rules and never outside ``--images``;
mask files named by ``instanceURI`` are read from ``file:`` URIs or under ``--mask-dir``. The
report gives each data row its entries, and names the ontology and data rows file of the
conversion, which turn ``schemaId``s back into names and show entities in their text.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from .errors import ParseError, SourceNotFoundError, UnsafeInputError
from .readers._images import IMAGE_SUFFIXES
from .readers._paths import resolve_inside

__all__ = ["ImageFinder", "default_report", "existing", "find_image", "load_report", "mask_loader", "name_rows", "schema_names", "texts"]


# ------------------------------------------------------------------------------- lookups


class ImageFinder:
    """The image of a data-row key under ``--images`` (see the module docstring)."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self._by_name: dict[str, list[Path]] | None = None

    def find(self, key: str) -> Path | None:
        if self.root is None:
            return None
        parts = [p for p in key.replace("\\", "/").split("/") if p]
        for i in range(len(parts)):
            try:
                path = resolve_inside(self.root, "/".join(parts[i:]), source_file=self.root)
            except UnsafeInputError:
                continue
            if path.is_file():
                return path
            for suffix in IMAGE_SUFFIXES:
                for candidate in (path.with_name(path.name + suffix), path.with_name(path.name + suffix.upper())):
                    if candidate.is_file():
                        return candidate
        if not parts:
            return None
        hits = self._index().get(parts[-1], [])
        return hits[0] if len(hits) == 1 else None

    def _index(self) -> dict[str, list[Path]]:
        """Every image below the root by basename and by stem, built once, on the first miss."""
        if self._by_name is None:
            assert self.root is not None
            self._by_name = {}
            base = self.root.resolve()
            for dirpath, _, names in os.walk(base):
                for name in names:
                    if os.path.splitext(name)[1].lower() in IMAGE_SUFFIXES:
                        path = Path(dirpath) / name
                        if base in path.resolve().parents:
                            self._by_name.setdefault(name, []).append(path)
                            self._by_name.setdefault(os.path.splitext(name)[0], []).append(path)
        return self._by_name


def find_image(root: Path, key: str) -> Path | None:
    """The image for data-row ``key`` under ``root``, or None (see the module docstring)."""
    return ImageFinder(root).find(key)


def mask_loader(mask_dir: Path | None) -> Callable[[str], bytes]:
    """Reads an ``instanceURI``: a file URI, or a URL whose path ends in a file under ``--mask-dir``.

    With ``--mask-dir`` every file read must be inside it; without, only ``file:`` URIs are read.
    """

    def load(uri: str) -> bytes:
        parsed = urlparse(uri)
        path = unquote(parsed.path)
        if parsed.scheme == "file" and mask_dir is None:
            target = Path(path)
            if not target.is_file():
                raise FileNotFoundError(uri)
            return target.read_bytes()
        if mask_dir is None:
            raise FileNotFoundError(f"{uri} (give --mask-dir, the folder the mask files were written to)")
        base = mask_dir.resolve()
        if parsed.scheme == "file" and Path(path).is_file() and base in Path(path).resolve().parents:
            return Path(path).read_bytes()
        parts = [p for p in path.split("/") if p]
        for i in range(len(parts)):
            try:
                candidate = resolve_inside(mask_dir, "/".join(parts[i:]), source_file=mask_dir)
            except UnsafeInputError:
                continue
            if candidate.is_file():
                return candidate.read_bytes()
        raise FileNotFoundError(f"{uri} (not under {mask_dir})")

    return load


# ------------------------------------------------------------------------------- report


def load_report(path: Path | None) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]], dict[str, Any]]:
    """Report entries by data row, those tied to none (dropped by a reader), the options."""
    if path is None:
        return {}, [], {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourceNotFoundError(path) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(path, f"not a conversion report ({exc})") from None
    entries = data.get("entries") if isinstance(data, Mapping) else None
    if not isinstance(entries, list):
        raise ParseError(path, "not a conversion report (no 'entries' list)")
    by_row: dict[str, list[dict[str, Any]]] = {}
    loose = []
    for e in entries:
        if not isinstance(e, dict):
            continue
        if isinstance(e.get("data_row"), str):
            by_row.setdefault(e["data_row"], []).append(e)
        else:
            loose.append(e)
    options = data.get("options")
    return by_row, loose, options if isinstance(options, dict) else {}


def schema_names(path: Path | None) -> dict[str, str]:
    """featureSchemaId -> name of every tool, classification and option of an ontology file."""
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourceNotFoundError(path, "ontology file not found") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(path, f"ontology is not valid JSON ({exc})") from None
    names: dict[str, str] = {}

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, Mapping):
            sid, name = node.get("featureSchemaId"), node.get("name") or node.get("value") or node.get("label")
            if isinstance(sid, str) and isinstance(name, str):
                names[sid] = name
            for key in ("tools", "classifications", "options"):
                walk(node.get(key))

    walk(data)
    return names


def name_rows(node: Any, names: Mapping[str, str]) -> None:
    """Give rows (and nested answers) that carry only a ``schemaId`` the ontology's name."""
    if isinstance(node, list):
        for item in node:
            name_rows(item, names)
    elif isinstance(node, dict):
        sid = node.get("schemaId")
        if isinstance(sid, str) and "name" not in node and sid in names:
            node["name"] = names[sid]
        for key in ("classifications", "answer", "answers"):
            if key in node:
                name_rows(node[key], names)


def existing(value: Any) -> Path | None:
    """A path named in the report's options, when that file is here."""
    return Path(value) if isinstance(value, str) and Path(value).is_file() else None


def texts(path: Path, keys: set[str]) -> dict[str, str]:
    """global_key -> text of the data rows to draw, from a ``--write-data-rows`` file."""
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourceNotFoundError(path, "data rows file not found") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(path, f"not a data rows file ({exc})") from None
    if not isinstance(items, list):
        raise ParseError(path, "not a data rows file (expected a JSON list of {global_key, row_data})")
    return {
        i["global_key"]: i["row_data"]
        for i in items
        if isinstance(i, Mapping) and i.get("global_key") in keys and isinstance(i.get("row_data"), str)
    }


def default_report(files: Sequence[Path]) -> Path | None:
    """``OUT.report.json`` beside the first file, as ``lbconvert convert`` writes it."""
    first = files[0]
    name = first.name.removesuffix(".ndjson")
    for suffix in (".part001", ".overflow1"):
        name = name.removesuffix(suffix)
    candidate = first.with_name(name + ".report.json")
    return candidate if candidate.is_file() else None
