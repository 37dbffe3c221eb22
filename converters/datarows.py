"""Data rows: which Labelbox data row each source asset lands on.

Either a ``--global-key`` template filled from the asset (``{name}`` = the dataset-relative
path the source uses, ``{file_name}`` the same, ``{basename}``, ``{stem}``, ``{dataset}``,
``{media}`` and whatever the reader adds, such as ``{subset}`` or ``{index}``), or a
``--data-rows`` map (CSV or JSON) from source names to global keys or data row ids.

Keys are checked: empty keys, keys over Labelbox's 200-character limit, and two assets
landing on one data row are :class:`DataRowError` naming both.
"""

from __future__ import annotations

import json
import posixpath
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import DataRowError, OptionsError, SourceNotFoundError
from .model import Asset

__all__ = ["MAX_GLOBAL_KEY", "DataRowMap", "DataRowRef", "KeyResolver", "template_fields"]

MAX_GLOBAL_KEY = 200

_NAME_COLUMNS = ("file_name", "name", "source", "path", "external_id", "file")
_KEY_COLUMNS = ("global_key", "globalKey", "data_row_id", "dataRowId", "id")


@dataclass(frozen=True, slots=True)
class DataRowRef:
    """A data row by global key or by id (exactly one)."""

    global_key: str | None = None
    id: str | None = None

    def asdict(self) -> dict[str, str]:
        return {"globalKey": self.global_key} if self.global_key is not None else {"id": self.id}  # type: ignore[dict-item]

    @property
    def identity(self) -> str:
        return f"gk:{self.global_key}" if self.global_key is not None else f"id:{self.id}"


def template_fields(asset: Asset) -> dict[str, str]:
    """The fields a ``--global-key`` template can use for this asset."""
    base = posixpath.basename(asset.name)
    stem = base.rsplit(".", 1)[0] if "." in base else base
    fields = {
        "name": asset.name,
        "file_name": asset.name,
        "basename": base,
        "stem": stem,
        "dataset": asset.dataset,
        "media": asset.media.value,
    }
    fields.update(asset.fields)
    return fields


class DataRowMap:
    """``--data-rows``: source names to data rows, from CSV, JSON or a Labelbox export.

    CSV: a header with a name column (``file_name``, ``name``, ``source``, ``path``,
    ``external_id`` or ``file``) and a ``global_key`` or ``data_row_id`` (``id``) column.
    JSON: ``{"name": "global key"}``, or a list of objects with the same column names.
    A Labelbox data-row export (NDJSON, or JSON holding a list of its rows) is read as it
    comes: each row's ``data_row`` gives the name (``external_id``, else ``global_key``, else
    the file name at the end of ``row_data``) and the target (``global_key``, else ``id``).
    An empty map is an error: it would skip every asset.
    """

    def __init__(self, entries: Mapping[str, DataRowRef], *, source: str = "") -> None:
        self.entries = dict(entries)
        self.source = source
        self._by_basename: dict[str, DataRowRef | None] = {}
        for name, ref in self.entries.items():
            b = posixpath.basename(name)
            self._by_basename[b] = None if b in self._by_basename else ref

    @classmethod
    def load(cls, path: str | Path) -> DataRowMap:
        p = Path(path)
        if not p.is_file():
            raise SourceNotFoundError(p, "data row map not found")
        try:
            text = p.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise OptionsError(f"{p}: data row map is not UTF-8 text ({exc.reason})") from None
        rows, unit, first = _rows(p, text)
        entries: dict[str, DataRowRef] = {}
        for n, row in enumerate(rows, start=first):
            where = f"{p}, {unit} {n}"
            if not isinstance(row, dict):
                raise OptionsError(f"{where}: expected an object")
            if isinstance(row.get("data_row"), dict):
                name, ref = _export_entry(row["data_row"], where)
            else:
                name, ref = _plain_entry(row, where)
            if name in entries and entries[name] != ref:
                raise DataRowError(f"{where}: {name!r} is mapped twice, to different data rows")
            entries[name] = ref
        if not entries:
            raise DataRowError(f"{p}: the --data-rows map is empty; every asset would be skipped")
        return cls(entries, source=str(p))

    def lookup(self, asset: Asset) -> DataRowRef | None:
        ref = self.entries.get(asset.name)
        if ref is None:
            ref = self._by_basename.get(posixpath.basename(asset.name))
        return ref


