"""The COCO fast lanes give the general path's bytes: NDJSON, report and ontology (issue 16).

Each conversion runs twice through the CLI, in-process, with the same paths: once as
shipped and once with ``LBCONVERT_NO_FAST_PATH=1`` (every fast lane off); every output file
must be byte-identical, and a failing conversion must fail with the same message. Sources:
the bench's val2017-shaped data (generated small, plus variants that push objects off the
fast lanes), every COCO entry of fixtures-wild/cases.json and every COCO JSON of
fixtures-public, in both import modes.
"""

from __future__ import annotations

import importlib.util
import json
import random
from pathlib import Path

import pytest

from converters.cli import main
from tests.conftest import PUBLIC, ROOT, WILD, shared_json


def _harness():  # bench/_harness.py, the bench's own generator (not a package)
    spec = importlib.util.spec_from_file_location("bench_harness", ROOT / "bench" / "_harness.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _run_both(argv: list[str], out_dir: Path, monkeypatch, capsys) -> tuple[dict[str, bytes], str]:
    """(outputs, stderr) of ``argv`` with the fast lanes on, asserted equal to the general path's."""
    results = []
    for general in ("0", "1"):
        monkeypatch.setenv("LBCONVERT_NO_FAST_PATH", general)
        for p in out_dir.iterdir():
            p.unlink()
        code = main(argv)
        err = capsys.readouterr().err
        results.append((code, err, _outputs(out_dir)))
    (code, err, fast), (code_g, err_g, slow) = results
    assert (code, err) == (code_g, err_g)
    assert fast.keys() == slow.keys()
    for name in fast:
        assert fast[name] == slow[name], f"{name} differs between the fast and the general path"
    return fast, err


def _count_table_rows(monkeypatch) -> list[bool]:
    """Record each asset the table lane takes (True) or declines (False), so a differential
    test can show the lane really ran."""
    from converters.tablerows import TableRows

    seen: list[bool] = []
    add, add_bulk = TableRows.add, TableRows.add_bulk

    def counting(self, *args):  # type: ignore[no-untyped-def]
        took = add(self, *args)
        seen.append(took)
        return took

    def counting_bulk(self, p, i, end):  # type: ignore[no-untyped-def]
        took = add_bulk(self, p, i, end)
        if took:
            seen.extend([True] * (end - i))
        return took

    monkeypatch.setattr(TableRows, "add", counting)
    monkeypatch.setattr(TableRows, "add_bulk", counting_bulk)
    return seen


def _convert_argv(sources: list[str], out_dir: Path, mode: str, *extra: str) -> list[str]:
    return ["convert", *sources, *extra, "-o", str(out_dir / "out.ndjson"), "--mode", mode,
            "--report", str(out_dir / "report.json"), "--write-ontology", str(out_dir / "ontology.json"), "--quiet"]


def _mangle(path: Path, seed: int) -> None:
    """Push some objects off the fast lanes: boxes to clip or inverted, bow-tie, closed and
    multi-part polygons, repeated ids, attributes, scores of nothing, crowd regions."""
    data = json.loads(path.read_text())
    rng = random.Random(seed)
    sizes = {i["id"]: (i["width"], i["height"]) for i in data["images"]}
    for a in data["annotations"]:
        w, h = sizes[a["image_id"]]
        roll = rng.random()
        x, y, bw, bh = a["bbox"]
        if roll < 0.05:
            a["bbox"] = [x, y, bw + w, bh]  # past the right edge: clipped
            a["segmentation"] = []
        elif roll < 0.08:
            a["bbox"] = [x + bw, y, -bw, bh]  # negative width: an inverted box (repaired)
            a["segmentation"] = []
        elif roll < 0.11:
            a["segmentation"] = [[x, y, x + bw, y + bh, x + bw, y, x, y + bh]]  # bow-tie: repaired
        elif roll < 0.13:
            a["segmentation"] = [[x, y, x + bw, y, x + bw, y + bh, x, y]]  # closed ring
        elif roll < 0.16:
            a["segmentation"] = [[x, y, x + 2, y, x + 2, y + 2], [x + 5, y + 5, x + 9, y + 5, x + 9, y + 9]]
        elif roll < 0.18:
            a["attributes"] = {"occluded": rng.random() < 0.5}
        elif roll < 0.20:
            a["id"] = 1  # repeated ids: duplicate-id changes
        elif roll < 0.22:
            a["iscrowd"] = 1
        elif roll < 0.24:
            a["segmentation"] = [[x, y, x + 0.00001, y, x, y + 0.00001]]  # vanishes at 4 decimals
        elif roll < 0.26:
            a["segmentation"] = [[x, y, x + bw, y, x + bw, y + bh, x, y + bh, x, y + bh]]  # repeated vertex
    path.write_text(json.dumps(data))


@pytest.mark.parametrize("mangled", [False, True], ids=["bench", "bench-mangled"])
@pytest.mark.parametrize("mode", ["prelabel", "ground-truth"])
def test_bench_data(tmp_path: Path, monkeypatch, capsys, mangled: bool, mode: str) -> None:
    src = tmp_path / "src" / "instances_val.json"
    src.parent.mkdir()
    objects = _harness().synthetic_coco(src, images=120, polygon_share=0.6, seed=3)[0]
    if mangled:
        _mangle(src, seed=5)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    taken = _count_table_rows(monkeypatch)
    outputs, _ = _run_both(_convert_argv([str(src)], out_dir, mode), out_dir, monkeypatch, capsys)
    assert sum(taken) > (10 if mangled else 119)  # the table lane wrote the plain images
    report = json.loads(outputs["report.json"])
    assert sum(c["read"] for c in report["counts"].values()) == objects
    if mangled:  # the variants really left the fast lanes and were reported
        assert report["entries"], "the mangled data should give report entries"


def _coco_cases() -> list[dict]:
    cases = shared_json(WILD / "cases.json") or []
    return [c for c in cases if c["id"].startswith("coco/")]


@pytest.mark.shared
@pytest.mark.parametrize("case", _coco_cases(), ids=lambda c: c["id"])
@pytest.mark.parametrize("mode", ["prelabel", "ground-truth"])
def test_wild_coco(tmp_path: Path, monkeypatch, capsys, case: dict, mode: str) -> None:
    monkeypatch.chdir(WILD / case["id"])
    _run_both(_convert_argv(list(case["source"]), tmp_path, mode, *case["args"]), tmp_path, monkeypatch, capsys)


def _public_coco() -> list[Path]:
    root = PUBLIC / "coco"
    return sorted(root.rglob("*.json")) if root.is_dir() else []


@pytest.mark.shared
@pytest.mark.parametrize("src", _public_coco(), ids=lambda p: str(p.relative_to(PUBLIC / "coco")))
@pytest.mark.parametrize("mode", ["prelabel", "ground-truth"])
def test_public_coco(tmp_path: Path, monkeypatch, capsys, src: Path, mode: str) -> None:
    _run_both(_convert_argv([str(src)], tmp_path, mode, "--from", "coco"), tmp_path, monkeypatch, capsys)


def _option_sets(folder: Path, src: Path) -> dict[str, list[str]]:
    """Options that change what the table lane must do or decline (each run both ways)."""
    data = json.loads(src.read_text())
    names = [i["file_name"] for i in data["images"]]
    rows = folder / "rows.json"
    rows.write_text(json.dumps({n: f"gk/{n}" for n in names[::2]}))
    cats = [c["name"] for c in data["categories"]]
    ontology = folder / "ontology-given.json"
    ontology.write_text(json.dumps({"tools": [{"name": c, "tool": t} for c in cats[::3] for t in ("rectangle", "polygon")]}))
    class_map = folder / "map.json"
    class_map.write_text(json.dumps({c: f"renamed {i % 7}" for i, c in enumerate(cats)}))
    return {
        "max-rows": ["--max-rows-per-file", "50"],
        "global-key": ["--global-key", "train/{stem}"],
        "data-rows": ["--data-rows", str(rows)],
        "ontology-skip": ["--ontology", str(ontology), "--on-unmapped", "skip"],
        "ontology-error": ["--ontology", str(ontology)],
        "class-map": ["--class-map", str(class_map)],
        "min-score": ["--min-score", "0.5"],
        "strict": ["--strict"],
        "streamed": ["--coco-stream", "always"],
        "streamed-ground-truth": ["--coco-stream", "always"],
    }


@pytest.mark.parametrize("name", ["max-rows", "global-key", "data-rows", "ontology-skip", "ontology-error",
                                  "class-map", "min-score", "strict", "streamed", "streamed-ground-truth"])
@pytest.mark.parametrize("mangled", [False, True], ids=["bench", "bench-mangled"])
def test_bench_data_with_options(tmp_path: Path, monkeypatch, capsys, name: str, mangled: bool) -> None:
    """The table lane under the options that change rows, names, files or failures."""
    src = tmp_path / "src" / "instances_val.json"
    src.parent.mkdir()
    _harness().synthetic_coco(src, images=120, polygon_share=0.6, seed=9)
    if mangled:
        _mangle(src, seed=7)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    extra = _option_sets(tmp_path / "src", src)[name]
    mode = "ground-truth" if name.endswith("ground-truth") else "prelabel"
    _run_both(_convert_argv([str(src)], out_dir, mode, *extra), out_dir, monkeypatch, capsys)
