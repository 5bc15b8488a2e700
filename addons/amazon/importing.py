"""Hand Amazon orders to core's intake and keep the add-on's side in step."""
from __future__ import annotations

from sqlalchemy import select

from core import orders as order_flow
from core.extensions import db
from core.intake import IntakeResult, ingest_many
from core.models import Order, OrderStatus, Shop, Warehouse, WarehouseKind
from core.types import NormalizedOrder

from .finances import now_of, schedule_after_shipment
from .mapping import OrderFacts
from .models import AmazonOrder
from .runtime import clock
from core.i18n import _

#: Amazon statuses of an order with units shipped
SHIPPED_STATUSES = ("PARTIALLY_SHIPPED", "SHIPPED")


def known_orders(shop: Shop, amazon_order_ids: list[str]) -> dict[str, AmazonOrder]:
    """The add-on's rows of these orders, in one query (a page at a time)."""
    if not amazon_order_ids:
        return {}
    return {r.amazon_order_id: r for r in db.session.scalars(select(AmazonOrder).where(
        AmazonOrder.shop_id == shop.id, AmazonOrder.amazon_order_id.in_(amazon_order_ids)))}


def ingest_orders(shop: Shop, items: list[tuple[NormalizedOrder, OrderFacts]], *,
                  source: str) -> list[IntakeResult]:
    """Create or update a page of orders through core's intake (the Amazon order id is the
    key: core deduplicates on it and ignores stale updates), then keep the add-on's side."""
    if not items:
        return []
    results = ingest_many(shop, [normalized for normalized, _facts in items], source=source)
    known = known_orders(shop, [facts.amazon_order_id for _normalized, facts in items])
    for (normalized, facts), result in zip(items, results):
        if not result.stale:
            _after_intake(shop, normalized, facts, result, known, source)
    return results


def ingest_order(shop: Shop, normalized: NormalizedOrder, facts: OrderFacts, *, source: str) -> IntakeResult:
    return ingest_orders(shop, [(normalized, facts)], source=source)[0]


def _after_intake(shop: Shop, normalized: NormalizedOrder, facts: OrderFacts, result: IntakeResult,
                  known: dict[str, AmazonOrder], source: str) -> None:
    order = db.session.get(Order, result.order_id)
    assert order is not None
    if not result.created and any(ln.external_id for ln in normalized.lines):
        _fill_item_ids(order, normalized)  # created orders got them from core
    row = known.get(facts.amazon_order_id)
    previous = row.status if row is not None else None
    if row is None:
        row = AmazonOrder(shop_id=shop.id, order_id=order.id, amazon_order_id=facts.amazon_order_id,
                          complete=facts.complete)
        db.session.add(row)
        known[facts.amazon_order_id] = row
    row.marketplace_id = facts.marketplace_id or row.marketplace_id
    row.fulfilled_by = facts.fulfilled_by
    row.status = facts.status
    row.last_updated = normalized.updated_at
    row.complete = row.complete or facts.complete
    if facts.fulfilled_by == "MERCHANT" and facts.status == "SHIPPED" and previous != "SHIPPED":
        _shipped_outside(order, facts, created=result.created, source=f"{shop.addon}:{source}")
    if facts.status in SHIPPED_STATUSES and previous != facts.status:
        # Amazon posts the fees of a shipment (FBA orders: its own) as financial events
        schedule_after_shipment(row, now_of(clock()))


def _fill_item_ids(order: Order, normalized: NormalizedOrder) -> None:
    """Lines imported from an orders report have no order-item id: take it from a later,
    complete copy of the order (matched by SKU)."""
    known = {ln.external_id for ln in order.lines if ln.external_id}
    for src in normalized.lines:
        if not src.external_id or src.external_id in known:
            continue
        target = next((ln for ln in order.lines if ln.external_id is None and ln.sku == src.sku), None)
        if target is not None:
            target.external_id = src.external_id
            known.add(src.external_id)


def _shipped_outside(order: Order, facts: OrderFacts, *, created: bool, source: str) -> None:
    """A merchant-fulfilled order Amazon already reports shipped, not shipped in the OMS.

    Met at creation (an order shipped before the connection), the OMS records it as shipped
    with no stock movement: its reservation is released, as the units left before the OMS
    counted them. Met on an update, the merchant decides (the order may still be on a shelf)."""
    tracking = ", ".join(f"{p.get('carrier', '')} {p.get('trackingNumber', '')}".strip()
                         for p in facts.packages if p.get("trackingNumber"))
    if not created:
        if order.status in order_flow.OPEN:
            order_flow.record(order, "conflict", _("Amazon indique la commande expédiée hors de l'OMS%(value)s : "
                                                   "vérifiez et clôturez-la ici",
                                                   value=" (" + tracking + ")" if tracking else ""),
                              source=source)
        return
    if order.status not in order_flow.OPEN:
        return
    order_flow.release_all(order, "expédiée avant la connexion à l'OMS")
    if order.status == OrderStatus.ON_HOLD:
        order_flow.transition(order, OrderStatus.NEW, source=source, reason=_("expédiée sur Amazon"))
    order_flow.transition(order, OrderStatus.SHIPPED, source=source,
                          reason=_("déjà expédiée sur Amazon%(value)s", value=" (" + tracking + ")" if tracking else ""))


def fba_warehouse(shop: Shop) -> Warehouse:
    """The shop's Amazon-fulfilled (FBA) warehouse: core routes FBA orders to it and the FBA
    inventory is read into it. Created on first need."""
    wh = db.session.scalar(select(Warehouse).where(Warehouse.organization_id == shop.organization_id,
                                                   Warehouse.kind == WarehouseKind.MARKETPLACE,
                                                   Warehouse.shop_id == shop.id))
    if wh is None:
        wh = Warehouse(organization_id=shop.organization_id, code=f"FBA-{shop.id}"[:32],
                       name=f"Amazon FBA — {shop.name}"[:120], kind=WarehouseKind.MARKETPLACE, shop_id=shop.id,
                       priority=100, active=True)
        db.session.add(wh)
        db.session.flush()
    return wh
