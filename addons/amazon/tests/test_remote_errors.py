"""Amazon failing: a 5xx is retried with a short backoff (it is not a quota), Amazon down
ends the run with a retryable error the job layer reschedules, and the merchant's API or
token address cannot send the credentials anywhere but Amazon."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from addons.amazon import jobs, sandbox
from addons.amazon.client import AmazonError, CallStats
from addons.amazon.models import AmazonSyncState
from addons.amazon.sandbox import FR, make_order
from core import services
from core.extensions import db
from core.jobs import enqueue, run_pending
from core.models import ConnectionStatus, Order, OutboxJob, utcnow

from .conftest import T0, configure

HOUR = 3600


@pytest.fixture
def app_config(clock):
    # a worker's real budget: a job waits at most a minute before handing back to the queue
    return {"AMAZON_CLOCK": clock, "AMAZON_MAX_RATE_WAIT": 60}


def orders_of(shop) -> int:
    return len(db.session.scalars(sa.select(Order.id).where(Order.shop_id == shop.id)).all())


def add_orders(emu, count: int, tag: str) -> None:
    for n in range(count):
        emu.add_order(make_order(f"402-{n:07d}-{tag}", marketplace=FR, items=[("TCB-BLA-S", 1, "19.90")],
                                 created=T0.timestamp() - 10 * HOUR + n * 60))


def test_a_5xx_is_retried_with_a_short_backoff_not_a_quota_wait(app, emu, amazon_shop, catalog, clock):
    catalog({"TCB-BLA-S": 1000})
    shop = amazon_shop()
    add_orders(emu, 5, "0000005")
    emu.fail_next("searchOrders", 500, 503, 500)
    stats = CallStats()
    app.config["AMAZON_STATS"] = stats
    slept = clock.slept

    result = jobs.sync_orders(shop.id)
    db.session.commit()

    assert not str(result).startswith("reprise")  # done in this run, not handed to a delayed one
    assert orders_of(shop) == 5 and stats.server_errors == 3
    # searchOrders allows one call per 178 s: a 5xx used to wait that long (beyond the budget)
    assert clock.slept - slept < 10


def test_amazon_down_ends_the_run_with_a_retryable_error_rescheduled_and_nothing_lost(app, emu, amazon_shop,
                                                                                    catalog, clock, monkeypatch):
    from addons.amazon import sync

    monkeypatch.setattr(sync, "PAGE_SIZE", 10)
    catalog({"TCB-BLA-S": 1000})
    shop = amazon_shop()
    add_orders(emu, 15, "0000006")
    emu.fail_next("searchOrders", *([503] * 12), after=1)  # the second page meets an outage

    with pytest.raises(AmazonError) as caught:
        jobs.sync_orders(shop.id)
    db.session.rollback()
    assert caught.value.retryable and caught.value.status == 503
    assert "indisponible (503)" in str(caught.value) and "InternalFailure" in caught.value.raw
    state = db.session.get(AmazonSyncState, shop.id)
    assert orders_of(shop) == 10 and state.next_token  # the first page kept, and where it stopped
    assert shop.addon_row("amazon").status == ConnectionStatus.CONNECTED  # not a credentials problem

    # through the job layer: the failure is rescheduled, not dropped
    enqueue("addons.amazon.jobs.sync_orders", shop.id, job_id=f"amazon-down-{shop.id}", shop_id=shop.id)
    db.session.commit()
    emu.fail_next("searchOrders", *([503] * 12))
    run_pending()
    row = db.session.scalar(sa.select(OutboxJob).where(OutboxJob.job_id == f"amazon-down-{shop.id}"))
    assert row.state == "pending" and row.attempts == 1 and row.run_after > utcnow()
    emu.failures.clear()
    run_pending(now=utcnow() + timedelta(hours=1))
    db.session.expire_all()
    assert orders_of(shop) == 15


@pytest.mark.parametrize("field", ["api_base_url", "token_url"])
def test_an_address_override_cannot_send_the_credentials_off_amazon(app, emu, amazon_shop, base_url, field):
    shop = amazon_shop()
    app.config["OUTBOUND_ALLOW"] = []  # an installation without emulators or allowed hosts
    calls = sum(emu.operations.values())
    for target in ("http://169.254.169.254/latest/meta-data/iam", base_url, "http://10.0.0.3:8080",
                   "https://sellingpartnerapi-eu.amazon.com.evil.example"):
        configure(shop, {**sandbox.demo_settings(base_url), field: target})
        result = services.test_connection(shop, "amazon")
        assert not result.ok and "ne peut pas être remplacée" in result.message
        assert "169.254" not in result.message or "remplacée par 169.254.169.254" in result.message
    assert sum(emu.operations.values()) == calls  # nothing was sent
    # Amazon's own hosts stay accepted
    configure(shop, {**sandbox.demo_settings(base_url), "api_base_url": "", "token_url": ""})
    from addons.amazon.runtime import client_for

    client = client_for(shop)
    assert client.base_url == "https://sellingpartnerapi-eu.amazon.com"
    assert client.token_url == "https://api.amazon.com/auth/o2/token"
    app.config["SANDBOXES"] = True  # the demo installation runs the emulators
    configure(shop, {**sandbox.demo_settings(base_url)})
    assert services.test_connection(shop, "amazon").ok
