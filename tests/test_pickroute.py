"""The picker's route (core.pickroute): every pick visited once, never longer than the
S-shape, never shorter than the shortest walk (brute force on small layouts, the benchmark's
exact bound on the benchmark's layout), on the distance model the benchmark measures with."""
from __future__ import annotations

import itertools
import random

import pytest

from benchmarks.bench_picking import Layout
from core.pickroute import AisleLayout, combined, improve, largest_gap, return_route, s_shape, shortest_order


def _aisles(points):
    out: dict[int, list[int]] = {}
    for aisle, position in sorted(set(points)):
        out.setdefault(aisle, []).append(position)
    return out


def _bench_walk(layout: AisleLayout, bench: Layout, route):
    return bench.walk([(layout.pitch * a, layout.bay * p) for a, p in route])


@pytest.mark.parametrize("seed", range(4))
def test_small_layouts_route_against_brute_force(seed):
    rng = random.Random(seed)
    for _ in range(150):
        aisles, positions = rng.randint(1, 6), rng.randint(1, 8)
        pitch = rng.choice((1.0, 3.0, 7.0))
        layout = AisleLayout(positions=positions, pitch=pitch)
        bench = Layout(aisles=aisles, positions=positions, pitch=pitch, bay=1.0, depot_aisle=1)
        points = [(rng.randint(1, aisles), rng.randint(1, positions)) for _ in range(rng.randint(0, 7))]
        picks = sorted(set(points))
        route = shortest_order(points, layout)
        assert sorted(route) == picks  # every pick, once
        metres = layout.walk(route)
        # the benchmark's model, written apart, measures the same route the same
        assert metres == pytest.approx(_bench_walk(layout, bench, route))
        shortest = min(layout.walk(list(p)) for p in itertools.permutations(picks)) if picks else 0.0
        assert shortest - 1e-9 <= metres <= layout.walk(s_shape(_aisles(points))) + 1e-9
        assert metres >= bench.shortest_walk([(pitch * a, float(p)) for a, p in picks]) - 1e-9


@pytest.mark.parametrize("seed", range(3))
def test_waves_of_the_benchmark_layout_are_never_longer_than_the_s_shape(seed):
    rng = random.Random(100 + seed)
    layout, bench = AisleLayout(positions=50), Layout()
    shorter = 0
    for _ in range(8):
        points = [(rng.randint(1, 25), rng.randint(1, 50)) for _ in range(rng.randint(1, 90))]
        grouped = _aisles(points)
        route = shortest_order(points, layout)
        assert sorted(route) == sorted(set(points))
        serpentine = layout.walk(s_shape(grouped))
        metres = layout.walk(route)
        assert bench.shortest_walk([(3.0 * a, float(p)) for a, p in set(points)]) - 1e-9 <= metres <= serpentine
        shorter += metres < serpentine
        for candidate in (combined(grouped, layout), largest_gap(grouped, layout), return_route(grouped)):
            assert sorted(candidate) == sorted(set(points))
    assert shorter  # the route is not the S-shape under another name


def test_each_route_walks_the_way_its_name_says():
    layout = AisleLayout(positions=10)
    picks = {1: [2, 9], 2: [3, 6], 3: [1, 8], 4: [5]}
    assert s_shape(picks) == [(1, 2), (1, 9), (2, 6), (2, 3), (3, 1), (3, 8), (4, 5)]
    assert return_route(picks) == [(1, 2), (1, 9), (2, 3), (2, 6), (3, 1), (3, 8), (4, 5)]
    # aisles 2 and 3 leave out their largest gap: 3, 6 and 1 reached from the front, 8 from the back
    assert largest_gap(picks, layout) == [(1, 2), (1, 9), (3, 8), (4, 5), (3, 1), (2, 3), (2, 6)]
    route = combined(picks, layout)
    assert sorted(route) == sorted((a, p) for a, ps in picks.items() for p in ps)
    assert layout.walk(route) <= min(layout.walk(s_shape(picks)), layout.walk(return_route(picks)))
    # a route walked back and forth is straightened: up to position 9 and back, 18 m
    zigzag = [(1, 9), (1, 2), (1, 8), (1, 3)]
    assert layout.walk(zigzag) == 30.0
    assert layout.walk(improve(zigzag, layout)) == 18.0
    assert shortest_order([], layout) == []
