"""Sendcloud background jobs (module-level functions taking ids)."""
from __future__ import annotations

from core.extensions import db
from core.models import Shop

from .checks import check_connection
from .client import SendcloudError


def refresh_shipping_methods(shop_id: int) -> str:
    """Reload the shipping options of the shop's Sendcloud account; raises on failure."""
    shop = db.session.get(Shop, shop_id)
    if shop is None:
        raise LookupError(f"boutique {shop_id} introuvable")
    result = check_connection(shop, shop.addon_settings("sendcloud"))
    if not result.ok:
        raise SendcloudError(result.message)
    return result.message
