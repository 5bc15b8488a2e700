"""Amazon on the emulator's simulated clock (PostgreSQL, real loopback HTTP):

1. a first connection with a 10,000-order backlog (FR, DE, UK; FBA and FBM), then a steady
   200 orders an hour polled every 15 minutes: simulated time until every order is in the
   OMS, API calls, 429s received, beside the minimum the documented limits allow;
2. a full stock reconciliation of 5,000 FBM SKUs (and the FBA stock read): simulated time
   and calls, beside the minimum.
"""
from __future__ import annotations

import math
import os
import random
import threading
import time
from datetime import datetime, timezone
from decimal import Decimal

BACKLOG = int(os.environ.get("BENCH_AMAZON_BACKLOG", "10000"))
OPEN_MERCHANT_SHARE = 0.05
STEADY_PER_HOUR = 200
STEADY_HOURS = 4
POLL = 15 * 60
SKUS = 5_000
FBA_SKUS = 1_000
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
HOUR = 3600.0
#: seconds the emulator takes to produce a report in this benchmark
EMULATOR_REPORT_DELAY = 120.0


def _serve(wsgi_app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:,.1f} min" if seconds < 3 * HOUR else f"{seconds / HOUR:,.2f} h"


def run() -> list[tuple[str, str, str]]:
    from addons.amazon import sync

    # the client plans for a report ready in REPORT_PROCESSING_ESTIMATE (15 min); the
    # emulator's clock is simulated, so the longer wait costs no real time
    rows = _scenario(sync.REPORT_PROCESSING_ESTIMATE, "the client's estimate", steady_and_stock=True)
    rows += _scenario(EMULATOR_REPORT_DELAY, "the emulator's setting", steady_and_stock=False)
    return rows


