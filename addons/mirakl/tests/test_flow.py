"""Mirakl end to end on the emulator: connect → import → accepted → address read again →
stock pushed (STO01/STO02/STO03) → shipped → tracking (OR23, OR24) on the emulator."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from addons.mirakl import sandbox
from addons.mirakl.jobs import sync_orders
from addons.mirakl.models import MiraklOrder, MiraklShipment, MiraklStockImport
from core.extensions import db
from core.models import AnalyticsActualFee, Order, OrderStatus, Shipment
from core.orders import ship
from core.services import test_connection as check_connection

from .conftest import configure, run_jobs


def _order(emu, code="carrefour", lines=(("MUG-1", 2, "12.00"),), **kw):
    return emu.place_order(code, list(lines), **kw)


def test_connection_reads_the_shop_account(app, make_shop, base_url):
    shop = make_shop("carrefour")
    result = check_connection(shop, "mirakl")
    assert result.ok, result.message
    assert "Boutique de démonstration (Carrefour)" in result.message and "Carrefour" in result.message
    assert any("2001" in d for d in result.details)
    configure(shop, {"api_key": "wrong-key"})
    refused = check_connection(shop, "mirakl")
    assert not refused.ok and "Clé API refusée par Mirakl" in refused.message


def test_connection_with_a_shop_id_of_another_shop_is_refused(app, make_shop):
    shop = make_shop("carrefour", shop_id="9999")
    result = check_connection(shop, "mirakl")
    assert not result.ok and "Clé API refusée" in result.message


def test_key_goes_bare_in_authorization(app, make_shop, emu, clock):
    shop = make_shop("carrefour")
    _order(emu)
    seen = []

    @emu.app.before_request
    def spy():
        from flask import request

        seen.append(request.headers.get("Authorization"))

    sync_orders(shop.id)
    assert seen and set(seen) == {sandbox.api_key("carrefour")}


def test_order_in_accepted_address_fetched_again_stock_out_tracking_out(app, make_shop, emu, clock, catalog):
    shop = make_shop("carrefour")
    placed = _order(emu, pudo="FR-12345", shipping_type="RELAY")
    mid = placed["order_id"]
    assert sync_orders(shop.id).startswith("1 commande")
    order = db.session.scalar(select(Order).where(Order.shop_id == shop.id))
    assert order.external_id == mid and order.number == mid
    assert order.status == OrderStatus.ALLOCATED
    assert order.shipping_address.get("city", "") == ""  # Mirakl hides it before acceptance
    row = db.session.scalar(select(MiraklOrder).where(MiraklOrder.order_id == order.id))
    assert row.state == "WAITING_ACCEPTANCE" and row.pickup_point_id == "FR-12345"
    assert row.line_ids == [f"{mid}-1"]
    fee = db.session.scalar(select(AnalyticsActualFee).where(AnalyticsActualFee.order_id == order.id))
    assert fee.kind == "commission" and fee.amount == Decimal(str(placed["total_commission"]))

    run_jobs(clock)  # OR21, then the order read again once debited; stock pushed
    accepts = [r for r in emu.kit.requests if r[0] == "PUT" and r[1].endswith("/accept")]
    assert accepts == [("PUT", f"/carrefour/api/orders/{mid}/accept",
                        {"order_lines": [{"id": f"{mid}-1", "accepted": True}]})]
    db.session.expire_all()
    row = db.session.scalar(select(MiraklOrder).where(MiraklOrder.order_id == order.id))
    assert row.state == "SHIPPING" and row.address_known
    order = db.session.get(Order, order.id)
    assert order.shipping_address["city"] == "Paris" and order.shipping_address["country"] == "FR"
    # the reservation lowered MUG-1 to 8: one stock file, its status read until complete
    imports = [r for r in emu.kit.calls if r == ("POST", "/carrefour/api/offers/stock/imports")]
    assert len(imports) == 1
    assert emu.instances["carrefour"].offers["MUG-1"]["quantity"] == 8
    imp = db.session.scalar(select(MiraklStockImport).where(MiraklStockImport.shop_id == shop.id))
    assert imp.status == "COMPLETE" and imp.lines_in_success == 1 and imp.errors == {}

    ship(order, Shipment(carrier="colissimo", service="Colissimo", tracking_number="6A123",
                         tracking_url="https://www.laposte.fr/outils/suivre-vos-envois?code=6A123"))
    db.session.commit()
    run_jobs(clock)
    tracked = [r for r in emu.kit.requests if r[1].endswith("/tracking")]
    assert tracked == [("PUT", f"/carrefour/api/orders/{mid}/tracking",
                        {"carrier_code": "COLISSIMO", "tracking_number": "6A123"})]
    remote = emu.instances["carrefour"].orders[mid]
    assert remote["order_state"] == "SHIPPED" and remote["shipping_tracking"] == "6A123"
    assert remote["shipping_tracking_url"].endswith("code=6A123")
    sent = db.session.scalar(select(MiraklShipment))
    assert sent.tracking_sent_at is not None and sent.shipped_sent_at is not None


def test_unlisted_carrier_goes_by_name_and_url(app, make_shop, emu, clock, catalog):
    shop = make_shop("leroymerlin")
    mid = _order(emu, "leroymerlin", lines=(("MUG-1", 1, "12.00"),))["order_id"]
    sync_orders(shop.id)
    run_jobs(clock)
    order = db.session.scalar(select(Order).where(Order.shop_id == shop.id))
    ship(order, Shipment(carrier="manual", service="Transports Dupont", tracking_number="TD-9",
                         tracking_url="https://dupont.example/suivi/TD-9"))
    db.session.commit()
    run_jobs(clock)
    tracked = [r[2] for r in emu.kit.requests if r[1].endswith("/tracking")]
    assert tracked == [{"carrier_name": "Transports Dupont", "carrier_url": "https://dupont.example/suivi/TD-9",
                        "tracking_number": "TD-9"}]
    assert emu.instances["leroymerlin"].orders[mid]["order_state"] == "SHIPPED"


def test_carrier_mapping_of_the_settings_wins(app, make_shop, emu, clock, catalog):
    shop = make_shop("leroymerlin", carrier_map="colissimo = colissimo-lm")
    _order(emu, "leroymerlin", lines=(("MUG-1", 1, "12.00"),))
    sync_orders(shop.id)
    run_jobs(clock)
    order = db.session.scalar(select(Order).where(Order.shop_id == shop.id))
    ship(order, Shipment(carrier="colissimo", tracking_number="6A9"))
    db.session.commit()
    run_jobs(clock)
    assert [r[2] for r in emu.kit.requests if r[1].endswith("/tracking")] == [
        {"carrier_code": "colissimo-lm", "tracking_number": "6A9"}]


def test_partial_shipment_goes_as_a_shipment_where_the_operator_enables_it(app, make_shop, emu, clock, catalog):
    shop = make_shop("carrefour")  # Carrefour: multiple shipments enabled
    mid = _order(emu, lines=(("MUG-1", 1, "12.00"), ("TEE-1", 1, "15.00")))["order_id"]
    sync_orders(shop.id)
    run_jobs(clock)
    order = db.session.scalar(select(Order).where(Order.shop_id == shop.id))
    mug = next(ln for ln in order.lines if ln.sku == "MUG-1")
    ship(order, Shipment(carrier="colissimo", tracking_number="P1"), lines=[(mug, 1)])
    db.session.commit()
    run_jobs(clock)
    created = [r[2] for r in emu.kit.requests if r[1].endswith("/api/shipments")]
    assert created == [{"shipments": [{"order_id": mid, "shipped": True,
                                       "tracking": {"carrier_code": "COLISSIMO", "tracking_number": "P1"},
                                       "shipment_lines": [{"order_line_id": f"{mid}-1", "quantity": 1}]}]}]
    assert emu.instances["carrefour"].orders[mid]["order_state"] == "SHIPPING"  # one parcel of two
    order = db.session.get(Order, order.id)
    tee = next(ln for ln in order.lines if ln.sku == "TEE-1")
    ship(order, Shipment(carrier="colissimo", tracking_number="P2"), lines=[(tee, 1)])
    db.session.commit()
    run_jobs(clock)
    assert emu.instances["carrefour"].orders[mid]["order_state"] == "SHIPPED"


def test_a_received_return_is_imported_once_where_the_operator_enables_returns(app, make_shop, emu, clock, catalog):
    from addons.mirakl.jobs import poll_returns
    from core.models import Return

    shop = make_shop("carrefour")  # Carrefour: returns enabled
    mid = _order(emu)["order_id"]
    sync_orders(shop.id)
    run_jobs(clock)
    order = db.session.scalar(select(Order).where(Order.shop_id == shop.id))
    ship(order, Shipment(carrier="colissimo", tracking_number="6A1"))
    db.session.commit()
    run_jobs(clock)
    emu.add_return("carrefour", mid, [(f"{mid}-1", 1)], state="IN_PROGRESS")
    back = emu.add_return("carrefour", mid, [(f"{mid}-1", 1)], state="RECEIVED")
    assert poll_returns(shop.id) == "2 retour(s) lu(s), 1 reçu(s) importé(s)"
    clock.advance(301)
    poll_returns(shop.id)
    rows = db.session.scalars(select(Return).where(Return.shop_id == shop.id)).all()
    assert [r.external_id for r in rows] == [f"mirakl-return-{back['id']}"]
    other = make_shop("conforama")  # Conforama: no returns module
    assert "non gérés" in poll_returns(other.id)
