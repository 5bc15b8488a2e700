"""Analytics on PostgreSQL with 1,000,000 order lines over two years and 20,000 SKUs: the
time to render each view through the Flask test client (signed in, template included), for
the default period (30 days), 12 months and the whole two years.

The data is generated on the server (``INSERT … SELECT … FROM generate_series``) straight
into the tables and the fact tables, then the daily roll-up is built by
``core.analytics._roll_up``, as the refresh job does. SKU popularity follows a mild long tail
(``k = 20000 × u^1.5``); orders have 2 or 3 lines; one line in 37 is returned.
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import timedelta
from typing import Any

ORDERS, LINES, SKUS, CUSTOMERS, DAYS = 400_000, 1_000_000, 20_000, 150_000, 730
CHANNELS = ("amazon", "shopify", "ebay", "cdiscount")
#: commission + payment fee of each channel, to make the generated fees
FEE = {"amazon": "0.15", "shopify": "0.014", "ebay": "0.12", "cdiscount": "0.15"}
RUNS = 3

#: tables loaded in bulk: their secondary indexes are built once, after the load
BULK_TABLES = ["order", "order_line", "customer", "product", "variant", "return", "return_line",
               "analytics_line_fact", "analytics_order_fact", "analytics_return_fact"]


def _generate(conn, org_id: int, shop_ids: dict[str, int], warehouse_ids: list[int]) -> None:
    """Fill the tables on the server. Foreign-key triggers are off during the load
    (``session_replication_role = replica``; the generated ids are consistent by
    construction) and secondary indexes are dropped, then created again afterwards."""
    from sqlalchemy import text

    def run(sql: str, **params) -> None:
        started = time.perf_counter()
        conn.execute(text(sql), {"org": org_id, **params})
        print(f"  {time.perf_counter() - started:6.1f} s  {' '.join(sql.split())[:70]}", file=sys.stderr, flush=True)

    for setting in ("session_replication_role = replica", "synchronous_commit = off", "work_mem = '256MB'",
                    "maintenance_work_mem = '512MB'"):
        conn.execute(text(f"SET LOCAL {setting}"))
    indexes = conn.execute(text(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = ANY(:tables) "
        "AND indexdef NOT LIKE 'CREATE UNIQUE INDEX%'"), {"tables": BULK_TABLES}).all()
    for name, _definition in indexes:
        conn.execute(text(f'DROP INDEX "{name}"'))
    conn.execute(text("SELECT setseed(0.42)"))
    run("""INSERT INTO product (organization_id, title, description, images, tags, created_at, updated_at)
           SELECT :org, 'Produit ' || g, '', '[]'::json,
                  (CASE WHEN g % 5 = 0 THEN '["textile"]' ELSE '[]' END)::json, now(), now()
           FROM generate_series(1, :n) g""", n=SKUS)
    run("""INSERT INTO variant (organization_id, product_id, sku, title, price, currency, options, cost_price)
           SELECT :org, p.id, 'SKU-' || lpad(p.id::text, 6, '0'), '', 5.90 + p.id % 95, 'EUR', '{}'::json,
                  round((5.90 + p.id % 95) * (0.30 + (p.id % 45) / 100.0), 2)
           FROM product p WHERE p.organization_id = :org""")
    run("""INSERT INTO customer (organization_id, email, name, created_at)
           SELECT :org, 'client' || g || '@exemple.fr', 'Client ' || g, now() FROM generate_series(1, :n) g""",
        n=CUSTOMERS)
    wh_array = "ARRAY[" + ",".join(str(w) for w in warehouse_ids) + "]"
    # the lines first (order number, SKU, quantity, price, cost), to give each order its total
    run(f"""CREATE TEMP TABLE gen_line ON COMMIT DROP AS
            SELECT g, ((g - 1)::bigint * :orders / :lines)::int AS o, k, 1 + g % 3 AS qty,
                   5.90 + k % 95 AS price, round((5.90 + k % 95) * (0.30 + (k % 45) / 100.0), 2) AS cost,
                   ({wh_array})[1 + g % {len(warehouse_ids)}] AS wh
            FROM (SELECT g, 1 + floor(:skus * power(random(), 1.5))::int % :skus AS k
                  FROM generate_series(1, :lines) g) s""", orders=ORDERS, lines=LINES, skus=SKUS)
    shop_array = "ARRAY[" + ",".join(str(shop_ids[c]) for c in CHANNELS) + "]"
    run(f"""INSERT INTO "order" (id, organization_id, shop_id, external_id, number, customer_id, email,
                                  shipping_address, billing_address, currency, subtotal, shipping_total, tax_total,
                                  discount_total, total, payment_status, service_level, fulfillment_channel, status,
                                  origin, over_quota, tags, placed_at, created_at, updated_at)
            SELECT o0 + t.o, :org, ({shop_array})[1 + (t.o * 7) % 4], 'B' || t.o, '#B' || t.o,
                   c0 + (t.o::bigint * 7919) % :customers, 'client' || (1 + (t.o::bigint * 7919) % :customers)
                   || '@exemple.fr', '{{}}'::json, '{{}}'::json, 'EUR', t.total, 0, 0, 0, t.total, 'paid', 'standard',
                   'merchant', 'delivered', 'online', false, '[]'::json,
                   now() - make_interval(secs => (:days * 86400.0) * (1 - (t.o + 1)::float8 / :orders)
                                                 + random() * 3600), now(), now()
            FROM (SELECT o, sum(price * qty) AS total FROM gen_line GROUP BY o) t,
                 (SELECT coalesce(max(id), 0) + 1 AS o0 FROM "order") n,
                 (SELECT min(id) AS c0 FROM customer WHERE organization_id = :org) c""",
        orders=ORDERS, days=DAYS, customers=CUSTOMERS)
    run("""SELECT setval(pg_get_serial_sequence('"order"', 'id'), (SELECT max(id) FROM "order"))""")
    run("""INSERT INTO order_line (id, order_id, variant_id, sku, title, quantity, unit_price, tax, discount, source,
                                   warehouse_id, reserved_quantity)
           SELECT l0 + l.g, o0 + l.o, v0 + l.k, 'SKU-' || lpad(l.k::text, 6, '0'), '', l.qty, l.price, 0, 0,
                  'warehouse', l.wh, 0
           FROM gen_line l,
                (SELECT min(id) AS o0 FROM "order" WHERE organization_id = :org) o,
                (SELECT min(id) - 1 AS v0 FROM variant WHERE organization_id = :org) v,
                (SELECT coalesce(max(id), 0) AS l0 FROM order_line) n""")
    run("""SELECT setval(pg_get_serial_sequence('order_line', 'id'), (SELECT max(id) FROM order_line))""")
    fee = "CASE s.addon " + " ".join(f"WHEN '{c}' THEN {FEE[c]}" for c in CHANNELS) + " ELSE 0 END"
    run(f"""INSERT INTO analytics_line_fact (line_id, organization_id, order_id, shop_id, channel, warehouse_id,
                                              variant_id, customer_id, day, units, revenue, product_cost, fees,
                                              shipping, returns, returned_units, cost_known)
            SELECT l.id, :org, l.order_id, o.shop_id, s.addon, l.warehouse_id, l.variant_id, o.customer_id,
                   (o.placed_at AT TIME ZONE 'Europe/Paris')::date, l.quantity,
                   round(l.unit_price * l.quantity * 100), round(g.cost * l.quantity * 100),
                   round(l.unit_price * l.quantity * 100 * {fee}), 240,
                   CASE WHEN l.id % 37 = 0 THEN round((l.unit_price - g.cost) * 100) ELSE 0 END,
                   CASE WHEN l.id % 37 = 0 THEN 1 ELSE 0 END, true
            FROM order_line l JOIN "order" o ON o.id = l.order_id JOIN shop s ON s.id = o.shop_id
                 JOIN gen_line g ON g.g = l.id - (SELECT min(id) - 1 FROM order_line)
            WHERE o.organization_id = :org""")
    run("""INSERT INTO "return" (organization_id, order_id, status, reason, note, created_at, refund_status,
                                 refund_amount, currency, restock_warehouse_id, external_id, received_at, resolved_at)
           SELECT :org, l.order_id, 'restocked',
                  (ARRAY['size', 'defect', 'not_as_described', 'changed_mind', 'wrong_item'])[1 + (l.id / 37) % 5],
                  '', now(), 'refunded', l.unit_price, 'EUR', l.warehouse_id, 'bench-line-' || l.id, now(), now()
           FROM order_line l WHERE l.id % 37 = 0""")
    run("""INSERT INTO return_line (return_id, order_line_id, quantity)
           SELECT r.id, substr(r.external_id, 12)::int, 1 FROM "return" r WHERE r.organization_id = :org""")
    run("""INSERT INTO analytics_return_fact (return_line_id, return_id, organization_id, order_id, line_id, shop_id,
                                               channel, warehouse_id, variant_id, day, reason, outcome, units, value)
           SELECT rl.id, r.id, :org, f.order_id, f.line_id, f.shop_id, f.channel, f.warehouse_id, f.variant_id, f.day,
                  r.reason, 'restocked', 1, f.returns
           FROM return_line rl JOIN "return" r ON r.id = rl.return_id
                JOIN analytics_line_fact f ON f.line_id = rl.order_line_id
           WHERE r.organization_id = :org""")
    run("""INSERT INTO analytics_order_fact (order_id, organization_id, shop_id, channel, warehouse_id, customer_id, day,
                                              lines, units, revenue, product_cost, fees, shipping, returns,
                                              returned_units, prep_seconds, cost_missing_lines, fx_status)
           SELECT order_id, :org, min(shop_id), min(channel), min(warehouse_id), min(customer_id), min(day), count(*),
                  sum(units), sum(revenue), sum(product_cost), sum(fees), sum(shipping), sum(returns),
                  sum(returned_units), CASE WHEN order_id % 10 < 9 THEN 1800 + (order_id::bigint * 7919) % 86400 END,
                  0, 'ok'
           FROM analytics_line_fact WHERE organization_id = :org GROUP BY order_id""")
    for _name, definition in indexes:
        run(definition)


def _time(client, url: str) -> float:
    res = client.get(url)  # warm-up (and check)
    assert res.status_code == 200, (url, res.status_code)
    runs = []
    for _ in range(RUNS):
        started = time.perf_counter()
        res = client.get(url)
        runs.append(time.perf_counter() - started)
        assert res.status_code == 200, (url, res.status_code)
    return statistics.median(runs)


def _scans(plan: dict) -> list[str]:
    """The scans of a query plan on the analytics tables: "Index Only Scan ix_…" etc."""
    found = []
    node_type = plan.get("Node Type", "")
    relation = plan.get("Relation Name", "")
    if "Scan" in node_type and (relation.startswith("analytics_") or plan.get("Index Name", "").startswith("ix_analytics")):
        found.append(f"{node_type} {plan.get('Index Name') or relation}")
    for child in plan.get("Plans", []):
        found += _scans(child)
    return found


def _reads(app, client, url: str) -> str:
    """What a page read: each analytics query of the request, explained by PostgreSQL."""
    from sqlalchemy import event

    from core.extensions import db

    with app.app_context():
        engine = db.engine
    statements: list[tuple[str, Any]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "analytics_" in statement:
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    seen: list[str] = []
    with engine.connect() as conn:
        for statement, parameters in statements:
            plan = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar()
            for scan in _scans(plan[0]["Plan"]):
                if scan not in seen:
                    seen.append(scan)
    return "; ".join(seen)


def run() -> list[tuple[str, str, str]]:
    import sqlalchemy as sa

    from benchmarks.common import make_app, pg_database, setup_schema
    from core import analytics
    from core.extensions import db
    from core.models import Organization, Role, Shop, User, Warehouse

    rows: list[tuple[str, str, str]] = []
    with pg_database("analytics") as url:
        app = make_app(url, WTF_CSRF_ENABLED=False)
        setup_schema(app)
        with app.app_context():
            org = Organization(name="bench", plan_code="business")
            db.session.add(org)
            db.session.flush()
            shops = {}
            for channel in CHANNELS:
                shop = Shop(organization_id=org.id, addon=channel, name=f"Boutique {channel}")
                db.session.add(shop)
                db.session.flush()
                shops[channel] = shop.id
            warehouses = []
            for code in ("PAR", "LYS", "MRS"):
                wh = Warehouse(organization_id=org.id, code=code, name=f"Entrepôt {code}")
                db.session.add(wh)
                db.session.flush()
                warehouses.append(wh.id)
            user = User(organization_id=org.id, email="bench@exemple.fr", name="Bench", role=Role.OWNER)
            user.set_password("bench-password")
            db.session.add(user)
            db.session.commit()
            org_id = org.id

            started = time.perf_counter()
            with db.engine.begin() as conn:
                _generate(conn, org_id, shops, warehouses)
            analytics._roll_up(org_id, None)
            db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("VACUUM ANALYZE"))
            generated = time.perf_counter() - started
            counts = {t: db.session.scalar(sa.text(f'SELECT count(*) FROM "{t}"')) for t in
                      ("order_line", "order", "variant", "analytics_line_fact", "analytics_order_fact",
                       "analytics_return_fact", "analytics_daily")}
            today = db.session.scalar(sa.text("SELECT (now() AT TIME ZONE 'Europe/Paris')::date"))
        rows.append(("data: order lines / orders / SKUs", f"{counts['order_line']:,} / {counts['order']:,} / "
                     f"{counts['variant']:,}", "1,000,000 lines, 20,000 SKUs, 2 years"))
        rows.append(("facts: line / order / return / daily roll-up rows",
                     f"{counts['analytics_line_fact']:,} / {counts['analytics_order_fact']:,} / "
                     f"{counts['analytics_return_fact']:,} / {counts['analytics_daily']:,}", "-"))
        rows.append(("generation (SQL) + roll-up + VACUUM ANALYZE", f"{generated:.1f} s", "-"))

        client = app.test_client()
        res = client.post("/login", data={"email": "bench@exemple.fr", "password": "bench-password"})
        assert res.status_code == 302, res.status_code
        periods = {"30 days": today - timedelta(days=29), "12 months": today - timedelta(days=364),
                   "2 years": today - timedelta(days=DAYS)}
        views = {"dashboard": "/analytics/", "products": "/analytics/products",
                 "customers": "/analytics/customers", "returns": "/analytics/returns",
                 "preparation": "/analytics/preparation", "losers": "/analytics/losers",
                 "products CSV": "/analytics/export/produits.csv"}
        worst = 0.0
        extra = {"products, 500 rows by loss": "/analytics/products?sort=loss&limit=500",
                 "products, one channel": f"/analytics/products?channel={CHANNELS[0]}"}
        for view, path in {**views, **extra}.items():
            for label, start in periods.items():
                if view in extra and label != "2 years":
                    continue
                if label == "30 days":
                    url = path  # the page's default period
                else:
                    url = f"{path}{'&' if '?' in path else '?'}from={start.isoformat()}&to={today.isoformat()}"
                seconds = _time(client, url)
                worst = max(worst, seconds)
                rows.append((f"{view}, {label} — {_reads(app, client, url)}", f"{seconds * 1000:.0f} ms", "< 1 s"))
        seconds = _time(client, "/analytics/pricing?sku=SKU-000042&shipping=4.90&margin_pct=25&vat_pct=20")
        rows.append(("pricing helper (fee schedule)", f"{seconds * 1000:.0f} ms", "< 1 s"))
        rows.append(("slowest view", f"{worst * 1000:.0f} ms", "< 1 s"))
        rows.append(("machine: CPUs, load average (1 min) after the views", f"{os.cpu_count()}, "
                     f"{os.getloadavg()[0]:.1f}", "-"))

        with app.app_context():
            ids = list(db.session.scalars(sa.text('SELECT id FROM "order" ORDER BY id DESC LIMIT 500')))
            started = time.perf_counter()
            analytics.refresh_orders(org_id, ids[:1])
            db.session.commit()
            one = time.perf_counter() - started
            started = time.perf_counter()
            analytics.refresh_orders(org_id, ids)
            db.session.commit()
            batch = time.perf_counter() - started
        rows.append(("refresh job, 1 order (facts + its day's roll-up)", f"{one * 1000:.0f} ms", "-"))
        rows.append(("refresh job, 500 orders", f"{batch:.2f} s", "-"))
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    return rows
