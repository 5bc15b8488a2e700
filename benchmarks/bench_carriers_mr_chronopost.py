"""Labels for 200 parcels on the Mondial Relay and Chronopost emulators (PostgreSQL, real
loopback HTTP, one worker), through core's whole label path (``core.shipping.fetch_label``:
claim committed, carrier hook, label committed).

Each emulator answers a shipment creation after ``BENCH_CARRIER_ANSWER_MS`` (20 ms by default,
a label desk's usual answer time); a middleware times every request inside the emulator.
The limit for one worker is the emulator's own time per label (one creation for Chronopost;
a creation and the label PDF download for Mondial Relay): labels per second and p99 are read
against it.
"""
from __future__ import annotations

import os
import statistics
import threading
import time
from decimal import Decimal

PARCELS = int(os.environ.get("BENCH_CARRIER_PARCELS", "200"))
ANSWER_S = float(os.environ.get("BENCH_CARRIER_ANSWER_MS", "20")) / 1000


class _Timed:
    """WSGI middleware: the time the emulator spends on each request."""

    def __init__(self, app) -> None:
        self.app = app
        self.seconds: list[float] = []

    def __call__(self, environ, start_response):
        t0 = time.perf_counter()
        body = b"".join(self.app(environ, start_response))
        self.seconds.append(time.perf_counter() - t0)
        return [body]


def _serve(wsgi_app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _one(carrier: str, sandbox, secrets: set[str], pickup: bool) -> tuple[float, float, float, float, int]:
    from benchmarks.common import BENCH_ADDONS, make_app, pg_database, setup_schema
    from core import services, shipping
    from core.extensions import db
    from core.intake import ingest
    from core.models import Order, Organization, Product, Shop, StockLevel, Variant, Warehouse, utcnow
    from core.types import NormalizedAddress, NormalizedLine, NormalizedOrder, NormalizedPickupPoint

    emulator = sandbox.make_app()
    emulator.config["STATE"]["answer_seconds"] = ANSWER_S
    timed = _Timed(emulator)
    server, base = _serve(timed)
    modules = {**BENCH_ADDONS, carrier: f"addons.{carrier}.hooks"}
    try:
        with pg_database(f"labels_{carrier}") as url:
            app = make_app(url, ADDONS=list(modules), ADDON_MODULES=modules)
            setup_schema(app)
            with app.app_context():
                org = Organization(name="bench", plan_code="business")
                db.session.add(org)
                db.session.flush()
                shop = Shop(organization_id=org.id, addon="bench_channel", name="canal")
                db.session.add(shop)
                wh = Warehouse(organization_id=org.id, code="PAR", name="Paris", priority=1)
                db.session.add(wh)
                db.session.flush()
                product = Product(organization_id=org.id, title="T-shirt")
                db.session.add(product)
                db.session.flush()
                variant = Variant(organization_id=org.id, product_id=product.id, sku="TEE", title="T-shirt",
                                  price=Decimal("19.90"), weight_grams=180)
                db.session.add(variant)
                db.session.flush()
                db.session.add(StockLevel(variant_id=variant.id, warehouse_id=wh.id, on_hand=PARCELS * 2, reserved=0))
                services.set_enabled(shop, carrier, True)
                services.save_settings(shop, carrier, sandbox.demo_settings(base), secrets)
                db.session.commit()
                ids = []
                for n in range(PARCELS):
                    point = NormalizedPickupPoint(id="075003", network="mondialrelay") if pickup else None
                    result = ingest(shop, NormalizedOrder(
                        external_id=f"B{n}", number=f"#B{n}", placed_at=utcnow(), currency="EUR",
                        lines=[NormalizedLine(sku="TEE", quantity=1, unit_price=Decimal("19.90"), title="T-shirt")],
                        total=Decimal("19.90"), customer_email=f"c{n}@exemple.fr", customer_name="Client",
                        shipping_address=NormalizedAddress(name="Léa Martin", line1="1 rue X", postal_code="75001",
                                                           city="Paris", country="FR"), pickup_point=point))
                    db.session.commit()
                    order = db.session.get(Order, result.order_id)
                    draft = shipping.create_shipment(order, [(ln, ln.quantity) for ln in order.lines], 180,
                                                     carrier=carrier)
                    db.session.commit()
                    ids.append(draft.id)
                timed.seconds.clear()
                per_label = []
                started = time.perf_counter()
                for ident in ids:
                    t0 = time.perf_counter()
                    outcome = shipping.fetch_label(ident)
                    per_label.append(time.perf_counter() - t0)
                    assert outcome.state == "label_ready", outcome.message
                wall = time.perf_counter() - started
                emulator_per_label = sum(timed.seconds) / len(ids)
                db.engine.dispose()
    finally:
        server.shutdown()
    return wall, _p(per_label, 0.99), statistics.median(per_label), emulator_per_label, len(timed.seconds)


def run() -> list[tuple[str, str, str]]:
    import logging

    from addons.chronopost import sandbox as chronopost
    from addons.mondialrelay import sandbox as mondialrelay

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    rows: list[tuple[str, str, str]] = []
    for name, carrier, sandbox, secrets, pickup in (
            ("Mondial Relay", "mondialrelay", mondialrelay, {"private_key", "api2_password"}, True),
            ("Chronopost", "chronopost", chronopost, {"password"}, False)):
        wall, p99, p50, floor, calls = _one(carrier, sandbox, secrets, pickup)
        rate, limit = PARCELS / wall, 1 / floor
        rows += [
            (f"{name}: {PARCELS} labels, one worker ({calls} emulator calls)", f"{rate:.1f} labels/s",
             f"limit {limit:.1f}/s (emulator {floor * 1000:.1f} ms/label)"),
            (f"{name}: time per label p50 / p99", f"{p50 * 1000:.0f} / {p99 * 1000:.0f} ms",
             f"p99 < {floor * 1000 * 3:.0f} ms (3× the emulator)"),
            (f"{name}: share of the limit reached", f"{rate / limit:.0%}", "≥ 33 %"),
        ]
    return rows
