"""The store itself: keys (stripped header, wrong, revoked), webhooks disabled and re-enabled,
batch limits and per-item errors, ambiguous writes, one store per organization, tenants,
addresses, the catalogue's fix buttons, the migration."""
from __future__ import annotations

import pytest
from sqlalchemy import inspect, select

from addons.woocommerce import client as client_module
from addons.woocommerce import sandbox
from addons.woocommerce.client import Client, WooError, account_key, store_root
from addons.woocommerce.jobs import ensure_webhooks, push_stock, push_tracking, reconcile, sync_orders
from addons.woocommerce.models import WoocommerceListing, WoocommerceState, WoocommerceWebhook
from core import orders as order_flow
from core import services
from core.connectors import NO_RETRY, OutboundRefused
from core.extensions import db
from core.models import ConnectionStatus, Order, Shipment, Shop, Variant
from tests.pipeline_helpers import variant, warehouse

from .conftest import configure


@pytest.fixture
def stocked(app, org):
    paris = warehouse(org.id, "PAR")
    variant(org.id, "MUG-1", {paris: 10})
    db.session.commit()
    return paris


def test_a_server_that_strips_authorization_falls_back_to_query_keys(app, emu, stocked, shop_factory, base_url,
                                                                      run_jobs):
    emu.strip_auth = True
    shop = shop_factory("woocommerce")
    configure(shop, sandbox.demo_settings(base_url))
    result = services.test_connection(shop, "woocommerce")
    assert result.ok, result.message
    assert any("supprime l'en-tête Authorization" in d for d in result.details)
    db.session.commit()
    assert shop.addon_settings("woocommerce")["auth_in_query"] is True
    run_jobs()
    # from now on the keys go in the query at once: one call per request
    before = len(emu.kit.calls)
    sync_orders(shop.id)
    assert emu.kit.calls[before:] == [("GET", "/wp-json/wc/v3/orders")]
    assert "consumer_key=" in emu.last_orders_query


def test_the_stripped_header_explained_when_even_the_query_is_refused(app, emu, base_url):
    emu.strip_auth = True
    client = Client(base_url, sandbox.DEMO_KEY, sandbox.DEMO_SECRET, retry=NO_RETRY)
    client.key = ""  # nothing usable reaches WordPress either way
    with pytest.raises(WooError) as raised:
        client.system_status()
    assert raised.value.status == 401 and "Authorization" in str(raised.value) and ".htaccess" in str(raised.value)


def test_wrong_keys_are_said_plainly_and_not_retried(app, emu, shop_factory, base_url):
    shop = shop_factory("woocommerce")
    configure(shop, {**sandbox.demo_settings(base_url), "consumer_secret": "cs_" + "0" * 40})
    result = services.test_connection(shop, "woocommerce")
    assert not result.ok and "refuse la clé et le secret" in result.message
    assert "Exception" not in result.message and "401" in result.message
    assert emu.kit.calls.count(("GET", "/wp-json/wc/v3/system_status")) == 1


def test_revoked_keys_put_the_shop_in_error_without_stopping_its_sync(app, emu, stocked, woo_shop, monkeypatch):
    monkeypatch.setattr(client_module, "RETRY", NO_RETRY)
    shop = woo_shop()
    emu.keys.clear()  # the merchant revoked the key in WooCommerce
    with pytest.raises(WooError):
        sync_orders(shop.id)
    shop = db.session.get(Shop, shop.id)
    assert shop.status == ConnectionStatus.ERROR and "refuse la clé" in shop.last_error
    assert shop.sync_mode.value != "manual"
    emu.keys[sandbox.DEMO_KEY] = sandbox.DEMO_SECRET  # a new key: the next sync heals the shop
    sync_orders(shop.id)
    assert db.session.get(Shop, shop.id).status == ConnectionStatus.CONNECTED


