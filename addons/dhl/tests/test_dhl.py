"""DHL Express on its emulator: labels, customs and paperless trade, lost answers, the
cancellation MyDHL does not have, pickups, rates, tracking within the quota, settings and
tenants; every exchange checked against the add-on's schemas of DHL's APIs."""
from __future__ import annotations

import base64
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from addons.dhl import jobs, mapping, sandbox, tracking
from addons.dhl.labels import row_of
from addons.dhl.models import DhlApiQuota, DhlPickup, DhlShipment
from addons.dhl.tests.schemas import check_traffic, validate
from core import orders as order_flow
from core import picking, services, shipping
from core.addons import call
from core.extensions import db
from core.jobs import run_pending
from core.models import Order, OrderStatus, OutboxJob, Shipment, ShipmentStatus, utcnow
from tests.fake_addons.shiplog.hooks import SHIPPED
from tests.fixtures import csrf_token
from tests.picking_helpers import allocated


@pytest.fixture(autouse=True)
def _clear_log():
    SHIPPED.clear()
    yield
    SHIPPED.clear()


def packed(order):
    member = picking.wave_for_order(order)
    for line in member.lines:
        for _ in range(line.quantity):
            picking.override("pack", line, list(member.lines), "test : comptage direct")
    return member


def fresh(model, ident):
    db.session.expire_all()
    return db.session.get(model, ident)


def posts(recorder, path="/mydhlapi/shipments"):
    return [e for e in recorder.exchanges if e["method"] == "POST" and e["path"] == path]


def dhl_jobs():
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxJob).where(OutboxJob.func.like("addons.dhl.%"))))


# ----------------------------------------------------------------------------- labels
def test_a_domestic_parcel_gets_its_label_and_leaves(app, org, shop, wh, recorder):
    order = allocated(shop, "d-1", [("TEE", 2)])
    outcome = picking.pack_and_ship(packed(order), None)
    db.session.commit()
    shipment = fresh(Shipment, outcome.shipment.id)
    assert outcome.state == "shipped" and shipment.status == ShipmentStatus.SHIPPED
    assert shipment.carrier == "dhl" and shipment.service == "DHL Express Domestic"
    assert shipment.label.startswith(b"%PDF-") and len(shipment.tracking_number) == 10
    assert shipment.tracking_url.endswith(f"tracking-id={shipment.tracking_number}&submit=1")
    [sent] = posts(recorder)
    body = sent["request"]
    assert body["productCode"] == "N" and body["accounts"] == [{"typeCode": "shipper", "number": sandbox.DEMO_ACCOUNT}]
    assert body["customerReferences"] == [{"value": f"oms-{shipment.id}", "typeCode": "CU"}]
    assert body["content"]["isCustomsDeclarable"] is False and "exportDeclaration" not in body["content"]
    assert body["content"]["packages"][0]["weight"] == 0.36
    assert sent["headers"]["Authorization"].startswith("Basic ")
    assert len(sent["headers"]["Message-Reference"]) == 36 and sent["headers"]["Message-Reference-Date"].endswith("GMT")
    assert SHIPPED == [(shop.id, order.id, "dhl", shipment.tracking_number, shipment.tracking_url)]
    assert check_traffic(recorder.exchanges) == 1


def test_outside_the_eu_customs_declaration_and_paperless_invoice(app, client, login, org, shop, wh, recorder,
                                                                  emulator):
    order = allocated(shop, "ch-1", [("TEE", 3)], country="CH")
    outcome = picking.pack_and_ship(packed(order), None)
    db.session.commit()
    assert outcome.state == "shipped"
    body = posts(recorder)[0]["request"]
    content = body["content"]
    assert body["productCode"] == "P" and content["isCustomsDeclarable"] is True
    assert content["declaredValue"] == 30.0 and content["declaredValueCurrency"] == "EUR" and content["incoterm"] == "DAP"
    [item] = content["exportDeclaration"]["lineItems"]
    assert item["commodityCodes"] == [{"typeCode": "outbound", "value": "6109100010"}]
    assert item["manufacturerCountry"] == "PT" and item["quantity"] == {"value": 3, "unitOfMeasurement": "PCS"}
    assert content["exportDeclaration"]["invoice"]["number"] == "ch-1"
    assert body["valueAddedServices"] == [{"serviceCode": "WY"}]
    assert {"typeCode": "invoice", "templateName": mapping.INVOICE_TEMPLATE, "isRequested": True,
            "invoiceType": "commercial"} in body["outputImageProperties"]["imageOptions"]
    row = row_of(outcome.shipment)
    assert row.customs and row.paperless and row.invoice.startswith(b"%PDF-")
    assert emulator.config["SHIPMENTS"][row.tracking_number]["paperless"] is True
    login(client)
    res = client.get(f"/apps/dhl/shipments/{outcome.shipment.id}/invoice.pdf")
    assert res.status_code == 200 and res.data.startswith(b"%PDF-")
    check_traffic(recorder.exchanges)

    # an item without its HS code is refused before any call, naming what to fix
    other = allocated(shop, "gb-1", [("BARE", 1)], country="GB")
    calls = len(recorder.exchanges)
    outcome = picking.pack_and_ship(packed(other), None)
    assert outcome.state == "waiting_carrier"
    assert "BARE (code SH, pays d'origine)" in outcome.shipment.label_error
    assert len(recorder.exchanges) == calls and dhl_jobs() == []


