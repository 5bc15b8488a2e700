"""Cdiscount's part of the shop's diagnostic: the Octopia API credentials, the orders Octopia
changed past the OMS's cursor, the products with no offer."""
from __future__ import annotations

from datetime import datetime, timezone

from flask_babel import gettext as _

from core import diagnostics
from core.connectors import NO_RETRY
from core.diagnostics import Backlog, Check

from . import mapping
from .client import Client
from .jobs import client_for, now
from .models import CdiscountOffer


def diagnose(shop) -> list[Check]:
    client = client_for(shop, timeout=diagnostics.REMOTE_TIMEOUT, retry=NO_RETRY)
    return diagnostics.channel_lines(
        shop, listings=CdiscountOffer, probe=lambda since: backlog(client, since),
        now=datetime.fromtimestamp(now(), tz=timezone.utc),
        # the clientId / clientSecret pair of Octopia's "API Credentials Management" page has no
        # published end date; the 2-hour tokens it gives are renewed by the OMS itself
        # (developer.octopia-io.net, "Authentication")
        keys=_("Les identifiants API d'Octopia n'ont pas de date de fin connue ; l'OMS renouvelle lui-même ses "
               "jetons de 2 heures. Un identifiant supprimé dans l'espace Octopia est signalé à la prochaine "
               "synchronisation."),
        unmatched=diagnostics.unmatched_listings(shop, CdiscountOffer, "cdiscount.shop_page", anchor="unmatched-offers",
                                                 sku=CdiscountOffer.seller_sku),
        what=_("Créez leur offre sur Cdiscount avec le même SKU, puis relisez les offres."))


def backlog(client: Client, since: datetime) -> Backlog:
    """``GET /orders`` past the cursor, least recently updated first: one page."""
    items, more = client.orders_page(1, updatedAtMin=mapping.iso(since))
    stamps = [d for d in (mapping.parse_time(o.get("updatedAt")) for o in items) if d is not None]
    return Backlog(len(items), more=more, oldest=min(stamps) if stamps else None)
