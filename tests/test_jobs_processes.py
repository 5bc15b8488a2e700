"""Real processes survive: a worker killed mid-job, Redis down, database connections cut —
every committed job runs once, and the ``worker`` and ``scheduler`` commands (subprocesses)
carry on by themselves, none restarted by hand."""
from __future__ import annotations

import signal
import time
import uuid

import pytest
from sqlalchemy import create_engine, select, text

from core.extensions import db
from core.jobs import enqueue
from core.models import OutboxJob, Shop, SyncLog, SyncStatus, utcnow
from tests.fake_addons.beta.jobs import RUNS
from tests.fixtures import FAKE_ADDONS
from tests.proc_helpers import AppProcess, PrivateRedis, wait_for

COUNT = "tests.fake_addons.beta.jobs.count_once"


@pytest.fixture
def addons():
    return ["alpha", "beta"]


@pytest.fixture
def app_config():
    return {"ADDON_MODULES": FAKE_ADDONS, "RQ_QUEUE_PREFIX": f"t{uuid.uuid4().hex[:8]}"}


@pytest.fixture(autouse=True)
def _clear():
    RUNS.clear()


def pending_rows() -> int:
    db.session.expire_all()
    return len(db.session.scalars(select(OutboxJob).where(OutboxJob.state == "pending")).all())


@pytest.fixture
def backend():
    """Several processes share one database: PostgreSQL."""
    return "postgresql"


@pytest.fixture
def procs(app, tmp_path):
    """Start the app's commands as subprocesses on this test's database and Redis."""
    started: list[AppProcess] = []

    def start(args: list[str], redis_url: str, name: str) -> AppProcess:
        config = {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": redis_url,
                  "JOBS_MODE": "rq", "RQ_QUEUE_PREFIX": app.config["RQ_QUEUE_PREFIX"],
                  "ADDONS": ["alpha", "beta"], "ADDON_MODULES": FAKE_ADDONS, "SECRET_KEY": "test-secret-key",
                  "RQ_HEARTBEAT_TTL": 6}
        proc = AppProcess(config, args, tmp_path / f"{name}.log").start()
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.kill(signal.SIGTERM)


def use_redis(app, url: str) -> None:
    from redis import Redis

    app.config.update(JOBS_MODE="rq", REDIS_URL=url, RQ_QUEUE_PREFIX=f"t{uuid.uuid4().hex[:8]}")
    app.extensions["oms_redis"] = Redis.from_url(url, socket_connect_timeout=1)


def cursor(shop_id: int) -> list[str]:
    db.session.remove()
    value = db.session.get(Shop, shop_id).sync_cursor
    return value.split(",") if value else []


@pytest.mark.redis
def test_a_worker_killed_mid_job_is_replaced_and_the_job_runs_again_once(app, redis_conn, procs, shop_factory):
    if redis_conn.url is None:
        pytest.skip("processes connect by URL: needs the real Redis")
    use_redis(app, redis_conn.url)
    shop = shop_factory("beta", name="slow-120")
    shop_id = shop.id
    enqueue(COUNT, shop.id, "a", job_id=f"beta-count-{shop.id}", unique=True, shop_id=shop.id,
            retries=3, intervals=(1,))
    db.session.commit()
    first = procs(["worker"], redis_conn.url, "worker1")
    procs(["scheduler", "--interval", "1"], redis_conn.url, "scheduler")
    wait_for(lambda: (db.session.remove() or db.session.get(Shop, shop_id).last_error) == "started", 60,
             what="the job to start")
    first.kill(signal.SIGKILL)
    killed_at = utcnow()
    procs(["worker"], redis_conn.url, "worker2")
    wait_for(lambda: cursor(shop_id) == ["a"], 120, what="the job to run again")
    assert cursor(shop_id) == ["a"]  # its effect, once
    entries = db.session.scalars(select(SyncLog).where(SyncLog.shop_id == shop_id).order_by(SyncLog.id)).all()
    assert [e.status for e in entries] == [SyncStatus.INTERRUPTED, SyncStatus.OK]
    # requeued (its entry closed) within a minute of the kill, however slow the machine
    assert (entries[0].finished_at - killed_at).total_seconds() < 60


