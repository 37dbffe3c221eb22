"""The ``<meta>`` block of a CVAT XML export: tasks (or a job), labels and attribute specs.

Three layouts exist (detect, never gate on ``<version>``): ``<meta><task>`` (task export),
``<meta><project><tasks><task>`` with project-level ``<labels>`` (project export), and
``<meta><job>`` (job export). Only what the reader uses is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from ...errors import InvalidFieldError
from .._xml import child_text, location

__all__ = ["AttrSpec", "Meta", "TaskInfo", "parse_meta"]

_STEP = re.compile(r"step\s*=\s*(\d+)")


@dataclass(frozen=True, slots=True)
class AttrSpec:
    """A declared attribute: ``input_type`` decides radio / checklist / free text."""

    name: str
    input_type: str
    mutable: bool
    default: str | None
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TaskInfo:
    """One task (or job) of the export."""

    id: str
    name: str
    mode: str
    size: int | None
    start_frame: int
    stop_frame: int | None
    step: int
    subset: str | None
    width: int | None
    height: int | None
    source: str | None


@dataclass(slots=True)
class Meta:
    """Everything read from ``<meta>``; ``labels`` maps (parent, name) to attribute specs."""

    tasks: dict[str, TaskInfo] = field(default_factory=dict)
    labels: dict[tuple[str, str], dict[str, AttrSpec]] = field(default_factory=dict)
    label_types: dict[tuple[str, str], str] = field(default_factory=dict)
    kind: str = "none"  # task | project | job | none

    def attrs(self, label: str, parent: str = "") -> dict[str, AttrSpec]:
        return self.labels.get((parent, label), {})

    def task_for(self, task_id: str | None) -> TaskInfo | None:
        if task_id is not None and task_id in self.tasks:
            return self.tasks[task_id]
        if len(self.tasks) == 1:
            return next(iter(self.tasks.values()))
        return None


#: CVAT stores sizes and frame numbers as 32-bit integers; larger numbers in an export are
#: corrupt (and a 400-digit size would overflow a float later).
MAX_INT = 2**31 - 1


def _int(elem: etree._Element, name: str, path: Path, default: int | None) -> int | None:
    text = child_text(elem, name, path)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise InvalidFieldError(path, f"<{name}>", f"is not an integer: {text[:40]!r}", location=location(elem)) from None
    if abs(value) > MAX_INT:
        raise InvalidFieldError(path, f"<{name}>", f"is out of range: {text[:40]}", location=location(elem))
    return value


def _values(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    # CVAT writes one value per line; datumaro and old exports separate them by spaces.
    parts = text.split("\n") if "\n" in text else text.split(" ")
    return tuple(p.strip() for p in parts if p.strip())


def _task(elem: etree._Element, path: Path, source: str | None, index: int) -> TaskInfo:
    frame_filter = child_text(elem, "frame_filter", path) or ""
    m = _STEP.search(frame_filter)
    step = int(m.group(1)) if m else 1
    if step < 1:
        raise InvalidFieldError(path, "<frame_filter>", "step must be >= 1", location=location(elem))
    size = elem.find("original_size")
    width = height = None
    if size is not None:
        width = _int(size, "width", path, None)
        height = _int(size, "height", path, None)
        if not width or not height or width <= 0 or height <= 0:
            width = height = None
    return TaskInfo(
        id=child_text(elem, "id", path) or str(index),
        name=child_text(elem, "name", path) or "",
        mode=(child_text(elem, "mode", path) or "").lower(),
        size=_int(elem, "size", path, None),
        start_frame=_int(elem, "start_frame", path, 0) or 0,
        stop_frame=_int(elem, "stop_frame", path, None),
        step=step,
        subset=child_text(elem, "subset", path),
        width=width,
        height=height,
        source=child_text(elem, "source", path, default=source),
    )


def parse_meta(meta: etree._Element, path: Path) -> Meta:
    """Read a ``<meta>`` element (task, project or job export)."""
    out = Meta()
    source = child_text(meta, "source", path)
    holders: list[etree._Element] = []
    for kind in ("task", "job"):
        elem = meta.find(kind)
        if elem is not None:
            out.kind = kind
            out.tasks[""] = _task(elem, path, source, 0)
            holders.append(elem)
    project = meta.find("project")
    if project is not None:
        out.kind = "project"
        holders.append(project)
        for i, elem in enumerate(project.findall("tasks/task")):
            info = _task(elem, path, None, i)
            out.tasks[info.id] = info
            holders.append(elem)
    if "" in out.tasks and out.tasks[""].id:
        info = out.tasks.pop("")
        out.tasks[info.id] = info
    for holder in holders:
        for label in holder.findall("labels/label"):
            name = child_text(label, "name", path, default="") or ""
            parent = child_text(label, "parent", path, default="") or ""
            out.label_types[(parent, name)] = (child_text(label, "type", path) or "any").lower()
            specs: dict[str, AttrSpec] = {}
            for attr in label.findall("attributes/attribute"):
                aname = child_text(attr, "name", path)
                if not aname:
                    continue
                values_elem = attr.find("values")
                specs[aname] = AttrSpec(
                    name=aname,
                    input_type=(child_text(attr, "input_type", path) or "text").lower(),
                    mutable=(child_text(attr, "mutable", path) or "false").lower() == "true",
                    default=(attr.findtext("default_value") or "").strip() or None,
                    values=_values(values_elem.text if values_elem is not None else None),
                )
            out.labels[(parent, name)] = specs
    return out
