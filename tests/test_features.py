"""``lbconvert ontology`` derives without converting, and writes what ``convert
--write-ontology`` writes: every fixtures-wild entry that converts, both modes, plus the
public fixtures of each reader family."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import converters
from converters import features
from converters.cli import main
from tests.conftest import PUBLIC, WILD, shared_json

CASES = [c for c in shared_json(WILD / "cases.json") or [] if c["expect"] == "ok"]
_MODES = {"mal": "prelabel", "gt": "ground-truth"}


def _params() -> list:
    out = []
    for c in CASES:
        marks = [pytest.mark.spacy] if any(str(s).endswith(".spacy") for s in c["source"]) else []
        out.append(pytest.param(c, marks=marks, id=c["id"]))
    return out


@pytest.mark.shared
@pytest.mark.parametrize("case", _params())
@pytest.mark.parametrize("mode", ["mal", "gt"])
def test_ontology_command_equals_convert_write_ontology(tmp_path: Path, monkeypatch, capsys, case: dict, mode: str) -> None:
    if any(str(s).endswith(".spacy") for s in case["source"]):
        pytest.importorskip("spacy")
    monkeypatch.chdir(WILD / case["id"])
    common = [*case["source"], *case["args"], "--mode", _MODES[mode]]
    assert main(["convert", *common, "-o", str(tmp_path / "o.ndjson"), "--quiet",
                 "--write-ontology", str(tmp_path / "converted.json")]) == 0
    assert main(["ontology", *common, "-o", str(tmp_path / "derived.json")]) == 0, capsys.readouterr().err
    converted = (tmp_path / "converted.json").read_text(encoding="utf-8")
    derived = (tmp_path / "derived.json").read_text(encoding="utf-8")
    assert json.loads(derived)["tools"] or json.loads(derived)["classifications"]
    assert derived == converted


def test_no_payload_is_built(tmp_path: Path, monkeypatch) -> None:
    """The derivation never reaches the row builder or the mask encoder."""
    import converters.assembly
    import converters.ndjson

    def boom(*a: object, **k: object) -> None:
        raise AssertionError("a payload was built")

    monkeypatch.setattr(converters.assembly.AssetConverter, "rows_for", boom)
    monkeypatch.setattr(converters.ndjson, "shape_payload", boom)
    monkeypatch.setattr(converters.ndjson.AssetRows, "add_mask", boom)
    sample = Path(__file__).resolve().parents[1] / "fixtures" / "sample" / "instances.json"
    ontology, count = converters.derive_ontology([sample])
    assert count.assets == 3 and count.used == count.annotations
    names = {(t.name, t.tool) for t in ontology.tools}
    assert ("person", "point") in names or any(t.tool == "raster-segmentation" for t in ontology.tools), names


def test_matrix_decides_like_the_writer() -> None:
    """A relationship and a kind the mode cannot import reach no feature."""
    from converters.matrix import Mode
    from converters.model import Annotation, Asset, Box, Media, Relationship, SourceRef
    from converters.ontology import Ontology

    a = Annotation(label="car", shape=Box(x_min=0, y_min=0, x_max=5, y_max=5), key="1", source=SourceRef(file="f"))
    b = Annotation(label="car", shape=Box(x_min=1, y_min=1, x_max=5, y_max=5), key="2", source=SourceRef(file="f"))
    outside = Annotation(label="bus", shape=Box(x_min=20, y_min=20, x_max=30, y_max=30), key="3", source=SourceRef(file="f"))
    rel = Relationship(label="tows", from_key="1", to_key="2", key="r", source=SourceRef(file="f"))
    asset = Asset(name="x.jpg", width=10, height=10, annotations=(a, b, outside, rel), media=Media.IMAGE,
                  source=SourceRef(file="f"))
    for mode in (Mode.PRELABEL, Mode.GROUND_TRUTH):
        ont = Ontology.derived()
        count = features.register_features([asset], ont, mode=mode)
        assert [t.name for t in ont.tools] == ["car"]  # the box outside the image reaches no tool
        assert count.used == 2 and count.annotations == 4


def test_ontology_refuses_a_given_ontology() -> None:
    with pytest.raises(converters.OptionsError, match="ontology"):
        converters.derive_ontology([PUBLIC], ontology="x.json")
