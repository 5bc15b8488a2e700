"""Dropshipping background jobs (module-level functions taking ids)."""
from __future__ import annotations

from typing import Any

from core.extensions import db
from core.models import Shop

from .checks import check_connection
from .client import DropshipError, send_purchase_order_webhook
from .models import DropshipSupplier


def check_smtp(shop_id: int) -> str:
    """Check the shop's SMTP server still accepts a session; raises on failure."""
    shop = db.session.get(Shop, shop_id)
    if shop is None:
        raise LookupError(f"boutique {shop_id} introuvable")
    result = check_connection(shop.addon_settings("dropship"))
    if not result.ok:
        raise DropshipError(result.message)
    return result.message


def send_purchase_order(shop_id: int, supplier_id: int, purchase_order: dict[str, Any]) -> str:
    """Send a purchase order to a supplier reached by webhook, signed with the shop's secret;
    return the supplier's reference for it."""
    shop = db.session.get(Shop, shop_id)
    supplier = db.session.get(DropshipSupplier, supplier_id)
    if shop is None or supplier is None or supplier.organization_id != shop.organization_id:
        raise LookupError(f"fournisseur {supplier_id} introuvable pour la boutique {shop_id}")
    if supplier.order_channel != "webhook" or not supplier.webhook_url:
        raise DropshipError(f"{supplier.name} reçoit ses bons de commande par e-mail, pas par webhook.")
    answer = send_purchase_order_webhook(supplier.webhook_url, purchase_order,
                                         shop.addon_settings("dropship").get("webhook_secret") or "")
    return str(answer.get("id", ""))
