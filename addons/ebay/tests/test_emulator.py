"""The emulator itself: the demo's calm order stream on its clock, eBay's error bodies for the
faults told on demand, unique eBay-like order numbers."""
from __future__ import annotations

import re

from addons.ebay import sandbox
from core.connectors.emulator import ManualClock

from .spec_check import ERROR


def test_the_demo_shop_places_a_burst_then_one_order_every_20_minutes():
    clock = ManualClock(1_796_000_000.0)
    emu = sandbox.Emulator(clock=clock, live=True)
    client = emu.app.test_client()
    placed = []
    emu.place_order = lambda lines, **kw: placed.append(lines)  # recorded, not run in a thread
    emu.app.test_client().get("/sell/fulfillment/v1/order")
    import time

    time.sleep(0.2)
    assert len(placed) == 3
    clock.advance(19 * 60)
    client.get("/sell/fulfillment/v1/order")
    time.sleep(0.1)
    assert len(placed) == 3
    clock.advance(60)
    client.get("/sell/fulfillment/v1/order")
    time.sleep(0.1)
    assert len(placed) == 4
    clock.advance(3 * 3600)  # hours later: at most one per 20 minutes, never more
    client.get("/sell/fulfillment/v1/order")
    time.sleep(0.2)
    assert len(placed) == 4 + 9


def test_order_numbers_look_like_ebay_and_never_repeat():
    emu = sandbox.Emulator()
    numbers = {emu.place_order([("CAP-STD", 1)], notify=False)["orderId"] for _ in range(200)}
    assert len(numbers) == 200 and all(re.fullmatch(r"\d{2}-\d{5}-\d{5}", n) for n in numbers)


def test_faults_answer_with_ebay_error_bodies():
    emu = sandbox.Emulator()
    client = emu.app.test_client()
    for status in (429, 500, 503):
        emu.kit.fail_next(status, retry_after=3)
        res = client.get("/sell/fulfillment/v1/order")
        assert res.status_code == status and list(ERROR.iter_errors(res.get_json())) == []
    res = client.get("/sell/fulfillment/v1/order")  # no token
    assert res.status_code == 401 and res.get_json()["errors"][0]["errorId"] == 1001


def test_demo_settings_point_at_the_emulator():
    settings = sandbox.demo_settings("http://127.0.0.1:5000/sandbox/ebay")
    assert settings["api_base_url"] == "http://127.0.0.1:5000/sandbox/ebay" and settings["marketplace"] == "EBAY_FR"
    assert len(settings["verification_token"]) >= 32
