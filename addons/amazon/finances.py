"""What Amazon actually charged and refunded for an order: Finances API v0
``listFinancialEventsByOrderId`` (0.5 request/s, burst 30, ``NextToken`` pages).

Amazon posts an order's financial events some time after each shipment (the model warns
that orders of the last 48 hours may not be included), and a refund event when the buyer
is refunded. So every shipped Amazon order gets a schedule (``AmazonOrder.finance_due_at``):

* first read ``FIRST_READ_DELAY`` after the shipment (confirmed by the OMS for FBM orders,
  reported by Amazon for FBA orders), then every ``RETRY_EVERY`` while no shipment event is
  posted, for ``FEES_WAIT`` at most (the fee schedule then stays the order's estimate);
* once the fees are there, again ``REFUND_CHECKS`` after the shipment, for the refunds.

A read replaces the order's actual fees (``core.analytics.set_actual_fees``: item, shipment
and order fees of its shipment events and the fee adjustments of its refund events, netted
per kind, as positive costs) and imports each refund event as a return
(``core.returns.import_channel_return``, idempotent on its external id). An order is read in
one go and committed; a rate-limit wait hands the rest of the due orders to a later run.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from core import orders as order_flow
from core.analytics import set_actual_fees
from core.extensions import db
from core.models import AnalyticsActualFee, Order, OrderLine, Return, ReturnReason, Shop
from core.money import Money
from core.returns import import_channel_return

from .client import AmazonError, SellingPartnerClient
from .clock import as_datetime
from .models import AmazonOrder
from core.i18n import _

log = logging.getLogger(__name__)

#: Amazon posts the shipment event at shipment; it is not always readable at once
FIRST_READ_DELAY = timedelta(hours=2)
#: while the shipment event is missing, read again this often…
RETRY_EVERY = timedelta(hours=6)
#: …for this long after the shipment, then keep the fee schedule's estimate
FEES_WAIT = timedelta(days=14)
#: once the fees are read, read again this long after the shipment for refunds (refunds
#: issued later are not seen: read them in Seller Central)
REFUND_CHECKS = (timedelta(days=7), timedelta(days=30), timedelta(days=60))
PAGE_SIZE = 100
#: due orders fetched from the database at a time
BATCH = 50

#: Amazon fee types (FeeComponent.FeeType) → core.analytics.FEE_KINDS. Amazon charges no
#: separate payment fee (its referral fee covers it). The FBA fees (pick, pack and delivery
#: of the parcel by Amazon) are "fulfilment"; shipping Amazon charges back is
#: "shipping_label". Any other type is "other".
FEE_KINDS = {
    "Commission": "commission", "RefundCommission": "commission", "ReferralFee": "commission",
    "VariableClosingFee": "fixed", "FixedClosingFee": "fixed", "PerItemFee": "fixed",
    "FBAPerUnitFulfillmentFee": "fulfilment", "FBAPerOrderFulfillmentFee": "fulfilment",
    "FBAWeightBasedFee": "fulfilment", "FulfillmentFee": "fulfilment",
    "ShippingChargeback": "shipping_label", "ShippingHB": "shipping_label",
    "GiftwrapChargeback": "other",
}
#: fee lists of a shipment or refund event, and of its items
EVENT_FEE_LISTS = ("ShipmentFeeList", "ShipmentFeeAdjustmentList", "OrderFeeList", "OrderFeeAdjustmentList")
ITEM_FEE_LISTS = ("ItemFeeList", "ItemFeeAdjustmentList")


def fee_kind(fee_type: str) -> str:
    return FEE_KINDS.get(fee_type, "other")


@dataclass
class FinanceResult:
    orders: int = 0
    fees: int = 0  # orders whose fees were read
    waiting: int = 0  # orders whose shipment event is not posted yet
    refunds: int = 0  # refund events imported (new returns)

    def __str__(self) -> str:
        return (_("%(orders)s commande(s) lue(s) : frais relevés pour %(fees)s, %(waiting)s en attente de "
                  "publication par Amazon, %(refunds)s remboursement(s) importé(s)",
                  orders=self.orders, fees=self.fees, waiting=self.waiting, refunds=self.refunds))


@dataclass
class OrderEvents:
    """The financial events of one order, every page read."""

    shipments: list[dict[str, Any]] = field(default_factory=list)
    refunds: list[dict[str, Any]] = field(default_factory=list)


# ----------------------------------------------------------------------------- schedule
def now_of(client_or_clock: Any) -> datetime:
    clock = getattr(client_or_clock, "clock", client_or_clock)
    return as_datetime(clock.time())


def schedule_after_shipment(row: AmazonOrder, when: datetime) -> None:
    """The order (or part of it) has shipped at ``when``: read its events after a while."""
    row.shipped_at = max(row.shipped_at, when) if row.shipped_at else when
    due = when + FIRST_READ_DELAY
    row.finance_due_at = min(row.finance_due_at, due) if row.finance_due_at else due


def _next_read(row: AmazonOrder, now: datetime, fees_found: bool) -> datetime | None:
    shipped = row.shipped_at or now
    if not fees_found:
        return now + RETRY_EVERY if now < shipped + FEES_WAIT else None
    return next((shipped + d for d in REFUND_CHECKS if shipped + d > now), None)


def due_orders(shop: Shop, now: datetime, after_id: int = 0) -> list[AmazonOrder]:
    return list(db.session.scalars(
        select(AmazonOrder).where(AmazonOrder.shop_id == shop.id, AmazonOrder.finance_due_at.is_not(None),
                                  AmazonOrder.finance_due_at <= now, AmazonOrder.id > after_id)
        .order_by(AmazonOrder.id).limit(BATCH)))


def has_due(shop_id: int, now: datetime) -> bool:
    return db.session.scalar(select(AmazonOrder.id).where(
        AmazonOrder.shop_id == shop_id, AmazonOrder.finance_due_at.is_not(None),
        AmazonOrder.finance_due_at <= now).limit(1)) is not None


# ----------------------------------------------------------------------------- reading
def run(shop: Shop, client: SellingPartnerClient) -> FinanceResult:
    """Read the events of every due order of the shop, one commit per order."""
    result = FinanceResult()
    now = now_of(client)
    last_id = 0
    while rows := due_orders(shop, now, last_id):
        for row in rows:
            last_id = row.id
            read_order(shop, client, row, result)
            db.session.commit()
    return result


def list_events(client: SellingPartnerClient, amazon_order_id: str) -> OrderEvents:
    """Every page of ``listFinancialEventsByOrderId`` for one order (pages may be empty)."""
    out = OrderEvents()
    token: str | None = None
    while True:
        params: dict[str, Any] = {"MaxResultsPerPage": PAGE_SIZE}
        if token:
            params["NextToken"] = token
        try:
            body = client.call("listFinancialEventsByOrderId", path={"orderId": amazon_order_id},
                               params=params).body
        except AmazonError as exc:
            if exc.status in (400, 404):  # nothing posted for it (or a page token gone): read again later
                log.warning("listFinancialEventsByOrderId %s: %s", amazon_order_id, exc)
                return OrderEvents()
            raise
        payload = body.get("payload") or {}
        events = payload.get("FinancialEvents") or {}
        out.shipments += [e for e in events.get("ShipmentEventList") or []
                          if e.get("AmazonOrderId") in (None, amazon_order_id)]
        out.refunds += [e for e in events.get("RefundEventList") or []
                        if e.get("AmazonOrderId") in (None, amazon_order_id)]
        token = payload.get("NextToken") or None
        if not token:
            return out


def read_order(shop: Shop, client: SellingPartnerClient, row: AmazonOrder, result: FinanceResult) -> None:
    """Read one order's events: its actual fees, its refunds, and when to read it again."""
    order = db.session.get(Order, row.order_id)
    events = list_events(client, row.amazon_order_id)
    now = now_of(client)
    result.orders += 1
    if order is None:
        row.finance_due_at = None
        return
    found = bool(events.shipments)
    if found:
        fees = actual_fees(events)
        if _store_fees(order, fees):
            text = ", ".join(str(m) for m in _totals(fees)) or "aucun"
            order_flow.record(order, "channel", _("frais Amazon relevés : %(text)s", text=text),
                              source="amazon", data={"fees": [[k, str(m.amount), m.currency] for k, m in fees]})
        row.fees_read_at = row.fees_read_at or now
        result.fees += 1
    else:
        result.waiting += 1
    for event in events.refunds:
        if import_refund(shop, order, event):
            result.refunds += 1
    row.finance_due_at = _next_read(row, now, found or row.fees_read_at is not None)


