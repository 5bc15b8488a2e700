"""Central stock: atomic reservations, the stock ledger, what each channel may sell, and the
coalesced fan-out of changes to the channels.

Every change is one conditional ``UPDATE`` (``… WHERE on_hand - reserved >= :qty``), so when
two workers or two channels want the last unit, exactly one update matches and the other
order waits in backorder. The change, its ledger row and its "dirty" mark are written in the
caller's transaction; the push to the channels runs after commit, coalesced per time window.
"""
from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, bindparam, case, column, delete, func, insert, select, text, tuple_, update
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
from .i18n import _

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


#: what must hold for a change to apply (``qty`` and ``d_on_hand`` are the change's parameters)
_GUARDS = {
    "available": lambda c, qty, _d: c.on_hand - c.reserved >= qty,  # units free to reserve or sell
    "reserved": lambda c, qty, _d: c.reserved >= qty,  # units reserved to release
    "shippable": lambda c, qty, _d: (c.reserved >= qty) & (c.on_hand >= qty),  # reserved units leaving
    "count": lambda c, _q, d: (c.on_hand + d >= c.reserved) & (c.on_hand + d <= QTY_MAX),  # a correction
}
_CHANGE_STATEMENTS: dict[str, Any] = {}


def _change_statement(guard: str) -> Any:
    """The guarded ``UPDATE stock_level`` of one (variant, warehouse), built once per guard:
    every change of that kind runs the same cached statement with its own parameters."""
    stmt = _CHANGE_STATEMENTS.get(guard)
    if stmt is None:
        levels = StockLevel.__table__
        d_on_hand, d_reserved = bindparam("d_on_hand", type_=Integer), bindparam("d_reserved", type_=Integer)
        stmt = (update(levels)
                .where(levels.c.variant_id == bindparam("variant", type_=Integer),
                       levels.c.warehouse_id == bindparam("warehouse", type_=Integer),
                       _GUARDS[guard](levels.c, bindparam("qty", type_=Integer), d_on_hand))
                .values(on_hand=levels.c.on_hand + d_on_hand, reserved=levels.c.reserved + d_reserved,
                        updated_at=func.now()))
        _CHANGE_STATEMENTS[guard] = stmt
    return stmt


def _change(org_id: int, variant_id: int, warehouse_id: int, *, kind: str, guard: str, qty: int = 0,
            d_on_hand: int = 0, d_reserved: int = 0, reason: str = "", order_id: int | None = None,
            user_id: int | None = None) -> bool:
    """Apply one delta atomically if the ``guard`` (a :data:`_GUARDS` name) holds for ``qty``;
    ledger and dirty mark on success.

    One statement: the ledger row and the mark are buffered and written, with every other
    change of the transaction, just before it commits (:func:`write_buffers`)."""
    session = db.session()
    if session.autoflush:  # as an ORM statement would: rows added through the session are there
        session.flush()
    result = session.connection().execute(_change_statement(guard), {
        "variant": variant_id, "warehouse": warehouse_id, "qty": qty, "d_on_hand": d_on_hand,
        "d_reserved": d_reserved})
    if result.rowcount != 1:
        return False
    _ledger(organization_id=org_id, variant_id=variant_id, warehouse_id=warehouse_id, kind=kind,
            delta_on_hand=d_on_hand, delta_reserved=d_reserved, reason=reason, order_id=order_id, user_id=user_id)
    mark_dirty(org_id, (variant_id,))
    return True


def reserve(org_id: int, variant_id: int, warehouse_id: int, qty: int, *, order_id: int | None = None) -> bool:
    """Reserve ``qty`` units if that many are available; False (nothing changed) otherwise."""
    if qty <= 0:
        return True
    if _change(org_id, variant_id, warehouse_id, kind="reserve", guard="available", qty=qty, d_reserved=qty,
               order_id=order_id, reason=_("réservation pour commande")):
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


#: the page's stock levels locked in one fixed order (arrays: one statement text, whatever the page)
_LOCK_LEVELS = text("SELECT s.id FROM stock_level AS s JOIN unnest(CAST(:vids AS int[]), CAST(:wids AS int[])) "
                    "AS w(vid, wid) ON s.variant_id = w.vid AND s.warehouse_id = w.wid ORDER BY s.id FOR UPDATE OF s")


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
    vids, wids = [v for v, _w in pairs], [w for _v, w in pairs]
    db.session.execute(_LOCK_LEVELS, {"vids": vids, "wids": wids})
    granted = {tuple(row) for row in db.session.execute(_reserve_many_statement(), {
        "vids": vids, "wids": wids, "qtys": [sum(q for _o, q in demands[pair]) for pair in pairs]})}
    for pair in granted:
        for order_id, qty in demands[pair]:
            _ledger(organization_id=org_id, variant_id=pair[0], warehouse_id=pair[1], kind="reserve",
                    delta_reserved=qty, order_id=order_id, reason=_("réservation pour commande"))
    mark_dirty(org_id, [v for v, _w in granted])
    return granted


