"""Sale-to-shelf latency: how long after a sale on one channel the other channels show the new
stock, on the production path.

The installation runs as in production: PostgreSQL, Redis (a private redis-server, append-only
file), ``oms serve`` (gunicorn, its default workers and threads), two ``oms worker`` and
``oms scheduler``. Three Shopify stores (A, B, C) sell the same 20 SKUs from one warehouse;
their emulators run in this process, apart from the OMS, and note when each SKU's figure
changes. Customers order on store A (one or two SKUs each): Shopify signs each
``orders/create`` webhook and posts it to gunicorn, at a steady 20 orders/s (``BENCH_SHELF_RATE``) for
``BENCH_SHELF_SECONDS`` (15 s), then in a burst of ``BENCH_SHELF_BURST`` (100) orders at once.

For each order, the latency is the time from its webhook until stores B and C both show a
figure no higher than the one left after it (the initial stock less every unit ordered on that
SKU up to and including this order), over its SKUs. Once the installation is idle again (every
order imported, no job queued, scheduled or running), each store's final figures are compared
with the OMS's available-to-sell. The anchor, measured in the same run, is the coalescing
window (``core.stock.PUSH_WINDOW``) plus one push (a stock push job sent to store B)."""
from __future__ import annotations

import os
import random
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

RATE = float(os.environ.get("BENCH_SHELF_RATE", "20"))
SECONDS = float(os.environ.get("BENCH_SHELF_SECONDS", "15"))
BURST = int(os.environ.get("BENCH_SHELF_BURST", "100"))
SKUS = [f"TSH-{n:02d}" for n in range(20)]
ON_HAND = 5000
SENDERS = 8
SETTLE_TIMEOUT = 90.0


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _order_latencies(orders, stores) -> list[float | None]:
    """Per order (in send order): seconds until every other store showed its SKUs' figures."""
    ordered: dict[str, int] = {sku: 0 for sku in SKUS}
    found: list[float | None] = []
    for sent, lines in orders:
        worst: float | None = 0.0
        for sku, qty in lines:
            ordered[sku] += qty
            target = ON_HAND - ordered[sku]
            for store in stores:
                seen = next((t for t, figure in store.changes[sku] if t >= sent and figure <= target), None)
                if seen is None or worst is None:
                    worst = None
                else:
                    worst = max(worst, seen - sent)
        found.append(worst)
    return found


def _import_rate(app, shop_a: int) -> float:
    """Orders imported per second of the order-webhook processing jobs' own running time (the
    rate one worker can take them at)."""
    from sqlalchemy import func, select

    from core.extensions import db
    from core.models import Order, SyncLog

    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Order).where(Order.shop_id == shop_a))
        runs = db.session.execute(select(SyncLog.started_at, SyncLog.finished_at).where(
            SyncLog.shop_id == shop_a, SyncLog.func == "addons.shopify.jobs.process_webhooks",
            SyncLog.finished_at.is_not(None))).all()
        db.session.remove()
    busy = sum((end - start).total_seconds() for start, end in runs)
    return count / max(busy, 1e-3)


def _one_push(app, shop_id: int, sku: str) -> float:
    """Seconds of one stock push job to a store: a figure changed (one unit of ``sku`` more),
    pushed by the job a worker would run, then put back and pushed again."""
    from sqlalchemy import select

    from addons.shopify import jobs
    from core.extensions import db
    from core.models import Shop, StockLevel, Variant

    times = []
    with app.app_context():
        org_id = db.session.get(Shop, shop_id).organization_id
        vid = db.session.scalar(select(Variant.id).where(Variant.organization_id == org_id, Variant.sku == sku))
        for delta in (1, -1, 1, -1):
            level = db.session.scalar(select(StockLevel).where(StockLevel.variant_id == vid))
            level.on_hand += delta
            db.session.commit()
            started = time.perf_counter()
            jobs.push_stock(shop_id, [vid])
            db.session.commit()
            times.append(time.perf_counter() - started)
        db.session.remove()
    return statistics.median(times)


