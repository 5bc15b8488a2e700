"""The merchant's pages: suppliers (API key shown once, stored hashed), their products, the
purchase orders and their sends, the feed runs; guarded by role, by the add-on being enabled,
and by organization (another organization's ids are 404)."""
from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import select

from addons.dropship.models import DropshipPurchaseOrder, DropshipSend, DropshipSupplier, DropshipSupplierProduct
from addons.dropship.suppliers import hash_key, supplier_for_key
from core import services
from core.extensions import db
from core.models import OutboxJob, Warehouse, WarehouseKind, utcnow
from tests.pipeline_helpers import variant

from .conftest import link, place

SUPPLIER = {"name": "Atelier Dupont", "contact_name": "Jeanne Dupont", "email": "commandes@example.com",
            "phone": "01 23 45 67 89", "order_channel": "email", "lead_time_days": "3", "currency": "eur",
            "batch_times": "", "feed_url": "", "active": "y"}


def test_the_catalog_opens_the_dropshipping_pages_once_enabled(app, client, login, shop):
    login(client)
    card = client.get("/integrations/").get_data(as_text=True)
    card = card[card.index('data-addon="dropship"'):]
    assert 'href="/apps/dropship/"' in card[:card.index("</article>")]
    assert 'href="/apps/dropship/"' in client.get("/integrations/dropship").get_data(as_text=True)
    services.set_enabled(shop, "dropship", False)
    db.session.commit()
    card = client.get("/integrations/").get_data(as_text=True)
    card = card[card.index('data-addon="dropship"'):]
    assert 'href="/apps/dropship/"' not in card[:card.index("</article>")]


def test_create_a_supplier_shows_its_key_once(app, client, login, post_form, shop):
    login(client)

    res = post_form("/apps/dropship/suppliers/new", data={**SUPPLIER, "order_channel": "webhook",
                                                          "webhook_url": "https://dupont.example.com/po"})

    assert res.status_code == 200
    page = res.get_data(as_text=True)
    key = re.search(r"<code data-api-key>([^<]+)</code>", page).group(1)
    secret = re.search(r"<code data-webhook-secret>([^<]+)</code>", page).group(1)
    supplier = db.session.scalar(select(DropshipSupplier))
    assert supplier.api_key_hash == hash_key(key) and key not in (supplier.api_key_hash or "")
    assert supplier_for_key(key) is supplier and supplier.webhook_secret == secret
    assert (supplier.currency, supplier.lead_time_days, supplier.contact_name) == ("EUR", 3, "Jeanne Dupont")
    warehouse = db.session.get(Warehouse, supplier.warehouse_id)
    assert warehouse.kind == WarehouseKind.SUPPLIER and warehouse.name == "Fournisseur Atelier Dupont"
    edit = client.get(f"/apps/dropship/suppliers/{supplier.id}").get_data(as_text=True)
    assert key not in edit and secret not in edit
    assert "Atelier Dupont" in client.get("/apps/dropship/suppliers").get_data(as_text=True)
    duplicate = post_form("/apps/dropship/suppliers/new", data=SUPPLIER)
    assert "Un fournisseur porte déjà ce nom." in duplicate.get_data(as_text=True)
    by_email = post_form("/apps/dropship/suppliers/new", data={**SUPPLIER, "name": "Grossiste Martin"})
    assert "data-api-key" in by_email.get_data(as_text=True)
    assert "data-webhook-secret" not in by_email.get_data(as_text=True)

    # a new key replaces the old one
    res = post_form(f"/apps/dropship/suppliers/{supplier.id}/api-key", page=f"/apps/dropship/suppliers/{supplier.id}")
    new_key = re.search(r"<code data-api-key>([^<]+)</code>", res.get_data(as_text=True)).group(1)
    assert supplier_for_key(new_key) is not None and supplier_for_key(key) is None


def test_edit_a_supplier_keeps_its_secret_and_renames_its_warehouse(app, client, login, post_form, shop,
                                                                    make_supplier):
    supplier, _ = make_supplier(order_channel="webhook", webhook_url="https://dupont.example.com/po",
                                webhook_secret="secret-partage-avec-dupont")
    login(client)
    url = f"/apps/dropship/suppliers/{supplier.id}"

    res = post_form(url, data={**SUPPLIER, "name": "Dupont & Fils", "order_channel": "webhook",
                               "webhook_url": "https://dupont.example.com/po", "webhook_secret": "",
                               "feed_url": "https://dupont.example.com/stock.csv", "feed_interval_minutes": "30"})

    assert res.status_code == 302
    db.session.refresh(supplier)
    assert supplier.name == "Dupont & Fils" and supplier.webhook_secret == "secret-partage-avec-dupont"
    assert supplier.feed_interval_minutes == 30 and supplier.warehouse.name == "Fournisseur Dupont & Fils"
    bad = post_form(url, data={**SUPPLIER, "order_channel": "webhook", "webhook_url": ""})
    assert bad.status_code == 200 and "Indiquez l'adresse du webhook" in bad.get_data(as_text=True)