def release(org_id: int, variant_id: int, warehouse_id: int, qty: int, *, order_id: int | None = None,
            reason: str = "libération") -> None:
    if qty <= 0:
        return
    if not _change(org_id, variant_id, warehouse_id, kind="release", guard="reserved", qty=qty, d_reserved=-qty,
                   order_id=order_id, reason=reason):
        raise StockError(f"cannot release {qty}: fewer units reserved")


def consume(org_id: int, variant_id: int, warehouse_id: int, qty: int, *, order_id: int | None = None,
            reserved: bool = True, reason: str = "expédition") -> None:
    """Units leave the warehouse: shipped (they were reserved) or sold on the spot."""
    if qty <= 0:
        return
    _level_row(variant_id, warehouse_id)
    if reserved:
        ok = _change(org_id, variant_id, warehouse_id, kind="ship", guard="shippable", qty=qty, d_on_hand=-qty,
                     d_reserved=-qty, order_id=order_id, reason=reason)
    else:
        ok = _change(org_id, variant_id, warehouse_id, kind="sale", guard="available", qty=qty, d_on_hand=-qty,
                     order_id=order_id, reason=reason)
    if not ok:
        raise StockError(_("stock insuffisant pour sortir %(qty)s unité(s)", qty=qty))


def adjust(org_id: int, variant_id: int, warehouse_id: int, delta: int, *, reason: str,
           user_id: int | None) -> None:
    """A manual correction (inventory count, damage, receipt): who and why are recorded.
    On hand may never fall below what open orders have reserved, nor rise above ``QTY_MAX``.

    The guarded update is the only statement on the way of a change that succeeds; a refused
    one reads the level to say why. Backorders the receipt may serve are looked for when the
    transaction commits (:func:`write_buffers`), with the other buffered work."""
    if not reason.strip():
        raise StockError(_("indiquez la raison de l'ajustement"))
    if abs(delta) > QTY_MAX:
        raise StockError(_TOO_MANY)
    kind, reason = ("adjust" if delta < 0 else "receive"), reason.strip()
    if not _change(org_id, variant_id, warehouse_id, kind=kind, guard="count", d_on_hand=delta, reason=reason,
                   user_id=user_id):
        current = db.session.execute(select(StockLevel.on_hand).where(
            StockLevel.variant_id == variant_id, StockLevel.warehouse_id == warehouse_id)).first()
        if current is not None and current.on_hand + delta > QTY_MAX:
            raise StockError(_TOO_MANY)
        if current is not None:
            raise StockError(_("impossible : le stock passerait sous les unités déjà réservées par des commandes"))
        _level_row(variant_id, warehouse_id)
        if not _change(org_id, variant_id, warehouse_id, kind=kind, guard="count", d_on_hand=delta, reason=reason,
                       user_id=user_id):
            raise StockError(_("impossible : le stock ne peut pas être négatif"))
    if delta > 0:
        db.session.info.setdefault(_GAINED, set()).add((org_id, variant_id))


_TOO_MANY = f"impossible : au plus {QTY_MAX:,} unités par article et par entrepôt".replace(",", " ")


def _backordered(variant_ids: Iterable[int]) -> set[int]:
    """Those of the variants that orders on hold for a stock-out wait for."""
    from .models import Order, OrderLine, OrderStatus

    return set(db.session.scalars(
        select(OrderLine.variant_id).join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.variant_id.in_(sorted(set(variant_ids))), Order.status == OrderStatus.ON_HOLD,
               Order.hold_code == "backorder").distinct()))


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
_GAINED = "oms_tx_stock_gained"


def mark_dirty(org_id: int, variant_ids: Iterable[int]) -> None:
    """Remember that these variants changed. The marks are written, and the push job queued
    (once per window), in one statement just before the transaction commits."""
    ids = set(variant_ids)
    if not ids:
        return
    db.session.info.setdefault(_DIRTY, set()).update((org_id, vid) for vid in ids)
    db.session.info.setdefault(_PENDING_PUSH, set()).add(org_id)


def push_job_id(org_id: int, at: float | None = None) -> str:
    """The push job of the organization for the window ``at`` (now) falls in."""
    return f"stock-push-{org_id}-{int((time.time() if at is None else at) // PUSH_WINDOW)}"


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


_BUFFERS_SQL: str | None = None


