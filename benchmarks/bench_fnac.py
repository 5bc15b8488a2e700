"""Fnac Darty on its emulator's simulated clock (PostgreSQL, real loopback HTTP):

1. a first connection with a backlog of 10,000 orders over 30 days (Fnac Darty documents no
   maximum history: the channel benchmark's 10,000), most of them long shipped, 5 % still
   waiting for the seller's acceptance: simulated time until every order is in the OMS, API
   calls, 429s, beside the minimum the limits allow;
2. the acceptance of the waiting orders (each read, then accepted line by line).

Fnac Darty publishes no rate limit: the emulator is run with an assumed limit of
1 request per second with a burst of 10 (a 429 with ``Retry-After`` beyond), so the figure
shows how the client behaves under a limit it only learns from 429s.
"""
from __future__ import annotations

import math
import os
import random
import threading
import time
from collections import Counter
from decimal import Decimal

BACKLOG = int(os.environ.get("BENCH_FNAC_BACKLOG", "10000"))
OPEN_SHARE = 0.05
RATE, BURST = 1.0, 10
PAGE = 100
SKUS = 200
DAY = 86400.0

PARTNER = "0b5e2f1c-8d3a-4c6e-9f70-1a2b3c4d5e6f"
SHOP = "1c6f3a2d-9e4b-4d7f-8a81-2b3c4d5e6f70"
KEY = "2d7a4b3e-0f5c-4e8a-9b92-3c4d5e6f7081"


