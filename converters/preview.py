"""``lbconvert preview``: see the rows before importing them.

Draws what Labelbox will receive, the NDJSON rows themselves (after repair), over each data
row's image: one PNG per data row, named after its key with its folders kept, and an
``index.html`` gallery with thumbnails, counts per feature, tags, and the report's entries
for that data row (skipped and changed annotations with their reasons). No server, no
upload: Pillow only.

Memory stays flat on large files: a first pass reads the rows once and keeps, for the data
rows to draw, only where their rows are (file, byte offset, line); the second pass reads one
data row's rows at a time, draws them, writes the PNG and forgets the image. A data row
whose rows are spread over several files (chunks, overflow files) is still drawn once.

Images are looked up under ``--images`` by the data-row key, with the rules the readers
use: the key as a path inside the folder (never escaping it), then without its leading
folders (a ``--global-key`` template may add a prefix), then with an image suffix added
(VOC ids), then a unique basename anywhere below the folder. A data row without an image is
drawn on a neutral canvas as large as its masks or geometry, and the page says so.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import _json
from ._preview_draw import Colour, DrawError, draw_rows, feature_of, load_image, track_sheet
from ._preview_html import write_index
from ._preview_pages import Page, PreviewResult
from ._preview_inputs import (
    ImageFinder,
    default_report,
    existing,
    find_image,
    load_report,
    mask_loader,
    name_rows,
    schema_names,
)
from ._preview_inputs import texts as texts_of
from .errors import OptionsError, ParseError, SourceNotFoundError, WriteError
from .ndjson import instance_colours, safe_relative

__all__ = ["Page", "PreviewOptions", "PreviewResult", "add_subcommand", "find_image", "preview", "run"]

THUMB_SIDE = 256


@dataclass(frozen=True, slots=True, kw_only=True)
class PreviewOptions:
    """What ``lbconvert preview`` can be told (see the module docstring)."""

    images: Path | None = None
    report: Path | None = None
    limit: int | None = None
    only: tuple[str, ...] = ()
    mask_dir: Path | None = None
    #: Names for rows that carry ``schemaId`` instead of ``name`` (default: the report's ``--ontology``).
    ontology: Path | None = None
    #: The texts of text data rows (``--write-data-rows`` output), to show entities in place
    #: (default: the report's ``--write-data-rows``).
    text_rows: Path | None = None


@dataclass(frozen=True, slots=True)
class _RowAt:
    file: int
    offset: int
    line: int


# ------------------------------------------------------------------------------- pass 1


def _key(row: Any, path: Path, line: int) -> str:
    if not isinstance(row, Mapping):
        raise ParseError(path, "row is not a JSON object", location=f"line {line}")
    dr = row.get("dataRow")
    key = dr.get("globalKey", dr.get("id")) if isinstance(dr, Mapping) else None
    if not isinstance(key, str) or not key:
        raise ParseError(path, "row has no dataRow globalKey or id", location=f"line {line}")
    return key


def _lines(path: Path) -> Iterator[tuple[int, int, bytes]]:
    """(line number, byte offset, text) of every non-blank line."""
    offset = 0
    with open(path, "rb") as fh:
        for n, raw in enumerate(fh, start=1):
            if raw.strip():
                yield n, offset, raw
            offset += len(raw)


def _parse(path: Path, line: int, raw: bytes) -> Any:
    try:
        return _json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(path, f"invalid JSON ({exc})".split("\n")[0], location=f"line {line}") from None


def _scan(
    files: Sequence[Path], options: PreviewOptions, names: Mapping[str, str]
) -> tuple[dict[str, list[_RowAt]], int, list[str]]:
    """Where the rows of the data rows to draw are; how many data rows; every feature name."""
    selected: dict[str, list[_RowAt]] = {}
    seen: set[str] = set()
    features: set[str] = set()
    only = set(options.only)
    for i, path in enumerate(files):
        for line, offset, raw in _lines(path):
            row = _parse(path, line, raw)
            key = _key(row, path, line)
            seen.add(key)
            if names:
                name_rows(row, names)
            features.add(feature_of(row))
            at = _RowAt(i, offset, line)
            if key in selected:
                selected[key].append(at)
            elif (key in only) if only else (options.limit is None or len(selected) < options.limit):
                selected[key] = [at]
    missing = sorted(only - seen)
    if missing:
        raise OptionsError(f"--only {missing[0]}: no rows of this data row in {', '.join(map(str, files))}")
    return selected, len(seen), sorted(features)


# ------------------------------------------------------------------------------- output


class _Names:
    """PNG paths named after the keys, folders kept, never colliding."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, key: str) -> tuple[str, str]:
        stem = safe_relative(key)
        stem = stem[:-4] if stem.lower().endswith(".png") else stem
        n, name = 1, stem
        while any(f"{name}{suffix}" in self.used for suffix in (".png", ".thumb.png", ".tracks.png")):
            n += 1
            name = f"{stem}~{n}"
        self.used.update((f"{name}.png", f"{name}.thumb.png"))
        return f"{name}.png", f"{name}.thumb.png"


