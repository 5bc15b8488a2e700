"""RQ mode loses nothing: a job id RQ already holds (running, finished, failed) is run again;
one still waiting covers the new request."""
from __future__ import annotations

import signal
import uuid

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from core.extensions import db
from core.jobs import enqueue, relay_outbox, rq_queue
from core.models import OutboxJob, Shop
from tests.fake_addons.beta.jobs import RUNS
from tests.fixtures import FAKE_ADDONS

SYNC = "tests.fake_addons.beta.jobs.sync"
AGAIN = "tests.fake_addons.beta.jobs.sync_and_requeue"
COUNT = "tests.fake_addons.beta.jobs.count_once"


@pytest.fixture
def addons():
    return ["alpha", "beta"]


@pytest.fixture
def app_config():
    return {"ADDON_MODULES": FAKE_ADDONS}


@pytest.fixture(autouse=True)
def _clear():
    RUNS.clear()


@pytest.fixture
def rq_app(app, redis_conn):
    app.config.update(JOBS_MODE="rq", RQ_QUEUE_PREFIX=f"t{uuid.uuid4().hex[:8]}")
    app.extensions["oms_redis"] = redis_conn
    yield app
    app.extensions.pop("oms_redis", None)


def work(queue) -> None:
    from rq import SimpleWorker

    SimpleWorker([queue], connection=queue.connection).work(burst=True, with_scheduler=False)


def pending_rows() -> int:
    db.session.expire_all()
    return len(db.session.scalars(select(OutboxJob).where(OutboxJob.state == "pending")).all())


# ----------------------------------------------------------------------------- same id again
@pytest.mark.redis
def test_reenqueued_while_running_runs_again(rq_app, shop_factory):
    """The job queues its own id while it runs (a webhook arriving during processing)."""
    shop = shop_factory("beta")
    enqueue(AGAIN, shop.id, job_id=f"beta-again-{shop.id}", unique=True, shop_id=shop.id)
    db.session.commit()
    q = rq_queue()
    work(q)
    assert RUNS == [shop.id]
    assert pending_rows() == 1  # RQ held the id (running): the row waited in the outbox
    assert relay_outbox() == 1 and pending_rows() == 0
    work(q)
    assert RUNS == [shop.id, shop.id]


@pytest.mark.redis
def test_reenqueued_after_it_finished_runs_again(rq_app, shop_factory):
    shop = shop_factory("beta")
    job_id = f"beta-sync-{shop.id}"
    enqueue(SYNC, shop.id, job_id=job_id, unique=True, shop_id=shop.id)
    db.session.commit()
    q = rq_queue()
    work(q)
    assert q.finished_job_registry.get_job_ids() == [job_id]
    enqueue(SYNC, shop.id, job_id=job_id, unique=True, shop_id=shop.id)  # "sync now" within 60 s
    db.session.commit()
    assert pending_rows() == 0 and q.count == 1
    work(q)
    assert RUNS == [shop.id, shop.id]


@pytest.mark.redis
def test_reenqueued_after_it_failed_runs_again(rq_app, shop_factory):
    shop = shop_factory("beta")
    shop.sync_cursor = "fail"
    job_id = f"beta-sync-{shop.id}"
    enqueue(SYNC, shop.id, job_id=job_id, unique=True, shop_id=shop.id, retries=0)
    db.session.commit()
    q = rq_queue()
    work(q)
    assert q.failed_job_registry.get_job_ids() == [job_id] and RUNS == []
    shop = db.session.get(Shop, shop.id)
    shop.sync_cursor = None  # the cause is gone
    enqueue(SYNC, shop.id, job_id=job_id, unique=True, shop_id=shop.id, retries=0)
    db.session.commit()
    assert pending_rows() == 0 and q.count == 1
    work(q)
    assert RUNS == [shop.id]
    assert q.failed_job_registry.count == 0


@pytest.mark.redis
def test_a_waiting_job_still_covers_the_same_id(rq_app, shop_factory):
    shop = shop_factory("beta")
    for _ in range(3):
        enqueue(SYNC, shop.id, job_id=f"beta-sync-{shop.id}", unique=True, shop_id=shop.id)
        db.session.commit()
    q = rq_queue()
    assert q.count == 1 and pending_rows() == 0
    work(q)
    assert RUNS == [shop.id]


@pytest.mark.redis
def test_rows_without_unique_each_run(rq_app, shop_factory):
    shop_id = shop_factory("beta").id
    for token in ("a", "b"):
        enqueue(COUNT, shop_id, token, job_id=f"beta-count-{shop_id}", shop_id=shop_id)
        db.session.commit()
    work(rq_queue())
    assert RUNS == [shop_id, shop_id]
    assert db.session.get(Shop, shop_id).sync_cursor == "a,b"


@pytest.mark.redis
def test_an_abandoned_job_is_queued_again_and_its_log_entry_closed(rq_app, shop_factory):
    """A worker killed mid-job leaves its job "started" with an expired registry entry (and its
    execution record gone with the heartbeat): the scheduler's pass queues it again."""
    import time

    from rq.job import Job, JobStatus
    from rq.registry import StartedJobRegistry

    from core.models import SyncLog, SyncStatus
    from core.rqueue import requeue_abandoned

    shop = shop_factory("beta")
    job_id = f"beta-sync-{shop.id}"
    enqueue(SYNC, shop.id, job_id=job_id, unique=True, shop_id=shop.id)
    db.session.commit()
    q = rq_queue()
    job = Job.fetch(job_id, connection=q.connection)
    q.remove(job)  # taken by a worker…
    job.set_status(JobStatus.STARTED)
    registry = StartedJobRegistry(queue=q)
    q.connection.zadd(registry.key, {f"{job_id}:gone-execution": time.time() - 5})  # …that died
    db.session.add(SyncLog(shop_id=shop.id, func=SYNC, job_id=job_id, status=SyncStatus.RUNNING))
    db.session.commit()
    assert requeue_abandoned(["default"]) == 1
    assert q.get_job_ids() == [job_id] and registry.count == 0
    assert db.session.scalar(select(SyncLog.status).where(SyncLog.job_id == job_id)) == SyncStatus.INTERRUPTED
    work(q)
    assert RUNS == [shop.id]
    assert requeue_abandoned(["default"]) == 0


