"""The XML of the Fnac Darty Marketplace API ("mp-dialog"), both ways: request documents
built, answers read. No I/O here.

Facts (official XSDs of ``FnacMarketplace/fnacapiclient``, API 2.6, kept in
``shared/specs/fnac``): every element lives in the namespace
``http://www.fnac.com/schemas/mp-dialog.xsd``; a request's root element is named after its
service (``orders_query``...), carries ``partner_id``, ``shop_id`` and ``token`` as attributes
(``base.xsd``, ``request_header``), except ``auth`` whose three values are child elements; an
answer's root is ``<service>_response`` with a required ``status`` (``OK``, ``WARNING``,
``ERROR``, ``FATAL``; ``ACTIVE``/``RUNNING`` for a batch still in progress) and ``<error
code=… severity=…>`` children (``state.xsd``, type ``error``).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from xml.etree import ElementTree as ET

NS = "http://www.fnac.com/schemas/mp-dialog.xsd"
_Q = "{" + NS + "}"


class XmlRefused(ValueError):
    """A body that is not the API's XML (not XML at all, or with a DTD, which the API never sends)."""


def element(tag: str, text: Any = None, children: Iterable[ET.Element] = (), **attrs: Any) -> ET.Element:
    """One element without namespace (the root's default ``xmlns`` applies to all)."""
    el = ET.Element(tag, {k: str(v) for k, v in attrs.items() if v is not None})
    if text is not None:
        el.text = str(text)
    el.extend(list(children))
    return el


def document(root: ET.Element) -> bytes:
    """The request or answer body: UTF-8 XML, every element in the mp-dialog namespace."""
    root.set("xmlns", NS)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8", xml_declaration=False)


def parse(body: bytes) -> ET.Element:
    """The root element of an XML body; namespaces are removed from the tags."""
    head = body[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in body.lower():
        raise XmlRefused("a DTD or an entity declaration in the body")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise XmlRefused(str(exc)) from None
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.startswith(_Q):
            el.tag = el.tag[len(_Q):]
    return root


def text(el: ET.Element | None, path: str, default: str = "") -> str:
    if el is None:
        return default
    found = el.find(path)
    if found is None or found.text is None:
        return default
    return found.text.strip()


def iso(dt: datetime) -> str:
    """An xs:dateTime the API reads: UTC, seconds, explicit offset."""
    return dt.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def parse_datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    value = value.strip().replace("Z", "+00:00")
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Problem:
    """One ``<error>`` of an answer."""

    code: str
    severity: str
    message: str

    def __str__(self) -> str:
        return f"{self.code} : {self.message}" if self.code else self.message


def problems(el: ET.Element | None) -> list[Problem]:
    """The ``<error>`` children of an element (not of its descendants)."""
    if el is None:
        return []
    return [Problem(e.get("code") or "", e.get("severity") or "ERROR", (e.text or "").strip())
            for e in el.findall("error")]


#: answer statuses that mean the request (or that order, line, offer) failed
FAILED = frozenset({"ERROR", "FATAL"})
#: batch statuses while Fnac Darty is still processing the offers
IN_PROGRESS = frozenset({"ACTIVE", "RUNNING"})
