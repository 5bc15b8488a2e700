"""\"Tester la connexion\": ``GET /api/`` (the shop's name and the key's permissions per
resource), read-only; says which permission is missing."""
from __future__ import annotations

from core.connectors import RetryPolicy
from core.jobs import enqueue
from core.types import ConnectionResult

from .client import Client, PrestaError
from core.i18n import _

QUICK = RetryPolicy(attempts=2, max_wait=2.0)
#: resource → the methods the add-on uses
NEEDED = {"orders": ("get",), "order_histories": ("get", "post"), "order_carriers": ("get", "put"),
          "order_states": ("get",), "stock_availables": ("get", "put"), "customers": ("get",),
          "addresses": ("get",), "countries": ("get",), "currencies": ("get",), "products": ("get",),
          "combinations": ("get",), "order_slip": ("get",)}
METHODS_FR = {"get": "GET (voir)", "put": "PUT (modifier)", "post": "POST (ajouter)"}


def check_connection(settings, shop) -> ConnectionResult:
    from core.services import save_settings

    from .jobs import state_of

    if not settings.get("shop_url") or not settings.get("webservice_key"):
        return ConnectionResult(False, _("Indiquez l'adresse de la boutique et la clé du webservice."))
    try:
        client = Client.from_settings(settings, shop.id if shop else None, timeout=8.0, retry=QUICK)
        name, rights = client.root()
    except PrestaError as exc:
        return ConnectionResult(False, str(exc))
    missing = [f"{res} : {METHODS_FR[m]}" for res, methods in NEEDED.items() for m in methods
               if (rights.get(res) or {}).get(m) != "true"]
    if missing:
        return ConnectionResult(False, _("La clé du webservice n'a pas tous les droits nécessaires : cochez-les "
                                         "dans Paramètres avancés → Webservice."), missing)
    details = [f"PrestaShop {client.version or '?'}", f"Boutique n° {settings.get('id_shop') or 1}",
               "Droits de la clé : complets"]
    if client.switched_to_query:
        details.append("Le serveur supprime l'en-tête Authorization : la clé passe dans l'adresse (ws_key), en HTTPS.")
    if shop is not None:
        if client.switched_to_query:
            save_settings(shop, "prestashop", {"key_in_query": True}, set())
        state = state_of(shop)
        state.shop_name, state.version, state.order_states = name, client.version, {}
        enqueue("addons.prestashop.jobs.import_catalog", shop.id, job_id=f"prestashop-catalog-{shop.id}",
                unique=True, shop_id=shop.id)
    return ConnectionResult(True, _("connecté à la boutique PrestaShop « %(name)s »", name=name), details)
