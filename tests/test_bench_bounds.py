"""The exact bounds the benchmarks compare the product with: checked here by brute force."""
from __future__ import annotations

import itertools
import random

import pytest

from benchmarks.bench_oversell import replay
from benchmarks.bench_picking import Layout, point, shortest_walk, walk


def brute_force(layout: Layout, points: list[tuple[float, float]]) -> float:
    return min(layout.walk(list(order)) for order in itertools.permutations(points)) if points else 0.0


@pytest.mark.parametrize("seed", range(6))
def test_shortest_walk_is_the_best_order_of_the_picks(seed):
    rng = random.Random(seed)
    for _ in range(120):
        aisles = rng.randint(1, 5)
        layout = Layout(aisles=aisles, positions=rng.randint(1, 6), pitch=rng.choice((1.0, 3.0, 7.0)), bay=1.0,
                        depot_aisle=rng.randint(1, aisles))
        points = list({(layout.pitch * rng.randint(1, layout.aisles), float(rng.randint(1, layout.positions)))
                       for _ in range(rng.randint(0, 7))})
        assert layout.shortest_walk(points) == pytest.approx(brute_force(layout, points)), (layout, points)


def test_shortest_walk_on_the_benchmark_layout():
    # up aisle 1 and back, then aisles 4 and 5 through the back cross-aisle: a loop is shorter
    codes = ["A-01-10-1", "A-04-40-2", "A-05-45-1", "A-05-02-3"]
    best = shortest_walk(codes)
    assert best == pytest.approx(brute_force(Layout(), [point(c) for c in codes]))
    assert best <= walk(codes)
    assert shortest_walk(["A-01-10-1", "A-01-10-2"]) == 20.0  # one position, two levels: up and back
    assert shortest_walk([]) == 0.0
    with pytest.raises(ValueError):
        shortest_walk(["A-26-01-1"])


def test_ledger_replay_reports_the_lowest_available_and_an_oversell():
    assert replay([]).lowest_available == 0
    seen = replay([(5, 0), (0, 3), (0, 2), (-1, -1), (0, -1), (2, 0)])
    assert (seen.on_hand, seen.reserved, seen.lowest_available, seen.movements) == (6, 3, 0, 6)
    # a reservation committed after the unit had gone: the replay goes below zero
    assert replay([(1, 0), (-1, 0), (0, 1), (1, 0)]).lowest_available == -1
    # a release replayed before the reservation it gives back
    out_of_order = replay([(2, 0), (0, -1), (0, 1)])
    assert (out_of_order.lowest_reserved, out_of_order.lowest_on_hand, out_of_order.lowest_available) == (-1, 0, 2)
