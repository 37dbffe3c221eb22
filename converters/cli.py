"""``lbconvert``: the command line over :func:`converters.pipeline.convert`.

``main(argv) -> int`` never raises for bad input: a :class:`ConversionError` becomes one
``error: ...`` line on stderr and exit code 1 (``--debug`` shows the traceback). Usage
errors (an unknown flag, a bad choice) are exit 1 too, with one hint line instead of
argparse's usage block: exit 2 is reserved for ``--strict``, so a script can tell "the
data needs a look" from "the command was mistyped". Reader options are generated from each
reader's ``Options`` dataclass, so a reader adds flags without touching this module.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, NoReturn

from . import _blas  # noqa: F401 - first: before anything imports numpy
from . import __version__
from .errors import ConversionError, OptionsError
from .geometry import GeometryOptions
from .options import MODE_ALIASES, ConvertOptions, cli_fields, flag_of, value_type
from .model import Media
from .readers import Reader, available_formats, get_reader
from .report import Report

__all__ = ["main"]

_COMMANDS = ("convert", "formats", "ontology", "validate")

#: At most this many ``warning:`` lines are printed; the rest are counted and left to the report.
MAX_WARNINGS = 5

_CONVERT_EXAMPLES = """\
examples:
  lbconvert convert annotations/instances_val2017.json -o val.ndjson --global-key 'coco/{name}'
  lbconvert convert VOCdevkit/VOC2012 -o voc.ndjson --mode ground-truth --ontology ontology.json
  lbconvert convert data.yaml -o yolo.ndjson --mask-format uri --mask-dir masks \\
            --mask-url-prefix https://bucket.example.com/masks
"""

_DATA_ROWS_HELP = (
    "source name -> data row. CSV with a header, or JSON (an object {name: global_key}, a list of "
    "objects, or a Labelbox data-row export, NDJSON or JSON, as it comes). Name column: file_name, "
    "name, source, path, external_id or file; target column: global_key or data_row_id (id); an "
    "export's data_row.id / data_row.global_key / data_row.external_id are read as such"
)


class _UsageError(Exception):
    """A mistyped command line; ``main`` prints it as one ``error:`` line and a hint."""

    def __init__(self, message: str, prog: str) -> None:
        super().__init__(message)
        self.message = message
        self.prog = prog


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors raised (exit 1, two lines) instead of printed (exit 2, a page)."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message, self.prog)


def _version() -> str:
    """The installed distribution's version (the package's own constant outside an install)."""
    from importlib import metadata

    try:
        return metadata.version("labelbox-converters")
    except metadata.PackageNotFoundError:
        return __version__

_MODES = MODE_ALIASES  # one list of mode spellings (options.py)


def _reader_classes() -> list[type[Reader[Any]]]:
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
                    kwargs["choices"] = f.metadata["choices"]  # shown as {a,b,c} in --help
                else:
                    kwargs["metavar"] = f.name.upper()
            kwargs["help"] += f" (default: {f.default})"
            try:
                group.add_argument(flag, **kwargs)
            except argparse.ArgumentError:
                continue
            dests[dest] = (cls.format_name, f.name)
            _READER_FLAGS[dest] = flag
    return dests


def _core_flags(parser: argparse.ArgumentParser, cls: type[Any]) -> None:
    """A flag per option field of ``cls`` (``mask_dir`` -> ``--mask-dir``), from its metadata."""
    groups: dict[str, Any] = {}
    for f in cli_fields(cls):
        meta = f.metadata
        default = getattr(f.default, "value", f.default)  # Mode.PRELABEL -> "prelabel"
        kwargs: dict[str, Any] = {"dest": f.name, "help": meta["help"]}
        if isinstance(f.default, bool):
            kwargs.update(action="store_true", default=False)
        else:
            kwargs["default"] = None if f.default is dataclasses.MISSING else default
            if meta.get("choices"):
                kwargs["choices"] = meta["choices"]
            else:
                kwargs.update(type=value_type(cls, f.name), metavar=meta.get("metavar"))
        target: Any = parser
        if meta.get("exclusive"):
            if meta["exclusive"] not in groups:
                groups[meta["exclusive"]] = parser.add_mutually_exclusive_group()
            target = groups[meta["exclusive"]]
        target.add_argument(meta.get("flag") or flag_of(f.name), **kwargs)


def _core_values(args: argparse.Namespace, cls: type[Any]) -> dict[str, Any]:
    return {f.name: getattr(args, f.name) for f in cli_fields(cls)}


class _Version(argparse.Action):
    """``--version``, looked up only when asked for (importlib.metadata is ~40 ms to import)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kw: Any) -> None:
        super().__init__(option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0, **kw)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        parser._print_message(f"{parser.prog} {_version()}\n", sys.stdout)
        parser.exit()


