"""Amazon's hook implementations (fast, no network: slow work is enqueued)."""
from __future__ import annotations

from core import hookimpl
from core.types import ConnectionResult, CronJob, Sandbox

from . import models  # noqa: F401  (registers the add-on's tables)
from core.i18n import _


@hookimpl
def register_settings_form() -> type:
    from .forms import SettingsForm

    return SettingsForm


@hookimpl
def channel_account_key(shop, settings):
    """One seller's marketplace is one account: the same seller may sell on .fr in one shop
    and on .de in another, never on .fr in both (every order would come in twice)."""
    seller = (settings.get("selling_partner_id") or "").strip().upper()
    if not seller:
        return None
    marketplaces = settings.get("marketplaces") or []
    if isinstance(marketplaces, str):
        marketplaces = [m for m in marketplaces.replace(";", ",").split(",")]
    return [f"{seller}:{m.strip().upper()}" for m in marketplaces if m.strip()] or [seller]


@hookimpl
def connection_test(shop, settings) -> ConnectionResult:
    from .checks import check_connection

    return check_connection(shop, settings)


@hookimpl
def shop_diagnose(shop):
    """Amazon's lines of the shop's diagnostic (one read of the seller's marketplaces)."""
    if shop.addon != "amazon":
        return None
    from .checks import diagnose

    return diagnose(shop)


@hookimpl
def channel_sync_job() -> str:
    return "addons.amazon.jobs.sync_orders"


@hookimpl
def register_sandbox() -> Sandbox:
    from . import sandbox

    return Sandbox(name="amazon", make_app=sandbox.make_app, settings=sandbox.demo_settings)


@hookimpl
def register_blueprints(app):
    from .views import bp

    return [bp]


@hookimpl
def register_cron_jobs():
    return [CronJob("addons.amazon.jobs.refresh_all_fba", cron="20 * * * *"),
            CronJob("addons.amazon.jobs.read_all_finances", cron="40 * * * *")]


@hookimpl
def stock_available_changed(shop, changes) -> None:
    """Mark the changed variants and queue one push job per shop (figures are read afresh
    when it runs)."""
    if shop.addon != "amazon" or not changes:
        return
    from core.jobs import enqueue

    from .stock_sync import mark_pending

    mark_pending(shop, [c.variant_id for c in changes])
    enqueue("addons.amazon.jobs.push_stock", shop.id, job_id=f"amazon-push_stock-{shop.id}", unique=True,
            shop_id=shop.id)


@hookimpl
def shipping_shipment_shipped(shop, order, shipment) -> None:
    """Queue the tracking's confirmation for merchant-fulfilled orders imported from Amazon."""
    from sqlalchemy import select

    from core.extensions import db
    from core.models import FulfillmentChannel

    from .models import AmazonOrder

    if shop.addon != "amazon" or order.shop_id != shop.id:
        return
    if order.fulfillment_channel == FulfillmentChannel.MARKETPLACE:
        return
    if db.session.scalar(select(AmazonOrder.id).where(AmazonOrder.order_id == order.id)) is None:
        return  # not an Amazon order (entered by hand on this shop)
    from core.jobs import enqueue

    enqueue("addons.amazon.jobs.confirm_shipment", shipment.id, job_id=f"amazon-confirm-{shipment.id}",
            unique=True, shop_id=shop.id)


@hookimpl
def order_status_changed(shop, order, old, new) -> None:
    """An Amazon order cancelled in the OMS (not by Amazon): the SP-API operations the
    add-on uses cannot cancel an order, so the order's history tells the merchant to cancel
    it in Seller Central too."""
    from sqlalchemy import select

    from core import orders as order_flow
    from core.extensions import db
    from core.models import OrderStatus

    from .models import AmazonOrder

    if shop.addon != "amazon" or new != OrderStatus.CANCELLED:
        return
    last = order.events[-1] if order.events else None
    if last is not None and (last.source or "").startswith("amazon"):
        return  # Amazon itself cancelled it
    row = db.session.scalar(select(AmazonOrder).where(AmazonOrder.order_id == order.id))
    if row is None or row.status == "CANCELLED":
        return
    order_flow.record(order, "channel", _("annulée dans l'OMS : annulez aussi la commande %(amazon_order_id)s "
                                          "dans Seller Central (Commandes › Gérer les commandes › Annuler la "
                                          "commande)", amazon_order_id=row.amazon_order_id),
                      source="amazon")


@hookimpl
def product_channel_actions(shop, product):
    """On the product page: each Amazon listing of the product's SKUs, by marketplace."""
    if shop.addon != "amazon":
        return None
    from .catalog import channel_actions

    return channel_actions(shop, product)
