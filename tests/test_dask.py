"""Sharded conversion on a real Dask cluster (issue 17): a ``LocalCluster`` of 2 worker
processes, started once for the module; every reader's fixtures convert to the same bytes
as one process, the merged report keeps read = written + skipped, a bad file fails the run
in one line naming it with nothing committed, and ``--workers 2`` starts its own cluster.

Skipped, with the reason, when the ``[dask]`` extra is not installed (``.ci/run`` installs it).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("dask.distributed", reason="needs the [dask] extra: pip install 'labelbox-converters[dask]'")

import converters  # noqa: E402
from converters.cli import main  # noqa: E402
from converters.errors import ShardError  # noqa: E402
from converters.readers.coco import reader as coco_reader  # noqa: E402
from converters.readers.voc import reader as voc_reader  # noqa: E402
from converters.readers.yolo import reader as yolo_reader  # noqa: E402
from tests.conftest import OWN_FIXTURES, PUBLIC, WILD  # noqa: E402

#: One source per reader (and per kind of shard): several files, image ranges, one file.
SOURCES = {
    "coco-sample-ranges": [str(OWN_FIXTURES / "sample" / "instances.json")],
    "coco-folder-of-splits": [str(PUBLIC / "coco/openvinotoolkit-datumaro/tests/assets/coco_dataset/coco/")],
    "voc": [str(PUBLIC / "voc/openvinotoolkit-datumaro/tests/assets/voc_dataset/voc_dataset1")],
    "yolo": [str(PUBLIC / "yolo/cvat-ai-datumaro/tests/assets/yolo_dataset/yolov8_segmentation")],
    "cvat": [str(PUBLIC / "cvat/openvinotoolkit-datumaro/tests/assets/cvat_dataset/for_images/export_project/annotations.xml"),
             str(PUBLIC / "cvat/cvat-ai-datumaro/tests/assets/cvat_dataset/for_images/train.xml")],
    "spacy": [str(WILD / "spacy/doccano-soccer-ptbr/data/corpus_annotated/florensa.jsonl"),
              str(WILD / "spacy/prodigy-labelner-adidas/annotations/annotations_adidas.jsonl")],
}


@pytest.fixture(scope="module")
def cluster():
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as lc:
        with Client(lc) as client:
            yield client


@pytest.fixture
def small_shards(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(voc_reader, "SHARD_ITEMS", 1)
    monkeypatch.setattr(yolo_reader, "SHARD_ITEMS", 1)
    monkeypatch.setattr(coco_reader, "SHARD_BYTES", 1000)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if not p.name.endswith(".report.json")}


@pytest.mark.shared
@pytest.mark.parametrize("name", sorted(SOURCES))
def test_cluster_output_is_byte_identical(tmp_path, capsys, cluster, small_shards, name) -> None:
    sources = SOURCES[name]
    address = cluster.scheduler.address
    runs = {}
    for tag, more in (("one", []), ("cluster", ["--dask-scheduler", address])):
        folder = tmp_path / tag
        folder.mkdir()
        code = main(["convert", *sources, "-o", str(folder / "out.ndjson"), "--quiet",
                     "--write-ontology", str(folder / "ontology.json"), *more])
        assert code == 0, capsys.readouterr().err
        runs[tag] = folder
    assert _files(runs["one"]) == _files(runs["cluster"])
    one = json.loads((runs["one"] / "out.report.json").read_text(encoding="utf-8"))
    merged = json.loads((runs["cluster"] / "out.report.json").read_text(encoding="utf-8"))
    assert merged["counts"] == one["counts"] and merged["assets"] == one["assets"]
    assert merged["tallies"] == one["tallies"] and len(merged["entries"]) == len(one["entries"])
    for kind, c in merged["counts"].items():
        assert c["read"] == c["written"] + c["skipped"], kind


def test_api_client_and_max_rows_per_file(tmp_path, cluster, small_shards) -> None:
    src = OWN_FIXTURES / "sample" / "instances.json"
    one = converters.convert([src], tmp_path / "one.ndjson", max_rows_per_file=4)
    many = converters.convert([src], tmp_path / "many.ndjson", max_rows_per_file=4, client=cluster)
    assert len(one.outputs) == len(many.outputs) > 1
    for a, b in zip(one.outputs, many.outputs):
        assert Path(a).read_bytes() == Path(b).read_bytes()
    many.check()


def test_failing_shard_fails_the_run_naming_the_file(tmp_path, cluster) -> None:
    good = json.loads((OWN_FIXTURES / "sample" / "instances.json").read_text(encoding="utf-8"))
    src = tmp_path / "src"
    src.mkdir()
    (src / "instances_a.json").write_text(json.dumps(good), encoding="utf-8")
    bad = dict(good, annotations=[*good["annotations"], {"id": 99, "image_id": 12345, "category_id": 1, "bbox": [0, 0, 1, 1]}])
    (src / "instances_b.json").write_text(json.dumps(bad), encoding="utf-8")  # read by a worker: it fails there
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ShardError, match="instances_b.json.*annotation id 99") as info:
        converters.convert([src], out / "x.ndjson", client=cluster, write_ontology=out / "o.json")
    assert "\n" not in str(info.value)
    assert list(out.iterdir()) == []


def test_workers_flag_starts_a_local_cluster(tmp_path, capsys) -> None:
    src = str(OWN_FIXTURES / "sample" / "instances.json")
    assert main(["convert", src, "-o", str(tmp_path / "one.ndjson"), "--quiet"]) == 0
    assert main(["convert", src, "-o", str(tmp_path / "two.ndjson"), "--quiet", "--workers", "2"]) == 0
    assert (tmp_path / "one.ndjson").read_bytes() == (tmp_path / "two.ndjson").read_bytes()


def test_memory_urls_on_a_dask_cluster(tmp_path) -> None:
    """fsspec ``memory://`` SOURCE and OUT on a Dask cluster. ``memory://`` lives in one
    process, so this cluster's workers are threads of this one; the shard files go through
    fsspec exactly as they go to ``s3://`` from worker processes."""
    import fsspec
    from dask.distributed import Client, LocalCluster

    fs = fsspec.filesystem("memory")
    src = OWN_FIXTURES / "sample" / "instances.json"
    fs.pipe("/lbc-dask/src/instances.json", src.read_bytes())
    converters.convert([src], tmp_path / "local.ndjson")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0") as lc, Client(lc) as client:
        converters.convert(["memory://lbc-dask/src/instances.json"], "memory://lbc-dask/out/x.ndjson", client=client)
        report = converters.convert(["memory://lbc-dask/src/instances.json"], "memory://lbc-dask/kept/x.ndjson",
                                    client=client, keep_shards=True)
    assert fs.cat("/lbc-dask/out/x.ndjson") == (tmp_path / "local.ndjson").read_bytes()
    kept = [u for u in report.outputs if u.endswith(".ndjson")]
    assert b"".join(fs.cat(u.removeprefix("memory://")) for u in kept) == (tmp_path / "local.ndjson").read_bytes()
    assert not [p for p in fs.find("/lbc-dask") if ".shards-" in p]
    fs.rm("/lbc-dask", recursive=True)


def test_unreachable_scheduler_is_one_line(tmp_path, capsys) -> None:
    import socket

    import dask

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    out = tmp_path / "o.ndjson"
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        code = main(["convert", str(OWN_FIXTURES / "sample" / "instances.json"), "-o", str(out),
                     "--dask-scheduler", f"tcp://127.0.0.1:{port}"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and err[0].startswith(f"error: --dask-scheduler tcp://127.0.0.1:{port}: cannot connect")
    assert not out.exists() and list(tmp_path.iterdir()) == []
