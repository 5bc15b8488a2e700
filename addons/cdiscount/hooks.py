"""Cdiscount's hooks: a sales channel (see core.contracts.SalesChannel). Fast, no network
(except the connection test): slow work is enqueued."""
from __future__ import annotations

from sqlalchemy import select

from core import hookimpl
from core.connectors import RetryPolicy
from core.extensions import db
from core.jobs import enqueue
from core.models import FulfillmentChannel, OrderStatus
from core.types import ConnectionResult, CronJob, Sandbox

from . import jobs, models, sandbox  # noqa: F401  (importing models registers the tables)
from .client import CdiscountError, Client
from .forms import SettingsForm
from .models import CdiscountOrder
from core.i18n import _

NAME = "cdiscount"
#: the merchant waits on the settings page: one quick retry at most
QUICK = RetryPolicy(attempts=2, max_wait=2.0)


def _cdiscount_order(shop, order) -> CdiscountOrder | None:
    if shop.addon != NAME or order.shop_id != shop.id:
        return None
    return db.session.scalar(select(CdiscountOrder).where(CdiscountOrder.order_id == order.id))


@hookimpl
def register_settings_form():
    return SettingsForm


@hookimpl
def channel_account_key(shop, settings):
    """One Octopia seller is one account: the same SellerId connected twice in an organization
    would import every order twice."""
    seller = str(settings.get("seller_id") or "").strip()
    return f"octopia:{seller}" if seller else None


@hookimpl
def connection_test(shop, settings):
    """One harmless call (``GET /sellers``) and the carrier list, with a short timeout."""
    client = Client.from_settings(settings, shop.id, timeout=5.0, retry=QUICK)
    try:
        seller = client.seller()
        carriers = client.carriers()
    except CdiscountError as exc:
        return ConnectionResult(False, str(exc))
    name = seller.get("shopName") or seller.get("legalName") or str(seller.get("sellerId") or "")
    channels = [c.get("name") or c.get("id") for c in seller.get("salesChannels") or [] if isinstance(c, dict)]
    details = [f"canaux de vente : {', '.join(channels)}"] if channels else []
    details.append(f"{len(carriers)} transporteurs acceptés par Cdiscount")
    return ConnectionResult(True, _("connecté à la boutique Cdiscount « %(name)s »", name=name), details)


@hookimpl
def register_sandbox():
    return Sandbox(NAME, sandbox.make_app, sandbox.settings_for)


@hookimpl
def register_blueprints(app):
    from .views import bp  # the shop's page, under /apps/cdiscount

    return [bp]


@hookimpl
def shop_diagnose(shop):
    if shop.addon != "cdiscount":
        return None
    from .diagnostic import diagnose

    return diagnose(shop)


@hookimpl
def channel_sync_job(shop):
    return "addons.cdiscount.jobs.sync_orders"


@hookimpl
def register_cron_jobs():
    return [CronJob("addons.cdiscount.jobs.refuse_all", interval=600),
            CronJob("addons.cdiscount.jobs.reconcile_all", cron="15 3 * * *"),
            # the offer catalogue read again each night: new offers matched or listed to fix
            CronJob("addons.cdiscount.jobs.import_all_catalogs", cron="45 2 * * *"),
            # Octopia posts an order's financial operations the day after its acceptance
            CronJob("addons.cdiscount.jobs.read_all_finances", interval=6 * 3600)]


@hookimpl
def channel_order_decision(shop, order, accepted, reason):
    """Core took or turned down an order: Octopia is told through its approval call, for the
    orders that wait for the seller's acceptance."""
    if shop.addon != NAME or order.shop_id != shop.id:
        return  # the add-on's own row may not exist yet (a new order is allocated while imported)
    enqueue("addons.cdiscount.jobs.decide_order", order.id, bool(accepted), reason or "",
            job_id=f"cdiscount-decide-{order.id}", unique=True, shop_id=shop.id, retries=8,
            intervals=(30, 60, 120, 300, 600, 900, 1800, 3600))


@hookimpl
def stock_available_changed(shop, changes):
    """Mark the changed offers and queue one push per shop (figures are read when it runs)."""
    if shop.addon != NAME or not changes:
        return
    jobs.mark_pending(shop, [c.variant_id for c in changes])
    enqueue("addons.cdiscount.jobs.push_stock", shop.id, job_id=f"cdiscount-push_stock-{shop.id}", unique=True,
            shop_id=shop.id)


@hookimpl
def shipping_shipment_shipped(shop, order, shipment):
    row = _cdiscount_order(shop, order)
    if row is None or order.fulfillment_channel == FulfillmentChannel.MARKETPLACE:
        return
    enqueue("addons.cdiscount.jobs.push_tracking", shipment.id, job_id=f"cdiscount-tracking-{shipment.id}",
            unique=True, shop_id=shop.id, retries=len(jobs.WAIT_INTERVALS), intervals=jobs.WAIT_INTERVALS)


@hookimpl
def order_status_changed(shop, order, old, new):
    """Cancelled in the OMS after it was accepted: a cancellation request to Octopia (a
    refusal before acceptance goes through ``channel_order_decision``)."""
    if new != OrderStatus.CANCELLED:
        return
    row = _cdiscount_order(shop, order)
    if row is None:
        return
    last = order.events[-1] if order.events else None
    if last is not None and (last.source or "").startswith(f"{NAME}:"):
        return  # Cdiscount itself cancelled it
    if row.decision != "accept":
        return
    enqueue("addons.cdiscount.jobs.cancel_order", order.id, job_id=f"cdiscount-cancel-{order.id}", unique=True,
            shop_id=shop.id)