@pytest.mark.redis
def test_redis_down_while_jobs_are_committed_then_back(app, procs, shop_factory, tmp_path):
    redis = PrivateRedis(tmp_path / "redis")
    redis.start()
    try:
        use_redis(app, redis.url)
        shop_id = shop_factory("beta").id
        worker = procs(["worker"], redis.url, "worker")
        scheduler = procs(["scheduler", "--interval", "2"], redis.url, "scheduler")

        def commit(token: str) -> None:
            enqueue(COUNT, shop_id, token, job_id=f"beta-count-{shop_id}", shop_id=shop_id)
            db.session.commit()

        for i in range(5):
            commit(f"a{i}")
        wait_for(lambda: len(cursor(shop_id)) == 5, 30, what="the first jobs")
        redis.kill()
        for i in range(10):
            commit(f"b{i}")  # answered at once: the rows wait in the outbox
        assert pending_rows() == 10
        time.sleep(3)  # both processes meet the outage
        redis.start()
        wait_for(lambda: len(cursor(shop_id)) == 15, 60, what="every job once Redis is back")
        assert sorted(cursor(shop_id)) == sorted([f"a{i}" for i in range(5)] + [f"b{i}" for i in range(10)])
        assert worker.alive(), worker.output()
        assert scheduler.alive(), scheduler.output()
        assert pending_rows() == 0
    finally:
        redis.stop()


@pytest.mark.redis
def test_database_connections_cut_worker_and_scheduler_carry_on(app, redis_conn, procs, shop_factory):
    if redis_conn.url is None:
        pytest.skip("processes connect by URL: needs the real Redis")
    use_redis(app, redis_conn.url)
    shop_id = shop_factory("beta").id
    worker = procs(["worker"], redis_conn.url, "worker")
    scheduler = procs(["scheduler", "--interval", "1"], redis_conn.url, "scheduler")

    def commit(token: str) -> None:
        enqueue(COUNT, shop_id, token, job_id=f"beta-count-{shop_id}", shop_id=shop_id)
        db.session.commit()

    commit("a")
    wait_for(lambda: cursor(shop_id) == ["a"], 30, what="the first job")
    db.session.remove()
    name = db.engine.url.database
    admin = create_engine(db.engine.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        cut = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name}).scalar()
    admin.dispose()
    assert cut >= 1
    db.engine.dispose()
    for token in ("b", "c"):
        commit(token)
    wait_for(lambda: cursor(shop_id) == ["a", "b", "c"], 30,
             what=f"the jobs after the cut\n{worker.output()}\n{scheduler.output()}")
    # the outbox relay of the scheduler survives too: a row left by a failed after-commit relay
    db.session.add(OutboxJob(func=COUNT, args=[shop_id, "d"], kwargs={}, shop_id=shop_id, queue="default"))
    db.session.commit()
    wait_for(lambda: cursor(shop_id) == ["a", "b", "c", "d"], 30, what="the scheduler's relay")
    assert worker.alive(), worker.output()
    assert scheduler.alive(), scheduler.output()


@pytest.mark.redis
def test_a_stopped_scheduler_hands_over_at_once(app, redis_conn, procs, shop_factory):
    """SIGTERM (systemd's stop, a deploy) releases the leader lock: the next scheduler relays
    at once instead of waiting out the lock's 60 s."""
    if redis_conn.url is None:
        pytest.skip("processes connect by URL: needs the real Redis")
    from core.rqueue import redis_connection
    from core.scheduler import lock_key

    use_redis(app, redis_conn.url)
    shop_id = shop_factory("beta").id
    procs(["worker"], redis_conn.url, "worker")
    first = procs(["scheduler", "--interval", "1"], redis_conn.url, "scheduler-1")
    with app.app_context():
        key, r = lock_key(), redis_connection()
        wait_for(lambda: r.get(key), 30, what=f"the first scheduler's lock\n{first.output()}")
        first.kill(signal.SIGTERM)
        assert first.proc.returncode == 0, first.output()
        assert r.get(key) is None
    second = procs(["scheduler", "--interval", "1"], redis_conn.url, "scheduler-2")
    db.session.add(OutboxJob(func=COUNT, args=[shop_id, "after"], kwargs={}, shop_id=shop_id, queue="default"))
    db.session.commit()
    wait_for(lambda: cursor(shop_id) == ["after"], 20, what=f"the second scheduler's relay\n{second.output()}")
