"""Stock OMS → Amazon for merchant-fulfilled (FBM) offers, and FBA stock Amazon → OMS.

The quantity of an FBM offer is its ``fulfillment_availability`` entry with channel code
``DEFAULT``: ``patchListingsItem`` (5 requests/s, burst 5) for a few SKUs, a
``JSON_LISTINGS_FEED`` for many (createFeedDocument, upload, createFeed, getFeed until done,
then the processing report), whichever the documented rates make faster. The patch is a
``merge`` on the ``DEFAULT`` entry, so an FBA entry of the same SKU is left alone.

FBA stock is read with ``getInventorySummaries`` into the shop's FBA warehouse. That
warehouse is not in any stock pool, so FBA units are never offered as FBM stock.
"""
from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select

from core import stock as core_stock
from core.extensions import db
from core.intake import variant_map
from core.jobs import enqueue
from core.models import Shop, utcnow

from .client import AmazonError, RateLimitWait, SellingPartnerClient
from .importing import fba_warehouse
from .models import AmazonFeed, AmazonListing, AmazonStockPending
from .operations import OPERATIONS
from .runtime import marketplaces
from .sync import ResumeLater
from core.i18n import _

FEED_TYPE = "JSON_LISTINGS_FEED"
FEED_CONTENT_TYPE = "application/json; charset=UTF-8"
FEED_MAX_MESSAGES = 25_000
#: Amazon's time to process a feed. Not documented; a cautious figure used only to choose
#: between the patch and the feed, never to wait.
FEED_PROCESSING_ESTIMATE = 300.0
FEED_POLL = 30.0


@dataclass
class PushResult:
    method: str = "none"
    sent: int = 0
    rejected: int = 0
    feeds: int = 0
    processing: int = 0  # in feeds Amazon is still processing

    def __str__(self) -> str:
        how = {"patch": "patchListingsItem", "feed": "JSON_LISTINGS_FEED", "none": _("rien à envoyer")}[self.method]
        if self.processing:
            return _("%(sent)s quantité(s) envoyée(s), %(rejected)s refusée(s) (%(how)s), %(processing)s en traitement "
                     "chez Amazon", sent=self.sent, rejected=self.rejected, how=how, processing=self.processing)
        return _("%(sent)s quantité(s) envoyée(s), %(rejected)s refusée(s) (%(how)s)", sent=self.sent,
                 rejected=self.rejected, how=how)


def mark_pending(shop: Shop, variant_ids: list[int]) -> None:
    """Remember variants to push (the hook's part: no network)."""
    if not variant_ids:
        return
    dialect = db.engine.dialect.name
    mod = __import__(f"sqlalchemy.dialects.{dialect}", fromlist=["insert"])
    for vid in sorted(set(variant_ids)):
        db.session.execute(mod.insert(AmazonStockPending).values(shop_id=shop.id, variant_id=vid)
                           .on_conflict_do_nothing())


def drain_pending(shop: Shop) -> list[int]:
    return list(db.session.scalars(delete(AmazonStockPending).where(AmazonStockPending.shop_id == shop.id)
                                   .returning(AmazonStockPending.variant_id)))


def push(shop: Shop, client: SellingPartnerClient, variant_ids: list[int] | None = None, *,
         force: bool = False) -> PushResult:
    """Push the sellable quantity of these variants (all bound ones when None) to their FBM
    offers on the shop's marketplaces. Unchanged figures are skipped unless ``force``."""
    stmt = select(AmazonListing).where(AmazonListing.shop_id == shop.id, AmazonListing.variant_id.is_not(None),
                                       AmazonListing.is_parent.is_(False),
                                       AmazonListing.marketplace_id.in_(marketplaces(shop)))
    if variant_ids is not None:
        if not variant_ids:
            return PushResult()
        stmt = stmt.where(AmazonListing.variant_id.in_(variant_ids))
    listings = [ln for ln in db.session.scalars(stmt.order_by(AmazonListing.marketplace_id, AmazonListing.sku))
                if ln.merchant_fulfilled]
    figures = core_stock.available_to_sell(shop, {ln.variant_id for ln in listings})
    updates = [(ln, figures.get(ln.variant_id, 0)) for ln in listings
               if force or ln.pushed_quantity != figures.get(ln.variant_id, 0)]
    if not updates:
        return PushResult()
    by_marketplace: dict[str, list[tuple[AmazonListing, int]]] = defaultdict(list)
    for listing, qty in updates:
        by_marketplace[listing.marketplace_id].append((listing, qty))
    if choose_method(client, len(updates), len(by_marketplace)) == "patch":
        return _patch_all(client, updates)
    result = PushResult(method="feed")
    for mp, items in sorted(by_marketplace.items()):
        for start in range(0, len(items), FEED_MAX_MESSAGES):
            feed = submit_feed(shop, client, mp, items[start:start + FEED_MAX_MESSAGES])
            result.feeds += 1
            try:
                follow_feed(client, feed)
            except (ResumeLater, RateLimitWait) as exc:
                # submitted: a job follows it; the quantities are not sent again
                enqueue("addons.amazon.jobs.check_feed", feed.id, job_id=f"amazon-check_feed-{feed.id}",
                        unique=True, shop_id=shop.id, delay=exc.wait)
                db.session.commit()
                result.processing += feed.messages
                continue
            rejected = len({i.get("sku") for i in feed.issues if i.get("severity") == "ERROR"})
            result.sent += feed.messages - rejected
            result.rejected += rejected
    return result


