"""Shopify's hook implementations (fast, no network: the work is enqueued)."""
from __future__ import annotations

from core import hookimpl
from core.types import ConnectionResult, CronJob, NormalizedOrder, Sandbox

from . import models  # noqa: F401  (registers the add-on's tables)

ADDON = "shopify"


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
    """A Shopify store is its ``*.myshopify.com`` domain."""
    domain = (settings.get("shop_domain") or "").strip().lower()
    return domain.removeprefix("https://").rstrip("/") or None


@hookimpl
def connection_test(shop, settings) -> ConnectionResult:
    from .checks import check_connection

    return check_connection(settings, shop)


@hookimpl
def shop_diagnose(shop):
    if shop.addon != ADDON:
        return None
    from .checks import diagnose

    return diagnose(shop)


@hookimpl
def channel_sync_job() -> str:
    return "addons.shopify.jobs.sync_shop"


@hookimpl
def register_cron_jobs() -> list[CronJob]:
    return [CronJob("addons.shopify.jobs.purge_inbox", cron="30 3 * * *")]


@hookimpl
def intake_normalize_order(shop, payload) -> NormalizedOrder | None:
    """A Shopify ``Order`` resource (webhook shape) of a Shopify shop."""
    if shop is None or shop.addon != ADDON or not isinstance(payload, dict):
        return None
    if "line_items" not in payload or not str(payload.get("admin_graphql_api_id", "")).startswith("gid://shopify/"):
        return None
    from .jobs import normalize_order

    return normalize_order(shop, payload)


@hookimpl
def stock_available_changed(shop, changes) -> None:
    """Queue the push; the job reads the figures again when it runs (latest wins)."""
    if shop.addon != ADDON or shop.status.value == "disconnected" or not changes:
        return
    from core.jobs import enqueue

    enqueue("addons.shopify.jobs.push_stock", shop.id, sorted({c.variant_id for c in changes}), shop_id=shop.id,
            intervals=(5, 30, 120, 600), retries=4)


@hookimpl
def shipping_shipment_shipped(shop, order, shipment) -> None:
    if shop.addon != ADDON or order.origin == "pos" or not order.external_id.isdigit():
        return
    from core.jobs import enqueue

    enqueue("addons.shopify.jobs.push_fulfillment", shop.id, shipment.id, job_id=f"shopify-fulfillment-{shipment.id}",
            unique=True, shop_id=shop.id, intervals=(30, 120, 600, 3600), retries=4)


@hookimpl
def order_status_changed(shop, order, new) -> None:
    """An order cancelled in the OMS (not by Shopify itself) is cancelled on Shopify."""
    from core.models import OrderStatus

    if shop.addon != ADDON or new != OrderStatus.CANCELLED or order.origin == "pos" \
            or not order.external_id.isdigit():  # only orders Shopify knows (numeric ids)
        return
    last = order.events[-1] if order.events else None
    if last is not None and (last.source or "").startswith(f"{ADDON}:"):
        return  # the cancellation came from Shopify
    from core.jobs import enqueue

    enqueue("addons.shopify.jobs.cancel_order", shop.id, order.id, job_id=f"shopify-cancel-{order.id}", unique=True,
            shop_id=shop.id)


@hookimpl
def register_sandbox() -> Sandbox:
    from . import sandbox

    return Sandbox(name="shopify", make_app=sandbox.demo_app, settings=sandbox.demo_settings, demo=sandbox.load_demo,
                   installation=sandbox.installation)


@hookimpl
def product_channel_actions(shop, product):
    """On the product page: published on this Shopify store or not, with "Publier"."""
    if shop.addon != "shopify":
        return None
    from .catalog import channel_actions

    return channel_actions(shop, product)
