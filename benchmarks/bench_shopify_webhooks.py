"""Shopify webhook intake on the production stack: ``BENCH_SHOPIFY_DELIVERIES`` (5,000) signed
``orders/create`` deliveries posted by 4 client processes to gunicorn, beside a bare endpoint of
the same gunicorn server in the same run.

``python -m benchmarks shopify_webhooks``. The installation runs as in production
(PostgreSQL, a private redis-server, two ``oms worker``, ``oms scheduler``); the web server is
``oms serve``'s gunicorn application with its defaults for 2 cores, started through
``benchmarks/served.py`` so that it also has ``POST /bench/bare`` (answers 200, nothing else).
Each delivery is verified (HMAC of the raw body), stored in the inbox keyed by its webhook id,
and its processing job queued and relayed to Redis inside the request, as every commit does in
production; the workers meanwhile import the orders and push the new stock to the shop's two
Shopify stores (emulators in this process). The clients run in their own processes so that
they do not compete with the server for the interpreter.

Rows: the bare endpoint's rate (the anchor) and the webhooks' rate, both closed-loop (4
clients, each posting as soon as its last answer came), p50/p99 latencies at that rate, their
ratio; the webhooks again with the two workers held (SIGSTOP) while they are posted, as when
the workers run on machines of their own: on this one they otherwise share its 2 cores with
the server, importing those very orders; redeliveries of 1,000 stored deliveries; the time the workers took after the last POST
to import every order and run every job; the gunicorn workers' resident memory after the
warm-up and after the load (their sum); the machine's load average.
"""
from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import time
import uuid

DELIVERIES = int(os.environ.get("BENCH_SHOPIFY_DELIVERIES", "5000"))
CLIENTS = 4
WARMUP = 200
#: deliveries posted while the workers are held (SIGSTOP), then imported once they go on
ALONE = int(os.environ.get("BENCH_SHOPIFY_ALONE", "2000"))
ON_HAND = 1_000_000
SETTLE_TIMEOUT = float(os.environ.get("BENCH_SHOPIFY_SETTLE", "600"))


def _client(url: str, requests: list[tuple[bytes, dict[str, str]]], start, out) -> None:
    """One client process: POST its share as fast as answers come, record each latency."""
    import httpx

    latencies: list[float] = []
    errors = 0
    try:
        with httpx.Client(timeout=30.0) as http:
            start.wait()
            for body, headers in requests:
                t0 = time.perf_counter()
                res = http.post(url, content=body, headers=headers)
                latencies.append(time.perf_counter() - t0)
                errors += res.status_code != 200
    except Exception as exc:  # the run fails with what went wrong, never waits for this client
        out.put((latencies, f"{exc.__class__.__name__}: {exc}"))
        return
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
    results = [out.get(timeout=600) for _ in procs]
    elapsed = time.perf_counter() - t0
    for p in procs:
        p.join()
    failed = [e for _l, e in results if isinstance(e, str)]
    if failed:
        raise RuntimeError(f"a client failed on {url}: {failed[0]}")
    latencies = [lat for lats, _e in results for lat in lats]
    return elapsed, latencies, sum(e for _l, e in results)