def _serve(wsgi_app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def run() -> list[tuple[str, str, str]]:
    import logging

    from sqlalchemy import func, insert, select

    from addons.fnac import jobs
    from addons.fnac.client import forget_tokens
    from addons.fnac.sandbox import FnacEmulator
    from benchmarks.common import make_app, pg_database, setup_schema
    from core import services
    from core.connectors.emulator import ManualClock, kit_of
    from core.extensions import db
    from core.jobs import run_pending
    from core.models import Order, OrderStatus, Organization, Product, StockLevel, Variant, Warehouse, WarehouseKind

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("oms.connectors.fnac").setLevel(logging.ERROR)
    forget_tokens()
    clock = ManualClock()
    rng = random.Random(20)
    emulator = FnacEmulator(clock=clock, seed=20)
    emulator.add_account(PARTNER, SHOP, KEY, "Bench Fnac", "F")
    statuses: Counter[int] = Counter()
    services_called: Counter[str] = Counter()

    @emulator.app.after_request
    def _count(response):
        from flask import request

        statuses[response.status_code] += 1
        if response.status_code == 200:
            services_called[request.path.rsplit("/", 1)[-1]] += 1
        return response

    kit_of(emulator.app).limit(RATE, BURST)
    server, base_url = _serve(emulator.app)
    rows: list[tuple[str, str, str]] = []
    try:
        with pg_database("fnac") as url:
            app = make_app(url, ADDONS=["fnac"], ADDON_MODULES={}, FNAC_CLOCK=clock, FNAC_MAX_WAIT=1e9,
                           FNAC_HTTP_OPTIONS={"sleep": clock.sleep})
            setup_schema(app)
            with app.app_context():
                org = Organization(name="bench", plan_code="business")
                db.session.add(org)
                db.session.flush()
                wh = Warehouse(organization_id=org.id, code="PAR", name="Paris", kind=WarehouseKind.OWN, priority=1)
                db.session.add(wh)
                db.session.flush()
                skus = [f"SKU-{i:04d}" for i in range(SKUS)]
                product_id = db.session.execute(insert(Product).returning(Product.id), [
                    {"organization_id": org.id, "title": "Produit", "description": "", "images": [], "tags": []}]
                ).scalar_one()
                variant_ids = db.session.execute(insert(Variant).returning(Variant.id, sort_by_parameter_order=True), [
                    {"organization_id": org.id, "product_id": product_id, "sku": sku, "title": sku,
                     "price": Decimal("19.90"), "currency": "EUR", "options": {}} for sku in skus]).scalars().all()
                db.session.execute(insert(StockLevel), [
                    {"variant_id": vid, "warehouse_id": wh.id, "on_hand": 100_000, "reserved": 0} for vid in variant_ids])
                for sku in skus:
                    emulator.add_offer(SHOP, sku, quantity=50)
                shop = services.create_shop(org, "fnac", "Fnac")
                services.save_settings(shop, "fnac", {"api_base_url": base_url, "partner_id": PARTNER, "shop_id": SHOP,
                                                      "key": KEY, "import_days": 30}, {"key"})
                assert services.test_connection(shop, "fnac").ok
                jobs.import_offers(shop.id)
                db.session.commit()

                now = clock.time()
                open_orders = 0
                for n in range(BACKLOG):
                    roll = rng.random()
                    state = "Created" if roll < OPEN_SHARE else "Cancelled" if roll < 0.10 else "Shipped"
                    open_orders += state == "Created"
                    created = now - 30 * DAY + 600 + n * (30 * DAY - 2 * 3600) / BACKLOG
                    emulator.add_order(SHOP, [(skus[rng.randrange(SKUS)], 1 + n % 2, "19.90")], created=created,
                                       state=state, shipping_method=rng.choice(("20", "21", "21", "55")))
                statuses.clear()
                services_called.clear()
                clock.advance(1.0 / RATE * BURST)  # a full bucket at the start

                # ------------------------------------------------------ 1. the backlog
                started, wall = clock.time(), time.perf_counter()
                jobs.sync_orders(shop.id)
                db.session.commit()
                backlog_time = clock.time() - started
                backlog_wall = time.perf_counter() - wall
                in_oms = db.session.scalar(select(func.count()).select_from(Order).where(Order.shop_id == shop.id)) or 0
                pages = services_called["orders_query"]
                calls = sum(services_called.values())
                throttled = statuses[429]
                minimum_calls = math.ceil(BACKLOG / PAGE)
                minimum_time = max(0.0, (minimum_calls - BURST) / RATE)
                rows += [
                    (f"backlog of {BACKLOG:,} orders (30 days): simulated time until all in the OMS",
                     f"{backlog_time:,.0f} s", f"min {minimum_time:,.0f} s ({minimum_calls} pages of {PAGE} at "
                     f"{RATE:g}/s, burst {BURST}; assumed limit)"),
                    ("  orders in the OMS / orders_query pages / calls / 429s",
                     f"{in_oms:,} / {pages} / {calls} / {throttled}",
                     f"{BACKLOG:,} / {minimum_calls} / {minimum_calls} / 0 (limit unknown to the client)"),
                    ("  wall time of the backlog import", f"{backlog_wall:.1f} s", "-"),
                ]

                # ------------------------------------------------------ 2. acceptance of the waiting orders
                statuses.clear()
                services_called.clear()
                started, wall = clock.time(), time.perf_counter()
                while run_pending(limit=1000):
                    pass
                accept_time = clock.time() - started
                accepted = sum(1 for o in emulator.orders.values() if o.state in ("Accepted", "ToShip"))
                allocated = db.session.scalar(select(func.count()).select_from(Order).where(
                    Order.shop_id == shop.id, Order.status == OrderStatus.ALLOCATED)) or 0
                calls = services_called["orders_query"] + services_called["orders_update"]
                rows += [
                    (f"acceptance of the {open_orders} waiting orders: simulated time", f"{accept_time:,.0f} s",
                     f"min {max(0.0, (2 * open_orders - BURST) / RATE):,.0f} s (a read, then accept_order, each)"),
                    ("  accepted at Fnac Darty / allocated in the OMS / calls / 429s",
                     f"{accepted} / {allocated} / {calls} / {statuses[429]}",
                     f"{open_orders} / {open_orders} / {2 * open_orders} / 0"),
                    ("  wall time of the acceptances", f"{time.perf_counter() - wall:.1f} s", "-"),
                ]
                db.session.remove()
    finally:
        server.shutdown()
        forget_tokens()
    return rows


if __name__ == "__main__":
    for row in run():
        print(" | ".join(row))
