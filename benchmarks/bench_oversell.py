"""Oversell: 200 orders for one SKU with 50 units, from 3 shops, submitted by 8 concurrent
worker processes on PostgreSQL. Exactly 50 must be allocated, 150 wait, stock never negative."""
from __future__ import annotations

import multiprocessing as mp
import time

UNITS, ORDERS, WORKERS, SHOPS = 50, 200, 8, 3


def _worker(url: str, shop_ids: list[int], k: int, go) -> None:
    from benchmarks.common import make_app
    from core.extensions import db
    from core.intake import ingest
    from core.models import Shop
    from tests.pipeline_helpers import norm

    app = make_app(url)
    with app.app_context():
        shops = {sid: db.session.get(Shop, sid) for sid in shop_ids}
        go.wait()
        for n in range(k, ORDERS, WORKERS):
            ingest(shops[shop_ids[n % SHOPS]], norm(f"hot-{n}", [("HOT", 1)]), source="webhook")
            db.session.commit()


def run() -> list[tuple[str, str, str]]:
    from sqlalchemy import func, select

    from benchmarks.common import make_app, pg_database, setup_schema
    from core.extensions import db
    from core.models import Order, OrderStatus, Organization, StockLevel, StockMovement
    from core.services import create_shop
    from tests.pipeline_helpers import variant, warehouse

    with pg_database("oversell") as url:
        app = make_app(url)
        setup_schema(app)
        with app.app_context():
            org = Organization(name="bench", plan_code="business")
            db.session.add(org)
            db.session.flush()
            wh = warehouse(org.id, "PAR")
            variant(org.id, "HOT", {wh: UNITS})
            shop_ids = [create_shop(org, "bench_channel", f"canal {i}").id for i in range(SHOPS)]
            db.session.commit()
            db.engine.dispose()
        ctx = mp.get_context("fork")
        go = ctx.Event()
        procs = [ctx.Process(target=_worker, args=(url, shop_ids, k, go)) for k in range(WORKERS)]
        for p in procs:
            p.start()
        time.sleep(2.0)
        started = time.perf_counter()
        go.set()
        for p in procs:
            p.join()
        elapsed = time.perf_counter() - started
        with app.app_context():
            by_status = dict(db.session.execute(select(Order.status, func.count()).group_by(Order.status)).all())
            lvl = db.session.execute(select(StockLevel.on_hand, StockLevel.reserved)).one()
            # replay the ledger: the reserved figure never went above on hand
            running, worst = 0, UNITS
            for d in db.session.scalars(select(StockMovement.delta_reserved).order_by(StockMovement.id)):
                running += d
                worst = min(worst, UNITS - running)
        allocated = by_status.get(OrderStatus.ALLOCATED, 0)
        waiting = by_status.get(OrderStatus.ON_HOLD, 0)
        return [
            ("orders allocated / waiting", f"{allocated} / {waiting}", f"exactly {UNITS} / {ORDERS - UNITS}"),
            ("final on hand, reserved", f"{lvl.on_hand}, {lvl.reserved}", f"{UNITS}, {UNITS}"),
            ("lowest available seen in the ledger", str(worst), ">= 0"),
            ("wall time, 8 processes", f"{elapsed:.2f} s", "-"),
            ("exit codes", ",".join(str(p.exitcode) for p in procs), "all 0"),
        ]
