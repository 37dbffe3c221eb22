"""``lbconvert validate``: check any NDJSON import file before sending it to Labelbox.

Every check the Labelbox SDK's parser (``labelbox.data.serialization.ndjson``, 5.2.1) makes
without the network is made here too, so a file that passes is one the SDK accepts; a few
are stricter (said where). Per row:

* JSON object; ``dataRow`` with exactly one of ``globalKey`` (<= 200 characters) or ``id``,
  both strings; ``uuid`` a string; exactly one of ``name`` / ``schemaId`` (SDK: at least one;
  a schema id is a 25-character cuid); ``confidence`` a number within [0, 1] (rows, answers).
* a recognisable annotation (geometry keys, entity ``location`` or ``textSelections``,
  classification ``answer``, video ``segments`` or ``masks``, ``relationship``) with its
  shape checks: numeric boxes (positive size: stricter than the SDK), >= 3 polygon and >= 2
  line points, ``start <= end`` entities, PDF pages >= 1 and a unit, answers that name an
  option, non-empty checklists, frame ranges with ``0 <= start <= end``, DICOM ``groupKey``
  axial / sagittal / coronal, relationship types.
* masks: ``png`` must decode as a PNG whose values are 0/1 (the SDK's binary check);
  ``imBytes`` must be a PNG holding ``colorRGB`` (an import fails on an absent colour);
  ``colorRGB`` three integers 0..255.
* the media: the import matrix for the media and mode, and the row's form (a video object is
  a track of keyframes, never a plain box; a track is not an image row; DICOM lines carry a
  group key). Without ``--media`` the media is inferred from the rows' forms, and a file whose
  rows belong to several media is an error: one import goes to one kind of data row.
* with an ontology, that names, tool kinds and answer options exist.

Per file: duplicate ``uuid`` on one data row, relationships pointing at uuids of no row on
their data row, and the SDK's 5,000 annotations per data row per feature limit.
"""

from __future__ import annotations

import base64
import binascii
import io
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import _json
from .datarows import MAX_GLOBAL_KEY
from .errors import InputError, SourceNotFoundError
from .matrix import Mode, why_not
from .model import Kind, Media
from .ontology import TOOL_TYPES, Ontology
from .output import PER_ROW_LIMIT

__all__ = ["ValidationResult", "row_kind", "row_media", "validate_file", "validate_row"]

_GEOMETRY = {"bbox": Kind.BBOX, "polygon": Kind.POLYGON, "point": Kind.POINT, "line": Kind.POLYLINE, "mask": Kind.MASK, "location": Kind.ENTITY}
_CUID_LENGTH = 25
_DICOM_GROUPS = ("axial", "sagittal", "coronal")
_DOC_UNITS = ("INCHES", "PIXELS", "POINTS", "PERCENT")
_RELATIONSHIP_TYPES = ("unidirectional", "bidirectional")
#: Masks larger than this are not decoded (a row can claim any size; 200M is the project's
#: mask limit, see docs/geometry-and-masks.md).
_MAX_MASK_PIXELS = 200_000_000
_POSITIVE = "bbox width and height must be positive"


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """What :func:`validate_file` found."""

    problems: list[tuple[int, str]]
    rows: int
    media: Media | None  # the media checked against (None: no row tells, none given)
    inferred: bool


def row_kind(row: Mapping[str, Any]) -> Kind | None:
    """The matrix kind of a row, or None when it is not recognisable."""
    for key, kind in _GEOMETRY.items():
        if key in row:
            return kind
    if "textSelections" in row:
        return Kind.ENTITY
    if "segments" in row:
        try:
            kf = row["segments"][0]["keyframes"][0]
        except (KeyError, IndexError, TypeError):
            return None
        return next((k for key, k in _GEOMETRY.items() if key in kf), None)
    if "masks" in row:
        return Kind.MASK
    if "relationship" in row:
        return Kind.RELATIONSHIP
    if "answer" in row or "answers" in row:
        answer = row.get("answer", row.get("answers"))
        if isinstance(answer, str):
            return Kind.TEXT
        if isinstance(answer, list):
            return Kind.CHECKLIST
        if isinstance(answer, Mapping):
            return Kind.RADIO
    return None


