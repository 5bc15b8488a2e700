"""DHL background jobs (module-level functions taking ids)."""
from __future__ import annotations

from core.extensions import db
from core.jobs import enqueue
from core.models import Shop

from . import pickups, tracking
from .labels import retry_label
from .models import DhlPickup
from core.i18n import _


def create_label(shipment_id: int) -> str:
    """A label that could not be made when the parcel was packed (DHL down or silent): looked
    up at DHL by its reference first, bought only if DHL has none."""
    return retry_label(shipment_id)


def poll_statuses() -> int:
    """Every hour: one tracking job per shop with parcels due for news. Returns the shops queued."""
    todo = tracking.due()
    for shop_id, row_ids in todo.items():
        enqueue("addons.dhl.jobs.poll_shop", shop_id, row_ids, job_id=f"dhl-poll_shop-{shop_id}", unique=True,
                shop_id=shop_id)
    return len(todo)


def poll_shop(shop_id: int, row_ids: list[int] | None = None) -> str:
    shop = db.session.get(Shop, shop_id)
    if shop is None:
        return _("boutique introuvable")
    asked, changed = tracking.poll_shop(shop, row_ids)
    return _("%(asked)s colis demandés à DHL, %(changed)s mis à jour", asked=asked, changed=changed)


def release_pickup(pickup_id: int) -> str:
    pickup = db.session.get(DhlPickup, pickup_id)
    if pickup is None:
        return _("enlèvement introuvable")
    shop = db.session.get(Shop, pickup.shop_id)
    return "enlèvement annulé chez DHL" if pickups.release_if_empty(shop, pickup) else "enlèvement maintenu"
