"""Central stock: atomic reservations, the stock ledger, what each channel may sell, and the
coalesced fan-out of changes to the channels.

Every change is one conditional ``UPDATE`` (``… WHERE on_hand - reserved >= :qty``), so when
two workers or two channels want the last unit, exactly one update matches and the other
order waits in backorder. The change, its ledger row and its "dirty" mark are written in the
caller's transaction; the push to the channels runs after commit, coalesced per time window.
"""
from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, bindparam, case, column, delete, func, insert, select, tuple_, update
from sqlalchemy.orm import Session

from .addons import call
from .extensions import db
from .inputs import QTY_MAX
from .jobs import enqueue
from .models import (
    ChannelStockRule,
    ConnectionStatus,
    Shop,
    STOCK_DIRTY_SEQ,
    StockDirty,
    StockLevel,
    StockMovement,
    StockPool,
    StockPoolWarehouse,
    Variant,
    Warehouse,
    WarehouseKind,
    utcnow,
)
from .types import StockChange

#: seconds during which changes to a SKU coalesce into one push per shop
PUSH_WINDOW = 2.0


class StockError(ValueError):
    """A refused stock operation, with a message for the merchant."""


@dataclass(frozen=True)
class Level:
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


# ----------------------------------------------------------------------------- primitives
def _insert():
    """The dialect's INSERT (with ON CONFLICT) for PostgreSQL and SQLite."""
    name = db.engine.dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:  # pragma: no cover - other databases are not supported
        raise RuntimeError(f"stock needs PostgreSQL or SQLite, not {name}")
    return dialect_insert


def _level_row(variant_id: int, warehouse_id: int) -> None:
    """Make sure the (variant, warehouse) row exists (concurrency-safe)."""
    db.session.execute(_insert()(StockLevel).values(variant_id=variant_id, warehouse_id=warehouse_id, on_hand=0,
                                                    reserved=0, updated_at=func.now()).on_conflict_do_nothing())


_LEDGER = "oms_tx_stock_ledger"


def _ledger(**row) -> None:
    """Buffer a ledger row; written in one statement before the transaction commits."""
    row.setdefault("reason", "")
    row.setdefault("order_id", None)
    row.setdefault("user_id", None)
    row.setdefault("delta_on_hand", 0)
    row.setdefault("delta_reserved", 0)
    db.session.info.setdefault(_LEDGER, []).append(row)


def flush_ledger() -> None:
    rows = db.session.info.pop(_LEDGER, None)
    if rows:
        now = utcnow()
        db.session.execute(insert(StockMovement.__table__), [{**r, "at": now} for r in rows])


def _change(org_id: int, variant_id: int, warehouse_id: int, *, kind: str, d_on_hand: int = 0,
            d_reserved: int = 0, guard=None, reason: str = "", order_id: int | None = None,
            user_id: int | None = None) -> bool:
    """Apply one delta atomically if ``guard`` holds; ledger and dirty mark on success."""
    stmt = (update(StockLevel)
            .where(StockLevel.variant_id == variant_id, StockLevel.warehouse_id == warehouse_id)
            .values(on_hand=StockLevel.on_hand + d_on_hand, reserved=StockLevel.reserved + d_reserved,
                    updated_at=func.now())
            .execution_options(synchronize_session=False))
    if guard is not None:
        stmt = stmt.where(guard)
    if db.session.execute(stmt).rowcount != 1:
        return False
    _ledger(organization_id=org_id, variant_id=variant_id, warehouse_id=warehouse_id, kind=kind,
            delta_on_hand=d_on_hand, delta_reserved=d_reserved, reason=reason, order_id=order_id, user_id=user_id)
    mark_dirty(org_id, [variant_id])
    return True


def reserve(org_id: int, variant_id: int, warehouse_id: int, qty: int, *, order_id: int | None = None) -> bool:
    """Reserve ``qty`` units if that many are available; False (nothing changed) otherwise."""
    if qty <= 0:
        return True
    guard = StockLevel.on_hand - StockLevel.reserved >= qty
    if _change(org_id, variant_id, warehouse_id, kind="reserve", d_reserved=qty, guard=guard, order_id=order_id,
               reason="réservation pour commande"):
        return True
    if level_exists(variant_id, warehouse_id):
        return False
    _level_row(variant_id, warehouse_id)
    return False  # a new row holds nothing


