"""The remote check behind "Tester la connexion" and the shop's periodic job."""
from __future__ import annotations

from typing import Any

from core.types import ConnectionResult

from .client import DEFAULT_API_VERSION, ShopifyClient, ShopifyError


def client_from_settings(settings: dict[str, Any]) -> ShopifyClient:
    return ShopifyClient(shop_domain=settings.get("shop_domain") or "",
                         access_token=settings.get("access_token") or "",
                         api_version=settings.get("api_version") or DEFAULT_API_VERSION,
                         base_url=settings.get("api_base_url") or None)


def check_connection(settings: dict[str, Any]) -> ConnectionResult:
    """Ask Shopify for the shop's identity with the stored token."""
    try:
        info = client_from_settings(settings).shop_info()
    except ShopifyError as exc:
        return ConnectionResult(False, str(exc))
    details = [f"Boutique : {info.name}", f"Domaine : {info.domain}", f"Devise : {info.currency}"]
    if info.plan:
        details.append(f"Forfait Shopify : {info.plan}")
    return ConnectionResult(True, f"connecté à la boutique Shopify « {info.name} »", details)
