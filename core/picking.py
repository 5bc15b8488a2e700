"""Picking and packing: pick waves, the walk through their bins, scans, the sort into one slot per
order, and packing up to the shipment.

A **wave** takes allocated orders of one warehouse (filters: shops, channels, carrier,
service level; single-item orders first) and gives each a slot (a tote or a shelf
compartment). The picker walks once through the bins, on the shortest route found through
them (``core.pickroute``) or in the order the merchant gave them, and picks the units of
every order of the wave; at the end each unit is scanned again and goes to its
order's slot; at the packing station an order (or its slot) is scanned, every unit is
checked, the parcel is weighed and the label printed (``core.shipping``).

Every scan is checked here, whatever the browser already checked: a numeric code of a GTIN
length (EAN-8, UPC-A, EAN-13, GTIN-14) must have a valid check digit; other codes (Code 128)
match a SKU or a barcode as they are. Counting a unit without its barcode (an override)
needs a reason, kept in the order's history.

The codes themselves are read in ``core.barcodes``, the bins and their walking order are
kept in ``core.bins``, and the printed pick list is drawn by ``core.picklist``.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from . import orders as order_flow
from . import shipping
# the scan and bin helpers are also read as ``core.picking.X`` by the views, tests and benchmarks
from .barcodes import ScanCode, clean_scan, code_matches, gtin_check_digit, gtin_key, is_valid_gtin, read_code
from .bins import PickingError, assign_bin, import_bins, natural_key, parse_bin, serpentine_sort_key, walk_key
from .extensions import db
from .models import (
    BinLocation,
    FulfillmentChannel,
    LineSource,
    Order,
    OrderLine,
    OrderStatus,
    PickWave,
    PickWaveLine,
    PickWaveOrder,
    PickWaveOrderStatus,
    PickWaveStatus,
    ServiceLevel,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
    Shop,
    StockLevel,
    Variant,
    utcnow,
)
from .pickroute import walk_order
from .i18n import _

_TOTE = re.compile(r"^V([0-9]{1,9})-B([0-9]{1,4})$", re.I)
_PRIORITY = {ServiceLevel.PRIME: 0, ServiceLevel.EXPRESS: 1, ServiceLevel.STANDARD: 2}
MIN_REASON = 3
ACTIVE_WAVE = (PickWaveStatus.OPEN, PickWaveStatus.PICKING, PickWaveStatus.SORTING, PickWaveStatus.PACKING)
STAGES = ("pick", "slot", "pack")


# ----------------------------------------------------------------------------- waves
@dataclass
class WaveFilters:
    warehouse_id: int
    shop_ids: list[int] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)  # add-on names of the shops
    carriers: list[str] = field(default_factory=list)  # the carrier each shop ships with
    service_levels: list[str] = field(default_factory=list)
    single_item_first: bool = True
    max_orders: int = 30
    order_ids: list[int] = field(default_factory=list)  # these orders only (packing without a walk)

    def as_dict(self) -> dict[str, Any]:
        return {"shop_ids": self.shop_ids, "order_ids": self.order_ids, "channels": self.channels, "carriers": self.carriers,
                "service_levels": self.service_levels, "single_item_first": self.single_item_first,
                "max_orders": self.max_orders}


@dataclass(frozen=True)
class Candidate:
    order_id: int
    units: int
    service_level: ServiceLevel
    placed_at: Any


def _open_line_units(line_ids: list[int]) -> dict[int, int]:
    """Units of these lines already in a live shipment."""
    if not line_ids:
        return {}
    rows = db.session.execute(
        select(ShipmentLine.order_line_id, func.sum(ShipmentLine.quantity))
        .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
        .where(ShipmentLine.order_line_id.in_(line_ids), Shipment.status != ShipmentStatus.CANCELLED)
        .group_by(ShipmentLine.order_line_id)).all()
    return {line_id: int(qty or 0) for line_id, qty in rows}


def candidates(org_id: int, filters: WaveFilters) -> list[Candidate]:
    """Allocated orders with units to pick in the warehouse, best first: single-item orders
    (if asked), then Prime, express, standard, then the oldest."""
    units = (select(OrderLine.order_id.label("order_id"), func.sum(OrderLine.quantity).label("units"))
             .where(OrderLine.source == LineSource.WAREHOUSE, OrderLine.warehouse_id == filters.warehouse_id,
                    OrderLine.variant_id.is_not(None))
             .group_by(OrderLine.order_id).subquery())
    stmt = (select(Order.id, units.c.units, Order.service_level, Order.placed_at, Order.shop_id)
            .join(units, units.c.order_id == Order.id)
            .where(Order.organization_id == org_id, Order.status == OrderStatus.ALLOCATED,
                   Order.fulfillment_channel == FulfillmentChannel.MERCHANT))
    if filters.order_ids:
        stmt = stmt.where(Order.id.in_(filters.order_ids))
    if filters.shop_ids:
        stmt = stmt.where(Order.shop_id.in_(filters.shop_ids))
    if filters.service_levels:
        stmt = stmt.where(Order.service_level.in_([ServiceLevel(s) for s in filters.service_levels]))
    if filters.channels:
        stmt = stmt.where(Order.shop_id.in_(select(Shop.id).where(Shop.organization_id == org_id,
                                                                  Shop.addon.in_(filters.channels))))
    rows = db.session.execute(stmt).all()
    if filters.carriers:
        shop_ids = {r.shop_id for r in rows}
        carrier_of = {s.id: shipping.default_carrier(s) for s in db.session.scalars(select(Shop).where(Shop.id.in_(shop_ids)))}
        rows = [r for r in rows if carrier_of.get(r.shop_id) in filters.carriers]
    found = [Candidate(r.id, int(r.units or 0), ServiceLevel(r.service_level), r.placed_at) for r in rows]
    found.sort(key=lambda c: ((0 if c.units == 1 else 1) if filters.single_item_first else 0,
                              _PRIORITY.get(c.service_level, 3), c.placed_at, c.order_id))
    return found


def _claim(order_ids: list[int], want: int) -> list[int]:
    """The first ``want`` of these orders that this transaction can have, in their order.

    On PostgreSQL each is locked ``FOR UPDATE SKIP LOCKED`` while still allocated: orders
    another person is putting in a wave at this moment are passed over, not waited for. On
    SQLite (one writer at a time) the conditional status change in :func:`build_wave` decides.
    """
    if db.engine.dialect.name != "postgresql":
        return list(order_ids[:want * 2])  # a few spare ones for orders taken meanwhile
    got: list[int] = []
    pos = 0
    while len(got) < want and pos < len(order_ids):
        chunk = order_ids[pos:pos + (want - len(got))]
        pos += len(chunk)
        locked = set(db.session.scalars(
            select(Order.id).where(Order.id.in_(chunk), Order.status == OrderStatus.ALLOCATED)
            .with_for_update(skip_locked=True)))
        got.extend(i for i in chunk if i in locked)
    order_flow.hold_locks(got)
    return got


def build_wave(org_id: int, filters: WaveFilters, *, user_id: int | None = None) -> PickWave | None:
    """A wave of at most ``max_orders`` orders (None when none qualifies). The orders move to
    « en préparation », each with its slot; their lines get their bin in the warehouse.

    Two people building waves at once never share an order: candidates are claimed with
    ``FOR UPDATE SKIP LOCKED`` and each order's move is a conditional status change."""
    want = max(filters.max_orders, 1)
    ids = _claim([c.order_id for c in candidates(org_id, filters)], want)
    if not ids:
        return None
    orders = {o.id: o for o in db.session.scalars(select(Order).where(Order.id.in_(ids))
                                                  .options(selectinload(Order.events))
                                                  .execution_options(populate_existing=True))}
    lines_by_order: dict[int, list[OrderLine]] = defaultdict(list)
    for line in db.session.scalars(select(OrderLine).where(
            OrderLine.order_id.in_(ids), OrderLine.source == LineSource.WAREHOUSE,
            OrderLine.warehouse_id == filters.warehouse_id, OrderLine.variant_id.is_not(None))
            .order_by(OrderLine.id)):
        lines_by_order[line.order_id].append(line)
    shipped = _open_line_units([ln.id for lines in lines_by_order.values() for ln in lines])
    variant_ids = {ln.variant_id for lines in lines_by_order.values() for ln in lines}
    bins = {vid: (code, key) for vid, code, key in db.session.execute(
        select(StockLevel.variant_id, BinLocation.code, BinLocation.sort_key)
        .join(BinLocation, BinLocation.id == StockLevel.bin_location_id)
        .where(StockLevel.warehouse_id == filters.warehouse_id, StockLevel.variant_id.in_(variant_ids)))}

    wave = PickWave(organization_id=org_id, warehouse_id=filters.warehouse_id, filters=filters.as_dict(),
                    created_by=user_id, status=PickWaveStatus.OPEN)
    db.session.add(wave)
    db.session.flush()
    slot = 0
    for order_id in ids:
        if slot >= want:
            break
        todo = [(ln, ln.quantity - shipped.get(ln.id, 0)) for ln in lines_by_order.get(order_id, [])]
        todo = [(ln, qty) for ln, qty in todo if qty > 0]
        order = orders.get(order_id)
        if not todo or order is None or order.status != OrderStatus.ALLOCATED:
            continue
        try:
            order_flow.transition(order, OrderStatus.PICKING, user_id=user_id,
                                  reason=f"vague {wave.id}, bac {slot + 1}")
        except order_flow.ConcurrentChange:
            continue  # taken by someone else a moment ago: the next candidate takes its slot
        slot += 1
        member = PickWaveOrder(wave_id=wave.id, order_id=order_id, slot=slot)
        db.session.add(member)
        for line, qty in todo:
            code, key = bins.get(line.variant_id, (None, ""))
            db.session.add(PickWaveLine(wave_id=wave.id, wave_order=member, order_line_id=line.id,
                                        variant_id=line.variant_id, bin_code=code, sort_key=key or "",
                                        quantity=qty))
    if slot == 0:
        db.session.delete(wave)
        db.session.flush()
        return None
    db.session.flush()
    return wave


