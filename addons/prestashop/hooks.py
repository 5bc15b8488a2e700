"""PrestaShop's hook implementations (fast, no network: the work is enqueued)."""
from __future__ import annotations

from core import hookimpl
from core.types import ConnectionResult, Sandbox

from . import models  # noqa: F401  (registers the add-on's tables)

ADDON = "prestashop"


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
    """A PrestaShop account is its shop address and the shop id of a multistore."""
    from .client import account_key

    return account_key(settings.get("shop_url"), settings.get("id_shop") or 1) if settings.get("shop_url") else None


@hookimpl
def connection_test(shop, settings) -> ConnectionResult:
    from .checks import check_connection

    return check_connection(settings, shop)


@hookimpl
def shop_diagnose(shop):
    if shop.addon != "prestashop":
        return None
    from .diagnostic import diagnose

    return diagnose(shop)


@hookimpl
def channel_sync_job() -> str:
    return "addons.prestashop.jobs.sync_orders"


@hookimpl
def stock_available_changed(shop, changes) -> None:
    if shop.addon != ADDON or shop.status.value == "disconnected" or not changes:
        return
    from core.jobs import enqueue

    enqueue("addons.prestashop.jobs.push_stock", shop.id, sorted({c.variant_id for c in changes}), shop_id=shop.id,
            intervals=(5, 30, 120, 600), retries=4)


@hookimpl
def shipping_shipment_shipped(shop, order, shipment) -> None:
    if shop.addon != ADDON or not order.external_id.isdigit():
        return
    from core.jobs import enqueue

    enqueue("addons.prestashop.jobs.push_tracking", shop.id, shipment.id, job_id=f"prestashop-tracking-{shipment.id}",
            unique=True, shop_id=shop.id, intervals=(30, 120, 600, 3600), retries=4)


@hookimpl
def order_status_changed(shop, order, new) -> None:
    from core.models import OrderStatus

    if shop.addon != ADDON or new != OrderStatus.CANCELLED or not order.external_id.isdigit():
        return
    last = order.events[-1] if order.events else None
    if last is not None and (last.source or "").startswith(f"{ADDON}:"):
        return  # the cancellation came from PrestaShop
    from core.jobs import enqueue

    enqueue("addons.prestashop.jobs.cancel_order", shop.id, order.id, job_id=f"prestashop-cancel-{order.id}",
            unique=True, shop_id=shop.id)


@hookimpl
def register_sandbox() -> Sandbox:
    from . import sandbox

    return Sandbox(name=ADDON, make_app=sandbox.demo_app, settings=sandbox.demo_settings)
