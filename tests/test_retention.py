"""Retention: the nightly purge deletes what is past its configured age, in batches, and
keeps the rest (recent rows, the stock ledger and order history by default)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.models import OutboxJob, SyncLog, SyncStatus, utcnow
from core.retention import days, purge
from tests.fixtures import FAKE_ADDONS


@pytest.fixture
def addons():
    return ["alpha", "beta"]


@pytest.fixture
def app_config():
    return {"ADDON_MODULES": FAKE_ADDONS, "RETENTION_BATCH": 2}


def log(shop, status: SyncStatus, age_days: float, func_name: str = "x.y") -> SyncLog:
    entry = SyncLog(shop_id=shop.id, organization_id=shop.organization_id, func=func_name, status=status,
                    started_at=utcnow() - timedelta(days=age_days))
    db.session.add(entry)
    return entry


def test_purge_deletes_old_history_and_keeps_the_rest(app, shop_factory):
    shop = shop_factory("beta")
    for age in (31, 40, 45, 50, 60):  # five old successes: three batches of two
        log(shop, SyncStatus.OK, age, f"ok-old-{age}")
    log(shop, SyncStatus.OK, 29, "ok-recent")
    log(shop, SyncStatus.FAILED, 60, "failed-kept")  # errors stay 90 days
    log(shop, SyncStatus.FAILED, 91, "failed-old")
    log(shop, SyncStatus.INTERRUPTED, 100, "interrupted-old")
    log(shop, SyncStatus.RUNNING, 400, "running-kept")  # never purged while it says running
    db.session.add_all([
        OutboxJob(func="x.failed_old", state="failed", created_at=utcnow() - timedelta(days=8)),
        OutboxJob(func="x.failed_recent", state="failed", created_at=utcnow() - timedelta(days=2)),
        OutboxJob(func="x.pending_old", state="pending", created_at=utcnow() - timedelta(days=30)),
    ])
    db.session.commit()
    assert purge() == {"sync_log_ok": 5, "sync_log_error": 2, "outbox_failed": 1,
                       "webhook_body": 0, "webhook_delivery": 0}
    assert sorted(db.session.scalars(select(SyncLog.func))) == ["failed-kept", "ok-recent", "running-kept"]
    # a pending job is work still to do, whatever its age
    assert sorted(db.session.scalars(select(OutboxJob.func))) == ["x.failed_recent", "x.pending_old"]


def test_kit_inbox_bodies_emptied_then_ids_forgotten_but_never_unprocessed_ones(app, shop_factory):
    from core.connectors.models import WebhookDelivery

    shop = shop_factory("beta")
    now = utcnow()

    def delivery(ident, age, processed=True):
        db.session.add(WebhookDelivery(addon="beta", shop_id=shop.id, delivery_id=ident, topic="t",
                                       payload={"n": ident}, received_at=now - timedelta(days=age),
                                       processed_at=(now - timedelta(days=age)) if processed else None))

    delivery("fresh", 1)
    delivery("old-body", 10)
    delivery("forgotten", 31)
    delivery("waiting", 60, processed=False)
    db.session.commit()
    done = purge()
    assert done["webhook_body"] == 1 and done["webhook_delivery"] == 1
    rows = {d.delivery_id: d.payload for d in db.session.scalars(select(WebhookDelivery))}
    assert rows == {"fresh": {"n": "fresh"}, "old-body": {}, "waiting": {"n": "waiting"}}
    assert purge()["webhook_body"] == 0  # an emptied body is not written again


def test_ages_are_configurable_and_the_ledger_kept_by_default(app, shop_factory):
    from core.models import OrderEvent, StockMovement

    assert days("stock_movement") is None and days("order_event") is None
    shop = shop_factory("beta")
    log(shop, SyncStatus.OK, 3)
    db.session.commit()
    app.config["RETENTION_DAYS"] = {"sync_log_ok": 2}
    done = purge()
    assert done["sync_log_ok"] == 1 and "stock_movement" not in done and "order_event" not in done
    assert db.session.scalar(select(func.count()).select_from(SyncLog)) == 0
    assert db.session.scalar(select(func.count()).select_from(StockMovement)) == 0
    assert db.session.scalar(select(func.count()).select_from(OrderEvent)) == 0
    with pytest.raises(KeyError):
        days("nothing_of_the_sort")


def test_the_purge_is_a_nightly_cron_job(app):
    from core.cron import cron_jobs

    assert "core.retention.purge" in {job.func for job in cron_jobs(app)}