def wave_for_order(order: Order, *, user_id: int | None = None) -> PickWaveOrder:
    """The order's place in its active wave; an order packed without a walk gets a wave of its own."""
    member = db.session.scalar(
        select(PickWaveOrder).join(PickWave, PickWave.id == PickWaveOrder.wave_id)
        .where(PickWaveOrder.order_id == order.id, PickWave.status.in_(ACTIVE_WAVE),
               PickWaveOrder.status != PickWaveOrderStatus.REMOVED)
        .order_by(PickWaveOrder.id.desc()).limit(1))
    if member is not None:
        return member
    if order.status != OrderStatus.ALLOCATED:
        raise PickingError(_("la commande %(number)s est %(labels)s : rien à préparer",
                             number=order.number, labels=order_flow.LABELS[order.status]))
    warehouse_id = next((ln.warehouse_id for ln in order.lines
                         if ln.source == LineSource.WAREHOUSE and ln.warehouse_id and ln.variant_id), None)
    if warehouse_id is None:
        raise PickingError(_("la commande %(number)s n'a aucun article à préparer dans vos entrepôts",
                             number=order.number))
    wave = build_wave(order.organization_id, WaveFilters(warehouse_id=warehouse_id, order_ids=[order.id]),
                      user_id=user_id)
    if wave is None or not wave.orders:
        raise PickingError(_("la commande %(number)s n'a plus d'article à préparer", number=order.number))
    wave.status = PickWaveStatus.PACKING
    return wave.orders[0]


