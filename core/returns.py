"""Customer returns (RMA): opened from a shipped order, received, inspected, then restocked
(the units go back into a warehouse through the stock ledger) or written off (no stock
movement: their value is a loss); the refund is recorded beside it.

A channel add-on whose API reports its own returns or refunds imports them with
:func:`import_channel_return`, once per ``(shop, external_id)``. The order becomes
"retournée" once every unit of it has come back.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import select

from . import orders as order_flow
from . import stock
from .addons import call
from .extensions import db
from .models import (
    Order,
    OrderLine,
    OrderStatus,
    PaymentStatus,
    Return,
    ReturnLine,
    ReturnReason,
    ReturnStatus,
    Shop,
    Warehouse,
    utcnow,
)
from .money import Money
from .i18n import _

R = ReturnStatus
#: where a return may go next (closing ends it once restocked or written off)
TRANSITIONS: dict[ReturnStatus, set[ReturnStatus]] = {
    R.OPEN: {R.RECEIVED},
    R.RECEIVED: {R.INSPECTED},
    R.INSPECTED: {R.RESTOCKED, R.WRITTEN_OFF},
    R.RESTOCKED: {R.CLOSED},
    R.WRITTEN_OFF: {R.CLOSED},
    R.CLOSED: set(),
}
#: French labels, as the merchant sees them
LABELS = {R.OPEN: _("ouvert"), R.RECEIVED: _("reçu"), R.INSPECTED: _("contrôlé"), R.RESTOCKED: _("remis en stock"),
          R.WRITTEN_OFF: _("mis au rebut"), R.CLOSED: _("clos")}
REASONS = {ReturnReason.SIZE: _("taille"), ReturnReason.DEFECT: _("défaut"),
           ReturnReason.NOT_AS_DESCRIBED: _("non conforme à la description"),
           ReturnReason.CHANGED_MIND: _("changement d'avis"), ReturnReason.WRONG_ITEM: _("erreur d'article")}
#: orders whose units can be returned
RETURNABLE_STATUSES = (OrderStatus.SHIPPED, OrderStatus.DELIVERED)
#: the goods are back: these returns count towards a fully returned order
_BACK = {R.RECEIVED, R.INSPECTED, R.RESTOCKED, R.WRITTEN_OFF, R.CLOSED}


class ReturnError(ValueError):
    """A refused return operation, with a message for the merchant."""


def outcome(ret: Return) -> str:
    """What became of the returned units: ``restocked``, ``written_off`` or ``pending``."""
    if ret.restock_warehouse_id is not None and ret.status in (R.RESTOCKED, R.CLOSED):
        return "restocked"
    if ret.status == R.WRITTEN_OFF or (ret.status == R.CLOSED and ret.resolved_at is not None):
        return "written_off"
    return "pending"


def returns_of(order: Order) -> list[Return]:
    return list(db.session.scalars(select(Return).where(Return.order_id == order.id).order_by(Return.id)))


def returned_quantities(order: Order, *, exclude: Return | None = None) -> dict[int, int]:
    """Units of each order line already in a return (any status)."""
    done: dict[int, int] = defaultdict(int)
    for ret in returns_of(order):
        if exclude is not None and ret.id == exclude.id:
            continue
        for line in ret.lines:
            done[line.order_line_id] += line.quantity
    return done


def returnable_quantities(order: Order) -> dict[int, int]:
    """Units of each line that can still be returned (0 for orders not yet shipped)."""
    if order.status not in RETURNABLE_STATUSES:
        return {ln.id: 0 for ln in order.lines}
    done = returned_quantities(order)
    return {ln.id: max(ln.quantity - done.get(ln.id, 0), 0) for ln in order.lines}


def refund_due(order: Order, quantities: dict[int, int]) -> Decimal:
    """What the customer paid for these units (line price after discount, VAT included),
    in the order's currency: the refund the return form proposes."""
    total = Decimal(0)
    for line in order.lines:
        qty = quantities.get(line.id, 0)
        if qty and line.quantity:
            total += line.line_total * qty / line.quantity
    return Money(total, order.currency).quantize().amount


