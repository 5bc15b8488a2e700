"""Jobs: the outbox, leases, sync logs and rate buckets."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import StrEnum, TranslatableText, UTCDateTime, _enum, utcnow


class SyncStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    OK = "ok"
    RETRYING = "retrying"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # its worker stopped mid-job; RQ runs it again


class SyncLog(db.Model):
    """What a background job did for a shop: visible per shop, with a retry button."""

    __table_args__ = (Index("ix_sync_log_shop_started", "shop_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"))
    addon: Mapped[str | None] = mapped_column(String(64))
    job_id: Mapped[str | None] = mapped_column(String(200))
    func: Mapped[str] = mapped_column(String(200))
    args: Mapped[list[Any]] = mapped_column(JSON, default=list)
    kwargs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[SyncStatus] = mapped_column(_enum(SyncStatus), default=SyncStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[str | None] = mapped_column(TranslatableText)
    error: Mapped[str | None] = mapped_column(TranslatableText)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: a long import's progress (``core.syncs.Progress``): items done out of the total, what
    #: they are (``core.syncs.UNITS``) and the items refused, ``[{"ref": …, "message": …}]``
    progress_done: Mapped[int | None] = mapped_column(Integer)
    progress_total: Mapped[int | None] = mapped_column(Integer)
    progress_unit: Mapped[str | None] = mapped_column(String(32))
    progress_errors: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)


class OutboxJob(db.Model):
    """A job written in the same transaction as the data it follows (transactional outbox).

    A rollback removes it with the data; after commit it is relayed to RQ (or run in-process
    on the embedded default). A crash between commit and relay leaves the row, which the next
    relay pass picks up, so committed data never loses its job.
    """

    __table_args__ = (Index("ix_outbox_due", "state", "run_after"), Index("ix_outbox_job_id", "job_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    func: Mapped[str] = mapped_column(String(200))
    args: Mapped[list[Any]] = mapped_column(JSON, default=list)
    kwargs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    job_id: Mapped[str | None] = mapped_column(String(200))
    unique: Mapped[bool] = mapped_column(Boolean, default=False)
    queue: Mapped[str] = mapped_column(String(64), default="default")
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"))
    max_retries: Mapped[int] = mapped_column(Integer, default=3)
    intervals: Mapped[list[int]] = mapped_column(JSON, default=lambda: [30, 120, 600])
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending | running | failed
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class JobLease(db.Model):
    """A lease held by one process of the installation (the embedded job runner): renewed
    while it lives, taken over by another process once ``expires_at`` has passed."""

    __tablename__ = "job_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ClockMark(db.Model):
    """When something recurring last ran (cron jobs of the embedded runner, the nightly
    analytics pass), shared by every process and kept across restarts."""

    __tablename__ = "clock_mark"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    at: Mapped[float] = mapped_column(db.Float)


class RateBucket(db.Model):
    """A token bucket shared by every process through the database (no Redis configured)."""

    __tablename__ = "rate_bucket"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    tokens: Mapped[float] = mapped_column(db.Float)
    at: Mapped[float] = mapped_column(db.Float)
    rate: Mapped[float | None] = mapped_column(db.Float)
