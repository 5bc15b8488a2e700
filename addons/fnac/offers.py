"""Offers: the shop's listings read with ``offers_query`` (matched to OMS variants by SKU, then
by barcode), stock and price pushed with ``offers_update`` and its result read with
``batch_status`` until Fnac Darty has processed the batch, offer by offer.
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from core import stock
from core.extensions import db
from core.models import Shop, Variant, utcnow

from . import mapping
from .client import FnacClient
from .models import FnacAccount, FnacBatch, FnacOffer

#: offers per ``offers_update`` (Fnac Darty publishes no maximum: batches stay modest)
BATCH_SIZE = 500
#: seconds between two ``batch_status`` reads
BATCH_POLL = 30.0
#: reads of one batch before it is reported as stuck
MAX_CHECKS = 240


def import_offers(shop: Shop, client: FnacClient) -> tuple[int, int]:
    """Read every offer; returns (offers, matched to a variant)."""
    rows = {o.sku: o for o in db.session.scalars(select(FnacOffer).where(FnacOffer.shop_id == shop.id))}
    seen = []
    number = 1
    while True:
        page = mapping.read_page(client.offers_query(page=number).root, "offer")
        for el in page.items:
            remote = mapping.read_offer(el)
            row = rows.get(remote.sku)
            if row is None:
                row = FnacOffer(shop_id=shop.id, sku=remote.sku, pending=False)
                db.session.add(row)
                rows[remote.sku] = row
            row.title, row.price, row.fnac_quantity = remote.title[:500], remote.price, remote.quantity
            row.offer_fnac_id, row.product_fnac_id, row.imported_at = remote.offer_fnac_id, remote.product_fnac_id, utcnow()
            seen.append(remote.sku)
        if number >= page.total_pages or not page.items:
            break
        number += 1
    match(shop, [rows[s] for s in seen])
    account = db.session.get(FnacAccount, shop.id) or FnacAccount(shop_id=shop.id, carriers=[])
    account.offers_at = utcnow()
    db.session.add(account)
    db.session.flush()
    return len(seen), sum(1 for s in seen if rows[s].variant_id)


def match(shop: Shop, offers: list[FnacOffer]) -> None:
    """Offers without a variant: the variant of that SKU, else the variant whose barcode it is."""
    loose = [o for o in offers if o.variant_id is None]
    if not loose:
        return
    skus = {o.sku for o in loose}
    by_sku = dict(db.session.execute(select(Variant.sku, Variant.id).where(
        Variant.organization_id == shop.organization_id, Variant.sku.in_(skus))).all())
    by_barcode = dict(db.session.execute(select(Variant.barcode, Variant.id).where(
        Variant.organization_id == shop.organization_id, Variant.barcode.in_(skus))).all())
    for o in loose:
        o.variant_id = by_sku.get(o.sku) or by_barcode.get(o.sku)


def mark_pending(shop: Shop, variant_ids: list[int]) -> int:
    rows = db.session.scalars(select(FnacOffer).where(FnacOffer.shop_id == shop.id,
                                                      FnacOffer.variant_id.in_(variant_ids))).all()
    for row in rows:
        row.pending = True
    return len(rows)


def push_stock(shop: Shop, client: FnacClient) -> list[str]:
    """One ``offers_update`` per 500 pending offers with the final figures; returns the batch ids."""
    rows = db.session.scalars(select(FnacOffer).where(FnacOffer.shop_id == shop.id, FnacOffer.pending.is_(True),
                                                      FnacOffer.variant_id.is_not(None)).order_by(FnacOffer.sku)).all()
    if not rows:
        return []
    figures = stock.available_to_sell(shop, [r.variant_id for r in rows])
    prices: dict[int, Decimal] = {}
    if shop.addon_settings("fnac").get("push_prices"):
        prices = dict(db.session.execute(select(Variant.id, Variant.price).where(
            Variant.id.in_([r.variant_id for r in rows]))).all())
    batch_ids = []
    for start in range(0, len(rows), BATCH_SIZE):
        chunk = rows[start:start + BATCH_SIZE]
        sent = {}
        elements = []
        for r in chunk:
            qty = min(mapping.MAX_QUANTITY, max(0, figures.get(r.variant_id, 0)))
            price = prices.get(r.variant_id)
            if price is not None and not (mapping.MIN_PRICE <= price <= mapping.MAX_PRICE):
                price = None
            elements.append(mapping.offer_update(r.sku, qty, price))
            sent[r.sku] = {"quantity": qty, "price": str(price) if price is not None else None}
        answer = client.offers_update(elements)
        batch_id = mapping.wire.text(answer.root, "batch_id")
        batch = FnacBatch(shop_id=shop.id, batch_id=batch_id, status="RUNNING", sent=sent, errors={})
        db.session.add(batch)
        for r in chunk:
            r.pending, r.batch_id = False, batch_id
        db.session.commit()  # the batch is Fnac Darty's now: never sent again, only read
        batch_ids.append(batch_id)
    return batch_ids


def check_batch(shop: Shop, batch: FnacBatch, client: FnacClient) -> bool:
    """Read the batch once; True when Fnac Darty is done with it (results stored offer by offer)."""
    result = mapping.read_batch(client.batch_status(batch.batch_id).root)
    batch.checks += 1
    if not result.done:
        batch.status = result.status or "RUNNING"
        return False
    rows = {r.sku: r for r in db.session.scalars(select(FnacOffer).where(
        FnacOffer.shop_id == shop.id, FnacOffer.sku.in_(list(batch.sent))))}
    errors = {}
    for sku, figures in batch.sent.items():
        outcome = result.offers.get(sku)
        row = rows.get(sku)
        if outcome is not None and not outcome.ok:
            errors[sku] = mapping.problems_text(outcome.problems) or "refusée"
        elif outcome is None and result.status in mapping.FAILED:
            errors[sku] = mapping.problems_text(result.problems) or f"lot {result.status}"
        if row is None or row.batch_id != batch.batch_id:
            continue  # a later push owns this offer now
        if sku in errors:
            row.push_error = errors[sku]
        else:
            row.pushed_quantity, row.fnac_quantity, row.pushed_at, row.push_error = (
                figures["quantity"], figures["quantity"], utcnow(), None)
            if figures.get("price"):
                row.pushed_price = row.price = Decimal(figures["price"])
    batch.status, batch.errors, batch.finished_at = result.status, errors, utcnow()
    return True


def reconcile(shop: Shop, client: FnacClient) -> int:
    """Nightly: read the offers again and mark those whose quantity differs from the OMS figure."""
    import_offers(shop, client)
    rows = db.session.scalars(select(FnacOffer).where(FnacOffer.shop_id == shop.id,
                                                      FnacOffer.variant_id.is_not(None))).all()
    figures = stock.available_to_sell(shop, [r.variant_id for r in rows])
    drift = 0
    for r in rows:
        if r.fnac_quantity != min(mapping.MAX_QUANTITY, max(0, figures.get(r.variant_id, 0))):
            r.pending = True
            drift += 1
    return drift