def live_lines(wave: PickWave) -> list[PickWaveLine]:
    """The wave's lines, without those of orders taken out or cancelled since (loaded with
    their item, order line and order in a few queries)."""
    lines = db.session.scalars(
        select(PickWaveLine).where(PickWaveLine.wave_id == wave.id).order_by(PickWaveLine.id)
        .options(selectinload(PickWaveLine.variant).selectinload(Variant.product),
                 selectinload(PickWaveLine.order_line),
                 joinedload(PickWaveLine.wave_order).joinedload(PickWaveOrder.order))).all()
    return [ln for ln in lines if ln.wave_order.status != PickWaveOrderStatus.REMOVED
            and ln.wave_order.order.status != OrderStatus.CANCELLED]


def remove_order(member: PickWaveOrder, reason: str, *, user_id: int | None = None) -> None:
    """Take an order out of its wave (missing item, damaged…): it goes back to « allouée »."""
    if len(reason.strip()) < MIN_REASON:
        raise PickingError(_("indiquez pourquoi la commande sort de la vague"))
    if member.status in (PickWaveOrderStatus.SHIPPED, PickWaveOrderStatus.REMOVED):
        raise PickingError(_("cette commande ne peut plus sortir de la vague"))
    member.status = PickWaveOrderStatus.REMOVED
    order = member.order
    if order.status in (OrderStatus.PICKING, OrderStatus.PACKED):
        order_flow.transition(order, OrderStatus.ALLOCATED, user_id=user_id,
                              reason=_("retirée de la vague %(wave_id)s : %(strip)s",
                                       wave_id=member.wave_id, strip=reason.strip()))
    _advance(member.wave)


