"""read() and convert(): a source export read into the model, and written (``convert = read + write``).

:func:`read` picks the reader (by name or by sniffing), checks its options and returns the
assets, lazily, with the report the reader fills as it goes (what it skipped). :func:`convert`
checks every output path first, then hands that reading to :func:`converters.writer.write`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _remote
from .errors import InputError, NoAssetsError, OptionsError, SourceNotFoundError
from .model import Asset, Media
from .ontology import Ontology, load_class_map
from .options import ConvertOptions, build
from .readers import ReadContext, Reader, available_formats, get_reader
from .report import Report
from .writer import Progress, Source, _options_dict, write

if TYPE_CHECKING:  # pragma: no cover
    from typing_extensions import Unpack

    from .features import FeatureCount
    from .options import ConvertKeywords

__all__ = ["ConvertOptions", "Reading", "build_reader", "convert", "derive_ontology", "detect_format", "read"]

#: The order auto-detection tries readers in (more specific formats first).
_DETECT_ORDER = ("coco", "cvat", "voc", "yolo", "spacy")


@dataclass(frozen=True, slots=True)
class Reading:
    """What :func:`read` returns: the assets (lazy: read as they are iterated) and the report
    the reader fills meanwhile with what it skipped, plus what :func:`~converters.write`
    needs to give the same rows as :func:`convert` (``write(reading.assets, out,
    reader_report=reading.report, source=reading.source)``)."""

    assets: Iterator[Asset]
    report: Report
    source: Source

    @property
    def format(self) -> str:
        return self.source.identity

def detect_format(sources: Sequence[Path]) -> str:
    """The reader name whose ``sniff`` accepts the first SOURCE."""
    first = sources[0]
    # Built-ins first, before the entry points are even looked up (that scan costs a start-up).
    for name in _DETECT_ORDER:
        if _sniffs(name, first):
            return name
    order = [n for n in _DETECT_ORDER if n in available_formats()]
    order += [n for n in available_formats() if n not in order]
    for name in order[len(_DETECT_ORDER):]:
        if _sniffs(name, first):
            return name
    raise InputError(f"{first}: cannot tell which format this is; name it with --from ({', '.join(order)})")


def _sniffs(name: str, path: Path) -> bool:
    try:
        return get_reader(name).sniff(path)
    except ImportError:
        return False


def build_reader(
    sources: Sequence[str | Path], options: ConvertOptions, report: Report
) -> Reader[Any]:
    """The reader for ``sources`` with its options checked."""
    paths = [Path(s) for s in sources]
    if not paths:
        raise OptionsError("no SOURCE given")
    for p in paths:
        if not p.exists():
            raise SourceNotFoundError(p)
    name = detect_format(paths) if options.fmt == "auto" else options.fmt
    cls = get_reader(name)
    reader_options = cls.make_options(options.reader_options)
    context = ReadContext(
        report=report,
        images_dir=Path(options.images) if options.images else None,
        min_score=options.min_score,
        media=options.media_value,
        follow_links=options.follow_links,
    )
    return cls(paths, options=reader_options, context=context)


def read(
    sources: Sequence[str | Path], options: ConvertOptions | None = None, **kw: Unpack[ConvertKeywords]
) -> Reading:
    """Read ``sources`` into the model without writing anything.

    Options as for :func:`convert` (only the reading ones matter: ``fmt``, ``media``,
    ``images``, ``min_score``, ``reader_options``). The reader and its options are checked
    now; the assets are read as the returned :attr:`Reading.assets` is iterated, and
    :attr:`Reading.report` then holds what the reader skipped.
    """
    options = _options(options, kw, "read")
    report = Report(inputs=[str(s) for s in sources], options=_options_dict(options))
    return _reading(_local_sources(sources)[0], options, report)


def _reading(sources: Sequence[str | Path], options: ConvertOptions, report: Report) -> Reading:
    reader, source = _prepare(sources, options, report)
    return Reading(reader.read(), report, source)


def _prepare(sources: Sequence[str | Path], options: ConvertOptions, report: Report) -> tuple[Reader[Any], Source]:
    """The reader, and the :class:`Source` the writer needs, for ``sources``."""
    reader = build_reader(sources, options, report)
    report.options["format"] = reader.format_name
    paths = [Path(s) for s in sources]
    roots = [p if p.is_dir() else p.parent for p in paths if p.exists()]
    if options.images:
        roots.append(Path(options.images))
    source = Source(
        identity=reader.format_name,
        key_template=reader.default_key_template,
        total=reader.total,
        inputs=tuple(p for p in paths if p.is_file()),
        roots=tuple(roots),
        label_kinds=reader.label_kinds,
        no_assets=lambda rep: _no_assets(sources, reader, rep),
    )
    return reader, source


_WHAT = {Media.IMAGE: "images", Media.VIDEO: "videos", Media.TEXT: "documents", Media.CONVERSATIONAL: "conversations"}


def _no_assets(sources: Sequence[str | Path], reader: Reader[Any], report: Report) -> NoAssetsError:
    """The error for a run that found nothing to convert, with what the reader counted on the way."""
    source = ", ".join(str(s) for s in sources)
    what = _WHAT.get(reader.media, "images / documents")
    counted = sorted((report.tallies + report.reasons()).items())
    hint = ", ".join(f"{code} {n}" for code, n in counted if n)
    return NoAssetsError(source, what, f"the report counted: {hint}" if hint else "")


def _options(options: ConvertOptions | None, kw: Any, where: str) -> ConvertOptions:
    if options is None:
        return build(ConvertOptions, where, kw)
    if kw:
        build(ConvertOptions, where, kw)  # names an unknown keyword before replace() does
        return dataclasses.replace(options, **kw)
    return options


def convert(
    sources: Sequence[str | Path],
    output: str | Path,
    options: ConvertOptions | None = None,
    *,
    progress: Progress | None = None,
    client: Any = None,
    **kw: Unpack[ConvertKeywords],
) -> Report:
    """Convert ``sources`` into Labelbox import NDJSON at ``output``: :func:`read`, then
    :func:`~converters.writer.write`.

    Options come as a :class:`ConvertOptions` or as its fields by keyword. Returns the
    report (also written as JSON beside the output). With ``strict``, nothing is written
    when an annotation would be skipped or changed, or nothing was converted; the report
    says which. ``progress`` is called with the number of assets done; when it also has a
    ``set_total(n)`` method, that is called with the reader's total once it is known.

    Every output path is checked before the input is read; the report, the ontology and
    the NDJSON files are staged and put in place together at the end.

    With ``workers`` N > 1, ``dask_scheduler``, or a ``dask.distributed.Client`` as
    ``client``, the source's shards are converted on Dask workers
    (:mod:`converters.sharding`; the ``[dask]`` extra): the same files, byte for byte,
    unless ``keep_shards`` asks for one file per shard. SOURCE and ``output`` may be fsspec
    URLs (:mod:`converters._remote`).

    Raises:
        ConversionError: bad input or options; nothing is written.
    """
    options = _options(options, kw, "convert")
    output = _remote.local(str(output)) if isinstance(output, str) else output
    if _remote.is_url(output):
        return _convert_to_url(sources, str(output), options, progress, client)
    local_sources, remote = _local_sources(sources)
    return _convert(local_sources, Path(output), options, progress, client, remote=remote, inputs=sources)


def _local_sources(sources: Sequence[str | Path]) -> tuple[list[str | Path], list[str]]:
    """SOURCEs as local paths: ``file://`` URLs are paths, a remote URL is copied to this
    machine (:func:`converters._remote.localize`); returns them and the remote URLs."""
    local: list[str | Path] = []
    remote: list[str] = []
    for s in sources:
        if _remote.is_url(s):
            remote.append(str(s))
            local.append(_remote.localize(str(s)))
        else:
            local.append(_remote.local(s))
    return local, remote


def _convert_to_url(
    sources: Sequence[str | Path], url: str, options: ConvertOptions, progress: Progress | None, client: Any
) -> Report:
    """``-o URL``: the run writes into a local temporary folder; its files are uploaded beside
    URL once it succeeded (a sharded run's workers stage their shards beside URL)."""
    import posixpath
    import tempfile

    if options.report is not None and _remote.is_url(str(options.report)):
        raise OptionsError("{report} must be a local path (with -o URL the report is uploaded beside it)", fields=("report",))
    parent = posixpath.dirname(url.rstrip("/"))
    local_sources, remote = _local_sources(sources)
    with tempfile.TemporaryDirectory(prefix="lbconvert-out-") as tmp:
        out = Path(tmp) / posixpath.basename(url)
        report = _convert(local_sources, out, options, progress, client, remote=remote, inputs=sources,
                          stage=parent if options.sharded or client is not None else None)
        report_path = Path(report.options["report_path"])
        uploads = [Path(p) for p in report.outputs if Path(p).parent == Path(tmp)]
        report.outputs = [_remote.join(parent, Path(p).name) if Path(p).parent == Path(tmp) else p for p in report.outputs]
        if report_path.parent == Path(tmp):
            report.options["report_path"] = _remote.join(parent, report_path.name)
            report_path.write_text(report.to_json(), encoding="utf-8")  # names the URLs, not the temporary folder
            uploads.append(report_path)
        for path in uploads:
            _remote.upload(path, _remote.join(parent, path.name))
    return report


def _convert(
    sources: Sequence[str | Path],
    out_path: Path,
    options: ConvertOptions,
    progress: Progress | None,
    client: Any,
    *,
    remote: Sequence[str] = (),
    stage: str | None = None,
    inputs: Sequence[str | Path] = (),
) -> Report:
    report_path = Path(options.report) if options.report else out_path.with_name(
        out_path.name.removesuffix(".ndjson") + ".report.json"
    )
    _check_sources_against_outputs(sources, out_path, report_path, options)
    report = Report(inputs=[str(s) for s in inputs or sources], options=_options_dict(options))
    if options.keep_shards and client is None and not options.sharded:
        raise OptionsError("{keep_shards} needs {workers} N (N > 1) or {dask_scheduler}",
                           fields=("keep_shards", "workers", "dask_scheduler"))
    if client is not None or options.sharded:
        from .sharding import check_available, convert_sharded  # a one-process run never needs it

        if client is None:
            check_available()  # before anything is read: the extra is missing, say which
        reader, source = _prepare(sources, options, report)
        return convert_sharded(reader, source, report, out_path, options, progress=progress, client=client,
                               stage=stage, remote=remote)
    reader, source = _prepare(sources, options, report)
    return write(reader.read_tables(), out_path, options.write_options(), reader_report=report, source=source,
                 progress=progress)


def derive_ontology(
    sources: Sequence[str | Path], options: ConvertOptions | None = None, **kw: Unpack[ConvertKeywords]
) -> tuple[Ontology, FeatureCount]:
    """The ontology a conversion of ``sources`` would derive (``convert(..., write_ontology=)``),
    without converting: the readers' labels and kinds, the class map, the mode and the
    media decide it; no mask is decoded or encoded and no row is built.

    Options as for :func:`convert` (``fmt``, ``mode``, ``media``, ``class_map``,
    ``follow_links``, ``reader_options``, ``on_unmapped`` matter). Returns the ontology
    (:meth:`Ontology.to_json` is the file ``lbconvert ontology`` writes) and what was looked at.

    Raises:
        ConversionError: bad input or options (as :func:`convert` would raise them), or
            a source with no asset at all.
    """
    from .features import register_features  # only the ontology derivation walks features

    options = _options(options, kw, "derive_ontology")
    if options.ontology is not None:
        raise OptionsError("{ontology} is given: there is nothing to derive", fields=("ontology",))
    report = Report(inputs=[str(s) for s in sources], options=_options_dict(options))
    reading = _reading(sources, options, report)
    class_map = (
        dict(options.class_map) if isinstance(options.class_map, Mapping)
        else load_class_map(options.class_map) if options.class_map else None
    )
    ontology = Ontology.derived(class_map=class_map)
    ontology.declare(reading.source.label_kinds())
    count = register_features(reading.assets, ontology, mode=options.mode_value, media=options.media_value,
                              on_unmapped=options.on_unmapped, geometry_options=options.geometry)
    if count.assets == 0:
        assert reading.source.no_assets is not None
        raise reading.source.no_assets(report)
    return ontology, count


def _check_sources_against_outputs(sources: Sequence[str | Path], out: Path, report: Path, o: ConvertOptions) -> None:
    """Output paths checked before the reader is even built (a missing source is reported after)."""
    from .writer import _check_paths

    paths = [Path(s) for s in sources]
    roots = [p if p.is_dir() else p.parent for p in paths if p.exists()]
    if o.images:
        roots.append(Path(o.images))
    _check_paths(o, out, report, Source(inputs=tuple(p for p in paths if p.is_file()), roots=tuple(roots)))
