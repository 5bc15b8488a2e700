"""The client on its emulator told to misbehave: errors inside HTTP 200 answers, partial
successes order by order, line by line and offer by offer, 429 storms, outages, tokens that
expire, paging with a page that fails, and the requests checked against the XSDs."""
from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from addons.fnac import actions, jobs, mapping
from addons.fnac.client import RENEW_BEFORE, FnacClient, FnacError
from addons.fnac.models import FnacBatch, FnacOffer, FnacOrder
from addons.fnac.runtime import client_for
from addons.fnac.wire import document, element
from core import services
from core.connectors.emulator import kit_of
from core.extensions import db
from core.models import Order, OrderStatus

from .conftest import FNAC_KEY, FNAC_SHOP, PARTNER, drain, settings_of


def test_wrong_key_is_refused_in_a_french_sentence(app, emu, shop_factory, base_url):
    shop = shop_factory("fnac")
    services.save_settings(shop, "fnac", {**settings_of(base_url), "key": "mauvaise-cle"}, {"key"})
    result = services.test_connection(shop, "fnac")
    assert not result.ok
    assert result.message.startswith("Fnac Darty refuse l'identifiant partenaire")
    assert "ERR_AUTH" in result.message and "vérifiez-les dans les réglages" in result.message
    assert emu.auth_calls == 1  # a refusal is not retried


def test_connection_test_names_offers_and_carriers(app, emu, fnac_shop):
    emu.add_offer(FNAC_SHOP, "LIV-001")
    shop = fnac_shop()
    result = services.test_connection(shop, "fnac")
    assert result.ok and result.message == ("Connecté à la boutique Fnac : 1 offre(s) en ligne, "
                                            f"{len(emu.carriers)} transporteur(s) proposés par Fnac Darty.")
    assert "Colissimo" in result.details


def test_errors_inside_a_200_are_raised_with_their_code(app, emu, fnac_shop):
    shop = fnac_shop()
    client = client_for(shop)
    with pytest.raises(FnacError) as caught:
        client.batch_status("0f0f0f0f-0000-4000-8000-000000000000")
    assert caught.value.status == 200 and not caught.value.retryable
    assert [p.code for p in caught.value.problems] == ["ERR_BATCH_NOT_FOUND"]
    assert "batch_status" in str(caught.value)


def test_orders_update_partial_success_is_read_order_by_order_and_line_by_line(app, emu, fnac_shop):
    shop = fnac_shop()
    a = emu.add_order(FNAC_SHOP, [("LIV-001", 1, "9.90"), ("CD-002", 1, "14.90")])
    emu.detail_faults[a.lines[1].detail_id] = ("ERR_DETAIL_LOCKED", "Order detail locked")
    answer = client_for(shop).orders_update([
        mapping.accept_order(a.order_id, {str(ln.detail_id): True for ln in a.lines}),
        mapping.accept_order("ZZZZZZZZZZZZZ", {"1": True})])
    assert answer.status == "WARNING"  # a 200 that is neither all good nor all bad
    results = mapping.read_update(answer.root)
    assert results["ZZZZZZZZZZZZZ"].ok is False
    assert [p.code for p in results["ZZZZZZZZZZZZZ"].problems] == ["ERR_ORDER_NOT_FOUND"]
    first = results[a.order_id]
    assert first.ok and [ln.ok for ln in first.lines] == [True, False]
    assert "ERR_DETAIL_LOCKED" in first.sentence()


def test_a_line_refused_at_acceptance_is_recorded_on_the_order(app, emu, fnac_shop, catalog):
    catalog({"LIV-001": 5, "CD-002": 5})
    placed = emu.add_order(FNAC_SHOP, [("LIV-001", 1, "9.90"), ("CD-002", 1, "14.90")])
    emu.detail_faults[placed.lines[1].detail_id] = ("ERR_DETAIL_LOCKED", "Order detail locked")
    shop = fnac_shop()
    jobs.sync_orders(shop.id)
    db.session.commit()
    drain()
    order = db.session.scalar(sa.select(Order).where(Order.external_id == placed.order_id))
    assert any("commande acceptée (1 ligne(s))" in e.message for e in order.events)
    assert any("ERR_DETAIL_LOCKED" in e.message for e in order.events)
    assert [ln.state for ln in emu.orders[placed.order_id].lines] == ["Accepted", "ToAccept"]


