"""Fixtures of the DHL tests: the emulator on a loopback port behind a recorder, a clock both
sides share, a shop with DHL connected, and stock to ship."""
from __future__ import annotations

import pytest

from addons.dhl import sandbox
from addons.dhl.tests.schemas import Recorder
from core import services
from core.connectors.emulator import ManualClock
from core.extensions import db
from tests.fixtures import FAKE_ADDONS
from tests.picking_helpers import ean13, stocked
from tests.pipeline_helpers import warehouse

SECRETS = {"api_secret", "tracking_api_key"}
TEE = ean13("376000000001")


@pytest.fixture
def addons():
    return ["alpha", "beta", "dhl", "shiplog"]


@pytest.fixture
def clock():
    from addons.dhl import tracking

    tracking._last_call.clear()  # the pacing memory is the process's: a new clock starts it afresh
    return ManualClock()


@pytest.fixture
def app_config(clock):
    return {"ADDON_MODULES": {**FAKE_ADDONS, "shiplog": "tests.fake_addons.shiplog.hooks"},
            "DHL_SLEEP": clock.sleep, "DHL_MONOTONIC": clock.monotonic}


@pytest.fixture
def emulator(clock):
    return sandbox.make_app(clock)


@pytest.fixture
def recorder(emulator):
    return Recorder(emulator)


@pytest.fixture
def base_url(serve_wsgi, recorder):
    return serve_wsgi(recorder)


def connect(shop, settings):
    services.set_enabled(shop, "dhl", True)
    services.save_settings(shop, "dhl", settings, SECRETS)
    db.session.commit()


@pytest.fixture
def shop(shop_factory, base_url):
    shop = shop_factory("beta", "Boutique Beta")
    services.set_enabled(shop, "shiplog", True)
    connect(shop, sandbox.demo_settings(base_url))
    return shop


@pytest.fixture
def wh(org):
    wh = warehouse(org.id, "PAR", priority=1)
    stocked(org.id, wh, "TEE", 50, barcode=TEE, grams=180, bin_code="A-01-01")
    stocked(org.id, wh, "BARE", 30, grams=100, hs_code=None, origin=None)
    db.session.commit()
    return wh
