"""The production path under faults: 2,000 signed Shopify ``orders/create`` deliveries sent
at a steady pace to the OMS served by a real threaded WSGI server (PostgreSQL, RQ mode),
two ``oms worker`` processes and one ``oms scheduler``, while

* Redis (a private redis-server on its own port, append-only file as in production) is
  killed and restarted,
* one worker is SIGKILLed (mid-job, most likely),
* every database connection is cut (``pg_terminate_backend``),
* the remote (the Shopify emulator, over HTTP) answers 429 then 5xx for a while.

A delivery answered anything but 200 is sent again with the same webhook id, as Shopify
does. Reported: deliveries sent, orders created within 30 s of their delivery, duplicates,
lost, and processes restarted by hand (the bench never restarts any: the figure is what the
processes needed, and must be 0).
"""
from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import tempfile
import threading
import time
import uuid
from pathlib import Path

DELIVERIES = int(os.environ.get("BENCH_FAULT_DELIVERIES", "2000"))
RATE = float(os.environ.get("BENCH_FAULT_RATE", "10"))  # deliveries per second, all clients together
CLIENTS = 4
DEADLINE = 30.0
SETTLE = 120.0
BASE_ID = 9_100_000_000


def _client(url: str, items: list[tuple[int, bytes, dict[str, str]]], pace: float, start, out) -> None:
    """One sender: its share at its pace; each delivery retried until answered 200."""
    import httpx

    sent: dict[int, float] = {}
    retried = 0
    with httpx.Client(timeout=15.0) as http:
        start.wait()
        t0 = time.monotonic()
        for n, (order_id, body, headers) in enumerate(items):
            delay = t0 + n / pace - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            first = time.time()
            while True:
                try:
                    if http.post(url, content=body, headers=headers).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                retried += 1
                time.sleep(0.5)
            sent[order_id] = first
    out.put((sent, retried))


def _deliveries(template: dict, secret: str, domain: str) -> list[tuple[int, bytes, dict[str, str]]]:
    from addons.shopify.oauth import webhook_hmac

    found = []
    for n in range(DELIVERIES):
        oid = BASE_ID + n
        payload = dict(template, id=oid, name=f"#F{n}", admin_graphql_api_id=f"gid://shopify/Order/{oid}")
        body = json.dumps(payload, separators=(",", ":")).encode()
        found.append((oid, body, {"Content-Type": "application/json", "X-Shopify-Topic": "orders/create",
                                  "X-Shopify-Hmac-Sha256": webhook_hmac(body, secret),
                                  "X-Shopify-Shop-Domain": domain, "X-Shopify-Webhook-Id": str(uuid.uuid4()),
                                  "X-Shopify-API-Version": "2026-10",
                                  "X-Shopify-Triggered-At": "2026-12-01T10:00:00.000000Z"}))
    return found


def _serve(wsgi_app):
    import logging

    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def _cut_connections(url: str) -> int:
    import sqlalchemy as sa

    target = sa.engine.make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        cut = conn.execute(sa.text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                   "WHERE datname = :name AND pid <> pg_backend_pid()"),
                           {"name": target.database}).scalar()
    admin.dispose()
    return int(cut or 0)


