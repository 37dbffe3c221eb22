"""A conversational data row: an entity inside a message, classifications of one message and
of the whole conversation. Labelbox imports these as ground truth only (``--mode prelabel``
writes no rows and the report says why)."""

from __future__ import annotations

import sys

from _common import run

from converters import Annotation, Asset, Classification, Entity, Media, SourceRef

SRC = SourceRef(file="chats.jsonl")

CHAT = Asset(
    name="chat-0311.json",
    media=Media.CONVERSATIONAL,
    source=SRC,
    annotations=(
        Annotation(key="e1", source=SRC, label="product", shape=Entity(start=10, end=18, message_id="msg-2")),
        Annotation(key="intent", source=SRC,
                   classification=Classification.radio("intent", "complaint", message_id="msg-2")),
        Annotation(key="tone", source=SRC,
                   classification=Classification.checklist("tone", ["polite", "urgent"], message_id="msg-3")),
        Annotation(key="reply", source=SRC,
                   classification=Classification.free_text("reply note", "escalate", message_id="msg-3")),
        Annotation(key="resolved", source=SRC, classification=Classification.radio("resolved", "no")),
        Annotation(key="labels", source=SRC, classification=Classification.checklist("labels", ["support"])),
        Annotation(key="summary", source=SRC, classification=Classification.free_text("summary", "late parcel")),
    ),
)

if __name__ == "__main__":
    sys.exit(run([CHAT], sys.argv[1:], "conversational"))
