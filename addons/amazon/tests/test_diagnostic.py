"""The shop's diagnostic, Amazon's part, on the emulator: the marketplaces chosen against the
seller's real participations (getMarketplaceParticipations), by name; Amazon's refresh
delay for stock; the "Sync stock automatique" switch honoured by Amazon's own jobs."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from addons.amazon import jobs, sandbox
from addons.amazon.models import AmazonMarketplace
from core import services
from core.extensions import db
from core.models import Shop
from core.stock import SYNC_OFF

from .conftest import configure

FR, DE, NL = "A13V1IB3VIYZZH", "A1PA6795UKMFR9", "A1805IZSGTT6HS"


@pytest.fixture
def emulator_options():
    """This seller sells on Amazon.fr and Amazon.de only."""
    return {"participations": sandbox.demo_participations((FR, DE))}


def _diagnose(app, shop):
    from core import diagnostics

    with app.test_request_context():
        return diagnostics.run(db.session.get(Shop, shop.id))


def _marketplace_line(checks):
    lines = [c for c in checks if "arketplace" in c.title and "ne répond pas" not in c.title]
    assert len(lines) == 1, [c.title for c in checks]
    return lines[0]


def test_a_marketplace_the_seller_does_not_sell_on_is_red_by_name(app, client, login, shop_factory, base_url, emu):
    shop = shop_factory("amazon", "Amazon Pays-Bas")
    configure(shop, {**sandbox.demo_settings(base_url), "marketplaces": [NL]})  # Amazon.nl chosen
    line = _marketplace_line(_diagnose(app, shop))
    assert line.level == "error"
    assert line.detail.startswith("Vous avez choisi Amazon.nl, mais votre compte vend sur Amazon.fr, Amazon.de")
    assert line.fix_url == f"/integrations/amazon/shops/{shop.id}/configure"
    assert ("GET", "/sellers/v1/marketplaceParticipations") in emu.calls  # read now, from Amazon

    login(client)
    page = client.get(f"/integrations/shops/{shop.id}/diagnostic").get_data(as_text=True)
    assert "Vous avez choisi Amazon.nl, mais votre compte vend sur Amazon.fr, Amazon.de" in page
    assert NL not in page and FR not in page  # names, never ids
    assert 'data-diagnostic-summary="error"' in page
    english = client.get(f"/integrations/shops/{shop.id}/diagnostic?lang=en").get_data(as_text=True)
    assert "You chose Amazon.nl, but your account sells on Amazon.fr, Amazon.de" in english
    shop_page = client.get(f"/apps/amazon/shops/{shop.id}").get_data(as_text=True)
    assert f'href="/integrations/shops/{shop.id}/diagnostic"' in shop_page


def test_the_right_marketplaces_are_green_and_the_others_named(app, amazon_shop):
    shop = amazon_shop(marketplaces=[FR])
    checks = _diagnose(app, shop)
    line = _marketplace_line(checks)
    assert line.level == "ok"
    assert line.detail.startswith("Vous vendez sur Amazon.fr, comme votre compte Amazon.")
    assert "Votre compte vend aussi sur Amazon.de" in line.detail
    delay = next(c for c in checks if "Délai d'affichage du stock" in c.title)
    assert delay.level == "ok" and "jusqu'à 15 minutes" in delay.detail


def test_amazon_silent_the_last_list_read_is_compared(app, amazon_shop, emu):
    shop = amazon_shop(marketplaces=[FR])
    assert db.session.scalar(select(AmazonMarketplace).where(AmazonMarketplace.shop_id == shop.id,
                                                             AmazonMarketplace.marketplace_id == FR)).participating
    configure(shop, {"marketplaces": [FR, NL]})
    emu.fail_next("getMarketplaceParticipations", 403, 403)
    checks = _diagnose(app, shop)
    down = next(c for c in checks if "ne répond pas" in c.title)
    assert down.level == "error" and not re.search(r"\b[A-Z][a-z]+Error\b", down.detail)
    line = _marketplace_line(checks)
    assert line.level == "error" and "Vous avez choisi Amazon.nl" in line.detail
    assert "(d'après la dernière liste lue chez Amazon)" in line.detail


def test_the_command_prints_the_marketplace_line(app, runner, shop_factory, base_url):
    shop = shop_factory("amazon", "Amazon NL")
    configure(shop, {**sandbox.demo_settings(base_url), "marketplaces": [NL]})
    result = runner.invoke(args=["shops", "diagnose", str(shop.id)])
    assert result.exit_code == 1
    assert re.search(r"^ERROR\s+Marketplace choisie où votre compte ne vend pas$", result.output, re.M)
    assert "Vous avez choisi Amazon.nl, mais votre compte vend sur Amazon.fr, Amazon.de" in result.output


def test_switch_off_amazon_stock_jobs_send_nothing(app, amazon_shop, catalog, emu):
    shop = amazon_shop(marketplaces=[FR])
    catalog({"MUG-1": 4})
    services.set_stock_sync(db.session.get(Shop, shop.id), False)
    db.session.commit()
    before = len(emu.calls)
    assert jobs.push_stock(shop.id) == SYNC_OFF
    assert len(emu.calls) == before  # nothing reached Amazon
    result = jobs.reconcile_stock(shop.id)
    assert result.endswith(SYNC_OFF)  # FBA stock is still read, FBM stock not sent
    assert not any("listings" in path or "feeds" in path for _m, path in emu.calls[before:])


# ----------------------------------------------------------------------------- orders past the cursor
def test_orders_amazon_has_and_the_oms_has_not_are_orange_with_the_import_button(app, amazon_shop, emu, catalog):
    from addons.amazon.clock import iso

    from .conftest import T0
    from .test_orders import make_order

    catalog({"TCB-BLA-S": 10})
    shop = amazon_shop(marketplaces=[FR])
    jobs.sync_orders(shop.id)
    db.session.commit()
    line = next(c for c in _diagnose(app, shop) if "Nouvelles commandes chez Amazon" in c.title)
    assert line.level == "ok" and "Aucune commande plus récente" in line.detail

    stuck = db.session.get(Shop, shop.id)
    stuck.sync_cursor = iso(T0 - timedelta(hours=3))  # the OMS stopped reading three hours ago
    db.session.commit()
    for n, hours in enumerate((2, 1)):
        emu.add_order(make_order(f"402-000000{n}-7777777", marketplace=FR, items=[("TCB-BLA-S", 1, "19.90")],
                                 created=(T0 - timedelta(hours=hours)).timestamp()))
    before = emu.operations["searchOrders"]
    line = next(c for c in _diagnose(app, shop) if "pas encore dans l'OMS" in c.title)
    assert emu.operations["searchOrders"] == before + 1  # one call
    assert line.level == "warn" and line.title.startswith("2 commandes chez Amazon")
    assert "il y a 2 heures" in line.detail
    assert line.fix_post and line.fix_url == f"/integrations/shops/{shop.id}/sync"


def test_an_empty_quota_is_said_and_never_waited_for(app, amazon_shop, emu, clock):
    from addons.amazon.runtime import client_for

    shop = amazon_shop(marketplaces=[FR])
    jobs.sync_orders(shop.id)
    db.session.commit()
    clock.advance(10 * 60)
    client = client_for(db.session.get(Shop, shop.id))
    client.limiter.drain(client.bucket_key("searchOrders"))  # the sync has just used every request
    before, slept = emu.operations["searchOrders"], clock.slept

    line = next(c for c in _diagnose(app, shop) if "nouvelles commandes chez amazon" in c.title.lower())
    assert line.level == "warn" and line.title.startswith("Impossible de vérifier"), line
    assert "Quota" in line.detail and "Error" not in line.detail
    assert emu.operations["searchOrders"] == before and clock.slept == slept  # nothing sent, nothing waited


# ----------------------------------------------------------------------------- the authorization's age
@pytest.mark.parametrize("age_days, level", [(10, "ok"), (340, "warn"), (400, "warn")])
def test_the_refresh_token_anniversary_is_an_orange_reminder(app, amazon_shop, age_days, level):
    from core.models import SettingChange, utcnow

    shop = amazon_shop(marketplaces=[FR])
    for change in db.session.scalars(select(SettingChange).where(SettingChange.shop_id == shop.id)):
        change.at = utcnow() - timedelta(days=age_days)
    db.session.commit()
    line = next(c for c in _diagnose(app, shop) if "Autorisation Amazon" in c.title)
    assert line.level == level
    if level == "warn":
        assert "365 jours" in line.detail and "Ré-autoriser" in line.detail
        assert line.fix_url == f"/integrations/amazon/shops/{shop.id}/configure"


# ----------------------------------------------------------------------------- products with no listing
def test_oms_products_with_no_amazon_listing_are_named(app, amazon_shop, catalog):
    shop = amazon_shop(marketplaces=[FR])
    catalog({"PLAID-OCRE": 3})
    line = next(c for c in _diagnose(app, shop) if "sans annonce sur Amazon" in c.title)
    assert line.level == "warn" and "PLAID-OCRE" in line.detail
    assert line.links and line.links[0][0] == "PLAID-OCRE : ouvrir la fiche produit"


# ----------------------------------------------------------------------------- ORDER_CHANGE in real time
def test_the_order_change_subscription_is_checked_when_real_time_is_chosen(app, amazon_shop, emu):
    arn = "arn:aws:sqs:eu-west-1:123456789012:oms-amazon"
    shop = amazon_shop(marketplaces=[FR], notification_queue_arn=arn)
    line = next(c for c in _diagnose(app, shop) if "notification manquante" in c.title)
    assert line.level == "error" and "ORDER_CHANGE" in line.detail
    assert line.fix_post and line.fix_url == f"/apps/amazon/shops/{shop.id}/subscribe"

    assert jobs.subscribe_notifications(shop.id, arn)
    db.session.commit()
    checks = _diagnose(app, shop)
    assert next(c for c in checks if c.title == "Notifications envoyées par Amazon").level == "ok"
    assert any(c.title == "Dernière notification envoyée par Amazon" for c in checks)


def test_without_real_time_no_subscription_is_asked(app, amazon_shop, emu):
    shop = amazon_shop(marketplaces=[FR])
    checks = _diagnose(app, shop)
    assert not any("otification" in c.title for c in checks)
    assert ("GET", "/notifications/v1/subscriptions/ORDER_CHANGE") not in emu.calls
