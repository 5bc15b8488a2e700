"""Background jobs: a transactional outbox relayed to RQ, or run in-process.

``enqueue()`` writes an :class:`~core.models.OutboxJob` row in the caller's transaction:

* rolled back → the row is gone, nothing runs;
* committed → an ``after_commit`` listener relays the row to RQ (``REDIS_URL`` set) or wakes
  the in-process runner (embedded default). If the process dies in between, the row stays
  and the next relay pass (``oms scheduler``, the in-process runner, or ``oms jobs relay``)
  sends it, so committed data never loses its job.

Every job runs through :func:`run_job`, which keeps the shop's sync log (what, when, error,
attempts) and lets exceptions escape so RQ's ``Retry`` and failed-job registry see them.
"""
from __future__ import annotations

import importlib
import logging
import os
import re
import socket
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from flask import Flask, current_app, has_app_context
from sqlalchemy import delete, event, select, update
from sqlalchemy.orm import Session

from .extensions import db
from .lease import DbClock, release_lease, take_lease
from .rqueue import redis_connection, relay_outbox, rq_queue
from .models import SYNC_INTERVALS, JobLease, OutboxJob, Shop, SyncLog, SyncStatus, SyncMode, ConnectionStatus, utcnow

log = logging.getLogger(__name__)

DEFAULT_INTERVALS = (30, 120, 600)
#: a shop in error is synced this many times less often than its mode says
ERROR_SYNC_BACKOFF = 4
_SESSION_FLAG = "oms_outbox"


# ----------------------------------------------------------------------------- enqueue
_JOB_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def enqueue(func: str, *args: Any, job_id: str | None = None, unique: bool = False,
            shop_id: int | None = None, queue: str = "default", retries: int = 3,
            intervals: tuple[int, ...] = DEFAULT_INTERVALS, delay: float = 0,
            **kwargs: Any) -> OutboxJob:
    """Queue ``func`` (a dotted path to a module-level function) to run after commit.

    ``job_id`` with ``unique=True`` makes a second enqueue of the same id a no-op while the
    first is queued or running. RQ takes letters, digits, ``_`` and ``-`` in job ids: any
    other character becomes ``-``.
    """
    if "." not in func:
        raise ValueError("enqueue a job by its dotted path, e.g. 'addons.shopify.jobs.sync_orders'")
    if job_id:
        job_id = _JOB_ID_UNSAFE.sub("-", job_id)
    if unique and job_id:
        with db.session.no_autoflush:
            pending = next((o for o in db.session.new if isinstance(o, OutboxJob) and o.job_id == job_id), None)
            pending = pending or db.session.scalar(
                select(OutboxJob).where(OutboxJob.job_id == job_id, OutboxJob.state == "pending").limit(1))
        if pending is not None:
            return pending  # already waiting: one run will do
    row = OutboxJob(func=func, args=list(args), kwargs=kwargs, job_id=job_id, unique=unique,
                    shop_id=shop_id, queue=queue, max_retries=retries, intervals=list(intervals),
                    run_after=utcnow() + timedelta(seconds=delay))
    db.session.add(row)
    db.session.info[_SESSION_FLAG] = True
    return row


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: the transaction goes on
        return
    if not session.info.pop(_SESSION_FLAG, False) or not has_app_context():
        return
    app = current_app._get_current_object()
    mode = app.config["JOBS_MODE"]
    if mode == "rq":
        try:
            relay_outbox()
        except Exception:  # Redis down: the rows stay, the next relay pass sends them
            log.warning("outbox relay failed; will retry", exc_info=True)
    elif mode == "thread":
        runner = app.extensions.get("oms_runner")
        if runner is not None:
            runner.wake()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_SESSION_FLAG, None)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_transaction_state(session: Session) -> None:
    """Per-transaction markers (``session.info`` keys starting with ``oms_tx_``) end with it
    (not with a savepoint inside it: an add-on's hook runs in one)."""
    if session.in_nested_transaction():
        return
    for key in [k for k in session.info if k.startswith("oms_tx_")]:
        del session.info[key]


# ----------------------------------------------------------------------------- RQ
# the relay, the worker and abandoned-job handling live in core.rqueue
__all__ = ["enqueue", "relay_outbox", "redis_connection", "rq_queue", "run_job", "run_pending"]


# ----------------------------------------------------------------------------- execution
_worker_app: Flask | None = None


def set_worker_app(app: Flask) -> None:
    """Called once by ``oms worker``: jobs run in this app's context."""
    global _worker_app
    _worker_app = app


