"""The webservice's XML: ``<prestashop xmlns:xlink=…><resource>…</resource></prestashop>``, each
field an element (``<![CDATA[…]]>`` text, ``<language id="1">`` for translated fields,
``<associations>`` for lists). Plain dicts both ways; no I/O."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

XLINK = "http://www.w3.org/1999/xlink"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _fill(parent: ET.Element, data: dict[str, Any]) -> None:
    for key, value in data.items():
        child = ET.SubElement(parent, key)
        if isinstance(value, dict):
            _fill(child, value)
        elif isinstance(value, list):  # associations: <order_rows><order_row>…</order_row></order_rows>
            item = key[:-1] if key.endswith("s") else key
            for entry in value:
                _fill(ET.SubElement(child, item), entry)
        else:
            child.text = _text(value)


def dumps(resource: str, data: dict[str, Any]) -> bytes:
    """``{"id": 3, "tracking_number": "6A1"}`` as the webservice's XML body of ``resource``."""
    root = ET.Element("prestashop", {"xmlns:xlink": XLINK})
    _fill(ET.SubElement(root, resource), data)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8")


def _read(el: ET.Element) -> Any:
    children = list(el)
    if not children:
        return (el.text or "").strip()
    if all(c.tag == "language" for c in children):
        return {c.get("id", ""): (c.text or "").strip() for c in children}
    tags = [c.tag for c in children]
    if len(children) > 1 and len(set(tags)) == 1 and el.tag.endswith("s") and el.tag[:-1] == tags[0]:
        return [_read(c) for c in children]
    if el.tag.endswith("s") and len(children) == 1 and el.tag[:-1] == tags[0]:
        return [_read(children[0])]
    return {c.tag: _read(c) for c in children}


def loads(body: bytes) -> tuple[str, dict[str, Any]]:
    """(resource name, fields) of a webservice XML body."""
    root = ET.fromstring(body)
    if root.tag != "prestashop" or len(root) != 1:
        raise ValueError("not a webservice body")
    node = root[0]
    value = _read(node)
    return node.tag, value if isinstance(value, dict) else {}


def errors(body: bytes) -> list[dict[str, str]]:
    """``<errors><error><code/><message/></error></errors>``."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return []
    return [{"code": (e.findtext("code") or "").strip(), "message": (e.findtext("message") or "").strip()}
            for e in root.iter("error")]
