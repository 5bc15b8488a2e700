"""Colissimo on its emulator: connection, rates from the contract, label, tracking."""
from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import inspect

from core.addons import call, parse_manifest
from core.extensions import db
from core.models import Order, Shipment, Shop
from core.services import save_settings, set_enabled
from core.services import test_connection as check_connection

from oms_addon_colissimo import sandbox

PACKAGE = Path(__file__).resolve().parent.parent / "oms_addon_colissimo"
SECRETS = {"password", "okapi_key"}


@pytest.fixture
def addons():
    return ["colissimo_partner"]


@pytest.fixture
def app_config():
    return {"ADDON_MODULES": {"colissimo_partner": "oms_addon_colissimo.hooks"}}


@pytest.fixture
def remote(serve_wsgi):
    app = sandbox.make_app()
    return app, serve_wsgi(app)


@pytest.fixture
def shop(app, org, remote):
    shop = Shop(organization_id=org.id, addon="manual", name="Boutique")
    db.session.add(shop)
    db.session.flush()
    set_enabled(shop, "colissimo_partner", True)
    save_settings(shop, "colissimo_partner", sandbox.settings_for(remote[1]), SECRETS)
    db.session.commit()
    return shop


@pytest.fixture
def order(shop, org):
    order = Order(organization_id=org.id, shop_id=shop.id, external_id="1", number="#1001", total=30,
                  shipping_address={"name": "Julie Moreau", "line1": "8 rue de la Paix", "postal_code": "69002",
                                    "city": "Lyon", "country": "FR", "email": "julie@exemple.fr"})
    db.session.add(order)
    db.session.commit()
    return order


def test_manifest_and_entry_point():
    manifest = parse_manifest((PACKAGE / "__manifest__.py").read_text())
    assert manifest["kind"] == "carrier" and manifest["api_version"] == "SLS REST 2.0"
    assert 'colissimo_partner = "oms_addon_colissimo.hooks"' in (PACKAGE.parent / "pyproject.toml").read_text()


def test_connection(app, shop):
    result = check_connection(shop, "colissimo_partner")
    assert result.ok, result.message
    save_settings(shop, "colissimo_partner", {"password": "wrong"}, SECRETS)
    result = check_connection(shop, "colissimo_partner")
    assert not result.ok and "30000" in result.message and "incorrect" in result.message


def test_rates_come_from_the_contract(app, shop, order):
    rates = call(shop, "shipping_quote_rates", order=order, parcels=[{"weight_grams": 800}])
    assert [(r.service, str(r.price)) for rs in rates for r in rs] == [("DOM", "7.49")]
    assert call(shop, "shipping_quote_rates", order=order, parcels=[{"weight_grams": 9000}]) == [[]]


def test_label_then_tracking_until_delivered(app, shop, order, remote):
    shipment = Shipment(order_id=order.id, carrier="colissimo_partner", weight_grams=800)
    db.session.add(shipment)
    db.session.flush()
    label = call(shop, "shipping_create_label", order=order, shipment=shipment)
    assert label.tracking_number.startswith("6A") and label.pdf.startswith(b"%PDF")
    assert label.tracking_url.endswith(label.tracking_number)
    sent = remote[0].config["STATE"]["parcels"][label.tracking_number]["request"]
    assert sent["letter"]["parcel"]["weight"] == "0.80" and sent["letter"]["addressee"]["address"]["zipCode"] == "69002"
    shipment.tracking_number = label.tracking_number
    assert call(shop, "shipping_track", shipment=shipment) == "in_transit"
    httpx.post(f"{remote[1]}/_sandbox/deliver/{label.tracking_number}")
    assert call(shop, "shipping_track", shipment=shipment) == "delivered"
    assert call(shop, "shipping_cancel_label", shipment=shipment) is True


def test_refused_label_says_why(app, shop, order):
    order.shipping_address = {"name": "Sans code postal", "city": "Lyon", "country": "FR"}
    shipment = Shipment(order_id=order.id, carrier="colissimo_partner", weight_grams=500)
    db.session.add(shipment)
    db.session.flush()
    from oms_addon_colissimo.client import ColissimoError

    with pytest.raises(ColissimoError, match="30220"):
        from oms_addon_colissimo.hooks import shipping_create_label

        shipping_create_label(shop, order, shipment)


def test_migration_branch_applies(app):
    from flask_migrate import upgrade

    db.drop_all()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    upgrade(revision="heads")
    assert inspect(db.engine).has_table("colissimo_partner_link")
