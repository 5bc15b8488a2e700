"""Shopify refunds and payment fees in core's terms.

A Shopify ``Refund`` becomes an OMS return (:func:`core.returns.import_channel_return`,
keyed by the refund's numeric id, so a redelivered webhook or the poll after a webhook
changes nothing). Refunds arrive three ways, mapped to one :class:`RefundData`:

* the ``refunds`` array of the REST ``Order`` in ``orders/*`` webhooks and the
  ``refunds/create`` webhook (a REST ``Refund``): :func:`from_rest`;
* the reconciliation poll: ``Order.refunds`` ids, then ``refund(id:)`` for a refund the OMS
  has not imported yet: :func:`from_graphql`.

Units come back with the refund lines whose ``restock_type`` is ``return`` (or the older
``legacy_restock``); ``no_restock`` lines are refunded without goods. A refund that only
cancels unfulfilled units (all lines ``cancel``) or a refund of a cancelled order is a
cancellation, not a return, and is left out. The reason comes from the Shopify ``Return``
the refund closes when there is one (``read_returns`` scope), else "changement d'avis".

Fees: ``OrderTransaction.fees`` (Shopify Payments' processing fees; empty for any other
gateway) of the successful transactions become the order's actual payment fees.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from core import analytics
from core.extensions import db
from core.models import AnalyticsActualFee, Order, OrderStatus, Return, ReturnReason, Shop
from core.money import Money
from core.returns import import_channel_return

from .client import numeric_id

#: Shopify's ``ReturnReason`` → the OMS reason
REASONS = {
    "SIZE_TOO_SMALL": ReturnReason.SIZE, "SIZE_TOO_LARGE": ReturnReason.SIZE,
    "DEFECTIVE": ReturnReason.DEFECT, "NOT_AS_DESCRIBED": ReturnReason.NOT_AS_DESCRIBED,
    "UNWANTED": ReturnReason.CHANGED_MIND, "STYLE": ReturnReason.CHANGED_MIND, "COLOR": ReturnReason.CHANGED_MIND,
    "WRONG_ITEM": ReturnReason.WRONG_ITEM,
}
DEFAULT_REASON = ReturnReason.CHANGED_MIND
#: restock types of units that came back to the merchant
GOODS_BACK = ("return", "legacy_restock")
FEE_KIND = "payment"

#: the Shopify ``ReturnReason`` values of the return a refund closes (refund numeric id → values)
ReasonLookup = Callable[[str], list[str]]
#: a refund read from GraphQL (refund numeric id → data, None if Shopify no longer has it)
RefundLookup = Callable[[str], "RefundData | None"]


@dataclass(frozen=True)
class RefundLine:
    line_item_id: str
    quantity: int
    restock_type: str  # lower case, as in REST: return, no_restock, cancel, legacy_restock


@dataclass(frozen=True)
class RefundData:
    """One Shopify refund: its numeric id, lines and the amount refunded (``currency`` is
    the amount's currency, None when unknown = the order's)."""

    external_id: str
    lines: list[RefundLine] = field(default_factory=list)
    amount: Decimal = Decimal("0")
    currency: str | None = None


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal("0")


def from_rest(refund: dict[str, Any]) -> RefundData:
    """A REST ``Refund`` (webhook): the amount is what its successful ``refund``
    transactions gave back, in their currency."""
    lines = [RefundLine(str(numeric_id(rli.get("line_item_id") or (rli.get("line_item") or {}).get("id"))),
                        int(rli.get("quantity") or 0), str(rli.get("restock_type") or "no_restock").lower())
             for rli in refund.get("refund_line_items") or []]
    paid = [t for t in refund.get("transactions") or []
            if t.get("kind") == "refund" and t.get("status") == "success"]
    currencies = {t.get("currency") for t in paid if t.get("currency")}
    return RefundData(external_id=str(numeric_id(refund["id"])), lines=lines,
                      amount=sum((_decimal(t.get("amount")) for t in paid), Decimal("0")),
                      currency=currencies.pop() if len(currencies) == 1 else None)


def from_graphql(node: dict[str, Any]) -> RefundData:
    """A GraphQL ``Refund`` (:data:`~.graphql.REFUND`): the amount is ``totalRefundedSet``
    in the shop's currency."""
    lines = [RefundLine(str(numeric_id((rli.get("lineItem") or {}).get("id"))), int(rli.get("quantity") or 0),
                        str(rli.get("restockType") or "NO_RESTOCK").lower())
             for rli in (node.get("refundLineItems") or {}).get("nodes") or []]
    money = (node.get("totalRefundedSet") or {}).get("shopMoney") or {}
    return RefundData(external_id=str(numeric_id(node["id"])), lines=lines, amount=_decimal(money.get("amount")),
                      currency=money.get("currencyCode"))


