"""DHL Express's hook implementations."""
from __future__ import annotations

import logging

from core import hookimpl
from core.types import CronJob, Sandbox

from . import models  # noqa: F401  (registers the add-on's tables)

ADDON = "dhl"
log = logging.getLogger(__name__)


@hookimpl
def register_settings_form() -> type:
    from .forms import SettingsForm

    return SettingsForm


@hookimpl
def connection_test(shop, settings):
    from .checks import check_connection

    return check_connection(shop, settings)


@hookimpl
def channel_account_key(shop, settings):
    """The DHL Express account these settings name (several shops of one organization may
    ship on one account: core refuses duplicates only among a channel's own shops)."""
    number = (settings.get("account_number") or "").strip()
    return f"dhl:{number}" if number else None


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
    return [CronJob("addons.dhl.jobs.poll_statuses", interval=60 * 60)]


@hookimpl
def shipping_quote_rates(shop, order, parcels):
    """The account's DHL Express products and prices for these parcels (``POST /rates``).
    DHL unreachable: no rate (the packer still sees the others)."""
    from . import mapping
    from .checks import mydhl, sender_address
    from .client import DhlError
    from .labels import recipient

    settings = shop.addon_settings(ADDON)
    try:
        body = mapping.rates_body(account=settings.get("account_number") or "", sender=sender_address(settings),
                                  receiver=recipient(order), parcels=parcels, day=mapping.ship_day())
        return mapping.rates_from(mydhl(settings, shop.id).rates(body), ADDON)
    except DhlError as exc:
        log.warning("DHL rates unavailable for shop %s: %s", shop.id, exc)
        return []


@hookimpl
def shipping_create_label(shop, order, shipment):
    """DHL Express shipments: the label at once (``POST /shipments``) or, while DHL is
    unreachable, a draft a job finishes after checking DHL does not already have it."""
    if shipment.carrier != ADDON:
        return None
    from .labels import create_label_now

    return create_label_now(shop, order, shipment)


@hookimpl
def shipping_cancel_label(shop, shipment):
    from .labels import cancel

    return cancel(shop, shipment)


@hookimpl
def shipping_track(shop, shipment):
    """Where a DHL parcel is (Shipment Tracking – Unified, one call of the key's quota)."""
    if shipment.carrier != ADDON:
        return None
    from .client import DhlError
    from .labels import row_of
    from .tracking import ask

    row = row_of(shipment)
    if row is None or row.state != "created" or not row.tracking_number:
        return None
    try:
        ask(shop, row, reserve=True)
    except DhlError as exc:
        log.warning("DHL tracking unavailable for shipment %s: %s", shipment.id, exc)
        return None
    return shipment.status.value