def _rows(p: Path, text: str) -> tuple[list[Any], str, int]:
    """(rows, what a row is called in errors, number of the first row) of a map file."""
    suffix = p.suffix.lower()
    stripped = text.lstrip()
    if suffix in (".ndjson", ".jsonl") or (suffix != ".json" and stripped.startswith("{") and "\n{" in stripped):
        rows = []
        for n, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise OptionsError(f"{p}, line {n}: data row map line is not valid JSON ({exc.msg})") from None
        return rows, "line", 1
    if suffix == ".json" or stripped[:1] in ("{", "["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise OptionsError(f"{p}: data row map is not valid JSON ({exc.msg}, line {exc.lineno})") from None
        if isinstance(data, dict) and isinstance(data.get("data_row"), dict):
            return [data], "entry", 1  # an export of one data row
        if isinstance(data, dict):
            return [{"name": k, "global_key": v} for k, v in data.items()], "entry", 1
        if isinstance(data, list):
            return data, "entry", 1
        raise OptionsError(f"{p}: data row map must be an object or a list")
    import csv  # CSV data-row maps only (issue 16: not imported on every run)

    return list(csv.DictReader(text.splitlines())), "line", 2


def _plain_entry(row: Mapping[str, Any], where: str) -> tuple[str, DataRowRef]:
    name = next((str(row[c]) for c in _NAME_COLUMNS if row.get(c)), None)
    col = next((c for c in _KEY_COLUMNS if row.get(c)), None)
    if name is None or col is None:
        raise OptionsError(
            f"{where}: needs a name column ({'/'.join(_NAME_COLUMNS)}) and a "
            f"global_key or data_row_id column"
        )
    value = str(row[col])
    return name, DataRowRef(global_key=value) if "key" in col.lower() else DataRowRef(id=value)


def _export_entry(dr: Mapping[str, Any], where: str) -> tuple[str, DataRowRef]:
    """One row of a Labelbox data-row export: ``{"data_row": {"id", "global_key", ...}}``."""
    row_data = dr.get("row_data")
    from_url = (
        posixpath.basename(row_data.split("?", 1)[0]) if isinstance(row_data, str) and "/" in row_data else None
    )
    name = next((str(v) for v in (dr.get("external_id"), dr.get("global_key"), from_url) if v), None)
    if dr.get("global_key"):
        ref = DataRowRef(global_key=str(dr["global_key"]))
    elif dr.get("id"):
        ref = DataRowRef(id=str(dr["id"]))
    else:
        raise OptionsError(f"{where}: data_row has neither global_key nor id")
    if name is None:
        raise OptionsError(f"{where}: data_row has no external_id, global_key or row_data file name to match")
    return name, ref


class KeyResolver:
    """Gives each asset its data row, checking limits and duplicates as it goes."""

    def __init__(
        self,
        *,
        template: str | None = None,
        default_template: str = "{name}",
        data_rows: DataRowMap | None = None,
    ) -> None:
        if template is not None and data_rows is not None:
            raise OptionsError("give --global-key or --data-rows, not both")
        self.template = template
        self.default_template = default_template
        self.data_rows = data_rows
        self._seen: dict[str, str] = {}
        #: The first key made from ``default_template`` (no template, no map): the pipeline
        #: warns that keys were guessed.
        self.defaulted: str | None = None
        if template is not None:
            _check_template(template)

    @property
    def by_name(self) -> bool:
        """Whether an asset with no global key and no ``name`` field of its own gets its data
        row from its name alone (no --data-rows map, the ``{name}`` template)."""
        return self.data_rows is None and (self.template or self.default_template) == "{name}"

    def resolve_name(self, name: str, head: Callable[[], Asset]) -> DataRowRef:
        """:meth:`resolve` of such an asset (:attr:`by_name`), from its name: the same data
        row, checks and notes, without building the asset (``head`` builds it for an error
        message)."""
        ref = DataRowRef(global_key=name)
        if self.template is None and self.defaulted is None:
            self.defaulted = name
        other = self._seen.get(ref.identity)
        if not name.strip() or len(name) > MAX_GLOBAL_KEY or (other is not None and other != name):
            self._check(ref, head())  # raises, naming the asset
        self._seen[ref.identity] = name
        return ref

    def check_names(self, names: Sequence[str], head: Callable[[int], Asset]) -> None:
        """:meth:`resolve_name` of many names (``head(k)`` builds the k-th asset for an error
        message), recording the same notes and checks, without a :class:`DataRowRef` each."""
        if not names:
            return
        if self.template is None and self.defaulted is None:
            self.defaulted = names[0]
        seen = self._seen
        for k, name in enumerate(names):
            identity = "gk:" + name  # DataRowRef(global_key=name).identity
            other = seen.get(identity)
            if not name.strip() or len(name) > MAX_GLOBAL_KEY or (other is not None and other != name):
                self._check(DataRowRef(global_key=name), head(k))  # raises, naming the asset
            seen[identity] = name

    def resolve(self, asset: Asset) -> DataRowRef | None:
        """The data row for ``asset``; None when a --data-rows map does not list it."""
        if self.data_rows is not None:
            ref = self.data_rows.lookup(asset)
            if ref is None:
                return None
        elif self.template is None and asset.global_key is not None:
            ref = DataRowRef(global_key=asset.global_key)
        else:
            ref = DataRowRef(global_key=self._fill(self.template or self.default_template, asset))
            if self.template is None and self.defaulted is None:
                self.defaulted = ref.global_key
        self._check(ref, asset)
        return ref

    def _fill(self, template: str, asset: Asset) -> str:
        if template == "{name}" and "name" not in asset.fields:
            return asset.name  # the default template, without building every field
        fields = template_fields(asset)
        try:
            return template.format_map(fields)
        except KeyError as exc:
            raise OptionsError(
                f"--global-key template {template!r}: unknown field {exc.args[0]!r} for "
                f"{asset.name!r} (available: {', '.join(sorted(fields))})"
            ) from None

    def _check(self, ref: DataRowRef, asset: Asset) -> None:
        key = ref.global_key if ref.global_key is not None else ref.id
        what = "global key" if ref.global_key is not None else "data row id"
        if not key or not key.strip():
            raise DataRowError(f"{asset.source.file}: asset {asset.name!r} gets an empty {what}")
        if ref.global_key is not None and len(key) > MAX_GLOBAL_KEY:
            raise DataRowError(
                f"{asset.source.file}: global key for {asset.name!r} is {len(key)} characters "
                f"long; Labelbox allows {MAX_GLOBAL_KEY}"
            )
        other = self._seen.get(ref.identity)
        if other is not None and other != asset.name:
            raise DataRowError(
                f"{asset.source.file}: assets {other!r} and {asset.name!r} both map to {what} "
                f"{key!r}; use a --global-key template that tells them apart (e.g. with "
                f"{{name}} or {{subset}})"
            )
        self._seen[ref.identity] = asset.name


def _check_template(template: str) -> None:
    try:
        names = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise OptionsError(f"--global-key template {template!r} is malformed: {exc}") from None
    if not names:
        raise OptionsError(
            f"--global-key template {template!r} has no field: every asset would get the same key"
        )
