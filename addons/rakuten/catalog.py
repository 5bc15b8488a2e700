"""The seller's Rakuten adverts (inventory export) matched to OMS variants: by SKU (or a SKU
alias), then by barcode; unmatched ones are listed on the shop's page with their fixes (map
to a variant, or create the product)."""
from __future__ import annotations

from sqlalchemy import select

from core.extensions import db
from core.intake import variant_map
from core.models import Shop, Variant, utcnow

from . import mapping
from .models import RakutenOffer
from .runtime import client_for
from .versions import note_latest


def import_adverts(shop: Shop) -> tuple[int, int]:
    """Every page of the export upserted into the shop's offers; returns (adverts, matched)."""
    client = client_for(shop)
    token = None
    seen = matched = 0
    while True:
        answer = client.export(token)
        note_latest("export", answer.lastversion)
        adverts = [a for a in mapping.adverts_of(answer.response) if a.sku]
        seen += len(adverts)
        matched += _store(shop, adverts)
        db.session.commit()  # each page kept
        token = mapping.next_token(answer.response)
        if not token:
            return seen, matched


def _store(shop: Shop, adverts: list[mapping.Advert]) -> int:
    org_id = shop.organization_id
    by_sku = variant_map(org_id, {a.sku for a in adverts})
    eans = {a.ean for a in adverts if a.ean and a.sku not in by_sku}
    by_ean = dict(db.session.execute(select(Variant.barcode, Variant.id).where(
        Variant.organization_id == org_id, Variant.barcode.in_(eans))).all()) if eans else {}
    offers = {o.sku: o for o in db.session.scalars(select(RakutenOffer).where(
        RakutenOffer.shop_id == shop.id, RakutenOffer.sku.in_([a.sku for a in adverts])))}
    now = utcnow()
    matched = 0
    for advert in adverts:
        offer = offers.get(advert.sku)
        if offer is None:
            offer = RakutenOffer(shop_id=shop.id, sku=advert.sku[:128])
            db.session.add(offer)
            offers[advert.sku] = offer
        offer.aid, offer.ean, offer.title = advert.aid[:32] or None, advert.ean[:32] or None, advert.title[:500]
        offer.price, offer.remote_quantity, offer.imported_at = advert.price, advert.quantity, now
        offer.unknown = False  # Rakuten lists it: it has an advert
        variant_id = by_sku.get(advert.sku) or (by_ean.get(advert.ean) if advert.ean else None)
        if variant_id is not None:
            offer.variant_id = variant_id
        matched += offer.variant_id is not None
    db.session.flush()
    return matched
