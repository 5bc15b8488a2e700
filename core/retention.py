"""How long the job history is kept, and the nightly purge (``core.retention.purge``).

Ages in days, set with ``RETENTION_DAYS`` (a dict merged over :data:`DEFAULTS`):

* ``sync_log_ok`` (30): successful sync-log entries;
* ``sync_log_error`` (90): failed, interrupted or retried entries;
* ``outbox_failed`` (7): outbox rows the embedded runner gave up on (done rows are deleted
  as soon as they ran);
* ``webhook_body`` (7) and ``webhook_id`` (30): a processed delivery's body is emptied after
  ``webhook_body`` days, its delivery id kept for ``webhook_id`` days so that a redelivery
  is still recognised (the kit's ``webhook_delivery`` table here; add-ons with their own
  inbox table read the same ages);
* ``stock_movement`` and ``order_event`` (``None``: kept). They are the stock ledger and the
  order history a merchant reads to explain a figure; an installation that wants them
  trimmed sets an age.

Rows go in batches of ``RETENTION_BATCH`` (default 1000), each batch its own transaction,
so the purge never holds long locks on tables the web pages and jobs write.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Text, cast, delete, select, update

from .connectors.models import WebhookDelivery
from .extensions import db
from .models import OrderEvent, OutboxJob, StockMovement, SyncLog, SyncStatus, utcnow

DEFAULTS: dict[str, int | None] = {
    "sync_log_ok": 30,
    "sync_log_error": 90,
    "outbox_failed": 7,
    "webhook_body": 7,
    "webhook_id": 30,
    "stock_movement": None,
    "order_event": None,
}


def days(name: str) -> int | None:
    """The configured age (days) of ``name``; None keeps those rows."""
    configured = current_app.config.get("RETENTION_DAYS") or {}
    if name not in DEFAULTS and name not in configured:
        raise KeyError(f"unknown retention setting {name!r}")
    return configured.get(name, DEFAULTS.get(name))


def cutoff(name: str, now: datetime | None = None) -> datetime | None:
    age = days(name)
    return None if age is None else (now or utcnow()) - timedelta(days=age)


def purge_batches(model: Any, *conditions: Any, batch: int | None = None) -> int:
    """Delete the rows of ``model`` matching ``conditions``, ``batch`` at a time, committing
    each batch; returns how many went."""
    batch = batch or int(current_app.config.get("RETENTION_BATCH") or 1000)
    key = model.__mapper__.primary_key[0]
    total = 0
    while True:
        ids = db.session.scalars(select(key).where(*conditions).order_by(key).limit(batch)).all()
        if not ids:
            return total
        db.session.execute(delete(model).where(key.in_(ids)).execution_options(synchronize_session=False))
        db.session.commit()
        total += len(ids)
        if len(ids) < batch:
            return total


def purge(now: datetime | None = None) -> dict[str, int]:
    """Cron job: delete what is older than its configured age; returns the counts."""
    now = now or utcnow()
    done: dict[str, int] = {}
    if (limit := cutoff("sync_log_ok", now)) is not None:
        done["sync_log_ok"] = purge_batches(SyncLog, SyncLog.status == SyncStatus.OK, SyncLog.started_at < limit)
    if (limit := cutoff("sync_log_error", now)) is not None:
        done["sync_log_error"] = purge_batches(
            SyncLog, SyncLog.status.in_([SyncStatus.FAILED, SyncStatus.RETRYING, SyncStatus.INTERRUPTED]),
            SyncLog.started_at < limit)
    if (limit := cutoff("outbox_failed", now)) is not None:
        done["outbox_failed"] = purge_batches(OutboxJob, OutboxJob.state == "failed", OutboxJob.created_at < limit)
    if (limit := cutoff("stock_movement", now)) is not None:
        done["stock_movement"] = purge_batches(StockMovement, StockMovement.at < limit)
    if (limit := cutoff("order_event", now)) is not None:
        done["order_event"] = purge_batches(OrderEvent, OrderEvent.at < limit)
    # the kit's inbox table: processed deliveries forgotten, then the bodies of the others
    # emptied; a delivery still waiting is never touched (it has not been applied yet)
    if (limit := cutoff("webhook_id", now)) is not None:
        done["webhook_delivery"] = purge_batches(WebhookDelivery, WebhookDelivery.processed_at.is_not(None),
                                                 WebhookDelivery.received_at < limit)
    if (limit := cutoff("webhook_body", now)) is not None:
        done["webhook_body"] = db.session.execute(
            update(WebhookDelivery).where(WebhookDelivery.processed_at.is_not(None),
                                          WebhookDelivery.received_at < limit,
                                          cast(WebhookDelivery.payload, Text) != "{}")
            .values(payload={}).execution_options(synchronize_session=False)).rowcount or 0
        db.session.commit()
    return done
