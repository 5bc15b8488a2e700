"""The remote check behind "Tester la connexion": each credential set on its own API."""
from __future__ import annotations

from typing import Any

from core.connectors import RetryPolicy
from core.types import ConnectionResult

from .client import MondialRelayClient, MondialRelayError
from core.i18n import _

QUICK = RetryPolicy(attempts=2, max_wait=2.0)


def check_connection(shop, settings: dict[str, Any]) -> ConnectionResult:
    """API 1: a signed relay-point search around the sender's postal code. API 2: a shipment
    request without any shipment, which Mondial Relay answers with its verdict on the
    credentials (``10001``: refused) and creates nothing."""
    try:
        client = MondialRelayClient.from_settings(settings, shop.id, timeout=5.0, retry=QUICK)
        points = client.search(country=(settings.get("sender_country") or "FR").upper(),
                               postal_code=settings.get("sender_postal_code") or "75001", limit=3)
    except MondialRelayError as exc:
        return ConnectionResult(False, f"API 1 (enseigne {settings.get('enseigne') or '?'}) : {exc}")
    try:
        client.check_api2()
    except MondialRelayError as exc:
        return ConnectionResult(False, _("API 1 acceptée ; API 2 (Connect) : %(exc)s", exc=exc))
    details = [f"{p.name} — {p.line1}, {p.postal_code} {p.city}" for p in points]
    return ConnectionResult(True, _("connecté à Mondial Relay : enseigne %(upper)s (API 1) et client Connect "
                                    "%(upper2)s (API 2)",
                                    upper=settings.get('enseigne', '').upper(), upper2=settings.get('api2_customer_id', '').upper()),
                            details)
