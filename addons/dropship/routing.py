"""Which order lines the suppliers ship, and which supplier.

A line goes to a supplier when its variant is linked to a supplier in ``dropship`` mode and

* one of those links is ``dropship_only`` (the merchant never stocks it), or
* the merchant's own stock cannot serve it (no own warehouse the shop sells from has the
  quantity) and either the shop's setting "dropship_when_short" is on, or the supplier's
  warehouse is in the shop's stock pool (the channel sells the supplier's stock).

Suppliers are tried by priority (lowest first). One whose warehouse holds stock rows for
the variant (a stock feed) must have the quantity; one without stock rows is trusted. Lines
the suppliers cannot serve are left to core's routing.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select

from core.extensions import db
from core.i18n import _
from core.models import (
    FulfillmentChannel,
    LineSource,
    Order,
    OrderLine,
    Shop,
    StockLevel,
    Warehouse,
    WarehouseKind,
)
from core.routing import matches, rules
from core.stock import pool_warehouse_ids
from core.types import RoutingDecision

from .models import DropshipLine, DropshipSupplier, DropshipSupplierProduct

ADDON = "dropship"


@dataclass(frozen=True)
class Offer:
    link: DropshipSupplierProduct
    supplier: DropshipSupplier


def offers(org_id: int, variant_id: int) -> list[Offer]:
    """The variant's active dropship suppliers, by priority."""
    rows = db.session.execute(
        select(DropshipSupplierProduct, DropshipSupplier)
        .join(DropshipSupplier, DropshipSupplier.id == DropshipSupplierProduct.supplier_id)
        .where(DropshipSupplierProduct.variant_id == variant_id, DropshipSupplierProduct.mode == "dropship",
               DropshipSupplier.organization_id == org_id, DropshipSupplier.active.is_(True))
        .order_by(DropshipSupplierProduct.priority, DropshipSupplier.id)).all()
    return [Offer(link, supplier) for link, supplier in rows]


def own_stock_serves(shop: Shop, order: Order, line: OrderLine) -> bool:
    """Whether an own warehouse the shop sells from (its pool, or a matching routing rule's)
    has the line's quantity available."""
    candidates = set(pool_warehouse_ids(shop))
    candidates |= {rule.warehouse_id for rule in rules(order.organization_id) if matches(rule, shop, order, line)}
    if not candidates:
        return False
    best = db.session.scalar(
        select(func.max(StockLevel.on_hand - StockLevel.reserved))
        .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
        .where(StockLevel.variant_id == line.variant_id, StockLevel.warehouse_id.in_(candidates),
               Warehouse.kind != WarehouseKind.SUPPLIER, Warehouse.active.is_(True)))
    return int(best or 0) >= line.quantity


def supplier_stock(supplier: DropshipSupplier, variant_id: int) -> int | None:
    """Units the supplier's feed says it has (None when it publishes no stock for it)."""
    if supplier.warehouse_id is None:
        return None
    row = db.session.execute(select(StockLevel.on_hand - StockLevel.reserved).where(
        StockLevel.variant_id == variant_id, StockLevel.warehouse_id == supplier.warehouse_id)).first()
    return None if row is None else int(row[0])


def choose(shop: Shop, order: Order, line: OrderLine, settings: dict) -> RoutingDecision | None:
    if (order.fulfillment_channel == FulfillmentChannel.MARKETPLACE or order.origin == "pos"
            or line.variant_id is None or line.reserved_quantity):
        return None  # a line already holding own stock stays with it
    found = offers(order.organization_id, line.variant_id)
    if not found:
        return None
    only = any(o.link.dropship_only for o in found)
    if not only and own_stock_serves(shop, order, line):
        forget(line)
        return None
    pool = set(pool_warehouse_ids(shop))
    for offer in found:
        if not (only or settings.get("dropship_when_short") or offer.supplier.warehouse_id in pool):
            continue
        stock = supplier_stock(offer.supplier, line.variant_id)
        if stock is not None and stock < line.quantity:
            continue
        assign(line, offer)
        why = _("dropshipping seul") if only else _("stock propre insuffisant")
        return RoutingDecision(LineSource.DROPSHIP.value, offer.supplier.warehouse_id if stock is not None else None,
                               _("fournisseur %(name)s (%(why)s)", name=offer.supplier.name, why=why))
    forget(line)
    return None


#: this transaction's assignments by order line (core drops ``oms_tx_*`` keys at commit and rollback)
_ASSIGNED = "oms_tx_dropship_lines"


def _assigned() -> dict[int, tuple[OrderLine, DropshipLine]]:
    return db.session.info.setdefault(_ASSIGNED, {})


def routed_line(line: OrderLine) -> DropshipLine | None:
    """The line's assignment, including one made in this transaction and not yet written
    (core routes a page of new orders before its first flush, the lines included)."""
    entry = _assigned().get(id(line))
    if entry is not None and entry[0] is line:
        return entry[1]
    if line.id is None:
        return None
    with db.session.no_autoflush:
        return db.session.scalar(select(DropshipLine).where(DropshipLine.order_line_id == line.id))


def assign(line: OrderLine, offer: Offer) -> DropshipLine:
    """Remember which supplier serves the line, at which reference and cost (frozen now)."""
    row = routed_line(line)
    if row is not None and (row.purchase_order is not None or row.purchase_order_id is not None):
        return row
    link = offer.link
    title = line.title or (line.variant.title if line.variant is not None else "") or line.sku
    values = {"supplier_id": offer.supplier.id, "supplier_product_id": link.id, "sku": line.sku,
              "supplier_sku": link.supplier_sku, "title": title[:255], "quantity": line.quantity,
              "unit_cost": link.unit_cost, "currency": link.currency}
    if row is None:
        row = DropshipLine(order_line=line, **values)
        db.session.add(row)
        _assigned()[id(line)] = (line, row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
    return row


def forget(line: OrderLine) -> None:
    """The line is not (or no longer) the suppliers': drop an assignment not yet ordered."""
    row = routed_line(line)
    if row is None or row.purchase_order is not None or row.purchase_order_id is not None:
        return
    _assigned().pop(id(line), None)
    if row in db.session.new:
        db.session.expunge(row)
    else:  # removed at once, so a new assignment of the line in this transaction cannot collide
        db.session.execute(delete(DropshipLine).where(DropshipLine.id == row.id))
