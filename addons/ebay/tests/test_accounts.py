"""One eBay account per organization, tenant isolation of the pages, the manifest, the
settings form, the migration."""
from __future__ import annotations

from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from addons.ebay import sandbox
from addons.ebay.forms import SettingsForm
from addons.ebay.hooks import channel_account_key
from core import create_app, services
from core.addons import parse_manifest
from core.extensions import db

from .conftest import configure

ADDON_DIR = Path(__file__).resolve().parents[1]


def test_manifest_and_readme():
    manifest = parse_manifest((ADDON_DIR / "__manifest__.py").read_text(encoding="utf-8"))
    assert manifest["kind"] == "channel" and manifest["category"] == "marketplace"
    assert (ADDON_DIR / manifest["icon"]).is_file()
    configure_text = (ADDON_DIR / "readme" / "CONFIGURE.md").read_text(encoding="utf-8")
    for needed in ("App ID", "Cert ID", "RuName", "developer.ebay.com", "Jeton de vérification"):
        assert needed in configure_text
    usage = (ADDON_DIR / "readme" / "USAGE.md").read_text(encoding="utf-8")
    assert "API Inventory" in usage and "annulation" in usage


def test_account_key():
    assert channel_account_key(None, {"username": "Atelier-Lumiere", "marketplace": "EBAY_FR"}) == [
        "atelier-lumiere:EBAY_FR"]
    assert channel_account_key(None, {"username": "a", "marketplace": "EBAY_FR", "marketplaces": ["EBAY_DE",
                                                                                                  "EBAY_FR"]}) == [
        "a:EBAY_FR", "a:EBAY_DE"]
    assert channel_account_key(None, {}) is None


def test_the_same_account_twice_in_one_organization_is_refused(app, shop_factory, make_org, base_url):
    first = shop_factory("ebay", "eBay France")
    configure(first, sandbox.demo_settings(base_url))
    second = shop_factory("ebay", "eBay bis")
    with pytest.raises(services.AccountAlreadyConnected) as refused:
        configure(second, {**sandbox.demo_settings(base_url), "username": sandbox.DEMO_USERNAME.upper()})
    assert refused.value.holder.id == first.id
    db.session.rollback()
    # the same seller on eBay.de is another account; another organization may connect it too
    configure(second, {**sandbox.demo_settings(base_url), "marketplace": "EBAY_DE"})
    other = shop_factory("ebay", "ailleurs", organization=make_org("Autre"))
    configure(other, sandbox.demo_settings(base_url))


def test_pages_are_guarded_and_tenants_isolated(app, client, login, post_form, shop_factory, make_org, base_url):
    login(client)
    mine = shop_factory("ebay", "Ma boutique eBay")
    configure(mine, sandbox.demo_settings(base_url))
    theirs = shop_factory("ebay", "Leur boutique eBay", organization=make_org("Concurrent"))
    configure(theirs, {**sandbox.demo_settings(base_url), "username": "concurrent"})
    page = client.get("/apps/ebay/").get_data(as_text=True)
    assert "Ma boutique eBay" in page and "Leur boutique eBay" not in page
    res = post_form(f"/apps/ebay/shops/{theirs.id}/stock", page="/apps/ebay/")
    assert res.status_code == 404
    res = post_form(f"/apps/ebay/shops/{theirs.id}/install", page="/apps/ebay/")
    assert res.status_code == 404


def test_settings_form_validates(app):
    good = {"username": "atelier-lumiere-fr", "marketplace": "EBAY_FR", "client_id": "OMS-PRD-1",
            "ru_name": "OMS-RuName", "verification_token": "t" * 40}
    with app.test_request_context(method="POST", data=good):
        assert SettingsForm(meta={"csrf": False}).validate()
    with app.test_request_context(method="POST", data={**good, "verification_token": "short"}):
        form = SettingsForm(meta={"csrf": False})
        assert not form.validate() and "verification_token" in form.errors
    with app.test_request_context(method="POST", data={**good, "api_base_url": "https://evil.example.com"}):
        form = SettingsForm(meta={"csrf": False})
        assert not form.validate() and "api_base_url" in form.errors


def test_migration_matches_the_model(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "ADDONS": ["ebay"], "JOBS_MODE": "manual",
                      "REDIS_URL": None, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'migrated.db'}"})
    tables = [t.name for t in db.metadata.sorted_tables if t.name.startswith("ebay_")]
    assert len(tables) == 7
    with app.app_context():
        flask_migrate.upgrade(revision="heads")
        with db.engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert [d for d in diffs if any(f"'{t}'" in repr(d) for t in tables)] == []
        flask_migrate.downgrade(revision="ebay@base")
        assert not any(sa.inspect(db.engine).has_table(t) for t in tables)
        db.engine.dispose()