def test_a_webhook_disabled_after_failures_is_reenabled_and_the_missed_order_polled(app, emu, stocked, woo_shop,
                                                                                     inbound, run_jobs):
    shop = woo_shop()
    hook = next(h for h in emu.webhooks.values() if h["topic"] == "order.created")
    inbound.failing = 100  # the OMS cannot be reached
    for _ in range(6):
        emu.place_order([("MUG-1", 1)])
        emu.flush()
    assert hook["failure_count"] == 6 and hook["status"] == "disabled"  # past 5 failures
    missed = emu.place_order([("MUG-1", 1)])  # not even sent: the webhook is off
    emu.flush()
    inbound.failing = 0
    out = reconcile(shop.id)
    assert "réactivé" in out and hook["status"] == "active" and hook["failure_count"] == 0
    row = db.session.scalar(select(WoocommerceWebhook).where(WoocommerceWebhook.topic == "order.created"))
    assert row.reenabled == 1 and row.status == "active"
    assert db.session.scalar(select(Order).where(Order.external_id == str(missed["id"]))) is not None
    assert len(db.session.scalars(select(Order)).all()) == 7
    # the next check finds everything in order: nothing created twice
    ensure_webhooks(shop.id)
    assert len(emu.webhooks) == 8


@pytest.mark.parametrize("emulator_options", [{"batch_limit": 2}])
def test_the_batch_limit_is_read_from_the_stores_error(app, emu, org, stocked, woo_shop):
    skus = [f"SKU-{n}" for n in range(5)]
    ids = [variant(org.id, sku, {stocked: 3 + n}).id for n, sku in enumerate(skus)]
    db.session.commit()
    for sku in skus:
        emu.add_product(f"Produit {sku}", sku, stock=0)
    shop = woo_shop()
    out = push_stock(shop.id, ids)
    assert "5 stock(s) envoyé(s)" in out
    assert [emu.stock_of(s) for s in skus] == [3, 4, 5, 6, 7]
    assert db.session.get(WoocommerceState, shop.id).batch_limit == 2
    sizes = [n for path, n in emu.batch_requests if path == "/products/batch"]
    assert 5 in sizes or 3 in sizes  # the first try was refused whole (413)...
    assert sizes[-3:] == [2, 2, 1]  # ...then chunks at the store's own limit


def test_per_item_errors_inside_a_200_are_reported_by_sku(app, emu, org, stocked, woo_shop):
    ok_id = variant(org.id, "BON-1", {stocked: 4}).id
    gone_id = variant(org.id, "PARTI-1", {stocked: 4}).id
    db.session.commit()
    emu.add_product("Bon", "BON-1", stock=0)
    gone = emu.add_product("Parti", "PARTI-1", stock=0)
    shop = woo_shop()
    emu.products.pop(gone["id"])  # deleted on the store after the catalogue import
    out = push_stock(shop.id, [ok_id, gone_id])
    assert "1 stock(s) envoyé(s)" in out and "PARTI-1 : Invalid ID." in out
    row = db.session.scalar(select(WoocommerceListing).where(WoocommerceListing.sku == "PARTI-1"))
    assert row.push_error == "Invalid ID." and emu.stock_of("BON-1") == 4


def test_a_tracking_whose_answer_was_lost_is_not_sent_twice(app, emu, stocked, woo_shop, run_jobs, monkeypatch):
    emu.add_product("Mug", "MUG-1", stock=5)
    shop = woo_shop()
    placed = emu.place_order([("MUG-1", 1)])
    run_jobs()
    order = db.session.scalar(select(Order).where(Order.shop_id == shop.id))
    monkeypatch.setattr(client_module, "RETRY", NO_RETRY)
    shipment = Shipment(carrier="colissimo", tracking_number="6A999")
    order_flow.ship(order, shipment)
    db.session.commit()
    # the store records the entry, but its answer never comes back
    real = emu.app.view_functions["trackings"]

    def lost(oid):
        real(oid)
        return sandbox.jsonify(sandbox.error_body(504)), 504

    emu.app.view_functions["trackings"] = lambda oid: lost(oid) if emu.kit.calls[-1][0] == "POST" else real(oid)
    with pytest.raises(WooError):
        push_tracking(shop.id, shipment.id)
    emu.app.view_functions["trackings"] = real
    push_tracking(shop.id, shipment.id)
    assert [t["tracking_number"] for t in emu.trackings[placed["id"]]] == ["6A999"]
    assert emu.orders[placed["id"]]["status"] == "completed"


