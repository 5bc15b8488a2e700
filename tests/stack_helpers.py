"""The production set-up as real processes, for tests/test_production_stack.py and the
sale-to-shelf benchmark: a throw-away PostgreSQL database, ``oms serve`` (gunicorn),
``oms worker`` and ``oms scheduler``; Shopify stores served by their emulator from this
process (never mounted in the OMS: each gunicorn worker would hold its own copy), and the
shops of one organization connected to them on one stock.

Every emulator records when each of its SKU figures changed (:class:`Store.changes`), so a
caller can tell how long after a sale the other stores showed the new figure."""
from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

OMS = str(Path(sys.executable).with_name("oms"))
WEBHOOK_PATH = "/apps/shopify/webhooks"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def wait_status(url: str, code: int, deadline: float = 60) -> dict:
    end, last = time.monotonic() + deadline, None
    while time.monotonic() < end:
        try:
            status, body = get_json(url)
            last = (status, body)
            if status == code:
                return body
        except (urllib.error.URLError, ConnectionError, OSError) as exc:
            last = exc
        time.sleep(0.5)
    raise AssertionError(f"{url} never answered {code}: {last}")


@contextmanager
def pg_database(admin_url: str, prefix: str) -> Iterator[str]:
    """A database of its own on the server of ``admin_url``, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def stack_env(db_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    """The environment of every process of one installation (as the README's Production
    section sets it): database, Redis, a queue prefix of its own, one secret key."""
    return dict(os.environ, DATABASE_URL=db_url, REDIS_URL=redis_url,
                OMS_QUEUE_PREFIX=f"stack{uuid.uuid4().hex[:6]}", OMS_SECRET_KEY=secrets.token_urlsafe(32),
                OMS_OUTBOUND_ALLOW=os.environ.get("OMS_OUTBOUND_ALLOW") or "127.0.0.1,localhost", **extra)


class Stack:
    """The installation's processes, each logging to a file; stopped together."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.procs: dict[str, tuple[subprocess.Popen, Path]] = {}

    def create_db(self) -> None:
        subprocess.run([OMS, "create-db"], env=self.env, check=True, timeout=180, capture_output=True)

    def start(self, label: str, args: list[str], env: dict[str, str] | None = None,
              program: list[str] | None = None) -> subprocess.Popen:
        """``oms <args>`` (or ``program + args``) under ``label``, logging to its file."""
        log = self.log_dir / f"{label}.log"
        proc = subprocess.Popen([*(program or [OMS]), *args], env=env or self.env, stdout=log.open("w"),
                                stderr=subprocess.STDOUT)
        self.procs[label] = (proc, log)
        return proc

    def serve(self, port: int, *extra: str, program: list[str] | None = None) -> str:
        """``oms serve`` on ``port`` (or ``program``, taking the same ``--bind``)."""
        self.start("web", [*([] if program else ["serve"]), "--bind", f"127.0.0.1:{port}", *extra], program=program)
        return f"http://127.0.0.1:{port}"

    def running(self, label: str) -> bool:
        return self.procs[label][0].poll() is None

    def logs(self, tail: int = 4000) -> str:
        return "\n".join(f"----- {label}\n{log.read_text()[-tail:]}" for label, (_p, log) in self.procs.items())

    def stop(self) -> None:
        for proc, _ in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc, _ in self.procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def _quiet_handler():
    from werkzeug.serving import WSGIRequestHandler

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args, **kwargs) -> None:  # one line per API call drowns the output
            pass

    return Quiet


class Store:
    """One Shopify store: its emulator served on a loopback port by a threaded server of this
    process, webhooks delivered over HTTP as Shopify does. ``changes[sku]`` lists
    ``(time.time(), figure)`` each time the online figure of a SKU changed."""

    def __init__(self, n: int, skus: list[str], initial: int, **emulator_options: Any) -> None:
        from werkzeug.serving import make_server

        from addons.shopify import sandbox

        self.key, self.secret, self.token = f"app{n}" + "0" * 28, f"shpss_store{n}", f"shpat_store{n}"
        self.domain = f"boutique-{n}.myshopify.com"
        self.emu = sandbox.ShopifyEmulator(domain=self.domain, apps={self.key: self.secret},
                                           tokens={self.token: self.key}, catalog=None, **emulator_options)
        self.location = self.emu.add_location("Entrepôt", online=True)
        self.skus = list(skus)
        for sku in skus:
            self.emu.add_product(f"Article {sku}", [{"sku": sku, "price": "19.90", "stock": {self.location: initial},
                                                     "options": {"Taille": "M"}}])
        self.changes: dict[str, list[tuple[float, int]]] = {sku: [] for sku in skus}
        self._last = {sku: initial for sku in skus}
        self._seen = threading.Lock()
        app = sandbox.make_app(self.emu)
        inner = app.wsgi_app

        def recording(environ, start_response):
            try:
                yield from inner(environ, start_response)
            finally:
                self._note()

        app.wsgi_app = recording  # type: ignore[method-assign]
        self.server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_quiet_handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def _note(self) -> None:
        now = time.time()
        with self._seen:
            with self.emu.lock:
                figures = {sku: self.emu.available(sku, self.location) for sku in self.skus}
            for sku, qty in figures.items():
                if qty != self._last[sku]:
                    self._last[sku] = qty
                    self.changes[sku].append((now, qty))

    def available(self, sku: str) -> int:
        return self.emu.available(sku, self.location)

    def settings(self) -> dict[str, Any]:
        from addons.shopify import sandbox

        return {**sandbox.demo_settings(self.url), "shop_domain": self.domain, "api_key": self.key,
                "api_secret": self.secret, "access_token": self.token}

    def subscribe(self, oms_root: str) -> None:
        """The webhook subscriptions an install makes, to the OMS at ``oms_root``."""
        from addons.shopify.graphql import TOPICS

        for topic in TOPICS:
            self.emu.subscribe(self.key, topic, oms_root + WEBHOOK_PATH)
        self.emu.set_compliance_uri(self.key, oms_root + WEBHOOK_PATH)

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