def level_exists(variant_id: int, warehouse_id: int) -> bool:
    return db.session.scalar(select(StockLevel.id).where(StockLevel.variant_id == variant_id,
                                                         StockLevel.warehouse_id == warehouse_id)) is not None


def _reserve_many_statement() -> Any:
    """``UPDATE stock_level … FROM unnest(:vids, :wids, :qtys) AS wanted(vid, wid, qty)``: the
    page's demand as three array parameters, so the statement is compiled once and cached."""
    from sqlalchemy.dialects.postgresql import ARRAY

    wanted = (func.unnest(bindparam("vids", type_=ARRAY(Integer)), bindparam("wids", type_=ARRAY(Integer)),
                          bindparam("qtys", type_=ARRAY(Integer)))
              .table_valued(column("vid", Integer), column("wid", Integer), column("qty", Integer))
              .render_derived(name="wanted"))
    return (update(StockLevel)
            .where(StockLevel.variant_id == wanted.c.vid, StockLevel.warehouse_id == wanted.c.wid,
                   StockLevel.on_hand - StockLevel.reserved >= wanted.c.qty)
            .values(reserved=StockLevel.reserved + wanted.c.qty, updated_at=func.now())
            .returning(StockLevel.variant_id, StockLevel.warehouse_id)
            .execution_options(synchronize_session=False))


def reserve_many(org_id: int, demands: dict[tuple[int, int], list[tuple[int, int]]]) -> set[tuple[int, int]]:
    """Reserve, for each (variant, warehouse), the summed quantity of its (order id, qty)
    demands in one statement when every unit is there. Returns the pairs fully granted; the
    others are left untouched for the caller to serve line by line.
    """
    if not demands:
        return set()
    if db.engine.dialect.name != "postgresql":
        return set()  # SQLite serializes writers anyway: the caller reserves line by line
    pairs = sorted(demands)
    # lock in one fixed order, so two pages reserving the same SKUs never deadlock
    db.session.execute(select(StockLevel.id).where(tuple_(StockLevel.variant_id, StockLevel.warehouse_id).in_(pairs))
                       .order_by(StockLevel.id).with_for_update())
    granted = {tuple(row) for row in db.session.execute(_reserve_many_statement(), {
        "vids": [v for v, _w in pairs], "wids": [w for _v, w in pairs],
        "qtys": [sum(q for _o, q in demands[pair]) for pair in pairs]})}
    for pair in granted:
        for order_id, qty in demands[pair]:
            _ledger(organization_id=org_id, variant_id=pair[0], warehouse_id=pair[1], kind="reserve",
                    delta_reserved=qty, order_id=order_id, reason="réservation pour commande")
    mark_dirty(org_id, [v for v, _w in granted])
    return granted


def release(org_id: int, variant_id: int, warehouse_id: int, qty: int, *, order_id: int | None = None,
            reason: str = "libération") -> None:
    if qty <= 0:
        return
    if not _change(org_id, variant_id, warehouse_id, kind="release", d_reserved=-qty,
                   guard=(StockLevel.reserved >= qty), order_id=order_id, reason=reason):
        raise StockError(f"cannot release {qty}: fewer units reserved")


def consume(org_id: int, variant_id: int, warehouse_id: int, qty: int, *, order_id: int | None = None,
            reserved: bool = True, reason: str = "expédition") -> None:
    """Units leave the warehouse: shipped (they were reserved) or sold on the spot."""
    if qty <= 0:
        return
    _level_row(variant_id, warehouse_id)
    if reserved:
        ok = _change(org_id, variant_id, warehouse_id, kind="ship", d_on_hand=-qty, d_reserved=-qty,
                     guard=(StockLevel.reserved >= qty) & (StockLevel.on_hand >= qty), order_id=order_id,
                     reason=reason)
    else:
        ok = _change(org_id, variant_id, warehouse_id, kind="sale", d_on_hand=-qty,
                     guard=(StockLevel.on_hand - StockLevel.reserved >= qty), order_id=order_id, reason=reason)
    if not ok:
        raise StockError(f"stock insuffisant pour sortir {qty} unité(s)")


