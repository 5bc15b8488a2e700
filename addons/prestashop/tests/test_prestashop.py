"""PrestaShop end to end on the emulator: connect, orders by date_upd, stock through
stock_availables (id_shop always set), tracking through order_carriers and the shipped state
with sendemail=1, cancellations, keys, faults, tenants."""
from __future__ import annotations

import pytest
from sqlalchemy import inspect, select

from addons.prestashop import client as client_module
from addons.prestashop import mapping, sandbox
from addons.prestashop.client import Client, PrestaError, account_key
from addons.prestashop.jobs import push_stock, sync_orders
from addons.prestashop.models import PrestashopListing
from core import orders as order_flow
from core import services
from core.connectors import NO_RETRY
from core.extensions import db
from core.models import ConnectionStatus, Order, OrderStatus, Shipment, Shop
from tests.pipeline_helpers import variant, warehouse

from .conftest import configure


@pytest.fixture
def stocked(app, org):
    paris = warehouse(org.id, "PAR")
    mug = variant(org.id, "MUG-1", {paris: 20})
    tee = variant(org.id, "TEE-M", {paris: 6})
    db.session.commit()
    return mug, tee


def orders_of(shop) -> list[Order]:
    return db.session.scalars(select(Order).where(Order.shop_id == shop.id).order_by(Order.id)).all()


def test_connect_import_stock_and_tracking(app, client, login, emu, org, stocked, ps_shop, run_jobs, clock):
    mug, tee = stocked
    emu.add_product("Mug émaillé", "MUG-1", quantity=3, price="12.00")
    emu.add_product("T-shirt", "", combinations=[{"reference": "TEE-M", "quantity": 1},
                                                 {"reference": "TEE-L", "quantity": 1}])
    shop = ps_shop("Ma boutique Presta")
    assert shop.status == ConnectionStatus.CONNECTED
    rows = {r.sku: r for r in db.session.scalars(select(PrestashopListing))}
    assert rows["MUG-1"].variant_id == mug.id and rows["TEE-M"].variant_id == tee.id
    assert rows["TEE-L"].variant_id is None and rows["TEE-M"].stock_available_id

    placed = emu.place_order([("MUG-1", 2), ("TEE-M", 1)], email="hugo@exemple.fr")
    sync_orders(shop.id)
    order = orders_of(shop)[0]
    assert order.status == OrderStatus.ALLOCATED and order.number == placed["reference"]
    assert order.email == "hugo@exemple.fr" and order.shipping_address["country"] == "FR"
    assert order.shipping_address["city"] == "Nantes" and str(order.total) == "50.80"
    run_jobs()
    assert emu.stock_of("MUG-1") == 18 and emu.stock_of("TEE-M") == 5
    assert all(fields["id_shop"] == "1" for res, fields in emu.puts if res == "stock_availables")

    # a first parcel: the tracking number on the order carrier, the order not shipped yet
    mug_line = next(ln for ln in order.lines if ln.sku == "MUG-1")
    order_flow.ship(order, Shipment(carrier="colissimo", tracking_number="6A111"), [(mug_line, 2)])
    db.session.commit()
    run_jobs()
    carrier = next(c for c in emu.tables["order_carriers"].values() if c["id_order"] == placed["id"])
    assert carrier["tracking_number"] == "6A111" and emu.tables["orders"][placed["id"]]["current_state"] == 2
    # the rest: both numbers kept, the "Expédié" state sent with PrestaShop's e-mail
    order = db.session.get(Order, order.id)
    order_flow.ship(order, Shipment(carrier="colissimo", tracking_number="6A222"))
    db.session.commit()
    run_jobs()
    assert carrier["tracking_number"] == "6A111, 6A222"
    assert emu.tables["orders"][placed["id"]]["current_state"] == 4
    assert emu.emails == [(placed["id"], "shipped")]
    # the next poll reads the shipped state back: nothing changes in the OMS
    clock.advance(60)
    sync_orders(shop.id)
    assert db.session.get(Order, order.id).status == OrderStatus.SHIPPED
    login(client)
    page = client.get(f"/apps/prestashop/shops/{shop.id}").get_data(as_text=True)
    assert 'data-sku="TEE-L"' in page
    storefront = emu.app.test_client().get("/").get_data(as_text=True)
    assert "6A111, 6A222" in storefront and "Expédié" in storefront


