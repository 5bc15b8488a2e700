"""The bell and the owners' daily digest: each alert says what is wrong and links to its fix;
the digest goes to the owners through a real SMTP server on loopback."""
from __future__ import annotations

from datetime import timedelta

import pytest

from core import alerts
from core.extensions import db
from core.models import (
    ConnectionStatus,
    Order,
    OrderStatus,
    Product,
    Role,
    Shipment,
    ShipmentStatus,
    StockLevel,
    Variant,
    VariantBinding,
    Warehouse,
    utcnow,
)


@pytest.fixture
def addons():
    return ["shopify"]


def _order(shop, number, status, age_hours=0.0):
    order = Order(organization_id=shop.organization_id, shop_id=shop.id, external_id=number, number=number,
                  status=status, currency="EUR")
    db.session.add(order)
    db.session.flush()
    order.updated_at = utcnow() - timedelta(hours=age_hours)
    return order


@pytest.fixture
def troubles(org, shop_factory):
    shop = shop_factory("shopify", "Boutique en panne")
    shop.status = ConnectionStatus.ERROR
    _order(shop, "#H-OLD", OrderStatus.ON_HOLD, age_hours=3)
    _order(shop, "#H-NEW", OrderStatus.ON_HOLD, age_hours=0.1)
    failed = _order(shop, "#L-1", OrderStatus.PACKED)
    db.session.add(Shipment(order_id=failed.id, status=ShipmentStatus.DRAFT, label_error="adresse refusée"))
    warehouse = Warehouse(organization_id=org.id, name="Paris", code="PAR")
    product = Product(organization_id=org.id, title="Mug")
    db.session.add_all([warehouse, product])
    db.session.flush()
    listed = Variant(organization_id=org.id, product_id=product.id, sku="MUG-BLEU", title="Mug bleu")
    unlisted = Variant(organization_id=org.id, product_id=product.id, sku="MUG-ROSE", title="Mug rose")
    stocked = Variant(organization_id=org.id, product_id=product.id, sku="MUG-VERT", title="Mug vert")
    db.session.add_all([listed, unlisted, stocked])
    db.session.flush()
    db.session.add_all([
        StockLevel(variant_id=listed.id, warehouse_id=warehouse.id, on_hand=2, reserved=2),
        StockLevel(variant_id=stocked.id, warehouse_id=warehouse.id, on_hand=5, reserved=1),
        VariantBinding(shop_id=shop.id, variant_id=listed.id, external_id="gid://1"),
        VariantBinding(shop_id=shop.id, variant_id=stocked.id, external_id="gid://2"),
    ])
    db.session.commit()
    return shop, product


def test_each_trouble_is_an_alert_linking_to_its_fix(app, org, troubles):
    shop, product = troubles
    with app.test_request_context():
        found = alerts.collect(org)
        kinds = [a.kind for a in found]
        assert sorted(kinds) == ["label_failed", "orders_held", "shop_error", "sold_out"]
        assert kinds.index("shop_error") < kinds.index("orders_held")  # errors first
        by_kind = {a.kind: a for a in found}
        assert "1 commande attend" in by_kind["orders_held"].title  # the fresh one is not late yet
        assert by_kind["shop_error"].url() == f"/integrations/shops/{shop.id}/log"
        assert "MUG-BLEU" in by_kind["sold_out"].title and by_kind["sold_out"].url() == f"/products/{product.id}"


def test_the_bell_counts_and_its_page_lists_with_buttons(app, client, login, troubles):
    login(client, Role.STAFF)
    page = client.get("/orders").get_data(as_text=True)
    assert "data-bell" in page and '<span class="nav-count" aria-hidden="true">4</span>' in page
    alerts_page = client.get("/alerts").get_data(as_text=True)
    assert alerts_page.count("data-alert=") == 4 and "Voir le journal et relancer" in alerts_page
    picker = app.test_client()
    login(picker, Role.PICKER)
    assert picker.get("/alerts").status_code == 403
    assert "data-bell" not in picker.get("/preparation/waves").get_data(as_text=True)


def test_the_digest_goes_to_owners_only_with_links(app, org, make_user, troubles, smtp_server):
    app.config["PUBLIC_URL"] = "https://oms.boutique.example"
    owner = make_user(org, Role.OWNER, email="patronne@example.com")
    make_user(org, Role.STAFF, email="equipe@example.com")
    assert alerts.send_digests() == "1 résumé(s) envoyé(s)"
    assert [m[0] for m in smtp_server.messages] == [[owner.email]]
    message = smtp_server.messages[0][1]
    assert "4 points à regarder" in message["Subject"]
    body = message.get_content()
    assert "https://oms.boutique.example/integrations/shops/" in body and "MUG-BLEU" in body


def test_a_calm_day_and_no_smtp(app, org, make_user):
    owner = make_user(org, Role.OWNER)
    assert alerts.send_digests().startswith("aucun serveur d'e-mail")
    with app.test_request_context():
        subject, text = alerts.digest(org, owner)
    assert "tout va bien" in subject and "Rien ne demande votre attention" in text


def test_the_digest_speaks_the_owners_language(app, org, make_user, troubles):
    owner = make_user(org, Role.OWNER)
    owner.locale = "en"
    db.session.commit()
    with app.test_request_context():
        subject, text = alerts.digest(org, owner)
    assert "4 things to look at today" in subject and "sold out on every channel" in text
