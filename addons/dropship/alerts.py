"""Dropshipping's alerts: purchase orders that could not be sent, and suppliers late to ship
(sent longer ago than the supplier's lead time plus a day, still without tracking)."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from core.alerts import Alert
from core.extensions import db

from .models import DropshipPurchaseOrder, DropshipSupplier, PurchaseOrderStatus

GRACE = timedelta(days=1)
WAITING = (PurchaseOrderStatus.SENT, PurchaseOrderStatus.CONFIRMED, PurchaseOrderStatus.PARTIALLY_SHIPPED)


def late_and_failed(organization, now: datetime, limit: int = 20) -> list[Alert]:
    found: list[Alert] = []
    rows = db.session.execute(
        select(DropshipPurchaseOrder, DropshipSupplier.name, DropshipSupplier.lead_time_days)
        .join(DropshipSupplier, DropshipSupplier.id == DropshipPurchaseOrder.supplier_id)
        .where(DropshipPurchaseOrder.organization_id == organization.id,
               DropshipPurchaseOrder.status.in_((PurchaseOrderStatus.FAILED, *WAITING)))
        .order_by(DropshipPurchaseOrder.id).limit(500)).all()
    for po, supplier, lead_days in rows:
        if po.status == PurchaseOrderStatus.FAILED:
            found.append(Alert("purchase_order_failed", "error",
                               _("Le bon de commande %(ref)s n'a pas pu partir chez %(supplier)s",
                                 ref=po.reference, supplier=supplier),
                               _("Vérifiez l'adresse e-mail ou le webhook du fournisseur, puis renvoyez-le."),
                               "dropship.purchase_order", {"po_id": po.id}, _("Voir le bon de commande")))
        elif po.sent_at is not None and po.sent_at < now - timedelta(days=lead_days or 0) - GRACE:
            found.append(Alert("supplier_late", "warning",
                               _("%(supplier)s est en retard sur le bon de commande %(ref)s",
                                 supplier=supplier, ref=po.reference),
                               _("Envoyé il y a plus de %(days)s jour(s), toujours sans numéro de suivi.",
                                 days=(lead_days or 0) + 1),
                               "dropship.purchase_order", {"po_id": po.id}, _("Voir le bon de commande")))
        if len(found) >= limit:
            break
    return found
