""""Tester la connexion": the seller's account (Identity getUser, Account privileges) and
the marketplaces set up for selling (shipping policies per site). And eBay's part of the
shop's diagnostic."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import url_for
from flask_babel import lazy_gettext as _l

from core import diagnostics
from core.connectors import RetryPolicy
from core.diagnostics import Backlog, Check
from core.extensions import db
from core.models import ConnectionStatus
from core.types import ConnectionResult

from .client import EbayAuthError, EbayClient, EbayError
from .connection import account_for, client_for, mark
from .jobs import NOTIFICATION_TOPICS
from .mapping import MARKETPLACES, orders_filter, parse_time
from .models import EbayAccount, EbayListing
from .mapping import MARKETPLACES
from core.i18n import _

#: the merchant waits: one quick retry at most
QUICK = RetryPolicy(attempts=2, base=0.2, cap=1.0, max_wait=2.0)
SITE = {mid: site for mid, site, _c in MARKETPLACES}


def check_connection(shop, settings) -> ConnectionResult:
    try:
        client = client_for(shop, retry=QUICK, timeout=8.0)
        user = client.get_user()
        privileges = client.get_privileges()
        wanted = [settings.get("marketplace") or "EBAY_FR"] + [
            m for m in settings.get("marketplaces") or [] if m != settings.get("marketplace")]
        details = []
        for mid in wanted:
            policies = client.get_fulfillment_policies(mid)
            details.append(f"{SITE.get(mid, mid)} : {len(policies)} condition(s) d'expédition"
                           if policies else f"{SITE.get(mid, mid)} : aucune condition d'expédition (pas de vente)")
    except EbayAuthError as exc:
        mark(shop, ConnectionStatus.ERROR, str(exc))
        return ConnectionResult(False, str(exc))
    except EbayError as exc:
        return ConnectionResult(False, str(exc))
    username = user.get("username") or ""
    typed = (settings.get("username") or "").strip()
    account = account_for(shop)
    account.username, account.user_id = username, user.get("userId")
    if typed and username and typed.lower() != username.lower():
        message = (f"le compte autorisé est « {username} », pas « {typed} » : corrigez le pseudo dans les réglages "
                   "ou reconnectez le bon compte")
        mark(shop, ConnectionStatus.ERROR, message)
        return ConnectionResult(False, message)
    limit = privileges.get("sellingLimit") or {}
    if privileges.get("sellerRegistrationCompleted") is False:
        details.append("inscription vendeur eBay incomplète")
    if limit.get("quantity") is not None:
        details.append(f"limite de vente : {limit['quantity']} objet(s)")
    mark(shop, ConnectionStatus.CONNECTED)
    db.session.flush()
    return ConnectionResult(True, _("connecté au compte eBay %(username)s (%(get)s)",
                                    username=username, get=SITE.get(user.get('registrationMarketplaceId'), 'eBay')), details)


#: the notifications the OMS subscribes to, as the merchant reads them
TOPIC_LABELS = {
    "ORDER_CONFIRMATION": _l("commandes confirmées"),
    "MARKETPLACE_ACCOUNT_DELETION": _l("suppressions de compte acheteur (obligatoire)"),
}
NEEDED = {topic: TOPIC_LABELS.get(topic, topic) for topic in NOTIFICATION_TOPICS}
#: orders read to date the backlog: past this many, the oldest is not looked for
BACKLOG_PAGE = 50


def _action_url(shop, what: str) -> str | None:
    try:
        return url_for("ebay.shop_action", shop_id=shop.id, what=what)
    except RuntimeError:
        return None


def diagnose(shop) -> list[Check]:
    """eBay's lines of the shop's diagnostic: the grant's 18 months, the orders eBay changed
    past the OMS's cursor, the notification subscriptions and the last delivery, the products
    with no eBay listing."""
    checks = [grant(shop)]
    try:
        client = client_for(shop, retry=QUICK, timeout=diagnostics.REMOTE_TIMEOUT)
    except EbayError as exc:
        client, error = None, exc
    else:
        error = None
    reach = diagnostics.Reach()
    checks.append(diagnostics.remote_backlog(
        shop, (lambda since: reach(backlog, client, since)) if client is not None else _failing(error)))
    account = db.session.get(EbayAccount, shop.id)
    if account is not None and account.destination_id and client is not None:
        checks.append(subscriptions(shop, client, account, reach))
    elif account is None or not account.destination_id:
        checks.append(Check("error", _("Notifications eBay non activées"),
                            _("eBay ne prévient pas l'OMS des nouvelles commandes : elles n'arrivent qu'à la "
                              "relecture périodique. Abonnez la boutique aux notifications."),
                            _action_url(shop, "notifications"), _("S'abonner aux notifications"), fix_post=True))
    checks.append(diagnostics.last_delivery(shop))
    checks.append(diagnostics.unmatched_listings(shop, EbayListing, "ebay.index"))
    checks.append(diagnostics.unlisted_products(
        shop, diagnostics.listed_variants(shop, EbayListing),
        what=_("Créez leur annonce sur eBay avec le même SKU, puis relisez les annonces.")))
    return [c for c in checks if c is not None]


def _failing(error):
    def probe(_since):
        raise error
    return probe


def grant(shop) -> Check:
    """The seller's consent. eBay's user refresh token lasts 18 months (47,304,000 s, the
    ``refresh_token_expires_in`` of the authorization-code grant; developer.ebay.com, "Using
    a refresh token to update a User access token"); the OMS stores its end when the grant
    is made, and only a new consent gives a new one."""
    raw = (shop.credentials or {}).get("refresh_token_expires_at")
    expires = datetime.fromtimestamp(float(raw), tz=timezone.utc) if raw else None
    try:
        install_url = url_for("integrations.configure", name="ebay", shop_id=shop.id)
    except RuntimeError:
        install_url = None
    return diagnostics.credentials_expiry(
        shop, expires, what=_("L'autorisation donnée à l'OMS sur votre compte eBay"),
        renew=_("Cliquez sur « Installer sur eBay » dans les paramètres et acceptez à nouveau : l'autorisation "
                "repart pour 18 mois."),
        renew_url=install_url, renew_label=_("Renouveler l'autorisation"),
        unknown=_("La date de fin de cette autorisation n'est pas connue (eBay la donne pour 18 mois au "
                  "consentement) : elle sera enregistrée au prochain « Installer sur eBay »."))


def backlog(client: EbayClient, since: datetime) -> Backlog:
    """getOrders filtered on ``lastmodifieddate`` past the cursor: its ``total`` counts them,
    one page dates the oldest."""
    page = client.get_orders(orders_filter(since), limit=BACKLOG_PAGE)
    orders = list(page.get("orders") or [])
    total = int(page.get("total") or len(orders))
    stamps = [d for d in (parse_time(o.get("lastModifiedDate")) for o in orders) if d is not None]
    return Backlog(total, oldest=min(stamps) if stamps and total <= len(orders) else None)


def subscriptions(shop, client: EbayClient, account: EbayAccount, reach: diagnostics.Reach) -> Check:
    """The subscriptions eBay lists to the shop's destination, enabled, against those the OMS needs."""
    try:
        listed = {s.get("topicId") for s in reach(client.get_subscriptions)
                  if s.get("destinationId") == account.destination_id and s.get("status", "ENABLED") == "ENABLED"}
    except EbayError as exc:
        return diagnostics.webhooks_registered(shop, NEEDED, None, error=diagnostics.remote_words(exc))
    return diagnostics.webhooks_registered(shop, NEEDED, listed, fix_url=_action_url(shop, "notifications"))
