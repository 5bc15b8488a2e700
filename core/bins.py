"""Bins of a warehouse: their codes (``A-03-12-2``), the walking order the picker follows
(serpentine by default, or the order the merchant gives), and putting a SKU in a bin, one by
one or from a CSV file.

:class:`PickingError` lives here because assigning a bin is the first thing that can refuse;
``core.picking`` raises it too and hands it on (``core.picking.PickingError``).
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from .barcodes import _digits
from .extensions import db
from .models import BinLocation, StockLevel, Variant, Warehouse
from .i18n import _


class PickingError(ValueError):
    """A refusal shown to the picker (French message)."""



_BIN = re.compile(r"^\s*([A-Za-z]*)[\s._-]*(\d+)[\s._-]+(\d+)(?:[\s._-]+([0-9A-Za-z]+))?\s*$", re.ASCII)


def parse_bin(code: str) -> tuple[str, int, int, str] | None:
    """``A-03-12-2`` → (zone ``A``, aisle 3, position 12, level ``2``); None if not that shape."""
    match = _BIN.match(code or "")
    if not match:
        return None
    zone, aisle, position, level = match.groups()
    return zone.upper(), int(aisle), int(position), (level or "").upper()


def natural_key(code: str) -> str:
    """Digits compared as numbers: ``A-2`` before ``A-10``."""
    return "".join(f"{int(part):08d}" if _digits(part) else part.upper()
                   for part in re.split(r"([0-9]+)", code or ""))


def serpentine_sort_key(code: str) -> str:
    """The walking order of a serpentine layout: aisles one after the other, positions going
    up the 1st, 3rd… aisle of a zone and coming back down the 2nd, 4th…; levels of a
    position together. Codes of another shape sort naturally after them."""
    parts = parse_bin(code)
    if parts is None:
        return "~" + natural_key(code)
    zone, aisle, position, level = parts
    walk = position if aisle % 2 == 1 else 9999 - position
    return f"{zone}{aisle:04d}{walk:04d}{level}"


def walk_key(sort_key: str | None, bin_code: str | None) -> tuple[int, str, str]:
    """Route order: the bin's sort key, else its code naturally; bins unknown last."""
    if not bin_code:
        return (2, "", "")
    return (0, sort_key, natural_key(bin_code)) if sort_key else (1, natural_key(bin_code), "")


@dataclass
class BinImport:
    created: int = 0
    assigned: int = 0
    errors: list[str] = field(default_factory=list)


def import_bins(org_id: int, warehouse: Warehouse, text: str) -> BinImport:
    """CSV ``sku;emplacement[;ordre]`` (comma or semicolon, header optional): every SKU gets its
    bin in this warehouse; bins are created as needed; an empty order computes the serpentine one."""
    out = BinImport()
    sample = text[:2048]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=";,\t")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = list(csv.reader(io.StringIO(text), dialect))
    except csv.Error as exc:
        out.errors.append(f"fichier illisible : {exc}")
        return out
    if rows and rows[0] and rows[0][0].strip().lower() in ("sku", "référence", "reference"):
        rows = rows[1:]
    bins = {b.code: b for b in db.session.scalars(select(BinLocation).where(BinLocation.warehouse_id == warehouse.id))}
    skus = {r[0].strip() for r in rows if r and r[0].strip()}
    variants = {v.sku: v for v in db.session.scalars(
        select(Variant).where(Variant.organization_id == org_id, Variant.sku.in_(skus)))} if skus else {}
    levels = {lv.variant_id: lv for lv in db.session.scalars(
        select(StockLevel).where(StockLevel.warehouse_id == warehouse.id,
                                 StockLevel.variant_id.in_([v.id for v in variants.values()])))} if variants else {}
    for number, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row] + ["", "", ""]
        sku, code, order = cells[0], cells[1], cells[2]
        if not sku and not code:
            continue
        variant = variants.get(sku)
        if variant is None:
            out.errors.append(f"ligne {number} : SKU inconnu « {sku} »")
            continue
        if not code or len(code) > 32:
            out.errors.append(f"ligne {number} : emplacement manquant ou trop long pour {sku}")
            continue
        location = bins.get(code)
        if location is None:
            location = BinLocation(warehouse_id=warehouse.id, code=code, sort_key=order[:64] or serpentine_sort_key(code))
            db.session.add(location)
            bins[code] = location
            out.created += 1
        elif order:
            location.sort_key = order[:64]
        db.session.flush()
        level = levels.get(variant.id)
        if level is None:
            level = StockLevel(variant_id=variant.id, warehouse_id=warehouse.id, on_hand=0, reserved=0)
            db.session.add(level)
            levels[variant.id] = level
        level.bin_location_id = location.id
        out.assigned += 1
    db.session.flush()
    return out


def assign_bin(warehouse: Warehouse, variant: Variant, code: str, sort_key: str = "") -> BinLocation:
    """Put ``variant`` in bin ``code`` of ``warehouse`` (created if new)."""
    code = code.strip()
    if not code:
        raise PickingError(_("indiquez un emplacement"))
    location = db.session.scalar(select(BinLocation).where(BinLocation.warehouse_id == warehouse.id,
                                                           BinLocation.code == code))
    if location is None:
        location = BinLocation(warehouse_id=warehouse.id, code=code[:32], sort_key=sort_key[:64] or serpentine_sort_key(code))
        db.session.add(location)
        db.session.flush()
    elif sort_key:
        location.sort_key = sort_key[:64]
    level = db.session.scalar(select(StockLevel).where(StockLevel.warehouse_id == warehouse.id,
                                                       StockLevel.variant_id == variant.id))
    if level is None:
        level = StockLevel(variant_id=variant.id, warehouse_id=warehouse.id, on_hand=0, reserved=0)
        db.session.add(level)
    level.bin_location_id = location.id
    db.session.flush()
    return location
