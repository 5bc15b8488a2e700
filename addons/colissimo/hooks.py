"""Colissimo's hook implementations."""
from __future__ import annotations

from core import hookimpl
from core.types import CronJob, Rate, Sandbox

from . import models  # noqa: F401  (registers the add-on's tables)

ADDON = "colissimo"


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
    """The Colissimo contract these settings name (shops of one organization may share it)."""
    number = (settings.get("contract_number") or "").strip()
    return f"colissimo:{number}" if number else None


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
    return [CronJob("addons.colissimo.jobs.poll_statuses", interval=2 * 60 * 60)]


@hookimpl
def shipping_quote_rates(shop, order, parcels):
    """The merchant's contract prices (Colissimo publishes no rate API): home delivery, and
    the pick-up point when the order carries a Colissimo point. No local computation is a call."""
    from . import mapping
    from .labels import pickup_point_of

    settings = shop.addon_settings(ADDON)
    grams = sum(int(p.get("weight_grams") or 0) for p in parcels) or 1000
    rates = []
    home = settings.get("product_code") or "DOM"
    price = mapping.tariff(settings.get("tariffs"), grams)
    if price is not None:
        rates.append(Rate(carrier=ADDON, service=mapping.PRODUCTS[home], price=price, currency="EUR",
                          method_id=home, service_level="standard", delivery_days=2))
    relay = mapping.tariff(settings.get("relay_tariffs"), grams)
    if relay is not None and pickup_point_of(order):
        rates.append(Rate(carrier=ADDON, service=mapping.PRODUCTS["HD"], price=relay, currency="EUR",
                          method_id="HD", service_level="standard", delivery_days=3))
    return rates


@hookimpl
def shipping_create_label(shop, order, shipment):
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
    if shipment.carrier != ADDON:
        return None
    from .tracking import status_now

    return status_now(shop, shipment)
