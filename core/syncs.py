"""Shops' periodic channel syncs: which job a shop's sync is, and which shops are due.

The schedule lives in the database (``Shop.next_sync_at``), so a restarted scheduler or
embedded runner neither repeats nor skips a sync.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from .addons import registry
from .extensions import db
from .jobs import enqueue
from .models import SYNC_INTERVALS, ConnectionStatus, OutboxJob, Shop, SyncMode, utcnow

#: a shop in error is synced this many times less often than its mode says
ERROR_SYNC_BACKOFF = 4


def sync_job_id(shop: Shop) -> str:
    return f"{shop.addon}-sync-{shop.id}"


def enqueue_shop_sync(shop: Shop) -> OutboxJob | None:
    """Queue the shop's channel sync (never twice at once: unique job id per shop)."""
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
