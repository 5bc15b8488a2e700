"""Merchants read sentences: no exception class, errno or stack detail on their pages (the raw
text stays in the sync log, behind "Détail technique"); the sync log names its jobs in the
merchant's words and filters them."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from core import wording
from core.extensions import db
from core.models import ConnectionStatus, SyncLog, SyncStatus, utcnow

TECHNICAL = re.compile(r"\b[A-Z][A-Za-z]*(?:Error|Exception)\b|\[Errno|StaleInventory|Traceback|httpx\.")


@pytest.fixture
def addons():
    return ["shopify", "amazon"]


def _visible(html: str) -> str:
    html = re.sub(r"<details.*?</details>", "", html, flags=re.S)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.fixture
def broken(org, shop_factory):
    shop = shop_factory("shopify", "Boutique cassée")
    shop.status = ConnectionStatus.ERROR
    shop.last_error = "StaleInventory: 4 quantité(s) ont changé chez Shopify entre la lecture et l'envoi"
    now = utcnow()
    db.session.add_all([
        SyncLog(shop_id=shop.id, organization_id=org.id, addon="shopify", func="addons.shopify.jobs.sync_orders",
                status=SyncStatus.FAILED, error="httpx.ConnectError: [Errno -2] Name or service not known",
                started_at=now - timedelta(hours=1)),
        SyncLog(shop_id=shop.id, organization_id=org.id, addon="shopify", func="addons.shopify.jobs.push_stock",
                status=SyncStatus.OK, result="3 quantités envoyées", started_at=now - timedelta(days=3)),
        SyncLog(shop_id=shop.id, organization_id=org.id, addon="shopify", func="addons.shopify.jobs.push_stock",
                status=SyncStatus.FAILED, error="ShopifyError: « » n'est pas un domaine myshopify.com",
                started_at=now - timedelta(days=20)),
    ])
    db.session.commit()
    return shop


def test_no_merchant_page_shows_a_technical_error(client, login, broken):
    login(client)
    for url in ("/", "/integrations/", "/integrations/shopify", "/exceptions", f"/integrations/shops/{broken.id}/log",
                "/alerts"):
        text = _visible(client.get(url).get_data(as_text=True))
        assert not TECHNICAL.search(text), (url, TECHNICAL.findall(text)[:3])
    log = client.get(f"/integrations/shops/{broken.id}/log").get_data(as_text=True)
    assert "Adresse du service introuvable" in log and "4 quantité(s) ont changé" in log
    assert "Name or service not known" in log  # kept, behind the technical detail


def test_the_sync_log_names_jobs_and_filters_them(client, login, broken):
    login(client)
    url = f"/integrations/shops/{broken.id}/log"
    page = client.get(url).get_data(as_text=True)
    assert "Import des commandes" in page and "Envoi du stock" in page
    assert "addons.shopify.jobs.sync_orders</code>" not in page
    stock = client.get(url + "?kind=stock").get_data(as_text=True)
    assert stock.count('data-kind="stock"') == 2 and 'data-kind="orders"' not in stock
    failed_week = client.get(url + "?status=failed&period=week").get_data(as_text=True)
    assert failed_week.count('data-status="failed"') == 1
    found = client.get(url + "?q=domaine").get_data(as_text=True)
    assert found.count("<tr data-status") == 1


def test_connection_test_failures_are_sentences(app, shop_factory):
    from core.services import test_connection

    shop = shop_factory("amazon", "Amazon")
    result = test_connection(shop, "amazon")  # no settings at all: the add-on raises or refuses
    assert not result.ok and not TECHNICAL.search(result.message)


@pytest.mark.parametrize("raw,expected", [
    ("StaleInventory: 4 quantité(s) ont changé", "4 quantité(s) ont changé"),
    ("[Errno 111] Connection refused", "Le service distant refuse la connexion"),
    ("ValueError: ", "Erreur inattendue"),
    ("Attention : la boutique", "Attention : la boutique"),
])
def test_plain_wording(raw, expected):
    assert wording.plain(raw).startswith(expected)


def test_job_kinds():
    assert wording.job_kind("addons.amazon.jobs.sync_orders") == "orders"
    assert wording.job_kind("addons.shopify.jobs.push_stock") == "stock"
    assert wording.job_kind("hook:stock_available_changed") == "hooks"
    # reading a channel's offers is a catalogue import, not a stock push
    assert wording.job_kind("addons.mirakl.jobs.import_offers") == "catalog"
    assert wording.job_kind("addons.fnac.jobs.import_offers") == "catalog"
    assert wording.job_kind("addons.mirakl.jobs.push_stock") == "stock"
    assert wording.job_kind("addons.mirakl.jobs.send_return_decisions") == "returns"
    assert wording.job_kind("addons.mirakl.jobs.send_refund") == "returns"
    assert wording.job_kind("addons.ebay.jobs.read_returns") == "returns"
