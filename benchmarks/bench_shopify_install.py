"""A new Shopify store connected on the demo as ``make run`` serves it (the emulators mounted,
the embedded job runner, an SQLite file), driven over HTTP like a browser: the configure
form posted with "Installer sur Shopify" (client id and secret left empty), Shopify's install
screen read and approved, the callback, then the shop page's progress polled until the
products are imported. Then five stores one after the other, and the cost of one progress
write (its own transaction) on PostgreSQL.
"""
from __future__ import annotations

import re
import tempfile
import time

STORES = 5
WRITES = 300


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def _install(http, root: str, name: str) -> tuple[float, float]:
    """One store from the catalog: (seconds to "Connecté", seconds more to its products imported)."""
    import httpx

    page = http.get("/integrations/shopify").text
    res = http.post("/integrations/shopify/shops", data={"csrf_token": _csrf(page), "name": name,
                                                         "sync_mode": "every_15_min"})
    configure = res.headers["Location"]
    shop_id = int(re.search(r"/shops/(\d+)/", configure).group(1))
    t0 = time.perf_counter()
    page = http.get(configure).text
    res = http.post(f"/apps/shopify/shops/{shop_id}/install", data={
        "csrf_token": _csrf(page), "shop_domain": f"{name}.myshopify.com", "api_version": "2026-10",
        "api_key": "", "api_secret": "", "access_token": "", "api_base_url": "", "shop-shown": "1",
        "shop-stock_sync": "y"})
    authorize = res.headers["Location"]
    screen = httpx.get(authorize).text
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', screen))
    back = httpx.post(authorize, data={**{k: v.replace("&amp;", "&") for k, v in fields.items()},
                                       "action": "install"})
    done = http.get(back.headers["Location"])
    assert done.status_code == 302 and done.headers["Location"].endswith("/integrations/"), done.text[:300]
    assert "✅ Connecté" in http.get("/integrations/").text
    connected = time.perf_counter() - t0
    while True:
        p = http.get(f"/integrations/shops/{shop_id}/progress?unit=products").json()
        if p and not p["running"] and p["total"]:
            assert p["done"] == p["total"], p
            return connected, time.perf_counter() - t0 - connected
        if time.perf_counter() - t0 > 120:
            raise AssertionError(f"import not finished: {p}")
        time.sleep(0.1)


def _progress_write_ms() -> float:
    from benchmarks.common import make_app, pg_database, setup_schema
    from core.extensions import db
    from core.models import SyncLog, SyncStatus
    from core.syncs import Progress

    with pg_database("progress") as url:
        app = make_app(url)
        setup_schema(app)
        with app.app_context():
            entry = SyncLog(func="bench.import", status=SyncStatus.RUNNING)
            db.session.add(entry)
            db.session.commit()
            progress = Progress(entry.id, "products")
            progress.start(WRITES)
            t0 = time.perf_counter()
            for n in range(WRITES):
                progress.advance(1, [(f"SKU-{n}", "refusé")] if n % 50 == 0 else [])
            elapsed = time.perf_counter() - t0
            db.session.expire_all()
            assert db.session.get(SyncLog, entry.id).progress_done == WRITES
            db.engine.dispose()
    return 1000 * elapsed / WRITES


def run() -> list[tuple[str, str, str]]:
    import httpx

    from addons.shopify.sandbox import stop_customers
    from core.demo import DEMO_PASSWORD, DEMO_USERS
    from core.testing import demo_served

    with tempfile.TemporaryDirectory() as tmp, demo_served(tmp, ["shopify"]) as (app, root):
        try:
            with httpx.Client(base_url=root, timeout=60) as http:
                page = http.get("/login").text
                http.post("/login", data={"csrf_token": _csrf(page), "email": DEMO_USERS[0][0],
                                          "password": DEMO_PASSWORD})
                first = _install(http, root, "atelier-bleu")
                t0 = time.perf_counter()
                for n in range(STORES):
                    _install(http, root, f"boutique-{n + 1}")
                five = time.perf_counter() - t0
        finally:
            stop_customers(app)
    write_ms = _progress_write_ms()
    return [
        ("new store: install click → consent → back on the catalog ✅", f"{first[0]:.2f} s", "< 3 min by hand"),
        ("then its 3 products imported (progress n / n)", f"{first[1]:.2f} s", "-"),
        (f"{STORES} more stores, each installed and imported", f"{five:.1f} s", "-"),
        (f"one progress write (own transaction, PostgreSQL), {WRITES} writes", f"{write_ms:.2f} ms", "-"),
    ]
