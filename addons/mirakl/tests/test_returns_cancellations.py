"""Return requests (RT11) answered by the merchant or automatically (RT21), imported once
their units are back, with the customer's reason in the OMS's terms; units cancelled on the
operator's side (OR11 ``cancelations``, lines ``CANCELED``/``REFUSED``) taken off the OMS
order once, their stock freed."""
from __future__ import annotations

from sqlalchemy import select

from addons.mirakl import mapping
from addons.mirakl.jobs import cancelled_on_mirakl, poll_returns, send_return_decisions, sync_orders
from addons.mirakl.models import MiraklReturn
from core.extensions import db
from core.models import OrderEvent, OrderStatus, Return, ReturnReason, ReturnStatus, StockLevel

from .conftest import order_of, run_jobs, shipped_order


_order_of = order_of


def _shipped(emu, shop, clock, code="leroymerlin", lines=(("MUG-1", 2, "12.00"),)):
    return shipped_order(emu, shop, clock, code, lines)


def _row(shop) -> MiraklReturn:
    db.session.expire_all()
    return db.session.scalar(select(MiraklReturn).where(MiraklReturn.shop_id == shop.id))


def _reserved(variant) -> int:
    db.session.expire_all()
    return sum(lv.reserved for lv in db.session.scalars(select(StockLevel).where(StockLevel.variant_id == variant.id)))


# ----------------------------------------------------------------------------- return requests
def test_a_return_request_accepted_on_the_shop_page_then_imported_once_back(app, client, login, post_form,
                                                                             make_shop, emu, clock, catalog):
    shop = make_shop("leroymerlin")
    mid, order = _shipped(emu, shop, clock)
    ret = emu.add_return("leroymerlin", mid, [(f"{mid}-1", 1)], state="WAITING_ACCEPTANCE",
                         reason_code="RETURN_DPD_WRONG_SIZE")
    assert poll_returns(shop.id).startswith("1 retour(s) lu(s), 0 reçu")
    row = _row(shop)
    assert (row.state, row.order_id, row.lines) == ("WAITING_ACCEPTANCE", order.id, [[f"{mid}-1", 1]])
    assert db.session.scalars(select(Return).where(Return.order_id == order.id)).all() == []  # not back yet
    login(client)
    page_url = f"/apps/mirakl/shops/{shop.id}"
    page = client.get(page_url).get_data(as_text=True)
    assert f'data-return="{ret["id"]}"' in page and "mauvaise taille" in page and "MUG-1" in page
    res = post_form(f"{page_url}/returns/{row.id}", {"do": "accept"}, page=page_url)
    assert res.status_code == 302
    assert _row(shop).decision == "accept"
    run_jobs(clock)
    remote = emu.instances["leroymerlin"].returns[0]
    assert remote["state"] == "IN_PROGRESS"
    row = _row(shop)
    assert row.sent_at is not None and row.state == "IN_PROGRESS" and row.error is None
    sent = [c for c in emu.kit.calls if c[1] == "/leroymerlin/api/returns/accept"]
    assert len(sent) == 1
    # answered once: a second answer is refused, nothing sent again
    post_form(f"{page_url}/returns/{row.id}", {"do": "refuse", "rejection": "RETURN_REJECTION_NOT_NEEDED"},
              page=page_url)
    assert _row(shop).decision == "accept"
    # the parcel comes back: imported once, with the customer's reason
    emu.set_return_state("leroymerlin", ret["id"], "RECEIVED")
    clock.advance(400)
    assert poll_returns(shop.id).endswith("1 reçu(s) importé(s)")
    clock.advance(400)
    poll_returns(shop.id)
    returns = db.session.scalars(select(Return).where(Return.order_id == order.id)).all()
    assert len(returns) == 1
    assert returns[0].reason == ReturnReason.SIZE and returns[0].status == ReturnStatus.RECEIVED
    assert [(rl.order_line.external_id, rl.quantity) for rl in returns[0].lines] == [(f"{mid}-1", 1)]
    assert _row(shop).imported_return_id == returns[0].id
    kinds = [e.message for e in db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id))]
    assert "demande de retour acceptée" in kinds


def test_a_refusal_goes_with_its_reason_and_needs_one(app, client, login, post_form, make_shop, emu, clock,
                                                       catalog):
    shop = make_shop("leroymerlin")
    mid, _order = _shipped(emu, shop, clock)
    emu.add_return("leroymerlin", mid, [(f"{mid}-1", 2)], state="WAITING_ACCEPTANCE")
    poll_returns(shop.id)
    row = _row(shop)
    login(client)
    page_url = f"/apps/mirakl/shops/{shop.id}"
    post_form(f"{page_url}/returns/{row.id}", {"do": "refuse", "rejection": "NOT_A_REASON"}, page=page_url)
    assert _row(shop).decision is None  # a refusal without a valid reason is not taken
    assert "Choisissez le motif du refus" in client.get(page_url).get_data(as_text=True)
    post_form(f"{page_url}/returns/{row.id}", {"do": "refuse", "rejection": "RETURN_REJECTION_WINDOW_CLOSED"},
              page=page_url)
    run_jobs(clock)
    remote = emu.instances["leroymerlin"].returns[0]
    assert (remote["state"], remote["rejection_reason_code"]) == ("REFUSED", "RETURN_REJECTION_WINDOW_CLOSED")
    assert _row(shop).state == "REFUSED"