def row_media(row: Mapping[str, Any]) -> Media | None:
    """The media a row's form belongs to; None when it imports on several (classifications)."""
    if "groupKey" in row:
        return Media.DICOM
    if "segments" in row or "masks" in row or "frames" in row or _timed_answers(row):
        return Media.VIDEO
    if "textSelections" in row or "page" in row or "unit" in row:
        return Media.DOCUMENT
    if "messageId" in row:
        return Media.CONVERSATIONAL
    if "location" in row:
        return Media.TEXT
    if any(k in row for k in ("bbox", "polygon", "point", "line", "mask")):
        return Media.IMAGE
    return None


def _timed_answers(row: Mapping[str, Any]) -> bool:
    answer = row.get("answer")
    return isinstance(answer, list) and any(isinstance(a, Mapping) and "frames" in a for a in answer)


_NUMBER_TYPES = frozenset({int, float})  # exact types: JSON true/false are not coordinates


def _number(v: Any) -> bool:
    return type(v) in _NUMBER_TYPES


def _check_points(name: str, pts: Any, minimum: int) -> str | None:
    # The hottest loop of a large file (a polygon row per object): plain loops, exact types.
    bad = f"{name} must be a list of {{x, y}} numbers"
    if type(pts) is not list:
        return bad
    seen = set()
    numbers = _NUMBER_TYPES
    try:
        for p in pts:
            x, y = p["x"], p["y"]
            if type(x) not in numbers or type(y) not in numbers:
                return bad
            seen.add((x, y))
    except (TypeError, KeyError, IndexError):
        return bad
    if len(seen) < minimum:
        return f"{name} needs at least {minimum} distinct points"
    return None


class _Masks:
    """Decodes mask PNGs once: a composite ``imBytes`` is repeated on every row of its image."""

    def __init__(self) -> None:
        self._last: tuple[str, Any] | None = None

    def decode(self, b64: Any) -> tuple[Any, str | None]:
        """(array, problem) of a base64 PNG."""
        if not isinstance(b64, str):
            return None, "must be a base64 string"
        if self._last is not None and self._last[0] == b64:
            return self._last[1], None
        import warnings

        import numpy as np
        from PIL import Image

        try:
            raw = base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError):
            return None, "is not valid base64"
        if not raw.startswith(b"\x89PNG\r\n\x1a\n"):
            return None, "is not a PNG"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the size is checked below, before decoding
                img = Image.open(io.BytesIO(raw))
                if img.size[0] * img.size[1] > _MAX_MASK_PIXELS:
                    return None, f"is {img.size[0]}x{img.size[1]} pixels, over the {_MAX_MASK_PIXELS:,} limit"
                arr = np.asarray(img)
        except Exception as exc:  # noqa: BLE001 - any decoder failure is the row's problem
            return None, f"does not decode as a PNG ({' '.join(str(exc).split())[:80]})"
        self._last = (b64, arr)
        return arr, None


def validate_row(
    row: Any,
    *,
    mode: Mode,
    media: Media | None,
    ontology: Ontology | None = None,
    masks: _Masks | None = None,
) -> list[str]:
    """Problems with one row (empty when it is valid). ``media`` None: no media checks."""
    if not isinstance(row, Mapping):
        return ["row is not a JSON object"]
    if "metricValue" in row:
        return ["custom metrics go to model runs (prediction import), not to pre-label or ground-truth imports"]
    problems = _identity_problems(row)
    kind = row_kind(row)
    if kind is None:
        return problems + ["no annotation recognised (bbox, polygon, point, line, mask, location, answer, segments)"]

    if media is not None:
        problems += _media_problems(_shape(row, kind), media, mode)
    if "segments" in row:
        problems += _segment_problems(row["segments"])
    elif "masks" in row:
        problems += _video_mask_problems(row["masks"])
    elif kind in (Kind.RADIO, Kind.CHECKLIST, Kind.TEXT):
        problems += _answer_problems(row, "")
    elif kind is Kind.RELATIONSHIP:
        problems += _relationship_problems(row["relationship"])
    else:
        geometry = _geometry_problems(row, kind, masks or _Masks())
        if media is Media.GEOSPATIAL:  # lat/lng boxes: Labelbox's geospatial examples use a negative height
            geometry = [p for p in geometry if p != _POSITIVE]
        problems += geometry
    if "frames" in row:
        problems += _frames_problems(row["frames"], "frames")
    if "groupKey" in row and row["groupKey"] not in _DICOM_GROUPS:
        problems.append(f"groupKey must be one of {', '.join(_DICOM_GROUPS)}, not {row['groupKey']!r}")
    subs = row.get("classifications")
    if isinstance(subs, list):
        for i, sub in enumerate(subs):
            problems += _classification_problems(sub, f"classifications[{i}]")
    elif subs is not None:
        problems.append("classifications must be a list")
    if ontology is not None and "name" in row:
        problems += _ontology_problems(row, kind, ontology)
    return problems


