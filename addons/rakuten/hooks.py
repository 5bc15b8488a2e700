"""Rakuten's hook implementations (fast, no network: slow work is enqueued)."""
from __future__ import annotations

from core import hookimpl
from core.types import ConnectionResult, CronJob, Sandbox

from . import models  # noqa: F401  (registers the add-on's tables)

ADDON = "rakuten"


def _is_rakuten_order(shop, order) -> bool:
    from sqlalchemy import select

    from core.extensions import db

    from .models import RakutenItem

    if shop.addon != ADDON or order.shop_id != shop.id:
        return False
    return db.session.scalar(select(RakutenItem.id).where(
        RakutenItem.shop_id == shop.id, RakutenItem.purchaseid == order.external_id).limit(1)) is not None


def _awaits_answer(shop, order) -> bool:
    """Items of this sale still waiting for the seller's answer at Rakuten."""
    from sqlalchemy import select

    from core.extensions import db

    from .mapping import ITEM_STATES, TO_ACCEPT
    from .models import RakutenItem

    if shop.addon != ADDON or order.shop_id != shop.id:
        return False
    waiting = [s for s, m in ITEM_STATES.items() if m == TO_ACCEPT]
    return db.session.scalar(select(RakutenItem.id).where(
        RakutenItem.shop_id == shop.id, RakutenItem.purchaseid == order.external_id,
        RakutenItem.status.in_(waiting), RakutenItem.decision.is_(None)).limit(1)) is not None


@hookimpl
def register_settings_form() -> type:
    from .forms import SettingsForm

    return SettingsForm


@hookimpl
def channel_account_key(shop, settings):
    """One Rakuten seller login is one account: the same one in two shops would import
    every sale, and reserve its stock, twice."""
    login = (settings.get("login") or "").strip().lower()
    return f"rakuten:{login}" if login else None


@hookimpl
def connection_test(shop, settings) -> ConnectionResult:
    from .checks import check_connection

    return check_connection(shop, settings)


@hookimpl
def shop_diagnose(shop):
    if shop.addon != "rakuten":
        return None
    from .diagnostic import diagnose

    return diagnose(shop)


@hookimpl
def channel_sync_job() -> str:
    return "addons.rakuten.jobs.sync_orders"


@hookimpl
def register_sandbox() -> Sandbox:
    from . import sandbox

    return Sandbox(name=ADDON, make_app=sandbox.make_app, settings=sandbox.demo_settings)


@hookimpl
def register_blueprints(app):
    from .views import bp

    return [bp]


@hookimpl
def register_cron_jobs():
    return [CronJob("addons.rakuten.jobs.reconcile_all", cron="35 3 * * *")]


@hookimpl
def register_commands(cli):
    from .commands import register

    register(cli)


@hookimpl
def channel_order_decision(shop, order, accepted, reason) -> None:
    """Core took (or refused) the order: each of its items waiting at Rakuten is accepted (or
    refused) by a job, one call per item (a sale already answered needs nothing)."""
    if not _awaits_answer(shop, order):
        return
    from core.jobs import enqueue

    enqueue("addons.rakuten.jobs.send_decision", order.id, bool(accepted), reason or "",
            job_id=f"rakuten-decision-{order.id}", unique=True, shop_id=shop.id)


@hookimpl
def order_status_changed(shop, order, old, new) -> None:
    """An order the merchant cancelled in the OMS after Rakuten's items were accepted: each
    accepted item is cancelled at Rakuten (cancelitem). Rakuten's own cancellations are not
    sent back."""
    from core.models import OrderStatus

    if new != OrderStatus.CANCELLED or not _is_rakuten_order(shop, order):
        return
    last = order.events[-1] if order.events else None
    if last is not None and (last.source or "").startswith(ADDON):
        return
    from core.jobs import enqueue

    enqueue("addons.rakuten.jobs.cancel_items", order.id, "Annulée par le vendeur", job_id=f"rakuten-cancel-{order.id}", unique=True, shop_id=shop.id)


@hookimpl
def stock_available_changed(shop, changes) -> None:
    """Mark the changed variants and queue one push job per shop (figures read afresh)."""
    if shop.addon != ADDON or not changes:
        return
    from core.jobs import enqueue

    from .jobs import mark_pending

    mark_pending(shop, [c.variant_id for c in changes])
    enqueue("addons.rakuten.jobs.push_stock", shop.id, job_id=f"rakuten-push_stock-{shop.id}", unique=True,
            shop_id=shop.id)


@hookimpl
def shipping_shipment_shipped(shop, order, shipment) -> None:
    """Queue the tracking's sending for the items of a Rakuten sale the merchant ships."""
    from core.models import FulfillmentChannel

    if order.fulfillment_channel == FulfillmentChannel.MARKETPLACE or not _is_rakuten_order(shop, order):
        return
    from core.jobs import enqueue

    enqueue("addons.rakuten.jobs.push_tracking", shipment.id, job_id=f"rakuten-tracking-{shipment.id}",
            unique=True, shop_id=shop.id)
