"""A PDF data row: a box on page 1, an entity over text-layer tokens, global classifications.

Document entities are token ids of the data row's text layer (``media_attributes.
text_layer_url`` in a Labelbox export), so a real script reads them from there; the ids
below stand in for them. Entities import as ground truth only (the report says so for
``--mode prelabel``).
"""

from __future__ import annotations

import sys

from _common import run

from converters import (
    Annotation,
    Asset,
    Classification,
    DocumentEntity,
    Media,
    PageBox,
    SourceRef,
    TextSelection,
    Unit,
)

SRC = SourceRef(file="invoices.db")

PAPER = Asset(
    name="invoice-0042.pdf",
    media=Media.DOCUMENT,
    source=SRC,
    annotations=(
        Annotation(key="total-box", source=SRC, label="total",
                   shape=PageBox(x_min=102.8, y_min=135.3, x_max=518.6, y_max=245.1, page=1, unit=Unit.POINTS),
                   classifications=(Classification.radio("legible", "yes"),)),
        Annotation(key="vendor", source=SRC, label="vendor",
                   shape=DocumentEntity(selections=(
                       TextSelection(token_ids=("tok-17", "tok-18"), group_id="grp-3", page=1),
                       TextSelection(token_ids=("tok-90",), group_id="grp-9", page=2),
                   ))),
        Annotation(key="type", source=SRC, classification=Classification.radio("document type", "invoice")),
        Annotation(key="flags", source=SRC, classification=Classification.checklist("flags", ["paid", "stamped"])),
        Annotation(key="note", source=SRC, classification=Classification.free_text("note", "scanned copy")),
    ),
)

if __name__ == "__main__":
    sys.exit(run([PAPER], sys.argv[1:], "document"))