def _identity_problems(row: Mapping[str, Any]) -> list[str]:
    """dataRow, uuid, name / schemaId, confidence: what every row carries."""
    problems = []
    dr = row.get("dataRow")
    if not isinstance(dr, Mapping) or (("globalKey" in dr) == ("id" in dr)):
        problems.append("dataRow needs exactly one of globalKey or id")
    elif "globalKey" in dr and (not isinstance(dr["globalKey"], str) or not 0 < len(dr["globalKey"]) <= MAX_GLOBAL_KEY):
        problems.append(f"globalKey must be a string of 1 to {MAX_GLOBAL_KEY} characters")
    elif "id" in dr and (not isinstance(dr["id"], str) or not dr["id"]):
        problems.append("dataRow id must be a non-empty string")
    if "uuid" in row and not isinstance(row["uuid"], str):
        problems.append("uuid must be a string")
    if "masks" not in row:  # video / DICOM masks name their features per instance
        problems += _feature_problems(row, "", exactly_one=True)
    return problems


def _feature_problems(item: Mapping[str, Any], where: str, *, exactly_one: bool) -> list[str]:
    """name / schemaId and confidence of a row, a nested classification or an answer."""
    problems = []
    has_name, has_id = item.get("name") is not None, item.get("schemaId") is not None
    if exactly_one and has_name == has_id:
        problems.append(f"{where}needs exactly one of name or schemaId")
    elif not (has_name or has_id):
        problems.append(f"{where}needs a name or a schemaId")
    if has_name and not isinstance(item["name"], str):
        problems.append(f"{where}name must be a string")
    if has_id and not (isinstance(item["schemaId"], str) and len(item["schemaId"]) == _CUID_LENGTH):
        problems.append(f"{where}schemaId must be a {_CUID_LENGTH}-character feature schema id, not {str(item['schemaId'])[:40]!r}")
    if item.get("confidence") is not None and not (_number(item["confidence"]) and 0 <= item["confidence"] <= 1):
        problems.append(f"{where}confidence must be a number within [0, 1], not {item['confidence']!r}")
    return problems


def _answer_problems(item: Mapping[str, Any], where: str) -> list[str]:
    """A classification's answer: text, one option (radio) or a non-empty list (checklist)."""
    answer = item.get("answer", item.get("answers"))
    if isinstance(answer, str):
        return []
    if isinstance(answer, Mapping):
        options = [answer]
    elif isinstance(answer, list):
        if not answer:
            return [f"{where}checklist answer must list at least one option"]  # stricter than the SDK
        options = answer
    else:
        return [f"{where}answer must be a string, an option object or a list of options"]
    problems: list[str] = []
    for i, option in enumerate(options):
        at = f"{where}answer[{i}] " if isinstance(answer, list) else f"{where}answer "
        if not isinstance(option, Mapping):
            problems.append(f"{at}must be an object with a name or schemaId")
            continue
        if isinstance(option.get("value"), str) and "frames" in option:  # free text over frames
            problems += _frames_problems(option["frames"], f"{at}frames")
            continue
        problems += _feature_problems(option, at, exactly_one=False)
        if "frames" in option:
            problems += _frames_problems(option["frames"], f"{at}frames")
        subs = option.get("classifications")
        for j, sub in enumerate(subs if isinstance(subs, list) else ()):
            problems += _classification_problems(sub, f"{at}classifications[{j}]")
    return problems


def _classification_problems(sub: Any, where: str) -> list[str]:
    if not isinstance(sub, Mapping):
        return [f"{where} must be an object"]
    return _feature_problems(sub, f"{where} ", exactly_one=False) + _answer_problems(sub, f"{where} ")


def _frames_problems(frames: Any, where: str) -> list[str]:
    if not isinstance(frames, list) or not frames:
        return [f"{where} must be a non-empty list of {{start, end}}"]
    for f in frames:
        if not (isinstance(f, Mapping) and type(f.get("start")) is int and type(f.get("end")) is int):
            return [f"{where} entries need integer start and end"]
        if not 0 <= f["start"] <= f["end"]:
            return [f"{where} needs 0 <= start <= end (got {f['start']}..{f['end']})"]
    return []


_Shape = tuple[Kind, "Media | None", bool, bool, bool]


