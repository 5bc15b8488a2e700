"""What the benchmarks on the production stack share: the installation started and stopped
(:func:`production`), its idle check, the memory of its processes (from ``/proc``) and the
machine's load, printed beside the figures."""
from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def production(prefix: str, stores: list[Any], *, workers: int = 2, web: list[str] | None = None,
               serve: bool = True, logs: str | None = None) -> Iterator[tuple[Any, str, Any]]:
    """PostgreSQL (a database of its own), a private redis-server, ``oms serve`` (or the
    ``web`` program taking the same ``--bind``; none without ``serve``), ``workers`` ``oms
    worker`` and ``oms scheduler``, ready. Yields (the stack, the web root, an app of this
    process on the installation); everything stopped and the ``stores`` closed afterwards,
    the processes' logs printed on an error (kept in the folder ``logs`` names)."""
    from benchmarks.common import PG_URL
    from tests.proc_helpers import PrivateRedis
    from tests.stack_helpers import Stack, free_port, local_app, pg_database, stack_env, wait_status

    with tempfile.TemporaryDirectory(prefix=f"oms-{prefix}-") as tmp, pg_database(PG_URL, f"oms_bench_{prefix}") as url:
        redis_server = PrivateRedis(Path(tmp) / "redis")
        redis_server.start()
        log_dir = Path(logs or tmp)
        log_dir.mkdir(parents=True, exist_ok=True)
        stack = Stack(stack_env(url, redis_server.url), log_dir)
        try:
            stack.create_db()
            root = stack.serve(free_port(), program=web) if serve else ""
            for n in range(1, workers + 1):
                stack.start(f"worker-{n}" if workers > 1 else "worker", ["worker"])
            stack.start("scheduler", ["scheduler"])
            if serve:
                wait_status(f"{root}/healthz/ready", 200)
            yield stack, root, local_app(stack.env)
        except BaseException:
            print(stack.logs())
            raise
        finally:
            stack.stop()
            for store in stores:
                store.close()
            redis_server.stop()


def exited_rows(stack) -> list[tuple[str, str, str]]:
    """A row naming the installation's processes that exited before the end, if any."""
    exited = [label for label in stack.procs if not stack.running(label)]
    return [("processes that exited", ", ".join(exited), "none")] if exited else []


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
