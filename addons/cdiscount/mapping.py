"""Octopia's payloads in core's terms and back: pure functions, no I/O.

Sources of the order's fields (the official OpenAPI, developer.octopia-io.net "API REST Seller
V2", is published behind the developer portal; it was not readable when this was written):

* the order states and their meaning: developer.octopia-io.net/api-reference/orders-management
  (Processing, WaitingAcceptance "only on Cdiscount", Refused, Accepted "awaiting final
  marketplace controls", InPreparation "ready to be shipped by the seller if the supply mode
  is Seller", Shipped, Delivered, Cancelled, Rejected);
* the supply modes ``Seller``, ``Fulfillment``, ``Xdock``: developer.octopia-io.net/order-feature-v2;
* ``orderId``, ``status``, ``supplyMode``, ``purchasedAt``, ``createdAt``, ``updatedAt``,
  ``lines[].offer.sellerProductId``, ``parcels[].parcelNumber``, sales channel ``CDISFR``:
  third-party clients only (an ERP's Octopia sync, a PrestaShop module, an edge function);
* the rest of the order's shape (``lines[].orderLineId``, ``quantity``, ``price``,
  ``shippingAddress``, ``billingAddress``, ``customer``, ``relayPoint``, ``deliveryMode``,
  ``currency``, ``totalPrice``, ``shippingPrice``) is **this add-on's reading, not confirmed**:
  it is the shape its schema (specs/order.schema.json) and its emulator use, to be re-checked
  against the OpenAPI with a seller account.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from core.types import NormalizedAddress, NormalizedLine, NormalizedOrder, NormalizedPickupPoint
from core.i18n import _

#: Octopia's order states → the status core reads (``open``, ``cancelled``, ``shipped``).
#: Refused (by the seller) and Rejected (by Octopia's controls) end the order like a cancellation.
STATES = {
    "Processing": "open",
    "WaitingAcceptance": "open",
    "Accepted": "open",
    "InPreparation": "open",
    "Shipped": "shipped",
    "Delivered": "shipped",
    "Cancelled": "cancelled",
    "Refused": "cancelled",
    "Rejected": "cancelled",
}
#: French names of the states, shown to the merchant
STATE_LABELS = {
    "Processing": _("en contrôle chez Octopia"), "WaitingAcceptance": _("en attente d'acceptation"),
    "Accepted": _("acceptée"), "InPreparation": _("en préparation"), "Shipped": _("expédiée"), "Delivered": _("livrée"),
    "Cancelled": _("annulée"), "Refused": _("refusée"), "Rejected": _("rejetée par Octopia"),
}
#: states in which the seller may still accept or refuse
WAITING = "WaitingAcceptance"
#: the only state in which Octopia takes a shipment (pitfall: shipping earlier fails)
SHIPPABLE = "InPreparation"
#: states that come before InPreparation: a shipment waits for them to pass
BEFORE_PREPARATION = {"Processing", "WaitingAcceptance", "Accepted"}

#: OMS carrier (core's ``Shipment.carrier``, or the carrier a shipping aggregator named in
#: ``Shipment.service``) → the carrier name in Octopia's list (``GET /carriers``).
CARRIERS = {
    "colissimo": "Colissimo", "laposte": "La Poste", "chronopost": "Chronopost", "mondialrelay": "Mondial Relay",
    "mondial_relay": "Mondial Relay", "relaiscolis": "Relais Colis", "dpd": "DPD", "gls": "GLS", "ups": "UPS",
    "dhl": "DHL", "dhl_parcel": "DHL", "fedex": "FedEx", "tnt": "TNT", "colisprive": "Colis Privé",
    "geodis": "Geodis", "kuehne": "Kuehne + Nagel",
}
#: the carrier name used when the OMS carrier is not in Octopia's list (with the tracking URL)
OTHER = "Autre"


def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    text = str(value).replace("Z", "+00:00")
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)


def iso(stamp: datetime) -> str:
    return stamp.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def money(value: Any) -> Decimal:
    if isinstance(value, dict):
        value = value.get("amount", value.get("value", value.get("price")))
    try:
        return Decimal(str(value)) if value is not None and value != "" else Decimal("0")
    except InvalidOperation:
        return Decimal("0")


def state_label(state: str) -> str:
    return STATE_LABELS.get(state, state)


def _address(data: dict[str, Any] | None, email: str = "") -> NormalizedAddress:
    data = data or {}
    name = " ".join(x for x in (data.get("firstName"), data.get("lastName")) if x).strip()
    return NormalizedAddress(
        name=name, company=data.get("companyName") or "", line1=data.get("addressLine1") or "",
        line2=" ".join(x for x in (data.get("addressLine2"), data.get("addressLine3")) if x),
        postal_code=data.get("postalCode") or "", city=data.get("city") or "", region=data.get("county") or "",
        country=(data.get("countryCode") or "").upper()[:2], phone=data.get("phone") or data.get("mobilePhone") or "",
        email=email)


def pickup_point(order: dict[str, Any]) -> NormalizedPickupPoint | None:
    """The relay point the buyer chose (``relayPoint``; unconfirmed field name)."""
    relay = order.get("relayPoint")
    if not isinstance(relay, dict) or not relay.get("id"):
        return None
    return NormalizedPickupPoint(id=str(relay["id"]), network=str(relay.get("network") or "").lower(),
                                 name=relay.get("name") or "", address=_address(relay.get("address")))


def fulfilled_by_marketplace(order: dict[str, Any]) -> bool:
    """Octopia Fulfilment ships it: the seller never picks it."""
    return order.get("supplyMode") == "Fulfillment"


def normalize(order: dict[str, Any]) -> NormalizedOrder:
    state = str(order.get("status") or "")
    customer = order.get("customer") or {}
    email = customer.get("email") or ""
    lines = []
    for line in order.get("lines") or []:
        offer = line.get("offer") or {}
        price = line.get("price") or {}
        lines.append(NormalizedLine(
            sku=str(offer.get("sellerProductId") or ""), quantity=int(line.get("quantity") or 0),
            unit_price=money(price.get("unitSalesPrice")), title=offer.get("productTitle") or "",
            external_id=str(line.get("orderLineId")) if line.get("orderLineId") is not None else None,
            tax=money(price.get("unitTaxAmount")) * int(line.get("quantity") or 0)))
    subtotal = sum((ln.unit_price * ln.quantity for ln in lines), Decimal("0"))
    shipping = money(order.get("shippingPrice"))
    total = money(order.get("totalPrice")) or subtotal + shipping
    placed = parse_time(order.get("purchasedAt")) or parse_time(order.get("createdAt"))
    mode = str((order.get("deliveryMode") or {}).get("type") or "").lower() \
        if isinstance(order.get("deliveryMode"), dict) else str(order.get("deliveryMode") or "").lower()
    channel = str(order.get("salesChannelId") or "")
    return NormalizedOrder(
        external_id=str(order["orderId"]), number=str(order.get("reference") or order["orderId"]),
        placed_at=placed or datetime.now(timezone.utc), updated_at=parse_time(order.get("updatedAt")),
        currency=str(order.get("currency") or "EUR"), lines=lines, total=total, subtotal=subtotal,
        shipping_total=shipping, tax_total=sum((ln.tax for ln in lines), Decimal("0")),
        status=STATES.get(state, "open"), customer_email=email or None,
        customer_name=" ".join(x for x in (customer.get("firstName"), customer.get("lastName")) if x),
        shipping_address=_address(order.get("shippingAddress"), email),
        billing_address=_address(order.get("billingAddress"), email),
        payment_status="paid",  # a marketplace order reaches the seller paid
        service_level="express" if mode in ("express", "expressdelivery") else "standard",
        fulfillment_channel="marketplace" if fulfilled_by_marketplace(order) else "merchant",
        tags=[f"cdiscount:{channel}"] if channel else [],
        pickup_point=pickup_point(order), raw=order)


def carrier_name(carrier: str, service: str | None, known: set[str]) -> str:
    """Octopia's name for the OMS carrier, or ``OTHER`` when Octopia's list lacks it."""
    for key in (carrier, (service or "").split(":")[0], (service or "").split(" ")[0]):
        name = CARRIERS.get((key or "").strip().lower().replace("-", "_").replace(" ", ""))
        if name and (not known or name in known):
            return name
    return OTHER


def parcels(shipment_number: str, carrier: str, tracking_url: str | None, line_ids: list[str]) -> list[dict[str, Any]]:
    """The body of ``POST /orders/{orderId}/shipments``: a list of parcels (field names as two
    independent clients send them; not confirmed against the OpenAPI)."""
    parcel: dict[str, Any] = {"parcelNumber": shipment_number, "carrierName": carrier, "orderLineIds": line_ids}
    if tracking_url:
        parcel["trackingUrl"] = tracking_url
    return [parcel]


def has_parcel(order: dict[str, Any], number: str) -> bool:
    return any(str(p.get("parcelNumber")) == number for p in order.get("parcels") or [])


# ----------------------------------------------------------------------------- offers (GET /offers)
@dataclass(frozen=True)
class RemoteOffer:
    """One offer of the seller's catalogue as Octopia shows it."""

    sku: str
    offer_id: str | None
    gtin: str | None
    title: str | None
    price: Decimal | None
    quantity: int | None
    state: str | None