def _shape(row: Mapping[str, Any], kind: Kind) -> _Shape:
    """What the media checks need of a row: (kind, form, segments, textSelections, page+unit)."""
    return (kind, row_media(row), "segments" in row, "textSelections" in row, "page" in row and "unit" in row)


def _media_problems(shape: _Shape, media: Media, mode: Mode) -> list[str]:
    """The import matrix, and the row's form against the media (tracks, groups, pages)."""
    problems = []
    kind, form, segments, selections, paged = shape
    if form is Media.DICOM and media is not Media.DICOM:
        problems.append(f"rows with a groupKey are DICOM annotations, not {media.value}")
    elif segments and media not in (Media.VIDEO, Media.DICOM):
        problems.append(f"track rows (segments of keyframes) import only on video data rows, not {media.value}")
    elif form is Media.VIDEO and media not in (Media.VIDEO, Media.DICOM, Media.AUDIO):
        problems.append(f"frame-ranged rows import only on video (or audio) data rows, not {media.value}")
    elif media is Media.VIDEO and kind not in (Kind.RADIO, Kind.CHECKLIST, Kind.TEXT) and form is not Media.VIDEO:
        problems.append(f"on video data rows an object is a track (segments of keyframes), not a plain {kind.value} row")
    elif media is Media.DICOM and form is not Media.DICOM:
        problems.append("DICOM annotations are segments or masks with a groupKey (axial, sagittal, coronal)")
    elif form is Media.DOCUMENT and media is not Media.DOCUMENT:
        problems.append(f"page / textSelections rows are document annotations, not {media.value}")
    elif media is Media.DOCUMENT and kind is Kind.ENTITY and not selections:
        problems.append("document entities are textSelections (token ids per page), not a location")
    elif media is Media.DOCUMENT and kind is Kind.BBOX and not paged:
        problems.append("a document box needs a page and a unit")
    elif form is Media.CONVERSATIONAL and media is not Media.CONVERSATIONAL:
        problems.append(f"rows with a messageId are conversational annotations, not {media.value}")
    elif media is Media.CONVERSATIONAL and kind is Kind.ENTITY and form is not Media.CONVERSATIONAL:
        problems.append("conversational entities need the messageId of their message")
    reason = why_not(kind, media, mode)
    if reason is not None:
        problems.append(reason[1])
    return problems


def _segment_problems(segments: Any) -> list[str]:
    """Video tracks: segments of keyframes, 1-based increasing frames, one shape each."""
    if not isinstance(segments, list) or not segments:
        return ["segments must be a non-empty list"]
    problems: list[str] = []
    last = 0
    masks = _Masks()
    for s_i, seg in enumerate(segments):
        keyframes = seg.get("keyframes") if isinstance(seg, Mapping) else None
        if not isinstance(keyframes, list) or not keyframes:
            problems.append(f"segment {s_i} needs a non-empty keyframes list")
            continue
        for kf in keyframes:
            frame = kf.get("frame") if isinstance(kf, Mapping) else None
            if type(frame) is not int or frame < 1:
                problems.append(f"segment {s_i}: keyframe frame must be an integer >= 1")
                continue
            if frame <= last:
                problems.append(f"segment {s_i}: frame {frame} does not follow frame {last}")
            last = frame
            shapes = [k for k in ("bbox", "point", "line") if k in kf]
            if len(shapes) != 1:
                problems.append(f"segment {s_i}, frame {frame}: needs exactly one of bbox, point, line")
                continue
            problems += [f"frame {frame}: {p}" for p in _geometry_problems(kf, _GEOMETRY[shapes[0]], masks)]
            subs = kf.get("classifications")
            for j, sub in enumerate(subs if isinstance(subs, list) else ()):
                problems += [f"frame {frame}: {p}" for p in _classification_problems(sub, f"classifications[{j}]")]
    return problems


def _video_mask_problems(masks: Any) -> list[str]:
    if not isinstance(masks, Mapping) or not isinstance(masks.get("frames"), list) or not isinstance(masks.get("instances"), list):
        return ["masks needs frames and instances lists"]
    problems = []
    for i, fr in enumerate(masks["frames"]):
        if not (isinstance(fr, Mapping) and type(fr.get("index")) is int and ("imBytes" in fr or "instanceURI" in fr)):
            problems.append(f"masks.frames[{i}] needs an integer index and imBytes or instanceURI")
    for i, inst in enumerate(masks["instances"]):
        if not isinstance(inst, Mapping) or not _colour_ok(inst.get("colorRGB")):
            problems.append(f"masks.instances[{i}] needs colorRGB, three integers 0..255")
        else:
            problems += _feature_problems(inst, f"masks.instances[{i}] ", exactly_one=False)
    return problems


