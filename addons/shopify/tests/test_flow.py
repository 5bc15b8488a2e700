"""The whole journey on the emulator: install, products, a customer order, stock, shipment."""
from __future__ import annotations

from sqlalchemy import func, select

from addons.shopify import sandbox
from addons.shopify.models import ShopifyFulfillment, ShopifyLocation, ShopifyShopState, ShopifyWebhookInbox
from core import orders as order_flow
from core.extensions import db
from core.models import (
    ConnectionStatus,
    Order,
    OrderStatus,
    Shipment,
    Shop,
    VariantBinding,
    Warehouse,
    WarehouseKind,
)
from tests.pipeline_helpers import variant, warehouse

from .helpers import install, variant_by_sku

SKU = "TCB-BLA-M"  # the demo catalogue's "T-shirt coton bio", Blanc / M


def test_install_import_order_stock_and_tracking(app, client, login, post_form, shop_factory, org, emu, base_url,
                                                run_jobs):
    login(client)
    paris = warehouse(org.id, "PAR")
    mine = variant(org.id, SKU, {paris: 30})  # already in the OMS: linked by SKU
    db.session.commit()
    shop = shop_factory("shopify", "Maison Lumière")

    res = install(client, post_form, shop, base_url)

    assert res.status_code == 302 and res.headers["Location"].endswith("/integrations/")
    shop = db.session.get(Shop, shop.id)
    db.session.refresh(shop)
    assert shop.status == ConnectionStatus.CONNECTED
    creds = shop.credentials
    assert creds["access_token"].startswith("shpat_") and creds["refresh_token"].startswith("shprt_")
    assert creds["expires_at"]  # an expiring offline token
    catalog_page = client.get("/integrations/").get_data(as_text=True)
    assert 'data-addon="shopify" data-status="connected"' in catalog_page

    run_jobs()

    # webhooks subscribed, products imported (customs data included), locations mapped
    assert {s["topic"] for s in emu.subscriptions.values()} >= {"orders/create", "products/update",
                                                                "app/uninstalled"}
    assert all(s["uri"] == "http://localhost/apps/shopify/webhooks" for s in emu.subscriptions.values())
    tee = variant_by_sku(org.id, SKU)
    assert tee.id == mine.id and tee.hs_code == "6109100010" and tee.country_of_origin == "PT"
    assert db.session.scalar(select(func.count()).select_from(VariantBinding)
                             .where(VariantBinding.shop_id == shop.id)) == len(emu.variants)
    mug = variant_by_sku(org.id, "MÉ-CRÈ")
    assert mug.product.title == "Mug émaillé" and mug.options == {"Couleur": "Crème"}
    locations = db.session.scalars(select(ShopifyLocation).where(ShopifyLocation.shop_id == shop.id)).all()
    assert sorted((loc.name, loc.retail, loc.stock_target) for loc in locations) == [
        ("Boutique Le Marais", True, False), ("Entrepôt Paris Nord", False, True)]
    store = db.session.get(Warehouse, next(loc.warehouse_id for loc in locations if loc.retail))
    assert store.kind == WarehouseKind.STORE and store.shop_id == shop.id
    assert db.session.get(ShopifyShopState, shop.id).products_synced_at is not None

    dashboard = client.get("/apps/shopify/").get_data(as_text=True)
    assert "Boutique Le Marais" in dashboard and store.code in dashboard and "Maison Lumière" in dashboard

    # the OMS is master of stock: Shopify now shows the OMS figures
    online = emu.online_location()
    assert emu.available(SKU, online) == 30
    assert emu.available("MÉ-CRÈ", online) == 0

    # a customer orders on Shopify: webhook → OMS order, allocated; stock pushed back
    order = emu.place_order([(SKU, 3)], email="lea@exemple.fr", customer=("Léa", "Martin"))
    assert emu.deliveries[-1].status == 200
    run_jobs()
    oms = db.session.scalar(select(Order).where(Order.shop_id == shop.id, Order.external_id == str(order["id"])))
    assert oms.status == OrderStatus.ALLOCATED and oms.number == order["name"]
    assert oms.lines[0].reserved_quantity == 3 and oms.lines[0].variant_id == mine.id
    assert emu.available(SKU, online) == 27

    # a first parcel with two units, then the last one: two fulfillments with tracking
    first = Shipment(carrier="colissimo", tracking_number="6A00000000001",
                     tracking_url="https://www.laposte.fr/outils/suivre-vos-envois?code=6A00000000001")
    order_flow.ship(oms, first, [(oms.lines[0], 2)])
    db.session.commit()
    run_jobs()
    fulfilled = list(emu.fulfillments.values())
    assert len(fulfilled) == 1
    assert fulfilled[0]["tracking"] == {"company": "Colissimo", "number": "6A00000000001",
                                        "url": "https://www.laposte.fr/outils/suivre-vos-envois?code=6A00000000001"}
    assert fulfilled[0]["notify_customer"] is True and fulfilled[0]["lines"][0][1] == 2
    assert emu.orders[order["admin_graphql_api_id"]]["fulfillment_status"] == "partial"

    oms = db.session.get(Order, oms.id)
    second = Shipment(carrier="chronopost", tracking_number="XY123456789FR")
    order_flow.ship(oms, second)
    db.session.commit()
    run_jobs()
    assert len(emu.fulfillments) == 2
    assert emu.orders[order["admin_graphql_api_id"]]["fulfillment_status"] == "fulfilled"
    assert db.session.scalar(select(func.count()).select_from(ShopifyFulfillment)) == 2
    assert db.session.get(Order, oms.id).status == OrderStatus.SHIPPED

    # Shopify's own orders/updated deliveries (after each fulfillment) change nothing
    emu.flush()
    run_jobs()
    assert db.session.scalar(select(func.count()).select_from(ShopifyWebhookInbox).where(
        ShopifyWebhookInbox.processed_at.is_(None))) == 0
    assert emu.available(SKU, online) == 27
    assert sandbox.DEMO_API_SECRET not in client.get(f"/integrations/shopify/shops/{shop.id}/configure").get_data(
        as_text=True)
