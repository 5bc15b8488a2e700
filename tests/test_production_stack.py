"""The README's production set-up as real processes: `oms serve` (gunicorn), `oms worker`
and `oms scheduler` against PostgreSQL and Redis; the readiness probe up and with a wrong DB;
a signed order webhook to one Shopify store through gunicorn and the worker's jobs, down to
the stock push the other store's emulator receives."""
from __future__ import annotations

import json
import os
import time

import pytest
import redis

from core.models import utcnow
from core.stock import PUSH_WINDOW
from core.testing import PG_URL

from .stack_helpers import (
    Stack,
    Store,
    available_to_sell,
    connect_stores,
    free_port,
    get_json,
    local_app,
    pg_database,
    stack_env,
    wait_status,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def env():
    redis_url = f"redis://127.0.0.1:6379/{int(os.environ.get('TEST_REDIS_DB_BASE', '1')) + 9}"
    with pg_database(PG_URL, "oms_stack") as db_url:
        try:
            yield stack_env(db_url, redis_url, OMS_SANDBOXES="1", OMS_WEB_WORKERS="2", OMS_WEB_THREADS="2",
                            OMS_WEB_GRACEFUL_TIMEOUT="5")
        finally:
            redis.Redis.from_url(redis_url).flushdb()


@pytest.fixture
def stack(env, tmp_path):
    found = Stack(env, tmp_path)
    found.create_db()
    try:
        yield found
    except BaseException:
        print(found.logs())
        raise
    finally:
        found.stop()


def test_serve_worker_scheduler_and_readiness(stack, env):
    port, bad_port = free_port(), free_port()
    root = stack.serve(port)
    stack.start("worker", ["worker"])
    stack.start("scheduler", ["scheduler", "--interval", "2"])
    body = wait_status(f"{root}/healthz/ready", 200)
    assert body["checks"] == {"database": "ok", "migrations": "ok", "redis": "ok"}
    assert get_json(f"{root}/healthz/live")[0] == 200
    assert get_json(f"{root}/healthz")[0] == 200

    bad = dict(env, DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:5432/oms_no_such_db")
    stack.start("web-bad-db", ["serve", "--bind", f"127.0.0.1:{bad_port}", "--workers", "1"], bad)
    body = wait_status(f"http://127.0.0.1:{bad_port}/healthz/ready", 503)
    assert "database" in body["not_ready"]
    assert "oms_no_such_db" not in json.dumps(body)
    for label in ("worker", "scheduler"):
        assert stack.running(label), f"{label} exited"
    # the worker yields the CPU to the web server (nice 10 above its parent, 19 at most), the server does not
    assert _nice(stack.procs["worker"][0].pid) == min(os.nice(0) + 10, 19)
    assert _nice(stack.procs["web"][0].pid) == os.nice(0)


def _nice(pid: int) -> int:
    """A process's nice value (/proc/<pid>/stat, the 19th field)."""
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rpartition(")")[2].split()[16])


def _until(check, deadline: float, what: str):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"not within {deadline:.0f} s: {what}")


def _ran_ok(app, shop_id: int, func: str, after) -> bool:
    from sqlalchemy import select

    from core.extensions import db
    from core.models import SyncLog, SyncStatus

    with app.app_context():
        found = db.session.scalars(select(SyncLog.status).where(
            SyncLog.shop_id == shop_id, SyncLog.func == func, SyncLog.started_at >= after)).all()
        db.session.remove()
    return SyncStatus.OK in found


def test_an_order_on_one_store_reaches_the_other_stores_stock(stack, env):
    """Two Shopify stores on one stock, their emulators served apart from the OMS: a signed
    orders/create webhook to store A through gunicorn, processed by the worker, pushes the
    new figure to store B's emulator (a push job run by the worker) within a deadline."""
    sku, other = "TCB-BLA-M", "MUG-GRS"
    stores = [Store(1, [sku, other], 0), Store(2, [sku, other], 0)]
    try:
        root = stack.serve(free_port())
        stack.start("worker", ["worker"])
        stack.start("scheduler", ["scheduler", "--interval", "2"])
        wait_status(f"{root}/healthz/ready", 200)
        app = local_app(env)
        _org, (shop_a, shop_b) = connect_stores(app, stores, 10, root)
        a, b = stores
        assert a.available(sku) == b.available(sku) == 10  # the OMS's figure, pushed at set-up

        sent_at = utcnow()
        placed = a.emu.place_order([(sku, 3)])  # Shopify signs it and posts it to gunicorn
        assert a.emu.deliveries[-1].status == 200, a.emu.deliveries[-1]
        assert placed["line_items"][0]["sku"] == sku

        _until(lambda: b.available(sku) == 7, PUSH_WINDOW + 20, f"store B showing 7 {sku} (shows {b.available(sku)})")
        assert b.available(other) == 10  # untouched
        assert available_to_sell(app, shop_b, [sku, other]) == {sku: 7, other: 10}
        assert available_to_sell(app, shop_a, [sku]) == {sku: 7}
        # store A took the units itself when selling; the OMS's figure agrees and is kept
        _until(lambda: a.available(sku) == 7, 10, "store A showing 7")
        # store B went from the set-up's figure straight to the new one
        assert [qty for _t, qty in b.changes[sku]] == [10, 7]
        assert _ran_ok(app, shop_b, "addons.shopify.jobs.push_stock", after=sent_at)  # by the worker
        for label in ("web", "worker", "scheduler"):
            assert stack.running(label), f"{label} exited"
    finally:
        stack.stop()
        for store in stores:
            store.close()


def test_a_post_answered_without_reading_its_body_leaves_the_connection_usable(stack):
    import httpx

    root = stack.serve(free_port(), "--workers", "1")
    wait_status(f"{root}/healthz/live", 200)
    with httpx.Client(timeout=5.0) as http:
        for _ in range(20):  # a 404: nothing reads the body
            assert http.post(f"{root}/no-such-page", content=b"x" * 20_000).status_code == 404
            assert http.get(f"{root}/healthz/live").status_code == 200
