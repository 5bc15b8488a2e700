"""Memory of a worker importing a large backlog: a Shopify store (its emulator in this process,
Shopify Plus limits: 1,000 points/s) holding ``BENCH_MEMORY_ORDERS`` (10,000) orders the OMS
has not seen, read by the shop's sync job (the real one: ``sync_now``, the reconciliation poll
page by page) on one ``oms worker``.

``python -m benchmarks memory``. PostgreSQL, a private redis-server, one ``oms worker`` (the
one measured) and ``oms scheduler``. The worker's resident set (``VmRSS`` in
``/proc/<pid>/status``) is read every half second beside the number of orders imported, and
noted when a tenth, half and all of the backlog are in; its peak (``VmHWM``) at the end. The
sync job may take longer than a job's time limit: it then goes on in the next runs from the
last page it committed (the row says how many runs it took). The web process's memory under
load is in the webhook benchmark.

Rows: the worker idle (before the job); at a tenth, half and all of the orders; its peak; the
growth from a tenth to all (the aim: flat); orders imported per second and the job's runs;
the machine's load average.
"""
from __future__ import annotations

import os
import time

ORDERS = int(os.environ.get("BENCH_MEMORY_ORDERS", "10000"))
TIMEOUT = float(os.environ.get("BENCH_MEMORY_TIMEOUT", "1800"))
SKUS = [f"TSH-{n:02d}" for n in range(20)]
PLUS = {"bucket_size": 20_000.0, "restore_rate": 1_000.0}
#: the resident set may grow this much from a tenth of the backlog to all of it
MARGIN = 0.10


def _imported(app, shop_id: int) -> int:
    from sqlalchemy import func, select

    from core.extensions import db
    from core.models import Order

    with app.app_context():
        found = db.session.scalar(select(func.count()).select_from(Order).where(Order.shop_id == shop_id))
        db.session.remove()
    return found


def _runs(app, shop_id: int) -> str:
    from collections import Counter

    from sqlalchemy import select

    from core.extensions import db
    from core.models import SyncLog

    with app.app_context():
        found = Counter(str(getattr(s, "value", s)) for s in db.session.scalars(select(SyncLog.status).where(
            SyncLog.shop_id == shop_id, SyncLog.func == "addons.shopify.jobs.sync_shop")))
        db.session.remove()
    return ", ".join(f"{n} {status}" for status, n in sorted(found.items()))


def run() -> list[tuple[str, str, str]]:
    import random

    from benchmarks.stack import exited_rows, load_row, memory, production
    from core.extensions import db
    from core.models import Shop
    from core.services import sync_now
    from tests.stack_helpers import Store, connect_stores

    rnd = random.Random(3)
    marks = {ORDERS // 10: None, ORDERS // 2: None, ORDERS: None}
    store = Store(1, SKUS, 0, **PLUS)
    with production("memory", [store], workers=1, serve=False) as (stack, _root, app):
        worker = stack.procs["worker"][0].pid
        _org, (shop_id,) = connect_stores(app, [store], 1_000_000, "http://127.0.0.1:9")
        for _ in range(ORDERS):
            store.emu.place_order([(sku, rnd.choice((1, 2))) for sku in rnd.sample(SKUS, rnd.choice((1, 2, 3)))],
                                  notify=False)
        time.sleep(10)  # the worker's first cron jobs run
        idle = memory(worker)[0]
        with app.app_context():
            sync_now(db.session.get(Shop, shop_id))
            db.session.commit()
            db.session.remove()
        started, count = time.monotonic(), 0
        while count < ORDERS and time.monotonic() - started < TIMEOUT:
            time.sleep(0.5)
            count = _imported(app, shop_id)
            rss = memory(worker)[0]
            for mark in marks:
                if marks[mark] is None and count >= mark:
                    marks[mark] = rss
        took = time.monotonic() - started
        peak = memory(worker)[1]
        runs = _runs(app, shop_id)
        exited = exited_rows(stack)

    first, last = marks[ORDERS // 10], marks[ORDERS]

    def mib(value: float | None) -> str:
        return "not reached" if value is None else f"{value:.0f} MiB"

    rows = [
        ("worker idle, before the import", mib(idle), "-"),
        *((f"worker with {mark:,} of {ORDERS:,} orders imported", mib(value), "-") for mark, value in marks.items()),
        ("worker peak (VmHWM)", mib(peak), "-"),
        (f"growth from {ORDERS // 10:,} to {ORDERS:,} orders",
         "-" if first is None or last is None else f"{last - first:+.0f} MiB ({100 * (last - first) / first:+.1f} %)",
         f"flat (<= +{100 * MARGIN:.0f} %)"),
        ("import rate, sync job runs", f"{count / took:.1f} orders/s ({count:,} in {took:.0f} s), runs: {runs}", "-"),
        load_row(),
        *exited,
    ]
    return rows


if __name__ == "__main__":
    for row in run():
        print("  ".join(row))