def test_polling_by_date_upd_with_date_1_pages_and_overlap(app, emu, stocked, ps_shop, clock, monkeypatch):
    monkeypatch.setattr(client_module, "RETRY", NO_RETRY)
    emu.add_product("Mug", "MUG-1", quantity=500)
    shop = ps_shop()
    for _ in range(230):
        emu.place_order([("MUG-1", 1)])
    sync_orders(shop.id)
    assert len(orders_of(shop)) == 230
    gets = [c for c in emu.kit.calls if c == ("GET", "/api/orders")]
    assert len(gets) == 3  # 100 + 100 + 30: a short page ends the list
    clock.advance(120)
    sync_orders(shop.id)  # the overlap reads a few again: nothing doubled
    assert len(orders_of(shop)) == 230
    # without date=1 PrestaShop refuses a date filter: the emulator does as well (a request the
    # client never sends, so asked of an emulator whose traffic is not held to the schema)
    res = sandbox.PrestaEmulator().app.test_client().get("/api/orders", query_string={
        "ws_key": sandbox.DEMO_KEY, "filter[date_upd]": "[2026-01-01 00:00:00,2027-01-01 00:00:00]",
        "output_format": "JSON"})
    assert res.status_code == 400 and "date=1" in res.get_json()["errors"][0]["message"]


def test_an_outage_keeps_the_first_page_and_the_cursor(app, emu, stocked, ps_shop, monkeypatch):
    monkeypatch.setattr(client_module, "RETRY", NO_RETRY)
    emu.add_product("Mug", "MUG-1", quantity=500)
    shop = ps_shop()
    for _ in range(150):
        emu.place_order([("MUG-1", 1)])
    emu.kit.fail_next(503, times=3, path="/api/orders", after=1)
    with pytest.raises(PrestaError) as raised:
        sync_orders(shop.id)
    assert raised.value.retryable
    db.session.rollback()
    db.session.refresh(shop)
    assert shop.sync_cursor is None and len(orders_of(shop)) == 100
    emu.kit.reset()
    sync_orders(shop.id)
    assert len(orders_of(shop)) == 150


def test_a_429_storm_is_waited_out(app, emu, stocked, ps_shop, clock):
    emu.add_product("Mug", "MUG-1", quantity=5)
    shop = ps_shop()
    emu.place_order([("MUG-1", 1)])
    emu.kit.fail_next(429, times=3, retry_after=2, path="/api/orders")
    before = len(clock.slept)
    sync_orders(shop.id)
    assert clock.slept[before:before + 3] == [2.0, 2.0, 2.0] and len(orders_of(shop)) == 1
    assert set(clock.slept[before + 3:]) <= {2.0}  # the rest of the run paced on the host's Retry-After


def test_states_unknown_skus_and_cancellations(app, emu, stocked, ps_shop, run_jobs, clock):
    emu.add_product("Mug", "MUG-1", quantity=50)
    shop = ps_shop()
    waiting = emu.place_order([("MUG-1", 1)], state=10)  # awaiting bank wire
    unknown = emu.place_order([("MUG-1", 1), ("INCONNU-7", 1)])
    gone = emu.place_order([("MUG-1", 4)])
    mine = emu.place_order([("MUG-1", 1)])
    sync_orders(shop.id)
    by_ext = {o.external_id: o for o in orders_of(shop)}
    assert by_ext[str(waiting["id"])].payment_status.value == "pending"
    held = by_ext[str(unknown["id"])]
    assert held.status == OrderStatus.ON_HOLD and "INCONNU-7" in held.hold_reason
    # cancelled in PrestaShop: released in the OMS, nothing sent back
    clock.advance(60)
    emu.set_state(gone["id"], 6)
    sync_orders(shop.id)
    cancelled = db.session.get(Order, by_ext[str(gone["id"])].id)
    assert cancelled.status == OrderStatus.CANCELLED and cancelled.lines[0].reserved_quantity == 0
    # cancelled in the OMS: the "Annulé" state sent with its e-mail
    order_flow.cancel(db.session.get(Order, by_ext[str(mine["id"])].id), reason="rupture")
    db.session.commit()
    run_jobs()
    assert emu.tables["orders"][mine["id"]]["current_state"] == 6
    assert (mine["id"], "order_canceled") in emu.emails and (gone["id"], "order_canceled") not in emu.emails
    for status in ("order_canceled", "refund", "payment_error"):
        assert mapping.state_status({"template": {"1": status}})[0] in ("cancelled", "pending")


