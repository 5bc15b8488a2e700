"""Dropshipping's hook implementations: a fulfilment source (see core.contracts.FulfilmentSource).

Lines the suppliers serve are routed to them; once the order is allocated each supplier
gets its purchase order; their cost counts in the margin."""
from __future__ import annotations

from core import hookimpl
from core.models import LineSource, OrderStatus
from core.money import Money
from core.types import ConnectionResult, CronJob, Sandbox

from . import models  # noqa: F401  (registers the add-on's tables)

ADDON = "dropship"


@hookimpl
def register_settings_form() -> type:
    from .forms import SettingsForm

    return SettingsForm


@hookimpl
def connection_test(shop, settings) -> ConnectionResult:
    from .checks import check_connection

    return check_connection(settings, shop.organization_id if shop is not None else None)


@hookimpl
def register_sandbox() -> Sandbox:
    from . import demo, sandbox

    return Sandbox(name=ADDON, make_app=sandbox.make_app, settings=sandbox.demo_settings, demo=demo.load_demo)


@hookimpl
def register_blueprints(app):
    from .views import bp

    return [bp]


@hookimpl
def register_cron_jobs():
    return [CronJob("addons.dropship.jobs.send_due_batches", interval=300),
            CronJob("addons.dropship.jobs.fetch_due_feeds", interval=300)]


@hookimpl
def routing_choose_source(shop, order, line):
    from .routing import choose

    return choose(shop, order, line, shop.addon_settings(ADDON))


@hookimpl
def order_status_changed(shop, order, old, new):
    if new == OrderStatus.ALLOCATED:
        from .purchasing import create_purchase_orders

        create_purchase_orders(shop, order)
    elif new == OrderStatus.CANCELLED:
        from .purchasing import cancel_purchase_orders

        cancel_purchase_orders(order)


@hookimpl
def cost_of_line(order, line):
    if line.source != LineSource.DROPSHIP:
        return None
    from .routing import routed_line

    row = routed_line(line)
    if row is None or row.unit_cost is None:
        return None
    return Money(row.unit_cost, row.currency)


@hookimpl
def collect_alerts(organization, now):
    from .alerts import late_and_failed

    return late_and_failed(organization, now)
