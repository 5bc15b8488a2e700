from __future__ import annotations

import base64
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from addons.sendcloud import jobs, sandbox
from addons.sendcloud.client import SendcloudClient, grams
from addons.sendcloud.forms import SettingsForm
from addons.sendcloud.models import SendcloudShippingMethod
from core import create_app, services
from core.addons import parse_manifest, registry
from core.extensions import db
from core.models import ConnectionStatus, Shop

ADDON_DIR = Path(__file__).resolve().parents[1]
SECRETS = {"secret_key"}


@pytest.fixture
def addons():
    return ["sendcloud"]


@pytest.fixture
def shop(app, org):
    """A shop of a channel this test does not load; Sendcloud is enabled on it."""
    shop = Shop(organization_id=org.id, addon="manual", name="Boutique Sendcloud")
    db.session.add(shop)
    db.session.commit()
    return shop


@pytest.fixture
def emulator():
    return sandbox.make_app()


@pytest.fixture
def base_url(serve_wsgi, emulator):
    return serve_wsgi(emulator)


def configure(shop, settings):
    services.save_settings(shop, "sendcloud", settings, SECRETS)
    db.session.commit()


def stored(shop) -> dict[str, SendcloudShippingMethod]:
    return {r.method_id: r for r in db.session.scalars(
        sa.select(SendcloudShippingMethod).where(SendcloudShippingMethod.shop_id == shop.id))}


def test_manifest_parses():
    manifest = parse_manifest((ADDON_DIR / "__manifest__.py").read_text(encoding="utf-8"))
    assert manifest["category"] == "carrier"
    assert manifest["kind"] == "carrier"
    assert (ADDON_DIR / manifest["icon"]).is_file()
    for part in ("DESCRIPTION", "CONFIGURE", "USAGE"):
        assert (ADDON_DIR / "readme" / f"{part}.md").read_text(encoding="utf-8").strip()


def test_addon_loads_with_its_hooks(app):
    addon = registry().get("sendcloud")
    assert addon is not None and addon.ok, addon.error if addon else "not found"
    assert registry().call_one("sendcloud", "register_settings_form") is SettingsForm
    boxes = {sb.name: sb for sb in registry().pm.hook.register_sandbox() if sb}
    assert boxes["sendcloud"].settings("http://x")["api_base_url"] == "http://x"


def test_connection_lists_and_stores_shipping_methods(app, shop, base_url, emulator):
    configure(shop, sandbox.demo_settings(base_url))

    result = services.test_connection(shop, "sendcloud")

    assert result.ok, result.message
    assert "Colissimo Home (colissimo)" in result.details
    assert "La Poste Lettre suivie 0-2kg (laposte)" in result.details
    assert "DPD Classic (dpd)" in result.details
    assert shop.addon_row("sendcloud").status == ConnectionStatus.CONNECTED
    assert emulator.config["CALLS"] == [("POST", "/v3/shipping-options")]
    db.session.commit()
    methods = stored(shop)
    assert set(methods) == {row[0] for row in sandbox.DEMO_OPTIONS}
    home = methods["colissimo:home"]
    assert (home.name, home.carrier, home.min_weight_grams, home.max_weight_grams) == \
        ("Colissimo Home", "colissimo", 1, 30000)


def test_refresh_replaces_the_stored_list(app, shop, base_url):
    configure(shop, sandbox.demo_settings(base_url))
    db.session.add(SendcloudShippingMethod(shop_id=shop.id, method_id="postnl:standard", name="PostNL Standard",
                                           carrier="postnl"))
    db.session.commit()

    jobs.refresh_shipping_methods(shop.id)
    db.session.commit()

    assert "postnl:standard" not in stored(shop)
    assert "chronopost:13" in stored(shop)


def test_from_country_filters_the_options(app, shop, base_url):
    configure(shop, {**sandbox.demo_settings(base_url), "from_country_code": "NL"})

    result = services.test_connection(shop, "sendcloud")

    assert result.ok
    assert result.details == ["DPD Classic (dpd)"]


def test_bad_keys_are_refused_with_a_french_message(app, shop, base_url):
    configure(shop, {**sandbox.demo_settings(base_url), "secret_key": "wrong"})

    result = services.test_connection(shop, "sendcloud")

    assert not result.ok
    assert "Clés API Sendcloud refusées (401)" in result.message
    assert shop.addon_row("sendcloud").status == ConnectionStatus.ERROR
    with pytest.raises(jobs.SendcloudError, match="401"):
        jobs.refresh_shipping_methods(shop.id)


def test_missing_secret_is_reported_without_any_request(app, shop, base_url, emulator):
    settings = sandbox.demo_settings(base_url)
    del settings["secret_key"]
    configure(shop, settings)

    result = services.test_connection(shop, "sendcloud")

    assert not result.ok and "clé secrète" in result.message
    assert emulator.config["CALLS"] == []