def test_a_shipment_refused_by_fnac_lands_on_the_sync_log(app, emu, fnac_shop, catalog):
    from core.models import Shipment, SyncLog
    from core import orders as order_flow

    catalog({"LIV-001": 5})
    placed = emu.add_order(FNAC_SHOP, [("LIV-001", 1, "9.90")], shipping_method="21")
    shop = fnac_shop()
    jobs.sync_orders(shop.id)
    db.session.commit()
    drain()
    order = db.session.scalar(sa.select(Order).where(Order.external_id == placed.order_id))
    order_flow.ship(order, Shipment(order_id=order.id, carrier="colissimo", service="Domicile", tracking_number=None))
    db.session.commit()
    drain()
    log = db.session.scalars(sa.select(SyncLog).where(SyncLog.func == "addons.fnac.jobs.push_tracking")).all()
    assert log and log[-1].status.value == "failed" and "ERR_TRACKING_REQUIRED" in log[-1].error
    assert emu.orders[placed.order_id].state in ("Accepted", "ToShip")


def test_a_429_storm_is_waited_out(app, emu, fnac_shop, clock):
    shop = fnac_shop()
    for n in range(3):
        emu.add_order(FNAC_SHOP, [("LIV-001", 1, "9.90")])
    kit_of(emu.app).fail_next(429, times=3, retry_after=2, path="/orders_query")
    message = jobs.sync_orders(shop.id)
    db.session.commit()
    assert message.startswith("3 commande(s) créée(s)")
    assert kit_of(emu.app).calls.count(("POST", "/orders_query")) == 4
    assert clock.slept.count(2) >= 3


def test_an_outage_is_retryable_and_keeps_the_cursor(app, emu, fnac_shop):
    shop = fnac_shop()
    for n in range(150):
        emu.add_order(FNAC_SHOP, [("LIV-001", 1, "9.90")])
    kit_of(emu.app).fail_next(500, times=10, path="/orders_query", after=1)  # the second page fails
    jobs.offers.import_offers(shop, client_for(shop))
    with pytest.raises(FnacError) as caught:
        jobs.sync_orders(shop.id)
    assert caught.value.retryable and caught.value.status == 500
    db.session.rollback()
    assert shop.sync_cursor is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order).where(Order.shop_id == shop.id)) == 100
    kit_of(emu.app).reset()
    message = jobs.sync_orders(shop.id)
    db.session.commit()
    assert message.startswith("50 commande(s) créée(s), 150 lue(s) sur 2 page(s)")
    assert shop.sync_cursor is not None


def test_a_write_is_not_resent_by_the_transport(app, emu, fnac_shop, catalog):
    """A 500 on ``orders_update`` (did it go through?) is not repeated on the spot: the job fails
    retryably, and its next run reads the order before sending what is still needed."""
    catalog({"LIV-001": 5})
    placed = emu.add_order(FNAC_SHOP, [("LIV-001", 1, "9.90")])
    shop = fnac_shop()
    jobs.sync_orders(shop.id)
    db.session.commit()
    order = db.session.scalar(sa.select(Order).where(Order.external_id == placed.order_id))
    kit_of(emu.app).fail_next(500, times=1, path="/orders_update")
    with pytest.raises(FnacError) as caught:
        jobs.decide_order(order.id, True)
    assert caught.value.retryable
    assert kit_of(emu.app).calls.count(("POST", "/orders_update")) == 1
    db.session.rollback()
    # the remote had in fact applied it: the next run reads "Accepted" and sends nothing
    emu.orders[placed.order_id].lines[0].state = "Accepted"
    emu.touch(emu.orders[placed.order_id], "AcceptedAt")
    assert jobs.decide_order(order.id, True) == "déjà Accepted"
    assert kit_of(emu.app).calls.count(("POST", "/orders_update")) == 1


