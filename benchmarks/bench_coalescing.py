"""Coalescing: 1,000 stock changes over 10 SKUs, from 4 concurrent writers, while a job
runner works as in production; pushes issued per shop (aim: at most 10) and the final pushed
figure equal to the true one.

The writers are 4 processes, as in production (gunicorn workers, RQ workers: one
interpreter each), each with its own app and connection pool, started before the clock and
released together; the same burst from 4 threads of one process is measured beside it, then
the bare driver-level UPDATE + COMMIT loop on the same rows. The job runner works in this
process during both bursts, and the pushes of both are counted. The machine's load average
is printed with the figures."""
from __future__ import annotations

import multiprocessing
import os
import random
import threading
import time
from collections import Counter
from datetime import timedelta

CHANGES, SKUS, SHOPS, WRITERS = 1000, 10, 3, 4


def _changes(app, org_id: int, wh_id: int, ids: list[int], k: int) -> None:
    """Writer ``k``'s share of the burst: each change its own transaction."""
    from core import stock
    from core.extensions import db

    rnd = random.Random(k)
    with app.app_context():
        for n in range(k, CHANGES, WRITERS):
            stock.adjust(org_id, ids[n % SKUS], wh_id, rnd.choice([-3, -2, -1, 1, 2, 3]), reason="bench",
                         user_id=None)
            db.session.commit()
        db.session.remove()


def _writer_process(url: str, org_id: int, wh_id: int, ids: list[int], k: int, start, done) -> None:
    """One writer process: its own app (built before the clock starts), then its share."""
    from benchmarks.common import make_app
    from core.extensions import db

    app = make_app(url)
    with app.app_context():  # connect before the clock, as a worker that has served before
        db.session.execute(db.text("SELECT 1"))
        db.session.remove()
    start.wait()
    cpu = time.process_time()
    _changes(app, org_id, wh_id, ids, k)
    done.put((time.monotonic(), time.process_time() - cpu))


def _burst_processes(url: str, org_id: int, wh_id: int, ids: list[int]) -> tuple[float, float, float]:
    """Seconds from the writers' release to the last one's end, the writers' CPU seconds, and
    the machine's busy CPU seconds meanwhile."""
    context = multiprocessing.get_context("spawn")
    start, done = context.Barrier(WRITERS + 1), context.Queue()
    procs = [context.Process(target=_writer_process, args=(url, org_id, wh_id, ids, k, start, done))
             for k in range(WRITERS)]
    for proc in procs:
        proc.start()
    start.wait()
    started, busy = time.monotonic(), _cpu_busy()
    reports = [done.get(timeout=600) for _ in procs]
    busy = _cpu_busy() - busy
    for proc in procs:
        proc.join()
        if proc.exitcode:
            raise RuntimeError(f"a writer process failed ({proc.exitcode})")
    return max(end for end, _cpu in reports) - started, sum(cpu for _end, cpu in reports), busy


def _burst_threads(app, org_id: int, wh_id: int, ids: list[int]) -> tuple[float, float, float]:
    """Seconds of the burst, this process's CPU seconds meanwhile (the job runner's too), and
    the machine's."""
    threads = [threading.Thread(target=_changes, args=(app, org_id, wh_id, ids, k)) for k in range(WRITERS)]
    started, cpu, busy = time.perf_counter(), time.process_time(), _cpu_busy()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started, time.process_time() - cpu, _cpu_busy() - busy


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
        results = {}
        for mode in ("processes", "threads"):
            channel.PUSHES.clear()
            channel.LAST.clear()
            writing = threading.Event()
            writing.set()
            worker = threading.Thread(target=_runner, args=(app, writing))
            worker.start()
            load = os.getloadavg()[0]
            if mode == "processes":
                burst = _burst_processes(url, org_id, wh_id, ids)
            else:
                burst = _burst_threads(app, org_id, wh_id, ids)
            writing.clear()
            worker.join()
            results[mode] = (burst, load, _pushed(app, org_id, ids))
        with app.app_context():
            floor = _bare_commits(db.engine, ids, wh_id)
            db.engine.dispose()
    load = os.getloadavg()
    rows = []
    for mode, label in (("processes", "processes (as in production)"), ("threads", "threads of one process")):
        (burst, cpu, busy), at_start, (per_shop, figures_pushed, wrong) = results[mode]
        rows += [
            (f"{CHANGES} changes over {SKUS} SKUs, {WRITERS} writer {label}",
             f"{burst:.2f} s ({CHANGES / burst:.0f}/s)",
             f"1 s (each change commits on PostgreSQL; load {at_start:.2f} at start)"),
            ("  writers' Python, CPU per change", f"{cpu / CHANGES * 1000:.2f} ms", "-"),
            ("  machine CPU during the burst (every process, PostgreSQL's too)",
             f"{busy:.2f} s of {burst * (os.cpu_count() or 1):.2f} s", f"{os.cpu_count()} cores"),
            ("  push calls per shop", " / ".join(str(n) for n in per_shop), "<= 10 each"),
            ("  SKU figures pushed, all shops", str(figures_pushed), f"vs {CHANGES * SHOPS} uncoalesced"),
            ("  final figures different from the truth", str(wrong), "0"),
        ]
    return rows + [
        (f"anchor: bare UPDATE + COMMIT, same rows, {WRITERS} writers", f"{floor:.2f} s ({CHANGES / floor:.0f}/s)",
         "the floor on this machine"),
        ("push window", f"{stock.PUSH_WINDOW:.0f} s", "-"),
        ("load average (1, 5, 15 min) after the runs", " ".join(f"{x:.2f}" for x in load), "-"),
    ]


def _cpu_busy() -> float:
    """CPU seconds the whole machine has spent busy since boot (Linux ``/proc/stat``), 0 elsewhere."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in stat.readline().split()[1:9])
    except (OSError, ValueError):
        return 0.0
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _runner(app, writing: threading.Event) -> None:
    """The job worker, running due jobs as they come due, and the last ones once writing ends."""
    from core.extensions import db
    from core.jobs import run_pending
    from core.models import utcnow

    with app.app_context():
        while writing.is_set() or run_pending(now=utcnow() + timedelta(seconds=60)):
            run_pending()
            time.sleep(0.05)
        db.session.remove()


def _pushed(app, org_id: int, ids: list[int]) -> tuple[list[int], int, int]:
    """Push calls per shop, SKU figures pushed, and final pushed figures that differ from the truth."""
    from benchmarks.bench_channel import hooks as channel
    from core import stock
    from core.extensions import db
    from core.models import Shop

    with app.app_context():
        shops = list(db.session.scalars(db.select(Shop).where(Shop.organization_id == org_id).order_by(Shop.id)))
        per_shop = Counter(shop_id for shop_id, _n in channel.PUSHES)
        figures_pushed = sum(n for _s, n in channel.PUSHES)
        wrong = 0
        for shop in shops:
            truth = stock.available_to_sell(shop, ids)
            wrong += sum(1 for vid in ids if channel.LAST.get((shop.id, f"SKU-{ids.index(vid)}")) != truth[vid])
        db.session.remove()
    return [per_shop[s.id] for s in shops], figures_pushed, wrong
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
