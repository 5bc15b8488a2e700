"""The notification relay through the connector kit's inbox: the shop's secret checked
first, each notification stored once (by its NotificationId), processed by a job."""
from __future__ import annotations

import json

from sqlalchemy import func, select

from addons.amazon import jobs
from addons.amazon.models import AmazonSubscription
from addons.amazon.sandbox import FR, make_order
from core.connectors.models import WebhookDelivery
from core.extensions import db
from core.jobs import run_pending
from core.models import OutboxJob

from .conftest import T0

ARN = "arn:aws:sqs:eu-west-1:123456789012:oms-amazon"
HOUR = 3600


def _stored() -> int:
    return db.session.scalar(select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.addon == "amazon"))


def test_a_notification_is_stored_once_and_processed_by_a_job(app, emu, amazon_shop, catalog, client, clock):
    catalog({"TCB-BLA-S": 10})
    shop = amazon_shop(notification_queue_arn=ARN)
    assert jobs.subscribe_notifications(shop.id, ARN)
    db.session.commit()
    secret = db.session.get(AmazonSubscription, shop.id).relay_secret
    emu.add_order(make_order("402-4444444-4444444", marketplace=FR, items=[("TCB-BLA-S", 1, "19.90")],
                             created=T0.timestamp() - HOUR))
    note = emu.deliveries[-1]
    url = f"/apps/amazon/notifications/{shop.id}"

    wrong = client.post(url, json=note, headers={"X-OMS-Relay-Secret": secret[:-1] + "x"})
    other_type = client.post(url, json={**note, "NotificationType": "ANY_OFFER_CHANGED"},
                             headers={"X-OMS-Relay-Secret": secret})
    not_amazon = client.post(f"/apps/amazon/notifications/{shop.id + 999}", json=note,
                             headers={"X-OMS-Relay-Secret": secret})
    assert [wrong.status_code, other_type.status_code, not_amazon.status_code] == [403, 400, 404]
    assert _stored() == 0

    first = client.post(url, json={"Body": json.dumps(note)}, headers={"X-OMS-Relay-Secret": secret})
    again = client.post(url, json=note, headers={"X-OMS-Relay-Secret": secret})  # the relay retried
    assert first.status_code == again.status_code == 202
    assert first.get_json()["amazonOrderId"] == "402-4444444-4444444"
    assert first.get_json()["duplicate"] is False and again.get_json()["duplicate"] is True
    assert _stored() == 1
    assert db.session.scalar(select(func.count()).select_from(OutboxJob).where(
        OutboxJob.job_id == f"amazon-webhooks-{shop.id}")) == 1

    for _ in range(3):
        db.session.commit()
        run_pending()
    row = db.session.scalar(select(WebhookDelivery))
    assert row.processed_at is not None and row.resource_id == "402-4444444-4444444"
    assert db.session.get(AmazonSubscription, shop.id).received == 1
