"""Labels, rules, customs, cancellation, webhooks, outages and polls against the emulator,
with every exchange checked against Sendcloud's OpenAPI documents."""
from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from addons.sendcloud import jobs, sandbox
from addons.sendcloud.labels import parcel_row
from addons.sendcloud.models import SendcloudParcel, SendcloudShippingRule
from core.connectors.models import WebhookDelivery
from addons.sendcloud.rules import NoMethod, choose, needs_customs
from addons.sendcloud.tests.openapi import Recorder, check_traffic, spec
from addons.sendcloud.tracking import event_time, signature
from core import orders as order_flow
from core import picking, services, shipping
from core.addons import call
from core.extensions import db
from core.jobs import run_pending
from core.models import Order, OrderStatus, OutboxJob, Shipment, ShipmentStatus, StockLevel, utcnow
from tests.fake_addons.shiplog.hooks import SHIPPED
from tests.fixtures import FAKE_ADDONS, csrf_token
from tests.picking_helpers import allocated, connect_sendcloud, ean13, stocked
from tests.pipeline_helpers import warehouse

TEE = ean13("376000000001")
MUG = ean13("301234567890")


@pytest.fixture
def addons():
    return ["alpha", "beta", "sendcloud", "shiplog"]


@pytest.fixture
def app_config():
    return {"ADDON_MODULES": {**FAKE_ADDONS, "shiplog": "tests.fake_addons.shiplog.hooks"}}


@pytest.fixture
def emulator():
    return sandbox.make_app()


@pytest.fixture
def recorder(emulator):
    return Recorder(emulator)


@pytest.fixture
def base_url(serve_wsgi, recorder):
    return serve_wsgi(recorder)


@pytest.fixture
def shop(shop_factory, base_url):
    shop = shop_factory("beta", "Boutique Beta")
    services.set_enabled(shop, "shiplog", True)
    connect_sendcloud(shop, sandbox.demo_settings(base_url))
    return shop


@pytest.fixture
def wh(org):
    wh = warehouse(org.id, "PAR", priority=1)
    stocked(org.id, wh, "TEE", 30, barcode=TEE, grams=180, bin_code="A-01-01")
    stocked(org.id, wh, "MUG", 30, barcode=MUG, grams=2400, bin_code="A-01-02", tags=["fragile"])
    stocked(org.id, wh, "BARE", 30, grams=100, hs_code=None, origin=None)
    db.session.commit()
    return wh


@pytest.fixture(autouse=True)
def _clear_log():
    SHIPPED.clear()
    yield
    SHIPPED.clear()


def packed(org, order):
    """The order's wave place with every unit checked at the packing station."""
    member = picking.wave_for_order(order)
    for line in member.lines:
        for _ in range(line.quantity):
            picking.override("pack", line, list(member.lines), "test : comptage direct")
    return member


def fresh(model, ident):
    db.session.expire_all()
    return db.session.get(model, ident)


def rule(org, position, method, **conditions) -> SendcloudShippingRule:
    row = SendcloudShippingRule(organization_id=org.id, position=position, name=method, method_id=method,
                                **conditions)
    db.session.add(row)
    return row


def label_jobs() -> list[OutboxJob]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxJob).where(OutboxJob.func.like("addons.sendcloud.%"))))


def announced(recorder) -> list[dict]:
    return [e for e in recorder.exchanges if e["path"] in ("/v3/shipments/announce", "/v2/parcels")
            and e["method"] == "POST"]


