"""Install safety, tokens, Shopify's limits and faults, the reconciliation poll, product push,
and the demo's live shop."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import func, select

from addons.shopify import jobs, sandbox
from addons.shopify.client import ShopifyClient
from addons.shopify.oauth import query_hmac
from core.extensions import db
from core.models import ConnectionStatus, Order, OrderStatus, Product, Shop, Variant, VariantBinding, utcnow
from core.stock import available_to_sell
from tests.pipeline_helpers import variant, warehouse

from .helpers import approve, callback_params, connect, install, stock, variant_by_sku

SKU = "TCB-BLA-M"


def _shop(shop_id: int) -> Shop:
    db.session.expire_all()
    return db.session.get(Shop, shop_id)


# ----------------------------------------------------------------------------- install safety
def test_a_non_shopify_domain_is_refused_before_any_request(client, login, post_form, shop_factory, emu, base_url):
    login(client)
    shop = shop_factory("shopify")
    res = post_form(f"/apps/shopify/shops/{shop.id}/install", page=f"/integrations/shopify/shops/{shop.id}/configure",
                    data={"shop_domain": "boutique.example.com", "api_version": "2026-10", "api_base_url": base_url,
                          "api_key": sandbox.DEMO_API_KEY, "api_secret": sandbox.DEMO_API_SECRET})
    assert res.status_code == 302 and res.headers["Location"].endswith(f"/shops/{shop.id}/configure")
    page = client.get(res.headers["Location"]).get_data(as_text=True)
    assert "myshopify.com" in page
    assert emu.calls == []
    assert _shop(shop.id).credentials == {}


@pytest.fixture
def granted(client, login, post_form, shop_factory, base_url):
    """An install stopped at Shopify's redirect back: (shop, callback URL)."""
    login(client)
    shop = shop_factory("shopify")
    res = post_form(f"/apps/shopify/shops/{shop.id}/install", page=f"/integrations/shopify/shops/{shop.id}/configure",
                    data={"shop_domain": sandbox.DEMO_DOMAIN, "api_version": "2026-10", "api_base_url": base_url,
                          "api_key": sandbox.DEMO_API_KEY, "api_secret": sandbox.DEMO_API_SECRET})
    grant = approve(res.headers["Location"])
    return shop, grant.headers["Location"]


def _callback(params: dict[str, str]) -> str:
    return "/apps/shopify/oauth/callback?" + urlencode(params)


def test_a_forged_callback_is_refused(client, granted, emu):
    shop, location = granted
    params = callback_params(location)

    bad_hmac = client.get(_callback({**params, "code": "0000"}))
    bad_state = client.get(_callback({**params, "state": params["state"][:-2] + "xx"}))
    resigned = {**params, "shop": "pirate.myshopify.com"}
    resigned["hmac"] = query_hmac(resigned, sandbox.DEMO_API_SECRET)
    wrong_shop = client.get(_callback(resigned))
    stale = {**params, "timestamp": str(int(params["timestamp"]) - 3600)}
    stale["hmac"] = query_hmac(stale, sandbox.DEMO_API_SECRET)
    too_old = client.get(_callback(stale))

    for res, text in ((bad_hmac, "Signature (hmac) invalide"), (bad_state, "state"),
                      (wrong_shop, "ne correspond pas"), (too_old, "trop ancienne")):
        assert res.status_code == 400 and text in res.get_data(as_text=True)
    assert _shop(shop.id).credentials == {}
    assert not any(path == "/admin/oauth/access_token" for _m, path in emu.calls)


def test_a_callback_in_another_browser_is_refused(app, granted):
    shop, location = granted
    stranger = app.test_client()  # valid signature and state, but not the session that asked
    res = stranger.get(location)
    assert res.status_code == 400 and "même navigateur" in res.get_data(as_text=True)
    assert _shop(shop.id).credentials == {}


def test_the_granted_scopes_are_checked(client, post_form, login, shop_factory, emu, base_url):
    login(client)
    emu.granted_scope = "read_products"
    shop = shop_factory("shopify")
    res = install(client, post_form, shop, base_url)
    assert res.status_code == 302
    flashes = client.get("/integrations/").get_data(as_text=True)
    assert "autorisations que nécessaire" in flashes and "write_orders" in flashes


# ----------------------------------------------------------------------------- tokens
def test_an_expiring_token_is_refreshed_before_expiry_and_after_a_401(client, post_form, login, shop_factory, emu,
                                                                     base_url, run_jobs):
    login(client)
    shop = shop_factory("shopify")
    install(client, post_form, shop, base_url)
    run_jobs()
    first = _shop(shop.id).credentials

    # about to expire: refreshed before the call
    shop = _shop(shop.id)
    shop.credentials = {**first, "expires_at": (utcnow() + timedelta(minutes=2)).isoformat()}
    db.session.commit()
    assert "produit(s)" in jobs.sync_shop(shop.id)
    second = _shop(shop.id).credentials
    assert second["access_token"] != first["access_token"] and second["refresh_token"] != first["refresh_token"]

    # expired on Shopify's side although the OMS thought it valid: the 401 triggers a refresh
    emu.expire_tokens()
    assert "produit(s)" in jobs.sync_shop(shop.id)
    third = _shop(shop.id).credentials
    assert third["access_token"] not in (first["access_token"], second["access_token"])
    assert _shop(shop.id).status == ConnectionStatus.CONNECTED