def test_token_renewed_before_expiry_and_after_a_refusal(app, emu, fnac_shop, clock):
    shop = fnac_shop()
    client = client_for(shop)
    calls = emu.auth_calls
    client.carriers_query()
    client.carriers_query()
    assert emu.auth_calls == calls  # the cached token serves
    clock.advance(emu.token_lifetime - RENEW_BEFORE + 1)  # five minutes before its end: renewed
    client.carriers_query()
    assert emu.auth_calls == calls + 1
    emu.tokens.clear()  # Fnac Darty forgets it (expired on its side)
    answer = client.carriers_query()
    assert answer.status == "OK" and emu.auth_calls == calls + 2


def test_batch_partial_success_is_reported_offer_by_offer(app, emu, fnac_shop, catalog):
    variants = catalog({"LIV-001": 4, "CD-002": 12000, "GONE-3": 2})
    for sku in ("LIV-001", "CD-002", "GONE-3"):
        emu.add_offer(FNAC_SHOP, sku)
    shop = fnac_shop()
    jobs.import_offers(shop.id)
    db.session.commit()
    del emu.offers[FNAC_SHOP]["GONE-3"]  # withdrawn on Fnac Darty since
    from addons.fnac.offers import mark_pending

    mark_pending(shop, [v.id for v in variants.values()])
    db.session.commit()
    message = jobs.push_stock(shop.id)
    db.session.commit()
    assert message == "2 offre(s) mise(s) à jour, 1 refusée(s) par Fnac Darty : GONE-3 (ERR_OFFER_NOT_FOUND : " \
                      "Offer GONE-3 not found for this shop)"
    offers = {o.sku: o for o in db.session.scalars(sa.select(FnacOffer).where(FnacOffer.shop_id == shop.id))}
    assert offers["LIV-001"].pushed_quantity == 4 and offers["LIV-001"].push_error is None
    assert offers["CD-002"].pushed_quantity == 9999  # capped to the XSD's maximum
    assert emu.offers[FNAC_SHOP]["CD-002"]["quantity"] == 9999
    assert "ERR_OFFER_NOT_FOUND" in offers["GONE-3"].push_error
    batch = db.session.scalar(sa.select(FnacBatch))
    assert batch.status == "WARNING" and list(batch.errors) == ["GONE-3"]


def test_a_batch_still_running_is_followed_by_a_later_job(app, emu, fnac_shop, catalog):
    app.config["FNAC_MAX_WAIT"] = 0
    variants = catalog({"LIV-001": 4})
    emu.add_offer(FNAC_SHOP, "LIV-001")
    shop = fnac_shop()
    jobs.import_offers(shop.id)
    from addons.fnac.offers import mark_pending

    mark_pending(shop, [variants["LIV-001"].id])
    db.session.commit()
    assert jobs.push_stock(shop.id).endswith("en traitement chez Fnac Darty")
    db.session.commit()
    from core.models import OutboxJob

    job = db.session.scalar(sa.select(OutboxJob).where(OutboxJob.func == "addons.fnac.jobs.check_batch"))
    assert job is not None
    emu.clock.advance(31)
    drain()
    assert db.session.scalar(sa.select(FnacBatch)).finished_at is not None
    assert emu.offers[FNAC_SHOP]["LIV-001"]["quantity"] == 4


def test_reconciliation_fixes_a_drift(app, emu, fnac_shop, catalog):
    catalog({"LIV-001": 4})
    emu.add_offer(FNAC_SHOP, "LIV-001", quantity=9)
    shop = fnac_shop()
    assert jobs.reconcile_stock(shop.id) == "1 offre(s) à corriger"
    drain()
    assert emu.offers[FNAC_SHOP]["LIV-001"]["quantity"] == 4
    assert jobs.reconcile_stock(shop.id) == "0 offre(s) à corriger"


