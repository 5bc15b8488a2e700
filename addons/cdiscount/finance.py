"""Octopia's financial operations in core's terms: the marketplace's fees of each order into
analytics, its refunds (commercial gestures included) into OMS returns.

Octopia's Financial Report API (developer.octopia-io.net, "Financial management" and "Finance
feature V2") lists the seller's financial operations, each with an ``eventType`` (``Sale``,
``Commission``, ``Refund``, ``Subscription``, ``LogisticFee``…), an ``operationReference`` (the
order or the invoice), a ``paymentState`` and gross / VAT amounts; an order's operations are
there the day after its acceptance. The path (``GET /operations``), its paging and the
``refund`` sub-object (type, reason, lines) are this add-on's reading, to be checked against
the OpenAPI with a seller account (see specs/).

* Every operation read is kept (``cdiscount_operation``, one row per ``operationId``); an
  order's actual fees are recomputed from all its fee operations, so a commission given back
  on a refund nets the commission out, and reading an operation twice changes nothing.
* A ``Refund`` becomes an OMS return, once (``external_id`` = ``octopia:<operationId>``): the
  units come back only for a refund of type ``Return``; a refund or a commercial gesture is a
  refund without goods. The refund of a cancelled order is its cancellation, not a return.
* The poll follows core's poller: a cursor per shop, an overlap, the cursor moved only after
  the pages are committed.
"""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from core import orders as order_flow
from core.analytics import set_actual_fees
from core.connectors.poller import Cursor, Poller
from core.extensions import db
from core.models import Order, OrderStatus, ReturnReason, Shop
from core.money import Money
from core.returns import import_channel_return

from . import mapping
from .client import Client
from .models import CdiscountOperation, CdiscountOrder, CdiscountState
from core.i18n import _

NAME = "cdiscount"
#: Octopia's event types → core.analytics.FEE_KINDS (Sale and Refund are not fees)
FEE_KINDS = {"Commission": "commission", "LogisticFee": "fulfilment", "FulfilmentFee": "fulfilment",
             "ShippingFee": "shipping_label", "ServiceFee": "other"}
REFUND = "Refund"
#: the kinds of refund whose goods came back to the seller
GOODS_BACK = {"Return"}
#: Octopia's refund reasons (unconfirmed codes) → the OMS reason
REASONS = {"ProductDefective": ReturnReason.DEFECT, "Defective": ReturnReason.DEFECT,
           "DamagedProduct": ReturnReason.DEFECT, "NotAsDescribed": ReturnReason.NOT_AS_DESCRIBED,
           "NonCompliantProduct": ReturnReason.NOT_AS_DESCRIBED, "WrongProduct": ReturnReason.WRONG_ITEM,
           "WrongSize": ReturnReason.SIZE, "Retraction": ReturnReason.CHANGED_MIND}
DEFAULT_REASON = ReturnReason.CHANGED_MIND
#: an operation stamped just before the cursor may show late
OVERLAP = timedelta(hours=2)


def external_id(operation_id: str) -> str:
    return f"octopia:{operation_id}"


def state_of(shop: Shop) -> CdiscountState:
    state = db.session.scalar(select(CdiscountState).where(CdiscountState.shop_id == shop.id))
    if state is None:
        state = CdiscountState(shop_id=shop.id)
        db.session.add(state)
        db.session.flush()
    return state


def _orders_by_reference(shop: Shop, references: set[str]) -> dict[str, int]:
    if not references:
        return {}
    rows = db.session.execute(select(CdiscountOrder.octopia_id, CdiscountOrder.order_id).where(
        CdiscountOrder.shop_id == shop.id, CdiscountOrder.octopia_id.in_(sorted(references)))).all()
    return {ref: order_id for ref, order_id in rows}


def store(shop: Shop, page: list[dict[str, Any]]) -> set[int]:
    """Keep the page's operations (one row per operationId); the OMS orders touched."""
    ids = [str(op.get("operationId") or "") for op in page if op.get("operationId")]
    known = {row.operation_id: row for row in db.session.scalars(select(CdiscountOperation).where(
        CdiscountOperation.shop_id == shop.id, CdiscountOperation.operation_id.in_(ids or [""])))}
    orders = _orders_by_reference(shop, {str(op.get("operationReference") or "") for op in page})
    touched: set[int] = set()
    for op in page:
        op_id = str(op.get("operationId") or "")
        if not op_id:
            continue
        row = known.get(op_id)
        if row is None:
            row = CdiscountOperation(shop_id=shop.id, operation_id=op_id, imported=False)
            db.session.add(row)
            known[op_id] = row
        row.reference = str(op.get("operationReference") or "")[:64]
        row.order_id = orders.get(row.reference, row.order_id)
        row.event_type = str(op.get("eventType") or "")[:40]
        row.amount = mapping.money((op.get("amount") or {}).get("gross"))
        row.currency = str(op.get("currency") or "EUR")[:3]
        row.payment_state = op.get("paymentState")
        row.data = json.dumps(op, ensure_ascii=False, default=str)
        if row.order_id is not None:
            touched.add(row.order_id)
    db.session.flush()
    return touched


