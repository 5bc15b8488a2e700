"""Oversell: 200 orders for one SKU from 3 shops, submitted by concurrent worker processes on
PostgreSQL, while the stock moves both ways: the goods come in as a receipt (50 units, then
2 more at a time while the orders arrive), a few units are written off as damaged, and the
workers cancel some of the orders they got allocated (the reservation goes back) and ship
others (the units leave). At the end the orders still waiting are retried once.

The stock ledger (``stock_movement``) is then replayed in commit order, every movement with
both its deltas, from an empty shelf: available = on hand − reserved after each movement. The
lowest figure it reaches must never be below 0, and the replay must end on the stock level
the database holds. The scenario runs with 8 and with 16 worker processes.

Why ``stock_movement.id`` is the commit order of one (variant, warehouse): on PostgreSQL the
id is drawn from the table's sequence when the row is inserted, and ``core.stock`` inserts a
transaction's ledger rows just before it commits (``write_buffers`` in the before-commit
pipeline), after the ``UPDATE`` of the ``stock_level`` row each one describes. That ``UPDATE``
holds the row's lock until the transaction ends, so another transaction moving the same level
waits at its own ``UPDATE`` until the first has committed (or rolled back), and only then draws
its ids. The ids of one level therefore increase in commit order. This needs a sequence that
hands numbers out in the order they are asked for (``CACHE 1``; a cache per session would
not), which the benchmark checks. Across levels ids carry no order, hence one replay per level.
"""
from __future__ import annotations

import multiprocessing as mp
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

UNITS, ORDERS, SHOPS = 50, 200, 3
WORKER_COUNTS = (8, 16)
RECEIPTS, RECEIPT_UNITS = 20, 2  # receipts while the orders arrive
DAMAGE_EVERY = 4  # one unit written off after every 4th receipt (refused if it is reserved)
CANCEL, SHIP = 1, 3  # order n is cancelled when n % 5 == CANCEL, shipped when n % 5 == SHIP (if allocated)


@dataclass(frozen=True)
class Replay:
    on_hand: int
    reserved: int
    lowest_available: int
    movements: int
    #: lowest on hand and lowest reserved met: below 0 means a movement replayed before one it needs
    lowest_on_hand: int = 0
    lowest_reserved: int = 0


def replay(deltas: Iterable[tuple[int, int]]) -> Replay:
    """Apply (Δ on hand, Δ reserved) in order from an empty shelf; the lowest figures seen."""
    on_hand = reserved = count = 0
    lowest = low_on_hand = low_reserved = 0
    for d_on_hand, d_reserved in deltas:
        on_hand += d_on_hand
        reserved += d_reserved
        lowest = min(lowest, on_hand - reserved) if count else on_hand - reserved
        low_on_hand, low_reserved = min(low_on_hand, on_hand), min(low_reserved, reserved)
        count += 1
    return Replay(on_hand, reserved, lowest, count, low_on_hand, low_reserved)


def _fail(ok: bool, what: str = "") -> str:
    return "" if ok else " — FAIL" + (f": {what}" if what else "")


def _worker(url: str, shop_ids: list[int], wh_id: int, k: int, workers: int, go) -> None:
    from benchmarks.common import make_app
    from core import orders as order_flow
    from core.extensions import db
    from core.intake import ingest
    from core.models import Order, OrderStatus, Shipment, Shop
    from tests.pipeline_helpers import norm

    app = make_app(url)
    with app.app_context():
        shops = {sid: db.session.get(Shop, sid) for sid in shop_ids}
        go.wait()
        for n in range(k, ORDERS, workers):
            result = ingest(shops[shop_ids[n % SHOPS]], norm(f"hot-{n}", [("HOT", 1)]), source="webhook")
            db.session.commit()
            if n % 5 not in (CANCEL, SHIP):
                continue
            order = db.session.get(Order, result.order_id)
            if order.status != OrderStatus.ALLOCATED:
                continue
            if n % 5 == CANCEL:
                order_flow.cancel(order, reason="annulée par le client")
            else:
                order_flow.ship(order, Shipment(carrier="manual", warehouse_id=wh_id, tracking_number=f"T{n}"))
            db.session.commit()


def _receiver(url: str, org_id: int, variant_id: int, wh_id: int, go, counts) -> None:
    from benchmarks.common import make_app
    from core import stock
    from core.extensions import db

    app = make_app(url)
    with app.app_context():
        go.wait()
        for n in range(1, RECEIPTS + 1):
            time.sleep(0.02)
            stock.adjust(org_id, variant_id, wh_id, RECEIPT_UNITS, reason="réception fournisseur", user_id=None)
            db.session.commit()
            counts["received"] += RECEIPT_UNITS
            if n % DAMAGE_EVERY == 0:
                try:
                    stock.adjust(org_id, variant_id, wh_id, -1, reason="casse", user_id=None)
                    db.session.commit()
                    counts["damaged"] += 1
                except stock.StockError:
                    db.session.rollback()
                    counts["damage refused"] += 1


