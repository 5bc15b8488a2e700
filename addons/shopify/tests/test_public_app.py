"""The OMS's own public app: a new store installed with no credentials typed in, through
Shopify's install screen (or cancelled there), then its products imported with progress."""
from __future__ import annotations

import html
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import select

from addons.shopify import sandbox
from core.extensions import db
from core.models import ConnectionStatus, Shop, SyncLog, Variant

from .helpers import approve, install

DOMAIN = "atelier-bleu.myshopify.com"


def _configure_page(shop: Shop) -> str:
    return f"/integrations/shopify/shops/{shop.id}/configure"


def _start(post_form, shop: Shop, domain: str = DOMAIN):
    """"Installer sur Shopify" with the client id and secret left empty."""
    return post_form(f"/apps/shopify/shops/{shop.id}/install", page=_configure_page(shop), data={
        "shop_domain": domain, "api_version": "2026-10", "api_key": "", "api_secret": "", "api_base_url": "",
        "access_token": ""})


def test_a_new_store_installs_through_the_public_app_and_imports_its_products(
        client, login, post_form, shop_factory, org, platform, run_jobs):
    stores, url = platform
    login(client)
    shop = shop_factory("shopify", "Atelier Bleu")

    res = _start(post_form, shop)
    assert res.status_code == 303
    authorize = res.headers["Location"]
    assert authorize.startswith(f"{url}/stores/{DOMAIN}/admin/oauth/authorize?")
    assert parse_qs(urlsplit(authorize).query)["client_id"] == [sandbox.DEMO_API_KEY]

    screen = html.unescape(httpx.get(authorize, headers={"Accept-Language": "fr-FR"}).text)
    assert "Installer OMS sur Atelier Bleu" in screen and "Installer l'application" in screen
    assert "Voir et modifier les commandes" in screen and "Voir les emplacements" in screen
    assert "write_orders" not in screen.split("<ul data-scopes>")[1].split("</ul>")[0]
    english = httpx.get(authorize, headers={"Accept-Language": "en-GB"}).text
    assert "Install app" in english and "View and edit products" in english

    back = client.get(approve(authorize).headers["Location"])
    assert back.status_code == 302 and back.headers["Location"].endswith("/integrations/")
    catalog = client.get("/integrations/").get_data(as_text=True)
    line = catalog.split(f'data-shop="{shop.id}"')[1].split("</li>")[0]
    assert 'data-shop-status="connected"' in line and "✅ Connecté" in line and "Atelier Bleu" in line

    run_jobs()
    store = stores.store(DOMAIN)
    assert store is not None and store is not stores.first
    skus = {v["sku"] for v in store.variants.values()}
    assert len(store.products) == 3 and skus
    db.session.expire_all()
    assert db.session.get(Shop, shop.id).status == ConnectionStatus.CONNECTED
    assert set(db.session.scalars(select(Variant.sku).where(Variant.organization_id == org.id))) == skus
    entry = db.session.scalar(select(SyncLog).where(SyncLog.shop_id == shop.id, SyncLog.progress_unit == "products"))
    assert (entry.progress_done, entry.progress_total, entry.progress_errors) == (3, 3, [])
    page = client.get(f"/apps/shopify/shops/{shop.id}").get_data(as_text=True)
    assert "✅ Connecté" in page and "3 / 3 produits importés" in page and "Terminé" in page
    # the platform's first store (the demo's) was not touched
    assert not any(path.startswith("/admin/oauth") for _m, path in stores.first.calls)


def test_an_install_cancelled_on_shopify_says_so_and_connects_nothing(
        client, login, post_form, shop_factory, platform):
    stores, _url = platform
    login(client)
    shop = shop_factory("shopify", "Atelier Bleu")
    authorize = _start(post_form, shop).headers["Location"]

    denied = approve(authorize, action="cancel")
    assert denied.status_code == 302
    params = parse_qs(urlsplit(denied.headers["Location"]).query)
    assert params["error"] == ["access_denied"] and "code" not in params
    back = client.get(denied.headers["Location"])
    assert back.status_code == 302 and back.headers["Location"].endswith(_configure_page(shop))
    page = client.get(back.headers["Location"]).get_data(as_text=True)
    assert "Installation annulée sur Shopify" in page and "Atelier Bleu" in page
    db.session.expire_all()
    again = db.session.get(Shop, shop.id)
    assert again.credentials == {} and again.status != ConnectionStatus.CONNECTED
    assert not any(path == "/admin/oauth/access_token" for _m, path in stores.store(DOMAIN).calls)


def test_a_merchants_own_app_still_installs_through_its_own_credentials(
        client, login, post_form, shop_factory, platform, run_jobs):
    stores, url = platform
    login(client)
    shop = shop_factory("shopify", "Maison Lumière")
    # the merchant's own custom app on the platform's first store, its address typed in
    res = install(client, post_form, shop, url, domain=sandbox.DEMO_DOMAIN)
    assert res.status_code == 302 and res.headers["Location"].endswith("/integrations/")
    run_jobs()
    db.session.expire_all()
    assert db.session.get(Shop, shop.id).status == ConnectionStatus.CONNECTED
    assert any(path == "/admin/oauth/access_token" for _m, path in stores.first.calls)


def test_variants_the_import_refuses_are_listed_with_the_reason(client, login, post_form, shop_factory, platform,
                                                                 run_jobs):
    stores, _url = platform
    store = stores.open_store(DOMAIN)
    store.add_product("Carte cadeau", [{"sku": "", "price": "20.00", "options": {"Montant": "20 €"}}])
    login(client)
    shop = shop_factory("shopify", "Atelier Bleu")
    client.get(approve(_start(post_form, shop).headers["Location"]).headers["Location"])
    run_jobs()

    entry = db.session.scalar(select(SyncLog).where(SyncLog.shop_id == shop.id, SyncLog.progress_unit == "products"))
    assert (entry.progress_done, entry.progress_total) == (4, 4)
    assert [e["ref"] for e in entry.progress_errors] == ["20 €"]
    page = html.unescape(client.get(f"/apps/shopify/shops/{shop.id}").get_data(as_text=True))
    assert "Terminé, 1 refus" in page
    assert "<strong>20 €</strong> : Variante sans SKU dans Shopify : ajoutez-lui un SKU" in page
    english = client.get(f"/integrations/shops/{shop.id}/progress?unit=products&lang=en").get_json()
    assert english["errors"] == [{"ref": "20 €", "message": "Variant without a SKU in Shopify: give it a SKU to link "
                                                          "it to an OMS item, then import again."}]
    assert english["text"] == "4 / 4 products imported"
