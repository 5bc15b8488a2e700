"""Jobs: the transactional outbox, the embedded runner, a real RQ worker on Redis, the
scheduler's periodic syncs."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.jobs import enqueue, redis_connection, relay_outbox, retry_log_entry, rq_queue, run_pending
from core.syncs import schedule_due_syncs
from core.models import ConnectionStatus, OutboxJob, Shop, SyncLog, SyncMode, SyncStatus, utcnow
from tests.fixtures import FAKE_ADDONS
from tests.fake_addons.beta.jobs import RUNS

SYNC = "tests.fake_addons.beta.jobs.sync"
MARK = "tests.fake_addons.beta.jobs.write_marker"


@pytest.fixture
def addons():
    return ["alpha", "beta"]


@pytest.fixture
def app_config():
    return {"ADDON_MODULES": FAKE_ADDONS}


@pytest.fixture(autouse=True)
def _clear():
    RUNS.clear()


def outbox_count() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxJob))


# ----------------------------------------------------------------------------- embedded
def test_rolled_back_write_enqueues_nothing(app, shop_factory):
    shop = shop_factory("beta")
    shop.name = "renamed"
    enqueue(SYNC, shop.id, shop_id=shop.id)
    db.session.rollback()
    assert outbox_count() == 0
    assert run_pending() == 0
    assert RUNS == []


def test_committed_write_runs_its_job_in_process(app, shop_factory):
    shop = shop_factory("beta")
    enqueue(SYNC, shop.id, shop_id=shop.id)
    db.session.commit()
    assert run_pending() == 1
    assert RUNS == [shop.id]
    assert outbox_count() == 0
    entry = db.session.scalars(select(SyncLog).where(SyncLog.shop_id == shop.id)).one()
    assert entry.status == SyncStatus.OK and entry.result == f"synced {shop.id}"
    assert db.session.get(Shop, shop.id).last_sync_at is not None


def test_embedded_failure_retries_with_backoff_then_fails(app, shop_factory):
    shop = shop_factory("beta")
    shop.sync_cursor = "fail"
    enqueue(SYNC, shop.id, shop_id=shop.id, retries=2, intervals=(30, 120))
    db.session.commit()
    assert run_pending() == 1
    row = db.session.scalars(select(OutboxJob)).one()
    assert row.state == "pending" and row.attempts == 1 and "503" in row.last_error
    assert row.run_after > utcnow() + timedelta(seconds=20)  # backed off
    assert run_pending() == 0  # not due yet
    assert run_pending(now=utcnow() + timedelta(seconds=31)) == 1
    assert run_pending(now=utcnow() + timedelta(seconds=200)) == 1
    db.session.refresh(row)
    assert row.state == "failed" and row.attempts == 3
    statuses = [e.status for e in db.session.scalars(select(SyncLog).order_by(SyncLog.id))]
    assert statuses == [SyncStatus.RETRYING, SyncStatus.RETRYING, SyncStatus.FAILED]
    assert "503" in db.session.get(Shop, shop.id).last_error
    # the retry button queues the same job again; it succeeds once the cause is gone
    shop.sync_cursor = None
    retry_log_entry(db.session.scalars(select(SyncLog).order_by(SyncLog.id.desc())).first())
    db.session.commit()
    assert run_pending() == 1 and RUNS == [shop.id]


def test_job_data_written_by_job_is_committed(app, shop_factory):
    shop = shop_factory("beta")
    enqueue(MARK, shop.id, "cursor-42", shop_id=shop.id)
    db.session.commit()
    run_pending()
    db.session.expire_all()
    assert db.session.get(Shop, shop.id).sync_cursor == "cursor-42"


def test_unique_jobs_run_once_per_pass(app, shop_factory):
    shop = shop_factory("beta")
    for _ in range(3):
        enqueue(SYNC, shop.id, job_id=f"beta-sync-{shop.id}", unique=True, shop_id=shop.id)
    db.session.commit()
    run_pending()
    assert RUNS == [shop.id]
    assert outbox_count() == 0


# ----------------------------------------------------------------------------- scheduling
def test_schedule_due_syncs_never_twice_and_survives_restart(app, shop_factory):
    shop = shop_factory("beta", sync_mode=SyncMode.EVERY_15_MIN)
    idle = shop_factory("beta", sync_mode=SyncMode.MANUAL)
    gone = shop_factory("beta", sync_mode=SyncMode.EVERY_15_MIN)
    shop.status = idle.status = ConnectionStatus.CONNECTED
    gone.status = ConnectionStatus.DISCONNECTED
    db.session.commit()
    t0 = utcnow()
    assert schedule_due_syncs(t0) == 1
    db.session.commit()
    # a second pass (or a restarted scheduler: the schedule is in the database) finds nothing due
    assert schedule_due_syncs(t0 + timedelta(minutes=5)) == 0
    assert schedule_due_syncs(t0 + timedelta(minutes=15, seconds=1)) == 1
    db.session.commit()
    run_pending()
    assert RUNS == [shop.id]  # two schedules, one unique job id: one sync


def test_a_shop_in_error_keeps_its_periodic_sync_less_often(app, shop_factory):
    """A failed sync (the remote down, a 5xx) never ends the chain: only the merchant does."""
    from core.syncs import ERROR_SYNC_BACKOFF

    broken = shop_factory("beta", sync_mode=SyncMode.EVERY_15_MIN)
    broken.status = ConnectionStatus.ERROR
    db.session.commit()
    t0 = utcnow()
    assert schedule_due_syncs(t0) == 1
    db.session.commit()
    run_pending()
    assert RUNS == [broken.id]
    assert schedule_due_syncs(t0 + timedelta(minutes=15, seconds=1)) == 0
    assert schedule_due_syncs(t0 + timedelta(minutes=15 * ERROR_SYNC_BACKOFF, seconds=1)) == 1
    db.session.commit()
    run_pending()
    assert RUNS == [broken.id, broken.id]
    broken = db.session.get(Shop, broken.id)
    broken.sync_mode = SyncMode.MANUAL  # the merchant stops it
    db.session.commit()
    assert schedule_due_syncs(t0 + timedelta(days=1)) == 0


@pytest.mark.redis
def test_oms_shops_sync_in_rq_mode(rq_app, shop_factory):
    """The commit relays (and deletes) the outbox row: the command still says what it queued."""
    shop = shop_factory("beta")
    res = rq_app.test_cli_runner().invoke(args=["shops", "sync", str(shop.id)])
    assert res.exit_code == 0, res.output
    assert f"beta-sync-{shop.id}" in res.output
    assert rq_queue().get_job_ids() == [f"beta-sync-{shop.id}"]


# ----------------------------------------------------------------------------- RQ on Redis
@pytest.fixture
def rq_app(app, redis_conn):
    app.config.update(JOBS_MODE="rq", RQ_QUEUE_PREFIX=f"t{uuid.uuid4().hex[:8]}")
    app.extensions["oms_redis"] = redis_conn
    yield app
    app.extensions.pop("oms_redis", None)


def work(queue) -> None:
    from rq import SimpleWorker

    SimpleWorker([queue], connection=queue.connection).work(burst=True, with_scheduler=False)


@pytest.mark.redis
def test_rq_commit_relays_and_worker_runs(rq_app, shop_factory):
    shop = shop_factory("beta")
    enqueue(SYNC, shop.id, shop_id=shop.id)
    db.session.rollback()
    q = rq_queue()
    assert q.count == 0  # rolled back: nothing reached Redis
    enqueue(SYNC, shop.id, shop_id=shop.id)
    db.session.commit()  # after-commit relays to RQ
    assert q.count == 1 and outbox_count() == 0
    work(q)
    assert RUNS == [shop.id]
    entry = db.session.scalars(select(SyncLog).where(SyncLog.shop_id == shop.id)).one()
    assert entry.status == SyncStatus.OK and entry.job_id


@pytest.mark.redis
def test_rq_unique_job_id_queued_once(rq_app, shop_factory):
    shop = shop_factory("beta")
    for _ in range(3):
        enqueue(SYNC, shop.id, job_id=f"beta-sync-{shop.id}", unique=True, shop_id=shop.id)
        db.session.commit()
    q = rq_queue()
    assert q.count == 1
    work(q)
    assert RUNS == [shop.id]


@pytest.mark.redis
def test_rq_failure_is_retried_then_logged(rq_app, shop_factory):
    shop = shop_factory("beta")
    shop.sync_cursor = "fail"
    enqueue(SYNC, shop.id, shop_id=shop.id, retries=1, intervals=(0,))
    db.session.commit()
    q = rq_queue()
    work(q)
    statuses = [e.status for e in db.session.scalars(select(SyncLog).order_by(SyncLog.id))]
    assert statuses == [SyncStatus.RETRYING, SyncStatus.FAILED]
    assert q.failed_job_registry.count == 1


@pytest.mark.redis
def test_outbox_row_survives_redis_outage(rq_app, shop_factory):
    from redis import Redis

    good = rq_app.extensions["oms_redis"]
    rq_app.extensions["oms_redis"] = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    shop = shop_factory("beta")
    enqueue(SYNC, shop.id, shop_id=shop.id)
    db.session.commit()  # relay fails: the committed job stays in the outbox
    assert outbox_count() == 1
    rq_app.extensions["oms_redis"] = good
    assert relay_outbox() == 1 and outbox_count() == 0
    work(rq_queue())
    assert RUNS == [shop.id]


@pytest.mark.redis
def test_scheduler_single_leader_and_tick(rq_app, shop_factory):
    from core.scheduler import Scheduler

    shop = shop_factory("beta")
    shop.status = ConnectionStatus.CONNECTED
    db.session.commit()
    first, second = Scheduler(rq_app), Scheduler(rq_app)
    assert first.acquire() and not second.acquire()
    assert first.acquire()  # renewal by the holder
    stats = first.tick()
    assert stats["syncs"] == 1
    assert first.tick()["syncs"] == 0
    first.release()
    assert second.acquire()
    q = rq_queue()
    work(q)
    assert RUNS == [shop.id]


@pytest.mark.redis
def test_scheduler_lock_is_renewed_and_released_only_by_its_holder(rq_app):
    from core.scheduler import Scheduler, lock_key

    LOCK_KEY = lock_key()
    assert LOCK_KEY == f"{rq_app.config['RQ_QUEUE_PREFIX']}:scheduler:lock"
    first, second = Scheduler(rq_app, lock_ttl=30), Scheduler(rq_app, lock_ttl=30)
    r = redis_connection()
    assert first.acquire()
    r.set(LOCK_KEY, second.ident, ex=5)  # the lock expired and the other scheduler took it
    assert not first.acquire()  # no renewal of a lock that is no longer ours
    assert 0 < r.ttl(LOCK_KEY) <= 5
    first.release()  # nor its release
    assert r.get(LOCK_KEY).decode() == second.ident
    assert second.acquire() and r.ttl(LOCK_KEY) > 5  # its holder renews it
    second.release()
    assert r.get(LOCK_KEY) is None


# ----------------------------------------------------------------------------- cron jobs
def test_cron_interval_and_expression_jobs_are_due_once_per_slot():
    from datetime import datetime, timezone

    from core.cron import MemoryClock, due
    from core.types import CronJob

    every5, nightly = CronJob("x.every_five", interval=300), CronJob("x.nightly", cron="0 3 * * *")
    clock = MemoryClock()
    t0 = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)
    assert due([every5, nightly], t0, clock) == [every5]  # a cron slot counts from first sight
    assert due([every5, nightly], t0 + timedelta(seconds=299), clock) == []
    assert due([every5, nightly], t0 + timedelta(seconds=300), clock) == [every5]
    assert due([nightly], t0 + timedelta(minutes=59), clock) == []
    assert due([nightly], t0 + timedelta(hours=1), clock) == [nightly]
    assert due([nightly], t0 + timedelta(hours=2), clock) == []


def test_job_ids_are_made_safe_for_rq(app):
    row = enqueue(SYNC, 1, job_id="cron-addons.dropship.jobs.send_due_batches", unique=True)
    assert row.job_id == "cron-addons-dropship-jobs-send_due_batches"
    assert enqueue(SYNC, 1, job_id="cron-addons.dropship.jobs.send_due_batches", unique=True) is row


def test_the_embedded_runner_runs_the_addons_cron_jobs(app, shop_factory, monkeypatch):
    """Without Redis (`make run`), batched sends, feeds and nightly jobs still run."""
    from datetime import datetime, timezone

    from core import cron
    from core.runner import EmbeddedRunner
    from core.types import CronJob

    shop = shop_factory("beta")
    db.session.commit()
    monkeypatch.setattr(cron, "cron_jobs", lambda _app: [CronJob(SYNC, interval=300, args=(shop.id,))])
    runner = EmbeddedRunner(app)  # not started: driven by hand
    now = datetime.now(timezone.utc)
    runner.tick(now)
    runner.tick(now + timedelta(seconds=10))
    assert run_pending() == 1 and RUNS == [shop.id]
    runner.tick(now + timedelta(seconds=301))
    assert run_pending() == 1 and RUNS == [shop.id, shop.id]


# ----------------------------------------------------------------------------- the commands
@pytest.mark.redis
def test_oms_worker_and_scheduler_commands(rq_app, shop_factory, redis_conn):
    if redis_conn.url is None:
        pytest.skip("the commands connect by URL: needs the real Redis")
    rq_app.config["REDIS_URL"] = redis_conn.url
    rq_app.extensions.pop("oms_redis")
    shop = shop_factory("beta")
    shop.status = ConnectionStatus.CONNECTED
    db.session.commit()
    runner = rq_app.test_cli_runner()
    res = runner.invoke(args=["scheduler", "--once"])
    assert res.exit_code == 0, res.output
    # relayed to Redis: the shop's sync, and core's hourly parcel tracking (its id made safe for RQ)
    assert sorted(job.args[0] for job in rq_queue().get_jobs()) == ["core.shipping.track_all", SYNC]
    assert "cron-core-shipping-track_all" in rq_queue().get_job_ids()
    res = runner.invoke(args=["worker", "--burst", "--nice", "0"])  # (in this process: keep its priority)
    assert res.exit_code == 0, res.output
    assert RUNS == [shop.id]
    db.session.expire_all()
    assert db.session.get(Shop, shop.id).last_sync_at is not None


def test_oms_worker_refuses_without_redis(runner):
    res = runner.invoke(args=["worker", "--burst"])
    assert res.exit_code != 0 and "REDIS_URL is not set" in res.output