def _resolve(path: str) -> Callable[..., Any]:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def run_job(func: str, args: list[Any], kwargs: dict[str, Any], shop_id: int | None = None,
            attempt: int | None = None, retries_left: int | None = None) -> Any:
    """Run one job with an app context and a sync-log entry; exceptions escape."""
    if not has_app_context():
        global _worker_app
        if _worker_app is None:
            from .app import create_app

            _worker_app = create_app()
        with _worker_app.app_context():
            return run_job(func, args, kwargs, shop_id, attempt, retries_left)
    from rq import get_current_job

    job = get_current_job()
    if job is not None:  # running under an RQ worker
        retries_left = job.retries_left
        attempt = job.meta.get("attempt", 0) + 1
        job.meta["attempt"] = attempt
        job.save_meta()
        # RQ never runs one id twice at once: an entry of this id still "running" is a run
        # whose worker died (requeued by RQ's cleanup or core.rqueue.requeue_abandoned)
        db.session.execute(update(SyncLog).where(SyncLog.job_id == job.id, SyncLog.status == SyncStatus.RUNNING)
                           .values(status=SyncStatus.INTERRUPTED, finished_at=utcnow()))
    shop = db.session.get(Shop, shop_id) if shop_id else None
    entry = SyncLog(shop_id=shop_id, organization_id=shop.organization_id if shop else None,
                    addon=_addon_of(func), func=func, args=list(args), kwargs=dict(kwargs),
                    job_id=job.id if job is not None else None, status=SyncStatus.RUNNING,
                    attempts=attempt or 1)
    db.session.add(entry)
    db.session.commit()
    entry_id = entry.id
    try:
        result = _resolve(func)(*args, **kwargs)
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        final = not retries_left
        _finish(entry_id, SyncStatus.FAILED if final else SyncStatus.RETRYING, error=_describe(exc))
        raise
    _finish(entry_id, SyncStatus.OK, result=None if result is None else str(result)[:2000])
    return result


def _addon_of(func: str) -> str | None:
    parts = func.split(".")
    return parts[1] if parts[0] == "addons" and len(parts) > 2 else None


def _describe(exc: BaseException) -> str:
    text = f"{exc.__class__.__name__}: {exc}"
    return text[:4000]


def _finish(entry_id: int, status: SyncStatus, *, error: str | None = None, result: str | None = None) -> None:
    db.session.execute(update(SyncLog).where(SyncLog.id == entry_id).values(
        status=status, error=error, result=result, finished_at=utcnow()))
    if error:
        shop_id = db.session.scalar(select(SyncLog.shop_id).where(SyncLog.id == entry_id))
        if shop_id:
            db.session.execute(update(Shop).where(Shop.id == shop_id).values(last_error=error))
    db.session.commit()


def retry_log_entry(entry: SyncLog) -> OutboxJob:
    """The "Relancer" button: queue the same job again."""
    return enqueue(entry.func, *entry.args, shop_id=entry.shop_id, **entry.kwargs)


# ----------------------------------------------------------------------------- embedded runner
def run_pending(limit: int = 100, now: datetime | None = None) -> int:
    """Run due outbox rows in this process (embedded mode); return how many ran.

    A failing job is retried later with the row's backoff intervals, then left ``failed``.
    """
    now = now or utcnow()
    ran = 0
    rows = db.session.scalars(
        select(OutboxJob).where(OutboxJob.state == "pending", OutboxJob.run_after <= now)
        .order_by(OutboxJob.id).limit(limit)).all()
    running_ids: set[str] = set()
    for row in rows:
        if row.job_id and row.unique and row.job_id in running_ids:
            db.session.delete(row)  # same unique job already ran in this pass
            db.session.commit()
            continue
        if row.job_id:
            running_ids.add(row.job_id)
        row_id, attempt = row.id, row.attempts + 1
        retries_left = row.max_retries - row.attempts
        func, args, kwargs, shop_id = row.func, list(row.args), dict(row.kwargs), row.shop_id
        # claim the row: while it runs, a new enqueue of the same unique id is not swallowed
        claimed = db.session.execute(update(OutboxJob).where(OutboxJob.id == row_id, OutboxJob.state == "pending")
                                     .values(attempts=attempt, state="running")).rowcount
        db.session.commit()
        if not claimed:  # another runner took it
            continue
        try:
            _run_embedded(func, args, kwargs, shop_id, attempt, retries_left)
        except Exception as exc:
            db.session.rollback()
            intervals = row_intervals(row_id)
            if retries_left > 0:
                wait = intervals[min(attempt - 1, len(intervals) - 1)] if intervals else 0
                db.session.execute(update(OutboxJob).where(OutboxJob.id == row_id).values(
                    state="pending", run_after=utcnow() + timedelta(seconds=wait), last_error=_describe(exc)))
            else:
                db.session.execute(update(OutboxJob).where(OutboxJob.id == row_id).values(
                    state="failed", last_error=_describe(exc)))
            db.session.commit()
        else:
            db.session.execute(delete(OutboxJob).where(OutboxJob.id == row_id))
            db.session.commit()
        ran += 1
    return ran


def row_intervals(row_id: int) -> list[int]:
    return db.session.scalar(select(OutboxJob.intervals).where(OutboxJob.id == row_id)) or []


def _run_embedded(func: str, args: list[Any], kwargs: dict[str, Any], shop_id: int | None,
                  attempt: int, retries_left: int) -> Any:
    return run_job(func, args, kwargs, shop_id, attempt, retries_left=retries_left)


