"""Colissimo's jobs: module-level functions taking ids."""
from __future__ import annotations

from core.addons import call
from core.extensions import db
from core.models import Shipment, ShipmentStatus


def refresh_status(shipment_id: int) -> str | None:
    """Ask La Poste where a parcel is and record it."""
    shipment = db.session.get(Shipment, shipment_id)
    status = call(shipment.order.shop, "shipping_track", shipment=shipment)
    if status:
        shipment.status = ShipmentStatus(status)
    return status