# ----------------------------------------------------------------------------- rules
def test_rules_choose_in_order_then_the_default(app, org, shop, wh):
    rule(org, 1, "chronopost:13", service_levels=["prime", "express"])
    rule(org, 2, "dpd:classic", destination="non_eu")
    rule(org, 3, "colissimo:home/signature", sku_tag="fragile")
    rule(org, 4, "laposte:lettre_suivie", destination="domestic", max_weight_grams=2000)
    rule(org, 5, "mondial_relay:point_relais", channels=["beta"], min_value=Decimal("100"))
    db.session.commit()
    settings = shop.addon_settings("sendcloud")

    def method(ext, lines, grams, **kw):
        order = allocated(shop, ext, lines, **kw)
        draft = shipping.create_shipment(order, [(ln, ln.quantity) for ln in order.lines], grams, carrier="manual")
        chosen = choose(shop, order, draft, settings)
        return chosen[0], chosen[1].position if chosen[1] else None

    assert method("r1", [("TEE", 1)], 200, service_level="prime") == ("chronopost:13", 1)
    assert method("r2", [("TEE", 1)], 200, country="CH") == ("dpd:classic", 2)
    assert method("r3", [("MUG", 1)], 2400) == ("colissimo:home/signature", 3)
    assert method("r4", [("TEE", 1)], 200) == ("laposte:lettre_suivie", 4)
    assert method("r5", [("TEE", 12)], 2160) == ("mondial_relay:point_relais", 5)
    assert method("r6", [("TEE", 3)], 2500) == ("colissimo:home", None)  # the default method
    assert method("r7", [("TEE", 1)], 200, country="DE") == ("colissimo:home", None)
    assert needs_customs("FR", "GB") and not needs_customs("FR", "DE") and not needs_customs("FR", "FR")
    services.save_settings(shop, "sendcloud", {"default_method": ""}, set())
    order = allocated(shop, "r8", [("TEE", 3)])
    draft = shipping.create_shipment(order, [(order.lines[0], 3)], 2500, carrier="manual")
    with pytest.raises(NoMethod, match="ajoutez une règle"):
        choose(shop, order, draft, shop.addon_settings("sendcloud"))


def test_rules_page_adds_orders_and_reruns(app, client, login, org, shop, wh):
    login(client)
    page = "/apps/sendcloud/rules/new"
    res = client.post(page, data={"name": "Prime en 24 h", "method_id": "chronopost:13", "service_levels": "prime",
                                  "destination": "", "active": "y", "csrf_token": csrf_token(client, page)})
    assert res.status_code == 302
    client.post(page, data={"name": "Hors UE", "method_id": "dpd:classic", "destination": "non_eu",
                            "countries": "ch, gb", "active": "y", "csrf_token": csrf_token(client, page)})
    rules = db.session.scalars(select(SendcloudShippingRule).order_by(SendcloudShippingRule.position)).all()
    assert [(r.name, r.method_id, r.method_name) for r in rules] == [
        ("Prime en 24 h", "chronopost:13", "Chronopost 13 (chronopost:13)"),
        ("Hors UE", "dpd:classic", "DPD Classic (dpd:classic)")]
    assert rules[1].countries == ["CH", "GB"] and rules[0].service_levels == ["prime"]
    edit = client.get(f"/apps/sendcloud/rules/{rules[1].id}").get_data(as_text=True)
    assert re.search(r'name="countries"[^>]*value="CH, GB"', edit), edit[edit.find("countries") - 200:][:600]
    assert re.search(r'selected[^>]*value="dpd:classic"|value="dpd:classic"[^>]*selected', edit)
    client.post(f"/apps/sendcloud/rules/{rules[1].id}/move/up", data={"csrf_token": csrf_token(client, "/apps/sendcloud/rules")})
    assert [r.name for r in db.session.scalars(select(SendcloudShippingRule).order_by(
        SendcloudShippingRule.position))] == ["Hors UE", "Prime en 24 h"]

    # a parcel waiting because no rule applied gets its label once the rules are re-run
    services.save_settings(shop, "sendcloud", {"default_method": ""}, set())
    db.session.commit()
    order = allocated(shop, "rr-1", [("TEE", 1)])
    member = packed(org, order)
    outcome = picking.pack_and_ship(member, 200)
    db.session.commit()
    assert outcome.state == "waiting_carrier" and "aucune méthode par défaut" in outcome.shipment.label_error
    assert client.get("/apps/sendcloud/").headers["Location"].endswith("/apps/sendcloud/rules")
    text = client.get("/apps/sendcloud/rules").get_data(as_text=True)
    assert "Prime en 24 h" in text and order.number in text and "/apps/sendcloud/webhooks/" in text
    services.save_settings(shop, "sendcloud", {"default_method": "colissimo:home"}, set())
    db.session.commit()
    res = client.post("/apps/sendcloud/rules/rerun", data={"csrf_token": csrf_token(client, "/apps/sendcloud/rules")},
                      follow_redirects=True)
    assert "1 étiquette(s) créée(s)" in res.get_data(as_text=True)
    assert fresh(Shipment, outcome.shipment.id).status == ShipmentStatus.LABEL_CREATED


