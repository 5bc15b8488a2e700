"""Purchase orders: one per supplier and order, made when the order is allocated, sent at
once or at the supplier's batch times, cancelled with the order."""
from __future__ import annotations

from collections import defaultdict
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

from sqlalchemy import func, select

from core import orders as order_flow
from core.extensions import db
from core.jobs import enqueue
from core.models import LineSource, Order, Shop, utcnow

from .client import DropshipError, post_webhook, send_email
from .documents import csv_bytes, email_text, pdf_bytes, po_payload
from .models import DropshipLine, DropshipPurchaseOrder, DropshipSend, DropshipSupplier
from .models import PurchaseOrderStatus as PO
from .routing import routed_line
from .suppliers import batch_times_of
from core.i18n import _

ADDON = "dropship"
SEND_JOB = "addons.dropship.jobs.send_purchase_orders"
#: a failed send is tried again after these delays (seconds), then left to the merchant
RETRY_INTERVALS = (60, 300, 900, 3600, 3 * 3600)
#: statuses of purchase orders the send job sends
SENDABLE = (PO.PENDING, PO.QUEUED, PO.FAILED)


def reference_for(order: Order, supplier: DropshipSupplier, existing: int) -> str:
    base = f"PO-{order.id}-{supplier.id}"
    return base if existing == 0 else f"{base}-{existing + 1}"


def purchase_orders_of(order: Order) -> list[DropshipPurchaseOrder]:
    """The order's purchase orders, those added in this transaction and not yet written
    included (core allocates a page of new orders before its first flush)."""
    pending = [obj for obj in db.session.new if isinstance(obj, DropshipPurchaseOrder) and obj.order_id == order.id]
    with db.session.no_autoflush:
        stored = db.session.scalars(select(DropshipPurchaseOrder).where(DropshipPurchaseOrder.order_id == order.id)
                                    .order_by(DropshipPurchaseOrder.id)).all()
    return [*stored, *pending]


def create_purchase_orders(shop: Shop, order: Order) -> list[DropshipPurchaseOrder]:
    """Gather the order's lines routed to suppliers and not yet ordered into one purchase
    order per supplier, and queue their sending (now, or at the supplier's next batch time).
    Running it again adds nothing: each routed line belongs to one purchase order."""
    rows = [row for row in (routed_line(line) for line in order.lines if line.source == LineSource.DROPSHIP)
            if row is not None and row.purchase_order is None and row.purchase_order_id is None]
    by_supplier: dict[int, list[DropshipLine]] = defaultdict(list)
    for row in rows:
        by_supplier[row.supplier_id].append(row)
    existing = purchase_orders_of(order) if by_supplier else []
    made = []
    for supplier_id, lines in by_supplier.items():
        supplier = db.session.get(DropshipSupplier, supplier_id)
        if supplier is None:
            continue
        batched = bool(batch_times_of(supplier))
        already = sum(1 for po in existing if po.supplier_id == supplier.id)
        po = DropshipPurchaseOrder(organization_id=order.organization_id, shop_id=shop.id, order_id=order.id,
                                   supplier_id=supplier.id, reference=reference_for(order, supplier, already),
                                   status=PO.PENDING if batched else PO.QUEUED,
                                   ship_to=dict(order.shipping_address or {}), currency=lines[0].currency,
                                   created_at=utcnow())
        if order.phone and not po.ship_to.get("phone"):
            po.ship_to["phone"] = order.phone
        db.session.add(po)
        po.lines = list(lines)
        order_flow.record(order, "dropship",
                          _("bon de commande %(reference)s pour %(name)s (%(items)s)%(value)s",
                            reference=po.reference, name=supplier.name, items=', '.join((f'{ln.supplier_sku} × {ln.quantity}' for ln in lines)), value=' : envoi groupé à la prochaine heure prévue' if batched else ''),
                          source=ADDON, data={"purchase_order": po.reference})
        if not batched:
            queue_send([po])
        made.append(po)
    return made


def queue_send(pos: list[DropshipPurchaseOrder], batch: str | None = None) -> None:
    """Queue sending these purchase orders (one supplier, one shop) together."""
    for po in pos:
        po.status = PO.QUEUED
    first = pos[0]
    job_id = f"dropship-batch-{batch}" if batch else f"dropship-po-{first.reference}"
    enqueue(SEND_JOB, [po.reference for po in pos], batch, job_id=job_id, unique=True, shop_id=first.shop_id,
            retries=len(RETRY_INTERVALS), intervals=RETRY_INTERVALS)


