"""The seller's offer catalogue read from Octopia (GET /offers, page by page on its cursor):
offers matched to OMS variants by SKU then EAN, their stock pushed under the offer's own
reference; offers without product fixed from the shop's page (link to a SKU, or create the
product); a second read changes nothing; an outage keeps what was there."""
from __future__ import annotations

import html
from decimal import Decimal

import pytest
from sqlalchemy import select

from addons.cdiscount import mapping
from addons.cdiscount.client import CdiscountError
from addons.cdiscount.jobs import import_catalog, mark_pending, push_stock
from addons.cdiscount.models import CdiscountOffer
from core.extensions import db
from core.models import OutboxJob, SkuAlias, SyncLog, SyncStatus, Variant

from .conftest import configure, run_jobs


def offers_of(shop) -> dict[str | None, CdiscountOffer]:
    db.session.expire_all()
    return {o.seller_sku: o for o in db.session.scalars(select(CdiscountOffer).where(CdiscountOffer.shop_id == shop.id))}


def reads(emu) -> int:
    return sum(1 for m, p in emu.kit.calls if m == "GET" and p == "/seller/v2/offers")


def puts(emu) -> int:
    return sum(1 for m, p in emu.kit.calls if m == "PUT" and p == "/seller/v2/offers")


def text(res) -> str:
    return html.unescape(res.get_data(as_text=True))


def page_of(shop) -> str:
    return f"/apps/cdiscount/shops/{shop.id}"


# ----------------------------------------------------------------------------- reading
def test_every_page_is_read_and_offers_matched_by_sku_then_ean(cdiscount_shop, emu, catalog, clock):
    variants = catalog({"TCB-BLA-M": 5, "CAP-STD": 3, "MUG-BLE": 2})
    emu.add_offer("TCB-BLA-M", price="21.50", quantity=0)  # the same SKU
    emu.add_offer("CDS-CASQUETTE", gtin=variants["CAP-STD"].barcode, quantity=7)  # another reference, its EAN
    for n in range(230):
        emu.add_offer(f"ZZ-{n:03d}", gtin=f"3701000{n:06d}", title=f"Article {n}", price="9.90")
    shop = cdiscount_shop()

    assert import_catalog(shop.id) == "232 offre(s) lue(s), 230 sans produit OMS"
    assert reads(emu) == 3  # 100 + 100 + 32, the cursor of each Link header followed, the last has none
    offers = offers_of(shop)
    assert len(offers) == 232
    assert offers["TCB-BLA-M"].variant_id == variants["TCB-BLA-M"].id
    assert offers["TCB-BLA-M"].remote_price == Decimal("21.50") and offers["TCB-BLA-M"].offer_state == "Active"
    assert offers["CDS-CASQUETTE"].variant_id == variants["CAP-STD"].id
    assert offers["CDS-CASQUETTE"].gtin == variants["CAP-STD"].barcode and offers["CDS-CASQUETTE"].remote_stock == 7
    zz = offers["ZZ-229"]
    assert zz.variant_id is None and zz.title == "Article 229" and zz.gtin == "3701000000229"
    assert zz.offer_id == emu.offer_view("ZZ-229")["offerId"] and not zz.pending
    assert all(o.variant_id != variants["MUG-BLE"].id for o in offers.values())  # no offer on Cdiscount

    # the offers matched get their stock pushed by the offers job, under the offer's own reference
    run_jobs(clock)
    assert puts(emu) == 1
    assert emu.offers["TCB-BLA-M"]["stock"] == 5
    assert emu.offers["CDS-CASQUETTE"]["stock"] == 3 and "CAP-STD" not in emu.offers
    assert emu.offers["ZZ-000"]["stock"] == 0  # an offer without product is never pushed