def test_rules_page_needs_sendcloud_enabled(app, client, login, org, shop_factory):
    shop_factory("beta", "Sans Sendcloud")
    login(client)
    assert client.get("/apps/sendcloud/rules").status_code == 404


# ----------------------------------------------------------------------------- labels and customs
def test_customs_data_for_a_destination_outside_the_eu(app, org, shop, wh, recorder, emulator):
    order = allocated(shop, "ch-1", [("TEE", 2)], country="CH")
    outcome = picking.pack_and_ship(packed(org, order), None)
    db.session.commit()
    assert outcome.state == "shipped" and outcome.shipment.tracking_number
    body = announced(recorder)[0]["request"]
    assert body["to_address"]["country_code"] == "CH"
    assert body["customs_information"]["export_reason"] == "commercial_goods"
    assert body["customs_information"]["invoice_number"] == "ch-1"
    assert body["parcels"][0]["parcel_items"] == [{
        "item_id": "TEE", "description": "TEE", "quantity": 2, "weight": {"value": 0.18, "unit": "kg"},
        "price": {"value": "10.00", "currency": "EUR"}, "hs_code": "6109100010", "origin_country": "PT",
        "sku": "TEE", "product_id": body["parcels"][0]["parcel_items"][0]["product_id"]}]
    assert body["parcels"][0]["weight"] == {"value": "0.360", "unit": "kg"}
    check_traffic(recorder.exchanges)

    # an item without its HS code is refused before any call, naming what to fix
    other = allocated(shop, "ch-2", [("BARE", 1)], country="GB")
    calls = len(emulator.config["CALLS"])
    outcome = picking.pack_and_ship(packed(org, other), None)
    assert outcome.state == "waiting_carrier"
    assert "BARE (code SH, pays d'origine)" in outcome.shipment.label_error
    assert len(emulator.config["CALLS"]) == calls
    assert label_jobs() == []  # nothing to retry: the data must be fixed first


def test_domestic_parcel_declares_no_customs(app, org, shop, wh, recorder):
    order = allocated(shop, "fr-1", [("TEE", 1)])
    picking.pack_and_ship(packed(org, order), None)
    body = announced(recorder)[0]["request"]
    assert "customs_information" not in body and "parcel_items" not in body["parcels"][0]
    assert body["external_reference_id"] == f"oms-{order.shipments[0].id}"
    assert body["from_address"]["city"] == "Saint-Denis"
    spec("v3").request("POST", "/shipments/announce", body)


def test_label_cancelled_when_the_order_is_cancelled(app, org, shop, wh, recorder, emulator):
    order = allocated(shop, "cx-1", [("TEE", 1)])
    outcome = picking.pack_and_ship(packed(org, order), None, auto_ship=False)
    db.session.commit()
    assert outcome.state == "label_ready"
    row = parcel_row(outcome.shipment)
    order_flow.cancel(order, reason="client")
    db.session.commit()
    assert fresh(Shipment, outcome.shipment.id).status == ShipmentStatus.CANCELLED
    assert ("POST", f"/v3/shipments/{row.remote_shipment_id}/cancel") in emulator.config["CALLS"]
    assert emulator.config["PARCELS"][row.parcel_id]["status_id"] == 2000
    assert fresh(SendcloudParcel, row.id).state == "cancelled"
    assert fresh(StockLevel, db.session.scalars(select(StockLevel)).first().id).reserved == 0
    check_traffic(recorder.exchanges)