def test_a_refusal_is_said_in_french_with_dhl_s_reason(app, org, shop, wh):
    order = allocated(shop, "r-1", [("TEE", 1)])
    order.shipping_address = {**order.shipping_address, "city": "X" * 60}  # over DHL's 45 characters
    db.session.commit()
    outcome = picking.pack_and_ship(packed(order), None)
    db.session.commit()
    # the add-on cuts the city to DHL's limit: the label is made
    assert outcome.state == "shipped"
    services.save_settings(shop, "dhl", {"account_number": "123456789"}, set())
    db.session.commit()
    second = allocated(shop, "r-2", [("TEE", 1)])
    outcome = picking.pack_and_ship(packed(second), None)
    assert outcome.state == "waiting_carrier"
    assert "8003: Account not allowed for this service" in outcome.shipment.label_error
    assert "refusé" in outcome.shipment.label_error and dhl_jobs() == []


# ----------------------------------------------------------------------------- never bought twice
def test_an_answer_lost_on_the_way_is_found_by_its_reference(app, org, shop, wh, emulator, recorder):
    emulator.config["DROP_ANSWERS"] = 1  # DHL makes the waybill, the answer is lost
    order = allocated(shop, "lost-1", [("TEE", 1)])
    outcome = picking.pack_and_ship(packed(order), None)
    db.session.commit()
    assert outcome.state == "waiting_carrier" and "rien n'est perdu" in outcome.shipment.label_error
    assert len(emulator.config["SHIPMENTS"]) == 1
    [job] = dhl_jobs()
    assert job.job_id == f"dhl-create_label-{outcome.shipment.id}"
    run_pending(now=utcnow() + timedelta(hours=1))
    shipment = fresh(Shipment, outcome.shipment.id)
    assert shipment.status == ShipmentStatus.LABEL_CREATED and shipment.label.startswith(b"%PDF-")
    assert len(emulator.config["SHIPMENTS"]) == 1 and posts(recorder) == []  # the one POST lost its answer
    assert emulator.config["KIT"].calls.count(("POST", "/mydhlapi/shipments")) == 1
    [number] = emulator.config["SHIPMENTS"]
    assert shipment.tracking_number == number
    lookup = [e for e in recorder.exchanges if e["path"] == "/mydhlapi/tracking"]
    assert lookup and lookup[0]["query"]["shipmentReference"] == f"oms-{shipment.id}"
    assert lookup[0]["query"]["shipperAccountNumber"] == sandbox.DEMO_ACCOUNT
    check_traffic(recorder.exchanges)


def test_a_process_dying_during_the_call_never_buys_a_second_waybill(app, org, shop, wh, emulator, recorder):
    order = allocated(shop, "kill-1", [("TEE", 1)])
    member = packed(order)
    draft = shipping.create_shipment(member.order, [(order.lines[0], 1)], 200)
    db.session.commit()
    claimed = shipping.claim_label(draft.id)  # the attempt is counted and committed...
    shipping.request_label(claimed)  # ...DHL makes the waybill...
    db.session.rollback()  # ...and the process dies before the label is committed
    assert len(emulator.config["SHIPMENTS"]) == 1
    db.session.execute(update(Shipment).values(label_requested_at=utcnow() - timedelta(minutes=3)))
    db.session.commit()
    run_pending(now=utcnow() + timedelta(minutes=3))  # core's job takes over
    shipment = fresh(Shipment, draft.id)
    assert shipment.status == ShipmentStatus.LABEL_CREATED and shipment.label_attempts == 2
    assert len(emulator.config["SHIPMENTS"]) == 1 and len(posts(recorder)) == 1
    assert shipment.tracking_number in emulator.config["SHIPMENTS"]


