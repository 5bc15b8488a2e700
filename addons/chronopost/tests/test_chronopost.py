"""Chronopost on its emulator: connection, product rules, labels with customs, Chrono Relais,
cancellation on the tracking service, tracking, outages and a lost answer; every exchange
checked against the add-on's XSDs (specs/)."""
from __future__ import annotations

import base64
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from lxml import etree
from sqlalchemy import inspect

from addons.chronopost import sandbox
from addons.chronopost.labels import row_of
from addons.chronopost.tests.schemas import check_exchanges, soap_payload
from core import orders as order_flow
from core import picking, services, shipping
from core.addons import call
from core.connectors.emulator import kit_of
from core.extensions import db
from core.intake import ingest
from core.jobs import run_pending
from core.models import Order, OrderStatus, Shipment, ShipmentStatus, utcnow
from core.types import NormalizedAddress, NormalizedPickupPoint
from tests.fake_addons.shiplog.hooks import SHIPPED
from tests.fixtures import FAKE_ADDONS, csrf_token
from tests.picking_helpers import allocated, ean13, stocked
from tests.pipeline_helpers import norm, warehouse

SECRETS = {"password"}
TEE = ean13("376000000001")


@pytest.fixture
def addons():
    return ["alpha", "beta", "chronopost", "shiplog"]


@pytest.fixture
def app_config():
    return {"ADDON_MODULES": {**FAKE_ADDONS, "shiplog": "tests.fake_addons.shiplog.hooks"}}


@pytest.fixture
def emulator():
    return sandbox.make_app()


@pytest.fixture
def base_url(serve_wsgi, emulator):
    return serve_wsgi(emulator)


@pytest.fixture
def shop(shop_factory, base_url):
    shop = shop_factory("beta", "Boutique Beta")
    services.set_enabled(shop, "shiplog", True)
    services.set_enabled(shop, "chronopost", True)
    services.save_settings(shop, "chronopost", sandbox.demo_settings(base_url), SECRETS)
    db.session.commit()
    return shop


@pytest.fixture
def wh(org):
    wh = warehouse(org.id, "PAR", priority=1)
    stocked(org.id, wh, "TEE", 30, barcode=TEE, grams=180, bin_code="A-01-01")
    stocked(org.id, wh, "BARE", 30, grams=100, hs_code=None, origin=None)
    db.session.commit()
    return wh


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


def labels_sent(emulator) -> list[etree._Element]:
    return [soap_payload(req) for path, req, _a in emulator.config["STATE"]["exchanges"]
            if path == "/shipping-cxf/ShippingServiceWS"]


def test_connection_lists_the_accounts_products(app, shop, emulator):
    result = services.test_connection(shop, "chronopost")
    assert result.ok and "19869502" in result.message and "Chrono 13 (01)" in result.details
    services.save_settings(shop, "chronopost", {"password": "faux"}, SECRETS)
    result = services.test_connection(shop, "chronopost")
    assert not result.ok and "compte ou mot de passe invalide (erreur 2)" in result.message
    assert check_exchanges(emulator.config["STATE"]["exchanges"]) == 2


def test_label_from_pack_page_to_tracking_and_delivery(app, client, login, org, shop, wh, emulator):
    order = allocated(shop, "c-1", [("TEE", 2)], service_level="express")
    outcome = picking.pack_and_ship(packed(order), 360)
    db.session.commit()
    shipment = fresh(Shipment, outcome.shipment.id)
    assert outcome.state == "shipped", outcome.message
    assert shipment.carrier == "chronopost" and shipment.service == "Chrono 13"
    assert re.fullmatch(r"XW\d{9}FR", shipment.tracking_number) and shipment.label.startswith(b"%PDF")
    assert shipment.tracking_url.endswith(f"listeNumerosLT={shipment.tracking_number}")
    [sent] = labels_sent(emulator)
    assert sent.findtext("skybillValue/weight") == "0.360" and sent.findtext("skybillValue/weightUnit") == "KGM"
    assert sent.findtext("refValue/shipperRef") == f"OMS{shipment.id}" and sent.find("skybillValue/customsValue") is None
    assert SHIPPED == [(shop.id, order.id, "chronopost", shipment.tracking_number, shipment.tracking_url)]
    login(client)
    label = client.get(f"/preparation/shipments/{shipment.id}/label.pdf")
    assert label.status_code == 200 and label.data.startswith(b"%PDF")

    remote = emulator.config["STATE"]["skybills"][shipment.tracking_number]
    remote["events"] = [("DC", "Envoi en préparation"), ("PC", "Pris en charge")]
    assert shipping.track(fresh(Shipment, shipment.id)) is True
    db.session.commit()
    assert fresh(Shipment, shipment.id).status == ShipmentStatus.IN_TRANSIT
    remote["events"].append(("D", "Livraison effectuée"))
    shipment = fresh(Shipment, shipment.id)
    shipment.carrier_checked_at = utcnow() - timedelta(hours=7)
    db.session.commit()
    assert shipping.track_all() == 1
    assert fresh(Order, order.id).status == OrderStatus.DELIVERED
    assert row_of(shipment).event_code == "D"
    check_exchanges(emulator.config["STATE"]["exchanges"])