def test_return_requests_accepted_by_themselves_when_the_shop_says_so(app, make_shop, emu, clock, catalog):
    shop = make_shop("leroymerlin", auto_accept_returns=True)
    mid, order = _shipped(emu, shop, clock)
    emu.add_return("leroymerlin", mid, [(f"{mid}-1", 1)], state="WAITING_ACCEPTANCE")
    emu.add_return("leroymerlin", mid, [(f"{mid}-1", 1)], state="WAITING_ACCEPTANCE")
    poll_returns(shop.id)
    run_jobs(clock)
    assert [r["state"] for r in emu.instances["leroymerlin"].returns] == ["IN_PROGRESS", "IN_PROGRESS"]
    calls = [c for c in emu.kit.calls if c[1] == "/leroymerlin/api/returns/accept"]
    assert len(calls) == 1  # both in one RT21 call


def test_a_decision_mirakl_does_not_take_is_shown_with_its_message(app, client, login, make_shop, emu, clock,
                                                                    catalog):
    shop = make_shop("leroymerlin", auto_accept_returns=True)
    mid, _order = _shipped(emu, shop, clock)
    ret = emu.add_return("leroymerlin", mid, [(f"{mid}-1", 1)], state="WAITING_ACCEPTANCE")
    poll_returns(shop.id)
    emu.set_return_state("leroymerlin", ret["id"], "CANCELED")  # the customer gave up meanwhile
    assert "1 refusée(s) par Mirakl" in send_return_decisions(shop.id)
    row = _row(shop)
    assert row.error == "Return is in state CANCELED" and row.sent_at is not None
    assert send_return_decisions(shop.id).startswith("0 décision")  # not sent again
    clock.advance(400)
    poll_returns(shop.id)
    assert _row(shop).state == "CANCELED"
    login(client)
    page = client.get(f"/apps/mirakl/shops/{shop.id}").get_data(as_text=True)
    assert 'data-state="CANCELED"' in page and "Return is in state CANCELED" in page


def test_a_return_whose_order_is_not_in_the_oms_yet_is_kept_then_matched(app, make_shop, emu, clock, catalog):
    shop = make_shop("leroymerlin")
    mid = emu.place_order("leroymerlin", [("MUG-1", 1, "12.00")])["order_id"]
    emu.add_return("leroymerlin", mid, [(f"{mid}-1", 1)], state="RECEIVED", reason_code="RETURN_BROKEN_ITEM")
    assert poll_returns(shop.id).endswith("0 reçu(s) importé(s)")
    row = _row(shop)
    assert row.order_id is None and row.state == "RECEIVED"  # kept, not dropped
    sync_orders(shop.id)
    clock.advance(400)
    assert poll_returns(shop.id).endswith(", 1 reçu(s) importé(s)")
    ret = db.session.scalar(select(Return).where(Return.shop_id == shop.id))
    assert ret.reason == ReturnReason.DEFECT


def test_another_organizations_return_is_never_answered(app, client, login, post_form, make_shop, emu, clock,
                                                         catalog, make_org, shop_factory):
    shop = make_shop("leroymerlin")
    other = shop_factory("mirakl", name="autre", marketplace="leroymerlin", organization=make_org("Autre"))
    foreign = MiraklReturn(shop_id=other.id, return_id="R-X", mirakl_order_id="X-1", state="WAITING_ACCEPTANCE",
                           lines=[])
    db.session.add(foreign)
    db.session.commit()
    login(client)
    page_url = f"/apps/mirakl/shops/{shop.id}"
    assert post_form(f"/apps/mirakl/shops/{other.id}/returns/{foreign.id}", {"do": "accept"},
                     page=page_url).status_code == 404
    assert post_form(f"{page_url}/returns/{foreign.id}", {"do": "accept"}, page=page_url).status_code == 404
    db.session.expire_all()
    assert db.session.get(MiraklReturn, foreign.id).decision is None


