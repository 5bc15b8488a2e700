"""Tracking back from suppliers: their page behind a signed, expiring link (forged and expired
links refused), their API key, CSV files; the tracking reaches the sales channel and the order
is shipped once every line is."""
from __future__ import annotations

import io
import re
import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select

from addons.dropship import links
from addons.dropship.models import DropshipPurchaseOrder, DropshipTracking
from core import orders as order_flow
from core.extensions import db
from core.models import Order, OrderStatus, Shipment, ShipmentStatus
from tests.pipeline_helpers import variant

from .conftest import csrf_page_token, link, place


@pytest.fixture
def mixed(app, shop, own_wh, org, make_supplier):
    """An order of a local mug and two dropshipped lamps and vases from one supplier."""
    supplier, key = make_supplier()
    variant(org.id, "MUG", {own_wh: 5})
    link(supplier, variant(org.id, "LAMPE"), "DUP-LAMP-01", dropship_only=True)
    link(supplier, variant(org.id, "VASE"), "DUP-VASE-02", dropship_only=True)
    order = place(shop, "9001", [("MUG", 1), ("LAMPE", 2), ("VASE", 1)])
    po = db.session.scalar(select(DropshipPurchaseOrder).where(DropshipPurchaseOrder.order_id == order.id))
    return order, po, supplier, key


def page_url(po: DropshipPurchaseOrder) -> str:
    return f"/apps/dropship/supplier/{links.make_token(po.id, po.supplier_id)}"


def shipments(order: Order) -> int:
    return db.session.scalar(select(func.count()).select_from(Shipment).where(Shipment.order_id == order.id))


# ----------------------------------------------------------------------------- the signed link
def test_forged_and_expired_links_are_refused(app, client, mixed):
    order, po, supplier, _key = mixed
    payload = {"po": po.id, "supplier": supplier.id}
    forged = URLSafeTimedSerializer("une-autre-cle-secrete", salt=links.SALT).dumps(payload)

    class SignedLongAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - links.MAX_AGE - 60

    expired = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=links.SALT, signer=SignedLongAgo).dumps(payload)
    other_po = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=links.SALT).dumps(
        {"po": po.id, "supplier": supplier.id + 1})

    res = client.get(f"/apps/dropship/supplier/{forged}")
    assert res.status_code == 403 and 'data-link-refused="invalid"' in res.get_data(as_text=True)
    res = client.post(f"/apps/dropship/supplier/{forged}", data={"carrier": "Colissimo",
                                                                  "tracking_number": "6A000000001"})
    assert res.status_code == 403
    res = client.get(f"/apps/dropship/supplier/{expired}")
    assert res.status_code == 410 and "Ce lien a expiré" in res.get_data(as_text=True)
    res = client.post(f"/apps/dropship/supplier/{expired}/tracking",
                      data={"file": (io.BytesIO(b"po_reference,carrier,tracking_number\n"), "suivi.csv")})
    assert res.status_code == 410
    assert client.get(f"/apps/dropship/supplier/{other_po}").status_code == 403
    assert client.get(f"/apps/dropship/supplier/{links.make_token(po.id, supplier.id)}x").status_code == 403
    # the genuine link works, and the same token read with a shorter max age is expired
    assert client.get(page_url(po)).status_code == 200
    with pytest.raises(links.LinkError) as refused:
        links.read_token(expired)
    assert refused.value.expired
    db.session.refresh(po)
    assert po.status == "queued" and po.confirmed_at is None and shipments(order) == 0