def test_dhl_down_then_back_the_parcel_waits_and_leaves(app, org, shop, wh, emulator):
    emulator.config["KIT"].fail_next(503, times=1, path="/mydhlapi/shipments")
    order = allocated(shop, "dn-1", [("TEE", 1)])
    outcome = picking.pack_and_ship(packed(order), None)
    db.session.commit()
    assert outcome.state == "waiting_carrier" and "indisponible (503)" in outcome.shipment.label_error
    assert emulator.config["SHIPMENTS"] == {}
    run_pending(now=utcnow() + timedelta(hours=1))
    shipment = fresh(Shipment, outcome.shipment.id)
    assert shipment.status == ShipmentStatus.LABEL_CREATED and len(emulator.config["SHIPMENTS"]) == 1


# ----------------------------------------------------------------------------- cancel and pickups
def test_cancel_tells_the_merchant_not_to_hand_the_parcel_over(app, org, shop, wh, emulator, recorder):
    order = allocated(shop, "cx-1", [("TEE", 1)])
    outcome = picking.pack_and_ship(packed(order), None, auto_ship=False)
    db.session.commit()
    assert outcome.state == "label_ready"
    number = outcome.shipment.tracking_number
    calls = len(recorder.exchanges)
    order_flow.cancel(fresh(Order, order.id), reason="client")
    db.session.commit()
    assert fresh(Shipment, outcome.shipment.id).status == ShipmentStatus.CANCELLED
    assert row_of(outcome.shipment).state == "voided"
    events = [e.message for e in fresh(Order, order.id).events]
    assert any("ne remettez pas ce colis" in m and number in m for m in events)
    assert len(recorder.exchanges) == calls  # MyDHL has no void: nothing is sent


def test_pickup_booked_for_the_day_and_released_when_its_parcel_is_cancelled(app, client, login, org, shop, wh,
                                                                             emulator, recorder):
    order = allocated(shop, "pk-1", [("TEE", 1)])
    outcome = picking.pack_and_ship(packed(order), None, auto_ship=False)
    db.session.commit()
    login(client)
    page = client.get("/apps/dhl/").get_data(as_text=True)
    assert "1 colis DHL étiqueté(s) en attente d'un coursier." in page
    res = client.post(f"/apps/dhl/shops/{shop.id}/pickup", data={"csrf_token": csrf_token(client, "/apps/dhl/")},
                      follow_redirects=True)
    assert "Enlèvement DHL réservé" in res.get_data(as_text=True)
    [number] = emulator.config["PICKUPS"]
    pickup = db.session.scalar(select(DhlPickup))
    assert pickup.dispatch_confirmation_number == number and row_of(outcome.shipment).pickup_id == pickup.id
    sent = posts(recorder, "/mydhlapi/pickups")[0]["request"]
    assert sent["shipmentDetails"][0]["packages"][0]["weight"] == 0.18
    order_flow.cancel(fresh(Order, order.id), reason="client")
    db.session.commit()
    run_pending()
    assert emulator.config["PICKUPS"][number]["state"] == "cancelled"
    assert fresh(DhlPickup, pickup.id).state == "cancelled"
    delete = [e for e in recorder.exchanges if e["method"] == "DELETE"][0]
    assert delete["query"]["reason"] and delete["query"]["requestorName"] == "Service expéditions"
    check_traffic(recorder.exchanges)


# ----------------------------------------------------------------------------- rates and connection
def test_rates_of_the_account_products_even_through_a_429_storm(app, org, shop, wh, emulator, recorder):
    emulator.config["KIT"].fail_next(429, times=2, path="/mydhlapi/rates", retry_after=1)
    order = allocated(shop, "q-1", [("TEE", 1)], country="US")
    [rates] = call(shop, "shipping_quote_rates", order=order, parcels=[{"weight_grams": 1500}])
    by_code = {r.method_id: r for r in rates}
    assert set(by_code) == {"P", "T", "W"} and all(r.carrier == "dhl" and r.currency == "EUR" for r in rates)
    assert by_code["P"].price == Decimal("52.00") and by_code["P"].service_level == "express"
    assert by_code["W"].service_level == "standard" and by_code["W"].delivery_days == 5
    sent = posts(recorder, "/mydhlapi/rates")
    assert sent and sent[-1]["request"]["isCustomsDeclarable"] is True
    assert emulator.config["KIT"].calls.count(("POST", "/mydhlapi/rates")) == 3
    check_traffic(recorder.exchanges)


