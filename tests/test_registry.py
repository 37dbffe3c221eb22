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
