"""Rakuten's part of the shop's diagnostic: the webservice token and the products with no
offer. Rakuten's sales API has no query by date of change (``getnewsales`` lists the sales
waiting acceptance, which the sync accepts), so no count of orders past the cursor."""
from __future__ import annotations

from flask_babel import gettext as _

from core import diagnostics
from core.diagnostics import Check

from .models import RakutenOffer


def diagnose(shop) -> list[Check]:
    return diagnostics.channel_lines(
        shop, listings=RakutenOffer,
        # the webservice login and token of the seller's Rakuten account have no end date
        # (the SDK sends them on every call); a refused one fails the next sync
        keys=_("Le jeton de webservice Rakuten n'a pas de date de fin : il cesse de valoir s'il est régénéré "
               "dans votre compte vendeur, ce que la prochaine synchronisation signale."),
        unmatched=diagnostics.unmatched_listings(shop, RakutenOffer, "rakuten.shop_page", anchor="unmatched",
                                                 where=RakutenOffer.imported_at.is_not(None)),
        what=_("Créez leur offre sur Rakuten avec le même SKU, puis relisez les offres."))
