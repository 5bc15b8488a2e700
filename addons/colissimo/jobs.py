"""Colissimo background jobs (module-level functions taking ids)."""
from __future__ import annotations

from core.extensions import db
from core.jobs import enqueue
from core.models import Shop

from . import tracking
from .labels import retry_label
from core.i18n import _


def create_label(shipment_id: int) -> str:
    """A label that could not be made at packing time (Colissimo down): asked again."""
    return retry_label(shipment_id)


def poll_statuses() -> int:
    """Every two hours: one tracking job per shop with parcels due for news."""
    todo = tracking.due()
    for shop_id, row_ids in todo.items():
        enqueue("addons.colissimo.jobs.poll_shop", shop_id, row_ids, job_id=f"colissimo-poll_shop-{shop_id}",
                unique=True, shop_id=shop_id)
    return len(todo)


def poll_shop(shop_id: int, row_ids: list[int] | None = None) -> str:
    shop = db.session.get(Shop, shop_id)
    if shop is None:
        return _("boutique introuvable")
    calls, changed = tracking.poll_shop(shop, row_ids)
    return _("%(calls)s appel(s) au suivi La Poste, %(changed)s colis mis à jour", calls=calls, changed=changed)
