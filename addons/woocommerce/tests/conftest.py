"""Fixtures of the WooCommerce tests: the emulator on a real loopback port and a simulated
clock (the client's waits advance it), its webhook deliveries posted into the OMS through the
test client, every exchange checked against the add-on's WooCommerce schema."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from addons.woocommerce import sandbox
from core import services
from core.extensions import db
from core.jobs import run_pending
from core.models import utcnow

from .schema import attach, problems_of

SECRETS = {"consumer_key", "consumer_secret", "webhook_secret"}


@pytest.fixture
def addons():
    return ["woocommerce"]


@pytest.fixture
def clock() -> sandbox.ManualClock:
    return sandbox.ManualClock()


@pytest.fixture
def app_config(clock):
    return {"WOOCOMMERCE_SLEEP": clock.sleep, "PUBLIC_URL": "http://oms.test"}


class Inbound:
    """The emulator's sender: posts into the OMS through the Flask test client; ``failing``
    answers stand for an OMS that cannot be reached."""

    def __init__(self, client) -> None:
        self.client = client
        self.failing = 0
        self.problems: list[str] = []

    def __call__(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        if "X-WC-Webhook-Signature" in headers:
            self.problems.extend(problems_of("webhook_headers", headers))
        if self.failing:
            self.failing -= 1
            return 0
        return self.client.post(urlsplit(url).path, data=body, headers=headers).status_code


@pytest.fixture
def inbound(client) -> Inbound:
    return Inbound(client)


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    return {}


@pytest.fixture
def emu(clock, inbound, emulator_options) -> sandbox.WooEmulator:
    emulator = sandbox.WooEmulator(clock=clock, sender=inbound, **emulator_options)
    problems = attach(emulator.app)
    yield emulator
    assert problems == [], "traffic outside the schema:\n" + "\n".join(problems[:20])
    assert inbound.problems == [], "\n".join(inbound.problems[:20])


@pytest.fixture
def base_url(serve_wsgi, emu) -> str:
    return serve_wsgi(emu.app)


def configure(shop, settings: dict[str, Any]) -> None:
    services.save_settings(shop, "woocommerce", settings, SECRETS)
    db.session.commit()


@pytest.fixture
def run_jobs(emu) -> Callable[[], None]:
    def run() -> None:
        for _ in range(20):
            emu.flush()
            if not run_pending(now=utcnow() + timedelta(hours=2)):
                if not emu.outbox:
                    return

    return run


@pytest.fixture
def woo_shop(app, shop_factory, base_url, run_jobs) -> Callable[..., Any]:
    """A WooCommerce shop connected to the emulator: tested, webhooks and catalogue done."""

    def make(name: str | None = None, **settings: Any):
        shop = shop_factory("woocommerce", name)
        configure(shop, {**sandbox.demo_settings(base_url), **settings})
        result = services.test_connection(shop, "woocommerce")
        assert result.ok, result.message
        db.session.commit()
        run_jobs()
        return db.session.get(type(shop), shop.id)

    return make
