"""The twenty operators in the catalog (searchable, filtered by category), a shop created for
an operator, the same Mirakl shop connected twice refused, tenant isolation, migration."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from addons.mirakl import operators, sandbox
from core.addons import parse_manifest
from core.extensions import db
from core.models import Shop
from core.services import AccountAlreadyConnected, save_settings

from .conftest import SECRETS, configure

PACKAGE = Path(__file__).resolve().parent.parent
TWENTY = {"carrefour", "leroymerlin", "conforama", "boulanger", "rueducommerce", "maisonsdumonde", "decathlon",
          "auchan", "but", "laredoute", "galerieslafayette", "truffaut", "leclerc", "showroomprive", "castorama",
          "intermarche", "bhv", "alltricks", "natureetdecouvertes", "ubaldi"}


def _entries(page: str) -> set[str]:
    return set(re.findall(r'data-entry="([a-z]+)"', page))


def test_manifest_and_operator_data():
    manifest = parse_manifest((PACKAGE / "__manifest__.py").read_text())
    assert manifest["kind"] == "channel" and manifest["category"] == "marketplace"
    data = json.loads((PACKAGE / "operators.json").read_text())
    assert {o["code"] for o in data["operators"]} == TWENTY
    for op in data["operators"]:
        assert op["instance_url"].startswith("https://") and op["instance_url"].endswith(".mirakl.net")
        assert op["help_url"].startswith("https://") and op["sells"] and op["category"] in data["sectors"]
        assert set(op["settings"]) >= {"partial_acceptance", "returns", "multi_shipment"}


def test_the_catalog_shows_twenty_operators_searchable_and_filtered(app, client, login):
    login(client)
    page = client.get("/integrations/").get_data(as_text=True)
    assert _entries(page) == TWENTY
    assert 'data-addon="mirakl"' in page and "Leroy Merlin" in page
    assert _entries(client.get("/integrations/?q=leroy").get_data(as_text=True)) == {"leroymerlin"}
    assert _entries(client.get("/integrations/?q=GALERIES").get_data(as_text=True)) == {"galerieslafayette"}
    assert _entries(client.get("/integrations/?sector=diy").get_data(as_text=True)) == {"leroymerlin", "castorama"}
    assert _entries(client.get("/integrations/?sector=sport&q=vélo").get_data(as_text=True)) == {"alltricks",
                                                                                                  "decathlon"}
    assert _entries(client.get("/integrations/?category=carrier").get_data(as_text=True)) == set()
    assert _entries(client.get("/integrations/?q=zzzz").get_data(as_text=True)) == set()
    # a merchant's description on the card, no instance address or settings-like lines
    assert "Vos commandes Carrefour arrivent dans l" in page
    assert "mirakl.net" not in page and "Acceptation partielle" not in page
    icon = client.get("/integrations/mirakl/icon?entry=boulanger")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml" and b">BO<" in icon.data


def test_adding_an_operator_is_one_entry(app, client, login, monkeypatch, tmp_path):
    data = json.loads(operators.DATA.read_text())
    data["operators"].append({"code": "manor", "name": "Manor", "category": "general",
                              "instance_url": "https://manor-prod.mirakl.net", "help_url": "https://www.manor.ch",
                              "sells": "Grand magasin suisse", "settings": {}})
    extra = tmp_path / "operators.json"
    extra.write_text(json.dumps(data))
    monkeypatch.setattr(operators, "DATA", extra)
    operators._load.cache_clear()
    try:
        login(client)
        assert "manor" in _entries(client.get("/integrations/?q=manor").get_data(as_text=True))
    finally:
        operators._load.cache_clear()


def test_a_shop_created_from_a_card_is_for_that_operator(app, client, login, post_form, org):
    login(client)
    page = client.get("/integrations/mirakl?entry=leroymerlin").get_data(as_text=True)
    assert "leroymerlin-prod.mirakl.net" in page and 'value="leroymerlin"' in page
    res = post_form("/integrations/mirakl/shops", {"name": "Mon Leroy Merlin", "entry": "leroymerlin",
                                                   "sync_mode": "every_15_min"}, page="/integrations/mirakl?entry=leroymerlin")
    assert res.status_code == 302
    shop = db.session.scalar(select(Shop).where(Shop.organization_id == org.id))
    assert shop.addon == "mirakl" and shop.marketplace == "leroymerlin"
    card = client.get("/integrations/?q=leroy").get_data(as_text=True)
    assert "1 boutique" in card
    other = client.get("/integrations/?q=carrefour").get_data(as_text=True)
    assert "1 boutique" not in other
    assert client.get("/integrations/mirakl?entry=nope").status_code == 404


def test_the_same_mirakl_shop_cannot_be_connected_twice(app, shop_factory, base_url):
    first = shop_factory("mirakl", marketplace="carrefour")
    configure(first, sandbox.settings_for(base_url, "carrefour"))
    second = shop_factory("mirakl", marketplace="carrefour")
    with pytest.raises(AccountAlreadyConnected):
        save_settings(second, "mirakl", sandbox.settings_for(base_url, "carrefour"), SECRETS)
    db.session.rollback()
    # the same key on another operator's instance is another account
    other = shop_factory("mirakl", marketplace="leroymerlin")
    configure(other, sandbox.settings_for(base_url, "leroymerlin"))
    # one key, two shops of one seller: told apart by shop_id
    configure(second, {**sandbox.settings_for(base_url, "carrefour"), "shop_id": "3001"})


def test_another_organization_never_sees_the_page(app, client, login, make_shop, make_org, make_user):
    shop = make_shop("carrefour")
    login(client)
    page = client.get(f"/apps/mirakl/shops/{shop.id}")
    assert page.status_code == 200 and "carrefourfr-prod" not in page.get_data(as_text=True)
    stranger = make_org("Autre marchand")
    other = make_user(stranger, email="autre@exemple.fr")
    theirs = app.test_client()
    login(theirs, user=other)
    assert theirs.get(f"/apps/mirakl/shops/{shop.id}").status_code == 404
    assert theirs.get("/integrations/?q=carrefour").get_data(as_text=True).count("1 boutique") == 0


def test_migration_branch_applies(app):
    from flask_migrate import upgrade

    db.drop_all()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    upgrade(revision="heads")
    for table in ("mirakl_order", "mirakl_shop_state", "mirakl_stock_import", "mirakl_shipment"):
        assert inspect(db.engine).has_table(table)
