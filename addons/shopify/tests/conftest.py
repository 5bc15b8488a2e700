"""Fixtures of the Shopify tests: the emulator on a real loopback port, a clock both sides
share (the client's waits advance it instead of sleeping), webhooks delivered into the OMS
through the test client, and shops connected to the emulator."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from addons.shopify import sandbox
from core.extensions import db
from core.jobs import run_pending
from core.models import utcnow


@pytest.fixture
def addons():
    return ["shopify"]


@pytest.fixture
def clock() -> sandbox.ManualClock:
    return sandbox.ManualClock()


@pytest.fixture
def app_config(clock):
    return {"SHOPIFY_SLEEP": clock.sleep, "SHOPIFY_MONOTONIC": clock.monotonic}


class Inbound:
    """The emulator's webhook sender: delivers into the OMS through the Flask test client
    (same thread as the test, so SQLite sees one writer at a time)."""

    def __init__(self, client) -> None:
        self.client = client
        self.paused = False
        self.held: list[tuple[str, bytes, dict[str, str]]] = []

    def __call__(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        if self.paused:
            self.held.append((url, body, headers))
            return 503
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        return self.client.post(path, data=body, headers=headers).status_code


@pytest.fixture
def inbound(client) -> Inbound:
    return Inbound(client)


@pytest.fixture
def make_emulator(serve_wsgi, clock, inbound) -> Callable[..., tuple[sandbox.ShopifyEmulator, str]]:
    def make(**options: Any) -> tuple[sandbox.ShopifyEmulator, str]:
        options.setdefault("monotonic", clock.monotonic)
        options.setdefault("sender", inbound)
        emu = sandbox.ShopifyEmulator(**options)
        app = sandbox.make_app(emu)
        return emu, serve_wsgi(app)

    return make


@pytest.fixture
def emulator(make_emulator) -> tuple[sandbox.ShopifyEmulator, str]:
    return make_emulator()


@pytest.fixture
def emu(emulator) -> sandbox.ShopifyEmulator:
    return emulator[0]


@pytest.fixture
def base_url(emulator) -> str:
    return emulator[1]


def drain(limit: int = 20) -> int:
    """Run due jobs (and the coalesced stock pushes due a few seconds later) until none is left."""
    from datetime import timedelta

    total = 0
    for _ in range(limit):
        db.session.commit()
        ran = run_pending(now=utcnow() + timedelta(seconds=30))
        total += ran
        if not ran:
            break
    return total


@pytest.fixture
def run_jobs() -> Iterator[Callable[[], int]]:
    yield drain


@pytest.fixture
def platform(app, serve_wsgi, clock, inbound):
    """Shopify's platform of many stores on a loopback port, with the installation's public
    app registered on it (as ``make run`` does): (platform, base URL)."""
    web = sandbox.platform_app(monotonic=clock.monotonic, sender=inbound)
    url = serve_wsgi(web)
    app.config.update(sandbox.installation(url))
    return web.extensions["shopify_platform"], url
