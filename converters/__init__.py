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
