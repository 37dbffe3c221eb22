"""The conversion report: an account of every source annotation.

Every annotation a reader meets is *read* once, under the kind the source gave it, and
ends either *written* (one or more rows in the output) or *skipped* with a reason. Changes
on the way (a polygon repaired, a box clipped, a part split off) are listed too, without
changing the counts. The invariant ``read == written + skipped`` holds per kind and is
checked by :meth:`Report.check`.

Codes are stable kebab-case strings (documented in ``docs/report.md``); messages are one
sentence for people.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .model import Kind, SourceRef

__all__ = ["Action", "Entry", "Report"]

#: What happened to an annotation.
Action = str  # "skipped" | "repaired" | "clipped" | "split" | "merged" | "converted" | "dropped"

ACTIONS = ("skipped", "repaired", "clipped", "split", "merged", "converted", "changed")

#: Note codes that change what was produced (which data rows the rows land on, which files
#: or annotations were read): the CLI prints them as ``warning:`` lines, not only in the JSON.
WARNING_NOTES = frozenset(
    {
        "split-not-found",
        "key-includes-subset",
        "default-global-key",
        "min-score-unscored",
        "file-uris",
        "image-not-found",
        "per-row-limit",
        "nc-mismatch",
        "path-ignored",
        "label-file-shared",
        "conversational-data-rows-not-written",
    }
)


@dataclass(frozen=True, slots=True)
class Entry:
    """One skipped or changed annotation."""

    source: SourceRef
    kind: str
    action: Action
    code: str
    message: str
    #: The data row (global key or id) the annotation belongs to, once the pipeline knows it;
    #: None for annotations a reader dropped before they reached an asset.
    data_row: str | None = None
    #: uuids of the rows written from the annotation (empty when it was skipped), so a
    #: preview can point at the very rows that were changed.
    uuids: tuple[str, ...] = ()

    def asdict(self) -> dict[str, Any]:
        where = {
            k: v
            for k, v in (
                ("file", self.source.file),
                ("line", self.source.line),
                ("element", self.source.element),
                ("annotation_id", self.source.annotation_id),
                ("frame", self.source.frame),
            )
            if v is not None
        }
        out: dict[str, Any] = {
            **where,
            "kind": self.kind,
            "action": self.action,
            "code": self.code,
            "message": self.message,
        }
        if self.data_row is not None:
            out["data_row"] = self.data_row
        if self.uuids:
            out["uuids"] = list(self.uuids)
        return out


@dataclass
class Report:
    """Counts and entries of one conversion. Mutable: the pipeline fills it as it goes."""

    inputs: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    read: Counter[str] = field(default_factory=Counter)
    written: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    rows: Counter[str] = field(default_factory=Counter)
    tallies: Counter[str] = field(default_factory=Counter)
    notes: list[dict[str, str]] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    assets: int = 0
    #: At most this many entries are kept in memory (the counts stay exact).
    max_entries: int = 100_000
    entries_dropped: int = 0
    #: Entries not yet tied to a data row, by source (see :meth:`attribute`).
    _pending: dict[SourceRef, list[int]] = field(default_factory=dict, repr=False)

    # -- recording ------------------------------------------------------------------

    def count_read(self, kind: Kind | str, n: int = 1) -> None:
        self.read[_k(kind)] += n

    def count_written(self, kind: Kind | str, n: int = 1) -> None:
        self.written[_k(kind)] += n

    def count_row(self, kind: Kind | str, n: int = 1) -> None:
        self.rows[_k(kind)] += n

    def skip(self, source: SourceRef, kind: Kind | str, code: str, message: str) -> None:
        """An annotation already counted as read will not be written."""
        self.skipped[_k(kind)] += 1
        self._add(Entry(source, _k(kind), "skipped", code, message))

    def skip_unread(self, source: SourceRef, kind: Kind | str, code: str, message: str) -> None:
        """A reader drops an annotation it never hands on: count it read and skipped."""
        self.count_read(kind)
        self.skip(source, kind, code, message)

    def change(
        self, source: SourceRef, kind: Kind | str, action: Action, code: str, message: str
    ) -> None:
        """An annotation is written, but not exactly as the source had it."""
        if action not in ACTIONS:
            raise ValueError(f"unknown report action {action!r}")
        self._add(Entry(source, _k(kind), action, code, message))

    def tally(self, code: str, n: int = 1) -> None:
        """Count something that is not an annotation (absent keypoints, empty files)."""
        self.tallies[code] += n

    def note(self, code: str, message: str) -> None:
        """A dataset-wide fact the user should know (the coordinate convention used...)."""
        item = {"code": code, "message": message}
        if item not in self.notes:
            self.notes.append(item)

    def warnings(self) -> list[dict[str, str]]:
        """The notes in :data:`WARNING_NOTES`, in the order they were made."""
        return [n for n in self.notes if n["code"] in WARNING_NOTES]

    def _add(self, entry: Entry) -> None:
        if len(self.entries) < self.max_entries:
            self._pending.setdefault(entry.source, []).append(len(self.entries))
            self.entries.append(entry)
        else:
            self.entries_dropped += 1

    @property
    def has_pending(self) -> bool:
        """Some entries wait for :meth:`attribute` (cheap check before building its argument)."""
        return bool(self._pending)

    def waiting(self, sources: Iterable[SourceRef]) -> bool:
        """Whether an entry waits for :meth:`attribute` under one of ``sources``."""
        return any(s in self._pending for s in sources)

    def attribute(self, rows_by_source: Mapping[SourceRef, Sequence[str]], data_row: str) -> None:
        """Tie the waiting entries of one asset's annotations to its data row and row uuids.

        Entries are matched by their source reference, whether a reader added them before
        the asset was complete or the pipeline while writing it. Entries of annotations a
        reader dropped outright match no asset and stay dataset-level.
        """
        for source, uuids in rows_by_source.items():
            for i in self._pending.pop(source, ()):
                self.entries[i] = dataclasses.replace(self.entries[i], data_row=data_row, uuids=tuple(uuids))

    # -- sharded runs (issue 17) -----------------------------------------------------

    def reset(self) -> None:
        """Forget everything recorded so far (inputs and options kept). A sharded run's
        worker builds the same reader as the client, which records what building it
        records, once; the worker keeps only what reading its shard records."""
        self.read.clear()
        self.written.clear()
        self.skipped.clear()
        self.rows.clear()
        self.tallies.clear()
        self.notes.clear()
        self.entries.clear()
        self.outputs.clear()
        self.assets = self.entries_dropped = 0
        self._pending.clear()

    def merge(self, other: Report) -> None:
        """Add a shard's report to this one: counts summed, entries appended (up to
        :attr:`max_entries`; the rest counted as not listed), notes added unless already
        there. Merging the shards' reports in source order gives the report of one process
        (entries and notes in the same order when each shard's come after the last's)."""
        self.read.update(other.read)
        self.written.update(other.written)
        self.skipped.update(other.skipped)
        self.rows.update(other.rows)
        self.tallies.update(other.tallies)
        for item in other.notes:
            if item not in self.notes:
                self.notes.append(item)
        room = max(0, self.max_entries - len(self.entries))
        self.entries.extend(other.entries[:room])
        self.entries_dropped += other.entries_dropped + max(0, len(other.entries) - room)
        self.assets += other.assets

    # -- reading --------------------------------------------------------------------

    @property
    def changed(self) -> int:
        return sum(1 for e in self.entries if e.action != "skipped")

    @property
    def total_skipped(self) -> int:
        return sum(self.skipped.values())

    def reasons(self) -> Counter[str]:
        """Skips per reason code (from the entries kept)."""
        return Counter(e.code for e in self.entries if e.action == "skipped")

    def check(self) -> None:
        """Raise AssertionError-like ValueError unless read == written + skipped per kind."""
        kinds = set(self.read) | set(self.written) | set(self.skipped)
        bad = {
            k: (self.read[k], self.written[k], self.skipped[k])
            for k in sorted(kinds)
            if self.read[k] != self.written[k] + self.skipped[k]
        }
        if bad:
            raise ValueError(f"report invariant broken (read, written, skipped): {bad}")

    def counts(self) -> dict[str, dict[str, int]]:
        kinds = sorted(set(self.read) | set(self.written) | set(self.skipped))
        return {
            k: {"read": self.read[k], "written": self.written[k], "skipped": self.skipped[k]}
            for k in kinds
        }

    def asdict(self) -> dict[str, Any]:
        return {
            "inputs": list(self.inputs),
            "outputs": list(self.outputs),
            "options": _jsonable(self.options),
            "assets": self.assets,
            "counts": self.counts(),
            "rows": dict(sorted(self.rows.items())),
            "skipped_by_reason": dict(sorted(self.reasons().items())),
            "tallies": dict(sorted(self.tallies.items())),
            "notes": list(self.notes),
            "entries": [e.asdict() for e in self.entries],
            "entries_not_listed": self.entries_dropped,
        }

    def to_json(self) -> str:
        return json.dumps(self.asdict(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"

    def strict_summary(self) -> str:
        """Why ``--strict`` refused, without claiming rows were written."""
        rows = sum(self.rows.values())
        if rows == 0 and not self.total_skipped and not self.changed:
            return f"nothing was converted ({self.assets} assets, {sum(self.read.values())} annotations read)"
        parts = [f"{self.assets} assets, {rows} rows would be written"]
        if self.total_skipped:
            reasons = ", ".join(f"{c} {n}" for c, n in self.reasons().most_common())
            parts.append(f"{self.total_skipped} annotations would be skipped ({reasons})")
        if self.changed:
            parts.append(f"{self.changed} changed")
        return "; ".join(parts)

    def summary(self) -> str:
        """The one-line summary the CLI prints at the end."""
        rows = sum(self.rows.values())
        per_kind = ", ".join(f"{k} {n}" for k, n in sorted(self.rows.items())) or "none"
        line = f"{self.assets} assets, {rows} rows written ({per_kind})"
        skipped = self.total_skipped
        if skipped:
            reasons = ", ".join(f"{c} {n}" for c, n in self.reasons().most_common())
            line += f"; {skipped} annotations skipped ({reasons})"
        else:
            line += "; 0 skipped"
        if self.changed:
            line += f"; {self.changed} changed (see report)"
        return line


def _k(kind: Kind | str) -> str:
    return kind._value_ if type(kind) is Kind else str(kind)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