def run() -> list[tuple[str, str, str]]:
    from benchmarks.stack import exited_rows, production, wait_idle
    from core.stock import PUSH_WINDOW
    from tests.stack_helpers import Store, available_to_sell, connect_stores

    rnd = random.Random(16)
    stores = [Store(n, SKUS, 0) for n in (1, 2, 3)]
    with production("shelf", stores, logs=os.environ.get("BENCH_SHELF_LOGS")) as (stack, root, app):
        _org, shop_ids = connect_stores(app, stores, ON_HAND, root)
        a, others = stores[0], stores[1:]
        push_s = _one_push(app, shop_ids[1], SKUS[0])
        anchor = PUSH_WINDOW + push_s
        warm = a.emu.place_order([(SKUS[0], 1)])  # the first request of the web workers
        ordered_warm = [(time.time(), [(SKUS[0], 1)])]
        assert warm and a.emu.deliveries[-1].status == 200, a.emu.deliveries[-1]

        def basket() -> list[tuple[str, int]]:
            picked = rnd.sample(SKUS, rnd.choice((1, 1, 2)))
            return [(sku, rnd.choice((1, 1, 2))) for sku in picked]

        orders: list[tuple[float, list[tuple[str, int]]]] = []
        failed = 0

        def place(lines):
            sent = time.time()
            a.emu.place_order(lines)
            return sent, lines

        with ThreadPoolExecutor(SENDERS) as pool:
            steady = []
            start = time.monotonic()
            count = int(SECONDS * RATE)
            for k in range(count):
                lag = start + k / RATE - time.monotonic()
                if lag > 0:
                    time.sleep(lag)
                steady.append(pool.submit(place, basket()))
            steady_orders = sorted((f.result() for f in steady), key=lambda o: o[0])
            steady_rate = count / (time.monotonic() - start)
            time.sleep(PUSH_WINDOW + 3)
            burst_start = time.monotonic()
            burst_orders = sorted((f.result() for f in [pool.submit(place, basket()) for _ in range(BURST)]),
                                  key=lambda o: o[0])
            burst_s = time.monotonic() - burst_start
        orders = ordered_warm + steady_orders + burst_orders
        failed = sum(1 for d in a.emu.deliveries if d.topic == "orders/create" and d.status != 200)
        idle_after, busy = wait_idle(app, shop_ids[0], len(orders), SETTLE_TIMEOUT)
        settled = idle_after is not None
        wrong = 0
        for shop_id, store in zip(shop_ids, stores):
            truth = available_to_sell(app, shop_id, SKUS)
            wrong += sum(1 for sku in SKUS if store.available(sku) != truth[sku])
        imported = _import_rate(app, shop_ids[0])
        exited = exited_rows(stack)

    # the warm-up order counts in the cumulated figures, not in the latencies
    latencies = _order_latencies(orders, others)[1:]
    steady_lat, burst_lat = latencies[:len(steady_orders)], latencies[len(steady_orders):]
    never = sum(1 for v in latencies if v is None)

    def figures(values: list[float | None]) -> str:
        seen = [v for v in values if v is not None]
        if not seen:
            return "none reached the other stores"
        return f"p50 {_pct(seen, 0.5):.2f} s, p99 {_pct(seen, 0.99):.2f} s, max {max(seen):.2f} s"

    rows = [
        ("anchor: coalescing window + one push", f"{PUSH_WINDOW:.1f} s + {push_s * 1000:.0f} ms = {anchor:.2f} s", "-"),
        (f"steady {steady_rate:.1f} orders/s for {SECONDS:.0f} s ({len(steady_lat)} orders), stores B and C",
         figures(steady_lat), "p99 <= 5 s"),
        (f"burst of {BURST} orders in {burst_s:.2f} s, stores B and C", figures(burst_lat), "p99 <= 5 s"),
        ("order webhooks processed per second of their jobs' run time", f"{imported:.1f} orders/s",
         f">= {RATE:.0f} orders/s (the rate they arrive at)"),
        ("orders never shown on B and C / webhooks refused", f"{never} / {failed}", "0 / 0"),
        ("final figures wrong (3 stores x 20 SKUs vs available-to-sell)",
         str(wrong) + ("" if settled else f" (not idle after {SETTLE_TIMEOUT:.0f} s: {busy})"), "0"),
        *exited,
    ]
    return rows


if __name__ == "__main__":
    for row in run():
        print("  ".join(row))