def _scenario(report_delay: float, delay_source: str, *, steady_and_stock: bool) -> list[tuple[str, str, str]]:
    import logging

    import httpx
    from sqlalchemy import func, insert, select

    from addons.amazon import jobs, stock_sync, sync
    from addons.amazon.client import CallStats
    from addons.amazon.clock import SimulatedClock
    from addons.amazon.models import AmazonListing, AmazonSyncState
    from addons.amazon.operations import OPERATIONS
    from addons.amazon.sandbox import DE, FBA_CHANNEL, FR, UK, Emulator, Listing, demo_settings, make_order
    from benchmarks.common import make_app, pg_database, setup_schema
    from core import services
    from core.extensions import db
    from core.models import Order, Organization, Product, StockLevel, Variant, Warehouse, WarehouseKind

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per emulator request
    clock = SimulatedClock(T0)
    stats = CallStats()
    rng = random.Random(26)
    emulator = Emulator(clock=clock, report_delay=report_delay, feed_delay=60.0)
    server, base_url = _serve(emulator.app)
    http = httpx.Client()
    rows: list[tuple[str, str, str]] = []
    try:
        with pg_database("amazon") as url:
            app = make_app(url, ADDONS=["amazon"], ADDON_MODULES={}, AMAZON_CLOCK=clock,
                           AMAZON_MAX_RATE_WAIT=1e9, AMAZON_STATS=stats, AMAZON_HTTP=http)
            setup_schema(app)
            with app.app_context():
                org = Organization(name="bench", plan_code="business")
                db.session.add(org)
                db.session.flush()
                wh = Warehouse(organization_id=org.id, code="PAR", name="Paris", kind=WarehouseKind.OWN, priority=1)
                db.session.add(wh)
                db.session.flush()
                skus = [f"SKU-{i:05d}" for i in range(SKUS)]
                product_id = db.session.execute(insert(Product).returning(Product.id), [
                    {"organization_id": org.id, "title": "Produit", "description": "", "images": [], "tags": []}]
                ).scalar_one()
                variant_ids = db.session.execute(insert(Variant).returning(Variant.id, sort_by_parameter_order=True), [
                    {"organization_id": org.id, "product_id": product_id, "sku": sku, "title": sku,
                     "price": Decimal("19.90"), "currency": "EUR", "options": {}} for sku in skus]).scalars().all()
                db.session.execute(insert(StockLevel), [
                    {"variant_id": vid, "warehouse_id": wh.id, "on_hand": 100_000, "reserved": 0}
                    for vid in variant_ids])
                shop = services.create_shop(org, "amazon", "Amazon EU")
                services.save_settings(shop, "amazon", {**demo_settings(base_url), "import_days": 30},
                                       {"lwa_client_secret", "refresh_token"})
                assert services.test_connection(shop, "amazon").ok
                db.session.commit()
                stats.calls.clear()

                # ---------------------------------------------------------- the Amazon account
                start = T0.timestamp() - 30 * 24 * HOUR + 600
                spacing = (30 * 24 * HOUR - 2 * HOUR) / BACKLOG
                open_merchant = 0
                for n in range(BACKLOG):
                    roll = rng.random()
                    if roll < OPEN_MERCHANT_SHARE:
                        by, status = "MERCHANT", "UNSHIPPED"
                        open_merchant += 1
                    elif roll < 0.15:
                        by, status = "MERCHANT", "SHIPPED"
                    elif roll < 0.20:
                        by, status = "AMAZON", "CANCELLED"
                    else:
                        by, status = "AMAZON", "SHIPPED"
                    emulator.add_order(make_order(
                        f"{402 + n % 3}-{n:07d}-{rng.randint(10**6, 10**7 - 1)}", marketplace=(FR, DE, UK)[n % 3],
                        fulfilled_by=by, status=status, items=[(skus[rng.randrange(200)], 1 + n % 2, "19.90")],
                        created=start + n * spacing, prime=n % 4 == 0))
                steady_total = STEADY_PER_HOUR * STEADY_HOURS
                steady_created = {}
                for n in range(steady_total):
                    created = T0.timestamp() + (n + 0.5) * HOUR / STEADY_PER_HOUR
                    order_id = f"{405 + n % 3}-{n:07d}-0000000"
                    steady_created[order_id] = created
                    emulator.add_order(make_order(order_id, marketplace=(FR, DE, UK)[n % 3],
                                                  fulfilled_by="MERCHANT" if n % 3 == 0 else "AMAZON",
                                                  status="UNSHIPPED", items=[(skus[n % 200], 1, "19.90")],
                                                  created=created))

                # ---------------------------------------------------------- 1. first connection
                wall = time.perf_counter()
                jobs.sync_orders(shop.id)
                db.session.commit()
                backlog_time = clock.time() - T0.timestamp()
                backlog_calls = stats.total
                backlog_429 = sum(stats.throttled.values())
                in_oms = db.session.scalar(select(func.count()).select_from(Order).where(
                    Order.shop_id == shop.id, Order.placed_at < T0)) or 0
                decision = db.session.get(AmazonSyncState, shop.id).decision
                backlog_wall = time.perf_counter() - wall
                lags: list[float] = []
                # orders placed while the first import ran came with its catching-up window
                seen = set(db.session.scalars(select(Order.external_id).where(
                    Order.shop_id == shop.id, Order.placed_at >= T0)))
                # (they could not be in the OMS before that import ended: shown apart from the steady lag)
                first_lags = [clock.time() - steady_created[order_id] for order_id in seen]

                search = OPERATIONS["searchOrders"]
                pages = math.ceil(BACKLOG / 100)
                paging_minimum = (pages - search.burst) / search.rate
                get_order = OPERATIONS["getOrder"]
                report_minimum = emulator.report_delay + max(0, open_merchant - get_order.burst) / get_order.rate
                rows += [
                    (f"backlog of {BACKLOG:,} orders, reports ready after {_minutes(report_delay)} ({delay_source}): "
                     "simulated time until all in the OMS",
                     _minutes(backlog_time), f"min {_minutes(min(paging_minimum, report_minimum))} "
                     f"({'report' if report_minimum <= paging_minimum else 'paging'} path); report path needs "
                     f"{_minutes(report_minimum)}, paging {_minutes(paging_minimum)}"),
                    ("  path chosen (estimate from the first page)",
                     f"{decision.get('chosen')} ({decision.get('estimated_orders')} estimated; search "
                     f"{_minutes(decision.get('search_seconds', 0))} vs report {_minutes(decision.get('report_seconds', 0))})",
                     "the faster"),
                    ("  orders in the OMS / API calls / 429s", f"{in_oms:,} / {backlog_calls:,} / {backlog_429}",
                     f"{BACKLOG:,} / min {3 * 3 + open_merchant:,} (3 reports + {open_merchant} getOrder) / 0"),
                    ("  wall time of the backlog import", f"{backlog_wall:.1f} s", "-"),
                ]
                if not steady_and_stock:
                    db.session.remove()
                    db.engine.dispose()
                    return rows

                # ---------------------------------------------------------- steady state
                stats_steady = CallStats()
                app.config["AMAZON_STATS"] = stats_steady
                tick = T0.timestamp() + POLL
                while tick <= clock.time():
                    tick += POLL
                end = T0.timestamp() + STEADY_HOURS * HOUR + 2 * POLL
                polls = 0
                while tick <= end:
                    clock.set(tick)
                    jobs.sync_orders(shop.id)
                    db.session.commit()
                    polls += 1
                    done = clock.time()
                    present = set(db.session.scalars(select(Order.external_id).where(
                        Order.shop_id == shop.id, Order.placed_at >= T0)))
                    for order_id in present - seen:
                        lags.append(done - steady_created[order_id])
                    seen |= present
                    tick += POLL
                steady_missing = steady_total - len(seen & set(steady_created))
                steady_calls_per_hour = stats_steady.total / (polls * POLL / HOUR) if polls else 0.0

                rows += [
                    (f"steady {STEADY_PER_HOUR}/h for {STEADY_HOURS} h, polled every 15 min: orders missing",
                     str(steady_missing), "0"),
                    ("  lag from order to OMS: max / mean",
                     f"{_minutes(max(lags) if lags else 0)} / {_minutes(sum(lags) / len(lags) if lags else 0)}",
                     "<= 15 min poll + 2 min (Amazon's lag rule)"),
                    ("  orders placed during the first import: count / lag max", f"{len(first_lags)} / "
                     f"{_minutes(max(first_lags) if first_lags else 0)}", f"<= the import's {_minutes(backlog_time)}"),
                    ("  API calls per hour / 429s", f"{steady_calls_per_hour:.1f} / {sum(stats_steady.throttled.values())}",
                     f"min 4 (one searchOrders page per poll) / 0; {polls} polls"),
                ]

                # ---------------------------------------------------------- 2. stock reconciliation
                for n, sku in enumerate(skus):
                    emulator.add_listing(Listing(sku, "SHIRT", sku, {FR: "19.90"},
                                                 {"DEFAULT": 0, **({FBA_CHANNEL: 5} if n < FBA_SKUS else {})}))
                    if n < FBA_SKUS:
                        emulator.fba[sku] = 5
                db.session.execute(insert(AmazonListing), [
                    {"shop_id": shop.id, "sku": sku, "marketplace_id": FR, "variant_id": vid, "title": sku,
                     "images": [], "product_type": "SHIRT", "channels": ["DEFAULT"], "is_parent": False, "status": "",
                     "imported_at": T0} for sku, vid in zip(skus, variant_ids)])
                services.save_settings(shop, "amazon", {"marketplaces": [FR]}, set())
                db.session.commit()
                stats_stock = CallStats()
                app.config["AMAZON_STATS"] = stats_stock
                began = clock.time()
                wall = time.perf_counter()
                message = jobs.reconcile_stock(shop.id)
                db.session.commit()
                stock_time = clock.time() - began
                stock_wall = time.perf_counter() - wall
                pushed = db.session.scalar(select(func.count()).select_from(AmazonListing).where(
                    AmazonListing.shop_id == shop.id, AmazonListing.pushed_quantity.is_not(None))) or 0
                inventory = OPERATIONS["getInventorySummaries"]
                inventory_pages = math.ceil(FBA_SKUS / 50)
                inventory_minimum = max(0, inventory_pages - inventory.burst) / inventory.rate
                feed_minimum = emulator.feed_delay + 0.01 * SKUS
                patch = OPERATIONS["patchListingsItem"]
                patch_time = (SKUS - patch.burst) / patch.rate
                rows += [
                    (f"stock reconciliation, {SKUS:,} FBM SKUs: simulated time", _minutes(stock_time),
                     f"min {_minutes(inventory_minimum + feed_minimum)} (FBA read {inventory_minimum:.0f} s + "
                     f"feed processing {feed_minimum:.0f} s); patches alone {_minutes(patch_time)}"),
                    ("  SKUs pushed / API calls / 429s",
                     f"{pushed:,} / {stats_stock.total} ({', '.join(f'{k} {v}' for k, v in sorted(stats_stock.calls.items()))}) "
                     f"/ {sum(stats_stock.throttled.values())}",
                     f"{SKUS:,} / min {inventory_pages + 4} ({inventory_pages} FBA pages + 4 feed calls) / 0"),
                    ("  method", "JSON_LISTINGS_FEED" if "JSON_LISTINGS_FEED" in message else "patchListingsItem",
                     "feed (faster than 5,000 patches at 5/s)"),
                    ("  wall time of the reconciliation", f"{stock_wall:.1f} s", "-"),
                ]
                db.session.remove()
                db.engine.dispose()
        assert sync.PAGE_SIZE == 100 and stock_sync.FEED_MAX_MESSAGES == 25_000
    finally:
        http.close()
        server.shutdown()
    return rows
