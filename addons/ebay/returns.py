"""eBay's returns and refunds in core's terms: each becomes one OMS return
(:func:`core.returns.import_channel_return`).

Sources and what is read from them (:mod:`.mapping` holds the payload side):

* **Returns** (Post-Order ``GET /post-order/v2/return/search`` by creation date, then
  ``GET /post-order/v2/return/{returnId}`` for the ones still moving): every return is kept
  in ``ebay_return`` as read. It becomes an OMS return (``external_id`` = the ``returnId``)
  once the goods are back with the seller (``ITEM_DELIVERED``) or eBay reports the buyer's
  refund (``actualRefundAmount``); a return the buyer keeps the item of (``ITEM_KEPT``, a
  partial refund instead) is a refund without goods. Until then the order's history says a
  return was asked for, once. A return closed with neither (cancelled by the buyer, refused
  by eBay) imports nothing.
* **Refunds** (Fulfillment ``getOrder`` / ``getOrders`` → ``paymentSummary.refunds[]``, read
  with every order; a Finances ``REFUND`` transaction makes the add-on read its order again):
  a ``REFUNDED`` refund becomes an OMS return without goods (``external_id`` =
  ``refund:<refundId>``), unless it is the refund the OMS issued itself (``issue_refund``,
  ``ebay_order.refund_id``), or the refund of an eBay return of the same order (the same
  amount; the return carries it), or the refund of a cancelled order (its cancellation). While
  an eBay return of the order is open and not refunded as last read, the order's refunds
  wait for that return to be read again.
* A return or refund whose order the OMS has not imported yet is kept, with its eBay order
  id, and imported when the order arrives (:func:`link_waiting`, at each read).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select

from core import orders as order_flow
from core.extensions import db
from core.models import Order, OrderLine, OrderStatus, Return, Shop, utcnow
from core.money import Money
from core.returns import REASONS, import_channel_return

from . import mapping
from .models import EbayListing, EbayOrder, EbayReturn
from core.i18n import _

RETURN, REFUND = "return", "refund"
#: ``settled`` of a refund that imports nothing, and why
FROM_OMS, OF_RETURN, OF_CANCELLATION = "issued from the OMS", "return", "cancellation"


def refund_external_id(refund_id: str) -> str:
    return f"refund:{refund_id}"


def _link_for(shop: Shop, ebay_order_id: str) -> EbayOrder | None:
    if not ebay_order_id:
        return None
    return db.session.scalar(select(EbayOrder).where(
        EbayOrder.shop_id == shop.id,
        or_(EbayOrder.ebay_order_id == ebay_order_id, EbayOrder.legacy_order_id == ebay_order_id)))


def _row(shop: Shop, kind: str, external_id: str) -> EbayReturn:
    row = db.session.scalar(select(EbayReturn).where(EbayReturn.shop_id == shop.id, EbayReturn.kind == kind,
                                                     EbayReturn.external_id == external_id))
    if row is None:
        row = EbayReturn(shop_id=shop.id, kind=kind, external_id=external_id, data={}, noted=False)
        db.session.add(row)
    return row


# ----------------------------------------------------------------------------- returns
def store_return(shop: Shop, summary: dict[str, Any]) -> EbayReturn | None:
    """Keep one Post-Order return as read, and import it when it is due."""
    facts = mapping.return_facts(summary)
    if not facts.return_id:
        return None
    row = _row(shop, RETURN, facts.return_id)
    row.ebay_order_id = facts.order_id[:64]
    row.state, row.reason = facts.state[:48], facts.reason[:48]
    row.item_id, row.transaction_id = facts.item_id[:32], facts.transaction_id[:32]
    row.quantity, row.refund_amount = facts.quantity, facts.refund
    row.currency = (facts.currency or row.currency or "EUR")[:3]
    row.opened_at = facts.opened_at or row.opened_at
    row.data, row.read_at = summary, utcnow()
    link = _link_for(shop, facts.order_id)
    if link is not None and link.order_id is not None:
        row.order_id = link.order_id
    db.session.flush()
    settle_return(shop, row)
    return row


def _line_of(order: Order, row: EbayReturn) -> OrderLine | None:
    """The order line a return is about: eBay's ``transactionId`` is the Fulfillment line
    item id; else the listing (``itemId``) read back to its SKU; else the order's only line."""
    by_id = {ln.external_id: ln for ln in order.lines if ln.external_id}
    if row.transaction_id and row.transaction_id in by_id:
        return by_id[row.transaction_id]
    if row.item_id:
        sku = db.session.scalar(select(EbayListing.sku).where(EbayListing.shop_id == row.shop_id,
                                                              EbayListing.legacy_item_id == row.item_id))
        lines = [ln for ln in order.lines if sku and ln.sku == sku]
        if len(lines) == 1:
            return lines[0]
    return order.lines[0] if len(order.lines) == 1 else None


