"""Shared state of an installation without Redis, kept in its database.

* :func:`take_lease` / :func:`release_lease`: one holder at a time for a named lease (the
  embedded job runner), renewed by its holder, taken over by another process once it is
  stale. Taking and renewing are one conditional statement each, so two processes never
  both believe they hold it.
* :class:`DbClock`: the cron clock (last run of each recurring job) every process reads,
  kept across restarts.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .extensions import db
from .models import ClockMark, JobLease, utcnow


def _insert(model):
    return (pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert)(model)


def take_lease(name: str, holder: str, ttl: float, now: datetime | None = None) -> bool:
    """Take or renew ``name`` for ``ttl`` seconds; False while another live holder has it.
    Commits (the lease must be visible to the other processes at once)."""
    now = now or utcnow()
    expires = now + timedelta(seconds=ttl)
    taken = db.session.execute(
        update(JobLease).where(JobLease.name == name, (JobLease.holder == holder) | (JobLease.expires_at < now))
        .values(holder=holder, expires_at=expires).execution_options(synchronize_session=False)).rowcount
    if not taken:
        taken = db.session.execute(_insert(JobLease).values(name=name, holder=holder, expires_at=expires)
                                   .on_conflict_do_nothing(index_elements=["name"])
                                   .returning(JobLease.name)).scalar() is not None
    db.session.commit()
    return bool(taken)


def release_lease(name: str, holder: str) -> None:
    db.session.execute(delete(JobLease).where(JobLease.name == name, JobLease.holder == holder))
    db.session.commit()


def lease_holder(name: str, now: datetime | None = None) -> str | None:
    row = db.session.scalar(select(JobLease).where(JobLease.name == name))
    if row is None or row.expires_at < (now or utcnow()):
        return None
    return row.holder


class DbClock:
    """Last runs in the database (``clock_mark``), shared by every process; the caller
    commits with the jobs it enqueues, so a mark and its job are written together."""

    def last(self, key: str) -> float | None:
        return db.session.scalar(select(ClockMark.at).where(ClockMark.key == key))

    def mark(self, key: str, at: float) -> None:
        stmt = _insert(ClockMark).values(key=key, at=at)
        db.session.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"at": stmt.excluded.at}))
