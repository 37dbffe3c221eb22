"""Data row keys: templates, maps, and the checks on them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from converters.datarows import DataRowMap, DataRowRef, KeyResolver, template_fields
from converters.errors import DataRowError, OptionsError
from converters.model import Asset, Media, SourceRef


def asset(name: str, **kw) -> Asset:
    return Asset(name=name, media=Media.IMAGE, source=SourceRef(file="src.json"), **kw)


def test_template_fields() -> None:
    f = template_fields(asset("train/a.b.jpg", dataset="coco", fields={"subset": "train"}))
    assert (f["name"], f["basename"], f["stem"], f["dataset"], f["subset"]) == ("train/a.b.jpg", "a.b.jpg", "a.b", "coco", "train")


@pytest.mark.parametrize(
    ("template", "expected"),
    [(None, "train/a.jpg"), ("{stem}", "a"), ("proj/{subset}/{basename}", "proj/val/a.jpg")],
)
def test_resolve__template(template, expected) -> None:
    keys = KeyResolver(template=template)
    assert keys.resolve(asset("train/a.jpg", fields={"subset": "val"})) == DataRowRef(global_key=expected)


def test_resolve__source_key_unless_template() -> None:
    a = asset("doc.jsonl", global_key="from-user-data")
    assert KeyResolver().resolve(a).global_key == "from-user-data"
    assert KeyResolver(template="{stem}").resolve(a).global_key == "doc"


@pytest.mark.parametrize(
    ("template", "names", "message"),
    [
        ("{stem}", ["a/x.jpg", "b/x.jpg"], "both map to global key 'x'"),
        ("{nope}", ["a.jpg"], "unknown field 'nope'"),
        ("{stem}" + "x" * 200, ["a.jpg"], "Labelbox allows 200"),
    ],
)
def test_resolve__errors(template, names, message) -> None:
    keys = KeyResolver(template=template)
    with pytest.raises((DataRowError, OptionsError), match=message):
        for n in names:
            keys.resolve(asset(n))


def test_template_without_field_is_refused() -> None:
    with pytest.raises(OptionsError, match="has no field"):
        KeyResolver(template="constant")


def test_data_rows_map__csv_json_ids(tmp_path: Path) -> None:
    (tmp_path / "m.csv").write_text("file_name,data_row_id\ntrain/a.jpg,ck0000000000000000000000a\n")
    (tmp_path / "m.json").write_text(json.dumps({"a.jpg": "key-a"}))
    by_csv = KeyResolver(data_rows=DataRowMap.load(tmp_path / "m.csv"))
    assert by_csv.resolve(asset("train/a.jpg")).asdict() == {"id": "ck0000000000000000000000a"}
    assert by_csv.resolve(asset("train/b.jpg")) is None
    by_json = KeyResolver(data_rows=DataRowMap.load(tmp_path / "m.json"))
    assert by_json.resolve(asset("sub/a.jpg")).asdict() == {"globalKey": "key-a"}  # unique basename


def test_data_rows_map__bad_row(tmp_path: Path) -> None:
    (tmp_path / "m.csv").write_text("file_name,other\na.jpg,1\n")
    with pytest.raises(OptionsError, match="m.csv, line 2: needs a name column"):
        DataRowMap.load(tmp_path / "m.csv")


@pytest.mark.parametrize("name", ["a.jpg", "train/a b.jpg", "x" * 200, "x" * 201, " "])
@pytest.mark.parametrize("template", [None, "{name}"])
def test_resolve_name_is_resolve_for_plain_images(name: str, template: str | None) -> None:
    """The table lane's by-name data row: the same ref, note and error as resolve()."""
    asset = Asset(name=name, media=Media.IMAGE, source=SourceRef(file="f.json", element="image id 1"),
                  fields={"subset": "val", "image_id": "1"})
    outcomes = []
    for by_name in (False, True):
        keys = KeyResolver(template=template)
        assert keys.by_name
        try:
            ref = keys.resolve_name(name, lambda: asset) if by_name else keys.resolve(asset)
            outcomes.append((ref, keys.defaulted, keys.resolve(asset)))  # seen again: no error
        except DataRowError as exc:
            outcomes.append((str(exc),))
    assert outcomes[0] == outcomes[1]


def test_by_name_only_for_the_name_template() -> None:
    assert KeyResolver().by_name and KeyResolver(template="{name}").by_name
    assert not KeyResolver(template="{stem}").by_name
    assert not KeyResolver(default_template="{dataset}/{name}").by_name


@pytest.mark.parametrize("names", [["a.jpg", "b.jpg"], ["a.jpg", "x" * 201], [" ", "a.jpg"]])
def test_check_names_is_resolve_name_of_each(names: list[str]) -> None:
    def asset(name: str) -> Asset:
        return Asset(name=name, media=Media.IMAGE, source=SourceRef(file="f.json"), fields={"subset": "val"})

    outcomes = []
    for bulk in (False, True):
        keys = KeyResolver()
        try:
            if bulk:
                keys.check_names(names, lambda k: asset(names[k]))
            else:
                for name in names:
                    keys.resolve_name(name, lambda n=name: asset(n))  # type: ignore[misc]
            outcomes.append((keys.defaulted, dict(keys._seen)))
        except DataRowError as exc:
            outcomes.append((str(exc),))
    assert outcomes[0] == outcomes[1]
