"""Shared set-up for the benchmarks: a throw-away PostgreSQL database and an app on it."""
from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import sqlalchemy as sa

PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BENCH_ADDONS = {"bench_channel": "benchmarks.bench_channel.hooks"}


@contextlib.contextmanager
def pg_database(prefix: str) -> Iterator[str]:
    name = f"oms_bench_{prefix}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def make_app(url: str, **extra):
    from core import create_app

    return create_app({"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
                       "ADDONS": list(BENCH_ADDONS), "ADDON_MODULES": BENCH_ADDONS, "JOBS_MODE": "manual",
                       "REDIS_URL": None, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                       # the emulators run on this machine's loopback
                       "OUTBOUND_ALLOW": ["127.0.0.1", "localhost"], **extra})


def setup_schema(app) -> None:
    from core.extensions import db
    from core.models import Plan

    with app.app_context():
        db.create_all()
        for code, limit in (("free", 100), ("business", None)):
            db.session.add(Plan(code=code, name=code, monthly_order_limit=limit))
        db.session.commit()
