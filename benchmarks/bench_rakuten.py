"""Rakuten France on the emulator's simulated clock (PostgreSQL, real loopback HTTP):

1. a first connection with a backlog of current sales (getcurrentsales, 100 sales a page;
   2,000 by default so that a run stays within about two minutes of wall time on a busy
   machine, ``BENCH_RAKUTEN_BACKLOG=10000`` for the full backlog: Rakuten documents no maximum
   history) and 200 new ones waiting for an answer (getnewsales): simulated time until every
   sale is an order in the OMS, calls, 429s, beside the minimum the limits allow;
2. the 200 new sales accepted, one acceptsale per item: time and calls beside the minimum.

Rakuten documents no rate limit for sales_ws (only the advice of at most 10 stock files an
hour), so the emulator applies an assumed one, stated here: 1 request a second, bursts of 5.
The minimum is then (calls − burst) / rate.
"""
from __future__ import annotations

import math
import os
import threading
import time
from decimal import Decimal

BACKLOG = int(os.environ.get("BENCH_RAKUTEN_BACKLOG", "2000"))
NEW = int(os.environ.get("BENCH_RAKUTEN_NEW", "200"))
SKUS = 500
RATE, BURST = 1.0, 5
PAGE = 100


def _serve(wsgi_app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def _duration(seconds: float) -> str:
    return f"{seconds:,.0f} s" if seconds < 600 else f"{seconds / 60:,.1f} min"


def run() -> list[tuple[str, str, str]]:
    import logging

    from sqlalchemy import func, insert, select

    from addons.rakuten import jobs
    from addons.rakuten.models import RakutenItem
    from addons.rakuten.sandbox import Emulator, demo_settings
    from benchmarks.common import make_app, pg_database, setup_schema
    from core import services
    from core.connectors.emulator import ManualClock
    from core.extensions import db
    from core.models import Order, Organization, Product, StockLevel, Variant, Warehouse, WarehouseKind

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    clock = ManualClock(time.time())
    emu = Emulator(clock=clock, process_seconds=60, page_size=PAGE, seed=20)
    statuses: list[int] = []

    @emu.app.after_request
    def count(response):
        statuses.append(response.status_code)
        return response

    start = clock.time()
    for n in range(BACKLOG):
        sale = emu.add_sale([(f"SKU-{n % SKUS:04d}", "19.90")], status="ACCEPTED",
                            purchased=start - 20 * 86400 + n * (20 * 86400 / BACKLOG))
        del sale
    new_sales = [emu.add_sale([(f"SKU-{n % SKUS:04d}", "9.90")], purchased=start - 600) for n in range(NEW)]
    emu.kit.limit(RATE, BURST, path="/sales_ws")
    server, base_url = _serve(emu.app)
    rows: list[tuple[str, str, str]] = []
    try:
        with pg_database("rakuten") as url:
            app = make_app(url, ADDONS=["rakuten"], ADDON_MODULES={}, RAKUTEN_CLOCK=clock)
            setup_schema(app)
            with app.app_context():
                org = Organization(name="bench", plan_code="business")
                db.session.add(org)
                db.session.flush()
                wh = Warehouse(organization_id=org.id, code="PAR", name="Paris", kind=WarehouseKind.OWN, priority=1)
                db.session.add(wh)
                db.session.flush()
                product_id = db.session.execute(insert(Product).returning(Product.id),
                                                [{"organization_id": org.id, "title": "Produit"}]).scalar()
                ids = db.session.execute(insert(Variant).returning(Variant.id), [
                    {"organization_id": org.id, "product_id": product_id, "sku": f"SKU-{i:04d}",
                     "price": Decimal("19.90")} for i in range(SKUS)]).scalars().all()
                db.session.execute(insert(StockLevel), [{"variant_id": vid, "warehouse_id": wh.id,
                                                         "on_hand": 1000, "reserved": 0} for vid in ids])
                shop = services.create_shop(org, "rakuten", "Rakuten")
                services.save_settings(shop, "rakuten", {**demo_settings(base_url), "import_days": 30}, {"token"})
                db.session.commit()

                # 1. the backlog
                t0, calls0 = clock.time(), len(emu.kit.calls)
                wall = time.monotonic()
                jobs.sync_orders(shop.id)
                backlog_time = clock.time() - t0
                backlog_calls = len(emu.kit.calls) - calls0
                throttled = statuses.count(429)
                in_oms = db.session.scalar(select(func.count()).select_from(Order))
                needed = 1 + math.ceil(BACKLOG / PAGE)
                minimum = max(0.0, (needed - BURST) / RATE)
                rows.append((f"backlog of {BACKLOG:,} current + {NEW} new sales: simulated time",
                             _duration(backlog_time), f"min {_duration(minimum)} ({needed} calls at {RATE:g}/s, "
                                                      f"burst {BURST})"))
                rows.append(("  orders in the OMS / calls / 429s", f"{in_oms:,} / {backlog_calls} / {throttled}",
                             f"{BACKLOG + NEW:,} / {needed} / 0 wanted"))
                rows.append(("  wall time of the import", f"{time.monotonic() - wall:,.1f} s", "under 120 s"))

                # 2. the new sales accepted, item by item
                clock.advance(3600)  # the bucket full again
                t1, calls1, s1 = clock.time(), len(emu.kit.calls), len(statuses)
                orders = db.session.scalars(select(RakutenItem.order_id).where(
                    RakutenItem.itemid.in_([s.items[0].itemid for s in new_sales]))).all()
                for order_id in orders:
                    jobs.send_decision(order_id, True, "stock alloué")
                accept_time = clock.time() - t1
                accept_calls = len(emu.kit.calls) - calls1
                accepted = sum(1 for s in new_sales if s.items[0].status == "ACCEPTED")
                minimum = max(0.0, (NEW - BURST) / RATE)
                rows.append((f"{NEW} new sales accepted (one acceptsale per item): simulated time",
                             _duration(accept_time), f"min {_duration(minimum)}"))
                rows.append(("  accepted / calls / 429s", f"{accepted} / {accept_calls} / {statuses[s1:].count(429)}",
                             f"{NEW} / {NEW} / 0 wanted"))
                db.session.remove()
                db.engine.dispose()
    finally:
        server.shutdown()
    return rows


if __name__ == "__main__":
    for measure, figure, aim in run():
        print(f"{measure:70} {figure:>20}   {aim}")
