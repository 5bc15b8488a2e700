"""The embedded job runner: outbox jobs, due syncs and the add-ons' cron jobs run in-process
when there is no Redis (``make run``), one runner per installation."""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from datetime import datetime, timezone

from flask import Flask
from sqlalchemy import inspect, update

from .cron import enqueue_due
from .extensions import db
from .jobs import run_pending
from .lease import DbClock, release_lease, take_lease
from .models import JobLease, OutboxJob
from .syncs import schedule_due_syncs

log = logging.getLogger(__name__)


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
        return inspect(db.engine).has_table(JobLease.__tablename__)

    def _take_over(self) -> None:
        """Rows left "running" by the previous holder (a crashed process) run again."""
        db.session.execute(update(OutboxJob).where(OutboxJob.state == "running").values(state="pending"))
        db.session.commit()

    def tick(self, now: datetime | None = None) -> None:
        """Queue what is due: shops' periodic syncs and the add-ons' cron jobs."""
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
