"""Preparation: barcodes, bins, waves, the walk, scans, packing and shipping.

The end-to-end test goes from allocated orders of a channel (the ``beta`` test channel,
with ``shiplog`` recording what channels hear when a parcel leaves) to a tracking number:
wave → pick scans → sort into slots → pack scans → label on the Sendcloud emulator → shipped
→ ``shipping_shipment_shipped`` fired with the tracking.
"""
from __future__ import annotations

import io
import itertools
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from addons.sendcloud import sandbox
from addons.sendcloud.tests.openapi import Recorder, check_traffic
from core import orders as order_flow
from core import picking, services, shipping
from core.extensions import db
from core.jobs import run_pending
from core.models import (
    BinLocation,
    Order,
    OrderEvent,
    OrderStatus,
    PickWave,
    PickWaveOrder,
    PickWaveStatus,
    Shipment,
    ShipmentStatus,
    StockLevel,
    utcnow,
)
from tests.fake_addons.shiplog.hooks import SHIPPED
from tests.fixtures import FAKE_ADDONS, csrf_token
from tests.picking_helpers import allocated, connect_sendcloud, ean13, stocked
from tests.pipeline_helpers import warehouse

MUG = ean13("301234567890")
TEE = ean13("376000000001")
CAP = "036000291452"  # UPC-A


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
def shop(shop_factory):
    """A shop of the beta channel; shiplog, enabled on it, hears what the channel would push."""
    shop = shop_factory("beta", "Boutique Beta")
    services.set_enabled(shop, "shiplog", True)
    db.session.commit()
    return shop


@pytest.fixture
def wh(org):
    wh = warehouse(org.id, "PAR", priority=1)
    db.session.commit()
    return wh


@pytest.fixture
def catalog(org, wh):
    items = {
        "MUG": stocked(org.id, wh, "MUG", 20, barcode=MUG, grams=300, bin_code="A-02-05"),
        "TEE": stocked(org.id, wh, "TEE", 20, barcode=TEE, grams=180, bin_code="A-01-03"),
        "CAP": stocked(org.id, wh, "CAP", 20, barcode=CAP, grams=120, bin_code="A-01-09"),
    }
    for location in db.session.scalars(select(BinLocation).where(BinLocation.warehouse_id == wh.id)):
        location.sort_key = picking.serpentine_sort_key(location.code)
    db.session.commit()
    return items


@pytest.fixture(autouse=True)
def _clear_log():
    SHIPPED.clear()
    yield
    SHIPPED.clear()


def scan(client, url: str, page: str, **body):
    """POST one scan as the page's script does (JSON, CSRF header; the session's token is read once)."""
    token = getattr(client, "csrf", None) or csrf_token(client, page)
    client.csrf = token
    res = client.post(url, json=body, headers={"X-CSRFToken": token})
    assert res.status_code == 200, res.get_data(as_text=True)[:300]
    return res.get_json()


def fresh(model, ident):
    db.session.expire_all()
    return db.session.get(model, ident)


# ----------------------------------------------------------------------------- barcodes (no database)
@pytest.mark.parametrize("code,valid", [
    ("4006381333931", True),  # EAN-13
    ("4006381333932", False),
    ("036000291452", True),  # UPC-A
    ("036000291453", False),
    ("96385074", True),  # EAN-8
    ("96385075", False),
    ("10036000291459", True),  # GTIN-14
])
def test_gtin_check_digits(code, valid):
    assert picking.is_valid_gtin(code) is valid
    assert picking.read_code(code).valid is valid


def test_scanner_input_is_cleaned_and_upc_a_equals_its_ean_13():
    assert picking.clean_scan("]E04006381333931\r\n") == "4006381333931"
    assert picking.read_code("]C1MUG-BLEU").symbology == "Code 128"
    assert picking.read_code("MUG-BLEU").valid
    assert picking.gtin_key("036000291452") == picking.gtin_key("0036000291452") == "00036000291452"
    assert picking.gtin_check_digit("400638133393") == 1