# ----------------------------------------------------------------------------- the walk
@dataclass
class PickStop:
    """One bin and one item of the walk, for every order of the wave."""

    key: str
    bin_code: str | None
    variant_id: int | None
    sku: str
    title: str
    barcode: str | None
    quantity: int
    picked: int
    slotted: int
    slots: list[tuple[int, int]]  # (slot, units)
    line_ids: list[int]

    @property
    def done(self) -> bool:
        return self.picked >= self.quantity


def route(wave: PickWave) -> list[PickStop]:
    """The walk: one stop per (bin, item), items without a bin at the end. Bins on the default
    order (serpentine, or none given) of one zone of aisles follow the shortest route found
    through them (:func:`core.pickroute.walk_order`); bins the merchant ordered, or of another
    shape, follow their ``sort_key`` (bins without a key by code)."""
    stops: dict[tuple[str | None, int | None], PickStop] = {}
    order_keys: dict[tuple[str | None, int | None], tuple] = {}
    custom = False  # a bin the merchant gave its own place in the walk
    for line in live_lines(wave):
        key = (line.bin_code, line.variant_id)
        custom = custom or bool(line.bin_code and line.sort_key
                                and line.sort_key != serpentine_sort_key(line.bin_code))
        stop = stops.get(key)
        if stop is None:
            variant = line.variant
            order_line = line.order_line
            stop = PickStop(key=f"{line.bin_code or ''}|{line.variant_id or ''}", bin_code=line.bin_code,
                            variant_id=line.variant_id, sku=order_line.sku,
                            title=(variant.product.title if variant else order_line.title) or order_line.title,
                            barcode=variant.barcode if variant else None, quantity=0, picked=0, slotted=0,
                            slots=[], line_ids=[])
            stops[key] = stop
            order_keys[key] = walk_key(line.sort_key, line.bin_code) + (order_line.sku,)
        stop.quantity += line.quantity
        stop.picked += line.picked
        stop.slotted += line.slotted
        stop.slots.append((line.wave_order.slot, line.quantity))
        stop.line_ids.append(line.id)
    for stop in stops.values():
        stop.slots.sort()
    # bins on the default order: the shortest route found through them
    ranks = None if custom else walk_order(wave.warehouse_id, {code for (code, _v) in stops if code})
    if ranks:
        for key in order_keys:
            if key[0] in ranks:
                order_keys[key] = (0, f"{ranks[key[0]]:06d}", "") + order_keys[key][3:]
    return [stops[k] for k in sorted(stops, key=lambda k: order_keys[k])]


# ----------------------------------------------------------------------------- scans
@dataclass
class ScanResult:
    ok: bool
    status: str  # counted | override | unknown | check_digit | wrong_item | complete_already | not_picked | error
    message: str
    sku: str | None = None
    slot: int | None = None
    line_id: int | None = None
    done: int = 0
    total: int = 0
    complete: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "status": self.status, "message": self.message, "sku": self.sku,
                "slot": self.slot, "line_id": self.line_id, "done": self.done, "total": self.total,
                "complete": self.complete, **self.extra}


def _counter(stage: str) -> str:
    return {"pick": "picked", "slot": "slotted", "pack": "packed"}[stage]