def _relationship_problems(rel: Any) -> list[str]:
    if not isinstance(rel, Mapping) or not isinstance(rel.get("source"), str) or not isinstance(rel.get("target"), str):
        return ["relationship needs source and target uuids"]
    if rel.get("type", "unidirectional") not in _RELATIONSHIP_TYPES:
        return [f"relationship type must be unidirectional or bidirectional, not {rel.get('type')!r}"]
    return []


def _colour_ok(c: Any) -> bool:
    return isinstance(c, list) and len(c) == 3 and all(type(v) is int and 0 <= v <= 255 for v in c)


def _geometry_problems(row: Mapping[str, Any], kind: Kind, masks: _Masks) -> list[str]:
    """Shape checks of one row (or keyframe) holding the geometry key of ``kind``."""
    problems: list[str] = []
    if kind is Kind.BBOX:
        b = row["bbox"]
        if not isinstance(b, Mapping) or not all(_number(b.get(k)) for k in ("top", "left", "height", "width")):
            problems.append("bbox needs numeric top, left, height, width")
        elif b["width"] <= 0 or b["height"] <= 0:
            problems.append(_POSITIVE)  # stricter than the SDK, which accepts any sign
        if "page" in row and (type(row["page"]) is not int or row["page"] < 1):
            problems.append("page must be an integer >= 1")
        if "unit" in row and row["unit"] not in _DOC_UNITS:
            problems.append(f"unit must be one of {', '.join(_DOC_UNITS)}")
    elif kind is Kind.POINT:
        pt = row["point"]
        if not isinstance(pt, Mapping) or not all(_number(pt.get(k)) for k in ("x", "y")):
            problems.append("point needs numeric x and y")
    elif kind is Kind.POLYGON and "polygon" in row:
        p = _check_points("polygon", row["polygon"], 3)
        problems += [p] if p else []
    elif kind is Kind.POLYLINE and "line" in row:
        p = _check_points("line", row["line"], 2)
        problems += [p] if p else []
    elif kind is Kind.ENTITY and "textSelections" in row:
        problems += _text_selection_problems(row["textSelections"])
    elif kind is Kind.ENTITY:
        loc = row["location"]
        if not isinstance(loc, Mapping) or type(loc.get("start")) is not int or type(loc.get("end")) is not int:
            problems.append("location needs integer start and end")
        elif not 0 <= loc["start"] <= loc["end"]:
            problems.append("location needs 0 <= start <= end (end is inclusive)")
    elif kind is Kind.MASK and "mask" in row:
        problems += _mask_problems(row["mask"], masks)
    return problems


def _text_selection_problems(selections: Any) -> list[str]:
    if not isinstance(selections, list) or not selections:
        return ["textSelections must be a non-empty list"]
    for s in selections:
        if not (isinstance(s, Mapping) and isinstance(s.get("tokenIds"), list) and isinstance(s.get("groupId"), str)):
            return ["textSelections entries need tokenIds (a list) and groupId"]
        if type(s.get("page")) is not int or s["page"] < 1:
            return ["textSelections page must be an integer >= 1 (pages are 1-based)"]
    return []


def _mask_problems(m: Any, masks: _Masks) -> list[str]:
    if not isinstance(m, Mapping) or not ("png" in m or "imBytes" in m or "instanceURI" in m):
        return ["mask needs png, imBytes or instanceURI"]
    if "png" in m:
        arr, problem = masks.decode(m["png"])
        if problem:
            return [f"mask png {problem}"]
        if arr.size and int(arr.max()) > 1:
            return [f"mask png must be binary (values 0 and 1), found {int(arr.max())}"]
        return []
    if not _colour_ok(m.get("colorRGB")):
        return ["mask colorRGB must be three integers 0..255"]
    if "instanceURI" in m:
        return [] if isinstance(m["instanceURI"], str) and m["instanceURI"] else ["mask instanceURI must be a URL"]
    arr, problem = masks.decode(m["imBytes"])
    if problem:
        return [f"mask imBytes {problem}"]
    if not _has_colour(arr, m["colorRGB"]):
        return [f"mask colorRGB {m['colorRGB']} does not occur in the imBytes PNG"]
    return []


