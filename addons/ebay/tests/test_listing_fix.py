"""The eBay page's listings without an OMS product: linked to a product by its SKU, or made
into one, as on every channel (core.listings); other merchants' listings stay out of reach."""
from __future__ import annotations

from decimal import Decimal
from html import unescape

from sqlalchemy import select

from addons.ebay import jobs, sandbox
from addons.ebay.models import EbayListing, EbayStockPending
from core.extensions import db
from core.models import Variant

from .conftest import configure


def _loose(shop) -> dict[str, EbayListing]:
    db.session.expire_all()
    return {ln.sku: ln for ln in db.session.scalars(select(EbayListing).where(
        EbayListing.shop_id == shop.id, EbayListing.variant_id.is_(None)))}


def test_fix_buttons_link_and_create(app, client, login, post_form, ebay_shop, emu, catalog):
    catalog({"CAP-STD": 5, "ALT-9": 1})
    emu.add_listing("SANS-PRODUIT", "Coffret collector", "49.90", 3)
    emu.add_listing("AUTRE-REF", "Carnet A5 kraft", "12.00", 2)
    shop = ebay_shop()
    jobs.import_listings(shop.id)
    login(client)
    page = client.get("/apps/ebay/").get_data(as_text=True)
    loose = _loose(shop)
    assert "SANS-PRODUIT" in loose and "CAP-STD" not in loose
    assert 'data-sku="SANS-PRODUIT"' in page and "Créer le produit" in page
    assert f"/apps/ebay/shops/{shop.id}/listings/{loose['SANS-PRODUIT'].id}/fix" in page
    assert f"/apps/ebay/shops/{shop.id}/listings/" not in page.split('data-sku="CAP-STD"')[1].split("</tr>")[0]

    res = post_form(f"/apps/ebay/shops/{shop.id}/listings/{loose['SANS-PRODUIT'].id}/fix", {"do": "create"},
                    page="/apps/ebay/")
    assert res.status_code == 302
    db.session.expire_all()
    created = db.session.scalar(select(Variant).where(Variant.sku == "SANS-PRODUIT"))
    assert created is not None and created.product.title == "Coffret collector" and created.price == Decimal("49.90")
    assert db.session.get(EbayListing, loose["SANS-PRODUIT"].id).variant_id == created.id

    res = post_form(f"/apps/ebay/shops/{shop.id}/listings/{loose['AUTRE-REF'].id}/fix",
                    {"do": "link", "sku": "ALT-9"}, page="/apps/ebay/")
    assert res.status_code == 302
    db.session.expire_all()
    alt = db.session.scalar(select(Variant).where(Variant.sku == "ALT-9"))
    assert db.session.get(EbayListing, loose["AUTRE-REF"].id).variant_id == alt.id
    pending = set(db.session.scalars(select(EbayStockPending.variant_id).where(EbayStockPending.shop_id == shop.id)))
    assert {created.id, alt.id} <= pending  # their stock goes to eBay at the next push
    page = client.get("/apps/ebay/").get_data(as_text=True)
    assert "Annonce reliée au produit ALT-9" in unescape(page)


def test_an_unknown_sku_is_refused_with_a_message(app, client, login, post_form, ebay_shop, emu, catalog):
    catalog({"CAP-STD": 5})
    shop = ebay_shop()
    jobs.import_listings(shop.id)
    login(client)
    loose = _loose(shop)
    target = loose["TCB-BLA-M"]
    res = post_form(f"/apps/ebay/shops/{shop.id}/listings/{target.id}/fix", {"do": "link", "sku": "INCONNU"},
                    page="/apps/ebay/", follow_redirects=True)
    text = unescape(res.get_data(as_text=True))
    assert res.status_code == 200 and "Aucun produit de votre catalogue ne porte le SKU « INCONNU »" in text
    res = post_form(f"/apps/ebay/shops/{shop.id}/listings/{target.id}/fix", {"do": "link", "sku": ""},
                    page="/apps/ebay/", follow_redirects=True)
    assert "Indiquez le SKU d'un produit de votre catalogue." in unescape(res.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(EbayListing, target.id).variant_id is None
    assert db.session.scalar(select(Variant).where(Variant.sku == "INCONNU")) is None


def test_another_merchants_listing_is_404(app, client, login, post_form, ebay_shop, shop_factory, make_org,
                                          base_url, emu):
    mine = ebay_shop("Ma boutique eBay")
    theirs = shop_factory("ebay", "Leur boutique eBay", organization=make_org("Concurrent"))
    configure(theirs, {**sandbox.demo_settings(base_url), "username": "concurrent"})
    their_listing = EbayListing(shop_id=theirs.id, sku="LEUR-SKU", title="Leur article", offer_ids=[])
    db.session.add(their_listing)
    db.session.commit()
    login(client)
    res = post_form(f"/apps/ebay/shops/{theirs.id}/listings/{their_listing.id}/fix", {"do": "create"},
                    page="/apps/ebay/")
    assert res.status_code == 404
    res = post_form(f"/apps/ebay/shops/{mine.id}/listings/{their_listing.id}/fix", {"do": "create"},
                    page="/apps/ebay/")
    assert res.status_code == 404
    db.session.expire_all()
    assert db.session.scalar(select(Variant).where(Variant.sku == "LEUR-SKU")) is None
    assert db.session.get(EbayListing, their_listing.id).variant_id is None
