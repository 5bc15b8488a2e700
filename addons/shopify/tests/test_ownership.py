"""Webhook routing by proof of ownership: two organizations claim one Shopify domain; the
deliveries reach only the shop that proved it owns it (the OAuth install of the public app,
or the merchant's own app secret verifying the HMAC), never one that only typed the domain."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from addons.shopify import sandbox
from addons.shopify.checks import check_connection
from addons.shopify.models import ShopifyShopState
from addons.shopify.oauth import webhook_hmac
from core.connectors.models import RemoteAccountClaim
from core.extensions import db
from core.models import Order, Organization, Plan, Shop, utcnow
from core.services import create_shop
from core.testing import csrf_token

from .helpers import configure, connect, install

SKU = "TCB-BLA-M"
SERVER_KEY = "public-app-client-id"
SERVER_SECRET = "shpss_public_app_secret_of_the_server"


@pytest.fixture
def app_config(clock):
    """The deployment's public app (server-wide credentials), as an operator configures it."""
    return {"SHOPIFY_SLEEP": clock.sleep, "SHOPIFY_MONOTONIC": clock.monotonic,
            "SHOPIFY_API_KEY": SERVER_KEY, "SHOPIFY_API_SECRET": SERVER_SECRET}


@pytest.fixture
def emulator(make_emulator):
    """One Shopify store where the public app and the merchant's custom app are installed."""
    return make_emulator(apps={SERVER_KEY: SERVER_SECRET, sandbox.DEMO_API_KEY: sandbox.DEMO_API_SECRET})


def _orders(org_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Order).where(Order.organization_id == org_id))


def _typed_only(shop: Shop, emu, base_url: str) -> None:
    """The other organization types the domain (no secret of its own) and presses "Tester"."""
    configure(shop, {"shop_domain": emu.domain, "api_version": "2026-10", "api_base_url": base_url})
    check_connection(shop.addon_settings("shopify"), shop)
    db.session.commit()


def test_public_app_deliveries_reach_only_the_shop_that_completed_the_install(
        app, client, login, make_user, make_org, post_form, org, shop_factory, emu, base_url, run_jobs):
    login(client)
    owner = shop_factory("shopify", "Maison Lumière")
    res = install(client, post_form, owner, base_url, api_key="", api_secret="")
    assert res.status_code == 302, res.get_data(as_text=True)[:500]
    run_jobs()

    other_org = make_org("Autre organisation")
    squatter = shop_factory("shopify", "Copie", organization=other_org)
    _typed_only(squatter, emu, base_url)
    # it even starts the install and completes Shopify's grant: the domain stays the first one's
    browser = app.test_client()
    login(browser, user=make_user(other_org))

    def post_b(url: str, data: dict | None = None, page: str | None = None, **kw):
        return browser.post(url, data={**(data or {}), "csrf_token": csrf_token(browser, page or url)}, **kw)

    refused = install(browser, post_b, squatter, base_url, api_key="", api_secret="")
    assert refused.status_code == 409
    assert (db.session.get(Shop, squatter.id).credentials or {}) == {}

    for _ in range(3):
        emu.place_order([(SKU, 1)])
    run_jobs()

    assert _orders(org.id) == 3
    assert _orders(other_org.id) == 0
    assert db.session.scalar(select(RemoteAccountClaim.shop_id)) == owner.id

    # a delivery signed with the server's secret for the domain is for the owner only
    body = b'{"id": 42, "line_items": []}'
    res = client.post("/apps/shopify/webhooks", data=body, headers={
        "X-Shopify-Topic": "orders/create", "X-Shopify-Shop-Domain": emu.domain, "X-Shopify-Webhook-Id": "w-42",
        "X-Shopify-Hmac-Sha256": webhook_hmac(body, SERVER_SECRET)})
    assert res.status_code == 200