def test_connection_test_lists_products_or_says_what_is_wrong(app, shop, base_url):
    result = services.test_connection(shop, "dhl")
    assert result.ok and "compte 950000001" in result.message
    assert "EXPRESS DOMESTIC (N)" in result.details
    services.save_settings(shop, "dhl", {"api_secret": "wrong"}, {"api_secret"})
    result = services.test_connection(shop, "dhl")
    assert not result.ok and "Identifiants DHL Express refusés (401)" in result.message
    assert "Traceback" not in result.message and "DhlError" not in result.message


def test_settings_page_never_shows_the_secrets(app, client, login, shop):
    login(client)
    page = client.get(f"/integrations/dhl/shops/{shop.id}/configure").get_data(as_text=True)
    assert 'name="api_secret"' in page and 'name="tracking_api_key"' in page
    assert sandbox.DEMO_API_SECRET not in page and sandbox.DEMO_TRACKING_KEY not in page
    assert sandbox.DEMO_API_KEY in page  # the key is the user name, not a secret


def test_account_key_names_the_express_account(app, shop):
    from core.addons import registry

    assert registry().call_one("dhl", "channel_account_key", shop=shop,
                               settings=shop.addon_settings("dhl")) == "dhl:950000001"
    assert registry().call_one("dhl", "channel_account_key", shop=shop, settings={}) is None


# ----------------------------------------------------------------------------- tracking
def shipped_parcels(shop, n):
    out = []
    for i in range(n):
        order = allocated(shop, f"t-{i}", [("TEE", 1)])
        outcome = picking.pack_and_ship(packed(order), None)
        db.session.commit()
        out.append(fresh(Shipment, outcome.shipment.id))
    return out


