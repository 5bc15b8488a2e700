"""The remote check behind "Tester la connexion"."""
from __future__ import annotations

from typing import Any

from core.models import Shop
from core.types import ConnectionResult

from .client import DEFAULT_API_VERSION, ShopifyClient, ShopifyError
from .connection import client_for, state_for
from core.i18n import _


def client_from_settings(settings: dict[str, Any]) -> ShopifyClient:
    return ShopifyClient(shop_domain=settings.get("shop_domain") or "",
                         access_token=settings.get("access_token") or "",
                         api_version=settings.get("api_version") or DEFAULT_API_VERSION,
                         base_url=settings.get("api_base_url") or None)


def check_connection(settings: dict[str, Any], shop: Shop | None = None) -> ConnectionResult:
    """Ask Shopify for the shop's identity: with the token of the OAuth install when there
    is one (refreshed if needed), else with the token typed in the settings."""
    try:
        if shop is not None:
            state_for(shop)
        if shop is not None and (shop.credentials or {}).get("access_token"):
            client = client_for(shop)
        else:
            client = client_from_settings(settings)
        with client:
            info = client.shop_info()
    except ShopifyError as exc:
        return ConnectionResult(False, str(exc))
    details = [f"Boutique : {info.name}", f"Domaine : {info.domain}", f"Devise : {info.currency}"]
    if info.plan:
        details.append(f"Forfait Shopify : {info.plan}")
    return ConnectionResult(True, _("connecté à la boutique Shopify « %(name)s »", name=info.name), details)
