"""Pick waves: 2,000 allocated orders over 5,000 SKUs in 3 warehouses, on PostgreSQL.

Measured: the time to cut every allocated order into waves (``core.picking.build_wave``,
40 orders a wave, single-item orders first, each order moving to « en préparation »), and
how far a picker walks with the wave's route (``core.picking.route``, drawn by
``core.pickroute``) against the shortest route through the same bins.

Walking model. Each warehouse is one zone of 25 parallel aisles, 3 m apart (centre to
centre), with 50 positions of 1 m along each aisle and 4 shelf levels per position: bin
``A-aa-pp-l`` (5,000 bins, one SKU each). Position ``p`` of aisle ``a`` stands at
``x = 3·a``, ``y = p``. Cross-aisles run at the front (``y = 0``) and at the back
(``y = 51``). Between two bins of the same aisle the picker walks ``|y₁ − y₂|``; between two
aisles he leaves by the front or the back, whichever is shorter:
``|x₁ − x₂| + min(y₁ + y₂, 2·51 − y₁ − y₂)``. Levels share their position (no distance). A
route starts and ends at the packing station, at the front of aisle 1 (``x = 3, y = 0``).
The sort keys are the serpentine ones (``core.picking.serpentine_sort_key``: up aisle 1,
down aisle 2…).

The figure is the product's route against the shortest route through the same bins, over
all waves; the product draws its route on the same distance model (``core.pickroute``) but
never computes this bound, which stays an implementation of its own here. This layout (parallel aisles, a cross-aisle at each end, the depot at the front
of an aisle) is the one for which Ratliff and Rosenthal (1983, "Order-picking in a
rectangular warehouse: a solvable case of the traveling salesman problem", Operations
Research 31(3)) give an exact dynamic programme. The leg above is the shortest path between
two points of that aisle graph, so the graph's shortest closed walk through the bins is also
the best order of the bins under ``walk``; ``shortest_walk`` computes it, and
``tests/test_bench_bounds.py`` checks it against every order of the picks on small layouts.
The walk order picked unit by unit, order by order (the unsorted list) is shown beside.
"""
from __future__ import annotations

import random
import statistics
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

ORDERS, SKUS, WAREHOUSES, WAVE_SIZE = 2000, 5000, 3, 40
AISLES, POSITIONS, LEVELS = 25, 50, 4
AISLE_PITCH, BAY = 3.0, 1.0