def test_serpentine_walk_goes_up_one_aisle_and_down_the_next():
    codes = ["A-02-01", "A-01-10", "A-02-10", "A-01-02", "B-01-01", "A-01-2-3", "ZONE-X"]
    ordered = sorted(codes, key=picking.serpentine_sort_key)
    assert ordered == ["A-01-02", "A-01-2-3", "A-01-10", "A-02-10", "A-02-01", "B-01-01", "ZONE-X"]
    assert picking.natural_key("A-2") < picking.natural_key("A-10")


# ----------------------------------------------------------------------------- end to end
def test_wave_scan_pack_label_shipped_tracking_reaches_the_channel(
        app, client, login, org, shop, wh, catalog, base_url, recorder):
    connect_sendcloud(shop, sandbox.demo_settings(base_url))
    first = allocated(shop, "e2e-1", [("MUG", 1), ("TEE", 2)])
    second = allocated(shop, "e2e-2", [("CAP", 1)])
    assert first.status == second.status == OrderStatus.ALLOCATED
    login(client, "picker")

    # a wave: the single-item order first, both orders en préparation
    page = client.get("/preparation/waves")
    assert page.status_code == 200 and "2 commandes allouées prêtes" in page.get_data(as_text=True)
    res = client.post("/preparation/waves", data={"warehouse_id": wh.id, "max_orders": 10, "single_item_first": "y",
                                                  "csrf_token": csrf_token(client, "/preparation/waves")})
    assert res.status_code == 302
    wave = db.session.scalars(select(PickWave)).one()
    assert [(m.slot, m.order_id) for m in wave.orders] == [(1, second.id), (2, first.id)]
    assert fresh(Order, first.id).status == OrderStatus.PICKING

    # the walk follows the bins: A-01-03, A-01-09 (aisle 1 up), then A-02-05
    stops = picking.route(wave)
    assert [s.bin_code for s in stops] == ["A-01-03", "A-01-09", "A-02-05"]
    pick_page = f"/preparation/waves/{wave.id}/pick"
    html = client.get(pick_page).get_data(as_text=True)
    assert html.index("A-01-03") < html.index("A-01-09") < html.index("A-02-05")
    url = f"/preparation/waves/{wave.id}/scan/pick"
    wrong = scan(client, url, pick_page, code="4006381333931")
    assert not wrong["ok"] and wrong["status"] == "unknown"
    bad_digit = scan(client, url, pick_page, code=TEE[:-1] + str((int(TEE[-1]) + 1) % 10))
    assert not bad_digit["ok"] and bad_digit["status"] == "check_digit" and "chiffre de contrôle" in bad_digit["message"]
    for code in (TEE, TEE, "]E0" + CAP, MUG):
        assert scan(client, url, pick_page, code=code)["ok"]
    extra = scan(client, url, pick_page, code=MUG)
    assert not extra["ok"] and extra["status"] == "complete_already"
    assert fresh(PickWave, wave.id).status == PickWaveStatus.SORTING
    assert fresh(Order, first.id).picking_started_at is not None

    # the sort: each unit goes to its order's slot
    sort_page = f"/preparation/waves/{wave.id}/sort"
    slots = [scan(client, f"/preparation/waves/{wave.id}/scan/slot", sort_page, code=c)["slot"]
             for c in (CAP, TEE, MUG, TEE)]
    assert slots == [1, 2, 2, 2]
    assert fresh(PickWave, wave.id).status == PickWaveStatus.PACKING

    # packing: scan the tote label, check every unit, weigh, label on Sendcloud, shipped
    member = db.session.scalars(select(PickWaveOrder).where(PickWaveOrder.order_id == first.id)).one()
    res = client.post("/preparation/pack", data={"code": picking.tote_code(member),
                                                 "csrf_token": csrf_token(client, "/preparation/pack")})
    assert res.status_code == 302 and res.headers["Location"].endswith(f"/preparation/pack/{member.id}")
    pack_page = f"/preparation/pack/{member.id}"
    refused = scan(client, f"{pack_page}/scan", pack_page, code=CAP)
    assert not refused["ok"] and refused["status"] == "wrong_item" and "CAP" in refused["message"]
    results = [scan(client, f"{pack_page}/scan", pack_page, code=c) for c in (MUG, TEE, TEE)]
    assert all(r["ok"] for r in results) and results[-1]["complete"] and results[-1]["order_status"] == "packed"
    res = client.post(f"{pack_page}/ship", data={"weight_grams": 760, "carrier": "sendcloud",
                                                  "csrf_token": csrf_token(client, pack_page)})
    assert res.status_code == 302, res.get_data(as_text=True)[:300]
    shipment = db.session.scalars(select(Shipment).where(Shipment.order_id == first.id)).one()
    assert res.headers["Location"].endswith(f"/preparation/shipments/{shipment.id}?print=1")
    assert shipment.status == ShipmentStatus.SHIPPED
    assert (shipment.carrier, shipment.service) == ("colissimo", "Colissimo Home")
    assert re.fullmatch(r"CO\d{11}FR", shipment.tracking_number)
    assert shipment.tracking_url.startswith("https://tracking.") and shipment.weight_grams == 760
    assert shipment.label.startswith(b"%PDF-")
    label = client.get(f"/preparation/shipments/{shipment.id}/label.pdf")
    assert label.status_code == 200 and label.mimetype == "application/pdf" and label.data == shipment.label

    order = fresh(Order, first.id)
    assert order.status == OrderStatus.SHIPPED and order.shipped_at is not None
    assert picking.preparation_seconds(order) >= 0
    assert SHIPPED == [(shop.id, first.id, "colissimo", shipment.tracking_number, shipment.tracking_url)]
    assert sorted((sl.order_line.sku, sl.quantity) for sl in shipment.lines) == [("MUG", 1), ("TEE", 2)]
    levels = {lv.variant.sku: (lv.on_hand, lv.reserved) for lv in db.session.scalars(select(StockLevel))}
    assert levels["MUG"] == (19, 0) and levels["TEE"] == (18, 0) and levels["CAP"] == (20, 1)
    shipment_page = client.get(f"/preparation/shipments/{shipment.id}?print=1").get_data(as_text=True)
    assert shipment.tracking_number in shipment_page and "expédiée" in shipment_page

    # a manager sees the order « expédiée » with its tracking
    manager = app.test_client()
    login(manager, "owner")
    order_page = manager.get(f"/orders/{first.id}").get_data(as_text=True)
    assert "expédiée" in order_page and shipment.tracking_number in order_page
    for url in ("/preparation/waves", f"/preparation/waves/{wave.id}", f"/preparation/waves/{wave.id}/pick",
                f"/preparation/waves/{wave.id}/sort", "/preparation/pack", f"/preparation/pack/{member.id}",
                f"/preparation/shipments/{shipment.id}", "/preparation/locations", "/apps/sendcloud/rules",
                "/apps/sendcloud/rules/new"):
        for who in (client, manager):
            res = who.get(url)
            assert res.status_code == (403 if who is client and "/apps/" in url else 200), url
    assert "Vague" in client.get(f"/preparation/waves/{wave.id}").get_data(as_text=True)
    assert "Emballer les commandes" in client.get(f"/preparation/waves/{wave.id}/sort").get_data(as_text=True)
    # what the client sent and what the emulator answered follow Sendcloud's OpenAPI v3
    assert check_traffic(recorder.exchanges) >= 3
    assert ("POST", "/v3/shipments/announce") in {(e["method"], e["path"]) for e in recorder.exchanges}


