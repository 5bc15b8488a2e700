"""Routing lines to suppliers, and the purchase orders that follow: by e-mail through a real
SMTP server (CSV and PDF attached), by signed webhook to the supplier emulator (retried when
it is down), grouped at batch times, cancelled with the order; the supplier's cost in margins."""
from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from addons.dropship import jobs, routing, sandbox
from addons.dropship.links import read_token
from addons.dropship.models import DropshipLine, DropshipPurchaseOrder, DropshipSend
from core import orders as order_flow
from core.addons import call
from core.extensions import db
from core.jobs import run_pending
from core.models import LineSource, OrderStatus, OutboxJob, StockLevel, utcnow
from core.money import Money
from tests.pipeline_helpers import variant

from .conftest import PUBLIC_URL, SMTP_USER, configure, link, place, run_jobs, smtp_settings


PARIS = ZoneInfo("Europe/Paris")


def purchase_orders(order_id: int) -> list[DropshipPurchaseOrder]:
    return list(db.session.scalars(select(DropshipPurchaseOrder).where(DropshipPurchaseOrder.order_id == order_id)
                                   .order_by(DropshipPurchaseOrder.id)))


# ----------------------------------------------------------------------------- routing
def test_mixed_order_is_split_between_own_stock_and_the_supplier(app, shop, own_wh, org, make_supplier):
    supplier, _key = make_supplier()
    variant(org.id, "MUG", {own_wh: 5})
    lamp = variant(org.id, "LAMPE")
    link(supplier, lamp, "DUP-LAMP-01", dropship_only=True)

    order = place(shop, "1001", [("MUG", 2), ("LAMPE", 1)])

    assert order.status == OrderStatus.ALLOCATED
    mug, lamp_line = order.lines
    assert (mug.source, mug.warehouse_id, mug.reserved_quantity) == (LineSource.WAREHOUSE, own_wh.id, 2)
    assert (lamp_line.source, lamp_line.warehouse_id, lamp_line.reserved_quantity) == (LineSource.DROPSHIP, None, 0)
    assert db.session.scalar(select(StockLevel.reserved).where(StockLevel.variant_id == mug.variant_id)) == 2
    [po] = purchase_orders(order.id)
    assert po.supplier_id == supplier.id and po.status == "queued"
    assert [(ln.order_line_id, ln.supplier_sku, ln.quantity) for ln in po.lines] == [(lamp_line.id, "DUP-LAMP-01", 1)]
    assert any(e.kind == "dropship" and po.reference in e.message for e in order.events)


def test_short_own_stock_goes_to_the_supplier_only_when_the_setting_allows(app, shop, own_wh, org, make_supplier):
    first, _ = make_supplier("Grossiste Martin", "achats@martin.test")
    second, _ = make_supplier("Atelier Dupont")
    vase = variant(org.id, "VASE", {own_wh: 1})
    link(first, vase, "MAR-VASE", "9.00", priority=1)
    link(second, vase, "DUP-VASE", "11.00", priority=2)
    # the first supplier publishes its stock and has none left: the second one gets the line
    db.session.add(StockLevel(variant_id=vase.id, warehouse_id=first.warehouse_id, on_hand=0, reserved=0))
    db.session.commit()

    enough = place(shop, "2001", [("VASE", 1)])
    assert enough.lines[0].source == LineSource.WAREHOUSE  # own stock first

    held = place(shop, "2002", [("VASE", 3)])
    assert held.status == OrderStatus.ON_HOLD and held.hold_code == "backorder"  # setting off: waits for stock
    assert purchase_orders(held.id) == []

    configure(shop, {"dropship_when_short": True})
    allowed = place(shop, "2003", [("VASE", 3)])
    assert allowed.status == OrderStatus.ALLOCATED
    assert allowed.lines[0].source == LineSource.DROPSHIP
    [po] = purchase_orders(allowed.id)
    assert po.supplier_id == second.id and po.lines[0].supplier_sku == "DUP-VASE"

    # the held order is routed again ("relancer les règles"): the supplier now serves it
    order_flow.rerun_rules(org.id, [held.id])
    db.session.commit()
    assert held.status == OrderStatus.ALLOCATED and purchase_orders(held.id)[0].supplier_id == second.id


