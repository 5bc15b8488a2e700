"""The web app: pages for each role, login, CSRF, tenant isolation, health, locale."""
from __future__ import annotations

import pytest

from core.extensions import db
from core.models import Order, OrderLine, Product, Role, Variant
from tests.fixtures import FAKE_ADDONS, csrf_token

MANAGER_PAGES = ["/", "/orders", "/products", "/stock", "/preparation", "/analytics", "/integrations/",
                 "/integrations/alpha", "/integrations/beta"]
PICKER_PAGES = ["/", "/preparation"]


@pytest.fixture
def addons():
    return ["alpha", "beta"]


@pytest.fixture
def app_config():
    return {"ADDON_MODULES": FAKE_ADDONS}


def make_order(org_id: int, shop, number: str = "#1001") -> Order:
    product = Product(organization_id=org_id, title="Mug")
    db.session.add(product)
    db.session.flush()
    variant = Variant(organization_id=org_id, product_id=product.id, sku=f"MUG-{number}", price=12)
    db.session.add(variant)
    db.session.flush()
    order = Order(organization_id=org_id, shop_id=shop.id, external_id=number, number=number,
                  email="client@exemple.fr", total=24, shipping_address={"name": "Client", "country": "FR"})
    order.lines.append(OrderLine(sku=variant.sku, variant_id=variant.id, quantity=2, unit_price=12))
    db.session.add(order)
    db.session.commit()
    return order


@pytest.mark.parametrize("role", ["owner", "staff"])
def test_every_page_renders_for_managers(client, login, shop_factory, org, role):
    shop = shop_factory("beta", "Ma boutique")
    order = make_order(org.id, shop)
    login(client, role)
    pages = MANAGER_PAGES + [f"/orders/{order.id}", f"/products/{order.lines[0].variant.product_id}",
                             f"/integrations/shops/{shop.id}/log",
                             f"/integrations/alpha/shops/{shop.id}/configure"]
    owner_only = {"/integrations/", f"/integrations/alpha/shops/{shop.id}/configure", "/team", "/plan"}
    for url in pages:
        res = client.get(url)
        if role == "staff" and (url in owner_only or url.startswith("/integrations/") and "/log" not in url):
            assert res.status_code == 403, (url, res.status_code)  # shops, credentials: the owner's
            continue
        assert res.status_code == 200, (url, res.status_code)
        assert "<html" in res.get_data(as_text=True)


def test_picker_sees_preparation_only(client, login):
    login(client, Role.PICKER)
    home = client.get("/")
    assert home.status_code == 302 and home.headers["Location"].endswith("/preparation/waves")
    for url in PICKER_PAGES:
        if url == "/":
            continue
        assert client.get(url).status_code == 200, url
    for url in ["/orders", "/products", "/stock", "/integrations/", "/analytics"]:
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize("url", MANAGER_PAGES)
def test_login_required(client, url):
    res = client.get(url)
    assert res.status_code == 302 and "/login" in res.headers["Location"]


def test_wrong_password_refused(client, make_user, org):
    user = make_user(org, password="the right one")
    res = client.post("/login", data={"email": user.email, "password": "wrong",
                                      "csrf_token": csrf_token(client)})
    assert res.status_code == 200 and "incorrect" in res.get_data(as_text=True)
    assert client.get("/orders").status_code == 302


def test_form_without_csrf_token_refused(client, make_user, login, shop_factory, org):
    user = make_user(org, password="pw-123456")
    assert client.post("/login", data={"email": user.email, "password": "pw-123456"}).status_code == 400
    login(client)
    shop = shop_factory("beta")
    res = client.post(f"/integrations/alpha/shops/{shop.id}/enable")
    assert res.status_code == 400
    res = client.post(f"/integrations/alpha/shops/{shop.id}/disable")
    assert res.status_code == 400
    db.session.expire_all()
    assert "alpha" in shop.enabled_addons()


def test_logout_needs_post_with_csrf(client, login):
    login(client)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    token = csrf_token(client, "/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/orders").status_code == 302


def test_tenant_isolation(client, login, make_org, shop_factory, org):
    other = make_org("Concurrent SARL")
    their_shop = shop_factory("beta", "Leur boutique", organization=other)
    their_order = make_order(other.id, their_shop, "#9999")
    mine = shop_factory("beta", "Ma boutique")
    make_order(org.id, mine, "#1001")
    login(client)
    # by id in the URL: 404, never 403 (existence is not even confirmed)
    for url in [f"/orders/{their_order.id}", f"/products/{their_order.lines[0].variant.product_id}",
                f"/integrations/shops/{their_shop.id}/log",
                f"/integrations/alpha/shops/{their_shop.id}/configure"]:
        assert client.get(url).status_code == 404, url
    for url in [f"/integrations/alpha/shops/{their_shop.id}/enable",
                f"/integrations/beta/shops/{their_shop.id}/test", f"/integrations/shops/{their_shop.id}/sync"]:
        res = client.post(url, data={"csrf_token": csrf_token(client, "/integrations/")})
        assert res.status_code == 404, url
    # lists never show another organization's rows
    assert "#9999" not in client.get("/orders").get_data(as_text=True)
    assert "#9999" not in client.get("/orders?q=9999").get_data(as_text=True)
    assert "#1001" in client.get("/orders").get_data(as_text=True)
    assert "Leur boutique" not in client.get("/integrations/beta").get_data(as_text=True)
    assert f"MUG-#9999" not in client.get("/stock").get_data(as_text=True)
    assert "Mug" in client.get("/products").get_data(as_text=True)


def test_open_redirect_refused(client, make_user, org):
    user = make_user(org, password="pw-123456")
    res = client.post("/login?next=https://evil.example/x",
                      data={"email": user.email, "password": "pw-123456", "csrf_token": csrf_token(client)})
    assert res.headers["Location"] == "/"


@pytest.mark.parametrize("app_config", [{"HEALTH_TOKEN": "operator-token"}])
def test_healthz(client, login):
    res = client.get("/healthz")
    assert res.status_code == 200
    assert res.get_json() == {"status": "ok"}  # the public sees no figures
    assert client.get("/healthz", headers={"X-Health-Token": "wrong"}).get_json() == {"status": "ok"}
    body = client.get("/healthz", headers={"X-Health-Token": "operator-token"}).get_json()
    assert body["database"]["ok"] is True and body["queue"]["mode"] == "manual"
    login(client)  # a signed-in owner sees them too
    assert "outbox_pending" in client.get("/healthz").get_json()


def test_english_and_french(client, login):
    login(client)
    fr = client.get("/orders").get_data(as_text=True)
    assert "Commandes" in fr and "Intégrations" in fr
    en = client.get("/orders?lang=en").get_data(as_text=True)
    assert "Orders" in en and 'lang="en"' in en


def test_money_and_dates_follow_locale(app):
    from datetime import datetime, timezone
    from decimal import Decimal

    with app.app_context(), app.test_request_context("/?lang=fr"):
        money = app.jinja_env.filters["money"]
        assert money(Decimal("1234.5"), "EUR").replace("\u202f", " ").replace("\xa0", " ") == "1 234,50 €"
    with app.app_context(), app.test_request_context("/?lang=en"):
        assert app.jinja_env.filters["money"](Decimal("1234.5"), "EUR") == "€1,234.50"
        assert "2026" in app.jinja_env.filters["dt"](datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc))