def _buffers_sql() -> str:
    """PostgreSQL, one round trip for everything a transaction's stock changes leave to do at
    commit: write its ledger rows, write its dirty marks (in one fixed order, so two
    transactions never deadlock on them), and answer two questions for the jobs to queue with
    them — which of its organizations have no push job waiting for the current window, and
    which of the variants it received are waited for by orders in backorder.

    The buffers travel as one JSON document (``%(doc)s``), so the statement text is built
    once and the driver adapts a single string however many rows the transaction changed.
    It is read as ``jsonb``, parsed once: a ``json`` value is parsed again by every ``->``,
    which made each ledger row cost a parse of the whole document."""
    global _BUFFERS_SQL
    if _BUFFERS_SQL is None:
        from .models import Order, OrderLine, OrderStatus, OutboxJob

        quote = db.engine.dialect.identifier_preparer.format_table
        _BUFFERS_SQL = f"""
WITH doc AS (SELECT CAST(%(doc)s AS jsonb) AS d),
ledger AS (
    INSERT INTO {quote(StockMovement.__table__)} (organization_id, variant_id, warehouse_id, kind, delta_on_hand,
                                                   delta_reserved, reason, order_id, user_id, at)
    SELECT l.organization_id, l.variant_id, l.warehouse_id, l.kind, l.delta_on_hand, l.delta_reserved, l.reason,
           l.order_id, l.user_id, CAST(%(at)s AS timestamptz)
    FROM doc, jsonb_to_recordset(doc.d->'ledger') AS l(organization_id int, variant_id int, warehouse_id int,
                                                      kind text, delta_on_hand int, delta_reserved int,
                                                      reason text, order_id int, user_id int)
),
marks AS (
    INSERT INTO {quote(StockDirty.__table__)} (organization_id, variant_id, seq)
    SELECT m.org, m.variant, nextval('{STOCK_DIRTY_SEQ.name}')
    FROM doc, jsonb_to_recordset(doc.d->'marks') AS m(org int, variant int)
    ORDER BY m.org, m.variant
    ON CONFLICT (organization_id, variant_id) DO UPDATE SET seq = excluded.seq
)
SELECT
    ARRAY(SELECT p.org FROM doc, jsonb_to_recordset(doc.d->'push') AS p(org int, job text)
          WHERE NOT EXISTS (SELECT 1 FROM {quote(OutboxJob.__table__)} AS q
                            WHERE q.job_id = p.job AND q.state = 'pending')) AS unqueued,
    ARRAY(SELECT DISTINCT ol.variant_id
          FROM {quote(OrderLine.__table__)} AS ol JOIN {quote(Order.__table__)} AS o ON o.id = ol.order_id
          WHERE ol.variant_id IN (SELECT CAST(jsonb_array_elements_text(doc.d->'gained') AS int) FROM doc)
            AND o.status = '{OrderStatus.ON_HOLD.value}' AND o.hold_code = 'backorder') AS backordered
"""
        _BUFFERS_SQL = " ".join(_BUFFERS_SQL.split())  # the driver reads it on every commit
    return _BUFFERS_SQL


def write_buffers(session: Session) -> None:
    """Commit pipeline, before commit: the ledger rows and dirty marks go to the database with
    the transaction they belong to, and the jobs they call for are queued in it — the
    organization's push for this window unless one already waits, and the retry of the
    backorders a receipt may serve."""
    info = session.info
    if not (info.get(_LEDGER) or info.get(_DIRTY) or info.get(_PENDING_PUSH) or info.get(_GAINED)):
        return
    if session is not db.session():  # buffers are only ever filled through db.session
        return
    orgs = sorted(info.pop(_PENDING_PUSH, ()))
    gained = info.pop(_GAINED, set())
    jobs = {org: push_job_id(org) for org in orgs}
    postgresql = db.engine.dialect.name == "postgresql"
    if postgresql:
        doc = {"ledger": info.pop(_LEDGER, []),
               "marks": [{"org": o, "variant": v} for o, v in sorted(info.pop(_DIRTY, ()))],
               "push": [{"org": o, "job": jobs[o]} for o in orgs], "gained": sorted({v for _o, v in gained})}
        row = session.connection().exec_driver_sql(_buffers_sql(), {"doc": json.dumps(doc),
                                                                       "at": utcnow().isoformat()}).one()
        unqueued, backordered = set(row.unqueued), set(row.backordered)
    else:
        flush_ledger()
        flush_dirty()
        unqueued, backordered = set(orgs), _backordered(v for _o, v in gained) if gained else set()
    for org in orgs:
        if org in unqueued:  # on PostgreSQL, the statement has just looked for a waiting one
            enqueue("core.stock.push_changes", org, job_id=jobs[org], unique=True, delay=PUSH_WINDOW,
                    checked=postgresql)
    for org, vid in sorted(gained):
        if vid in backordered:
            enqueue("core.orders.retry_backorders", org, [vid], job_id=f"backorders-{org}-{vid}", unique=True)


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
SYNC_OFF = _("« Sync stock automatique » désactivée pour cette boutique : aucun stock envoyé")


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
        return _("boutique introuvable")
    if off := sync_off(shop):
        return off
    variant_ids = list(db.session.scalars(select(Variant.id).where(Variant.organization_id == shop.organization_id)))
    total = sum(_push(shop.organization_id, variant_ids[start:start + 500], shop_id=shop.id)
                for start in range(0, len(variant_ids), 500))
    return _("%(total)s quantité(s) remise(s) au canal pour envoi", total=total)


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
