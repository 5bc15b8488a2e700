"""Documents a merchant takes out of the OMS: the orders CSV for the accountant and the
packing slip (bon de livraison) slipped in each parcel."""
from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import tzinfo
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from .csvexport import writer as csv_writer
from .extensions import db
from .models import AnalyticsOrderFact, Order, ShipmentStatus
from .orders import LABELS

#: the orders CSV's columns, in French as the accountant reads them
ORDER_COLUMNS = ("numero", "canal", "boutique", "date", "client", "email", "pays", "sous_total", "remises",
                 "livraison", "tva", "total_ht", "total_ttc", "devise", "frais_canal", "devise_frais", "statut",
                 "paiement", "transporteur", "suivi")
#: the most rows one export writes (a filter narrows a bigger one)
MAX_EXPORT = 100_000
_PAYMENT = {"pending": "en attente", "authorized": "autorisée", "paid": "payée", "partially_refunded": "remboursée en partie",
            "refunded": "remboursée", "voided": "annulée"}


def _amount(value: Decimal | None) -> str:
    """French spreadsheets read ``12,50``."""
    if value is None:
        return ""
    return f"{Decimal(value).quantize(Decimal('0.01')):f}".replace(".", ",")


def orders_csv(stmt: Select, *, zone: tzinfo, currency: str) -> str:
    """Every order ``stmt`` selects (newest first, at most :data:`MAX_EXPORT`), one line each.
    ``frais_canal`` is what the channel charged (its settlement, else the fee schedule), in the
    organization's ``currency``."""
    out = io.StringIO()
    w = csv_writer(out, delimiter=";")
    w.writerow(ORDER_COLUMNS)
    ids = stmt.with_only_columns(Order.id).order_by(Order.placed_at.desc(), Order.id.desc()).limit(MAX_EXPORT)
    order_ids = list(db.session.scalars(ids))
    for start in range(0, len(order_ids), 500):
        chunk = order_ids[start:start + 500]
        fees = dict(db.session.execute(select(AnalyticsOrderFact.order_id, AnalyticsOrderFact.fees)
                                       .where(AnalyticsOrderFact.order_id.in_(chunk))).all())
        orders = {o.id: o for o in db.session.scalars(
            select(Order).where(Order.id.in_(chunk))
            .options(selectinload(Order.shop), selectinload(Order.customer), selectinload(Order.shipments)))}
        for order_id in chunk:
            order = orders[order_id]
            w.writerow(_order_row(order, fees.get(order_id), zone, currency))
    return out.getvalue()


def _order_row(order: Order, fees_cents: int | None, zone: tzinfo, currency: str) -> list[Any]:
    address = order.shipping_address or {}
    parcels = [s for s in order.shipments if s.status != ShipmentStatus.CANCELLED]
    customer = (order.customer.name if order.customer else "") or address.get("name") or ""
    tax = order.tax_total or Decimal("0")
    return [order.number, order.shop.addon, order.shop.name, order.placed_at.astimezone(zone).strftime("%d/%m/%Y %H:%M"),
            customer, order.email or "", (address.get("country") or "").upper(), _amount(order.subtotal),
            _amount(order.discount_total), _amount(order.shipping_total), _amount(tax), _amount(order.total - tax),
            _amount(order.total), order.currency,
            "" if fees_cents is None else _amount(Decimal(fees_cents) / 100), currency if fees_cents is not None else "",
            LABELS[order.status], _PAYMENT.get(order.payment_status.value, order.payment_status.value),
            ", ".join(sorted({s.service or s.carrier for s in parcels if s.tracking_number})),
            ", ".join(s.tracking_number for s in parcels if s.tracking_number)]


# ----------------------------------------------------------------------------- packing slips
def packing_slips_pdf(orders: Iterable[Order], *, title: str) -> bytes:
    """One A4 page per order: who ships, to whom, what is in the parcel (no prices)."""
    from reportlab.graphics.barcode import code128
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                            bottomMargin=15 * mm, title=title, author="OMS")
    story: list[Any] = []
    for index, order in enumerate(orders):
        if index:
            story.append(PageBreak())
        address = order.shipping_address or {}
        to = "<br/>".join(_escape(v) for v in (
            address.get("name"), address.get("company"), address.get("line1"), address.get("line2"),
            f"{address.get('postal_code', '')} {address.get('city', '')}".strip(), (address.get("country") or "").upper())
            if v)
        barcode = code128.Code128(order.number[:40], barHeight=12 * mm, barWidth=0.4 * mm, humanReadable=True)
        head = Table([[Paragraph(f"<b>{_escape(order.shop.name)}</b><br/>Bon de livraison<br/>"
                                 f"Commande <b>{_escape(order.number)}</b> du {order.placed_at:%d/%m/%Y}",
                                 styles["Normal"]), barcode]], colWidths=[110 * mm, 70 * mm])
        head.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
        rows: list[list[Any]] = [["", "SKU", "Article", "Qté"]]
        for line in order.lines:
            rows.append(["[  ]", line.sku, Paragraph(_escape(line.title or line.sku), styles["BodyText"]),
                         str(line.quantity)])
        items = Table(rows, colWidths=[10 * mm, 40 * mm, 112 * mm, 18 * mm], repeatRows=1)
        items.setStyle(TableStyle([
            ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 9), ("FONT", (0, 1), (-1, -1), "Helvetica", 10),
            ("ALIGN", (3, 0), (3, -1), "RIGHT"), ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
            ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.grey), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
        units = sum(line.quantity for line in order.lines)
        story += [head, Spacer(1, 8 * mm), Paragraph("<b>Livré à</b>", styles["Normal"]),
                  Paragraph(to or "—", styles["Normal"]), Spacer(1, 8 * mm), items, Spacer(1, 4 * mm),
                  Paragraph(f"{units} article(s). Merci pour votre commande !", styles["Normal"])]
    if not story:
        story.append(Paragraph("Aucune commande.", styles["Normal"]))
    doc.build(story)
    return buffer.getvalue()


def _escape(text: str | None) -> str:
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
