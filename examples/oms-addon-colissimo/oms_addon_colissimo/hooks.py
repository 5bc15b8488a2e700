"""Colissimo's hooks: a carrier (see core.contracts.Carrier)."""
from __future__ import annotations

from core import hookimpl
from core.extensions import db
from core.types import ConnectionResult, Label, Rate, Sandbox

from . import sandbox
from .client import Client, ColissimoError, tariff, tracking_url
from .forms import SettingsForm
from .models import ColissimoPartnerLink

NAME = "colissimo_partner"


@hookimpl
def register_settings_form():
    return SettingsForm


@hookimpl
def connection_test(settings):
    try:
        Client(settings).check()
    except ColissimoError as exc:
        return ConnectionResult(False, str(exc))
    return ConnectionResult(True, f"contrat {settings.get('contract_number')} reconnu par Colissimo",
                            [f"produit : {settings.get('product_code') or 'DOM'}"])


@hookimpl
def register_sandbox():
    return Sandbox(NAME, sandbox.make_app, sandbox.settings_for)


@hookimpl
def shipping_quote_rates(shop, order, parcels):
    settings = shop.addon_settings(NAME)
    weight = sum(int(p.get("weight_grams", 0)) for p in parcels)
    price = tariff(settings, weight)
    if price is None:  # no contract price for this weight: Colissimo publishes no rate API
        return []
    return [Rate(carrier=NAME, service=settings.get("product_code") or "DOM", price=price, currency="EUR")]


@hookimpl
def shipping_create_label(shop, order, shipment):
    if shipment.carrier != NAME:
        return None
    made = Client(shop.addon_settings(NAME)).generate_label(
        reference=order.number, weight_grams=shipment.weight_grams or 0, to=order.shipping_address or {})
    db.session.add(ColissimoPartnerLink(shop_id=shop.id, kind="label", external_id=made.parcel_number, local_id=shipment.id))
    return Label(carrier=NAME, service=shop.addon_settings(NAME).get("product_code") or "DOM",
                 tracking_number=made.parcel_number, tracking_url=tracking_url(made.parcel_number), pdf=made.pdf,
                 external_id=made.parcel_number)


@hookimpl
def shipping_cancel_label(shop, shipment):
    """Colissimo bills a label when the parcel is first scanned: an unused label needs no call."""
    if shipment.carrier != NAME:
        return None
    return True


@hookimpl
def shipping_track(shop, shipment):
    if shipment.carrier != NAME or not shipment.tracking_number:
        return None
    return Client(shop.addon_settings(NAME)).status(shipment.tracking_number)
