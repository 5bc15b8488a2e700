"""Catalog Amazon → OMS: the seller's listings (a ``GET_MERCHANT_LISTINGS_ALL_DATA`` report
per marketplace, then ``getListingsItem`` per SKU for product type, images, offers and
variations), matched to the OMS variants by SKU (or the merchant's SKU aliases)."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.extensions import db
from core.intake import variant_map
from core.models import Shop, Variant, VariantBinding, utcnow
from core.syncs import Progress

from .client import AmazonError, SellingPartnerClient
from .mapping import parse_tsv, report_barcode
from .models import AmazonCatalogImport, AmazonListing
from .runtime import marketplaces
from .sync import REPORT_POLL, ResumeLater
from core.i18n import _

LISTINGS_REPORT = "GET_MERCHANT_LISTINGS_ALL_DATA"
DETAILS = ["summaries", "offers", "fulfillmentAvailability", "relationships"]
#: listings detailed per commit (and per progress step)
DETAILS_BATCH = 50
#: a listing of the report that Amazon no longer gives (shown in the merchant's language)
LISTING_GONE = _l("Annonce introuvable chez Amazon (supprimée depuis le rapport) : ses détails ne sont pas lus.")


def start_import(shop: Shop) -> AmazonCatalogImport:
    run = AmazonCatalogImport(shop_id=shop.id, state="running", reports={})
    db.session.add(run)
    db.session.flush()
    return run


def run_import(shop: Shop, client: SellingPartnerClient, run: AmazonCatalogImport) -> AmazonCatalogImport:
    """Read every listing, store it, match it; resumable (``ResumeLater``) while a report is
    being produced."""
    reports = dict(run.reports or {})
    for mp in marketplaces(shop):
        if mp not in reports:
            body = client.call("createReport", json={"reportType": LISTINGS_REPORT, "marketplaceIds": [mp]}).body
            reports[mp] = {"id": body["reportId"]}
            run.reports = dict(reports)
            db.session.commit()
    for mp, rep in sorted(reports.items()):
        if rep.get("stored"):
            continue
        report = _wait(client, rep["id"])
        if report["processingStatus"] != "DONE":
            raise AmazonError(_("Le rapport d'annonces %(id)s a échoué chez Amazon (%(processingstatus)s).",
                                id=rep['id'], processingstatus=report['processingStatus']))
        doc = client.call("getReportDocument", path={"reportDocumentId": report["reportDocumentId"]}).body
        rows = parse_tsv(client.download(doc["url"], doc.get("compressionAlgorithm")).decode("utf-8-sig"))
        _store_rows(shop, mp, rows)
        rep["stored"] = True
        reports[mp] = dict(rep)
        run.reports = dict(reports)
        db.session.commit()
    _details(shop, client)
    _match(shop, run)
    run.state, run.finished_at = "done", utcnow()
    db.session.commit()
    return run


def _wait(client: SellingPartnerClient, report_id: str) -> dict[str, Any]:
    while True:
        report = client.call("getReport", path={"reportId": report_id}).body
        if report.get("processingStatus") in ("DONE", "FATAL", "CANCELLED"):
            return report
        if REPORT_POLL > client.max_wait:
            raise ResumeLater(REPORT_POLL, _("rapport %(report_id)s en préparation chez Amazon",
                                             report_id=report_id))
        client.clock.sleep(REPORT_POLL)


def _decimal(value: str | None) -> Decimal | None:
    try:
        return Decimal(value.strip()) if value and value.strip() else None
    except InvalidOperation:
        return None


def _channel(value: str | None) -> str:
    code = (value or "").strip().upper()
    return code if code and code != "DEFAULT" else "DEFAULT"


def _store_rows(shop: Shop, marketplace_id: str, rows: list[dict[str, str]]) -> None:
    existing = {(r.sku, r.marketplace_id): r for r in db.session.scalars(select(AmazonListing).where(
        AmazonListing.shop_id == shop.id, AmazonListing.marketplace_id == marketplace_id))}
    now = utcnow()
    for row in rows:
        sku = (row.get("seller-sku") or "").strip()
        if not sku:
            continue
        listing = existing.get((sku, marketplace_id))
        if listing is None:
            listing = AmazonListing(shop_id=shop.id, sku=sku, marketplace_id=marketplace_id)
            db.session.add(listing)
            existing[(sku, marketplace_id)] = listing
        listing.asin = (row.get("asin1") or "").strip() or listing.asin
        listing.barcode = report_barcode(row) or listing.barcode
        listing.title = (row.get("item-name") or "")[:500]
        listing.price = _decimal(row.get("price"))
        listing.images = [row["image-url"]] if row.get("image-url") else list(listing.images or [])
        listing.channels = [_channel(row.get("fulfillment-channel"))]
        listing.status = (row.get("status") or "")[:32]
        quantity = _decimal(row.get("quantity"))
        listing.amazon_quantity = int(quantity) if quantity is not None else None
        listing.imported_at = now


def _details(shop: Shop, client: SellingPartnerClient) -> None:
    """``getListingsItem`` once per SKU and marketplace: product type (needed to patch the
    quantity), images, offer price, both fulfillment channels, and variations."""
    seller = client.seller_id
    listings = db.session.scalars(select(AmazonListing).where(AmazonListing.shop_id == shop.id)
                                  .order_by(AmazonListing.sku, AmazonListing.marketplace_id)).all()
    progress = Progress.for_job("listings")
    progress.start(len(listings))
    done, missing = 0, []
    for n, listing in enumerate(listings, 1):
        try:
            item = client.call("getListingsItem", path={"sellerId": seller, "sku": listing.sku},
                               params={"marketplaceIds": [listing.marketplace_id], "includedData": DETAILS,
                                       "issueLocale": "fr_FR"}).body
        except AmazonError as exc:
            if exc.status != 404:
                raise
            listing.status = "INTROUVABLE"
            missing.append((listing.sku, LISTING_GONE))
        else:
            apply_item(listing, item)
        if n % DETAILS_BATCH == 0:
            db.session.commit()
            progress.advance(n - done, missing)
            done, missing = n, []
    db.session.commit()
    progress.advance(len(listings) - done, missing)


def apply_item(listing: AmazonListing, item: dict[str, Any]) -> None:
    mp = listing.marketplace_id
    summary = next((s for s in item.get("summaries") or [] if s.get("marketplaceId") == mp), None)
    if summary:
        listing.asin = summary.get("asin") or listing.asin
        listing.product_type = summary.get("productType") or listing.product_type
        listing.title = (summary.get("itemName") or listing.title or "")[:500]
        image = (summary.get("mainImage") or {}).get("link")
        if image:
            listing.images = [image] + [i for i in listing.images or [] if i != image]
        listing.status = ",".join(summary.get("status") or []) or listing.status
    offer = next((o for o in item.get("offers") or [] if o.get("marketplaceId") == mp and o.get("offerType") == "B2C"),
                 None)
    if offer:
        listing.price = _decimal((offer.get("price") or {}).get("amount")) or listing.price
        listing.currency = (offer.get("price") or {}).get("currencyCode") or listing.currency
    availability = item.get("fulfillmentAvailability") or []
    if availability:
        listing.channels = sorted({str(a.get("fulfillmentChannelCode")) for a in availability
                                   if a.get("fulfillmentChannelCode")})
        default = next((a for a in availability if a.get("fulfillmentChannelCode") == "DEFAULT"), None)
        if default is not None and default.get("quantity") is not None:
            listing.amazon_quantity = int(default["quantity"])
    for group in item.get("relationships") or []:
        if group.get("marketplaceId") != mp:
            continue
        for rel in group.get("relationships") or []:
            if rel.get("type") != "VARIATION":
                continue
            if rel.get("parentSkus"):
                listing.parent_sku = rel["parentSkus"][0]
            if rel.get("childSkus"):
                listing.is_parent = True
            theme = (rel.get("variationTheme") or {}).get("theme")
            if theme:
                listing.variation_theme = theme[:120]


def _match(shop: Shop, run: AmazonCatalogImport) -> None:
    run.listings, run.matched, run.unmatched = match_listings(shop)


def match_listings(shop: Shop) -> tuple[int, int, int]:
    """Match the shop's stored listings to OMS variants by SKU (or alias) and bind them;
    returns (listings, matched, unmatched) — parent listings count in neither."""
    listings = db.session.scalars(select(AmazonListing).where(AmazonListing.shop_id == shop.id)).all()
    mapping = variant_map(shop.organization_id, {ln.sku for ln in listings})
    bindings = {b.variant_id: b for b in db.session.scalars(
        select(VariantBinding).where(VariantBinding.shop_id == shop.id))}
    by_sku = {b.external_id: b for b in bindings.values()}
    own_skus = dict(db.session.execute(select(Variant.id, Variant.sku).where(
        Variant.id.in_(set(mapping.values())))).all()) if mapping else {}
    matched = unmatched = 0
    for listing in listings:
        listing.variant_id = mapping.get(listing.sku)
        if listing.is_parent:
            continue
        if listing.variant_id is None:
            unmatched += 1
            continue
        matched += 1
        binding = bindings.get(listing.variant_id)
        # one binding per variant and shop: the SKU that is the variant's own wins over an alias
        if binding is not None and binding.external_id != listing.sku:
            if own_skus.get(listing.variant_id) != listing.sku:
                continue
        if binding is None:
            if listing.sku in by_sku:
                continue
            binding = VariantBinding(shop_id=shop.id, variant_id=listing.variant_id, external_id=listing.sku)
            db.session.add(binding)
            bindings[listing.variant_id] = binding
            by_sku[listing.sku] = binding
        binding.external_id = listing.sku
        binding.external_sku = listing.sku
        data = dict(binding.data or {})
        data.update({"asin": listing.asin, "product_type": listing.product_type, "parent_sku": listing.parent_sku,
                     "title": listing.title, "images": list(listing.images or [])})
        data.setdefault("marketplaces", {})
        data["marketplaces"] = {**data["marketplaces"], listing.marketplace_id: {
            "channels": list(listing.channels or []),
            "price": str(listing.price) if listing.price is not None else None, "currency": listing.currency}}
        binding.data = data
    return len(listings), matched, unmatched


def channel_actions(shop: Shop, product) -> list:
    """The product page's lines for this seller account: each listing of the product's SKUs
    by marketplace, with Amazon's status, the quantity Amazon shows and the last push."""
    from flask_babel import gettext as _

    from core.types import ChannelAction

    from .client import EU_MARKETPLACES

    names = {m.id: m.name for m in EU_MARKETPLACES}
    variant_ids = [v.id for v in product.variants] or [0]
    rows = db.session.scalars(select(AmazonListing).where(AmazonListing.shop_id == shop.id,
                                                          AmazonListing.variant_id.in_(variant_ids))
                              .order_by(AmazonListing.marketplace_id, AmazonListing.sku)).all()
    if not rows:
        return [ChannelAction(label=_("Aucune annonce Amazon pour ces SKU"), status=_("Pas en vente"),
                              endpoint="amazon.shop_page", args={"shop_id": shop.id})]
    actions = []
    for row in rows:
        state = (row.status or "").upper()
        if row.push_error:
            status, kind = _("Stock refusé : %(why)s", why=row.push_error[:120]), "error"
        elif "BUYABLE" in state or state in ("ACTIVE", "DISCOVERABLE,BUYABLE"):
            status, kind = _("En vente (%(qty)s en stock chez Amazon)", qty=row.amazon_quantity or 0), "ok"
        elif state:
            status, kind = _("Statut Amazon : %(status)s", status=row.status), "warning"
        else:
            status, kind = _("Statut inconnu (catalogue à importer)"), "muted"
        actions.append(ChannelAction(label=f"{row.sku} · {names.get(row.marketplace_id, row.marketplace_id)}",
                                     status=status, kind=kind, endpoint="amazon.shop_page",
                                     args={"shop_id": shop.id}))
    return actions