def link_waiting(shop: Shop) -> set[int]:
    """Operations read before their order was imported: linked now that it is (a refund among
    them imported then)."""
    rows = db.session.scalars(select(CdiscountOperation).where(CdiscountOperation.shop_id == shop.id,
                                                               CdiscountOperation.order_id.is_(None))).all()
    orders = _orders_by_reference(shop, {r.reference for r in rows})
    touched = set()
    for row in rows:
        if row.reference in orders:
            row.order_id = orders[row.reference]
            touched.add(row.order_id)
            if row.event_type == REFUND and not row.imported and row.data:
                import_refund(shop, db.session.get(Order, row.order_id), json.loads(row.data))
                row.imported = True
    db.session.flush()
    return touched


def fees_of(order: Order) -> list[tuple[str, Money]]:
    """The order's fees from its fee operations, by kind and currency (a fee is a positive
    amount; a kind whose credits exceed its charges is left out)."""
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in db.session.scalars(select(CdiscountOperation).where(
            CdiscountOperation.shop_id == order.shop_id, CdiscountOperation.order_id == order.id)):
        kind = FEE_KINDS.get(row.event_type)
        if kind is not None:
            totals[(kind, row.currency)] -= row.amount
    return [(kind, Money(amount, currency)) for (kind, currency), amount in sorted(totals.items()) if amount > 0]


def _store_fees(order: Order) -> bool:
    from core.models import AnalyticsActualFee

    fees = fees_of(order)
    have = sorted((f.kind, f.amount, f.currency) for f in db.session.scalars(
        select(AnalyticsActualFee).where(AnalyticsActualFee.order_id == order.id)))
    want = sorted((kind, m.quantize().amount, m.currency) for kind, m in fees)
    if have == want:
        return False
    set_actual_fees(order, fees)
    text = ", ".join(f"{m.quantize().amount} {m.currency}" for _k, m in fees) or "aucun"
    order_flow.record(order, "channel", _("frais Cdiscount relevés : %(text)s", text=text), source=NAME,
                      data={"fees": [[k, str(m.amount), m.currency] for k, m in fees]})
    return True


def _reason(refund: dict[str, Any]) -> ReturnReason:
    return REASONS.get(str(refund.get("reason") or ""), DEFAULT_REASON)


def import_refund(shop: Shop, order: Order, op: dict[str, Any]) -> bool:
    """One Refund operation as an OMS return (once); False when it is not one to import."""
    if order.status == OrderStatus.CANCELLED:
        return False  # a cancelled order's refund is its cancellation
    amount = -mapping.money((op.get("amount") or {}).get("gross"))
    currency = str(op.get("currency") or order.currency)
    if currency != order.currency:
        return False  # Octopia pays in the order's currency; another one is not guessed at
    refund = op.get("refund") if isinstance(op.get("refund"), dict) else {}
    goods = []
    if refund.get("type") in GOODS_BACK:
        by_line = {ln.external_id: ln for ln in order.lines if ln.external_id}
        goods = [(by_line[str(ln.get("orderLineId"))], int(ln.get("quantity") or 0))
                 for ln in refund.get("lines") or [] if str(ln.get("orderLineId")) in by_line]
    import_channel_return(shop, order, goods, _reason(refund),
                          Money(amount, order.currency) if amount > 0 else None,
                          external_id(str(op["operationId"])))
    return True


def handle_page(shop: Shop, page: list[dict[str, Any]]) -> None:
    touched = store(shop, page)
    rows = {r.operation_id: r for r in db.session.scalars(select(CdiscountOperation).where(
        CdiscountOperation.shop_id == shop.id,
        CdiscountOperation.operation_id.in_([str(op.get("operationId")) for op in page] or [""])))}
    for op in page:
        row = rows.get(str(op.get("operationId")))
        if row is None or row.event_type != REFUND or row.order_id is None or row.imported:
            continue
        order = db.session.get(Order, row.order_id)
        import_refund(shop, order, op)
        row.imported = True
    for order_id in sorted(touched):
        _store_fees(db.session.get(Order, order_id))


def read(shop: Shop, client: Client, now: Callable[[], datetime], first_days: int = 30) -> int:
    """Read the operations updated since the shop's cursor; fees and refunds stored."""
    state = state_of(shop)
    db.session.commit()

    def pages(since: datetime | None) -> Iterator[list[dict[str, Any]]]:
        since = since or now() - timedelta(days=first_days)
        page = 1
        while True:
            items, more = client.operations_page(page, updatedAtMin=mapping.iso(since))
            yield items
            if not more:
                return
            page += 1

    def save(when: datetime) -> None:
        state.finance_cursor, state.finance_read_at = when, now()
        for order_id in sorted(link_waiting(shop)):  # orders imported since their operations
            _store_fees(db.session.get(Order, order_id))

    cursor = Cursor(load=lambda: state.finance_cursor, save=save)
    result = Poller(cursor, pages, lambda page: handle_page(shop, page), db.session.commit,
                    overlap=OVERLAP, now=now).run()
    return result.items
