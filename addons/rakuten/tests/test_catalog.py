"""Catalog: the seller's Rakuten adverts matched by SKU then barcode, unmatched ones fixed
from the shop's page (map to a product, or create it); stock then goes under Rakuten's SKU."""
from __future__ import annotations

import sqlalchemy as sa

from addons.rakuten import jobs
from addons.rakuten.models import RakutenOffer, RakutenStockImport
from core.extensions import db
from core.models import Variant

from .test_flow import drain


def offer(sku: str) -> RakutenOffer:
    return db.session.scalar(sa.select(RakutenOffer).where(RakutenOffer.sku == sku))


def test_adverts_matched_by_sku_then_barcode_and_fixed_from_the_page(app, emu, rakuten_shop, catalog, clock,
                                                                     client, login, post_form):
    variants = catalog({"MUG-STD": 4, "TSH-BLA-M": 6, "CAP-STD": 2})
    variants["TSH-BLA-M"].barcode = "3760000000017"
    db.session.commit()
    emu.page_size = 2  # several pages
    emu.adverts.update({"MUG-STD": 1, "RK-TSHIRT-M": 0, "RK-CASQUETTE": 0, "RK-INCONNU": 3})
    emu.advert_info.update({"RK-TSHIRT-M": {"ean": "3760000000017", "headline": "T-shirt M", "price": "19.90"},
                            "RK-INCONNU": {"headline": "Poster vintage", "price": "12.00", "ean": "3760000000999"}})
    shop = rakuten_shop()
    assert "4 annonce(s), 2 associée(s)" in jobs.import_listings(shop.id)
    assert offer("MUG-STD").variant_id == variants["MUG-STD"].id and offer("MUG-STD").remote_quantity == 1
    assert offer("RK-TSHIRT-M").variant_id == variants["TSH-BLA-M"].id  # by barcode
    assert offer("RK-CASQUETTE").variant_id is None and offer("RK-INCONNU").variant_id is None

    login(client)
    page = client.get(f"/apps/rakuten/shops/{shop.id}").get_data(as_text=True)
    assert "RK-CASQUETTE" in page and "Poster vintage" in page and "Créer le produit" in page
    res = post_form(f"/apps/rakuten/shops/{shop.id}/offers/{offer('RK-CASQUETTE').id}/fix", {"do": "link", "sku": "CAP-STD"},
                    page=f"/apps/rakuten/shops/{shop.id}")
    assert res.status_code == 302
    assert offer("RK-CASQUETTE").variant_id == variants["CAP-STD"].id
    res = post_form(f"/apps/rakuten/shops/{shop.id}/offers/{offer('RK-INCONNU').id}/fix", {"do": "create"},
                    page=f"/apps/rakuten/shops/{shop.id}")
    assert res.status_code == 302
    created = db.session.scalar(sa.select(Variant).where(Variant.sku == "RK-INCONNU"))
    assert created.barcode == "3760000000999" and created.product.title == "Poster vintage"
    assert offer("RK-INCONNU").variant_id == created.id

    # stock goes out under Rakuten's SKUs
    jobs.reconcile_stock(shop.id)
    drain(clock)
    sent = {}
    for imp in db.session.scalars(sa.select(RakutenStockImport)):
        sent.update(imp.sent)
    assert sent["RK-TSHIRT-M"] == 6 and sent["RK-CASQUETTE"] == 2 and sent["MUG-STD"] == 4
    assert "TSH-BLA-M" not in sent
    assert emu.adverts["RK-TSHIRT-M"] == 6 and emu.adverts["RK-CASQUETTE"] == 2


def test_another_shops_offer_cannot_be_touched(app, emu, rakuten_shop, catalog, client, login, post_form,
                                               shop_factory):
    catalog({"MUG-STD": 4})
    emu.adverts.update({"RK-X": 1})
    shop = rakuten_shop()
    jobs.import_listings(shop.id)
    other = shop_factory("rakuten")
    from core import services

    services.save_settings(other, "rakuten", {"login": "autre", "token": "t"}, {"token"})
    db.session.commit()
    login(client)
    res = post_form(f"/apps/rakuten/shops/{other.id}/offers/{offer('RK-X').id}/fix", {"do": "link", "sku": "MUG-STD"},
                    page=f"/apps/rakuten/shops/{shop.id}")
    assert res.status_code == 404 and offer("RK-X").variant_id is None
