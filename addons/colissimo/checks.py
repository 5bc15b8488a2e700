"""The check behind "Tester la connexion": ``checkGenerateLabel`` on a sample parcel
(Colissimo validates the credentials and the data, prints and bills nothing)."""
from __future__ import annotations

from datetime import date
from typing import Any

from core.types import ConnectionResult

from . import mapping
from .client import ColissimoClient, ColissimoError
from .mapping import MissingData, Refused
from core.i18n import _

SAMPLE = {"name": "Test Colissimo", "line1": "1 rue de Rivoli", "postal_code": "75001", "city": "Paris",
          "country": "FR"}


def check_connection(shop, settings: dict[str, Any]) -> ConnectionResult:
    home = {"name": settings.get("sender_company") or shop.name, "company": settings.get("sender_company"),
            "line1": settings.get("sender_line") or "1 rue de Rivoli", "postal_code": settings.get("sender_zip") or "75001",
            "city": settings.get("sender_city") or "Paris", "country": "FR"}
    try:
        body = mapping.letter(product=settings.get("product_code") or "DOM", reference="test-connexion",
                              order_number="TEST", weight_grams=500, sender=mapping.address(home, who="sender"),
                              addressee=mapping.address(SAMPLE, who="addressee"), deposit=date.today(),
                              commercial_name=home["name"])
        info = ColissimoClient(settings, shop.id).check_label(body)
        mapping.check_messages(info)
    except (ColissimoError, MissingData) as exc:
        return ConnectionResult(False, str(exc))
    except Refused as exc:
        return ConnectionResult(False, f"Colissimo refuse : {exc}")
    mode = _("clé API") if settings.get("api_key") else _("contrat %(number)s", number=settings.get("contract_number"))
    details = [f"produit domicile : {mapping.PRODUCTS.get(settings.get('product_code') or 'DOM')}"]
    if not settings.get("okapi_key"):
        details.append("suivi : ajoutez la clé La Poste (Suivi v2)")
    return ConnectionResult(True, _("connecté à Colissimo (%(mode)s) : étiquette d'essai acceptée", mode=mode), details)
