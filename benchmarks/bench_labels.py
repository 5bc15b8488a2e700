"""Sendcloud labels for 200 parcels, one worker, on PostgreSQL: the packing station's path.

Each parcel goes the way « Imprimer l'étiquette » (and the label job) takes it: the shipment
is created and committed, then ``core.shipping.fetch_label`` claims it (lease and attempt
committed), the Sendcloud add-on picks the method, builds the v3 announcement, announces the
shipment to its emulator over the loopback (``POST /v3/shipments/announce``), fetches the
label PDF (``GET /v3/parcels/{id}/documents/label``), and the label is stored and committed.

The anchor, measured in the same run, is the emulator's bare answer: the same two requests
sent straight from one ``httpx`` client with a kept-alive connection, one parcel after
another, timed at the client; what the OMS adds per label is the rest.
"""
from __future__ import annotations

import os
import statistics
import time

from sqlalchemy import event

from benchmarks.bench_carriers_dhl_colissimo import Timed, _label_all, _orders, _pct, _serve, _shop_with_stock

PARCELS = int(os.environ.get("BENCH_LABEL_PARCELS", "200"))


def _bare(base_url: str, settings: dict, count: int) -> list[float]:
    """Announce ``count`` shipments and fetch their labels straight from one client."""
    import httpx

    body = {
        "label_details": {"mime_type": "application/pdf", "dpi": 72},
        "to_address": {"name": "Client Banc", "address_line_1": "1 rue de Rivoli", "postal_code": "75001",
                       "city": "Paris", "country_code": "FR", "email": "client@exemple.fr"},
        "from_address": {"name": settings["sender_name"], "address_line_1": settings["sender_address"],
                         "postal_code": settings["sender_postal_code"], "city": settings["sender_city"],
                         "country_code": "FR"},
        "ship_with": {"type": "shipping_option_code",
                      "properties": {"shipping_option_code": settings["default_method"]}},
        "parcels": [{"weight": {"value": "0.250", "unit": "kg"}}],
    }
    times = []
    with httpx.Client(base_url=base_url + "/v3", auth=(settings["public_key"], settings["secret_key"])) as client:
        for n in range(count):
            started = time.perf_counter()
            res = client.post("/shipments/announce", json={**body, "external_reference_id": f"bare-{n}"})
            res.raise_for_status()
            parcel = res.json()["data"]["parcels"][0]["id"]
            pdf = client.get(f"/parcels/{parcel}/documents/label", params={"paper_size": "A6"},
                             headers={"Accept": "application/pdf"})
            pdf.raise_for_status()
            times.append(time.perf_counter() - started)
    return times


def run() -> list[tuple[str, str, str]]:
    from addons.sendcloud import sandbox
    from benchmarks.common import BENCH_ADDONS, make_app, pg_database, setup_schema
    from core import services
    from core.extensions import db
    from core.models import Shipment

    emulator = sandbox.make_app()
    timed = Timed(emulator, ("/shipments/announce", "/documents/label"))
    base_url, server = _serve(timed)
    settings = sandbox.demo_settings(base_url)
    try:
        with pg_database("labels") as url:
            app = make_app(url, ADDONS=[*BENCH_ADDONS, "sendcloud"])
            setup_schema(app)
            with app.app_context():
                org, shop = _shop_with_stock("Banc étiquettes", 10 * PARCELS)
                services.set_enabled(shop, "sendcloud", True)
                services.save_settings(shop, "sendcloud", settings, {"secret_key", "webhook_signature_key"})
                db.session.flush()
                assert services.test_connection(shop, "sendcloud").ok  # the methods, as a merchant connects
                db.session.commit()
                order_ids = _orders(shop, org.id, "S", PARCELS)
                _label_all(order_ids[:5], "sendcloud")  # a warm worker: connections open, statements known
                timed.times.clear()
                statements = _count_statements(db.engine)
                started, cpu = time.perf_counter(), time.thread_time()
                times, made = _label_all(order_ids[5:], "sendcloud")
                wall, cpu = time.perf_counter() - started, time.thread_time() - cpu
                event.remove(db.engine, "before_cursor_execute", statements)
                stored = db.session.scalar(db.select(db.func.count()).select_from(Shipment)
                                           .where(Shipment.label.is_not(None)))
                emulator_s = sum(timed.times) / len(times)
                db.engine.dispose()
        bare = _bare(base_url, settings, len(times))
    finally:
        server.shutdown()
    count = len(times)
    bare_each = statistics.mean(bare)
    return [
        (f"sendcloud: {count} labels, one worker (shipment → stored label)",
         f"{made} made, {count / wall:,.1f} labels/s", f"{count} made"),
        ("sendcloud: per label, p50 / p99", f"{_pct(times, 0.5):.1f} / {_pct(times, 0.99):.1f} ms", "-"),
        ("anchor: the emulator's bare answer (announce + PDF, one client)",
         f"{bare_each * 1000:.1f} ms → {1 / bare_each:,.1f} labels/s, p99 {_pct(bare, 0.99):.1f} ms",
         f"emulator's own time {emulator_s * 1000:.1f} ms per label"),
        ("sendcloud: the OMS's own time per label", f"{(wall / count - bare_each) * 1000:.1f} ms",
         f"{stored} labels stored"),
        ("sendcloud: per label, SQL statements / worker CPU",
         f"{statements.count / count:.0f} / {cpu / count * 1000:.1f} ms", f"load {os.getloadavg()[0]:.2f}"),
    ]


class _Counter:
    """A ``before_cursor_execute`` listener counting statements."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args) -> None:
        self.count += 1


def _count_statements(engine) -> _Counter:
    counter = _Counter()
    event.listen(engine, "before_cursor_execute", counter)
    return counter