def test_a_shop_that_only_typed_the_domain_receives_nothing_without_an_owner(client, make_org, shop_factory, emu,
                                                                              base_url, run_jobs):
    squatter = shop_factory("shopify", "Copie", organization=make_org("Autre organisation"))
    _typed_only(squatter, emu, base_url)
    body = b'{"id": 42, "line_items": []}'
    res = client.post("/apps/shopify/webhooks", data=body, headers={
        "X-Shopify-Topic": "orders/create", "X-Shopify-Shop-Domain": emu.domain, "X-Shopify-Webhook-Id": "w-42",
        "X-Shopify-Hmac-Sha256": webhook_hmac(body, SERVER_SECRET)})
    assert res.status_code == 401
    run_jobs()
    assert _orders(squatter.organization_id) == 0


def test_custom_app_deliveries_reach_only_the_shop_holding_the_secret(org, make_org, shop_factory, emu, base_url,
                                                                       run_jobs):
    owner = connect(shop_factory("shopify", "Maison Lumière"), emu, base_url)  # the merchant's own app
    other_org = make_org("Autre organisation")
    typed = shop_factory("shopify", "Copie", organization=other_org)
    _typed_only(typed, emu, base_url)  # blank secret: the server's public-app secret would apply
    third_org = make_org("Troisième organisation")  # one organization cannot type the same domain twice
    guessed = shop_factory("shopify", "Devinette", organization=third_org)
    configure(guessed, {"shop_domain": emu.domain, "api_version": "2026-10", "api_base_url": base_url,
                        "api_key": "guess", "api_secret": "shpss_not_the_merchants_secret"})

    for _ in range(2):
        emu.place_order([(SKU, 1)])
    run_jobs()

    assert _orders(org.id) == 2
    assert _orders(other_org.id) == 0 and _orders(third_org.id) == 0
    assert owner.id != typed.id


def test_a_shop_configured_in_another_process_is_found_within_seconds(app, client, shop_factory, emu, base_url):
    from addons.shopify.inbox import INBOX

    body = b'{"id": 43, "line_items": []}'
    headers = {"X-Shopify-Topic": "orders/create", "X-Shopify-Shop-Domain": emu.domain, "X-Shopify-Webhook-Id": "w-43",
               "X-Shopify-Hmac-Sha256": webhook_hmac(body, sandbox.DEMO_API_SECRET)}
    assert client.post("/apps/shopify/webhooks", data=body, headers=headers).status_code == 401  # nobody yet
    shop = shop_factory("shopify")  # saved by another web process: this one is not told
    configure(shop, {**sandbox.demo_settings(base_url), "shop_domain": emu.domain})
    assert client.post("/apps/shopify/webhooks", data=body, headers=headers).status_code == 401  # remembered
    app.extensions["webhook_targets_shopify"].loaded -= 10  # what it remembers is now older than MISS_TTL
    assert client.post("/apps/shopify/webhooks", data=body, headers=headers).status_code == 200
    assert INBOX.pending(shop.id)


def test_shops_installed_before_the_claims_keep_their_deliveries(app):
    """The migration gives each domain's latest still-installed OAuth shop its claim."""
    from flask_migrate import upgrade

    db.drop_all()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    # core as it is today (the rows below are written with today's models), Shopify before its claims
    upgrade(revision="core@head")
    upgrade(revision="shopify_0002")
    db.session.add(Plan(code="free", name="Gratuit", monthly_order_limit=100))
    one, two = Organization(name="Une", plan_code="free"), Organization(name="Deux", plan_code="free")
    db.session.add_all([one, two])
    db.session.flush()
    # shops as the previous version left them: two OAuth installs of one domain, one typed only
    first, second, typed = create_shop(one, "shopify", "A"), create_shop(two, "shopify", "B"), create_shop(two, "shopify", "C")
    db.session.flush()
    db.session.add_all([
        ShopifyShopState(shop_id=first.id, domain="a.myshopify.com", installed_at=utcnow() - timedelta(days=9)),
        ShopifyShopState(shop_id=second.id, domain="a.myshopify.com", installed_at=utcnow() - timedelta(days=1)),
        ShopifyShopState(shop_id=typed.id, domain="b.myshopify.com")])
    db.session.commit()

    upgrade(revision="heads")

    db.session.expire_all()
    claims = db.session.execute(select(RemoteAccountClaim.account, RemoteAccountClaim.shop_id)).all()
    assert [tuple(c) for c in claims] == [("a.myshopify.com", second.id)]
