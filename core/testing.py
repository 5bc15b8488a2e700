"""Pytest fixtures for OMS and its add-ons (core's and partners' alike).

Use them from a ``conftest.py`` with ``pytest_plugins = ["core.testing"]``. Every test names
the add-ons it loads (override the ``addons`` fixture); no test autoloads entry points.
Database tests run on SQLite and on the real PostgreSQL (``TEST_DATABASE_URL``); job tests use
the real Redis (``TEST_REDIS_URL``), falling back to fakeredis only outside CI. With
``CI=true``, a missing service fails the test instead of skipping it.

The emulators a test serves (``serve_wsgi``) listen on the loopback, which the outbound rules
refuse to merchant-supplied addresses: importing this plugin puts the loopback on the
operator's allow-list (``OMS_OUTBOUND_ALLOW``) unless the environment sets its own. A test of
those rules sets ``app.config["OUTBOUND_ALLOW"]`` itself.
"""
from __future__ import annotations

import contextlib
import os
import re
import threading
import uuid
from collections.abc import Iterator
from typing import Any, Callable

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from core import create_app, diagnostics
from core.extensions import db
from core.models import Organization, Role, Shop, User
from core.plans import ensure_plans

IN_CI = os.environ.get("CI") == "true"
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
RUN_ID = uuid.uuid4().hex[:8]
os.environ.setdefault("OMS_OUTBOUND_ALLOW", "127.0.0.1,localhost")


def _unavailable(what: str, exc: Exception):
    if IN_CI:
        pytest.fail(f"{what} is not reachable in CI: {exc}")
    pytest.skip(f"{what} not reachable: {exc}")


# ----------------------------------------------------------------------------- databases
@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A PostgreSQL database of this test worker, dropped at the end."""
    name = f"oms_test_{WORKER}_{RUN_ID}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - reported as skip/fail below
        admin.dispose()
        _unavailable("PostgreSQL", exc)
    url = sa.engine.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request) -> str:
    return request.param


@pytest.fixture
def database_url(backend: str, tmp_path, request) -> str:
    if backend == "postgresql":
        return request.getfixturevalue("pg_database")
    return f"sqlite:///{tmp_path / 'oms.db'}"


# ----------------------------------------------------------------------------- app
@pytest.fixture
def addons() -> list[str]:
    """Add-ons a test loads; override in a module or a test."""
    return []


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Extra configuration; override in a module or a test."""
    return {}


@pytest.fixture
def app(addons, app_config, database_url) -> Iterator:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "ADDONS": list(addons),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "JOBS_MODE": "manual",
        "REDIS_URL": None,
        "SERVER_NAME": None,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast hashing; production keeps scrypt
        **app_config,
    }
    app = create_app(config)
    with app.app_context():
        db.create_all()
        _seed_plans()
        db.session.commit()
        yield app
        db.session.rollback()
        db.session.remove()
        _wipe()
        db.engine.dispose()


def _seed_plans() -> None:
    ensure_plans()


def _wipe() -> None:
    """Empty every table (PostgreSQL keeps the schema for the next test of this worker)."""
    if db.engine.dialect.name != "postgresql":
        return
    tables = [t for t in db.metadata.sorted_tables if sa.inspect(db.engine).has_table(t.name)]
    if tables:
        with db.engine.begin() as conn:
            conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables)
                                 + " RESTART IDENTITY CASCADE"))