def test_a_line_losing_the_last_own_unit_in_its_page_goes_to_the_supplier(app, shop, own_wh, org,
                                                                          make_supplier):
    """Two orders of one sync page both see the last own unit; the second loses it at
    reservation and is routed again: the supplier (allowed when short) takes it at once."""
    from core.intake import ingest_many
    from core.models import Order, StockMovement
    from tests.pipeline_helpers import norm

    supplier, _ = make_supplier()
    vase = variant(org.id, "VASE", {own_wh: 1})
    link(supplier, vase, "DUP-VASE", "11.00")
    db.session.add(StockLevel(variant_id=vase.id, warehouse_id=supplier.warehouse_id, on_hand=5, reserved=0))
    configure(shop, {"dropship_when_short": True})

    results = ingest_many(shop, [norm("5001", [("VASE", 1)]), norm("5002", [("VASE", 1)])])
    db.session.commit()
    first, second = (db.session.get(Order, r.order_id) for r in results)

    assert (first.status, first.lines[0].source) == (OrderStatus.ALLOCATED, LineSource.WAREHOUSE)
    assert (second.status, second.lines[0].source) == (OrderStatus.ALLOCATED, LineSource.DROPSHIP)
    assert second.lines[0].warehouse_id == supplier.warehouse_id
    [po] = purchase_orders(second.id)
    assert po.lines[0].supplier_sku == "DUP-VASE"
    moved = db.session.scalars(select(StockMovement.reason).where(
        StockMovement.warehouse_id == supplier.warehouse_id, StockMovement.variant_id == vase.id)).all()
    assert moved == ["commandé au fournisseur"]


def test_supplier_stock_from_its_feed_is_consumed_when_it_ships(app, shop, org, make_supplier):
    supplier, _ = make_supplier()
    tee = variant(org.id, "TEE")
    link(supplier, tee, "DUP-TEE", dropship_only=True)
    db.session.add(StockLevel(variant_id=tee.id, warehouse_id=supplier.warehouse_id, on_hand=4, reserved=0))
    db.session.commit()

    order = place(shop, "3001", [("TEE", 3)])

    assert (order.lines[0].source, order.lines[0].warehouse_id) == (LineSource.DROPSHIP, supplier.warehouse_id)
    assert db.session.scalar(select(StockLevel.on_hand).where(StockLevel.variant_id == tee.id)) == 1
    # not enough left at the only supplier: the order waits instead of being sent
    waiting = place(shop, "3002", [("TEE", 2)])
    assert waiting.status == OrderStatus.ON_HOLD and purchase_orders(waiting.id) == []


