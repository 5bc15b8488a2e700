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


def check_exchanges(exchanges: list[tuple[str, bytes, bytes]]) -> int:
    """Every request and answer against its XSD; the number checked."""
    count = 0
    for path, request, answer in exchanges:
        if path == "/Web_Services.asmx":
            validate("mondialrelay-api1.xsd", soap_payload(request))
            validate("mondialrelay-api1.xsd", soap_payload(answer))
        else:
            validate("mondialrelay-api2-request.xsd", etree.fromstring(request))
            validate("mondialrelay-api2-response.xsd", etree.fromstring(answer))
        count += 1
    return count
