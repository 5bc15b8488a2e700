"""PrestaShop's part of the shop's diagnostic: the webservice key, the orders the shop
changed past the OMS's cursor, the products with no PrestaShop article."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _

from core import diagnostics
from core.connectors import NO_RETRY
from core.diagnostics import Backlog, Check
from core.models import utcnow

from . import mapping
from .client import Client
from .jobs import client_for, settings_of
from .models import PrestashopListing

#: orders read to count the backlog (PrestaShop gives no total, and the OMS reads whole
#: orders): past it, "at least"
BACKLOG_PAGE = 20


def diagnose(shop) -> list[Check]:
    client = client_for(shop, timeout=diagnostics.REMOTE_TIMEOUT, retry=NO_RETRY)
    return diagnostics.channel_lines(
        shop, listings=PrestashopListing, probe=lambda since: backlog(shop, client, since),
        # a webservice key (Paramètres avancés › Webservice) has no end date; it works until
        # it is disabled or deleted there (devdocs.prestashop-project.org, "Webservice")
        keys=_("La clé de webservice PrestaShop n'a pas de date de fin : elle vaut tant qu'elle est active dans "
               "Paramètres avancés › Webservice, ce que la prochaine synchronisation vérifie."),
        unmatched=diagnostics.unmatched_listings(shop, PrestashopListing, "prestashop.shop_page",
                                                 anchor="unmatched"),
        what=_("Créez l'article avec la même référence dans PrestaShop, puis importez le catalogue."))


def backlog(shop, client: Client, since: datetime) -> Backlog:
    """The orders whose ``date_upd`` is past the cursor, oldest first, one short page."""
    id_shop, tz = settings_of(shop)
    window = f"[{mapping.shop_param(since, tz)},{mapping.shop_param(utcnow() + timedelta(days=1), tz)}]"
    rows = client.listing("orders", {"display": "full", "filter[date_upd]": window, "date": "1",
                                     "sort": "[date_upd_ASC,id_ASC]", "id_shop": id_shop,
                                     "limit": f"0,{BACKLOG_PAGE}"})
    stamps = [d for d in (mapping.shop_time(r.get("date_upd"), tz) for r in rows) if d is not None]
    return Backlog(len(rows), more=len(rows) >= BACKLOG_PAGE, oldest=min(stamps) if stamps else None)
