"""Orders in: getOrders by lastmodifieddate with overlap and offset pages, statuses, pick-up,
eBay's VAT, token cache and refresh, 429 storms, cancellations, unknown SKUs."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from addons.ebay import jobs, mapping
from addons.ebay.client import EbayError
from addons.ebay.connection import client_for
from addons.ebay.models import EbayOrder
from core import services
from core.extensions import db
from core.models import ConnectionStatus, Order, OrderStatus, Shop, StockLevel

from .conftest import T0


def test_filter_syntax_is_the_one_ebay_accepts():
    since = datetime(2026, 11, 20, 8, 5, 3, 511000, tzinfo=timezone.utc)
    assert mapping.orders_filter(since) == "lastmodifieddate:[2026-11-20T08:05:03.511Z..]"
    until = datetime(2026, 11, 21, tzinfo=timezone.utc)
    assert mapping.orders_filter(since, until) == "lastmodifieddate:[2026-11-20T08:05:03.511Z..2026-11-21T00:00:00.000Z]"
    assert mapping.orders_filter(None) is None


def test_the_emulator_refuses_filters_ebay_refuses(app, ebay_shop, emu):
    client = client_for(ebay_shop())
    with pytest.raises(EbayError) as bad:
        client.get_orders("orderfulfillmentstatus:NOT_STARTED")
    assert bad.value.error_ids == [30700] and "filtre" in str(bad.value)
    with pytest.raises(EbayError) as bad:
        client.get_orders("lastmodifieddate:[2026-11-20..]")
    assert bad.value.error_ids == [30800]
    with pytest.raises(EbayError) as bad:
        client.get_orders(None, limit=201)
    assert bad.value.error_ids == [31000]
    assert client.get_orders("lastmodifieddate:[2026-11-20T00:00:00.000Z..],orderfulfillmentstatus:"
                             "{NOT_STARTED|IN_PROGRESS}")["total"] == 0


def test_normalize_maps_buyer_totals_pickup_and_collected_vat(app, emu):
    order = emu.place_order([("TCB-BLA-M", 2)], buyer="Léa Martin", pickup="BOUTIQUE-PARIS-11",
                            collected_vat="6.63", notify=False)
    order["pricingSummary"]["tax"] = {"value": "0.00", "currency": "EUR"}
    data = mapping.normalize(order)
    assert data.external_id == data.number == order["orderId"]
    assert data.currency == "EUR" and data.total == Decimal("44.70") and data.shipping_total == Decimal("4.90")
    assert data.subtotal == Decimal("39.80") and data.tax_total == Decimal("0.00")
    assert data.lines[0].unit_price == Decimal("19.90") and data.lines[0].external_id.endswith("001")
    assert data.customer_name == "Léa Martin" and data.shipping_address.city == "Lyon"
    assert data.customer_email.endswith("@members.ebay.fr") and data.shipping_address.phone == "0601020304"
    assert data.pickup_point is not None and data.pickup_point.id == "BOUTIQUE-PARIS-11"
    assert data.pickup_point.network == "ebay_pickup" and data.pickup_point.address.city == "Lyon"
    # the VAT eBay collects and remits is not the seller's: apart from the order's taxes
    assert data.raw["ebay_collected_tax"] == "6.63" and "tva-collectée-par-ebay" in data.tags
    assert data.status == "open" and data.payment_status == "paid" and data.fulfillment_channel == "merchant"


def test_statuses_are_mapped_and_new_ones_kept(app, emu):
    order = emu.place_order([("CAP-STD", 1)], notify=False)
    assert mapping.status_of(order) == "open"
    assert mapping.status_of({**order, "orderFulfillmentStatus": "FULFILLED"}) == "shipped"
    assert mapping.status_of({**order, "cancelStatus": {"cancelState": "CANCELED"}}) == "cancelled"
    assert mapping.status_of({**order, "orderFulfillmentStatus": "AWAITING_PICKUP"}) == "awaiting_pickup"
    digital = {**order, "fulfillmentStartInstructions": [{"fulfillmentInstructionsType": "DIGITAL"}]}
    assert mapping.normalize(digital).fulfillment_channel == "marketplace"


def test_backlog_in_pages_of_200_with_the_cursor_moved_last(app, ebay_shop, emu, catalog, clock):
    catalog({"CAP-STD": 5000})
    for n in range(450):
        emu.place_order([("CAP-STD", 1)], created=T0 - 86400 + n, notify=False)
    shop = ebay_shop()
    emu.kit.fail_next(500, times=10, path="/sell/fulfillment/v1/order", after=1)

    with pytest.raises(EbayError):
        jobs.sync_orders(shop.id)

    assert db.session.scalar(select(func.count()).select_from(Order)) == 200  # the first page is kept
    assert db.session.get(Shop, shop.id).sync_cursor is None  # the cursor did not move
    emu.kit.reset()
    assert jobs.sync_orders(shop.id) == 450
    assert db.session.scalar(select(func.count()).select_from(Order)) == 450
    gets = [p for m, p in emu.kit.calls if p == "/sell/fulfillment/v1/order"]
    assert len(gets) == 1 + app.config["EBAY_RETRY"].attempts + 3  # 1 good, the retried failure, 3 pages
    shop = db.session.get(Shop, shop.id)
    assert datetime.fromisoformat(shop.sync_cursor).timestamp() == pytest.approx(clock.time(), abs=1)

    # the next run asks from the cursor minus the overlap; what it sees again changes nothing
    clock.advance(900)
    emu.modify(next(iter(emu.state.orders)), buyerCheckoutNotes="merci")
    assert jobs.sync_orders(shop.id) == 1
    assert db.session.scalar(select(func.count()).select_from(Order)) == 450


def test_token_cached_two_hours_then_refreshed_once(app, ebay_shop, emu, clock):
    shop = ebay_shop()
    for _ in range(3):
        jobs.sync_orders(shop.id)
    assert emu.token_grants == ["refresh_token"]
    clock.advance(7200 - 400)  # 6 min 40 s left: still used
    jobs.sync_orders(shop.id)
    assert emu.token_grants == ["refresh_token"]
    clock.advance(200)  # under five minutes left: refreshed before it expires
    jobs.sync_orders(shop.id)
    assert emu.token_grants == ["refresh_token", "refresh_token"]
    # a token eBay stops honouring early is refreshed once on the 401, then the call goes on
    emu.expire_tokens()
    jobs.sync_orders(shop.id)
    assert emu.token_grants == ["refresh_token"] * 3


def test_revoked_grant_puts_the_shop_in_error_in_french(app, ebay_shop, emu):
    shop = ebay_shop()
    jobs.sync_orders(shop.id)
    emu.revoke()
    with pytest.raises(EbayError):
        jobs.sync_orders(shop.id)
    shop = db.session.get(Shop, shop.id)
    assert shop.status == ConnectionStatus.ERROR
    assert "Installer sur eBay" in shop.last_error and "invalid_grant" not in shop.last_error


def test_a_429_storm_is_waited_out(app, ebay_shop, emu, catalog):
    catalog({"CAP-STD": 10})
    emu.place_order([("CAP-STD", 1)], notify=False)
    shop = ebay_shop()
    emu.kit.fail_next(429, times=3, retry_after=2, path="/sell/fulfillment/v1/order")
    assert jobs.sync_orders(shop.id) == 1
    assert sum(1 for c in emu.kit.calls if c == ("GET", "/sell/fulfillment/v1/order")) == 4


def test_unknown_sku_is_held_with_its_reason(app, ebay_shop, emu, catalog):
    catalog({"CAP-STD": 10})
    order = emu.place_order([("CAP-STD", 1), ("TCB-NOI-L", 1)], notify=False)
    shop = ebay_shop()
    jobs.sync_orders(shop.id)
    oms = db.session.scalar(select(Order).where(Order.external_id == order["orderId"]))
    assert oms.status == OrderStatus.ON_HOLD and "TCB-NOI-L" in (oms.hold_reason or "")


def test_cancellation_on_ebay_releases_the_stock(app, ebay_shop, emu, catalog, clock):
    variants = catalog({"CAP-STD": 10})
    order = emu.place_order([("CAP-STD", 3)], notify=False)
    shop = ebay_shop()
    jobs.sync_orders(shop.id)
    level = db.session.scalar(select(StockLevel).where(StockLevel.variant_id == variants["CAP-STD"].id))
    assert level.reserved == 3
    clock.advance(60)
    emu.buyer_cancels(order["orderId"])
    jobs.sync_orders(shop.id)
    oms = db.session.scalar(select(Order).where(Order.external_id == order["orderId"]))
    assert oms.status == OrderStatus.CANCELLED
    db.session.refresh(level)
    assert level.reserved == 0
    link = db.session.scalar(select(EbayOrder).where(EbayOrder.ebay_order_id == order["orderId"]))
    assert link.cancel_state == "CANCELED"
    assert emu.kit.calls.count(("POST", "/post-order/v2/cancellation")) == 0  # eBay's own: not sent back


def test_buyer_cancel_request_is_told_on_the_order(app, ebay_shop, emu, catalog, clock):
    catalog({"CAP-STD": 10})
    order = emu.place_order([("CAP-STD", 1)], notify=False)
    shop = ebay_shop()
    jobs.sync_orders(shop.id)
    clock.advance(60)
    emu.modify(order["orderId"], cancelStatus={"cancelState": "IN_PROGRESS", "cancelRequests": [
        {"cancelInitiator": "BUYER", "cancelReason": "ORDERED_BY_MISTAKE"}]})
    jobs.fetch_order(shop.id, order["orderId"])
    oms = db.session.scalar(select(Order).where(Order.external_id == order["orderId"]))
    assert oms.status == OrderStatus.ALLOCATED
    assert any("demande l'annulation" in e.message for e in oms.events)


def test_connection_test_reads_the_account_and_marketplaces(app, ebay_shop, emu):
    shop = ebay_shop(marketplaces=["EBAY_DE"])
    result = services.test_connection(shop, "ebay")
    assert result.ok, result.message
    assert "atelier-lumiere-fr" in result.message
    assert "ebay.fr : 1 condition(s) d'expédition" in result.details
    assert "ebay.de : aucune condition d'expédition (pas de vente)" in result.details
    assert db.session.get(Shop, shop.id).status == ConnectionStatus.CONNECTED


def test_connection_test_says_when_the_account_is_another(app, ebay_shop, emu):
    shop = ebay_shop(username="une-autre-boutique")
    result = services.test_connection(shop, "ebay")
    assert not result.ok and "atelier-lumiere-fr" in result.message and "une-autre-boutique" in result.message


def test_connection_test_with_a_wrong_secret(app, ebay_shop, emu):
    shop = ebay_shop(client_secret="PRD-wrong")
    result = services.test_connection(shop, "ebay")
    assert not result.ok and "Cert ID" in result.message or "secret" in result.message
    assert "invalid_client" not in result.message