def test_every_documented_return_reason_has_an_oms_reason():
    documented = ["RETURN_BROKEN_ITEM", "RETURN_CHANGED_MIND", "RETURN_COUNTERFEIT_ITEM", "RETURN_DAMAGED_PACKAGING",
                  "RETURN_DEFECTIVE_ITEM", "RETURN_DELIVERED_PRODUCT_DIFFERENT", "RETURN_MISSING_ITEM", "RETURN_OTHER",
                  "RETURN_CM_DONT_WANT", "RETURN_CM_DONT_LIKE", "RETURN_CM_QUALITY", "RETURN_DPD_WRONG_SIZE",
                  "RETURN_DPD_WRONG_COLOR", "RETURN_DEFECTIVE_ON_ARRIVAL", "RETURN_PRODUCT_DOES_NOT_FIT",
                  "RETURN_PDNT_TOO_BIG", "RETURN_PDNT_TOO_SMALL", "RETURN_INACCURATE_ITEM_DESCRIPTION",
                  "RETURN_WARRANTY"]
    assert set(mapping.RETURN_REASONS) == set(documented)
    assert {ReturnReason(v) for v in mapping.RETURN_REASONS.values()} == set(ReturnReason)
    assert mapping.return_reason("RETURN_SOMETHING_NEW") == "changed_mind"


# ----------------------------------------------------------------------------- cancellations on the operator
def test_units_cancelled_on_the_operator_leave_the_order_and_free_their_stock(app, make_shop, emu, clock, catalog):
    shop = make_shop("carrefour")
    mid = emu.place_order("carrefour", [("MUG-1", 3, "12.00"), ("TEE-1", 1, "9.00")])["order_id"]
    sync_orders(shop.id)
    run_jobs(clock)
    order = _order_of(shop)
    assert order.status == OrderStatus.ALLOCATED and _reserved(catalog["MUG-1"]) == 3
    emu.cancel_on_operator("carrefour", mid, f"{mid}-1", 2)
    clock.advance(120)
    sync_orders(shop.id)
    db.session.expire_all()
    order = _order_of(shop)
    mug = next(ln for ln in order.lines if ln.sku == "MUG-1")
    assert (mug.quantity, mug.reserved_quantity) == (1, 1)
    assert _reserved(catalog["MUG-1"]) == 1
    assert order.status == OrderStatus.ALLOCATED
    # read again: the same cancellation is not taken twice
    emu.instances["carrefour"].orders[mid]["last_updated_date"] = emu.stamp()
    clock.advance(120)
    sync_orders(shop.id)
    db.session.expire_all()
    assert next(ln for ln in _order_of(shop).lines if ln.sku == "MUG-1").quantity == 1
    events = db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id,
                                                         OrderEvent.kind == "line_cancelled")).all()
    assert len(events) == 1 and "MUG-1 : 2 unité(s) annulée(s)" in events[0].message
    # the rest goes too: the order ends cancelled, nothing is sent back to Mirakl
    emu.cancel_on_operator("carrefour", mid, f"{mid}-1", 1)
    emu.cancel_on_operator("carrefour", mid, f"{mid}-2", 1)
    clock.advance(120)
    sync_orders(shop.id)
    run_jobs(clock)
    db.session.expire_all()
    assert _order_of(shop).status == OrderStatus.CANCELLED
    assert _reserved(catalog["MUG-1"]) == 0 and _reserved(catalog["TEE-1"]) == 0
    assert emu.instances["carrefour"].cancelations == []


def test_a_refused_line_counts_whole_and_cancellations_never_exceed_the_line():
    assert cancelled_on_mirakl({"quantity": 3, "order_line_state": "REFUSED", "cancelations": []}) == 3
    assert cancelled_on_mirakl({"quantity": 3, "order_line_state": "SHIPPING",
                                "cancelations": [{"quantity": 1}, {"quantity": 1}]}) == 2
    assert cancelled_on_mirakl({"quantity": 2, "order_line_state": "SHIPPING",
                                "cancelations": [{"quantity": 5}]}) == 2
    assert cancelled_on_mirakl({"quantity": 2, "order_line_state": "SHIPPING"}) == 0


def test_the_emulator_opens_return_requests_for_the_demo(app, emu, clock):
    mid = emu.place_order("leroymerlin", [("MUG-1", 1, "12.00")])["order_id"]
    http = emu.app.test_client()
    assert http.post("/_emulator/returns", json={"instance": "leroymerlin", "order_id": "nope"}).status_code == 404
    made = http.post("/_emulator/returns", json={"instance": "leroymerlin", "order_id": mid}).get_json()
    assert made["state"] == "WAITING_ACCEPTANCE" and made["return_lines"] == [
        {"order_line_id": f"{mid}-1", "quantity": 1, "reason_code": "RETURN_DPD_WRONG_SIZE"}]
    # the demo's customers ask for returns of shipped orders, one request waiting at a time
    emu.instances["leroymerlin"].returns.clear()
    emu.set_state("leroymerlin", mid, "SHIPPED")
    for _ in range(20):
        emu._demo_return("leroymerlin")
    waiting = [r for r in emu.instances["leroymerlin"].returns if r["state"] == "WAITING_ACCEPTANCE"]
    assert len(waiting) == 1 and waiting[0]["order_id"] == mid
