"""Clients from a shop's settings, and the check behind "Tester la connexion"."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.types import ConnectionResult

from . import mapping
from .client import DhlError, MyDhlClient, TrackingClient
from core.i18n import _

ADDON = "dhl"


def mydhl(settings: dict[str, Any], shop_id: int | None = None) -> MyDhlClient:
    return MyDhlClient(settings.get("api_key") or "", settings.get("api_secret") or "",
                       settings.get("account_number") or "", settings.get("api_base_url") or None, shop_id=shop_id)


def tracking(settings: dict[str, Any], shop_id: int | None = None) -> TrackingClient:
    return TrackingClient(settings.get("tracking_api_key") or "", settings.get("tracking_base_url") or None,
                          shop_id=shop_id)


def sender_address(settings: dict[str, Any]) -> dict[str, Any]:
    return {"name": settings.get("sender_name") or settings.get("sender_company") or "",
            "company": settings.get("sender_company") or "", "line1": settings.get("sender_address") or "",
            "postal_code": settings.get("sender_postal_code") or "", "city": settings.get("sender_city") or "",
            "country": (settings.get("sender_country") or "FR").upper(), "phone": settings.get("sender_phone") or "",
            "email": settings.get("sender_email") or ""}


def check_connection(shop, settings: dict[str, Any]) -> ConnectionResult:
    """One harmless call: the account's products for a 1 kg parcel from the sender's city to
    Paris tomorrow (``GET /rates``). The tracking key is not spent on a check (its quota is small)."""
    sender = sender_address(settings)
    day = mapping.ship_day() + timedelta(days=1)
    try:
        body = mydhl(settings, shop.id).rate_one({
            "originCountryCode": sender["country"], "originCityName": sender["city"] or "Paris",
            "originPostalCode": sender["postal_code"] or "75001", "destinationCountryCode": "FR",
            "destinationCityName": "Paris", "destinationPostalCode": "75008", "weight": 1, "length": 30,
            "width": 20, "height": 10, "plannedShippingDate": day.isoformat(), "isCustomsDeclarable": "false",
            "unitOfMeasurement": "metric"})
    except DhlError as exc:
        return ConnectionResult(False, str(exc))
    products = mapping.products_from(body)
    note = "" if settings.get("tracking_api_key") else " ; ajoutez la clé Shipment Tracking – Unified pour le suivi"
    return ConnectionResult(True, _("connecté à DHL Express (compte %(get)s) : %(products)s produit(s) "
                                    "disponibles%(note)s",
                                    get=settings.get('account_number'), products=len(products), note=note), products)
