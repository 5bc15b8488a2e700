"""Shopify's part of the shop's diagnostic, against the emulator over real HTTP: the token's
expiry, the orders Shopify has past the OMS's cursor, the webhook subscriptions and their
"Réenregistrer", the products with no Shopify variant."""
from __future__ import annotations

import time
from datetime import timedelta

from addons.shopify import jobs
from addons.shopify.tests.helpers import WEBHOOK_URL, connect
from core.extensions import db
from core.models import Shop, utcnow
from core.testing import diagnosed, line_titled
from tests.pipeline_helpers import variant, warehouse

SKU = "TASSE-BLEUE"


def _shop(shop_id: int) -> Shop:
    db.session.expire_all()
    return db.session.get(Shop, shop_id)


def test_a_synced_shop_is_green_on_every_shopify_line(app, shop_factory, org, emu, base_url):
    variant(org.id, SKU, {warehouse(org.id, "PAR"): 5})
    db.session.commit()
    shop = connect(shop_factory("shopify"), emu, base_url)
    emu.place_order([(SKU, 1)], notify=False)
    jobs.sync_shop(shop.id)

    checks = diagnosed(app, shop.id)
    assert line_titled(checks, "Nouvelles commandes chez Shopify").level == "ok"
    assert line_titled(checks, "Notifications envoyées par Shopify").level == "ok"
    token = line_titled(checks, "Validité des identifiants")
    assert token.level == "ok" and "n'expire pas" in token.detail
    assert "OrdersPast" in emu.operations


def test_orders_shopify_has_and_the_oms_has_not_are_counted_with_an_import_button(app, client, login, post_form,
                                                                                  shop_factory, org, emu, base_url):
    variant(org.id, SKU, {warehouse(org.id, "PAR"): 5})
    db.session.commit()
    shop = connect(shop_factory("shopify"), emu, base_url)
    jobs.sync_shop(shop.id)
    # the OMS stopped reading two hours ago; three orders came in since, none notified
    stuck = _shop(shop.id)
    stuck.sync_cursor = (utcnow() - timedelta(hours=2)).isoformat()
    db.session.commit()
    for minutes in (90, 60, 5):
        emu.place_order([(SKU, 1)], notify=False, updated_at=time.time() - minutes * 60)

    line = line_titled(diagnosed(app, shop.id), "pas encore dans l'OMS")
    assert line.level == "warn" and line.title.startswith("3 commandes chez Shopify")
    assert "il y a 1 heure" in line.detail or "il y a 2 heures" in line.detail, line.detail
    assert line.fix_post and line.fix_url == f"/integrations/shops/{shop.id}/sync"
    assert line.fix_label == "Importer maintenant"

    # the page offers the button, and the button imports them
    login(client)
    page = client.get(f"/integrations/shops/{shop.id}/diagnostic").get_data(as_text=True)
    assert f'action="/integrations/shops/{shop.id}/sync"' in page and "Importer maintenant" in page
    res = post_form(f"/integrations/shops/{shop.id}/sync", page=f"/integrations/shops/{shop.id}/diagnostic")
    assert res.status_code == 302


def test_orders_arriving_within_a_sync_period_are_normal(app, shop_factory, org, emu, base_url):
    shop = connect(shop_factory("shopify"), emu, base_url)
    jobs.sync_shop(shop.id)
    stuck = _shop(shop.id)
    stuck.sync_cursor = (utcnow() - timedelta(minutes=10)).isoformat()
    db.session.commit()
    emu.place_order([(SKU, 1)], notify=False, updated_at=time.time() - 120)

    line = line_titled(diagnosed(app, shop.id), "Nouvelles commandes chez Shopify")
    assert line.level == "ok" and "prochaine importation" in line.detail


