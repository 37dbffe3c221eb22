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


# -- issue 12 item 10: classes seen with several shape kinds --------------------------------


def _mixed_coco(path: Path, order: list[str]) -> Path:
    """One image per annotation; ``order`` says which kind of ``person`` comes first."""
    shapes = {
        "bbox": {"bbox": [1, 1, 4, 4]},
        "polygon": {"bbox": [1, 1, 4, 4], "segmentation": [[1, 1, 5, 1, 5, 5, 1, 5]]},
        "mask": {"bbox": [0, 0, 2, 2], "segmentation": {"size": [10, 10], "counts": [0, 2, 8, 2, 88]}},
    }
    images = [{"id": i + 1, "file_name": f"{kind}.jpg", "width": 10, "height": 10} for i, kind in enumerate(order)]
    anns = [{"id": i + 1, "image_id": i + 1, "category_id": 1, **shapes[kind]} for i, kind in enumerate(order)]
    doc = {"images": images, "categories": [{"id": 1, "name": "person"}], "annotations": anns}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _tools(path: Path) -> dict[str, str]:
    return {t["name"]: t["tool"] for t in json.loads(path.read_text())["tools"]}


def test_derived_names_do_not_depend_on_object_order(tmp_path: Path) -> None:
    from converters.cli import main

    got = []
    for i, order in enumerate((["polygon", "mask", "bbox"], ["bbox", "polygon", "mask"], ["mask", "bbox", "polygon"])):
        src = _mixed_coco(tmp_path / f"chunk{i}.json", order)
        ont = tmp_path / f"ont{i}.json"
        assert main(["ontology", str(src), "-o", str(ont)]) == 0
        got.append(_tools(ont))
    expected = {"person": "rectangle", "person (polygon)": "polygon", "person (mask)": "raster-segmentation"}
    assert got == [expected, expected, expected]


def test_declared_kinds_choose_the_plain_name() -> None:
    ont = Ontology.derived()
    ont.declare({"person": [Kind.MASK, Kind.POLYGON]})
    assert ont.tool_for("person", Kind.MASK).name == "person (mask)"  # seen first, yet not primary
    assert ont.tool_for("person", Kind.POLYGON).name == "person"
    assert ont.tool_for("dog", Kind.POLYGON).name == "dog"  # undeclared: first seen keeps the name


def _with_ids(path: Path, rename: dict[str, str] | None = None) -> Path:
    data = json.loads(path.read_text())
    for i, tool in enumerate(data["tools"]):
        tool["featureSchemaId"] = f"ckschema{i:017d}"  # cuid-like: 25 characters, as the SDK wants
        tool["name"] = (rename or {}).get(tool["name"], tool["name"])
    out = path.with_name("ids-" + path.name)
    out.write_text(json.dumps(data), encoding="utf-8")
    return out


def test_round_trip__derived_ontology_fed_back_maps_every_row(tmp_path: Path) -> None:
    from converters.cli import main

    src = _mixed_coco(tmp_path / "instances.json", ["polygon", "mask", "bbox"])
    ont = tmp_path / "ont.json"
    assert main(["ontology", str(src), "-o", str(ont)]) == 0
    given = _with_ids(ont)
    out = tmp_path / "out.ndjson"
    assert main(["convert", str(src), "-o", str(out), "--ontology", str(given), "--quiet"]) == 0
    tools = {t["featureSchemaId"]: t["tool"] for t in json.loads(given.read_text())["tools"]}
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    kind_key = {"rectangle": "bbox", "polygon": "polygon", "raster-segmentation": "mask"}
    assert len(rows) == 3 and all(kind_key[tools[r["schemaId"]]] in r for r in rows)


def test_class_map_keyed_by_class_and_kind(tmp_path: Path) -> None:
    from converters.cli import main

    src = _mixed_coco(tmp_path / "instances.json", ["polygon", "mask", "bbox"])
    ont = tmp_path / "ont.json"
    assert main(["ontology", str(src), "-o", str(ont)]) == 0
    own = {"person": "Pedestrian box", "person (polygon)": "Pedestrian outline", "person (mask)": "Pedestrian pixels"}
    given = _with_ids(ont, own)
    cmap = tmp_path / "map.json"
    cmap.write_text(json.dumps({"person:bbox": "Pedestrian box", "person:polygon": "Pedestrian outline",
                                "person:mask": "Pedestrian pixels"}))
    out = tmp_path / "out.ndjson"
    assert main(["convert", str(src), "-o", str(out), "--ontology", str(given), "--class-map", str(cmap), "--quiet"]) == 0
    by_id = {t["featureSchemaId"]: t["name"] for t in json.loads(given.read_text())["tools"]}
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert {next(k for k in ("bbox", "polygon", "mask") if k in r): by_id[r["schemaId"]] for r in rows} == {
        "bbox": "Pedestrian box", "polygon": "Pedestrian outline", "mask": "Pedestrian pixels"}


def test_round_trip__oracle_accepts_rows_against_the_fed_back_ontology(tmp_path: Path, oracle) -> None:
    from converters.cli import main

    src = _mixed_coco(tmp_path / "instances.json", ["mask", "polygon", "bbox"])
    ont = tmp_path / "ont.json"
    assert main(["ontology", str(src), "-o", str(ont)]) == 0
    given = _with_ids(ont)
    out = tmp_path / "out.ndjson"
    assert main(["convert", str(src), "-o", str(out), "--ontology", str(given), "--quiet"]) == 0
    result = oracle(out, mode="gt", extra=("--ontology", str(given)))
    assert (result.ok, result.failed) == (3, 0), result.output
