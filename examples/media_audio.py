"""An audio data row: global classifications, and temporal ones over millisecond ranges
(who speaks when, a transcript of one stretch). Audio has no tools."""

from __future__ import annotations

import sys

from _common import run

from converters import Annotation, Asset, Classification, Media, SourceRef

SRC = SourceRef(file="calls.csv")

CALL = Asset(
    name="call-0007.mp3",
    media=Media.AUDIO,
    source=SRC,
    annotations=(
        Annotation(key="lang", source=SRC, classification=Classification.radio("language", "en")),
        Annotation(key="topics", source=SRC, classification=Classification.checklist("topics", ["billing", "refund"])),
        Annotation(key="summary", source=SRC, classification=Classification.free_text("summary", "refund granted")),
        Annotation(key="spk1", source=SRC,
                   classification=Classification.radio("speaker", "agent", times_ms=((0, 4200), (9000, 12500)))),
        Annotation(key="noise", source=SRC,
                   classification=Classification.checklist("noise", ["music", "static"], times_ms=((4200, 9000),))),
        Annotation(key="tr1", source=SRC,
                   classification=Classification.free_text("transcript", "How can I help?", times_ms=((0, 1800),))),
    ),
)

if __name__ == "__main__":
    sys.exit(run([CALL], sys.argv[1:], "audio"))
