"""Mirakl on the emulator's simulated clock (PostgreSQL, real loopback HTTP): a first
connection with a backlog of orders over 30 days (10,000 with ``BENCH_MIRAKL_BACKLOG``) (Mirakl documents no history limit
for OR11), read by ``start_update_date`` 100 a page, with a storm of 429s (no Retry-After)
in the middle; then the stock of 2,000 offers pushed.

Against the minimum the documented limits allow: OR11 pages hold 100 orders at most (10 by
default), so 10,000 orders take 100 calls at least (1,000 with the default page); one sync
run may page through them (OR11: one run a minute at most); STO01 takes every offer in one
file, at most once a minute.
"""
from __future__ import annotations

import math
import os
import threading
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

#: 10,000 is the aim (``BENCH_MIRAKL_BACKLOG=10000``); the default keeps the run near two minutes
#: on a shared machine, the calls and waits scaling linearly (one call a hundred orders)
BACKLOG = int(os.environ.get("BENCH_MIRAKL_BACKLOG", "1000"))
OFFERS = 2_000
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
STORM = 3


def _serve(wsgi_app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def run() -> list[tuple[str, str, str]]:
    import logging

    import httpx
    from sqlalchemy import func, insert, select

    from addons.mirakl import jobs
    from addons.mirakl.sandbox import Emulator, settings_for
    from benchmarks.common import make_app, pg_database, setup_schema
    from core import services
    from core.connectors.emulator import ManualClock
    from core.extensions import db
    from core.models import Order, Organization, Product, StockLevel, Variant, Warehouse, WarehouseKind

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("oms.connectors.mirakl").setLevel(logging.ERROR)
    clock = ManualClock(T0.timestamp())
    emulator = Emulator(clock=clock)
    server, base_url = _serve(emulator.app)
    http = httpx.Client()
    rows: list[tuple[str, str, str]] = []
    try:
        with pg_database("mirakl") as url:
            app = make_app(url, ADDONS=["mirakl"], ADDON_MODULES={}, MIRAKL_CLOCK=clock, MIRAKL_HTTP=http)
            setup_schema(app)
            with app.app_context():
                org = Organization(name="bench", plan_code="business")
                db.session.add(org)
                db.session.flush()
                wh = Warehouse(organization_id=org.id, code="PAR", name="Paris", kind=WarehouseKind.OWN, priority=1)
                db.session.add(wh)
                db.session.flush()
                skus = [f"SKU-{i:05d}" for i in range(OFFERS)]
                product_id = db.session.execute(insert(Product).returning(Product.id), [
                    {"organization_id": org.id, "title": "Produit", "description": "", "images": [], "tags": []}]
                ).scalar_one()
                variant_ids = db.session.execute(insert(Variant).returning(Variant.id, sort_by_parameter_order=True), [
                    {"organization_id": org.id, "product_id": product_id, "sku": sku, "title": sku,
                     "price": Decimal("19.90"), "currency": "EUR", "options": {}} for sku in skus]).scalars().all()
                db.session.execute(insert(StockLevel), [
                    {"variant_id": vid, "warehouse_id": wh.id, "on_hand": 100_000, "reserved": 0}
                    for vid in variant_ids])
                shop = services.create_shop(org, "mirakl", "Carrefour", marketplace="carrefour")
                services.save_settings(shop, "mirakl", settings_for(base_url, "carrefour"), {"api_key"})
                assert services.test_connection(shop, "mirakl").ok
                db.session.commit()
                for sku in skus:
                    emulator.add_offer("carrefour", sku, quantity=0)

                # the backlog: 30 days of orders, most of them shipped and closed long ago
                start = T0 - timedelta(days=30) + timedelta(minutes=10)
                spacing = (timedelta(days=30) - timedelta(hours=1)) / BACKLOG
                for n in range(BACKLOG):
                    state = ("CLOSED", "SHIPPED", "RECEIVED", "CANCELED", "SHIPPING")[n % 5]
                    emulator.place_order("carrefour", [(skus[n % 200], 1 + n % 2, "19.90")], state=state,
                                         created=start + n * spacing)
                emulator.kit.calls.clear()
                emulator.kit.fail_next(429, times=STORM, path="/carrefour/api/orders", after=BACKLOG // 200)

                wall = time.perf_counter()
                slept_before = sum(clock.slept)
                result = jobs.sync_orders(shop.id)
                db.session.commit()
                backlog_wall = time.perf_counter() - wall
                waited = sum(clock.slept) - slept_before
                calls = [c for c in emulator.kit.calls if c[1] == "/carrefour/api/orders"]
                throttled = STORM - sum(f.times for f in emulator.kit.faults)
                in_oms = db.session.scalar(select(func.count()).select_from(Order).where(Order.shop_id == shop.id))
                minimum = math.ceil(BACKLOG / 100)
                rows += [
                    ("backlog: orders in the OMS", f"{in_oms:,} / {BACKLOG:,}", "all of them"),
                    ("backlog: OR11 calls", f"{len(calls)} ({len(calls) - throttled} pages + {throttled} answered 429)",
                     f"minimum {minimum} (pages of 100; {minimum * 10} with the default page of 10)"),
                    ("backlog: 429s received (no Retry-After)", str(throttled), f"{STORM} told, each waited out"),
                    ("backlog: simulated time", f"{waited:,.1f} s of backoff in one sync run",
                     "minimum 0 s: one run may page through (OR11 at most one run a minute)"),
                    ("backlog: wall time", f"{backlog_wall:,.1f} s", result),
                ]

                # the stock of every offer, in one file
                clock.advance(120)
                jobs.mark_pending(shop, list(variant_ids))
                db.session.commit()
                emulator.kit.calls.clear()
                wall = time.perf_counter()
                pushed = jobs.push_stock(shop.id)
                clock.advance(20)
                imp_id = db.session.scalar(select(jobs.MiraklStockImport.id).order_by(jobs.MiraklStockImport.id.desc()))
                status = jobs.check_stock_import(shop.id, imp_id)
                stock_wall = time.perf_counter() - wall
                files = [c for c in emulator.kit.calls if c[1].endswith("/stock/imports")]
                rows += [
                    ("stock: STO01 files for 2,000 offers", str(len(files)), "minimum 1 (one file, once a minute)"),
                    ("stock: offers updated", str(sum(1 for o in emulator.instances["carrefour"].offers.values()
                                                      if o["quantity"] > 0)), f"{OFFERS:,}"),
                    ("stock: wall time", f"{stock_wall:,.1f} s", f"{pushed}; {status}"),
                ]
    finally:
        server.shutdown()
        http.close()
    return rows