def test_product_rules_prime_and_standard(app, org, shop, wh, emulator):
    prime = allocated(shop, "c-2", [("TEE", 1)], service_level="prime")
    standard = allocated(shop, "c-3", [("TEE", 1)])
    services.save_settings(shop, "chronopost", {"default_product": "16"}, SECRETS)
    db.session.commit()
    picking.pack_and_ship(packed(prime), 200)
    picking.pack_and_ship(packed(standard), 200)
    assert [s.findtext("skybillValue/productCode") for s in labels_sent(emulator)] == ["02", "16"]


def test_outside_the_eu_the_customs_value_is_declared(app, org, shop, wh, emulator):
    order = allocated(shop, "c-ch", [("TEE", 3)], country="CH")
    outcome = picking.pack_and_ship(packed(order), 540)
    db.session.commit()
    assert outcome.state == "shipped", outcome.message
    [sent] = labels_sent(emulator)
    assert sent.findtext("skybillValue/productCode") == "17"
    assert (sent.findtext("skybillValue/customsValue"), sent.findtext("skybillValue/customsCurrency")) == ("30.00", "EUR")

    bare = allocated(shop, "c-gb", [("BARE", 1)], country="GB")
    outcome = picking.pack_and_ship(packed(bare), 100)
    assert outcome.state == "waiting_carrier"
    assert "BARE (code SH, pays d'origine)" in outcome.shipment.label_error
    assert len(labels_sent(emulator)) == 1
    check_exchanges(emulator.config["STATE"]["exchanges"])


def test_chrono_relais_goes_to_the_buyers_point(app, org, shop, wh, emulator):
    point = NormalizedPickupPoint(id="2712R", network="chronopost", name="RELAIS DU MARCHE",
                                  address=NormalizedAddress(line1="4 PLACE DU MARCHE", postal_code="75011",
                                                            city="PARIS", country="FR"))
    result = ingest(shop, norm("c-r", [("TEE", 1)], pickup_point=point))
    db.session.commit()
    outcome = picking.pack_and_ship(packed(db.session.get(Order, result.order_id)), 200)
    db.session.commit()
    assert outcome.state == "shipped" and fresh(Shipment, outcome.shipment.id).service == "Chrono Relais"
    [sent] = labels_sent(emulator)
    assert sent.findtext("skybillValue/productCode") == "86" and sent.findtext("refValue/recipientRef") == "2712R"
    assert sent.findtext("recipientValue/recipientAdress1") == "4 PLACE DU MARCHE"
    assert sent.findtext("recipientValue/recipientName2") == "Client"


def test_cancel_lives_on_the_tracking_service(app, org, shop, wh, emulator):
    order = allocated(shop, "c-x", [("TEE", 1)])
    outcome = picking.pack_and_ship(packed(order), 200, auto_ship=False)
    db.session.commit()
    number = outcome.shipment.tracking_number
    order_flow.cancel(fresh(Order, order.id), reason="client")
    db.session.commit()
    assert fresh(Shipment, outcome.shipment.id).status == ShipmentStatus.CANCELLED
    assert emulator.config["STATE"]["skybills"][number]["cancelled"] is True
    assert ("POST", "/tracking-cxf/TrackingServiceWS") in kit_of(emulator).calls
    assert row_of(outcome.shipment).state == "cancelled"

    # a parcel already scanned by Chronopost cannot be cancelled: the merchant is told
    other = allocated(shop, "c-y", [("TEE", 1)])
    outcome = picking.pack_and_ship(packed(other), 200, auto_ship=False)
    db.session.commit()
    emulator.config["STATE"]["skybills"][outcome.shipment.tracking_number]["events"] = [("DC", "x"), ("PC", "y")]
    assert shipping.cancel_shipment(fresh(Shipment, outcome.shipment.id)) is False
    assert "déjà pris en charge" in fresh(Shipment, outcome.shipment.id).label_error
    check_exchanges(emulator.config["STATE"]["exchanges"])


def test_outage_waits_then_the_job_gets_the_label(app, org, shop, wh, emulator):
    kit_of(emulator).fail_next(503, path="/shipping-cxf")
    order = allocated(shop, "c-o", [("TEE", 1)])
    outcome = picking.pack_and_ship(packed(order), 200)
    db.session.commit()
    assert outcome.state == "waiting_carrier" and "indisponible (503)" in outcome.shipment.label_error
    run_pending(now=utcnow() + timedelta(minutes=5))
    assert fresh(Shipment, outcome.shipment.id).status == ShipmentStatus.LABEL_CREATED
    assert len(emulator.config["STATE"]["skybills"]) == 1