def adjust(org_id: int, variant_id: int, warehouse_id: int, delta: int, *, reason: str,
           user_id: int | None) -> None:
    """A manual correction (inventory count, damage, receipt): who and why are recorded.
    On hand may never fall below what open orders have reserved."""
    if not reason.strip():
        raise StockError("indiquez la raison de l'ajustement")
    if abs(delta) > QTY_MAX or level(variant_id, warehouse_id).on_hand + delta > QTY_MAX:
        raise StockError(f"impossible : au plus {QTY_MAX:,} unités par article et par entrepôt".replace(",", " "))
    kind = "adjust" if delta < 0 else "receive"
    guard = (StockLevel.on_hand + delta >= StockLevel.reserved) & (StockLevel.on_hand + delta <= QTY_MAX)
    if not _change(org_id, variant_id, warehouse_id, kind=kind, d_on_hand=delta, guard=guard,
                   reason=reason.strip(), user_id=user_id):
        if level_exists(variant_id, warehouse_id):
            raise StockError("impossible : le stock passerait sous les unités déjà réservées par des commandes")
        _level_row(variant_id, warehouse_id)
        if not _change(org_id, variant_id, warehouse_id, kind=kind, d_on_hand=delta, guard=guard,
                       reason=reason.strip(), user_id=user_id):
            raise StockError("impossible : le stock ne peut pas être négatif")
    if delta > 0 and _has_backorders(variant_id):
        enqueue("core.orders.retry_backorders", org_id, [variant_id],
                job_id=f"backorders-{org_id}-{variant_id}", unique=True)


def _has_backorders(variant_id: int) -> bool:
    from .models import Order, OrderLine, OrderStatus

    return db.session.scalar(
        select(OrderLine.id).join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.variant_id == variant_id, Order.status == OrderStatus.ON_HOLD,
               Order.hold_code == "backorder").limit(1)) is not None


def level(variant_id: int, warehouse_id: int) -> Level:
    row = db.session.execute(select(StockLevel.on_hand, StockLevel.reserved).where(
        StockLevel.variant_id == variant_id, StockLevel.warehouse_id == warehouse_id)).first()
    return Level(*row) if row else Level(0, 0)


# ----------------------------------------------------------------------------- pools & channel rules
def set_sell_buffer(warehouse: Warehouse, units: int) -> None:
    """Hold ``units`` of each SKU of the warehouse back from the channels; the channels get
    their new figures with the next push."""
    units = min(max(int(units or 0), 0), QTY_MAX)
    if units == (warehouse.sell_buffer or 0):
        return
    warehouse.sell_buffer = units
    if warehouse.id is not None:
        mark_dirty(warehouse.organization_id, db.session.scalars(
            select(StockLevel.variant_id).where(StockLevel.warehouse_id == warehouse.id)).all())


def pool_warehouse_ids(shop: Shop) -> list[int]:
    """Warehouses whose stock this shop sells, by priority (cached for the transaction)."""
    cache = db.session.info.setdefault("oms_tx_pools", {})
    if shop.id not in cache:
        cache[shop.id] = _pool_warehouse_ids(shop)
    return cache[shop.id]


def _pool_warehouse_ids(shop: Shop) -> list[int]:
    if shop.stock_pool_id:
        stmt = (select(Warehouse.id).join(StockPoolWarehouse, StockPoolWarehouse.warehouse_id == Warehouse.id)
                .where(StockPoolWarehouse.stock_pool_id == shop.stock_pool_id, Warehouse.active.is_(True)))
    else:
        stmt = select(Warehouse.id).where(Warehouse.organization_id == shop.organization_id,
                                          Warehouse.kind == WarehouseKind.OWN, Warehouse.active.is_(True))
    return list(db.session.scalars(stmt.order_by(Warehouse.priority, Warehouse.id)))


def channel_rule(shop: Shop) -> ChannelStockRule | None:
    rules = db.session.scalars(select(ChannelStockRule).where(
        ChannelStockRule.organization_id == shop.organization_id,
        (ChannelStockRule.shop_id == shop.id) | ((ChannelStockRule.shop_id.is_(None)) &
                                                  (ChannelStockRule.addon == shop.addon)))).all()
    return next((r for r in rules if r.shop_id == shop.id), rules[0] if rules else None)


