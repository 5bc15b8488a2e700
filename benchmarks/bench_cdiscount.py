"""Cdiscount (Octopia Seller API v2) on the emulator's simulated clock (PostgreSQL, real
loopback HTTP): a first connection with a 10,000-order backlog (Octopia documents no history
limit: 10,000 orders over 60 days). Octopia's documented limits: 100 orders a page, 500 tokens
an hour (a token lives 2 h). Figures: simulated time, calls, tokens, 429s, beside the minimum
those limits allow (one token, ⌈10,000 / 100⌉ pages).
"""
from __future__ import annotations

import math
import os
import threading
import time
from datetime import datetime, timezone
from decimal import Decimal

BACKLOG = int(os.environ.get("BENCH_CDISCOUNT_BACKLOG", "10000"))
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
DAY = 86400.0


def _serve(wsgi_app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def run() -> list[tuple[str, str, str]]:
    import logging

    from sqlalchemy import func, insert, select

    from addons.cdiscount import jobs, sandbox
    from addons.cdiscount.client import PAGE_SIZE, token_cache
    from benchmarks.common import make_app, pg_database, setup_schema
    from core import services
    from core.connectors.emulator import ManualClock
    from core.extensions import db
    from core.models import Order, Organization, Product, StockLevel, Variant, Warehouse, WarehouseKind

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    clock = ManualClock(T0.timestamp())
    emulator = sandbox.Emulator(clock=clock)
    throttled = []

    @emulator.app.after_request
    def _count(res):
        if res.status_code == 429:
            throttled.append(1)
        return res

    server, base_url = _serve(emulator.app)
    token_cache.clear()
    rows: list[tuple[str, str, str]] = []
    try:
        with pg_database("cdiscount") as url:
            app = make_app(url, ADDONS=["cdiscount"], ADDON_MODULES={}, CDISCOUNT_CLOCK=clock)
            setup_schema(app)
            with app.app_context():
                org = Organization(name="bench", plan_code="business")
                db.session.add(org)
                db.session.flush()
                wh = Warehouse(organization_id=org.id, code="PAR", name="Paris", kind=WarehouseKind.OWN, priority=1)
                db.session.add(wh)
                db.session.flush()
                skus = [f"SKU-{i:04d}" for i in range(200)]
                product_id = db.session.execute(insert(Product).returning(Product.id), [
                    {"organization_id": org.id, "title": "Produit", "description": "", "images": [], "tags": []}]
                ).scalar_one()
                variant_ids = db.session.execute(insert(Variant).returning(Variant.id, sort_by_parameter_order=True), [
                    {"organization_id": org.id, "product_id": product_id, "sku": sku, "title": sku,
                     "price": Decimal("19.90"), "currency": "EUR", "options": {}} for sku in skus]).scalars().all()
                db.session.execute(insert(StockLevel), [
                    {"variant_id": vid, "warehouse_id": wh.id, "on_hand": 1_000_000, "reserved": 0}
                    for vid in variant_ids])
                shop = services.create_shop(org, "cdiscount", "Cdiscount")
                services.save_settings(shop, "cdiscount", {**sandbox.settings_for(base_url), "import_days": 60},
                                       {"client_secret"})
                db.session.commit()
                start = T0.timestamp() - 60 * DAY + 600
                spacing = (60 * DAY - 3600) / BACKLOG
                states = ["Delivered", "Shipped", "Shipped", "InPreparation", "Cancelled", "WaitingAcceptance"]
                for n in range(BACKLOG):
                    at = start + n * spacing
                    order = sandbox.make_order(f"{datetime.fromtimestamp(at, timezone.utc):%y%m%d%H%M}B{n:05d}",
                                               [(skus[n % 200], 1 + n % 2, "19.90")], created=at,
                                               status=states[n % len(states)])
                    emulator.add_order(order)
                emulator.kit.calls.clear()

                wall = time.perf_counter()
                jobs.sync_orders(shop.id)
                elapsed = clock.time() - T0.timestamp()
                wall = time.perf_counter() - wall
                calls = [c for c in emulator.kit.calls]
                pages = sum(1 for _m, p in calls if p == "/seller/v2/orders")
                in_oms = db.session.scalar(select(func.count()).select_from(Order).where(Order.shop_id == shop.id))
                minimum_pages = math.ceil(BACKLOG / PAGE_SIZE)
                rows += [
                    ("backlog imported", f"{in_oms:,} / {BACKLOG:,} orders", "every order"),
                    ("backlog simulated time", f"{elapsed:,.1f} s", "0 s (no request rate documented; 429s waited)"),
                    ("backlog API calls", f"{len(calls):,} ({pages} pages)", f"{minimum_pages + 1} ({minimum_pages} pages + 1 token)"),
                    ("backlog tokens asked", f"{emulator.token_count}", "1 (500 an hour allowed, 2 h each)"),
                    ("backlog 429s received", f"{len(throttled)}", "0"),
                    ("backlog wall time", f"{wall:,.1f} s", "< 120 s"),
                ]
    finally:
        server.shutdown()
        token_cache.clear()
    return rows
