"""``oms scheduler``: one process (elected through a Redis lock) that enqueues due shop
syncs, the add-ons' recurring jobs, and relays the outbox.

State lives outside the process (shops' ``next_sync_at`` in the database, cron jobs' last
run in Redis), so a restarted scheduler neither repeats nor skips work, and a second
scheduler started by mistake waits for the lock instead of doubling every job.
"""
from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from datetime import datetime, timezone

from flask import Flask

from . import cron
from .extensions import db
from .jobs import redis_connection, relay_outbox, schedule_due_syncs

log = logging.getLogger(__name__)

LOCK_KEY = "oms:scheduler:lock"


class Scheduler:
    def __init__(self, app: Flask, lock_ttl: int = 60) -> None:
        self.app = app
        self.lock_ttl = lock_ttl
        self.ident = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def acquire(self) -> bool:
        """Take or renew the leader lock; False while another scheduler holds it."""
        r = redis_connection()
        if r.set(LOCK_KEY, self.ident, nx=True, ex=self.lock_ttl):
            return True
        if (r.get(LOCK_KEY) or b"").decode() == self.ident:
            r.expire(LOCK_KEY, self.lock_ttl)
            return True
        return False

    def release(self) -> None:
        r = redis_connection()
        if (r.get(LOCK_KEY) or b"").decode() == self.ident:
            r.delete(LOCK_KEY)

    def tick(self, now: datetime | None = None) -> dict[str, int]:
        now = now or datetime.now(timezone.utc)
        syncs = schedule_due_syncs(now)
        crons = cron.enqueue_due(self.app, now, cron.RedisClock(redis_connection()))
        db.session.commit()  # the after-commit hook relays what was enqueued
        relayed = relay_outbox()  # and anything an earlier crash left behind
        return {"syncs": syncs, "cron": crons, "relayed": relayed}

    def run(self, interval: float = 15.0, once: bool = False) -> None:
        with self.app.app_context():
            try:
                while True:
                    if self.acquire():
                        stats = self.tick()
                        if any(stats.values()):
                            log.info("scheduler: %s", stats)
                    else:
                        log.info("another scheduler holds the lock; waiting")
                    db.session.remove()
                    if once:
                        return
                    time.sleep(interval)
            finally:
                self.release()
