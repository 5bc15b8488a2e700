from __future__ import annotations

from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from addons.amazon import jobs, sandbox
from addons.amazon.client import EU_MARKETPLACES, SellingPartnerClient, TokenCache, token_cache
from addons.amazon.forms import SettingsForm
from addons.amazon.models import AmazonMarketplace
from core import create_app, services
from core.addons import parse_manifest, registry
from core.extensions import db
from core.models import ConnectionStatus, OutboxJob, Warehouse, WarehouseKind

from .conftest import configure

ADDON_DIR = Path(__file__).resolve().parents[1]


def token_requests(emulator) -> int:
    return sum(1 for call in emulator.config["CALLS"] if call == ("POST", "/auth/o2/token"))


def test_manifest_parses():
    manifest = parse_manifest((ADDON_DIR / "__manifest__.py").read_text(encoding="utf-8"))
    assert manifest["category"] == "marketplace"
    assert manifest["kind"] == "channel"
    assert (ADDON_DIR / manifest["icon"]).is_file()
    for part in ("DESCRIPTION", "CONFIGURE", "USAGE"):
        assert (ADDON_DIR / "readme" / f"{part}.md").read_text(encoding="utf-8").strip()
    configure_text = (ADDON_DIR / "readme" / "CONFIGURE.md").read_text(encoding="utf-8")
    assert "MWS" in configure_text and "Seller ID + MWS Auth Token" in configure_text
    for needed in ("Identifiant client LWA", "Secret client LWA", "Refresh token", "Selling Partner ID", "Région"):
        assert needed in configure_text


def test_eu_marketplace_ids():
    ids = {m.country_code: m.id for m in EU_MARKETPLACES}
    assert ids["FR"] == "A13V1IB3VIYZZH"
    assert ids["GB"] == "A1F83G8C2ARO7P"
    assert ids["DE"] == "A1PA6795UKMFR9"
    assert ids["ES"] == "A1RKKUPIHCS9HS"
    assert ids["IT"] == "APJ6JRA9NG5V4"
    assert ids["NL"] == "A1805IZSGTT6HS"
    assert ids["BE"] == "AMEN7PMS3EDWL"
    assert ids["PL"] == "A1C3SOZRARQ6R3"
    assert ids["SE"] == "A2NODRKZP88ZB9"


def test_a_wrong_marketplace_fails_the_test_by_name(app, shop_factory, base_url):
    """A green test on a configuration that would import nothing was a bug: now it fails,
    naming the marketplaces (the guide's "Amazon.nl chosen, the seller sells on .fr")."""
    shop = shop_factory("amazon")
    configure(shop, {**sandbox.demo_settings(base_url), "marketplaces": ["A1805IZSGTT6HS"]})  # Amazon.nl
    result = services.test_connection(shop, "amazon")
    assert not result.ok
    assert result.message.startswith("Vous avez choisi Amazon.nl, mais votre compte vend sur Amazon.fr")
    assert shop.status == ConnectionStatus.ERROR


def test_addon_loads_with_its_hooks(app):
    addon = registry().get("amazon")
    assert addon is not None and addon.ok, addon.error if addon else "not found"
    assert registry().call_one("amazon", "register_settings_form") is SettingsForm
    boxes = {sb.name: sb for sb in registry().pm.hook.register_sandbox() if sb}
    assert boxes["amazon"].settings("http://x")["token_url"] == "http://x/auth/o2/token"


def test_connection_lists_and_stores_marketplaces(app, shop_factory, base_url):
    shop = shop_factory("amazon")
    configure(shop, sandbox.demo_settings(base_url))

    result = services.test_connection(shop, "amazon")

    assert result.ok, result.message
    assert "Amazon.fr : vente active" in result.details
    assert "Amazon.co.uk : vente active" in result.details
    assert "Amazon.pl : pas de vente" in result.details
    assert not any("A13V1IB3VIYZZH" in d for d in result.details + [result.message])  # names, not ids
    assert shop.status == ConnectionStatus.CONNECTED
    db.session.commit()
    rows = {r.marketplace_id: r for r in db.session.scalars(
        sa.select(AmazonMarketplace).where(AmazonMarketplace.shop_id == shop.id))}
    assert len(rows) == len(EU_MARKETPLACES)
    assert rows["A13V1IB3VIYZZH"].participating and rows["A13V1IB3VIYZZH"].currency == "EUR"
    assert rows["A1F83G8C2ARO7P"].currency == "GBP" and not rows["A1C3SOZRARQ6R3"].participating
    # the shop gets its FBA warehouse, and its listings import is queued
    fba = db.session.scalar(sa.select(Warehouse).where(Warehouse.shop_id == shop.id))
    assert fba is not None and fba.kind == WarehouseKind.MARKETPLACE
    assert db.session.scalar(sa.select(OutboxJob.func).where(OutboxJob.shop_id == shop.id)) == \
        "addons.amazon.jobs.import_listings"

    # a second check updates the rows in place
    assert services.test_connection(shop, "amazon").ok
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AmazonMarketplace)
                             .where(AmazonMarketplace.shop_id == shop.id)) == len(EU_MARKETPLACES)