def test_a_revoked_token_puts_the_shop_in_error_without_breaking_the_jobs(shop_factory, emu, base_url, run_jobs):
    shop = connect(shop_factory("shopify"), emu, base_url)
    jobs.sync_shop(shop.id)
    db.session.commit()
    emu.sender = lambda *_: 0  # the app/uninstalled delivery is lost
    emu.uninstall()

    message = jobs.sync_shop(shop.id)

    shop = _shop(shop.id)
    assert shop.status == ConnectionStatus.ERROR
    assert "Jeton d'accès refusé par Shopify (401)" in shop.last_error and "Réinstallez" in shop.last_error
    assert shop.addon_row("shopify").status == ConnectionStatus.ERROR
    assert "401" in message
    from core.jobs import enqueue

    # the push jobs raise instead, so that the job layer retries them after a reinstall
    enqueue("addons.shopify.jobs.push_stock", shop.id, None, shop_id=shop.id)
    assert run_jobs() >= 1  # the loop runs the failing job and goes on


# ----------------------------------------------------------------------------- limits
def test_the_client_waits_for_the_bucket_and_succeeds(clock, make_emulator):
    emu, url = make_emulator(bucket_size=1000, restore_rate=50)
    emu.bucket.available = 100  # another app of the shop drained it
    client = ShopifyClient(emu.domain, sandbox.DEMO_TOKEN, base_url=url, sleep=clock.sleep, monotonic=clock.monotonic)
    from addons.shopify.graphql import PRODUCTS, PRODUCTS_PAGE

    pages = list(client.paginate(PRODUCTS, {}, "products", page_size=PRODUCTS_PAGE))

    from core.demo import CATALOG

    assert sum(len(p) for p in pages) == len(CATALOG)
    assert clock.slept and clock.slept[0] == pytest.approx((862 - 100) / 50, abs=0.1)
    assert "Products" in emu.operations


def test_429_and_5xx_are_retried_with_backoff(clock):
    answers = iter([httpx.Response(503), httpx.Response(429, headers={"Retry-After": "2.0"}),
                    httpx.Response(200, json={"data": {"shop": {"name": "x", "myshopifyDomain": "a.myshopify.com",
                                                                "currencyCode": "EUR", "plan": None}}})])
    transport = httpx.MockTransport(lambda request: next(answers))
    client = ShopifyClient("a.myshopify.com", "shpat_x", transport=transport, sleep=clock.sleep,
                           monotonic=clock.monotonic)
    assert client.shop_info().name == "x"
    assert clock.slept == [0.5, 2.0]


def test_stock_push_survives_a_sale_it_has_not_heard_of(shop_factory, org, emu, base_url, run_jobs):
    paris = warehouse(org.id, "PAR")
    db.session.commit()
    shop = connect(shop_factory("shopify"), emu, base_url)
    jobs.sync_shop(shop.id)
    tee = variant_by_sku(org.id, SKU)
    stock(tee, paris, 10)
    jobs.push_stock(shop.id, [tee.id])
    db.session.commit()
    assert emu.available(SKU) == 10
    emu.sender = lambda *_: 0  # a sale on Shopify whose webhook is late
    emu.place_order([(SKU, 1)])
    stock(tee, paris, 12)  # a receipt in the OMS

    with pytest.raises(jobs.inventory.StaleInventory):
        jobs.push_stock(shop.id, [tee.id])
    assert emu.available(SKU) == 9  # not overwritten blindly

    jobs.push_stock(shop.id, [tee.id])  # the retry, with what Shopify now shows
    assert emu.available(SKU) == 12


# ----------------------------------------------------------------------------- reconciliation
def test_the_poll_catches_missed_webhooks_and_moves_its_cursor_after_commit(shop_factory, org, emu, base_url,
                                                                          run_jobs):
    paris = warehouse(org.id, "PAR")
    variant(org.id, SKU, {paris: 20})
    db.session.commit()
    shop = connect(shop_factory("shopify"), emu, base_url)
    emu.sender = lambda *_: 503  # the OMS was down: every delivery failed
    placed = [emu.place_order([(SKU, 1)]) for _ in range(5)]

    jobs.sync_shop(shop.id)

    orders = db.session.scalars(select(Order).where(Order.shop_id == shop.id)).all()
    assert sorted(o.external_id for o in orders) == sorted(str(p["id"]) for p in placed)
    assert all(o.status == OrderStatus.ALLOCATED for o in orders)
    cursor = _shop(shop.id).sync_cursor
    assert cursor is not None and "Orders" in emu.operations

    # a failure in the middle of the next poll leaves the cursor where it was
    emu.cancel_order(placed[0]["id"], notify=False)
    emu.place_order([(SKU, 1)], notify=False)
    emu.tokens.clear()
    jobs.sync_shop(shop.id)
    assert _shop(shop.id).sync_cursor == cursor