def local_app(env: dict[str, str]):
    """An app of this process on the installation's database and queues (to set up its data
    and read its figures), loading the Shopify add-on only."""
    from core import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"], "REDIS_URL": env["REDIS_URL"],
                       "JOBS_MODE": "rq", "RQ_QUEUE_PREFIX": env["OMS_QUEUE_PREFIX"],
                       "SECRET_KEY": env["OMS_SECRET_KEY"], "ADDONS": ["shopify"], "SANDBOXES": False,
                       "OUTBOUND_ALLOW": [h for h in env["OMS_OUTBOUND_ALLOW"].split(",") if h]})


def connect_stores(app, stores: list[Store], on_hand: int, oms_root: str) -> tuple[int, list[int]]:
    """One organization, one warehouse holding ``on_hand`` of every SKU, one shop per store
    (products imported, stock pushed). Returns (organization id, shop ids in store order)."""
    from sqlalchemy import select

    from addons.shopify import jobs
    from core.extensions import db
    from core.models import SYNC_INTERVALS, Organization, Shop, StockLevel, Variant, utcnow
    from core.services import create_shop, save_settings

    from .pipeline_helpers import warehouse

    with app.app_context():
        org = Organization(name="Maison Lumière", plan_code="business")
        db.session.add(org)
        db.session.flush()
        wh = warehouse(org.id, "PAR")
        shop_ids = []
        for n, store in enumerate(stores, start=1):
            shop = create_shop(org, "shopify", f"Boutique {n}")
            save_settings(shop, "shopify", store.settings(), {"access_token", "api_key", "api_secret"})
            db.session.commit()
            shop_ids.append(shop.id)
            store.subscribe(oms_root)
        for shop_id in shop_ids:
            jobs.sync_shop(shop_id)
            shop = db.session.get(Shop, shop_id)  # synced now: the periodic poll is next due in an interval
            shop.next_sync_at = utcnow() + timedelta(seconds=SYNC_INTERVALS[shop.sync_mode])
            db.session.commit()
        for variant in db.session.scalars(select(Variant).where(Variant.organization_id == org.id)):
            db.session.add(StockLevel(variant_id=variant.id, warehouse_id=wh.id, on_hand=on_hand, reserved=0))
        db.session.commit()
        for shop_id in shop_ids:
            _push_all(shop_id)
        org_id = org.id
        db.session.remove()
    return org_id, shop_ids


def _push_all(shop_id: int, attempts: int = 5) -> None:
    """Every figure of the shop sent, as the first import's push job does; a worker may be
    running that job at the same moment (Shopify then refuses the figures read before it, and
    the push is tried again, as the job layer would)."""
    from addons.shopify import jobs
    from addons.shopify.inventory import StaleInventory
    from core.extensions import db

    for attempt in range(attempts):
        try:
            jobs.push_stock(shop_id)
            db.session.commit()
            return
        except StaleInventory:
            db.session.rollback()
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)


def available_to_sell(app, shop_id: int, skus: list[str]) -> dict[str, int]:
    """The OMS's figure of each SKU for one shop, read now."""
    from sqlalchemy import select

    from core import stock
    from core.extensions import db
    from core.models import Shop, Variant

    with app.app_context():
        shop = db.session.get(Shop, shop_id)
        ids = dict(db.session.execute(select(Variant.sku, Variant.id).where(
            Variant.organization_id == shop.organization_id, Variant.sku.in_(skus))).all())
        figures = stock.available_to_sell(shop, ids.values())
        found = {sku: figures[vid] for sku, vid in ids.items()}
        db.session.remove()
    return found
