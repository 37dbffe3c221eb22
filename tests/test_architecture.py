"""The one-way dependency rules of docs/architecture.md, checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import converters

PACKAGE = Path(converters.__file__).parent
FORBIDDEN_FOR_READERS = {"ontology", "geometry", "ndjson", "output", "pipeline", "cli", "validate", "datarows"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level >= 1:  # relative: from ..x import y / from . import x
                base = (node.module or "").split(".")[0]
                names.add(base) if base else names.update(a.name for a in node.names)
            elif node.module and node.module.startswith("converters."):
                names.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            names.update(a.name.split(".")[1] for a in node.names if a.name.startswith("converters."))
    return names


@pytest.mark.parametrize("module", sorted((PACKAGE / "readers").glob("*.py")), ids=lambda p: p.name)
def test_readers_do_not_import_upper_layers(module: Path) -> None:
    assert not imported_modules(module) & FORBIDDEN_FOR_READERS


@pytest.mark.parametrize("module", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_nothing_imports_the_cli(module: Path) -> None:
    if module.name in {"cli.py", "__main__.py"}:
        return
    assert "cli" not in imported_modules(module)


def test_model_imports_nothing_of_ours() -> None:
    assert imported_modules(PACKAGE / "model.py") == set()
