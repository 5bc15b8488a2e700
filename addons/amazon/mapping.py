"""Amazon orders in core's terms: an Orders API v2026-01-01 ``Order``, or the rows of an
orders report (``GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL``), become a
``NormalizedOrder``."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from core.types import NormalizedAddress, NormalizedLine, NormalizedOrder

from .clock import parse_iso

#: fulfillmentStatus → (core status, payment status)
STATUSES = {
    "PENDING_AVAILABILITY": ("pending", "pending"),
    "PENDING": ("pending", "pending"),
    "UNSHIPPED": ("open", "paid"),
    "PARTIALLY_SHIPPED": ("open", "paid"),
    "SHIPPED": ("shipped", "paid"),
    "CANCELLED": ("cancelled", "voided"),
    "UNFULFILLABLE": ("open", "paid"),
}
#: the orders reports (and notifications) still speak the v0 status names
REPORT_STATUSES = {
    "pendingavailability": "PENDING_AVAILABILITY", "pending": "PENDING", "unshipped": "UNSHIPPED",
    "partiallyshipped": "PARTIALLY_SHIPPED", "shipping": "UNSHIPPED", "shipped": "SHIPPED",
    "invoiceunconfirmed": "SHIPPED", "canceled": "CANCELLED", "cancelled": "CANCELLED",
    "unfulfillable": "UNFULFILLABLE",
}
EXPRESS_LEVELS = {"EXPEDITED", "NEXT_DAY", "SAME_DAY", "PRIORITY", "SECOND_DAY"}
#: open orders the merchant ships: their address and order-item ids are needed
OPEN_STATUSES = {"UNSHIPPED", "PARTIALLY_SHIPPED"}


@dataclass(frozen=True)
class OrderFacts:
    """What the add-on keeps beside the normalized order."""

    amazon_order_id: str
    marketplace_id: str | None
    fulfilled_by: str
    status: str
    complete: bool
    packages: list[dict[str, Any]]


def money(value: dict[str, Any] | None) -> Decimal:
    if not value:
        return Decimal("0")
    try:
        return Decimal(str(value.get("amount") or "0"))
    except InvalidOperation:
        return Decimal("0")


def _breakdown(breakdowns: Iterable[dict[str, Any]] | None, kind: str) -> Decimal:
    return sum((money(b.get("subtotal")) for b in breakdowns or [] if b.get("type") == kind), Decimal("0"))


def service_level(programs: Iterable[str], level: str | None) -> str:
    if "PRIME" in set(programs):
        return "prime"
    return "express" if (level or "").upper() in EXPRESS_LEVELS else "standard"


def from_order(order: dict[str, Any]) -> tuple[NormalizedOrder, OrderFacts]:
    """An Orders API v2026-01-01 ``Order`` (with items) as a ``NormalizedOrder``."""
    fulfillment = order.get("fulfillment") or {}
    status_code = str(fulfillment.get("fulfillmentStatus") or "PENDING")
    status, payment = STATUSES.get(status_code, ("open", "paid"))
    fulfilled_by = str(fulfillment.get("fulfilledBy") or "MERCHANT")
    channel = order.get("salesChannel") or {}
    programs = [str(p) for p in order.get("programs") or []]
    proceeds = order.get("proceeds") or {}
    grand = proceeds.get("grandTotal") or {}
    buyer = order.get("buyer") or {}
    address = (order.get("recipient") or {}).get("deliveryAddress") or {}
    lines = []
    currency = str(grand.get("currencyCode") or "")
    for item in order.get("orderItems") or []:
        product = item.get("product") or {}
        unit = (product.get("price") or {}).get("unitPrice") or {}
        currency = currency or str(unit.get("currencyCode") or "")
        item_breakdowns = (item.get("proceeds") or {}).get("breakdowns")
        lines.append(NormalizedLine(
            sku=str(product.get("sellerSku") or product.get("asin") or item.get("orderItemId")),
            quantity=int(item.get("quantityOrdered") or 0), unit_price=money(unit),
            title=str(product.get("title") or "")[:255], external_id=str(item["orderItemId"]),
            tax=_breakdown(item_breakdowns, "TAX"), discount=abs(_breakdown(item_breakdowns, "DISCOUNT"))))
    breakdowns = proceeds.get("breakdowns")
    subtotal = _breakdown(breakdowns, "ITEM") or sum((ln.unit_price * ln.quantity for ln in lines), Decimal("0"))
    total = money(grand) if grand else subtotal
    tags = [str(channel.get("marketplaceName"))] if channel.get("marketplaceName") else []
    if "AMAZON_BUSINESS" in programs:
        tags.append("Amazon Business")
    currency = currency or "EUR"
    normalized = NormalizedOrder(
        external_id=str(order["orderId"]), number=str(order["orderId"]),
        placed_at=parse_iso(order["createdTime"]), updated_at=parse_iso(order["lastUpdatedTime"]),
        currency=currency, lines=[ln for ln in lines if ln.quantity > 0], total=total, status=status,
        customer_email=buyer.get("buyerEmail") or None, customer_name=str(buyer.get("buyerName") or ""),
        shipping_address=_address(address), billing_address=NormalizedAddress(),
        presentment_currency=currency, presentment_total=total, subtotal=subtotal,
        shipping_total=_breakdown(breakdowns, "SHIPPING"), tax_total=_breakdown(breakdowns, "TAX"),
        discount_total=abs(_breakdown(breakdowns, "DISCOUNT")), payment_status=payment,
        service_level=service_level(programs, fulfillment.get("fulfillmentServiceLevel")),
        fulfillment_channel="marketplace" if fulfilled_by == "AMAZON" else "merchant", tags=tags,
        raw={"programs": programs, "marketplaceId": channel.get("marketplaceId")})
    facts = OrderFacts(str(order["orderId"]), channel.get("marketplaceId"), fulfilled_by, status_code, True,
                       list(order.get("packages") or []))
    return normalized, facts


def _address(a: dict[str, Any]) -> NormalizedAddress:
    lines = [a.get("addressLine2"), a.get("addressLine3")]
    return NormalizedAddress(
        name=str(a.get("name") or ""), company=str(a.get("companyName") or ""),
        line1=str(a.get("addressLine1") or ""), line2=" ".join(str(x) for x in lines if x),
        postal_code=str(a.get("postalCode") or ""), city=str(a.get("city") or ""),
        region=str(a.get("stateOrRegion") or ""), country=str(a.get("countryCode") or "").upper()[:2],
        phone=str(a.get("phone") or ""))


# ----------------------------------------------------------------------------- orders report
def report_status(value: str) -> str:
    return REPORT_STATUSES.get(value.replace(" ", "").replace("-", "").lower(), "UNSHIPPED")


def report_fulfilled_by(value: str) -> str:
    return "AMAZON" if value.strip().lower() in ("amazon", "afn") else "MERCHANT"


def _dec(value: str | None) -> Decimal:
    try:
        return Decimal((value or "0").strip() or "0")
    except InvalidOperation:
        return Decimal("0")


def from_report_rows(rows: list[dict[str, str]], marketplace_id: str | None) -> tuple[NormalizedOrder, OrderFacts]:
    """The rows (one per item) of one order in an orders report. The report has no buyer
    name, street or order-item id: the order is marked incomplete."""
    first = rows[0]
    status_code = report_status(first.get("order-status", ""))
    status, payment = STATUSES[status_code]
    fulfilled_by = report_fulfilled_by(first.get("fulfillment-channel", ""))
    currency = (first.get("currency") or "EUR").strip() or "EUR"
    lines, subtotal, shipping, tax, discount = [], Decimal("0"), Decimal("0"), Decimal("0"), Decimal("0")
    for row in rows:
        qty = int(_dec(row.get("quantity")))
        item_price = _dec(row.get("item-price"))
        item_tax = _dec(row.get("item-tax"))
        item_discount = abs(_dec(row.get("item-promotion-discount")))
        subtotal += item_price
        shipping += _dec(row.get("shipping-price"))
        tax += item_tax + _dec(row.get("shipping-tax"))
        discount += item_discount + abs(_dec(row.get("ship-promotion-discount")))
        if qty > 0:
            lines.append(NormalizedLine(sku=row.get("sku") or row.get("asin") or "", quantity=qty,
                                        unit_price=(item_price / qty).quantize(Decimal("0.01")),
                                        title=(row.get("product-name") or "")[:255], tax=item_tax,
                                        discount=item_discount))
    total = subtotal + shipping + tax - discount
    sales_channel = (first.get("sales-channel") or "").strip()
    level = (first.get("ship-service-level") or "").strip().upper().replace(" ", "_")
    normalized = NormalizedOrder(
        external_id=first["amazon-order-id"], number=first["amazon-order-id"],
        placed_at=parse_iso(first["purchase-date"]), updated_at=parse_iso(first["last-updated-date"]),
        currency=currency, lines=lines, total=total, status=status,
        shipping_address=NormalizedAddress(city=first.get("ship-city") or "", region=first.get("ship-state") or "",
                                           postal_code=first.get("ship-postal-code") or "",
                                           country=(first.get("ship-country") or "").upper()[:2]),
        presentment_currency=currency, presentment_total=total, subtotal=subtotal, shipping_total=shipping,
        tax_total=tax, discount_total=discount, payment_status=payment,
        service_level=service_level([], level),
        fulfillment_channel="marketplace" if fulfilled_by == "AMAZON" else "merchant",
        tags=[sales_channel] if sales_channel and sales_channel.lower() != "non-amazon" else [])
    facts = OrderFacts(first["amazon-order-id"], marketplace_id, fulfilled_by, status_code, False, [])
    return normalized, facts


def parse_tsv(text: str) -> list[dict[str, str]]:
    """A tab-delimited flat-file report as dicts keyed by its header row."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        return []
    header = [h.strip() for h in lines[0].split("\t")]
    return [dict(zip(header, (v.strip() for v in ln.split("\t")))) for ln in lines[1:]]


#: ``product-id-type`` of the listings report (Seller Central's inventory file template:
#: 1 = ASIN, 2 = ISBN, 3 = UPC, 4 = EAN); an ASIN is not a barcode
BARCODE_ID_TYPES = {"2": "ISBN", "3": "UPC", "4": "EAN"}


def report_barcode(row: dict[str, str]) -> str | None:
    """The barcode of a ``GET_MERCHANT_LISTINGS_ALL_DATA`` row, when its ``product-id`` is one."""
    if (row.get("product-id-type") or "").strip() not in BARCODE_ID_TYPES:
        return None
    value = (row.get("product-id") or "").strip().upper()
    return value if value and len(value) <= 32 and value.rstrip("X").isdigit() else None
