"""The public surface: ``converters.__all__`` changes only on purpose (edit this list with it)."""

from __future__ import annotations

import inspect
import typing

import pytest

import converters
from converters.options import ConvertKeywords, ConvertOptions, WriteKeywords, WriteOptions

PUBLIC = {
    # the calls
    "convert", "derive_ontology", "read", "write", "available_formats", "get_reader", "register_reader",
    # options, results, readers
    "ConvertOptions", "WriteOptions", "GeometryOptions", "Mode", "Ontology", "Reader", "Reading", "Report", "Source",
    # the model
    "Annotation", "Answer", "Asset", "Box", "Classification", "ClassificationKind", "DocumentEntity", "Entity",
    "GroupKey", "Keyframe", "Kind", "Mask", "Media", "MultiPolygon", "PageBox", "Point", "Polygon", "Polyline",
    "Relationship", "Segment", "SourceRef", "TextSelection", "Unit", "VideoObject",
    # errors
    "ConversionError", "DataRowError", "InputError", "MappingError", "MissingDependencyError", "OptionsError",
    "ParseError", "UnknownFormatError", "UnsafeInputError", "WriteError",
    "__version__",
}  # fmt: skip


def test_all_is_exactly_the_public_surface() -> None:
    assert set(converters.__all__) == PUBLIC
    assert len(converters.__all__) == len(set(converters.__all__)) and converters.__all__ == sorted(
        converters.__all__, key=lambda n: (n.startswith("_"), n[0].islower(), n)
    )


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_every_public_name_resolves_and_says_what_it_is(name: str) -> None:
    obj = getattr(converters, name)
    if name != "__version__":
        assert inspect.getdoc(obj), f"{name} has no docstring"


def test_keyword_types_list_exactly_the_option_fields() -> None:
    """write()/convert()/read() take their options as typed keywords: the TypedDicts that type
    them must name every field of the options classes, and nothing else."""
    import dataclasses

    assert set(typing.get_type_hints(WriteKeywords)) == {f.name for f in dataclasses.fields(WriteOptions)}
    assert set(typing.get_type_hints(ConvertKeywords)) == {f.name for f in dataclasses.fields(ConvertOptions)}


def test_star_import_gives_the_same_names() -> None:
    namespace: dict[str, object] = {}
    exec("from converters import *", namespace)
    assert set(namespace) - {"__builtins__"} == PUBLIC


def test_mypy_catches_a_misspelt_option_value_or_keyword(tmp_path) -> None:
    """The keyword parameters are typed (Literal per choice): a typo fails type checking."""
    api = pytest.importorskip("mypy.api")
    snippet = tmp_path / "user_script.py"
    snippet.write_text(
        "import converters\n"
        'converters.convert(["a.json"], "o.ndjson", mode="gound-truth")\n'
        'converters.write([], "o.ndjson", mask_format="gif")\n'
        'converters.read(["a.json"], bogus=1)\n'
        'converters.convert(["a.json"], "o.ndjson", mode="gt", media="document", min_score=0.5)\n'
    )
    out, _, status = api.run(["--strict", "--no-error-summary", str(snippet)])
    lines = [ln for ln in out.splitlines() if ": error:" in ln]
    assert status == 1
    assert [ln.split(":")[1] for ln in lines] == ["2", "3", "4"], out
    assert "gound-truth" in lines[0] and "gif" in lines[1] and "bogus" in lines[2]


def test_readme_library_snippet_runs_as_written(tmp_path, monkeypatch, capsys) -> None:
    """The README's read / write / convert snippet runs, and prints what its comment says."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Library: `read`, `write`, `convert`", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    exec(code.replace('"fixtures/sample/', f'"{root}/fixtures/sample/'), {})
    printed = capsys.readouterr().out.strip()
    assert printed == re.search(r"# (1 assets, .*)", code).group(1)
    converted = (tmp_path / "sample.ndjson").read_bytes()
    assert converted and (tmp_path / "mine.ndjson").exists()


def test_lazy_names_are_the_defining_modules_objects() -> None:
    """``converters`` imports its public names on first use (PEP 562): each comes from the
    module its table names, ``dir()`` lists them, and a misspelt name is an AttributeError."""
    import importlib

    import ast
    from pathlib import Path

    assert set(converters._LAZY) | {"__version__"} == PUBLIC
    tree = ast.parse(Path(converters.__file__).read_text(encoding="utf-8"))
    typed = {alias.name: node.module for guard in tree.body if isinstance(guard, ast.If)
             for node in guard.body if isinstance(node, ast.ImportFrom) for alias in node.names}
    assert typed == converters._LAZY  # what mypy sees is what the run imports
    for name, module in converters._LAZY.items():
        assert getattr(converters, name) is getattr(importlib.import_module(f"converters.{module}"), name)
    assert PUBLIC <= set(dir(converters))
    assert converters.geometry is importlib.import_module("converters.geometry")  # submodules too
    with pytest.raises(AttributeError, match="no attribute 'cnovert'"):
        converters.cnovert  # noqa: B018
