"""Token buckets (in process and in Redis, on an injectable clock), the announced rate,
and the validation of the traffic against the official models."""
from __future__ import annotations

import json

import pytest

from addons.amazon import sandbox
from addons.amazon.client import SellingPartnerClient
from addons.amazon.clock import SimulatedClock
from addons.amazon.ratelimit import LocalRateLimiter, RedisRateLimiter
from addons.amazon.sandbox import FR, make_order

from .conftest import T0


def _bucket_behaviour(make) -> None:
    clock = SimulatedClock(T0)
    limiter, other_worker = make(clock), make(clock)
    # burst 2, rate 0.5/s: two at once, then one every 2 s, reserved in turn by any worker
    assert limiter.acquire("s:getOrder", 0.5, 2, 60) == 0
    assert other_worker.acquire("s:getOrder", 0.5, 2, 60) == 0
    assert limiter.acquire("s:getOrder", 0.5, 2, 60) == pytest.approx(2.0)
    assert other_worker.acquire("s:getOrder", 0.5, 2, 60) == pytest.approx(4.0)
    # a wait above the caller's limit reserves nothing
    assert limiter.acquire("s:getOrder", 0.5, 2, 1.0) == pytest.approx(6.0)
    assert limiter.acquire("s:getOrder", 0.5, 2, 60) == pytest.approx(6.0)
    clock.advance(100)
    assert limiter.available("s:getOrder", 0.5, 2) == pytest.approx(2.0)
    # the rate Amazon announces replaces the documented one, for every worker
    other_worker.set_rate("s:getOrder", 0.1)
    assert limiter.rate("s:getOrder", 0.5) == pytest.approx(0.1)
    limiter.acquire("s:getOrder", 0.5, 2, 60)
    limiter.acquire("s:getOrder", 0.5, 2, 60)
    assert limiter.acquire("s:getOrder", 0.5, 2, 60) == pytest.approx(10.0)
    # a 429 empties the bucket
    clock.advance(1000)
    limiter.drain("s:searchOrders")
    assert limiter.acquire("s:searchOrders", 0.0056, 20, 1000) == pytest.approx(1 / 0.0056)


def test_local_token_bucket():
    shared = {}

    def make(clock):
        if "limiter" not in shared:
            shared["limiter"] = LocalRateLimiter(clock)
        return shared["limiter"]

    _bucket_behaviour(make)


def test_redis_token_bucket_is_shared_by_workers(redis_conn):
    if type(redis_conn).__module__.startswith("fakeredis"):
        pytest.importorskip("lupa")  # fakeredis runs Lua scripts only with lupa
    _bucket_behaviour(lambda clock: RedisRateLimiter(redis_conn, clock))


def test_the_client_follows_the_announced_rate(clock, emu, base_url):
    emu.rate_factor = {"getOrder": 0.2}  # this seller's plan: 0.1 request/s
    emu.add_order(make_order("402-9999999-9999999", marketplace=FR, items=[("A", 1, "1.00")],
                             created=T0.timestamp() - 3600))
    client = SellingPartnerClient(client_id=sandbox.DEMO_CLIENT_ID, client_secret=sandbox.DEMO_CLIENT_SECRET,
                                  refresh_token=sandbox.DEMO_REFRESH_TOKEN, base_url=base_url,
                                  token_url=f"{base_url}/auth/o2/token", seller_id=sandbox.DEMO_SELLER_ID,
                                  clock=clock)
    for _ in range(40):
        client.call("getOrder", path={"orderId": "402-9999999-9999999"})
    assert client.rate("getOrder") == pytest.approx(0.1)
    assert emu.throttled["getOrder"] == 0  # paced at the announced rate from the first answer on
    assert clock.slept == pytest.approx((40 - 30) / 0.1, rel=0.01)


def test_the_checker_catches_traffic_outside_the_models(spec_book):
    bad_body = json.dumps({"marketplaceId": FR, "packageDetail": {
        "packageReferenceId": "1", "carrierCode": "DHL", "shipDate": "2026-11-02T10:00:00Z",
        "orderItems": [{"orderItemId": "1", "quantity": "2"}]}}).encode()
    problems = spec_book.check_request("POST", "/orders/v0/orders/402-1/shipmentConfirmation", {}, bad_body)
    assert any("trackingNumber" in p for p in problems) and any("'2' is not of type 'integer'" in p for p in problems)
    assert spec_book.check_request("GET", "/orders/2026-01-01/orders",
                                   {"fulfillmentStatuses": ["SHIPPED,LOST"], "maxResultsPerPage": ["x"]}, b"")
    assert spec_book.check_response("GET", "/orders/2026-01-01/orders/1", 200, b'{"order": {"orderId": 1}}')
    assert spec_book.check_feed({"header": {"sellerId": "A", "version": "1.0"}, "messages": []})
    good = spec_book.check_request("GET", "/orders/2026-01-01/orders",
                                   {"lastUpdatedAfter": ["2026-11-01T00:00:00Z"], "marketplaceIds": [FR]}, b"")
    assert good == []


def test_every_emulator_answer_of_a_full_flow_was_checked(app, emu, emulator, amazon_shop, catalog):
    from datetime import timedelta

    from addons.amazon import jobs
    from core.jobs import run_pending
    from core.models import utcnow

    sandbox.seed_demo(emu)
    catalog({"TCB-BLA-S": 3, "TCB-BLA-M": 2, "CAP-STD": 1})
    shop = amazon_shop()
    while run_pending(now=utcnow() + timedelta(days=1)):
        pass
    jobs.sync_orders(shop.id)
    jobs.reconcile_stock(shop.id)
    assert emulator.config["SPEC_CHECKED"] >= 15
    assert emulator.config["SPEC_PROBLEMS"] == []


@pytest.mark.parametrize("mode, expected", [("thread", 5.0), ("rq", 60.0), ("manual", 60.0)])
def test_jobs_hand_over_rather_than_sleep_in_the_embedded_runner(app, mode, expected):
    """One in-process thread runs every shop's jobs without Redis: a report being prepared
    or a rate-limit wait resumes later instead of blocking the others; RQ workers may wait."""
    from addons.amazon import runtime

    app.config.pop("AMAZON_MAX_RATE_WAIT", None)  # the tests' simulated clock waits freely
    app.config["JOBS_MODE"] = mode
    assert runtime.max_wait() == expected
    app.config["AMAZON_MAX_RATE_WAIT"] = 12
    assert runtime.max_wait() == 12.0
