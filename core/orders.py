"""Order life cycle: statuses and their allowed transitions, allocation (routing and
reservation), backorders that resume by themselves, cancellation and shipment."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import inspect, select, update
from sqlalchemy.orm.attributes import set_committed_value

from .addons import call
from .extensions import db
from .models import (
    FulfillmentChannel,
    LineSource,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
    append,
    build,
    utcnow,
)
from . import stock
from .routing import forget_availability, prefetch_availability
from .i18n import _, joined

S = OrderStatus
TRANSITIONS: dict[OrderStatus, set[OrderStatus]] = {
    S.NEW: {S.ON_HOLD, S.ALLOCATED, S.CANCELLED, S.SHIPPED, S.DELIVERED},
    S.ON_HOLD: {S.NEW, S.ALLOCATED, S.CANCELLED, S.ON_HOLD},
    S.ALLOCATED: {S.PICKING, S.PACKED, S.SHIPPED, S.ON_HOLD, S.CANCELLED},
    S.PICKING: {S.PACKED, S.ALLOCATED, S.SHIPPED, S.CANCELLED},
    S.PACKED: {S.SHIPPED, S.PICKING, S.CANCELLED},
    S.SHIPPED: {S.DELIVERED, S.RETURNED},
    S.DELIVERED: {S.RETURNED},
    S.CANCELLED: set(),
    S.RETURNED: set(),
}
#: French labels, as the merchant sees them
LABELS = {S.NEW: _("nouvelle"), S.ON_HOLD: _("en attente"), S.ALLOCATED: _("allouée"),
          S.PICKING: _("en préparation"), S.PACKED: _("emballée"), S.SHIPPED: _("expédiée"),
          S.DELIVERED: _("livrée"), S.CANCELLED: _("annulée"), S.RETURNED: _("retournée")}
OPEN = {S.NEW, S.ON_HOLD, S.ALLOCATED, S.PICKING, S.PACKED}


class TransitionError(ValueError):
    pass


class ConcurrentChange(TransitionError):
    """Someone else changed the order first (another person, a channel's webhook, a job).
    Nothing of this attempt should be kept: roll back, reload and try again."""

    retryable = True

    def __init__(self, order: Order, expected: OrderStatus, found: OrderStatus | None) -> None:
        self.order_id, self.expected, self.found = order.id, expected, found
        now = _("elle est maintenant %(status)s", status=LABELS[found]) if found is not None else _("elle a disparu")
        super().__init__(_("la commande %(number)s a changé entre-temps (%(now)s) : rechargez et réessayez",
                           number=order.number, now=now))


#: orders whose row this transaction holds locked (``SELECT … FOR UPDATE``, PostgreSQL):
#: their status cannot change under us, so a transition needs no conditional UPDATE
_LOCKED = "oms_tx_locked_orders"


def _locked() -> set[int]:
    return db.session.info.setdefault(_LOCKED, set())


def hold_locks(order_ids: Iterable[int]) -> None:
    """The caller locked these orders' rows in this transaction (PostgreSQL ``FOR UPDATE``)."""
    if db.engine.dialect.name == "postgresql":
        _locked().update(order_ids)


def lock(order: Order) -> None:
    """Lock the order's row for the rest of the transaction and check that its status is still
    the one this session read; :class:`ConcurrentChange` otherwise. Call it before a flow
    writes anything else for the order (stock, shipments), so that a lost race costs nothing."""
    if order.id is None or order.id in db.session.info.get(_LOCKED, ()):
        return
    stmt = select(Order.status).where(Order.id == order.id)
    if db.engine.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    with db.session.no_autoflush:  # the lock comes before this transaction writes anything
        found = db.session.execute(stmt).scalar()
    if found != order.status:
        raise ConcurrentChange(order, order.status, found)
    hold_locks([order.id])


def record(order: Order, kind: str, message: str, *, source: str = "core", data: dict[str, Any] | None = None,
           user_id: int | None = None) -> OrderEvent:
    event = build(OrderEvent, kind=kind, message=message, source=source, data=data or {}, user_id=user_id, at=utcnow())
    append(order, "events", event)  # the order's history is not read to add to it
    return event


def transition(order: Order, new: OrderStatus, *, source: str = "core", user_id: int | None = None,
               reason: str = "", notify: bool = True) -> bool:
    """Move an order to ``new`` if allowed; history and the ``order_status_changed`` hook follow
    (``notify=False``: the caller fires the hook itself, see :func:`allocate_many`). Returns
    whether the status changed."""
    old = order.status
    if new == old and new != S.ON_HOLD:
        return False
    if new not in TRANSITIONS[old]:
        raise TransitionError(_("une commande %(old)s ne peut pas passer à « %(new)s »", old=LABELS[old],
                                new=LABELS[new]))
    _set_status(order, old, new)
    if new != S.ON_HOLD:
        order.hold_code = order.hold_reason = None
    record(order, "status", _("%(old)s → %(new)s : %(reason)s", old=LABELS[old], new=LABELS[new], reason=reason)
           if reason else _("%(old)s → %(new)s", old=LABELS[old], new=LABELS[new]),
           source=source, data={"from": old.value, "to": new.value}, user_id=user_id)
    if notify:
        call(order.shop, "order_status_changed", order=order, old=old, new=new)
    return True


def _set_status(order: Order, old: OrderStatus, new: OrderStatus) -> None:
    """One conditional ``UPDATE … WHERE status = :old``: of two sessions moving the same order,
    exactly one wins; the other gets :class:`ConcurrentChange` (a row this transaction holds
    locked, or an order not yet written, is simply assigned)."""
    state = inspect(order)
    if not state.persistent or order.id in db.session.info.get(_LOCKED, ()):
        order.status = new
        return
    changed = db.session.execute(
        update(Order).where(Order.id == order.id, Order.status == old).values(status=new)
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        found = db.session.execute(select(Order.status).where(Order.id == order.id)).scalar()
        raise ConcurrentChange(order, old, found)
    set_committed_value(order, "status", new)
    hold_locks([order.id])  # the UPDATE holds the row lock until the transaction ends


def hold(order: Order, code: str, reason: str, *, source: str = "core") -> None:
    if order.status not in (S.NEW, S.ON_HOLD, S.ALLOCATED):
        return
    changed = order.hold_reason != reason
    if order.status != S.ON_HOLD:
        transition(order, S.ON_HOLD, source=source, reason=reason)
    elif changed:
        record(order, "hold", reason, source=source)
    order.hold_code, order.hold_reason = code, reason


# ----------------------------------------------------------------------------- allocation
def allocate(order: Order) -> bool:
    """Route and reserve every line not yet served. True when the whole order is allocated;
    otherwise the order waits on hold with its reason (unknown SKU, backorder, no source)."""
    return allocate_many([order])[order.id]


def _needs_routing(line: OrderLine) -> bool:
    if line.source is None:
        return True
    return line.source == LineSource.WAREHOUSE and line.reserved_quantity < line.quantity


def allocate_many(orders: list[Order]) -> dict[int, bool]:
    """Allocate a page of orders together: routing decisions first (one hook call per line,
    on availability read once for the page), then one reservation statement for every
    (SKU, warehouse) the page asks for, then the per-order outcome. A line whose bulk
    reservation could not be granted is reserved on its own, and routed again on fresh
    figures if its warehouse ran short, so the page allocates exactly as order-by-order would.
    """
    # nothing here needs pending rows written first: one flush at the end writes each new
    # line once, with its source, warehouse and reservation
    with db.session.no_autoflush:
        return _allocate_many(orders)


def _allocate_many(orders: list[Order]) -> dict[int, bool]:
    result: dict[int, bool] = {}
    todo: list[Order] = []
    for order in orders:
        if order.status not in (S.NEW, S.ON_HOLD):
            result[order.id] = order.status != S.CANCELLED
            continue
        unknown = [ln.sku for ln in order.lines if ln.variant_id is None]
        if unknown and order.fulfillment_channel != FulfillmentChannel.MARKETPLACE and order.origin != "pos":
            hold(order, "unknown_sku", _("SKU inconnu : %(items)s — associez-le à un produit pour reprendre la "
                                         "commande", items=', '.join(sorted(set(unknown)))))
            result[order.id] = False
            continue
        todo.append(order)
    if not todo:
        return result

    # 1. decisions
    prefetch_availability({ln.variant_id for o in todo for ln in o.lines if ln.variant_id and _needs_routing(ln)},
                          {w for o in todo for w in stock.pool_warehouse_ids(o.shop)})
    failed: set[int] = set()
    routed: dict[int, list[tuple[str, dict]]] = {}  # one history entry per order, not per line
    demands: dict[tuple[int, int], list[tuple[int, int]]] = {}
    wanted: list[tuple[Order, OrderLine, int]] = []
    for order in todo:
        for line in order.lines:
            if not _needs_routing(line):
                continue
            decision = call(order.shop, "routing_choose_source", order=order, line=line)
            if decision is None:
                hold(order, "no_source", _("aucun entrepôt ne peut servir %(sku)s : ajoutez un entrepôt ou une "
                                           "règle", sku=line.sku))
                failed.add(order.id)
                break
            line.source = LineSource(decision.source)
            line.warehouse_id = decision.warehouse_id
            routed.setdefault(order.id, []).append(
                (_("%(sku)s × %(quantity)s → %(reason)s", sku=line.sku, quantity=line.quantity, reason=decision.reason),
                 {"sku": line.sku, "source": line.source.value, "warehouse": line.warehouse_id}))
            if line.source == LineSource.WAREHOUSE:
                missing = line.quantity - line.reserved_quantity
                demands.setdefault((line.variant_id, line.warehouse_id), []).append((order.id, missing))
                wanted.append((order, line, missing))
            elif line.variant_id and decision.warehouse_id:
                _leave_now(order, line, decision.warehouse_id)
    forget_availability()
    for order in todo:
        if order.id in routed:
            record(order, "routed", joined("; ", [m for m, _d in routed[order.id]]),
                   data={"lines": [d for _m, d in routed[order.id]]})

    # 2. reservations: the page's demand in one statement, what is left line by line
    granted = stock.reserve_many(todo[0].organization_id, demands)
    short: dict[int, list[str]] = {}
    for order, line, missing in wanted:
        if (line.variant_id, line.warehouse_id) in granted:
            line.reserved_quantity = line.quantity  # held orders keep what they were granted
            continue
        if order.id in failed:
            line.source = None
            continue
        if stock.reserve(order.organization_id, line.variant_id, line.warehouse_id, missing, order_id=order.id):
            line.reserved_quantity = line.quantity
            continue
        # that warehouse ran short since the page was read: route this line again, once
        decision = call(order.shop, "routing_choose_source", order=order, line=line)
        if decision is not None and decision.source != LineSource.WAREHOUSE.value:
            # another source takes it now (a supplier, say): nothing to reserve here
            line.source = LineSource(decision.source)
            line.warehouse_id = decision.warehouse_id
            if line.variant_id and decision.warehouse_id:
                _leave_now(order, line, decision.warehouse_id)
            record(order, "routed", _("%(sku)s × %(quantity)s → %(reason)s", sku=line.sku, quantity=line.quantity,
                                      reason=decision.reason),
                   data={"source": decision.source, "warehouse": decision.warehouse_id})
            continue
        if (decision is not None and decision.warehouse_id != line.warehouse_id
                and stock.reserve(order.organization_id, line.variant_id, decision.warehouse_id, missing,
                                  order_id=order.id)):
            line.warehouse_id = decision.warehouse_id
            line.reserved_quantity = line.quantity
            record(order, "routed", _("%(sku)s × %(quantity)s → %(reason)s", sku=line.sku, quantity=line.quantity,
                                      reason=decision.reason),
                   data={"source": decision.source, "warehouse": decision.warehouse_id})
            continue
        line.source = None  # routed again next time: stock may appear elsewhere
        level = stock.level(line.variant_id, line.warehouse_id)
        short.setdefault(order.id, []).append(
            _("%(sku)s (%(available)s disponible(s), %(missing)s demandé(s))", sku=line.sku,
              available=max(level.available, 0), missing=missing))

    # 3. outcome per order: the page's new statuses and history first, written in one flush,
    # then each order's hooks (an add-on's hook runs in a savepoint, which writes whatever is
    # pending first: the page's rows would otherwise be written order by order)
    moved: list[tuple[Order, OrderStatus, OrderStatus]] = []
    decided: list[Order] = []
    for order in todo:
        if order.id in failed:
            result[order.id] = False
        elif order.id in short:
            hold(order, "backorder", _("Rupture de stock : %(items)s", items=joined("; ", short[order.id])))
            result[order.id] = False
        else:
            old, new = order.status, S.DELIVERED if order.origin == "pos" else S.ALLOCATED
            if transition(order, new, reason=_("remise en magasin") if order.origin == "pos" else "", notify=False):
                moved.append((order, old, new))
            if decide(order, True, _("stock alloué"), notify=False):
                decided.append(order)
            result[order.id] = True
    if moved or decided:
        db.session.flush()
    for order, old, new in moved:
        call(order.shop, "order_status_changed", order=order, old=old, new=new)
    for order in decided:
        call(order.shop, "channel_order_decision", order=order, accepted=True, reason=_("stock alloué"))
    return result


def decide(order: Order, accepted: bool, reason: str, notify: bool = True) -> bool:
    """Tell the channel, once, whether the merchant takes the order (``channel_order_decision``;
    ``notify=False``: the caller fires it). Returns whether this was the order's decision."""
    if any(e.kind == "decision" for e in order.events):
        return False
    record(order, "decision", _("acceptée : %(reason)s", reason=reason) if accepted else
           _("refusée : %(reason)s", reason=reason),
           data={"accepted": accepted})
    if notify:
        call(order.shop, "channel_order_decision", order=order, accepted=accepted, reason=reason)
    return True


#: why units leave a warehouse that is not the merchant's to pick from, by line source
_LEAVES = {LineSource.POS: _("vente en magasin"), LineSource.MARKETPLACE: _("expédié par la marketplace"),
           LineSource.DROPSHIP: _("commandé au fournisseur")}


def _leave_now(order: Order, line: OrderLine, warehouse_id: int) -> None:
    """Sold in the store, shipped by the marketplace or ordered from a supplier: the units
    leave that warehouse (the store's, the FBA one, the supplier's published stock) now."""
    try:
        stock.consume(order.organization_id, line.variant_id, warehouse_id, line.quantity, order_id=order.id,
                      reserved=False, reason=_LEAVES.get(line.source, "sortie de stock"))
    except stock.StockError:
        record(order, "stock", _("%(sku)s : stock %(value)s insuffisant, écart à contrôler",
                                 sku=line.sku, value=line.source.value))
    line.reserved_quantity = 0


def release_all(order: Order, reason: str) -> None:
    for line in order.lines:
        if line.reserved_quantity and line.warehouse_id and line.variant_id:
            stock.release(order.organization_id, line.variant_id, line.warehouse_id, line.reserved_quantity,
                          order_id=order.id, reason=reason)
            line.reserved_quantity = 0


def cancel(order: Order, *, source: str = "core", user_id: int | None = None, reason: str = "") -> None:
    """Cancel: reservations go back to the pool, labels not yet used are cancelled."""
    if order.status == S.CANCELLED:
        return
    transition(order, S.CANCELLED, source=source, user_id=user_id, reason=reason)
    if not source.startswith(f"{order.shop.addon}:"):  # the merchant's decision, not the channel's
        decide(order, False, reason or "annulée par le vendeur")
    release_all(order, "annulation")
    for shipment in order.shipments:
        if shipment.status in (ShipmentStatus.DRAFT, ShipmentStatus.LABEL_CREATED):
            if call(order.shop, "shipping_cancel_label", shipment=shipment):
                shipment.status = ShipmentStatus.CANCELLED


def cancel_units(order: Order, line: OrderLine, quantity: int, *, source: str = "core", reason: str = "") -> int:
    """Units of a line the channel no longer sells (cancelled or refused there): the line
    keeps only what is still due, their reservation goes back to the pool, and the order
    ends cancelled when nothing is left of it, or shipped when what is left has left.
    Returns how many units were taken off (never below what has already shipped)."""
    if order.status == S.CANCELLED or quantity <= 0:
        return 0
    lock(order)
    shipped = shipped_quantity(line)
    take = min(quantity, max(line.quantity - shipped, 0))
    if take <= 0:
        return 0
    line.quantity -= take
    surplus = line.reserved_quantity - max(line.quantity - shipped, 0)
    if surplus > 0 and line.warehouse_id and line.variant_id:
        stock.release(order.organization_id, line.variant_id, line.warehouse_id, surplus, order_id=order.id,
                      reason="annulation partielle")
        line.reserved_quantity -= surplus
    record(order, "line_cancelled", _("%(sku)s : %(take)s unité(s) annulée(s) — %(reason)s", sku=line.sku, take=take,
                                      reason=reason) if reason else
           _("%(sku)s : %(take)s unité(s) annulée(s)", sku=line.sku, take=take),
           source=source, data={"line": line.id, "quantity": take})
    if all(ln.quantity <= 0 for ln in order.lines):
        cancel(order, source=source, reason=reason or "toutes les unités annulées sur le canal")
    elif S.SHIPPED in TRANSITIONS[order.status] and order.shipments and \
            all(shipped_quantity(ln) >= ln.quantity for ln in order.lines):
        transition(order, S.SHIPPED, source=source, reason=_("le reste de la commande est annulé"))
    elif order.status == S.ON_HOLD:
        allocate(order)  # the units it waited for may be the ones cancelled
    return take


def ship(order: Order, shipment: Shipment, lines: Iterable[tuple[OrderLine, int]] | None = None, *,
         user_id: int | None = None) -> None:
    """A shipment left: its units are consumed, the order is shipped once every line is,
    and the channels are told (``shipping_shipment_shipped``)."""
    lock(order)  # a cancellation racing the departure: one of them wins before any stock moves
    if lines is None:
        lines = [(ln, ln.quantity - shipped_quantity(ln)) for ln in order.lines]
    for line, qty in lines:
        if qty <= 0:
            continue
        if line.source == LineSource.WAREHOUSE and line.warehouse_id and line.variant_id:
            take = min(qty, line.reserved_quantity)
            stock.consume(order.organization_id, line.variant_id, line.warehouse_id, take, order_id=order.id)
            line.reserved_quantity -= take
        shipment.lines.append(ShipmentLine(order_line_id=line.id, quantity=qty))
    shipment.status = ShipmentStatus.SHIPPED
    shipment.shipped_at = utcnow()
    if shipment not in order.shipments:
        order.shipments.append(shipment)
    db.session.flush()
    record(order, "shipped", _("expédition %(carrier)s %(tracking)s", carrier=shipment.carrier,
                               tracking=shipment.tracking_number) if shipment.tracking_number else
           _("expédition %(carrier)s", carrier=shipment.carrier),
           user_id=user_id, data={"shipment": shipment.id})
    if all(shipped_quantity(ln) >= ln.quantity for ln in order.lines):
        transition(order, S.SHIPPED, user_id=user_id)
        if order.shipped_at is None:  # preparation time ends here, whoever shipped
            order.shipped_at = shipment.shipped_at
    call(order.shop, "shipping_shipment_shipped", order=order, shipment=shipment)


def shipped_quantity(line: OrderLine) -> int:
    return int(db.session.scalar(
        select(db.func.coalesce(db.func.sum(ShipmentLine.quantity), 0))
        .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
        .where(ShipmentLine.order_line_id == line.id, Shipment.status != ShipmentStatus.CANCELLED)) or 0)


# ----------------------------------------------------------------------------- jobs
def retry_backorders(org_id: int, variant_ids: list[int] | None = None) -> int:
    """Stock arrived: held orders waiting for it are allocated again, oldest first."""
    stmt = (select(Order).where(Order.organization_id == org_id, Order.status == S.ON_HOLD,
                                Order.hold_code == "backorder").order_by(Order.placed_at, Order.id))
    if variant_ids:
        stmt = stmt.where(Order.id.in_(select(OrderLine.order_id).where(OrderLine.variant_id.in_(variant_ids))))
    done = 0
    for order in db.session.scalars(stmt).all():
        if allocate(order):
            done += 1
    return done


def rerun_rules(org_id: int, order_ids: list[int] | None = None) -> int:
    """The "re-run rules" button: held orders (or the ones given) are routed again."""
    stmt = select(Order).where(Order.organization_id == org_id, Order.status == S.ON_HOLD)
    if order_ids:
        stmt = stmt.where(Order.id.in_(order_ids))
    done = 0
    for order in db.session.scalars(stmt.order_by(Order.placed_at, Order.id)).all():
        if order.hold_code == "manual":
            continue
        if allocate(order):
            done += 1
    return done