def _deliveries(count: int, template: dict, domain: str, secret: str,
                first: int) -> list[tuple[bytes, dict[str, str]]]:
    from addons.shopify.oauth import webhook_hmac

    found = []
    for n in range(first, first + count):
        payload = dict(template, id=9_000_000_000 + n, name=f"#{10000 + n}",
                       admin_graphql_api_id=f"gid://shopify/Order/{9_000_000_000 + n}")
        body = json.dumps(payload, separators=(",", ":")).encode()
        found.append((body, {"Content-Type": "application/json", "X-Shopify-Topic": "orders/create",
                             "X-Shopify-Hmac-Sha256": webhook_hmac(body, secret), "X-Shopify-Shop-Domain": domain,
                             "X-Shopify-Webhook-Id": str(uuid.uuid4()), "X-Shopify-API-Version": "2026-10",
                             "X-Shopify-Triggered-At": "2026-11-27T10:00:00.000000Z"}))
    return found


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def run() -> list[tuple[str, str, str]]:
    import sys

    from sqlalchemy import func, select

    from addons.shopify.models import ShopifyWebhookInbox
    from benchmarks.served import BARE_PATH
    from benchmarks.stack import children, exited_rows, load_row, memory, production, wait_idle
    from core.extensions import db
    from tests.stack_helpers import WEBHOOK_PATH, Store, connect_stores

    skus = ["TCB-BLA-M", "MÉ-CRÈ"]
    stores = [Store(n, skus, 0) for n in (1, 2)]
    with production("shopify_webhooks", stores, web=[sys.executable, "-m", "benchmarks.served"],
                    logs=os.environ.get("BENCH_SHOPIFY_LOGS")) as (stack, root, app):
        _org, shop_ids = connect_stores(app, stores, ON_HAND, root)
        template = stores[1].emu.place_order([(skus[0], 2), (skus[1], 1)], notify=False)  # never on A
        domain, secret = stores[0].domain, stores[0].secret
        web = children(stack.procs["web"][0].pid)

        warm = _deliveries(WARMUP, template, domain, secret, first=0)
        _round(f"{root}{BARE_PATH}", warm)
        _round(f"{root}{WEBHOOK_PATH}", warm)
        rss_start = sum(memory(pid)[0] for pid in web)
        work = _deliveries(DELIVERIES, template, domain, secret, first=WARMUP)
        bare_s, bare_lat, bare_err = _round(f"{root}{BARE_PATH}", work)
        hook_s, hook_lat, hook_err = _round(f"{root}{WEBHOOK_PATH}", work)
        redelivered_s, _lat, redelivered_err = _round(f"{root}{WEBHOOK_PATH}", work[:1000])
        workers = [proc.pid for label, (proc, _log) in stack.procs.items() if label.startswith("worker")]
        alone = _deliveries(ALONE, template, domain, secret, first=WARMUP + DELIVERIES)
        for pid in workers:  # held, as if they ran on machines of their own
            os.kill(pid, signal.SIGSTOP)
        try:
            alone_s, alone_lat, alone_err = _round(f"{root}{WEBHOOK_PATH}", alone)
        finally:
            for pid in workers:
                os.kill(pid, signal.SIGCONT)
        drained, state = wait_idle(app, shop_ids[0], DELIVERIES + WARMUP + ALONE, SETTLE_TIMEOUT)
        rss = [memory(pid) for pid in web]
        with app.app_context():
            stored = db.session.scalar(select(func.count()).select_from(ShopifyWebhookInbox))
            db.session.remove()
            db.engine.dispose()
        exited = exited_rows(stack)

    assert stored == DELIVERIES + WARMUP + ALONE, stored
    assert bare_err == hook_err == redelivered_err == alone_err == 0, (bare_err, hook_err, redelivered_err,
                                                                       alone_err)
    bare_rate, hook_rate = DELIVERIES / bare_s, DELIVERIES / hook_s
    rss_end, rss_peak = sum(r[0] for r in rss), sum(r[1] for r in rss)
    rows = [
        (f"gunicorn bare endpoint, {DELIVERIES} POSTs, {CLIENTS} clients", f"{bare_rate:,.0f} req/s, p50 "
         f"{_pct(bare_lat, 0.5):.1f} ms, p99 {_pct(bare_lat, 0.99):.1f} ms", "-"),
        (f"gunicorn signed webhooks stored + job relayed to Redis, {DELIVERIES}", f"{hook_rate:,.0f} req/s, "
         f"p50 {_pct(hook_lat, 0.5):.1f} ms", "-"),
        (f"gunicorn webhook p99 latency at {hook_rate:,.0f} req/s", f"{_pct(hook_lat, 0.99):.1f} ms", "< 50 ms"),
        ("gunicorn ratio webhooks / bare endpoint", f"{100 * hook_rate / bare_rate:.1f} %", ">= 60 %"),
        (f"the same, {ALONE:,} more with the workers held meanwhile (as on machines of their own)",
         f"{ALONE / alone_s:,.0f} req/s, p50 {_pct(alone_lat, 0.5):.1f} ms, p99 {_pct(alone_lat, 0.99):.1f} ms, "
         f"{100 * (ALONE / alone_s) / bare_rate:.1f} % of bare", "-"),
        (f"redeliveries ({min(1000, DELIVERIES):,} already stored)",
         f"{min(1000, DELIVERIES) / redelivered_s:,.0f} req/s, none stored twice", "-"),
        ("workers: every order imported and every job run, after the last POST",
         f"{drained:.1f} s" if drained is not None else f"not idle after {SETTLE_TIMEOUT:.0f} s: {state}", "-"),
        (f"gunicorn workers' RSS ({len(web)}), after warm-up -> after {DELIVERIES + 1000:,} more requests",
         f"{rss_start:.0f} MiB -> {rss_end:.0f} MiB (peak {rss_peak:.0f} MiB)",
         f"flat (<= {rss_start * 1.1:.0f} MiB)"),
        load_row(),
        *exited,
    ]
    return rows


if __name__ == "__main__":
    for row in run():
        print("  ".join(row))
