"""WooCommerce on the emulator's simulated clock (PostgreSQL, real loopback HTTP): a first
connection with a backlog of orders modified in the import window, read 100 a page
(WooCommerce's maximum ``per_page``) with ``modified_after`` + ``dates_are_gmt``.

WooCommerce itself has no rate limit; the emulator plays the host's, a common WAF rule of one
request a second with a burst of 5 (429 with ``Retry-After``). The minimum is one call per page
of 100 at that rate."""
from __future__ import annotations

import math
import os
import threading
import time

#: 10,000 with BENCH_WOOCOMMERCE_BACKLOG=10000 (about 8 minutes of wall time on a shared machine: each
#: order's status hooks run in their own savepoint, which flushes the page)
BACKLOG = int(os.environ.get("BENCH_WOOCOMMERCE_BACKLOG", "2000"))
RATE, BURST = 1.0, 5


def _serve(wsgi_app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def run() -> list[tuple[str, str, str]]:
    import logging

    from flask import request
    from sqlalchemy import func, select

    from addons.woocommerce import jobs, sandbox
    from benchmarks.common import make_app, pg_database, setup_schema
    from core import services
    from core.extensions import db
    from core.models import Order, Organization, Product, StockLevel, Variant, Warehouse, WarehouseKind

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    clock = sandbox.ManualClock()
    emu = sandbox.WooEmulator(clock=clock, sender=lambda *_a: 200)
    emu.add_product("Mug", "MUG-1", stock=None)
    for n in range(BACKLOG):
        emu.place_order([("MUG-1", 1 + n % 2)], email=f"client{n % 500}@exemple.fr")
    answers = {"429": 0}

    @emu.app.after_request
    def _count(response):
        if response.status_code == 429 and request.path.startswith("/wp-json/"):
            answers["429"] += 1
        return response

    emu.kit.limit(RATE, BURST, path="/wp-json/")
    server, base_url = _serve(emu.app)
    rows: list[tuple[str, str, str]] = []
    try:
        with pg_database("woocommerce") as url:
            app = make_app(url, ADDONS=["woocommerce"], ADDON_MODULES={}, WOOCOMMERCE_SLEEP=clock.sleep)
            setup_schema(app)
            with app.app_context():
                org = Organization(name="bench", plan_code="business")
                db.session.add(org)
                db.session.flush()
                wh = Warehouse(organization_id=org.id, code="PAR", name="Paris", kind=WarehouseKind.OWN, priority=1)
                product = Product(organization_id=org.id, title="Mug")
                db.session.add_all([wh, product])
                db.session.flush()
                variant = Variant(organization_id=org.id, product_id=product.id, sku="MUG-1", price=12)
                db.session.add(variant)
                db.session.flush()
                db.session.add(StockLevel(variant_id=variant.id, warehouse_id=wh.id, on_hand=10 ** 7, reserved=0))
                shop = services.create_shop(org, "woocommerce", "Boutique Woo")
                services.save_settings(shop, "woocommerce", sandbox.demo_settings(base_url),
                                       {"consumer_key", "consumer_secret"})
                db.session.commit()
                emu.kit.calls.clear()
                started, wall = clock.time(), time.perf_counter()
                jobs.sync_orders(shop.id)
                db.session.commit()
                simulated = clock.time() - started
                wall = time.perf_counter() - wall
                in_oms = db.session.scalar(select(func.count()).select_from(Order).where(Order.shop_id == shop.id))
                calls = len(emu.kit.calls)
                pages = math.ceil(BACKLOG / 100)
                minimum = max(0.0, (pages - BURST) / RATE)
                rows += [
                    (f"backlog of {BACKLOG:,} orders: simulated time until all in the OMS", f"{simulated:,.0f} s",
                     f"min {minimum:,.0f} s ({pages} pages of 100 at {RATE:g} req/s, burst {BURST})"),
                    ("  orders in the OMS / API calls / 429s", f"{in_oms:,} / {calls:,} / {answers['429']}",
                     f"{BACKLOG:,} / min {pages} / as few as the host's limit forces"),
                    ("  wall time of the backlog import", f"{wall:.1f} s", "-"),
                ]
    finally:
        server.shutdown()
    return rows
