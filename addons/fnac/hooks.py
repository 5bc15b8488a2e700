"""Fnac Darty's hook implementations (fast, no network: slow work is enqueued)."""
from __future__ import annotations

from core import hookimpl
from core.types import ConnectionResult, CronJob, Sandbox

from . import models  # noqa: F401  (registers the add-on's tables)

NAME = "fnac"
#: seconds a stock push waits for more changes to join it
PUSH_DELAY = 20


@hookimpl
def register_settings_form() -> type:
    from .forms import SettingsForm

    return SettingsForm


@hookimpl
def channel_account_key(shop, settings):
    """One Fnac Darty shop is its partner id and shop id: a seller's Fnac shop and Darty shop
    (same partner id, two shop ids) may be two OMS shops, the same shop id twice may not."""
    partner = (settings.get("partner_id") or "").strip().lower()
    shop_id = (settings.get("shop_id") or "").strip().lower()
    if not (partner and shop_id):
        return None
    return f"{partner}:{shop_id}"


@hookimpl
def connection_test(shop, settings) -> ConnectionResult:
    from .checks import check_connection

    return check_connection(shop, settings)


@hookimpl
def shop_diagnose(shop):
    if shop.addon != "fnac":
        return None
    from .diagnostic import diagnose

    return diagnose(shop)


@hookimpl
def channel_sync_job() -> str:
    return "addons.fnac.jobs.sync_orders"


@hookimpl
def register_sandbox() -> Sandbox:
    from . import sandbox
    from .checks import demo

    return Sandbox(name=NAME, make_app=sandbox.make_app, settings=sandbox.settings_for, demo=demo)


@hookimpl
def register_blueprints(app):
    from .views import bp

    return [bp]


@hookimpl
def register_cron_jobs():
    return [CronJob("addons.fnac.jobs.reconcile_all", cron="10 3 * * *"),
            CronJob("addons.fnac.jobs.refuse_overdue", cron="25 * * * *")]


@hookimpl
def channel_order_decision(shop, order, accepted, reason) -> None:
    """Accept each line once the stock is allocated; refuse them when the merchant cancels an
    order never accepted (Fnac Darty asks the seller to decide on every sale)."""
    if shop.addon != NAME or order.shop_id != shop.id:
        return
    from core.jobs import enqueue

    from .sync import remote_state

    state = remote_state(order.external_id)
    if state is not None and state != "Created":
        return  # being imported already accepted, sent or closed at Fnac Darty: nothing to decide
    enqueue("addons.fnac.jobs.decide_order", order.id, bool(accepted), reason or "", shop_id=shop.id,
            job_id=f"fnac-decide-{order.id}", unique=True)


@hookimpl
def stock_available_changed(shop, changes) -> None:
    """Mark the offers of the changed variants and queue one push per shop (figures read when it runs)."""
    if shop.addon != NAME or not changes:
        return
    from core.jobs import enqueue

    from .offers import mark_pending

    if mark_pending(shop, [c.variant_id for c in changes]):
        # a few seconds' delay: the changes of a busy minute leave in one offers_update
        enqueue("addons.fnac.jobs.push_stock", shop.id, job_id=f"fnac-push_stock-{shop.id}", unique=True,
                shop_id=shop.id, delay=PUSH_DELAY)


@hookimpl
def shipping_shipment_shipped(shop, order, shipment) -> None:
    if shop.addon != NAME or order.shop_id != shop.id:
        return
    from core.jobs import enqueue

    enqueue("addons.fnac.jobs.push_tracking", shipment.id, shop_id=shop.id, job_id=f"fnac-ship-{shipment.id}",
            unique=True)


@hookimpl
def order_status_changed(shop, order, old, new) -> None:
    """An order cancelled in the OMS (not by Fnac Darty): refunded there if it was accepted."""
    from core.models import OrderStatus

    if shop.addon != NAME or order.shop_id != shop.id or new != OrderStatus.CANCELLED:
        return
    last = order.events[-1] if order.events else None
    if last is not None and (last.source or "").startswith(NAME):
        return  # Fnac Darty itself cancelled it
    from core.jobs import enqueue

    enqueue("addons.fnac.jobs.cancel_order", order.id, shop_id=shop.id, job_id=f"fnac-cancel-{order.id}",
            unique=True)
