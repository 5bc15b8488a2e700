"""Intake throughput on the production stack: ``BENCH_INTAKE_ORDERS`` (10,000) normalized orders
(1–3 lines each, over 200 SKUs) through the whole pipeline (dedup, SKU mapping, routing,
reservation, history), committed a page of 100 at a time as a sync job does, and every job
they cause run to the end by two ``oms worker``: the stock pushes to the organization's three
Shopify stores (emulators in this process, Shopify Plus limits: 1,000 points/s) and the
analytics refresh; beside a raw bulk insert of the same rows in the same run.

``python -m benchmarks intake``. PostgreSQL, a private redis-server, two ``oms worker`` and
``oms scheduler``; the pages are ingested by this process with the jobs relayed to Redis at
each commit, as in production.

Rows: the pipeline's own commits (the last page committed); end to end, until the orders'
every effect is there: the last stock figure has reached the three stores (their emulators
note the time of each change) and the last analytics refresh that had orders to refresh has
committed; the same until the installation is idle (the outbox empty, nothing queued,
scheduled or running), which also counts the coalescing windows' last runs, scheduled by the
last commits and finding nothing left to do; the raw bulk insert; end to end / raw (the aim);
the stores' final figures against the stock left; the jobs the workers ran, by kind; the
machine's load average.
"""
from __future__ import annotations

import os
import random
import time
from collections import Counter

ORDERS = int(os.environ.get("BENCH_INTAKE_ORDERS", "10000"))
PAGE = 100
SKUS = 200
ON_HAND = 1_000_000
SETTLE_TIMEOUT = float(os.environ.get("BENCH_INTAKE_SETTLE", "600"))
#: Shopify Plus: 1,000 points a second, a bucket of 20,000
PLUS = {"bucket_size": 20_000.0, "restore_rate": 1_000.0}


def _jobs_run(app, since) -> str:
    from sqlalchemy import select

    from core.extensions import db
    from core.models import SyncLog

    with app.app_context():
        funcs = Counter(db.session.scalars(select(SyncLog.func).where(SyncLog.started_at >= since)))
        db.session.remove()
    return ", ".join(f"{n} {func.rpartition('.')[2]}" for func, n in funcs.most_common())


def _last_refresh(app, since) -> float | None:
    """When the last analytics refresh that refreshed any order finished (epoch seconds)."""
    from sqlalchemy import select

    from core.analytics.facts import REFRESH_JOB
    from core.extensions import db
    from core.models import SyncLog

    with app.app_context():
        done = [at for at, result in db.session.execute(
            select(SyncLog.finished_at, SyncLog.result).where(SyncLog.started_at >= since,
                                                              SyncLog.func == REFRESH_JOB))
                if at is not None and str(result or "0") != "0"]
        db.session.remove()
    return max(done).timestamp() if done else None


def _raw_insert(app, org_id: int, batch) -> float:
    """Seconds to bulk-insert the same orders and lines with no logic at all."""
    from sqlalchemy import insert

    from core.extensions import db
    from core.models import Order, OrderLine, Organization, utcnow
    from core.services import create_shop

    with app.app_context():
        raw_shop = create_shop(db.session.get(Organization, org_id), "shopify", "brut")
        db.session.commit()
        started = time.perf_counter()
        now = utcnow()
        for start in range(0, len(batch), 1000):
            chunk = batch[start:start + 1000]
            ids = db.session.execute(insert(Order).returning(Order.id, sort_by_parameter_order=True), [
                {"organization_id": org_id, "shop_id": raw_shop.id, "external_id": d.external_id,
                 "number": d.number, "placed_at": d.placed_at, "currency": d.currency, "total": d.total,
                 "email": d.customer_email, "shipping_address": {"country": "FR"}, "created_at": now,
                 "updated_at": now} for d in chunk]).scalars().all()
            db.session.execute(insert(OrderLine), [
                {"order_id": oid, "sku": ln.sku, "quantity": ln.quantity, "unit_price": ln.unit_price,
                 "title": ln.title} for oid, d in zip(ids, chunk) for ln in d.lines])
        db.session.commit()
        raw = time.perf_counter() - started
        db.session.remove()
    return raw