def settle_return(shop: Shop, row: EbayReturn) -> bool:
    """Import the return (once; a later read updates its refund) when it is due; until then
    note the buyer's request on the order once. False when nothing was imported."""
    if row.order_id is None:
        return False
    order = db.session.get(Order, row.order_id)
    facts = mapping.return_facts(row.data or {})
    if not facts.due:
        if not row.noted and row.state != "CLOSED":
            line = _line_of(order, row)
            what = f"{row.quantity} × {line.sku}" if line is not None else f"{row.quantity} article(s)"
            order_flow.record(order, "channel", _("retour demandé par l'acheteur sur eBay (n° %(external_id)s) : "
                                                  "%(what)s, motif « %(reasons)s » ; répondez-lui dans le Seller "
                                                  "Hub (Commandes › Retours)",
                                                  external_id=row.external_id, what=what, reasons=REASONS[mapping.return_reason(row.reason)]), source="ebay",
                              data={"ebay_return": row.external_id})
            row.noted = True
        return False
    line = _line_of(order, row)
    goods = [(line, row.quantity)] if facts.goods_back and line is not None and row.quantity else []
    refund = None
    if row.refund_amount is not None and row.refund_amount > 0 and (row.currency or order.currency) == order.currency:
        refund = Money(row.refund_amount, order.currency)
    ret = import_channel_return(shop, order, goods, mapping.return_reason(row.reason), refund, row.external_id)
    row.return_id, row.settled = ret.id, "imported"
    return True


# ----------------------------------------------------------------------------- refunds on orders
def _claimed_amounts(shop: Shop, order_id: int) -> list[Decimal]:
    """The refunds of the order's eBay returns not matched to an order refund yet."""
    amounts = [r.refund_amount for r in db.session.scalars(select(EbayReturn).where(
        EbayReturn.shop_id == shop.id, EbayReturn.kind == RETURN, EbayReturn.order_id == order_id,
        EbayReturn.refund_amount.is_not(None)).order_by(EbayReturn.id))]
    for matched in db.session.scalars(select(EbayReturn).where(
            EbayReturn.shop_id == shop.id, EbayReturn.kind == REFUND, EbayReturn.order_id == order_id,
            EbayReturn.settled == OF_RETURN)):
        if matched.refund_amount in amounts:
            amounts.remove(matched.refund_amount)
    return amounts


def _return_pending(shop: Shop, order_id: int) -> bool:
    """An eBay return of the order still open and not refunded as last read."""
    return db.session.scalar(select(EbayReturn.id).where(
        EbayReturn.shop_id == shop.id, EbayReturn.kind == RETURN, EbayReturn.order_id == order_id,
        EbayReturn.refund_amount.is_(None), EbayReturn.state != "CLOSED").limit(1)) is not None


def settle_refunds(shop: Shop, links: Iterable[EbayOrder]) -> int:
    """The orders' completed refunds into OMS returns without goods (see the module's
    rules); the refunds already settled are left alone. The count imported."""
    done = 0
    for link in links:
        if link.order_id is None:
            continue
        for refund in link.refunds or []:
            if refund.get("refundStatus") != mapping.REFUND_DONE or not refund.get("amount"):
                continue
            row = _row(shop, REFUND, str(refund["refundId"]))
            if row.settled:
                continue
            order = db.session.get(Order, link.order_id)
            row.ebay_order_id, row.order_id = link.ebay_order_id, order.id
            row.state, row.data, row.read_at = mapping.REFUND_DONE, refund, utcnow()
            row.refund_amount = Decimal(str(refund["amount"]))
            row.currency = (refund.get("currency") or order.currency)[:3]
            if link.refund_id and str(link.refund_id) == row.external_id:
                row.settled = FROM_OMS
            elif order.status == OrderStatus.CANCELLED:
                row.settled = OF_CANCELLATION
            elif row.refund_amount in _claimed_amounts(shop, order.id):
                row.settled = OF_RETURN
            elif _return_pending(shop, order.id):
                continue  # an eBay return of the order may be this refund: settled once it is read again
            elif db.session.scalar(select(Return.id).where(Return.shop_id == shop.id, Return.external_id == (
                    refund_external_id(row.external_id)))) is not None:
                row.settled = "imported"
            elif row.currency != order.currency:
                row.settled = None  # eBay refunds in the order's currency; another one is not guessed at
                continue
            else:
                ret = import_channel_return(shop, order, [], mapping.REFUND_REASON,
                                            Money(row.refund_amount, order.currency),
                                            refund_external_id(row.external_id))
                row.return_id, row.settled = ret.id, "imported"
                done += 1
            db.session.flush()
    return done


def link_waiting(shop: Shop) -> int:
    """Returns read before their order was imported: linked and settled now that it is."""
    rows = list(db.session.scalars(select(EbayReturn).where(
        EbayReturn.shop_id == shop.id, EbayReturn.kind == RETURN, EbayReturn.order_id.is_(None))))
    linked = 0
    for row in rows:
        link = _link_for(shop, row.ebay_order_id)
        if link is None or link.order_id is None:
            continue
        row.order_id = link.order_id
        db.session.flush()
        settle_return(shop, row)
        linked += 1
    return linked


#: a return still open this long after it was opened is left to the Seller Hub
REFRESH_DAYS = 120


def open_returns(shop: Shop, skip: set[str]) -> list[EbayReturn]:
    """Returns whose state may still change: not closed, not imported with their refund, opened
    in the last :data:`REFRESH_DAYS` days (eBay's return search filters on creation only, so
    these are read again one by one)."""
    since = utcnow() - timedelta(days=REFRESH_DAYS)
    rows = db.session.scalars(select(EbayReturn).where(
        EbayReturn.shop_id == shop.id, EbayReturn.kind == RETURN, EbayReturn.state != "CLOSED",
        or_(EbayReturn.return_id.is_(None), EbayReturn.refund_amount.is_(None)),
        or_(EbayReturn.opened_at.is_(None), EbayReturn.opened_at >= since)).order_by(EbayReturn.id))
    return [r for r in rows if r.external_id not in skip]
