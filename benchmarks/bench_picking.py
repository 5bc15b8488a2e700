"""Pick waves: 2,000 allocated orders over 5,000 SKUs in 3 warehouses, on PostgreSQL.

Measured: the time to cut every allocated order into waves (``core.picking.build_wave``,
40 orders a wave, single-item orders first, each order moving to « en préparation »), and
how far a picker walks with the wave's route (bins in ``sort_key`` order) against the same
units picked order by order, line by line (the unsorted list).

Walking model. Each warehouse is one zone of 25 parallel aisles, 3 m apart (centre to
centre), with 50 positions of 1 m along each aisle and 4 shelf levels per position: bin
``A-aa-pp-l`` (5,000 bins, one SKU each). Position ``p`` of aisle ``a`` stands at
``x = 3·a``, ``y = p``. Cross-aisles run at the front (``y = 0``) and at the back
(``y = 51``). Between two bins of the same aisle the picker walks ``|y₁ − y₂|``; between two
aisles he leaves by the front or the back, whichever is shorter:
``|x₁ − x₂| + min(y₁ + y₂, 2·51 − y₁ − y₂)``. Levels share their position (no distance). A
route starts and ends at the packing station, at the front of aisle 1 (``x = 3, y = 0``).
The sort keys are the serpentine ones (``core.picking.serpentine_sort_key``: up aisle 1,
down aisle 2…). The figure is the unsorted distance divided by the sorted one, over all
waves.
"""
from __future__ import annotations

import random
import statistics
import time
from datetime import timedelta
from decimal import Decimal

ORDERS, SKUS, WAREHOUSES, WAVE_SIZE = 2000, 5000, 3, 40
AISLES, POSITIONS, LEVELS = 25, 50, 4
AISLE_PITCH, BAY = 3.0, 1.0
DEPOT = (AISLE_PITCH * 1, 0.0)


def bin_code(index: int) -> str:
    aisle, rest = divmod(index, POSITIONS * LEVELS)
    position, level = divmod(rest, LEVELS)
    return f"A-{aisle + 1:02d}-{position + 1:02d}-{level + 1}"


def point(code: str) -> tuple[float, float]:
    _zone, aisle, position, _level = code.split("-")
    return AISLE_PITCH * int(aisle), BAY * int(position)


def leg(a: tuple[float, float], b: tuple[float, float]) -> float:
    (x1, y1), (x2, y2) = a, b
    if x1 == x2:
        return abs(y1 - y2)
    back = BAY * (POSITIONS + 1)
    return abs(x1 - x2) + min(y1 + y2, 2 * back - y1 - y2)


def walk(codes: list[str]) -> float:
    """Depot → every bin in this order → depot."""
    here, total = DEPOT, 0.0
    for code in codes:
        there = point(code)
        total += leg(here, there)
        here = there
    return total + leg(here, DEPOT)


def _populate(org_id: int, shop_id: int, rng: random.Random) -> list[int]:
    from sqlalchemy import insert, select

    from core.extensions import db
    from core.models import (
        BinLocation,
        FulfillmentChannel,
        LineSource,
        Order,
        OrderLine,
        OrderStatus,
        Product,
        ServiceLevel,
        StockLevel,
        Variant,
        Warehouse,
        utcnow,
    )
    from core.picking import serpentine_sort_key

    warehouses = []
    for n in range(WAREHOUSES):
        wh = Warehouse(organization_id=org_id, code=f"WH{n + 1}", name=f"Entrepôt {n + 1}", priority=n + 1)
        db.session.add(wh)
        db.session.flush()
        warehouses.append(wh.id)
    db.session.execute(insert(Product), [{"organization_id": org_id, "title": f"Produit {i}", "description": "",
                                          "images": [], "tags": []} for i in range(SKUS)])
    product_ids = list(db.session.scalars(select(Product.id).where(Product.organization_id == org_id)
                                          .order_by(Product.id)))
    db.session.execute(insert(Variant), [{"organization_id": org_id, "product_id": pid, "sku": f"SKU-{i:05d}",
                                          "title": f"SKU {i}", "price": Decimal("12.00"), "currency": "EUR",
                                          "options": {}, "weight_grams": 200}
                                         for i, pid in enumerate(product_ids)])
    variants = list(db.session.scalars(select(Variant.id).where(Variant.organization_id == org_id)
                                       .order_by(Variant.id)))
    slots = list(range(AISLES * POSITIONS * LEVELS))
    for wh_id in warehouses:
        rng.shuffle(slots)  # each warehouse stores the SKUs in its own places
        db.session.execute(insert(BinLocation), [{"warehouse_id": wh_id, "code": bin_code(s),
                                                  "sort_key": serpentine_sort_key(bin_code(s))} for s in slots])
        bins = dict(db.session.execute(select(BinLocation.code, BinLocation.id)
                                       .where(BinLocation.warehouse_id == wh_id)).all())
        db.session.execute(insert(StockLevel), [{"variant_id": vid, "warehouse_id": wh_id, "on_hand": 1000,
                                                 "reserved": 0, "bin_location_id": bins[bin_code(slots[i])]}
                                                for i, vid in enumerate(variants)])
    weights = [1 / (rank + 1) ** 0.8 for rank in range(SKUS)]  # a few best sellers, a long tail
    now = utcnow()
    levels = [ServiceLevel.STANDARD] * 17 + [ServiceLevel.EXPRESS] * 2 + [ServiceLevel.PRIME]
    db.session.execute(insert(Order), [{
        "organization_id": org_id, "shop_id": shop_id, "external_id": f"B-{n:05d}", "number": f"#{10000 + n}",
        "status": OrderStatus.ALLOCATED, "fulfillment_channel": FulfillmentChannel.MERCHANT,
        "service_level": rng.choice(levels), "placed_at": now - timedelta(minutes=ORDERS - n),
        "shipping_address": {"name": "Client", "country": "FR"}, "billing_address": {}, "tags": [],
        "currency": "EUR", "total": Decimal("24.00")} for n in range(ORDERS)])
    order_ids = list(db.session.scalars(select(Order.id).where(Order.organization_id == org_id).order_by(Order.id)))
    lines = []
    for n, order_id in enumerate(order_ids):
        count = 1 if rng.random() < 0.4 else rng.randint(2, 4)
        for vid in {variants[i] for i in rng.choices(range(SKUS), weights=weights, k=count)}:
            qty = rng.choice((1, 1, 1, 2))
            lines.append({"order_id": order_id, "variant_id": vid, "sku": f"V{vid}", "title": "", "quantity": qty,
                          "unit_price": Decimal("12.00"), "source": LineSource.WAREHOUSE,
                          "warehouse_id": warehouses[n % WAREHOUSES], "reserved_quantity": qty})
    db.session.execute(insert(OrderLine), lines)
    db.session.commit()
    return warehouses