def run() -> list[tuple[str, str, str]]:
    from benchmarks.stack import exited_rows, load_row, production, wait_idle
    from core import heap
    from core.extensions import db
    from core.intake import ingest_many
    from core.models import Shop, utcnow
    from tests.pipeline_helpers import norm
    from tests.stack_helpers import Store, connect_stores

    rnd = random.Random(11)
    skus = [f"SKU-{i:04d}" for i in range(SKUS)]
    batch = [norm(f"in-{n}", [(rnd.choice(skus), rnd.randint(1, 3)) for _ in range(rnd.randint(1, 3))])
             for n in range(ORDERS)]
    stores = [Store(n, skus, 0, **PLUS) for n in (1, 2, 3)]
    with production("intake", stores) as (stack, root, app):
        org_id, shop_ids = connect_stores(app, stores, ON_HAND, root)
        settled, state = wait_idle(app, shop_ids[0], 0, SETTLE_TIMEOUT)  # the first pushes done
        assert settled is not None, state
        since = utcnow()
        # this process ingests as a worker runs a sync job: its heap settled as ``oms worker``
        # settles its own at start (core.heap), this run's data (the orders to send, the
        # stores' emulators) with it, so that the collector walks here what it walks there
        heap.settle()
        with app.app_context():
            started = time.perf_counter()
            for start in range(0, ORDERS, PAGE):
                ingest_many(db.session.get(Shop, shop_ids[0]), batch[start:start + PAGE], source="poll")
                db.session.commit()
            pipeline = time.perf_counter() - started
            pipeline_end = time.time()
            db.session.remove()
        settled, state = wait_idle(app, shop_ids[0], ORDERS, SETTLE_TIMEOUT)
        until_idle = pipeline + (settled if settled is not None else SETTLE_TIMEOUT)
        last_push = max((t for store in stores for changes in store.changes.values() for t, _q in changes),
                        default=pipeline_end)
        effects = max(last_push, _last_refresh(app, since) or pipeline_end) - pipeline_end
        end_to_end = pipeline + max(effects, 0.0)
        ordered = Counter()
        for d in batch:
            for ln in d.lines:
                ordered[ln.sku] += ln.quantity
        wrong = sum(1 for store in stores for sku in skus if store.available(sku) != ON_HAND - ordered[sku])
        jobs = _jobs_run(app, since)
        raw = _raw_insert(app, org_id, batch)
        exited = exited_rows(stack)
    lines = sum(len(d.lines) for d in batch)
    rows = [
        (f"pipeline commits, {ORDERS} orders / {lines} lines", f"{ORDERS / pipeline:,.0f} orders/s ({pipeline:.1f} s)",
         "-"),
        ("end to end: + every stock push and analytics refresh run by 2 workers",
         f"{ORDERS / end_to_end:,.0f} orders/s ({end_to_end:.1f} s, of which {effects:.1f} s after the last page)",
         "-"),
        ("until idle: + the push and refresh windows' last, empty runs",
         f"{ORDERS / until_idle:,.0f} orders/s ({until_idle:.1f} s)"
         + ("" if settled is not None else f", not idle after {SETTLE_TIMEOUT:.0f} s: {state}"), "-"),
        ("raw bulk insert, same rows", f"{ORDERS / raw:,.0f} orders/s ({raw:.2f} s)", "-"),
        ("ratio end to end / raw", f"{100 * raw / end_to_end:.1f} %", ">= 25 %"),
        ("ratio pipeline commits / raw", f"{100 * raw / pipeline:.1f} %", "-"),
        (f"final figures wrong ({len(stores)} stores x {SKUS} SKUs vs the stock left)", str(wrong), "0"),
        ("jobs the workers ran", jobs, "-"),
        load_row(),
        *exited,
    ]
    return rows


if __name__ == "__main__":
    for row in run():
        print("  ".join(row))
