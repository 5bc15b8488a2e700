"""Cdiscount end to end on Octopia's emulator: connect, orders in, accept / refuse, stock out,
tracking out, cancellations, failures (429, outages, lost answers, expired tokens)."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from addons.cdiscount import mapping, sandbox
from addons.cdiscount.client import CdiscountError
from addons.cdiscount.jobs import push_stock, refuse_waiting, sync_orders
from addons.cdiscount.models import CdiscountOrder, CdiscountParcel
from core.addons import parse_manifest
from core.extensions import db
from core.models import FulfillmentChannel, Order, OrderStatus, Shipment, StockLevel
from core.orders import cancel, ship
from core.services import AccountAlreadyConnected, save_settings
from core.services import test_connection as check_connection

from .conftest import SECRETS, configure, run_jobs

PACKAGE = Path(__file__).resolve().parent.parent


def add(emu: sandbox.Emulator, lines, **kw) -> str:
    order_id = emu.new_order_id()
    emu.add_order(sandbox.make_order(order_id, lines, created=emu.now() - 60, **kw))
    return order_id


def the_order(order_id: str) -> Order:
    db.session.expire_all()
    return db.session.scalar(select(Order).where(Order.external_id == order_id))


def posts(emu: sandbox.Emulator, suffix: str) -> int:
    return sum(1 for m, p in emu.kit.calls if m == "POST" and p.endswith(suffix))


# ----------------------------------------------------------------------------- connect
def test_manifest_and_migration_branch(app):
    manifest = parse_manifest((PACKAGE / "__manifest__.py").read_text())
    assert manifest["kind"] == "channel" and manifest["api_version"] == "Octopia Seller API v2"
    from flask_migrate import upgrade

    db.drop_all()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    upgrade(revision="heads")
    tables = set(inspect(db.engine).get_table_names())
    assert {"cdiscount_order", "cdiscount_parcel", "cdiscount_offer"} <= tables


def test_connection_test_says_what_it_found_or_what_is_wrong(cdiscount_shop, emu):
    shop = cdiscount_shop()
    result = check_connection(shop, "cdiscount")
    assert result.ok, result.message
    assert "Atelier Martin" in result.message and any("transporteurs" in d for d in result.details)
    configure(shop, {"client_secret": "wrong"})
    bad = check_connection(shop, "cdiscount")
    assert not bad.ok and "identifiant client ou le secret" in bad.message
    configure(shop, {"client_secret": sandbox.DEMO_CLIENT_SECRET, "seller_id": "999999"})
    forbidden = check_connection(shop, "cdiscount")
    assert not forbidden.ok and "SellerId" in forbidden.message


def test_the_same_seller_cannot_be_connected_twice_in_one_organization(cdiscount_shop, shop_factory, make_org,
                                                                        base_url):
    cdiscount_shop()
    second = shop_factory("cdiscount")
    with pytest.raises(AccountAlreadyConnected):
        save_settings(second, "cdiscount", sandbox.settings_for(base_url), SECRETS)
    db.session.rollback()
    elsewhere = shop_factory("cdiscount", organization=make_org("Autre boutique"))
    save_settings(elsewhere, "cdiscount", sandbox.settings_for(base_url), SECRETS)  # another organization: its own
    db.session.commit()


# ----------------------------------------------------------------------------- the flow
def test_order_accepted_stock_pushed_then_tracking_once_in_preparation(cdiscount_shop, emu, catalog, clock):
    catalog({"TCB-BLA-M": 5})
    shop = cdiscount_shop()
    order_id = add(emu, [("TCB-BLA-M", 2, "19.90")], relay=True)
    assert sync_orders(shop.id) == 1
    order = the_order(order_id)
    assert order.status == OrderStatus.ALLOCATED and order.total > 0
    assert order.lines[0].external_id == f"{order_id}-1"
    run_jobs(clock)
    assert emu.approvals == [(order_id, "Accepted")]
    assert emu.offers["TCB-BLA-M"]["stock"] == 3  # reserved units off the offer
    # labelled and shipped in the OMS while Octopia still runs its final controls
    order = the_order(order_id)
    ship(order, Shipment(carrier="colissimo", tracking_number="6A123456789", tracking_url="https://suivi/6A1"))
    db.session.commit()
    run_jobs(clock)
    assert emu.shipments == []  # Accepted is not InPreparation: the parcel waits
    run_jobs(clock, minutes=3)  # Octopia's controls pass; the job's retry comes
    remote = emu.order(order_id)
    assert remote["status"] == "Shipped"
    assert remote["parcels"] == [{"parcelNumber": "6A123456789", "carrierName": "Colissimo",
                                  "trackingUrl": "https://suivi/6A1", "orderLineIds": [f"{order_id}-1"]}]
    sync_orders(shop.id)  # Octopia's Shipped comes back: nothing changes in the OMS
    assert the_order(order_id).status == OrderStatus.SHIPPED
    assert posts(emu, "/shipments") == 1


def test_order_without_stock_is_refused_with_its_reason_after_the_grace(cdiscount_shop, emu, catalog, clock):
    catalog({"BPF-STD": 3})
    shop = cdiscount_shop(refuse_after_hours=2)
    order_id = add(emu, [("BPF-STD", 50, "24.00")])
    sync_orders(shop.id)
    order = the_order(order_id)
    assert order.status == OrderStatus.ON_HOLD and order.hold_code == "backorder"
    run_jobs(clock)
    assert emu.approvals == []  # within the grace: stock may still come
    clock.advance(2 * 3600 + 60)
    assert refuse_waiting(shop.id) == 1
    run_jobs(clock)
    assert emu.approvals == [(order_id, "Refused")]
    order = the_order(order_id)
    assert order.status == OrderStatus.CANCELLED
    assert any("Rupture de stock" in (e.message or "") and e.kind == "decision" for e in order.events)
    row = db.session.scalar(select(CdiscountOrder).where(CdiscountOrder.order_id == order.id))
    assert row.decision == "refuse" and "BPF-STD" in row.decision_reason and row.decision_state == "done"


def test_unknown_sku_is_held_and_a_new_state_is_kept_as_text(cdiscount_shop, emu, catalog, clock):
    catalog({"TCB-BLA-M": 5})
    shop = cdiscount_shop()
    unknown = add(emu, [("NOPE-404", 1, "9.90")])
    odd = add(emu, [("TCB-BLA-M", 1, "19.90")])
    emu.set_status(odd, "AwaitingCarrierPickup")
    sync_orders(shop.id)
    held = the_order(unknown)
    assert held.status == OrderStatus.ON_HOLD and held.hold_code == "unknown_sku" and "NOPE-404" in held.hold_reason
    kept = the_order(odd)
    row = db.session.scalar(select(CdiscountOrder).where(CdiscountOrder.order_id == kept.id))
    assert row.status == "AwaitingCarrierPickup"
    assert any("AwaitingCarrierPickup" in e.message for e in kept.events)


def test_octopia_fulfilment_orders_are_told_apart_and_never_shipped_by_the_seller(cdiscount_shop, emu, catalog, clock):
    catalog({"TCB-BLA-M": 5})
    shop = cdiscount_shop()
    order_id = add(emu, [("TCB-BLA-M", 1, "19.90")], supply_mode="Fulfillment", status="InPreparation")
    sync_orders(shop.id)
    assert the_order(order_id).fulfillment_channel == FulfillmentChannel.MARKETPLACE
    run_jobs(clock)
    assert posts(emu, "/shipments") == 0


# ----------------------------------------------------------------------------- never twice
def test_an_approval_without_answer_is_checked_by_reading_and_never_sent_twice(cdiscount_shop, emu, catalog, clock):
    catalog({"TCB-BLA-M": 5})
    shop = cdiscount_shop()
    order_id = add(emu, [("TCB-BLA-M", 1, "19.90")])
    emu.lose_answer(f"/seller/v2/orders/{order_id}/approval-status")
    sync_orders(shop.id)
    # the approval lands, its answer is lost: the job fails; its retry reads the order first
    run_jobs(clock, minutes=5)
    row = db.session.scalar(select(CdiscountOrder).where(CdiscountOrder.octopia_id == order_id))
    assert row.decision_state == "done" and row.decision_calls == 1
    reads = [m for m, p in emu.kit.calls if p == f"/seller/v2/orders/{order_id}"]
    assert len(reads) == 2  # read before the call, read again before any second call
    assert posts(emu, "/approval-status") == 1 and emu.approvals == [(order_id, "Accepted")]


def test_a_shipment_without_answer_is_checked_by_reading_and_never_sent_twice(cdiscount_shop, emu, catalog, clock):
    catalog({"TCB-BLA-M": 5})
    shop = cdiscount_shop()
    order_id = add(emu, [("TCB-BLA-M", 1, "19.90")])
    sync_orders(shop.id)
    run_jobs(clock)
    clock.advance(120)
    assert emu.order(order_id)["status"] == "InPreparation"
    emu.lose_answer(f"/seller/v2/orders/{order_id}/shipments")
    ship(the_order(order_id), Shipment(carrier="chronopost", tracking_number="XY1", tracking_url="https://t/XY1"))
    db.session.commit()
    run_jobs(clock)
    run_jobs(clock, minutes=5)
    assert posts(emu, "/shipments") == 1
    assert db.session.scalar(select(CdiscountParcel.state)) == "done"
    assert emu.order(order_id)["parcels"][0]["carrierName"] == "Chronopost"


# ----------------------------------------------------------------------------- sync
def test_every_page_is_read_with_overlap_and_nothing_is_imported_twice(cdiscount_shop, emu, catalog, clock):
    catalog({"CAP-STD": 1000})
    shop = cdiscount_shop()
    ids = [add(emu, [("CAP-STD", 1, "12.90")]) for _ in range(230)]
    assert sync_orders(shop.id) == 230
    pages = [p for m, p in emu.kit.calls if p == "/seller/v2/orders"]
    assert len(pages) == 3
    clock.advance(60)
    assert sync_orders(shop.id) == 230  # the overlap reads them again
    assert db.session.scalar(select(db.func.count(Order.id))) == 230
    assert {o.external_id for o in db.session.scalars(select(Order))} == set(ids)


def test_an_outage_mid_sync_keeps_the_first_page_and_the_cursor(cdiscount_shop, emu, catalog, clock):
    catalog({"CAP-STD": 1000})
    shop = cdiscount_shop()
    for _ in range(150):
        add(emu, [("CAP-STD", 1, "12.90")])
    emu.kit.fail_next(503, times=10, path="/seller/v2/orders", after=1)
    with pytest.raises(CdiscountError) as raised:
        sync_orders(shop.id)
    assert raised.value.retryable and raised.value.status == 503
    db.session.expire_all()
    assert shop.sync_cursor is None
    assert db.session.scalar(select(db.func.count(Order.id))) == 100
    emu.kit.reset()
    assert sync_orders(shop.id) == 150 and shop.sync_cursor is not None


def test_a_429_storm_is_waited_out(cdiscount_shop, emu, catalog, clock):
    catalog({"CAP-STD": 10})
    shop = cdiscount_shop()
    add(emu, [("CAP-STD", 1, "12.90")])
    emu.kit.fail_next(429, times=3, path="/seller/v2/orders", retry_after=4)
    started = clock.time()
    assert sync_orders(shop.id) == 1
    assert clock.time() - started >= 12  # Retry-After honoured, on the clock
    assert [p for m, p in emu.kit.calls].count("/seller/v2/orders") == 4


def test_the_token_is_cached_for_its_lifetime_and_renewed_when_refused(cdiscount_shop, emu, catalog, clock):
    catalog({"CAP-STD": 10})
    shop = cdiscount_shop()
    for _ in range(3):
        sync_orders(shop.id)
    assert emu.token_count == 1  # one token for every call within its two hours
    clock.advance(2 * 3600)
    sync_orders(shop.id)
    assert emu.token_count == 2  # expired: a new one
    emu.tokens.clear()  # revoked on Octopia's side: the 401 asks for a new one, once
    sync_orders(shop.id)
    assert emu.token_count == 3


def test_the_token_quota_is_told_to_the_merchant(cdiscount_shop, base_url, emu):
    emu.token_quota = 0
    shop = cdiscount_shop()
    result = check_connection(shop, "cdiscount")
    assert not result.ok and "429" in result.message


# ----------------------------------------------------------------------------- cancellations
def test_a_cancellation_from_cdiscount_releases_the_stock(cdiscount_shop, emu, catalog, clock):
    variants = catalog({"TCB-BLA-M": 5})
    shop = cdiscount_shop()
    order_id = add(emu, [("TCB-BLA-M", 2, "19.90")])
    sync_orders(shop.id)
    run_jobs(clock)
    emu.set_status(order_id, "Cancelled")
    clock.advance(30)
    sync_orders(shop.id)
    assert the_order(order_id).status == OrderStatus.CANCELLED
    level = db.session.scalar(select(StockLevel).where(StockLevel.variant_id == variants["TCB-BLA-M"].id))
    assert level.reserved == 0
    run_jobs(clock)
    assert emu.cancellations == []  # Cdiscount's own: nothing sent back


def test_a_cancellation_in_the_oms_after_acceptance_is_sent_once(cdiscount_shop, emu, catalog, clock):
    catalog({"TCB-BLA-M": 5})
    shop = cdiscount_shop()
    order_id = add(emu, [("TCB-BLA-M", 1, "19.90")])
    sync_orders(shop.id)
    run_jobs(clock)
    cancel(the_order(order_id), reason="client injoignable")
    db.session.commit()
    run_jobs(clock)
    assert [c["orderSellerId"] for c in emu.cancellations] == [order_id]
    assert emu.cancellations[0]["reason"] == "seller-out-of-stock"
    assert emu.order(order_id)["status"] == "Cancelled"


# ----------------------------------------------------------------------------- stock
def test_stock_push_is_coalesced_in_batches_within_the_limit(cdiscount_shop, emu, catalog, clock):
    from addons.cdiscount.jobs import mark_pending

    variants = catalog({f"SKU-{n:03d}": n for n in range(150)})
    shop = cdiscount_shop()
    mark_pending(shop, [v.id for v in variants.values()])
    db.session.commit()
    assert push_stock(shop.id) == 150
    puts = [p for m, p in emu.kit.calls if m == "PUT"]
    assert len(puts) == 2  # 100 + 50: Octopia gets at most 100 offers a call here
    assert emu.offers["SKU-042"]["stock"] == 42 and emu.offers["SKU-042"]["productEan"]
    assert push_stock(shop.id) == 0  # nothing pending: nothing sent


# ----------------------------------------------------------------------------- tenancy
def test_one_merchant_never_sees_another_s_orders(cdiscount_shop, emu, catalog, clock, make_org, shop_factory,
                                                  base_url):
    catalog({"TCB-BLA-M": 5})
    mine = cdiscount_shop()
    other_org = make_org("Autre marchand")
    theirs = shop_factory("cdiscount", organization=other_org)
    configure(theirs, {**sandbox.settings_for(base_url), "seller_id": "555555"})
    add(emu, [("TCB-BLA-M", 1, "19.90")])
    sync_orders(mine.id)
    with pytest.raises(CdiscountError):
        sync_orders(theirs.id)  # another seller id: Octopia refuses (403), nothing imported
    assert {o.organization_id for o in db.session.scalars(select(Order))} == {mine.organization_id}


# ----------------------------------------------------------------------------- mapping and demo
def test_the_relay_point_and_the_states_are_mapped():
    order = sandbox.make_order("2612021200ABCD1", [("TCB-BLA-M", 1, "19.90")], created=1.8e9, relay=True)
    normalized = mapping.normalize(order)
    assert normalized.pickup_point.id == "069123" and normalized.pickup_point.network == "mondialrelay"
    assert normalized.shipping_address.country == "FR" and normalized.customer_email
    for state, expected in [("Refused", "cancelled"), ("Rejected", "cancelled"), ("Delivered", "shipped"),
                            ("WaitingAcceptance", "open"), ("SomethingNew", "open")]:
        assert mapping.normalize({**order, "status": state}).status == expected
    assert mapping.carrier_name("mondialrelay", None, set(sandbox.CARRIERS)) == "Mondial Relay"
    assert mapping.carrier_name("manual", None, set(sandbox.CARRIERS)) == "Autre"


def test_the_demo_shop_places_a_burst_then_one_order_every_twenty_minutes(clock):
    emulator = sandbox.Emulator(clock=clock, live=True)
    assert len(emulator.orders) == 3
    assert any(ln["quantity"] == 50 for o in emulator.orders.values() for ln in o["lines"])  # to be refused
    assert all(o["status"] == "WaitingAcceptance" for o in emulator.orders.values())
    clock.advance(19 * 60)
    emulator.order(next(iter(emulator.orders)))
    assert len(emulator.orders) == 3
    clock.advance(2 * 60)
    emulator.order(next(iter(emulator.orders)))
    assert len(emulator.orders) == 4
    assert len({o["orderId"] for o in emulator.orders.values()}) == 4


# ----------------------------------------------------------------------------- the shop's page
def test_the_shop_page_shows_decisions_and_is_another_tenant_s_404(cdiscount_shop, emu, catalog, clock, client,
                                                                   login, make_org, shop_factory, make_user,
                                                                   base_url):
    catalog({"BPF-STD": 1})
    shop = cdiscount_shop(refuse_after_hours=0)
    order_id = add(emu, [("BPF-STD", 5, "24.00")])
    sync_orders(shop.id)
    run_jobs(clock)
    login(client)
    page = client.get(f"/apps/cdiscount/shops/{shop.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert order_id in text and "refusée" in text and "Rupture de stock" in text
    other = shop_factory("cdiscount", organization=make_org("Autre marchand"))
    assert client.get(f"/apps/cdiscount/shops/{other.id}").status_code == 404


def test_an_older_version_read_late_changes_nothing(cdiscount_shop, emu, catalog, clock):
    from addons.cdiscount.jobs import handle_page

    catalog({"TCB-BLA-M": 5})
    shop = cdiscount_shop()
    order_id = add(emu, [("TCB-BLA-M", 1, "19.90")])
    old = emu.order(order_id)
    clock.advance(60)
    emu.set_status(order_id, "Cancelled")
    sync_orders(shop.id)
    assert the_order(order_id).status == OrderStatus.CANCELLED
    handle_page(shop, [old])  # a replica late by a minute answers the WaitingAcceptance version
    db.session.commit()
    order = the_order(order_id)
    row = db.session.scalar(select(CdiscountOrder).where(CdiscountOrder.order_id == order.id))
    assert order.status == OrderStatus.CANCELLED and row.status == "Cancelled"


def test_a_full_last_page_is_not_followed_by_an_empty_one(cdiscount_shop, emu, catalog, clock):
    catalog({"CAP-STD": 1000})
    shop = cdiscount_shop()
    for _ in range(200):
        add(emu, [("CAP-STD", 1, "12.90")])
    assert sync_orders(shop.id) == 200
    assert [p for m, p in emu.kit.calls].count("/seller/v2/orders") == 2  # the Link header says when to stop
