"""Supplier stock feeds: a CSV file (uploaded, or fetched from the supplier's URL on a
schedule) with a SKU and a quantity per row, and optionally the current cost. Each good row
sets the supplier warehouse's on-hand figure; bad rows are reported with their line number
and reason; every run is recorded."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from core import stock
from core.extensions import db
from core.inputs import QTY_MAX, parse_decimal, parse_int
from core.jobs import enqueue
from core.models import Order, OrderLine, OrderStatus, StockLevel, Variant, utcnow

from .csvfiles import CsvFileError, read_csv
from .models import DropshipFeedRun, DropshipSupplier, DropshipSupplierProduct
from .suppliers import ensure_warehouse

REASON = "flux fournisseur"


def _quantity(raw: str) -> int | None:
    """Units on hand: ASCII digits (``²`` is no quantity), 0 .. QTY_MAX."""
    text = raw.replace(" ", "").replace("\u00a0", "")
    if text.endswith((".0", ",0")):
        text = text[:-2]
    return parse_int(text, lo=0, hi=QTY_MAX)


def _cost(raw: str) -> Decimal | None:
    """A unit cost that fits its column (finite, positive, French comma accepted)."""
    return parse_decimal(raw.replace("€", ""), max_digits=15, places=4, lo=Decimal(0))


def apply_feed(supplier: DropshipSupplier, content: bytes, *, source: str) -> DropshipFeedRun:
    """Read a stock file into the supplier's warehouse and record the run (caller commits)."""
    run = DropshipFeedRun(supplier_id=supplier.id, at=utcnow(), source=source, ok_rows=0, errors=[])
    db.session.add(run)
    supplier.last_feed_at = run.at
    try:
        rows = read_csv(content, required=("supplier_sku", "quantity"), alternatives={"supplier_sku": ("sku",)})
    except CsvFileError as exc:
        run.error = f"ligne {exc.line} : {exc}"
        return run
    warehouse = ensure_warehouse(supplier)
    links = db.session.execute(select(DropshipSupplierProduct, Variant.sku)
                               .join(Variant, Variant.id == DropshipSupplierProduct.variant_id)
                               .where(DropshipSupplierProduct.supplier_id == supplier.id)).all()
    by_supplier_sku = {link.supplier_sku.upper(): link for link, _sku in links}
    by_own_sku = {sku.upper(): link for link, sku in links}
    seen: dict[int, int] = {}
    errors: list[dict] = []
    restocked: set[int] = set()
    for line_no, row in rows:
        sku = row.get("supplier_sku", "")
        if not sku:
            errors.append({"line": line_no, "reason": "SKU manquant"})
            continue
        link = by_supplier_sku.get(sku.upper()) or by_own_sku.get(sku.upper())
        if link is None:
            errors.append({"line": line_no, "reason": f"SKU {sku} inconnu chez {supplier.name} : associez-le "
                                                      "d'abord à un produit"})
            continue
        if link.id in seen:
            errors.append({"line": line_no, "reason": f"SKU {sku} déjà lu ligne {seen[link.id]}"})
            continue
        quantity = _quantity(row.get("quantity", ""))
        if quantity is None:
            errors.append({"line": line_no, "reason": f"quantité invalide : « {row.get('quantity', '')} »"})
            continue
        cost = None
        if row.get("cost"):
            cost = _cost(row["cost"])
            if cost is None:
                errors.append({"line": line_no, "reason": f"coût invalide : « {row['cost']} »"})
                continue
        seen[link.id] = line_no
        if not stock.level_exists(link.variant_id, warehouse.id):
            # a listed SKU has a stock row even at zero: routing then knows the supplier has none
            db.session.add(StockLevel(variant_id=link.variant_id, warehouse_id=warehouse.id, on_hand=0, reserved=0))
            db.session.flush()
        current = stock.level(link.variant_id, warehouse.id)
        if quantity != current.on_hand:
            try:
                stock.adjust(supplier.organization_id, link.variant_id, warehouse.id, quantity - current.on_hand,
                             reason=REASON, user_id=None)
            except stock.StockError:
                errors.append({"line": line_no, "reason": f"SKU {sku} : {current.reserved} unité(s) déjà réservée(s), "
                                                          f"stock non ramené à {quantity}"})
                continue
        if cost is not None:
            link.unit_cost = cost
        if quantity > current.available:
            restocked.add(link.variant_id)
        run.ok_rows += 1
    run.errors = errors
    resume_held(supplier, restocked)
    return run


def resume_held(supplier: DropshipSupplier, variant_ids: set[int]) -> None:
    """Orders that found no source for these variants are routed again once the supplier
    has stock (core already resumes backorders when stock is adjusted)."""
    if not variant_ids:
        return
    held = list(db.session.scalars(select(Order.id).where(
        Order.organization_id == supplier.organization_id, Order.status == OrderStatus.ON_HOLD,
        Order.hold_code == "no_source",
        Order.id.in_(select(OrderLine.order_id).where(OrderLine.variant_id.in_(variant_ids))))
        .order_by(Order.id)))
    if held:
        enqueue("core.orders.rerun_rules", supplier.organization_id, held,
                job_id=f"dropship-resume-{supplier.id}-{held[0]}-{held[-1]}", unique=True)
