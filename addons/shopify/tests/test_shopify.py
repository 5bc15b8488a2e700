from __future__ import annotations

from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from addons.shopify import jobs, sandbox
from addons.shopify.forms import SettingsForm
from addons.shopify.models import (
    ShopifyFulfillment,
    ShopifyLocation,
    ShopifyPrivacyRequest,
    ShopifyShopState,
    ShopifyWebhookInbox,
)
from core import create_app
from core.addons import parse_manifest, registry
from core.demo import CATALOG
from core.extensions import db
from core.models import ConnectionStatus, utcnow
from core import services
from core.services import save_settings

ADDON_DIR = Path(__file__).resolve().parents[1]
SECRETS = {"access_token", "api_key", "api_secret"}


@pytest.fixture
def emulator():
    return sandbox.make_app()


@pytest.fixture
def base_url(serve_wsgi, emulator):
    return serve_wsgi(emulator)


def configure(shop, settings):
    save_settings(shop, "shopify", settings, SECRETS)
    db.session.commit()


def test_manifest_parses():
    manifest = parse_manifest((ADDON_DIR / "__manifest__.py").read_text(encoding="utf-8"))
    assert manifest["category"] == "marketplace"
    assert manifest["kind"] == "channel"
    assert (ADDON_DIR / manifest["icon"]).is_file()
    for part in ("DESCRIPTION", "CONFIGURE", "USAGE"):
        assert (ADDON_DIR / "readme" / f"{part}.md").read_text(encoding="utf-8").strip()


def test_addon_loads_with_its_hooks(app):
    addon = registry().get("shopify")
    assert addon is not None and addon.ok, addon.error if addon else "not found"
    assert registry().call_one("shopify", "register_settings_form") is SettingsForm
    boxes = {sb.name: sb for sb in registry().pm.hook.register_sandbox() if sb}
    assert boxes["shopify"].settings("http://x")["api_base_url"] == "http://x"


def test_connection_ok_against_emulator(app, shop_factory, base_url, emulator):
    shop = shop_factory("shopify")
    configure(shop, sandbox.demo_settings(base_url))

    result = services.test_connection(shop, "shopify")

    assert result.ok, result.message
    assert "Maison Lumière" in result.message
    assert result.details[:3] == ["Boutique : Maison Lumière", "Domaine : maison-lumiere.myshopify.com",
                                  "Devise : EUR"]
    assert shop.status == ConnectionStatus.CONNECTED
    assert emulator.config["CALLS"] == [("POST", "/admin/api/2026-10/graphql.json")]


def test_bad_token_is_refused_with_a_french_message(app, shop_factory, base_url):
    shop = shop_factory("shopify")
    configure(shop, {**sandbox.demo_settings(base_url), "access_token": "shpat_wrong"})

    result = services.test_connection(shop, "shopify")

    assert not result.ok
    assert "Jeton d'accès refusé par Shopify (401)" in result.message
    assert shop.status == ConnectionStatus.ERROR


def test_non_myshopify_domain_is_refused_before_any_request(app, shop_factory, base_url, emulator):
    shop = shop_factory("shopify")
    configure(shop, {**sandbox.demo_settings(base_url), "shop_domain": "boutique.example.com"})

    result = services.test_connection(shop, "shopify")

    assert not result.ok
    assert "n'est pas un domaine Shopify valide" in result.message
    assert emulator.config["CALLS"] == []


def test_emulator_speaks_shopify_wire_format(emulator):
    web = emulator.test_client()
    url = "/admin/api/2026-10/graphql.json"
    headers = {"X-Shopify-Access-Token": sandbox.DEMO_TOKEN}

    res = web.post(url, json={"query": "query ShopCheck {\n shop { name myshopifyDomain currencyCode "
                                       "plan { publicDisplayName } }\n}"}, headers=headers)
    assert res.status_code == 200
    throttle = res.json["extensions"]["cost"]["throttleStatus"]
    assert set(throttle) == {"maximumAvailable", "currentlyAvailable", "restoreRate"}
    assert res.json["data"]["shop"]["myshopifyDomain"] == sandbox.DEMO_DOMAIN

    other = web.post(url, json={"query": "{ orders(first: 1) { nodes { id giftCards } } }"}, headers=headers)
    assert other.status_code == 200 and "giftCards" in other.json["errors"][0]["message"]

    refused = web.post(url, json={"query": "{ shop { name } }"})
    assert refused.status_code == 401
    assert refused.json == sandbox.INVALID_TOKEN


