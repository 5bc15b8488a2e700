"""The embedded default (SQLite, threads): a hook's savepoint that reads then writes while
another connection commits waits its turn instead of failing with "database is locked"."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from core.extensions import db


@pytest.fixture
def backend():
    return "sqlite"


def test_a_savepoint_that_reads_then_writes_waits_for_the_other_writer(app):
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE lock_probe (who TEXT)"))
    errors: list[Exception] = []
    in_savepoint = threading.Event()
    engine = db.engine

    def other_writer():
        in_savepoint.wait(5)
        try:
            with engine.begin() as conn:  # commits while the first one is inside its savepoint
                conn.execute(text("INSERT INTO lock_probe VALUES ('other')"))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    thread = threading.Thread(target=other_writer)
    thread.start()
    with db.engine.connect() as conn:
        with conn.begin():
            with conn.begin_nested():
                conn.execute(text("SELECT count(*) FROM lock_probe")).scalar()
                in_savepoint.set()
                time.sleep(0.3)  # the other connection tries to commit now
                conn.execute(text("INSERT INTO lock_probe VALUES ('hook')"))
    thread.join(15)
    assert not errors
    with db.engine.connect() as conn:
        assert sorted(r[0] for r in conn.execute(text("SELECT who FROM lock_probe"))) == ["hook", "other"]