def test_prices_pushed_when_asked(app, emu, fnac_shop, catalog):
    variants = catalog({"LIV-001": 4})
    emu.add_offer(FNAC_SHOP, "LIV-001", price="25.00")
    shop = fnac_shop(push_prices=True)
    jobs.import_offers(shop.id)
    from addons.fnac.offers import mark_pending

    mark_pending(shop, [variants["LIV-001"].id])
    db.session.commit()
    jobs.push_stock(shop.id)
    db.session.commit()
    assert str(emu.offers[FNAC_SHOP]["LIV-001"]["price"]) == "19.90"


def test_client_requests_are_valid_against_the_xsds(spec_book):
    header = {"partner_id": PARTNER, "shop_id": FNAC_SHOP, "token": "5e2b7c1d-0a3f-4b8e-9c6d-7e8f9a0b1c2d"}
    since = datetime(2026, 11, 1, 8, 30)
    from datetime import timezone

    docs = {
        "auth": element("auth", children=[element("partner_id", PARTNER), element("shop_id", FNAC_SHOP),
                                          element("key", FNAC_KEY)]),
        "orders_query": element("orders_query", results_count=100, **header, children=[
            element("paging", 2), element("date", type="UpdatedAt", children=[
                element("min", mapping.wire.iso(since.replace(tzinfo=timezone.utc)))]),
            element("states", children=[element("state", "Created")]),
            element("orders_fnac_id", children=[element("order_fnac_id", "F123456789012")]),
            element("sort_by", "ASC")]),
        "orders_update": element("orders_update", **header, children=[
            mapping.accept_order("F123456789012", {"11": True, "12": False}),
            mapping.confirm_to_send("F123456789013", ["13"], "6A" + "9" * 40, "Colissimo"),
            mapping.refund_order("F123456789014", ["14"], "cancelled_client")]),
        "offers_update": element("offers_update", **header, children=[
            mapping.offer_update("LIV-001", 12000, mapping.Decimal("19.90")),
            mapping.offer_update("CD-002", 0, mapping.Decimal("0.10"))]),
        "batch_status": element("batch_status", **header, children=[element("batch_id", "6f1d2c3b-0000-4000-8000-1a2b3c4d5e6f")]),
        "carriers_query": element("carriers_query", **header, children=[element("query", "all")]),
        "offers_query": element("offers_query", results_count=100, **header, children=[element("paging", 1)]),
    }
    for service, root in docs.items():
        assert spec_book.check(service, document(root), service) == [], service
    bad = element("orders_update", **header, children=[element("order", order_id="F1", action="ship_it", children=[
        element("order_detail", children=[element("action", "Shipped")])])])
    assert spec_book.check("orders_update", document(bad), "bad")  # the check can fail


def test_remote_address_outside_fnac_is_refused(app):
    app.config["OUTBOUND_ALLOW"] = []
    with pytest.raises(FnacError) as caught:
        FnacClient(PARTNER, FNAC_SHOP, FNAC_KEY, base_url="https://evil.example.com/api.php")
    assert not caught.value.retryable


def test_unknown_remote_state_is_kept_and_shown(app, emu, fnac_shop, catalog):
    catalog({"LIV-001": 5})
    placed = emu.add_order(FNAC_SHOP, [("LIV-001", 1, "9.90")])
    shop = fnac_shop()
    el = client_for(shop).orders_query(order_ids=[placed.order_id]).root.find("order")
    el.find("state").text = "Suspended"  # a state added after these XSDs
    from addons.fnac import sync

    sync.import_orders(shop, [el], source="poll")
    db.session.commit()
    order = db.session.scalar(sa.select(Order).where(Order.external_id == placed.order_id))
    assert order.status in (OrderStatus.NEW, OrderStatus.ALLOCATED) and "fnac:Suspended" in order.tags
    assert db.session.scalar(sa.select(FnacOrder.state).where(FnacOrder.order_id == order.id)) == "Suspended"


