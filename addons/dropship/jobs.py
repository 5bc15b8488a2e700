"""Dropshipping background jobs (module-level functions taking ids)."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select

from core.extensions import db
from core.jobs import enqueue
from core.models import Shop, utcnow

from .checks import check_connection
from .client import DropshipError, fetch_feed
from .feeds import apply_feed
from .models import DropshipFeedRun, DropshipPurchaseOrder, DropshipSupplier
from .models import PurchaseOrderStatus as PO
from .purchasing import SENDABLE, deliver, queue_send
from .suppliers import batch_times_of, latest_slot, organization_zone
from core.i18n import _

FEED_JOB = "addons.dropship.jobs.fetch_supplier_feed"


def check_smtp(shop_id: int) -> str:
    """Check the shop's SMTP server still accepts a session; raises on failure."""
    shop = db.session.get(Shop, shop_id)
    if shop is None:
        raise LookupError(_("boutique %(shop_id)s introuvable", shop_id=shop_id))
    result = check_connection(shop.addon_settings("dropship"))
    if not result.ok:
        raise DropshipError(result.message)
    return result.message


def send_purchase_orders(references: list[str], batch: str | None = None) -> str:
    """Send purchase orders (of one supplier and one shop, by reference) in one e-mail or
    webhook; those cancelled or already received meanwhile are skipped. Raises on failure
    (retried)."""
    pos = db.session.scalars(select(DropshipPurchaseOrder).where(DropshipPurchaseOrder.reference.in_(references))
                             .order_by(DropshipPurchaseOrder.id)).all()
    todo = [po for po in pos if po.status in SENDABLE]
    if not todo:
        return _("rien à envoyer : bons de commande déjà envoyés ou annulés")
    return deliver(todo, batch)


def send_due_batches(now: datetime | None = None) -> int:
    """Every few minutes: for each supplier with purchase orders waiting, send those whose
    batch time has passed since they were made (all of them when the supplier no longer has
    batch times), one e-mail or webhook per shop. Returns the number of batches queued."""
    now = now or utcnow()
    queued = 0
    suppliers = db.session.scalars(select(DropshipSupplier).where(DropshipSupplier.id.in_(
        select(DropshipPurchaseOrder.supplier_id).where(DropshipPurchaseOrder.status == PO.PENDING)))
        .order_by(DropshipSupplier.id)).all()
    for supplier in suppliers:
        times = batch_times_of(supplier)
        waiting = db.session.scalars(select(DropshipPurchaseOrder).where(
            DropshipPurchaseOrder.supplier_id == supplier.id, DropshipPurchaseOrder.status == PO.PENDING)
            .order_by(DropshipPurchaseOrder.id)).all()
        if not waiting:
            continue
        slot = latest_slot(now, times, organization_zone(supplier.organization_id)) if times else now
        if slot is None or (times and min(po.created_at for po in waiting) >= slot):
            continue
        by_shop: dict[int, list[DropshipPurchaseOrder]] = defaultdict(list)
        for po in waiting:
            by_shop[po.shop_id].append(po)
        for shop_id, pos in by_shop.items():
            queue_send(pos, batch=f"{supplier.id}-{shop_id}-{slot:%Y%m%d%H%M}")
            queued += 1
        supplier.last_batch_at = now
    return queued


def fetch_due_feeds(now: datetime | None = None) -> int:
    """Every few minutes: queue reading the stock feed of each supplier whose interval has
    passed. Returns the number queued."""
    now = now or utcnow()
    count = 0
    suppliers = db.session.scalars(select(DropshipSupplier).where(
        DropshipSupplier.active.is_(True), DropshipSupplier.feed_url.is_not(None), DropshipSupplier.feed_url != "",
        DropshipSupplier.feed_interval_minutes.is_not(None))).all()
    for supplier in suppliers:
        interval = max(int(supplier.feed_interval_minutes or 0), 5)
        if supplier.last_feed_at is not None and (now - supplier.last_feed_at).total_seconds() < interval * 60:
            continue
        enqueue(FEED_JOB, supplier.id, job_id=f"dropship-feed-{supplier.id}", unique=True, retries=2,
                intervals=(120, 600))
        count += 1
    return count


def fetch_supplier_feed(supplier_id: int) -> str:
    """Download a supplier's stock feed and apply it; the run is recorded either way."""
    supplier = db.session.get(DropshipSupplier, supplier_id)
    if supplier is None:
        return _("fournisseur %(supplier_id)s supprimé", supplier_id=supplier_id)
    if not supplier.feed_url:
        return _("%(name)s n'a pas d'adresse de flux", name=supplier.name)
    try:
        content = fetch_feed(supplier.feed_url)
    except DropshipError as exc:
        at = utcnow()
        db.session.add(DropshipFeedRun(supplier_id=supplier.id, at=at, source="url", ok_rows=0, errors=[],
                                       error=str(exc)))
        supplier.last_feed_at = at
        db.session.commit()
        raise
    run = apply_feed(supplier, content, source="url")
    if run.error:
        return _("flux de %(name)s illisible : %(error)s", name=supplier.name, error=run.error)
    return _("flux de %(name)s : %(ok_rows)s ligne(s) appliquée(s), %(errors)s en erreur",
             name=supplier.name, ok_rows=run.ok_rows, errors=len(run.errors))