def _time(client: SellingPartnerClient, operation: str, calls: int) -> float:
    tokens = max(math.floor(client.tokens(operation)), 0)
    return max(0, calls - tokens) / client.rate(OPERATIONS[operation].name)


def choose_method(client: SellingPartnerClient, updates: int, marketplace_count: int) -> str:
    """patch when ``updates`` patches take no longer than the feeds would."""
    patch_time = _time(client, "patchListingsItem", updates)
    feeds = marketplace_count * math.ceil(updates / FEED_MAX_MESSAGES / max(marketplace_count, 1))
    feed_time = (_time(client, "createFeedDocument", feeds) + _time(client, "createFeed", feeds)
                 + FEED_PROCESSING_ESTIMATE + _time(client, "getFeedDocument", feeds))
    return "patch" if patch_time <= feed_time else "feed"


def _patch_body(listing: AmazonListing, qty: int) -> dict[str, Any]:
    return {"productType": listing.product_type or "PRODUCT", "patches": [{
        "op": "merge", "path": "/attributes/fulfillment_availability",
        "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": max(int(qty), 0)}]}]}


def _patch_all(client: SellingPartnerClient, updates: list[tuple[AmazonListing, int]]) -> PushResult:
    result = PushResult(method="patch")
    for n, (listing, qty) in enumerate(updates, 1):
        try:
            body = client.call("patchListingsItem", path={"sellerId": client.seller_id, "sku": listing.sku},
                               params={"marketplaceIds": [listing.marketplace_id], "issueLocale": "fr_FR"},
                               json=_patch_body(listing, qty)).body
        except AmazonError as exc:
            if exc.status != 400:
                raise
            body = {"status": "INVALID", "issues": [{"message": str(exc), "severity": "ERROR"}]}
        errors = [i for i in body.get("issues") or [] if i.get("severity") == "ERROR"]
        if body.get("status") == "INVALID" or errors:
            listing.push_error = "; ".join(f"{i.get('code', '')} {i.get('message', '')}".strip() for i in errors) \
                or "refusé par Amazon"
            result.rejected += 1
        else:
            listing.pushed_quantity, listing.pushed_at, listing.push_error = qty, utcnow(), None
            result.sent += 1
        if n % 50 == 0:
            db.session.commit()
    return result


def submit_feed(shop: Shop, client: SellingPartnerClient, marketplace_id: str,
                items: list[tuple[AmazonListing, int]]) -> AmazonFeed:
    messages, sent = [], {}
    for n, (listing, qty) in enumerate(items, 1):
        body = _patch_body(listing, qty)
        messages.append({"messageId": n, "sku": listing.sku, "operationType": "PATCH",
                         "productType": body["productType"], "patches": body["patches"]})
        sent[str(n)] = {"sku": listing.sku, "quantity": max(int(qty), 0), "listing": listing.id}
    document = {"header": {"sellerId": client.seller_id, "version": "2.0", "issueLocale": "fr_FR"},
                "messages": messages}
    doc = client.call("createFeedDocument", json={"contentType": FEED_CONTENT_TYPE}).body
    client.upload(doc["url"], json.dumps(document).encode("utf-8"), FEED_CONTENT_TYPE)
    created = client.call("createFeed", json={"feedType": FEED_TYPE, "marketplaceIds": [marketplace_id],
                                              "inputFeedDocumentId": doc["feedDocumentId"]}).body
    feed = AmazonFeed(shop_id=shop.id, marketplace_id=marketplace_id, feed_id=created["feedId"], status="IN_QUEUE",
                      messages=len(messages), sent=sent, summary={}, issues=[])
    db.session.add(feed)
    db.session.commit()
    return feed


