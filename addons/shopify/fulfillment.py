"""Tracking from the OMS to Shopify: ``fulfillmentCreate`` on the order's fulfillment orders.

A shipment may carry part of an order: each shipped line takes its quantity from the open
fulfillment-order line items of the same Shopify line item. Fulfillment orders assigned to
different locations are fulfilled in separate calls (Shopify requires one location per
call). The customer is notified with the carrier, tracking number and URL.
"""
from __future__ import annotations

from sqlalchemy import select

from core.extensions import db
from core.models import Shipment, Shop

from .client import ShopifyClient, gid, numeric_id
from .graphql import FULFILLMENT_CREATE, FULFILLMENT_ORDERS
from .models import ShopifyFulfillment
from core.i18n import _

OPEN = ("OPEN", "IN_PROGRESS")
#: Shopify builds the tracking URL itself when the company is one of its carrier names
CARRIERS = {"colissimo": "Colissimo", "chronopost": "Chronopost", "dhl": "DHL Express", "dhl_express": "DHL Express",
            "dhl_parcel": "DHL Parcel", "ups": "UPS", "fedex": "FedEx", "gls": "GLS", "dpd": "DPD",
            "mondial_relay": "Mondial Relay", "la_poste": "La Poste", "tnt": "TNT", "usps": "USPS",
            "colis_prive": "Colis Privé", "bpost": "Bpost", "postnl": "PostNL", "sendcloud": "Sendcloud"}


def company(shipment: Shipment) -> str | None:
    carrier = (shipment.carrier or "").strip().lower()
    if carrier in CARRIERS:
        return CARRIERS[carrier]
    if carrier in ("", "manual"):
        return shipment.service or None
    return shipment.carrier


def push(shop: Shop, client: ShopifyClient, shipment: Shipment) -> str:
    """Create the fulfillments for ``shipment``; returns what was done (French)."""
    order = shipment.order
    if order.shop_id != shop.id or order.origin == "pos":
        return _("commande hors Shopify ou vente en magasin : rien à envoyer")
    done = db.session.scalars(select(ShopifyFulfillment).where(ShopifyFulfillment.shipment_id == shipment.id)).all()
    if done:
        return _("déjà transmise à Shopify (%(done)s expédition(s))", done=len(done))
    wanted: dict[str, int] = {}
    for line in shipment.lines:
        ext = line.order_line.external_id
        if ext:
            wanted[str(numeric_id(ext))] = wanted.get(str(numeric_id(ext)), 0) + line.quantity
    data = client.graphql(FULFILLMENT_ORDERS, {"id": gid("Order", order.external_id)}).get("order") or {}
    groups: dict[str, dict[str, list[dict[str, object]]]] = {}
    for fo in (data.get("fulfillmentOrders") or {}).get("nodes") or []:
        if fo.get("status") not in OPEN:
            continue
        location = ((fo.get("assignedLocation") or {}).get("location") or {}).get("id") or ""
        for item in (fo.get("lineItems") or {}).get("nodes") or []:
            line_id = str(numeric_id((item.get("lineItem") or {}).get("id")))
            take = min(wanted.get(line_id, 0), int(item.get("remainingQuantity") or 0))
            if take <= 0:
                continue
            wanted[line_id] -= take
            groups.setdefault(location, {}).setdefault(fo["id"], []).append({"id": item["id"], "quantity": take})
    if not groups:
        return _("rien à transmettre : les lignes sont déjà traitées sur Shopify")
    tracking = {k: v for k, v in (("company", company(shipment)), ("number", shipment.tracking_number),
                                  ("url", shipment.tracking_url)) if v}
    created = []
    for by_fo in groups.values():
        result = client.mutate(FULFILLMENT_CREATE, {"fulfillment": {
            "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo_id, "fulfillmentOrderLineItems": items}
                                            for fo_id, items in by_fo.items()],
            "notifyCustomer": True,
            "trackingInfo": tracking or None,
        }}, "fulfillmentCreate")
        fulfillment_gid = (result.get("fulfillment") or {}).get("id") or ""
        db.session.add(ShopifyFulfillment(shop_id=shop.id, shipment_id=shipment.id, fulfillment_gid=fulfillment_gid))
        db.session.commit()  # kept even if the next location fails and the job is retried
        created.append(fulfillment_gid)
    left = sum(q for q in wanted.values() if q > 0)
    text = f"{len(created)} expédition(s) créée(s) sur Shopify pour {order.number}"
    if left:
        text += f" ({left} unité(s) sans ligne ouverte sur Shopify)"
    return text
