"""Cdiscount (Octopia Seller API v2) on the emulator's simulated clock (PostgreSQL, real
loopback HTTP), a first connection with a 10,000-order backlog (Octopia documents no history
limit: 10,000 orders over 60 days). Octopia's documented limits: 100 orders a page, 500 tokens
an hour (a token lives 2 h); it documents no request rate.

1. the backlog read from the emulator by the add-on's client, every page with its overlap
   window's filter: simulated time, calls, tokens, 429s, beside the minimum those limits
   allow (one token, ⌈10,000 / 100⌉ pages);
2. the import into the OMS through the add-on's sync job (intake, allocation, the acceptance
   of the orders that wait for it queued): ``BENCH_CDISCOUNT_IMPORT`` orders (default 500, the
   whole backlog with ``BENCH_CDISCOUNT_IMPORT=10000``), orders a second of wall time on this
   machine, and the same calls check.
"""
from __future__ import annotations

import math
import os
import threading
import time
from datetime import datetime, timezone
from decimal import Decimal

BACKLOG = int(os.environ.get("BENCH_CDISCOUNT_BACKLOG", "10000"))
IMPORT = int(os.environ.get("BENCH_CDISCOUNT_IMPORT", "500"))
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

                # ---------------------------------------------------------- 1. the backlog, read
                emulator.kit.calls.clear()
                client = jobs.client_for(shop)
                since = datetime.fromtimestamp(start - 60, timezone.utc)
                wall = time.perf_counter()
                read, page = 0, 1
                while True:
                    items, more = client.orders_page(page, updatedAtMin=since.strftime("%Y-%m-%dT%H:%M:%SZ"))
                    read += len(items)
                    if not more:
                        break
                    page += 1
                read_wall = time.perf_counter() - wall
                pages = sum(1 for _m, p in emulator.kit.calls if p == "/seller/v2/orders")
                minimum_pages = math.ceil(BACKLOG / PAGE_SIZE)
                rows += [
                    ("backlog read", f"{read:,} / {BACKLOG:,} orders", "every order"),
                    ("backlog simulated time", f"{clock.time() - T0.timestamp():,.1f} s",
                     "0 s (no request rate documented)"),
                    ("backlog API calls", f"{len(emulator.kit.calls):,} ({pages} pages)",
                     f"{minimum_pages + 1} ({minimum_pages} pages + 1 token)"),
                    ("backlog tokens asked", f"{emulator.token_count}", "1 (500 an hour allowed, 2 h each)"),
                    ("backlog 429s received", f"{len(throttled)}", "0"),
                    ("backlog read wall time", f"{read_wall:,.1f} s", "< 60 s"),
                ]

                # ---------------------------------------------------------- 2. imported into the OMS
                with emulator.lock:
                    for order_id in list(emulator.orders)[IMPORT:]:
                        del emulator.orders[order_id]
                emulator.kit.calls.clear()
                tokens_before = emulator.token_count
                wall = time.perf_counter()
                jobs.sync_orders(shop.id)
                import_wall = time.perf_counter() - wall
                in_oms = db.session.scalar(select(func.count()).select_from(Order).where(Order.shop_id == shop.id))
                pages = sum(1 for _m, p in emulator.kit.calls if p == "/seller/v2/orders")
                rows += [
                    ("import into the OMS", f"{in_oms:,} / {min(IMPORT, BACKLOG):,} orders", "every order, once"),
                    ("import API calls", f"{len(emulator.kit.calls):,} ({pages} pages, "
                                         f"{emulator.token_count - tokens_before} new token)",
                     f"{math.ceil(min(IMPORT, BACKLOG) / PAGE_SIZE)} pages, 0 new token (cached)"),
                    ("import throughput", f"{in_oms / import_wall:,.1f} orders/s ({import_wall:,.1f} s)",
                     "what this machine gives"),
                ]
    finally:
        server.shutdown()
        token_cache.clear()
    return rows