# ----------------------------------------------------------------------------- e-mail
def test_purchase_order_email_with_csv_and_pdf(app, shop, own_wh, org, make_supplier, smtp_server):
    port, mailbox = smtp_server
    configure(shop, smtp_settings(port))
    supplier, _ = make_supplier(contact_name="Jeanne Dupont")
    variant(org.id, "MUG", {own_wh: 5})
    lamp = variant(org.id, "LAMPE")
    link(supplier, lamp, "DUP-LAMP-01", "12.5", dropship_only=True)
    order = place(shop, "4001", [("MUG", 1), ("LAMPE", 2)])
    [po] = purchase_orders(order.id)

    run_jobs()

    assert len(mailbox.messages) == 1
    sender, recipients, message = mailbox.messages[0]
    assert sender == SMTP_USER and recipients == ["commandes@dupont.test"]
    assert message["Subject"] == f"Bon de commande {po.reference} — Boutique Démo"
    body = message.get_body(("plain",)).get_content()
    assert "DUP-LAMP-01 × 2" in body and "1 rue X" in body and "75001 Paris" in body
    link_url = next(word for word in body.split() if word.startswith(f"{PUBLIC_URL}/apps/dropship/supplier/"))
    assert read_token(link_url.rsplit("/", 1)[1]) == (po.id, supplier.id)
    attachments = {part.get_filename(): part for part in message.iter_attachments()}
    assert set(attachments) == {f"{po.reference}.csv", f"{po.reference}.pdf"}
    assert attachments[f"{po.reference}.csv"].get_content_type() == "text/csv"
    text = attachments[f"{po.reference}.csv"].get_payload(decode=True).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert rows == [{"po_reference": po.reference, "order_number": "#4001", "supplier_sku": "DUP-LAMP-01",
                     "sku": "LAMPE", "title": "LAMPE", "quantity": "2", "unit_cost": "12.50", "currency": "EUR",
                     "ship_to_name": "Client", "ship_to_company": "", "ship_to_line1": "1 rue X",
                     "ship_to_line2": "", "ship_to_postal_code": "75001", "ship_to_city": "Paris",
                     "ship_to_region": "", "ship_to_country": "FR", "ship_to_phone": ""}]
    pdf = attachments[f"{po.reference}.pdf"].get_payload(decode=True)
    assert pdf.startswith(b"%PDF")
    db.session.refresh(po)
    assert po.status == "sent" and po.sent_at is not None
    assert [(s.channel, s.ok, s.attempt) for s in po.sends] == [("email", True, 1)]

    # idempotent: the same order allocated again makes no second purchase order, nothing is resent
    call(shop, "order_status_changed", order=order, old=OrderStatus.ON_HOLD, new=OrderStatus.ALLOCATED)
    db.session.commit()
    run_jobs()
    assert len(purchase_orders(order.id)) == 1 and len(mailbox.messages) == 1


def test_email_refused_by_the_smtp_server_is_recorded_and_retried(app, shop, org, make_supplier, smtp_server):
    port, mailbox = smtp_server
    configure(shop, smtp_settings(port, smtp_password="faux"))
    supplier, _ = make_supplier()
    link(supplier, variant(org.id, "LAMPE"), "DUP-LAMP-01", dropship_only=True)
    order = place(shop, "4101", [("LAMPE", 1)])

    run_pending(now=utcnow() + timedelta(seconds=5))

    [po] = purchase_orders(order.id)
    db.session.refresh(po)
    assert po.status == "failed" and "Identifiants SMTP refusés" in po.last_error
    assert [(s.ok, s.attempt) for s in po.sends] == [(False, 1)]
    configure(shop, {"smtp_password": smtp_settings(port)["smtp_password"]})
    run_pending(now=utcnow() + timedelta(minutes=2))
    db.session.refresh(po)
    assert po.status == "sent" and [(s.ok, s.attempt) for s in po.sends] == [(False, 1), (True, 2)]
    assert len(mailbox.messages) == 1


