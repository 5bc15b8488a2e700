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
import re
import time
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any, Callable

from flask import current_app, has_app_context
from sqlalchemy import delete, inspect, select, update
from sqlalchemy.orm import Session

from . import i18n, wording
from .extensions import db
from .rqueue import redis_connection, relay_outbox, rq_queue
from .models import SYNC_INTERVALS, JobLease, OutboxJob, Shop, SyncLog, SyncStatus, SyncMode, ConnectionStatus, utcnow

log = logging.getLogger(__name__)

DEFAULT_INTERVALS = (30, 120, 600)
_SESSION_FLAG = "oms_outbox"


# ----------------------------------------------------------------------------- enqueue
_JOB_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def enqueue(func: str, *args: Any, job_id: str | None = None, unique: bool = False,
            shop_id: int | None = None, queue: str = "default", retries: int = 3,
            intervals: tuple[int, ...] = DEFAULT_INTERVALS, delay: float = 0, checked: bool = False,
            **kwargs: Any) -> OutboxJob:
    """Queue ``func`` (a dotted path to a module-level function) to run after commit.

    ``job_id`` with ``unique=True`` makes a second enqueue of the same id a no-op while the
    first is queued or running. RQ takes letters, digits, ``_`` and ``-`` in job ids: any
    other character becomes ``-``. ``checked=True``: the caller has just found, in this
    transaction, that no row of that id waits (one statement less on a hot path).
    """
    if "." not in func:
        raise ValueError("enqueue a job by its dotted path, e.g. 'addons.shopify.jobs.sync_orders'")
    if job_id:
        job_id = _JOB_ID_UNSAFE.sub("-", job_id)
    if unique and job_id and not checked:
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
    db.session.info.setdefault(_SESSION_FLAG, []).append(row)
    return row


def relay_after_commit(session: Session) -> None:
    """Commit pipeline, after commit: the jobs this transaction queued go to RQ (or wake the
    embedded runner)."""
    if session.in_nested_transaction():  # a savepoint released: the transaction goes on
        return
    rows = session.info.pop(_SESSION_FLAG, None)
    if not rows or not has_app_context():
        return
    app = current_app._get_current_object()
    mode = app.config["JOBS_MODE"]
    if mode == "rq":
        # this transaction's own rows (their ids, read without a query; a row rolled back
        # with a savepoint has none): the scheduler's pass relays whatever else waits
        ids = [state.identity[0] for state in map(inspect, rows) if state.identity]
        try:
            relay_outbox(ids=ids)
        except Exception:  # Redis down: the rows stay, the next relay pass sends them
            log.warning("outbox relay failed; will retry", exc_info=True)
    elif mode == "thread":
        runner = app.extensions.get("oms_runner")
        if runner is not None:
            runner.wake()


def drop_after_rollback(session: Session) -> None:
    """Commit pipeline, after rollback: the rolled-back jobs are gone, nothing to relay."""
    if not session.in_nested_transaction():
        session.info.pop(_SESSION_FLAG, None)


def forget_transaction_state(session: Session) -> None:
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
def _resolve(path: str) -> Callable[..., Any]:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


_RUNNING_ENTRY: ContextVar[int | None] = ContextVar("oms_running_sync_log", default=None)
#: the running job: (func, args, kwargs, shop id, RQ id, monotonic deadline or None)
_RUNNING_JOB: ContextVar[tuple[str, list, dict, int | None, str | None, float | None] | None] = ContextVar(
    "oms_running_job", default=None)
#: seconds before its time limit that a long job stops to go on in its next run
TIME_MARGIN = 30.0


def run_job(func: str, args: list[Any], kwargs: dict[str, Any], shop_id: int | None = None,
            attempt: int | None = None, retries_left: int | None = None) -> Any:
    """Run one job in the app's context (``oms worker`` or the embedded runner gives each job
    one) with a sync-log entry; exceptions escape."""
    if not has_app_context():
        raise RuntimeError("jobs run inside the app: start workers with `oms worker`, not a bare `rq worker`")
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
    running = _RUNNING_ENTRY.set(entry_id)
    limit = getattr(job, "timeout", None) if job is not None else None  # RQ's: 180 s unless set
    current = _RUNNING_JOB.set((func, list(args), dict(kwargs), shop_id, job.id if job is not None else None,
                                time.monotonic() + limit if limit and limit > 0 else None))
    try:
        result = _resolve(func)(*args, **kwargs)
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        final = not retries_left
        _finish(entry_id, SyncStatus.FAILED if final else SyncStatus.RETRYING, error=_describe(exc))
        raise
    finally:
        _RUNNING_JOB.reset(current)
        _RUNNING_ENTRY.reset(running)
    _finish(entry_id, SyncStatus.OK, result=_result_text(result))
    return result


def out_of_time(margin: float = TIME_MARGIN) -> bool:
    """Whether the running job is within ``margin`` seconds of its time limit (RQ stops a job
    there): a long import then stops after the page it committed and calls
    :func:`run_again`, rather than being killed and retried after a back-off. False outside
    a job or without a limit (the embedded runner)."""
    running = _RUNNING_JOB.get()
    deadline = running[5] if running else None
    return deadline is not None and time.monotonic() > deadline - margin


def run_again() -> OutboxJob | None:
    """Queue the running job again, same arguments and id, to go on where it stopped: it waits
    in the outbox while this run ends and is sent by the scheduler's next pass (every second)."""
    running = _RUNNING_JOB.get()
    if running is None:
        return None
    func, args, kwargs, shop_id, job_id, _deadline = running
    return enqueue(func, *args, job_id=job_id, unique=job_id is not None, shop_id=shop_id, **kwargs)


def running_entry() -> int | None:
    """The sync-log entry of the job running in this context (None outside a job)."""
    return _RUNNING_ENTRY.get()


def _addon_of(func: str) -> str | None:
    parts = func.split(".")
    return parts[1] if parts[0] == "addons" and len(parts) > 2 else None


def _describe(exc: BaseException) -> str:
    message = i18n.message_of(exc)
    if message is not None:  # kept translatable: the sync log shows it in the reader's language
        return i18n.prefixed(exc.__class__.__name__, message)
    text = f"{exc.__class__.__name__}: {exc}"
    return text[:4000]


def _result_text(result: Any) -> str | None:
    if result is None or isinstance(result, i18n.Deferred):
        return result
    text = str(result)  # a job's result object may word itself as a translatable message
    return text if isinstance(text, i18n.Deferred) else text[:2000]


def _finish(entry_id: int, status: SyncStatus, *, error: str | None = None, result: str | None = None) -> None:
    db.session.execute(update(SyncLog).where(SyncLog.id == entry_id).values(
        status=status, error=error, result=result, finished_at=utcnow()))
    if error:
        shop_id = db.session.scalar(select(SyncLog.shop_id).where(SyncLog.id == entry_id))
        if shop_id:  # the shop shows the sentence; the log keeps the technical detail
            db.session.execute(update(Shop).where(Shop.id == shop_id).values(last_error=wording.plain(error)))
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
