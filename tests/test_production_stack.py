"""The README's production set-up as real processes: `oms serve` (gunicorn), one `oms worker`
and `oms scheduler` against PostgreSQL and Redis; the readiness probe up and with a wrong DB."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa

from core.testing import PG_URL

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
OMS = str(Path(sys.executable).with_name("oms"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def _wait(url: str, code: int, deadline: float = 60) -> dict:
    end, last = time.monotonic() + deadline, None
    while time.monotonic() < end:
        try:
            status, body = _get(url)
            last = (status, body)
            if status == code:
                return body
        except (urllib.error.URLError, ConnectionError, OSError) as exc:
            last = exc
        time.sleep(0.5)
    raise AssertionError(f"{url} never answered {code}: {last}")


@pytest.fixture
def stack_env(tmp_path):
    name = f"oms_stack_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    db_url = sa.engine.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    redis_db = int(os.environ.get("TEST_REDIS_DB_BASE", "1")) + 9
    redis_url = f"redis://127.0.0.1:6379/{redis_db}"
    env = dict(os.environ, DATABASE_URL=db_url, REDIS_URL=redis_url, OMS_SANDBOXES="1",
               OMS_QUEUE_PREFIX=f"stack{uuid.uuid4().hex[:6]}", OMS_WEB_WORKERS="2", OMS_WEB_THREADS="2")
    try:
        yield env
    finally:
        redis.Redis.from_url(redis_url).flushdb()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_serve_worker_scheduler_and_readiness(stack_env, tmp_path):
    subprocess.run([OMS, "create-db"], env=stack_env, check=True, timeout=120, capture_output=True)
    port, bad_port = _free_port(), _free_port()
    procs: dict[str, tuple[subprocess.Popen, Path]] = {}

    def start(label, args, env):
        log = tmp_path / f"{label}.log"
        procs[label] = (subprocess.Popen([OMS, *args], env=env, stdout=log.open("w"),
                                         stderr=subprocess.STDOUT), log)

    try:
        start("web", ["serve", "--bind", f"127.0.0.1:{port}"], stack_env)
        start("worker", ["worker"], stack_env)
        start("scheduler", ["scheduler", "--interval", "2"], stack_env)
        body = _wait(f"http://127.0.0.1:{port}/healthz/ready", 200)
        assert body["checks"] == {"database": "ok", "migrations": "ok", "redis": "ok"}
        assert _get(f"http://127.0.0.1:{port}/healthz/live")[0] == 200
        assert _get(f"http://127.0.0.1:{port}/healthz")[0] == 200

        bad = dict(stack_env, DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:5432/oms_no_such_db")
        start("web-bad-db", ["serve", "--bind", f"127.0.0.1:{bad_port}", "--workers", "1"], bad)
        body = _wait(f"http://127.0.0.1:{bad_port}/healthz/ready", 503)
        assert "database" in body["not_ready"]
        assert "oms_no_such_db" not in json.dumps(body)
        for label in ("worker", "scheduler"):
            assert procs[label][0].poll() is None, f"{label} exited"
    except BaseException:
        for label, (_, log) in procs.items():
            print(f"----- {label}\n{log.read_text()[-4000:]}")
        raise
    finally:
        for proc, _ in procs.values():
            proc.terminate()
        for proc, _ in procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