class FreshContextClient(FlaskClient):
    """Each request gets its own app context (fresh ``g`` and database session), as in
    production, even though the test body keeps one pushed."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = FreshContextClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# ----------------------------------------------------------------------------- tenants
@pytest.fixture
def make_org(app) -> Callable[..., Organization]:
    def make(name: str = "Boutique Test", plan: str = "free") -> Organization:
        org = Organization(name=name, plan_code=plan)
        db.session.add(org)
        db.session.commit()
        return org

    return make


@pytest.fixture
def org(make_org) -> Organization:
    return make_org()


@pytest.fixture
def make_user(app) -> Callable[..., User]:
    def make(org: Organization, role: str | Role = Role.OWNER, email: str | None = None,
             password: str = "correct horse battery") -> User:
        user = User(organization_id=org.id, email=email or f"{role}-{uuid.uuid4().hex[:6]}@example.com",
                    name=str(role), role=Role(role))
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        return user

    return make


def diagnosed(app, shop_id: int) -> list:
    """A shop's diagnostic lines (``core.diagnostics.run``) as its page computes them, read
    afresh from the database."""
    db.session.expire_all()
    with app.test_request_context():
        return diagnostics.run(db.session.get(Shop, shop_id))


def line_titled(checks: list, needle: str):
    """The first diagnostic line whose title holds ``needle`` (a clear failure otherwise)."""
    found = [c for c in checks if needle in c.title]
    assert found, f"no line like {needle!r} in {[c.title for c in checks]}"
    return found[0]


def csrf_token(client, url: str = "/login") -> str:
    page = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or \
        re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


@pytest.fixture
def login(make_user, org) -> Callable[..., User]:
    def do(client, role: str | Role = Role.OWNER, user: User | None = None,
           password: str = "correct horse battery") -> User:
        user = user or make_user(org, role, password=password)
        res = client.post("/login", data={"email": user.email, "password": password,
                                          "csrf_token": csrf_token(client)})
        assert res.status_code == 302, res.get_data(as_text=True)[:500]
        return user

    return do


@pytest.fixture
def post_form(client) -> Callable[..., Any]:
    """POST like a browser: take the CSRF token from ``page`` (default: the target) first."""

    def post(url: str, data: dict | None = None, page: str | None = None, **kw):
        token = csrf_token(client, page or url)
        return client.post(url, data={**(data or {}), "csrf_token": token}, **kw)

    return post


@pytest.fixture
def shop_factory(app, org) -> Callable[..., Shop]:
    from core.services import create_shop

    def make(addon: str, name: str | None = None, organization: Organization | None = None, **kw) -> Shop:
        shop = create_shop(organization or org, addon, name or f"{addon}-{uuid.uuid4().hex[:6]}", **kw)
        db.session.commit()
        return shop

    return make


# ----------------------------------------------------------------------------- services
@pytest.fixture
def serve_wsgi() -> Iterator[Callable[[Any], str]]:
    """Serve a WSGI app (an emulator) on a real loopback port; returns its base URL."""
    from werkzeug.serving import make_server

    servers = []

    def serve(wsgi_app) -> str:
        server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_port}"

    yield serve
    for server, thread in servers:
        server.shutdown()
        thread.join(5)


@pytest.fixture
def redis_conn():
    """The real Redis on this worker's own db number, flushed around the test.

    ``TEST_REDIS_DB_BASE`` (default 1) moves the numbers, so two checkouts can run their suites
    side by side on one Redis (databases 1-15 by default, more when Redis has more)."""
    import redis

    base = int(os.environ.get("TEST_REDIS_DB_BASE", "1"))
    worker = int(WORKER[2:]) if WORKER[2:].isdigit() else 0
    # within Redis's default 16 databases the workers wrap around; a base above them (a Redis
    # started with more ``databases``) gives each worker its own
    db_number = base + (worker % max(1, 16 - base) if base < 16 else worker)
    url = REDIS_URL.rsplit("/", 1)[0] + f"/{db_number}"
    conn = redis.Redis.from_url(url)
    try:
        conn.ping()
    except redis.exceptions.ConnectionError as exc:
        if IN_CI:
            pytest.fail(f"Redis is not reachable in CI: {exc}")
        import fakeredis

        conn = fakeredis.FakeRedis()
        url = None
    conn.flushdb()
    conn.url = url  # type: ignore[attr-defined]
    yield conn
    conn.flushdb()



# ----------------------------------------------------------------------------- e-mail
class SmtpInbox:
    """What a real SMTP server on loopback received: ``messages`` of (recipients, message)."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Any]] = []
        self.port = 0

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler
        from email import message_from_bytes, policy

        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


@pytest.fixture
def smtp_server(app) -> Iterator[SmtpInbox]:
    """A real SMTP server (aiosmtpd) on a free loopback port; the app sends its mail there."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = SmtpInbox()
    inbox.port = port
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_STARTTLS=False, SMTP_USER="",
                      MAIL_FROM="oms@boutique.example")
    yield inbox
    controller.stop()


@contextlib.contextmanager
def demo_served(directory: str | os.PathLike, addons: list[str], **config: Any) -> Iterator[tuple[Any, str]]:
    """The demo as ``make run`` serves it, on a loopback port: the add-ons' emulators mounted
    at the app's public address, the demo loaded, the embedded job runner, an SQLite file in
    ``directory``. Yields (app, base URL)."""
    from werkzeug.serving import make_server

    from core.demo import load_demo
    from core.runner import EmbeddedRunner

    holder: dict[str, Any] = {}
    server = make_server("127.0.0.1", 0, lambda environ, start: holder["app"](environ, start), threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app = create_app({"TESTING": True, "SECRET_KEY": "demo-served", "ADDONS": list(addons), "ADDON_MODULES": {},
                      "SANDBOXES": True, "PUBLIC_URL": url, "JOBS_MODE": "thread", "REDIS_URL": None,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{os.path.join(directory, 'demo.db')}",
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", **config})
    holder["app"] = app
    with app.app_context():
        db.create_all()
        load_demo()
        db.session.remove()
    runner = EmbeddedRunner(app, poll=0.3)
    app.extensions["oms_runner"] = runner
    runner.start()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, url
    finally:
        runner.stop()
        server.shutdown()
        thread.join(5)
        with app.app_context():
            db.engine.dispose()
