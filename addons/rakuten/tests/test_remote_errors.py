"""What a merchant meets when Rakuten misbehaves: errors inside HTTP 200 answers, 429
storms, outages, a revoked token, an answer lost after the work was done, versions."""
from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from addons.rakuten import jobs
from addons.rakuten.client import Client, RakutenError
from addons.rakuten.models import RakutenItem
from addons.rakuten.sandbox import DEMO_LOGIN, DEMO_TOKEN
from addons.rakuten.versions import ACTIONS, current_versions, set_version
from core import services
from core.connectors.emulator import kit_of
from core.extensions import db
from core.models import ConnectionStatus, Order

from .test_flow import drain, order_of


@pytest.fixture
def strict_queries():
    return True


def test_an_error_inside_an_http_200_answer_is_detected(app, emu, base_url):
    client = Client(DEMO_LOGIN, DEMO_TOKEN, {**current_versions(), "getnewsales": "2009-01-01"}, base_url=base_url)
    with pytest.raises(RakutenError) as err:
        client.new_sales()
    assert err.value.status == 200 and err.value.code == "ParameterError" and not err.value.retryable
    assert "version" in str(err.value) and "oms rakuten-versions" in str(err.value)
    body = emu.answers[-1][1]
    assert b"<errorresponse" in body and b"The version 2009-01-01 is not supported" in body


def test_versions_are_configuration(app, emu, base_url, rakuten_shop):
    shop = rakuten_shop()
    set_version("getnewsales", "2016-03-16")
    db.session.commit()
    jobs.sync_orders(shop.id)
    sent = [q for q in emu.queries if q["action"] == "getnewsales"][-1]
    assert sent["version"] == "2016-03-16"
    assert current_versions()["getcurrentsales"] == ACTIONS["getcurrentsales"].version

    runner = app.test_cli_runner()
    result = runner.invoke(args=["rakuten-versions", "--set", "acceptsale=2011-01-01"])
    assert result.exit_code == 0, result.output
    assert "acceptsale" in result.output and "2011-01-01 (défaut 2010-09-20)" in result.output
    assert current_versions()["acceptsale"] == "2011-01-01"
    result = runner.invoke(args=["rakuten-versions", "--set", "nosuchaction=2011-01-01"])
    assert result.exit_code != 0


def test_a_429_storm_is_waited_out(app, emu, rakuten_shop, clock):
    shop = rakuten_shop()
    sale = emu.add_sale([("MUG-STD", "9.50")])
    kit_of(emu.app).fail_next(429, times=3, retry_after=2, path="/sales_ws")
    slept = len(clock.slept)
    jobs.sync_orders(shop.id)
    assert clock.slept[slept:] == [2, 2, 2]  # Retry-After honoured, on the simulated clock
    assert order_of(sale.purchaseid) is not None


def test_an_outage_leaves_the_cursor_and_loses_nothing(app, emu, rakuten_shop, clock):
    shop = rakuten_shop()
    emu.page_size = 1
    first, second = emu.add_sale([("A-1", "1.00")], status="ACCEPTED"), emu.add_sale([("B-1", "1.00")],
                                                                                     status="ACCEPTED")
    second.purchased = first.purchased + 10
    # the second page of getcurrentsales fails every retry
    kit_of(emu.app).fail_next(500, times=10, path="/sales_ws", after=2)
    with pytest.raises(RakutenError) as err:
        jobs.sync_orders(shop.id)
    assert err.value.retryable
    db.session.rollback()
    db.session.refresh(shop)
    assert shop.sync_cursor is None  # not moved
    assert order_of(first.purchaseid) is not None and order_of(second.purchaseid) is None  # first page kept
    kit_of(emu.app).reset()
    jobs.sync_orders(shop.id)
    assert order_of(second.purchaseid) is not None and shop.sync_cursor


def test_a_revoked_token_puts_the_shop_in_error_and_stores_nothing(app, emu, rakuten_shop):
    shop = rakuten_shop()
    emu.add_sale([("MUG-STD", "9.50")])
    emu.revoke_token()
    with pytest.raises(RakutenError) as err:
        jobs.sync_orders(shop.id)
    assert not err.value.retryable
    db.session.refresh(shop)
    row = shop.addon_row("rakuten")
    assert row.status == ConnectionStatus.ERROR and shop.status == ConnectionStatus.ERROR
    assert "jeton web-service" in shop.last_error and "Error" not in shop.last_error
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0
    result = services.test_connection(shop, "rakuten")
    assert not result.ok and "jeton" in result.message


def test_an_acceptance_whose_answer_was_lost_is_read_back_not_resent(app, emu, rakuten_shop, catalog, clock):
    catalog({"MUG-STD": 3})
    shop = rakuten_shop()
    sale = emu.add_sale([("MUG-STD", "9.50")])
    emu.lose_answer("acceptsale")  # Rakuten accepts, the answer never comes back
    jobs.sync_orders(shop.id)
    order = order_of(sale.purchaseid)
    with pytest.raises(RakutenError) as err:
        jobs.send_decision(order.id, True, "stock alloué")
    assert err.value.ambiguous
    db.session.rollback()
    row = db.session.scalar(sa.select(RakutenItem))
    assert row.pending_action == "acceptsale" and sale.items[0].status == "ACCEPTED"
    out = jobs.send_decision(order.id, True, "stock alloué")
    assert "déjà traité" in out
    assert [q["action"] for q in emu.queries].count("acceptsale") == 1  # never sent twice
    db.session.refresh(row)
    assert row.decision == "accepted" and row.pending_action is None


def test_an_acceptance_refused_because_the_buyer_cancelled_is_read_back(app, emu, rakuten_shop, catalog, clock):
    catalog({"MUG-STD": 3})
    shop = rakuten_shop()
    sale = emu.add_sale([("MUG-STD", "9.50")])
    jobs.sync_orders(shop.id)
    emu.cancel_by_buyer(sale.items[0].itemid)
    order = order_of(sale.purchaseid)
    out = jobs.send_decision(order.id, True, "stock alloué")
    assert "déjà traité" in out
    row = db.session.scalar(sa.select(RakutenItem))
    assert row.status == "CANCELLED" and row.decision == "refused"


def test_the_token_is_never_logged(app, emu, rakuten_shop, catalog, clock, caplog):
    caplog.set_level(logging.DEBUG, logger="oms.connectors.rakuten")
    catalog({"MUG-STD": 3})
    shop = rakuten_shop()
    emu.add_sale([("MUG-STD", "9.50")])
    jobs.sync_orders(shop.id)
    drain(clock)
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("oms.connectors"))
    assert "sales_ws" in logged and DEMO_TOKEN not in logged


def test_a_foreign_api_address_is_refused_before_anything_is_sent(app, emu):
    app.config["OUTBOUND_ALLOW"] = []
    with pytest.raises(RakutenError):
        Client(DEMO_LOGIN, DEMO_TOKEN, current_versions(), base_url="https://evil.example.com")