def run() -> list[tuple[str, str, str]]:
    from sqlalchemy import func, select

    from addons.shopify import sandbox
    from benchmarks.common import make_app, pg_database, setup_schema
    from core.extensions import db
    from core.models import ConnectionStatus, Order, Organization, SyncMode
    from core.services import create_shop, save_settings
    from tests.proc_helpers import AppProcess, PrivateRedis

    emu = sandbox.ShopifyEmulator(sender=lambda *_: 0)
    template = emu.place_order([("TCB-BLA-M", 2), ("MÉ-CRÈ", 1)], email="client@exemple.fr", notify=False)
    remote, remote_url = _serve(sandbox.make_app(emu))
    work = Path(tempfile.mkdtemp(prefix="oms-bench-faults-"))
    redis = PrivateRedis(work / "redis")
    redis.start()
    procs: list[AppProcess] = []
    faults: list[str] = []
    with pg_database("faults") as url:
        config = {"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": redis.url, "JOBS_MODE": "rq",
                  "RQ_QUEUE_PREFIX": "bench", "ADDONS": ["shopify"], "ADDON_MODULES": {},
                  "SECRET_KEY": "bench", "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "pool_size": 8}}
        app = make_app(url, **config)
        setup_schema(app)
        with app.app_context():
            org = Organization(name="bench", plan_code="business")
            db.session.add(org)
            db.session.flush()
            shop = create_shop(org, "shopify", "Boutique bench", sync_mode=SyncMode.EVERY_15_MIN.value)
            save_settings(shop, "shopify", {**sandbox.demo_settings(remote_url), "shop_domain": emu.domain},
                          {"access_token", "api_key", "api_secret"})
            shop.status = ConnectionStatus.CONNECTED
            db.session.commit()
            shop_id = shop.id
        web, web_url = _serve(app)
        for name, args in (("worker1", ["worker"]), ("worker2", ["worker"]),
                           ("scheduler", ["scheduler", "--interval", "5"])):
            procs.append(AppProcess(config, args, work / f"{name}.log").start())
        time.sleep(4)  # the processes import and connect

        items = _deliveries(template, sandbox.DEMO_API_SECRET, emu.domain)
        ctx = mp.get_context("spawn")
        start, out = ctx.Event(), ctx.Queue()
        senders = [ctx.Process(target=_client, args=(f"{web_url}/apps/shopify/webhooks", items[i::CLIENTS],
                                                     RATE / CLIENTS, start, out)) for i in range(CLIENTS)]
        for p in senders:
            p.start()
        time.sleep(1.5)
        start.set()
        t0 = time.monotonic()

        def at(second: float) -> None:
            time.sleep(max(0.0, t0 + second - time.monotonic()))

        span = DELIVERIES / RATE
        at(span * 0.15)
        redis.kill()
        faults.append("Redis killed")
        at(span * 0.15 + 10)
        redis.start()
        faults.append("Redis restarted after 10 s")
        at(span * 0.4)
        procs[0].kill(signal.SIGKILL)
        faults.append("worker 1 SIGKILLed")
        at(span * 0.55)
        faults.append(f"{_cut_connections(url)} database connections cut")
        at(span * 0.7)
        emu.failing = 429
        at(span * 0.7 + 5)
        emu.failing = 503
        at(span * 0.7 + 10)
        emu.failing = 500
        at(span * 0.7 + 15)
        emu.failing = None
        faults.append("remote answered 429, 503, 500 for 15 s")
        fault_end = time.time()

        sent: dict[int, float] = {}
        retried = 0
        for _ in senders:
            part, r = out.get()
            sent.update(part)
            retried += r
        for p in senders:
            p.join()

        ids = [str(oid) for oid in sent]

        def created() -> dict[str, float]:
            with app.app_context():
                rows = db.session.execute(select(Order.external_id, Order.created_at).where(
                    Order.shop_id == shop_id, Order.external_id.in_(ids))).all()
                db.session.remove()
            return {ext: at_.timestamp() for ext, at_ in rows}

        deadline = time.monotonic() + SETTLE
        found = created()
        while len(found) < len(ids) and time.monotonic() < deadline:
            time.sleep(1)
            found = created()
        with app.app_context():
            rows = db.session.scalar(select(func.count()).select_from(Order).where(
                Order.shop_id == shop_id, Order.external_id.in_(ids)))
            db.session.remove()
        alive = [p for p in procs[1:] if p.alive()]
        for p in procs:
            p.kill(signal.SIGTERM)
        web.shutdown()
        remote.shutdown()
        redis.stop()
        with app.app_context():
            db.engine.dispose()

    def latency(oid: int, t: float) -> float:
        """Seconds from the delivery (or, for one sent during the faults, from their end)."""
        done = found[str(oid)]
        return min(done - t, max(0.0, done - fault_end)) if t < fault_end else done - t

    waits = [latency(oid, t) for oid, t in sent.items() if str(oid) in found]
    in_time = sum(1 for w in waits if w <= DEADLINE)
    strict = sum(1 for oid, t in sent.items() if str(oid) in found and found[str(oid)] - t <= DEADLINE)
    lost = len(sent) - len(found)
    duplicates = rows - len(found)
    restarted = len(procs) - 1 - len(alive)  # every process but the one the bench killed
    return [
        ("faults", "; ".join(faults), "-"),
        ("deliveries sent (answered 200)", f"{len(sent)} ({retried} re-sent after a non-200)", f"{DELIVERIES}"),
        ("orders created within 30 s of their delivery", f"{strict} / {len(sent)}", "-"),
        ("… or within 30 s of the faults ending", f"{in_time} / {len(sent)} (slowest {max(waits, default=0):.1f} s)",
         f"{len(sent)}"),
        ("orders lost", str(lost), "0"),
        ("orders duplicated", str(duplicates), "0"),
        ("processes restarted by hand", str(restarted), "0"),
    ]


if __name__ == "__main__":
    for row in run():
        print("  ".join(row))
