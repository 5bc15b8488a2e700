"""WooCommerce's part of the shop's diagnostic, against the emulator over real HTTP: the
orders the store changed past the OMS's cursor, the webhooks on the store (a disabled one is
red, "Réenregistrer" puts it back), the last delivery."""
from __future__ import annotations

from datetime import timedelta

from addons.woocommerce.jobs import sync_orders
from core.extensions import db
from core.models import Shop, Variant, utcnow
from core.testing import diagnosed, line_titled
from tests.pipeline_helpers import variant, warehouse


def test_a_connected_store_is_green_and_its_keys_said_not_to_expire(app, org, emu, woo_shop, run_jobs):
    variant(org.id, "MUG-1", {warehouse(org.id, "PAR"): 10})
    db.session.commit()
    shop = woo_shop()
    emu.place_order([("MUG-1", 1)])
    run_jobs()  # the delivery reaches the OMS
    sync_orders(shop.id)

    checks = diagnosed(app, shop.id)
    assert line_titled(checks, "Nouvelles commandes chez WooCommerce").level == "ok"
    assert line_titled(checks, "Notifications envoyées par WooCommerce").level == "ok"
    assert line_titled(checks, "Dernière notification envoyée par WooCommerce").level == "ok"
    keys = line_titled(checks, "Validité des identifiants WooCommerce")
    assert keys.level == "ok" and "n'expirent pas" in keys.detail


def test_orders_changed_on_the_store_past_the_cursor_are_orange(app, org, emu, woo_shop, clock):
    variant(org.id, "MUG-1", {warehouse(org.id, "PAR"): 10})
    db.session.commit()
    shop = woo_shop()
    stuck = db.session.get(Shop, shop.id)
    stuck.sync_cursor = (utcnow() - timedelta(hours=3)).isoformat()
    db.session.commit()
    clock.now -= 2 * 3600  # placed two hours ago, its delivery lost
    emu.place_order([("MUG-1", 1)])
    emu.place_order([("MUG-1", 2)])
    clock.now += 2 * 3600

    line = line_titled(diagnosed(app, shop.id), "pas encore dans l'OMS")
    assert line.level == "warn" and line.title.startswith("2 commandes chez WooCommerce")
    assert "il y a 2 heures" in line.detail
    assert line.fix_post and line.fix_url == f"/integrations/shops/{shop.id}/sync"


def test_a_webhook_woocommerce_disabled_is_red_and_reregistered(app, client, login, post_form, emu, woo_shop,
                                                                run_jobs):
    shop = woo_shop()
    hook = next(h for h in emu.webhooks.values() if h["topic"] == "order.created")
    hook["status"] = "disabled"  # five failed deliveries

    line = line_titled(diagnosed(app, shop.id), "notification manquante")
    assert line.level == "error" and "commandes créées" in line.detail
    assert line.fix_post and line.fix_url == f"/apps/woocommerce/shops/{shop.id}/webhooks"

    login(client)
    res = post_form(line.fix_url, page=f"/integrations/shops/{shop.id}/diagnostic")
    assert res.status_code == 302
    run_jobs()
    assert hook["status"] == "active"
    assert line_titled(diagnosed(app, shop.id), "Notifications envoyées par WooCommerce").level == "ok"


def test_a_store_down_is_an_orange_line_never_a_crash(app, client, login, emu, woo_shop, serve_wsgi):
    shop = woo_shop()
    stuck = db.session.get(Shop, shop.id)
    stuck.sync_cursor = (utcnow() - timedelta(hours=1)).isoformat()
    stuck.addon_row("woocommerce").settings = {**stuck.addon_row("woocommerce").settings,
                                               "store_url": "http://127.0.0.1:9"}  # nothing listens there
    db.session.commit()
    checks = diagnosed(app, shop.id)
    assert line_titled(checks, "Impossible de vérifier les nouvelles commandes").level == "warn"
    assert line_titled(checks, "Impossible de lire les notifications").level == "warn"
    login(client)
    assert client.get(f"/integrations/shops/{shop.id}/diagnostic").status_code == 200


def test_articles_with_no_oms_product_are_named_with_the_page_that_fixes_them(app, org, emu, woo_shop):
    from addons.woocommerce.models import WoocommerceListing

    emu.add_product("Plaid laine", sku="PLAID-OCRE")  # sold on the store, unknown to the OMS
    shop = woo_shop()
    unmatched = sorted({r.sku for r in db.session.scalars(
        db.select(WoocommerceListing).where(WoocommerceListing.shop_id == shop.id,
                                            WoocommerceListing.variant_id.is_(None))) if r.sku})
    assert "PLAID-OCRE" in unmatched
    line = line_titled(diagnosed(app, shop.id), "sans produit dans l'OMS")
    assert line.level == "warn" and unmatched[0] in line.detail
    assert line.fix_url == f"/apps/woocommerce/shops/{shop.id}#unmatched" and not line.fix_post

    for sku in unmatched:  # the merchant creates the products: the line turns green
        variant(org.id, sku, {})
    db.session.commit()
    for row in db.session.scalars(db.select(WoocommerceListing).where(WoocommerceListing.shop_id == shop.id)):
        row.variant_id = db.session.scalar(db.select(Variant.id).where(Variant.organization_id == org.id,
                                                                      Variant.sku == row.sku))
    db.session.commit()
    assert line_titled(diagnosed(app, shop.id), "Annonces reliées aux produits").level == "ok"
