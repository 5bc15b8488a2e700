"""A thin client for the Sendcloud API v3.

HTTP Basic authentication (public key as user name, secret key as password). v3 is the
current API: v2 is in maintenance mode and closed to parcel creation for accounts created
after 2026-04-13, and v3 shipping options (``POST /shipping-options``) replace the v2
shipping methods.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

DEFAULT_BASE_URL = "https://panel.sendcloud.sc/api/v3"
TIMEOUT = 10.0
_GRAMS = {"kg": Decimal(1000), "g": Decimal(1), "lbs": Decimal("453.59237"), "oz": Decimal("28.349523125")}


class SendcloudError(Exception):
    """A failed Sendcloud call, with a message for the merchant (French)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ShippingOption:
    code: str
    name: str
    carrier_code: str
    carrier_name: str
    min_weight_grams: int | None
    max_weight_grams: int | None


def grams(weight: dict[str, Any] | None) -> int | None:
    """``{"value": "2.5", "unit": "kg"}`` → 2500."""
    if not weight:
        return None
    try:
        value = Decimal(str(weight.get("value")))
    except (InvalidOperation, ValueError):
        return None
    factor = _GRAMS.get(str(weight.get("unit") or "kg"))
    return None if factor is None else int((value * factor).to_integral_value())


class SendcloudClient:
    def __init__(self, public_key: str, secret_key: str, base_url: str | None = None,
                 timeout: float = TIMEOUT) -> None:
        if not public_key or not secret_key:
            raise SendcloudError("Paramètres Sendcloud incomplets : renseignez la clé publique et la clé secrète.")
        self.auth = (public_key, secret_key)
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.timeout = timeout

    def request(self, method: str, path: str, json: dict[str, Any] | None = None,
                params: dict[str, Any] | None = None) -> dict[str, Any]:
        url = self.base_url + path
        try:
            res = httpx.request(method, url, json=json, params=params, auth=self.auth,
                                headers={"Accept": "application/json"}, timeout=self.timeout)
        except httpx.TimeoutException:
            raise SendcloudError(f"Sendcloud n'a pas répondu en {self.timeout:g} s.") from None
        except httpx.HTTPError as exc:
            raise SendcloudError(f"Impossible de joindre {url} : {exc}") from None
        _raise_for_status(res)
        try:
            body = res.json()
        except ValueError:
            raise SendcloudError("Réponse illisible de Sendcloud (JSON attendu).", res.status_code) from None
        return body if isinstance(body, dict) else {}

    def shipping_options(self, from_country: str, to_country: str, weight_grams: int = 1000) -> list[ShippingOption]:
        """The shipping options of the account for one parcel of ``weight_grams``
        (``POST /shipping-options``, without price quotes)."""
        body = {"from_country_code": from_country, "to_country_code": to_country,
                "parcels": [{"weight": {"value": f"{Decimal(weight_grams) / 1000:.3f}", "unit": "kg"}}],
                "calculate_quotes": False}
        data = self.request("POST", "/shipping-options", json=body).get("data") or []
        out = []
        for item in data:
            carrier = item.get("carrier") or {}
            weight = item.get("weight") or {}
            out.append(ShippingOption(code=str(item.get("code", "")), name=str(item.get("name", "")),
                                      carrier_code=str(carrier.get("code", "")),
                                      carrier_name=str(carrier.get("name", "")),
                                      min_weight_grams=grams(weight.get("min")),
                                      max_weight_grams=grams(weight.get("max"))))
        return out


def _raise_for_status(res: httpx.Response) -> None:
    code = res.status_code
    if code < 400:
        return
    detail = ""
    try:
        errors = res.json().get("errors") or []
        if errors and isinstance(errors[0], dict):
            detail = errors[0].get("detail") or errors[0].get("title") or ""
    except (ValueError, AttributeError):
        pass
    suffix = f" [{detail}]" if detail else ""
    if code == 401:
        msg = ("Clés API Sendcloud refusées (401){s} : vérifiez la clé publique et la clé secrète "
               "(Sendcloud › Paramètres › Intégrations › Sendcloud API).")
    elif code == 403:
        msg = "Accès refusé par Sendcloud (403){s} : l'intégration n'a pas accès à cette fonction."
    elif code == 404:
        msg = "Adresse de l'API introuvable (404){s} : l'adresse doit être celle de l'API v3 de Sendcloud."
    elif code == 429:
        msg = "Trop de requêtes vers Sendcloud (429) : réessayez dans une minute."
    elif code >= 500:
        msg = "Sendcloud est indisponible ({code}){s} : réessayez plus tard."
    else:
        msg = "Requête refusée par Sendcloud ({code}){s}."
    raise SendcloudError(msg.format(code=code, s=suffix), code)
