"""The remote check behind "Tester la connexion" and the refresh job."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.extensions import db
from core.types import ConnectionResult

from .client import SendcloudClient, SendcloudError, ShippingOption
from .models import SendcloudShippingMethod
from core.i18n import _

#: the connection test lists the options for one domestic parcel of this weight
CHECK_WEIGHT_GRAMS = 1000


def client_from_settings(settings: dict[str, Any], shop_id: int | None = None) -> SendcloudClient:
    return SendcloudClient(shop_id=shop_id, public_key=settings.get("public_key") or "",
                           secret_key=settings.get("secret_key") or "",
                           base_url=settings.get("api_base_url") or None,
                           version="v2" if settings.get("api_version") == "v2" else "v3")


def store_methods(shop_id: int, options: list[ShippingOption]) -> None:
    """Replace the shop's list of shipping methods by ``options`` (upsert, drop the rest)."""
    rows = {r.method_id: r for r in db.session.scalars(
        select(SendcloudShippingMethod).where(SendcloudShippingMethod.shop_id == shop_id))}
    seen = set()
    for option in options:
        if option.code in seen:
            continue
        seen.add(option.code)
        row = rows.get(option.code)
        if row is None:
            row = SendcloudShippingMethod(shop_id=shop_id, method_id=option.code)
            db.session.add(row)
        row.name = option.name[:200]
        row.carrier = option.carrier_code[:64]
        row.min_weight_grams = option.min_weight_grams
        row.max_weight_grams = option.max_weight_grams
    for code, row in rows.items():
        if code not in seen:
            db.session.delete(row)
    db.session.flush()


def check_connection(shop, settings: dict[str, Any]) -> ConnectionResult:
    """List the account's shipping options (v3) or shipping methods (v2) from the sender
    country and store them."""
    country = settings.get("from_country_code") or "FR"
    try:
        client = client_from_settings(settings, shop.id)
        if client.version == "v2":
            options = client.shipping_methods()
        else:
            options = client.shipping_options(country, country, CHECK_WEIGHT_GRAMS)
    except SendcloudError as exc:
        return ConnectionResult(False, str(exc))
    store_methods(shop.id, options)
    details = [f"{o.name} ({o.carrier_code})" for o in options]
    if not options:
        return ConnectionResult(True, _("connecté à Sendcloud, mais aucune option d'expédition depuis %(country)s "
                                        ": activez un transporteur dans votre compte Sendcloud", country=country), details)
    return ConnectionResult(True, _("connecté à Sendcloud : %(options)s option(s) d'expédition depuis %(country)s",
                                    options=len(options), country=country),
                            details)