def _has_colour(arr: Any, colour: list[int]) -> bool:
    import numpy as np

    if arr.ndim == 2:
        return colour[0] == colour[1] == colour[2] and bool((arr == colour[0]).any())
    rgb = arr[..., :3]
    if rgb.shape[-1] < 3:
        return False
    return bool(np.all(rgb == np.asarray(colour, dtype=rgb.dtype), axis=-1).any())


def _ontology_problems(row: Mapping[str, Any], kind: Kind, ontology: Ontology) -> list[str]:
    name = row["name"]
    if kind in TOOL_TYPES:
        tools = [t for t in ontology.tools if t.name == name]
        if not tools:
            return [f"no tool named {name!r} in the ontology"]
        if not any(t.kind is kind for t in tools):
            return [f"tool {name!r} is a {tools[0].tool}, not a {kind.value} tool"]
        return []
    defs = [c for c in ontology.classifications if c.name == name]
    if not defs:
        return [f"no global classification named {name!r} in the ontology"]
    answer = row.get("answer", row.get("answers"))
    names = [a.get("name") for a in answer if isinstance(a, Mapping)] if isinstance(answer, list) else [answer.get("name")] if isinstance(answer, Mapping) else []
    return [f"{a!r} is not an option of {name!r}" for a in names if defs[0].option(str(a)) is None]


def validate_file(
    path: Path, *, mode: Mode, media: Media | None = None, ontology: str | Path | None = None
) -> ValidationResult:
    """Check an NDJSON file; ``media`` None infers it from the rows.

    Raises:
        InputError: the rows belong to several media (and none was given).
    """
    if not path.is_file():
        raise SourceNotFoundError(path)
    onto = Ontology.load(ontology) if ontology else None
    problems: list[tuple[int, str]] = []
    uuids: dict[tuple[str, str], int] = {}
    relationships: list[tuple[int, str, Mapping[str, Any]]] = []
    per_name: Counter[tuple[str, str]] = Counter()
    votes: dict[Media, int] = {}
    masks = _Masks()
    # The media checks need the media, which may only be known once every row was seen:
    # keep the few facts they need per row (a tuple), not the rows.
    held: list[tuple[int, _Shape]] = []
    rows = 0
    with open(path, "rb") as fh:
        for n, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            rows += 1
            try:
                row = _json.loads(text)
            except (_json.JSONDecodeError, UnicodeDecodeError) as exc:
                problems.append((n, f"invalid JSON: {getattr(exc, 'msg', exc)} (column {getattr(exc, 'colno', '?')})"))
                continue
            problems += [(n, p) for p in validate_row(row, mode=mode, media=media, ontology=onto, masks=masks)]
            if not isinstance(row, Mapping):
                continue
            kind = row_kind(row)
            if kind is not None and media is None:
                shape = _shape(row, kind)
                held.append((n, shape))
                if shape[1] is not None:
                    votes.setdefault(shape[1], n)
            dr = repr(row.get("dataRow"))
            if "uuid" in row:
                first = uuids.setdefault((dr, str(row["uuid"])), n)
                if first != n:
                    problems.append((n, f"uuid {row['uuid']} repeats line {first} on the same data row"))
            if kind is Kind.RELATIONSHIP and isinstance(row.get("relationship"), Mapping):
                relationships.append((n, dr, row["relationship"]))
            feature = str(row.get("name", row.get("schemaId")))
            per_name[(dr, feature)] += 1
            if per_name[(dr, feature)] == PER_ROW_LIMIT + 1:
                problems.append((n, f"more than {PER_ROW_LIMIT} annotations of {feature!r} on one data row"))
    inferred = media is None
    if media is None:
        if len(votes) > 1:
            seen = ", ".join(f"{m.value} (line {line})" for m, line in sorted(votes.items(), key=lambda kv: kv[1]))
            raise InputError(
                f"{path}: rows of several media: {seen}; an import goes to one kind of data row "
                "(give --media to check every row against one)"
            )
        media = next(iter(votes), None)
        if media is not None:
            for n, shape in held:
                problems += [(n, p) for p in _media_problems(shape, media, mode)]
    for n, dr, rel in relationships:
        for end in ("source", "target"):
            if isinstance(rel.get(end), str) and (dr, rel[end]) not in uuids:
                problems.append((n, f"relationship {end} {rel[end]!r} is the uuid of no row on this data row"))
    problems.sort(key=lambda p: p[0])
    return ValidationResult(problems=problems, rows=rows, media=media, inferred=inferred)
