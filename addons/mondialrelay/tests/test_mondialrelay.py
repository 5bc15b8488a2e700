"""Mondial Relay on its emulator: both credential sets, relay points from the channel to the
label, the merchant's change of point, outages, a lost answer, tracking; every exchange
checked against the add-on's XSDs (specs/)."""
from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import inspect, select

from addons.mondialrelay import sandbox
from addons.mondialrelay.client import MondialRelayClient, security
from addons.mondialrelay.labels import row_of
from addons.mondialrelay.models import MondialRelayShipment
from addons.mondialrelay.tests.schemas import check_exchanges
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

SECRETS = {"private_key", "api2_password"}
TEE = ean13("376000000001")


@pytest.fixture
def addons():
    return ["alpha", "beta", "mondialrelay", "shiplog"]


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
    services.set_enabled(shop, "mondialrelay", True)
    services.save_settings(shop, "mondialrelay", sandbox.demo_settings(base_url), SECRETS)
    db.session.commit()
    return shop


@pytest.fixture
def wh(org):
    wh = warehouse(org.id, "PAR", priority=1)
    stocked(org.id, wh, "TEE", 30, barcode=TEE, grams=180, bin_code="A-01-01")
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


def relay_order(shop, ext, point_id="075003", network="mondialrelay", **kw) -> Order:
    point = NormalizedPickupPoint(id=point_id, network=network, name="FLEURS & CO",
                                  address=NormalizedAddress(line1="9 RUE DU COMMERCE", postal_code="75003",
                                                            city="PARIS", country="FR"))
    result = ingest(shop, norm(ext, [("TEE", 1)], pickup_point=point, **kw))
    db.session.commit()
    return db.session.get(Order, result.order_id)


def creations(emulator) -> list[bytes]:
    return [body for kind, body in emulator.config["STATE"]["bodies"] if kind == "api2" and b"<Shipment>" in body]


# ----------------------------------------------------------------------------- credentials
def test_signature_is_the_md5_of_the_parameters_in_wsdl_order_then_the_key():
    values = ["BDTEST13", "FR", "", "", "75001", "", "", "", "1000", "24R", "", "20", "", "", "10"]
    expected = hashlib.md5(b"BDTEST13FR75001100024R2010PrivateK").hexdigest().upper()
    assert security(values, "PrivateK") == expected and expected.isupper() and len(expected) == 32
    body = MondialRelayClient(enseigne="bdtest13", private_key="PrivateK").soap_body(
        "WSI4_PointRelais_Recherche", ("Enseigne", "Pays", "CP"), {"Enseigne": "BDTEST13", "Pays": "FR", "CP": "75001"})
    assert hashlib.md5(b"BDTEST13FR75001PrivateK").hexdigest().upper().encode() in body


def test_connection_checks_both_credential_sets(app, shop, emulator):
    result = services.test_connection(shop, "mondialrelay")
    assert result.ok, result.message
    assert "BDTEST13 (API 1)" in result.message and "BDTEST (API 2)" in result.message
    assert len(result.details) == 3 and "93200" in result.details[0]

    services.save_settings(shop, "mondialrelay", {"private_key": "wrong-key"}, SECRETS)
    result = services.test_connection(shop, "mondialrelay")
    assert not result.ok and "clé de sécurité invalide" in result.message and "STAT 97" in result.message

    services.save_settings(shop, "mondialrelay", {"private_key": sandbox.DEMO_PRIVATE_KEY,
                                                  "api2_login": sandbox.DEMO_ENSEIGNE}, SECRETS)
    result = services.test_connection(shop, "mondialrelay")
    assert not result.ok and "API 1 acceptée" in result.message and "10001" in result.message
    assert "ce ne sont pas le code enseigne" in result.message
    assert creations(emulator) == []  # the checks created no shipment
    assert check_exchanges(emulator.config["STATE"]["exchanges"]) == 5


def test_settings_page_explains_the_two_credential_sets(app, client, login, shop):
    login(client)
    page = client.get(f"/integrations/shops/{shop.id}/addons/mondialrelay/configure")
    if page.status_code == 404:
        page = client.get(f"/integrations/mondialrelay/shops/{shop.id}/configure")
    text = page.get_data(as_text=True)
    assert page.status_code == 200, text[:300]
    assert "API 1 : code enseigne" in text and "API 2 (Connect) : identifiant" in text
    assert "Ce n&#39;est pas le code enseigne" in text or "Ce n'est pas le code enseigne" in text
    assert sandbox.DEMO_PRIVATE_KEY not in text and sandbox.DEMO_PASSWORD not in text  # secrets never echoed


