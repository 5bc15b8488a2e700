"""Shopify webhook intake under load: 5,000 signed ``orders/create`` deliveries posted by 4
concurrent clients to the OMS served by a real threaded server on loopback (PostgreSQL),
beside a bare endpoint of the same server in the same run.

Each delivery is verified (HMAC of the raw body), stored in the inbox keyed by its webhook
id and its processing job queued, in one transaction; the bare endpoint only answers 200.
The clients run in their own processes so that they do not compete with the server for the
interpreter.
"""
from __future__ import annotations

import json
import multiprocessing as mp
import os
import threading
import time
import uuid

DELIVERIES = int(os.environ.get("BENCH_SHOPIFY_DELIVERIES", "5000"))
CLIENTS = 4
WARMUP = 200
DOMAIN = "bench-boutique.myshopify.com"
SECRET = "shpss_bench_secret"


def _client(url: str, requests: list[tuple[bytes, dict[str, str]]], start, out) -> None:
    """One client process: POST its share as fast as answers come, record each latency."""
    import httpx

    latencies = []
    errors = 0
    with httpx.Client(timeout=30.0) as http:
        start.wait()
        for body, headers in requests:
            t0 = time.perf_counter()
            res = http.post(url, content=body, headers=headers)
            latencies.append(time.perf_counter() - t0)
            errors += res.status_code != 200
    out.put((latencies, errors))


def _round(url: str, requests: list[tuple[bytes, dict[str, str]]]) -> tuple[float, list[float], int]:
    """All requests split over the client processes: (seconds, latencies, errors)."""
    ctx = mp.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    shares = [requests[i::CLIENTS] for i in range(CLIENTS)]
    procs = [ctx.Process(target=_client, args=(url, share, start, out)) for share in shares]
    for p in procs:
        p.start()
    time.sleep(1.0)  # let every process import and connect before the clock starts
    t0 = time.perf_counter()
    start.set()
    results = [out.get() for _ in procs]
    elapsed = time.perf_counter() - t0
    for p in procs:
        p.join()
    latencies = [lat for lats, _e in results for lat in lats]
    return elapsed, latencies, sum(e for _l, e in results)


def _deliveries(count: int, template: dict) -> list[tuple[bytes, dict[str, str]]]:
    from addons.shopify.oauth import webhook_hmac

    found = []
    for n in range(count):
        payload = dict(template, id=9_000_000_000 + n, name=f"#{10000 + n}",
                       admin_graphql_api_id=f"gid://shopify/Order/{9_000_000_000 + n}")
        body = json.dumps(payload, separators=(",", ":")).encode()
        found.append((body, {"Content-Type": "application/json", "X-Shopify-Topic": "orders/create",
                             "X-Shopify-Hmac-Sha256": webhook_hmac(body, SECRET), "X-Shopify-Shop-Domain": DOMAIN,
                             "X-Shopify-Webhook-Id": str(uuid.uuid4()), "X-Shopify-API-Version": "2026-10",
                             "X-Shopify-Triggered-At": "2026-11-27T10:00:00.000000Z"}))
    return found


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def run() -> list[tuple[str, str, str]]:
    from sqlalchemy import func, select
    from werkzeug.serving import make_server

    from addons.shopify import sandbox
    from addons.shopify.models import ShopifyWebhookInbox
    from benchmarks.common import make_app, pg_database, setup_schema
    from core.extensions import csrf, db
    from core.models import Organization
    from core.services import create_shop, save_settings

    emu = sandbox.ShopifyEmulator(sender=lambda *_: 0)
    template = emu.place_order([("TCB-BLA-M", 2), ("MÉ-CRÈ", 1)], email="client@exemple.fr", notify=False)

    with pg_database("shopify_webhooks") as url:
        app = make_app(url, ADDONS=["shopify"], ADDON_MODULES={}, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 8})

        def bare():
            return "", 200

        app.add_url_rule("/bench/bare", "bench_bare", csrf.exempt(bare), methods=["POST"])
        setup_schema(app)
        with app.app_context():
            org = Organization(name="bench", plan_code="business")
            db.session.add(org)
            db.session.flush()
            shop = create_shop(org, "shopify", "Boutique bench")
            save_settings(shop, "shopify", {"shop_domain": DOMAIN, "api_version": "2026-10", "api_secret": SECRET},
                          {"api_secret"})
            db.session.commit()

        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        root = f"http://127.0.0.1:{server.server_port}"
        try:
            warm = _deliveries(WARMUP, template)
            _round(f"{root}/bench/bare", warm)
            _round(f"{root}/apps/shopify/webhooks", warm)
            work = _deliveries(DELIVERIES, template)
            bare_s, bare_lat, bare_err = _round(f"{root}/bench/bare", work)
            hook_s, hook_lat, hook_err = _round(f"{root}/apps/shopify/webhooks", work)
            redelivered_s, _lat, redelivered_err = _round(f"{root}/apps/shopify/webhooks", work[:1000])
        finally:
            server.shutdown()
            thread.join(5)
        with app.app_context():
            stored = db.session.scalar(select(func.count()).select_from(ShopifyWebhookInbox))
            db.engine.dispose()

    assert stored == DELIVERIES + WARMUP, stored
    assert bare_err == hook_err == redelivered_err == 0
    bare_rate, hook_rate = DELIVERIES / bare_s, DELIVERIES / hook_s
    return [
        (f"bare endpoint, {DELIVERIES} POSTs, {CLIENTS} clients", f"{bare_rate:,.0f} req/s, p50 "
         f"{_pct(bare_lat, 0.5):.1f} ms, p99 {_pct(bare_lat, 0.99):.1f} ms", "-"),
        (f"signed webhooks stored + job queued, {DELIVERIES}", f"{hook_rate:,.0f} req/s, p50 "
         f"{_pct(hook_lat, 0.5):.1f} ms", "-"),
        ("webhook p99 latency", f"{_pct(hook_lat, 0.99):.1f} ms", "< 50 ms"),
        ("ratio webhooks / bare endpoint", f"{100 * hook_rate / bare_rate:.1f} %", ">= 50 %"),
        ("redeliveries (1,000 already stored)", f"{1000 / redelivered_s:,.0f} req/s, none stored twice", "-"),
    ]


if __name__ == "__main__":
    for row in run():
        print("  ".join(row))
