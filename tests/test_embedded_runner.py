"""Embedded mode (no Redis): one job runner per installation however many web processes,
its cron clock and the rate buckets shared through the database."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.jobs import enqueue
from core.runner import EmbeddedRunner
from core.lease import lease_holder
from core.models import OutboxJob, Shop, utcnow
from core.ratelimit import DbRateLimiter
from tests.fake_addons.beta.jobs import RUNS
from tests.fixtures import FAKE_ADDONS

COUNT = "tests.fake_addons.beta.jobs.count_once"
SYNC = "tests.fake_addons.beta.jobs.sync"


@pytest.fixture
def addons():
    return ["alpha", "beta"]


@pytest.fixture
def app_config():
    return {"ADDON_MODULES": FAKE_ADDONS}


@pytest.fixture(autouse=True)
def _clear():
    RUNS.clear()


def marks(shop_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Shop, shop_id).sync_cursor or ""


def test_two_runners_one_runs_the_jobs_the_other_takes_over_when_it_dies(app, shop_factory):
    shop_id = shop_factory("beta").id
    first, second = EmbeddedRunner(app), EmbeddedRunner(app)  # two web processes
    enqueue(COUNT, shop_id, "a", shop_id=shop_id)
    db.session.commit()
    assert first.step() >= 1 and first.leader and marks(shop_id) == "a"
    enqueue(COUNT, shop_id, "b", shop_id=shop_id)
    db.session.commit()
    assert second.step() == 0 and not second.leader  # the other one holds the lease
    assert marks(shop_id) == "a"
    assert lease_holder(EmbeddedRunner.LEASE) == first.ident
    assert first.step() == 1 and marks(shop_id) == "a,b"
    # the first process dies mid-job: its row stays "running", its lease goes stale
    enqueue(COUNT, shop_id, "c", shop_id=shop_id)
    db.session.commit()
    db.session.execute(OutboxJob.__table__.update().values(state="running"))
    db.session.commit()
    assert second.step() == 0
    later = utcnow() + timedelta(seconds=first.lease_ttl + 1)
    assert second.step(now=later) >= 1 and second.leader
    assert first.step(now=later) == 0 and not first.leader
    assert marks(shop_id) == "a,b,c"
    assert db.session.scalar(select(func.count()).select_from(OutboxJob)) == 0


def test_the_cron_clock_is_shared_by_every_process(app, shop_factory, monkeypatch):
    from core import cron
    from core.jobs import run_pending
    from core.types import CronJob

    shop_id = shop_factory("beta").id
    monkeypatch.setattr(cron, "cron_jobs", lambda _app: [CronJob(SYNC, interval=300, args=(shop_id,))])
    now = datetime.now(timezone.utc)
    EmbeddedRunner(app).tick(now)
    assert run_pending() == 1
    EmbeddedRunner(app).tick(now + timedelta(seconds=10))  # another process, or a restart
    assert run_pending() == 0 and RUNS == [shop_id]
    EmbeddedRunner(app).tick(now + timedelta(seconds=301))
    assert run_pending() == 1 and RUNS == [shop_id, shop_id]


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_runner_threads_of_two_processes_run_each_job_once(app, shop_factory, backend):
    """Concurrent writers: PostgreSQL."""
    shop_id = shop_factory("beta").id
    runners = [EmbeddedRunner(app, poll=0.05, tick=3600) for _ in range(2)]
    for runner in runners:
        runner.start()
    try:
        for n in range(20):
            enqueue(COUNT, shop_id, f"t{n}", shop_id=shop_id)
            db.session.commit()

        def done() -> bool:
            db.session.remove()
            return db.session.scalar(select(func.count()).select_from(OutboxJob)) == 0

        from tests.proc_helpers import wait_for

        wait_for(done, 30, what="the jobs")
    finally:
        for runner in runners:
            runner.stop()
        for runner in runners:
            runner._thread.join(5)
    assert sum(r.leader for r in runners) <= 1
    marks = db.session.get(Shop, shop_id).sync_cursor.split(",")
    assert sorted(marks) == sorted(f"t{n}" for n in range(20)) and len(RUNS) == 20


class ManualClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def time(self) -> float:
        return self.now


def test_database_rate_buckets_are_shared_by_processes(app):
    clock = ManualClock()
    one, two = DbRateLimiter(clock), DbRateLimiter(clock)  # two processes
    key = "amazon:app:seller:getOrders"
    assert one.acquire(key, rate=0.5, burst=2, max_wait=60) == 0
    assert two.acquire(key, rate=0.5, burst=2, max_wait=60) == 0
    assert one.acquire(key, rate=0.5, burst=2, max_wait=60) == pytest.approx(2.0)  # reserved
    assert two.acquire(key, rate=0.5, burst=2, max_wait=1) == pytest.approx(4.0)  # too long: not reserved
    assert one.available(key, rate=0.5, burst=2) == pytest.approx(-1.0)
    clock.now += 4
    assert two.acquire(key, rate=0.5, burst=2, max_wait=0) == 0
    two.set_rate(key, 2.0)  # announced by the remote
    assert one.rate(key, 0.5) == 2.0
    one.drain(key)  # a 429
    assert two.available(key, rate=0.5, burst=2) <= 0
    clock.now += 1
    assert one.acquire(key, rate=0.5, burst=2, max_wait=0) == 0  # refilled at the announced rate


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_concurrent_acquires_never_hand_out_more_than_the_bucket(app, backend):
    """Concurrent writers: PostgreSQL."""
    clock = ManualClock()
    limiter = DbRateLimiter(clock)
    waits: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        with app.app_context():
            for _ in range(3):
                w = limiter.acquire("k", rate=0.001, burst=5, max_wait=0)
                with lock:
                    waits.append(w)

    threads = [threading.Thread(target=take) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(waits) == 18 and waits.count(0) == 5