def test_reading_again_changes_nothing_and_forgets_offers_gone(cdiscount_shop, emu, catalog, clock):
    variants = catalog({"TCB-BLA-M": 5})
    emu.add_offer("TCB-BLA-M")
    for n in range(120):
        emu.add_offer(f"ZZ-{n:03d}")
    shop = cdiscount_shop()
    import_catalog(shop.id)
    run_jobs(clock)
    before = {sku: (o.id, o.variant_id) for sku, o in offers_of(shop).items()}
    pushed = puts(emu)

    assert import_catalog(shop.id) == "121 offre(s) lue(s), 120 sans produit OMS"
    assert {sku: (o.id, o.variant_id) for sku, o in offers_of(shop).items()} == before
    run_jobs(clock)
    assert puts(emu) == pushed  # nothing newly matched: nothing sent again
    assert db.session.scalar(select(db.func.count(Variant.id))) == 1  # an import never makes products

    del emu.offers["ZZ-007"]  # withdrawn on the seller portal
    emu.add_offer("ZZ-NEW")
    assert import_catalog(shop.id) == "121 offre(s) lue(s), 120 sans produit OMS"
    offers = offers_of(shop)
    assert "ZZ-007" not in offers and "ZZ-NEW" in offers
    assert offers["TCB-BLA-M"].id == before["TCB-BLA-M"][0] and offers["TCB-BLA-M"].variant_id == variants["TCB-BLA-M"].id


def test_a_stock_row_made_before_the_first_read_is_adopted_by_its_offer(cdiscount_shop, emu, catalog, clock):
    variants = catalog({"CAP-STD": 4})
    shop = cdiscount_shop()
    mark_pending(shop, [variants["CAP-STD"].id])  # a stock change before the catalogue was read
    db.session.commit()
    emu.add_offer("CDS-CAP", gtin=variants["CAP-STD"].barcode)
    import_catalog(shop.id)
    rows = db.session.scalars(select(CdiscountOffer).where(CdiscountOffer.variant_id == variants["CAP-STD"].id)).all()
    assert [r.seller_sku for r in rows] == ["CDS-CAP"]
    assert push_stock(shop.id) == 1
    assert emu.offers["CDS-CAP"]["stock"] == 4 and "CAP-STD" not in emu.offers


def test_the_offer_payload_is_read_as_octopia_documents_it():
    item = {"offerId": "217842_AUC3760000000001_New_CDISFR", "sellerExternalReference": "REF-1",
            "product": {"gtin": "3760000000001", "reference": "AUC3760000000001", "title": "Casquette"},
            "condition": "New", "offerState": "Inactive", "integrationPrice": 12.9, "quantity": 3}
    offer = mapping.remote_offer(item)
    assert (offer.sku, offer.gtin, offer.title, offer.price, offer.quantity, offer.state) == (
        "REF-1", "3760000000001", "Casquette", Decimal("12.9"), 3, "Inactive")
    # a price as an object, the top-level gtin, and an offer without reference (skipped by the import)
    other = mapping.remote_offer({"sellerProductId": "REF-2", "gtin": "3760000000002", "integrationPrice": {"price": 5}})
    assert (other.sku, other.gtin, other.price, other.quantity) == ("REF-2", "3760000000002", Decimal("5"), None)
    assert mapping.remote_offer({"offerId": "x"}).sku == ""


# ----------------------------------------------------------------------------- the shop's page
def test_the_button_reads_the_offers_in_a_job(cdiscount_shop, emu, catalog, clock, client, login, post_form):
    emu.add_offer("CDS-PLAID", title="Plaid en laine")
    shop = cdiscount_shop()
    login(client)
    page = text(client.get(page_of(shop)))
    assert "Offres sans produit OMS" in page and "Relire les offres" in page and "Aucune offre lue" in page
    res = post_form(f"{page_of(shop)}/offers", page=page_of(shop), follow_redirects=True)
    assert res.status_code == 200 and "Lecture des offres demandée à Cdiscount." in text(res)
    assert db.session.scalars(select(OutboxJob.func).where(OutboxJob.shop_id == shop.id)).all() == [
        "addons.cdiscount.jobs.import_catalog"]
    assert reads(emu) == 0  # nothing read while the merchant waits
    run_jobs(clock)
    entry = db.session.scalars(select(SyncLog).where(SyncLog.func == "addons.cdiscount.jobs.import_catalog")).one()
    assert entry.status == SyncStatus.OK and entry.result == "1 offre(s) lue(s), 1 sans produit OMS"
    page = text(client.get(page_of(shop)))
    assert 'data-offer="CDS-PLAID"' in page and "Plaid en laine" in page and "Relier" in page
    assert "Créer le produit" in page and "1 offre lue chez Cdiscount." in page


