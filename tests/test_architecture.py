"""The one-way dependency rule of docs/architecture.md, checked on the source.

Every import counts, run-time or type-only (``if TYPE_CHECKING:``): a type-only cycle is
still two modules that cannot be understood one without the other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import converters

PACKAGE = Path(converters.__file__).parent

#: Layer of each top-level module: a module imports only modules of lower layers.
#: model <- readers, geometry, masks, ontology <- writer <- pipeline <- cli.
LAYERS = {
    "errors": 0, "model": 0, "_blas": 0, "_json": 0, "_atomic": 0, "_iter": 0, "_fast": 0, "_png": 0, "_remote": 1,
    "report": 1, "matrix": 1, "table": 1, "masks": 1, "datarows": 1, "ontology": 1,
    "geometry": 2, "readers": 2,
    "options": 3, "ndjson": 3,
    "payloads": 4, "output": 4, "fastrows": 4,
    "assembly": 5, "validate": 5, "features": 5, "tablerows": 6,
    "writer": 7,
    "sharding": 8,
    "pipeline": 9,
    "_preview_images": 3, "_preview_inputs": 3, "_preview_draw": 4, "_preview_pages": 5, "_preview_html": 6,
    "preview": 9,
    "cli": 10, "__init__": 11, "__main__": 11,
}  # fmt: skip
#: What readers may use besides each other: they know nothing of ontologies, rows or output.
READERS_MAY_IMPORT = {"errors", "model", "table", "report", "masks", "_json", "_fast"}
#: Import cycles still allowed: none. Part 4 of issue 15 removed the last two (coco <-> its
#: results module, cvat -> stream <-> video): helpers take values, callables and protocols,
#: never their reader. A new cycle anywhere fails the test.
KNOWN_READER_CYCLES: set[frozenset[str]] = set()


def module_name(path: Path) -> str:
    """``readers/coco/reader.py`` -> ``readers.coco.reader``; a package's ``__init__`` is the package."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Our modules ``path`` imports (dotted below the package: ``readers.coco``, ``model``)."""
    package = list(path.parent.relative_to(PACKAGE).parts)
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                target = [*base, *(node.module.split(".") if node.module else [])]
                if node.module:
                    out.add(".".join(target))
                else:
                    out.update(".".join([*target, a.name]) for a in node.names)
            elif node.module and node.module.startswith("converters."):
                out.add(node.module.removeprefix("converters."))
        elif isinstance(node, ast.Import):
            out.update(a.name.removeprefix("converters.") for a in node.names if a.name.startswith("converters."))
    return {_resolve(name) for name in out} - {""}


def _resolve(name: str) -> str:
    """A name as a module: ``readers.base.option`` -> ``readers.base``; ``readers`` stays."""
    parts = name.split(".")
    while parts:
        candidate = PACKAGE.joinpath(*parts)
        if candidate.with_suffix(".py").is_file() or (candidate / "__init__.py").is_file():
            return ".".join(parts)
        parts.pop()
    return name


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
GRAPH = {name: imports_of(path) & set(MODULES) | ({"readers"} & imports_of(path)) for name, path in MODULES.items()}


def _top(name: str) -> str:
    return name.split(".")[0] if not name.startswith("readers") else "readers"


def test_every_module_has_a_layer() -> None:
    assert {_top(m) for m in MODULES} <= set(LAYERS)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not m.startswith("readers")))
def test_modules_import_only_lower_layers(module: str) -> None:
    mine = LAYERS[_top(module)]
    upward = sorted(t for t in GRAPH[module] if LAYERS[_top(t)] >= mine and _top(t) != _top(module))
    assert not upward, f"{module} (layer {mine}) imports {upward}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("readers")))
def test_readers_import_only_the_model_side(module: str) -> None:
    outside = {_top(t) for t in GRAPH[module] if not t.startswith("readers")}
    assert outside <= READERS_MAY_IMPORT, f"{module} imports {sorted(outside - READERS_MAY_IMPORT)}"


def test_nothing_imports_the_cli() -> None:
    assert [m for m, targets in GRAPH.items() if "cli" in targets and m != "__main__"] == []


def test_model_imports_nothing_of_ours() -> None:
    assert GRAPH["model"] == set()


def _cycles() -> set[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: set[frozenset[str]] = set()

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in GRAPH.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.add(frozenset(comp))

    for v in GRAPH:
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles_runtime_or_type_only() -> None:
    assert _cycles() - KNOWN_READER_CYCLES == set()
    assert KNOWN_READER_CYCLES - _cycles() == set(), "a known cycle is gone: remove it from the list"


def test_the_cycle_finder_finds_cycles() -> None:
    """The check above could fail: a made-up graph with a cycle is found."""
    saved = dict(GRAPH)
    try:
        GRAPH.clear()
        GRAPH.update({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})
        assert _cycles() == {frozenset({"a", "b", "c"})}
    finally:
        GRAPH.clear()
        GRAPH.update(saved)