def test_access_token_is_cached(app, shop_factory, base_url, emulator):
    shop = shop_factory("amazon")
    configure(shop, sandbox.demo_settings(base_url))

    assert services.test_connection(shop, "amazon").ok
    assert services.test_connection(shop, "amazon").ok

    assert token_requests(emulator) == 1
    assert emulator.config["CALLS"].count(("GET", "/sellers/v1/marketplaceParticipations")) == 2


def test_access_token_is_renewed_a_minute_before_expiry(clock, emulator, base_url):
    cache = TokenCache()
    client = SellingPartnerClient(client_id=sandbox.DEMO_CLIENT_ID, client_secret=sandbox.DEMO_CLIENT_SECRET,
                                  refresh_token=sandbox.DEMO_REFRESH_TOKEN, base_url=base_url,
                                  token_url=f"{base_url}/auth/o2/token", cache=cache, clock=clock)
    first, fresh = client.access_token()
    assert fresh
    clock.advance(3600 - 61)
    assert client.access_token() == (first, False)
    clock.advance(2)  # 59 s left: renewed
    second, fresh = client.access_token()
    assert fresh and second != first
    assert token_requests(emulator) == 2
    # the grantless (notifications) token is cached apart
    grantless, fresh = client.access_token("sellingpartnerapi::notifications")
    assert fresh and grantless not in (first, second)


def test_revoked_cached_token_is_replaced_once(clock, emulator, base_url):
    base = base_url
    client = SellingPartnerClient(client_id=sandbox.DEMO_CLIENT_ID, client_secret=sandbox.DEMO_CLIENT_SECRET,
                                  refresh_token=sandbox.DEMO_REFRESH_TOKEN, base_url=base,
                                  token_url=f"{base}/auth/o2/token", clock=clock)
    # a token Amazon no longer honours (authorization revoked) is still in the cache
    token_cache.put((client.token_url, client.client_id, client.refresh_token), "Atza|revoked", 3600,
                    clock.time())

    assert client.marketplace_participations()
    assert token_requests(emulator) == 1
    assert emulator.config["CALLS"].count(("GET", "/sellers/v1/marketplaceParticipations")) == 2


def test_bad_refresh_token_is_refused_with_a_french_message(app, shop_factory, base_url, emulator):
    shop = shop_factory("amazon")
    configure(shop, {**sandbox.demo_settings(base_url), "refresh_token": "Atzr|revoked"})

    result = services.test_connection(shop, "amazon")

    assert not result.ok
    assert "refresh token a été refusé (invalid_grant)" in result.message
    assert shop.status == ConnectionStatus.ERROR
    assert emulator.config["CALLS"] == [("POST", "/auth/o2/token")]


def test_bad_client_secret_is_refused(app, shop_factory, base_url):
    shop = shop_factory("amazon")
    configure(shop, {**sandbox.demo_settings(base_url), "lwa_client_secret": "wrong"})

    result = services.test_connection(shop, "amazon")

    assert not result.ok
    assert "(invalid_client)" in result.message and "(401)" in result.message


def test_missing_secrets_are_reported_without_any_request(app, shop_factory, base_url, emulator):
    shop = shop_factory("amazon")
    settings = sandbox.demo_settings(base_url)
    del settings["refresh_token"]
    configure(shop, settings)

    result = services.test_connection(shop, "amazon")

    assert not result.ok and "refresh token" in result.message
    assert emulator.config["CALLS"] == []


