"""Fnac Darty's part of the shop's diagnostic: the partner key, the orders Fnac Darty changed
past the OMS's cursor, the products with no offer."""
from __future__ import annotations

from datetime import datetime, timezone

from flask_babel import gettext as _

from core import diagnostics
from core.connectors import NO_RETRY
from core.diagnostics import Backlog, Check

from . import mapping
from .client import FnacClient
from .models import FnacOffer
from .runtime import client_for, clock


def diagnose(shop) -> list[Check]:
    client = client_for(shop, timeout=diagnostics.REMOTE_TIMEOUT, retry=NO_RETRY)
    return diagnostics.channel_lines(
        shop, listings=FnacOffer, probe=lambda since: backlog(client, since),
        now=datetime.fromtimestamp(clock().time(), tz=timezone.utc),
        # the partner id, shop id and key Fnac Darty gives the seller are exchanged for a
        # session token at each run; neither the XSDs nor the client say of any end date
        keys=_("La clé partenaire Fnac Darty n'a pas de date de fin connue : l'OMS l'échange contre un jeton de "
               "session à chaque synchronisation, et une clé refusée est signalée aussitôt."),
        unmatched=diagnostics.unmatched_listings(shop, FnacOffer, "fnac.shop_page", anchor="offers"),
        what=_("Créez leur offre sur Fnac Darty avec le même SKU, puis relisez les offres."))


def backlog(client: FnacClient, since: datetime) -> Backlog:
    """``orders_query`` by ``UpdatedAt`` past the cursor, one result: ``nb_total_result``
    counts them (an order's answer carries no update date: the cursor's age dates them)."""
    page = mapping.read_page(client.orders_query(date_type="UpdatedAt", since=since, results_count=1).root, "order")
    return Backlog(page.total or len(page.items))