def test_offers_without_product_are_linked_or_created_from_the_shop_page(cdiscount_shop, emu, catalog, clock,
                                                                        client, login, post_form):
    variants = catalog({"TCB-BLA-M": 6})
    emu.add_offer("OLD-TEE", title="Tee-shirt ancien")
    emu.add_offer("NEW-BOL", title="Bol bleu", price="7.50", gtin="3700000000024")
    emu.add_offer("TCB-BLA-M")
    shop = cdiscount_shop()
    import_catalog(shop.id)
    run_jobs(clock)
    login(client)
    page = text(client.get(page_of(shop)))
    assert 'data-offer="OLD-TEE"' in page and 'data-offer="NEW-BOL"' in page and 'data-offer="TCB-BLA-M"' not in page
    offers = offers_of(shop)
    link_url = f"{page_of(shop)}/offers/{offers['OLD-TEE'].id}/fix"

    # an unknown SKU: a clear sentence, nothing changed
    refused = post_form(link_url, {"do": "link", "sku": "NOPE"}, page=page_of(shop), follow_redirects=True)
    assert "Aucun produit de votre catalogue ne porte le SKU « NOPE »." in text(refused)
    assert offers_of(shop)["OLD-TEE"].variant_id is None
    empty = post_form(link_url, {"do": "link", "sku": " "}, page=page_of(shop), follow_redirects=True)
    assert "Indiquez le SKU d'un produit de votre catalogue." in text(empty)

    # linked: the offer's reference becomes an alias of the variant, its stock goes out under it
    linked = post_form(link_url, {"do": "link", "sku": "TCB-BLA-M"}, page=page_of(shop), follow_redirects=True)
    assert "Annonce reliée au produit TCB-BLA-M" in text(linked)
    assert offers_of(shop)["OLD-TEE"].variant_id == variants["TCB-BLA-M"].id
    assert db.session.scalar(select(SkuAlias.variant_id).where(SkuAlias.sku == "OLD-TEE")) == variants["TCB-BLA-M"].id

    # created: a product made of the offer (reference, title, EAN, price)
    post_form(f"{page_of(shop)}/offers/{offers['NEW-BOL'].id}/fix", {"do": "create"}, page=page_of(shop))
    bol = db.session.get(Variant, offers_of(shop)["NEW-BOL"].variant_id)
    assert bol.sku == "NEW-BOL" and bol.barcode == "3700000000024" and bol.price == Decimal("7.50")
    assert bol.product.title == "Bol bleu"
    # creating it twice is refused (the SKU exists now)
    again = post_form(f"{page_of(shop)}/offers/{offers['NEW-BOL'].id}/fix", {"do": "create"}, page=page_of(shop),
                      follow_redirects=True)
    assert "Un produit porte déjà le SKU « NEW-BOL »" in text(again)

    emu.offers["OLD-TEE"]["stock"] = 99
    run_jobs(clock)
    assert emu.offers["OLD-TEE"]["stock"] == 6 and emu.offers["NEW-BOL"]["stock"] == 0
    page = text(client.get(page_of(shop)))
    assert 'data-offer="OLD-TEE"' not in page and 'data-offer="NEW-BOL"' not in page
    assert "Toutes les offres lues correspondent à un produit." in page
    # read again: the fixes hold (the alias matches the offer)
    import_catalog(shop.id)
    assert offers_of(shop)["OLD-TEE"].variant_id == variants["TCB-BLA-M"].id