# ----------------------------------------------------------------------------- relay point: channel → label
def test_the_buyers_relay_point_goes_from_the_channel_to_the_label(app, client, login, org, shop, wh, emulator):
    order = relay_order(shop, "mr-1")
    assert order.pickup_point["id"] == "075003" and order.pickup_point["chosen_by"] == "channel"
    login(client)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'data-pickup-point="075003"' in page and "FLEURS &amp; CO" in page and "Mondial Relay" in page

    member = packed(order)
    db.session.commit()
    pack_page = client.get(f"/preparation/pack/{member.id}").get_data(as_text=True)
    assert 'data-pickup-point="075003"' in pack_page

    outcome = picking.pack_and_ship(member, 420)
    db.session.commit()
    shipment = fresh(Shipment, outcome.shipment.id)
    assert outcome.state == "shipped", outcome.message
    assert shipment.carrier == "mondial_relay" and shipment.service == "Point Relais (24R)"
    assert re.fullmatch(r"\d{8}", shipment.tracking_number) and shipment.label.startswith(b"%PDF")
    assert "ens=BDTEST13" in shipment.tracking_url and shipment.tracking_number in shipment.tracking_url
    remote = emulator.config["STATE"]["shipments"][shipment.tracking_number]
    assert (remote["mode"], remote["relay"], remote["grams"]) == ("24R", "FR-075003", 420)
    [body] = creations(emulator)
    assert b'<DeliveryMode Mode="24R" Location="FR-075003"' in body and b'<Weight Value="420" Unit="gr"' in body
    assert SHIPPED == [(shop.id, order.id, "mondial_relay", shipment.tracking_number, shipment.tracking_url)]
    assert row_of(shipment).state == "created" and row_of(shipment).relay_id == "FR-075003"
    label = client.get(f"/preparation/shipments/{shipment.id}/label.pdf")
    assert label.status_code == 200 and label.data.startswith(b"%PDF")
    check_exchanges(emulator.config["STATE"]["exchanges"])


def test_unknown_relay_point_is_refused_with_mondial_relays_words(app, org, shop, wh, emulator):
    order = relay_order(shop, "mr-bad", point_id="FR-075009")
    outcome = picking.pack_and_ship(packed(order), 300)
    db.session.commit()
    shipment = fresh(Shipment, outcome.shipment.id)
    assert outcome.state == "waiting_carrier" and shipment.status == ShipmentStatus.DRAFT
    assert "Le plan de tri est introuvable. (10055)" in shipment.label_error
    assert row_of(shipment).state == "failed"
    check_exchanges(emulator.config["STATE"]["exchanges"])


def test_home_delivery_and_countries_mondial_relay_does_not_serve(app, org, shop, wh, emulator):
    order = allocated(shop, "home-1", [("TEE", 2)])
    outcome = picking.pack_and_ship(packed(order), 360)
    db.session.commit()
    assert outcome.state == "shipped"
    assert b'<DeliveryMode Mode="HOM" Location=""' in creations(emulator)[0]

    swiss = allocated(shop, "ch-1", [("TEE", 1)], country="CH")
    calls = len(creations(emulator))
    outcome = picking.pack_and_ship(packed(swiss), 200)
    db.session.commit()
    assert outcome.state == "waiting_carrier" and "ne livre pas ce pays (CH)" in outcome.shipment.label_error
    assert len(creations(emulator)) == calls

    services.save_settings(shop, "mondialrelay", {"home_mode": ""}, SECRETS)
    db.session.commit()
    other = allocated(shop, "home-2", [("TEE", 1)])
    outcome = picking.pack_and_ship(packed(other), 200)
    assert "choisissez-en un sur la page de la commande" in outcome.shipment.label_error


