"""``_stream.item_batches``: a streamed COCO file's annotations parsed in orjson pieces give
exactly what ijson's ``items`` gives: the same items (types and key order included, compared by
``repr``), the same :class:`ParseError` (text and byte) for a broken file.

Exactness alone would hold if the fast path always gave up (it falls back to ijson), so the
cases that are plain valid COCO also assert that the fast path read them on its own
(:func:`fast`), and the ones built to make it give up assert that it did.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from converters.errors import ParseError
from converters.readers.coco import _stream

from ..conftest import PUBLIC, WILD

PIECES = (16, 64, 1000, _stream.PIECE)


def outcome(batches: Any) -> tuple[str, str | None]:
    """repr of every item (types and key order show), and the error text, if any."""
    got: list[Any] = []
    try:
        for batch in batches:
            got.extend(batch)
    except ParseError as exc:
        return repr(got), str(exc)
    return repr(got), None


def ijson_path(path: Path) -> tuple[str, str | None]:
    return outcome([item] for item in _stream.items(path))


def same(path: Path, piece: int) -> tuple[str, str | None]:
    """item_batches and items agree (asserted); what they gave."""
    expected = ijson_path(path)
    batches = list(_stream.item_batches(path, piece)) if expected[1] is None else None
    if batches is not None:
        assert all(type(b) is list and b for b in batches)
    assert outcome(_stream.item_batches(path, piece)) == expected
    return expected


def fast(path: Path, piece: int) -> list[Any]:
    """The fast path alone (raises ``_Unsure`` where it would hand over to ijson)."""
    return [item for batch in _stream._pieces(path, piece) for item in batch]


def write(tmp_path: Path, data: Any, *, name: str = "instances.json", **dumps: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, **dumps), encoding="utf-8")
    return path


def coco(n: int, *, seed: int = 0, extra: Any = None) -> dict[str, Any]:
    rng = random.Random(seed)
    anns = []
    for i in range(n):
        ann: dict[str, Any] = {"id": i + 1, "image_id": i // 3, "category_id": rng.randint(1, 5),
                               "bbox": [rng.uniform(0, 99), 2, 3.5, 4], "area": 12.25, "iscrowd": 0,
                               "segmentation": [[1, 2, 3, 4.5, 6, 7]] if i % 2 else []}
        if extra is not None:
            ann.update(extra(i, rng))
        anns.append(ann)
    return {"info": {"description": "x", "year": 2017}, "licenses": [{"id": 1, "name": "l"}],
            "images": [{"id": i, "file_name": f"{i}.jpg", "width": 10, "height": 10} for i in range(n // 3 + 1)],
            "annotations": anns, "categories": [{"id": c, "name": f"c{c}"} for c in range(1, 6)]}


NESTED = {
    "plain": None,
    # lists of objects inside an annotation, starting like an annotation: many false cuts
    "nested objects": lambda i, rng: {"attributes": [{"id": j, "v": {"id": j}} for j in range(rng.randint(0, 4))]},
    "segments_info": lambda i, rng: {"segments_info": [{"id": j, "category_id": 1} for j in range(3)]},
    # strings holding what a cut looks for, escaped quotes and backslashes
    "tricky strings": lambda i, rng: {"note": rng.choice(['}, {"id": 1', '"}, {"', 'a\\', '\\"}, {', "}\n,\n{", "é}, {ü"]),
                                      "tail\\": '}]', "x": "\\\\"},
    "unicode": lambda i, rng: {"name": "ünï €" * (i % 4), "emoji": "\U0001F600"},
}
LAYOUTS = {
    "compact": {"separators": (",", ":")},
    "default": {},
    "indent 2": {"indent": 2},
    "indent tab": {"indent": "\t"},
    "ascii off": {"ensure_ascii": False, "indent": 1},
}


@pytest.mark.parametrize("piece", PIECES)
@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("nested", list(NESTED))
def test_generated_files_are_read_exactly_and_fast(tmp_path: Path, nested: str, layout: str, piece: int) -> None:
    path = write(tmp_path, coco(60, extra=NESTED[nested]), **LAYOUTS[layout])
    items, error = same(path, piece)
    assert error is None
    assert repr(fast(path, piece)) == items  # no hand-over to ijson


@pytest.mark.parametrize("order", [
    ("annotations", "info", "categories", "images"),
    ("categories", "images", "annotations"),
    ("images", "annotations"),
    ("annotations",),
])  # fmt: skip
def test_any_key_order_is_read_fast(tmp_path: Path, order: tuple[str, ...]) -> None:
    data = coco(30, extra=NESTED["tricky strings"])
    path = write(tmp_path, {k: data[k] for k in order}, indent=1)
    assert same(path, 64)[1] is None
    assert repr(fast(path, 64)) == same(path, 64)[0]


@pytest.mark.parametrize(("name", "text", "fast_path"), [
    ("empty array", '{"annotations": []}', True),
    ("empty array spaced", '{"images": [], "annotations": [ \n ] }', True),
    ("escaped key", '{"annot\\u0061tions": [{"id": 1}], "z": "annotations"}', True),
    ("key in a string", '{"a": "\\"annotations\\": [{\\"id\\": 9}]", "annotations": [{"id": 1}]}', True),
    ("scalars", '{"annotations": [1, 2.5, "x", null, true, [1, {"a": 2}], -0, 1e5]}', True),
    ("mixed", '{"annotations": [{"id": 1}, 7, {"id": 2}, "s"]}', True),
    ("big scalars at top", '{"info": 12345678901234567890123, "annotations": [{"id": 1}]}', False),
    ("nested arrays", '{"a": [[1, [2]], {"b": [3]}], "annotations": [{"id": [[{"x": []}]]}], "c": [[]]}', True),
    ("no annotations", '{"images": [{"id": 1}]}', False),
    ("not an array", '{"annotations": {"id": 1}}', False),
    ("top-level array", '[{"annotations": [{"id": 1}]}]', False),
    ("twice", '{"annotations": [{"id": 1}], "annotations": [{"id": 2}]}', False),
    ("duplicate keys", '{"annotations": [{"id": 1, "b": 2, "id": 3}]}', True),
    ("form feed", '{"annotations": [{"id": 1}\x0c, {"id": 2}]}', False),
    ("int 2**63 - 1", '{"annotations": [{"id": 9223372036854775807}]}', True),
    ("int 2**63", '{"annotations": [{"id": 1}, {"id": 9223372036854775808}]}', False),
    ("int -2**63", '{"annotations": [{"id": -9223372036854775808}]}', False),
    ("int 2**64", '{"annotations": [{"id": 18446744073709551616}]}', False),
    ("long in a string", '{"annotations": [{"id": "12345678901234567890123"}]}', True),
    ("long fraction", '{"annotations": [{"x": 0.0000123456789012345678901}]}', True),
    ("lone surrogate", '{"annotations": [{"id": "\\ud800"}]}', False),
    ("float overflow", '{"annotations": [{"id": 1e400}]}', False),
    ("NaN", '{"annotations": [{"id": NaN}]}', False),
    ("trailing comma", '{"annotations": [{"id": 1},]}', False),
    ("garbage after", '{"annotations": [{"id": 1}]} x', False),
    ("error in the tail", '{"annotations": [{"id": 1}], "categories": [{"id": 1,}]}', False),
    ("unclosed", '{"annotations": [{"id": 1}, {"id": 2}', False),
])  # fmt: skip
def test_edge_files_give_what_ijson_gives(tmp_path: Path, name: str, text: str, fast_path: bool) -> None:
    """``fast_path``: the fast path reads the file alone (else it hands over, possibly after
    some pieces: the result is ijson's either way)."""
    path = tmp_path / "a.json"
    path.write_text(text, encoding="utf-8")
    for piece in (1, 8, 1000):
        same(path, piece)
    if fast_path:
        assert repr(fast(path, 8)) == ijson_path(path)[0]
    else:
        with pytest.raises(_stream._Unsure):
            fast(path, 8)


def test_a_byte_order_mark_is_skipped_as_ijson_does(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(coco(20)).encode())
    assert same(path, 64)[1] is None
    assert repr(fast(path, 64)) == ijson_path(path)[0]


@pytest.mark.parametrize("where", [b'"x"', b'"c3"', b'"name": "l"'])
def test_bytes_that_are_not_utf8_give_ijsons_error(tmp_path: Path, where: bytes) -> None:
    path = tmp_path / "a.json"
    data = coco(20, extra=lambda i, rng: {"note": "x" if i == 15 else "y"})
    path.write_bytes(json.dumps(data).encode().replace(where, where[:-1] + b'\xff"', 1))
    assert same(path, 64)[1] is not None


@pytest.mark.parametrize("piece", [32, 4096])
def test_every_truncation_gives_the_same_items_and_error(tmp_path: Path, piece: int) -> None:
    text = json.dumps(coco(12, extra=NESTED["tricky strings"]), indent=1)
    path = tmp_path / "a.json"
    for end in range(0, len(text), 37):
        path.write_text(text[:end], encoding="utf-8")
        assert same(path, piece)[1] is not None


@pytest.mark.parametrize("piece", [32, 4096])
def test_a_bad_byte_anywhere_gives_the_same_items_and_error(tmp_path: Path, piece: int) -> None:
    text = json.dumps(coco(12, extra=NESTED["nested objects"]))
    path = tmp_path / "a.json"
    rng = random.Random(1)
    for at in sorted(rng.sample(range(len(text)), 120)):
        for bad in ("!", "}", "]", ",", '"'):
            path.write_text(text[:at] + bad + text[at + 1:], encoding="utf-8")
            same(path, piece)


def _fixture_files() -> list[Path]:
    return sorted(p for root in (PUBLIC / "coco", WILD / "coco") for p in root.rglob("*.json")) \
        if PUBLIC.is_dir() and WILD.is_dir() else []


@pytest.mark.shared
@pytest.mark.parametrize("source", _fixture_files(), ids=lambda p: str(p.relative_to(p.parents[2])))
def test_every_shared_fixture_is_read_exactly(source: Path) -> None:
    for piece in (64, _stream.PIECE):
        same(source, piece)


@pytest.mark.shared
def test_the_shared_fixtures_mostly_take_the_fast_path() -> None:
    """Not a correctness check (the one above is): the fast path is not just a detour to ijson."""
    files = [p for p in _fixture_files() if ijson_path(p)[0] != "[]" and ijson_path(p)[1] is None]
    taken = 0
    for path in files:
        try:
            fast(path, 4096)
            taken += 1
        except _stream._Unsure:
            pass
    assert files and taken >= 0.9 * len(files)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.sampled_from('ab"\\}{],[: \n\té\x01'), max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(["id", "a", "b", "}, {"]), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(anns=st.lists(JSON, max_size=12), indent=st.sampled_from([None, 0, 1, 3]),
       piece=st.sampled_from([1, 10, 50, 400]))
def test_random_json_is_read_exactly(tmp_path: Path, anns: list[Any], indent: int | None, piece: int) -> None:
    path = write(tmp_path, {"x": anns[:2], "annotations": anns, "y": {"annotations": anns[:1]}}, indent=indent)
    same(path, piece)


def test_an_item_much_larger_than_a_piece_is_read_fast(tmp_path: Path) -> None:
    data = coco(9)
    data["annotations"][4]["segmentation"] = [[float(i) for i in range(40_000)], [{"id": 1}] * 50]
    path = write(tmp_path, data)
    assert same(path, 512)[1] is None
    assert repr(fast(path, 512)) == ijson_path(path)[0]


# -- read_head: the top level before ``annotations`` -----------------------------------------


def head_outcome(read: Any) -> tuple[str, bool | None] | str:
    try:
        head = read()
    except ParseError as exc:
        return str(exc)
    return (repr(head.top), head.has_annotations) if head is not None else ("None", None)


def same_head(path: Path, piece: int) -> tuple[str, bool | None] | str:
    expected = head_outcome(lambda: _stream._ijson_head(path))
    assert head_outcome(lambda: _stream.read_head(path, piece)) == expected
    return expected


@pytest.mark.parametrize("piece", [16, 4096])
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_the_head_is_read_exactly_and_fast(tmp_path: Path, layout: str, piece: int) -> None:
    data = coco(40, extra=NESTED["tricky strings"])
    data["images"][3].update(coco_url="http://x/1.jpg", license=3, extra={"a": [1, {"b": "}, {"}]})
    path = write(tmp_path, data, **LAYOUTS[layout])
    expected = same_head(path, piece)
    assert head_outcome(lambda: _stream._fast_head(path, piece)) == expected
    assert isinstance(expected, tuple) and "coco_url" not in expected[0] and expected[1] is True


@pytest.mark.parametrize("text", [
    '{}', '{"images": []}', '[]', '"x"', '', '{"annotations": 5}', '{"annotations": x}', '{"a": 1,}',
    '{"a": NaN, "annotations": []}', '{"a": 123456789012345678901234, "annotations": []}',
    '{"images": [1, {"id": 2, "z": 3}, [4]], "annotations": [', '{"images": {"id": 1}, "annotations": []}',
    '{"a": {"b": [1, 2', '{"a": "\\ud800", "annotations": []}', '{"a": 1 "annotations": []}',
    '{"a": 1, "a": {"x": 2}, "annotations": []}',
])  # fmt: skip
def test_odd_heads_give_what_ijson_gives(tmp_path: Path, text: str) -> None:
    path = tmp_path / "a.json"
    path.write_text(text, encoding="utf-8")
    for piece in (1, 8, 1000):
        same_head(path, piece)


@pytest.mark.parametrize("piece", [32, 4096])
def test_every_truncated_head_gives_the_same_result(tmp_path: Path, piece: int) -> None:
    text = json.dumps(coco(12), indent=1)
    path = tmp_path / "a.json"
    for end in range(0, text.index('"annotations"') + 20, 23):
        path.write_text(text[:end], encoding="utf-8")
        same_head(path, piece)


@pytest.mark.shared
@pytest.mark.parametrize("source", _fixture_files(), ids=lambda p: str(p.relative_to(p.parents[2])))
def test_every_shared_fixtures_head_is_read_exactly(source: Path) -> None:
    same_head(source, 64)


def test_a_streamed_conversion_does_not_need_ijson(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The scan, the read and the head of a plain streamed file all take the fast path (ijson
    is made to fail), and the output is the whole-file path's."""
    from . import test_coco_stream as streamed

    source = streamed.dump(tmp_path / "instances_val.json", streamed.coco(60, empty_every=5))
    whole = streamed.run(source, tmp_path / "never", "never")

    def no_ijson(*_: Any) -> Any:
        raise AssertionError("the ijson path was taken")

    monkeypatch.setattr(_stream, "items", no_ijson)  # what the fallback calls
    monkeypatch.setattr(_stream, "_ijson_head", no_ijson)
    assert streamed.run(source, tmp_path / "always", "always") == whole
