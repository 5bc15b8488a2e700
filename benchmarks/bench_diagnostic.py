"""The shop diagnostic's time: a Shopify shop on the emulator (real HTTP on loopback,
PostgreSQL), its page computed the way ``/integrations/shops/<id>/diagnostic`` does, while
Shopify answers, then while Shopify accepts connections and never answers (the remote calls
are bounded by ``core.diagnostics.REMOTE_TIMEOUT``, one attempt, and an unreachable remote
is asked once).
"""
from __future__ import annotations

import socket
import statistics
import threading
import time

RUNS = 20


def _silent_server() -> tuple[str, socket.socket]:
    """A port that accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _addr = sock.accept()
            except OSError:
                return
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    return f"http://127.0.0.1:{sock.getsockname()[1]}", sock


def run() -> list[tuple[str, str, str]]:
    from werkzeug.serving import make_server

    from addons.shopify import jobs, sandbox
    from addons.shopify.graphql import TOPICS
    from benchmarks.common import make_app, pg_database, setup_schema
    from core import diagnostics
    from core.extensions import db
    from core.models import Organization, Shop
    from core.services import create_shop, save_settings

    emu = sandbox.ShopifyEmulator(sender=lambda *_: 503)
    server = make_server("127.0.0.1", 0, sandbox.make_app(emu), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    emu_url = f"http://127.0.0.1:{server.server_port}"
    silent_url, silent = _silent_server()
    rows = []
    try:
        with pg_database("diagnostic") as url:
            app = make_app(url, ADDONS=["shopify"], ADDON_MODULES={})
            setup_schema(app)
            with app.app_context():
                org = Organization(name="Bench", plan_code="business")
                db.session.add(org)
                db.session.commit()
                shop = create_shop(org, "shopify", "Bench Shopify")
                save_settings(shop, "shopify", {**sandbox.demo_settings(emu_url), "shop_domain": emu.domain},
                              {"access_token", "api_key", "api_secret"})
                for topic in TOPICS:
                    emu.subscribe(sandbox.DEMO_API_KEY, topic, "http://localhost/apps/shopify/webhooks")
                db.session.commit()
                jobs.sync_shop(shop.id)
                shop_id = shop.id

                def timed() -> tuple[float, list]:
                    db.session.expire_all()
                    with app.test_request_context():
                        t0 = time.perf_counter()
                        checks = diagnostics.run(db.session.get(Shop, shop_id))
                        elapsed = time.perf_counter() - t0
                    db.session.rollback()
                    return elapsed, checks

                timed()  # warm-up: connections, templates of the queries
                healthy = [timed()[0] for _ in range(RUNS)]
                rows.append(("page computed, Shopify answering (median of 20)",
                             f"{statistics.median(healthy) * 1000:.0f} ms", "< 500 ms"))
                row = db.session.get(Shop, shop_id).addon_row("shopify")
                row.settings = {**row.settings, "api_base_url": silent_url}
                db.session.commit()
                elapsed, checks = timed()
                down = [c.title for c in checks if c.title.startswith("Impossible")]
                rows.append(("page computed, Shopify silent", f"{elapsed:.1f} s",
                             f"≈ one timeout ({diagnostics.REMOTE_TIMEOUT:g} s), not one a line"))
                rows.append(("lines saying a check could not run", str(len(down)), "2 (orders, notifications)"))
    finally:
        server.shutdown()
        silent.close()
    return rows