def test_link_products_by_sku(app, client, login, post_form, shop, org, make_supplier):
    supplier, _ = make_supplier()
    lamp = variant(org.id, "LAMPE")
    variant(org.id, "VASE")
    db.session.commit()
    login(client)
    url = f"/apps/dropship/suppliers/{supplier.id}/products"
    form = {"sku": "LAMPE", "supplier_sku": "DUP-LAMP-01", "unit_cost": "12.5", "currency": "", "priority": "1",
            "mode": "dropship", "dropship_only": "y"}

    assert post_form(url, data=form).status_code == 302
    assert post_form(url, data={**form, "unit_cost": "11"}).status_code == 302  # same SKU: updated

    [product] = db.session.scalars(select(DropshipSupplierProduct)).all()
    assert (product.variant_id, product.unit_cost, product.currency, product.dropship_only) == \
        (lamp.id, Decimal("11.0000"), "EUR", True)
    unknown = post_form(url, data={**form, "sku": "INCONNU"})
    assert "Aucun produit n&#39;a ce SKU" in unknown.get_data(as_text=True)
    clash = post_form(url, data={**form, "sku": "VASE"})
    assert "Cette référence fournisseur sert déjà" in clash.get_data(as_text=True)
    restock_only = post_form(url, data={**form, "sku": "VASE", "supplier_sku": "DUP-VASE", "mode": "restock"})
    assert "doit être expédié par le fournisseur" in restock_only.get_data(as_text=True)
    page = client.get(url).get_data(as_text=True)
    assert "DUP-LAMP-01" in page and "11,00" in page

    delete = post_form(f"{url}/{product.id}/delete", page=url)
    assert delete.status_code == 302 and db.session.scalar(select(DropshipSupplierProduct.id)) is None


def test_purchase_order_pages_and_resend(app, client, login, post_form, shop, org, make_supplier):
    supplier, _ = make_supplier()
    link(supplier, variant(org.id, "LAMPE"), "DUP-LAMP-01", dropship_only=True)
    order = place(shop, "P1", [("LAMPE", 2)])
    po = db.session.scalar(select(DropshipPurchaseOrder))
    po.status = "failed"
    po.last_error = "Connexion refusée par 127.0.0.1:2525"
    po.sends.append(DropshipSend(channel="email", ok=False, error=po.last_error, attempt=1, at=utcnow()))
    db.session.commit()
    login(client)

    listing = client.get("/apps/dropship/purchase-orders").get_data(as_text=True)
    assert po.reference in listing and order.number in listing and 'data-send-ok="false"' in listing
    assert po.reference not in client.get("/apps/dropship/purchase-orders?status=shipped").get_data(as_text=True)
    detail = client.get(f"/apps/dropship/purchase-orders/{po.id}").get_data(as_text=True)
    assert "DUP-LAMP-01" in detail and "Connexion refusée" in detail and "/apps/dropship/supplier/" in detail

    db.session.execute(OutboxJob.__table__.delete())
    db.session.commit()
    res = post_form(f"/apps/dropship/purchase-orders/{po.id}/resend", page=f"/apps/dropship/purchase-orders/{po.id}")
    assert res.status_code == 302
    job = db.session.scalar(select(OutboxJob))
    assert job.func == "addons.dropship.jobs.send_purchase_orders" and job.args == [[po.reference], None]

    # the merchant types a tracking number the supplier gave by phone
    res = post_form(f"/apps/dropship/purchase-orders/{po.id}",
                    data={"carrier": "Colissimo", "tracking_number": "6A999", "tracking_url": ""})
    assert res.status_code == 302
    db.session.refresh(po)
    assert po.status == "shipped" and po.trackings[0].source == "merchant"


def test_pages_need_a_manager_and_the_addon_enabled(app, client, login, org, make_user, shop_factory):
    login(client, role="picker")
    assert client.get("/apps/dropship/suppliers").status_code == 403
    other = client.application.test_client()
    shop = shop_factory("recorder", "Boutique sans dropshipping")
    assert "dropship" not in shop.enabled_addons()
    login(other)
    res = other.get("/apps/dropship/suppliers")
    assert res.status_code == 404 and "Dropshipping non activé" in res.get_data(as_text=True)
    services.set_enabled(shop, "dropship", True)
    db.session.commit()
    assert other.get("/apps/dropship/suppliers").status_code == 200
    assert other.get("/apps/dropship/").status_code == 302


def test_another_organizations_ids_are_404(app, client, login, post_form, shop, org, make_org, make_supplier,
                                           shop_factory):
    rival = make_org("Concurrent")
    rival_shop = shop_factory("recorder", "Boutique concurrente", organization=rival)
    services.set_enabled(rival_shop, "dropship", True)
    theirs, _ = make_supplier("Fournisseur du concurrent", organization=rival)
    link(theirs, variant(rival.id, "SECRET"), "CONC-1", dropship_only=True)
    place(rival_shop, "R1", [("SECRET", 1)])
    their_po = db.session.scalar(select(DropshipPurchaseOrder))
    their_link = theirs.products[0]
    mine, _ = make_supplier()
    login(client)
    token_page = "/apps/dropship/suppliers"

    for url in (f"/apps/dropship/suppliers/{theirs.id}", f"/apps/dropship/suppliers/{theirs.id}/products",
                f"/apps/dropship/purchase-orders/{their_po.id}", "/apps/dropship/suppliers/abc"):
        assert client.get(url).status_code == 404, url
    for url in (f"/apps/dropship/suppliers/{theirs.id}/api-key", f"/apps/dropship/suppliers/{theirs.id}/feed",
                f"/apps/dropship/suppliers/{theirs.id}/feed/fetch",
                f"/apps/dropship/suppliers/{theirs.id}/products/{their_link.id}/delete",
                f"/apps/dropship/suppliers/{mine.id}/products/{their_link.id}/delete",
                f"/apps/dropship/purchase-orders/{their_po.id}/resend"):
        assert post_form(url, page=token_page).status_code == 404, url
    listing = client.get("/apps/dropship/purchase-orders").get_data(as_text=True)
    assert their_po.reference not in listing
    assert "Fournisseur du concurrent" not in client.get("/apps/dropship/suppliers").get_data(as_text=True)
    assert "Fournisseur du concurrent" not in client.get("/apps/dropship/feeds").get_data(as_text=True)
    assert db.session.scalar(select(DropshipSupplierProduct.id).where(
        DropshipSupplierProduct.id == their_link.id)) is not None
