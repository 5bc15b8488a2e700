"""Pure mappings between the OMS and the MyDHL / Unified Tracking payloads (no I/O).

Sources: MyDHL API OpenAPI 3.1.1 (developer.dhl.com, "DHL Express APIs (MyDHL API)"): the
``supermodelIoLogisticsExpressCreateShipmentRequest`` / ``…RatesRequest`` / ``…PickupRequest``
schemas and their examples; Shipment Tracking – Unified 1.5.8 (developer.dhl.com
``api-reference/shipment-tracking``) for ``status.statusCode``. Field limits from the same
spec's examples: ``cityName`` ≤ 45, ``addressLine1..3`` ≤ 45, ``fullName`` ≤ 255, line-item
``description`` ≤ 75 (see ``specs/``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from core.models import ShipmentStatus
from core.types import Rate
from core.i18n import _

#: member states of the European Union customs territory (no declaration from FR)
EU = frozenset({"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
                "LT", "LU", "LV", "MC", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"})
#: global product codes (MyDHL ``productCode``) and what they promise
PRODUCTS: dict[str, tuple[str, str]] = {
    "N": ("DHL Express Domestic", "express"), "P": ("DHL Express Worldwide", "express"),
    "U": ("DHL Express Worldwide (UE)", "express"), "T": ("DHL Express 12:00", "express"),
    "K": ("DHL Express 9:00", "express"), "Y": ("DHL Express 12:00 (documents)", "express"),
    "W": ("DHL Economy Select", "standard"), "H": ("DHL Economy Select (UE)", "standard"),
    "D": ("DHL Express Worldwide (documents)", "express"),
}
LABEL_TEMPLATE = "ECOM26_84_001"
INVOICE_TEMPLATE = "COMMERCIAL_INVOICE_P_10"
#: paperless trade: the commercial invoice travels electronically with the shipment
PAPERLESS_TRADE = "WY"
#: Unified Tracking ``status.statusCode`` → OMS status (``pre-transit`` and ``unknown`` change nothing)
STATUS_CODES: dict[str, ShipmentStatus] = {
    "transit": ShipmentStatus.IN_TRANSIT, "delivered": ShipmentStatus.DELIVERED,
    "failure": ShipmentStatus.EXCEPTION,
}


class MissingData(ValueError):
    """The parcel cannot be sent as it is (address, customs data): a French message."""


def needs_customs(from_country: str, to_country: str) -> bool:
    a, b = from_country.upper(), to_country.upper()
    return a != b and not (a in EU and b in EU)


def kg(grams: int | float | Decimal) -> float:
    return float((Decimal(grams) / 1000).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP))


def money(value: Any) -> float:
    return float(Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def planned_time(day: date, at: time = time(16, 0)) -> str:
    """``2026-12-02T16:00:00 GMT+01:00``: the shipping date and time in MyDHL's own format
    (local time and its offset; the OMS ships from Paris, UTC+1 in winter, +2 in summer)."""
    offset = 2 if 3 < day.month < 11 else 1
    return f"{day.isoformat()}T{at.strftime('%H:%M:%S')} GMT+{offset:02d}:00"


def ship_day(now: datetime | None = None, cutoff: int = 16) -> date:
    """Today before the cut-off, else the next working day (no Sunday pickups)."""
    now = now or datetime.now(timezone.utc)
    day = now.date() if now.hour < cutoff else now.date() + timedelta(days=1)
    while day.weekday() == 6:
        day += timedelta(days=1)
    return day


def _cut(value: Any, size: int) -> str:
    return str(value or "").strip()[:size]


def party(address: dict[str, Any], *, who: str) -> dict[str, Any]:
    """``shipperDetails`` / ``receiverDetails`` from an OMS address
    (``name company line1 line2 postal_code city region country phone email``)."""
    missing = [label for key, label in (("name", "nom"), ("line1", "adresse"), ("city", "ville"),
                                        ("country", "pays")) if not address.get(key)]
    if missing:
        where = "de livraison" if who == "receiver" else "d'expédition"
        raise MissingData(_("Adresse %(where)s incomplète (%(items)s) : corrigez-la puis réessayez.",
                            where=where, items=', '.join(missing)))
    postal: dict[str, Any] = {"postalCode": _cut(address.get("postal_code"), 12),
                              "cityName": _cut(address["city"], 45),
                              "countryCode": str(address["country"]).upper()[:2],
                              "addressLine1": _cut(address["line1"], 45)}
    if address.get("line2"):
        postal["addressLine2"] = _cut(address["line2"], 45)
    if address.get("region"):
        postal["provinceCode"] = _cut(address["region"], 35)
    contact: dict[str, Any] = {"fullName": _cut(address["name"], 255),
                               "companyName": _cut(address.get("company") or address["name"], 100),
                               "phone": _cut(address.get("phone") or "0000000000", 70)}
    if address.get("email"):
        contact["email"] = _cut(address["email"], 70)
    return {"postalAddress": postal, "contactInformation": contact}


@dataclass(frozen=True)
class Item:
    sku: str
    description: str
    quantity: int
    unit_price: Decimal
    grams: int
    hs_code: str
    origin: str


def check_customs(items: list[Item]) -> None:
    gaps = []
    for it in items:
        missing = [name for name, ok in (("code SH", it.hs_code), ("pays d'origine", it.origin), ("poids", it.grams))
                   if not ok]
        if missing:
            gaps.append(f"{it.sku} ({', '.join(missing)})")
    if gaps:
        raise MissingData(_("Données douanières manquantes pour un envoi hors UE : %(items)s. Complétez la fiche "
                            "produit puis réessayez.", items='; '.join(gaps)))


def shipment_body(*, account: str, product: str, sender: dict[str, Any], receiver: dict[str, Any],
                  weight_grams: int, reference: str, order_number: str, currency: str, value: Decimal,
                  items: list[Item], day: date, paperless_trade: bool, invoice_number: str,
                  dimensions: tuple[int, int, int] = (30, 20, 10), description: str = "") -> dict[str, Any]:
    """``POST /shipments``: one piece, a PDF label (and, outside the EU, the customs
    declaration and the commercial invoice, sent electronically with paperless trade)."""
    customs = needs_customs(sender["country"], receiver["country"])
    length, width, height = dimensions
    body: dict[str, Any] = {
        "plannedShippingDateAndTime": planned_time(day),
        "pickup": {"isRequested": False},
        "productCode": product,
        "accounts": [{"typeCode": "shipper", "number": account}],
        "customerReferences": [{"value": reference, "typeCode": "CU"}],
        "outputImageProperties": {
            "printerDPI": 300, "encodingFormat": "pdf",
            "imageOptions": [{"typeCode": "label", "templateName": LABEL_TEMPLATE, "isRequested": True}],
            "splitTransportAndWaybillDocLabels": True, "allDocumentsInOneImage": False,
        },
        "customerDetails": {"shipperDetails": party(sender, who="shipper"),
                            "receiverDetails": party(receiver, who="receiver")},
        "content": {
            "packages": [{"weight": max(kg(weight_grams), 0.001),
                          "dimensions": {"length": length, "width": width, "height": height},
                          "customerReferences": [{"value": order_number[:35], "typeCode": "CU"}]}],
            "isCustomsDeclarable": customs,
            "description": _cut(description or f"Commande {order_number}", 70),
            "unitOfMeasurement": "metric",
        },
    }
    if customs:
        check_customs(items)
        body["content"].update({
            "declaredValue": money(value), "declaredValueCurrency": currency, "incoterm": "DAP",
            "exportDeclaration": {
                "lineItems": [{
                    "number": n, "description": _cut(it.description, 75), "price": money(it.unit_price),
                    "quantity": {"value": it.quantity, "unitOfMeasurement": "PCS"},
                    "commodityCodes": [{"typeCode": "outbound", "value": it.hs_code}],
                    "exportReasonType": "permanent", "manufacturerCountry": it.origin,
                    "weight": {"netValue": max(kg(it.grams), 0.001), "grossValue": max(kg(it.grams), 0.001)},
                } for n, it in enumerate(items, start=1)],
                "invoice": {"number": _cut(invoice_number, 35), "date": day.isoformat()},
                "exportReason": "sale", "placeOfIncoterm": _cut(receiver["city"], 256),
            },
        })
        body["outputImageProperties"]["imageOptions"].append(
            {"typeCode": "invoice", "templateName": INVOICE_TEMPLATE, "isRequested": True,
             "invoiceType": "commercial"})
        if paperless_trade:
            body["valueAddedServices"] = [{"serviceCode": PAPERLESS_TRADE}]
    return body


def rates_body(*, account: str, sender: dict[str, Any], receiver: dict[str, Any], parcels: list[dict[str, Any]],
               day: date) -> dict[str, Any]:
    """``POST /rates`` for the parcels (weights in grams, dimensions in cm when known)."""
    packages = []
    for p in parcels or [{"weight_grams": 1000}]:
        packages.append({"weight": max(kg(int(p.get("weight_grams") or 1000)), 0.001),
                         "dimensions": {"length": int(p.get("length_cm") or 30), "width": int(p.get("width_cm") or 20),
                                        "height": int(p.get("height_cm") or 10)}})
    return {
        "customerDetails": {
            "shipperDetails": {"postalCode": _cut(sender.get("postal_code"), 12), "cityName": _cut(sender.get("city"), 45),
                               "countryCode": str(sender.get("country") or "FR").upper()},
            "receiverDetails": {"postalCode": _cut(receiver.get("postal_code"), 12),
                                "cityName": _cut(receiver.get("city"), 45),
                                "countryCode": str(receiver.get("country") or "FR").upper()}},
        "accounts": [{"typeCode": "shipper", "number": account}],
        "plannedShippingDateAndTime": planned_time(day),
        "unitOfMeasurement": "metric",
        "isCustomsDeclarable": needs_customs(str(sender.get("country") or "FR"), str(receiver.get("country") or "FR")),
        "packages": packages,
    }


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def rates_from(body: dict[str, Any], addon: str) -> list[Rate]:
    """The products of a ``/rates`` answer as OMS rates: the billing-currency total
    (``currencyType`` ``BILLC``), the product's promise as its service level."""
    out = []
    for product in body.get("products") or []:
        prices = product.get("totalPrice") or []
        chosen = next((p for p in prices if p.get("currencyType") == "BILLC"), prices[0] if prices else None)
        price = _decimal((chosen or {}).get("price"))
        if price is None or price <= 0:
            continue
        code = str(product.get("productCode") or "")
        name, level = PRODUCTS.get(code, (str(product.get("productName") or code).title(), "express"))
        days = (product.get("deliveryCapabilities") or {}).get("totalTransitDays")
        out.append(Rate(carrier=addon, service=name, price=price, currency=str(chosen.get("priceCurrency") or "EUR"),
                        method_id=code, service_level=level,
                        delivery_days=int(days) if isinstance(days, (int, float, str)) and str(days).isdigit() else None))
    return out


