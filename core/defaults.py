"""Core's own hook implementations: the defaults an add-on can override.

All are ``trylast`` so any enabled add-on answering the same hook wins.
"""
from __future__ import annotations

from sqlalchemy import select

from . import hookimpl
from .extensions import db
from .models import LineSource, Warehouse, WarehouseKind
from .types import RoutingDecision


@hookimpl(trylast=True)
def routing_choose_source(order, line):
    """Single-warehouse routing: the organization's first active own warehouse by priority."""
    wh = db.session.scalar(
        select(Warehouse)
        .where(Warehouse.organization_id == order.organization_id,
               Warehouse.kind == WarehouseKind.OWN, Warehouse.active.is_(True))
        .order_by(Warehouse.priority, Warehouse.id)
        .limit(1))
    if wh is None:
        return None
    return RoutingDecision(source=LineSource.WAREHOUSE.value, warehouse_id=wh.id,
                           reason=f"entrepôt par défaut {wh.code}")


@hookimpl(trylast=True)
def shipping_cancel_label(shipment):
    """The manual carrier has nothing to cancel remotely."""
    if shipment.carrier == "manual":
        return True
    return None
