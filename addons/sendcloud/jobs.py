"""Sendcloud background jobs (module-level functions taking ids)."""
from __future__ import annotations

from core.extensions import db
from core.jobs import enqueue
from core.models import Shipment, Shop

from .checks import check_connection
from .client import SendcloudError
from .labels import cancel_remote, parcel_row, retry_label
from core.i18n import _


def refresh_shipping_methods(shop_id: int) -> str:
    """Reload the shipping options of the shop's Sendcloud account; raises on failure."""
    shop = db.session.get(Shop, shop_id)
    if shop is None:
        raise LookupError(_("boutique %(shop_id)s introuvable", shop_id=shop_id))
    result = check_connection(shop, shop.addon_settings("sendcloud"))
    if not result.ok:
        raise SendcloudError(result.message)
    return result.message


def create_label(shipment_id: int) -> str:
    """Announce a shipment that could not be announced when it was packed (Sendcloud was
    down). Raises while Sendcloud stays unreachable, so the job is retried."""
    return retry_label(shipment_id)


def cancel_label(shipment_id: int) -> str:
    """Cancel at Sendcloud a label cancelled in the OMS while Sendcloud could not be reached."""
    shipment = db.session.get(Shipment, shipment_id)
    row = parcel_row(shipment) if shipment is not None else None
    if row is None:
        return _("rien à annuler")
    cancel_remote(db.session.get(Shop, row.shop_id), row)
    return _("annulé chez Sendcloud (%(external_reference)s)", external_reference=row.external_reference)


def poll_statuses() -> int:
    """Every half hour: queue a status poll for each shop whose parcels have had no news
    (webhooks lost or not configured). Returns the number of shops queued."""
    from .tracking import parcels_to_poll

    todo = parcels_to_poll()
    for shop_id, row_ids in todo.items():
        enqueue("addons.sendcloud.jobs.poll_shop", shop_id, row_ids, job_id=f"sendcloud-poll_shop-{shop_id}",
                unique=True, shop_id=shop_id)
    return len(todo)


def poll_shop(shop_id: int, row_ids: list[int] | None = None) -> str:
    from .tracking import poll_shop as poll

    shop = db.session.get(Shop, shop_id)
    if shop is None:
        return _("boutique introuvable")
    return _("%(shop)s colis mis à jour", shop=poll(shop, row_ids))


def process_webhooks(shop_id: int) -> str:
    """Apply the shop's stored Sendcloud deliveries, in arrival order (the inbox's job)."""
    from .tracking import INBOX, handle

    done, errors = INBOX.process_pending(shop_id, handle)
    if errors:
        return _("%(done)s statut(s) de colis traité(s) ; erreurs : %(errors)s", done=done, errors="; ".join(errors))
    return _("%(done)s statut(s) de colis traité(s)", done=done)