def test_emulator_follows_the_openapi_spec(emulator):
    web = emulator.test_client()
    auth = {"Authorization": "Basic " + base64.b64encode(
        f"{sandbox.DEMO_PUBLIC_KEY}:{sandbox.DEMO_SECRET_KEY}".encode()).decode()}

    anonymous = web.post("/v3/shipping-options", json={})
    assert anonymous.status_code == 401 and anonymous.json == sandbox.NO_CREDENTIALS
    wrong = web.post("/v3/shipping-options", json={}, headers={"Authorization": "Basic d3Jvbmc6d3Jvbmc="})
    assert wrong.status_code == 401 and wrong.json == sandbox.INVALID_CREDENTIALS

    empty = web.post("/v3/shipping-options", json={"from_country_code": "FR", "parcels": []}, headers=auth)
    assert empty.status_code == 400 and empty.json == sandbox.EMPTY_PARCELS

    heavy = web.post("/v3/shipping-options", headers=auth, json={
        "from_country_code": "FR", "to_country_code": "FR", "calculate_quotes": True,
        "parcels": [{"weight": {"value": "3000", "unit": "g"}}]})
    assert heavy.status_code == 200
    codes = [o["code"] for o in heavy.json["data"]]
    assert "laposte:lettre_suivie" not in codes and "colissimo:home" in codes
    option = heavy.json["data"][0]
    assert {"code", "name", "carrier", "product", "functionalities", "contract", "weight", "max_dimensions",
            "requirements", "charging_type", "quotes"} <= set(option)
    assert option["quotes"][0]["price"]["total"]["currency"] == "EUR"


def test_weight_units_are_converted_to_grams():
    assert grams({"value": "2.5", "unit": "kg"}) == 2500
    assert grams({"value": "750", "unit": "g"}) == 750
    assert grams({"value": "1", "unit": "lbs"}) == 454
    assert grams(None) is None


def test_client_sends_basic_auth_and_v3_body(serve_wsgi):
    emulator = sandbox.make_app()
    client = SendcloudClient(sandbox.DEMO_PUBLIC_KEY, sandbox.DEMO_SECRET_KEY, base_url=serve_wsgi(emulator))
    options = client.shipping_options("FR", "FR", weight_grams=2500)
    assert "laposte:lettre_suivie" not in {o.code for o in options}
    assert {o.code for o in options} >= {"colissimo:home", "chronopost:13"}


def test_migration_matches_the_model(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "ADDONS": ["sendcloud"], "JOBS_MODE": "manual",
                      "REDIS_URL": None, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'migrated.db'}"})
    table = SendcloudShippingMethod.__tablename__
    with app.app_context():
        flask_migrate.upgrade(revision="heads")
        with db.engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert [d for d in diffs if f"'{table}'" in repr(d)] == []
        flask_migrate.downgrade(revision="sendcloud@base")
        assert not sa.inspect(db.engine).has_table(table)
        db.engine.dispose()


def test_configure_page_saves_tests_and_never_echoes_the_secret(app, client, login, post_form, shop, base_url):
    login(client)
    url = f"/integrations/sendcloud/shops/{shop.id}/configure"

    res = post_form(url, data={**sandbox.demo_settings(base_url), "then": "test"})

    assert res.status_code == 200
    page = res.get_data(as_text=True)
    assert 'data-test-ok="true"' in page and "Colissimo Home (colissimo)" in page
    assert sandbox.DEMO_SECRET_KEY not in client.get(url).get_data(as_text=True)


@pytest.mark.parametrize("target", ["http://169.254.169.254/latest/meta-data", "http://10.0.0.4:8080/api",
                                    "https://panel.sendcloud.sc.evil.example/api", "loopback"])
def test_an_api_address_override_cannot_send_the_keys_off_sendcloud(app, shop, base_url, emulator, target):
    app.config["OUTBOUND_ALLOW"] = []  # an installation without emulators or allowed hosts
    configure(shop, {**sandbox.demo_settings(base_url), "api_base_url": base_url if target == "loopback" else target})

    result = services.test_connection(shop, "sendcloud")

    assert not result.ok and "ne peut pas être remplacée" in result.message and "Videz ce champ" in result.message
    assert emulator.config["CALLS"] == []
    # Sendcloud's own panel is always accepted, and a demo installation reaches its emulator
    assert SendcloudClient("pk", "sk", base_url="https://panel.sendcloud.sc/api/v3").root == DEFAULT_ROOT
    app.config["SANDBOXES"] = True
    configure(shop, sandbox.demo_settings(base_url))
    assert services.test_connection(shop, "sendcloud").ok


DEFAULT_ROOT = "https://panel.sendcloud.sc/api"
