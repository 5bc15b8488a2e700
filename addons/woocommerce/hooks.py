"""WooCommerce's hook implementations (fast, no network: the work is enqueued)."""
from __future__ import annotations

from core import hookimpl
from core.types import ConnectionResult, CronJob, NormalizedOrder, Sandbox

from . import models  # noqa: F401  (registers the add-on's tables)

ADDON = "woocommerce"


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
    """A WooCommerce store is its address, normalised (no scheme, no ``www.``, no trailing slash)."""
    from .client import account_key

    return account_key(settings.get("store_url"))


@hookimpl
def connection_test(shop, settings) -> ConnectionResult:
    from .checks import check_connection

    return check_connection(settings, shop)


@hookimpl
def shop_diagnose(shop):
    if shop.addon != "woocommerce":
        return None
    from .diagnostic import diagnose

    return diagnose(shop)


@hookimpl
def channel_sync_job() -> str:
    return "addons.woocommerce.jobs.sync_orders"


@hookimpl
def register_cron_jobs() -> list[CronJob]:
    # webhooks are hints (WooCommerce never retries and disables a webhook after 5 failures):
    # every 15 minutes the webhooks are checked and the orders modified since read again
    return [CronJob("addons.woocommerce.jobs.reconcile_all", interval=15 * 60),
            CronJob("addons.woocommerce.jobs.reconcile_stock_all", cron="40 2 * * *")]


@hookimpl
def intake_normalize_order(shop, payload) -> NormalizedOrder | None:
    """A WooCommerce v3 order (REST or webhook shape) of a WooCommerce shop."""
    if shop is None or shop.addon != ADDON or not isinstance(payload, dict):
        return None
    if "line_items" not in payload or "order_key" not in payload:
        return None
    from .mapping import normalize

    return normalize(payload)


@hookimpl
def stock_available_changed(shop, changes) -> None:
    """Queue one push per shop; the job reads the figures again when it runs (latest wins)."""
    if shop.addon != ADDON or shop.status.value == "disconnected" or not changes:
        return
    from core.jobs import enqueue

    enqueue("addons.woocommerce.jobs.push_stock", shop.id, sorted({c.variant_id for c in changes}), shop_id=shop.id,
            intervals=(5, 30, 120, 600), retries=4)


@hookimpl
def shipping_shipment_shipped(shop, order, shipment) -> None:
    if shop.addon != ADDON or order.origin == "pos" or not order.external_id.isdigit():
        return
    from core.jobs import enqueue

    enqueue("addons.woocommerce.jobs.push_tracking", shop.id, shipment.id,
            job_id=f"woocommerce-tracking-{shipment.id}", unique=True, shop_id=shop.id,
            intervals=(30, 120, 600, 3600), retries=4)


@hookimpl
def order_status_changed(shop, order, new) -> None:
    """An order cancelled in the OMS (not by WooCommerce itself) is cancelled on the store."""
    from core.models import OrderStatus

    if shop.addon != ADDON or new != OrderStatus.CANCELLED or not order.external_id.isdigit():
        return
    last = order.events[-1] if order.events else None
    if last is not None and (last.source or "").startswith(f"{ADDON}:"):
        return  # the cancellation came from WooCommerce
    from core.jobs import enqueue

    enqueue("addons.woocommerce.jobs.cancel_order", shop.id, order.id, job_id=f"woocommerce-cancel-{order.id}",
            unique=True, shop_id=shop.id)


@hookimpl
def register_sandbox() -> Sandbox:
    from . import sandbox

    return Sandbox(name=ADDON, make_app=sandbox.demo_app, settings=sandbox.demo_settings)
