"""WooCommerce's webhooks, on core's inbox.

WooCommerce (``WC_Webhook::deliver``) posts the resource as JSON with ``X-WC-Webhook-Source``
(the site's URL), ``-Topic`` (``order.updated``), ``-Resource``, ``-Event``, ``-Signature``
(base64 HMAC-SHA256 of the raw body with the webhook's secret), ``-ID`` (the webhook) and
``-Delivery-ID``. The add-on creates the webhooks itself with a secret of its own, stored
encrypted in the shop's settings, and a delivery URL naming the shop
(``/apps/woocommerce/webhooks/<shop id>``). The signature is checked on the raw body before
anything is read or stored; the delivery is stored once, answered at once and processed by
the job ``process_webhooks``.

The creation ping (``webhook_id=<id>`` as a form, unsigned) is answered 200 by the view and
stores nothing.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import html
from collections.abc import Mapping
from typing import Any

from core.connectors.inbox import Headers, WebhookInbox
from core.extensions import db
from core.intake import ingest
from core.jobs import enqueue
from core.models import Order, Shop
from core import orders as order_flow

from .mapping import normalize
from core.i18n import _


class WooInbox(WebhookInbox):
    addon = "woocommerce"
    process_job = "addons.woocommerce.jobs.process_webhooks"

    def signature(self, headers: Headers) -> str | None:
        return headers("X-WC-Webhook-Signature")

    def verify(self, body: bytes, signature: str, secret: str) -> bool:
        # WooCommerce signs with wp_specialchars_decode( secret ): the HTML entities decoded
        key = html.unescape(secret).encode()
        expected = base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()
        return hmac.compare_digest(expected, signature.strip())

    def delivery_id(self, headers: Headers, payload: Mapping[str, Any]) -> str:
        return headers("X-WC-Webhook-Delivery-ID") or ""

    def topic(self, headers: Headers, payload: Mapping[str, Any]) -> str:
        return headers("X-WC-Webhook-Topic") or ""

    def columns(self, headers: Headers, payload: Mapping[str, Any]) -> dict[str, Any]:
        rid = payload.get("id")
        return {"resource_id": str(rid)[:64] if rid is not None else None}

    def own_secrets(self, settings: Mapping[str, Any]) -> tuple[str, ...]:
        return (settings["webhook_secret"],) if settings.get("webhook_secret") else ()


INBOX = WooInbox()


def is_ping(body: bytes, headers: Headers, form: Mapping[str, str] | None = None) -> bool:
    """WooCommerce's ping on creation: ``webhook_id=<id>`` as a form, with no signature
    (``form``: the parsed form, when the framework already read the body)."""
    if headers("X-WC-Webhook-Signature"):
        return False
    text = body.decode("utf-8", "replace").strip()
    if not text and form is not None:
        text = f"webhook_id={form.get('webhook_id', '')}" if set(form) == {"webhook_id"} else ""
    return text.startswith("webhook_id=") and text.removeprefix("webhook_id=").isdigit()


def handle(shop: Shop, row: Any) -> str:
    """One stored delivery, in its own transaction."""
    payload = row.payload or {}
    resource, _dot, event = row.topic.partition(".")
    if resource == "order":
        if event == "deleted":
            order = db.session.scalar(db.select(Order).where(Order.shop_id == shop.id,
                                                             Order.external_id == str(payload.get("id"))))
            if order is None:
                return _("commande inconnue supprimée : rien à faire")
            if order.status in order_flow.OPEN:
                order_flow.cancel(order, source="woocommerce:webhook", reason=_("supprimée dans WooCommerce"))
                return _("commande %(number)s supprimée dans WooCommerce : annulée", number=order.number)
            return _("commande %(number)s supprimée dans WooCommerce (déjà %(value)s)",
                     number=order.number, value=order.status.value)
        if "line_items" not in payload:
            return _("ignorée (pas une commande)")
        result = ingest(shop, normalize(payload), source="webhook")
        return (_("commande créée") if result.created else _("déjà à jour") if result.stale or not result.changed
                else _("commande mise à jour"))
    if resource == "product":
        enqueue("addons.woocommerce.jobs.import_catalog", shop.id, job_id=f"woocommerce-catalog-{shop.id}",
                unique=True, shop_id=shop.id)
        return _("catalogue à relire")
    return _("ignorée")
