"""Intake throughput: 10,000 normalized orders (1–3 lines each) through the whole pipeline
(dedup, SKU mapping, routing, reservation, history) on PostgreSQL, committed a page of 100
at a time as a sync job does, beside a raw bulk insert of the same rows in the same run."""
from __future__ import annotations

import os
import random
import time

ORDERS = int(os.environ.get("BENCH_INTAKE_ORDERS", "10000"))
PAGE = 100
SKUS = 500


def run() -> list[tuple[str, str, str]]:
    from sqlalchemy import insert

    from benchmarks.common import make_app, pg_database, setup_schema
    from core.extensions import db
    from core.intake import ingest_many
    from core.models import Order, OrderLine, Organization, utcnow
    from core.services import create_shop
    from tests.pipeline_helpers import norm, variant, warehouse

    rnd = random.Random(11)
    skus = [f"SKU-{i:04d}" for i in range(SKUS)]
    batch = [norm(f"in-{n}", [(rnd.choice(skus), rnd.randint(1, 3)) for _ in range(rnd.randint(1, 3))])
             for n in range(ORDERS)]
    with pg_database("intake") as url:
        app = make_app(url)
        setup_schema(app)
        with app.app_context():
            org = Organization(name="bench", plan_code="business")
            db.session.add(org)
            db.session.flush()
            wh = warehouse(org.id, "PAR")
            for sku in skus:
                variant(org.id, sku, {wh: 1_000_000})
            shop = create_shop(org, "bench_channel", "canal")
            raw_shop = create_shop(org, "bench_channel", "brut")
            db.session.commit()

            started = time.perf_counter()
            for start in range(0, ORDERS, PAGE):
                ingest_many(shop, batch[start:start + PAGE], source="poll")
                db.session.commit()
            pipeline = time.perf_counter() - started

            # the same rows, bulk-inserted with no logic at all
            started = time.perf_counter()
            now = utcnow()
            for start in range(0, ORDERS, 1000):
                chunk = batch[start:start + 1000]
                ids = db.session.execute(insert(Order).returning(Order.id, sort_by_parameter_order=True), [
                    {"organization_id": org.id, "shop_id": raw_shop.id, "external_id": d.external_id,
                     "number": d.number, "placed_at": d.placed_at, "currency": d.currency, "total": d.total,
                     "email": d.customer_email, "shipping_address": {"country": "FR"}, "created_at": now,
                     "updated_at": now} for d in chunk]).scalars().all()
                db.session.execute(insert(OrderLine), [
                    {"order_id": oid, "sku": ln.sku, "quantity": ln.quantity, "unit_price": ln.unit_price,
                     "title": ln.title} for oid, d in zip(ids, chunk) for ln in d.lines])
            db.session.commit()
            raw = time.perf_counter() - started
    lines = sum(len(d.lines) for d in batch)
    return [
        (f"pipeline, {ORDERS} orders / {lines} lines", f"{ORDERS / pipeline:,.0f} orders/s ({pipeline:.1f} s)", "-"),
        ("raw bulk insert, same rows", f"{ORDERS / raw:,.0f} orders/s ({raw:.2f} s)", "-"),
        ("ratio pipeline / raw", f"{100 * raw / pipeline:.1f} %", ">= 20 %"),
    ]
