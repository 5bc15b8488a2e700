"""The remote check behind "Tester la connexion"."""
from __future__ import annotations

from typing import Any

from core.connectors import RetryPolicy
from core.types import ConnectionResult

from .client import ChronopostClient, ChronopostError
from .labels import PRODUCTS
from core.i18n import _

QUICK = RetryPolicy(attempts=2, max_wait=2.0)


def check_connection(shop, settings: dict[str, Any]) -> ConnectionResult:
    """The products the account may use from the sender's postal code to Paris
    (``calculateProducts``, which checks the account number and password)."""
    try:
        client = ChronopostClient.from_settings(settings, shop.id, timeout=5.0, retry=QUICK)
        codes = client.calculate_products(settings.get("sender_postal_code") or "75001", "75001")
    except ChronopostError as exc:
        return ConnectionResult(False, str(exc))
    details = [f"{PRODUCTS.get(c, 'Produit')} ({c})" for c in codes]
    return ConnectionResult(True, _("connecté au compte Chronopost %(get)s : %(codes)s produit(s) disponible(s)",
                                    get=settings.get('account_number'), codes=len(codes)), details)