def _text(value: Any, size: int) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text[:size] or None


def remote_offer(item: dict[str, Any]) -> RemoteOffer:
    """An item of ``GET /offers``. Sources, field by field:

    * ``sellerExternalReference`` (the seller's own unique reference of the offer), ``offerId``
      (seller_product_condition_channel), ``gtin``, ``offerState`` (Active / Inactive) and the
      price integrated by the seller, taxes included: Octopia's "Retrieve Offers" page
      (developer.octopia-io.net/api-reference/offer-management/retrieve-offers);
    * ``product.gtin`` and ``integrationPrice`` as the field names: third-party clients only
      (a PHP SDK asks ``fields=condition,product,integrationPrice``; an edge function reads
      ``gtin`` or ``product.gtin``); a price given as an object is read from its ``price``;
    * ``quantity`` (the name of the stock in Octopia's offer integration requests),
      ``product.title`` and the ``sellerProductId`` fallback (the name orders and ``PUT
      /offers`` use): this add-on's reading, unconfirmed.
    """
    product = item.get("product") if isinstance(item.get("product"), dict) else {}
    sku = _text(item.get("sellerExternalReference") or item.get("sellerProductId"), 128) or ""
    gtin = _text(item.get("gtin") or product.get("gtin"), 32)
    raw_price = item.get("integrationPrice", item.get("price"))
    price = money(raw_price) if raw_price not in (None, "") else None
    quantity = item.get("quantity", item.get("stock"))
    try:
        quantity = int(quantity) if quantity is not None else None
    except (TypeError, ValueError):
        quantity = None
    return RemoteOffer(sku=sku, offer_id=_text(item.get("offerId"), 128), gtin=gtin,
                       title=_text(product.get("title") or item.get("productTitle"), 255),
                       price=price if price is None or price > 0 else None, quantity=quantity,
                       state=_text(item.get("offerState"), 20))