def _scenario(workers: int) -> list[tuple[str, str, str]]:
    from sqlalchemy import func, select, text

    from benchmarks.common import make_app, pg_database, setup_schema
    from core import orders as order_flow
    from core import stock
    from core.extensions import db
    from core.models import Order, OrderStatus, Organization, StockLevel, StockMovement
    from core.services import create_shop
    from tests.pipeline_helpers import variant, warehouse

    with pg_database("oversell") as url:
        app = make_app(url)
        setup_schema(app)
        with app.app_context():
            cache = db.session.scalar(text(
                "SELECT cache_size FROM pg_sequences WHERE format('%I.%I', schemaname, sequencename)::regclass"
                " = pg_get_serial_sequence('stock_movement', 'id')::regclass"))
            org = Organization(name="bench", plan_code="business")
            db.session.add(org)
            db.session.flush()
            wh = warehouse(org.id, "PAR")
            hot = variant(org.id, "HOT", {wh: 0})
            stock.adjust(org.id, hot.id, wh.id, UNITS, reason="réception initiale", user_id=None)
            shop_ids = [create_shop(org, "bench_channel", f"canal {i}").id for i in range(SHOPS)]
            org_id, variant_id, wh_id = org.id, hot.id, wh.id
            db.session.commit()
            db.engine.dispose()
        ctx = mp.get_context("fork")
        go = ctx.Event()
        manager = ctx.Manager()
        counts = manager.dict({"received": UNITS, "damaged": 0, "damage refused": 0})
        procs = [ctx.Process(target=_worker, args=(url, shop_ids, wh_id, k, workers, go)) for k in range(workers)]
        procs.append(ctx.Process(target=_receiver, args=(url, org_id, variant_id, wh_id, go, counts)))
        for p in procs:
            p.start()
        time.sleep(2.0 + workers * 0.1)
        started = time.perf_counter()
        go.set()
        for p in procs:
            p.join()
        elapsed = time.perf_counter() - started
        received, damaged, refused = counts["received"], counts["damaged"], counts["damage refused"]
        manager.shutdown()
        with app.app_context():
            order_flow.retry_backorders(org_id, [variant_id])  # the last receipts serve waiting orders
            db.session.commit()
            by_status = dict(db.session.execute(select(Order.status, func.count()).group_by(Order.status)).all())
            lvl = db.session.execute(select(StockLevel.on_hand, StockLevel.reserved)).one()
            ledger = select(StockMovement.delta_on_hand, StockMovement.delta_reserved).where(
                StockMovement.variant_id == variant_id, StockMovement.warehouse_id == wh_id)
            seen = replay(db.session.execute(ledger.order_by(StockMovement.id)).tuples())
            kinds = Counter(dict(db.session.execute(
                select(StockMovement.kind, func.count()).group_by(StockMovement.kind)).all()))
            db.session.remove()
            db.engine.dispose()
    allocated = by_status.get(OrderStatus.ALLOCATED, 0)
    shipped = by_status.get(OrderStatus.SHIPPED, 0)
    cancelled = by_status.get(OrderStatus.CANCELLED, 0)
    waiting = by_status.get(OrderStatus.ON_HOLD, 0)
    expected_on_hand = received - damaged - shipped
    ok_level = (seen.on_hand, seen.reserved) == (lvl.on_hand, lvl.reserved) == (expected_on_hand, allocated)
    left = lvl.on_hand - lvl.reserved
    head = f"{workers} processes:"
    return [
        (f"{head} orders allocated / shipped / cancelled / waiting",
         f"{allocated} / {shipped} / {cancelled} / {waiting}"
         + _fail(allocated + shipped + cancelled + waiting == ORDERS and (waiting == 0 or left == 0)),
         f"sum {ORDERS}; waiting only if 0 left"),
        ("  received / damaged (refused) / shipped units", f"{received} / {damaged} ({refused}) / {shipped}", "-"),
        ("  ledger replayed: on hand, reserved", f"{seen.on_hand}, {seen.reserved}" + _fail(ok_level),
         f"= level {lvl.on_hand}, {lvl.reserved} = received − damaged − shipped {expected_on_hand}, "
         f"allocated {allocated}"),
        ("  movements replayed in commit order (by id)",
         f"{seen.movements} (" + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) + f"); sequence cache {cache}"
         + _fail(cache == 1 and all(kinds[k] for k in ("reserve", "release", "ship", "receive"))),
         "every kind, both signs; cache 1"),
        ("  lowest available seen in the ledger",
         str(seen.lowest_available) + _fail(seen.lowest_available >= 0, "oversold"), ">= 0"),
        ("  lowest on hand / reserved in the replay", f"{seen.lowest_on_hand} / {seen.lowest_reserved}"
         + _fail(min(seen.lowest_on_hand, seen.lowest_reserved) >= 0, "a movement before its cause"), ">= 0 / >= 0"),
        ("  wall time", f"{elapsed:.2f} s", "-"),
        ("  exit codes", ",".join(str(p.exitcode) for p in procs), "all 0"),
    ]


def run() -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for workers in WORKER_COUNTS:
        rows += _scenario(workers)
    return rows