def follow_feed(client: SellingPartnerClient, feed: AmazonFeed) -> AmazonFeed:
    """Poll ``getFeed`` until Amazon is done, then read the processing report back: every
    SKU with an ERROR keeps its message; the others are recorded as pushed."""
    while True:
        info = client.call("getFeed", path={"feedId": feed.feed_id}).body
        feed.status = info.get("processingStatus", feed.status)
        if feed.status in ("DONE", "FATAL", "CANCELLED"):
            break
        db.session.commit()
        if FEED_POLL > client.max_wait:
            raise ResumeLater(FEED_POLL, _("flux %(feed_id)s en traitement chez Amazon", feed_id=feed.feed_id))
        client.clock.sleep(FEED_POLL)
    report: dict[str, Any] = {}
    if info.get("resultFeedDocumentId"):
        doc = client.call("getFeedDocument", path={"feedDocumentId": info["resultFeedDocumentId"]}).body
        report = json.loads(client.download(doc["url"], doc.get("compressionAlgorithm")).decode("utf-8"))
    feed.summary = dict(report.get("summary") or {})
    feed.issues = list(report.get("issues") or [])
    feed.finished_at = utcnow()
    errors: dict[str, list[str]] = defaultdict(list)
    for issue in feed.issues:
        if issue.get("severity") == "ERROR":
            sku = issue.get("sku") or (feed.sent.get(str(issue.get("messageId"))) or {}).get("sku")
            if sku:
                errors[sku].append(f"{issue.get('code', '')} {issue.get('message', '')}".strip())
    listings = {ln.id: ln for ln in db.session.scalars(select(AmazonListing).where(
        AmazonListing.id.in_([s["listing"] for s in feed.sent.values()])))}
    for entry in feed.sent.values():
        listing = listings.get(entry["listing"])
        if listing is None:
            continue
        if feed.status != "DONE":
            listing.push_error = f"flux {feed.feed_id} : {feed.status}"
        elif entry["sku"] in errors:
            listing.push_error = "; ".join(errors[entry["sku"]])
        else:
            listing.pushed_quantity, listing.pushed_at, listing.push_error = entry["quantity"], utcnow(), None
    db.session.commit()
    return feed


# ----------------------------------------------------------------------------- FBA (read-only)
def refresh_fba(shop: Shop, client: SellingPartnerClient) -> int:
    """Set the FBA warehouse's on-hand figures to Amazon's fulfillable quantities (Pan-EU
    stock is one pool: read once, on the shop's first marketplace). Returns SKUs changed."""
    mps = marketplaces(shop)
    if not mps:
        return 0
    mp = mps[0]
    warehouse = fba_warehouse(shop)
    quantities: dict[str, int] = {}
    token = None
    while True:
        params: dict[str, Any] = {"details": "true", "granularityType": "Marketplace", "granularityId": mp,
                                  "marketplaceIds": [mp]}
        if token:
            params["nextToken"] = token
        body = client.call("getInventorySummaries", params=params).body
        for summary in (body.get("payload") or {}).get("inventorySummaries") or []:
            sku = summary.get("sellerSku")
            if sku:
                details = summary.get("inventoryDetails") or {}
                quantities[sku] = int(details.get("fulfillableQuantity", summary.get("totalQuantity") or 0))
        token = (body.get("pagination") or {}).get("nextToken")
        if not token:
            break
    mapping = variant_map(shop.organization_id, set(quantities))
    totals: dict[int, int] = defaultdict(int)
    for sku, qty in quantities.items():
        if sku in mapping:
            totals[mapping[sku]] += qty
    changed = 0
    for variant_id, qty in sorted(totals.items()):
        delta = qty - core_stock.level(variant_id, warehouse.id).on_hand
        if delta:
            core_stock.adjust(shop.organization_id, variant_id, warehouse.id, delta,
                              reason="inventaire FBA lu chez Amazon", user_id=None)
            changed += 1
    return changed
