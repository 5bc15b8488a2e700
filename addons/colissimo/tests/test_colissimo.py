"""Colissimo on its emulator: labels (home, pick-up point, international with CN23), the
multipart answer split on bytes, returns (CORE / CORI), pick-up points, tracking ten numbers a
call, outages, cancellation, settings and tenants; every exchange checked against the schemas."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from addons.colissimo import jobs, mapping, sandbox, tracking
from addons.colissimo.labels import row_of
from addons.colissimo.models import ColissimoParcel, ColissimoReturn
from addons.colissimo.tests.schemas import check_traffic, validate
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


def labels_sent(recorder):
    return [e for e in recorder.exchanges if e["path"].endswith("/generateLabel")]


# ----------------------------------------------------------------------------- the multipart answer
def test_the_multipart_answer_is_split_on_bytes():
    label = b"%PDF-1.4\n\xe2\xe3\xcf\xd3 binary \r\n--not-the-boundary\r\n\x00\xff%%EOF\n"
    body = (b"--b1\r\nContent-Type: application/json\r\nContent-ID: <jsonInfos>\r\n\r\n"
            b'{"messages":[{"id":"0","type":"SUCCESS","messageContent":"ok"}],'
            b'"labelV2Response":{"parcelNumber":"6A12345678901"}}\r\n'
            b"--b1\r\nContent-Type: application/octet-stream\r\nContent-ID: <label>\r\n\r\n" + label + b"\r\n--b1--\r\n")
    answer = mapping.label_answer('multipart/mixed; boundary="b1"; type="application/json"', body)
    assert answer.parcel_number == "6A12345678901" and answer.label == label  # byte for byte
    refused = b'{"messages":[{"id":"30220","type":"ERROR","messageContent":"Le code postal n\'est pas renseign\xc3\xa9"}]}'
    with pytest.raises(mapping.Refused, match="30220"):
        mapping.label_answer("application/json", refused)
    with pytest.raises(mapping.Refused, match="30000"):
        mapping.label_answer('multipart/mixed; boundary="b1"', body.replace(b'"id":"0"', b'"id":"30000"'))


def test_addresses_fit_colissimo_s_lines():
    long = {"name": "Anne-Sophie de la Tour", "line1": "128 boulevard du Général Leclerc prolongé", "postal_code":
            "92200", "city": "Neuilly-sur-Seine", "country": "FR", "phone": "06 12 34 56 78"}
    out = mapping.address(long, who="addressee")
    assert len(out["line2"]) <= 35 and out["line3"] == "prolongé" and out["firstName"] == "Anne-Sophie"
    assert out["mobileNumber"] == "0612345678"
    belgian = mapping.address({**long, "country": "BE", "line2": "Boîte 3"}, who="addressee")
    assert "line3" not in belgian and len(belgian["line2"]) <= 35
    with pytest.raises(mapping.MissingData, match="mobile"):
        mapping.address({**long, "phone": "01 40 00 00 00"}, who="addressee", relay=True)
    assert mapping.product_for("FR", "97200", signature=False, relay=False) == "COM"
    assert mapping.product_for("CH", "1200", signature=False, relay=False) == "COLI"
    assert mapping.needs_customs("FR", "FR", "97400") and not mapping.needs_customs("FR", "DE")


# ----------------------------------------------------------------------------- labels
def test_a_home_parcel_gets_its_label_and_leaves(app, org, shop, wh, recorder, emulator):
    order = allocated(shop, "c-1", [("TEE", 2)])
    outcome = picking.pack_and_ship(packed(order), None)
    db.session.commit()
    shipment = fresh(Shipment, outcome.shipment.id)
    assert outcome.state == "shipped" and shipment.carrier == "colissimo"
    assert shipment.service == "Colissimo Domicile sans signature" and shipment.tracking_number.startswith("6A")
    assert shipment.label.startswith(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3") and shipment.label.endswith(b"%%EOF\n")
    assert shipment.tracking_url == f"https://www.laposte.fr/outils/suivre-vos-envois?code={shipment.tracking_number}"
    [sent] = labels_sent(recorder)
    assert sent["headers"]["Apikey"] == sandbox.API_KEY and "password" not in sent["request"]
    letter = sent["request"]["letter"]
    assert letter["service"]["productCode"] == "DOM" and letter["parcel"]["weight"] == "0.36"
    assert letter["sender"]["senderParcelRef"] == f"oms-{shipment.id}"
    assert letter["addressee"]["address"]["zipCode"] == "75001" and "customsDeclarations" not in letter
    assert SHIPPED == [(shop.id, order.id, "colissimo", shipment.tracking_number, shipment.tracking_url)]
    check_traffic(recorder.exchanges)


def test_outside_the_eu_the_cn23_travels_with_the_label(app, client, login, org, shop, wh, recorder):
    order = allocated(shop, "ch-1", [("TEE", 1)], country="CH")
    outcome = picking.pack_and_ship(packed(order), None)
    db.session.commit()
    assert outcome.state == "shipped" and outcome.shipment.tracking_number.startswith("CJ")
    letter = labels_sent(recorder)[0]["request"]["letter"]
    [article] = letter["customsDeclarations"]["contents"]["article"]
    assert article == {"description": "TEE", "quantity": 1, "weight": 0.18, "value": 10.0, "hsCode": "6109100010",
                       "originCountry": "PT", "currency": "EUR", "artref": "TEE"}
    row = row_of(outcome.shipment)
    assert row.product_code == "COLI" and row.cn23.startswith(b"%PDF-")
    login(client)
    assert client.get(f"/apps/colissimo/shipments/{outcome.shipment.id}/cn23.pdf").data.startswith(b"%PDF-")
    other = allocated(shop, "gb-1", [("BARE", 1)], country="GB")
    before = len(recorder.exchanges)
    outcome = picking.pack_and_ship(packed(other), None)
    assert outcome.state == "waiting_carrier" and "BARE (code SH, pays d'origine)" in outcome.shipment.label_error
    assert len(recorder.exchanges) == before
    check_traffic(recorder.exchanges)


def test_a_pick_up_point_chosen_by_the_buyer_goes_on_the_label(app, org, shop, wh, recorder):
    order = allocated(shop, "hd-1", [("TEE", 1)])
    order.shipping_address = {**order.shipping_address, "phone": "+33612345678"}
    order.pickup_point = {"id": "986660", "network": "colissimo", "name": "TABAC DE LA MAIRIE"}
    [rates] = call(shop, "shipping_quote_rates", order=order, parcels=[{"weight_grams": 180}])
    assert {(r.method_id, r.price) for r in rates} == {("DOM", Decimal("4.99")), ("HD", Decimal("4.95"))}
    draft = shipping.create_shipment(order, [(order.lines[0], 1)], 180, carrier="colissimo")
    db.session.commit()
    assert shipping.fetch_label(draft.id).state == "label_ready"
    letter = labels_sent(recorder)[0]["request"]["letter"]
    assert letter["service"]["productCode"] == "HD" and letter["parcel"]["pickupLocationId"] == "986660"
    assert letter["addressee"]["address"]["mobileNumber"] == "+33612345678"
    assert fresh(Shipment, draft.id).tracking_number.startswith("6H")
    check_traffic(recorder.exchanges)


def test_refusals_say_colissimo_s_reason(app, org, shop, wh, base_url):
    result = services.test_connection(shop, "colissimo")
    assert result.ok and "étiquette d'essai acceptée" in result.message
    services.save_settings(shop, "colissimo", {"api_key": "wrong"}, {"api_key"})
    result = services.test_connection(shop, "colissimo")
    assert not result.ok and "30000" in result.message and "incorrect" in result.message
    # the older contract mode: contract number and password in the body, no key
    settings = {**sandbox.demo_settings(base_url), "api_key": "", "password": sandbox.PASSWORD}
    db.session.get(type(shop), shop.id).addon_row("colissimo").secrets = {}
    services.save_settings(shop, "colissimo", settings, {"password", "okapi_key"})
    db.session.commit()
    assert services.test_connection(shop, "colissimo").ok
    order = allocated(shop, "x-1", [("TEE", 1)])
    outcome = picking.pack_and_ship(packed(order), None)
    assert outcome.state == "shipped"


def test_colissimo_down_the_parcel_waits_and_a_job_retries(app, org, shop, wh, emulator):
    emulator.config["KIT"].fail_next(503, times=1, path="/sls-ws/SlsServiceWSRest/2.0/generateLabel")
    order = allocated(shop, "dn-1", [("TEE", 1)])
    outcome = picking.pack_and_ship(packed(order), None)
    db.session.commit()
    assert outcome.state == "waiting_carrier" and "indisponible (503)" in outcome.shipment.label_error
    jobs_queued = list(db.session.scalars(select(OutboxJob).where(OutboxJob.func.like("addons.colissimo.%"))))
    assert [j.job_id for j in jobs_queued] == [f"colissimo-create_label-{outcome.shipment.id}"]
    run_pending(now=utcnow() + timedelta(hours=1))
    shipment = fresh(Shipment, outcome.shipment.id)
    assert shipment.status == ShipmentStatus.LABEL_CREATED and len(emulator.config["PARCELS"]) == 1
    assert any("n'est pas facturée" in e.message for e in fresh(Order, order.id).events)


def test_cancel_tells_the_merchant_not_to_deposit_it(app, org, shop, wh, recorder):
    order = allocated(shop, "cx-1", [("TEE", 1)])
    outcome = picking.pack_and_ship(packed(order), None, auto_ship=False)
    db.session.commit()
    before = len(recorder.exchanges)
    order_flow.cancel(fresh(Order, order.id), reason="client")
    db.session.commit()
    assert fresh(Shipment, outcome.shipment.id).status == ShipmentStatus.CANCELLED
    assert row_of(outcome.shipment).state == "voided" and len(recorder.exchanges) == before
    assert any("ne déposez pas ce colis" in e.message for e in fresh(Order, order.id).events)


# ----------------------------------------------------------------------------- returns and points
def test_return_labels_core_in_france_cori_from_abroad(app, client, login, org, shop, wh, recorder):
    home = allocated(shop, "rt-1", [("TEE", 1)])
    picking.pack_and_ship(packed(home), None)
    abroad = allocated(shop, "rt-2", [("TEE", 1)], country="CH")
    picking.pack_and_ship(packed(abroad), None)
    db.session.commit()
    login(client)
    for number in ("rt-1", "#rt-2"):
        res = client.post("/apps/colissimo/returns", data={"order_number": number,
                                                            "csrf_token": csrf_token(client, "/apps/colissimo/")},
                          follow_redirects=True)
        assert "Étiquette retour" in res.get_data(as_text=True)
    made = db.session.scalars(select(ColissimoReturn).order_by(ColissimoReturn.id)).all()
    assert [m.product_code for m in made] == ["CORE", "CORI"] and made[0].parcel_number.startswith("8R")
    sent = labels_sent(recorder)[-2:]
    first = sent[0]["request"]["letter"]
    assert first["sender"]["address"]["city"] == "Paris" and first["addressee"]["address"]["zipCode"] == "75011"
    assert first["service"]["returnTypeChoice"] == 2
    assert sent[1]["request"]["letter"]["customsDeclarations"]["contents"]["article"]
    assert client.get(f"/apps/colissimo/returns/{made[0].id}/label.pdf").data.startswith(b"%PDF-")
    res = client.post("/apps/colissimo/returns", data={"order_number": "nope",
                                                        "csrf_token": csrf_token(client, "/apps/colissimo/")},
                      follow_redirects=True)
    assert "introuvable" in res.get_data(as_text=True)
    check_traffic(recorder.exchanges)


def test_pick_up_points_near_an_address_with_opening_hours(app, client, login, shop, recorder):
    login(client)
    page = client.get("/apps/colissimo/?postal_code=75001&city=Paris&line1=1+rue+de+Rivoli").get_data(as_text=True)
    assert 'data-point-id="986660"' in page and "TABAC DE LA MAIRIE" in page
    assert "09:00-12:30, 14:00-19:00" in page and "Dimanche : fermé" in page
    sent = [e for e in recorder.exchanges if "/pointretrait/" in e["path"]][0]["request"]
    assert sent["accountNumber"] == sandbox.CONTRACT and sent["zipCode"] == "75001" and "password" not in sent
    check_traffic(recorder.exchanges)


# ----------------------------------------------------------------------------- tracking
def test_tracking_ten_numbers_a_call_until_delivered(app, org, shop, wh, emulator, recorder):
    shipments = []
    for i in range(12):
        order = allocated(shop, f"tr-{i}", [("TEE", 1)])
        shipments.append(picking.pack_and_ship(packed(order), None).shipment.id)
        db.session.commit()
    post = emulator.test_client().post
    first = fresh(Shipment, shipments[0])
    post(f"/_emulator/parcels/{first.tracking_number}/events", json={"code": "PC1", "label": "Pris en charge"})
    last = fresh(Shipment, shipments[-1])
    post(f"/_emulator/parcels/{last.tracking_number}/events", json={"code": "DI1", "label": "Votre colis est livré"})
    later = utcnow() + timedelta(hours=3)
    assert tracking.due(later) and jobs.poll_statuses() == 0  # nothing due yet: shipped just now
    calls, changed = tracking.poll_shop(fresh(type(shop), shop.id), now=later)
    assert (calls, changed) == (2, 2)
    asked = [e["path"] for e in recorder.exchanges if "/idships/" in e["path"]]
    assert [p.count(",") + 1 for p in asked] == [10, 2]
    assert fresh(Shipment, shipments[0]).status == ShipmentStatus.IN_TRANSIT
    assert fresh(Shipment, shipments[-1]).status == ShipmentStatus.DELIVERED
    assert fresh(Order, last.order_id).status == OrderStatus.DELIVERED
    assert shipments[-1] not in {r.shipment_id for r in db.session.scalars(select(ColissimoParcel).where(
        ColissimoParcel.id.in_(tracking.due(later + timedelta(hours=3)).get(shop.id, []))))}
    check_traffic(recorder.exchanges)
    assert call(shop, "shipping_track", shipment=fresh(Shipment, shipments[1])) == "shipped"


# ----------------------------------------------------------------------------- settings and tenants
def test_settings_never_show_the_keys_and_the_contract_is_the_account(app, client, login, shop):
    login(client)
    page = client.get(f"/integrations/colissimo/shops/{shop.id}/configure").get_data(as_text=True)
    assert 'name="api_key"' in page and sandbox.API_KEY not in page and sandbox.OKAPI_KEY not in page
    from core.addons import registry

    assert registry().call_one("colissimo", "channel_account_key", shop=shop,
                               settings=shop.addon_settings("colissimo")) == f"colissimo:{sandbox.CONTRACT}"


def test_another_organization_sees_nothing(app, client, login, make_org, make_user, org, shop, wh):
    order = allocated(shop, "iso-1", [("TEE", 1)], country="CH")
    outcome = picking.pack_and_ship(packed(order), None)
    db.session.commit()
    intruder = make_user(make_org("Autre"))
    login(client, user=intruder)
    assert client.get(f"/apps/colissimo/shipments/{outcome.shipment.id}/cn23.pdf").status_code == 404
    assert client.get("/apps/colissimo/").status_code == 404


def test_emulator_answers_are_what_the_schemas_say(emulator):
    client = emulator.test_client()
    res = client.get("/suivi/v2/idships/6A00000000001", headers={"X-Okapi-Key": sandbox.OKAPI_KEY})
    assert res.status_code == 404
    validate("suiviResponse", res.get_json())
    assert client.get("/suivi/v2/idships/" + ",".join(["1"] * 11),
                      headers={"X-Okapi-Key": sandbox.OKAPI_KEY}).status_code == 400
    assert client.get("/suivi/v2/idships/1", headers={"X-Okapi-Key": "x"}).status_code == 401
