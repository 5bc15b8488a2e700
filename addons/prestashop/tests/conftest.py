"""Fixtures of the PrestaShop tests: the emulator on a loopback port, a simulated clock for the
client's waits, every exchange checked against the add-on's webservice schema."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from addons.prestashop import sandbox
from core import services
from core.extensions import db
from core.jobs import run_pending
from core.models import utcnow

from .schema import attach

SECRETS = {"webservice_key"}


@pytest.fixture
def addons():
    return ["prestashop"]


@pytest.fixture
def clock() -> sandbox.ManualClock:
    return sandbox.ManualClock()


@pytest.fixture
def app_config(clock):
    return {"PRESTASHOP_SLEEP": clock.sleep}


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    return {}


@pytest.fixture
def emu(clock, emulator_options) -> sandbox.PrestaEmulator:
    emulator = sandbox.PrestaEmulator(clock=clock, **emulator_options)
    problems = attach(emulator.app)
    yield emulator
    assert problems == [], "traffic outside the schema:\n" + "\n".join(problems[:20])


@pytest.fixture
def base_url(serve_wsgi, emu) -> str:
    return serve_wsgi(emu.app)


def configure(shop, settings: dict[str, Any]) -> None:
    services.save_settings(shop, "prestashop", settings, SECRETS)
    db.session.commit()


@pytest.fixture
def run_jobs() -> Callable[[], None]:
    def run() -> None:
        while run_pending(now=utcnow() + timedelta(hours=2)):
            pass

    return run


@pytest.fixture
def ps_shop(app, shop_factory, base_url, run_jobs) -> Callable[..., Any]:
    def make(name: str | None = None, **settings: Any):
        shop = shop_factory("prestashop", name)
        configure(shop, {**sandbox.demo_settings(base_url), **settings})
        result = services.test_connection(shop, "prestashop")
        assert result.ok, (result.message, result.details)
        db.session.commit()
        run_jobs()
        return db.session.get(type(shop), shop.id)

    return make
