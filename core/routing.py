"""Core's routing: where each order line is served from, when no add-on answers first.

* Marketplace-fulfilled orders (Amazon FBA) come from the shop's marketplace warehouse:
  nothing is reserved in own warehouses and nothing is picked.
* POS sales come from the store's warehouse and are handed over on the spot.
* Everything else follows the merchant's routing rules, in order: the first matching rule
  whose warehouse has the stock wins. A rule that forbids splitting only takes an order its
  warehouse can serve whole. Without a matching rule, the shop's stock pool is tried by
  warehouse priority.
"""
from __future__ import annotations

import fnmatch

from sqlalchemy import select

from .extensions import db
from .i18n import _
from .models import (
    FulfillmentChannel,
    LineSource,
    Order,
    OrderLine,
    RoutingRule,
    Shop,
    StockLevel,
    Warehouse,
    WarehouseKind,
)
from .stock import pool_warehouse_ids
from .types import RoutingDecision


def rules(org_id: int) -> list[RoutingRule]:
    """The organization's active rules in order (cached for the transaction)."""
    cache = db.session.info.setdefault("oms_tx_rules", {})
    if org_id not in cache:
        cache[org_id] = list(db.session.scalars(
            select(RoutingRule).where(RoutingRule.organization_id == org_id, RoutingRule.active.is_(True))
            .order_by(RoutingRule.position, RoutingRule.id)))
    return cache[org_id]


AVAILABILITY = "oms_tx_availability"


def prefetch_availability(variant_ids: set[int], warehouse_ids: set[int]) -> None:
    """Read on hand − reserved for these pairs in one query, for a page of orders being routed.
    Routing reads these figures; the reservation itself stays an atomic conditional update,
    and a line whose reservation fails is routed again on fresh figures."""
    cache = db.session.info.setdefault(AVAILABILITY, {})
    if not variant_ids or not warehouse_ids:
        return
    for vid in variant_ids:
        for wid in warehouse_ids:
            cache[(vid, wid)] = 0
    rows = db.session.execute(select(StockLevel.variant_id, StockLevel.warehouse_id,
                                     StockLevel.on_hand - StockLevel.reserved)
                              .where(StockLevel.variant_id.in_(variant_ids),
                                     StockLevel.warehouse_id.in_(warehouse_ids)))
    for vid, wid, avail in rows:
        cache[(vid, wid)] = int(avail)


def forget_availability() -> None:
    db.session.info.pop(AVAILABILITY, None)


def matches(rule: RoutingRule, shop: Shop, order: Order, line: OrderLine) -> bool:
    country = (order.shipping_address or {}).get("country", "").upper()
    if rule.countries and country not in {c.upper() for c in rule.countries}:
        return False
    if rule.channels and shop.addon not in rule.channels:
        return False
    if rule.shop_ids and shop.id not in rule.shop_ids:
        return False
    if rule.service_levels and order.service_level.value not in rule.service_levels:
        return False
    if rule.sku_pattern and not fnmatch.fnmatchcase(line.sku.upper(), rule.sku_pattern.upper()):
        return False
    if rule.tag:
        tags = set(order.tags or [])
        if line.variant is not None:
            tags |= set(line.variant.product.tags or [])
        if rule.tag not in tags:
            return False
    return True


def _available(variant_id: int, warehouse_id: int) -> int:
    cached = db.session.info.get(AVAILABILITY, {}).get((variant_id, warehouse_id))
    if cached is not None:
        return cached
    row = db.session.execute(select(StockLevel.on_hand - StockLevel.reserved).where(
        StockLevel.variant_id == variant_id, StockLevel.warehouse_id == warehouse_id)).scalar()
    return int(row or 0)


def _can_serve_whole(order: Order, warehouse_id: int) -> bool:
    return all(ln.variant_id is not None and _available(ln.variant_id, warehouse_id) >= ln.quantity
               for ln in order.lines if ln.source in (None, LineSource.WAREHOUSE))


def _special_warehouse(shop: Shop, kind: WarehouseKind, code: str | None = None) -> Warehouse | None:
    cache = db.session.info.setdefault("oms_tx_special_wh", {})
    key = (shop.id, kind, code)
    if key not in cache:
        cache[key] = _find_special_warehouse(shop, kind, code)
    return cache[key]


def _find_special_warehouse(shop: Shop, kind: WarehouseKind, code: str | None) -> Warehouse | None:
    stmt = select(Warehouse).where(Warehouse.organization_id == shop.organization_id, Warehouse.kind == kind,
                                   Warehouse.active.is_(True))
    if code:
        stmt = stmt.where(Warehouse.code == code)
    candidates = db.session.scalars(stmt.order_by(Warehouse.priority, Warehouse.id)).all()
    return next((w for w in candidates if w.shop_id == shop.id), None) or \
        next((w for w in candidates if w.shop_id is None), None)


def choose(shop: Shop, order: Order, line: OrderLine) -> RoutingDecision | None:
    if order.fulfillment_channel == FulfillmentChannel.MARKETPLACE:
        wh = _special_warehouse(shop, WarehouseKind.MARKETPLACE)
        return RoutingDecision(LineSource.MARKETPLACE.value, wh.id if wh else None, _("expédié par la marketplace"))
    if order.origin == "pos":
        wh = _special_warehouse(shop, WarehouseKind.STORE, order.pos_location)
        return RoutingDecision(LineSource.POS.value, wh.id if wh else None, _("vendu en magasin"))
    if line.variant_id is None:
        return None
    for rule in rules(order.organization_id):
        if not matches(rule, shop, order, line):
            continue
        if rule.allow_split:
            if _available(line.variant_id, rule.warehouse_id) >= line.quantity:
                return RoutingDecision(LineSource.WAREHOUSE.value, rule.warehouse_id, _("règle « %(name)s »", name=rule.name))
        elif _can_serve_whole(order, rule.warehouse_id):
            return RoutingDecision(LineSource.WAREHOUSE.value, rule.warehouse_id,
                                   _("règle « %(name)s » (commande entière)", name=rule.name))
    pool = pool_warehouse_ids(shop)
    for wid in pool:
        if _available(line.variant_id, wid) >= line.quantity:
            return RoutingDecision(LineSource.WAREHOUSE.value, wid, _("stock disponible (priorité)"))
    if pool:  # nothing has it: the first warehouse, where the line waits in backorder
        return RoutingDecision(LineSource.WAREHOUSE.value, pool[0], _("aucun stock disponible"))
    return None
