"""When the add-ons' recurring jobs (``register_cron_jobs``) are due.

The clock that remembers each job's last run is Redis for ``oms scheduler`` (shared by the
schedulers of every machine, kept across restarts) and the database for the embedded runner
(``core.lease.DbClock``: shared by the web processes, kept across restarts; memory only in
tests). Either way a job runs once per interval or cron slot, enqueued under a unique job id
so a slow run is never doubled.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Protocol

from croniter import croniter
from flask import Flask

from .jobs import enqueue
from .types import CronJob

#: the hash of last runs, one per queue prefix (as the scheduler's lock)
REDIS_KEY = "{prefix}:scheduler:cron"


class CronClock(Protocol):
    def last(self, key: str) -> float | None: ...

    def mark(self, key: str, at: float) -> None: ...


class MemoryClock:
    """Last runs in this process only."""

    def __init__(self) -> None:
        self.runs: dict[str, float] = {}

    def last(self, key: str) -> float | None:
        return self.runs.get(key)

    def mark(self, key: str, at: float) -> None:
        self.runs[key] = at


class RedisClock:
    """Last runs in a Redis hash shared by every scheduler of one queue prefix."""

    def __init__(self, redis, prefix: str = "oms") -> None:
        self.redis = redis
        self.key = REDIS_KEY.format(prefix=prefix)

    def last(self, key: str) -> float | None:
        raw = self.redis.hget(self.key, key)
        return float(raw) if raw else None

    def mark(self, key: str, at: float) -> None:
        self.redis.hset(self.key, key, at)


def cron_jobs(app: Flask) -> list[CronJob]:
    found = app.extensions["oms_addons"].pm.hook.register_cron_jobs()
    return [job for jobs in found for job in (jobs or [])]


def due(jobs: list[CronJob], now: datetime, clock: CronClock) -> list[CronJob]:
    """The jobs due at ``now``, marked as run. An interval job is due at first sight; a cron
    expression starts counting from its first sight, so a restart never fires a missed slot
    twice."""
    found = []
    for job in jobs:
        key = f"{job.func}:{job.interval or job.cron}"
        last = clock.last(key)
        if job.interval:
            is_due = last is None or now.timestamp() - last >= job.interval
        elif job.cron:
            if last is None:
                clock.mark(key, now.timestamp())
                continue
            is_due = croniter(job.cron, datetime.fromtimestamp(last, timezone.utc)).get_next(datetime) <= now
        else:
            is_due = False
        if is_due:
            clock.mark(key, now.timestamp())
            found.append(job)
    return found


def enqueue_due(app: Flask, now: datetime, clock: CronClock) -> int:
    """Queue (through the outbox) the cron jobs due at ``now``; the caller commits."""
    jobs = due(cron_jobs(app), now, clock)
    for job in jobs:
        enqueue(job.func, *job.args, queue=job.queue, job_id=f"cron-{job.func}", unique=True)
    return len(jobs)
