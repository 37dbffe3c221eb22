"""The CLI as a user meets it (issue 13) and outputs that must not clobber inputs (issue 14 B).

Every case runs ``converters.cli.main`` in-process and checks the exit code, the stderr lines
and the files left on disk. Sources are small files written here (tmp_path).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from converters import cli
from converters.cli import main
from converters.report import Report
from tests.conftest import read_ndjson


def _coco(folder: Path, *, images: int = 3, boxes: int = 2, name: str = "instances.json") -> Path:
    """A COCO file: ``images`` images with ``boxes`` boxes each, class ``cat``."""
    data = {
        "images": [{"id": i, "file_name": f"img{i}.jpg", "width": 100, "height": 80} for i in range(1, images + 1)],
        "categories": [{"id": 1, "name": "cat"}],
        "annotations": [
            {"id": i * 10 + j, "image_id": i, "category_id": 1, "bbox": [j * 10, 5, 8, 8], "area": 64, "iscrowd": 0}
            for i in range(1, images + 1)
            for j in range(boxes)
        ],
    }
    path = folder / name
    path.write_text(json.dumps(data))
    return path


def _err_lines(capsys) -> list[str]:
    return [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


# -- exit codes and messages -------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mode", "bad"], "argument --mode: invalid choice: 'bad'"),
        (["--global-key", "{name}", "--data-rows", "m.csv"], "argument --data-rows: not allowed with argument --global-key"),
        (["--no-such-flag"], "unrecognized arguments: --no-such-flag"),  # found by the top parser
    ],
)
def test_usage_errors__exit_1_error_line_and_hint(tmp_path: Path, capsys, args: list[str], message: str) -> None:
    src = _coco(tmp_path)
    code = main(["convert", str(src), "-o", str(tmp_path / "o.ndjson"), *args])
    lines = _err_lines(capsys)
    assert code == 1
    assert lines[0].startswith("error: ") and message in lines[0]
    assert lines[1:] == ["see 'lbconvert convert --help'"]
    assert _files(tmp_path) == {"instances.json"}


def test_usage_error__missing_output(tmp_path: Path, capsys) -> None:
    assert main(["convert", str(_coco(tmp_path))]) == 1
    assert _err_lines(capsys) == [
        "error: the following arguments are required: -o/--output",
        "see 'lbconvert convert --help'",
    ]


@pytest.mark.parametrize("n", ["0", "-5"])
def test_max_rows_per_file_below_one__one_error_line(tmp_path: Path, capsys, n: str) -> None:
    src = _coco(tmp_path)
    assert main(["convert", str(src), "-o", str(tmp_path / "o.ndjson"), "--max-rows-per-file", n]) == 1
    assert _err_lines(capsys) == [f"error: --max-rows-per-file must be at least 1 (got {n})"]
    assert _files(tmp_path) == {"instances.json"}


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["--mask-dir", "m"], "--mask-dir is not used with --mask-format png"),
        (["--mask-format", "composite", "--mask-dir", "m"], "--mask-dir is not used with --mask-format composite without --mask-url-prefix"),
        (["--mask-format", "uri", "--mask-dir", "m"], "writes file:/// URIs that Labelbox cannot fetch"),
    ],
)
def test_mask_options_that_would_be_ignored_or_unusable(tmp_path: Path, capsys, args: list[str], text: str) -> None:
    src = _coco(tmp_path)
    args = [a if a != "m" else str(tmp_path / "m") for a in args]
    assert main(["convert", str(src), "-o", str(tmp_path / "o.ndjson"), *args]) == 1
    lines = _err_lines(capsys)
    assert len(lines) == 1 and lines[0].startswith("error: ") and text in lines[0]
    assert _files(tmp_path) == {"instances.json"}


def test_allow_file_uris__converts_and_warns(tmp_path: Path, capsys) -> None:
    src = tmp_path / "in.json"
    src.write_text(json.dumps({
        "images": [{"id": 1, "file_name": "a.jpg", "width": 10, "height": 10}],
        "categories": [{"id": 1, "name": "blob"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 1, "bbox": [0, 0, 4, 4],
                         "segmentation": {"size": [10, 10], "counts": [0, 40, 60]}}],
    }))
    out = tmp_path / "o.ndjson"
    code = main(["convert", str(src), "-o", str(out), "--mode", "ground-truth", "--mask-format", "uri",
                 "--mask-dir", str(tmp_path / "m"), "--allow-file-uris"])
    assert code == 0
    lines = _err_lines(capsys)
    assert any(ln.startswith("warning: mask rows point at file:/// URIs") for ln in lines)
    rows = read_ndjson(out)
    assert rows and all(r["mask"]["instanceURI"].startswith("file:///") for r in rows)
    from urllib.parse import unquote, urlparse

    assert all(Path(unquote(urlparse(r["mask"]["instanceURI"]).path)).is_file() for r in rows)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left


def test_mask_files_of_a_refused_run_are_not_left(tmp_path: Path, capsys) -> None:
    src = tmp_path / "in.json"
    src.write_text(json.dumps({
        "images": [{"id": 1, "file_name": "a.jpg", "width": 10, "height": 10}],
        "categories": [{"id": 1, "name": "blob"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 1, "bbox": [0, 0, 4, 4],
                         "segmentation": {"size": [10, 10], "counts": [0, 40, 60]}},
                        {"id": 2, "image_id": 1, "category_id": 1, "segmentation": [[0, 0, 1, 1, 1, 1]], "bbox": [0, 0, 2, 2]}],
    }))
    masks = tmp_path / "m"
    args = ["convert", str(src), "-o", str(tmp_path / "o.ndjson"), "--mode", "ground-truth", "--mask-format", "uri",
            "--mask-dir", str(masks), "--mask-url-prefix", "https://x.test/m", "--quiet"]
    assert main([*args, "--strict"]) == 2  # the degenerate polygon would be skipped
    assert not masks.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert main(args) == 0
    (row,) = [r for r in read_ndjson(tmp_path / "o.ndjson") if "mask" in r]
    assert (masks / row["mask"]["instanceURI"].removeprefix("https://x.test/m/")).is_file()


def test_class_map_miss_names_the_map_and_the_class(tmp_path: Path, capsys) -> None:
    src = _coco(tmp_path)
    ontology = tmp_path / "ont.json"
    ontology.write_text(json.dumps({"tools": [{"tool": "rectangle", "name": "dog", "featureSchemaId": "c" * 25}], "classifications": []}))
    cmap = tmp_path / "map.json"
    cmap.write_text(json.dumps({"horse": "dog"}))
    code = main(["convert", str(src), "-o", str(tmp_path / "o.ndjson"), "--ontology", str(ontology), "--class-map", str(cmap)])
    lines = _err_lines(capsys)
    assert code == 1 and len(lines) == 1
    assert "class 'cat' (bbox)" in lines[0] and f"the class map {cmap} does not list it" in lines[0]
    assert "use --class-map" not in lines[0]
    cmap.write_text(json.dumps({"cat": "wolf"}))
    assert main(["convert", str(src), "-o", str(tmp_path / "o.ndjson"), "--ontology", str(ontology), "--class-map", str(cmap)]) == 1
    assert f"the class map {cmap} maps it to 'wolf', which is no tool either" in _err_lines(capsys)[0]


def test_help__choices_formats_and_examples(capsys) -> None:
    assert main(["convert", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--from {auto,coco,cvat,spacy,voc,yolo}" in out
    assert "--coco-geometry {auto,bbox,segmentation,both}" in out  # reader options show their choices
    examples = out[out.index("examples:"):].splitlines()[1:]
    assert sum(1 for ln in examples if ln.strip().startswith("lbconvert convert ")) == 3
    assert "data_row.global_key" in out  # --data-rows columns documented


def test_version(capsys) -> None:
    from importlib.metadata import version

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"lbconvert {version('labelbox-converters')}"


# -- never an empty or misleading success ------------------------------------------------------


def test_strict__nothing_converted_fails_and_says_so(tmp_path: Path, capsys) -> None:
    src = _coco(tmp_path, boxes=0)
    out = tmp_path / "o.ndjson"
    assert main(["convert", str(src), "-o", str(out), "--strict", "--quiet"]) == 2
    lines = _err_lines(capsys)
    assert lines == [f"strict: nothing written; nothing was converted (3 assets, 0 annotations read); see {tmp_path / 'o.report.json'}"]
    assert not out.exists()
    assert json.loads((tmp_path / "o.report.json").read_text())["options"]["strict"] is True


def test_strict__skips_do_not_count_rows_as_written(tmp_path: Path, capsys) -> None:
    src = tmp_path / "in.json"
    src.write_text(json.dumps({
        "images": [{"id": 1, "file_name": "a.jpg", "width": 10, "height": 10}],
        "categories": [{"id": 1, "name": "x"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 3, 3]},
                        {"id": 2, "image_id": 1, "category_id": 1, "segmentation": [[0, 0, 1, 1, 1, 1]], "bbox": [0, 0, 2, 2]}],
    }))
    assert main(["convert", str(src), "-o", str(tmp_path / "o.ndjson"), "--strict", "--quiet"]) == 2
    line = _err_lines(capsys)[0]
    assert line.startswith("strict: nothing written; 1 assets, 1 rows would be written; 1 annotations would be skipped (")
    assert "rows written" not in line


def test_warnings__default_key_and_unscored_under_min_score(tmp_path: Path, capsys) -> None:
    src = _coco(tmp_path)
    assert main(["convert", str(src), "-o", str(tmp_path / "o.ndjson"), "--min-score", "0.5"]) == 0
    lines = _err_lines(capsys)
    warnings = [ln for ln in lines if ln.startswith("warning: ")]
    assert any("default template '{name}' (e.g. 'img1.jpg')" in w for w in warnings)
    assert any("6 annotations carry no score and were kept despite --min-score 0.5" in w for w in warnings)
    assert lines[-1].startswith("3 assets, 6 rows written")
    report = json.loads((tmp_path / "o.report.json").read_text())
    assert {"default-global-key", "min-score-unscored"} <= {n["code"] for n in report["notes"]}
    # an explicit key template: no guess to warn about; --quiet: the summary only
    assert main(["convert", str(src), "-o", str(tmp_path / "o.ndjson"), "--global-key", "{name}"]) == 0
    assert not any("default template" in ln for ln in _err_lines(capsys))
    assert main(["convert", str(src), "-o", str(tmp_path / "o.ndjson"), "--quiet"]) == 0
    assert len(_err_lines(capsys)) == 1


def test_warnings__at_most_five_then_a_count(capsys) -> None:
    report = Report(options={"report_path": "r.json"})
    for i in range(8):
        report.note("split-not-found", f"split {i} missing")
    report.note("voc-origin", "not a warning")
    cli._print_warnings(report)
    lines = _err_lines(capsys)
    assert lines == [f"warning: split {i} missing" for i in range(5)] + ["warning: 3 more in the report (r.json)"]


def test_warnings__split_not_found(tmp_path: Path, capsys) -> None:
    yaml = _yolo(tmp_path, 2)
    yaml.write_text(yaml.read_text() + "val: images/val\n")
    assert main(["convert", str(yaml), "-o", str(tmp_path / "o.ndjson"), "--global-key", "{name}"]) == 0
    warnings = [ln for ln in _err_lines(capsys) if ln.startswith("warning: ")]
    assert len(warnings) == 1 and "images/val" in warnings[0] and "split not read" in warnings[0]


def test_data_rows__empty_map_is_an_error(tmp_path: Path, capsys) -> None:
    src = _coco(tmp_path)
    cmap = tmp_path / "rows.csv"
    cmap.write_text("file_name,global_key\n")
    assert main(["convert", str(src), "-o", str(tmp_path / "o.ndjson"), "--data-rows", str(cmap)]) == 1
    assert _err_lines(capsys) == [f"error: {cmap}: the --data-rows map is empty; every asset would be skipped"]
    assert not (tmp_path / "o.ndjson").exists()


def test_data_rows__map_matching_no_asset_is_an_error(tmp_path: Path, capsys) -> None:
    src = _coco(tmp_path)
    cmap = tmp_path / "rows.csv"
    cmap.write_text("file_name,global_key\nother.jpg,k1\n")
    assert main(["convert", str(src), "-o", str(tmp_path / "o.ndjson"), "--data-rows", str(cmap)]) == 1
    lines = _err_lines(capsys)
    assert len(lines) == 1 and lines[0].startswith(f"error: {cmap}: the --data-rows map lists none of the 3 assets (e.g. 'img1.jpg')")
    assert _files(tmp_path) == {"instances.json", "rows.csv"}


@pytest.mark.parametrize("form", ["ndjson", "json"])
def test_data_rows__labelbox_export_as_it_comes(tmp_path: Path, capsys, form: str) -> None:
    src = _coco(tmp_path)
    export = [
        {"data_row": {"id": "dr-1", "global_key": "gk-1", "external_id": "img1.jpg", "row_data": "https://x/img1.jpg"}, "media_attributes": {"width": 100}},
        {"data_row": {"id": "dr-2", "global_key": None, "external_id": "img2.jpg", "row_data": "https://x/img2.jpg"}, "projects": {}},
        {"data_row": {"id": "dr-3", "row_data": "https://bucket/path/img3.jpg?sig=1"}},
    ]
    path = tmp_path / f"export.{form}"
    path.write_text("\n".join(json.dumps(r) for r in export) + "\n" if form == "ndjson" else json.dumps(export))
    out = tmp_path / "o.ndjson"
    assert main(["convert", str(src), "-o", str(out), "--data-rows", str(path), "--quiet"]) == 0
    refs = {json.dumps(r["dataRow"], sort_keys=True) for r in read_ndjson(out)}
    assert refs == {'{"globalKey": "gk-1"}', '{"id": "dr-2"}', '{"id": "dr-3"}'}


# -- safe re-runs ---------------------------------------------------------------------------


def test_rerun__files_of_one_out_replaced_as_a_set(tmp_path: Path, capsys) -> None:
    src = _coco(tmp_path, images=4, boxes=3)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "o.ndjson"
    (out_dir / "other.part001.ndjson").write_text("not ours\n")  # another OUT's file: kept
    assert main(["convert", str(src), "-o", str(out), "--max-rows-per-file", "3", "--quiet"]) == 0
    assert _files(out_dir) == {"other.part001.ndjson", "o.report.json"} | {f"o.part00{i}.ndjson" for i in range(1, 5)}
    assert main(["convert", str(src), "-o", str(out), "--max-rows-per-file", "6", "--quiet"]) == 0
    assert _files(out_dir) == {"other.part001.ndjson", "o.report.json", "o.part001.ndjson", "o.part002.ndjson"}
    (out_dir / "o.overflow1.ndjson").write_text('{"dataRow": {"globalKey": "img1.jpg"}, "name": "cat"}\n')  # an earlier run's
    assert main(["convert", str(src), "-o", str(out), "--quiet"]) == 0
    assert _files(out_dir) == {"other.part001.ndjson", "o.report.json", "o.ndjson"}
    assert len(read_ndjson(out)) == 12
    # a refused (strict) run leaves the previous set untouched
    empty = _coco(tmp_path, boxes=0, name="empty.json")
    assert main(["convert", str(empty), "-o", str(out), "--strict", "--max-rows-per-file", "2", "--quiet"]) == 2
    assert "o.ndjson" in _files(out_dir) and len(read_ndjson(out)) == 12


def test_rerun__a_dataset_file_named_like_a_part_is_not_removed(tmp_path: Path, capsys) -> None:
    src = _coco(tmp_path)
    theirs = tmp_path / "o.part001.ndjson"
    theirs.write_text("someone else's notes\n")
    assert main(["convert", str(src), "-o", str(tmp_path / "o.ndjson")]) == 1
    assert _err_lines(capsys) == [
        f"error: {theirs}: -o would overwrite a file of the dataset in {tmp_path} that lbconvert did not write; choose another path"
    ]
    assert theirs.read_text() == "someone else's notes\n"


def test_write_ontology_keeps_the_given_ontology_ids(tmp_path: Path, capsys) -> None:
    src = _coco(tmp_path)
    given = {
        "tools": [{"tool": "rectangle", "name": "cat", "color": "#ff0000", "required": True,
                   "schemaNodeId": "n" * 25, "featureSchemaId": "f" * 25, "classifications": []}],
        "classifications": [],
    }
    ontology = tmp_path / "ont.json"
    ontology.write_text(json.dumps(given))
    written = tmp_path / "used.json"
    assert main(["convert", str(src), "-o", str(tmp_path / "o.ndjson"), "--ontology", str(ontology),
                 "--write-ontology", str(written), "--quiet"]) == 0
    assert json.loads(written.read_text()) == given
    assert {r["schemaId"] for r in read_ndjson(tmp_path / "o.ndjson")} == {"f" * 25}


# -- outputs that would clobber inputs, or survive a failure (issue 14 B) -----------------


@pytest.mark.parametrize("flag", ["-o", "--report", "--write-ontology", "--write-data-rows"])
def test_output_that_is_the_input_is_refused(tmp_path: Path, capsys, flag: str) -> None:
    src = _coco(tmp_path)
    before = src.read_bytes()
    args = ["convert", str(src), "-o", str(tmp_path / "o.ndjson")]
    args = [str(src) if a == str(tmp_path / "o.ndjson") and flag == "-o" else a for a in args]
    if flag != "-o":
        args += [flag, str(src)]
    assert main(args) == 1
    lines = _err_lines(capsys)
    assert lines == [f"error: {src}: {flag} is also an input of this conversion; it would be overwritten"]
    assert src.read_bytes() == before and _files(tmp_path) == {"instances.json"}


def test_output_clobbering_a_dataset_file_is_refused(tmp_path: Path, capsys) -> None:
    ds = tmp_path / "ds"
    (ds / "images" / "train").mkdir(parents=True)
    (ds / "labels" / "train").mkdir(parents=True)
    label = ds / "labels" / "train" / "a.txt"
    label.write_text("0 0.5 0.5 0.2 0.2\n")
    (ds / "data.yaml").write_text("path: .\ntrain: images/train\nnames: {0: cat}\n")
    assert main(["convert", str(ds / "data.yaml"), "-o", str(label)]) == 1
    lines = _err_lines(capsys)
    assert len(lines) == 1 and lines[0].startswith(f"error: {label}: -o would overwrite a file of the dataset in {ds}")
    assert label.read_text() == "0 0.5 0.5 0.2 0.2\n"


def test_output_beside_the_input_may_be_replaced_when_ours(tmp_path: Path, capsys) -> None:
    src = _coco(tmp_path)
    out = tmp_path / "o.ndjson"
    assert main(["convert", str(src), "-o", str(out), "--quiet"]) == 0
    assert main(["convert", str(src), "-o", str(out), "--quiet"]) == 0  # its own earlier output: fine
    capsys.readouterr()
    notes = tmp_path / "notes.json"
    notes.write_text('{"mine": 1}')
    assert main(["convert", str(src), "-o", str(out), "--report", str(notes)]) == 1
    assert "would overwrite a file of the dataset" in _err_lines(capsys)[0]
    assert notes.read_text() == '{"mine": 1}'


def test_output_folder_missing_folder_or_read_only(tmp_path: Path, capsys, monkeypatch) -> None:
    src = _coco(tmp_path)
    folder = tmp_path / "existing"
    folder.mkdir()
    assert main(["convert", str(src), "-o", str(folder)]) == 1
    assert _err_lines(capsys) == [f"error: {folder}: -o names a folder; give a file path"]
    missing = tmp_path / "nope" / "o.ndjson"
    assert main(["convert", str(src), "-o", str(missing)]) == 1
    assert _err_lines(capsys) == [f"error: {missing}: -o: the folder {missing.parent} does not exist"]
    import converters.output as output

    monkeypatch.setattr(output.os, "access", lambda path, mode: False)  # as for a read-only folder
    assert main(["convert", str(src), "-o", str(folder / "o.ndjson")]) == 1
    assert _err_lines(capsys) == [f"error: {folder / 'o.ndjson'}: -o: the folder {folder} is not writable"]
    assert list(folder.iterdir()) == []


def test_failing_report_path_leaves_no_output(tmp_path: Path, capsys) -> None:
    src = _coco(tmp_path)
    out = tmp_path / "out" / "o.ndjson"
    out.parent.mkdir()
    bad_report = tmp_path / "out" / "missing" / "r.json"
    assert main(["convert", str(src), "-o", str(out), "--report", str(bad_report)]) == 1
    assert _err_lines(capsys) == [f"error: {bad_report}: --report: the folder {bad_report.parent} does not exist"]
    assert list(out.parent.iterdir()) == []


def test_report_write_failure_at_the_end_commits_nothing(tmp_path: Path, capsys, monkeypatch) -> None:
    """Even when the report cannot be written after the checks passed, no NDJSON is committed."""
    src = _coco(tmp_path)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    import converters.output as output

    real = output.StagedText.__init__

    def failing(self, path, text):
        if path.name.endswith(".report.json"):
            raise output.WriteError(f"{path}: cannot write (disk full)")
        real(self, path, text)

    monkeypatch.setattr(output.StagedText, "__init__", failing)
    assert main(["convert", str(src), "-o", str(out_dir / "o.ndjson"), "--write-ontology", str(out_dir / "ont.json")]) == 1
    assert _err_lines(capsys) == [f"error: {out_dir / 'o.report.json'}: cannot write (disk full)"]
    assert list(out_dir.iterdir()) == []


# -- progress ---------------------------------------------------------------------------------


class _FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal_only(tmp_path: Path, monkeypatch) -> None:
    src = _coco(tmp_path, images=7)
    tty = _FakeTTY()
    monkeypatch.setattr("sys.stderr", tty)
    monkeypatch.setattr(cli._Bar, "min_interval", 0)  # draw every update
    assert main(["convert", str(src), "-o", str(tmp_path / "o.ndjson")]) == 0
    text = tty.getvalue()
    first = text.split("\r")[1] if text.startswith("\r") else text.split("\r")[0]
    assert first.startswith("reading instances.json")  # drawn before anything is loaded
    assert "converting" in text and "7/7" in text and "assets/s" in text
    assert text.rstrip().splitlines()[-1].startswith("7 assets, 14 rows written")
    quiet = _FakeTTY()
    monkeypatch.setattr("sys.stderr", quiet)
    assert main(["convert", str(src), "-o", str(tmp_path / "o.ndjson"), "--quiet"]) == 0
    assert "\r" not in quiet.getvalue() and quiet.getvalue().count("\n") == 1
    pipe = io.StringIO()  # not a terminal: no bar
    monkeypatch.setattr("sys.stderr", pipe)
    assert main(["convert", str(src), "-o", str(tmp_path / "o.ndjson"), "--global-key", "{name}"]) == 0
    assert "\r" not in pipe.getvalue() and "reading" not in pipe.getvalue()


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda d: _coco(d, images=5), 5),
        (lambda d: _jsonl(d, 4), 4),
        (lambda d: _yolo(d, 3), 3),
        (lambda d: _cvat(d, 4), 4),
        (lambda d: _voc(d, 2), 2),
    ],
    ids=["coco", "spacy-jsonl", "yolo", "cvat-images", "voc"],
)
def test_reader_totals(tmp_path: Path, make, expected: int) -> None:
    from converters.pipeline import ConvertOptions, build_reader

    src = make(tmp_path)
    reader = build_reader([src], ConvertOptions(), Report())
    if reader.total() is None:  # COCO knows it once the file is loaded
        next(iter(reader.read()))
    assert reader.total() == expected == sum(1 for _ in reader.read())


def _jsonl(folder: Path, n: int) -> Path:
    path = folder / "docs.jsonl"
    path.write_text("".join(json.dumps({"text": f"doc {i}", "spans": []}) + "\n" for i in range(n)) + "\n")
    return path


def _yolo(folder: Path, n: int) -> Path:
    from PIL import Image

    (folder / "images" / "train").mkdir(parents=True)
    (folder / "labels" / "train").mkdir(parents=True)
    for i in range(n):
        Image.new("RGB", (8, 6)).save(folder / "images" / "train" / f"{i}.png")
        (folder / "labels" / "train" / f"{i}.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    (folder / "data.yaml").write_text("path: .\ntrain: images/train\nnames: {0: cat}\n")
    return folder / "data.yaml"


def _cvat(folder: Path, n: int) -> Path:
    images = "".join(
        f'<image id="{i}" name="{i}.jpg" width="10" height="10">'
        '<box label="cat" xtl="1" ytl="1" xbr="3" ybr="3" occluded="0"/></image>'
        for i in range(n)
    )
    path = folder / "annotations.xml"
    path.write_text(
        "<annotations><version>1.1</version><meta><task><labels><label><name>cat</name></label>"
        f"</labels></task></meta>{images}</annotations>"
    )
    return path


def _voc(folder: Path, n: int) -> Path:
    root = folder / "voc"
    root.mkdir()
    for i in range(n):
        (root / f"{i}.xml").write_text(
            f"<annotation><filename>{i}.jpg</filename><size><width>10</width><height>10</height><depth>3</depth></size>"
            "<object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>4</xmax><ymax>4</ymax></bndbox></object></annotation>"
        )
    return root