def test_another_merchant_s_shop_and_offers_are_a_404(cdiscount_shop, emu, catalog, clock, client, login,
                                                      post_form, make_org, shop_factory, base_url):
    from addons.cdiscount import sandbox

    emu.add_offer("MINE-1")
    mine = cdiscount_shop()
    import_catalog(mine.id)
    theirs = shop_factory("cdiscount", organization=make_org("Autre marchand"))
    configure(theirs, {**sandbox.settings_for(base_url), "seller_id": "555555"})
    foreign = CdiscountOffer(shop_id=theirs.id, seller_sku="X-1", pending=False)
    db.session.add(foreign)
    db.session.commit()
    login(client)
    assert client.get(page_of(theirs)).status_code == 404
    assert post_form(f"{page_of(theirs)}/offers", page=page_of(mine)).status_code == 404
    assert post_form(f"{page_of(theirs)}/offers/{foreign.id}/fix", {"do": "create"},
                     page=page_of(mine)).status_code == 404
    assert post_form(f"{page_of(mine)}/offers/{foreign.id}/fix", {"do": "create"},
                     page=page_of(mine)).status_code == 404
    assert db.session.scalar(select(db.func.count(Variant.id))) == 0
    assert db.session.scalars(select(OutboxJob).where(OutboxJob.shop_id == theirs.id)).all() == []
    with pytest.raises(CdiscountError):
        import_catalog(theirs.id)  # another seller id: Octopia refuses, nothing read into the other shop
    assert set(offers_of(theirs)) == {"X-1"}


# ----------------------------------------------------------------------------- failures
def test_an_outage_mid_read_keeps_what_was_there_with_a_clear_error_on_the_sync_log(
        cdiscount_shop, emu, catalog, clock, client, login, post_form):
    variants = catalog({"TCB-BLA-M": 5})
    emu.add_offer("TCB-BLA-M")
    for n in range(150):
        emu.add_offer(f"ZZ-{n:03d}")
    shop = cdiscount_shop()
    import_catalog(shop.id)
    before = {sku: (o.id, o.variant_id) for sku, o in offers_of(shop).items()}
    for n in range(100, 150):
        del emu.offers[f"ZZ-{n:03d}"]  # gone from the second page: forgotten only once every page is read

    emu.kit.fail_next(500, times=20, path="/seller/v2/offers", after=1)
    login(client)
    post_form(f"{page_of(shop)}/offers", page=page_of(shop))
    run_jobs(clock)
    entries = db.session.scalars(select(SyncLog).where(SyncLog.func == "addons.cdiscount.jobs.import_catalog")).all()
    assert entries and all(e.status in (SyncStatus.RETRYING, SyncStatus.FAILED) for e in entries)
    assert all("Octopia a refusé la demande (HTTP 500)" in e.error for e in entries)
    db.session.refresh(shop)
    assert shop.last_error.startswith("Octopia a refusé la demande (HTTP 500)")  # the merchant's sentence
    assert {sku: (o.id, o.variant_id) for sku, o in offers_of(shop).items()} == before
    log = text(client.get(f"/integrations/shops/{shop.id}/log"))
    assert "Octopia a refusé la demande (HTTP 500) : Server Error" in log.replace("<code>CdiscountError: ", "")
    assert "Import du catalogue" in log
    for _ in range(4):  # the job's retries pass: the last failure stays, with its retry button
        run_jobs(clock, minutes=60)
    db.session.expire_all()
    last = db.session.scalars(select(SyncLog).where(SyncLog.func == "addons.cdiscount.jobs.import_catalog")
                              .order_by(SyncLog.id.desc())).first()
    assert last.status == SyncStatus.FAILED
    assert "Relancer" in text(client.get(f"/integrations/shops/{shop.id}/log"))
    assert {sku: (o.id, o.variant_id) for sku, o in offers_of(shop).items()} == before

    emu.kit.reset()
    assert import_catalog(shop.id) == "101 offre(s) lue(s), 100 sans produit OMS"
    offers = offers_of(shop)
    assert "ZZ-120" not in offers and offers["TCB-BLA-M"].variant_id == variants["TCB-BLA-M"].id


def test_the_catalogue_migration_goes_both_ways(app):
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect

    db.drop_all()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    upgrade(revision="heads")
    columns = {c["name"]: c for c in inspect(db.engine).get_columns("cdiscount_offer")}
    assert {"seller_sku", "offer_id", "gtin", "remote_price", "remote_stock", "offer_state"} <= set(columns)
    assert columns["variant_id"]["nullable"]
    downgrade(revision="cdiscount_0002")
    db.engine.dispose()
    columns = {c["name"]: c for c in inspect(db.engine).get_columns("cdiscount_offer")}
    assert "seller_sku" not in columns and not columns["variant_id"]["nullable"]
    upgrade(revision="heads")
    db.engine.dispose()
    assert "seller_sku" in {c["name"] for c in inspect(db.engine).get_columns("cdiscount_offer")}