def cancel_purchase_orders(order: Order) -> list[DropshipPurchaseOrder]:
    """The order is cancelled: its purchase orders too. One the supplier already received is
    flagged in the order's history, so the merchant warns the supplier."""
    pos = [po for po in purchase_orders_of(order) if po.status != PO.CANCELLED]
    for po in pos:
        if po.status in (PO.SHIPPED, PO.PARTIALLY_SHIPPED):
            order_flow.record(order, "dropship", _("%(name)s a déjà expédié %(reference)s : la commande est "
                                                   "annulée, organisez le retour avec le fournisseur",
                                                   name=po.supplier.name, reference=po.reference), source=ADDON,
                              data={"purchase_order": po.reference})
            continue
        received = po.status in (PO.SENT, PO.CONFIRMED)
        po.status = PO.CANCELLED
        if received:
            order_flow.record(order, "dropship", _("%(name)s a reçu le bon de commande %(reference)s : "
                                                   "prévenez-le de l'annulation (%(email)s)",
                                                   name=po.supplier.name, reference=po.reference, email=po.supplier.email), source=ADDON,
                              data={"purchase_order": po.reference})
    return pos


# ----------------------------------------------------------------------------- sending
def deliver(pos: list[DropshipPurchaseOrder], batch: str | None = None) -> str:
    """Send purchase orders of one supplier and one shop in one e-mail or one webhook, and
    record the send on each (success or failure). Raises DropshipError on failure, after
    the failure is recorded and committed, so the job is retried."""
    supplier, shop = pos[0].supplier, pos[0].shop
    payloads = [po_payload(po) for po in pos]
    attempts = {po.id: 1 + (db.session.scalar(select(func.count()).select_from(DropshipSend).where(
        DropshipSend.purchase_order_id == po.id)) or 0) for po in pos}
    now = utcnow()
    try:
        if supplier.order_channel == "webhook":
            if not supplier.webhook_url:
                raise DropshipError(_("%(name)s reçoit ses bons de commande par webhook mais aucune adresse n'est "
                                      "renseignée sur sa fiche.", name=supplier.name))
            post_webhook(supplier.webhook_url, {"merchant": shop.name, "sent_at": now.isoformat(timespec="seconds"),
                                                "purchase_orders": payloads}, supplier.webhook_secret)
        else:
            send_email(shop.addon_settings(ADDON), purchase_order_email(shop, supplier, payloads))
    except DropshipError as exc:
        for po in pos:
            po.sends.append(DropshipSend(channel=supplier.order_channel, at=now, ok=False, error=str(exc),
                                         attempt=attempts[po.id], batch=batch))
            po.status = PO.FAILED
            po.last_error = str(exc)
        db.session.commit()
        raise
    for po in pos:
        po.sends.append(DropshipSend(channel=supplier.order_channel, at=now, ok=True, attempt=attempts[po.id],
                                     batch=batch))
        po.status = PO.CONFIRMED if po.confirmed_at else PO.SENT
        po.sent_at = now
        po.last_error = None
        order_flow.record(po.order, "dropship", _("bon de commande %(reference)s envoyé à %(name)s (%(value)s)",
                                                  reference=po.reference, name=supplier.name, value='webhook' if supplier.order_channel == 'webhook' else supplier.email),
                          source=ADDON, data={"purchase_order": po.reference})
    how = _("par webhook") if supplier.order_channel == "webhook" else _("par e-mail à %(email)s", email=supplier.email)
    return _("%(pos)s bon(s) de commande envoyé(s) à %(name)s %(how)s", pos=len(pos), name=supplier.name, how=how)


def purchase_order_email(shop: Shop, supplier: DropshipSupplier, payloads: list[dict]) -> EmailMessage:
    settings = shop.addon_settings(ADDON)
    sender = settings.get("from_address") or settings.get("smtp_username") or ""
    if not sender or "@" not in sender:
        raise DropshipError(_("Aucune adresse d'expédition : renseignez-la dans les paramètres de l'add-on."))
    message = EmailMessage()
    message["From"] = formataddr((shop.name, sender))
    message["To"] = supplier.email
    message["Reply-To"] = sender
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    if len(payloads) == 1:
        name = payloads[0]["reference"]
        message["Subject"] = f"Bon de commande {name} — {shop.name}"
    else:
        name = f"bons-de-commande-{utcnow():%Y%m%d-%H%M}"
        message["Subject"] = f"{len(payloads)} bons de commande — {shop.name}"
    message.set_content(email_text(payloads, supplier.name))
    message.add_attachment(csv_bytes(payloads).decode("utf-8"), subtype="csv", charset="utf-8",
                           filename=f"{name}.csv")
    message.add_attachment(pdf_bytes(payloads, supplier.name), maintype="application", subtype="pdf",
                           filename=f"{name}.pdf")
    return message