def test_a_lost_answer_is_checked_never_bought_twice(app, client, login, org, shop, wh, emulator):
    emulator.config["STATE"]["drop_answers"] = 1
    order = allocated(shop, "c-l", [("TEE", 1)])
    outcome = picking.pack_and_ship(packed(order), 200)
    db.session.commit()
    assert outcome.state == "waiting_carrier" and "n'a pas répondu" in outcome.shipment.label_error
    shipping.fetch_label(outcome.shipment.id)
    run_pending(now=utcnow() + timedelta(hours=2))
    assert len(emulator.config["STATE"]["skybills"]) == 1 and len(labels_sent(emulator)) == 1
    login(client)
    number = next(iter(emulator.config["STATE"]["skybills"]))
    assert f"OMS{outcome.shipment.id}" in client.get("/apps/chronopost/").get_data(as_text=True)
    client.post(f"/apps/chronopost/shipments/{outcome.shipment.id}/confirm",
                data={"exists": "yes", "number": number, "csrf_token": csrf_token(client, "/apps/chronopost/")})
    shipment = fresh(Shipment, outcome.shipment.id)
    assert shipment.status == ShipmentStatus.SHIPPED and shipment.tracking_number == number


def test_rates_are_chronoposts_quickcost(app, shop, wh, emulator):
    order = allocated(shop, "c-q", [("TEE", 1)])
    [rates] = call(shop, "shipping_quote_rates", order=order, parcels=[{"weight_grams": 2500}])
    assert [(r.method_id, r.price, r.service) for r in rates] == [("01", Decimal("20.76"), "Chrono 13")]
    check_exchanges(emulator.config["STATE"]["exchanges"])


def test_429_storm_on_tracking_is_ridden_out(app, org, shop, wh, emulator):
    order = allocated(shop, "c-t", [("TEE", 1)])
    outcome = picking.pack_and_ship(packed(order), 200)
    db.session.commit()
    kit_of(emulator).fail_next(429, times=2, retry_after=0, path="/tracking-cxf")
    assert call(shop, "shipping_track", shipment=fresh(Shipment, outcome.shipment.id)) == "shipped"


def test_emulator_label_is_base64_pdf_and_faults_are_soap():
    app = sandbox.make_app()
    client = app.test_client()
    res = client.post("/shipping-cxf/ShippingServiceWS", data=b"<not-xml", content_type="text/xml")
    assert res.status_code == 500 and b"<faultstring>" in res.data
    pdf = sandbox.label_pdf(["Chronopost", "XW100000001FR"])
    assert base64.b64decode(base64.b64encode(pdf)).startswith(b"%PDF") and pdf.endswith(b"%%EOF\n")


def test_migration_branch_applies(app):
    from flask_migrate import upgrade

    db.drop_all()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    upgrade(revision="heads")
    assert inspect(db.engine).has_table("chronopost_skybill")


def test_relay_points_are_searched_chosen_and_labelled(app, org, shop, wh, emulator):
    from core import pickup

    order = db.session.get(Order, ingest(shop, norm("c-pts", [("TEE", 1)])).order_id)
    db.session.commit()
    points, problems = pickup.search(order, "75011", "Paris")
    assert not problems and len(points) == 5
    first = points[0]
    assert (first.network, first.id, first.name, first.address.postal_code) == ("chronopost", "7501R",
                                                                                 "RELAIS DU MARCHE", "75011")
    assert first.distance_m == 250 and first.opening_hours[0] == "lundi : 09:00-12:30 14:00-19:00"
    assert not any(h.startswith("dimanche") for h in first.opening_hours)  # closed that day
    assert [p.distance_m for p in points] == sorted(p.distance_m for p in points)
    exchanges = [e for e in emulator.config["STATE"]["exchanges"] if e[0].endswith("PointRelaisServiceWS")]
    assert check_exchanges(exchanges) == 1
    sent = soap_payload(exchanges[0][1])
    assert (sent.findtext("type"), sent.findtext("productCode"), sent.findtext("zipCode")) == ("P", "86", "75011")
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", sent.findtext("shippingDate"))

    pickup.choose(order, points[2])
    db.session.commit()
    outcome = picking.pack_and_ship(packed(fresh(Order, order.id)), 200)
    db.session.commit()
    assert outcome.state == "shipped"
    [label] = labels_sent(emulator)
    assert label.findtext("skybillValue/productCode") == "86" and label.findtext("refValue/recipientRef") == "7503R"


def test_a_refused_relay_search_is_a_sentence(app, org, shop, wh, emulator):
    from core import pickup

    emulator.config["STATE"]["accounts"].clear()
    order = db.session.get(Order, ingest(shop, norm("c-pts2", [("TEE", 1)])).order_id)
    db.session.commit()
    points, problems = pickup.search(order, "75011")
    assert points == [] and len(problems) == 1
    assert "points relais" in problems[0] and "Error" not in problems[0]
