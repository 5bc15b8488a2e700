"""The shop page's "Annonces sans produit OMS": each listing linked to an OMS product or made
into one, on every marketplace of its SKU, and its stock pushed to Amazon."""
from __future__ import annotations

import re

import sqlalchemy as sa

from addons.amazon.models import AmazonCatalogImport, AmazonListing, AmazonStockPending
from addons.amazon.sandbox import DE, DEMO_EANS, FR, seed_demo
from core.extensions import db
from core.models import Product, SkuAlias, Variant, VariantBinding

from .test_catalog_stock import DEMO_SKUS, drain

LOOSE = "AMZ-LOT3-BOUGIES"  # the demo's Amazon-only offer: no OMS product bears its SKU


def _loose_listings(shop) -> list[AmazonListing]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AmazonListing).where(AmazonListing.shop_id == shop.id,
                                                                  AmazonListing.sku == LOOSE)
                                   .order_by(AmazonListing.marketplace_id)))


def _unmatched_table(page: str) -> str:
    return page.split('id="unmatched"')[1].split("</table>")[0] if 'id="unmatched"' in page else ""


def _setup(emu, amazon_shop, catalog, extra: dict[str, int] | None = None):
    seed_demo(emu)
    variants = catalog({**DEMO_SKUS, **(extra or {})})
    shop = amazon_shop(marketplaces=[FR, DE])
    drain()
    db.session.expire_all()
    return shop, variants


def test_the_report_keeps_the_barcode_and_each_row_has_the_fix(client, login, emu, amazon_shop, catalog):
    shop, _variants = _setup(emu, amazon_shop, catalog)
    rows = _loose_listings(shop)
    assert [ln.marketplace_id for ln in rows] == sorted([FR, DE])
    assert all(ln.barcode == DEMO_EANS[LOOSE] and ln.variant_id is None for ln in rows)
    assert db.session.scalar(sa.select(AmazonListing.barcode).where(AmazonListing.shop_id == shop.id,
                                                                    AmazonListing.sku == "BPF-STD")) is None  # ASIN only

    login(client)
    table = _unmatched_table(client.get(f"/apps/amazon/shops/{shop.id}").get_data(as_text=True))
    for ln in rows:
        assert f'action="/apps/amazon/shops/{shop.id}/listings/{ln.id}/fix"' in table
    assert "Relier" in table and "Créer le produit" in table and "Amazon.fr" in table and "Amazon.de" in table
    assert DEMO_EANS[LOOSE] in table


def test_link_to_an_existing_product_binds_every_marketplace_and_pushes_its_stock(
        client, login, post_form, emu, amazon_shop, catalog):
    shop, variants = _setup(emu, amazon_shop, catalog, {"BOUGIES-LOT-3": 4})
    target = variants["BOUGIES-LOT-3"]
    first = _loose_listings(shop)[0]
    login(client)
    url = f"/apps/amazon/shops/{shop.id}"
    emu.patches.clear()

    res = post_form(f"{url}/listings/{first.id}/fix", {"do": "link", "sku": " BOUGIES-LOT-3 "}, page=url)

    assert res.status_code == 302
    page = client.get(res.headers["Location"]).get_data(as_text=True)
    assert "Annonce reliée au produit BOUGIES-LOT-3" in page
    assert f'data-sku="{LOOSE}"' not in _unmatched_table(page)
    rows = _loose_listings(shop)
    assert {ln.variant_id for ln in rows} == {target.id}  # the DE listing of the SKU too
    assert db.session.scalar(sa.select(SkuAlias.variant_id).where(SkuAlias.sku == LOOSE)) == target.id
    binding = db.session.scalar(sa.select(VariantBinding).where(VariantBinding.shop_id == shop.id,
                                                                VariantBinding.variant_id == target.id))
    assert binding.external_id == LOOSE and binding.data["asin"] == rows[0].asin
    run = db.session.scalar(sa.select(AmazonCatalogImport).where(AmazonCatalogImport.shop_id == shop.id))
    assert run.unmatched == 0 and run.matched == 14  # 7 listings on each of FR and DE
    assert db.session.scalar(sa.select(AmazonStockPending.variant_id).where(
        AmazonStockPending.shop_id == shop.id)) == target.id

    drain()  # the push queued by the fix

    assert sorted((sku, body["patches"][0]["value"][0]["quantity"]) for sku, body in emu.patches) == [
        (LOOSE, 4), (LOOSE, 4)]
    assert {ln.pushed_quantity for ln in _loose_listings(shop)} == {4}