def test_manual_carrier_waits_for_the_typed_tracking(app, client, login, org, shop, wh, catalog):
    order = allocated(shop, "man-1", [("CAP", 1)])
    login(client, "picker")
    res = client.post("/preparation/pack", data={"code": order.number, "csrf_token": csrf_token(client, "/preparation/pack")})
    member = db.session.scalars(select(PickWaveOrder).where(PickWaveOrder.order_id == order.id)).one()
    assert res.headers["Location"].endswith(f"/preparation/pack/{member.id}")
    page = f"/preparation/pack/{member.id}"
    assert 'value="manual"' in client.get(page).get_data(as_text=True)
    assert scan(client, f"{page}/scan", page, code=CAP)["complete"]
    client.post(f"{page}/ship", data={"carrier": "manual", "csrf_token": csrf_token(client, page)})
    shipment = db.session.scalars(select(Shipment).where(Shipment.order_id == order.id)).one()
    assert shipment.status == ShipmentStatus.DRAFT and shipment.carrier == "manual" and shipment.weight_grams == 120
    assert fresh(Order, order.id).status == OrderStatus.PACKED and SHIPPED == []

    shipment_page = f"/preparation/shipments/{shipment.id}"
    assert "Numéro de suivi" in client.get(shipment_page).get_data(as_text=True)
    client.post(f"{shipment_page}/tracking", data={"tracking_number": "6A00112233445", "carrier_name": "Colissimo",
                                                    "csrf_token": csrf_token(client, shipment_page)})
    shipment = fresh(Shipment, shipment.id)
    assert shipment.status == ShipmentStatus.SHIPPED and shipment.tracking_number == "6A00112233445"
    assert fresh(Order, order.id).status == OrderStatus.SHIPPED
    assert SHIPPED == [(shop.id, order.id, "manual", "6A00112233445", None)]