def _need(line: PickWaveLine, stage: str) -> int:
    """Units still to count for ``line`` at this stage (sorting follows what was picked)."""
    if stage == "slot":
        return line.picked - line.slotted
    return line.quantity - getattr(line, _counter(stage))


def _progress(lines: list[PickWaveLine], stage: str) -> tuple[int, int]:
    counter = _counter(stage)
    total = sum(ln.picked if stage == "slot" else ln.quantity for ln in lines)
    return sum(getattr(ln, counter) for ln in lines), total


def _identify(org_id: int, code: ScanCode, lines: list[PickWaveLine]) -> tuple[list[PickWaveLine], Variant | None]:
    """The scope's lines whose item carries ``code``, else the organization's item with it."""
    matching = [ln for ln in lines if ln.variant is not None and code_matches(code, ln.variant)]
    if matching:
        return matching, matching[0].variant
    other = db.session.scalars(select(Variant).where(
        Variant.organization_id == org_id,
        (func.lower(Variant.sku) == code.value.lower()) | (Variant.barcode.in_(_barcode_spellings(code))))
        .limit(1)).first()
    return [], other


def _barcode_spellings(code: ScanCode) -> list[str]:
    if not code.gtin:
        return [code.value]
    digits = code.gtin.lstrip("0")
    return sorted({code.value, code.gtin, *(digits.zfill(n) for n in (8, 12, 13, 14) if len(digits) <= n)})


def scan(stage: str, org_id: int, lines: list[PickWaveLine], raw: str, *, user_id: int | None = None) -> ScanResult:
    """One scan at ``stage`` (``pick``, ``slot`` or ``pack``) over ``lines``: the right item
    counts one unit, anything else is refused with the reason."""
    if stage not in STAGES:
        raise ValueError(stage)
    code = read_code(raw)
    done, total = _progress(lines, stage)
    if not code.value:
        return ScanResult(False, "unknown", "Code vide : scannez à nouveau.", done=done, total=total)
    if not code.valid:
        return ScanResult(False, "check_digit", f"Code {code.symbology} mal lu (chiffre de contrôle faux) : "
                          "scannez à nouveau.", done=done, total=total)
    matching, variant = _identify(org_id, code, lines)
    if not matching:
        if variant is not None:
            return ScanResult(False, "wrong_item", f"Mauvais article : {variant.sku} n'est pas à "
                              f"{_STAGE_WHERE[stage]}.", sku=variant.sku, done=done, total=total)
        return ScanResult(False, "unknown", f"Code inconnu : {code.value}.", done=done, total=total)
    line = line_for(matching, stage)
    sku = matching[0].order_line.sku
    if line is None:
        if stage == "slot" and any(ln.picked < ln.quantity for ln in matching):
            return ScanResult(False, "not_picked", f"{sku} : toutes les unités ramassées sont déjà triées.",
                              sku=sku, done=done, total=total)
        return ScanResult(False, "complete_already", f"{sku} : quantité déjà complète, article en trop.",
                          sku=sku, done=done, total=total)
    return _count(stage, line, lines, user_id=user_id, reason=None)


_STAGE_WHERE = {"pick": _("ramasser dans cette vague"), "slot": _("trier dans cette vague"),
                "pack": _("mettre dans ce colis")}


def line_for(matching: list[PickWaveLine], stage: str) -> PickWaveLine | None:
    """The line a unit of these lines counts for at ``stage``: the walk's order when picking,
    the lowest slot when sorting or packing; None when every one is complete."""
    open_lines = [ln for ln in matching if _need(ln, stage) > 0]
    if not open_lines:
        return None
    if stage == "pick":
        return min(open_lines, key=lambda ln: (walk_key(ln.sort_key, ln.bin_code), ln.wave_order.slot, ln.id))
    return min(open_lines, key=lambda ln: (ln.wave_order.slot, ln.id))


def override(stage: str, line: PickWaveLine, lines: list[PickWaveLine], reason: str, *,
             user_id: int | None = None) -> ScanResult:
    """Count one unit of ``line`` without its barcode; the reason goes to the order's history."""
    reason = (reason or "").strip()
    done, total = _progress(lines, stage)
    if len(reason) < MIN_REASON:
        return ScanResult(False, "error", "Indiquez la raison du forçage (au moins 3 caractères).",
                          done=done, total=total)
    if line not in lines or _need(line, stage) <= 0:
        return ScanResult(False, "complete_already", "Rien à compter pour cette ligne.", done=done, total=total)
    return _count(stage, line, lines, user_id=user_id, reason=reason[:500])


