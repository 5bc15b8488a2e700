"""Courier pickups (MyDHL ``POST /pickups``, ``DELETE /pickups/{dispatchConfirmationNumber}``):
one booking for the day's DHL parcels of a shop, cancelled at DHL when none of them is left."""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from core.extensions import db
from core.models import Shipment, ShipmentStatus, Shop

from . import mapping
from .checks import mydhl, sender_address
from .client import DhlError
from .models import DhlPickup, DhlShipment
from core.i18n import _

ADDON = "dhl"
WAITING = (ShipmentStatus.LABEL_CREATED, ShipmentStatus.SHIPPED)


def waiting_parcels(shop: Shop) -> list[DhlShipment]:
    """The shop's DHL parcels labelled, not yet taken by a courier nor in a pickup."""
    return list(db.session.scalars(
        select(DhlShipment).join(Shipment, Shipment.id == DhlShipment.shipment_id)
        .where(DhlShipment.shop_id == shop.id, DhlShipment.state == "created", DhlShipment.pickup_id.is_(None),
               Shipment.status.in_(WAITING)).order_by(DhlShipment.id)))


def pickup_body(settings: dict[str, Any], parcels: list[DhlShipment], day: date) -> dict[str, Any]:
    sender = sender_address(settings)
    details = mapping.party(sender, who="shipper")
    return {
        "plannedPickupDateAndTime": mapping.planned_time(day),
        "closeTime": "18:00", "location": "reception", "locationType": "business",
        "accounts": [{"typeCode": "shipper", "number": settings.get("account_number") or ""}],
        "customerDetails": {"shipperDetails": details},
        "shipmentDetails": [{
            "productCode": p.product_code or "P", "isCustomsDeclarable": bool(p.customs),
            "unitOfMeasurement": "metric",
            "packages": [{"weight": max(mapping.kg(p.shipment.weight_grams or 1000), 0.001),
                          "dimensions": {"length": 30, "width": 20, "height": 10}}]} for p in parcels],
    }


def book(shop: Shop, day: date | None = None) -> DhlPickup:
    """Book a courier for the waiting parcels. Raises ``DhlError`` (nothing stored then)."""
    parcels = waiting_parcels(shop)
    if not parcels:
        raise DhlError(_("Aucun colis DHL en attente d'enlèvement."), retryable=False)
    settings = shop.addon_settings(ADDON)
    day = day or mapping.ship_day()
    answer = mydhl(settings, shop.id).create_pickup(pickup_body(settings, parcels, day))
    numbers = answer.get("dispatchConfirmationNumbers") or []
    if not numbers:
        raise DhlError(_("DHL Express n'a pas confirmé l'enlèvement (aucun numéro de confirmation)."), 200,
                       retryable=False)
    pickup = DhlPickup(shop_id=shop.id, day=day, dispatch_confirmation_number=str(numbers[0]), state="booked",
                       ready_by=str(answer.get("readyByTime") or "")[:32] or None,
                       details={"next_pickup_date": answer.get("nextPickupDate")})
    db.session.add(pickup)
    db.session.flush()
    for p in parcels:
        p.pickup_id = pickup.id
    return pickup


def cancel(shop: Shop, pickup: DhlPickup, reason: str = "plus de colis") -> None:
    if pickup.state == "cancelled":
        return
    if pickup.dispatch_confirmation_number:
        requestor = shop.addon_settings(ADDON).get("sender_name") or shop.name
        try:
            mydhl(shop.addon_settings(ADDON), shop.id).cancel_pickup(pickup.dispatch_confirmation_number, requestor,
                                                                      reason)
        except DhlError as exc:
            if exc.status != 404:
                raise
    pickup.state = "cancelled"


def release_if_empty(shop: Shop, pickup: DhlPickup) -> bool:
    """Cancel the pickup at DHL once every parcel it was booked for is voided."""
    live = [p for p in pickup.parcels if p.state != "voided"]
    if live or pickup.state == "cancelled":
        return False
    cancel(shop, pickup, "colis annulés")
    return True