def _amount(currency: dict[str, Any] | None) -> tuple[Decimal, str] | None:
    if not currency or currency.get("CurrencyAmount") is None or not currency.get("CurrencyCode"):
        return None
    return Decimal(str(currency["CurrencyAmount"])), str(currency["CurrencyCode"])


def actual_fees(events: OrderEvents) -> list[tuple[str, Money]]:
    """The fees of the shipment events and the fee adjustments of the refund events, as
    positive costs netted per kind and currency (Amazon writes a charge as a negative
    amount, a fee given back as a positive one). A kind whose credits exceed its charges
    is left out: it is no cost, and the refund itself is imported as a return."""
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)

    def add(fees: list[dict[str, Any]] | None) -> None:
        for fee in fees or []:
            amount = _amount(fee.get("FeeAmount"))
            if amount is not None:
                totals[(fee_kind(str(fee.get("FeeType") or "")), amount[1])] -= amount[0]

    for event in events.shipments + events.refunds:
        for name in EVENT_FEE_LISTS:
            add(event.get(name))
        for item in (event.get("ShipmentItemList") or []) + (event.get("ShipmentItemAdjustmentList") or []):
            for name in ITEM_FEE_LISTS:
                add(item.get(name))
    return [(kind, Money(total, currency).quantize()) for (kind, currency), total in sorted(totals.items())
            if Money(total, currency).quantize().amount > 0]


