"""Shopify locations and the OMS warehouses they stand for.

* a location fulfilling online orders: the first one found becomes the shop's stock target
  (it receives the shop's sellable figure: stock pool, channel rule);
* a retail location (a store, where Shopify POS sells): it gets a ``store`` warehouse of its
  own, created if missing; POS sales there take their stock from it and its quantities are
  pushed back to the location.
"""
from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select

from core.extensions import db
from core.models import Shop, Warehouse, WarehouseKind

from .client import ShopifyClient, gid
from .graphql import LOCATIONS
from .models import ShopifyLocation


def sync_locations(shop: Shop, client: ShopifyClient) -> list[ShopifyLocation]:
    """Read every location of the shop and keep the mapping table up to date."""
    rows = []
    for page in client.paginate(LOCATIONS, {}, "locations", page_size=50):
        for node in page:
            rows.append(upsert(shop, node["id"], node.get("name") or "", online=bool(node.get("fulfillsOnlineOrders")),
                               active=bool(node.get("isActive", True)),
                               country=(node.get("address") or {}).get("countryCode")))
    ensure_stock_target(shop)
    return rows


def upsert(shop: Shop, location_gid: str, name: str, *, online: bool, active: bool = True,
           country: str | None = None) -> ShopifyLocation:
    row = _row(shop.id, location_gid)
    if row is None:
        row = ShopifyLocation(shop_id=shop.id, location_gid=location_gid, name=name, retail=not online,
                              stock_target=False, active=active)
        db.session.add(row)
    else:
        row.name, row.active = name or row.name, active
        if not online:
            row.retail = True
    if row.retail and row.warehouse_id is None:
        row.warehouse_id = _store_warehouse(shop, row.name, country).id
    db.session.flush()
    return row


def ensure_stock_target(shop: Shop) -> ShopifyLocation | None:
    rows = list(db.session.scalars(select(ShopifyLocation).where(ShopifyLocation.shop_id == shop.id)
                                   .order_by(ShopifyLocation.id)))
    current = next((r for r in rows if r.stock_target and r.active and not r.retail), None)
    if current is not None:
        return current
    for r in rows:
        r.stock_target = False
    chosen = next((r for r in rows if r.active and not r.retail), None)
    if chosen is not None:
        chosen.stock_target = True
    return chosen


def warehouse_code_for(shop: Shop, location_id: str, name: str = "") -> str:
    """The store warehouse code of a location a POS sale came from (created on first sight:
    a location where POS sells is a store)."""
    location_gid = gid("Location", location_id)
    row = _row(shop.id, location_gid)
    if row is None:
        row = upsert(shop, location_gid, name or f"Magasin Shopify {location_id}", online=False)
    elif not row.retail or row.warehouse_id is None:
        row.retail, row.stock_target = True, False
        row.warehouse_id = row.warehouse_id or _store_warehouse(shop, row.name).id
        db.session.flush()
        ensure_stock_target(shop)
    warehouse = db.session.get(Warehouse, row.warehouse_id)
    assert warehouse is not None
    return warehouse.code


def _row(shop_id: int, location_gid: str) -> ShopifyLocation | None:
    return db.session.scalar(select(ShopifyLocation).where(ShopifyLocation.shop_id == shop_id,
                                                           ShopifyLocation.location_gid == location_gid))


def _store_warehouse(shop: Shop, name: str, country: str | None = None) -> Warehouse:
    """The shop's store warehouse with this name, or a new one with a unique code."""
    existing = db.session.scalar(select(Warehouse).where(
        Warehouse.organization_id == shop.organization_id, Warehouse.kind == WarehouseKind.STORE,
        Warehouse.shop_id == shop.id, Warehouse.name == name[:120]))
    if existing is not None:
        return existing
    base = re.sub(r"[^A-Z0-9]+", "-", _ascii(name).upper()).strip("-")[:24] or "MAGASIN"
    code, n = base, 1
    taken = set(db.session.scalars(select(Warehouse.code).where(Warehouse.organization_id == shop.organization_id)))
    while code in taken:
        n += 1
        code = f"{base[:24]}-{n}"
    warehouse = Warehouse(organization_id=shop.organization_id, code=code, name=name[:120], kind=WarehouseKind.STORE,
                          shop_id=shop.id, country=(country or None), priority=50, active=True)
    db.session.add(warehouse)
    db.session.flush()
    return warehouse


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
