"""Sendcloud's hook implementations."""
from __future__ import annotations

from core import hookimpl
from core.types import ConnectionResult, CronJob, Sandbox

from . import models  # noqa: F401  (registers the add-on's tables)

ADDON = "sendcloud"


@hookimpl
def register_settings_form() -> type:
    from .forms import SettingsForm

    return SettingsForm


@hookimpl
def connection_test(shop, settings) -> ConnectionResult:
    from .checks import check_connection

    return check_connection(shop, settings)


@hookimpl
def register_sandbox() -> Sandbox:
    from . import sandbox

    return Sandbox(name="sendcloud", make_app=sandbox.make_app, settings=sandbox.demo_settings)


@hookimpl
def register_blueprints(app):
    from .views import bp

    return [bp]


@hookimpl
def register_cron_jobs():
    return [CronJob("addons.sendcloud.jobs.poll_statuses", interval=30 * 60)]


@hookimpl
def shipping_create_label(shop, order, shipment):
    """Shipments of the Sendcloud carrier: announced at once (a label comes back) or, while
    Sendcloud is unreachable, left as drafts that a job announces later. This one call to
    the network in a hook is the packer waiting for the label, with a short timeout."""
    if shipment.carrier != ADDON:
        return None
    from .labels import create_label_now

    return create_label_now(shop, order, shipment)


@hookimpl
def shipping_cancel_label(shop, shipment):
    from .labels import cancel_now

    return cancel_now(shop, shipment)


@hookimpl
def shipping_track(shop, shipment):
    """Where a Sendcloud parcel is, asked to Sendcloud (the poll fallback of the webhooks)."""
    from .labels import parcel_row
    from .tracking import fetch_status

    row = parcel_row(shipment)
    if row is None or row.state != "announced":
        return None
    remote = fetch_status(shop, row)
    if remote is None:
        return None
    status = remote.shipment_status
    return (status or shipment.status).value


@hookimpl
def shipping_quote_rates(shop, order, parcels):
    """Prices of the account's methods for these parcels to the order's country (Sendcloud
    quotes, v3 shipping options or v2 method prices). An unreachable Sendcloud gives no rate."""
    from .quotes import quote

    return quote(shop, order, parcels)
