"""The import matrix: a few cells of each kind, both modes."""

from __future__ import annotations

import pytest

from converters.matrix import MATRIX, PRODUCED, Mode, why_not
from converters.model import Kind, Media

P, G = Mode.PRELABEL, Mode.GROUND_TRUTH


@pytest.mark.parametrize(
    ("kind", "media", "prelabel", "ground_truth"),
    [
        (Kind.BBOX, Media.IMAGE, True, True),
        (Kind.POLYGON, Media.VIDEO, False, False),
        (Kind.POLYLINE, Media.VIDEO, False, True),
        (Kind.MASK, Media.VIDEO, False, True),
        (Kind.MASK, Media.GEOSPATIAL, False, False),
        (Kind.ENTITY, Media.TEXT, True, True),
        (Kind.ENTITY, Media.CONVERSATIONAL, False, True),
        (Kind.ENTITY, Media.DOCUMENT, False, True),
        (Kind.TEXT, Media.VIDEO, False, False),
        (Kind.RADIO, Media.AUDIO, True, True),
        (Kind.RELATIONSHIP, Media.IMAGE, False, False),
        (Kind.POLYLINE, Media.DICOM, True, True),
    ],
)
def test_cells(kind, media, prelabel, ground_truth) -> None:
    """What Labelbox accepts (the first column), per mode."""

    def accepts(mode: Mode) -> bool:
        return MATRIX[kind][media] == "P" or (MATRIX[kind][media] == "GT" and mode is G)

    assert accepts(P) is prelabel
    assert accepts(G) is ground_truth


def test_produced_is_within_what_labelbox_accepts() -> None:
    for kind, media in PRODUCED:
        assert MATRIX[kind][media] in ("P", "GT"), (kind, media)


@pytest.mark.parametrize(
    ("kind", "media"),
    [(Kind.MASK, Media.VIDEO), (Kind.POLYGON, Media.VIDEO)],
)
def test_accepted_but_not_produced_is_refused_with_a_reason(kind, media) -> None:
    reason = why_not(kind, media, G)
    if MATRIX[kind][media] in ("P", "GT"):
        assert reason is not None and reason[0] == "not-produced" and media.value in reason[1]
    else:
        assert reason is not None and reason[0] == "not-importable"


def test_every_cell_is_known() -> None:
    assert set(MATRIX) == set(Kind)
    for row in MATRIX.values():
        assert set(row) == set(Media)
        assert set(row.values()) <= {"P", "GT", "-", "n/a"}


def test_reasons() -> None:
    assert why_not(Kind.POLYLINE, Media.VIDEO, P)[0] == "ground-truth-only"
    assert why_not(Kind.POLYGON, Media.VIDEO, G)[0] == "not-importable"
    assert why_not(Kind.BBOX, Media.TEXT, G)[0] == "not-applicable"
    assert why_not(Kind.BBOX, Media.IMAGE, P) is None
