"""Ontology: derived names, given ontologies, class maps, kind mismatches."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from converters.errors import MappingError, OptionsError
from converters.model import Answer, Classification, ClassificationKind, Kind
from converters.ontology import Ontology, load_class_map, normalise_name

GIVEN = {
    "tools": [
        {"tool": "rectangle", "name": "Traffic Light", "featureSchemaId": "a" * 25, "classifications": [
            {"type": "radio", "name": "occluded", "featureSchemaId": "b" * 25, "options": [
                {"value": "true", "label": "true", "featureSchemaId": "c" * 25, "options": []},
                {"value": "false", "label": "false", "featureSchemaId": "d" * 25, "options": []}]}]},
        {"tool": "polygon", "name": "car", "featureSchemaId": "e" * 25, "classifications": []},
        {"tool": "polygon", "name": "cart", "featureSchemaId": "f" * 25, "classifications": []},
    ],
    "classifications": [
        {"type": "checklist", "name": "tags", "featureSchemaId": "g" * 25, "scope": "global", "options": [
            {"value": "night", "label": "night", "featureSchemaId": "h" * 25, "options": []}]}
    ],
}


class TestDerived:
    def test_tool_per_kind__second_kind_gets_suffix(self) -> None:
        o = Ontology.derived()
        assert o.tool_for("person", Kind.BBOX).name == "person"
        assert o.tool_for("person", Kind.POLYGON).name == "person (polygon)"
        assert o.tool_for("person", Kind.BBOX).tool == "rectangle"
        assert [t.tool for t in o.tools] == ["rectangle", "polygon"]

    def test_case_stays_distinct(self) -> None:
        o = Ontology.derived()
        assert o.tool_for("Car", Kind.BBOX) is not o.tool_for("car", Kind.BBOX)
        assert [t.name for t in o.tools] == ["Car", "car"]

    def test_class_map_merges(self) -> None:
        o = Ontology.derived(class_map={"Car": "car"})
        assert o.tool_for("Car", Kind.BBOX) is o.tool_for("car", Kind.BBOX)

    def test_classifications_grow_options(self) -> None:
        o = Ontology.derived()
        tool = o.tool_for("car", Kind.BBOX)
        o.classification_for(Classification.radio("colour", "red"), parent=tool)
        o.classification_for(Classification.radio("colour", "blue"), parent=tool)
        o.classification_for(Classification.checklist("tags", ["a"]))
        d = o.asdict()
        assert [x["value"] for x in d["tools"][0]["classifications"][0]["options"]] == ["red", "blue"]
        assert d["classifications"][0]["scope"] == "global"
        assert "scope" not in d["tools"][0]["classifications"][0]

    def test_kind_conflict_on_derived_classification(self) -> None:
        o = Ontology.derived()
        o.classification_for(Classification.radio("q", "a"))
        with pytest.raises(MappingError, match="radio in the ontology"):
            o.classification_for(Classification.free_text("q", "x"))


class TestGiven:
    def test_exact_then_normalised_match(self) -> None:
        o = Ontology.from_dict(GIVEN)
        assert o.has_ids
        assert o.tool_for("traffic_light", Kind.BBOX).schema_id == "a" * 25
        assert o.tool_for("car", Kind.POLYGON).name == "car"

    def test_kind_mismatch_is_an_error(self) -> None:
        o = Ontology.from_dict(GIVEN)
        with pytest.raises(MappingError, match="'car' is a polygon"):
            o.tool_for("car", Kind.BBOX)

    def test_unknown_class_lists_closest(self) -> None:
        o = Ontology.from_dict(GIVEN)
        with pytest.raises(MappingError, match="closest: 'car', 'cart'") as info:
            o.tool_for("cars", Kind.POLYGON)
        assert "--class-map" in str(info.value)

    def test_unknown_answer(self) -> None:
        o = Ontology.from_dict(GIVEN)
        tool = o.tool_for("Traffic Light", Kind.BBOX)
        with pytest.raises(MappingError, match="'maybe' is not an option"):
            o.classification_for(Classification.radio("occluded", "maybe"), parent=tool)

    def test_nested_answer_resolves(self) -> None:
        o = Ontology.from_dict(GIVEN)
        tool = o.tool_for("Traffic Light", Kind.BBOX)
        d = o.classification_for(Classification.radio("occluded", "true"), parent=tool)
        assert d.option("true").schema_id == "c" * 25

    def test_not_an_ontology(self, tmp_path: Path) -> None:
        p = tmp_path / "o.json"
        p.write_text("[1]")
        with pytest.raises(OptionsError, match="not a Labelbox ontology"):
            Ontology.load(p)


def test_normalise_name() -> None:
    assert normalise_name("Traffic_Light") == normalise_name("traffic-light") == "traffic light"


def test_class_map__json_and_csv(tmp_path: Path) -> None:
    (tmp_path / "m.json").write_text(json.dumps({"a": "b"}))
    (tmp_path / "m.csv").write_text("source,target\nx,y\n")
    assert load_class_map(tmp_path / "m.json") == {"a": "b"}
    assert load_class_map(tmp_path / "m.csv") == {"x": "y"}


def test_derived_ontology_loads_with_the_sdk(tmp_path: Path) -> None:
    """OntologyBuilder.from_dict accepts what we derive (in the oracle's environment)."""
    python = os.environ.get("LB_ORACLE_PYTHON")
    if not python:
        if os.environ.get("LB_REQUIRE_ORACLE"):
            pytest.fail("LB_ORACLE_PYTHON is required")
        pytest.skip("needs LB_ORACLE_PYTHON (a Python with labelbox 5.2.1)")
    o = Ontology.derived()
    tool = o.tool_for("car", Kind.BBOX)
    o.tool_for("car", Kind.MASK)
    o.tool_for("ent", Kind.ENTITY)
    o.classification_for(
        Classification(name="colour", kind=ClassificationKind.RADIO, answers=(Answer(name="red", classifications=(Classification.free_text("shade", "x"),)),)),
        parent=tool,
    )
    o.classification_for(Classification.checklist("tags", ["night", "rain"]))
    path = tmp_path / "ont.json"
    path.write_text(o.to_json())
    script = (
        "import json,sys,warnings; warnings.filterwarnings('ignore');"
        "from labelbox import OntologyBuilder;"
        "d=json.load(open(sys.argv[1])); b=OntologyBuilder.from_dict(d);"
        # 'attributes' exists in newer SDKs' asdict() only; compare everything else.
        "strip=lambda x: {k: strip(v) for k, v in x.items() if k != 'attributes'} if isinstance(x, dict) else [strip(v) for v in x] if isinstance(x, list) else x;"
        "print(len(b.tools), len(b.classifications), strip(b.asdict())==strip(d))"
    )
    out = subprocess.run([python, "-c", script, str(path)], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["3", "1", "True"], out.stdout + out.stderr
