"""eBay's payloads in core's terms and back: pure functions, no I/O.

Sources: Sell Fulfillment API v1.20.7 (``Order``, ``LineItem``, ``FulfillmentStartInstruction``,
``PricingSummary``, ``EbayCollectAndRemitTax``, ``ShippingFulfillmentDetails``; the ``filter``
parameter of ``getOrders``), marketplaces.md §2 and next/ebay.md §4, §7.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from core.models import ReturnReason
from core.types import NormalizedAddress, NormalizedLine, NormalizedOrder, NormalizedPickupPoint

#: the eBay marketplaces a French merchant sells on (EBAY_FR first)
MARKETPLACES = (
    ("EBAY_FR", "ebay.fr", "EUR"), ("EBAY_DE", "ebay.de", "EUR"), ("EBAY_IT", "ebay.it", "EUR"),
    ("EBAY_ES", "ebay.es", "EUR"), ("EBAY_BE", "befr.ebay.be", "EUR"), ("EBAY_NL", "ebay.nl", "EUR"),
    ("EBAY_AT", "ebay.at", "EUR"), ("EBAY_IE", "ebay.ie", "EUR"), ("EBAY_GB", "ebay.co.uk", "GBP"),
    ("EBAY_CH", "ebay.ch", "CHF"), ("EBAY_PL", "ebay.pl", "PLN"), ("EBAY_US", "ebay.com", "USD"),
)
MARKETPLACE_IDS = tuple(m[0] for m in MARKETPLACES)

#: orderFulfillmentStatus → the OMS's reading (``NormalizedOrder.status``)
FULFILLMENT_STATUS = {"NOT_STARTED": "open", "IN_PROGRESS": "open", "FULFILLED": "shipped"}
#: orderPaymentStatus → ``NormalizedOrder.payment_status``
PAYMENT_STATUS = {"PAID": "paid", "PENDING": "pending", "FAILED": "pending", "PARTIALLY_REFUNDED": "partially_refunded",
                  "FULLY_REFUNDED": "refunded"}
#: cancelStatus.cancelState values (CancelStateEnum)
CANCELLED = "CANCELED"


def ebay_time(when: datetime) -> str:
    """eBay's timestamp format: ISO 8601 UTC with milliseconds and a Z."""
    when = when.astimezone(timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def orders_filter(since: datetime | None, until: datetime | None = None) -> str | None:
    """``lastmodifieddate:[from..]`` (or ``[from..to]``), the one syntax eBay accepts; httpx
    percent-encodes the brackets once. No filter at all means eBay's last 90 days of
    creations, so a first run passes its own start."""
    if since is None:
        return None
    upper = ebay_time(until) if until is not None else ""
    return f"lastmodifieddate:[{ebay_time(since)}..{upper}]"


def _money(amount: dict[str, Any] | None) -> Decimal:
    return Decimal(str((amount or {}).get("value") or "0"))


def _address(contact: dict[str, Any] | None) -> NormalizedAddress:
    contact = contact or {}
    addr = contact.get("contactAddress") or {}
    return NormalizedAddress(name=contact.get("fullName") or "", company=contact.get("companyName") or "",
                             line1=addr.get("addressLine1") or "", line2=addr.get("addressLine2") or "",
                             postal_code=addr.get("postalCode") or "", city=addr.get("city") or "",
                             region=addr.get("stateOrProvince") or "", country=addr.get("countryCode") or "",
                             phone=(contact.get("primaryPhone") or {}).get("phoneNumber") or "",
                             email=contact.get("email") or "")


def collected_vat(order: dict[str, Any]) -> Decimal:
    """VAT and fees eBay collects and remits itself (``ebayCollectAndRemitTaxes``): the seller
    never receives them, so they are kept apart from the order's own taxes."""
    return sum((_money(t.get("amount")) for ln in order.get("lineItems") or []
                for t in ln.get("ebayCollectAndRemitTaxes") or []), Decimal("0"))


def pickup_point(order: dict[str, Any]) -> NormalizedPickupPoint | None:
    """A buyer collecting the parcel: ``PREPARE_FOR_PICKUP`` (in-store pick-up / click and
    collect at ``pickupStep.merchantLocationKey``)."""
    for step in order.get("fulfillmentStartInstructions") or []:
        if step.get("fulfillmentInstructionsType") == "PREPARE_FOR_PICKUP":
            key = (step.get("pickupStep") or {}).get("merchantLocationKey") or ""
            ship = (step.get("shippingStep") or {}).get("shipTo") or {}
            address = _address(ship)
            final = step.get("finalDestinationAddress") or {}
            if final and not address.line1:
                address = _address({"fullName": ship.get("fullName"), "contactAddress": final})
            return NormalizedPickupPoint(id=key or "pickup", network="ebay_pickup",
                                         name=ship.get("companyName") or key, address=address)
    return None


def status_of(order: dict[str, Any]) -> str:
    """The OMS reading of an eBay order; a state added next year is kept as it is."""
    if (order.get("cancelStatus") or {}).get("cancelState") == CANCELLED:
        return "cancelled"
    if order.get("orderPaymentStatus") == "FULLY_REFUNDED" and order.get("orderFulfillmentStatus") != "FULFILLED":
        return "cancelled"
    raw = order.get("orderFulfillmentStatus") or ""
    return FULFILLMENT_STATUS.get(raw, raw.lower() or "open")


def marketplace_ships(order: dict[str, Any]) -> bool:
    """Orders eBay fulfils itself (digital, fulfilled by eBay) are never picked."""
    kinds = {s.get("fulfillmentInstructionsType") for s in order.get("fulfillmentStartInstructions") or []}
    return bool(kinds) and kinds <= {"DIGITAL", "FULFILLED_BY_EBAY"}


def normalize(order: dict[str, Any]) -> NormalizedOrder:
    pricing = order.get("pricingSummary") or {}
    total = pricing.get("total") or {}
    currency = total.get("convertedFromCurrency") and total.get("currency") or total.get("currency") or "EUR"
    step = next(iter(order.get("fulfillmentStartInstructions") or []), {})
    ship_to = (step.get("shippingStep") or {}).get("shipTo") or {}
    shipping = _address(ship_to)
    buyer = order.get("buyer") or {}
    billing = _address(buyer.get("buyerRegistrationAddress")) if buyer.get("buyerRegistrationAddress") else shipping
    lines = []
    for ln in order.get("lineItems") or []:
        qty = int(ln.get("quantity") or 1)
        cost = _money(ln.get("lineItemCost"))
        tax = sum((_money(t.get("amount")) for t in ln.get("taxes") or []), Decimal("0"))
        discount = sum((_money(p.get("discountAmount")) for p in ln.get("appliedPromotions") or []), Decimal("0"))
        lines.append(NormalizedLine(sku=(ln.get("sku") or f"ebay-{ln.get('legacyItemId', '')}").strip(),
                                    quantity=qty, unit_price=(cost / qty).quantize(Decimal("0.01")),
                                    title=ln.get("title") or "", external_id=str(ln.get("lineItemId")),
                                    tax=tax, discount=discount))
    service = ((step.get("shippingStep") or {}).get("shippingServiceCode") or "").lower()
    guaranteed = any((ln.get("lineItemFulfillmentInstructions") or {}).get("guaranteedDelivery")
                     for ln in order.get("lineItems") or [])
    vat = collected_vat(order)
    return NormalizedOrder(
        external_id=str(order["orderId"]), number=str(order["orderId"]),
        placed_at=parse_time(order.get("creationDate")) or datetime.now(timezone.utc),
        updated_at=parse_time(order.get("lastModifiedDate")),
        currency=currency, lines=lines, total=_money(total),
        status=status_of(order),
        customer_email=ship_to.get("email") or None,
        customer_name=ship_to.get("fullName") or buyer.get("username") or "",
        shipping_address=shipping, billing_address=billing,
        presentment_currency=total.get("convertedFromCurrency") or None,
        presentment_total=Decimal(str(total["convertedFromValue"])) if total.get("convertedFromValue") else None,
        subtotal=_money(pricing.get("priceSubtotal")),
        shipping_total=_money(pricing.get("deliveryCost")) - _money(pricing.get("deliveryDiscount")).copy_abs(),
        tax_total=_money(pricing.get("tax")),
        discount_total=_money(pricing.get("priceDiscount")).copy_abs(),
        payment_status=PAYMENT_STATUS.get(order.get("orderPaymentStatus") or "", "paid"),
        service_level="express" if guaranteed or "express" in service or "24" in service else "standard",
        fulfillment_channel="marketplace" if marketplace_ships(order) else "merchant",
        tags=["ebay"] + (["tva-collectée-par-ebay"] if vat else []),
        pickup_point=pickup_point(order),
        raw={"ebay_collected_tax": str(vat), "buyer_username": buyer.get("username") or "",
             "legacy_order_id": order.get("legacyOrderId") or "", "sales_record": order.get("salesRecordReference")},
    )


# ----------------------------------------------------------------------------- tracking
#: OMS carrier → eBay's ShippingCarrierCodeType (Trading API GeteBayDetails ShippingCarrierDetails)
CARRIERS = {
    "colissimo": "Colissimo", "laposte": "LaPoste", "la_poste": "LaPoste", "chronopost": "Chronopost",
    "mondial_relay": "MondialRelay", "mondialrelay": "MondialRelay", "relais_colis": "RelaisColis",
    "dpd": "DPD", "gls": "GLS", "ups": "UPS", "fedex": "FedEx", "dhl": "DHL", "tnt": "TNT",
    "colis_prive": "ColisPrive", "geodis": "Geodis", "hermes": "Hermes",
}


def carrier_code(carrier: str | None, service: str | None = None) -> str:
    """The eBay code of the OMS carrier (an aggregator's service name is read too); eBay's
    ``Other`` when unknown."""
    for text in (carrier, service):
        key = re.sub(r"[\s\-]+", "_", (text or "").strip().lower())
        if key in CARRIERS:
            return CARRIERS[key]
        for name, code in CARRIERS.items():
            if key.startswith(name):
                return code
    return "Other"


def clean_tracking(number: str | None) -> str:
    """eBay accepts letters and digits only (spaces and hyphens give error 32300)."""
    return re.sub(r"[^A-Za-z0-9]", "", number or "").upper()


def fulfillment_body(lines: list[tuple[str, int]], carrier: str, tracking: str, shipped: datetime) -> dict[str, Any]:
    return {"lineItems": [{"lineItemId": lid, "quantity": qty} for lid, qty in lines],
            "shippedDate": ebay_time(shipped), "shippingCarrierCode": carrier, "trackingNumber": tracking}


# ----------------------------------------------------------------------------- stock
def price_quantity_requests(items: list[tuple[str, list[str], int]]) -> list[dict[str, Any]]:
    """``bulk_update_price_quantity`` entries: the quantity set on the inventory item and on
    each of its offers (a listing shows the smaller of the two)."""
    return [{"sku": sku, "shipToLocationAvailability": {"quantity": max(qty, 0)},
             "offers": [{"offerId": o, "availableQuantity": max(qty, 0)} for o in offers]}
            for sku, offers, qty in items]


# ----------------------------------------------------------------------------- finances
#: Finances API feeType → analytics fee kind
FEE_KINDS = {"FINAL_VALUE_FEE": "commission", "FINAL_VALUE_FEE_FIXED_PER_ORDER": "fixed",
             "INTERNATIONAL_FEE": "commission", "REGULATORY_OPERATING_FEE": "other",
             "AD_FEE": "other", "PAYMENT_PROCESSING_FEE": "payment"}


def sale_fees(transaction: dict[str, Any]) -> dict[str, Decimal]:
    """The fees eBay took on one SALE transaction, by analytics kind."""
    fees: dict[str, Decimal] = {}
    for line in transaction.get("orderLineItems") or []:
        for fee in line.get("marketplaceFees") or []:
            kind = FEE_KINDS.get(fee.get("feeType") or "", "other")
            fees[kind] = fees.get(kind, Decimal("0")) + _money(fee.get("amount"))
    return fees


# ----------------------------------------------------------------------------- returns, refunds
# Post-Order API v2 (developer.ebay.com/devzone/post-order): ``GET /return/search`` members and
# ``GET /return/{returnId}?fieldgroups=SUMMARY`` are ``ReturnSummaryType`` objects:
# ``returnId``, ``orderId``, ``state`` (ReturnStateEnum), ``status``, ``currentType``,
# ``creationInfo`` (``item.itemId`` / ``transactionId`` / ``returnQuantity``, ``reason``
# (ReturnReasonEnum), ``creationDate.value``), ``sellerTotalRefund`` / ``buyerTotalRefund``
# (``estimatedRefundAmount``, ``actualRefundAmount``: ``{value, currency}``, value a number).

#: ReturnReasonEnum → the OMS reason; a reason added later reads as a change of mind
RETURN_REASONS = {
    "WRONG_SIZE": ReturnReason.SIZE,
    "DEFECTIVE_ITEM": ReturnReason.DEFECT, "ARRIVED_DAMAGED": ReturnReason.DEFECT,
    "MISSING_PARTS": ReturnReason.DEFECT, "EXPIRED_ITEM": ReturnReason.DEFECT,
    "NOT_AS_DESCRIBED": ReturnReason.NOT_AS_DESCRIBED, "DIFFERENT_FROM_LISTING": ReturnReason.NOT_AS_DESCRIBED,
    "FAKE_OR_COUNTERFEIT": ReturnReason.NOT_AS_DESCRIBED,
    "ORDERED_WRONG_ITEM": ReturnReason.WRONG_ITEM, "ORDERED_DIFFERENT_ITEM": ReturnReason.WRONG_ITEM,
    "NO_LONGER_NEED_ITEM": ReturnReason.CHANGED_MIND, "ORDERED_ACCIDENTALLY": ReturnReason.CHANGED_MIND,
    "FOUND_BETTER_PRICE": ReturnReason.CHANGED_MIND, "RETURNING_GIFT": ReturnReason.CHANGED_MIND,
    "ARRIVED_LATE": ReturnReason.CHANGED_MIND, "NO_REASON": ReturnReason.CHANGED_MIND,
    "OTHER": ReturnReason.CHANGED_MIND,
}
DEFAULT_RETURN_REASON = ReturnReason.CHANGED_MIND
#: a refund with no return behind it (seller's refund, eBay's guarantee) carries no reason
REFUND_REASON = ReturnReason.CHANGED_MIND
#: ReturnStateEnum values where the goods are back with the seller
GOODS_ARRIVED = frozenset({"ITEM_DELIVERED"})
#: the buyer keeps the item (a partial refund instead of a return, or "keep it" refund)
GOODS_KEPT = frozenset({"ITEM_KEPT", "PARTIAL_REFUND_INITIATED", "PARTIAL_REFUND_AS_PAYOUT_INITIATED",
                        "PARTIAL_REFUND_NON_PAYPAL_INITIATED", "LESS_THAN_A_FULL_REFUND_ISSUED"})
#: Fulfillment ``refundStatus`` of a refund the buyer has received
REFUND_DONE = "REFUNDED"


def return_reason(code: str | None) -> ReturnReason:
    return RETURN_REASONS.get(str(code or "").upper(), DEFAULT_RETURN_REASON)


def amount_value(amount: dict[str, Any] | None) -> tuple[Decimal | None, str | None]:
    """A Post-Order ``Amount`` (``value`` is a number there, a string in the Sell APIs)."""
    if not amount or amount.get("value") in (None, ""):
        return None, None
    return Decimal(str(amount["value"])).quantize(Decimal("0.01")), amount.get("currency")


@dataclass(frozen=True)
class ReturnFacts:
    """One eBay return as the OMS reads it."""

    return_id: str
    order_id: str
    item_id: str
    transaction_id: str
    quantity: int
    reason: str
    state: str
    refund: Decimal | None
    currency: str | None
    opened_at: datetime | None

    @property
    def goods_back(self) -> bool:
        """The units came back (or will, on a refunded return the buyer does not keep)."""
        return self.state not in GOODS_KEPT

    @property
    def due(self) -> bool:
        """Time to become an OMS return: the goods arrived, or eBay says the buyer was refunded."""
        return self.state in GOODS_ARRIVED or bool(self.refund and self.refund > 0)


def return_facts(summary: dict[str, Any]) -> ReturnFacts:
    info = summary.get("creationInfo") or {}
    item = info.get("item") or {}
    refund, currency = None, None
    for holder in ("sellerTotalRefund", "buyerTotalRefund"):
        refund, currency = amount_value((summary.get(holder) or {}).get("actualRefundAmount"))
        if refund is not None:
            break
    return ReturnFacts(return_id=str(summary.get("returnId") or ""), order_id=str(summary.get("orderId") or ""),
                       item_id=str(item.get("itemId") or ""), transaction_id=str(item.get("transactionId") or ""),
                       quantity=max(int(item.get("returnQuantity") or 1), 0), reason=str(info.get("reason") or ""),
                       state=str(summary.get("state") or ""), refund=refund, currency=currency,
                       opened_at=parse_time((info.get("creationDate") or {}).get("value")))


def order_refunds(order: dict[str, Any]) -> list[dict[str, Any]]:
    """The refunds eBay shows on an order (``paymentSummary.refunds`` and the line items'
    ``refunds`` of line-level refunds), once per ``refundId``: id, status, amount, currency."""
    found: dict[str, dict[str, Any]] = {}
    entries = list((order.get("paymentSummary") or {}).get("refunds") or [])
    for line in order.get("lineItems") or []:
        entries.extend(line.get("refunds") or [])
    for entry in entries:
        rid = str(entry.get("refundId") or entry.get("refundReferenceId") or "")
        if not rid:
            continue
        value, currency = amount_value(entry.get("amount"))
        found.setdefault(rid, {"refundId": rid, "refundStatus": entry.get("refundStatus") or "",
                               "amount": str(value) if value is not None else None, "currency": currency,
                               "refundDate": entry.get("refundDate")})
    return list(found.values())
