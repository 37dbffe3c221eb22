"""DocBins read one document at a time give what spaCy's own ``DocBin.get_docs`` gives.

Differential: each DocBin is read by spaCy (``DocBin.from_bytes`` + ``get_docs``) and by the
streamed reader; every document must come out the same (text, spans, cats, user data).
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import pytest

from converters.errors import ParseError
from converters.readers.spacy import _docbin
from converters.readers.spacy._docbin_stream import _Cursor

pytestmark = pytest.mark.spacy


def _spacy_docs(path: Path) -> list[Any]:
    from spacy.tokens import DocBin
    from spacy.vocab import Vocab

    db = DocBin(store_user_data=True).from_bytes(path.read_bytes())
    return [_docbin._raw_doc(i, d) for i, d in enumerate(db.get_docs(Vocab()))]


def _ours(path: Path) -> tuple[list[dict[str, float]], list[Any]]:
    cats, docs = _docbin.open_docbin(path)
    return cats, list(docs)


def _make(tmp_path: Path, case: str) -> Path:
    spacy = pytest.importorskip("spacy")
    from spacy.tokens import Doc, DocBin, Span

    nlp = spacy.blank("en")
    docs = []
    if case == "entities and span groups":
        for i in range(30):
            doc = nlp(f"Ada Lovelace wrote {i} notes in London")
            doc.ents = [Span(doc, 0, 2, label="PERSON", kb_id="Q7259"), Span(doc, 6, 7, label="GPE")]
            doc.spans["sc"] = [Span(doc, 0, 1, label="FIRST"), Span(doc, 3, 4, label="NUM")]
            doc.spans["sc"].attrs["scores"] = [0.25, 0.75]
            doc.cats = {"POS": 0.9, "NEG": 0.1}
            doc.user_data["global_key"] = f"doc-{i}"
            docs.append(doc)
    elif case == "unknown spaces and empty docs":
        docs = [Doc(nlp.vocab, words=["a", "b", "c"]), nlp(""), Doc(nlp.vocab, words=["x"], spaces=[False]),
                nlp("Ünïcode naïve café — 東京")]
    elif case == "no user data":
        docs = [nlp("one two"), nlp("three")]
        db = DocBin(store_user_data=False, docs=docs)
        path = tmp_path / "no-user.spacy"
        db.to_disk(path)
        return path
    elif case == "many documents":
        docs = [nlp(" ".join(f"w{j}" for j in range(i % 40))) for i in range(2500)]
        for d in docs[::7]:
            if len(d) > 2:
                d.ents = [Span(d, 1, 2, label="X")]
    db = DocBin(store_user_data=True, docs=docs)
    path = tmp_path / f"{case.replace(' ', '-')}.spacy"
    db.to_disk(path)
    return path


@pytest.mark.parametrize("case", ["entities and span groups", "unknown spaces and empty docs", "no user data",
                                  "many documents"])
def test_streamed_docbin_equals_spacys_own_reading(tmp_path: Path, case: str) -> None:
    path = _make(tmp_path, case)
    cats, docs = _ours(path)
    theirs = _spacy_docs(path)
    assert docs == theirs
    assert cats == [d.cats for d in theirs]
    assert len(docs) > 0


def test_a_truncated_docbin_is_one_parse_error(tmp_path: Path) -> None:
    path = _make(tmp_path, "entities and span groups")
    data = path.read_bytes()
    cut = tmp_path / "cut.spacy"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ParseError, match=r"cut.spacy.*(not a readable spaCy DocBin file|cannot rebuild)") as info:
        _ours(cut)
    assert "\n" not in str(info.value)


def test_a_docbin_whose_lengths_exceed_its_tokens_is_refused(tmp_path: Path) -> None:
    """``lengths`` claiming more tokens than ``tokens`` holds: a parse error naming the doc."""
    srsly = pytest.importorskip("srsly")

    path = _make(tmp_path, "no user data")
    msg = srsly.msgpack_loads(zlib.decompress(path.read_bytes()))
    msg["lengths"] = (b"\xff\x00\x00\x00") * 2
    bad = tmp_path / "bad.spacy"
    bad.write_bytes(zlib.compress(srsly.msgpack_dumps(msg)))
    with pytest.raises(ParseError, match=r"bad.spacy.*doc 0.*shorter than the lengths"):
        _ours(bad)


def test_the_cursor_keeps_memory_to_a_few_steps(tmp_path: Path) -> None:
    """Skipping through 40 MiB of payload never holds more than about two 1 MiB steps."""
    path = tmp_path / "zeros.z"
    path.write_bytes(zlib.compress(b"\x00" * (40 << 20)))
    cur = _Cursor(path, 1 << 30)
    try:
        biggest = 0
        for _ in range(40):
            cur.skip(1 << 20)
            biggest = max(biggest, len(cur.buf))
        assert cur.pos == 40 << 20 and biggest <= 3 << 20
    finally:
        cur.close()


def test_the_cursor_stops_at_the_inflate_limit(tmp_path: Path) -> None:
    from converters.readers.spacy._docbin_stream import DocBinError

    path = tmp_path / "zeros.z"
    path.write_bytes(zlib.compress(b"\x00" * (8 << 20)))
    cur = _Cursor(path, 4 << 20)
    try:
        with pytest.raises(DocBinError, match="inflates beyond"):
            cur.skip(8 << 20)
    finally:
        cur.close()
