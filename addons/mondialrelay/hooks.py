"""Mondial Relay's hook implementations."""
from __future__ import annotations

from core import hookimpl
from core.connectors import RetryPolicy
from core.types import ConnectionResult, Sandbox

from . import models  # noqa: F401  (registers the add-on's tables)

ADDON = "mondialrelay"
#: the merchant waits on the settings page: one quick retry at most
QUICK = RetryPolicy(attempts=2, max_wait=2.0)


@hookimpl
def register_settings_form():
    from .forms import SettingsForm

    return SettingsForm


@hookimpl
def connection_test(shop, settings):
    """Both credential sets: API 1 by a signed relay-point search around the sender, API 2 by
    reading the account's answer to an empty shipment list (refused credentials: code 10001)."""
    from .checks import check_connection

    return check_connection(shop, settings)


@hookimpl
def register_sandbox():
    from . import sandbox

    return Sandbox(name=ADDON, make_app=sandbox.make_app, settings=sandbox.demo_settings)


@hookimpl
def register_blueprints(app):
    from .views import bp

    return [bp]


@hookimpl
def shipping_create_label(shop, order, shipment):
    if shipment.carrier != ADDON:
        return None
    from .labels import create_label

    return create_label(shop, order, shipment)


@hookimpl
def shipping_cancel_label(shop, shipment):
    from .labels import cancel, ours

    if not ours(shipment):
        return None

    return cancel(shop, shipment)


@hookimpl
def shipping_track(shop, shipment):
    from .labels import ours, track

    if not ours(shipment):
        return None

    return track(shop, shipment)


@hookimpl
def shipping_quote_rates(shop, order, parcels):
    """Mondial Relay publishes no rate API: the merchant's contract prices from the settings."""
    from .rates import quote

    return quote(shop, order, parcels)


@hookimpl
def shipping_search_pickup_points(shop, order, query):
    if query.get("network") not in ("", None, ADDON):
        return None
    from .labels import search

    return search(shop, order, query)
