"""``lbconvert``: the command line over :func:`converters.pipeline.convert`.

``main(argv) -> int`` never raises for bad input: a :class:`ConversionError` becomes one
``error: ...`` line on stderr and exit code 1 (``--debug`` shows the traceback). Reader
options are generated from each reader's ``Options`` dataclass, so a reader adds flags
without touching this module.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__  # noqa: F401
from .errors import ConversionError, OptionsError
from .geometry import GeometryOptions
from .matrix import Mode
from .model import Media
from .readers import Reader, available_formats, get_reader

__all__ = ["main"]

_MODES = {"prelabel": Mode.PRELABEL, "mal": Mode.PRELABEL, "ground-truth": Mode.GROUND_TRUTH, "gt": Mode.GROUND_TRUTH}


def _reader_classes() -> list[type[Reader]]:
    out = []
    for name in available_formats():
        try:
            out.append(get_reader(name))
        except Exception:  # a broken plugin must not break the other readers
            continue
    return out


def _reader_flags(parser: argparse.ArgumentParser) -> dict[str, tuple[str, str]]:
    """Add every reader option as a flag; returns dest -> (format, field name)."""
    dests: dict[str, tuple[str, str]] = {}
    for cls in _reader_classes():
        fields = dataclasses.fields(cls.Options)
        if not fields:
            continue
        group = parser.add_argument_group(f"{cls.format_name} reader options")
        for f in fields:
            flag = f.metadata.get("flag") or f"--{cls.format_name}-{f.name.replace('_', '-')}"
            dest = f"ro__{cls.format_name}__{f.name}"
            kwargs: dict[str, Any] = {"dest": dest, "default": None, "help": f.metadata.get("help", "")}
            if isinstance(f.default, bool):
                kwargs["action"] = argparse.BooleanOptionalAction
            else:
                kwargs["type"] = f.metadata.get("type") or (type(f.default) if f.default is not None else str)
                if f.metadata.get("choices"):
                    kwargs["choices"] = f.metadata["choices"]
                kwargs["metavar"] = f.name.upper()
            kwargs["help"] += f" (default: {f.default})"
            try:
                group.add_argument(flag, **kwargs)
            except argparse.ArgumentError:
                continue
            dests[dest] = (cls.format_name, f.name)
    return dests


def _parser() -> tuple[argparse.ArgumentParser, dict[str, tuple[str, str]]]:
    p = argparse.ArgumentParser(
        prog="lbconvert",
        description="Convert annotation exports (COCO, Pascal VOC, YOLO, CVAT, spaCy) into Labelbox import NDJSON.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("convert", help="convert SOURCE into an NDJSON import file")
    c.add_argument("sources", nargs="+", metavar="SOURCE", help="export file(s) or dataset folder")
    c.add_argument("-o", "--output", required=True, metavar="OUT.ndjson")
    c.add_argument("--from", dest="fmt", default="auto", help="source format (default: auto-detect)")
    c.add_argument("--mode", default="prelabel", choices=sorted(_MODES), help="prelabel (MAL, default) or ground-truth")
    c.add_argument("--media", choices=[m.value for m in Media], help="media type of the data rows (default: the source's)")
    c.add_argument("--ontology", metavar="ONTOLOGY.json", help="ontology exported from Labelbox; rows use its schema ids")
    c.add_argument("--class-map", metavar="MAP.json|MAP.csv", help="source class -> ontology name")
    c.add_argument("--write-ontology", metavar="ONT.json", help="also write the ontology the rows use")
    keys = c.add_mutually_exclusive_group()
    keys.add_argument("--global-key", metavar="TEMPLATE", help="global key template, e.g. 'coco/{subset}/{name}'")
    keys.add_argument("--data-rows", metavar="MAP.csv|MAP.json", help="source name -> global_key or data_row_id")
    c.add_argument("--mask-format", default="png", choices=("png", "composite", "uri"))
    c.add_argument("--mask-dir", metavar="DIR", help="where mask PNG files are written (uri, or composite with a URL prefix)")
    c.add_argument("--mask-url-prefix", metavar="URL", help="URL under which --mask-dir will be served")
    c.add_argument("--min-score", type=float, metavar="X", help="drop predictions scoring below X")
    c.add_argument("--images", metavar="DIR", help="folder holding the images (for sizes)")
    c.add_argument("--report", metavar="REPORT.json", help="report path (default: OUT.report.json)")
    c.add_argument("--max-rows-per-file", type=int, metavar="N", help="split the output into files of at most N rows")
    c.add_argument("--strict", action="store_true", help="exit 2 and write nothing if anything would be skipped or changed")
    c.add_argument("--quiet", action="store_true", help="no progress bar")
    c.add_argument("--follow-links", action="store_true", help="open files whose links lead outside the dataset folder")
    c.add_argument("--offsets", default="codepoints", choices=("codepoints", "utf16"), help="text entity offsets unit")
    c.add_argument("--on-unmapped", default="error", choices=("error", "skip"), help="class missing from --ontology")
    c.add_argument("--write-data-rows", metavar="ROWS.json", help="write data row payloads for text assets")
    c.add_argument("--polygon-parts", default="polygons", choices=("polygons", "mask"), help="multi-part objects: one polygon row per part, or one mask")
    c.add_argument("--holes", default="mask", choices=("mask", "outer"), help="polygons with holes: a mask, or the outer ring only")
    c.add_argument("--points-outside", default="keep", choices=("keep", "drop"), help="points outside the image")
    dests = _reader_flags(c)

    sub.add_parser("formats", help="list the readers and what each reads")

    o = sub.add_parser("ontology", help="derive a Labelbox ontology (OntologyBuilder JSON) from the data")
    o.add_argument("sources", nargs="+", metavar="SOURCE")
    o.add_argument("-o", "--output", required=True, metavar="ONT.json")
    o.add_argument("--from", dest="fmt", default="auto")
    o.add_argument("--media", choices=[m.value for m in Media])
    o.add_argument("--class-map", metavar="MAP")
    o.add_argument("--mode", default="prelabel", choices=sorted(_MODES))
    o.add_argument("--follow-links", action="store_true", help="open files whose links lead outside the dataset folder")
    _reader_flags(o)

    v = sub.add_parser("validate", help="check an NDJSON import file")
    v.add_argument("file", metavar="FILE.ndjson")
    v.add_argument("--mode", default="prelabel", choices=sorted(_MODES))
    v.add_argument("--media", default="image", choices=[m.value for m in Media])
    v.add_argument("--ontology", metavar="ONTOLOGY.json")
    return p, dests


def _reader_options(
    args: argparse.Namespace, dests: dict[str, tuple[str, str]], fmt: str
) -> dict[tuple[str, str], Any]:
    """Reader flags the user gave: (reader, option name) -> value."""
    chosen: dict[tuple[str, str], Any] = {}
    for dest, (reader, name) in dests.items():
        value = getattr(args, dest, None)
        if value is None:
            continue
        if fmt != "auto" and reader != get_reader(fmt).format_name:
            raise OptionsError(f"{_flag_of(dest)} belongs to the {reader} reader, not {fmt}")
        chosen[(reader, name)] = value
    return chosen  # resolved per reader once the format is known


def _flag_of(dest: str) -> str:
    _, reader, name = dest.split("__")
    return f"--{reader}-{name.replace('_', '-')}"


class _Progress:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.last = 0

    def __call__(self, n: int) -> None:
        if self.enabled and (n - self.last >= 50 or n < 50):
            self.last = n
            sys.stderr.write(f"\r{n} assets converted")
            sys.stderr.flush()

    def done(self) -> None:
        if self.enabled and self.last:
            sys.stderr.write("\r" + " " * 40 + "\r")


def _convert(args: argparse.Namespace, dests: dict[str, tuple[str, str]]) -> int:
    from .pipeline import ConvertOptions, convert, detect_format

    fmt = args.fmt
    picked = _reader_options(args, dests, fmt)
    if fmt == "auto" and picked:
        fmt = detect_format([Path(s) for s in args.sources])
    name = get_reader(fmt).format_name if fmt != "auto" else None
    foreign = [r for (r, _) in picked if r != name]
    if foreign:
        raise OptionsError(f"options for the {foreign[0]} reader given, but the source is read as {name}")
    options = ConvertOptions(
        fmt=fmt,
        mode=_MODES[args.mode],
        media=Media(args.media) if args.media else None,
        ontology=args.ontology,
        class_map=args.class_map,
        write_ontology=args.write_ontology,
        global_key=args.global_key,
        data_rows=args.data_rows,
        mask_format=args.mask_format,
        mask_dir=args.mask_dir,
        mask_url_prefix=args.mask_url_prefix,
        min_score=args.min_score,
        images=args.images,
        report=args.report,
        max_rows_per_file=args.max_rows_per_file,
        strict=args.strict,
        offsets=args.offsets,
        on_unmapped=args.on_unmapped,
        write_data_rows=args.write_data_rows,
        follow_links=args.follow_links,
        geometry=GeometryOptions(parts=args.polygon_parts, holes=args.holes, points_outside=args.points_outside),
        reader_options={n: v for (_, n), v in picked.items()},
    )
    progress = _Progress(enabled=not args.quiet and sys.stderr.isatty())
    report = convert(args.sources, args.output, options, progress=progress)
    progress.done()
    if report.options.get("strict_failed"):
        print(f"strict: nothing written; {report.summary()}; see {report.options['report_path']}", file=sys.stderr)
        return 2
    outputs = ", ".join(report.outputs)
    print(f"{report.summary()} -> {outputs} (report: {report.options['report_path']})", file=sys.stderr)
    return 0


def _formats() -> int:
    for cls in _reader_classes():
        print(f"{cls.format_name:8} {cls.description}")
        for f in dataclasses.fields(cls.Options):
            flag = f.metadata.get("flag") or f"--{cls.format_name}-{f.name.replace('_', '-')}"
            print(f"{'':8}   {flag}: {f.metadata.get('help', '')} (default: {f.default})")
    return 0


def _ontology(args: argparse.Namespace, dests: dict[str, tuple[str, str]]) -> int:
    import os
    import tempfile

    from .pipeline import ConvertOptions, convert

    picked = _reader_options(args, dests, args.fmt)
    with tempfile.TemporaryDirectory() as tmp:
        options = ConvertOptions(
            fmt=args.fmt,
            mode=_MODES[args.mode],
            media=Media(args.media) if args.media else None,
            class_map=args.class_map,
            write_ontology=args.output,
            follow_links=args.follow_links,
            reader_options={n: v for (_, n), v in picked.items()},
            report=os.path.join(tmp, "report.json"),
        )
        report = convert(args.sources, os.path.join(tmp, "rows.ndjson"), options)
    print(f"ontology of {report.assets} assets -> {args.output}", file=sys.stderr)
    return 0


def _validate(args: argparse.Namespace) -> int:
    from .validate import validate_file

    problems, rows = validate_file(
        Path(args.file), mode=_MODES[args.mode], media=Media(args.media), ontology=args.ontology
    )
    for line, message in problems:
        print(f"{args.file}, line {line}: {message}")
    bad = len({line for line, _ in problems})
    print(f"{rows - bad} rows valid, {bad} rows invalid", file=sys.stderr)
    return 1 if problems else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``lbconvert`` with ``argv`` (default: sys.argv[1:]); returns the exit code."""
    parser, dests = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "convert":
            return _convert(args, dests)
        if args.command == "formats":
            return _formats()
        if args.command == "ontology":
            return _ontology(args, dests)
        return _validate(args)
    except ConversionError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted; nothing written", file=sys.stderr)
        return 130