def _count(stage: str, line: PickWaveLine, lines: list[PickWaveLine], *, user_id: int | None,
           reason: str | None) -> ScanResult:
    counter = _counter(stage)
    setattr(line, counter, getattr(line, counter) + 1)
    member = line.wave_order
    order = member.order
    now = utcnow()
    if order.picking_started_at is None:
        order.picking_started_at = now
    wave = line.wave
    if stage == "pick" and wave.status == PickWaveStatus.OPEN:
        wave.status = PickWaveStatus.PICKING
        wave.started_at = now
    if reason:
        line.override_reason = reason if not line.override_reason else f"{line.override_reason} ; {reason}"[:2000]
        order_flow.record(order, "override", _("%(sku)s compté sans scan (%(stage_name)s) : %(reason)s",
                                               sku=line.order_line.sku, stage_name=_STAGE_NAME[stage], reason=reason), user_id=user_id, data={"wave": wave.id, "line": line.order_line_id})
    if stage == "pack":
        _pack_progress(member, user_id=user_id)
    _advance(wave)
    db.session.flush()
    done, total = _progress(lines, stage)
    sku = line.order_line.sku
    if stage == "slot":
        message = f"{sku} → bac {member.slot}"
    elif stage == "pack":
        message = f"{sku} vérifié ({line.packed}/{line.quantity})"
    else:
        message = f"{sku} ramassé ({line.picked}/{line.quantity}, bac {member.slot})"
    return ScanResult(True, "override" if reason else "counted", message, sku=sku, slot=member.slot,
                      line_id=line.id, done=done, total=total, complete=done >= total,
                      extra={"line_done": getattr(line, counter), "line_total": line.quantity})


_STAGE_NAME = {"pick": "ramassage", "slot": "tri", "pack": "emballage"}


def _pack_progress(member: PickWaveOrder, *, user_id: int | None) -> None:
    if member.status != PickWaveOrderStatus.PICKING:
        return
    if all(ln.packed >= ln.quantity for ln in member.lines):
        member.status = PickWaveOrderStatus.PACKED
        order = member.order
        order.packed_at = utcnow()
        if order.status == OrderStatus.PICKING:
            order_flow.transition(order, OrderStatus.PACKED, user_id=user_id)


def refresh(wave: PickWave) -> None:
    """Bring the wave's status up to date (orders cancelled or shipped elsewhere since)."""
    if wave.status in ACTIVE_WAVE:
        _advance(wave)


def _advance(wave: PickWave) -> None:
    """The wave's status follows its lines and orders."""
    lines = live_lines(wave)
    members = [m for m in wave.orders if m.status != PickWaveOrderStatus.REMOVED
               and m.order.status != OrderStatus.CANCELLED]
    now = utcnow()
    if not members or all(m.status == PickWaveOrderStatus.SHIPPED for m in members):
        if wave.status != PickWaveStatus.CANCELLED:
            wave.status = PickWaveStatus.DONE
            wave.completed_at = wave.completed_at or now
        return
    if wave.status in (PickWaveStatus.OPEN, PickWaveStatus.PICKING):
        if lines and all(ln.picked >= ln.quantity for ln in lines):
            wave.picked_at = wave.picked_at or now
            wave.status = PickWaveStatus.SORTING if len(members) > 1 else PickWaveStatus.PACKING
    if wave.status == PickWaveStatus.SORTING and all(ln.slotted >= ln.quantity for ln in lines):
        wave.status = PickWaveStatus.PACKING
    if any(ln.packed for ln in lines) and wave.status in (PickWaveStatus.OPEN, PickWaveStatus.PICKING,
                                                            PickWaveStatus.SORTING):
        wave.status = PickWaveStatus.PACKING


