"""Mirakl's hook implementations (fast, no network but the connection test: slow work is enqueued)."""
from __future__ import annotations

from core import hookimpl
from core.connectors import RetryPolicy
from core.types import CatalogEntry, ConnectionResult, CronJob, Sandbox

from . import models  # noqa: F401  (registers the add-on's tables)
from core.i18n import _

NAME = "mirakl"
#: the merchant waits on the settings page: one quick retry at most
QUICK = RetryPolicy(attempts=2, max_wait=2.0)


@hookimpl
def register_settings_form():
    from .forms import SettingsForm

    return SettingsForm


@hookimpl
def register_catalog_entries():
    """One catalog card per operator of ``operators.json``."""
    from flask_babel import gettext as _

    from .operators import all_operators

    return [CatalogEntry(key=op.code, title=op.name, category="marketplace",
                         summary=_("%(name)s — %(sells)s. Vos commandes %(name)s arrivent dans l'OMS et sont "
                                   "acceptées d'elles-mêmes quand le stock est là ; vos stocks, les numéros de "
                                   "suivi, les annulations et les remboursements repartent vers %(name)s.",
                                   name=op.name, sells=op.sells),
                         sector=op.category, sector_label=op.category_label, website=op.instance_url,
                         help_url=op.help_url,
                         initials=op.initials, color=op.color, keywords=("mirakl", op.sells))
            for op in all_operators()]


@hookimpl
def channel_account_key(shop, settings):
    """One Mirakl shop is an instance and a shop id (or the key's own shop): connected once."""
    from urllib.parse import urlsplit

    from .runtime import instance_url

    url = instance_url(shop, settings)
    host = (urlsplit(url).hostname or "").lower()
    if not host:
        return None
    shop_id = (settings.get("shop_id") or "").strip()
    if not shop_id:
        from .client import account_key

        if not settings.get("api_key"):
            return None
        return f"{host}:key:{account_key(url, settings['api_key']).split(':', 1)[1]}"
    return f"{host}:{shop_id}"


@hookimpl
def connection_test(shop, settings) -> ConnectionResult:
    """A01: the shop account the key opens (name, id, state, currency). Runs in jobs too
    (the demo's check): plain French sentences, as core stores them on the card."""
    from .client import MiraklError
    from .runtime import client_for, operator

    try:
        account = client_for(shop, settings, timeout=5.0, retry=QUICK).shop_account()
    except MiraklError as exc:
        return ConnectionResult(False, str(exc))
    op = operator(shop)
    details = [f"boutique n° {account.get('shop_id')}, état : {account.get('shop_state')}",
               f"devise : {account.get('currency_iso_code', '')}"]
    if account.get("channels"):
        details.append("canaux : " + ", ".join(account["channels"]))
    return ConnectionResult(True, _("connecté à la boutique « %(get)s » sur %(name)s",
                                    get=account.get('shop_name', ''), name=op.name), details)


@hookimpl
def shop_diagnose(shop):
    if shop.addon != "mirakl":
        return None
    from .diagnostic import diagnose

    return diagnose(shop)


@hookimpl
def channel_sync_job(shop):
    return "addons.mirakl.jobs.sync_orders"


@hookimpl
def register_sandbox():
    from . import sandbox

    return Sandbox(name=NAME, make_app=sandbox.make_app, settings=sandbox.demo_settings, demo=sandbox.load_demo)


@hookimpl
def register_blueprints(app):
    from .views import bp

    return [bp]


@hookimpl
def register_cron_jobs():
    return [CronJob("addons.mirakl.jobs.check_acceptance_all", cron="*/15 * * * *"),
            CronJob("addons.mirakl.jobs.refresh_all_carriers", cron="15 4 * * *"),
            CronJob("addons.mirakl.jobs.poll_all_returns", cron="7,22,37,52 * * * *"),
            CronJob("addons.mirakl.jobs.reconcile_all_stock", cron="40 3 * * *")]


@hookimpl
def channel_order_decision(shop, order, accepted, reason):
    """Core decided: OR21 goes out in a job (every line, one call)."""
    if shop.addon != NAME or order.shop_id != shop.id:
        return
    from core.jobs import enqueue

    enqueue("addons.mirakl.jobs.send_decision", shop.id, order.id, bool(accepted), reason or "",
            job_id=f"mirakl-decision-{order.id}", unique=True, shop_id=shop.id)


@hookimpl
def stock_available_changed(shop, changes) -> None:
    """Mark the changed variants and queue one push per shop (figures read afresh when it runs)."""
    if shop.addon != NAME or not changes:
        return
    from core.jobs import enqueue

    from .jobs import mark_pending

    mark_pending(shop, [c.variant_id for c in changes])
    enqueue("addons.mirakl.jobs.push_stock", shop.id, job_id=f"mirakl-push_stock-{shop.id}", unique=True,
            shop_id=shop.id)


@hookimpl
def shipping_shipment_shipped(shop, order, shipment) -> None:
    if shop.addon != NAME or order.shop_id != shop.id or order.external_id is None:
        return
    from core.jobs import enqueue

    enqueue("addons.mirakl.jobs.push_tracking", shop.id, shipment.id, job_id=f"mirakl-tracking-{shipment.id}",
            unique=True, shop_id=shop.id)


@hookimpl
def order_status_changed(shop, order, old, new) -> None:
    """An order the merchant cancels in the OMS after accepting it: its lines cancelled with OR30. (Never accepted,
    core refuses it through ``channel_order_decision``; cancelled by Mirakl, nothing to say.)"""
    from core.models import OrderStatus

    if shop.addon != NAME or new != OrderStatus.CANCELLED or order.external_id is None:
        return
    last = order.events[-1] if order.events else None
    if last is not None and (last.source or "").startswith("mirakl"):
        return
    if not any(e.kind == "decision" and (e.data or {}).get("accepted") for e in order.events):
        return
    from core.jobs import enqueue

    enqueue("addons.mirakl.jobs.cancel_order", shop.id, order.id, job_id=f"mirakl-cancel-{order.id}", unique=True,
            shop_id=shop.id)


@hookimpl
def order_refund_recorded(shop, order, ret) -> None:
    """A refund recorded in the OMS for a Mirakl order: OR28 in a job."""
    if shop.addon != NAME or order.shop_id != shop.id or order.external_id is None:
        return
    from core.jobs import enqueue

    enqueue("addons.mirakl.jobs.send_refund", shop.id, ret.id, job_id=f"mirakl-refund-{ret.id}", unique=True,
            shop_id=shop.id)