def test_tracking_from_the_supplier_page_reaches_the_channel(app, client, channel, mixed):
    order, po, supplier, _key = mixed
    url = page_url(po)
    page = client.get(url).get_data(as_text=True)
    assert "DUP-LAMP-01" in page and "75001 Paris" in page and "MUG" not in page

    token = csrf_page_token(page)
    res = client.post(url, data={"csrf_token": token, "do": "confirm"})
    assert res.status_code == 302
    db.session.refresh(po)
    assert po.status == "confirmed" and po.confirmed_at is not None

    lamp_line, vase_line = po.lines
    res = client.post(url, data={"csrf_token": token, "carrier": "Colissimo", "tracking_number": "6A100",
                                 "tracking_url": "https://www.laposte.fr/outils/suivre-vos-envois?code=6A100",
                                 f"qty-{lamp_line.id}": "1"})
    assert res.status_code == 302, res.get_data(as_text=True)
    db.session.refresh(po)
    db.session.refresh(order)
    assert po.status == "partially_shipped" and order.status == OrderStatus.ALLOCATED
    assert channel.SHIPPED == [{"shop": order.shop_id, "order": "#9001", "tracking_number": "6A100",
                                "tracking_url": "https://www.laposte.fr/outils/suivre-vos-envois?code=6A100",
                                "carrier": "Colissimo", "lines": [("LAMPE", 1)]}]

    # the rest of the supplier's lines in a second parcel; the same number again changes nothing
    res = client.post(url, data={"csrf_token": token, "carrier": "Chronopost", "tracking_number": "XY200"})
    assert res.status_code == 302
    again = client.post(url, data={"csrf_token": token, "carrier": "Chronopost", "tracking_number": "XY200"})
    assert again.status_code == 302
    assert [s["lines"] for s in channel.SHIPPED] == [[("LAMPE", 1)], [("LAMPE", 1), ("VASE", 1)]]
    db.session.refresh(po)
    db.session.refresh(order)
    assert po.status == "shipped" and po.shipped_at is not None
    assert order.status == OrderStatus.ALLOCATED  # the mug still waits to be picked here
    assert [ln.reserved_quantity for ln in order.lines] == [1, 0, 0]
    assert shipments(order) == 2
    assert "Tout est expédié" in client.get(url).get_data(as_text=True)

    # the merchant ships the mug: the order is shipped
    mug = order.lines[0]
    order_flow.ship(order, Shipment(order_id=order.id, carrier="manual", tracking_number="LOCAL1",
                                    status=ShipmentStatus.DRAFT), [(mug, 1)])
    db.session.commit()
    assert order.status == OrderStatus.SHIPPED
    assert len(channel.SHIPPED) == 3


def test_refused_tracking_changes_nothing(app, client, channel, mixed):
    order, po, _supplier, _key = mixed
    url = page_url(po)
    token = csrf_page_token(client.get(url).get_data(as_text=True))
    lamp_line = po.lines[0]

    too_many = client.post(url, data={"csrf_token": token, "carrier": "DPD", "tracking_number": "D1",
                                      f"qty-{lamp_line.id}": "3"})
    assert too_many.status_code == 422 and "2 restant à expédier" in too_many.get_data(as_text=True)
    missing = client.post(url, data={"csrf_token": token, "carrier": "DPD", "tracking_number": ""})
    assert missing.status_code == 422
    order_flow.cancel(order, reason="client")
    db.session.commit()
    cancelled = client.post(url, data={"csrf_token": token, "carrier": "DPD", "tracking_number": "D2"})
    assert cancelled.status_code == 422 and "annulée" in cancelled.get_data(as_text=True)
    assert shipments(order) == 0 and channel.SHIPPED == []


def test_every_line_dropshipped_ships_the_order(app, client, channel, shop, org, make_supplier):
    supplier, _key = make_supplier()
    link(supplier, variant(org.id, "LAMPE"), "DUP-LAMP-01", dropship_only=True)
    order = place(shop, "9101", [("LAMPE", 1)])
    po = db.session.scalar(select(DropshipPurchaseOrder).where(DropshipPurchaseOrder.order_id == order.id))
    url = page_url(po)
    token = csrf_page_token(client.get(url).get_data(as_text=True))

    client.post(url, data={"csrf_token": token, "carrier": "Colissimo", "tracking_number": "6A300"})

    db.session.refresh(order)
    assert order.status == OrderStatus.SHIPPED
    assert channel.SHIPPED[0]["tracking_number"] == "6A300"


