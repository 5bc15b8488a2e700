"""Orders in: OR11 paging and overlap, states, unknown SKUs, refusals before the deadline,
cancellations both ways, redelivered and out-of-order reads, 429 storms, a revoked key."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from addons.mirakl import client as client_module
from addons.mirakl.client import MiraklError
from addons.mirakl.jobs import check_acceptance, ingest_page, sync_orders
from addons.mirakl.models import MiraklOrder
from core.connectors import NO_RETRY
from core.extensions import db
from core.models import ConnectionStatus, Order, OrderStatus, StockLevel
from core.orders import cancel

from .conftest import run_jobs


def _orders(shop):
    return db.session.scalars(select(Order).where(Order.shop_id == shop.id).order_by(Order.id)).all()


def test_pages_of_100_followed_on_total_count_with_overlap(app, make_shop, emu, clock, catalog):
    shop = make_shop("carrefour")
    for n in range(230):
        emu.place_order("carrefour", [("MUG-1", 1, "12.00")], customer=("Client", f"N{n}"))
    clock.advance(600)
    assert sync_orders(shop.id).startswith("230 commande(s) lue(s) en 3 page(s)")
    reads = [r for r in emu.kit.requests if r[1] == "/carrefour/api/orders"]
    assert len(reads) == 3
    assert db.session.scalar(select(func.count(Order.id)).where(Order.shop_id == shop.id)) == 230
    cursor = shop.sync_cursor
    clock.advance(600)
    emu.place_order("carrefour", [("MUG-1", 1, "12.00")])
    clock.advance(60)
    assert sync_orders(shop.id).startswith("1 commande")  # since the cursor minus 5 minutes: just the new one
    asked = [r for r in emu.kit.requests if r[1] == "/carrefour/api/orders"]
    assert len(asked) == 4
    assert shop.sync_cursor > cursor
    assert db.session.scalar(select(func.count(Order.id)).where(Order.shop_id == shop.id)) == 231


def test_at_most_one_read_a_minute_per_instance_and_key(app, make_shop, emu, clock):
    shop = make_shop("carrefour")
    sync_orders(shop.id)
    assert "moins d'une minute" in sync_orders(shop.id)
    assert len([c for c in emu.kit.calls if c[1].endswith("/api/orders")]) == 1
    clock.advance(61)
    sync_orders(shop.id)
    assert len([c for c in emu.kit.calls if c[1].endswith("/api/orders")]) == 2


def test_emulator_keeps_mirakls_limits(app, emu, base_url):
    import httpx

    key = {"Authorization": emu.instances["carrefour"].key}
    for n in range(12):
        emu.place_order("carrefour", [("MUG-1", 1, "12.00")])
    res = httpx.get(f"{base_url}/carrefour/api/orders", headers=key)
    assert len(res.json()["orders"]) == 10 and res.json()["total_count"] == 12  # the default page is 10
    ids = ",".join(f"X{n}-A" for n in range(101))
    res = httpx.get(f"{base_url}/carrefour/api/orders", params={"order_ids": ids}, headers=key)
    assert res.status_code == 400 and "limit of 100 is exceeded" in res.json()["message"]
    assert httpx.get(f"{base_url}/carrefour/api/orders", params={"max": 101}, headers=key).status_code == 400
    assert httpx.get(f"{base_url}/carrefour/api/orders").status_code == 401
    # one instance's key opens no other instance
    assert httpx.get(f"{base_url}/leroymerlin/api/orders", headers=key).status_code == 401


def test_states_mapped_and_a_new_state_kept_as_text(app, make_shop, emu, clock, catalog):
    shop = make_shop("carrefour")
    new = emu.place_order("carrefour", [("MUG-1", 1, "12.00")])
    later = emu.place_order("carrefour", [("MUG-1", 1, "12.00")])
    emu.set_state("carrefour", later["order_id"], "WAITING_SELLER_CONFIRMATION")  # a value added next year
    sync_orders(shop.id)
    rows = {r.mirakl_order_id: r for r in db.session.scalars(select(MiraklOrder))}
    assert rows[later["order_id"]].state == "WAITING_SELLER_CONFIRMATION"
    order = db.session.get(Order, rows[later["order_id"]].order_id)
    assert order.status != OrderStatus.CANCELLED
    assert any("WAITING_SELLER_CONFIRMATION" in e.message for e in order.events)
    assert rows[new["order_id"]].state == "WAITING_ACCEPTANCE"


def test_unknown_sku_held_then_refused_before_the_deadline(app, make_shop, emu, clock, catalog):
    shop = make_shop("carrefour")
    mid = emu.place_order("carrefour", [("GHOST-1", 1, "9.00")])["order_id"]
    sync_orders(shop.id)
    order = _orders(shop)[0]
    assert order.status == OrderStatus.ON_HOLD and "GHOST-1" in (order.hold_reason or "")
    assert check_acceptance(shop.id).startswith("0 ")  # plenty of time left
    clock.advance(23 * 3600)  # the operator's 24 h acceptance delay, minus the 2 h margin, is over
    assert check_acceptance(shop.id).startswith("1 ")
    run_jobs(clock)
    assert [r[2] for r in emu.kit.requests if r[1].endswith("/accept")] == [
        {"order_lines": [{"id": f"{mid}-1", "accepted": False}]}]
    assert emu.instances["carrefour"].orders[mid]["order_state"] == "REFUSED"
    clock.advance(61)
    sync_orders(shop.id)
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.CANCELLED


def test_short_stock_waits_then_is_refused(app, make_shop, emu, clock, catalog):
    shop = make_shop("carrefour")
    emu.place_order("carrefour", [("TEE-1", 3, "15.00")])  # one unit in stock
    sync_orders(shop.id)
    assert _orders(shop)[0].status == OrderStatus.ON_HOLD
    run_jobs(clock)
    assert not [r for r in emu.kit.requests if r[1].endswith("/accept")]  # no decision yet
    clock.advance(24 * 3600)
    check_acceptance(shop.id)
    run_jobs(clock)
    assert [r[2]["order_lines"][0]["accepted"] for r in emu.kit.requests if r[1].endswith("/accept")] == [False]


def test_cancelled_by_mirakl_releases_the_stock(app, make_shop, emu, clock, catalog):
    shop = make_shop("carrefour")
    mid = emu.place_order("carrefour", [("MUG-1", 3, "12.00")])["order_id"]
    sync_orders(shop.id)
    run_jobs(clock)
    level = db.session.scalar(select(StockLevel).where(StockLevel.variant_id == catalog["MUG-1"].id))
    assert level.reserved == 3
    emu.set_state("carrefour", mid, "CANCELED")
    clock.advance(61)
    sync_orders(shop.id)
    db.session.expire_all()
    assert _orders(shop)[0].status == OrderStatus.CANCELLED
    assert db.session.get(StockLevel, level.id).reserved == 0
    assert not [r for r in emu.kit.calls if r[1].endswith("/cancel")]  # nothing sent back


def test_cancelled_in_the_oms_after_acceptance_is_cancelled_on_mirakl(app, make_shop, emu, clock, catalog):
    shop = make_shop("carrefour")
    mid = emu.place_order("carrefour", [("MUG-1", 1, "12.00")])["order_id"]
    sync_orders(shop.id)
    run_jobs(clock)
    assert emu.instances["carrefour"].orders[mid]["order_state"] == "SHIPPING"
    cancel(_orders(shop)[0], reason="client injoignable")
    db.session.commit()
    run_jobs(clock)
    assert ("PUT", "/carrefour/api/orders/cancel") in emu.kit.calls  # OR30, every line
    assert emu.instances["carrefour"].orders[mid]["order_state"] == "CANCELED"


def test_redelivered_and_out_of_order_reads_change_nothing(app, make_shop, emu, clock, catalog):
    shop = make_shop("carrefour")
    placed = emu.place_order("carrefour", [("MUG-1", 1, "12.00")])
    sync_orders(shop.id)
    run_jobs(clock)
    fresh = emu.public(emu.instances["carrefour"].orders[placed["order_id"]])
    stale = dict(fresh, order_state="WAITING_ACCEPTANCE", last_updated_date="2026-11-01T00:00:00.000Z")
    ingest_page(shop, [fresh, fresh])  # the same page twice
    ingest_page(shop, [stale])  # an older read arriving late
    db.session.commit()
    assert len(_orders(shop)) == 1
    row = db.session.scalar(select(MiraklOrder))
    assert row.state == "SHIPPING"
    assert len([r for r in emu.kit.requests if r[1].endswith("/accept")]) == 1


@pytest.mark.parametrize("retry_after", [True, False])
def test_a_429_storm_is_waited_out(app, make_shop, emu, clock, retry_after):
    shop = make_shop("carrefour")
    emu.place_order("carrefour", [("MUG-1", 1, "12.00")])
    emu.kit.fail_next(429, times=3, path="/carrefour/api/orders", retry_after=7 if retry_after else None)
    assert sync_orders(shop.id).startswith("1 commande")
    assert len([c for c in emu.kit.calls if c[1].endswith("/api/orders")]) == 4
    if retry_after:
        assert clock.slept[:3] == [7, 7, 7]
    else:
        assert len(clock.slept) >= 3 and all(0 < s <= 30 for s in clock.slept[:3])


def test_an_outage_mid_sync_keeps_the_first_page_and_the_cursor(app, make_shop, emu, clock, monkeypatch):
    monkeypatch.setattr(client_module, "RETRY", NO_RETRY)
    shop = make_shop("carrefour")
    for _n in range(150):
        emu.place_order("carrefour", [("MUG-1", 1, "12.00")])
    emu.kit.fail_next(503, times=5, path="/carrefour/api/orders", after=1)
    with pytest.raises(MiraklError) as raised:
        sync_orders(shop.id)
    assert raised.value.retryable and raised.value.status == 503
    db.session.expire_all()
    assert shop.sync_cursor is None
    assert db.session.scalar(select(func.count(Order.id))) == 100
    emu.kit.reset()
    clock.advance(61)
    sync_orders(shop.id)
    assert db.session.scalar(select(func.count(Order.id))) == 150 and shop.sync_cursor is not None


def test_a_revoked_key_puts_the_shop_in_error_with_what_to_do(app, make_shop, emu, clock):
    shop = make_shop("carrefour")
    emu.instances["carrefour"].key = "regenerated-key"  # the merchant generated a new key in the back office
    with pytest.raises(MiraklError):
        sync_orders(shop.id)
    db.session.expire_all()
    row = shop.addon_row("mirakl")
    assert row.status == ConnectionStatus.ERROR and "générez une nouvelle clé" in row.last_error
    assert row.active  # the sync is not switched off


def test_address_fields_and_pickup_point_normalized(app, make_shop, emu, clock, catalog):
    from addons.mirakl.mapping import normalize

    placed = emu.place_order("carrefour", [("MUG-1", 2, "12.00")], pudo="FR-777", shipping_type="RELAY")
    emu.set_state("carrefour", placed["order_id"], "SHIPPING")
    data = normalize(emu.public(emu.instances["carrefour"].orders[placed["order_id"]]))
    assert data.pickup_point.id == "FR-777" and data.pickup_point.name == "Point relais"
    assert data.shipping_address.country == "FR" and data.shipping_address.postal_code == "75011"
    assert data.payment_status == "paid" and data.total == data.subtotal + data.shipping_total
    assert data.lines[0].external_id == f"{placed['order_id']}-1" and data.tax_total > 0
    before = normalize(dict(emu.public(emu.instances["carrefour"].orders[placed["order_id"]]),
                            order_state="WAITING_ACCEPTANCE"))
    assert before.payment_status == "pending"
    assert timedelta(0) <= data.updated_at - data.placed_at


def test_a_lost_acceptance_answer_is_checked_before_sending_again(app, make_shop, emu, clock, catalog):
    shop = make_shop("carrefour")
    mid = emu.place_order("carrefour", [("MUG-1", 1, "12.00")])["order_id"]
    lost = {"left": 1}

    @emu.app.after_request
    def drop_the_answer(response):  # Mirakl took the decision, the answer never came back
        from flask import request

        if request.path.endswith("/accept") and lost["left"]:
            lost["left"] -= 1
            response.status_code = 502
        return response

    sync_orders(shop.id)
    run_jobs(clock)
    accepts = [r for r in emu.kit.calls if r[1].endswith("/accept")]
    assert accepts == [("PUT", f"/carrefour/api/orders/{mid}/accept")]  # sent once, never twice
    db.session.expire_all()
    row = db.session.scalar(select(MiraklOrder))
    assert row.decision_sent_at is not None and row.state == "SHIPPING" and row.address_known
    reads = [r for r in emu.kit.requests if r[1] == "/carrefour/api/orders"]
    assert len(reads) >= 2  # the order was read before deciding what to do


def test_cancelled_in_the_oms_before_acceptance_is_refused_on_mirakl(app, make_shop, emu, clock, catalog):
    shop = make_shop("carrefour")
    mid = emu.place_order("carrefour", [("TEE-1", 5, "15.00")])["order_id"]  # short: no decision yet
    sync_orders(shop.id)
    cancel(_orders(shop)[0], reason="rupture chez le fournisseur")
    db.session.commit()
    run_jobs(clock)
    assert [r[2] for r in emu.kit.requests if r[1].endswith("/accept")] == [
        {"order_lines": [{"id": f"{mid}-1", "accepted": False}]}]
    assert emu.instances["carrefour"].orders[mid]["order_state"] == "REFUSED"
    assert not [c for c in emu.kit.calls if c[1].endswith("/cancel")]