def test_a_429_on_a_write_is_waited_and_sent_again_then_calls_are_paced(app, emu, fnac_shop, catalog, clock):
    """A 429 says the request was not taken: the acceptance goes again after the wait asked,
    once, and the next calls keep that pace instead of meeting one 429 each."""
    catalog({"LIV-001": 5})
    placed = emu.add_order(FNAC_SHOP, [("LIV-001", 1, "9.90")])
    shop = fnac_shop()
    jobs.sync_orders(shop.id)
    db.session.commit()
    order = db.session.scalar(sa.select(Order).where(Order.external_id == placed.order_id))
    kit = kit_of(emu.app)
    kit.fail_next(429, times=1, retry_after=3, path="/orders_update")
    assert jobs.decide_order(order.id, True).startswith("acceptée")
    assert kit.calls.count(("POST", "/orders_update")) == 2 and 3 in clock.slept
    assert emu.orders[placed.order_id].state == "Accepted"
    slept = len(clock.slept)
    client_for(shop).carriers_query()  # right after: paced by the wait Fnac Darty asked for
    assert len(clock.slept) == slept + 1 and 0 < clock.slept[-1] <= 3


def test_a_revoked_key_puts_the_shop_in_error_with_a_french_sentence(app, emu, fnac_shop):
    from core.models import ConnectionStatus

    shop = fnac_shop()
    emu.accounts[FNAC_SHOP].key = "9a9a9a9a-0000-4000-8000-000000000000"  # the key was regenerated at Fnac Darty
    emu.tokens.clear()
    from addons.fnac.client import forget_tokens

    forget_tokens()
    with pytest.raises(FnacError) as caught:
        jobs.sync_orders(shop.id)
    assert caught.value.credentials and not caught.value.retryable
    db.session.expire_all()
    assert shop.status == ConnectionStatus.ERROR and shop.addon_row("fnac").status == ConnectionStatus.ERROR
    assert shop.last_error.startswith("Fnac Darty refuse l'identifiant partenaire")
    emu.accounts[FNAC_SHOP].key = FNAC_KEY  # the merchant saves the new key: the next sync heals the card
    jobs.sync_orders(shop.id)
    db.session.commit()
    assert shop.status == ConnectionStatus.CONNECTED and shop.last_error is None


def test_the_key_and_the_token_never_reach_the_log(app, emu, fnac_shop, caplog):
    import logging

    caplog.set_level(logging.DEBUG, logger="oms.connectors.fnac")
    shop = fnac_shop()
    client_for(shop).carriers_query()
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("oms.connectors"))
    assert "/auth" in text and "<token>***</token>" in text
    tokens = list(emu.tokens)
    assert tokens and not any(t in text for t in tokens) and FNAC_KEY not in text


def test_a_remote_that_does_not_answer_is_retryable_and_nothing_is_sent_twice(app, emu, fnac_shop, catalog):
    catalog({"LIV-001": 5})
    placed = emu.add_order(FNAC_SHOP, [("LIV-001", 1, "9.90")])
    shop = fnac_shop()
    jobs.sync_orders(shop.id)
    db.session.commit()
    order = db.session.scalar(sa.select(Order).where(Order.external_id == placed.order_id))
    kit = kit_of(emu.app)
    kit.fail_next("timeout", hang=1.5, path="/orders_update")
    with pytest.raises(FnacError) as caught:
        actions.decide(order, True, client_for(shop, timeout=0.5))
    assert caught.value.retryable and "n'a pas répondu" in str(caught.value)
    assert kit.calls.count(("POST", "/orders_update")) == 1  # a write without answer is not resent on the spot
    kit.reset()
    db.session.rollback()
    assert jobs.decide_order(order.id, True).startswith("acceptée")  # read first: still to accept, so sent
    assert emu.orders[placed.order_id].state == "Accepted"
