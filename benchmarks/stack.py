"""What the benchmarks on the production stack share: the installation's idle check, the
memory of its processes (from ``/proc``) and the machine's load, printed beside the figures."""
from __future__ import annotations

import os
import time
from pathlib import Path


def busy(app, shop_id: int, expected: int) -> str:
    """"" once every order is imported, the outbox empty and nothing queued, scheduled (in
    the next 10 s) or running in RQ; else what is still under way."""
    from rq.registry import ScheduledJobRegistry, StartedJobRegistry
    from sqlalchemy import func, select

    from core.extensions import db
    from core.models import Order, OutboxJob
    from core.rqueue import rq_queue

    with app.app_context():
        imported = db.session.scalar(select(func.count()).select_from(Order).where(Order.shop_id == shop_id))
        waiting = db.session.scalar(select(func.count()).select_from(OutboxJob).where(OutboxJob.state == "pending"))
        q = rq_queue()
        soon = len(q.connection.zrangebyscore(ScheduledJobRegistry(queue=q).key, 0, time.time() + 10))
        running = q.count + soon + StartedJobRegistry(queue=q).count
        db.session.remove()
    if imported == expected and waiting == 0 and running == 0:
        return ""
    return f"{imported}/{expected} orders, {waiting} in the outbox, {running} jobs in RQ"


def wait_idle(app, shop_id: int, expected: int, timeout: float, calm: float = 2.0) -> tuple[float | None, str]:
    """Wait until :func:`busy` has said idle for ``calm`` seconds in a row. Returns (seconds
    from the call until it first said idle, or None after ``timeout``; the last state seen)."""
    started = time.monotonic()
    idle_since, state = None, ""
    while time.monotonic() - started < timeout:
        state = busy(app, shop_id, expected)
        if not state:
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since >= calm:
                return idle_since - started, ""
        else:
            idle_since = None
        time.sleep(0.25)
    return None, state


def memory(pid: int) -> tuple[float, float]:
    """(resident set now, its peak) of a process, in MiB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024
    return found["VmRSS"], found["VmHWM"]


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (gunicorn's workers under its master)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rpartition(")")[2].split()[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def load_row() -> tuple[str, str, str]:
    one, five, fifteen = os.getloadavg()
    return ("machine load average (1, 5, 15 min) at the end, 2 cores shared",
            f"{one:.1f}, {five:.1f}, {fifteen:.1f}", "-")
