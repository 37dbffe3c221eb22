"""Rows of a :class:`~converters.table.ShapeTable`, column by column (issue 16).

The general writer builds a dict per row and per polygon point and serialises each; for the
boxes and plain polygons that make most of a COCO export, that is most of a conversion. Here
a whole table is checked at once (the same tests as :mod:`converters.fastrows`: boxes that
:func:`~converters.geometry.fix_box` would pass unchanged, rings that
:func:`~converters.geometry.valid_rings` passes and that keep an area once rounded), every
coordinate is rounded and formatted by numpy and orjson in one call per table, and a row is
a few byte strings joined. Per row, Python only hashes the uuid.

An asset this lane cannot vouch for entirely (a box to clip, a polygon to repair, a
repeated id, an unmapped class, more rows than Labelbox takes per data row and feature)
gets ``None`` from :meth:`TableRows.lines`, and the writer builds it the general way from
the table: one lane never changes a byte (tests/test_table_lane.py).
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from dataclasses import dataclass
from operator import itemgetter, methodcaller
from collections.abc import Sequence
from typing import cast

import numpy as np
import orjson

from . import fastrows, geometry
from .assembly import AssetConverter
from .datarows import DataRowRef
from .errors import MappingError
from .matrix import why_not
from .model import Kind, Media
from .ndjson import NAMESPACE
from .table import ShapeTable

__all__ = ["Prepared", "TableRows"]

_NS = NAMESPACE.bytes
#: Stand-ins for what goes between the numbers of a payload, and their text with the commas
#: around them: small negative numbers when every value is >= 0 (short text: the passes
#: over it are faster), else values no coordinate of the lane reaches (1e300 at most).
_SMALL = np.array([-1.0, -2.0, -3.0, -4.0])
_LARGE = np.array([-1.5e305, -2.5e305, -3.5e305, -4.5e305])


def _text(marks: np.ndarray) -> list[bytes]:
    return [b"," + t + b"," for t in orjson.dumps(marks, option=orjson.OPT_SERIALIZE_NUMPY)[1:-1].split(b",")]


_SMALL_TEXT, _LARGE_TEXT = _text(_SMALL), _text(_LARGE)
_BOX_KEYS = (b',"left":', b',"height":', b',"width":')
_DIGEST = methodcaller("digest")
_SECOND = itemgetter(1)
#: ``{"uuid":"<uuid>"`` of a row: its template and where the 32 hex digits of a uuid go.
_TEMPLATE = np.frombuffer(b'{"uuid":"' + b"-" * 36 + b'"', dtype=np.uint8)
_PREFIX = len(_TEMPLATE)
_DIGITS = 9 + np.array([i for i in range(36) if i not in (8, 13, 18, 23)])
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A table checked and formatted by :meth:`TableRows.start`: per asset, whether every
    annotation passed and how many are polygons; per annotation, its encoded payload (the
    end of its row) or None, its label and whether it is a polygon."""

    table: ShapeTable
    bounds: list[int]
    asset_ok: list[bool]
    polygons: list[int]
    payload: list[bytes | None]
    #: per annotation: ``label * 2 + is_polygon``, and its key as UTF-8
    codes: list[int]
    keys: list[bytes]
    #: per code, once its tool is known: (namespace + tool name as UTF-8, ``"name":...``)
    features: list[tuple[bytes, bytes] | None]
    #: per asset, for the data row keyed by its name: the row's ``,"dataRow":{...},`` and
    #: the uuid's ``\x1fgk:<name>\x1f``
    heads: list[bytes]
    identities: list[bytes]


