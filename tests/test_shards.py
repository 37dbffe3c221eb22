"""Sharded conversion without Dask: every reader's shards, converted one by one in this
process (:class:`converters.sharding.InlineClient`), give the single-process output byte for
byte, and the merged report accounts for every annotation.

The shard sizes are made tiny here (three images per VOC/YOLO shard, COCO splits cut into
image ranges every 100 KB), so the range logic of every reader is exercised on small fixtures. The
same runs on a real Dask cluster are in tests/test_dask.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import converters
from converters import sharding
from converters.cli import main
from converters.errors import DataRowError, MissingDependencyError, OptionsError, ShardError
from converters.model import Kind
from converters.ontology import Ontology
from converters.readers import Shard, get_reader
from converters.readers.coco import reader as coco_reader
from converters.readers.voc import reader as voc_reader
from converters.readers.yolo import reader as yolo_reader
from converters.report import Report
from converters.sharding import InlineClient
from tests.conftest import OWN_FIXTURES, PUBLIC, WILD, shared_json
from tests.test_wild import PUBLIC_SWEEP, _needs_spacy

#: Not here: cvat/urban-scene-masks, one XML file (so one shard) of large masks that takes a
#: minute to convert, twice; the other CVAT entries cover the one-file shard.
SLOW = {"cvat/urban-scene-masks"}
CASES = [c for c in shared_json(WILD / "cases.json") or []
         if c["expect"] == "ok" and not _needs_spacy(c) and c["id"] not in SLOW]


@pytest.fixture
def tiny_shards(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shards of 3 images (VOC, YOLO) and COCO image ranges per 100 KB of JSON."""
    monkeypatch.setattr(voc_reader, "SHARD_ITEMS", 3)
    monkeypatch.setattr(yolo_reader, "SHARD_ITEMS", 3)
    monkeypatch.setattr(coco_reader, "SHARD_BYTES", 100_000)


