"""The add-on's schemas (specs/) applied to every exchange the emulator saw."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from lxml import etree

SPECS = Path(__file__).resolve().parent.parent / "specs"
SOAP = "{http://schemas.xmlsoap.org/soap/envelope/}"


@lru_cache
def schema(name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SPECS / name)))


def soap_payload(raw: bytes) -> etree._Element:
    root = etree.fromstring(raw)
    assert root.tag == f"{SOAP}Envelope", root.tag
    body = root.find(f"{SOAP}Body")
    assert body is not None and len(body) == 1
    return body[0]


def validate(name: str, element: etree._Element) -> None:
    xsd = schema(name)
    if not xsd.validate(element):
        raise AssertionError(f"{name}: {xsd.error_log.last_error} in {etree.tostring(element)[:600]!r}")


FILES = {"/shipping-cxf/ShippingServiceWS": "chronopost-shipping.xsd",
         "/tracking-cxf/TrackingServiceWS": "chronopost-tracking.xsd",
         "/quickcost-cxf/QuickcostServiceWS": "chronopost-quickcost.xsd",
         "/recherchebt-ws-cxf/PointRelaisServiceWS": "chronopost-pointrelais.xsd"}


def check_exchanges(exchanges: list[tuple[str, bytes, bytes]]) -> int:
    """Every request and answer against its XSD (a SOAP fault is checked as an envelope only)."""
    count = 0
    for path, request, answer in exchanges:
        name = FILES[path]
        validate(name, soap_payload(request))
        payload = soap_payload(answer)
        if payload.tag != f"{SOAP}Fault":
            validate(name, payload)
        count += 1
    return count