# ----------------------------------------------------------------------------- webhook
def test_webhook_supplier_down_then_retried(app, shop, org, make_supplier, serve_wsgi):
    emulator = sandbox.make_app(fail_times=1)
    base = serve_wsgi(emulator)
    supplier, _ = make_supplier("Système Martin", "api@martin.test", **sandbox.supplier_settings(base))
    link(supplier, variant(org.id, "LAMPE"), "MAR-LAMP", "7.25", dropship_only=True)
    order = place(shop, "5001", [("LAMPE", 2)])
    [po] = purchase_orders(order.id)

    assert run_pending(now=utcnow() + timedelta(seconds=5)) >= 1
    db.session.refresh(po)
    assert po.status == "failed" and "indisponible (503)" in po.last_error
    assert emulator.config["RECEIVED"] == []
    assert run_pending(now=utcnow() + timedelta(seconds=10)) == 0  # backoff: not yet

    run_pending(now=utcnow() + timedelta(minutes=2))

    db.session.refresh(po)
    assert po.status == "sent"
    assert [(s.channel, s.ok, s.attempt) for s in po.sends] == [("webhook", False, 1), ("webhook", True, 2)]
    assert emulator.config["STATE"]["deliveries"] == 2
    [delivery] = emulator.config["RECEIVED"]
    [sent] = delivery["body"]["purchase_orders"]
    assert sent["reference"] == po.reference and sent["order_number"] == "#5001"
    assert sent["lines"] == [{"supplier_sku": "MAR-LAMP", "sku": "LAMPE", "title": "LAMPE", "quantity": 2,
                              "unit_cost": "7.25", "line_cost": "14.50"}]
    assert sent["ship_to"]["city"] == "Paris" and sent["total_cost"] == "14.50"
    assert read_token(sent["confirm_url"].rsplit("/", 1)[1]) == (po.id, supplier.id)


def test_webhook_with_the_wrong_secret_is_refused(app, shop, org, make_supplier, serve_wsgi):
    base = serve_wsgi(sandbox.make_app())
    supplier, _ = make_supplier("Système Martin", "api@martin.test",
                                **{**sandbox.supplier_settings(base), "webhook_secret": "un-autre-secret-partage"})
    link(supplier, variant(org.id, "LAMPE"), "MAR-LAMP", dropship_only=True)
    order = place(shop, "5101", [("LAMPE", 1)])

    run_pending(now=utcnow() + timedelta(seconds=5))

    [po] = purchase_orders(order.id)
    db.session.refresh(po)
    assert po.status == "failed" and "Signature refusée" in po.last_error
    assert [(s.ok, s.attempt) for s in po.sends] == [(False, 1)]
    job = db.session.scalar(select(OutboxJob).where(OutboxJob.func == "addons.dropship.jobs.send_purchase_orders"))
    assert job.state == "pending" and job.max_retries == 5 and job.run_after > utcnow()  # retried with backoff


# ----------------------------------------------------------------------------- batches
def test_purchase_orders_wait_for_the_batch_time(app, shop, org, make_supplier, smtp_server):
    port, mailbox = smtp_server
    configure(shop, smtp_settings(port))
    supplier, _ = make_supplier(batch_times="08:00,14:00")
    link(supplier, variant(org.id, "LAMPE"), "DUP-LAMP-01", dropship_only=True)
    link(supplier, variant(org.id, "VASE"), "DUP-VASE-02", dropship_only=True)
    first = place(shop, "6001", [("LAMPE", 1)])
    second = place(shop, "6002", [("VASE", 2)])
    pos = purchase_orders(first.id) + purchase_orders(second.id)
    assert [po.status for po in pos] == ["pending", "pending"]
    tomorrow = (utcnow() + timedelta(days=1)).date()
    for po in pos:  # made tomorrow at 10:30 in Paris: they leave with the 14:00 batch
        po.created_at = datetime.combine(tomorrow, time(10, 30), PARIS).astimezone(timezone.utc)
    db.session.commit()
    slot = datetime.combine(tomorrow, time(14, 0), PARIS).astimezone(timezone.utc)

    assert jobs.send_due_batches(now=slot - timedelta(minutes=1)) == 0
    db.session.commit()
    run_jobs(now=slot - timedelta(minutes=1))
    assert mailbox.messages == []

    assert jobs.send_due_batches(now=slot + timedelta(minutes=3)) == 1
    db.session.commit()
    run_jobs(now=slot + timedelta(minutes=4))

    assert len(mailbox.messages) == 1
    message = mailbox.messages[0][2]
    assert message["Subject"] == "2 bons de commande — Boutique Démo"
    csv_part = next(p for p in message.iter_attachments() if p.get_filename().endswith(".csv"))
    content = csv_part.get_payload(decode=True).decode("utf-8-sig")
    assert [r["po_reference"] for r in csv.DictReader(io.StringIO(content), delimiter=";")] == \
        [po.reference for po in pos]
    for po in pos:
        db.session.refresh(po)
        assert po.status == "sent" and len({s.batch for s in po.sends}) == 1 and po.sends[0].batch
    assert jobs.send_due_batches(now=slot + timedelta(minutes=8)) == 0


