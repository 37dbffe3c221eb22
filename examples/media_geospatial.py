"""A tiled-imagery (EPSG:4326) data row: box, polygon, point and line in longitude/latitude,
and global classifications.

Coordinates are degrees, ``x`` = longitude and ``y`` = latitude (north up): nothing is
clipped to a pixel size, and boxes are written the way Labelbox's tiled-imagery example
writes them (``top`` = north edge, negative ``height``).
"""

from __future__ import annotations

import sys

from _common import run

from converters import (
    Annotation,
    Asset,
    Box,
    Classification,
    Media,
    Point,
    Polygon,
    Polyline,
    SourceRef,
)

SRC = SourceRef(file="survey.gpkg")

TILE = Asset(
    name="mexico-city-tile",
    media=Media.GEOSPATIAL,
    source=SRC,
    annotations=(
        Annotation(key="b1", source=SRC, label="building",
                   shape=Box(x_min=-99.20747, y_min=19.39800, x_max=-99.20569, y_max=19.39926),
                   classifications=(Classification.radio("roof", "flat"),)),
        Annotation(key="p1", source=SRC, label="park",
                   shape=Polygon(exterior=((-99.2090, 19.4010), (-99.2070, 19.4012), (-99.2075, 19.3995)))),
        Annotation(key="t1", source=SRC, label="tree", shape=Point(x=-99.20647859, y=19.40018029)),
        Annotation(key="r1", source=SRC, label="road",
                   shape=Polyline(points=((-99.2100, 19.4000), (-99.2050, 19.4003), (-99.2010, 19.3990)))),
        Annotation(key="season", source=SRC, classification=Classification.radio("season", "dry")),
        Annotation(key="cover", source=SRC, classification=Classification.checklist("cover", ["urban", "trees"])),
        Annotation(key="note", source=SRC, classification=Classification.free_text("note", "2023 imagery")),
    ),
)

if __name__ == "__main__":
    sys.exit(run([TILE], sys.argv[1:], "geospatial"))
