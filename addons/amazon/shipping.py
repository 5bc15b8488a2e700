"""Tracking OMS → Amazon: ``confirmShipment`` (Orders API v0, not deprecated), one call per
package with that package's order items and quantities, so partial shipments work."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core import orders as order_flow
from core.extensions import db
from core.models import Order, Shipment

from .client import AmazonError, SellingPartnerClient
from .clock import iso
from .finances import now_of, schedule_after_shipment
from .mapping import from_order
from .models import AmazonOrder
from .sync import INCLUDED_DATA
from core.i18n import _

#: Amazon carrier codes (Seller Central list, ``CarrierCode`` of amzn-base.xsd) by the names
#: an OMS shipment may carry. Carriers not listed go as "Other" with their name.
CARRIER_CODES = {
    "dhl": "DHL", "dhl express": "DHL", "dhl parcel": "DHL", "ups": "UPS", "fedex": "FedEx", "gls": "GLS",
    "dpd": "DPD", "chronopost": "Chronopost", "la poste": "La Poste", "royal mail": "Royal Mail",
    "parcelforce": "Parcelforce", "hermes": "Hermes Logistik Gruppe", "deutsche post": "Deutsche Post",
    "tnt": "TNT", "yodel": "Yodel", "poste italiane": "Poste Italiane", "sda": "SDA", "usps": "USPS",
}
#: label brokers and the manual carrier: the real carrier is in the service name
BROKERS = {"manual", "sendcloud", ""}


def carrier_fields(carrier: str, service: str | None) -> dict[str, str]:
    words = f" {carrier} {service or ''} ".lower()
    for name in sorted(CARRIER_CODES, key=len, reverse=True):
        if f" {name} " in words or words.strip().startswith(name):
            fields = {"carrierCode": CARRIER_CODES[name]}
            if service:
                fields["shippingMethod"] = service[:100]
            return fields
    name = (service if carrier.lower() in BROKERS and service else carrier) or "Transporteur"
    fields = {"carrierCode": "Other", "carrierName": name[:100]}
    if service and service != name:
        fields["shippingMethod"] = service[:100]
    return fields


def confirm(shipment: Shipment, client: SellingPartnerClient) -> dict[str, Any]:
    """Send one shipment's tracking; returns the body sent."""
    order = shipment.order
    facts = db.session.scalar(select(AmazonOrder).where(AmazonOrder.order_id == order.id))
    if facts is None:
        raise AmazonError(_("La commande %(number)s n'a pas été importée d'Amazon : suivi non transmis.",
                            number=order.number))
    if not shipment.tracking_number:
        raise AmazonError(_("L'expédition %(id)s n'a pas de numéro de suivi : Amazon l'exige.", id=shipment.id))
    if any(sl.order_line.external_id is None for sl in shipment.lines):
        _fetch_item_ids(order, facts, client)
    items = [{"orderItemId": sl.order_line.external_id, "quantity": sl.quantity}
             for sl in shipment.lines if sl.quantity > 0 and sl.order_line.external_id]
    if not items:
        raise AmazonError(_("Aucun article Amazon identifié dans l'expédition %(id)s.", id=shipment.id))
    body = {"marketplaceId": facts.marketplace_id,
            "packageDetail": {"packageReferenceId": str(shipment.id),
                              **carrier_fields(shipment.carrier or "", shipment.service),
                              "trackingNumber": shipment.tracking_number,
                              "shipDate": iso(shipment.shipped_at or shipment.created_at),
                              "orderItems": items}}
    client.call("confirmShipment", path={"orderId": facts.amazon_order_id}, json=body)
    schedule_after_shipment(facts, now_of(client))  # Amazon posts the fees of the shipment
    order_flow.record(order, "channel", _("suivi %(tracking_number)s transmis à Amazon (%(carriercode)s, "
                                          "%(value)s article(s))",
                                          tracking_number=shipment.tracking_number, carriercode=body['packageDetail']['carrierCode'], value=sum((i['quantity'] for i in items))),
                      source="amazon", data={"shipment": shipment.id})
    return body


def _fetch_item_ids(order: Order, facts: AmazonOrder, client: SellingPartnerClient) -> None:
    """Orders first read from an orders report lack Amazon's order-item ids: get them."""
    raw = client.call("getOrder", path={"orderId": facts.amazon_order_id},
                      params={"includedData": INCLUDED_DATA}).body["order"]
    normalized, _facts = from_order(raw)
    known = {ln.external_id for ln in order.lines if ln.external_id}
    for src in normalized.lines:
        if src.external_id in known:
            continue
        target = next((ln for ln in order.lines if ln.external_id is None and ln.sku == src.sku), None)
        if target is not None:
            target.external_id = src.external_id
            known.add(src.external_id)
    facts.complete = True
    db.session.flush()