def _totals(fees: list[tuple[str, Money]]) -> list[Money]:
    """The fees' sum per currency."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for _kind, money in fees:
        sums[money.currency] += money.amount
    return [Money(amount, currency) for currency, amount in sorted(sums.items())]


def _store_fees(order: Order, fees: list[tuple[str, Money]]) -> bool:
    """Replace the order's actual fees when they changed; True when they did."""
    have = sorted((f.kind, f.amount, f.currency) for f in db.session.scalars(
        select(AnalyticsActualFee).where(AnalyticsActualFee.order_id == order.id)))
    want = sorted((kind, m.amount, m.currency) for kind, m in fees)
    if have == want:
        return False
    set_actual_fees(order, fees)
    return True


def refund_external_id(event: dict[str, Any]) -> str | None:
    """A stable id of a refund event: its first order-adjustment item id (Amazon's id of the
    refunded item), else its posted date and SKUs."""
    items = event.get("ShipmentItemAdjustmentList") or []
    ids = sorted(str(i["OrderAdjustmentItemId"]) for i in items if i.get("OrderAdjustmentItemId"))
    if ids:
        return f"refund-{ids[0]}"
    skus = "-".join(sorted(str(i.get("SellerSKU") or "") for i in items))
    posted = str(event.get("PostedDate") or "")
    return f"refund-{event.get('AmazonOrderId', '')}-{posted}-{skus}"[:128] if posted else None


def import_refund(shop: Shop, order: Order, event: dict[str, Any]) -> bool:
    """One refund event → one return of the order (units and amount); True when new."""
    external_id = refund_external_id(event)
    if external_id is None:
        log.warning("Amazon refund event without date nor adjustment id for %s", order.external_id)
        return False
    by_item = {ln.external_id: ln for ln in order.lines if ln.external_id}
    by_sku: dict[str, OrderLine] = {}
    for ln in order.lines:
        by_sku.setdefault(ln.sku, ln)
    lines: list[tuple[OrderLine, int]] = []
    refunded: dict[str, Decimal] = defaultdict(Decimal)
    for item in event.get("ShipmentItemAdjustmentList") or []:
        line = by_item.get(item.get("OrderItemId")) or by_sku.get(item.get("SellerSKU"))
        qty = int(item.get("QuantityShipped") or 0)
        if line is not None and qty > 0:
            lines.append((line, qty))
        # what the buyer got back: charges given back (negative) net of promotions taken back
        for charge in item.get("ItemChargeAdjustmentList") or []:
            amount = _amount(charge.get("ChargeAmount"))
            if amount is not None:
                refunded[amount[1]] -= amount[0]
        for promo in item.get("PromotionAdjustmentList") or []:
            amount = _amount(promo.get("PromotionAmount"))
            if amount is not None:
                refunded[amount[1]] -= amount[0]
    for charge in event.get("OrderChargeAdjustmentList") or []:
        amount = _amount(charge.get("ChargeAmount"))
        if amount is not None:
            refunded[amount[1]] -= amount[0]
    other = [c for c in refunded if c != order.currency and refunded[c]]
    if other:
        log.warning("Amazon refund %s of %s in %s, order in %s: not imported", external_id, order.external_id,
                    ", ".join(other), order.currency)
        return False
    amount = max(refunded.get(order.currency, Decimal(0)), Decimal(0))
    new = db.session.scalar(select(Return.id).where(Return.shop_id == shop.id,
                                                    Return.external_id == external_id)) is None
    # financial events give no reason for a refund: "changed mind" is the default the
    # merchant can correct on the return
    import_channel_return(shop, order, lines, ReturnReason.CHANGED_MIND, Money(amount, order.currency),
                          external_id)
    return new