def run() -> list[tuple[str, str, str]]:
    from sqlalchemy import select

    from benchmarks.common import make_app, pg_database, setup_schema
    from core import picking
    from core.extensions import db
    from core.models import Organization, PickWave, PickWaveLine, Shop

    rng = random.Random(2026)
    with pg_database("picking") as url:
        app = make_app(url)
        setup_schema(app)
        with app.app_context():
            org = Organization(name="bench", plan_code="business")
            db.session.add(org)
            db.session.flush()
            shop = Shop(organization_id=org.id, addon="bench_channel", name="canal")
            db.session.add(shop)
            db.session.commit()
            started = time.perf_counter()
            warehouses = _populate(org.id, shop.id, rng)
            populate_s = time.perf_counter() - started

            per_wave: list[float] = []
            started = time.perf_counter()
            for wh_id in warehouses:
                while True:
                    t0 = time.perf_counter()
                    wave = picking.build_wave(org.id, picking.WaveFilters(warehouse_id=wh_id, max_orders=WAVE_SIZE))
                    db.session.commit()
                    if wave is None:
                        break
                    per_wave.append(time.perf_counter() - t0)
            build_s = time.perf_counter() - started

            waves = list(db.session.scalars(select(PickWave).where(PickWave.organization_id == org.id)))
            waved = sum(len(w.orders) for w in waves)
            sorted_m = unsorted_m = 0.0
            started = time.perf_counter()
            for wave in waves:
                stops = picking.route(wave)
                sorted_m += walk([s.bin_code for s in stops if s.bin_code])
                raw = db.session.scalars(select(PickWaveLine).where(PickWaveLine.wave_id == wave.id)
                                         .order_by(PickWaveLine.wave_order_id, PickWaveLine.id))
                unsorted_m += walk([ln.bin_code for ln in raw if ln.bin_code])
            route_s = time.perf_counter() - started
            db.engine.dispose()
    ratio = unsorted_m / sorted_m if sorted_m else 0.0
    return [
        ("set-up: 5,000 SKUs × 3 warehouses, 2,000 allocated orders", f"{populate_s:.1f} s", "(not measured)"),
        (f"waves built for {waved:,} orders ({len(waves)} waves of ≤ {WAVE_SIZE})", f"{build_s:.1f} s", "< 60 s"),
        ("one wave of 40 orders, median", f"{statistics.median(per_wave) * 1000:.0f} ms", "< 1,000 ms"),
        ("walk routes computed for every wave", f"{route_s:.1f} s", "< 30 s"),
        ("walking distance per wave, sorted by bin", f"{sorted_m / len(waves):.0f} m", "(model in docstring)"),
        ("walking distance per wave, unsorted (order by order)", f"{unsorted_m / len(waves):.0f} m", ""),
        ("unsorted ÷ sorted walking distance", f"{ratio:.1f}×", "≥ 3×"),
    ]