def _save(image: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        image.save(tmp, format="PNG")
        os.replace(tmp, path)
    except OSError as exc:
        if tmp.exists():
            tmp.unlink()
        raise WriteError(f"{path}: cannot write ({exc.strerror or exc})") from exc


def preview(
    files: Sequence[str | Path], output: str | Path, options: PreviewOptions | None = None, **kw: Any
) -> PreviewResult:
    """Draw the rows of ``files`` into ``output`` (one PNG per data row and ``index.html``).

    Options come as a :class:`PreviewOptions` or as its fields by keyword. ``report``
    defaults to ``OUT.report.json`` beside the first file when that exists.

    Raises:
        ConversionError: a file or row is unreadable (the message names the file and line).
    """
    o = options or PreviewOptions(**kw)
    paths = [Path(f) for f in files]
    if not paths:
        raise OptionsError("no NDJSON file given")
    for p in paths:
        if not p.is_file():
            raise SourceNotFoundError(p)
    if o.limit is not None and o.limit < 1:
        raise OptionsError("--limit must be at least 1")
    if o.images is not None and not Path(o.images).is_dir():
        raise SourceNotFoundError(o.images, "--images is not a folder")
    if o.mask_dir is not None and not Path(o.mask_dir).is_dir():
        raise SourceNotFoundError(o.mask_dir, "--mask-dir is not a folder")
    out = Path(output)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(f"{out}: cannot create the folder ({exc.strerror})") from exc
    report_path = Path(o.report) if o.report else default_report(paths)
    entries, loose, convert_options = load_report(report_path)
    # an ontology or data rows file the report names but that is not here: ids and offsets shown
    names = schema_names(o.ontology or existing(convert_options.get("ontology")))
    selected, total, features = _scan(paths, o, names)
    text_rows = o.text_rows or existing(convert_options.get("write_data_rows"))
    texts = texts_of(text_rows, set(selected)) if text_rows else {}
    colours = dict(zip(features, instance_colours(len(features))))
    finder = ImageFinder(Path(o.images) if o.images else None)
    load_uri = mask_loader(Path(o.mask_dir) if o.mask_dir else None)
    files_named = _Names()
    pages = []
    handles = [open(p, "rb") for p in paths]  # noqa: SIM115 - closed below
    try:
        for key, where in selected.items():
            page = _page(key, where, paths, handles, finder, load_uri, colours, entries.get(key, []), files_named, out, names)
            pages.append(dataclasses.replace(page, text=texts[key]) if key in texts else page)
    finally:
        for h in handles:
            h.close()
    result = PreviewResult(
        output=out, index=out / "index.html", pages=tuple(pages), data_rows=total, colours=colours,
        report=report_path, unattributed=tuple(loose),
    )
    write_index(result)
    return result


def _page(
    key: str, where: list[_RowAt], paths: Sequence[Path], handles: Sequence[Any], finder: ImageFinder,
    load_uri: Any, colours: Mapping[str, Colour], entries: list[dict[str, Any]], names: _Names, out: Path,
    schema_names: Mapping[str, str],
) -> Page:
    rows = []
    for at in where:
        handles[at.file].seek(at.offset)
        row = _parse(paths[at.file], at.line, handles[at.file].readline())
        if schema_names:
            name_rows(row, schema_names)
        rows.append((at, row))
    notes: list[str] = []
    image = None
    image_path = finder.find(key)
    if image_path is not None:
        try:
            image = load_image(image_path)
        except DrawError as exc:
            notes.append(f"{image_path}: {exc}; drawn on a neutral canvas")
            image_path = None
    elif finder.root is not None:
        notes.append(f"no image for this key under {finder.root}")
    changed = {u for e in entries if e.get("action") != "skipped" for u in e.get("uuids", [])}

    def error(i: int, message: str) -> Exception:
        at = rows[i][0]
        return ParseError(paths[at.file], message, location=f"line {at.line}")

    drawing = draw_rows(
        [(i, row) for i, (_, row) in enumerate(rows)], image=image, colours=colours, changed=changed,
        load_uri=load_uri, on_error=error,
    )
    png, thumb = names.take(key)
    _save(drawing.image, out / png)
    small = drawing.image.copy()
    small.thumbnail((THUMB_SIDE, THUMB_SIDE))
    _save(small, out / thumb)
    sheet = track_sheet([row for _, row in rows], colours)
    tracks = None
    if sheet is not None:
        tracks = png[: -len(".png")] + ".tracks.png"
        names.used.add(tracks)
        _save(sheet, out / tracks)
    return Page(
        key=key, png=png, thumbnail=thumb, image=str(image_path) if image_path else None, size=drawing.size,
        counts=dict(drawing.counts), tags=tuple(drawing.tags), notes=tuple(notes + drawing.notes),
        not_drawn=dict(drawing.not_drawn), entries=tuple(entries), changed_rows=drawing.changed,
        entities=tuple(drawing.entities), tracks=tracks,
    )


# ------------------------------------------------------------------------------- CLI


def add_subcommand(sub: Any) -> None:
    """Register ``preview`` on the ``lbconvert`` subparsers (called by the CLI)."""
    p = sub.add_parser("preview", help="draw the rows over their images: one PNG per data row and index.html")
    p.add_argument("files", nargs="+", metavar="OUT.ndjson", help="import file(s) written by convert")
    p.add_argument("-o", "--output", required=True, metavar="PREVIEW_DIR")
    p.add_argument("--images", metavar="DIR", help="folder holding the images, looked up by data-row key")
    p.add_argument("--report", metavar="REPORT.json", help="conversion report (default: OUT.report.json if present)")
    p.add_argument("--limit", type=int, metavar="N", help="draw the first N data rows only")
    p.add_argument("--only", action="extend", nargs="+", default=[], metavar="KEY", help="draw these data rows only")
    p.add_argument("--mask-dir", metavar="DIR", help="folder the mask files were written to (--mask-format uri)")
    p.add_argument("--ontology", metavar="ONTOLOGY.json", help="names for rows that use schemaId (default: the report's --ontology)")
    p.add_argument("--text-rows", metavar="ROWS.json", help="texts of text data rows (convert --write-data-rows), to show entities in place")


def run(args: argparse.Namespace) -> int:
    """``lbconvert preview``: draw, then print one summary line."""
    result = preview(
        args.files, args.output,
        PreviewOptions(
            images=Path(args.images) if args.images else None,
            report=Path(args.report) if args.report else None,
            limit=args.limit,
            only=tuple(args.only),
            mask_dir=Path(args.mask_dir) if args.mask_dir else None,
            ontology=Path(args.ontology) if args.ontology else None,
            text_rows=Path(args.text_rows) if args.text_rows else None,
        ),
    )
    missing = sum(1 for p in result.pages if p.image is None)
    import sys

    print(
        f"{len(result.pages)} of {result.data_rows} data rows drawn ({missing} without an image) -> {result.index}",
        file=sys.stderr,
    )
    return 0
