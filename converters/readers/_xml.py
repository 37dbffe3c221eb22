"""One hardened XML parser for every XML reader (VOC, CVAT).

Annotation files are untrusted. The parser never resolves entities, never loads a DTD,
never touches the network and keeps lxml's huge-tree limits on; a document that declares
entities at all (XXE, billion laughs) is refused with :class:`UnsafeInputError` before any
of its content is used. Helpers raise :class:`ParseError` naming the file and the line.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

from lxml import etree

from ..errors import MissingFieldError, ParseError, SourceNotFoundError, UnsafeInputError

__all__ = ["child_text", "iterparse_xml", "location", "parse_xml", "require_child"]


#: The settings of every parse, whole-file or streamed: no entities, no DTD, no network,
#: lxml's huge-tree limits kept, comments and processing instructions dropped.
_SAFE = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
}


def _parser() -> etree.XMLParser:
    return etree.XMLParser(dtd_validation=False, **_SAFE)


def _refuse_entities(path: Path, docinfo: etree.DocInfo) -> None:
    dtd = docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise UnsafeInputError(path, "XML declares entities; refused (entity expansion is off)")
    if docinfo.system_url or docinfo.public_id:
        raise UnsafeInputError(path, "XML names an external DTD; refused (no network, no DTDs)")


def parse_xml(path: Path) -> etree._ElementTree:
    """Parse a whole XML file safely.

    Raises:
        SourceNotFoundError: the file does not exist.
        UnsafeInputError: the document declares entities or an external DTD.
        ParseError: the XML is malformed (with the line lxml reports).
    """
    if not path.is_file():
        raise SourceNotFoundError(path)
    try:
        tree = etree.parse(str(path), _parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if getattr(exc, "lineno", None) else None
        msg = exc.msg if getattr(exc, "msg", None) else str(exc)
        if "entity" in msg.lower() or "Entity" in msg:
            raise UnsafeInputError(path, f"XML entity refused: {msg}", location=_line(line)) from exc
        raise ParseError(path, f"malformed XML: {msg}", location=_line(line)) from exc
    except OSError as exc:  # lxml reports a bad encoding as an OSError naming the file
        raise ParseError(path, f"unreadable XML: {_reason(exc, path)}", location=_bad_byte(path)) from None
    _refuse_entities(path, tree.docinfo)
    return tree


def iterparse_xml(path: Path, *, tags: tuple[str, ...]) -> Generator[etree._Element, None, None]:
    """Stream the elements named ``tags`` (on their end event), freeing each after use.

    For exports too large to hold as a tree. The same safety rules as :func:`parse_xml`;
    the caller must not keep references to yielded elements' siblings.
    """
    if not path.is_file():
        raise SourceNotFoundError(path)
    checked = False
    # Open the file ourselves: lxml only closes a file it opened when parsing finishes, so a
    # caller that stops early would leave it to the garbage collector (a ResourceWarning).
    with open(path, "rb") as fh:
        try:
            context = etree.iterparse(fh, events=("end",), tag=tags, **_SAFE)
            for _event, elem in context:
                if not checked:
                    _refuse_entities(path, elem.getroottree().docinfo)
                    checked = True
                yield elem
                parent = elem.getparent()
                elem.clear(keep_tail=False)
                if parent is not None:
                    while elem.getprevious() is not None:
                        del parent[0]
        except etree.XMLSyntaxError as exc:
            line = exc.lineno if getattr(exc, "lineno", None) else None
            msg = exc.msg if getattr(exc, "msg", None) else str(exc)
            raise ParseError(path, f"malformed XML: {msg}", location=_line(line)) from exc
        except OSError as exc:
            raise ParseError(path, f"unreadable XML: {_reason(exc, path)}", location=_bad_byte(path)) from None


def _bad_byte(path: Path) -> str | None:
    """``line N, byte B`` of the first byte that is not UTF-8 (lxml's encoding error names
    no place), or None when the file is UTF-8 (then lxml's reason is all there is)."""
    try:
        data = path.read_bytes()
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return f"line {line}, byte {exc.start}"
    except OSError:
        return None
    return None


def _reason(exc: OSError, path: Path) -> str:
    """lxml's OSError text without the ``Error reading file '<path>':`` prefix it repeats."""
    text = str(exc)
    prefix = f"Error reading file '{path}': "
    return text[len(prefix):] if text.startswith(prefix) else text


def _line(line: int | None) -> str | None:
    return f"line {line}" if line else None


def location(elem: etree._Element) -> str:
    """``line 12, <object>`` for an element, for error messages and report entries."""
    line = elem.sourceline
    tag = elem.tag if isinstance(elem.tag, str) else "?"
    return f"line {line}, <{tag}>" if line else f"<{tag}>"


def require_child(elem: etree._Element, name: str, path: Path) -> etree._Element:
    """The child element ``name``, or a MissingFieldError naming the parent's line."""
    child = elem.find(name)
    if child is None:
        raise MissingFieldError(path, f"<{name}>", location=location(elem))
    return child


def child_text(
    elem: etree._Element, name: str, path: Path, *, default: str | None = None
) -> str | None:
    """Stripped text of the child ``name``; ``default`` when absent or empty."""
    child = elem.find(name)
    if child is None or child.text is None or not child.text.strip():
        return default
    return str(child.text).strip()
