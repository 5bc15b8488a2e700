"""Shopify locations and the OMS warehouses they stand for.

* a location fulfilling online orders: the first one found becomes the shop's stock target
  (it receives the shop's sellable figure: stock pool, channel rule);
* a retail location (a store, where Shopify POS sells): it gets a ``store`` warehouse of its
  own, created if missing; POS sales there take their stock from it and its quantities are
  pushed back to the location.

The merchant can choose instead, on the shop's locations page (:func:`apply_choices`): each
location mapped to an existing warehouse, to a new store warehouse, or not used, and marked a
POS store or not. A location so mapped keeps the merchant's choice through later syncs.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from core.extensions import db
from core.models import Shop, Warehouse, WarehouseKind

from .client import ShopifyClient, gid
from .graphql import LOCATIONS
from .models import ShopifyLocation


PAGE_SIZE = 50


def sync_locations(shop: Shop, client: ShopifyClient, *, assign: bool = True) -> list[ShopifyLocation]:
    """Read every location of the shop (``locations``, every page) and keep the mapping table
    up to date. With ``assign`` a retail location the merchant has not mapped gets its store
    warehouse at once (the periodic sync); without, the locations page proposes it."""
    rows = []
    for page in client.paginate(LOCATIONS, {}, "locations", page_size=PAGE_SIZE):
        for node in page:
            rows.append(upsert(shop, node["id"], node.get("name") or "", online=bool(node.get("fulfillsOnlineOrders")),
                               active=bool(node.get("isActive", True)),
                               country=(node.get("address") or {}).get("countryCode"),
                               city=(node.get("address") or {}).get("city"), assign=assign))
    ensure_stock_target(shop)
    return rows


def upsert(shop: Shop, location_gid: str, name: str, *, online: bool, active: bool = True,
           country: str | None = None, city: str | None = None, assign: bool = True) -> ShopifyLocation:
    row = _row(shop.id, location_gid)
    if row is None:
        row = ShopifyLocation(shop_id=shop.id, location_gid=location_gid, name=name, retail=not online,
                              stock_target=False, active=active, ignored=False, configured=False)
        db.session.add(row)
    else:
        row.name, row.active = name or row.name, active
        if not online and not row.configured:
            row.retail = True
    row.online, row.city, row.country = online, (city or None) and city[:120], (country or None) and country[:2]
    if assign and row.retail and row.warehouse_id is None and not row.ignored:
        row.warehouse_id = _store_warehouse(shop, row.name, country).id
    db.session.flush()
    return row


def ensure_stock_target(shop: Shop) -> ShopifyLocation | None:
    rows = list(db.session.scalars(select(ShopifyLocation).where(ShopifyLocation.shop_id == shop.id)
                                   .order_by(ShopifyLocation.id)))
    current = next((r for r in rows if r.stock_target and r.active and not r.retail and not r.ignored), None)
    if current is not None:
        return current
    for r in rows:
        r.stock_target = False
    chosen = next((r for r in rows if r.active and not r.retail and not r.ignored), None)
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
    elif not row.retail or row.warehouse_id is None or row.ignored:
        # POS sold there: it is a store, whatever it was taken for (routing needs its store warehouse)
        row.retail, row.stock_target, row.ignored = True, False, False
        current = db.session.get(Warehouse, row.warehouse_id) if row.warehouse_id else None
        if current is None or current.kind != WarehouseKind.STORE:
            row.warehouse_id = _store_warehouse(shop, row.name).id
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


# ----------------------------------------------------------------------------- the merchant's choices
NOT_USED, NEW_STORE = "none", "new"


class LocationChoiceError(ValueError):
    """A choice the merchant can correct (the sentence says how); nothing was saved."""


@dataclass(frozen=True)
class Choice:
    """What the locations page posts for one location: ``none``, ``new`` or a warehouse id,
    and whether it is a POS store."""

    target: str
    pos: bool


def warehouse_options(shop: Shop) -> list[Warehouse]:
    """The warehouses a location may stand for: the organization's own and store warehouses
    (a store warehouse of another shop, or the marketplace's and suppliers' stock, never)."""
    return list(db.session.scalars(select(Warehouse).where(
        Warehouse.organization_id == shop.organization_id, Warehouse.active.is_(True),
        Warehouse.kind.in_([WarehouseKind.OWN, WarehouseKind.STORE]),
        or_(Warehouse.shop_id.is_(None), Warehouse.shop_id == shop.id))
        .order_by(Warehouse.kind, Warehouse.priority, Warehouse.name, Warehouse.id)))


def proposed(shop: Shop, row: ShopifyLocation, options: list[Warehouse]) -> Choice:
    """What the page shows for a location: the merchant's choice once made; otherwise a store
    for a location that does not fulfil online orders (its store warehouse if it has one), and
    for an online location the warehouse it stands for (else the first own warehouse)."""
    if row.ignored:
        return Choice(NOT_USED, False)
    ids = {w.id for w in options}
    if row.warehouse_id in ids:
        return Choice(str(row.warehouse_id), row.retail)
    if row.retail:
        same = next((w for w in options if w.kind == WarehouseKind.STORE and w.shop_id == shop.id
                     and w.name == row.name[:120]), None)
        return Choice(str(same.id) if same else NEW_STORE, True)
    own = next((w for w in options if w.kind == WarehouseKind.OWN), None)
    return Choice(str(own.id) if own else NOT_USED, False)


def apply_choices(shop: Shop, choices: dict[int, Choice]) -> list[ShopifyLocation]:
    """Save the page: every choice checked first (nothing saved if one is wrong), then store
    warehouses created for ``new``, each location mapped, the stock target chosen again.
    Returns the locations whose role or warehouse changed."""
    rows = {r.id: r for r in db.session.scalars(select(ShopifyLocation).where(ShopifyLocation.shop_id == shop.id))}
    options = {w.id: w for w in warehouse_options(shop)}
    plan: list[tuple[ShopifyLocation, Choice, Warehouse | None]] = []
    for row_id, choice in sorted(choices.items()):
        row = rows.get(row_id)
        if row is None:
            raise LocationChoiceError(_l("Cet emplacement n'existe plus : relisez les emplacements."))
        warehouse = None
        if choice.target not in (NOT_USED, NEW_STORE):
            warehouse = options.get(int(choice.target)) if choice.target.isdigit() else None
            if warehouse is None:
                raise LocationChoiceError(_l("« %(location)s » : choisissez un entrepôt de la liste.",
                                             location=row.name))
            if choice.pos and warehouse.kind != WarehouseKind.STORE:
                raise LocationChoiceError(_l(
                    "« %(location)s » est un magasin POS : reliez-le à un entrepôt de type magasin, ou choisissez "
                    "« nouvel entrepôt magasin ».", location=row.name))
        plan.append((row, choice, warehouse))
    changed = []
    for row, choice, warehouse in plan:
        before = (row.ignored, row.retail, row.warehouse_id)
        if choice.target == NOT_USED:
            row.ignored, row.retail, row.stock_target, row.warehouse_id = True, False, False, None
        else:
            if choice.target == NEW_STORE:
                warehouse = _store_warehouse(shop, row.name, row.country)
            assert warehouse is not None
            row.ignored, row.warehouse_id = False, warehouse.id
            # a new store warehouse makes the location a store
            row.retail = choice.pos or choice.target == NEW_STORE
            if row.retail:
                row.stock_target = False
        row.configured = True
        if (row.ignored, row.retail, row.warehouse_id) != before:
            changed.append(row)
    db.session.flush()
    ensure_stock_target(shop)
    db.session.flush()
    return changed
