"""The remote check behind "Tester la connexion", and Shopify's part of the shop's diagnostic."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core import diagnostics
from core.diagnostics import Backlog, Check
from core.models import Shop, VariantBinding
from core.types import ConnectionResult

from .client import DEFAULT_API_VERSION, ShopifyClient, ShopifyError
from .connection import client_for, state_for
from .graphql import ORDERS_PAST, TOPICS, WEBHOOK_SUBSCRIPTIONS, topic_enum
from .models import ShopifyWebhookInbox
from .normalize import parse_time
from core.i18n import _


def client_from_settings(settings: dict[str, Any]) -> ShopifyClient:
    return ShopifyClient(shop_domain=settings.get("shop_domain") or "",
                         access_token=settings.get("access_token") or "",
                         api_version=settings.get("api_version") or DEFAULT_API_VERSION,
                         base_url=settings.get("api_base_url") or None)


def check_connection(settings: dict[str, Any], shop: Shop | None = None) -> ConnectionResult:
    """Ask Shopify for the shop's identity: with the token of the OAuth install when there
    is one (refreshed if needed), else with the token typed in the settings."""
    try:
        if shop is not None:
            state_for(shop)
        if shop is not None and (shop.credentials or {}).get("access_token"):
            client = client_for(shop)
        else:
            client = client_from_settings(settings)
        with client:
            info = client.shop_info()
    except ShopifyError as exc:
        return ConnectionResult(False, str(exc))
    details = [f"Boutique : {info.name}", f"Domaine : {info.domain}", f"Devise : {info.currency}"]
    if info.plan:
        details.append(f"Forfait Shopify : {info.plan}")
    return ConnectionResult(True, _("connecté à la boutique Shopify « %(name)s »", name=info.name), details)


#: what each subscription tells the OMS, in the merchant's words
TOPIC_LABELS = {
    "orders/create": _l("commandes créées"),
    "orders/updated": _l("commandes modifiées"),
    "orders/cancelled": _l("commandes annulées"),
    "refunds/create": _l("remboursements"),
    "products/create": _l("produits créés"),
    "products/update": _l("produits modifiés"),
    "products/delete": _l("produits supprimés"),
    "app/uninstalled": _l("désinstallation de l'application"),
}


def diagnose(shop: Shop) -> list[Check]:
    """Shopify's lines of the shop's diagnostic: the token's validity, the orders Shopify has
    past the OMS's cursor, the webhook subscriptions and the last delivery, the products with
    no Shopify variant."""
    checks = [_token(shop)]
    client = None
    error = ""
    try:
        client = client_for(shop, timeout=diagnostics.REMOTE_TIMEOUT)
    except ShopifyError as exc:
        error = diagnostics.remote_words(exc)
    if client is not None:
        reach = diagnostics.Reach()
        with client:
            checks.append(diagnostics.remote_backlog(shop, lambda since: reach(_backlog, client, since)))
            checks.append(_webhooks(shop, client, reach))
    elif shop.sync_cursor or shop.last_sync_at:
        checks.append(diagnostics.remote_backlog(shop, lambda since: _raise(error)))
    checks.append(diagnostics.last_delivery(shop, ShopifyWebhookInbox))
    checks.append(diagnostics.unlisted_products(
        shop, select(VariantBinding.variant_id).where(VariantBinding.shop_id == shop.id),
        fix_label=_("publier sur Shopify"),
        what=_("Publiez-les depuis leur fiche produit, ou importez les produits Shopify s'ils y sont déjà.")))
    return [c for c in checks if c is not None]


def _raise(message: str):
    raise ShopifyError(message)


def _token(shop: Shop) -> Check:
    """Shopify's offline token. An app created in the Dev Dashboard (the OMS's own, since
    2026-01-01) gets *expiring* offline tokens: the access token lasts 60 minutes and comes
    with a refresh token valid 90 days, each refresh giving a new one (shopify.dev,
    docs/apps/build/authentication-authorization/access-tokens/offline-access-tokens;
    changelog "offline-access-tokens-now-support-expiry-and-refresh", 2025-12-10). The OMS
    refreshes at every sync, so the refresh token only runs out when the shop has not synced
    for 90 days. A non-expiring offline token (a legacy custom app's) ends only when the app
    is uninstalled, which the next call reports."""
    creds = shop.credentials or {}
    renew = _("Cliquez sur « Installer sur Shopify » pour renouveler l'autorisation.")
    try:
        install_url = url_for("shopify.index")
    except RuntimeError:
        install_url = None
    expires: datetime | None = None
    if creds.get("refresh_token"):
        expires = _when(creds.get("refresh_token_expires_at"))
    elif creds.get("expires_at"):
        expires = _when(creds.get("expires_at"))
    return diagnostics.credentials_expiry(
        shop, expires, what=_("L'autorisation de l'OMS sur votre boutique Shopify"), renew=renew,
        renew_url=install_url, renew_label=_("Réinstaller l'application"),
        unknown=_("Le jeton d'accès Shopify n'expire pas : seule la désinstallation de l'application le révoque, "
                  "ce que la prochaine synchronisation signalerait."))


def _when(value: Any) -> datetime | None:
    return parse_time(str(value)) if value else None


def _backlog(client: ShopifyClient, since: datetime) -> Backlog:
    data = client.graphql(ORDERS_PAST, {"query": f"updated_at:>'{since.strftime('%Y-%m-%dT%H:%M:%SZ')}'"})
    count = data.get("ordersCount") or {}
    nodes = (data.get("orders") or {}).get("nodes") or []
    return Backlog(int(count.get("count") or 0), more=count.get("precision") == "AT_LEAST",
                   oldest=parse_time(nodes[0].get("updatedAt")) if nodes else None)


def _webhooks(shop: Shop, client: ShopifyClient, reach: diagnostics.Reach) -> Check:
    """The subscriptions Shopify lists for this app against :data:`TOPICS`, to the shop's
    webhook address."""
    uri = state_for(shop).webhook_url
    needed = {topic_enum(t): TOPIC_LABELS.get(t, t) for t in TOPICS}
    try:
        fix_url = url_for("shopify.shop_action", shop_id=shop.id, what="webhooks")
    except RuntimeError:
        fix_url = None
    try:
        pages = reach(lambda: list(client.paginate(WEBHOOK_SUBSCRIPTIONS, {}, "webhookSubscriptions", page_size=50)))
        registered = {node["topic"] for page in pages for node in page if not uri or node.get("uri") == uri}
    except ShopifyError as exc:
        return diagnostics.webhooks_registered(shop, needed, None, error=diagnostics.remote_words(exc))
    return diagnostics.webhooks_registered(shop, needed, registered, fix_url=fix_url)
