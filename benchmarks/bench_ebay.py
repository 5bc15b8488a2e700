"""eBay on the emulator's simulated clock (PostgreSQL, real loopback HTTP): a first connection
with a backlog of 10,000 orders (within getOrders' two years of history), imported with
getOrders by lastmodifieddate, 200 per page (the documented maximum), pages by offset.

The emulator answers 429 beyond a short-term rate (``sandbox.FULFILLMENT_RATE``, ``BURST``;
eBay documents daily quotas only, so this is the emulator's own guard): the figure is the
simulated time until every order is in the OMS, the calls and the 429s received, beside the
minimum those limits allow (ceil(10,000 / 200) pages, after the burst at the rate).
"""
from __future__ import annotations

import math
import os
import random
import threading
import time

BACKLOG = int(os.environ.get("BENCH_EBAY_BACKLOG", "10000"))
T0 = 1_796_000_000.0


def _serve(wsgi_app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def run() -> list[tuple[str, str, str]]:
    import logging
    from decimal import Decimal

    from sqlalchemy import func, select

    from addons.ebay import jobs, sandbox
    from addons.ebay.client import ORDERS_PAGE
    from benchmarks.common import make_app, pg_database, setup_schema
    from core import services
    from core.connectors import RetryPolicy
    from core.connectors.emulator import ManualClock
    from core.extensions import db
    from core.models import Order, Organization, Product, StockLevel, Variant, Warehouse, WarehouseKind

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("oms.connectors.ebay").setLevel(logging.ERROR)
    clock = ManualClock(T0)
    emu = sandbox.Emulator(clock=clock, rng=random.Random(17))
    skus = [sku for sku, *_rest in sandbox.DEMO_LISTINGS]
    rng = random.Random(26)
    for n in range(BACKLOG):
        emu.place_order([(rng.choice(skus), 1)], created=T0 - 700 * 86400 + n * (690 * 86400 / BACKLOG),
                        notify=False)
    rate, burst = sandbox.FULFILLMENT_RATE
    emu.kit.limit(rate, burst, path="/sell/fulfillment/")
    server, base_url = _serve(emu.app)
    rows: list[tuple[str, str, str]] = []
    try:
        with pg_database("ebay") as url:
            app = make_app(url, ADDONS=["ebay"], ADDON_MODULES={}, EBAY_CLOCK=clock,
                           EBAY_RETRY=RetryPolicy(attempts=30, base=0.5, cap=8.0, max_wait=600.0))
            setup_schema(app)
            with app.app_context():
                org = Organization(name="bench", plan_code="business")
                db.session.add(org)
                db.session.flush()
                wh = Warehouse(organization_id=org.id, code="PAR", name="Paris", kind=WarehouseKind.OWN, priority=1)
                db.session.add(wh)
                db.session.flush()
                for sku in skus:
                    product = Product(organization_id=org.id, title=sku)
                    db.session.add(product)
                    db.session.flush()
                    variant = Variant(organization_id=org.id, product_id=product.id, sku=sku, price=Decimal("10"))
                    db.session.add(variant)
                    db.session.flush()
                    db.session.add(StockLevel(variant_id=variant.id, warehouse_id=wh.id, on_hand=BACKLOG, reserved=0))
                shop = services.create_shop(org, "ebay", "eBay bench")
                services.save_settings(shop, "ebay", {**sandbox.demo_settings(base_url), "import_days": 730},
                                       {"client_secret", "verification_token"})
                shop.credentials = {"refresh_token": sandbox.DEMO_REFRESH_TOKEN}
                db.session.commit()
                started_wall, started_sim = time.perf_counter(), clock.time()
                calls_before = len(emu.kit.calls)
                imported = jobs.sync_orders(shop.id)
                sim = clock.time() - started_sim
                wall = time.perf_counter() - started_wall
                count = db.session.scalar(select(func.count()).select_from(Order))
                gets = sum(1 for c in emu.kit.calls[calls_before:] if c == ("GET", "/sell/fulfillment/v1/order"))
                throttled = sum(1 for _p, status in emu.answers if status == 429)
                pages = math.ceil(BACKLOG / ORDERS_PAGE)
                minimum = max(0, pages - burst) / rate
                rows.append((f"backlog of {BACKLOG:,} orders: simulated time", f"{sim:,.1f} s",
                             f"≥ {minimum:,.1f} s ({pages} pages, {rate:g}/s after a burst of {burst})"))
                rows.append(("orders in the OMS", f"{count:,} (sync said {imported:,})", f"{BACKLOG:,}"))
                rows.append(("getOrders calls", f"{gets}", f"≥ {pages} (limit={ORDERS_PAGE})"))
                rows.append(("429 received", str(throttled), "few (Retry-After honoured)"))
                rows.append(("token requests", str(len(emu.token_grants)), "1 (cached 2 h)"))
                rows.append(("wall time of the import", f"{wall:,.1f} s", "< 120 s"))
    finally:
        server.shutdown()
    return rows


if __name__ == "__main__":
    for row in run():
        print(*row, sep=" | ")