def test_stock_without_id_shop_would_be_zero(app):
    """The emulator does what PrestaShop does with a PUT lacking id_shop; the client never sends one."""
    emu = sandbox.PrestaEmulator()
    emu.add_product("Mug", "MUG-1", quantity=9)
    sid = next(s["id"] for s in emu.tables["stock_availables"].values())
    body = sandbox.xmlio.dumps("stock_available", {"id": sid, "id_product": 1, "id_product_attribute": 0,
                                                   "quantity": 9})
    res = emu.app.test_client().put(f"/api/stock_availables/{sid}?ws_key={sandbox.DEMO_KEY}", data=body)
    assert res.status_code == 200 and emu.stock_of("MUG-1") == 0
    emu.puts.clear()
    fields = mapping.stock_update({"id": sid, "id_product": "1", "id_product_attribute": "0", "id_shop": "1",
                                   "quantity": "0"}, 7, 1)
    assert fields["id_shop"] == 1 and fields["quantity"] == 7


def test_keys_stripped_header_wrong_key_and_missing_rights(app, emu, stocked, shop_factory, base_url):
    emu.strip_auth = True
    shop = shop_factory("prestashop")
    configure(shop, sandbox.demo_settings(base_url))
    result = services.test_connection(shop, "prestashop")
    assert result.ok and any("ws_key" in d for d in result.details)
    db.session.commit()
    assert shop.addon_settings("prestashop")["key_in_query"] is True

    wrong = Client(base_url, "X" * 32, retry=NO_RETRY)
    with pytest.raises(PrestaError) as raised:
        wrong.root()
    assert raised.value.status == 401 and "CGIPassAuth" in str(raised.value)

    emu.permissions = {"stock_availables": ("get",)}
    other = shop_factory("prestashop", "Sans droits")
    configure(other, {**sandbox.demo_settings(base_url), "id_shop": 2})
    result = services.test_connection(other, "prestashop")
    assert not result.ok and "stock_availables : PUT (modifier)" in result.details


def test_a_revoked_key_puts_the_shop_in_error(app, emu, stocked, ps_shop, monkeypatch):
    monkeypatch.setattr(client_module, "RETRY", NO_RETRY)
    shop = ps_shop()
    emu.keys.clear()
    with pytest.raises(PrestaError):
        sync_orders(shop.id)
    shop = db.session.get(Shop, shop.id)
    assert shop.status == ConnectionStatus.ERROR and "401" in shop.last_error


def test_one_account_per_organization_and_pages_per_tenant(app, client, login, emu, ps_shop, shop_factory,
                                                           make_org, base_url):
    shop = ps_shop("Presta A")
    twin = shop_factory("prestashop", "Presta B")
    with pytest.raises(services.AccountAlreadyConnected):
        configure(twin, sandbox.demo_settings(base_url + "/api/"))
    db.session.rollback()
    configure(twin, {**sandbox.demo_settings(base_url), "id_shop": 2})  # another shop of a multistore
    assert account_key("https://www.boutique.fr/api", 1) == account_key("https://boutique.fr", "1")
    login(client)
    assert client.get(f"/apps/prestashop/shops/{shop.id}").status_code == 200
    elsewhere = shop_factory("prestashop", "Ailleurs", organization=make_org("Autre"))
    assert client.get(f"/apps/prestashop/shops/{elsewhere.id}").status_code == 404


def test_a_stock_row_missing_is_reported_by_sku(app, emu, org, stocked, ps_shop):
    mug, _tee = stocked
    emu.add_product("Mug", "MUG-1", quantity=5)
    shop = ps_shop()
    row = db.session.scalar(select(PrestashopListing).where(PrestashopListing.sku == "MUG-1"))
    emu.tables["stock_availables"].pop(row.stock_available_id)
    out = push_stock(shop.id, [mug.id])  # a 404 on a row the catalogue knew: said by SKU, the others go on
    assert "refusés : MUG-1" in out
    db.session.refresh(row)
    assert "404" in row.push_error


def test_migration_branch_applies(app):
    from flask_migrate import upgrade

    db.drop_all()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    upgrade(revision="heads")
    for table in ("prestashop_state", "prestashop_listing", "prestashop_tracking", "prestashop_slip"):
        assert inspect(db.engine).has_table(table)