# ----------------------------------------------------------------------------- cancellation and margins
def test_cancelled_order_cancels_its_purchase_order_before_it_leaves(app, shop, org, make_supplier, smtp_server):
    port, mailbox = smtp_server
    configure(shop, smtp_settings(port))
    supplier, _ = make_supplier()
    link(supplier, variant(org.id, "LAMPE"), "DUP-LAMP-01", dropship_only=True)
    order = place(shop, "7001", [("LAMPE", 1)])

    order_flow.cancel(order, reason="client")
    db.session.commit()
    run_jobs()

    [po] = purchase_orders(order.id)
    assert po.status == "cancelled" and po.sends == [] and mailbox.messages == []


def test_cancelling_after_the_supplier_received_it_asks_to_warn_him(app, shop, org, make_supplier, smtp_server):
    port, _mailbox = smtp_server
    configure(shop, smtp_settings(port))
    supplier, _ = make_supplier()
    link(supplier, variant(org.id, "LAMPE"), "DUP-LAMP-01", dropship_only=True)
    order = place(shop, "7101", [("LAMPE", 1)])
    run_jobs()

    order_flow.cancel(order, reason="client")
    db.session.commit()

    [po] = purchase_orders(order.id)
    assert po.status == "cancelled"
    assert any("prévenez-le de l'annulation" in e.message for e in order.events)


def test_cost_of_line_is_the_suppliers_price(app, shop, own_wh, org, make_supplier):
    supplier, _ = make_supplier(currency="USD")
    mug = variant(org.id, "MUG", {own_wh: 5})
    mug.cost_price = Decimal("3.10")
    lamp = variant(org.id, "LAMPE")
    link(supplier, lamp, "DUP-LAMP-01", "12.3456", dropship_only=True)
    order = place(shop, "8001", [("MUG", 1), ("LAMPE", 2)])
    mug_line, lamp_line = order.lines

    assert call(shop, "cost_of_line", order=order, line=lamp_line) == Money(Decimal("12.3456"), "USD")
    assert call(shop, "cost_of_line", order=order, line=mug_line) is None  # the variant's cost price applies
    # the price is frozen when the line is routed: a later price change does not rewrite the margin
    supplier.products[0].unit_cost = Decimal("99")
    db.session.commit()
    assert call(shop, "cost_of_line", order=order, line=lamp_line).amount == Decimal("12.3456")
    assert db.session.scalar(select(DropshipLine.unit_cost)) == Decimal("12.3456")
    assert db.session.scalar(select(DropshipSend.id)) is None  # nothing sent without SMTP settings yet


def test_an_assignment_dropped_and_made_again_in_one_transaction(app, shop, own_wh, org, make_supplier):
    supplier, _ = make_supplier()
    vase = variant(org.id, "VASE", {own_wh: 0})
    link(supplier, vase, "DUP-VASE")
    order = place(shop, "A1", [("VASE", 1)])
    line = order.lines[0]
    assert order.status == OrderStatus.ON_HOLD and routing.routed_line(line) is None
    offer = routing.offers(org.id, vase.id)[0]
    routing.assign(line, offer)
    db.session.commit()
    assert routing.routed_line(line).supplier_sku == "DUP-VASE"

    routing.forget(line)
    routing.assign(line, offer)
    routing.forget(line)
    routing.assign(line, offer)
    db.session.commit()

    assert db.session.scalars(select(DropshipLine.order_line_id)).all() == [line.id]