@dataclass(frozen=True)
class Layout:
    """Parallel aisles ``1..aisles`` at ``x = pitch·a``, positions ``1..positions`` at
    ``y = bay·p``, cross-aisles at ``y = 0`` and ``y = bay·(positions + 1)``, the depot at the
    front of aisle ``depot_aisle``."""

    aisles: int = AISLES
    positions: int = POSITIONS
    pitch: float = AISLE_PITCH
    bay: float = BAY
    depot_aisle: int = 1

    @property
    def length(self) -> float:
        return self.bay * (self.positions + 1)

    @property
    def depot(self) -> tuple[float, float]:
        return self.pitch * self.depot_aisle, 0.0

    def leg(self, a: tuple[float, float], b: tuple[float, float]) -> float:
        (x1, y1), (x2, y2) = a, b
        if x1 == x2:
            return abs(y1 - y2)
        return abs(x1 - x2) + min(y1 + y2, 2 * self.length - y1 - y2)

    def walk(self, points: list[tuple[float, float]]) -> float:
        """Depot → every point in this order → depot."""
        here, total = self.depot, 0.0
        for there in points:
            total += self.leg(here, there)
            here = there
        return total + self.leg(here, self.depot)

    def shortest_walk(self, points: Iterable[tuple[float, float]]) -> float:
        """The shortest closed walk from the depot through every point (Ratliff-Rosenthal).

        The walk is a multigraph on the aisle graph (front and back ends ``a_j``, ``b_j`` of each
        aisle, the picks between them, the cross-aisle edges ``a_j a_j+1`` and ``b_j b_j+1``),
        each edge used 0, 1 or 2 times, connected and with every degree even. Sweeping the
        aisles left to right, a partial walk matters only through the degree of ``a_j`` and
        ``b_j`` (none, odd, even) and whether they are in one component, two, or the walk is
        already closed; the cheapest partial walk of each class is kept. Inside an aisle every
        gap between consecutive stops is used the same parity of times, so the aisle is either
        crossed once, walked twice end to end, entered from the front, from the back, or from
        both ends leaving its largest gap out."""
        inside: dict[int, set[float]] = defaultdict(set)
        front: set[int] = {self.depot_aisle}
        back: set[int] = set()
        for x, y in points:
            aisle = round(x / self.pitch)
            if not 1 <= aisle <= self.aisles or not 0 <= y <= self.length:
                raise ValueError(f"({x}, {y}) is not in the layout")
            if y <= 0:
                front.add(aisle)
            elif y >= self.length:
                back.add(aisle)
            else:
                inside[aisle].add(y)
        if not inside and front == {self.depot_aisle} and not back:
            return 0.0
        n, length = self.aisles, self.length
        # required[j]: something must be visited in aisle j or to its right
        required = [False] * (n + 2)
        for j in range(n, 0, -1):
            required[j] = required[j + 1] or bool(inside.get(j)) or j in front or j in back

        states: dict[tuple, float] = {(0, 0, None, None, False): 0.0}
        for j in range(1, n + 1):
            states = _relax(states, _aisle_moves(sorted(inside.get(j, ())), length))
            if j < n:
                states = _cross(states, j in front, j in back, required[j + 1], self.pitch)
        best = min((cost for (da, db, ca, cb, done), cost in states.items()
                    if da != _ODD and db != _ODD and (da or n not in front) and (db or n not in back)
                    and (done or {ca, cb} - {None} == {0})),
                   default=None)
        if best is None:  # pragma: no cover - every set of picks has a walk
            raise AssertionError("no closed walk found")
        return best


# degree classes of an aisle end in a partial walk
_NONE, _ODD, _EVEN = 0, 1, 2


def _degree(d: int, extra: int) -> int:
    if not extra:
        return d
    return _ODD if (d == _ODD) != (extra % 2 == 1) else _EVEN


def _state(da: int, db: int, ca, cb, done: bool) -> tuple:
    """Canonical class: component labels renumbered in order of appearance."""
    names: dict = {}
    for c in (ca, cb):
        if c is not None and c not in names:
            names[c] = len(names)
    return da, db, names.get(ca), names.get(cb), done


def _aisle_moves(ys: list[float], length: float) -> list[tuple[int, int, bool, float]]:
    """(uses of the front end, of the back end, ends joined, cost) of each useful way through
    an aisle whose stops are at ``ys``."""
    moves = [(1, 1, True, length), (2, 2, True, 2 * length)]
    if not ys:
        return [(0, 0, False, 0.0)] + moves
    moves += [(2, 0, False, 2 * ys[-1]), (0, 2, False, 2 * (length - ys[0]))]
    if len(ys) > 1:
        largest_gap = max(b - a for a, b in zip(ys, ys[1:]))
        moves.append((2, 2, False, 2 * (length - largest_gap)))
    return moves


def _keep(out: dict[tuple, float], state: tuple, cost: float) -> None:
    if cost < out.get(state, float("inf")):
        out[state] = cost


def _relax(states: dict[tuple, float], moves: list[tuple[int, int, bool, float]]) -> dict[tuple, float]:
    out: dict[tuple, float] = {}
    for (da, db, ca, cb, done), cost in states.items():
        for use_a, use_b, joined, move_cost in moves:
            if done and (use_a or use_b):
                continue  # the walk is closed: another edge would start a second one
            na, nb = ca, cb
            if use_a and na is None:
                na = "a"
            if use_b and nb is None:
                nb = "b"
            if joined:  # both ends used: b's component becomes a's
                nb = na
            _keep(out, _state(_degree(da, use_a), _degree(db, use_b), na, nb, done), cost + move_cost)
    return out