def test_override_needs_a_reason_kept_in_the_history(app, client, login, org, shop, wh, catalog):
    order = allocated(shop, "ovr-1", [("MUG", 2)])
    login(client, "picker")
    member = picking.wave_for_order(order)
    db.session.commit()
    page = f"/preparation/pack/{member.id}"
    line = member.lines[0]
    refused = scan(client, f"{page}/scan", page, override=True, key=f"line-{line.id}", reason=" ")
    assert not refused["ok"] and "raison" in refused["message"]
    assert fresh(type(line), line.id).packed == 0
    counted = scan(client, f"{page}/scan", page, override=True, key=f"line-{line.id}", reason="étiquette déchirée")
    assert counted["ok"] and counted["status"] == "override" and counted["counts"][f"line-{line.id}"] == [1, 2]
    events = db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id,
                                                         OrderEvent.kind == "override")).all()
    assert len(events) == 1 and "étiquette déchirée" in events[0].message and events[0].user_id is not None


def test_wave_filters_and_single_item_orders_first(app, org, shop, shop_factory, wh, catalog):
    other = shop_factory("beta", "Autre boutique")
    services.set_enabled(other, "shiplog", True)
    big = allocated(shop, "f-1", [("MUG", 1), ("TEE", 1)])
    express = allocated(shop, "f-2", [("TEE", 2)], service_level="express")
    single = allocated(shop, "f-3", [("CAP", 1)])
    elsewhere = allocated(other, "f-4", [("CAP", 1)])
    found = picking.candidates(org.id, picking.WaveFilters(warehouse_id=wh.id, shop_ids=[shop.id]))
    assert [c.order_id for c in found] == [single.id, express.id, big.id]
    found = picking.candidates(org.id, picking.WaveFilters(warehouse_id=wh.id, single_item_first=False))
    assert found[0].order_id == express.id
    assert [c.order_id for c in picking.candidates(
        org.id, picking.WaveFilters(warehouse_id=wh.id, service_levels=["express"]))] == [express.id]
    assert {c.order_id for c in picking.candidates(
        org.id, picking.WaveFilters(warehouse_id=wh.id, carriers=["manual"]))} == {big.id, express.id, single.id,
                                                                                   elsewhere.id}
    assert picking.candidates(org.id, picking.WaveFilters(warehouse_id=wh.id, carriers=["sendcloud"])) == []
    wave = picking.build_wave(org.id, picking.WaveFilters(warehouse_id=wh.id, max_orders=2))
    db.session.commit()
    assert [m.order_id for m in wave.orders] == [single.id, elsewhere.id]
    assert picking.build_wave(org.id, picking.WaveFilters(warehouse_id=wh.id, channels=["nothing"])) is None