class TableRows:
    """Turns the assets of tables into encoded rows for one writer (its converter, ontology
    and report), or declines an asset (``None``)."""

    def __init__(self, job: AssetConverter, per_row_limit: int) -> None:
        self.job = job
        self.report = job.report
        self.limit = per_row_limit
        self._tools: dict[tuple[str, bool], tuple[bytes, bytes]] = {}
        # rows taken, waiting for flush(): their uuid digests, row parts, rows per asset
        self._digests: list[bytes] = []
        self._heads: list[bytes] = []
        self._names: list[bytes] = []
        self._payloads: list[bytes] = []
        self._sizes: list[int] = []
        self._boxes = self._polygons = 0  # annotations taken, counted in the report at flush()
        mode = job.o.mode
        #: Whether the lane runs at all: plain images, boxes and polygons importable, no
        #: score filter (``--min-score`` reads each annotation's confidence).
        self.active = (
            fastrows.enabled()
            and job.o.min_score is None
            and why_not(Kind.BBOX, Media.IMAGE, mode) is None
            and why_not(Kind.POLYGON, Media.IMAGE, mode) is None
        )

    def start(self, table: ShapeTable) -> Prepared:
        """Check and format every annotation of ``table``, for :meth:`lines`."""
        n = table.size
        width, height = table.sizes[:, 0], table.sizes[:, 1]
        known = ~(np.isnan(width) | np.isnan(height))
        per_asset = np.diff(table.bounds)
        asset_of = np.repeat(np.arange(len(table)), per_asset)
        ok = np.zeros(n, dtype=bool)
        payload_of = np.full(n, None, dtype=object)
        polygon = table.polygon
        # boxes: fastrows.box_payload's test, on columns
        at = np.flatnonzero(~polygon)
        if len(at):
            x0, y0, x1, y1 = table.boxes[at].T
            a = asset_of[at]
            good = (x0 < x1) & (y0 < y1)
            with np.errstate(invalid="ignore"):
                inside = ((0.0 <= x0) & (0.0 <= y0) & (x1 <= width[a]) & (y1 <= height[a])
                          & (x1 - x0 > geometry.EPS) & (y1 - y0 > geometry.EPS))
            good &= ~known[a] | inside
            numbers = np.empty((len(at), 4))
            numbers[:, 0], numbers[:, 1] = fastrows.round4(y0), fastrows.round4(x0)
            numbers[:, 2], numbers[:, 3] = fastrows.round4(y1 - y0), fastrows.round4(x1 - x0)
            good &= (numbers[:, 2] > 0) & (numbers[:, 3] > 0)
            taken = at[good]
            ok[taken] = True
            payload_of[taken] = [b',"bbox":{"top":' + body + b"}}\n" for body in _box_bodies(numbers[good])]
        # polygons: fastrows.plain_rings, on the table's one coordinate array
        at = np.flatnonzero(polygon)
        if len(at):
            counts = np.diff(table.rings)
            enough = counts >= 3
            if enough.all():
                coords, sub = table.coords, counts
            else:
                coords, sub = table.coords[np.repeat(enough, counts)], counts[enough]
            a = asset_of[at[enough]]
            sizes = np.stack((width[a], height[a]), axis=1)  # NaN: unknown (valid_rings checks nothing)
            kept, rounded, kept_counts, _ = fastrows.plain_rings(coords, sub, sizes)
            taken = at[enough][kept]
            ok[taken] = True
            payload_of[taken] = [b',"polygon":[{"x":' + body + b"}]}\n" for body in _ring_bodies(rounded, kept_counts)]
        payload: list[bytes | None] = payload_of.tolist()
        declined = np.concatenate(([0], np.cumsum(~ok)))
        b = table.bounds
        polygons = np.concatenate(([0], np.cumsum(polygon)))
        return Prepared(table, b.tolist(), (declined[b[1:]] - declined[b[:-1]] == 0).tolist(),
                        (polygons[b[1:]] - polygons[b[:-1]]).tolist(), payload,
                        (table.label * 2 + polygon).tolist(), list(map(str.encode, table.keys)),
                        [None] * (2 * len(table.labels)), *_named_rows(table.names))

    def add(self, p: Prepared, i: int, ref: DataRowRef) -> bool:
        """Take asset ``i`` of a prepared table: its rows wait for :meth:`flush`, which also
        counts its annotations in the report. False when the general path must build it
        (nothing is recorded then)."""
        table = p.table
        first, end = p.bounds[i], p.bounds[i + 1]
        if not p.asset_ok[i] or end - first > self.limit:
            return False
        if self.report.has_pending and self.report.waiting(a.source for a in table.build(i).annotations):
            return False  # an entry the reader made about one of its objects: tied to its rows there
        key = ref.global_key
        if key is not None and key == table.names[i]:  # the usual data row: prepared with the table
            head, identity = p.heads[i], p.identities[i]
        elif key is not None:
            head = b',"dataRow":{"globalKey":' + orjson.dumps(key) + b"},"
            identity = ("\x1fgk:" + key + "\x1f").encode()  # DataRowRef.identity
        else:
            head = b',"dataRow":' + orjson.dumps(ref.asdict()) + b","
            identity = f"\x1f{ref.identity}\x1f".encode()
        if self._resolve(p, first, end) is not None:
            return False
        return self._record(p, i, i + 1, [identity] * (end - first), [head] * (end - first))

    def bulk_end(self, p: Prepared, i: int, end: int) -> int:
        """How far from asset ``i`` (before ``end``) the table's own checks pass and every
        class maps (tools resolved in row order, as :meth:`add` would): the assets
        ``i:bulk_end`` can be taken at once by :meth:`add_bulk`."""
        bounds, ok, limit = p.bounds, p.asset_ok, self.limit
        stop = i
        while stop < end and ok[stop] and bounds[stop + 1] - bounds[stop] <= limit:
            stop += 1
        failed = self._resolve(p, bounds[i], bounds[stop])
        if failed is not None:  # stop before the asset of that row
            return bisect_right(bounds, failed, i, stop + 1) - 1
        return stop

    def _resolve(self, p: Prepared, first: int, last: int) -> int | None:
        """Find the tool of every class and kind of rows ``first:last`` not met yet, in row
        order (as the general path meets them); the first row whose class does not map, or None."""
        features = p.features
        span = p.codes[first:last]
        for code in dict.fromkeys(span):  # first appearances, in row order
            if features[code] is None:
                features[code] = self._tool(p.table.labels[code >> 1], bool(code & 1))
                if features[code] is None:
                    return first + span.index(code)
        return None

    def add_bulk(self, p: Prepared, i: int, end: int) -> bool:
        """:meth:`add` of assets ``i:end`` at once, each keyed by its name (``bulk_end``
        checked them): False, with nothing recorded, when a uuid repeats (the assets are
        then taken one by one)."""
        bounds = p.bounds
        per_row = np.repeat(np.arange(i, end), np.diff(bounds[i:end + 1])).tolist()
        return self._record(p, i, end, list(map(p.identities.__getitem__, per_row)),
                            list(map(p.heads.__getitem__, per_row)))

    def _record(self, p: Prepared, i: int, end: int, identities: list[bytes], heads: list[bytes]) -> bool:
        """Hash and keep the rows of assets ``i:end`` (their tools resolved; ``identities``
        and ``heads``: each row's data row): False, with nothing kept, when a uuid repeats
        (within an asset: data rows differ between assets)."""
        bounds = p.bounds
        first, last = bounds[i], bounds[end]
        features = cast(list[tuple[bytes, bytes]], list(map(p.features.__getitem__, p.codes[first:last])))
        digests = list(map(_DIGEST, map(hashlib.sha1, [f[0] + identity + k for f, identity, k in
                                                       zip(features, identities, p.keys[first:last])])))
        if len(set(digests)) != len(digests):  # a repeated id: the general path gives it a uuid of its own
            return False
        self._digests += digests
        self._names += map(_SECOND, features)
        self._heads += heads
        self._payloads += p.payload[first:last]  # type: ignore[arg-type]  # all set: the assets passed
        self._sizes += [b - a for a, b in zip(bounds[i:end], bounds[i + 1:end + 1])]
        polygons = sum(p.polygons[i:end])
        self._boxes += last - first - polygons
        self._polygons += polygons
        return True

    def flush(self) -> tuple[memoryview, list[tuple[memoryview, int]]]:
        """The encoded rows of the assets taken since the last flush: all of them, and each
        asset's as (bytes, rows), in order (the uuids formatted all at once, the rows joined
        in one call)."""
        n = len(self._names)
        parts: list[bytes] = [b""] * (4 * n)
        parts[0::4] = np.frombuffer(_uuid_prefixes(self._digests), dtype=f"S{_PREFIX}").tolist()
        parts[1::4] = self._heads
        parts[2::4] = self._names
        parts[3::4] = self._payloads
        blob = memoryview(b"".join(parts))
        ends = np.cumsum(np.fromiter(map(len, parts), dtype=np.intp, count=4 * n))[3::4].tolist()
        out: list[tuple[memoryview, int]] = []
        at = start = 0
        for size in self._sizes:
            end = ends[at + size - 1] if size else start
            out.append((blob[start:end], size))
            at, start = at + size, end
        self._digests, self._names, self._heads, self._payloads, self._sizes = [], [], [], [], []
        report = self.report
        for kind, count in (("bbox", self._boxes), ("polygon", self._polygons)):
            if count:
                report.read[kind] += count
                report.written[kind] += count
                report.rows[kind] += count
        self._boxes = self._polygons = 0
        return blob, out

    def _tool(self, label: str, polygon: bool) -> tuple[bytes, bytes] | None:
        """(uuid namespace + tool name, ``"name":...`` bytes) of a class and kind, or None
        when it does not map (the general path raises or skips, as ``--on-unmapped`` says)."""
        found = self._tools.get((label, polygon))
        if found is not None:
            return found
        try:
            tool = self.job.ontology.tool_for(label, Kind.POLYGON if polygon else Kind.BBOX)
        except MappingError:
            return None
        feature = orjson.dumps(self.job.ctx.ref(tool.name, tool.schema_id))[1:-1]
        self._tools[(label, polygon)] = found = (_NS + tool.name.encode(), feature)
        return found