def _parser(full: bool = True) -> tuple[argparse.ArgumentParser, dict[str, tuple[str, str]]]:
    """The command line. ``full=False`` is the start-up shortcut of :func:`_parse_convert`:
    ``convert`` alone, without the reader flags (importing every reader to learn them costs
    more than a val2017 conversion's rows) and without abbreviations."""
    p = _Parser(
        prog="lbconvert",
        description="Convert annotation exports (COCO, Pascal VOC, YOLO, CVAT, spaCy) into Labelbox import NDJSON.",
        allow_abbrev=full,
    )
    p.add_argument("--version", action=_Version, help="show program's version number and exit")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = p.add_subparsers(dest="command", required=True)
    formats = ["auto", *(available_formats() if full else ())]

    c = sub.add_parser(
        "convert",
        help="convert SOURCE into an NDJSON import file",
        epilog=_CONVERT_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=full,
    )
    c.add_argument("sources", nargs="+", metavar="SOURCE", help="export file(s) or dataset folder")
    c.add_argument("-o", "--output", required=True, metavar="OUT.ndjson")
    c.add_argument(
        "--from", dest="fmt", default="auto", metavar="{" + ",".join(formats) + "}",
        help="source format (default: auto-detect; aliases such as pascal-voc accepted)",
    )
    _core_flags(c, ConvertOptions)
    c.add_argument("--quiet", action="store_true", help="no progress bar and no warning lines; errors and the summary only")
    _core_flags(c, GeometryOptions)
    if not full:
        return p, {}
    dests = _reader_flags(c)

    sub.add_parser("formats", help="list the readers and what each reads")

    o = sub.add_parser("ontology", help="derive a Labelbox ontology (OntologyBuilder JSON) from the data")
    o.add_argument("sources", nargs="+", metavar="SOURCE")
    o.add_argument("-o", "--output", required=True, metavar="ONT.json")
    o.add_argument("--from", dest="fmt", default="auto", metavar="{" + ",".join(formats) + "}", help="source format (default: auto-detect)")
    o.add_argument("--media", choices=[m.value for m in Media])
    o.add_argument("--class-map", metavar="MAP")
    o.add_argument("--images", metavar="DIR", help="folder of the images (where the reader needs their sizes)")
    o.add_argument("--mode", default="prelabel", choices=sorted(_MODES))
    o.add_argument("--follow-links", action="store_true", help="open files whose links lead outside the dataset folder")
    _reader_flags(o)

    v = sub.add_parser("validate", help="check an NDJSON import file")
    v.add_argument("file", metavar="FILE.ndjson")
    v.add_argument("--mode", default="prelabel", choices=sorted(_MODES))
    v.add_argument("--media", choices=[m.value for m in Media], help="media of the data rows (default: inferred from the rows)")
    v.add_argument("--ontology", metavar="ONTOLOGY.json")

    from .preview import add_subcommand as add_preview  # issue 18: lbconvert preview

    add_preview(sub)
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
            raise OptionsError(f"{_READER_FLAGS[dest]} belongs to the {reader} reader, not {fmt}")
        chosen[(reader, name)] = value
    return chosen  # resolved per reader once the format is known


#: dest -> the flag as the reader declared it (so errors name a flag that exists).
_READER_FLAGS: dict[str, str] = {}


class _Bar:
    """The terminal progress bar (tqdm): assets done of the total the reader announces.

    Drawn at once (``reading SOURCE``) so a long load of one big file is visibly under way;
    the total arrives through :meth:`set_total` when the reader knows it.
    """

    #: Seconds between redraws (tqdm's throttle; tests set 0 to see every update).
    min_interval = 0.2

    def __init__(self, stream: IO[str], what: str) -> None:
        from tqdm import tqdm

        self.bar = tqdm(
            total=None, unit=" assets", desc=f"reading {what}", file=stream, leave=False,
            dynamic_ncols=True, mininterval=self.min_interval,
        )
        self.bar.refresh()

    def set_total(self, total: int | None) -> None:
        if total is not None and self.bar.total != total:
            self.bar.total = total
            self.bar.set_description("converting", refresh=False)
            self.bar.refresh()

    def __call__(self, n: int) -> None:
        if n > self.bar.n:
            self.bar.update(n - self.bar.n)

    def close(self) -> None:
        self.bar.close()


def _convert(args: argparse.Namespace, dests: dict[str, tuple[str, str]]) -> int:
    from .pipeline import convert, detect_format

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
        **_core_values(args, ConvertOptions),
        geometry=GeometryOptions(**_core_values(args, GeometryOptions)),
        reader_options={n: v for (_, n), v in picked.items()},
    )
    bar = _Bar(sys.stderr, Path(args.sources[0]).name) if not args.quiet and sys.stderr.isatty() else None
    try:
        report = convert(args.sources, args.output, options, progress=bar)
    finally:
        if bar is not None:
            bar.close()
    if not args.quiet:
        _print_warnings(report)
    if report.options.get("strict_failed"):
        print(f"strict: nothing written; {report.strict_summary()}; see {report.options['report_path']}", file=sys.stderr)
        return 2
    outputs = ", ".join(report.outputs)
    print(f"{report.summary()} -> {outputs} (report: {report.options['report_path']})", file=sys.stderr)
    return 0