def test_bins_import_and_pick_list_pdf(app, client, login, org, shop, wh, catalog):
    login(client)
    csv_text = "sku;emplacement;ordre\nMUG;C-01-01;\nTEE;C-01-02;0001\nNOPE;C-9-9;\n"
    page = f"/preparation/locations?warehouse_id={wh.id}"
    res = client.post(f"/preparation/locations/import?warehouse_id={wh.id}", follow_redirects=True,
                      data={"file": (io.BytesIO(csv_text.encode("utf-8")), "bins.csv"),
                            "csrf_token": csrf_token(client, page)}, content_type="multipart/form-data")
    text = res.get_data(as_text=True)
    assert "2 SKU placé(s), 2 emplacement(s) créé(s)" in text and "SKU inconnu « NOPE »" in text
    bins = {b.code: b.sort_key for b in db.session.scalars(select(BinLocation).where(BinLocation.warehouse_id == wh.id))}
    assert bins["C-01-02"] == "0001" and bins["C-01-01"] == picking.serpentine_sort_key("C-01-01")
    allocated(shop, "pdf-1", [("MUG", 1), ("TEE", 1)])
    wave = picking.build_wave(org.id, picking.WaveFilters(warehouse_id=wh.id))
    db.session.commit()
    assert [s.bin_code for s in picking.route(wave)] == ["C-01-02", "C-01-01"]
    pdf = client.get(f"/preparation/waves/{wave.id}/picklist.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert "C-01-02" in client.get(page).get_data(as_text=True)


def test_removed_and_cancelled_orders_leave_the_wave(app, org, shop, wh, catalog):
    keep = allocated(shop, "r-1", [("MUG", 1)])
    drop = allocated(shop, "r-2", [("TEE", 1)])
    gone = allocated(shop, "r-3", [("CAP", 1)])
    wave = picking.build_wave(org.id, picking.WaveFilters(warehouse_id=wh.id))
    members = {m.order_id: m for m in wave.orders}
    with pytest.raises(picking.PickingError):
        picking.remove_order(members[drop.id], "")
    picking.remove_order(members[drop.id], "article abîmé")
    order_flow.cancel(gone, reason="client")
    db.session.commit()
    assert fresh(Order, drop.id).status == OrderStatus.ALLOCATED
    assert [s.sku for s in picking.route(fresh(PickWave, wave.id))] == ["MUG"]
    assert members[keep.id].status.value == "picking"


def test_a_carrier_scan_before_the_packer_ships_the_parcel(app, org, shop, wh, catalog):
    order = allocated(shop, "t-1", [("CAP", 1)])
    member = picking.wave_for_order(order)
    picking.scan("pack", org.id, list(member.lines), CAP)
    shipment = shipping.create_shipment(order, [(order.lines[0], 1)], 150, carrier="manual")
    shipment.status = ShipmentStatus.LABEL_CREATED
    member.shipment_id = shipment.id
    assert shipping.update_from_carrier(shipment, ShipmentStatus.IN_TRANSIT, source="test", message="pris en charge")
    assert shipment.status == ShipmentStatus.IN_TRANSIT and order.status == OrderStatus.SHIPPED
    assert len(SHIPPED) == 1
    assert shipping.update_from_carrier(shipment, ShipmentStatus.DELIVERED, source="test")
    assert order.status == OrderStatus.DELIVERED
    assert not shipping.update_from_carrier(shipment, ShipmentStatus.IN_TRANSIT, source="test")
    db.session.commit()
    assert fresh(PickWave, member.wave_id).status == PickWaveStatus.DONE


def test_draft_waiting_for_the_carrier_is_listed_and_switches_to_manual(app, client, login, org, shop, wh, catalog,
                                                                         base_url, emulator):
    connect_sendcloud(shop, sandbox.demo_settings(base_url))
    emulator.config["DOWN"] = True
    order = allocated(shop, "w-1", [("TEE", 1)])
    member = picking.wave_for_order(order)
    picking.scan("pack", org.id, list(member.lines), TEE)
    outcome = picking.pack_and_ship(member, None)
    db.session.commit()
    assert outcome.state == "waiting_carrier" and "503" in outcome.message
    login(client)
    assert order.number in client.get("/preparation/waves").get_data(as_text=True)
    page = f"/preparation/shipments/{outcome.shipment.id}"
    client.post(f"{page}/manual", data={"csrf_token": csrf_token(client, page)})
    assert fresh(Shipment, outcome.shipment.id).carrier == "manual"
    pending = db.session.scalar(select(func.count()).select_from(
        select(Shipment).where(Shipment.status == ShipmentStatus.DRAFT).subquery()))
    assert pending == 1
    emulator.config["DOWN"] = False
    run_pending(now=utcnow() + timedelta(hours=1))  # the retry job sees a manual draft: nothing to do
    assert fresh(Shipment, outcome.shipment.id).status == ShipmentStatus.DRAFT


def test_the_serpentine_turns_with_the_aisles_that_have_picks():
    from core.pickroute import s_shape

    walk = s_shape({1: [10, 40], 3: [5, 45], 4: [20]})
    # up aisle 1, down aisle 3 (aisle 2 has nothing: the picker does not walk it), up aisle 4
    assert walk == [(1, 10), (1, 40), (3, 45), (3, 5), (4, 20)]


def test_the_picker_walks_the_route_drawn_through_the_wave(app, client, login, org, shop, wh, catalog):
    from core.pickroute import AisleLayout, s_shape

    # zone C, 40 positions deep: the serpentine would go down aisle 2 and up aisle 3 twice over
    spots = {"C1": "C-01-02-1", "C2": "C-02-02-1", "C3": "C-02-30-2", "C4": "C-03-02-1", "C5": "C-03-30-1",
             "C6": "C-04-02-3", "C7": "C-02-40-1"}
    for sku, code in spots.items():
        stocked(org.id, wh, sku, 5, bin_code=code, sort_key=picking.serpentine_sort_key(code))
    db.session.commit()
    wanted = ["C1", "C2", "C3", "C4", "C5", "C6"]
    order = allocated(shop, "walk-1", [(sku, 1) for sku in wanted])
    wave = picking.build_wave(org.id, picking.WaveFilters(warehouse_id=wh.id, order_ids=[order.id]))
    db.session.commit()
    stops = picking.route(wave)
    assert sorted(s.sku for s in stops) == wanted  # every pick, once
    layout = AisleLayout(positions=40)
    place = {code: (int(code.split("-")[1]), int(code.split("-")[2])) for code in spots.values()}
    walked = layout.walk([place[s.bin_code] for s in stops])
    picks = [place[spots[sku]] for sku in wanted]
    shortest = min(layout.walk(list(p)) for p in itertools.permutations(picks))
    serpentine = layout.walk(s_shape({1: [2], 2: [2, 30], 3: [2, 30], 4: [2]}))
    assert walked == shortest < serpentine
    # the pick page and the printed list show the stops in the route's order
    login(client, "picker")
    html = client.get(f"/preparation/waves/{wave.id}/pick").get_data(as_text=True)
    shown = sorted((s.bin_code for s in stops), key=html.index)
    assert shown == [s.bin_code for s in stops]
    wave_html = client.get(f"/preparation/waves/{wave.id}").get_data(as_text=True)
    assert sorted((s.bin_code for s in stops), key=wave_html.index) == [s.bin_code for s in stops]

def test_zones_are_walked_one_after_the_other_each_on_its_route(app, org, shop, wh, catalog):
    for sku, code in (("Z1", "B-02-08-1"), ("Z2", "B-01-03-1"), ("Z3", "B-02-01-1")):
        stocked(org.id, wh, sku, 5, bin_code=code, sort_key=picking.serpentine_sort_key(code))
    db.session.commit()
    order = allocated(shop, "zones-1", [("Z1", 1), ("TEE", 1), ("Z2", 1), ("MUG", 1), ("Z3", 1)])
    wave = picking.build_wave(org.id, picking.WaveFilters(warehouse_id=wh.id, order_ids=[order.id]))
    db.session.commit()
    # zone A (aisle 1, then aisle 2), then zone B: up aisle 1, across the back, down aisle 2
    assert [s.bin_code for s in picking.route(wave)] == ["A-01-03", "A-02-05", "B-01-03-1", "B-02-08-1",
                                                        "B-02-01-1"]