def open_return(order: Order, reason: ReturnReason | str, quantities: dict[int, int], *, note: str = "",
                user_id: int | None = None) -> Return:
    """Open a return for some units of a shipped or delivered order."""
    reason = _reason(reason)
    if order.status not in RETURNABLE_STATUSES:
        raise ReturnError(_("seule une commande expédiée ou livrée peut être retournée (statut : %(labels)s)",
                            labels=order_flow.LABELS[order.status]))
    quantities = {lid: qty for lid, qty in quantities.items() if qty}
    if not quantities:
        raise ReturnError(_("indiquez au moins un article à retourner"))
    left = returnable_quantities(order)
    lines = {ln.id: ln for ln in order.lines}
    for line_id, qty in quantities.items():
        if line_id not in lines:
            raise ReturnError(_("cet article n'appartient pas à la commande"))
        if qty < 0 or qty > left.get(line_id, 0):
            raise ReturnError(_("%(sku)s : %(line_id)s unité(s) au plus peuvent être retournées",
                                sku=lines[line_id].sku, line_id=left.get(line_id, 0)))
    ret = Return(organization_id=order.organization_id, order_id=order.id, reason=reason, note=note.strip(),
                 status=R.OPEN, refund_status=PaymentStatus.PENDING, currency=order.currency, created_by=user_id,
                 lines=[ReturnLine(order_line_id=lid, quantity=qty) for lid, qty in sorted(quantities.items())])
    db.session.add(ret)
    db.session.flush()
    units = sum(quantities.values())
    order_flow.record(order, "return", _("retour %(rma)s ouvert : %(units)s unité(s), motif « %(reason)s »",
                                         rma=ret.rma, units=units, reason=REASONS[reason]),
                      data={"return": ret.id}, user_id=user_id)
    return ret


def _reason(reason: ReturnReason | str) -> ReturnReason:
    try:
        return ReturnReason(reason)
    except ValueError:
        raise ReturnError(_("motif de retour inconnu : %(reason)s", reason=reason)) from None


def _move(ret: Return, new: ReturnStatus) -> None:
    if new not in TRANSITIONS[ret.status]:
        raise ReturnError(_("un retour %(labels)s ne peut pas passer à « %(labels2)s »",
                            labels=LABELS[ret.status], labels2=LABELS[new]))
    ret.status = new


def receive(ret: Return, *, user_id: int | None = None) -> None:
    """The parcel is back at the warehouse; the order is "retournée" once every unit is back."""
    _move(ret, R.RECEIVED)
    ret.received_at = utcnow()
    order_flow.record(ret.order, "return", _("retour %(rma)s reçu", rma=ret.rma), data={"return": ret.id}, user_id=user_id)
    db.session.flush()
    mark_returned_if_complete(ret.order, user_id=user_id)


def inspect(ret: Return, *, note: str = "", user_id: int | None = None) -> None:
    _move(ret, R.INSPECTED)
    ret.inspected_at = utcnow()
    if note.strip():
        ret.note = (ret.note + "\n" if ret.note else "") + note.strip()
    order_flow.record(ret.order, "return", _("retour %(rma)s contrôlé : %(note)s", rma=ret.rma, note=note.strip())
                      if note.strip() else _("retour %(rma)s contrôlé", rma=ret.rma),
                      data={"return": ret.id}, user_id=user_id)


def restock(ret: Return, warehouse: Warehouse, *, user_id: int | None = None) -> None:
    """Put the returned units back into ``warehouse`` (one ledger movement per line)."""
    if warehouse.organization_id != ret.organization_id:
        raise ReturnError(_("entrepôt inconnu"))
    missing = [ln.order_line.sku for ln in ret.lines if ln.order_line.variant_id is None]
    if missing:
        raise ReturnError(_("ces articles ne sont associés à aucun produit du catalogue : %(items)s",
                            items=', '.join(missing)))
    _move(ret, R.RESTOCKED)
    reason = _("retour client %(rma)s", rma=ret.rma)
    for line in ret.lines:
        stock.adjust(ret.organization_id, line.order_line.variant_id, warehouse.id, line.quantity, reason=reason,
                     user_id=user_id)
    ret.restock_warehouse_id = warehouse.id
    ret.resolved_at = utcnow()
    units = sum(ln.quantity for ln in ret.lines)
    order_flow.record(ret.order, "return", _("retour %(rma)s remis en stock à %(name)s (%(units)s unité(s))",
                                             rma=ret.rma, name=warehouse.name, units=units),
                      data={"return": ret.id, "warehouse": warehouse.id}, user_id=user_id)


def write_off(ret: Return, *, note: str = "", user_id: int | None = None) -> None:
    """The units cannot be sold again: no stock movement, their value counts as a loss."""
    _move(ret, R.WRITTEN_OFF)
    ret.resolved_at = utcnow()
    if note.strip():
        ret.note = (ret.note + "\n" if ret.note else "") + note.strip()
    order_flow.record(ret.order, "return", _("retour %(rma)s mis au rebut : %(note)s", rma=ret.rma, note=note.strip())
                      if note.strip() else _("retour %(rma)s mis au rebut", rma=ret.rma),
                      data={"return": ret.id}, user_id=user_id)


def close(ret: Return, *, user_id: int | None = None) -> None:
    _move(ret, R.CLOSED)
    order_flow.record(ret.order, "return", _("retour %(rma)s clos", rma=ret.rma), data={"return": ret.id}, user_id=user_id)


def cancel(ret: Return, *, user_id: int | None = None) -> None:
    """Delete a return opened by mistake (only while nothing has happened to it)."""
    if ret.status != R.OPEN or ret.refund_amount:
        raise ReturnError(_("seul un retour ouvert, sans remboursement, peut être annulé"))
    order_flow.record(ret.order, "return", _("retour %(rma)s annulé", rma=ret.rma), data={"return": ret.id}, user_id=user_id)
    db.session.delete(ret)


