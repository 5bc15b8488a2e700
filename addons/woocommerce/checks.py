"""\"Tester la connexion\": the store's route index (pretty permalinks, ``modified_after``), then
one authenticated, harmless read (``system_status``: WooCommerce and WordPress versions, the
Shipment Tracking extension); Basic first, then the query-string keys if the server strips
the ``Authorization`` header."""
from __future__ import annotations

from core.connectors import RetryPolicy
from core.jobs import enqueue
from core.services import save_settings
from core.types import ConnectionResult

from .client import Client, WooError
from core.i18n import _

#: the merchant waits on the settings page: one quick retry at most
QUICK = RetryPolicy(attempts=2, max_wait=2.0)


def check_connection(settings, shop) -> ConnectionResult:
    from .jobs import state_of

    if not settings.get("store_url") or not settings.get("consumer_key") or not settings.get("consumer_secret"):
        return ConnectionResult(False, _("Indiquez l'adresse de la boutique, la clé client (ck_…) et le secret "
                                         "client (cs_…)."))
    try:
        client = Client.from_settings(settings, shop.id if shop else None, timeout=8.0, retry=QUICK)
        index = client.index()
        orders_args = ((index.get("routes") or {}).get("/wc/v3/orders") or {}).get("endpoints", [{}])[0].get("args", {})
        status = client.system_status()
    except WooError as exc:
        return ConnectionResult(False, str(exc))
    env = status.get("environment") or {}
    plugins = status.get("active_plugins") or []
    tracking = any("woocommerce-shipment-tracking" in str(p.get("plugin", "")) for p in plugins)
    currency = (status.get("settings") or {}).get("currency", "?")
    details = [f"WooCommerce {env.get('version', '?')}, WordPress {env.get('wp_version', '?')}",
               "Permaliens : activés (API REST joignable)",
               "Extension Shipment Tracking : présente, le suivi part dans l'extension" if tracking else
               "Extension Shipment Tracking : absente, le suivi part en note au client et la commande passe "
               "« Terminée »",
               f"Devise de la boutique : {currency}"]
    if "modified_after" not in orders_args:
        details.append("Cette version de WooCommerce ne filtre pas les commandes par date de modification "
                       "(WooCommerce 5.8 ou plus récent conseillé).")
    if client.switched_to_query:
        details.append("Le serveur de la boutique supprime l'en-tête Authorization : les clés passent dans "
                       "l'adresse (consumer_key/consumer_secret), en HTTPS, comme WooCommerce le prévoit.")
    if shop is not None:
        if client.switched_to_query:
            save_settings(shop, "woocommerce", {"auth_in_query": True}, set())
        state = state_of(shop)
        state.wc_version, state.has_tracking = env.get("version"), tracking
        # the webhooks and the catalogue follow the check, in the background
        enqueue("addons.woocommerce.jobs.ensure_webhooks", shop.id, job_id=f"woocommerce-webhooks-{shop.id}",
                unique=True, shop_id=shop.id)
        enqueue("addons.woocommerce.jobs.import_catalog", shop.id, job_id=f"woocommerce-catalog-{shop.id}",
                unique=True, shop_id=shop.id)
    name = env.get("site_title") or env.get("home_url") or settings.get("store_url")
    return ConnectionResult(True, _("connecté à la boutique WooCommerce « %(name)s »", name=name), details)
