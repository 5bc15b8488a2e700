"""The integrations catalog and its CLI twin: search, filter, enable/disable, settings
(secrets encrypted, never echoed), connection tests, sync now."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text

from core.extensions import db
from core.models import ConnectionStatus, OutboxJob, Shop
from tests.fixtures import FAKE_ADDONS


@pytest.fixture
def addons():
    return ["alpha", "beta"]


@pytest.fixture
def app_config():
    return {"ADDON_MODULES": FAKE_ADDONS}


def test_search_and_filter(client, login):
    login(client)
    page = client.get("/integrations/").get_data(as_text=True)
    assert 'data-addon="alpha"' in page and 'data-addon="beta"' in page
    page = client.get("/integrations/?q=beta").get_data(as_text=True)
    assert 'data-addon="beta"' in page and 'data-addon="alpha"' not in page
    page = client.get("/integrations/?q=OUTIL").get_data(as_text=True)  # summary, any case
    assert 'data-addon="alpha"' in page and 'data-addon="beta"' not in page
    page = client.get("/integrations/?category=marketplace").get_data(as_text=True)
    assert 'data-addon="beta"' in page and 'data-addon="alpha"' not in page
    page = client.get("/integrations/?q=zzz").get_data(as_text=True)
    assert "data-addon=" not in page


def test_summaries_in_the_merchants_language(client, login):
    login(client)
    french = client.get("/integrations/").get_data(as_text=True)
    assert "Outil de test alpha" in french and "Canal de test beta" in french
    english = client.get("/integrations/?lang=en").get_data(as_text=True)
    assert "Alpha test tool" in english and "Outil de test alpha" not in english
    assert "Canal de test beta" in english  # no English summary: the manifest's own
    assert 'data-addon="alpha"' in client.get("/integrations/?q=test+tool").get_data(as_text=True)


def test_install_configure_test_from_ui(client, login, post_form, org):
    login(client)
    res = post_form("/integrations/beta/shops", {"name": "Ma boutique", "sync_mode": "hourly"},
                    page="/integrations/beta")
    assert res.status_code == 302
    shop = db.session.scalars(select(Shop).where(Shop.organization_id == org.id)).one()
    assert shop.addon == "beta" and shop.sync_mode.value == "hourly"
    assert shop.enabled_addons() == {"alpha", "beta"}
    # configure alpha: the secret is stored encrypted and never echoed back
    url = f"/integrations/alpha/shops/{shop.id}/configure"
    res = post_form(url, {"url": "https://api.example", "api_key": "good-key", "then": "save"})
    assert res.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "good-key" not in page and "https://api.example" in page
    raw = db.session.execute(text("SELECT secrets FROM shop_addon WHERE addon = 'alpha'")).scalar_one()
    assert "good-key" not in raw
    # saving again with a blank secret keeps the stored one
    post_form(url, {"url": "https://api2.example", "api_key": "", "then": "save"})
    db.session.expire_all()
    assert shop.addon_settings("alpha") == {"url": "https://api2.example", "api_key": "good-key"}
    # "Tester la connexion" shows the outcome and records the status
    res = post_form(f"/integrations/alpha/shops/{shop.id}/test", page="/integrations/alpha")
    body = res.get_data(as_text=True)
    assert res.status_code == 200 and 'data-test-ok="true"' in body and "compte démo" in body
    db.session.expire_all()
    assert shop.addon_row("alpha").status == ConnectionStatus.CONNECTED
    page = client.get("/integrations/?q=alpha").get_data(as_text=True)
    assert 'data-status="connected"' in page


def test_failed_test_shows_error_on_card(client, login, post_form, shop_factory):
    login(client)
    shop = shop_factory("beta")
    post_form(f"/integrations/alpha/shops/{shop.id}/configure", {"url": "https://x", "api_key": "bad", "then": "test"})
    page = client.get("/integrations/?q=alpha").get_data(as_text=True)
    assert 'data-status="error"' in page and "clé API refusée" in page


def test_enable_disable_from_ui(client, login, post_form, shop_factory):
    login(client)
    shop = shop_factory("beta")
    post_form(f"/integrations/alpha/shops/{shop.id}/disable", page="/integrations/alpha")
    db.session.expire_all()
    assert shop.enabled_addons() == {"beta"}
    post_form(f"/integrations/alpha/shops/{shop.id}/enable", page="/integrations/alpha")
    db.session.expire_all()
    assert shop.enabled_addons() == {"alpha", "beta"}


def test_sync_now_button_queues_unique_job(client, login, post_form, shop_factory):
    login(client)
    shop = shop_factory("beta")
    for _ in range(2):
        assert post_form(f"/integrations/shops/{shop.id}/sync", page=f"/integrations/shops/{shop.id}/log").status_code == 302
    rows = db.session.scalars(select(OutboxJob)).all()
    assert {r.job_id for r in rows} == {f"beta-sync-{shop.id}"} and all(r.unique for r in rows)


# ----------------------------------------------------------------------------- CLI
def test_cli_mirrors_the_catalog(runner, org):
    res = runner.invoke(args=["addons", "list", "--json"])
    assert res.exit_code == 0, res.output
    assert {r["name"] for r in json.loads(res.output)} == {"alpha", "beta"}
    res = runner.invoke(args=["shops", "add", "--org", str(org.id), "--addon", "alpha", "--name", "X"])
    assert res.exit_code != 0 and "n'est pas un canal de vente" in res.output
    res = runner.invoke(args=["shops", "add", "--org", str(org.id), "--addon", "beta", "--name", "CLI shop"])
    assert res.exit_code == 0, res.output
    shop = db.session.scalars(select(Shop).where(Shop.name == "CLI shop")).one()
    res = runner.invoke(args=["addons", "configure", "alpha", "--shop", str(shop.id), "url=https://x", "api_key=-"],
                        input="good-key\n")
    assert res.exit_code == 0, res.output
    assert "good-key" not in res.output
    res = runner.invoke(args=["addons", "test", "alpha", "--shop", str(shop.id)])
    assert res.exit_code == 0 and "OK: connecté à https://x" in res.output
    res = runner.invoke(args=["addons", "configure", "alpha", "--shop", str(shop.id), "nope=1"])
    assert res.exit_code != 0 and "unknown setting" in res.output
    res = runner.invoke(args=["addons", "disable", "alpha", "--shop", str(shop.id)])
    assert res.exit_code == 0
    db.session.expire_all()
    assert shop.enabled_addons() == {"beta"}
    res = runner.invoke(args=["shops", "list"])
    assert "CLI shop" in res.output
    res = runner.invoke(args=["shops", "sync", str(shop.id)])
    assert res.exit_code == 0 and f"beta-sync-{shop.id}" in res.output
    res = runner.invoke(args=["jobs", "run"])
    assert res.exit_code == 0 and "1 job(s) run" in res.output
