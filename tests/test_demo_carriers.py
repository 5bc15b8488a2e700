"""The demo (`make run`) with the four carriers: a wave of four orders, each packed on the pack
page and labelled by another carrier on its emulator mounted in the app."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from core import picking
from core.demo import DEMO_PASSWORD, DEMO_USERS, load_demo
from core.extensions import db
from core.models import Organization, PickWaveOrder, Shipment, ShipmentStatus, Warehouse
from tests.fixtures import FAKE_ADDONS, csrf_token

CARRIERS = ("dhl", "colissimo", "chronopost", "mondialrelay")


@pytest.fixture
def addons():
    return ["alpha", "beta", *CARRIERS]


@pytest.fixture
def app_config():
    return {"ADDON_MODULES": FAKE_ADDONS, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}


@pytest.fixture
def demo(app, serve_wsgi):
    from core.sandboxes import mount_sandboxes

    app.config["SANDBOXES"] = True
    mount_sandboxes(app)
    app.config["PUBLIC_URL"] = serve_wsgi(app)
    load_demo()
    db.session.commit()
    return db.session.scalar(select(Organization))


def _login(client):
    email = DEMO_USERS[0][0]
    client.post("/login", data={"email": email, "password": DEMO_PASSWORD, "csrf_token": csrf_token(client)})


def test_each_carrier_labels_a_demo_parcel_from_the_pack_page(app, client, demo):
    warehouse = db.session.scalars(select(Warehouse).where(Warehouse.organization_id == demo.id)
                                   .order_by(Warehouse.priority)).first()
    wave = picking.build_wave(demo.id, picking.WaveFilters(warehouse_id=warehouse.id, max_orders=4))
    db.session.commit()
    members = db.session.scalars(select(PickWaveOrder).where(PickWaveOrder.wave_id == wave.id)
                                 .order_by(PickWaveOrder.slot)).all()
    assert len(members) == 4
    _login(client)
    for member, carrier in zip(members, CARRIERS):
        page = f"/preparation/pack/{member.id}"
        form = client.get(page).get_data(as_text=True)
        assert f'value="{carrier}"' in form
        for line in member.lines:
            for _ in range(line.quantity):
                code = (line.variant.barcode if line.variant and line.variant.barcode else line.order_line.sku)
                res = client.post(f"{page}/scan", json={"code": code}, headers={"X-CSRFToken": csrf_token(client, page)})
                assert res.status_code == 200, res.get_data(as_text=True)
        res = client.post(f"{page}/ship", data={"weight_grams": "400", "carrier": carrier,
                                                "csrf_token": csrf_token(client, page)})
        assert res.status_code == 302, res.get_data(as_text=True)[:500]
    shipments = {s.order_id: s for s in db.session.scalars(select(Shipment).where(
        Shipment.order_id.in_([m.order_id for m in members])))}
    for member, carrier in zip(members, CARRIERS):
        shipment = shipments[member.order_id]
        assert shipment.tracking_number and shipment.label, (carrier, shipment.label_error)
        assert shipment.status == ShipmentStatus.SHIPPED, (carrier, shipment.status, shipment.label_error)
        assert carrier.replace("_", "") in shipment.carrier.replace("_", "")
        shown = client.get(f"/preparation/shipments/{shipment.id}").get_data(as_text=True)
        assert f">{shipment.carrier}<" not in shown  # named by its title, not its add-on id