def test_emulator_speaks_sp_api_wire_format(emulator):
    web = emulator.test_client()
    denied = web.get("/sellers/v1/marketplaceParticipations", headers={"x-amz-access-token": "Atza|nope"})
    assert denied.status_code == 403
    assert denied.json == {"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied.",
                                       "details": ""}]}

    bad_grant = web.post("/auth/o2/token", data={
        "grant_type": "refresh_token", "refresh_token": "Atzr|x",
        "client_id": sandbox.DEMO_CLIENT_ID, "client_secret": sandbox.DEMO_CLIENT_SECRET})
    assert bad_grant.status_code == 400
    assert bad_grant.json == {"error": "invalid_grant",
                              "error_description": "The request has an invalid grant parameter : refresh_token"}

    token = web.post("/auth/o2/token", data={
        "grant_type": "refresh_token", "refresh_token": sandbox.DEMO_REFRESH_TOKEN,
        "client_id": sandbox.DEMO_CLIENT_ID, "client_secret": sandbox.DEMO_CLIENT_SECRET}).json
    assert token["token_type"] == "bearer" and token["expires_in"] == 3600
    ok = web.get("/sellers/v1/marketplaceParticipations", headers={"x-amz-access-token": token["access_token"]})
    assert ok.status_code == 200 and ok.headers["x-amzn-RateLimit-Limit"]
    first = ok.json["payload"][0]
    assert set(first["marketplace"]) == {"id", "countryCode", "name", "defaultCurrencyCode",
                                         "defaultLanguageCode", "domainName"}
    assert set(first["participation"]) == {"isParticipating", "hasSuspendedListings"}


def test_sync_job_is_the_orders_import_and_the_check_stays(app, shop_factory, base_url):
    shop = shop_factory("amazon")
    configure(shop, sandbox.demo_settings(base_url))
    assert registry().call_one("amazon", "channel_sync_job", shop=shop) == "addons.amazon.jobs.sync_orders"

    assert "le compte Amazon vend sur" in jobs.check_connection(shop.id)
    token_cache.clear()
    configure(shop, {"refresh_token": "Atzr|revoked"})
    with pytest.raises(jobs.AmazonError, match="invalid_grant"):
        jobs.check_connection(shop.id)


def test_form_accepts_demo_settings_and_refuses_a_bad_client_id(app):
    good = {k: v for k, v in sandbox.demo_settings("http://127.0.0.1:5000").items() if k != "marketplaces"}
    with app.test_request_context(method="POST", data={**good, "marketplaces": ["A13V1IB3VIYZZH"]}):
        form = SettingsForm(meta={"csrf": False})
        assert form.validate(), form.errors
        assert form.marketplaces.data == ["A13V1IB3VIYZZH"]
    with app.test_request_context(method="POST", data={**good, "lwa_client_id": "my-mws-key"}):
        form = SettingsForm(meta={"csrf": False})
        assert not form.validate() and "lwa_client_id" in form.errors


def test_migration_matches_the_model(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "ADDONS": ["amazon"], "JOBS_MODE": "manual",
                      "REDIS_URL": None, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'migrated.db'}"})
    tables = [t.name for t in db.metadata.sorted_tables if t.name.startswith("amazon_")]
    assert len(tables) == 8
    with app.app_context():
        flask_migrate.upgrade(revision="heads")
        with db.engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert [d for d in diffs if any(f"'{t}'" in repr(d) for t in tables)] == []
        flask_migrate.downgrade(revision="amazon@base")
        assert not any(sa.inspect(db.engine).has_table(t) for t in tables)
        db.engine.dispose()


def test_failed_sync_is_logged_by_the_job_layer(app, shop_factory, base_url):
    from core.jobs import run_pending
    from core.models import SyncLog, SyncStatus

    shop = shop_factory("amazon")
    configure(shop, {**sandbox.demo_settings(base_url), "lwa_client_secret": "wrong"})
    services.sync_now(shop)
    db.session.commit()

    assert run_pending() == 1

    entry = db.session.scalars(sa.select(SyncLog).where(SyncLog.shop_id == shop.id)).one()
    assert entry.status == SyncStatus.RETRYING
    assert "AmazonError" in entry.error and "invalid_client" in entry.error
    db.session.refresh(shop)
    assert shop.last_sync_at is None and shop.sync_cursor is None


def test_configure_page_saves_tests_and_never_echoes_secrets(app, client, login, post_form, shop_factory, base_url):
    login(client)
    shop = shop_factory("amazon")
    url = f"/integrations/amazon/shops/{shop.id}/configure"

    res = post_form(url, data={**sandbox.demo_settings(base_url), "then": "test"})

    assert res.status_code == 200
    page = res.get_data(as_text=True)
    assert 'data-test-ok="true"' in page and "Amazon.fr : vente active" in page  # a name, not an id
    form_page = client.get(url).get_data(as_text=True)
    assert sandbox.DEMO_REFRESH_TOKEN not in form_page and sandbox.DEMO_CLIENT_SECRET not in form_page
    row = db.session.get(type(shop), shop.id).addon_row("amazon")
    assert row.settings["marketplaces"] == ["A13V1IB3VIYZZH", "A1PA6795UKMFR9", "A1F83G8C2ARO7P"]
    assert set(row.secrets) == {"lwa_client_secret", "refresh_token"}