class EmbeddedRunner:
    """A daemon thread running outbox jobs, due syncs and the add-ons' cron jobs in-process
    (no Redis needed).

    Every web process starts one, but only the holder of the ``job-runner`` lease (a row in
    the database, renewed every pass, taken over once ``lease_ttl`` seconds stale) runs
    anything: one runner per installation, whatever the number of processes. Its cron clock
    is in the database too, so a restart or a takeover neither repeats nor skips a slot.
    """

    LEASE = "job-runner"

    def __init__(self, app: Flask, poll: float = 2.0, tick: float = 30.0, lease_ttl: float = 30.0) -> None:
        self.app = app
        self.poll = poll
        self.tick_every = tick
        self.lease_ttl = lease_ttl
        self.ident = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.cron_clock = DbClock()
        self.leader = False
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="oms-jobs", daemon=True)
        self._last_tick = float("-inf")
        self._ready = False

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    def _tables_ready(self) -> bool:
        """False while the database has no tables yet (``oms create-db`` runs in this very
        process)."""
        from sqlalchemy import inspect

        return inspect(db.engine).has_table(JobLease.__tablename__)

    def _take_over(self) -> None:
        """Rows left "running" by the previous holder (a crashed process) run again."""
        db.session.execute(update(OutboxJob).where(OutboxJob.state == "running").values(state="pending"))
        db.session.commit()

    def tick(self, now: datetime | None = None) -> None:
        """Queue what is due: shops' periodic syncs and the add-ons' cron jobs."""
        from .cron import enqueue_due

        now = now or datetime.now(timezone.utc)
        schedule_due_syncs(now)
        enqueue_due(self.app, now, self.cron_clock)
        db.session.commit()

    def step(self, now: datetime | None = None) -> int:
        """One pass: hold the lease, then tick when due and run what is pending. Returns the
        jobs run (0 when another process holds the lease)."""
        was_leader = self.leader
        self.leader = take_lease(self.LEASE, self.ident, self.lease_ttl, now=now)
        if not self.leader:
            return 0
        if not was_leader:
            log.info("embedded job runner: this process (%s) runs the jobs", self.ident)
            self._take_over()
        if time.monotonic() - self._last_tick > self.tick_every:
            self._last_tick = time.monotonic()
            self.tick(now)
        ran = 0
        while n := run_pending(now=now):
            ran += n
            if not take_lease(self.LEASE, self.ident, self.lease_ttl, now=now):  # long passes renew it
                self.leader = False
                break
        return ran

    def _loop(self) -> None:
        while not self._stop.is_set():
            with self.app.app_context():
                try:
                    if not self._ready:
                        self._ready = self._tables_ready()
                    if self._ready:
                        self.step()
                except Exception:
                    log.exception("embedded job runner")
                    db.session.rollback()
                finally:
                    db.session.remove()
            self._wake.wait(self.poll)
            self._wake.clear()
        with self.app.app_context():
            try:
                if self.leader:
                    release_lease(self.LEASE, self.ident)
            except Exception:
                log.warning("job runner lease not released (it expires by itself)", exc_info=True)
            finally:
                db.session.remove()


# ----------------------------------------------------------------------------- scheduling
def sync_job_id(shop: Shop) -> str:
    return f"{shop.addon}-sync-{shop.id}"


def enqueue_shop_sync(shop: Shop) -> OutboxJob | None:
    """Queue the shop's channel sync (never twice at once: unique job id per shop)."""
    from .addons import registry

    func = registry().call_one(shop.addon, "channel_sync_job", shop=shop)
    if not func:
        return None
    return enqueue(func, shop.id, job_id=sync_job_id(shop), unique=True, shop_id=shop.id)


def schedule_due_syncs(now: datetime | None = None) -> int:
    """Queue every shop whose periodic sync is due and move its ``next_sync_at`` on.

    The schedule lives in the database, so a restarted scheduler neither repeats nor skips a
    sync; with several schedulers, the row lock (PostgreSQL) lets one take each shop. A failed
    sync never ends the chain: the shop stays scheduled until the merchant sets it to manual
    or disconnects it (in error, every ``ERROR_SYNC_BACKOFF`` intervals).
    """
    now = now or utcnow()
    stmt = (select(Shop).where(Shop.sync_mode != SyncMode.MANUAL,
                               Shop.status.in_([ConnectionStatus.CONNECTED, ConnectionStatus.ERROR]),
                               (Shop.next_sync_at.is_(None)) | (Shop.next_sync_at <= now)))
    if db.engine.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    count = 0
    for shop in db.session.scalars(stmt).all():
        if enqueue_shop_sync(shop) is not None:
            count += 1
        # a shop in error keeps being tried (the remote may be back), less often
        slower = ERROR_SYNC_BACKOFF if shop.status == ConnectionStatus.ERROR else 1
        shop.next_sync_at = now + timedelta(seconds=SYNC_INTERVALS[shop.sync_mode] * slower)
    return count


def connection_test_job(shop_id: int, addon: str) -> str:
    """Run an add-on's connection test in the background (raises on failure, so it retries)."""
    from .services import test_connection

    shop = db.session.get(Shop, shop_id)
    if shop is None:
        return "shop gone"
    result = test_connection(shop, addon)
    db.session.commit()
    if not result.ok:
        raise RuntimeError(result.message)
    return result.message