@pytest.mark.redis
def test_reenqueued_after_its_execution_records_expired(rq_app, shop_factory, redis_conn):
    """RQ keeps a run's execution record shorter than the job: deleting the old job must not
    trip over the missing record (it raised, and the after-commit relay left the row)."""
    shop = shop_factory("beta")
    job_id = f"beta-sync-{shop.id}"
    enqueue(SYNC, shop.id, job_id=job_id, unique=True, shop_id=shop.id)
    db.session.commit()
    q = rq_queue()
    work(q)
    import time

    from rq.executions import ExecutionRegistry

    # an execution still listed for the job whose record expired (its worker died meanwhile)
    redis_conn.zadd(ExecutionRegistry(job_id, redis_conn).key, {"gone": time.time() + 600})
    enqueue(SYNC, shop.id, job_id=job_id, unique=True, shop_id=shop.id)
    db.session.commit()
    assert pending_rows() == 0 and q.count == 1
    work(q)
    assert RUNS == [shop.id, shop.id]


@pytest.mark.redis
def test_the_commits_of_a_burst_share_one_analytics_refresh(rq_app, shop_factory, org):
    """Each commit that changes orders queues the organization's refresh; the first one is
    scheduled a window later, and the commits after it, even with a worker idle in between,
    are covered by that run instead of making one run each."""
    import time

    from core.analytics.facts import REFRESH_WINDOW, refresh_job_id
    from core.intake import ingest
    from core.models import AnalyticsDirty
    from tests.pipeline_helpers import norm

    shop = shop_factory("beta")
    db.session.commit()
    q = rq_queue()
    first = time.time()  # the first commit comes after this
    for n in range(3):
        ingest(shop, norm(f"burst-{n}", [("NOPE", 1)]))
        db.session.commit()  # relayed to RQ here
        work(q)
    assert pending_rows() == 0
    assert db.session.scalar(select(func.count()).select_from(AnalyticsDirty)) == 3  # not refreshed yet
    scheduled = q.scheduled_job_registry.get_job_ids()
    assert scheduled == [refresh_job_id(org.id)]
    at = q.scheduled_job_registry.get_scheduled_time(scheduled[0]).timestamp()
    assert at >= int(first + REFRESH_WINDOW)  # a window after the first commit (RQ keeps whole seconds)


@pytest.mark.redis
@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_only_a_unique_rows_relay_skips_waiting_for_the_disk(rq_app, shop_factory):
    """PostgreSQL (``synchronous_commit`` is its own): the relay's delete of a unique row is
    committed without waiting for the disk (a lost delete only sends the row again); a row
    that must run once waits for it."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        seen.append(statement)

    shop = shop_factory("beta")
    sa_event.listen(db.engine, "before_cursor_execute", note)
    try:
        enqueue(SYNC, shop.id, shop_id=shop.id)
        db.session.commit()
        once = sum("synchronous_commit" in s for s in seen)
        enqueue(SYNC, shop.id, job_id=f"beta-sync-{shop.id}", unique=True, shop_id=shop.id)
        db.session.commit()
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", note)
    assert once == 0 and sum("synchronous_commit" in s for s in seen) == 1
    assert pending_rows() == 0 and rq_queue().count == 2


@pytest.mark.redis
def test_a_commit_relays_its_own_jobs_and_the_scheduler_the_rest(rq_app, shop_factory):
    """The relay after a commit sends the rows that transaction queued, and no other: a row
    left behind (its process died before the relay) waits for the scheduler's pass."""
    shop = shop_factory("beta")
    db.session.add(OutboxJob(func=SYNC, args=[shop.id], kwargs={}, job_id="left-behind", unique=True,
                             shop_id=shop.id, queue="default", max_retries=0, intervals=[]))
    db.session.commit()  # written directly, as a crashed process leaves it: nobody relayed it
    enqueue(COUNT, shop.id, job_id=f"beta-count-{shop.id}", unique=True, shop_id=shop.id)
    db.session.commit()
    q = rq_queue()
    assert q.job_ids == [f"beta-count-{shop.id}"]
    assert pending_rows() == 1
    assert relay_outbox() == 1 and pending_rows() == 0  # the scheduler's pass
    assert sorted(q.job_ids) == sorted([f"beta-count-{shop.id}", "left-behind"])


@pytest.mark.redis
def test_a_job_knows_its_time_limit_and_can_go_on_in_a_next_run(rq_app, shop_factory):
    """Under RQ a job sees how near its time limit it is (out_of_time) and can queue its own
    next run (run_again), which runs once this one is over."""
    from tests.fake_addons.beta.jobs import TIME

    TIME.clear()
    shop = shop_factory("beta")
    enqueue("tests.fake_addons.beta.jobs.continue_once", shop.id, job_id=f"beta-go-on-{shop.id}", unique=True,
            shop_id=shop.id)
    db.session.commit()
    q = rq_queue()
    work(q)
    assert RUNS == [shop.id] and TIME == [(True, False)]  # 180 s ahead: out of time only for a 10,000 s margin
    assert pending_rows() == 1  # its next run waited while it ran
    assert relay_outbox() == 1
    work(q)
    assert RUNS == [shop.id, shop.id] and pending_rows() == 0
