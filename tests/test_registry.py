"""Reader registry: built-ins, aliases, run-time registration, entry points."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from converters.errors import UnknownFormatError
from converters.model import Asset, Media, SourceRef
from converters.readers import Reader, available_formats, get_reader, register_reader, unregister_reader
from converters.readers import _registry


class FakeReader(Reader):
    format_name = "fake"

    def read(self) -> Iterator[Asset]:
        yield Asset(name="x.jpg", media=Media.IMAGE, source=SourceRef(file="x"))


def test_builtins_listed() -> None:
    assert {"coco", "voc", "yolo", "cvat", "spacy"} <= set(available_formats())
    assert get_reader("coco").format_name == "coco"


def test_unknown_lists_known() -> None:
    with pytest.raises(UnknownFormatError, match="known: .*coco"):
        get_reader("labelme")


def test_runtime_registration() -> None:
    register_reader(FakeReader)
    try:
        assert get_reader("fake") is FakeReader
        with pytest.raises(ValueError, match="exists"):
            register_reader(FakeReader)
        with pytest.raises(ValueError):
            register_reader(FakeReader, name="coco")
    finally:
        unregister_reader("fake")
    assert "fake" not in available_formats()


def test_entry_point_group(monkeypatch) -> None:
    class EP:
        name = "thirdparty"
        value = "tests.test_registry:FakeReader"

        def load(self):
            return FakeReader

    class Shadow(EP):
        name = "coco"
        value = "elsewhere:Other"

    monkeypatch.setattr(_registry, "_entry_points", None)
    monkeypatch.setattr(_registry, "entry_points", lambda group: [EP(), Shadow()])
    with pytest.warns(UserWarning, match="a built-in reader has that name"):
        assert "thirdparty" in available_formats()
    assert get_reader("thirdparty") is FakeReader
    assert get_reader("coco").__name__ == "COCOReader"


@pytest.mark.parametrize(
    ("fmt", "values", "message"),
    [
        ("coco", {"crowd": "bogus"}, r"crowd must be one of mask, keep, skip, got 'bogus'"),
        ("coco", {"geometry": 3}, r"geometry must be one of"),
        ("yolo", {"exif": "yes"}, r"exif must be true or false"),
        ("yolo", {"workers": "many"}, r"workers must be a number"),
        ("spacy", {"cat_threshold": 2.0}, r"cat_threshold must be within \[0, 1\]"),
        ("coco", {"colour": 1}, r"the coco reader has no option colour"),
    ],
)
def test_reader_options_are_checked_when_built(fmt, values, message) -> None:
    from converters.errors import OptionsError

    cls = get_reader(fmt)
    with pytest.raises(OptionsError, match=message):
        cls.make_options(values)
    if set(values) <= {f.name for f in __import__("dataclasses").fields(cls.Options)}:
        with pytest.raises(OptionsError, match=message):
            cls.Options(**values)  # at construction, not only through make_options


def test_reader_option_errors_name_the_declared_flag_on_the_cli(tmp_path, capsys) -> None:
    from converters.cli import main

    src = tmp_path / "in.json"
    src.write_text('{"images": [], "annotations": [], "categories": []}')
    assert main(["convert", str(src), "-o", str(tmp_path / "o.ndjson"), "--from", "coco", "--cat-threshold", "0.3"]) == 1
    assert "error: --cat-threshold belongs to the spacy reader, not coco" in capsys.readouterr().err
    assert main(["convert", str(src), "-o", str(tmp_path / "o.ndjson"), "--from", "spacy", "--cat-threshold", "3"]) == 1
    assert "error: --cat-threshold must be within [0, 1], got 3.0" in capsys.readouterr().err
