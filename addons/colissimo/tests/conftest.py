"""Fixtures of the Colissimo tests: the emulator behind a recorder, a shop with Colissimo
connected, stock to ship."""
from __future__ import annotations

import pytest

from addons.colissimo import sandbox
from addons.colissimo.tests.schemas import Recorder
from core import services
from core.extensions import db
from tests.fixtures import FAKE_ADDONS
from tests.picking_helpers import ean13, stocked
from tests.pipeline_helpers import warehouse

SECRETS = {"api_key", "password", "okapi_key"}


@pytest.fixture
def addons():
    return ["alpha", "beta", "colissimo", "shiplog"]


@pytest.fixture
def app_config():
    return {"ADDON_MODULES": {**FAKE_ADDONS, "shiplog": "tests.fake_addons.shiplog.hooks"}}


@pytest.fixture
def emulator():
    return sandbox.make_app()


@pytest.fixture
def recorder(emulator):
    return Recorder(emulator)


@pytest.fixture
def base_url(serve_wsgi, recorder):
    return serve_wsgi(recorder)


def connect(shop, settings):
    services.set_enabled(shop, "colissimo", True)
    services.save_settings(shop, "colissimo", settings, SECRETS)
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
    stocked(org.id, wh, "TEE", 80, barcode=ean13("376000000001"), grams=180, bin_code="A-01-01")
    stocked(org.id, wh, "BARE", 30, grams=100, hs_code=None, origin=None)
    db.session.commit()
    return wh
