"""Shopify orders in core's terms.

Webhooks carry the REST ``Order`` resource; the reconciliation poll reads GraphQL ``Order``
nodes, first turned into the same REST shape (:func:`rest_from_graphql`) so one function
(:func:`normalize`) maps both.

* money: ``currency``/amounts are the shop's currency (booked), ``presentment_*`` what the
  customer paid in their currency (Shopify Markets);
* POS: ``source_name == "pos"`` with ``location_id`` (``retailLocation``) is a store sale:
  ``origin="pos"`` and ``pos_location`` = the OMS warehouse code of that location;
* lines: the SKU Shopify sends, else the SKU of the OMS variant bound to the Shopify
  variant, else ``SHOPIFY-<variant id>`` (the order is held until the merchant maps it).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from core.types import NormalizedAddress, NormalizedLine, NormalizedOrder, NormalizedPickupPoint

from .client import numeric_id

PAYMENT = {"pending": "pending", "authorized": "authorized", "partially_paid": "pending", "paid": "paid",
           "partially_refunded": "partially_refunded", "refunded": "refunded", "voided": "voided",
           "expired": "voided"}
EXPRESS_WORDS = ("express", "exprès", "chrono", "24h", "prioritaire", "next day")


@dataclass(frozen=True)
class Lookup:
    """What normalizing needs from the OMS: the SKU of a bound Shopify variant and the
    warehouse code of a Shopify location (created on first sight for a POS location)."""

    sku_for_variant: Callable[[str], str | None]
    warehouse_for_location: Callable[[str, str], str | None]


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _amount(value: Any) -> Decimal:
    if value in (None, ""):
        return Decimal("0")
    return Decimal(str(value))


def _shop_amount(money_set: dict[str, Any] | None) -> Decimal | None:
    if not money_set:
        return None
    return _amount((money_set.get("shop_money") or {}).get("amount"))


def _address(a: dict[str, Any] | None, email: str | None) -> NormalizedAddress:
    if not a:
        return NormalizedAddress(email=email or "")
    name = a.get("name") or " ".join(x for x in (a.get("first_name"), a.get("last_name")) if x)
    return NormalizedAddress(name=name or "", company=a.get("company") or "", line1=a.get("address1") or "",
                             line2=a.get("address2") or "", postal_code=a.get("zip") or "", city=a.get("city") or "",
                             region=a.get("province_code") or a.get("province") or "",
                             country=(a.get("country_code") or "").upper(), phone=a.get("phone") or "",
                             email=email or "")


def _status(payload: dict[str, Any]) -> str:
    if payload.get("cancelled_at"):
        return "cancelled"
    if payload.get("fulfillment_status") == "fulfilled":
        return "shipped"
    if payload.get("financial_status") == "pending":
        return "pending"
    return "open"


def _service_level(payload: dict[str, Any]) -> str:
    for line in payload.get("shipping_lines") or []:
        text = f"{line.get('title') or ''} {line.get('code') or ''}".lower()
        if any(word in text for word in EXPRESS_WORDS):
            return "express"
    return "standard"


def _pickup_point(payload: dict[str, Any]) -> NormalizedPickupPoint | None:
    """A pick-up point delivery: the shipping line of category ``pickup_point`` carries the
    point's id as its code, and the order's shipping address is the point's address."""
    for line in payload.get("shipping_lines") or []:
        category = (line.get("delivery_category") or "").lower().replace("-", "_")
        code = (line.get("code") or "").strip()
        if category != "pickup_point" or not code:
            continue
        named = f"{line.get('source') or ''} {line.get('carrier_identifier') or ''} {line.get('title') or ''}".lower()
        network = next((net for word, net in (("mondial", "mondialrelay"), ("chrono", "chronopost"),
                                              ("colissimo", "colissimo"), ("inpost", "inpost"), ("ups", "ups"),
                                              ("dhl", "dhl")) if word in named), "")
        ship = payload.get("shipping_address") or {}
        return NormalizedPickupPoint(id=code, network=network, name=ship.get("company") or line.get("title") or "",
                                     address=_address(ship, None))
    return None