def test_one_store_per_organization(app, emu, shop_factory, make_org, base_url):
    first = shop_factory("woocommerce", "Boutique A")
    configure(first, sandbox.demo_settings(base_url))
    second = shop_factory("woocommerce", "Boutique B")
    with pytest.raises(services.AccountAlreadyConnected) as raised:
        configure(second, {**sandbox.demo_settings(base_url.replace("127.0.0.1", "127.0.0.1") + "/")})
    assert "Boutique A" in str(raised.value)
    db.session.rollback()
    other = shop_factory("woocommerce", "Boutique C", organization=make_org("Autre"))
    configure(other, sandbox.demo_settings(base_url))  # another organization: its own business
    assert account_key("https://www.Ma-Boutique.fr/") == account_key("https://ma-boutique.fr") == "ma-boutique.fr"
    assert account_key("https://ma-boutique.fr/shop") == "ma-boutique.fr/shop"


def test_pages_only_for_the_shops_organization(app, client, login, emu, stocked, woo_shop, make_org, shop_factory):
    shop = woo_shop()
    login(client)
    assert client.get(f"/apps/woocommerce/shops/{shop.id}").status_code == 200
    elsewhere = shop_factory("woocommerce", "Ailleurs", organization=make_org("Autre"))
    assert client.get(f"/apps/woocommerce/shops/{elsewhere.id}").status_code == 404
    manual = Shop(organization_id=shop.organization_id, addon="manual", name="Sans WooCommerce")
    db.session.add(manual)
    db.session.commit()
    assert client.get(f"/apps/woocommerce/shops/{manual.id}").status_code == 404


def test_store_addresses(app):
    app.config.update(SANDBOXES=False, OUTBOUND_ALLOW=[])
    assert store_root("https://WWW.Boutique.fr/wp-json/wc/v3/") == "https://www.boutique.fr"
    with pytest.raises(OutboundRefused):
        store_root("http://boutique.fr")  # keys never over plain HTTP
    with pytest.raises(WooError):
        Client("ftp://boutique.fr", "ck", "cs")
    client = Client("https://127.0.0.1:9", "ck", "cs", retry=NO_RETRY)  # the server's own network
    with pytest.raises(WooError) as raised:
        client.system_status()
    assert "réseau interne" in str(raised.value)


def test_an_unmatched_article_is_created_from_the_page(app, client, login, post_form, emu, org, stocked, woo_shop):
    emu.add_product("Bougie figuier", "BOUG-FIG", stock=3)
    shop = woo_shop()
    row = db.session.scalar(select(WoocommerceListing).where(WoocommerceListing.sku == "BOUG-FIG"))
    assert row.variant_id is None
    login(client)
    res = post_form(f"/apps/woocommerce/shops/{shop.id}/listings/{row.id}", {"do": "create"},
                    page=f"/apps/woocommerce/shops/{shop.id}")
    assert res.status_code == 302
    created = db.session.scalar(select(Variant).where(Variant.sku == "BOUG-FIG"))
    assert created is not None and created.product.title == "Bougie figuier"
    db.session.refresh(row)
    assert row.variant_id == created.id


def test_migration_branch_applies(app):
    from flask_migrate import upgrade

    db.drop_all()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    upgrade(revision="heads")
    for table in ("woocommerce_state", "woocommerce_webhook", "woocommerce_listing", "woocommerce_tracking"):
        assert inspect(db.engine).has_table(table)