def _print_warnings(report: Report) -> None:
    """Notes that change what was produced, as ``warning:`` lines (a few; the rest counted)."""
    warnings = report.warnings()
    for item in warnings[:MAX_WARNINGS]:
        print(f"warning: {item['message']}", file=sys.stderr)
    if len(warnings) > MAX_WARNINGS:
        print(f"warning: {len(warnings) - MAX_WARNINGS} more in the report ({report.options['report_path']})", file=sys.stderr)


def _formats() -> int:
    for cls in _reader_classes():
        print(f"{cls.format_name:8} {cls.description}")
        for f in dataclasses.fields(cls.Options):
            flag = f.metadata.get("flag") or f"--{cls.format_name}-{f.name.replace('_', '-')}"
            print(f"{'':8}   {flag}: {f.metadata.get('help', '')} (default: {f.default})")
    return 0


def _ontology(args: argparse.Namespace, dests: dict[str, tuple[str, str]]) -> int:
    """Derive the ontology from the labels and the mapping only (no row is built, no mask
    encoded), and write it atomically; the file equals ``convert --write-ontology``'s."""
    from .output import check_output_paths, write_text_atomic
    from .pipeline import derive_ontology

    picked = _reader_options(args, dests, args.fmt)
    out = Path(args.output)
    sources = [Path(s) for s in args.sources]
    check_output_paths(
        {"-o": out},
        inputs=[p for p in sources if p.is_file()] + ([Path(args.class_map)] if args.class_map else []),
        roots=[p if p.is_dir() else p.parent for p in sources if p.exists()],
        folders={},
    )
    options = ConvertOptions(
        fmt=args.fmt,
        mode=_MODES[args.mode],
        media=Media(args.media) if args.media else None,
        class_map=args.class_map,
        images=args.images,
        follow_links=args.follow_links,
        reader_options={n: v for (_, n), v in picked.items()},
    )
    ontology, count = derive_ontology(args.sources, options)
    write_text_atomic(out, ontology.to_json())
    print(
        f"ontology of {count.assets} assets ({len(ontology.tools)} tools, "
        f"{len(ontology.classifications)} global classifications) -> {out}",
        file=sys.stderr,
    )
    return 0


def _validate(args: argparse.Namespace) -> int:
    from .validate import validate_file

    result = validate_file(
        Path(args.file), mode=_MODES[args.mode], media=Media(args.media) if args.media else None,
        ontology=args.ontology,
    )
    for line, message in result.problems:
        print(f"{args.file}, line {line}: {message}")
    bad = len({line for line, _ in result.problems})
    if result.media is None:
        what = "no media checks: no row tells the media; give --media"
    else:
        what = f"media {result.media.value}, {'given' if args.media else 'inferred from the rows'}"
    print(f"{result.rows - bad} rows valid, {bad} rows invalid ({what})", file=sys.stderr)
    return 1 if result.problems else 0


def _parse_convert(argv: Sequence[str]) -> argparse.Namespace | None:
    """``lbconvert convert ...`` parsed without the reader flags, when it needs none: the
    namespace the full parser gives (reader flags all unset), or ``None`` (the full parser
    then parses, with its help, abbreviations and errors). Saves the start-up of a run."""
    if not argv or argv[0] != "convert" or any(a in ("-h", "--help") for a in argv):
        return None
    try:
        args, extra = _parser(full=False)[0].parse_known_args(argv)
    except (_UsageError, SystemExit):
        return None
    return None if extra else args


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``lbconvert`` with ``argv`` (default: sys.argv[1:]); returns the exit code."""
    quick = _parse_convert(list(argv if argv is not None else sys.argv[1:]))
    parser, dests = (None, {}) if quick is not None else _parser()
    try:
        args = quick if quick is not None else parser.parse_args(argv)  # type: ignore[union-attr]
    except _UsageError as exc:
        command = next((a for a in (argv if argv is not None else sys.argv[1:]) if not a.startswith("-")), None)
        prog = f"lbconvert {command}" if exc.prog == "lbconvert" and command in _COMMANDS else exc.prog
        print(f"error: {exc.message}", file=sys.stderr)
        print(f"see '{prog} --help'", file=sys.stderr)
        return 1
    except SystemExit as exc:  # --help, --version: argparse printed them
        return exc.code if isinstance(exc.code, int) else 0
    try:
        if args.command == "convert":
            return _convert(args, dests)
        if args.command == "formats":
            return _formats()
        if args.command == "ontology":
            return _ontology(args, dests)
        if args.command == "preview":
            from .preview import run as run_preview

            return run_preview(args)
        return _validate(args)
    except ConversionError as exc:
        if args.debug:
            raise
        message = exc.render(flag_of) if isinstance(exc, OptionsError) else str(exc)
        print(f"error: {message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted; nothing written", file=sys.stderr)
        return 130
