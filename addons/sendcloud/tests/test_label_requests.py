"""A label is paid for: the shipment is committed before Sendcloud is called, a failure after
the label exists keeps it, and no retry — after a crash, a lost answer or a refused departure —
ever announces a second parcel."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, select, update

from addons.sendcloud.tests.openapi import check_traffic
from addons.sendcloud.tests.test_shipping import (  # noqa: F401 - fixtures of the Sendcloud tests
    _clear_log,
    addons,
    announced,
    app_config,
    base_url,
    emulator,
    fresh,
    packed,
    recorder,
    shop,
    wh,
)
from core import picking, shipping
from core.extensions import db
from core.jobs import run_pending
from core.models import Order, OrderStatus, Shipment, ShipmentStatus, StockLevel, utcnow
from tests.fake_addons.shiplog.hooks import SHIPPED
from tests.fixtures import csrf_token
from tests.picking_helpers import allocated


def test_a_stock_error_after_the_label_keeps_the_one_label(app, client, login, org, shop, wh, recorder):
    order = allocated(shop, "st-1", [("TEE", 1)])
    member = packed(org, order)
    # someone counts the shelf meanwhile and finds it empty: the departure cannot take the unit
    db.session.execute(update(StockLevel).values(on_hand=0))
    db.session.commit()
    outcome = picking.pack_and_ship(member, None)
    shipment = fresh(Shipment, outcome.shipment.id)
    assert outcome.state == "label_ready" and "pas parti" in outcome.message
    assert shipment.status == ShipmentStatus.LABEL_CREATED and shipment.label.startswith(b"%PDF")
    assert fresh(Order, order.id).status == OrderStatus.PACKED and SHIPPED == []
    assert any("départ refusé" in e.message for e in fresh(Order, order.id).events)
    run_pending(now=utcnow() + timedelta(hours=1))  # the safety-net job finds nothing to buy
    assert len(announced(recorder)) == 1

    # the shelf is corrected, the packer ships the labelled parcel from its page
    db.session.execute(update(StockLevel).values(on_hand=30))
    db.session.commit()
    login(client, "picker")
    page = f"/preparation/shipments/{shipment.id}"
    client.post(f"{page}/ship", data={"csrf_token": csrf_token(client, page)})
    assert fresh(Shipment, shipment.id).status == ShipmentStatus.SHIPPED
    assert fresh(Order, order.id).status == OrderStatus.SHIPPED
    assert len(announced(recorder)) == 1 and len(SHIPPED) == 1
    check_traffic(recorder.exchanges)


def test_the_shipment_is_committed_before_sendcloud_is_called(app, org, shop, wh, emulator):
    order = allocated(shop, "cm-1", [("TEE", 1)])
    member = packed(org, order)
    seen: list[int] = []
    real = emulator.view_functions

    # what the OMS had committed at the moment Sendcloud received the announcement
    def spy(*args, **kwargs):
        with app.app_context():
            seen.extend(db.session.scalars(select(Shipment.id)))
            db.session.remove()
        return original(*args, **kwargs)

    endpoint = next(rule.endpoint for rule in emulator.url_map.iter_rules() if rule.rule == "/v3/shipments/announce")
    original = real[endpoint]
    real[endpoint] = spy
    outcome = picking.pack_and_ship(member, None)
    assert outcome.state == "shipped"
    assert seen == [outcome.shipment.id]


def test_a_process_dying_during_the_call_never_buys_a_second_label(app, client, login, org, shop, wh, emulator,
                                                                   recorder):
    order = allocated(shop, "kill-1", [("TEE", 1)])
    member = packed(org, order)
    draft = shipping.create_shipment(member.order, [(order.lines[0], 1)], 200)
    db.session.commit()
    claimed = shipping.claim_label(draft.id)  # the attempt is counted and committed...
    shipping.request_label(claimed)  # ...Sendcloud announces the parcel...
    db.session.rollback()  # ...and the process dies before the label is committed
    assert len(emulator.config["SHIPMENTS"]) == 1
    assert fresh(Shipment, draft.id).status == ShipmentStatus.DRAFT

    # within the lease nobody else asks (the packer's page waits and refreshes itself); after
    # it, the job queued with the shipment takes over
    assert shipping.fetch_label(draft.id).state == "busy"
    login(client, "picker")
    page = client.get(f"/preparation/shipments/{draft.id}").get_data(as_text=True)
    assert "data-label-pending" in page and 'http-equiv="refresh"' in page
    db.session.execute(update(Shipment).values(label_requested_at=utcnow() - timedelta(minutes=3)))
    db.session.commit()  # three minutes later
    run_pending(now=utcnow() + timedelta(minutes=3))
    shipment = fresh(Shipment, draft.id)
    assert shipment.status == ShipmentStatus.LABEL_CREATED and shipment.label_attempts == 2
    assert len(emulator.config["SHIPMENTS"]) == 1  # found again by its external reference
    assert len(announced(recorder)) == 1
    remote = next(iter(emulator.config["SHIPMENTS"].values()))
    assert shipment.tracking_number == emulator.config["PARCELS"][remote["parcel_ids"][0]]["tracking_number"]



@contextmanager
def _statements() -> Iterator[list[str]]:
    """The SQL statements sent meanwhile, blanks folded."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


def _count(seen: list[str], start: str) -> int:
    return sum(1 for s in seen if s.startswith(start))


def test_the_label_reads_and_writes_only_what_it_needs(app, org, shop, wh, recorder):
    """From the committed draft to the stored label: the order's history is not read to add to
    it, the parcel's items are not read when no rule needs them, the parcel row is written once
    then updated with the answer, and the order's organization is not asked for again."""
    order = allocated(shop, "sql-1", [("TEE", 1)])
    shipment = shipping.create_shipment(order, [(order.lines[0], 1)], 250, carrier="sendcloud")
    db.session.commit()
    shipment_id = shipment.id
    db.session.expire_all()
    with _statements() as seen:
        outcome = shipping.fetch_label(shipment_id)
    assert outcome.state == "label_ready"
    assert fresh(Shipment, shipment_id).label.startswith(b"%PDF")
    assert _count(seen, "SELECT order_event") == _count(seen, "SELECT shipment_line") == 0
    assert _count(seen, "SELECT product") == 0
    assert _count(seen, "INSERT INTO order_event") == 1
    assert _count(seen, "INSERT INTO sendcloud_parcel") == _count(seen, "UPDATE sendcloud_parcel") == 1
    assert _count(seen, 'SELECT "order".id, "order".organization_id FROM') == 0
    assert _count(seen, "UPDATE shipment SET carrier") == 1  # the label and the lease let go: one update
    check_traffic(recorder.exchanges)


def test_a_new_shipment_does_not_read_the_order_s_other_shipments_nor_its_history(app, org, shop, wh):
    order = allocated(shop, "sql-2", [("TEE", 2)])
    first = shipping.create_shipment(order, [(order.lines[0], 1)], 180, carrier="manual")
    db.session.commit()
    order = fresh(Order, order.id)
    line = order.lines[0]
    with _statements() as seen:
        second = shipping.create_shipment(order, [(line, 1)], 180, carrier="manual")
        db.session.flush()
    assert _count(seen, "SELECT shipment.") == _count(seen, "SELECT order_event.") == 0
    db.session.commit()
    assert [s.id for s in fresh(Order, order.id).shipments] == [first.id, second.id]
    assert [e.kind for e in fresh(Order, order.id).events].count("shipment") == 2
