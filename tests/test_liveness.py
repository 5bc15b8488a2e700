"""A pooled PostgreSQL connection the server closed is replaced, not used (core.liveness),
and a connection back from the pool a moment ago is reused without a ping."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import event, text

from core import liveness
from core.extensions import db

pytestmark = pytest.mark.postgres


@pytest.fixture
def backend():
    return "postgresql"  # SQLite has no server to hang up


def _backend_pid() -> int:
    pid = db.session.scalar(text("SELECT pg_backend_pid()"))
    db.session.commit()
    return pid


def _terminate(pid: int) -> None:
    admin = sa.create_engine(db.engine.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        # the backend is gone once it has left pg_stat_activity
        for _ in range(200):
            if not conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}):
                break
            conn.execute(text("SELECT pg_sleep(0.01)"))
    admin.dispose()


def test_the_default_pool_does_not_ping_each_checkout(app):
    assert not db.engine.pool._pre_ping
    assert event.contains(db.engine, "checkout", liveness._checkout)


def test_a_connection_the_server_closed_is_replaced_not_used(app):
    first = _backend_pid()
    _terminate(first)
    assert _backend_pid() != first  # no error: the pool opened a fresh connection


def test_a_long_idle_connection_is_pinged(app, monkeypatch):
    _backend_pid()
    monkeypatch.setattr(liveness, "PING_AFTER", 0.0)
    raw: list = []
    event.listen(db.engine, "checkout", lambda dbapi, *_: raw.append(dbapi))
    pings = []
    real_ping = liveness._ping
    monkeypatch.setattr(liveness, "_ping", lambda c: (pings.append(c), real_ping(c)))
    _backend_pid()
    assert pings and pings[0] is raw[0]


def test_a_live_idle_connection_is_reused(app):
    first = _backend_pid()
    record = db.engine.raw_connection()
    try:
        assert not liveness.hung_up(record.dbapi_connection)
    finally:
        record.close()
    assert _backend_pid() == first