def member_from_code(org_id: int, raw: str) -> PickWaveOrder | Order | None:
    """What the packing station scanned: a slot label ``V12-B03`` (wave 12, slot 3), an order
    number (with or without ``#``) or a channel's order id."""
    code = clean_scan(raw)
    if not code:
        return None
    tote = _TOTE.match(code)
    if tote:
        return db.session.scalar(
            select(PickWaveOrder).join(PickWave, PickWave.id == PickWaveOrder.wave_id)
            .where(PickWave.organization_id == org_id, PickWave.id == int(tote.group(1)),
                   PickWaveOrder.slot == int(tote.group(2))))
    spellings = {code, code.lstrip("#"), "#" + code.lstrip("#")}
    return db.session.scalars(
        select(Order).where(Order.organization_id == org_id,
                            Order.number.in_(spellings) | Order.external_id.in_(spellings))
        .order_by(Order.id.desc()).limit(1)).first()


def tote_code(member: PickWaveOrder) -> str:
    return f"V{member.wave_id}-B{member.slot:02d}"


# ----------------------------------------------------------------------------- packing
@dataclass
class PackOutcome:
    state: str  # shipped | label_ready | manual | waiting_carrier
    shipment: Shipment
    message: str


def pack_and_ship(member: PickWaveOrder, weight_grams: int | None, *, carrier: str | None = None,
                  auto_ship: bool = True, user_id: int | None = None, service: str | None = None) -> PackOutcome:
    """Every unit checked: the parcel gets its shipment, committed, then its label; with a label
    it leaves at once (stock consumed, channels told), otherwise it waits for its tracking
    number. Commits: the shipment exists before any carrier is called (see
    :func:`core.shipping.fetch_label`)."""
    if member.status == PickWaveOrderStatus.REMOVED:
        raise PickingError(_("cette commande a été retirée de la vague"))
    if member.shipment_id is not None and member.shipment is not None \
            and member.shipment.status != ShipmentStatus.CANCELLED:
        raise PickingError(_("ce colis a déjà son expédition"))
    missing = [ln for ln in member.lines if ln.packed < ln.quantity]
    if missing:
        raise PickingError(_("vérifiez d'abord chaque article : %(items)s",
                             items=', '.join((f'{ln.order_line.sku} {ln.packed}/{ln.quantity}' for ln in missing))))
    content: dict[int, list[Any]] = {}
    for ln in member.lines:
        entry = content.setdefault(ln.order_line_id, [ln.order_line, 0])
        entry[1] += ln.packed
    lines = [(line, qty) for line, qty in content.values()]
    if weight_grams is None:
        weight_grams = shipping.shipment_weight(lines)
    if not weight_grams:
        raise PickingError(_("pesez le colis : le poids d'un article au moins est inconnu"))
    shipment = shipping.create_shipment(member.order, lines, weight_grams, carrier=carrier, service=service,
                                        warehouse_id=member.wave.warehouse_id, user_id=user_id)
    member.shipment_id = shipment.id
    member.shipment = shipment
    db.session.commit()
    if shipment.carrier == shipping.MANUAL:
        outcome = shipping.outcome_of(shipment)
    else:
        outcome = shipping.fetch_label(shipment.id, ship=auto_ship, user_id=user_id)
    return PackOutcome(outcome.state, db.session.get(Shipment, outcome.shipment_id), outcome.message)


def shipment_left(shipment: Shipment) -> None:
    """``core.shipping`` marked a parcel shipped: its wave order and wave follow."""
    for member in db.session.scalars(select(PickWaveOrder).where(PickWaveOrder.shipment_id == shipment.id)):
        member.status = PickWaveOrderStatus.SHIPPED
        _advance(member.wave)


def shipment_cancelled(shipment: Shipment) -> None:
    """A parcel was cancelled before leaving: its order can be packed again."""
    for member in db.session.scalars(select(PickWaveOrder).where(PickWaveOrder.shipment_id == shipment.id)):
        member.shipment_id = None
        if member.status == PickWaveOrderStatus.SHIPPED:
            member.status = PickWaveOrderStatus.PACKED


def preparation_seconds(order: Order) -> float | None:
    """From the first unit picked to the parcel shipped."""
    if order.picking_started_at is None or order.shipped_at is None:
        return None
    return (order.shipped_at - order.picking_started_at).total_seconds()
