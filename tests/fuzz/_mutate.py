"""Mutations of real fixture files, as Hypothesis draws.

A mutation takes the original bytes of one file and returns broken bytes. The kinds the
issue names: byte flips, truncation, inserted garbage, deleted fields, swapped types,
extreme numbers and duplicated elements. Structural mutations parse the file the way its
format is written (JSON, JSONL, XML, YAML / text lines, a DocBin's msgpack) so the broken
file is still close enough to the real thing to reach deep into the reader.
"""

from __future__ import annotations

import copy
import json
import zlib
from typing import Any

from hypothesis import strategies as st

#: Values that break assumptions: wrong types, empty, huge, negative, non-finite, deep.
EXTREMES: list[Any] = [
    None, True, False, 0, -1, 1, 2**31, 2**63, -(2**63), 10**40, int("9" * 400), 1e308, -1e308,
    0.5, -0.0, float("nan"), float("inf"), "", " ", "x" * 5000, "\u0000", "../../etc/passwd", "/abs/path.jpg",
    "a\nb", "\u202e", [], {}, [[]], [0, 0, 0, 0], {"size": [1, 1], "counts": "0"}, [None], [[1e308, 1e308]],
]

#: The same as text, for XML attributes and text lines.
TEXT_EXTREMES = [
    "", " ", "-1", "0", "1e400", "-1e400", "nan", "inf", "9" * 400, "2147483648", "1.5", "abc", "\u00e9", "\u0000",
    "x" * 5000, "../../../etc/passwd", "/abs/file.png", "0,1", "1;2", "a\nb", "-0", "1e-400", "0x10", "true",
]


def _nodes(tree: Any, limit: int = 4000) -> list[tuple[Any, Any]]:
    """(container, key) of every value in a JSON-like tree, breadth first, up to ``limit``."""
    out: list[tuple[Any, Any]] = []
    queue = [tree]
    while queue and len(out) < limit:
        node = queue.pop(0)
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            out.append((node, key))
            if isinstance(value, (dict, list)):
                queue.append(value)
    return out


def mutate_tree(data: st.DataObject, tree: Any) -> Any:
    """Delete a field, swap a value for an extreme one, duplicate or reorder a list element."""
    tree = copy.deepcopy(tree)
    for _ in range(data.draw(st.integers(1, 3), label="edits")):
        nodes = _nodes(tree)
        if not nodes:
            return data.draw(st.sampled_from(EXTREMES), label="whole")
        container, key = nodes[data.draw(st.integers(0, len(nodes) - 1), label="node")]
        op = data.draw(st.sampled_from(["delete", "extreme", "duplicate", "swap-type", "nest"]), label="op")
        value = container[key]
        if op == "delete":
            del container[key]
        elif op == "extreme":
            container[key] = copy.deepcopy(data.draw(st.sampled_from(EXTREMES), label="value"))
        elif op == "duplicate" and isinstance(container, list):
            container.insert(key, copy.deepcopy(value))
        elif op == "duplicate" and isinstance(value, (dict, list)) and isinstance(container, dict):
            container[key] = [copy.deepcopy(value), copy.deepcopy(value)] if isinstance(value, dict) else value + value
        elif op == "swap-type":
            swaps = {str: 7, int: "7", float: str(value), bool: "true", list: {"0": value}, dict: list(value.values()) if isinstance(value, dict) else []}
            container[key] = swaps.get(type(value), "x")
        else:  # nest
            container[key] = [value]
    return tree


def _json_text(tree: Any) -> bytes:
    return json.dumps(tree, ensure_ascii=False).encode("utf-8", "surrogatepass")


@st.composite
def bytes_mutation(draw: st.DrawFn, original: bytes) -> bytes:
    """Flip bytes, truncate, insert garbage or delete a range."""
    if not original:
        return draw(st.binary(max_size=64))
    op = draw(st.sampled_from(["flip", "truncate", "insert", "delete"]))
    buf = bytearray(original)
    n = len(buf)
    if op == "flip":
        for _ in range(draw(st.integers(1, 8))):
            buf[draw(st.integers(0, n - 1))] = draw(st.integers(0, 255))
    elif op == "truncate":
        del buf[draw(st.integers(0, n - 1)):]
    elif op == "insert":
        at = draw(st.integers(0, n))
        buf[at:at] = draw(st.sampled_from([b"\x00", b"\xff\xfe", b"{", b"<", b"]]>", b"\n", b"9" * 400, b"&x;", b"\xc3("]))
    else:
        at = draw(st.integers(0, n - 1))
        del buf[at : at + draw(st.integers(1, 64))]
    return bytes(buf)


