""""Tester la connexion": the seller's account (Identity getUser, Account privileges) and
the marketplaces set up for selling (shipping policies per site)."""
from __future__ import annotations

from core.connectors import RetryPolicy
from core.extensions import db
from core.models import ConnectionStatus
from core.types import ConnectionResult

from .client import EbayAuthError, EbayError
from .connection import account_for, client_for, mark
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
