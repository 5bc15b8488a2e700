"""Coalescing: 1,000 stock changes over 10 SKUs, from 4 concurrent writers, while a job
runner works as in production; pushes issued per shop (aim: at most 10) and the final pushed
figure equal to the true one."""
from __future__ import annotations

import random
import threading
import time
from collections import Counter
from datetime import timedelta

CHANGES, SKUS, SHOPS, WRITERS = 1000, 10, 3, 4


def run() -> list[tuple[str, str, str]]:
    from benchmarks.bench_channel import hooks as channel
    from benchmarks.common import make_app, pg_database, setup_schema
    from core import stock
    from core.extensions import db
    from core.jobs import run_pending
    from core.models import Organization, Shop, utcnow
    from core.services import create_shop
    from tests.pipeline_helpers import variant, warehouse

    with pg_database("coalesce") as url:
        app = make_app(url)
        setup_schema(app)
        with app.app_context():
            org = Organization(name="bench", plan_code="business")
            db.session.add(org)
            db.session.flush()
            wh = warehouse(org.id, "PAR")
            variants = [variant(org.id, f"SKU-{i}", {wh: 1000}) for i in range(SKUS)]
            shops = [create_shop(org, "bench_channel", f"canal {i}") for i in range(SHOPS)]
            db.session.commit()
            while run_pending(now=utcnow() + timedelta(seconds=60)):
                pass
            org_id, wh_id = org.id, wh.id
            ids = [v.id for v in variants]
        channel.PUSHES.clear()
        channel.LAST.clear()
        writing = threading.Event()
        writing.set()
        jobs = []

        def writer(k: int) -> None:
            rnd = random.Random(k)
            with app.app_context():
                for n in range(k, CHANGES, WRITERS):  # each change its own transaction
                    stock.adjust(org_id, ids[n % SKUS], wh_id, rnd.choice([-3, -2, -1, 1, 2, 3]), reason="bench",
                                 user_id=None)
                    db.session.commit()
                db.session.remove()

        def runner() -> None:  # the job worker, running due jobs as they come due
            with app.app_context():
                while writing.is_set() or run_pending(now=utcnow() + timedelta(seconds=60)):
                    jobs.append(run_pending())
                    time.sleep(0.05)
                db.session.remove()

        threads = [threading.Thread(target=writer, args=(k,)) for k in range(WRITERS)]
        worker = threading.Thread(target=runner)
        started = time.perf_counter()
        worker.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        burst = time.perf_counter() - started
        writing.clear()
        worker.join()
        with app.app_context():
            per_shop = Counter(shop_id for shop_id, _n in channel.PUSHES)
            figures_pushed = sum(n for _s, n in channel.PUSHES)
            wrong = 0
            for shop in db.session.scalars(db.select(Shop).where(Shop.organization_id == org_id)):
                truth = stock.available_to_sell(shop, ids)
                wrong += sum(1 for vid in ids
                             if channel.LAST.get((shop.id, f"SKU-{ids.index(vid)}")) != truth[vid])
            shop_ids = [s.id for s in db.session.scalars(db.select(Shop).where(Shop.organization_id == org_id))]
            floor = _bare_commits(db.engine, ids, wh_id)
    return [
        (f"{CHANGES} changes over {SKUS} SKUs, {WRITERS} writers", f"{burst:.2f} s ({CHANGES / burst:.0f}/s)",
         "1 s (each change commits on PostgreSQL)"),
        (f"anchor: bare UPDATE + COMMIT, same rows, {WRITERS} writers", f"{floor:.2f} s ({CHANGES / floor:.0f}/s)",
         "the floor on this machine"),
        ("push calls per shop", " / ".join(str(per_shop[s]) for s in shop_ids), "<= 10 each"),
        ("SKU figures pushed, all shops", str(figures_pushed), f"vs {CHANGES * SHOPS} uncoalesced"),
        ("final figures different from the truth", str(wrong), "0"),
        ("push window", f"{stock.PUSH_WINDOW:.0f} s", "-"),
    ]


def _bare_commits(engine, variant_ids: list[int], warehouse_id: int) -> float:
    """The same number of one-row commits on the same rows from as many threads, straight
    through the driver (no ORM, no ledger, no marks): what PostgreSQL and this machine allow."""
    def writer(k: int) -> None:
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            for n in range(k, CHANGES, WRITERS):
                cur.execute("UPDATE stock_level SET on_hand = on_hand + 0 WHERE variant_id = %s AND warehouse_id = %s",
                            (variant_ids[n % SKUS], warehouse_id))
                raw.commit()
        finally:
            raw.close()

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(WRITERS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started