def test_create_the_product_from_the_listing(client, login, post_form, emu, amazon_shop, catalog):
    shop, _variants = _setup(emu, amazon_shop, catalog)
    rows = _loose_listings(shop)
    login(client)
    url = f"/apps/amazon/shops/{shop.id}"
    emu.patches.clear()

    res = post_form(f"{url}/listings/{rows[1].id}/fix", {"do": "create"}, page=url)

    assert res.status_code == 302
    created = db.session.scalar(sa.select(Variant).where(Variant.organization_id == shop.organization_id,
                                                         Variant.sku == LOOSE))
    assert created is not None
    assert created.product.title == rows[1].title == "Lot de 3 bougies (offre Amazon seulement)"
    assert str(created.price) == "59.00" and created.currency == "EUR" and created.barcode == DEMO_EANS[LOOSE]
    assert {ln.variant_id for ln in _loose_listings(shop)} == {created.id}
    # posted twice (a double click): refused with a sentence, nothing created twice
    res = post_form(f"{url}/listings/{rows[1].id}/fix", {"do": "create"}, page=url, follow_redirects=True)
    assert "Un produit porte déjà le SKU « AMZ-LOT3-BOUGIES »" in res.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Product).where(
        Product.organization_id == shop.organization_id, Product.title.like("Lot de 3 bougies%"))) == 1

    drain()
    assert sorted((sku, body["patches"][0]["value"][0]["quantity"]) for sku, body in emu.patches) == [
        (LOOSE, 0), (LOOSE, 0)]  # no OMS stock yet: Amazon stops selling units the OMS does not hold


def test_an_unknown_sku_is_refused_and_nothing_changes(client, login, post_form, emu, amazon_shop, catalog):
    shop, _variants = _setup(emu, amazon_shop, catalog)
    first = _loose_listings(shop)[0]
    login(client)
    url = f"/apps/amazon/shops/{shop.id}"

    res = post_form(f"{url}/listings/{first.id}/fix", {"do": "link", "sku": "PAS-DANS-LE-CATALOGUE"}, page=url,
                    follow_redirects=True)
    page = res.get_data(as_text=True)
    assert res.status_code == 200
    assert "Aucun produit de votre catalogue ne porte le SKU « PAS-DANS-LE-CATALOGUE »" in page
    assert f'data-sku="{LOOSE}"' in _unmatched_table(page)  # still offered for a fix

    res = post_form(f"{url}/listings/{first.id}/fix", {"do": "link", "sku": ""}, page=url, follow_redirects=True)
    assert "Indiquez le SKU d&#39;un produit de votre catalogue." in res.get_data(as_text=True)
    res = post_form(f"{url}/listings/{first.id}/fix", {"do": "supprimer"}, page=url, follow_redirects=True)
    assert "Choisissez « Relier » ou « Créer le produit »." in res.get_data(as_text=True)

    assert {ln.variant_id for ln in _loose_listings(shop)} == {None}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SkuAlias)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AmazonStockPending)) == 0
    # no CSRF token: refused
    assert client.post(f"{url}/listings/{first.id}/fix", data={"do": "create"}).status_code == 400


def test_another_merchants_listing_is_404(client, login, emu, amazon_shop, catalog, shop_factory, make_org):
    shop, _variants = _setup(emu, amazon_shop, catalog)
    theirs_listing = _loose_listings(shop)[0]
    other = make_org("Concurrent")
    theirs = shop_factory("amazon", "Leur Amazon", organization=other)
    mine = shop_factory("amazon", "Mon Amazon")
    # the merchant logged in below owns ``mine``; ``shop`` (and its listings) goes to the
    # other organization
    shop.organization_id = other.id
    db.session.commit()
    login(client)
    url = f"/apps/amazon/shops/{mine.id}"
    page = client.get(url).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)

    # their shop, their listing: 404, and the listing through my own shop: 404 as well
    assert client.post(f"/apps/amazon/shops/{shop.id}/listings/{theirs_listing.id}/fix",
                       data={"do": "create", "csrf_token": token}).status_code == 404
    assert client.post(f"/apps/amazon/shops/{theirs.id}/listings/{theirs_listing.id}/fix",
                       data={"do": "create", "csrf_token": token}).status_code == 404
    assert client.post(f"{url}/listings/{theirs_listing.id}/fix",
                       data={"do": "create", "csrf_token": token}).status_code == 404
    assert client.post(f"{url}/listings/999999/fix", data={"do": "create", "csrf_token": token}).status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Variant).where(Variant.sku == LOOSE)) == 0