def apply_rule(available: int, rule: ChannelStockRule | None) -> int:
    if rule is None:
        return max(available, 0)
    qty = (available - rule.buffer) * rule.percentage // 100
    if rule.maximum is not None:
        qty = min(qty, rule.maximum)
    return max(qty, 0)


def available_to_sell(shop: Shop, variant_ids: Iterable[int]) -> dict[int, int]:
    """Per variant: on hand − reserved over the shop's pool, less each warehouse's sell
    buffer (never below zero per warehouse), then the channel's rule."""
    ids = list(variant_ids)
    warehouses = pool_warehouse_ids(shop)
    totals: dict[int, int] = defaultdict(int)
    if ids and warehouses:
        free = StockLevel.on_hand - StockLevel.reserved
        buffer = Warehouse.sell_buffer
        sellable = case((buffer <= 0, free), (free > buffer, free - buffer), else_=0)
        rows = db.session.execute(
            select(StockLevel.variant_id, func.sum(sellable))
            .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
            .where(StockLevel.variant_id.in_(ids), StockLevel.warehouse_id.in_(warehouses))
            .group_by(StockLevel.variant_id))
        totals.update({vid: int(total or 0) for vid, total in rows})
    rule = channel_rule(shop)
    return {vid: apply_rule(totals[vid], rule) for vid in ids}


# ----------------------------------------------------------------------------- fan-out
_PENDING_PUSH = "oms_tx_stock_push_orgs"
_DIRTY = "oms_tx_stock_dirty"