# ----------------------------------------------------------------------------- outages
def test_sendcloud_down_the_parcel_waits_and_a_job_retries(app, client, login, org, shop, wh, emulator, recorder):
    emulator.config["DOWN"] = True
    order = allocated(shop, "dn-1", [("TEE", 1)])
    outcome = picking.pack_and_ship(packed(org, order), None)
    db.session.commit()
    shipment = outcome.shipment
    assert outcome.state == "waiting_carrier" and shipment.status == ShipmentStatus.DRAFT
    assert "indisponible (503)" in shipment.label_error and "rien n'est perdu" in shipment.label_error
    assert fresh(Order, order.id).status == OrderStatus.PACKED and SHIPPED == []
    [job] = label_jobs()
    assert (job.func, job.args, job.job_id) == ("addons.sendcloud.jobs.create_label", [shipment.id],
                                                f"sendcloud-create_label-{shipment.id}")
    run_pending(now=utcnow() + timedelta(minutes=2))  # still down: the job fails and waits
    assert fresh(Shipment, shipment.id).status == ShipmentStatus.DRAFT
    assert label_jobs()[0].attempts == 1

    emulator.config["DOWN"] = False
    run_pending(now=utcnow() + timedelta(hours=1))
    shipment = fresh(Shipment, shipment.id)
    assert shipment.status == ShipmentStatus.LABEL_CREATED and shipment.label.startswith(b"%PDF")
    assert shipment.tracking_number and shipment.label_error is None
    assert label_jobs() == []
    login(client, "picker")
    page = f"/preparation/shipments/{shipment.id}"
    client.post(f"{page}/ship", data={"csrf_token": csrf_token(client, page)})
    assert fresh(Shipment, shipment.id).status == ShipmentStatus.SHIPPED
    assert fresh(Order, order.id).status == OrderStatus.SHIPPED
    assert SHIPPED == [(shop.id, order.id, "colissimo", shipment.tracking_number, shipment.tracking_url)]
    assert len(announced(recorder)) == 1
    check_traffic(recorder.exchanges)


def test_an_answer_lost_on_the_way_never_makes_two_parcels(app, org, shop, wh, emulator, recorder):
    emulator.config["DROP_ANSWERS"] = 1  # Sendcloud announces the shipment, the answer is lost
    order = allocated(shop, "lost-1", [("TEE", 1)])
    outcome = picking.pack_and_ship(packed(org, order), None)
    db.session.commit()
    assert outcome.state == "waiting_carrier" and len(emulator.config["SHIPMENTS"]) == 1
    run_pending(now=utcnow() + timedelta(hours=1))
    shipment = fresh(Shipment, outcome.shipment.id)
    assert shipment.status == ShipmentStatus.LABEL_CREATED
    assert len(emulator.config["SHIPMENTS"]) == 1  # found again by its external reference
    assert ("GET", "/v3/shipments") in emulator.config["CALLS"]
    remote = next(iter(emulator.config["SHIPMENTS"].values()))
    assert shipment.tracking_number == emulator.config["PARCELS"][remote["parcel_ids"][0]]["tracking_number"]


# ----------------------------------------------------------------------------- webhooks and polls
def test_webhook_signature_is_the_documented_hmac():
    assert signature(b'{"key": "value"}', "secretkey") == \
        "1eed4b3d41f4653ac64fd56f1bf1cbfd349e4482cbc11dff7134bd93e5da4b0a"
    assert event_time(1712163088943) == event_time(1712163088.943)
    assert event_time(None) is None


def test_status_webhooks_signed_and_never_replayed(app, client, org, shop, wh, emulator, serve_wsgi):
    order = allocated(shop, "wh-1", [("TEE", 1)])
    outcome = picking.pack_and_ship(packed(org, order), None)
    db.session.commit()
    row = parcel_row(outcome.shipment)
    parcel = emulator.config["PARCELS"][row.parcel_id]
    url = f"/apps/sendcloud/webhooks/{shop.id}"

    def post(payload, key=sandbox.DEMO_SECRET_KEY, signed=None):
        body = json.dumps(payload, separators=(",", ":")).encode()
        return client.post(url, data=body, content_type="application/json",
                           headers={"Sendcloud-Signature": sandbox.sign(body, key) if signed is None else signed})

    moving = sandbox.webhook_payload(parcel, 91)
    assert post(moving, key="not-the-secret").status_code == 401
    assert post(moving, signed="").status_code == 401
    assert fresh(Shipment, outcome.shipment.id).status == ShipmentStatus.SHIPPED
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0

    assert post(moving).status_code == 200
    run_pending()  # stored and answered at once, applied by the inbox's job
    assert fresh(Shipment, outcome.shipment.id).status == ShipmentStatus.IN_TRANSIT
    replay = post(moving)
    assert replay.status_code == 409 and "rejoué" in replay.get_json()["error"]
    stale = sandbox.webhook_payload(parcel, 11, at=utcnow() - timedelta(hours=2))
    assert post(stale).status_code == 409
    run_pending()
    assert fresh(Shipment, outcome.shipment.id).status == ShipmentStatus.IN_TRANSIT
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 1

    # a real delivery over HTTP, as the emulator's sender posts it
    oms = serve_wsgi(app)
    res = sandbox.send_status_webhook(oms + url, sandbox.DEMO_SECRET_KEY, sandbox.webhook_payload(parcel, 11))
    assert res.status_code == 200, res.text
    run_pending()
    assert fresh(Shipment, outcome.shipment.id).status == ShipmentStatus.DELIVERED
    assert fresh(Order, order.id).status == OrderStatus.DELIVERED
    assert fresh(SendcloudParcel, row.id).status_id == 11
    assert client.post(f"/apps/sendcloud/webhooks/{shop.id + 999}", data=b"{}").status_code == 404