# ----------------------------------------------------------------------------- the merchant changes the point
def test_merchant_searches_and_changes_the_relay_point(app, client, login, org, shop, wh, emulator):
    order = relay_order(shop, "mr-2")
    login(client)
    page = client.get(f"/orders/{order.id}?pickup_postal_code=69002&pickup_city=Lyon").get_data(as_text=True)
    assert page.count("data-pickup-result=") == 5
    assert 'data-pickup-result="FR-069001"' in page and "lundi : 09:00–12:30, 14:00–19:00" in page
    assert "dimanche : fermé" in page and "TABAC PRESSE DU CENTRE" in page
    payload = re.search(r'name="point" value="([^"]+)"', page).group(1).replace("&#34;", '"').replace("&quot;", '"')
    res = client.post(f"/orders/{order.id}/pickup-point", data={"point": payload,
                                                                "csrf_token": csrf_token(client, f"/orders/{order.id}")})
    assert res.status_code == 302
    order = fresh(Order, order.id)
    assert order.pickup_point["id"] == "FR-069001" and order.pickup_point["chosen_by"] == "merchant"
    assert order.pickup_point["opening_hours"][0] == "lundi : 09:00–12:30, 14:00–19:00"
    assert any("point de retrait changé" in e.message for e in order.events)

    # a later update from the channel keeps the merchant's choice
    ingest(shop, norm("mr-2", [("TEE", 1)], updated=5, pickup_point=NormalizedPickupPoint(id="075003",
                                                                                       network="mondialrelay")))
    db.session.commit()
    assert fresh(Order, order.id).pickup_point["id"] == "FR-069001"

    outcome = picking.pack_and_ship(packed(fresh(Order, order.id)), 250)
    db.session.commit()
    assert outcome.state == "shipped"
    assert b'Location="FR-069001"' in creations(emulator)[-1]
    check_exchanges(emulator.config["STATE"]["exchanges"])

    # a forged point is refused; a shipped order's point no longer changes
    res = client.post(f"/orders/{order.id}/pickup-point", data={"point": "{not json",
                                                                "csrf_token": csrf_token(client, f"/orders/{order.id}")},
                      follow_redirects=True)
    assert "Choisissez un point de retrait dans la liste" in res.get_data(as_text=True)


def test_another_organization_cannot_change_the_point(app, client, login, make_org, make_user, shop, wh):
    order = relay_order(shop, "mr-3")
    other = make_org("Autre")
    login(client, user=make_user(other, "owner", password="correct horse battery"))
    assert client.get(f"/orders/{order.id}?pickup_postal_code=75001").status_code == 404
    assert client.get("/apps/mondialrelay/").status_code == 404
    assert fresh(Order, order.id).pickup_point["id"] == "075003"


def test_search_rides_out_a_429_storm(app, shop, wh, emulator):
    order = relay_order(shop, "mr-4")
    kit_of(emulator).fail_next(429, times=2, retry_after=0)
    [points] = call(shop, "shipping_search_pickup_points", order=order,
                    query={"postal_code": "13001", "city": "", "country": "FR", "network": ""})
    assert [p.id for p in points][:2] == ["FR-013001", "FR-013002"] and points[0].distance_m == 350
    assert len([c for c in kit_of(emulator).calls if c[1] == "/Web_Services.asmx"]) == 3


# ----------------------------------------------------------------------------- outages, lost answers
def test_outage_the_parcel_waits_and_the_label_job_retries(app, org, shop, wh, emulator):
    kit_of(emulator).fail_next(503, path="/api/shipment")
    order = relay_order(shop, "mr-5")
    outcome = picking.pack_and_ship(packed(order), 300)
    db.session.commit()
    assert outcome.state == "waiting_carrier" and "indisponible (503)" in outcome.shipment.label_error
    assert "rien n'est perdu" in outcome.shipment.label_error
    run_pending(now=utcnow() + timedelta(minutes=5))
    shipment = fresh(Shipment, outcome.shipment.id)
    assert shipment.status == ShipmentStatus.LABEL_CREATED and shipment.label.startswith(b"%PDF")
    assert len(emulator.config["STATE"]["shipments"]) == 1


def test_a_lost_answer_never_buys_a_second_label(app, client, login, org, shop, wh, emulator):
    emulator.config["STATE"]["drop_answers"] = 1
    order = relay_order(shop, "mr-6")
    outcome = picking.pack_and_ship(packed(order), 300)
    db.session.commit()
    shipment = fresh(Shipment, outcome.shipment.id)
    assert outcome.state == "waiting_carrier" and "vérifiez dans votre espace Connect" in shipment.label_error
    assert len(emulator.config["STATE"]["shipments"]) == 1 and row_of(shipment).state == "lost"
    # retried by hand and by the job: nothing is sent again
    assert shipping.fetch_label(shipment.id).state == "waiting_carrier"
    run_pending(now=utcnow() + timedelta(hours=2))
    assert len(creations(emulator)) == 1

    login(client)
    page = client.get("/apps/mondialrelay/").get_data(as_text=True)
    assert f"OMS{shipment.id}" in page
    number = next(iter(emulator.config["STATE"]["shipments"]))
    res = client.post(f"/apps/mondialrelay/shipments/{shipment.id}/confirm",
                      data={"exists": "yes", "number": number, "csrf_token": csrf_token(client, "/apps/mondialrelay/")})
    assert res.status_code == 302
    shipment = fresh(Shipment, shipment.id)
    assert shipment.status == ShipmentStatus.SHIPPED and shipment.tracking_number == number
    assert len(creations(emulator)) == 1 and SHIPPED[-1][3] == number