@pytest.fixture
def inline(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--workers N`` runs its shards here, one after the other (no Dask)."""
    monkeypatch.setattr(sharding, "make_client", lambda options: (InlineClient(), []))
    monkeypatch.setattr(sharding, "check_available", lambda: None)


def run_both(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], *extra: str) -> dict[str, object]:
    """Convert with ``argv`` in one process and sharded (``extra`` flags added); every output
    file is compared byte for byte, and the reports but for the output paths and options
    (counts, entries and notes, in order). Returns the sharded report."""
    outs = {}
    for tag, more in (("one", []), ("sharded", ["--workers", "2", *extra])):
        folder = tmp_path / tag
        folder.mkdir()
        args = [a.replace("{out}", str(folder)) for a in argv]
        code = main(["convert", *args, "-o", str(folder / "out.ndjson"), "--quiet", *more])
        err = capsys.readouterr().err
        assert code == 0, err
        outs[tag] = folder
    one, sharded = outs["one"], outs["sharded"]
    names = sorted(p.name for p in one.iterdir())
    assert names == sorted(p.name for p in sharded.iterdir())
    for name in names:
        if name.endswith(".report.json"):
            continue
        assert (one / name).read_bytes() == (sharded / name).read_bytes(), name
    a = json.loads((one / "out.report.json").read_text(encoding="utf-8"))
    b = json.loads((sharded / "out.report.json").read_text(encoding="utf-8"))
    assert set(a) == set(b)
    for key in set(a) - {"outputs", "options"}:  # counts, entries and notes, in order
        assert a[key] == b[key], key
    for c in b["counts"].values():
        assert c["read"] == c["written"] + c["skipped"]
    return b


@pytest.mark.shared
@pytest.mark.parametrize("case", CASES, ids=lambda c: c["id"])
def test_wild_entry_sharded_is_byte_identical(tmp_path, capsys, monkeypatch, tiny_shards, inline, case) -> None:
    monkeypatch.chdir(WILD / case["id"])
    extra = ["--write-data-rows", "{out}/rows.json"] if case["id"].startswith("spacy/") else []
    run_both(tmp_path, capsys, [*case["source"], *case["args"], "--write-ontology", "{out}/ontology.json", *extra])


@pytest.mark.shared
@pytest.mark.parametrize(("source", "args"), PUBLIC_SWEEP, ids=lambda v: v if isinstance(v, str) else " ".join(v))
def test_public_voc_yolo_sharded_is_byte_identical(tmp_path, capsys, tiny_shards, inline, source, args) -> None:
    run_both(tmp_path, capsys, [str(PUBLIC / source), *args, "--write-ontology", "{out}/ontology.json"])


@pytest.mark.parametrize("extra", [[], ["--max-rows-per-file", "2"], ["--mode", "ground-truth", "--strict"]])
def test_sample_sharded_options(tmp_path, capsys, tiny_shards, inline, extra) -> None:
    """Chunked output is cut at the same data rows; --strict refuses alike (exit 2, no rows)."""
    argv = [str(OWN_FIXTURES / "sample" / "instances.json"), *extra]
    if "--strict" in extra:
        for tag in ("one", "sharded"):
            out = tmp_path / f"{tag}.ndjson"
            code = main(["convert", *argv, "-o", str(out), "--quiet", *(["--workers", "2"] if tag == "sharded" else [])])
            assert code == 2 and not out.exists()
        return
    run_both(tmp_path, capsys, argv)


def test_coco_image_ranges_cover_every_image_once(monkeypatch) -> None:
    path = OWN_FIXTURES / "sample" / "instances.json"
    monkeypatch.setattr(coco_reader, "SHARD_BYTES", max(1, path.stat().st_size // 3))
    reader = get_reader("coco")([path])
    shards = reader.shards()
    assert len(shards) >= 3 and [s.index for s in shards] == list(range(len(shards)))
    names = [a.name for s in shards for a in get_reader("coco")([path]).read_shard(s)]
    assert names == [a.name for a in get_reader("coco")([path]).read()]


def test_default_shard_is_the_whole_reading() -> None:
    class One(converters.Reader):  # type: ignore[type-arg]
        format_name = "one"

        def read(self):
            yield converters.Asset(name="a.png", media=converters.Media.IMAGE,
                                   source=converters.SourceRef(file="x"), width=2, height=2)

    reader = One(["x"])
    (shard,) = reader.shards()
    assert shard.unit == () and [a.name for a in reader.read_shard(shard)] == ["a.png"]
    with pytest.raises(ValueError, match="does not split"):
        list(reader.read_shard(Shard(1, "x", ("part",))))


def test_keep_shards_writes_one_file_per_shard_and_a_manifest(tmp_path, capsys, monkeypatch, inline) -> None:
    monkeypatch.setattr(voc_reader, "SHARD_ITEMS", 1)
    voc = PUBLIC / "voc/labelformat/tests/fixtures/object_detection/PascalVOC"
    one = tmp_path / "one.ndjson"
    assert main(["convert", str(voc), "-o", str(one), "--quiet"]) == 0
    out = tmp_path / "kept.ndjson"
    assert main(["convert", str(voc), "-o", str(out), "--quiet", "--workers", "2", "--keep-shards"]) == 0
    manifest = json.loads((tmp_path / "kept.manifest.json").read_text(encoding="utf-8"))
    files = [tmp_path / f for entry in manifest["shards"] for f in entry["files"]]
    assert len(files) == len(manifest["shards"]) > 1 and not out.exists()
    assert b"".join(f.read_bytes() for f in files) == one.read_bytes()
    assert sum(e["rows"] for e in manifest["shards"]) == len(one.read_bytes().splitlines())
    report = json.loads((tmp_path / "kept.report.json").read_text(encoding="utf-8"))
    assert report["outputs"] == [str(f) for f in files] + [str(tmp_path / "kept.manifest.json")]
    # a run without --keep-shards replaces the shard files (one set of files per OUT)
    assert main(["convert", str(voc), "-o", str(out), "--quiet", "--workers", "2"]) == 0
    assert not any(f.exists() for f in files) and out.read_bytes() == one.read_bytes()


def test_failing_shard_names_its_file_and_commits_nothing(tmp_path, capsys, inline) -> None:
    good = json.loads((OWN_FIXTURES / "sample" / "instances.json").read_text(encoding="utf-8"))
    src = tmp_path / "src"
    (src / "annotations").mkdir(parents=True)
    (src / "annotations" / "instances_a.json").write_text(json.dumps(good), encoding="utf-8")
    bad = dict(good, annotations=[*good["annotations"], {"id": 99, "image_id": 12345, "category_id": 1, "bbox": [0, 0, 1, 1]}])
    (src / "annotations" / "instances_b.json").write_text(json.dumps(bad), encoding="utf-8")
    out = tmp_path / "out" / "x.ndjson"
    out.parent.mkdir()
    code = main(["convert", str(src), "-o", str(out), "--workers", "2", "--write-ontology", str(out.parent / "o.json")])
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert code == 1 and len(err) == 1 and "instances_b.json" in err[0] and "annotation id 99" in err[0], err
    assert list(out.parent.iterdir()) == []  # nothing committed, no staging folder left


def test_two_shards_giving_one_key_to_two_assets_fail(tmp_path, inline) -> None:
    good = json.loads((OWN_FIXTURES / "sample" / "instances.json").read_text(encoding="utf-8"))
    renamed = dict(good, images=[dict(im, file_name="b_" + im["file_name"]) for im in good["images"]])
    (tmp_path / "instances_a.json").write_text(json.dumps(good), encoding="utf-8")
    (tmp_path / "instances_b.json").write_text(json.dumps(renamed), encoding="utf-8")
    for client in (None, InlineClient()):
        with pytest.raises(DataRowError, match="both map to"):
            converters.convert([tmp_path / "instances_a.json", tmp_path / "instances_b.json"], tmp_path / "o.ndjson",
                               global_key="{image_id}", client=client)
    assert not (tmp_path / "o.ndjson").exists()


def test_worker_error_crosses_processes_as_one_line() -> None:
    import pickle

    err = pickle.loads(pickle.dumps(ShardError("a.json: bad", 2)))
    assert str(err) == "a.json: bad" and err.exit_code == 2


@pytest.mark.parametrize(
    ("kw", "text"),
    [
        ({"workers": 0}, "workers must be at least 1"),
        ({"workers": 2, "dask_scheduler": "tcp://x:1"}, "not both"),
        ({"workers": 2, "keep_shards": True, "max_rows_per_file": 5}, "not both"),
    ],
)
def test_sharding_options_are_checked(kw, text) -> None:
    with pytest.raises(OptionsError, match=text):
        converters.ConvertOptions(**kw)


def test_keep_shards_needs_a_sharded_run(tmp_path, capsys) -> None:
    out = tmp_path / "o.ndjson"
    assert main(["convert", str(OWN_FIXTURES / "sample" / "instances.json"), "-o", str(out), "--keep-shards"]) == 1
    assert capsys.readouterr().err.startswith("error: --keep-shards needs --workers N (N > 1) or --dask-scheduler")
    assert not out.exists()


def test_without_the_extra_workers_names_it(tmp_path, capsys, monkeypatch) -> None:
    def missing():
        raise MissingDependencyError("--workers / --dask-scheduler", "dask", "dask[distributed]")

    monkeypatch.setattr(sharding, "check_available", missing)
    out = tmp_path / "o.ndjson"
    code = main(["convert", str(OWN_FIXTURES / "sample" / "instances.json"), "-o", str(out), "--workers", "2"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "labelbox-converters[dask]" in err[0] and not out.exists()


def test_report_merge_sums_counts_and_keeps_entries_in_order() -> None:
    from converters.model import SourceRef

    a, b = Report(), Report()
    a.count_read("bbox", 2)
    a.count_written("bbox", 2)
    b.skip_unread(SourceRef(file="b.json", annotation_id="7"), "polygon", "bad", "why")
    b.note("x", "y")
    a.note("x", "y")
    a.merge(b)
    a.check()
    assert a.counts() == {"bbox": {"read": 2, "written": 2, "skipped": 0},
                          "polygon": {"read": 1, "written": 0, "skipped": 1}}
    assert [e.code for e in a.entries] == ["bad"] and a.notes == [{"code": "x", "message": "y"}]
    small = Report(max_entries=0)
    small.merge(b)
    assert small.entries == [] and small.entries_dropped == 1


def test_ontology_merge_is_the_one_process_ontology() -> None:
    from converters.model import Classification

    one = Ontology.derived()
    parts = [Ontology.derived(), Ontology.derived()]
    for i, (label, kind) in enumerate([("cat", Kind.BBOX), ("dog", Kind.POLYGON), ("cat", Kind.BBOX), ("bird", Kind.POINT)]):
        for o in (one, parts[i // 2]):
            o.tool_for(label, kind)
            o.classification_for(Classification.checklist("tags", [label]))
    merged = Ontology.derived()
    for p in parts:
        merged.merge(p)
    assert merged.to_json() == one.to_json()
    clash = Ontology.derived()
    clash.classification_for(Classification.radio("tags", "x"))
    with pytest.raises(converters.MappingError, match="tags"):
        merged.merge(clash)


def test_memory_urls_round_trip(tmp_path, tiny_shards) -> None:
    """SOURCE and OUT as fsspec ``memory://`` URLs, in one process and sharded: the bytes of a
    local run, the report beside OUT naming the URLs, no staging folder left behind."""
    fsspec = pytest.importorskip("fsspec", reason="needs the [dask] extra (fsspec)")
    fs = fsspec.filesystem("memory")
    src = OWN_FIXTURES / "sample" / "instances.json"
    fs.pipe("/lbc-test/src/instances.json", src.read_bytes())
    expected = tmp_path / "local.ndjson"
    converters.convert([src], expected)
    for tag, client in (("one", None), ("sharded", InlineClient())):
        url = f"memory://lbc-test/{tag}/out.ndjson"
        report = converters.convert(["memory://lbc-test/src/instances.json"], url, client=client)
        assert fs.cat(f"/lbc-test/{tag}/out.ndjson") == expected.read_bytes()
        assert report.outputs == [url] and report.inputs == ["memory://lbc-test/src/instances.json"]
        written = json.loads(fs.cat(f"/lbc-test/{tag}/out.report.json"))
        assert written["outputs"] == [url] and written["counts"] == report.counts()
        assert sorted(p.rsplit("/", 1)[1] for p in fs.ls(f"/lbc-test/{tag}", detail=False)) == ["out.ndjson", "out.report.json"]
    fs.rm("/lbc-test", recursive=True)


def test_file_urls_are_local_paths(tmp_path) -> None:
    src = OWN_FIXTURES / "sample" / "instances.json"
    converters.convert([src], tmp_path / "a.ndjson")
    converters.convert([f"file://{src}"], f"file://{tmp_path}/b.ndjson")
    assert (tmp_path / "a.ndjson").read_bytes() == (tmp_path / "b.ndjson").read_bytes()


def test_coco_folder_of_disjoint_files_is_one_shard_per_file(tmp_path, capsys, inline) -> None:
    """A folder of instances files of different images (SA-1B-like: a file per image or batch)
    is read a file per shard; the same bytes as the merge by image of one process."""
    data = json.loads((OWN_FIXTURES / "sample" / "instances.json").read_text(encoding="utf-8"))
    src = tmp_path / "src"
    src.mkdir()
    for i, image in enumerate(data["images"]):
        part = dict(data, images=[image], annotations=[a for a in data["annotations"] if a["image_id"] == image["id"]])
        (src / f"part{i}.json").write_text(json.dumps(part), encoding="utf-8")
    reader = get_reader("coco")([src])
    shards = reader.shards()
    assert sorted(s.what for s in shards) == [str(src / f"part{i}.json") for i in range(len(data["images"]))]
    run_both(tmp_path, capsys, [str(src)])
    # the same image in two files: merged by image, so read together
    (src / "part9.json").write_text(json.dumps(dict(data, annotations=[])), encoding="utf-8")
    assert len(get_reader("coco")([src]).shards()) == 1


def test_mask_files_are_written_by_the_shards(tmp_path, capsys, tiny_shards, inline) -> None:
    """``--mask-dir``: the workers write the PNGs into the client's staging folder, committed
    with the rows; the same files and rows as one process (same folder, so same URIs)."""
    src = str(OWN_FIXTURES / "sample" / "instances.json")
    out, masks = tmp_path / "out.ndjson", tmp_path / "masks"
    seen = []
    for more in ([], ["--workers", "2"]):
        code = main(["convert", src, "-o", str(out), "--quiet", "--mask-format", "uri", "--mask-dir", str(masks),
                     "--allow-file-uris", *more])
        assert code == 0, capsys.readouterr().err
        seen.append((out.read_bytes(), {p.relative_to(masks).as_posix(): p.read_bytes() for p in masks.rglob("*") if p.is_file()}))
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left
    assert seen[0] == seen[1] and seen[0][1]


ERROR_CASES = [c for c in shared_json(WILD / "cases.json") or [] if c["expect"] == "clean-error" and not _needs_spacy(c)]


@pytest.mark.shared
@pytest.mark.parametrize("case", ERROR_CASES, ids=lambda c: c["id"])
def test_wild_error_entry_fails_alike_when_sharded(tmp_path, capsys, monkeypatch, tiny_shards, inline, case) -> None:
    """An entry one process refuses in one line is refused in the same line when sharded
    (whether the client or a shard meets the problem), and nothing is written."""
    monkeypatch.chdir(WILD / case["id"])
    lines = []
    for tag, more in (("one", []), ("sharded", ["--workers", "2"])):
        out = tmp_path / f"{tag}.ndjson"
        code = main(["convert", *case["source"], *case["args"], "-o", str(out), "--quiet", *more])
        err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
        assert code == 1 and len(err) == 1 and err[0].startswith("error: "), err
        assert not out.exists()
        lines.append(err[0])
    assert lines[0] == lines[1]
    assert [p.name for p in tmp_path.iterdir()] == []


def test_report_says_how_the_run_was_cut(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(voc_reader, "SHARD_ITEMS", 1)
    voc = PUBLIC / "voc/openvinotoolkit-datumaro/tests/assets/voc_dataset/voc_dataset1"
    report = converters.convert([voc], tmp_path / "o.ndjson", client=InlineClient())
    assert report.options["shards"] == len(report.options["shard_assets"]) > 1
    assert sum(report.options["shard_assets"]) == report.assets


def _kinds(mapping) -> dict[str, set]:
    return {label: set(k) for label, k in mapping.items() if k}


LABEL_SOURCES = [*(pytest.param([str(WILD / c["id"] / s) for s in c["source"]], id=c["id"]) for c in CASES if not c["args"]),
                 *(pytest.param([str(PUBLIC / src)], id=src) for src, args in PUBLIC_SWEEP if not args)]


@pytest.mark.shared
@pytest.mark.parametrize("sources", LABEL_SOURCES)
def test_shards_label_kinds_union_is_the_source_label_kinds(tiny_shards, sources) -> None:
    """The labels pass on the workers: the union of every shard's label kinds is the whole
    source's, so every shard's ontology names tools as one process does."""
    from converters.pipeline import build_reader

    whole = _kinds(build_reader(sources, converters.ConvertOptions(), Report()).label_kinds())
    union: dict[str, set] = {}
    for shard in build_reader(sources, converters.ConvertOptions(), Report()).shards():
        part = build_reader(sources, converters.ConvertOptions(), Report()).shard_label_kinds(shard)
        for label, k in _kinds(part).items():
            union.setdefault(label, set()).update(k)
    assert union == whole


def test_a_class_of_two_kinds_in_two_shards_keeps_its_tool_names(tmp_path, capsys, inline) -> None:
    """'cat' is a polygon in one file and a box in the next: each shard names both tools as
    one process does (the kinds are declared from the labels pass, not met in order)."""
    data = json.loads((OWN_FIXTURES / "sample" / "instances.json").read_text(encoding="utf-8"))
    cats = [{"id": 1, "name": "cat"}]
    src = tmp_path / "src"
    src.mkdir()
    for i, image in enumerate(data["images"][:2]):
        shape = {"bbox": [1, 1, 5, 5]} if i == 1 else {"segmentation": [[1, 1, 6, 1, 6, 6]], "bbox": [1, 1, 5, 5]}
        part = {"images": [image], "categories": cats, "annotations": [{"id": 1, "image_id": image["id"], "category_id": 1, **shape}]}
        (src / f"part{i}.json").write_text(json.dumps(part), encoding="utf-8")
    assert len(get_reader("coco")([src]).shards()) == 2
    report = run_both(tmp_path, capsys, [str(src), "--write-ontology", "{out}/ontology.json"])
    assert report["rows"] == {"bbox": 1, "polygon": 1}
    tools = json.loads((tmp_path / "sharded" / "ontology.json").read_text(encoding="utf-8"))["tools"]
    # boxes rank first: the box is "cat" though the first shard only met the polygon
    assert {t["tool"]: t["name"] for t in tools} == {"rectangle": "cat", "polygon": "cat (polygon)"}