def normalize(payload: dict[str, Any], lookup: Lookup) -> NormalizedOrder:
    """A REST ``Order`` (webhook payload or converted GraphQL node) as a ``NormalizedOrder``."""
    email = payload.get("email") or payload.get("contact_email") or (payload.get("customer") or {}).get("email")
    customer = payload.get("customer") or {}
    ship = payload.get("shipping_address")
    customer_name = " ".join(x for x in (customer.get("first_name"), customer.get("last_name")) if x) \
        or (ship or {}).get("name") or ""
    lines = []
    for item in payload.get("line_items") or []:
        quantity = int(item.get("current_quantity", item.get("quantity")) or 0)
        if quantity <= 0:  # removed by an order edit
            continue
        variant_id = numeric_id(item.get("variant_id"))
        sku = (item.get("sku") or "").strip()
        if not sku and variant_id:
            sku = lookup.sku_for_variant(variant_id) or f"SHOPIFY-{variant_id}"
        sku = sku or f"SHOPIFY-LINE-{numeric_id(item.get('id'))}"
        tax = sum((_amount(t.get("price")) for t in item.get("tax_lines") or []), Decimal("0"))
        lines.append(NormalizedLine(sku=sku, quantity=quantity, unit_price=_amount(item.get("price")),
                                    title=item.get("name") or item.get("title") or sku,
                                    external_id=numeric_id(item.get("id")), tax=tax,
                                    discount=_amount(item.get("total_discount"))))
    shipping_total = _shop_amount(payload.get("total_shipping_price_set"))
    if shipping_total is None:
        shipping_total = sum((_amount(s.get("price")) for s in payload.get("shipping_lines") or []), Decimal("0"))
    pos = payload.get("source_name") == "pos" and payload.get("location_id")
    pos_location = None
    if pos:
        pos_location = lookup.warehouse_for_location(str(numeric_id(payload["location_id"])),
                                                     payload.get("location_name") or "")
    presentment_total = None
    total_set = payload.get("total_price_set") or {}
    if total_set.get("presentment_money"):
        presentment_total = _amount(total_set["presentment_money"].get("amount"))
    placed = parse_time(payload.get("processed_at") or payload.get("created_at"))
    assert placed is not None, "a Shopify order always has created_at"
    tags = [t.strip() for t in (payload.get("tags") or "").split(",") if t.strip()]
    if payload.get("test"):
        tags.append("test")
    return NormalizedOrder(
        external_id=str(numeric_id(payload["id"])),
        number=payload.get("name") or f"#{payload.get('order_number', '')}",
        placed_at=placed,
        updated_at=parse_time(payload.get("updated_at")),
        currency=payload.get("currency") or "EUR",
        lines=lines,
        total=_amount(payload.get("total_price")),
        status=_status(payload),
        customer_email=email or None,
        customer_name=customer_name,
        shipping_address=_address(ship, email),
        billing_address=_address(payload.get("billing_address"), email),
        presentment_currency=payload.get("presentment_currency") or None,
        presentment_total=presentment_total,
        subtotal=_amount(payload.get("subtotal_price")),
        shipping_total=shipping_total,
        tax_total=_amount(payload.get("total_tax")),
        discount_total=_amount(payload.get("total_discounts")),
        payment_status=PAYMENT.get(payload.get("financial_status") or "", "pending"),
        service_level=_service_level(payload),
        fulfillment_channel="merchant",
        tags=tags,
        origin="pos" if pos else "online",
        pos_location=pos_location,
        pickup_point=_pickup_point(payload),
        raw={},
    )


# ----------------------------------------------------------------------------- GraphQL → REST
def _rest_set(bag: dict[str, Any] | None) -> dict[str, Any] | None:
    if not bag:
        return None
    shop, pres = bag.get("shopMoney") or {}, bag.get("presentmentMoney") or {}
    return {"shop_money": {"amount": shop.get("amount"), "currency_code": shop.get("currencyCode")},
            "presentment_money": {"amount": pres.get("amount"), "currency_code": pres.get("currencyCode")}}


def _rest_address(a: dict[str, Any] | None) -> dict[str, Any] | None:
    if not a:
        return None
    return {"name": a.get("name"), "first_name": a.get("firstName"), "last_name": a.get("lastName"),
            "company": a.get("company"), "address1": a.get("address1"), "address2": a.get("address2"),
            "city": a.get("city"), "zip": a.get("zip"), "province": a.get("province"),
            "province_code": a.get("provinceCode"), "country": a.get("country"),
            "country_code": a.get("countryCodeV2"), "phone": a.get("phone")}


def rest_from_graphql(node: dict[str, Any], line_items: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A GraphQL ``Order`` node in the REST webhook shape :func:`normalize` reads."""
    def amount(bag: dict[str, Any] | None) -> str | None:
        return ((bag or {}).get("shopMoney") or {}).get("amount")

    items = []
    for li in line_items if line_items is not None else (node.get("lineItems") or {}).get("nodes") or []:
        items.append({
            "id": numeric_id(li.get("id")), "sku": li.get("sku"), "name": li.get("name"),
            "quantity": li.get("quantity"), "current_quantity": li.get("currentQuantity"),
            "variant_id": numeric_id((li.get("variant") or {}).get("id")),
            "price": amount(li.get("originalUnitPriceSet")),
            "total_discount": amount(li.get("totalDiscountSet")),
            "tax_lines": [{"price": amount(t.get("priceSet"))} for t in li.get("taxLines") or []],
        })
    customer = node.get("customer") or {}
    location = node.get("retailLocation") or {}
    fulfillment = {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial"}.get(
        node.get("displayFulfillmentStatus") or "")
    return {
        "id": numeric_id(node["id"]), "name": node.get("name"), "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"), "processed_at": node.get("processedAt"),
        "cancelled_at": node.get("cancelledAt"), "source_name": node.get("sourceName"), "test": node.get("test"),
        "email": node.get("email"), "phone": node.get("phone"), "tags": ", ".join(node.get("tags") or []),
        "currency": node.get("currencyCode"), "presentment_currency": node.get("presentmentCurrencyCode"),
        "financial_status": (node.get("displayFinancialStatus") or "").lower() or None,
        "fulfillment_status": fulfillment,
        "total_price": amount(node.get("totalPriceSet")), "total_price_set": _rest_set(node.get("totalPriceSet")),
        "subtotal_price": amount(node.get("subtotalPriceSet")), "total_tax": amount(node.get("totalTaxSet")),
        "total_discounts": amount(node.get("totalDiscountsSet")),
        "total_shipping_price_set": _rest_set(node.get("totalShippingPriceSet")),
        "customer": {"first_name": customer.get("firstName"), "last_name": customer.get("lastName")}
        if customer else None,
        "shipping_address": _rest_address(node.get("shippingAddress")),
        "billing_address": _rest_address(node.get("billingAddress")),
        "location_id": numeric_id(location.get("id")), "location_name": location.get("name"),
        "shipping_lines": [{"title": s.get("title"), "code": s.get("code")}
                           for s in (node.get("shippingLines") or {}).get("nodes") or []],
        "line_items": items,
    }
