"""The shop's offers (OF21, 100 a page): matched by shop SKU, then EAN, then product SKU;
the unmatched ones fixed from the shop page; stock pushed under the offers' SKUs."""
from __future__ import annotations

from sqlalchemy import select

from addons.mirakl.jobs import import_offers, push_stock, reconcile_stock
from addons.mirakl.models import MiraklOffer, MiraklStockImport
from core.extensions import db
from core.models import SkuAlias, Variant


def _offers(shop):
    return {o.shop_sku: o for o in db.session.scalars(select(MiraklOffer).where(MiraklOffer.shop_id == shop.id))}


def test_offers_read_page_by_page_and_matched(app, make_shop, emu, clock, catalog):
    shop = make_shop("carrefour")  # MUG-1 and TEE-1 on sale
    catalog["TEE-1"].barcode = "3700000000017"
    db.session.commit()
    emu.add_offer("carrefour", "LM-TEE", ean="3700000000017")
    for n in range(150):
        emu.add_offer("carrefour", f"ZZ-{n:03d}")
    assert import_offers(shop.id) == "153 offre(s) lue(s), 150 sans produit"
    pages = [r for r in emu.kit.requests if r[1] == "/carrefour/api/offers"]
    assert len(pages) == 2  # 100 then 53
    offers = _offers(shop)
    assert offers["MUG-1"].variant_id == catalog["MUG-1"].id  # shop SKU
    assert offers["LM-TEE"].variant_id == catalog["TEE-1"].id and offers["LM-TEE"].ean == "3700000000017"  # EAN
    assert offers["ZZ-000"].variant_id is None and offers["ZZ-000"].title == "Article ZZ-000"
    # an offer gone from Mirakl goes; a second read changes nothing else
    del emu.instances["carrefour"].offers["ZZ-149"]
    assert import_offers(shop.id) == "152 offre(s) lue(s), 149 sans produit"


def test_stock_goes_under_the_matched_offers_skus(app, make_shop, emu, clock, catalog):
    shop = make_shop("carrefour")
    catalog["TEE-1"].barcode = "3700000000017"
    db.session.commit()
    emu.add_offer("carrefour", "LM-TEE", ean="3700000000017")
    del emu.instances["carrefour"].offers["TEE-1"]
    import_offers(shop.id)
    reconcile_stock(shop.id)
    push_stock(shop.id)
    imp = db.session.scalar(select(MiraklStockImport))
    assert imp.quantities == {"LM-TEE": 1, "MUG-1": 10}


def test_unmatched_offer_linked_or_created_from_the_shop_page(app, client, login, post_form, make_shop, emu,
                                                              clock, catalog, make_org, shop_factory):
    shop = make_shop("carrefour")
    emu.add_offer("carrefour", "OLD-MUG", product_title="Mug ancien")
    emu.add_offer("carrefour", "NEW-BOL", product_title="Bol bleu", price="7.50", ean="3700000000024")
    import_offers(shop.id)
    login(client)
    page = client.get(f"/apps/mirakl/shops/{shop.id}").get_data(as_text=True)
    assert 'data-offer="OLD-MUG"' in page and 'data-offer="NEW-BOL"' in page and 'data-offer="MUG-1"' not in page
    offers = _offers(shop)
    url = f"/apps/mirakl/shops/{shop.id}/offers/{offers['OLD-MUG'].id}/fix"
    refused = post_form(url, {"do": "link", "sku": "NOPE"}, page=f"/apps/mirakl/shops/{shop.id}")
    assert refused.status_code == 302
    db.session.expire_all()
    assert _offers(shop)["OLD-MUG"].variant_id is None
    post_form(url, {"do": "link", "sku": "MUG-1"}, page=f"/apps/mirakl/shops/{shop.id}")
    post_form(f"/apps/mirakl/shops/{shop.id}/offers/{offers['NEW-BOL'].id}/fix", {"do": "create"},
              page=f"/apps/mirakl/shops/{shop.id}")
    db.session.expire_all()
    offers = _offers(shop)
    assert offers["OLD-MUG"].variant_id == catalog["MUG-1"].id
    assert db.session.scalar(select(SkuAlias.variant_id).where(SkuAlias.sku == "OLD-MUG")) == catalog["MUG-1"].id
    bol = db.session.get(Variant, offers["NEW-BOL"].variant_id)
    assert bol.sku == "NEW-BOL" and bol.barcode == "3700000000024" and str(bol.price) == "7.50"
    page = client.get(f"/apps/mirakl/shops/{shop.id}").get_data(as_text=True)
    assert 'data-offer="OLD-MUG"' not in page and 'data-offer="NEW-BOL"' not in page
    # another organization's offer is never reached from this organization's session
    other = shop_factory("mirakl", name="autre", marketplace="carrefour", organization=make_org("Autre"))
    foreign = MiraklOffer(shop_id=other.id, shop_sku="X-1", quantity=0)
    db.session.add(foreign)
    db.session.commit()
    assert post_form(f"/apps/mirakl/shops/{other.id}/offers/{foreign.id}/fix", {"do": "create"},
                     page=f"/apps/mirakl/shops/{shop.id}").status_code == 404
    assert post_form(f"/apps/mirakl/shops/{shop.id}/offers/{foreign.id}/fix", {"do": "create"},
                     page=f"/apps/mirakl/shops/{shop.id}").status_code == 404
