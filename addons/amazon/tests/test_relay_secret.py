"""The relay secret of the ORDER_CHANGE notifications: encrypted at rest like every other
secret, shown once when the merchant generates it, never again on the shop page."""
from __future__ import annotations

import json
import re

import sqlalchemy as sa

from addons.amazon import jobs
from addons.amazon.models import AmazonSubscription
from core.extensions import db
from tests.fixtures import csrf_token

ARN = "arn:aws:sqs:eu-west-1:123456789012:oms-amazon"


def test_relay_secret_encrypted_and_shown_once(app, emu, amazon_shop, client, login):
    shop = amazon_shop(notification_queue_arn=ARN)
    assert jobs.subscribe_notifications(shop.id, ARN)
    db.session.commit()
    first = db.session.get(AmazonSubscription, shop.id).relay_secret
    raw = db.session.execute(sa.text("SELECT relay_secret FROM amazon_subscription")).scalar_one()
    assert first not in raw and raw.startswith("gAAAA")  # a Fernet token, not the secret

    login(client)
    page = client.get(f"/apps/amazon/shops/{shop.id}").get_data(as_text=True)
    assert first not in page and "Générer un nouveau secret du relais" in page

    res = client.post(f"/apps/amazon/shops/{shop.id}/relay-secret",
                      data={"csrf_token": csrf_token(client, f"/apps/amazon/shops/{shop.id}")})
    assert res.status_code == 200 and res.headers["Cache-Control"] == "no-store"
    shown = re.search(r'id="relay-secret".*?<code>([^<]+)</code>', res.get_data(as_text=True), re.S).group(1)
    db.session.expire_all()
    assert shown == db.session.get(AmazonSubscription, shop.id).relay_secret != first
    assert shown not in client.get(f"/apps/amazon/shops/{shop.id}").get_data(as_text=True)  # once only

    url = f"/apps/amazon/notifications/{shop.id}"
    note = {"NotificationType": "ORDER_CHANGE", "Payload": {"OrderChangeNotification": {}}}
    assert client.post(url, json=note, headers={"X-OMS-Relay-Secret": first}).status_code == 403  # the old one
    answer = client.post(url, json=note, headers={"X-OMS-Relay-Secret": shown})
    assert "secret" not in answer.get_json()["reason"]  # the secret passes; the empty notification does not


def test_relayed_bodies_too_deep_or_not_finite_refused(app, emu, amazon_shop, client):
    shop = amazon_shop(notification_queue_arn=ARN)
    assert jobs.subscribe_notifications(shop.id, ARN)
    db.session.commit()
    secret = db.session.get(AmazonSubscription, shop.id).relay_secret
    url = f"/apps/amazon/notifications/{shop.id}"
    deep = b'{"NotificationType": "ORDER_CHANGE", "Payload": ' + b"[" * 30_000 + b"]" * 30_000 + b"}"
    nan = b'{"NotificationType": "ORDER_CHANGE", "Payload": {"OrderChangeNotification": {"Total": NaN}}}'
    wrapped = json.dumps({"Body": nan.decode()}).encode()  # the SQS envelope of a relay
    for body in (deep, nan, wrapped):
        res = client.post(url, data=body, content_type="application/json", headers={"X-OMS-Relay-Secret": secret})
        assert res.status_code == 400, res.get_data(as_text=True)