def _named_rows(names: Sequence[str]) -> tuple[list[bytes], list[bytes]]:
    """``,"dataRow":{"globalKey":"<name>"},`` and ``\x1fgk:<name>\x1f`` of each name: the
    first from one orjson call over the list (a JSON string never holds ``","`` unescaped,
    so the list's text splits there)."""
    if not names:
        return [], []
    quoted = orjson.dumps(list(names))[2:-2].split(b'","')
    heads = [b',"dataRow":{"globalKey":"' + q + b'"},' for q in quoted]
    return heads, [("\x1fgk:" + name + "\x1f").encode() for name in names]


def _box_bodies(numbers: np.ndarray) -> list[bytes]:
    """``top,"left":L,"height":H,"width":W`` of each row of (top, left, height, width),
    formatted by orjson in one call (the numbers of a Python float row, byte for byte): one
    flat array with a stand-in value where each key goes and between rows (orjson writes a
    flat array several times faster than a 2-D one)."""
    if not len(numbers):
        return []
    marks, texts = (_SMALL, _SMALL_TEXT) if numbers.min() >= 0.0 else (_LARGE, _LARGE_TEXT)
    wide = np.empty((len(numbers), 8))
    wide[:, 0::2] = numbers
    wide[:, 1::2] = marks
    text = _dumps(wide.ravel()[:-1])
    for mark, key in zip(texts, _BOX_KEYS):
        text = text.replace(mark, key)
    return text.split(texts[3])


