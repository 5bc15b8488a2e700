"""Rates of Mondial Relay parcels: the merchant's contract prices (no rate API exists)."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from core import pickup
from core.types import Rate

from .labels import ADDON, MAX_WEIGHT, SERVED


def _price(value, default: str) -> Decimal:
    try:
        return Decimal(str(value if value not in (None, "") else default).replace(",", "."))
    except InvalidOperation:
        return Decimal(default)


def quote(shop, order, parcels) -> list[Rate]:
    settings = shop.addon_settings(ADDON)
    country = ((order.shipping_address or {}).get("country") or "").upper()
    weights = [int(p.get("weight_grams") or 0) for p in parcels] or [0]
    if country not in SERVED or any(w > MAX_WEIGHT for w in weights):
        return []
    count = len(weights)
    rates = [Rate(carrier=ADDON, service="Point Relais (24R)", price=_price(settings.get("price_relay"), "4.50") * count,
                  currency="EUR", method_id="24R")]
    point = pickup.point_of(order)
    if settings.get("home_mode", "HOM") and not (point and point.network == ADDON):
        rates.append(Rate(carrier=ADDON, service=f"Domicile ({settings.get('home_mode', 'HOM')})",
                          price=_price(settings.get("price_home"), "7.90") * count, currency="EUR",
                          method_id=settings.get("home_mode", "HOM")))
    return rates
