"""Signed webhook bodies that are valid HMAC-wise but hostile: nested past any real payload,
``NaN``/``Infinity`` numbers, or larger than the server takes. Refused before storage."""
from __future__ import annotations

import json

from sqlalchemy import func, select

from addons.shopify import sandbox
from addons.shopify.models import ShopifyWebhookInbox
from addons.shopify.oauth import webhook_hmac
from core.extensions import db

from .test_webhooks import paris, shop  # noqa: F401  (fixtures)


def _post(client, emu, body: bytes, webhook_id: str):
    return client.post("/apps/shopify/webhooks", data=body, headers={
        "X-Shopify-Topic": "orders/create", "X-Shopify-Shop-Domain": emu.domain, "X-Shopify-Webhook-Id": webhook_id,
        "Content-Type": "application/json", "X-Shopify-Hmac-Sha256": webhook_hmac(body, sandbox.DEMO_API_SECRET)})


def test_deep_or_non_finite_signed_bodies_refused_before_storage(client, shop, emu):  # noqa: F811
    deep = b'{"id": 1, "note_attributes": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    nan = b'{"id": 2, "total_price": NaN, "line_items": []}'
    inf = b'{"id": 3, "total_price": Infinity, "line_items": []}'
    huge = b'{"id": 4, "total_price": 1e400, "line_items": []}'
    answers = [_post(client, emu, body, f"bad-{n}").status_code for n, body in enumerate((deep, nan, inf, huge))]
    assert answers == [400, 400, 400, 400]
    assert db.session.scalar(select(func.count()).select_from(ShopifyWebhookInbox)) == 0


def test_body_beyond_the_request_limit_is_413(client, shop, emu, app):  # noqa: F811
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    body = json.dumps({"id": 5, "note": "x" * (2 * 1024 * 1024)}).encode()
    assert _post(client, emu, body, "big").status_code == 413
    assert db.session.scalar(select(func.count()).select_from(ShopifyWebhookInbox)) == 0
    # a real order of Shopify's documented size (up to about 1 MB) still fits the default limit
    app.config["MAX_CONTENT_LENGTH"] = 16 * 1024 * 1024
    body = json.dumps({"id": 6, "line_items": [], "note": "x" * 1_000_000}).encode()
    assert _post(client, emu, body, "large-but-fine").status_code == 200
