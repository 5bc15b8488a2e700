"""Amazon background jobs (module-level functions taking ids)."""
from __future__ import annotations

from core.extensions import db
from core.models import Shop, utcnow

from .checks import check_connection as _check
from .client import AmazonError


def check_connection(shop_id: int) -> str:
    """The shop's periodic job: check Amazon still accepts the account's credentials and
    refresh its marketplaces.

    Records ``last_sync_at`` on success and raises on failure (the job layer logs it).
    """
    shop = db.session.get(Shop, shop_id)
    if shop is None:
        raise LookupError(f"boutique {shop_id} introuvable")
    result = _check(shop, shop.addon_settings("amazon"))
    if not result.ok:
        raise AmazonError(result.message)
    shop.last_sync_at = utcnow()
    return result.message
