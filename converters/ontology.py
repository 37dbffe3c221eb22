"""Ontology: which Labelbox feature each source class, attribute and answer becomes.

Two ways in:

* **Derived** (no ``--ontology``): features are created as the data shows them. A class
  used with several kinds of shape (boxes, polygons and masks of ``person``) gets one tool
  per kind, because Labelbox feature names must be unique: the plain name ``person`` for its
  *primary* kind and ``"person (polygon)"``, ``"person (mask)"`` for the others. The primary
  kind is the first of :data:`KIND_PRIORITY` among the kinds the reader declares for the
  class up front (:meth:`Reader.label_kinds`, passed to :meth:`Ontology.declare`), so two
  chunks of one migration derive the same names whatever order objects come in; a class the
  reader does not declare keeps the plain name for the first kind seen. Attributes become
  nested classifications, tags global ones. :meth:`Ontology.asdict` is the SDK's
  ``OntologyBuilder.asdict()`` shape, ready for ``OntologyBuilder.from_dict``.
* **Given** (an ontology exported from Labelbox, with ``featureSchemaId``s): classes map
  onto existing tools by name **and kind**: ``person`` or ``person (polygon)`` (the derived
  names, so a derived ontology can be fed back), exact then normalised (case, spaces,
  ``_``/``-``), then through ``--class-map``, whose keys may be ``class`` or ``class:kind``
  (``person:polygon``, ``person:mask``) to send each kind to its own tool. A class that maps
  to nothing, or only to tools of another kind, raises :class:`MappingError` listing the
  closest candidates. Rows then carry ``schemaId``.

Names are kept as the source spells them: ``Car`` and ``car`` stay two classes unless a
class map merges them (the normalised match is only used against a given ontology).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import MappingError, OptionsError, SourceNotFoundError
from .model import Answer, Classification, Kind

__all__ = [
    "KIND_PRIORITY",
    "TOOL_TYPES",
    "ClassDef",
    "Ontology",
    "OptionDef",
    "Resolved",
    "ResolvedAnswer",
    "Tool",
    "load_class_map",
    "normalise_name",
]

#: Labelbox tool type for each object kind (the first one is what a derived ontology uses).
TOOL_TYPES: dict[Kind, tuple[str, ...]] = {
    Kind.BBOX: ("rectangle",),
    Kind.POLYGON: ("polygon",),
    Kind.POINT: ("point",),
    Kind.POLYLINE: ("line",),
    Kind.MASK: ("raster-segmentation", "superpixel"),
    Kind.ENTITY: ("named-entity",),
    Kind.RELATIONSHIP: ("edge",),
}
_KIND_OF_TOOL = {t: k for k, types in TOOL_TYPES.items() for t in types}
_KIND_WORD = {
    Kind.BBOX: "box",
    Kind.POLYGON: "polygon",
    Kind.POINT: "point",
    Kind.POLYLINE: "line",
    Kind.MASK: "mask",
    Kind.ENTITY: "entity",
    Kind.RELATIONSHIP: "relationship",
}
#: Which kind of a class keeps the plain class name when it has several (the rest are
#: suffixed with their kind word).
KIND_PRIORITY = (Kind.BBOX, Kind.POLYGON, Kind.MASK, Kind.POINT, Kind.POLYLINE, Kind.ENTITY, Kind.RELATIONSHIP)
_PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
    "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939",
)  # fmt: skip


def normalise_name(name: str) -> str:
    """Lower case, ``_`` and ``-`` as spaces, runs of spaces folded, trimmed."""
    return re.sub(r"\s+", " ", re.sub(r"[_\-]", " ", name.casefold())).strip()


@dataclass(slots=True)
class OptionDef:
    """An answer option of a radio or checklist."""

    value: str
    schema_id: str | None = None
    classifications: list[ClassDef] = field(default_factory=list)

    def asdict(self) -> dict[str, Any]:
        return {
            "schemaNodeId": None,
            "featureSchemaId": self.schema_id,
            "label": self.value,
            "value": self.value,
            "options": [c.asdict(nested=True) for c in self.classifications],
        }


@dataclass(slots=True)
class ClassDef:
    """A classification (radio, checklist or free text), global or nested."""

    name: str
    type: str
    schema_id: str | None = None
    options: list[OptionDef] = field(default_factory=list)
    scope: str = "global"

    def option(self, value: str) -> OptionDef | None:
        return next((o for o in self.options if o.value == value), None)

    def asdict(self, *, nested: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.type,
            "name": self.name,
            "instructions": self.name,
            "required": False,
            "options": [o.asdict() for o in self.options],
            "schemaNodeId": None,
            "featureSchemaId": self.schema_id,
            "attributes": None,
        }
        if not nested:
            out["scope"] = self.scope
        return out


@dataclass(frozen=True, slots=True)
class ResolvedAnswer:
    """A source answer with the ontology option it was matched to, and its nested
    classifications resolved under that option."""

    answer: Answer
    option: OptionDef
    classifications: tuple[Resolved, ...] = ()


@dataclass(frozen=True, slots=True)
class Resolved:
    """A source classification resolved once against the ontology: its definition and every
    answer's option, all the way down. Payload code reads features from here and never looks
    a definition up again by name."""

    classification: Classification
    definition: ClassDef
    answers: tuple[ResolvedAnswer, ...] = ()


@dataclass(slots=True)
class Tool:
    """An object tool: its name, Labelbox type and nested classifications."""

    name: str
    tool: str
    schema_id: str | None = None
    classifications: list[ClassDef] = field(default_factory=list)
    color: str = "#1f77b4"

    @property
    def kind(self) -> Kind | None:
        return _KIND_OF_TOOL.get(self.tool)

    def asdict(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "name": self.name,
            "required": False,
            "color": self.color,
            "classifications": [c.asdict(nested=True) for c in self.classifications],
            "schemaNodeId": None,
            "featureSchemaId": self.schema_id,
            "attributes": None,
        }


class Ontology:
    """Tools and classifications, derived from the data or loaded from Labelbox.

    Args:
        tools: the object tools.
        classifications: the global classifications.
        fixed: a given ontology: nothing is added, unknown names raise MappingError.
        class_map: source class name -> ontology tool name (from ``--class-map``).
    """

    def __init__(
        self,
        tools: Iterable[Tool] = (),
        classifications: Iterable[ClassDef] = (),
        *,
        fixed: bool = False,
        class_map: Mapping[str, str] | None = None,
        source: str = "",
    ) -> None:
        self.tools = list(tools)
        self.classifications = list(classifications)
        self.fixed = fixed
        self.class_map = dict(class_map or {})
        #: Where the class map came from (named in errors); set by the pipeline.
        self.class_map_source = ""
        self.source = source
        self._tool_cache: dict[tuple[str, Kind], Tool] = {}
        self._primary: dict[str, Kind] = {}

    def declare(self, label_kinds: Mapping[str, Iterable[Kind]]) -> None:
        """The kinds each class will be seen with, known before the first row: the plain
        name goes to the first of :data:`KIND_PRIORITY` among them, whatever comes first."""
        for label, kinds in label_kinds.items():
            ranked = [k for k in KIND_PRIORITY if k in set(kinds)]
            if ranked:
                self._primary[label] = ranked[0]

    # -- construction ---------------------------------------------------------------

    @classmethod
    def derived(cls, *, class_map: Mapping[str, str] | None = None) -> Ontology:
        """An empty ontology that grows with the data."""
        return cls(class_map=class_map)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "", **kw: Any) -> Ontology:
        """Parse the ``OntologyBuilder.asdict()`` / Labelbox export JSON shape."""
        if not isinstance(data, Mapping) or not isinstance(data.get("tools", []), list):
            raise OptionsError(f"{source or 'ontology'}: not a Labelbox ontology (no 'tools' list)")
        tools = []
        for t in data.get("tools") or []:
            tools.append(
                Tool(
                    name=str(t["name"]),
                    tool=str(t["tool"]),
                    schema_id=t.get("featureSchemaId"),
                    classifications=[_classdef(c) for c in t.get("classifications") or []],
                    color=t.get("color") or "#1f77b4",
                )
            )
        classes = [_classdef(c) for c in data.get("classifications") or []]
        return cls(tools, classes, fixed=True, source=source, **kw)

    @classmethod
    def load(cls, path: str | Path, **kw: Any) -> Ontology:
        """Read an ontology JSON file exported from Labelbox (or written by us)."""
        p = Path(path)
        if not p.is_file():
            raise SourceNotFoundError(p, "ontology file not found")
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise OptionsError(f"{p}: ontology is not valid JSON ({exc})") from exc
        try:
            return cls.from_dict(data, source=str(p), **kw)
        except (KeyError, TypeError) as exc:
            raise OptionsError(f"{p}: malformed ontology entry ({exc})") from exc

    @property
    def has_ids(self) -> bool:
        """Whether rows should use ``schemaId`` (every tool of a given ontology has one)."""
        return self.fixed and all(t.schema_id for t in self.tools) and all(
            c.schema_id for c in self.classifications
        )

    # -- mapping --------------------------------------------------------------------

    def tool_for(self, label: str, kind: Kind) -> Tool:
        """The tool a source class of a given kind is written with.

        Raises:
            MappingError: (given ontology) no tool matches, or the match has another kind.
        """
        cached = self._tool_cache.get((label, kind))
        if cached is not None:
            return cached
        tool = self._find_tool(label, kind) if self.fixed else self._derive_tool(label, kind)
        self._tool_cache[(label, kind)] = tool
        return tool

    def _mapped(self, label: str, kind: Kind) -> str:
        """``--class-map`` target: keyed ``class:kind`` (kind value or word) first, then ``class``."""
        for key in (f"{label}:{kind.value}", f"{label}:{_KIND_WORD[kind]}"):
            if key in self.class_map:
                return self.class_map[key]
        return self.class_map.get(label, label)

    def _derive_tool(self, label: str, kind: Kind) -> Tool:
        name = self._mapped(label, kind)
        primary = self._primary.get(label)
        if primary is not None:
            wanted = name if kind is primary else f"{name} ({_KIND_WORD[kind]})"
            hit = next((t for t in self.tools if t.name == wanted and t.kind is kind), None)
            return hit or self._new_tool(wanted, kind)
        same = [t for t in self.tools if t.name == name or t.name.startswith(f"{name} (")]
        for t in same:
            if t.kind is kind and (t.name == name or t.name == f"{name} ({_KIND_WORD[kind]})"):
                return t
        if any(t.name == name for t in self.tools):
            name = f"{name} ({_KIND_WORD[kind]})"
        return self._new_tool(name, kind)

    def _new_tool(self, name: str, kind: Kind) -> Tool:
        tool = Tool(name=name, tool=TOOL_TYPES[kind][0], color=_PALETTE[len(self.tools) % len(_PALETTE)])
        self.tools.append(tool)
        return tool

    def _find_tool(self, label: str, kind: Kind) -> Tool:
        target = self._mapped(label, kind)
        names = (target, f"{target} ({_KIND_WORD[kind]})")  # the derived ontology's names too
        exact = [t for t in self.tools if t.name in names]
        normal = [t for t in self.tools if normalise_name(t.name) in {normalise_name(n) for n in names}]
        for candidates in (exact, normal):
            right_kind = [t for t in candidates if t.kind is kind]
            if right_kind:
                return right_kind[0]
        wrong = exact or normal
        if wrong:
            raise MappingError(
                f"class {label!r} is a {kind.value} in the source but the ontology tool "
                f"{wrong[0].name!r} is a {wrong[0].tool}; map it to a {'/'.join(TOOL_TYPES[kind])} "
                f"tool with --class-map (a key {label + ':' + kind.value!r} maps only the {kind.value}s)"
            )
        closest = _closest(target, [t.name for t in self.tools if t.kind is kind])
        if not self.class_map:
            hint = "use --class-map"
        elif label in self.class_map:
            hint = f"the class map {self.class_map_source or ''} maps it to {target!r}, which is no tool either".replace("  ", " ")
        else:
            hint = f"the class map {self.class_map_source or ''} does not list it: add it there".replace("  ", " ")
        raise MappingError(f"class {label!r} ({kind.value}) matches no tool of the ontology{closest}; {hint}")

    def classification_for(
        self, cls: Classification, *, parent: Tool | OptionDef | None = None, scope: str = "global"
    ) -> ClassDef:
        """The classification definition for a source classification (global or nested);
        :meth:`resolve` without the answers (registers them all the same)."""
        return self.resolve(cls, parent=parent, scope=scope).definition

    def resolve(
        self, cls: Classification, *, parent: Tool | OptionDef | None = None, scope: str = "global"
    ) -> Resolved:
        """The definition of a source classification (global or nested), with the option of
        each answer and each nested classification resolved under it.

        Derived ontologies add the classification and its answers as they appear; a given
        ontology raises MappingError for an unknown name, kind or answer.
        """
        pool = self.classifications if parent is None else parent.classifications
        where = "global classifications" if parent is None else f"{_owner(parent)}"
        found = next((c for c in pool if c.name == cls.name), None)
        if found is None and self.fixed:
            found = next(
                (c for c in pool if normalise_name(c.name) == normalise_name(cls.name)), None
            )
        if found is None:
            if self.fixed:
                raise MappingError(
                    f"classification {cls.name!r} is not among the {where} of the ontology"
                    f"{_closest(cls.name, [c.name for c in pool])}"
                )
            found = ClassDef(name=cls.name, type=cls.kind.value, scope=scope)
            pool.append(found)
        if found.type != cls.kind.value:
            raise MappingError(
                f"classification {cls.name!r} is a {cls.kind.value} in the source but a "
                f"{found.type} in the ontology ({where})"
            )
        answers = []
        for answer in cls.answers:
            option = found.option(answer.name)
            if option is None:
                if self.fixed:
                    raise MappingError(
                        f"answer {answer.name!r} is not an option of classification "
                        f"{cls.name!r}{_closest(answer.name, [o.value for o in found.options])}"
                    )
                option = OptionDef(value=answer.name)
                found.options.append(option)
            nested = tuple(self.resolve(sub, parent=option) for sub in answer.classifications)
            answers.append(ResolvedAnswer(answer, option, nested))
        return Resolved(cls, found, tuple(answers))

    # -- sharded runs (issue 17) -----------------------------------------------------

    def merge(self, other: Ontology) -> None:
        """Add what a shard's derived ontology met: new tools (coloured by their place here,
        as one process colours them), new classifications and answers. Merging the shards'
        ontologies in source order gives the ontology of one process.

        Raises:
            MappingError: a classification is of another type in ``other``.
        """
        if self.fixed:
            return  # a given ontology never grows
        for tool in other.tools:
            mine = next((t for t in self.tools if t.name == tool.name and t.tool == tool.tool), None)
            if mine is None:
                mine = Tool(name=tool.name, tool=tool.tool, schema_id=tool.schema_id,
                            color=_PALETTE[len(self.tools) % len(_PALETTE)])
                self.tools.append(mine)
            _merge_classes(mine.classifications, tool.classifications, _owner(mine))
        _merge_classes(self.classifications, other.classifications, "global classifications")

    # -- output ---------------------------------------------------------------------

    def asdict(self) -> dict[str, Any]:
        """The ``OntologyBuilder.asdict()`` JSON shape."""
        return {
            "tools": [t.asdict() for t in self.tools],
            "classifications": [c.asdict() for c in self.classifications],
        }

    def to_json(self) -> str:
        return json.dumps(self.asdict(), indent=2, ensure_ascii=False) + "\n"


def _merge_classes(pool: list[ClassDef], others: Iterable[ClassDef], where: str) -> None:
    for c in others:
        found = next((f for f in pool if f.name == c.name), None)
        if found is None:
            pool.append(copy.deepcopy(c))
            continue
        if found.type != c.type:
            raise MappingError(
                f"classification {c.name!r} is a {c.type} in one part of the source but a {found.type} in another ({where})"
            )
        for option in c.options:
            mine = found.option(option.value)
            if mine is None:
                found.options.append(copy.deepcopy(option))
            else:
                _merge_classes(mine.classifications, option.classifications, _owner(mine))


def _owner(parent: Tool | OptionDef) -> str:
    if isinstance(parent, Tool):
        return f"nested classifications of tool {parent.name!r}"
    return f"nested classifications under answer {parent.value!r}"


def _closest(name: str, candidates: list[str]) -> str:
    import difflib  # an error message's hint: not worth its import on every run (issue 16)

    if not candidates:
        return " (it has none of that kind)"
    close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.4)
    close = close or difflib.get_close_matches(
        normalise_name(name), [normalise_name(c) for c in candidates], n=3, cutoff=0.4
    )
    shown = close or candidates[:5]
    return "; closest: " + ", ".join(repr(c) for c in shown)


def _classdef(data: Mapping[str, Any]) -> ClassDef:
    kind = str(data["type"])  # response-* and other types are kept, never matched by our kinds
    return ClassDef(
        name=str(data.get("name") or data.get("instructions")),
        type=kind,
        schema_id=data.get("featureSchemaId"),
        scope=str(data.get("scope") or "global"),
        options=[
            OptionDef(
                value=str(o.get("value") or o.get("label")),
                schema_id=o.get("featureSchemaId"),
                classifications=[_classdef(c) for c in o.get("options") or []],
            )
            for o in data.get("options") or []
        ],
    )


def load_class_map(path: str | Path) -> dict[str, str]:
    """Read ``--class-map``: a JSON object ``{"source": "ontology name"}`` or a two-column CSV."""
    p = Path(path)
    if not p.is_file():
        raise SourceNotFoundError(p, "class map not found")
    text = p.read_text(encoding="utf-8-sig")
    if p.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise OptionsError(f"{p}: class map is not valid JSON ({exc})") from exc
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in data.items()
        ):
            raise OptionsError(f"{p}: class map must be a JSON object of strings")
        return dict(data)
    import csv  # CSV class maps only

    mapping: dict[str, str] = {}
    for n, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not row or (n == 1 and [c.strip().lower() for c in row[:2]] == ["source", "target"]):
            continue
        if len(row) < 2:
            raise OptionsError(f"{p}, line {n}: class map rows need two columns: source,target")
        mapping[row[0]] = row[1]
    return mapping