def known(shop: Shop, external_id: str) -> Return | None:
    return db.session.scalar(select(Return).where(Return.shop_id == shop.id, Return.external_id == external_id))


def _order_amount(order: Order, amount: Decimal, currency: str | None) -> Money | None:
    """The refund in the order's (shop) currency: a refund paid in the customer's currency
    is converted at the order's own rate (its total in both currencies)."""
    if amount <= 0:
        return None
    if currency in (None, order.currency):
        return Money(amount, order.currency).quantize()
    if currency == order.presentment_currency and order.presentment_total:
        return Money(amount * order.total / order.presentment_total, order.currency).quantize()
    return None


def reason_from(values: Iterable[str]) -> ReturnReason:
    """The OMS reason of a Shopify return: its most frequent known reason."""
    mapped = [REASONS[v] for v in values if v in REASONS]
    return Counter(mapped).most_common(1)[0][0] if mapped else DEFAULT_REASON


def import_refund(shop: Shop, order: Order, data: RefundData, reasons: ReasonLookup | None = None) -> Return | None:
    """Import one refund as an OMS return (None for a cancellation); idempotent."""
    if order.status == OrderStatus.CANCELLED:
        return None
    if data.lines and all(ln.restock_type == "cancel" for ln in data.lines):
        return None
    by_item = {ln.external_id: ln for ln in order.lines if ln.external_id}
    goods = [(by_item[ln.line_item_id], ln.quantity) for ln in data.lines
             if ln.restock_type in GOODS_BACK and ln.quantity > 0 and ln.line_item_id in by_item]
    reason = DEFAULT_REASON
    if goods and reasons is not None and known(shop, data.external_id) is None:
        reason = reason_from(reasons(data.external_id))
    return import_channel_return(shop, order, goods, reason, _order_amount(order, data.amount, data.currency),
                                 data.external_id)


def order_of(shop: Shop, order_id: Any) -> Order | None:
    ident = numeric_id(order_id)
    if not ident:
        return None
    return db.session.scalar(select(Order).where(Order.shop_id == shop.id, Order.external_id == str(ident)))


def import_rest_refunds(shop: Shop, refunds: Iterable[dict[str, Any]], order: Order | None,
                        reasons: ReasonLookup | None = None, exact: RefundLookup | None = None) -> int:
    """The REST refunds of a webhook (an order's ``refunds`` or one ``refunds/create``);
    returns how many became (or already were) OMS returns. REST transactions are in the
    customer's currency: a new refund paid in another currency than the order's is read
    again from GraphQL (``exact``) for its amount in the shop's currency."""
    done = 0
    for refund in refunds:
        target = order or order_of(shop, refund.get("order_id"))
        if target is None or not refund.get("id"):
            continue
        data = from_rest(refund)
        if data.currency not in (None, target.currency):
            if known(shop, data.external_id) is not None:  # its shop-currency amount is already there
                done += 1
                continue
            if exact is not None:
                data = exact(data.external_id) or data
        if import_refund(shop, target, data, reasons):
            done += 1
    return done


# ----------------------------------------------------------------------------- fees
def fees_from_graphql(transactions: Iterable[dict[str, Any]]) -> list[tuple[str, Money]]:
    """The payment fees of an order's successful transactions, one amount per currency
    (empty when Shopify reports none: not Shopify Payments)."""
    totals: dict[str, Decimal] = {}
    for tx in transactions:
        if (tx.get("status") or "").upper() != "SUCCESS":
            continue
        for fee in tx.get("fees") or []:
            amount = fee.get("amount") or {}
            if amount.get("currencyCode"):
                totals[amount["currencyCode"]] = totals.get(amount["currencyCode"], Decimal("0")) \
                    + _decimal(amount.get("amount"))
    return [(FEE_KIND, Money(total, currency).quantize()) for currency, total in sorted(totals.items())]


def record_fees(order: Order, fees: list[tuple[str, Money]]) -> bool:
    """Give core the fees Shopify charged, unless it already has exactly these (no
    needless analytics refresh); nothing when Shopify reports none."""
    if not fees:
        return False
    have = sorted((f.kind, f.currency, f.amount) for f in db.session.scalars(
        select(AnalyticsActualFee).where(AnalyticsActualFee.order_id == order.id)))
    want = sorted((kind, m.currency, m.amount) for kind, m in fees)
    if have == want:
        return False
    analytics.set_actual_fees(order, fees)
    return True
