"""labelbox-converters: COCO, Pascal VOC, YOLO, CVAT and spaCy exports to Labelbox NDJSON.

The public API (``convert = read + write``)::

    import converters
    report = converters.convert(["instances_val.json"], "out.ndjson", mode="ground-truth")
    reading = converters.read(["instances_val.json"])
    for asset in reading.assets:
        ...                      # reading.report: what the reader skipped
    report = converters.write(my_assets, "out.ndjson", mode="ground-truth")
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what mypy and IDEs see; at run time each name is imported on first use
    from .errors import (
        ConversionError,
        DataRowError,
        InputError,
        MappingError,
        MissingDependencyError,
        OptionsError,
        ParseError,
        UnknownFormatError,
        UnsafeInputError,
        WriteError,
    )
    from .geometry import GeometryOptions
    from .matrix import Mode
    from .model import (
        Annotation,
        Answer,
        Asset,
        Box,
        Classification,
        ClassificationKind,
        DocumentEntity,
        Entity,
        GroupKey,
        Keyframe,
        Kind,
        Mask,
        Media,
        MultiPolygon,
        PageBox,
        Point,
        Polygon,
        Polyline,
        Relationship,
        Segment,
        SourceRef,
        TextSelection,
        Unit,
        VideoObject,
    )
    from .ontology import Ontology
    from .options import ConvertOptions, WriteOptions
    from .pipeline import Reading, convert, derive_ontology, read
    from .readers import Reader, available_formats, get_reader, register_reader
    from .report import Report
    from .writer import Source, write

__version__ = "0.1.0"


__all__ = [
    "Annotation",
    "Answer",
    "Asset",
    "Box",
    "Classification",
    "ClassificationKind",
    "ConversionError",
    "ConvertOptions",
    "DataRowError",
    "DocumentEntity",
    "Entity",
    "GeometryOptions",
    "GroupKey",
    "InputError",
    "Keyframe",
    "Kind",
    "MappingError",
    "Mask",
    "Media",
    "MissingDependencyError",
    "Mode",
    "MultiPolygon",
    "Ontology",
    "OptionsError",
    "PageBox",
    "ParseError",
    "Point",
    "Polygon",
    "Polyline",
    "Reader",
    "Reading",
    "Relationship",
    "Report",
    "Segment",
    "Source",
    "SourceRef",
    "TextSelection",
    "Unit",
    "UnknownFormatError",
    "UnsafeInputError",
    "VideoObject",
    "WriteError",
    "WriteOptions",
    "available_formats",
    "convert",
    "derive_ontology",
    "get_reader",
    "read",
    "register_reader",
    "write",
    "__version__",
]

#: Public name -> the module (below this package) that defines it. Imported on first access
#: (PEP 562): ``import converters`` alone loads nothing else, so ``lbconvert convert`` pays
#: only for the modules its run uses (issue 16: the whole package took ~0.2 s to import).
_LAZY = {
    "ConversionError": "errors",
    "DataRowError": "errors",
    "InputError": "errors",
    "MappingError": "errors",
    "MissingDependencyError": "errors",
    "OptionsError": "errors",
    "ParseError": "errors",
    "UnknownFormatError": "errors",
    "UnsafeInputError": "errors",
    "WriteError": "errors",
    "GeometryOptions": "geometry",
    "Mode": "matrix",
    "Annotation": "model",
    "Answer": "model",
    "Asset": "model",
    "Box": "model",
    "Classification": "model",
    "ClassificationKind": "model",
    "DocumentEntity": "model",
    "Entity": "model",
    "GroupKey": "model",
    "Keyframe": "model",
    "Kind": "model",
    "Mask": "model",
    "Media": "model",
    "MultiPolygon": "model",
    "PageBox": "model",
    "Point": "model",
    "Polygon": "model",
    "Polyline": "model",
    "Relationship": "model",
    "Segment": "model",
    "SourceRef": "model",
    "TextSelection": "model",
    "Unit": "model",
    "VideoObject": "model",
    "Ontology": "ontology",
    "ConvertOptions": "options",
    "WriteOptions": "options",
    "Reading": "pipeline",
    "convert": "pipeline",
    "derive_ontology": "pipeline",
    "read": "pipeline",
    "Reader": "readers",
    "available_formats": "readers",
    "get_reader": "readers",
    "register_reader": "readers",
    "Report": "report",
    "Source": "writer",
    "write": "writer",
}

if not TYPE_CHECKING:  # for mypy a misspelt ``converters.X`` must stay an error, not Any

    def __getattr__(name: str) -> Any:
        """``converters.X`` for a public name: imported now, then cached in the namespace. A
        submodule (``converters.geometry``) is imported on first access too, as it was when
        this package imported everything. ``__import__``, not ``importlib.import_module``:
        ``from . import masks`` lands here too, and ``-X importtime`` sees only the former."""
        module = _LAZY.get(name)
        if module is None:
            try:
                __import__(f"{__name__}.{name}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{__name__}.{name}":
                    raise  # the submodule exists but one of its own imports is missing
                raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
            return sys.modules[f"{__name__}.{name}"]
        value = getattr(__import__(f"{__name__}.{module}", fromlist=[name]), name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