# ----------------------------------------------------------------------------- the API
def test_api_with_the_supplier_key(app, client, channel, mixed, make_supplier):
    order, po, _supplier, key = mixed
    _other, other_key = make_supplier("Grossiste Martin", "achats@martin.test")
    url = f"/apps/dropship/api/purchase-orders/{po.reference}/shipments"
    body = {"carrier": "DHL", "tracking_number": "JD0001", "tracking_url": "https://dhl.example/JD0001",
            "lines": [{"supplier_sku": "DUP-VASE-02", "quantity": 1}]}

    assert client.post(url, json=body).status_code == 401
    wrong = client.post(url, json=body, headers={"Authorization": "Bearer dsk_pas-la-bonne-cle"})
    assert wrong.status_code == 401 and wrong.json["error"] == "unauthorized"
    assert wrong.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.post(url, json=body, headers={"Authorization": f"Bearer {other_key}"}).status_code == 404
    assert client.post(url, data="pas du json", headers={"Authorization": f"Bearer {key}"}).status_code == 400
    unknown = client.post(url, json={**body, "lines": [{"supplier_sku": "AUTRE", "quantity": 1}]},
                          headers={"Authorization": f"Bearer {key}"})
    assert unknown.status_code == 422
    assert channel.SHIPPED == []

    res = client.post(url, json=body, headers={"Authorization": f"Bearer {key}"})

    assert res.status_code == 201, res.json
    assert res.json["purchase_order_status"] == "partially_shipped" and res.json["order_status"] == "allocated"
    assert channel.SHIPPED[0]["tracking_number"] == "JD0001" and channel.SHIPPED[0]["lines"] == [("VASE", 1)]
    again = client.post(url, json=body, headers={"Authorization": f"Bearer {key}"})
    assert again.status_code == 200 and again.json["created"] is False
    assert again.json["shipment_id"] == res.json["shipment_id"] and len(channel.SHIPPED) == 1
    rest = client.post(url, json={"carrier": "DHL", "tracking_number": "JD0002"},
                       headers={"Authorization": f"Bearer {key}"})
    assert rest.status_code == 201 and rest.json["purchase_order_status"] == "shipped"
    assert channel.SHIPPED[1]["lines"] == [("LAMPE", 2)]
    tracked = db.session.scalars(select(DropshipTracking).order_by(DropshipTracking.id)).all()
    assert [(t.source, t.tracking_number) for t in tracked] == [("api", "JD0001"), ("api", "JD0002")]


# ----------------------------------------------------------------------------- CSV files
def test_merchant_tracking_csv_with_a_bad_row(app, client, login, post_form, channel, mixed, shop, org,
                                              make_supplier):
    order, po, _supplier, _key = mixed
    other, _ = make_supplier("Grossiste Martin", "achats@martin.test")
    link(other, variant(org.id, "TABLE"), "MAR-TABLE", dropship_only=True)
    second = place(shop, "9201", [("TABLE", 1)])
    po2 = db.session.scalar(select(DropshipPurchaseOrder).where(DropshipPurchaseOrder.order_id == second.id))
    login(client)
    content = (f"po_reference;carrier;tracking_number;tracking_url\n"
               f"{po.reference};Colissimo;6A400;https://suivi.example/6A400\n"
               f"PO-INCONNU;Colissimo;6A401;\n"
               f"{po2.reference};DPD;;\n"
               f"{po2.reference};DPD;DPD402;ftp://pas-un-lien\n"
               f"\n"
               f"{po2.reference};DPD;DPD403;\n").encode()

    res = post_form("/apps/dropship/purchase-orders/tracking", page="/apps/dropship/purchase-orders",
                    data={"file": (io.BytesIO(content), "suivi.csv")}, content_type="multipart/form-data",
                    follow_redirects=True)

    page = res.get_data(as_text=True)
    assert res.status_code == 200
    assert f"2 expéditions enregistrées : {po.reference}, {po2.reference}" in page
    assert "Ligne 3 : bon de commande PO-INCONNU inconnu" in page
    assert re.search(r"Ligne 4 : .*Saisissez le numéro de suivi", page)
    assert re.search(r"Ligne 5 : .*https://", page)
    assert [s["tracking_number"] for s in channel.SHIPPED] == ["6A400", "DPD403"]
    db.session.refresh(second)
    assert second.status == OrderStatus.SHIPPED


def test_supplier_csv_only_reaches_its_own_purchase_orders(app, client, channel, mixed, shop, org, make_supplier):
    _order, po, _supplier, _key = mixed
    other, _ = make_supplier("Grossiste Martin", "achats@martin.test")
    link(other, variant(org.id, "TABLE"), "MAR-TABLE", dropship_only=True)
    foreign = place(shop, "9301", [("TABLE", 1)])
    po_other = db.session.scalar(select(DropshipPurchaseOrder).where(DropshipPurchaseOrder.order_id == foreign.id))
    url = page_url(po)
    token = csrf_page_token(client.get(url).get_data(as_text=True))
    content = (f"po_reference,carrier,tracking_number,tracking_url\n"
               f"{po_other.reference},DPD,DPD9,\n"
               f"{po.reference},GLS,GLS7,\n").encode()

    res = client.post(f"{url}/tracking", data={"csrf_token": token, "file": (io.BytesIO(content), "suivi.csv")},
                      content_type="multipart/form-data", follow_redirects=True)

    page = res.get_data(as_text=True)
    assert f"Ligne 2 : bon de commande {po_other.reference} inconnu" in page
    assert [s["tracking_number"] for s in channel.SHIPPED] == ["GLS7"]