def mark_dirty(org_id: int, variant_ids: Iterable[int]) -> None:
    """Remember that these variants changed, and queue (once per window) the push job.
    The marks are written in one statement before the transaction commits."""
    ids = set(variant_ids)
    if not ids:
        return
    db.session.info.setdefault(_DIRTY, set()).update((org_id, vid) for vid in ids)
    queued = db.session.info.setdefault(_PENDING_PUSH, set())
    if org_id not in queued:
        queued.add(org_id)
        bucket = int(time.time() // PUSH_WINDOW)
        enqueue("core.stock.push_changes", org_id, job_id=f"stock-push-{org_id}-{bucket}", unique=True,
                delay=PUSH_WINDOW)


def _mark_statement() -> Any:
    """Insert a mark, or renumber it if it exists: the renumbering also locks the mark row
    until this transaction ends, so a push that read the old number cannot delete it."""
    ins = _insert()(StockDirty.__table__)
    if db.engine.dialect.name == "postgresql":
        ins = ins.values(seq=STOCK_DIRTY_SEQ.next_value())
    return ins.on_conflict_do_update(index_elements=["organization_id", "variant_id"],
                                     set_={"seq": ins.excluded.seq})


def flush_dirty() -> None:
    marks = db.session.info.pop(_DIRTY, None)
    if marks:
        # SQLite has one writer at a time: the clock numbers its marks well enough
        seq = {} if db.engine.dialect.name == "postgresql" else {"seq": time.time_ns()}
        db.session.execute(_mark_statement(),
                           [{"organization_id": o, "variant_id": v, **seq} for o, v in sorted(marks)])


def _seen_marks(org_id: int) -> list[tuple[int, int]]:
    return [(v, q) for v, q in db.session.execute(
        select(StockDirty.variant_id, StockDirty.seq).where(StockDirty.organization_id == org_id)
        .order_by(StockDirty.variant_id))]


def _drop_marks(org_id: int, seen: list[tuple[int, int]]) -> None:
    """Delete the marks still numbered as they were read: one renumbered since (a change
    committed, or about to commit, after the figures were read) stays for the next push."""
    for start in range(0, len(seen), 500):
        db.session.execute(delete(StockDirty).where(
            StockDirty.organization_id == org_id,
            tuple_(StockDirty.variant_id, StockDirty.seq).in_(seen[start:start + 500])))


def write_buffers(session: Session) -> None:
    """Commit pipeline, before commit: ledger rows and dirty marks go to the database with the
    transaction they belong to."""
    if session.info.get(_LEDGER) or session.info.get(_DIRTY):
        if session is db.session():  # buffers are only ever filled through db.session
            flush_ledger()
            flush_dirty()


def push_changes(org_id: int) -> int:
    """Drain the dirty marks and fire ``stock_available_changed`` once per shop, with the
    final figure of each changed SKU. Returns the number of (shop, SKU) figures pushed."""
    seen = _seen_marks(org_id)  # marks first, figures after: a later change keeps its mark
    if not seen:
        return 0
    pushed = _push(org_id, [v for v, _seq in seen])
    _drop_marks(org_id, seen)
    return pushed


#: what a channel's stock job writes on the sync log when the shop's switch is off
SYNC_OFF = "« Sync stock automatique » désactivée pour cette boutique : aucun stock envoyé"


def sync_off(shop: Shop) -> str | None:
    """None when stock may be sent to ``shop``; else the sentence its stock jobs return (the
    sync log's line) instead of calling the remote. Every add-on's push and reconciliation
    job asks it first."""
    return SYNC_OFF if shop.stock_sync is False else None  # None: a new shop, on by default


def _push(org_id: int, variant_ids: list[int], shop_id: int | None = None) -> int:
    skus = dict(db.session.execute(select(Variant.id, Variant.sku).where(Variant.id.in_(variant_ids))).all())
    stmt = select(Shop).where(Shop.organization_id == org_id, Shop.status != ConnectionStatus.DISCONNECTED,
                              Shop.stock_sync.is_(True))
    if shop_id is not None:
        stmt = stmt.where(Shop.id == shop_id)
    shops = db.session.scalars(stmt.order_by(Shop.id)).all()
    pushed = 0
    for shop in shops:
        figures = available_to_sell(shop, skus)
        changes = [StockChange(sku=skus[vid], variant_id=vid, available=qty) for vid, qty in sorted(figures.items())]
        if changes:
            call(shop, "stock_available_changed", changes=changes)
            pushed += len(changes)
    return pushed


def reconcile(org_id: int) -> int:
    """Push every SKU's figure to every shop (on demand, and nightly)."""
    seen = _seen_marks(org_id)
    variant_ids = list(db.session.scalars(select(Variant.id).where(Variant.organization_id == org_id)))
    total = 0
    for start in range(0, len(variant_ids), 500):
        total += _push(org_id, variant_ids[start:start + 500])
    _drop_marks(org_id, seen)
    return total


def reconcile_shop_stock(shop_id: int) -> str:
    """Hand every SKU's figure to one shop's channel (its "Sync stock automatique" switched
    back on: what changed meanwhile is sent); the sync log's line."""
    shop = db.session.get(Shop, shop_id)
    if shop is None:
        return "boutique introuvable"
    if off := sync_off(shop):
        return off
    variant_ids = list(db.session.scalars(select(Variant.id).where(Variant.organization_id == shop.organization_id)))
    total = sum(_push(shop.organization_id, variant_ids[start:start + 500], shop_id=shop.id)
                for start in range(0, len(variant_ids), 500))
    return f"{total} quantité(s) remise(s) au canal pour envoi"


def set_stock_sync(shop: Shop, on: bool) -> bool:
    """Turn the shop's "Sync stock automatique" on or off; back on, every figure is sent
    again after commit. Returns True when the switch changed."""
    on = bool(on)
    if (shop.stock_sync is not False) == on:
        return False
    shop.stock_sync = on
    if on and shop.id is not None:
        enqueue("core.stock.reconcile_shop_stock", shop.id, job_id=f"stock-reconcile-shop-{shop.id}", unique=True,
                shop_id=shop.id)
    return True


def reconcile_all() -> int:
    """The nightly reconciliation: one job per organization."""
    from .models import Organization

    org_ids = list(db.session.scalars(select(Organization.id)))
    for org_id in org_ids:
        enqueue("core.stock.reconcile", org_id, job_id=f"stock-reconcile-{org_id}", unique=True)
    return len(org_ids)


def pools(org_id: int) -> list[StockPool]:
    return list(db.session.scalars(select(StockPool).where(StockPool.organization_id == org_id)
                                   .order_by(StockPool.name)))