def _xml_mutation(data: st.DataObject, original: bytes) -> bytes:
    from lxml import etree

    try:
        root = etree.fromstring(original, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return original
    elems = [e for e in root.iter() if isinstance(e.tag, str)][:4000]
    for _ in range(data.draw(st.integers(1, 3), label="edits")):
        elem = elems[data.draw(st.integers(0, len(elems) - 1), label="element")]
        op = data.draw(st.sampled_from(["delete", "duplicate", "attribute", "drop-attribute", "text"]), label="op")
        parent = elem.getparent()
        if op == "delete" and parent is not None:
            parent.remove(elem)
            elems = [e for e in root.iter() if isinstance(e.tag, str)][:4000]
        elif op == "duplicate" and parent is not None:
            parent.insert(parent.index(elem), copy.deepcopy(elem))
        elif op == "attribute" and elem.attrib:
            name = data.draw(st.sampled_from(sorted(elem.attrib)), label="name")
            elem.set(name, data.draw(st.sampled_from(TEXT_EXTREMES), label="value").replace("\u0000", "\ufffd"))
        elif op == "drop-attribute" and elem.attrib:
            del elem.attrib[data.draw(st.sampled_from(sorted(elem.attrib)), label="name")]
        elif op == "text":
            elem.text = data.draw(st.sampled_from(TEXT_EXTREMES), label="text").replace("\u0000", "\ufffd")
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def _line_mutation(data: st.DataObject, original: bytes) -> bytes:
    lines = original.decode("utf-8", "replace").splitlines() or [""]
    for _ in range(data.draw(st.integers(1, 3), label="edits")):
        i = data.draw(st.integers(0, len(lines) - 1), label="line")
        op = data.draw(st.sampled_from(["delete", "duplicate", "token", "append-token", "drop-token"]), label="op")
        tokens = lines[i].split(" ")
        if op == "delete" and len(lines) > 1:
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "token":
            tokens[data.draw(st.integers(0, len(tokens) - 1), label="at")] = data.draw(st.sampled_from(TEXT_EXTREMES))
            lines[i] = " ".join(tokens)
        elif op == "append-token":
            lines[i] = " ".join([*tokens, data.draw(st.sampled_from(TEXT_EXTREMES))])
        elif len(tokens) > 1:
            del tokens[data.draw(st.integers(0, len(tokens) - 1), label="at")]
            lines[i] = " ".join(tokens)
    return ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")


def _jsonl_mutation(data: st.DataObject, original: bytes) -> bytes:
    lines = [ln for ln in original.split(b"\n") if ln.strip()][:200]  # long files: their head
    if not lines:
        return original
    i = data.draw(st.integers(0, len(lines) - 1), label="record")
    op = data.draw(st.sampled_from(["record", "duplicate", "delete"]), label="op")
    if op == "duplicate":
        lines.insert(i, lines[i])
    elif op == "delete" and len(lines) > 1:
        del lines[i]
    else:
        try:
            record = json.loads(lines[i])
        except ValueError:
            return original
        lines[i] = _json_text(mutate_tree(data, record))
    return b"\n".join(lines) + b"\n"


def _docbin_mutation(data: st.DataObject, original: bytes) -> bytes:
    payload = zlib.decompress(original)
    try:
        import srsly  # spaCy's serialiser (bundles msgpack); absent without the spacy extra
    except ImportError:
        srsly = None
    if srsly is not None and data.draw(st.booleans(), label="structural"):
        tree = srsly.msgpack_loads(payload)
        try:
            return zlib.compress(srsly.msgpack_dumps(mutate_tree(data, tree)))
        except (OverflowError, TypeError, ValueError):
            pass  # msgpack cannot hold the value drawn (a 400-digit int): break the bytes instead
    return zlib.compress(data.draw(bytes_mutation(payload), label="payload bytes"))


def mutate(data: st.DataObject, original: bytes, kind: str) -> bytes:
    """A broken version of ``original`` (a file of ``kind``: json, jsonl, xml, lines, png, docbin)."""
    structural = kind != "png" and data.draw(st.integers(0, 3), label="structural?") > 0
    if not structural:
        return data.draw(bytes_mutation(original), label="bytes")
    if kind == "json":
        try:
            tree = json.loads(original.decode("utf-8-sig"))
        except ValueError:
            return original
        return _json_text(mutate_tree(data, tree))
    if kind == "jsonl":
        return _jsonl_mutation(data, original)
    if kind == "xml":
        return _xml_mutation(data, original)
    if kind == "docbin":
        return _docbin_mutation(data, original)
    return _line_mutation(data, original)