def _cross(states: dict[tuple, float], front_required: bool, back_required: bool, more_right: bool,
           pitch: float) -> dict[tuple, float]:
    """Add the cross-aisle edges to the next aisle (0, 1 or 2 times each); the ends of this
    aisle are then complete: even degree, visited if required, their component carried on."""
    out: dict[tuple, float] = {}
    for (da, db, ca, cb, done), cost in states.items():
        for xa in (0, 1, 2):
            for xb in (0, 1, 2):
                if done and (xa or xb):
                    continue
                fa, fb = _degree(da, xa), _degree(db, xb)
                if fa == _ODD or fb == _ODD or (front_required and not fa) or (back_required and not fb):
                    continue
                na = (ca if ca is not None else "a") if xa else None
                nb = (cb if cb is not None else "b") if xb else None
                old, new = {ca, cb} - {None}, {na, nb} - {None}
                closed = old - new
                now_done = done
                if closed:
                    if new or len(old) > 1 or more_right:
                        continue  # a finished component while something else is still to walk
                    now_done = True
                _keep(out, _state(xa, xb, na, nb, now_done), cost + pitch * (xa + xb))
    return out


LAYOUT = Layout()


def bin_code(index: int) -> str:
    aisle, rest = divmod(index, POSITIONS * LEVELS)
    position, level = divmod(rest, LEVELS)
    return f"A-{aisle + 1:02d}-{position + 1:02d}-{level + 1}"


def point(code: str) -> tuple[float, float]:
    _zone, aisle, position, _level = code.split("-")
    return AISLE_PITCH * int(aisle), BAY * int(position)


def walk(codes: list[str]) -> float:
    """Depot → every bin in this order → depot."""
    return LAYOUT.walk([point(c) for c in codes])


def shortest_walk(codes: Iterable[str]) -> float:
    """The shortest walk from the depot through every one of these bins and back."""
    return LAYOUT.shortest_walk(point(c) for c in codes)


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
            sorted_m = unsorted_m = shortest_m = 0.0
            worst = 0.0
            route_s = bound_s = 0.0
            for wave in waves:
                started = time.perf_counter()
                stops = picking.route(wave)
                route_s += time.perf_counter() - started
                codes = [s.bin_code for s in stops if s.bin_code]
                sorted_m += walk(codes)
                raw = db.session.scalars(select(PickWaveLine).where(PickWaveLine.wave_id == wave.id)
                                         .order_by(PickWaveLine.wave_order_id, PickWaveLine.id))
                unsorted_m += walk([ln.bin_code for ln in raw if ln.bin_code])
                started = time.perf_counter()
                best = shortest_walk(codes)
                bound_s += time.perf_counter() - started
                shortest_m += best
                worst = max(worst, walk(codes) / best if best else 1.0)
            db.engine.dispose()
    ratio = sorted_m / shortest_m if shortest_m else 0.0
    return [
        ("set-up: 5,000 SKUs × 3 warehouses, 2,000 allocated orders", f"{populate_s:.1f} s", "(not measured)"),
        (f"waves built for {waved:,} orders ({len(waves)} waves of ≤ {WAVE_SIZE})", f"{build_s:.1f} s", "< 60 s"),
        ("one wave of 40 orders, median", f"{statistics.median(per_wave) * 1000:.0f} ms", "< 1,000 ms"),
        ("walk routes computed for every wave", f"{route_s:.1f} s", "< 30 s"),
        ("walking distance per wave, the product's route", f"{sorted_m / len(waves):.0f} m", "(model in docstring)"),
        ("walking distance per wave, shortest route (Ratliff-Rosenthal, exact)", f"{shortest_m / len(waves):.0f} m",
         f"anchor ({bound_s:.1f} s for every wave)"),
        ("product's route ÷ shortest route, over all waves", f"{ratio:.3f}×", "≤ 1.10×"),
        ("  worst wave", f"{worst:.3f}×", "-"),
        ("walking distance per wave, unsorted (order by order)", f"{unsorted_m / len(waves):.0f} m",
         f"{unsorted_m / sorted_m:.1f}× the product's route" if sorted_m else "-"),
    ]