def due_now():
    db.session.execute(update(DhlShipment).values(next_check_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()


def test_tracking_polled_in_batches_paced_and_within_the_quota(app, org, shop, wh, emulator, recorder, clock,
                                                               base_url):
    parcels = shipped_parcels(shop, 3)
    post = emulator.test_client().post
    post(f"/_emulator/shipments/{parcels[0].tracking_number}/events", json={"statusCode": "transit",
                                                                           "description": "Processed at PARIS"})
    post(f"/_emulator/shipments/{parcels[1].tracking_number}/events", json={"statusCode": "delivered",
                                                                           "description": "Delivered"})
    due_now()
    assert jobs.poll_statuses() == 1  # one job for the shop's three parcels
    db.session.commit()
    slept_before = list(clock.slept)
    run_pending()
    statuses = [fresh(Shipment, p.id).status for p in parcels]
    assert statuses == [ShipmentStatus.IN_TRANSIT, ShipmentStatus.DELIVERED, ShipmentStatus.SHIPPED]
    assert fresh(Order, parcels[1].order_id).status == OrderStatus.DELIVERED
    asked = [e for e in recorder.exchanges if e["path"] == "/track/shipments"]
    assert len(asked) == 3 and all(e["query"]["service"] == "express" for e in asked)
    assert all(e["headers"]["Dhl-Api-Key"] == sandbox.DEMO_TRACKING_KEY for e in asked)
    waits = clock.slept[len(slept_before):]
    assert len(waits) >= 2 and sorted(waits)[-2:] == [1.0, 1.0]  # one call a second
    assert tracking.spent(sandbox.DEMO_TRACKING_KEY) == 3
    # delivered: never asked again; the others wait their interval
    assert row_of(parcels[1]).next_check_at is None
    assert row_of(parcels[0]).next_check_at >= utcnow() + timedelta(hours=2)
    assert jobs.poll_statuses() == 0
    check_traffic(recorder.exchanges)

    # the quota of the day is the key's: at its limit, nothing more is asked
    services.save_settings(shop, "dhl", {"tracking_daily_quota": 4}, set())
    due_now()
    db.session.execute(update(DhlShipment).where(DhlShipment.shipment_id == parcels[1].id)
                       .values(next_check_at=None))
    db.session.commit()
    asked_n, _changed = tracking.poll_shop(fresh(type(shop), shop.id))
    assert asked_n == 0  # 3 spent of 4, with a tenth kept for "by hand"
    assert db.session.scalar(select(DhlApiQuota.calls)) == 3
    clock.advance(24 * 3600)  # a new DHL day


def test_a_waybill_dhl_does_not_show_yet_is_asked_again_later(app, client, login, org, shop, wh, recorder, clock,
                                                              emulator):
    [parcel] = shipped_parcels(shop, 1)
    emulator.test_client().post(f"/_emulator/shipments/{parcel.tracking_number}/events",
                                json={"statusCode": "transit", "description": "Arrived at Sort Facility PARIS"})
    login(client)
    res = client.post(f"/apps/dhl/shipments/{parcel.id}/track", data={"csrf_token": csrf_token(client, "/apps/dhl/")},
                      follow_redirects=True)
    assert "Suivi DHL actualisé : Arrived at Sort Facility PARIS" in res.get_data(as_text=True)
    assert fresh(Shipment, parcel.id).status == ShipmentStatus.IN_TRANSIT
    clock.sleep(1)
    row = row_of(parcel)
    assert tracking.ask(shop, row) is False  # the same news again: nothing moves
    assert fresh(Shipment, parcel.id).status == ShipmentStatus.IN_TRANSIT
    row = row_of(parcel)
    row.tracking_number = "9999999999"
    db.session.commit()
    assert tracking.ask(shop, row) is False
    assert row_of(parcel).next_check_at <= utcnow() + tracking.NOT_VISIBLE_RETRY + timedelta(seconds=5)


def test_without_service_dhl_would_answer_another_parcel(emulator):
    """The pitfall the client avoids by always sending ``service``."""
    client = emulator.test_client()
    client.post("/mydhlapi/shipments", json={}, headers={"Authorization": "Basic eA=="})
    emulator.config["SHIPMENTS"]["1234567999"] = {"number": "1234567999", "events": [], "created_at": "2026-12-02",
                                                  "receiver": {}, "product": "P", "pieces": []}
    headers = {"DHL-API-Key": sandbox.DEMO_TRACKING_KEY}
    wrong = client.get("/track/shipments?trackingNumber=1234567999", headers=headers).get_json()
    assert wrong["shipments"][0]["service"] == "parcel-de"
    emulator.config["CLOCK"].sleep(1) if hasattr(emulator.config["CLOCK"], "slept") else None
    right = client.get("/track/shipments?trackingNumber=1234567999&service=express", headers=headers).get_json()
    assert right["shipments"][0]["service"] == "express"
    validate("tracking-unified.schema.json", "response", right)


def test_the_emulator_enforces_dhl_s_pace_and_quota(emulator):
    client = emulator.test_client()
    headers = {"DHL-API-Key": sandbox.DEMO_TRACKING_KEY}
    clock = emulator.config["CLOCK"]
    assert client.get("/track/shipments?trackingNumber=1&service=express", headers=headers).status_code == 404
    too_fast = client.get("/track/shipments?trackingNumber=1&service=express", headers=headers)
    assert too_fast.status_code == 429 and too_fast.get_json() == sandbox.TOO_MANY
    validate("tracking-unified.schema.json", "problem", too_fast.get_json())
    assert client.get("/track/shipments?trackingNumber=1", headers={"DHL-API-Key": "x"}).status_code == 401
    for _ in range(sandbox.DAILY_QUOTA):
        clock.sleep(1)
        client.get("/track/shipments?trackingNumber=1&service=express", headers=headers)
    clock.sleep(1)
    assert client.get("/track/shipments?trackingNumber=1&service=express", headers=headers).status_code == 429


def test_mapping_reads_dhl_timestamps_with_nanoseconds():
    at = mapping.parse_time("2023-11-21T15:27:20.331986369+01:00")
    assert at is not None and at.utcoffset() == timedelta(hours=1) and at.microsecond == 331986
    assert mapping.parse_time("2026-12-02T10:00:00Z").tzinfo is not None
    assert mapping.status_of({"status": {"statusCode": "failure", "description": "Address issue"}})[0] \
        == ShipmentStatus.EXCEPTION
    assert mapping.status_of({"status": {"statusCode": "something-new"}})[0] is None
    assert mapping.documents({"documents": [{"typeCode": "label", "content": base64.b64encode(b"%PDF-x").decode()}]}) \
        == {"label": b"%PDF-x"}


# ----------------------------------------------------------------------------- tenants
def test_another_organization_sees_nothing(app, client, login, make_org, make_user, org, shop, wh):
    order = allocated(shop, "iso-1", [("TEE", 1)], country="CH")
    outcome = picking.pack_and_ship(packed(order), None)
    db.session.commit()
    other = make_org("Autre")
    intruder = make_user(other)
    login(client, user=intruder)
    assert client.get(f"/apps/dhl/shipments/{outcome.shipment.id}/invoice.pdf").status_code == 404
    assert client.get("/apps/dhl/").status_code == 404  # DHL is not enabled in that organization
