"""The ``index.html`` gallery of ``lbconvert preview``: one static page, no scripts, no server.

Per data row: a thumbnail linking to its full PNG, where the image came from (or that it
was drawn on a neutral canvas), rows per feature with the feature's colour, tags, notes, and
the report's skipped / changed entries for that data row with their reasons. Entries the
report could not tie to a data row (annotations a reader dropped before they reached an
asset) are listed once at the end, so nothing the report says is hidden.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any
from urllib.parse import quote

from ._preview_pages import Page, PreviewResult
from .output import write_text_atomic

__all__ = ["write_index"]

#: Dataset-level entries listed at most (the report file has them all).
MAX_LOOSE = 1000

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em}.legend span,.counts span{display:inline-block;margin:0 .8em .3em 0}
.sw{display:inline-block;width:.9em;height:.9em;vertical-align:-.1em;margin-right:.3em;border:1px solid #0003}
.card{border:1px solid #ddd;border-radius:6px;padding:.8em;margin:0 0 1em 0;display:flex;gap:1em}
.card img{max-width:256px;border:1px solid #ccc}.meta{flex:1;min-width:0}.key{font-weight:600;word-break:break-all}
.note{color:#8a5a00}table{border-collapse:collapse;margin-top:.4em}td,th{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}
.text{white-space:pre-wrap;border-left:3px solid #ddd;padding:.3em .6em;margin:.4em 0;max-height:24em;overflow:auto}
.skipped{background:#fde8e8}.changed{background:#fff6d6}
"""


def _swatch(colour: Any) -> str:
    if not colour:
        return ""
    r, g, b = colour
    return f'<span class="sw" style="background:rgb({r},{g},{b})"></span>'


def _where(e: Mapping[str, Any]) -> str:
    parts = [str(e.get("file", ""))]
    for key, label in (("line", "line "), ("element", ""), ("annotation_id", "annotation "), ("frame", "frame ")):
        if e.get(key) is not None:
            parts.append(f"{label}{e[key]}")
    return ", ".join(p for p in parts if p)


def _entries_table(entries: Any) -> str:
    if not entries:
        return ""
    rows = "".join(
        f'<tr class="{"skipped" if e.get("action") == "skipped" else "changed"}"><td>{escape(str(e.get("action", "")))}</td>'
        f"<td>{escape(str(e.get('kind', '')))}</td><td><code>{escape(str(e.get('code', '')))}</code></td>"
        f"<td>{escape(str(e.get('message', '')))}</td><td>{escape(_where(e))}</td></tr>"
        for e in entries
    )
    return f"<table><tr><th>action</th><th>kind</th><th>code</th><th>reason</th><th>where</th></tr>{rows}</table>"


#: Characters of a text shown in the gallery (the rest is cut, and the card says so).
MAX_TEXT = 20_000


def _highlighted(text: str, entities: Any, colours: Mapping[str, Any]) -> str:
    """The text with each entity's characters marked in its feature's colour; where entities
    overlap the later one's colour shows and the tooltip names them all."""
    shown = text[:MAX_TEXT]
    cover: list[list[str]] = [[] for _ in shown]
    for start, end, name in entities:
        for i in range(max(0, start), min(end + 1, len(shown))):
            cover[i].append(name)
    out, i = [], 0
    while i < len(shown):
        j = i
        while j < len(shown) and cover[j] == cover[i]:
            j += 1
        chunk = escape(shown[i:j])
        if cover[i]:
            r, g, b = colours.get(cover[i][-1]) or (255, 255, 0)
            title = escape(", ".join(cover[i]), quote=True)
            out.append(f'<mark style="background:rgba({r},{g},{b},.55)" title="{title}">{chunk}</mark>')
        else:
            out.append(chunk)
        i = j
    more = f' <span class="note">[{len(text) - MAX_TEXT} more characters not shown]</span>' if len(text) > MAX_TEXT else ""
    return f'<div class="text">{"".join(out)}{more}</div>'


def _card(page: Page, colours: Mapping[str, Any]) -> str:
    counts = "".join(
        f"<span>{_swatch(colours.get(name))}{escape(name)} &times;{n}</span>" for name, n in sorted(page.counts.items())
    )
    if page.image:
        source = f"image: <code>{escape(page.image)}</code>"
    elif page.size == (0, 0):
        source = "no geometry: entities and classifications listed"
    else:
        source = f'<span class="note">no image: drawn on a neutral {page.size[0]}&times;{page.size[1]} canvas</span>'

    tags = "".join(f"<div>tag: {escape(t)}</div>" for t in page.tags)
    notes = "".join(f'<div class="note">{escape(n)}</div>' for n in page.notes)
    not_drawn = "".join(f'<div class="note">not drawn: {escape(k)} &times;{n}</div>' for k, n in sorted(page.not_drawn.items()))
    changed = f"<div>{page.changed_rows} rows changed by the conversion (outlined dashed)</div>" if page.changed_rows else ""
    text = _highlighted(page.text, page.entities, colours) if page.text is not None else ""
    if page.tracks:
        text += f'<div><a href="{quote(page.tracks)}">keyframes of each track</a></div>'
    href = quote(page.png)
    return (
        f'<div class="card" id="{escape(page.key, quote=True)}"><a href="{href}"><img src="{quote(page.thumbnail)}" '
        f'alt="{escape(page.key, quote=True)}"></a><div class="meta"><div class="key">{escape(page.key)}</div>'
        f"<div>{source}</div><div class=\"counts\">{counts}</div>{tags}{changed}{notes}{not_drawn}"
        f"{text}{_entries_table(page.entries)}</div></div>"
    )


def write_index(result: PreviewResult) -> None:
    """Write ``index.html`` for a preview (atomically)."""
    pages = result.pages
    legend = "".join(f"<span>{_swatch(c)}{escape(name)}</span>" for name, c in result.colours.items())
    head = (
        f"<p>{len(pages)} of {result.data_rows} data rows drawn"
        f" ({sum(1 for p in pages if p.image is None)} without an image)."
        + (f" Report: <code>{escape(str(result.report))}</code>." if result.report else " No report given.")
        + " Boxes, polygons, lines and points are outlined in their feature's colour; masks are tinted;"
        " rows the report lists as changed are outlined dashed.</p>"
    )
    loose = result.unattributed
    loose_html = ""
    if loose:
        more = f"<p>{len(loose) - MAX_LOOSE} more in the report file.</p>" if len(loose) > MAX_LOOSE else ""
        loose_html = (
            f"<h2>Entries not tied to a data row ({len(loose)})</h2>"
            "<p>Annotations a reader dropped or changed before they reached a data row.</p>"
            f"{_entries_table(loose[:MAX_LOOSE])}{more}"
        )
    body = "".join(_card(p, result.colours) for p in pages)
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>lbconvert preview</title><style>{_CSS}</style></head><body>"
        f'<h1>lbconvert preview</h1>{head}<div class="legend">{legend}</div>{body}{loose_html}</body></html>\n'
    )
    write_text_atomic(result.index, html)
