"""Chronopost's hook implementations."""
from __future__ import annotations

from core import hookimpl
from core.types import Sandbox

from . import models  # noqa: F401  (registers the add-on's tables)

ADDON = "chronopost"


@hookimpl
def register_settings_form():
    from .forms import SettingsForm

    return SettingsForm


@hookimpl
def connection_test(shop, settings):
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
    if shipment.carrier != ADDON:
        return None
    from .labels import cancel

    return cancel(shop, shipment)


@hookimpl
def shipping_track(shop, shipment):
    if shipment.carrier != ADDON:
        return None
    from .labels import track

    return track(shop, shipment)


@hookimpl
def shipping_quote_rates(shop, order, parcels):
    """Chronopost's own price for the parcel (Quickcost), for the product the rules choose."""
    from .labels import quote

    return quote(shop, order, parcels)


@hookimpl
def shipping_search_pickup_points(shop, order, query):
    """Chrono Relais points (``recherchePointChronopost``) near the searched address."""
    if query.get("network") not in ("", None, ADDON):
        return None
    from .labels import search

    return search(shop, order, query)
