"""Core's own hook implementations: the defaults an add-on can override.

All are ``trylast`` so any enabled add-on answering the same hook wins.
"""
from __future__ import annotations

from . import hookimpl, picking
from .routing import choose
from .types import CronJob


@hookimpl(trylast=True)
def routing_choose_source(shop, order, line):
    """Marketplace-fulfilled and POS orders to their warehouse; otherwise the merchant's
    routing rules, then the shop's stock pool by priority (``core.routing``)."""
    return choose(shop, order, line)


@hookimpl(trylast=True)
def shipping_shipment_shipped(shipment):
    """The parcel left: its place in a pick wave (if any) is done, and the wave follows."""
    picking.shipment_left(shipment)


@hookimpl(trylast=True)
def shipping_shipment_cancelled(shipment):
    """A parcel cancelled before leaving: its order can be packed again."""
    picking.shipment_cancelled(shipment)


@hookimpl(trylast=True)
def shipping_cancel_label(shipment):
    """The manual carrier has nothing to cancel remotely."""
    if shipment.carrier == "manual":
        return True
    return None


@hookimpl
def register_cron_jobs():
    """Nightly: push every SKU's figure to every channel (catches anything missed), then
    refresh the analytics figures of the orders changed since the last night, then purge the
    job history past its retention. Hourly: ask the carriers about parcels they have said
    nothing of for a while (``shipping_track``)."""
    return [CronJob("core.stock.reconcile_all", cron="0 2 * * *"),
            CronJob("core.analytics_jobs.refresh_changed", cron="30 2 * * *"),
            CronJob("core.retention.purge", cron="0 4 * * *"),
            CronJob("core.alerts.send_digests", cron="0 6 * * *"),
            CronJob("core.shipping.track_all", interval=3600)]
