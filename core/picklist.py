"""The printed pick list of a wave (PDF, A4): the walk by bin, then one block per slot with its
barcode and its order's items."""
from __future__ import annotations

import io
from typing import Any

from .models import PickWave, PickWaveOrderStatus
from .picking import route, tote_code


def pick_list_pdf(wave: PickWave) -> bytes:
    """The wave on paper (A4): the walk by bin, then one block per slot with its barcode
    (``V12-B03``) and its order's items, for the sort and the packing station."""
    from reportlab.graphics.barcode import code128
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm,
                            bottomMargin=12 * mm, title=f"Vague {wave.id}", author="OMS")
    members = [m for m in wave.orders if m.status != PickWaveOrderStatus.REMOVED]
    stops = route(wave)
    story: list[Any] = [
        Paragraph(f"Vague {wave.id} — {_escape(wave.warehouse.name)}", styles["Title"]),
        Paragraph(f"{len(members)} commande(s), {sum(s.quantity for s in stops)} article(s), "
                  f"{len(stops)} arrêt(s) · créée le {wave.created_at:%d/%m/%Y %H:%M} (UTC)", styles["Normal"]),
        Spacer(1, 4 * mm),
        Paragraph("Ramassage (dans l'ordre des emplacements)", styles["Heading2"]),
    ]
    rows: list[list[Any]] = [["", "Emplacement", "SKU", "Article", "Qté", "Bacs"]]
    for stop in stops:
        slots = ", ".join(f"{slot}×{qty}" for slot, qty in stop.slots)
        rows.append(["[  ]", stop.bin_code or "—", stop.sku, Paragraph(_escape(stop.title), small), str(stop.quantity),
                     Paragraph(slots, small)])
    table = Table(rows, colWidths=[7 * mm, 26 * mm, 32 * mm, 70 * mm, 12 * mm, 39 * mm], repeatRows=1)
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 9), ("FONT", (0, 1), (-1, -1), "Helvetica", 9),
        ("FONT", (1, 1), (1, -1), "Helvetica-Bold", 10), ("ALIGN", (4, 0), (4, -1), "RIGHT"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black), ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]))
    story += [table, Spacer(1, 6 * mm), Paragraph("Tri par commande (un bac par commande)", styles["Heading2"])]
    for member in members:
        order = member.order
        code = tote_code(member)
        barcode = code128.Code128(code, barHeight=10 * mm, barWidth=0.35 * mm, humanReadable=True)
        items = "<br/>".join(f"{ln.quantity} × {_escape(ln.order_line.sku)} — {_escape(ln.order_line.title)}"
                             f"{' (' + _escape(ln.bin_code) + ')' if ln.bin_code else ''}" for ln in member.lines)
        address = order.shipping_address or {}
        head = (f"<b>Bac {member.slot}</b> · commande <b>{_escape(order.number)}</b> · "
                f"{_escape(order.shop.name)} · {_escape(str(order.service_level))}<br/>"
                f"{_escape(address.get('name', ''))} — {_escape(address.get('postal_code', ''))} "
                f"{_escape(address.get('city', ''))} {_escape(address.get('country', ''))}")
        block = Table([[barcode, Paragraph(head + "<br/>" + items, small)]], colWidths=[62 * mm, 124 * mm])
        block.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.5, colors.black), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                                   ("TOPPADDING", (0, 0), (-1, -1), 3 * mm)]))
        story += [KeepTogether([block, Spacer(1, 3 * mm)])]
    doc.build(story)
    return buffer.getvalue()


def _escape(text: str | None) -> str:
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