def _ring_bodies(rounded: np.ndarray, counts: np.ndarray) -> list[bytes]:
    """``x,"y":y},{"x":x,"y":y...`` of each ring (``counts`` points each, one after the
    other in ``rounded``), formatted by orjson in one call: the points as rows of a 2-D
    array, a row of NaN (``null``: no coordinate of the lane is NaN) between rings; then
    every comma becomes ``,"y":`` and what that made of ``],[`` becomes ``},{"x":``."""
    if not len(counts):
        return []
    rings = len(counts)
    gapped = np.full((len(rounded) + rings - 1, 2), np.nan)
    gapped[np.arange(len(rounded)) + np.repeat(np.arange(rings), counts)] = rounded
    text = orjson.dumps(gapped, option=orjson.OPT_SERIALIZE_NUMPY)[2:-2]
    text = text.replace(b",", b',"y":').replace(b'],"y":[', b'},{"x":')
    return text.split(b'},{"x":null,"y":null},{"x":')


def _dumps(flat: np.ndarray) -> bytes:
    """The numbers of a flat float64 array, comma-separated, as orjson writes them."""
    return orjson.dumps(flat, option=orjson.OPT_SERIALIZE_NUMPY)[1:-1]


def _uuid_prefixes(digests: list[bytes]) -> bytes:
    """``{"uuid":"<uuid>"`` of each SHA-1 digest, one after the other: the uuid5 of
    :func:`converters.ndjson.annotation_uuid` (the first 16 bytes, version 5, RFC 4122
    variant), formatted for all rows at once."""
    if not digests:
        return b""
    d = np.frombuffer(b"".join(digests), dtype=np.uint8).reshape(-1, 20)[:, :16].copy()
    d[:, 6] = (d[:, 6] & 0x0F) | 0x50
    d[:, 8] = (d[:, 8] & 0x3F) | 0x80
    out = np.empty((len(d), _PREFIX), dtype=np.uint8)
    out[:] = _TEMPLATE
    out[:, _DIGITS] = _HEX[np.stack((d >> 4, d & 15), axis=2).reshape(len(d), 32)]
    return out.tobytes()