def test_sync_job_and_connection_check(app, shop_factory, base_url):
    shop = shop_factory("shopify")
    configure(shop, sandbox.demo_settings(base_url))
    assert registry().call_one("shopify", "channel_sync_job", shop=shop) == "addons.shopify.jobs.sync_shop"

    before = utcnow()
    jobs.check_connection(shop.id)
    assert shop.last_sync_at is not None and shop.last_sync_at >= before

    configure(shop, {"access_token": "shpat_revoked"})
    with pytest.raises(jobs.ShopifyError, match="401"):
        jobs.check_connection(shop.id)


@pytest.mark.parametrize("domain, valid", [
    ("ma-boutique.myshopify.com", True),
    ("Ma-Boutique.MyShopify.com", True),
    ("boutique.example.com", False),
    ("evil.com/x.myshopify.com", False),
    ("-boutique.myshopify.com", False),
])
def test_form_validates_the_shop_domain(app, domain, valid):
    with app.test_request_context(method="POST", data={
            "shop_domain": domain, "api_version": "2026-10", "access_token": "shpat_x"}):
        form = SettingsForm(meta={"csrf": False})
        assert form.validate() is valid, form.errors


def test_inbox_deduplicates_deliveries(app, shop_factory):
    shop = shop_factory("shopify")
    db.session.add(ShopifyWebhookInbox(shop_id=shop.id, webhook_id="b54557e4", topic="orders/create",
                                       payload={"id": 1}))
    db.session.commit()
    db.session.add(ShopifyWebhookInbox(shop_id=shop.id, webhook_id="b54557e4", topic="orders/create",
                                       payload={"id": 1}))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_migration_matches_the_model(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "ADDONS": ["shopify"], "JOBS_MODE": "manual",
                      "REDIS_URL": None, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'migrated.db'}"})
    tables = [m.__tablename__ for m in (ShopifyWebhookInbox, ShopifyShopState, ShopifyLocation,
                                        ShopifyFulfillment, ShopifyPrivacyRequest)]
    with app.app_context():
        flask_migrate.upgrade(revision="heads")
        with db.engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert [d for d in diffs if any(f"'{t}'" in repr(d) for t in tables)] == []
        flask_migrate.downgrade(revision="shopify@base")
        assert not any(sa.inspect(db.engine).has_table(t) for t in tables)
        db.engine.dispose()


def test_sync_now_runs_the_sync_through_the_job_layer(app, shop_factory, base_url):
    from core.jobs import run_pending
    from core.models import SyncLog, SyncStatus

    shop = shop_factory("shopify")
    configure(shop, sandbox.demo_settings(base_url))
    services.sync_now(shop)
    db.session.commit()

    assert run_pending() == 1

    entry = db.session.scalars(sa.select(SyncLog).where(SyncLog.shop_id == shop.id)).one()
    assert entry.status == SyncStatus.OK, entry.error
    assert entry.func == "addons.shopify.jobs.sync_shop" and entry.addon == "shopify"
    assert f"{len(CATALOG)} produit(s) Shopify lus" in entry.result  # the demo catalogue
    db.session.refresh(shop)
    assert shop.last_sync_at is not None


def test_configure_page_saves_tests_and_never_echoes_the_token(app, client, login, post_form, shop_factory,
                                                               base_url):
    login(client)
    shop = shop_factory("shopify")
    url = f"/integrations/shopify/shops/{shop.id}/configure"

    res = post_form(url, data={**sandbox.demo_settings(base_url), "then": "test"})

    assert res.status_code == 200
    page = res.get_data(as_text=True)
    assert 'data-test-ok="true"' in page and "Domaine : maison-lumiere.myshopify.com" in page
    form_page = client.get(url).get_data(as_text=True)
    assert sandbox.DEMO_TOKEN not in form_page and sandbox.DEMO_API_SECRET not in form_page
    assert "maison-lumiere.myshopify.com" in form_page and "Installer sur Shopify" in form_page
    assert db.session.get(type(shop), shop.id).addon_row("shopify").secrets == {
        "access_token": sandbox.DEMO_TOKEN, "api_key": sandbox.DEMO_API_KEY, "api_secret": sandbox.DEMO_API_SECRET}
