"""Rates: what the account's shipping methods cost for a parcel, as Sendcloud quotes them."""
from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation
from typing import Any

from core.models import Order, Shop
from core.types import Rate

from .checks import client_from_settings
from .client import SendcloudError

ADDON = "sendcloud"
log = logging.getLogger(__name__)


def _price(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def quote(shop: Shop, order: Order, parcels: list[dict[str, Any]]) -> list[Rate]:
    settings = shop.addon_settings(ADDON)
    origin = (settings.get("from_country_code") or "FR").upper()
    destination = str((order.shipping_address or {}).get("country") or origin).upper()
    weights = [int(p.get("weight_grams") or 0) for p in parcels] or [1000]
    try:
        client = client_from_settings(settings, shop.id)
        if client.version == "v2":
            return _v2(client.request("GET", "/shipping_methods").get("shipping_methods") or [], destination,
                       max(weights))
        body = {"from_country_code": origin, "to_country_code": destination, "calculate_quotes": True,
                "parcels": [{"weight": {"value": f"{Decimal(w) / 1000:.3f}", "unit": "kg"}} for w in weights]}
        data = client.request("POST", "/shipping-options", json=body).get("data") or []
    except SendcloudError as exc:
        log.warning("Sendcloud rates unavailable for shop %s: %s", shop.id, exc)
        return []
    rates = []
    for option in data:
        total = ((((option.get("quotes") or [{}])[0] or {}).get("price") or {}).get("total") or {})
        price = _price(total.get("value"))
        if price is None:
            continue
        rates.append(Rate(carrier=str((option.get("carrier") or {}).get("code") or ""),
                          service=str(option.get("name") or ""), price=price,
                          currency=str(total.get("currency") or "EUR"), method_id=str(option.get("code") or "")))
    return rates


def _v2(methods: list[dict[str, Any]], destination: str, grams: int) -> list[Rate]:
    rates = []
    kg = Decimal(grams) / 1000
    for method in methods:
        low, high = _price(method.get("min_weight")), _price(method.get("max_weight"))
        if low is not None and high is not None and not low <= kg <= high:
            continue
        country = next((c for c in method.get("countries") or [] if c.get("iso_2") == destination), None)
        price = _price(country.get("price")) if country else None
        if price is None:
            continue
        rates.append(Rate(carrier=str(method.get("carrier") or ""), service=str(method.get("name") or ""),
                          price=price, currency="EUR", method_id=str(method.get("id"))))
    return rates