# ----------------------------------------------------------------------------- products to Shopify
def test_an_oms_product_is_published_and_its_stock_sent(client, login, shop_factory, org, emu, base_url, run_jobs):
    paris = warehouse(org.id, "PAR")
    product = Product(organization_id=org.id, title="Plaid laine", description="Laine d'agneau.",
                      images=["https://cdn.exemple.fr/plaid.jpg"])
    db.session.add(product)
    db.session.flush()
    for colour, sku in (("Ocre", "PLAID-OCR"), ("Gris", "PLAID-GRI")):
        v = Variant(organization_id=org.id, product_id=product.id, sku=sku, price=Decimal("89.00"),
                    options={"Couleur": colour}, hs_code="6301200000", country_of_origin="FR", weight_grams=900)
        db.session.add(v)
        db.session.flush()
        stock(v, paris, 4)
    shop = connect(shop_factory("shopify"), emu, base_url)
    jobs.sync_shop(shop.id)
    login(client)

    page = client.get(f"/apps/shopify/products/{product.id}").get_data(as_text=True)
    assert "Publier sur Shopify" in page
    from tests.fixtures import csrf_token

    token = csrf_token(client, f"/apps/shopify/products/{product.id}")
    res = client.post(f"/apps/shopify/products/{product.id}/push", data={"shop_id": shop.id, "csrf_token": token})
    assert res.status_code == 302
    run_jobs()

    remote = emu.variant_by_sku("PLAID-OCR")
    assert remote is not None and remote["price"] == "89.00" and remote["options"] == {"Couleur": "Ocre"}
    item = emu.items[remote["item"]]
    assert (item["harmonizedSystemCode"], item["countryCodeOfOrigin"], item["weight"]) == ("6301200000", "FR", 900)
    assert emu.products[remote["product"]]["title"] == "Plaid laine"
    assert emu.available("PLAID-OCR") == 4 and emu.available("PLAID-GRI") == 4
    assert db.session.scalar(select(func.count()).select_from(VariantBinding)
                             .where(VariantBinding.shop_id == shop.id,
                                    VariantBinding.external_sku.like("PLAID-%"))) == 2

    # a second push updates prices only: the title stays Shopify's
    emu.update_product(remote["product"], title="Plaid en laine d'agneau", notify=False)
    ocre = variant_by_sku(org.id, "PLAID-OCR")
    ocre.price = Decimal("79.00")
    db.session.commit()
    jobs.push_product(shop.id, product.id)
    assert emu.variant_by_sku("PLAID-OCR")["price"] == "79.00"
    assert emu.products[remote["product"]]["title"] == "Plaid en laine d'agneau"


# ----------------------------------------------------------------------------- demo
def test_the_demo_shop_sells_the_demo_catalogue(app, org):
    from core.demo import load_demo

    load_demo()
    emu = sandbox.ShopifyEmulator()
    oms_skus = set(db.session.scalars(select(Variant.sku)))
    assert {v["sku"] for v in emu.variants.values()} <= oms_skus


def test_the_live_shop_places_orders_and_signs_them(app, client, shop_factory, emu, base_url, run_jobs):
    shop = connect(shop_factory("shopify"), emu, base_url)
    customers = sandbox.Customers(emu, seed=3)
    placed = customers.place_one()
    delivery = emu.deliveries[-1]
    assert delivery.status == 200 and delivery.topic == "orders/create"
    assert set(delivery.headers) >= {"X-Shopify-Hmac-Sha256", "X-Shopify-Topic", "X-Shopify-Shop-Domain",
                                     "X-Shopify-Webhook-Id", "X-Shopify-API-Version", "X-Shopify-Triggered-At"}
    run_jobs()
    assert db.session.scalar(select(Order).where(Order.external_id == str(placed["id"]))) is not None
    assert available_to_sell(shop, []) == {}


def test_demo_settings_point_at_the_mount_and_the_live_app_learns_the_oms_url():
    app = sandbox.make_app(live=True, order_interval=3600)
    try:
        emu = app.extensions["shopify"]
        web = app.test_client()
        web.post("/admin/api/2026-10/graphql.json", json={"query": "{ shop { name } }"},
                 base_url="http://oms.exemple.fr/sandbox/shopify")
        assert emu.default_webhook_uri == "http://oms.exemple.fr/apps/shopify/webhooks"
        assert {s["topic"] for s in emu.subscriptions.values()} >= {"orders/create", "app/uninstalled"}
        settings = sandbox.demo_settings("http://127.0.0.1:5000/sandbox/shopify")
        assert settings["api_base_url"] == "http://127.0.0.1:5000/sandbox/shopify"
        assert settings["shop_domain"] == "maison-lumiere.myshopify.com"
    finally:
        app.extensions["shopify_customers"].stop()

