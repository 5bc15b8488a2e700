"""Mirakl's part of the shop's diagnostic: the API key, the orders the operator changed past
the OMS's cursor (OR11, within its one call a minute), the products with no offer."""
from __future__ import annotations

from datetime import datetime, timezone

from flask_babel import gettext as _

from core import diagnostics, i18n
from core.connectors import NO_RETRY
from core.diagnostics import Backlog, Check

from . import mapping
from .client import MiraklClient, MiraklError
from .models import MiraklOffer
from .runtime import client_for, clock, wait_for


def diagnose(shop) -> list[Check]:
    client = client_for(shop, timeout=diagnostics.REMOTE_TIMEOUT, retry=NO_RETRY)
    return diagnostics.channel_lines(
        shop, listings=MiraklOffer, probe=lambda since: backlog(client, since),
        now=datetime.fromtimestamp(clock().time(), tz=timezone.utc),
        # the shop API key is made in the operator's back office (user menu › API Key) and
        # has no end date; generating a new one ends the old one (Mirakl MMP seller API,
        # "Authentication"), which the next call reports
        keys=_("La clé API Mirakl n'a pas de date de fin : elle cesse de valoir quand une nouvelle est générée "
               "dans le back-office de l'opérateur (menu utilisateur › Clé API), ce que la prochaine "
               "synchronisation signale."),
        unmatched=diagnostics.unmatched_listings(shop, MiraklOffer, "mirakl.shop_page", anchor="offers",
                                                 sku=MiraklOffer.shop_sku),
        what=_("Créez leur offre chez l'opérateur avec le même SKU, puis relisez les offres."))


def backlog(client: MiraklClient, since: datetime) -> Backlog:
    """OR11 past the cursor, one order, least recently updated first: ``total_count`` counts
    them. OR11 may be called once a minute: a minute already used is said, not waited for."""
    if wait_for(client, "OR11") > 0:
        raise MiraklError(i18n._("l'opérateur accepte une lecture des commandes par minute, déjà utilisée par "
                                 "la synchronisation"), message_en="the operator allows one order read a minute, already "
                          "used by the synchronisation", retryable=True)
    page = client.orders(start_update_date=mapping.iso(since), sort="dateUpdated", order="asc", max_=1)
    orders = page.get("orders") or []
    oldest = mapping.parse_dt(orders[0].get("last_updated_date")) if orders else None
    return Backlog(int(page.get("total_count") or len(orders)), oldest=oldest)
