"""PrestaShop credit slips ("avoirs", ``order_slip``) into OMS returns, and the fix buttons of
the catalogue's unmatched articles, end to end on the emulator."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from addons.prestashop import client as client_module
from addons.prestashop import mapping, sandbox
from addons.prestashop.client import PrestaError
from addons.prestashop.jobs import sync_orders
from addons.prestashop.models import PrestashopListing, PrestashopSlip, PrestashopState
from core import orders as order_flow
from core.connectors import NO_RETRY
from core.extensions import db
from core.models import Order, OrderStatus, Return, ReturnStatus, Shipment, Variant
from tests.pipeline_helpers import variant, warehouse


@pytest.fixture
def stocked(app, org):
    paris = warehouse(org.id, "PAR")
    mug = variant(org.id, "MUG-1", {paris: 20})
    tee = variant(org.id, "TEE-M", {paris: 6})
    db.session.commit()
    return mug, tee


@pytest.fixture
def shipped(emu, stocked, ps_shop, clock):
    """A shop and one order of 2 mugs and 1 tee, imported and shipped in full."""
    emu.add_product("Mug émaillé", "MUG-1", quantity=30, price="12.00")
    emu.add_product("T-shirt", "TEE-M", quantity=30, price="20.00")
    shop = ps_shop("Ma boutique Presta")
    placed = emu.place_order([("MUG-1", 2), ("TEE-M", 1)])
    sync_orders(shop.id)
    order = db.session.scalar(select(Order).where(Order.shop_id == shop.id))
    order_flow.ship(order, Shipment(carrier="colissimo", tracking_number="6A1"))
    db.session.commit()
    clock.advance(60)
    return shop, placed, order


def returns_of(order: Order) -> list[Return]:
    return db.session.scalars(select(Return).where(Return.order_id == order.id).order_by(Return.id)).all()


def units(ret: Return) -> dict[str, int]:
    return {ln.order_line.sku: ln.quantity for ln in ret.lines}


def test_a_slip_is_imported_once_with_its_units_and_refund(app, emu, shipped, clock):
    shop, placed, order = shipped
    slip = emu.add_slip(placed["id"], [("MUG-1", 1)])
    out = sync_orders(shop.id)
    assert "1 avoir(s) repris" in out
    [ret] = returns_of(order)
    assert ret.external_id == f"slip:{slip['id']}" and ret.shop_id == shop.id
    assert units(ret) == {"MUG-1": 1} and ret.status == ReturnStatus.RECEIVED
    assert ret.refund_amount == Decimal("12.00")
    # the next reads (overlap, then a later pass) change nothing
    for _ in range(2):
        clock.advance(120)
        sync_orders(shop.id)
    assert len(returns_of(order)) == 1 and units(returns_of(order)[0]) == {"MUG-1": 1}
    row = db.session.scalar(select(PrestashopSlip).where(PrestashopSlip.slip_id == slip["id"]))
    assert row.status == "imported" and row.return_id == ret.id
    assert db.session.get(PrestashopState, shop.id).slip_cursor is not None


def test_partial_slips_take_their_quantities(app, emu, shipped):
    shop, placed, order = shipped
    emu.add_slip(placed["id"], [("MUG-1", 1), ("TEE-M", 1)])
    # a partial refund of PrestaShop before 1.7.7: totals at 0, the amount apart, no unit back
    legacy = emu.add_slip(placed["id"], [("MUG-1", 0)], partial=True, amount="5.00")
    sync_orders(shop.id)
    first, second = returns_of(order)
    assert units(first) == {"MUG-1": 1, "TEE-M": 1} and first.refund_amount == Decimal("32.00")
    assert second.external_id == f"slip:{legacy['id']}" and second.lines == []
    assert second.refund_amount == Decimal("5.00") and second.status == ReturnStatus.OPEN
    # a last slip for more units than are left: only what remains comes back
    emu.add_slip(placed["id"], [("MUG-1", 2)])
    sync_orders(shop.id)
    third = returns_of(order)[-1]
    assert units(third) == {"MUG-1": 1} and third.refund_amount == Decimal("24.00")
    assert db.session.get(Order, order.id).status == OrderStatus.RETURNED


def test_a_slip_of_shipping_only_is_a_refund_without_goods(app, emu, shipped):
    shop, placed, order = shipped
    emu.add_slip(placed["id"], [], shipping=True)
    sync_orders(shop.id)
    [ret] = returns_of(order)
    assert ret.lines == [] and ret.refund_amount == Decimal("6.90") and ret.status == ReturnStatus.OPEN
    assert db.session.get(Order, order.id).status == OrderStatus.SHIPPED


def test_a_slip_of_an_order_not_in_the_oms_waits_visibly(app, client, login, emu, stocked, ps_shop, clock):
    emu.add_product("Mug", "MUG-1", quantity=30, price="12.00")
    shop = ps_shop()
    old = emu.place_order([("MUG-1", 1)], state=4)
    emu.tables["orders"][old["id"]]["date_upd"] = "2020-01-10 10:00:00"  # before the import window
    slip = emu.add_slip(old["id"], [("MUG-1", 1)])
    other = emu.place_order([("MUG-1", 1)], state=4)
    emu.tables["orders"][other["id"]].update(id_shop=2, date_upd="2020-01-10 10:00:00")  # another shop's
    emu.add_slip(other["id"], [("MUG-1", 1)])
    out = sync_orders(shop.id)
    assert "1 en attente de leur commande" in out and "1 écarté(s)" in out
    row = db.session.scalar(select(PrestashopSlip).where(PrestashopSlip.slip_id == slip["id"]))
    assert row.status == "waiting" and row.order_reference == old["reference"] and old["reference"] in row.note
    assert db.session.scalars(select(Return)).all() == []
    login(client)
    page = client.get(f"/apps/prestashop/shops/{shop.id}").get_data(as_text=True)
    assert f'data-slip="{slip["id"]}" data-status="waiting"' in page and old["reference"] in page
    assert "en attente de la commande" in page and "autre boutique" in page
    # the order changes in PrestaShop: imported by the next poll, its slip with it
    clock.advance(60)
    emu.set_state(old["id"], 5)
    sync_orders(shop.id)
    order = db.session.scalar(select(Order).where(Order.shop_id == shop.id, Order.external_id == str(old["id"])))
    [ret] = returns_of(order)
    assert ret.external_id == f"slip:{slip['id']}" and ret.refund_amount == Decimal("12.00")
    db.session.refresh(row)
    assert row.status == "imported" and row.order_id == order.id


def test_an_outage_on_slips_keeps_their_cursor(app, emu, stocked, ps_shop, monkeypatch, clock):
    monkeypatch.setattr(client_module, "RETRY", NO_RETRY)
    emu.add_product("Mug", "MUG-1", quantity=30, price="12.00")
    shop = ps_shop()
    placed = emu.place_order([("MUG-1", 2)])
    sync_orders(shop.id)
    order = db.session.scalar(select(Order).where(Order.shop_id == shop.id))
    order_flow.ship(order, Shipment(carrier="colissimo", tracking_number="6A9"))
    db.session.commit()
    state = db.session.get(PrestashopState, shop.id)
    cursor = state.slip_cursor
    assert cursor is not None
    clock.advance(3600)
    emu.add_slip(placed["id"], [("MUG-1", 1)])
    emu.kit.fail_next(500, times=5, path="/api/order_slip")
    with pytest.raises(PrestaError) as raised:
        sync_orders(shop.id)
    assert raised.value.retryable and raised.value.status == 500
    db.session.rollback()
    db.session.refresh(state)
    assert state.slip_cursor == cursor and returns_of(order) == []
    emu.kit.reset()
    sync_orders(shop.id)
    [ret] = returns_of(order)
    assert units(ret) == {"MUG-1": 1}
    db.session.refresh(state)
    assert state.slip_cursor > cursor


def test_a_slip_read_from_the_webservice_payloads():
    """JSON as PrestaShop gives it (strings), XML with a single detail, an older partial refund."""
    full = {"id": 9, "id_order": "7301", "total_products_tax_incl": "24.000000", "total_shipping_tax_incl": "6.900000",
            "amount": "20.000000", "shipping_cost_amount": "6.900000", "partial": "0",
            "associations": {"order_slip_details": [{"id": "9", "id_order_detail": "41", "product_quantity": "2",
                                                     "amount_tax_excl": "20.000000", "amount_tax_incl": "24.000000"}]}}
    got = mapping.slip(full)
    assert got.units == [("41", 2)] and got.products == Decimal("24.00") and got.total == Decimal("30.90")
    body = (b'<?xml version="1.0" encoding="UTF-8"?><prestashop xmlns:xlink="http://www.w3.org/1999/xlink">'
            b'<order_slip><id><![CDATA[3]]></id><id_order><![CDATA[7302]]></id_order>'
            b'<total_products_tax_incl><![CDATA[0.000000]]></total_products_tax_incl>'
            b'<total_shipping_tax_incl><![CDATA[0.000000]]></total_shipping_tax_incl>'
            b'<amount><![CDATA[7.500000]]></amount><shipping_cost_amount><![CDATA[2.000000]]></shipping_cost_amount>'
            b'<partial><![CDATA[1]]></partial><associations><order_slip_details><order_slip_detail>'
            b'<id><![CDATA[3]]></id><id_order_detail><![CDATA[42]]></id_order_detail>'
            b'<product_quantity><![CDATA[1]]></product_quantity><amount_tax_excl><![CDATA[6.25]]></amount_tax_excl>'
            b'<amount_tax_incl><![CDATA[7.5]]></amount_tax_incl></order_slip_detail></order_slip_details>'
            b'</associations></order_slip></prestashop>')
    _name, fields = sandbox.xmlio.loads(body)
    legacy = mapping.slip(fields)
    assert legacy.units == [("42", 1)] and legacy.products == Decimal("7.50") and legacy.total == Decimal("9.50")


def test_the_emulator_lists_slips_as_prestashop_does(app):
    emu = sandbox.PrestaEmulator()
    emu.add_product("Mug", "MUG-1", quantity=9, price="12.00")
    placed = emu.place_order([("MUG-1", 1)])
    slip = emu.add_slip(placed["id"], [("MUG-1", 1)], shipping=True)
    web = emu.app.test_client()
    res = web.get("/api/order_slip", query_string={"ws_key": sandbox.DEMO_KEY, "display": "full"})
    assert b"<order_slips><order_slip>" in res.data and b"<order_slip_details><order_slip_detail>" in res.data
    res = web.get("/api/order_slip", query_string={"ws_key": sandbox.DEMO_KEY, "display": "full",
                                                   "output_format": "JSON"})
    [listed] = res.get_json()["order_slips"]
    detail = listed["associations"]["order_slip_details"][0]
    assert detail["id_order_detail"] == str(placed["associations"]["order_rows"][0]["id"])
    assert listed["total_shipping_tax_incl"] == "6.900000" and listed["id"] == slip["id"]
    # the storefront's button refunds a whole order, as the demo does
    other = emu.place_order([("MUG-1", 1)])
    assert web.post(f"/orders/{other['id']}/slip").status_code == 302
    assert any(s["id_order"] == other["id"] for s in emu.tables["order_slip"].values())
    assert "Avoir n°" in web.get("/").get_data(as_text=True)


# ----------------------------------------------------------------------------- fix buttons
@pytest.fixture
def loose(app, emu, stocked, ps_shop):
    emu.add_product("Mug", "MUG-1", quantity=5)
    emu.add_product("Coffret collector", "COFFRET-9", quantity=4, ean13="3760000000017")
    emu.add_product("Tasse bleue", "TASSE-B", quantity=7)
    shop = ps_shop("Presta fix")
    rows = {r.sku: r for r in db.session.scalars(select(PrestashopListing).where(
        PrestashopListing.shop_id == shop.id, PrestashopListing.variant_id.is_(None)))}
    assert set(rows) == {"COFFRET-9", "TASSE-B"}
    return shop, rows


def test_fix_buttons_create_and_link(app, client, login, emu, org, stocked, loose, post_form, run_jobs):
    shop, rows = loose
    _mug, tee = stocked
    login(client)
    url = f"/apps/prestashop/shops/{shop.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'data-sku="COFFRET-9"' in page and "Créer le produit" in page and "Relier" in page
    assert f"/apps/prestashop/shops/{shop.id}/listings/{rows['COFFRET-9'].id}/fix" in page

    res = post_form(f"{url}/listings/{rows['COFFRET-9'].id}/fix", {"do": "create"}, page=url)
    assert res.status_code == 302
    created = db.session.scalar(select(Variant).where(Variant.organization_id == org.id, Variant.sku == "COFFRET-9"))
    assert created is not None and created.product.title == "Coffret collector"
    assert created.barcode == "3760000000017"
    res = post_form(f"{url}/listings/{rows['TASSE-B'].id}/fix", {"do": "link", "sku": "TEE-M"}, page=url)
    assert res.status_code == 302
    db.session.expire_all()
    assert db.session.get(PrestashopListing, rows["COFFRET-9"].id).variant_id == created.id
    assert db.session.get(PrestashopListing, rows["TASSE-B"].id).variant_id == tee.id
    page = client.get(url).get_data(as_text=True)
    assert 'data-sku="TASSE-B"' not in page and 'data-sku="COFFRET-9"' not in page
    run_jobs()  # the linked article's stock follows its OMS product
    assert emu.stock_of("TASSE-B") == 6


def test_fix_buttons_refuse_an_unknown_sku_and_other_shops(app, client, login, emu, loose, post_form, shop_factory,
                                                          make_org, base_url):
    shop, rows = loose
    login(client)
    url = f"/apps/prestashop/shops/{shop.id}"
    res = post_form(f"{url}/listings/{rows['TASSE-B'].id}/fix", {"do": "link", "sku": "NEXISTE-PAS"}, page=url)
    assert res.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "NEXISTE-PAS" in page  # the merchant's sentence, flashed
    db.session.expire_all()
    assert db.session.get(PrestashopListing, rows["TASSE-B"].id).variant_id is None
    # another merchant's shop, and this shop's article through another shop of mine: 404
    theirs = shop_factory("prestashop", "Leur Presta", organization=make_org("Concurrent"))
    assert post_form(f"/apps/prestashop/shops/{theirs.id}/listings/{rows['TASSE-B'].id}/fix",
                     {"do": "create"}, page=url).status_code == 404
    mine = shop_factory("prestashop", "Autre Presta")
    assert post_form(f"/apps/prestashop/shops/{mine.id}/listings/{rows['TASSE-B'].id}/fix",
                     {"do": "create"}, page=url).status_code == 404
    assert client.post(f"{url}/listings/{rows['TASSE-B'].id}/fix", data={"do": "create"}).status_code == 400
    db.session.expire_all()
    assert db.session.get(PrestashopListing, rows["TASSE-B"].id).variant_id is None


def test_a_key_without_the_slip_right_keeps_the_orders_going(app, client, login, emu, shipped):
    shop, placed, order = shipped
    emu.add_slip(placed["id"], [("MUG-1", 1)])
    emu.permissions = {"order_slip": ()}
    emu.place_order([("MUG-1", 1)])
    out = sync_orders(shop.id)
    assert "avoirs non lus" in out and "order_slip" in out
    db.session.expire_all()
    assert db.session.get(type(shop), shop.id).status.value == "connected"
    assert len(db.session.scalars(select(Order).where(Order.shop_id == shop.id)).all()) == 2
    state = db.session.get(PrestashopState, shop.id)
    assert "order_slip" in state.slip_error and returns_of(order) == []
    login(client)
    page = client.get(f"/apps/prestashop/shops/{shop.id}").get_data(as_text=True)
    assert "Avoirs non lus" in page and "Paramètres avancés" in page
    emu.permissions = {"order_slip": ("get",)}
    sync_orders(shop.id)
    db.session.expire_all()
    assert db.session.get(PrestashopState, shop.id).slip_error is None and len(returns_of(order)) == 1


def test_slips_before_shipping_and_of_cancelled_orders(app, emu, stocked, ps_shop, clock):
    emu.add_product("Mug", "MUG-1", quantity=30, price="12.00")
    shop = ps_shop()
    waiting = emu.place_order([("MUG-1", 2)])
    gone = emu.place_order([("MUG-1", 1)])
    sync_orders(shop.id)
    clock.advance(60)
    emu.set_state(gone["id"], 6)
    sync_orders(shop.id)
    by_ext = {o.external_id: o for o in db.session.scalars(select(Order).where(Order.shop_id == shop.id))}
    assert by_ext[str(gone["id"])].status == OrderStatus.CANCELLED
    early = emu.add_slip(waiting["id"], [("MUG-1", 1)])
    void = emu.add_slip(gone["id"], [("MUG-1", 1)])
    sync_orders(shop.id)
    # refunded before it left: the money, no goods back, and the merchant told
    [ret] = returns_of(by_ext[str(waiting["id"])])
    assert ret.lines == [] and ret.refund_amount == Decimal("12.00")
    row = db.session.scalar(select(PrestashopSlip).where(PrestashopSlip.slip_id == early["id"]))
    assert row.status == "imported" and "avant leur expédition" in row.note
    # a cancelled order's slip is its cancellation's refund: set aside, with the reason
    assert returns_of(by_ext[str(gone["id"])]) == []
    row = db.session.scalar(select(PrestashopSlip).where(PrestashopSlip.slip_id == void["id"]))
    assert row.status == "skipped" and "annulée" in row.note
    clock.advance(60)
    sync_orders(shop.id)  # read again: still one return, the note kept
    db.session.expire_all()
    assert len(returns_of(by_ext[str(waiting["id"])])) == 1
    kept = db.session.scalar(select(PrestashopSlip).where(PrestashopSlip.slip_id == early["id"]))
    assert "avant leur expédition" in kept.note


def test_slips_page_by_100_and_an_outage_keeps_the_committed_page(app, emu, stocked, ps_shop, monkeypatch, clock):
    monkeypatch.setattr(client_module, "RETRY", NO_RETRY)
    emu.add_product("Mug", "MUG-1", quantity=30, price="12.00")
    shop = ps_shop()
    placed = emu.place_order([("MUG-1", 1)])
    sync_orders(shop.id)
    order = db.session.scalar(select(Order).where(Order.shop_id == shop.id))
    cursor = db.session.get(PrestashopState, shop.id).slip_cursor
    clock.advance(600)
    for _ in range(130):
        emu.add_slip(placed["id"], [], shipping=True)
    emu.kit.fail_next(500, times=3, path="/api/order_slip", after=1)
    with pytest.raises(PrestaError):
        sync_orders(shop.id)
    db.session.rollback()
    assert len(returns_of(order)) == 100  # the first page committed
    assert db.session.get(PrestashopState, shop.id).slip_cursor == cursor
    emu.kit.reset()
    sync_orders(shop.id)
    assert len(returns_of(order)) == 130
    assert len([c for c in emu.kit.calls if c == ("GET", "/api/order_slip")]) >= 2