def test_lost_answer_confirmed_missing_asks_again_once(app, client, login, org, shop, wh, emulator):
    kit_of(emulator).fail_next("timeout", path="/api/shipment", hang=0.1)
    order = relay_order(shop, "mr-7")
    outcome = picking.pack_and_ship(packed(order), 300)
    db.session.commit()
    assert row_of(fresh(Shipment, outcome.shipment.id)).state == "lost"
    login(client)
    client.post(f"/apps/mondialrelay/shipments/{outcome.shipment.id}/confirm",
                data={"exists": "no", "csrf_token": csrf_token(client, "/apps/mondialrelay/")})
    shipment = fresh(Shipment, outcome.shipment.id)
    assert shipment.status == ShipmentStatus.LABEL_CREATED and shipment.label.startswith(b"%PDF")
    assert len(emulator.config["STATE"]["shipments"]) == 1


# ----------------------------------------------------------------------------- tracking, cancel, rates
def test_tracking_is_polled_to_delivered(app, org, shop, wh, emulator):
    order = relay_order(shop, "mr-8")
    outcome = picking.pack_and_ship(packed(order), 300)
    db.session.commit()
    number = outcome.shipment.tracking_number
    shipment = fresh(Shipment, outcome.shipment.id)
    assert call(shop, "shipping_track", shipment=shipment) == "shipped"
    emulator.config["STATE"]["shipments"][number]["stat"] = "81"
    assert shipping.track(fresh(Shipment, shipment.id)) is True
    db.session.commit()
    assert fresh(Shipment, shipment.id).status == ShipmentStatus.IN_TRANSIT
    emulator.config["STATE"]["shipments"][number]["stat"] = "82"
    shipment = fresh(Shipment, shipment.id)
    shipment.carrier_checked_at = utcnow() - timedelta(hours=7)
    db.session.commit()
    assert shipping.track_all() == 1
    assert fresh(Shipment, shipment.id).status == ShipmentStatus.DELIVERED
    assert fresh(Order, order.id).status == OrderStatus.DELIVERED
    assert fresh(MondialRelayShipment, row_of(shipment).id).stat == "82"
    check_exchanges(emulator.config["STATE"]["exchanges"])


def test_cancelled_order_cancels_the_unused_label(app, org, shop, wh, emulator):
    order = relay_order(shop, "mr-9")
    outcome = picking.pack_and_ship(packed(order), 300, auto_ship=False)
    db.session.commit()
    assert outcome.state == "label_ready"
    order_flow.cancel(fresh(Order, order.id), reason="client")
    db.session.commit()
    assert fresh(Shipment, outcome.shipment.id).status == ShipmentStatus.CANCELLED
    assert row_of(outcome.shipment).state == "cancelled"


def test_rates_from_the_contract_prices(app, shop, wh):
    relay = relay_order(shop, "mr-10")
    [rates] = call(shop, "shipping_quote_rates", order=relay, parcels=[{"weight_grams": 500}])
    assert [(r.method_id, r.price) for r in rates] == [("24R", Decimal("4.50"))]
    home = allocated(shop, "mr-11", [("TEE", 1)])
    [rates] = call(shop, "shipping_quote_rates", order=home, parcels=[{"weight_grams": 500}, {"weight_grams": 900}])
    assert [(r.method_id, r.price) for r in rates] == [("24R", Decimal("9.00")), ("HOM", Decimal("15.80"))]
    assert call(shop, "shipping_quote_rates", order=home, parcels=[{"weight_grams": 31000}]) == [[]]


def test_other_carriers_shipments_are_left_alone(app, shop, wh):
    order = allocated(shop, "x-1", [("TEE", 1)])
    draft = Shipment(order_id=order.id, carrier="shiplog")
    db.session.add(draft)
    db.session.flush()
    assert call(shop, "shipping_create_label", order=order, shipment=draft) is None
    assert call(shop, "shipping_track", shipment=draft) is None


def test_migration_branch_applies(app):
    from flask_migrate import upgrade

    db.drop_all()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    upgrade(revision="heads")
    assert inspect(db.engine).has_table("mondialrelay_shipment")
    assert "pickup_point" in {c["name"] for c in inspect(db.engine).get_columns("order")}
    assert db.session.scalar(select(MondialRelayShipment.id)) is None