def products_from(body: dict[str, Any]) -> list[str]:
    return [f"{p.get('productName') or p.get('productCode')} ({p.get('productCode')})" for p in body.get("products") or []]


def documents(body: dict[str, Any]) -> dict[str, bytes]:
    """``documents[]`` of a shipment answer, decoded: type code → bytes."""
    import base64

    out: dict[str, bytes] = {}
    for doc in body.get("documents") or []:
        content = doc.get("content")
        if not content:
            continue
        try:
            out.setdefault(str(doc.get("typeCode") or "label"), base64.b64decode(content, validate=True))
        except ValueError:
            continue
    return out


def status_of(tracked: dict[str, Any] | None) -> tuple[ShipmentStatus | None, str, datetime | None]:
    """(OMS status, DHL's words, when) of a Unified Tracking shipment; None when unknown."""
    if not tracked:
        return None, "", None
    status = tracked.get("status") or {}
    code = str(status.get("statusCode") or "").lower()
    words = str(status.get("description") or status.get("status") or code)
    return STATUS_CODES.get(code), words[:200], parse_time(status.get("timestamp"))


def parse_time(value: Any) -> datetime | None:
    """DHL timestamps, with or without offset, with up to nanoseconds
    (``2023-11-21T15:27:20.331986369+01:00``)."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    main, _, rest = text.partition(".")
    if rest:
        count = len(rest) - len(rest.lstrip("0123456789"))
        digits, tail = rest[:count], rest[count:]
        text = f"{main}.{digits[:6]}{tail}"
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)