def test_poll_fallback_when_webhooks_stay_silent(app, org, shop, wh, emulator):
    order = allocated(shop, "pl-1", [("TEE", 1)])
    outcome = picking.pack_and_ship(packed(org, order), None)
    row = parcel_row(outcome.shipment)
    row.updated_at = utcnow() - timedelta(hours=3)
    db.session.commit()
    emulator.config["PARCELS"][row.parcel_id]["status_id"] = 11
    shipment = fresh(Shipment, outcome.shipment.id)
    assert call(shop, "shipping_track", shipment=shipment) == "delivered"
    assert jobs.poll_statuses() == 1
    db.session.commit()
    run_pending()
    assert fresh(Shipment, outcome.shipment.id).status == ShipmentStatus.DELIVERED
    assert jobs.poll_statuses() == 0


# ----------------------------------------------------------------------------- v2 parcels, rates, emulator
def test_accounts_on_v2_announce_parcels(app, org, shop, wh, recorder, emulator, base_url):
    settings = {**sandbox.demo_settings(base_url), "api_version": "v2", "default_method": str(
        sandbox.V2_METHOD_IDS["colissimo:home"])}
    services.save_settings(shop, "sendcloud", settings, set())
    result = services.test_connection(shop, "sendcloud")
    assert result.ok and "Colissimo Home (colissimo)" in result.details
    order = allocated(shop, "v2-1", [("TEE", 1)], country="GB")
    outcome = picking.pack_and_ship(packed(org, order), None, auto_ship=False)
    db.session.commit()
    shipment = outcome.shipment
    assert outcome.state == "label_ready" and shipment.carrier == "colissimo" and shipment.label.startswith(b"%PDF")
    assert re.fullmatch(r"CO\d{11}FR", shipment.tracking_number)
    body = announced(recorder)[0]["request"]["parcel"]
    assert body["shipment"] == {"id": sandbox.V2_METHOD_IDS["colissimo:home"]} and body["request_label"] is True
    assert body["customs_information"]["customs_shipment_type"] == 2 and body["parcel_items"][0]["hs_code"]
    order_flow.cancel(order, reason="erreur")
    db.session.commit()
    assert emulator.config["PARCELS"][parcel_row(shipment).parcel_id]["status_id"] == 2000
    assert check_traffic(recorder.exchanges) >= 4


def test_rates_come_from_sendcloud_quotes(app, org, shop, wh):
    order = allocated(shop, "q-1", [("TEE", 1)])
    rates = call(shop, "shipping_quote_rates", order=order, parcels=[{"weight_grams": 500}])
    by_method = {r.method_id: r for rate_list in rates for r in rate_list}
    assert by_method["colissimo:home"].price == Decimal("6.15") and by_method["chronopost:13"].currency == "EUR"


def test_emulator_label_is_a_well_formed_pdf():
    pdf = sandbox.label_pdf(["Colissimo Home", "CO00000000001FR", "Zoé (test)"])
    start = int(re.search(rb"startxref\n(\d+)", pdf).group(1))
    assert pdf[start:start + 4] == b"xref" and pdf.endswith(b"%%EOF\n")
    offsets = [int(m) for m in re.findall(rb"(\d{10}) 00000 n", pdf)]
    assert [pdf[o:o + 7] for o in offsets] == [f"{n} 0 obj".encode() for n in range(1, len(offsets) + 1)]
    length = int(re.search(rb"/Length (\d+)", pdf).group(1))
    stream = pdf.split(b"stream\n", 1)[1]
    assert stream[length:length + 10] == b"\nendstream"
