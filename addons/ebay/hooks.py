"""eBay's hook implementations (fast, no network: the work is enqueued)."""
from __future__ import annotations

from core import hookimpl
from core.types import ConnectionResult, CronJob, Sandbox

from . import models  # noqa: F401  (registers the add-on's tables)

ADDON = "ebay"


@hookimpl
def register_settings_form() -> type:
    from .forms import SettingsForm

    return SettingsForm


@hookimpl
def register_blueprints(app) -> list:
    from .views import bp

    return [bp]


@hookimpl
def channel_account_key(shop, settings):
    """One eBay seller on one site is one account: the same seller may sell on eBay.fr in
    one shop and on eBay.de in another, never on eBay.fr in both."""
    user = (settings.get("username") or "").strip().lower()
    if not user:
        return None
    sites = [settings.get("marketplace") or "EBAY_FR"] + list(settings.get("marketplaces") or [])
    return [f"{user}:{s}" for s in dict.fromkeys(sites) if s]


@hookimpl
def connection_test(shop, settings) -> ConnectionResult:
    from .checks import check_connection

    return check_connection(shop, settings)


@hookimpl
def shop_diagnose(shop):
    if shop.addon != "ebay":
        return None
    from .checks import diagnose

    return diagnose(shop)


@hookimpl
def channel_sync_job() -> str:
    return "addons.ebay.jobs.sync_orders"


@hookimpl
def register_cron_jobs() -> list[CronJob]:
    return [CronJob("addons.ebay.jobs.push_all_stock", cron="15 3 * * *"),
            CronJob("addons.ebay.jobs.read_all_finances", cron="50 * * * *"),
            CronJob("addons.ebay.jobs.read_all_returns", cron="5,35 * * * *")]


@hookimpl
def stock_available_changed(shop, changes) -> None:
    """Mark the variants; one push per shop, which reads the final figures when it runs."""
    if shop.addon != ADDON or not changes or shop.status.value == "disconnected":
        return
    from core.jobs import enqueue

    from .jobs import mark_pending

    mark_pending(shop, [c.variant_id for c in changes])
    enqueue("addons.ebay.jobs.push_stock", shop.id, job_id=f"ebay-push_stock-{shop.id}", unique=True,
            shop_id=shop.id, delay=5, intervals=(30, 120, 600, 3600), retries=4)


def _ebay_order(order):
    from sqlalchemy import select

    from core.extensions import db

    from .models import EbayOrder

    return db.session.scalar(select(EbayOrder).where(EbayOrder.order_id == order.id))


@hookimpl
def shipping_shipment_shipped(shop, order, shipment) -> None:
    from core.models import FulfillmentChannel

    if shop.addon != ADDON or order.shop_id != shop.id or order.fulfillment_channel == FulfillmentChannel.MARKETPLACE:
        return
    if _ebay_order(order) is None:
        return
    from core.jobs import enqueue

    enqueue("addons.ebay.jobs.push_tracking", shipment.id, job_id=f"ebay-tracking-{shipment.id}", unique=True,
            shop_id=shop.id, intervals=(30, 120, 600, 3600), retries=4)


@hookimpl
def order_status_changed(shop, order, new) -> None:
    """An order cancelled in the OMS (not by eBay): a seller cancellation on eBay."""
    from core.models import OrderStatus

    if shop.addon != ADDON or new != OrderStatus.CANCELLED:
        return
    last = order.events[-1] if order.events else None
    if last is not None and (last.source or "").startswith("ebay"):
        return
    link = _ebay_order(order)
    if link is None or link.cancel_state == "CANCELED":
        return
    from core.jobs import enqueue

    enqueue("addons.ebay.jobs.cancel_order", order.id, job_id=f"ebay-cancel-{order.id}", unique=True,
            shop_id=shop.id)


@hookimpl
def register_sandbox() -> Sandbox:
    from . import sandbox

    return Sandbox(name=ADDON, make_app=sandbox.make_app, settings=sandbox.demo_settings, demo=sandbox.demo)
