"""What a supplier receives: the purchase orders as data (webhook body), as a CSV file and as
a PDF, all built from the same :func:`po_payload`."""
from __future__ import annotations

import io
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from core.csvexport import writer as csv_writer

from .links import supplier_link
from .models import DropshipPurchaseOrder

#: the columns of the CSV sent to suppliers
CSV_COLUMNS = ("po_reference", "order_number", "supplier_sku", "sku", "title", "quantity", "unit_cost", "currency",
               "ship_to_name", "ship_to_company", "ship_to_line1", "ship_to_line2", "ship_to_postal_code",
               "ship_to_city", "ship_to_region", "ship_to_country", "ship_to_phone")
_ADDRESS_KEYS = ("name", "company", "line1", "line2", "postal_code", "city", "region", "country", "phone")


_CENTS = Decimal("0.01")


def _amount(value: Decimal | None) -> str | None:
    """An amount as text: two decimals, more only when the cost has them (12.50, 0.3125)."""
    if value is None:
        return None
    cents = value.quantize(_CENTS)
    return format(cents if cents == value else value.normalize(), "f")


def po_payload(po: DropshipPurchaseOrder) -> dict[str, Any]:
    """One purchase order as the supplier reads it (JSON-ready)."""
    lines = [{"supplier_sku": ln.supplier_sku, "sku": ln.sku, "title": ln.title, "quantity": ln.quantity,
              "unit_cost": _amount(ln.unit_cost),
              "line_cost": _amount(ln.unit_cost * ln.quantity) if ln.unit_cost is not None else None}
             for ln in po.lines]
    return {
        "reference": po.reference,
        "order_number": po.order.number,
        "merchant": po.shop.name,
        "created_at": po.created_at.isoformat(timespec="seconds"),
        "currency": po.currency,
        "ship_to": {k: v for k, v in (po.ship_to or {}).items() if k in _ADDRESS_KEYS and v},
        "lines": lines,
        "total_cost": _amount(po.total_cost),
        "confirm_url": supplier_link(po.id, po.supplier_id),
    }


def csv_bytes(payloads: list[dict[str, Any]]) -> bytes:
    """One row per line, ``;``-separated, UTF-8 with a BOM (opens as is in a French spreadsheet)."""
    out = io.StringIO()
    writer = csv_writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for po in payloads:
        address = po["ship_to"]
        for ln in po["lines"]:
            writer.writerow([po["reference"], po["order_number"], ln["supplier_sku"], ln["sku"], ln["title"],
                             ln["quantity"], ln["unit_cost"] or "", po["currency"],
                             *(address.get(k, "") for k in _ADDRESS_KEYS)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _address_lines(address: dict[str, str]) -> list[str]:
    city = " ".join(p for p in (address.get("postal_code", ""), address.get("city", "")) if p)
    parts = [address.get("name", ""), address.get("company", ""), address.get("line1", ""), address.get("line2", ""),
             city, address.get("region", ""), address.get("country", "")]
    if address.get("phone"):
        parts.append(f"Tél. {address['phone']}")
    return [p for p in parts if p]


def pdf_bytes(payloads: list[dict[str, Any]], supplier_name: str) -> bytes:
    """One A4 page per purchase order: reference, addresses, lines and costs, the confirmation link."""
    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm,
                            bottomMargin=18 * mm, title="Bons de commande", author=supplier_name)
    story: list[Any] = []
    for index, po in enumerate(payloads):
        if index:
            story.append(PageBreak())
        story.append(Paragraph(escape(f"Bon de commande {po['reference']}"), styles["Title"]))
        story.append(Paragraph(escape(f"Commande {po['order_number']} · {po['merchant']} → {supplier_name} · "
                                      f"{po['created_at'][:10]}"), styles["Normal"]))
        story.append(Spacer(1, 6 * mm))
        story.append(Paragraph("Adresse de livraison", styles["Heading3"]))
        for text in _address_lines(po["ship_to"]):
            story.append(Paragraph(escape(text), styles["Normal"]))
        story.append(Spacer(1, 6 * mm))
        rows: list[list[str]] = [["Réf. fournisseur", "Notre réf.", "Désignation", "Qté", "Prix unitaire", "Total"]]
        for ln in po["lines"]:
            rows.append([ln["supplier_sku"], ln["sku"], Paragraph(escape(ln["title"]), styles["BodyText"]),
                         str(ln["quantity"]), ln["unit_cost"] or "—", ln["line_cost"] or "—"])
        rows.append(["", "", "", "", "Total " + po["currency"], po["total_cost"] or "—"])
        table = Table(rows, colWidths=[30 * mm, 26 * mm, 56 * mm, 12 * mm, 25 * mm, 25 * mm], repeatRows=1)
        table.setStyle(TableStyle([
            ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f5")),
            ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.grey),
            ("LINEABOVE", (0, -1), (-1, -1), 0.5, colors.grey),
            ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
            ("ALIGN", (3, 0), (-1, -1), "RIGHT"),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]))
        story.append(table)
        story.append(Spacer(1, 8 * mm))
        story.append(Paragraph("Confirmez la commande et saisissez le numéro de suivi sur cette page :",
                               styles["Normal"]))
        story.append(Paragraph(f'<link href="{escape(po["confirm_url"])}">{escape(po["confirm_url"])}</link>',
                               styles["BodyText"]))
    doc.build(story)
    return buffer.getvalue()


def email_text(payloads: list[dict[str, Any]], supplier_name: str) -> str:
    """The plain-text body of the e-mail carrying the purchase orders."""
    merchant = payloads[0]["merchant"] if payloads else ""
    head = (f"Bonjour {supplier_name},\n\n"
            + (f"Voici un nouveau bon de commande de {merchant}" if len(payloads) == 1
               else f"Voici {len(payloads)} nouveaux bons de commande de {merchant}")
            + " : merci d'expédier les articles ci-dessous directement au client.\n"
              "Le détail est aussi joint en CSV et en PDF.\n")
    blocks = []
    for po in payloads:
        lines = "\n".join(f"  - {ln['supplier_sku']} × {ln['quantity']}  {ln['title']}"
                          + (f"  ({ln['unit_cost']} {po['currency']})" if ln["unit_cost"] else "")
                          for ln in po["lines"])
        address = "\n".join(f"  {text}" for text in _address_lines(po["ship_to"]))
        blocks.append(f"Bon de commande {po['reference']} (commande {po['order_number']})\n"
                      f"Livrer à :\n{address}\nArticles :\n{lines}\n"
                      f"Confirmer et saisir le suivi : {po['confirm_url']}\n")
    return head + "\n" + "\n".join(blocks) + "\nMerci,\n" + merchant + "\n"
