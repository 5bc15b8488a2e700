"""The RQ side of the outbox: relaying committed rows to Redis, the worker, abandoned jobs.

Relaying never drops a committed job. A row whose job id RQ already holds is compared with
that job's state:

* queued, scheduled (not later than the row) or deferred: the waiting job has not started,
  so it will see the row's data (committed before the check): the row is done;
* started: the running job may have read the data before the row's commit, so the row
  waits in the outbox and is sent once that run is over;
* finished, failed, stopped or cancelled: the old job is deleted and the row enqueued
  again under the same id.

A row is deleted only once RQ holds its job. Rows without ``unique`` run once each (their
RQ id carries the row id), so a crash between enqueue and delete sends nothing twice. A
unique row's delete is committed without waiting for the disk (PostgreSQL's
``synchronous_commit``): one lost in a database crash sends the row again, which a new
request of that id would do anyway; the webhook that queued it is answered sooner.

The worker (:class:`OmsWorker`) runs each job in a fresh app context and database session,
and beats every few seconds while a job runs, so a worker killed mid-job leaves a started
entry that expires within ``RQ_HEARTBEAT_TTL`` seconds (default 20); :func:`requeue_abandoned` (called by
the scheduler on every pass) then hands the job back to RQ's retry and closes its sync-log
entry as interrupted.
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from flask import Flask, current_app
from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from .extensions import db
from .models import OutboxJob, SyncLog, SyncStatus, utcnow

log = logging.getLogger(__name__)

#: a started job whose worker has not beaten for this long is abandoned (``RQ_HEARTBEAT_TTL``)
HEARTBEAT_TTL = 20
RESULT_TTL = 60
FAILURE_TTL = 7 * 24 * 3600
_WAITING = {"queued", "deferred"}
_OVER = {"finished", "failed", "stopped", "canceled"}


def redis_connection():
    from redis import Redis

    ext = current_app.extensions
    if "oms_redis" not in ext:
        url = current_app.config.get("REDIS_URL")
        if not url:
            raise RuntimeError("REDIS_URL is not set")
        ext["oms_redis"] = Redis.from_url(url, socket_connect_timeout=2, health_check_interval=15)
    return ext["oms_redis"]


def rq_queue(name: str = "default"):
    from rq import Queue

    prefix = current_app.config.get("RQ_QUEUE_PREFIX", "oms")
    return Queue(f"{prefix}-{name}", connection=redis_connection())


def rq_job_id(row: OutboxJob) -> str:
    """The RQ id of an outbox row: its job id when unique, else one id per row (its id and
    creation time: SQLite may give a deleted row's id to the next one)."""
    if row.unique and row.job_id:
        return row.job_id
    stamp = format(int(_as_utc(row.created_at).timestamp() * 1_000_000), "x")
    return f"{row.job_id or 'outbox'}-o{row.id}-{stamp}"


def _as_utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def waiting_in_rq(job_id: str) -> bool:
    """Whether RQ holds a job of this id that has not started yet (queued or deferred): a
    run still to come, which will read whatever is committed now."""
    from rq.job import Job

    status = redis_connection().hget(Job.key_for(job_id), "status")
    return status is not None and status.decode() in _WAITING


def _send(q, row: OutboxJob) -> str:
    """Put the row's job in RQ. Returns "sent", "covered" (a job that has not started yet
    holds the id) or "busy" (a run of that id is under way: try again later)."""
    from rq import Retry
    from rq.exceptions import DuplicateJobError, NoSuchJobError
    from rq.job import Job

    job_id = rq_job_id(row)
    due = _as_utc(row.run_after)
    try:
        old = Job.fetch(job_id, connection=q.connection)
    except NoSuchJobError:
        old = None
    if old is not None:
        raw = old.get_status(refresh=False)
        status = str(getattr(raw, "value", raw) or "")
        if status in _WAITING:
            return "covered"
        if status == "scheduled":
            try:
                at = q.scheduled_job_registry.get_scheduled_time(old)
            except NoSuchJobError:
                at = None
            if at is None or _as_utc(at) <= due + timedelta(seconds=1):
                return "covered"
            _forget(q, old)  # waiting for later than this row wants: run it sooner instead
        elif status == "started":
            return "busy"
        else:  # finished, failed, stopped, cancelled, or a half-written job hash
            _forget(q, old)
    opts: dict[str, Any] = dict(
        args=(row.func, row.args, row.kwargs, row.shop_id),
        job_id=job_id, unique=True, description=row.func,
        result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL,
        retry=Retry(max=row.max_retries, interval=row.intervals) if row.max_retries else None,
    )
    try:
        if due > utcnow() + timedelta(seconds=1):
            q.enqueue_at(due, "core.jobs.run_job", **opts)
        else:
            q.enqueue_call("core.jobs.run_job", **opts)
    except DuplicateJobError:
        # created by another relay after this row's commit (the old one was deleted above or
        # never existed): it has not run before the row's data was there
        return "covered"
    return "sent"


def _forget(q, job) -> None:
    """Delete an old job of an id about to be queued again."""
    try:
        job.delete()
    except ValueError:  # RQ cannot list its execution records once they expired: do it by hand
        with q.connection.pipeline() as pipe:
            for registry in (q.finished_job_registry, q.failed_job_registry, q.scheduled_job_registry,
                             q.canceled_job_registry, q.deferred_job_registry):
                pipe.zrem(registry.key, job.id)
            pipe.delete(job.key)
            pipe.execute()


def relay_outbox(limit: int = 500, ids: list[int] | None = None) -> int:
    """Send committed outbox rows to RQ (the oldest ``limit`` waiting, or the rows ``ids``:
    a commit relays its own); return how many RQ now holds (sent or covered).

    A row whose job is running stays for the next pass."""
    done = 0
    pg = db.engine.dialect.name == "postgresql"
    with Session(db.engine) as s:
        if ids is None:
            ids = s.scalars(select(OutboxJob.id).where(OutboxJob.state == "pending")
                            .order_by(OutboxJob.id).limit(limit)).all()
            s.commit()
        queues: dict[str, Any] = {}
        for row_id in ids:
            # each row locked while it is sent (another relay skips it), in its own transaction
            stmt = select(OutboxJob).where(OutboxJob.id == row_id, OutboxJob.state == "pending")
            row = s.scalars(stmt.with_for_update(skip_locked=True) if pg else stmt).one_or_none()
            if row is None:
                s.commit()
                continue
            if pg and row.unique:
                # a unique row's delete need not wait for the disk: lost in a database crash,
                # the row is sent again and found waiting in RQ, or its job runs once more,
                # as for any new request of that id
                s.execute(text("SET LOCAL synchronous_commit TO OFF"))
            q = queues.get(row.queue) or queues.setdefault(row.queue, rq_queue(row.queue))
            outcome = _send(q, row)
            if outcome == "busy":
                s.commit()
                continue
            if outcome == "covered":
                log.info("job %s already waiting in RQ", rq_job_id(row))
            s.execute(delete(OutboxJob).where(OutboxJob.id == row_id))
            s.commit()  # a crash before this re-sends the row: found waiting in RQ, or run again
            done += 1
    return done


# ----------------------------------------------------------------------------- abandoned jobs
#: a job that killed its worker this many times goes to RQ's retry/failed handling instead
MAX_INTERRUPTIONS = 3


def requeue_abandoned(queue_names: list[str] | None = None) -> int:
    """Jobs whose worker died (no heartbeat for ``RQ_HEARTBEAT_TTL`` s) go straight back to
    their queue (at most ``MAX_INTERRUPTIONS`` times, then RQ's retry or failed registry);
    their sync-log entries still "running" are closed as interrupted. Returns how many."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus
    from rq.registry import StartedJobRegistry

    found: list[str] = []
    for name in queue_names or _queue_names():
        q = rq_queue(name)
        registry = StartedJobRegistry(queue=q)
        expired: dict[str, list[bytes]] = {}
        for member in q.connection.zrangebyscore(registry.key, 0, time.time()):
            expired.setdefault(registry.parse_job_id(member), []).append(member)
        for job_id, members in expired.items():
            try:
                job = Job.fetch(job_id, connection=q.connection)
            except NoSuchJobError:
                continue
            if job.get_status(refresh=False) != JobStatus.STARTED:
                continue  # a leftover entry of a run that ended: RQ's cleanup drops it
            interrupted = int(job.meta.get("interrupted", 0)) + 1
            if interrupted > MAX_INTERRUPTIONS:
                continue
            job.meta["interrupted"] = interrupted
            job.save_meta()
            q.enqueue_job(job, at_front=True)  # queued first: a crash here leaves a leftover entry only
            q.connection.zrem(registry.key, *members)
            found.append(job.id)
            log.warning("job %s abandoned by its worker: queued again", job.id)
        registry.cleanup()  # the rest: RQ's retry, or its failed registry
    if found:
        db.session.execute(update(SyncLog).where(SyncLog.job_id.in_(found), SyncLog.status == SyncStatus.RUNNING)
                           .values(status=SyncStatus.INTERRUPTED, finished_at=utcnow()))
        db.session.commit()
    return len(found)


def _queue_names() -> list[str]:
    names = set(current_app.config.get("RQ_QUEUES") or ["default"])
    names.update(db.session.scalars(select(OutboxJob.queue).distinct()).all())
    return sorted(names)


# ----------------------------------------------------------------------------- the worker
def worker_class():
    from rq import SimpleWorker
    from rq.worker import WorkerStatus

    class OmsWorker(SimpleWorker):
        """Runs jobs in this process (no fork: database pools are never shared), each in a
        fresh app context whose session is reset before and after, beating while it runs."""

        app: Flask

        def get_heartbeat_ttl(self, job, working_time: float = 0.0) -> int:
            return int(self.app.config.get("RQ_HEARTBEAT_TTL") or HEARTBEAT_TTL)

        def execute_job(self, job, queue):
            stop = threading.Event()
            execution = self.prepare_execution(job)
            every = max(1.0, self.get_heartbeat_ttl(job) / 4)

            def beat() -> None:
                while not stop.wait(every):
                    try:
                        self.maintain_heartbeats(job, execution)
                    except Exception:  # Redis away for a moment: the next beat tries again
                        log.warning("worker heartbeat failed", exc_info=True)

            beater = threading.Thread(target=beat, name="oms-heartbeat", daemon=True)
            beater.start()
            try:
                with self.app.app_context():
                    db.session.remove()
                    try:
                        self.perform_job(job, queue, execution)
                    finally:
                        db.session.rollback()
                        db.session.remove()
            finally:
                stop.set()
                beater.join(every + 1)
            self.set_state(WorkerStatus.IDLE)

    return OmsWorker


def run_worker(app: Flask, queue_names: list[str], burst: bool = False, max_backoff: float = 5.0,
               sleep=None) -> None:
    """``oms worker``: work the queues; on a Redis or database error, log, back off and
    work again (a new worker registration), never exit."""

    sleep = sleep or time.sleep
    backoff = 1.0
    cls = worker_class()
    cls.app = app
    while True:
        try:
            with app.app_context():
                conn = redis_connection()
                worker = cls([rq_queue(q) for q in queue_names], connection=conn)
                worked = worker.work(burst=burst, with_scheduler=True)
            if burst or worker._stop_requested or worker._shutdown_requested_date is not None:
                return
            # work() returns on its own only after an error it logged (Redis gone, …)
            if worked:
                backoff = 1.0
            log.warning("worker loop ended; working again in %.0f s", backoff)
            sleep(backoff)
            backoff = min(max_backoff, backoff * 2)
        except KeyboardInterrupt:
            return
        except Exception:
            log.exception("worker stopped by an error; working again in %.0f s", backoff)
            sleep(backoff)
            backoff = min(max_backoff, backoff * 2)