def record_refund(ret: Return, amount: Decimal, *, user_id: int | None = None, source: str = "user") -> None:
    """Record the refund made to the customer (on the channel or the payment provider), in the
    order's currency; the order's payment status follows."""
    if amount < 0:
        raise ReturnError(_("le remboursement ne peut pas être négatif"))
    order = ret.order
    due = refund_due(order, {ln.order_line_id: ln.quantity for ln in ret.lines})
    ret.refund_amount = Money(amount, order.currency).quantize().amount
    ret.currency = order.currency
    ret.refunded_at = utcnow()
    ret.refund_status = (PaymentStatus.REFUNDED if ret.refund_amount >= due or not ret.lines
                         else PaymentStatus.PARTIALLY_REFUNDED)
    db.session.flush()
    refunded = sum((r.refund_amount or Decimal(0) for r in returns_of(order)), Decimal(0))
    if refunded > 0:
        order.payment_status = (PaymentStatus.REFUNDED if refunded >= order.total
                                else PaymentStatus.PARTIALLY_REFUNDED)
    order_flow.record(order, "refund", _("remboursement %(rma)s : %(amount)s", rma=ret.rma,
                                         amount=str(Money(ret.refund_amount, order.currency))),
                      source=source, data={"return": ret.id}, user_id=user_id)
    if source == "user" and order.shop is not None:
        call(order.shop, "order_refund_recorded", order=order, ret=ret)


def mark_returned_if_complete(order: Order, *, user_id: int | None = None, source: str = "core") -> bool:
    """Move a shipped or delivered order to "retournée" once every unit is back."""
    if order.status not in RETURNABLE_STATUSES or not order.lines:
        return False
    back: dict[int, int] = defaultdict(int)
    for ret in returns_of(order):
        if ret.status in _BACK:
            for line in ret.lines:
                back[line.order_line_id] += line.quantity
    if all(back.get(ln.id, 0) >= ln.quantity for ln in order.lines):
        order_flow.transition(order, OrderStatus.RETURNED, source=source, user_id=user_id,
                              reason=_("tous les articles sont revenus"))
        return True
    return False


def import_channel_return(shop: Shop, order: Order, lines: Iterable[tuple[OrderLine, int]],
                          reason: ReturnReason | str, refund_amount: Money | None, external_id: str) -> Return:
    """A return or refund reported by the channel's API, for channel add-ons to call.

    Idempotent on ``(shop, external_id)``: a second import of the same return updates its
    refund and changes nothing else. The units are taken as back (status "reçu"), the
    merchant inspects them and restocks or writes them off. ``lines`` may be empty for a
    refund without a return; ``refund_amount`` is in the order's currency (or converted by
    the channel). Runs in the caller's transaction.
    """
    if order.shop_id != shop.id:
        raise ReturnError(_("la commande n'appartient pas à cette boutique"))
    if not external_id:
        raise ReturnError("external_id manquant")
    existing = db.session.scalar(select(Return).where(Return.shop_id == shop.id, Return.external_id == external_id))
    source = shop.addon
    if existing is None:
        wanted: dict[int, int] = defaultdict(int)
        for line, qty in lines:
            if line.order_id != order.id:
                raise ReturnError(_("cet article n'appartient pas à la commande"))
            if qty > 0:
                wanted[line.id] += qty
        done = returned_quantities(order)
        by_id = {ln.id: ln for ln in order.lines}
        for line_id, qty in wanted.items():
            room = by_id[line_id].quantity - done.get(line_id, 0)
            wanted[line_id] = min(qty, max(room, 0))
        existing = Return(organization_id=order.organization_id, order_id=order.id, reason=_reason(reason),
                          status=R.RECEIVED if any(wanted.values()) else R.OPEN, received_at=utcnow(),
                          refund_status=PaymentStatus.PENDING, currency=order.currency, shop_id=shop.id,
                          external_id=external_id, note=f"importé depuis {shop.name}",
                          lines=[ReturnLine(order_line_id=lid, quantity=qty)
                                 for lid, qty in sorted(wanted.items()) if qty])
        if not existing.lines:
            existing.received_at = None
        db.session.add(existing)
        db.session.flush()
        order_flow.record(order, "return", _("retour %(rma)s importé depuis %(name)s (%(values)s unité(s))",
                                             rma=existing.rma, name=shop.name, values=sum(wanted.values())), source=source,
                          data={"return": existing.id, "external_id": external_id})
        if existing.status == R.RECEIVED:
            mark_returned_if_complete(order, source=source)
    if refund_amount is not None:
        if refund_amount.currency != order.currency:
            raise ReturnError(_("remboursement en %(currency)s pour une commande en %(currency2)s",
                                currency=refund_amount.currency, currency2=order.currency))
        amount = refund_amount.quantize().amount
        if existing.refund_amount != amount:
            record_refund(existing, amount, source=source)
    return existing
