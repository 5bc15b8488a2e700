"""Labels for 200 parcels on each carrier's emulator (DHL Express MyDHL, Colissimo SLS), one
worker, on PostgreSQL.

Each parcel goes the production way: the shipment is created and committed, then
``core.shipping.fetch_label`` claims it (lease and attempt committed), the add-on builds the
request and calls its emulator over the loopback, the label (a PDF; the multipart answer split
on bytes for Colissimo, base64 documents for DHL) is stored and committed. The emulators answer
after a fixed service time (``LATENCY``, standing for the carrier's own answer time); the limit
for one worker is one label per emulator answer time, so the figure that matters is the share
of that limit reached (the OMS's own overhead per label is the rest).
"""
from __future__ import annotations

import os
import statistics
import threading
import time
from decimal import Decimal

PARCELS = int(os.environ.get("BENCH_CARRIER_PARCELS", "200"))
LATENCY = 0.02  # seconds the emulated carrier takes to make a label


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


class Timed:
    """WSGI middleware: the emulator's own answer time of each label request."""

    def __init__(self, app, suffixes: tuple[str, ...]) -> None:
        self.app, self.suffixes, self.times = app, suffixes, []

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        body = b"".join(self.app(environ, start_response))
        if environ.get("PATH_INFO", "").endswith(self.suffixes):
            self.times.append(time.perf_counter() - started)
        return [body]


def _serve(app) -> tuple[str, object]:
    from werkzeug.serving import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_request(self, *_args, **_kwargs) -> None:  # one line per request would drown the table
            pass

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


def _orders(shop, org_id: int, prefix: str, count: int = PARCELS) -> list[int]:
    from core.extensions import db
    from core.intake import ingest
    from core.types import NormalizedAddress, NormalizedLine, NormalizedOrder
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc)
    ids = []
    for n in range(count):
        result = ingest(shop, NormalizedOrder(
            external_id=f"{prefix}-{n}", number=f"#{prefix}{n:04d}", placed_at=now, updated_at=now, currency="EUR",
            total=Decimal("24.00"), lines=[NormalizedLine(sku="BENCH-TEE", quantity=1, unit_price=Decimal("24.00"),
                                                          title="T-shirt")],
            customer_email="client@exemple.fr", customer_name="Client Banc",
            shipping_address=NormalizedAddress(name="Client Banc", line1="1 rue de Rivoli", postal_code="75001",
                                               city="Paris", country="FR", phone="+33612345678")))
        ids.append(result.order_id)
    db.session.commit()
    return ids


def _shop_with_stock(name: str, units: int = 10 * PARCELS):
    """An organization, its shop on the bench channel, and ``units`` T-shirts in its Paris
    warehouse (with their customs data): committed."""
    from core import services
    from core.extensions import db
    from core.models import Organization, Product, StockLevel, Variant, Warehouse

    org = Organization(name=name, plan_code="business")
    db.session.add(org)
    db.session.commit()
    shop = services.create_shop(org, "bench_channel", "Boutique banc")
    wh = Warehouse(organization_id=org.id, code="PAR", name="Paris", priority=1)
    product = Product(organization_id=org.id, title="T-shirt")
    db.session.add_all([wh, product])
    db.session.flush()
    variant = Variant(organization_id=org.id, product_id=product.id, sku="BENCH-TEE", title="T-shirt",
                      price=Decimal("24.00"), weight_grams=250, hs_code="6109100010", country_of_origin="PT")
    db.session.add(variant)
    db.session.flush()
    db.session.add(StockLevel(variant_id=variant.id, warehouse_id=wh.id, on_hand=units, reserved=0))
    db.session.commit()
    return org, shop


def _label_all(order_ids: list[int], carrier: str) -> tuple[list[float], int]:
    from core import shipping
    from core.extensions import db
    from core.models import Order

    times, made = [], 0
    for order_id in order_ids:
        started = time.perf_counter()
        order = db.session.get(Order, order_id)
        shipment = shipping.create_shipment(order, [(order.lines[0], 1)], 250, carrier=carrier)
        db.session.commit()
        outcome = shipping.fetch_label(shipment.id)
        times.append(time.perf_counter() - started)
        made += outcome.state == "label_ready"
    return times, made


def run() -> list[tuple[str, str, str]]:
    from addons.colissimo import sandbox as colissimo_sandbox
    from addons.dhl import sandbox as dhl_sandbox
    from benchmarks.common import BENCH_ADDONS, make_app, pg_database, setup_schema
    from core import services
    from core.extensions import db

    dhl_app, colissimo_app = dhl_sandbox.make_app(), colissimo_sandbox.make_app()
    dhl_app.config["LATENCY"] = colissimo_app.config["LATENCY"] = LATENCY
    dhl_timed = Timed(dhl_app, ("/mydhlapi/shipments",))
    colissimo_timed = Timed(colissimo_app, ("/generateLabel",))
    dhl_url, dhl_server = _serve(dhl_timed)
    colissimo_url, colissimo_server = _serve(colissimo_timed)
    rows = []
    try:
        with pg_database("carriers") as url:
            app = make_app(url, ADDONS=[*BENCH_ADDONS, "dhl", "colissimo"])
            setup_schema(app)
            with app.app_context():
                org, shop = _shop_with_stock("Banc transporteurs")
                for name, settings, secrets in (
                        ("dhl", dhl_sandbox.demo_settings(dhl_url), {"api_secret", "tracking_api_key"}),
                        ("colissimo", colissimo_sandbox.demo_settings(colissimo_url), {"api_key", "okapi_key"})):
                    services.set_enabled(shop, name, True)
                    services.save_settings(shop, name, settings, secrets)
                db.session.commit()
                for name, timed, prefix in (("dhl", dhl_timed, "D"), ("colissimo", colissimo_timed, "C")):
                    order_ids = _orders(shop, org.id, prefix)
                    started = time.perf_counter()
                    times, made = _label_all(order_ids, name)
                    wall = time.perf_counter() - started
                    answer = statistics.median(timed.times)
                    rate, limit = made / wall, 1 / answer
                    rows += [
                        (f"{name}: {PARCELS} labels, one worker", f"{made} made, {rate:,.1f} labels/s, "
                         f"p50 {_pct(times, 0.5):.1f} ms, p99 {_pct(times, 0.99):.1f} ms", f"{PARCELS} made"),
                        (f"{name}: emulator's own answer time (the limit)", f"{answer * 1000:.1f} ms → "
                         f"{limit:,.1f} labels/s", f"service time {LATENCY * 1000:.0f} ms"),
                        (f"{name}: share of the limit reached", f"{100 * rate / limit:.0f} %", ">= 50 %"),
                    ]
    finally:
        dhl_server.shutdown()
        colissimo_server.shutdown()
    return rows
