"""``oms scheduler``: one process (elected through a Redis lock) that enqueues due shop
syncs, the add-ons' recurring jobs, relays the outbox and requeues abandoned jobs.

State lives outside the process (shops' ``next_sync_at`` in the database, cron jobs' last
run in Redis), so a restarted scheduler neither repeats nor skips work, and a second
scheduler started by mistake waits for the lock instead of doubling every job.

The loop never ends on a Redis or database error: it logs, rolls its session back, waits
(1 s, doubling up to ``max_backoff``, 5 s) and carries on, so an outage of either delays work
but never stops it. The outbox is relayed every ``relay_every`` seconds (a job id that was
running at the last pass goes out as soon as that run is over); due syncs, cron jobs and
abandoned jobs are looked at every ``interval`` seconds.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Callable

from flask import Flask, current_app

from . import cron
from .extensions import db
from .syncs import schedule_due_syncs
from .rqueue import redis_connection, relay_outbox, requeue_abandoned

log = logging.getLogger(__name__)

#: the leader lock, one per queue prefix: deployments sharing a Redis under different
#: ``RQ_QUEUE_PREFIX`` values each have their own scheduler
LOCK_KEY = "{prefix}:scheduler:lock"


def lock_key() -> str:
    return LOCK_KEY.format(prefix=current_app.config.get("RQ_QUEUE_PREFIX", "oms"))
#: renew the lock only if this scheduler still holds it, in one step (a GET then an EXPIRE
#: could extend a lock another scheduler took in between)
_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('expire', KEYS[1], ARGV[2]) end return 0"
#: release it only if this scheduler holds it, in one step too
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class Scheduler:
    def __init__(self, app: Flask, lock_ttl: int = 60) -> None:
        self.app = app
        self.lock_ttl = lock_ttl
        self.ident = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.errors = 0
        self._stopping = threading.Event()

    def acquire(self) -> bool:
        """Take or renew the leader lock; False while another scheduler holds it."""
        r = redis_connection()
        key = lock_key()
        if r.set(key, self.ident, nx=True, ex=self.lock_ttl):
            return True
        return bool(r.eval(_RENEW, 1, key, self.ident, self.lock_ttl))

    def release(self) -> None:
        redis_connection().eval(_RELEASE, 1, lock_key(), self.ident)

    def tick(self, now: datetime | None = None) -> dict[str, int]:
        now = now or datetime.now(timezone.utc)
        syncs = schedule_due_syncs(now)
        crons = cron.enqueue_due(self.app, now, cron.RedisClock(redis_connection(), self.app.config.get("RQ_QUEUE_PREFIX", "oms")))
        db.session.commit()  # the after-commit hook relays what was enqueued
        relayed = relay_outbox()  # and anything an earlier crash or outage left behind
        abandoned = requeue_abandoned()
        return {"syncs": syncs, "cron": crons, "relayed": relayed, "abandoned": abandoned}

    def step(self, last_tick: float, interval: float) -> float:
        """One pass: the full tick when due, else a relay. Returns when the last tick ran."""
        if not self.acquire():
            log.info("another scheduler holds the lock; waiting")
            return last_tick
        if time.monotonic() - last_tick >= interval:
            stats = self.tick()
            last_tick = time.monotonic()
        else:
            stats = {"relayed": relay_outbox()}
        if any(stats.values()):
            log.info("scheduler: %s", stats)
        return last_tick

    def stop(self, *_signal) -> None:
        """End the loop after the pass under way (a signal handler: it only sets a flag)."""
        self._stopping.set()

    def run(self, interval: float = 15.0, once: bool = False, relay_every: float = 1.0,
            max_backoff: float = 5.0, sleep: Callable[[float], None] | None = None) -> None:
        """Loop until stopped. SIGTERM (systemd's stop, a deploy) ends it after the pass under
        way and releases the lock, so the next scheduler takes over at once, not after
        ``lock_ttl``."""
        wait_for = sleep or self._stopping.wait
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self.stop)
        with self.app.app_context():
            last_tick = float("-inf")
            try:
                while not self._stopping.is_set():
                    try:
                        last_tick = self.step(last_tick, interval)
                        self.errors = 0
                    except Exception:
                        self.errors += 1
                        wait = min(max_backoff, 2.0 ** (self.errors - 1))
                        log.exception("scheduler pass failed (Redis or database); again in %.0f s", wait)
                        _reset_session()
                        if once:
                            raise
                        wait_for(wait)
                        continue
                    finally:
                        _reset_session()
                    if once:
                        return
                    wait_for(relay_every)
            finally:
                try:
                    self.release()
                except Exception:  # Redis gone at exit: the lock expires by itself
                    log.warning("scheduler lock not released", exc_info=True)


def _reset_session() -> None:
    try:
        db.session.rollback()
    finally:
        db.session.remove()
