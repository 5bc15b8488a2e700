"""Fixtures of the dropshipping tests: a shop on the recording channel with dropshipping
enabled, an own warehouse, suppliers, a real SMTP server on loopback."""
from __future__ import annotations

import re
import socket
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from addons.dropship.models import DropshipSupplier, DropshipSupplierProduct
from addons.dropship.suppliers import ensure_warehouse, new_api_key
from core import services
from core.extensions import db
from core.intake import ingest
from core.jobs import run_pending
from core.models import Order, Shop, Variant, Warehouse, utcnow
from tests.pipeline_helpers import norm, warehouse

from .recorder import hooks as recorder

SECRETS = {"smtp_password"}
SMTP_NAME = "smtp.boutique.test"
SMTP_USER, SMTP_PASSWORD = "achats@boutique-demo.fr", "mot-de-passe-application"
PUBLIC_URL = "https://oms.boutique.test"


@pytest.fixture
def addons():
    return ["dropship", "recorder"]


@pytest.fixture
def app_config():
    return {"ADDON_MODULES": {"recorder": "addons.dropship.tests.recorder.hooks"}, "PUBLIC_URL": PUBLIC_URL}


@pytest.fixture
def channel():
    """What the shop's channel was told (cleared for each test)."""
    recorder.SHIPPED.clear()
    recorder.STOCK.clear()
    yield recorder
    recorder.SHIPPED.clear()
    recorder.STOCK.clear()


def configure(shop: Shop, settings: dict) -> None:
    services.save_settings(shop, "dropship", settings, SECRETS)
    db.session.commit()


@pytest.fixture
def shop(shop_factory, channel) -> Shop:
    shop = shop_factory("recorder", "Boutique Démo")
    services.set_enabled(shop, "dropship", True)
    db.session.commit()
    return shop


@pytest.fixture
def own_wh(org) -> Warehouse:
    wh = warehouse(org.id, "PAR", priority=1)
    db.session.commit()
    return wh


@pytest.fixture
def make_supplier(org) -> Callable[..., tuple[DropshipSupplier, str]]:
    def make(name: str = "Atelier Dupont", email: str = "commandes@dupont.test", *, organization=None,
             **fields) -> tuple[DropshipSupplier, str]:
        secret = fields.pop("webhook_secret", None)
        supplier = DropshipSupplier(organization_id=(organization or org).id, name=name, email=email, **fields)
        if secret:
            supplier.webhook_secret = secret
        key = new_api_key(supplier)
        db.session.add(supplier)
        db.session.flush()
        ensure_warehouse(supplier)
        db.session.commit()
        return supplier, key

    return make


def link(supplier: DropshipSupplier, variant: Variant, supplier_sku: str, cost: str | None = "12.50", *,
         priority: int = 10, dropship_only: bool = False, mode: str = "dropship") -> DropshipSupplierProduct:
    product = DropshipSupplierProduct(supplier_id=supplier.id, variant_id=variant.id, supplier_sku=supplier_sku,
                                      unit_cost=Decimal(cost) if cost is not None else None,
                                      currency=supplier.currency, priority=priority, mode=mode,
                                      dropship_only=dropship_only)
    db.session.add(product)
    db.session.commit()
    return product


def place(shop: Shop, ext_id: str, lines: list[tuple[str, int]], **kw) -> Order:
    result = ingest(shop, norm(ext_id, lines, **kw))
    db.session.commit()
    return db.session.get(Order, result.order_id)


def run_jobs(now: datetime | None = None) -> None:
    """Run every job due at ``now`` (default: a few seconds from now) until none is left."""
    while run_pending(now=now or utcnow() + timedelta(seconds=5)):
        pass


# ----------------------------------------------------------------------------- SMTP
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword)
          and (auth_data.login, auth_data.password) == (SMTP_USER.encode(), SMTP_PASSWORD.encode()))
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Mailbox]]:
    """A real SMTP server on a loopback port, with AUTH LOGIN/PLAIN and no TLS."""
    port = free_port()
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, server_hostname=SMTP_NAME,
                            authenticator=authenticator, auth_require_tls=False)
    controller.start()
    yield port, mailbox
    controller.stop()


def smtp_settings(port: int, **overrides) -> dict:
    return {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_username": SMTP_USER,
            "smtp_password": SMTP_PASSWORD, "smtp_starttls": False, "from_address": SMTP_USER, **overrides}


def csrf_page_token(page: str) -> str:
    """The CSRF token of a rendered form."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or \
        re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)
