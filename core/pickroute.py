"""The picker's route through the bins of a wave, in a zone of parallel aisles.

Layout. The bins ``Z-aa-pp[-l]`` of a zone stand in parallel aisles: aisle ``a`` at
``x = pitch·a``, position ``p`` at ``y = bay·p``, a cross-aisle across the front of the zone
(``y = 0``) and one across the back, one bay beyond its deepest position. Levels of a position
share its place. Between two bins of one aisle the picker walks along the aisle; between two
aisles he goes round by the front or by the back, whichever is shorter. The route starts and
ends at the front of the zone's first aisle (the packing station, or the way into the next
zone: zones are walked one after the other). The zone's depth and
first aisle are read from the warehouse's bins; aisles stand :data:`AISLE_PITCH_M` apart and
positions :data:`BAY_M` wide.

Routes. Four classic routes are drawn (Roodbergen & de Koster, 2001): the S-shape (every aisle
with picks walked through, turning with the aisles that have picks), the return route (each
aisle entered from the front and left the same way), the largest gap (the first and last
aisles walked through, the others entered from the back, then from the front on the way home,
each leaving its largest gap unwalked) and the combined route (for each aisle, through or in and
back, chosen over the whole walk by a dynamic programme over the aisles). The shortest of them
is then shortened by reversing and moving runs of stops (2-opt, or-opt) as long as a move
saves distance. Ties keep the S-shape, the route a picker already knows.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from .bins import natural_key, parse_bin
from .extensions import db
from .models import BinLocation

#: centre to centre distance between two aisles, in metres
AISLE_PITCH_M = 3.0
#: width of one position along an aisle, in metres
BAY_M = 1.0
#: above this many places the route is not improved move by move (each pass grows with the square)
IMPROVE_UP_TO = 150
EPSILON = 1e-9

Point = tuple[int, int]  # (aisle, position); position 0 is the front cross-aisle


@dataclass(frozen=True)
class AisleLayout:
    """One zone: aisles from ``first_aisle``, positions ``1..positions``."""

    positions: int
    first_aisle: int = 1
    pitch: float = AISLE_PITCH_M
    bay: float = BAY_M

    @property
    def length(self) -> float:
        """From the front cross-aisle to the back one."""
        return self.bay * (self.positions + 1)

    @property
    def depot(self) -> Point:
        return (self.first_aisle, 0)

    def leg(self, a: Point, b: Point) -> float:
        """The shortest walk between two places."""
        y1, y2 = self.bay * a[1], self.bay * b[1]
        if a[0] == b[0]:
            return abs(y1 - y2)
        return self.pitch * abs(a[0] - b[0]) + min(y1 + y2, 2 * self.length - y1 - y2)

    def walk(self, points: Sequence[Point]) -> float:
        """Depot → every place in this order → depot."""
        here, total = self.depot, 0.0
        for there in points:
            total += self.leg(here, there)
            here = there
        return total + self.leg(here, self.depot)


# ----------------------------------------------------------------------------- the four routes
Aisles = dict[int, list[int]]  # aisle → its positions with picks, front to back


def s_shape(aisles: Aisles) -> list[Point]:
    """Up the first aisle with picks, down the next, and so on."""
    out: list[Point] = []
    for index, aisle in enumerate(sorted(aisles)):
        positions = aisles[aisle] if index % 2 == 0 else aisles[aisle][::-1]
        out += [(aisle, p) for p in positions]
    return out


def return_route(aisles: Aisles) -> list[Point]:
    """Into every aisle from the front, as deep as its last pick, and back."""
    return [(aisle, p) for aisle in sorted(aisles) for p in aisles[aisle]]


def largest_gap(aisles: Aisles, layout: AisleLayout) -> list[Point]:
    """Up the first aisle, along the back into each aisle down to its largest gap, down the
    last aisle, then home along the front into each aisle up to its largest gap."""
    order = sorted(aisles)
    if len(order) < 2:
        return return_route(aisles)
    back_end = layout.positions + 1
    front_part: Aisles = {}
    back_part: Aisles = {}
    for aisle in order[1:-1]:
        positions = aisles[aisle]
        bounds = [0, *positions, back_end]
        split = max(range(len(positions) + 1), key=lambda i: bounds[i + 1] - bounds[i])
        front_part[aisle], back_part[aisle] = positions[:split], positions[split:]
    out = [(order[0], p) for p in aisles[order[0]]]
    for aisle in order[1:-1]:
        out += [(aisle, p) for p in reversed(back_part[aisle])]
    out += [(order[-1], p) for p in reversed(aisles[order[-1]])]
    for aisle in reversed(order[1:-1]):
        out += [(aisle, p) for p in front_part[aisle]]
    return out


def combined(aisles: Aisles, layout: AisleLayout) -> list[Point]:
    """Aisle after aisle from the depot: each one walked through (to the other cross-aisle) or
    entered and left on the same side, whichever makes the whole walk shortest."""
    order = sorted(aisles)
    if not order:
        return []
    front, back = 0, 1
    # cost[side] of the best walk so far ending on that cross-aisle, and how it got there
    cost = {front: 0.0, back: float("inf")}
    steps: list[dict[int, tuple[int, bool]]] = []  # per aisle: side after → (side before, walked through)
    here = layout.first_aisle
    for aisle in order:
        positions = aisles[aisle]
        across = layout.pitch * abs(aisle - here)
        deep = {front: 2 * layout.bay * positions[-1], back: 2 * (layout.length - layout.bay * positions[0])}
        new = {front: float("inf"), back: float("inf")}
        came: dict[int, tuple[int, bool]] = {}
        for side in (front, back):
            if cost[side] == float("inf"):
                continue
            for through, after, extra in ((False, side, deep[side]), (True, 1 - side, layout.length)):
                total = cost[side] + across + extra
                if total < new[after] - EPSILON:
                    new[after], came[after] = total, (side, through)
        cost, here = new, aisle
        steps.append(came)
    home = layout.pitch * abs(here - layout.first_aisle)
    side = front if cost[front] + home <= cost[back] + layout.length + home + EPSILON else back
    out: list[list[Point]] = []
    for aisle, came in zip(reversed(order), reversed(steps)):
        before, _through = came[side]
        positions = aisles[aisle] if before == front else aisles[aisle][::-1]
        out.append([(aisle, p) for p in positions])
        side = before
    return [p for part in reversed(out) for p in part]


# ----------------------------------------------------------------------------- shortening moves
def improve(points: list[Point], layout: AisleLayout, *, passes: int = 10) -> list[Point]:
    """Reverse a run of stops (2-opt) or move a run of one to three stops elsewhere (or-opt)
    while one of these moves shortens the walk."""
    tour = [layout.depot, *points, layout.depot]
    index = {p: i for i, p in enumerate(dict.fromkeys(tour))}
    places = list(index)
    dist = [[layout.leg(a, b) for b in places] for a in places]
    ids = [index[p] for p in tour]
    for _ in range(passes):
        changed = _two_opt(ids, dist)
        changed = _or_opt(ids, dist) or changed
        if not changed:
            break
    return [places[i] for i in ids[1:-1]]


def _two_opt(ids: list[int], dist: list[list[float]]) -> bool:
    changed = False
    n = len(ids)
    for i in range(1, n - 2):
        for j in range(i + 1, n - 1):
            a, b, c, d = ids[i - 1], ids[i], ids[j], ids[j + 1]
            if dist[a][c] + dist[b][d] < dist[a][b] + dist[c][d] - EPSILON:
                ids[i:j + 1] = ids[i:j + 1][::-1]
                changed = True
    return changed


def _or_opt(ids: list[int], dist: list[list[float]]) -> bool:
    changed = False
    for size in (1, 2, 3):
        i = 1
        while i + size < len(ids):
            run = ids[i:i + size]
            before, after = ids[i - 1], ids[i + size]
            gain = dist[before][run[0]] + dist[run[-1]][after] - dist[before][after]
            rest = ids[:i] + ids[i + size:]
            best, where, flip = EPSILON, None, False
            for k in range(len(rest) - 1):
                a, b = rest[k], rest[k + 1]
                for reverse in (False, True):
                    first, last = (run[-1], run[0]) if reverse else (run[0], run[-1])
                    saving = gain - (dist[a][first] + dist[last][b] - dist[a][b])
                    if saving > best:
                        best, where, flip = saving, k, reverse
            if where is not None:
                moved = run[::-1] if flip else run
                ids[:] = rest[:where + 1] + moved + rest[where + 1:]
                changed = True
            i += 1
    return changed


# ----------------------------------------------------------------------------- the route
def shortest_order(points: Iterable[Point], layout: AisleLayout) -> list[Point]:
    """The places in the order of the shortest route found (see the module's docstring)."""
    aisles: Aisles = {}
    for aisle, position in set(points):
        aisles.setdefault(aisle, []).append(position)
    for positions in aisles.values():
        positions.sort()
    candidates = [s_shape(aisles), combined(aisles, layout), largest_gap(aisles, layout), return_route(aisles)]
    best = candidates[0]
    best_m = layout.walk(best)
    for candidate in candidates[1:]:
        metres = layout.walk(candidate)
        if metres < best_m - EPSILON:
            best, best_m = candidate, metres
    if len(best) <= IMPROVE_UP_TO:
        better = improve(best, layout)
        if layout.walk(better) < best_m - EPSILON:
            best = better
    return best


def layouts_of(warehouse_id: int, codes: Iterable[str] = ()) -> dict[str, AisleLayout]:
    """Each zone's layout as its bins in the warehouse (and ``codes``) draw it."""
    aisles: dict[str, set[int]] = {}
    deepest: dict[str, int] = {}
    stored = db.session.scalars(select(BinLocation.code).where(BinLocation.warehouse_id == warehouse_id))
    for code in (*stored, *codes):
        parts = parse_bin(code)
        if parts is not None:
            zone, aisle, position, _level = parts
            aisles.setdefault(zone, set()).add(aisle)
            deepest[zone] = max(deepest.get(zone, 0), position)
    return {zone: AisleLayout(positions=max(deepest[zone], 1), first_aisle=min(aisles[zone])) for zone in aisles}


def walk_order(warehouse_id: int, codes: Iterable[str]) -> dict[str, int] | None:
    """Each bin's rank in the shortest route found through these bins, zone after zone (bins
    of a position together, by level); None when a bin is not of the ``Z-aa-pp[-l]`` shape
    (the stored order is kept)."""
    parsed = {code: parse_bin(code) for code in set(codes)}
    if not parsed or any(p is None for p in parsed.values()):
        return None
    zones: dict[str, list[str]] = {}
    for code, parts in parsed.items():
        zones.setdefault(parts[0] if parts else "", []).append(code)
    layouts = layouts_of(warehouse_id, parsed)
    ordered: list[str] = []
    for zone in sorted(zones):
        layout = layouts[zone]
        places = {code: (parsed[code][1], parsed[code][2]) for code in zones[zone] if parsed[code]}
        rank = {place: i for i, place in enumerate(shortest_order(places.values(), layout))}
        ordered += sorted(places, key=lambda c: (rank[places[c]], parsed[c][3], natural_key(c)))
    return {code: i for i, code in enumerate(ordered)}