def test_a_missing_subscription_is_red_and_reregistered(app, client, login, post_form, shop_factory, emu, base_url,
                                                        run_jobs):
    shop = connect(shop_factory("shopify"), emu, base_url)
    jobs.sync_shop(shop.id)
    for sid, sub in list(emu.subscriptions.items()):
        if sub["topic"] == "orders/create":
            del emu.subscriptions[sid]

    line = line_titled(diagnosed(app, shop.id), "notification manquante")
    assert line.level == "error" and "commandes créées" in line.detail
    assert line.fix_post and line.fix_url == f"/apps/shopify/shops/{shop.id}/webhooks"

    login(client)
    res = post_form(line.fix_url, page=f"/integrations/shops/{shop.id}/diagnostic")
    assert res.status_code == 302
    run_jobs()
    assert any(s["topic"] == "orders/create" and s["uri"] == WEBHOOK_URL for s in emu.subscriptions.values())
    assert line_titled(diagnosed(app, shop.id), "Notifications envoyées par Shopify").level == "ok"


def test_an_outage_is_an_orange_line_and_the_page_still_renders(app, client, login, shop_factory, emu, base_url):
    shop = connect(shop_factory("shopify"), emu, base_url)
    jobs.sync_shop(shop.id)
    emu.tokens.clear()  # Shopify refuses every call now

    checks = diagnosed(app, shop.id)
    backlog = line_titled(checks, "Impossible de vérifier les nouvelles commandes")
    assert backlog.level == "warn" and "Error" not in backlog.detail
    assert line_titled(checks, "Impossible de lire les notifications").level == "warn"
    login(client)
    res = client.get(f"/integrations/shops/{shop.id}/diagnostic")
    assert res.status_code == 200 and "Impossible de vérifier" in res.get_data(as_text=True)


def test_the_refresh_token_expiry_turns_orange_then_red(app, shop_factory, emu, base_url):
    shop = connect(shop_factory("shopify"), emu, base_url)
    for days, level in ((80, "ok"), (12, "warn"), (-1, "error")):  # refresh tokens last 90 days
        row = _shop(shop.id)
        expires = (utcnow() + timedelta(days=days)).isoformat()
        row.credentials = {"refresh_token": "r", "refresh_token_expires_at": expires}
        db.session.commit()
        line = line_titled(diagnosed(app, shop.id), "dentifiants Shopify")
        assert line.level == level, (days, line)
        if level != "ok":
            assert "Installer sur Shopify" in line.detail and line.fix_url == "/apps/shopify/"


def test_products_with_no_shopify_variant_are_listed_with_where_to_publish(app, shop_factory, org, emu, base_url):
    shop = connect(shop_factory("shopify"), emu, base_url)
    lone = variant(org.id, "PLAID-OCRE", {})
    db.session.commit()

    line = line_titled(diagnosed(app, shop.id), "sans annonce sur Shopify")
    assert line.level == "warn" and "PLAID-OCRE" in line.detail
    assert ("PLAID-OCRE : publier sur Shopify", f"/products/{lone.product_id}") in line.links


def test_the_command_prints_the_shopify_lines_and_exits_1_on_red(app, runner, shop_factory, org, emu, base_url):
    shop = connect(shop_factory("shopify", "Lune"), emu, base_url)
    jobs.sync_shop(shop.id)
    variant(org.id, "PLAID-OCRE", {})
    db.session.commit()
    calm = runner.invoke(args=["shops", "diagnose", str(shop.id)])
    assert calm.exit_code == 0, calm.output  # orange lines only
    assert "WARN  1 produit de l'OMS sans annonce sur Shopify" in calm.output
    assert "→ PLAID-OCRE : publier sur Shopify : http://localhost/products/" in calm.output

    for sid, sub in list(emu.subscriptions.items()):
        if sub["topic"] == "orders/updated":
            del emu.subscriptions[sid]
    red = runner.invoke(args=["shops", "diagnose", str(shop.id), "--lang", "en"])
    assert red.exit_code == 1, red.output
    assert "ERROR 1 notification missing at Shopify" in red.output
    # an action is a button of the page: the command gives the page, never the POST address
    assert f"→ Register again : http://localhost/integrations/shops/{shop.id}/diagnostic" in red.output
    assert "/apps/shopify/shops/" not in red.output
