"""Webhook deliveries: verified and stored at once, processed by a job.

Receiving (:func:`receive`) is the connector kit's inbox (:mod:`core.connectors.inbox`)
with Shopify's scheme (:class:`ShopifyInbox`): the HMAC of the raw body checked in constant
time before anything else, the delivery routed to the one shop that proved it owns the
domain (its own app secret verifies the HMAC, or it completed the OAuth install of the
public app), then one insert keyed by ``X-Shopify-Webhook-Id`` (a redelivery inserts
nothing) and the shop's processing job queued in the same transaction.

Processing (:func:`process_pending`) takes the shop's waiting deliveries in arrival order,
each in its own transaction, but for a run of consecutive order deliveries, ingested together
in one (:func:`handle_orders`; one by one should the run fail). Orders go through core intake, which ignores an update older
than what it holds (``updated_at``), so out-of-order deliveries are harmless. Product
deliveries are a signal: the product is read again from Shopify unless the OMS already
imported a version at least as recent. Refunds (an order's ``refunds`` and the
``refunds/create`` topic) become OMS returns, once per refund id.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from core.connectors import ownership
from core.connectors.inbox import Headers, Received, Refused, WebhookInbox
from core.intake import ingest, ingest_many
from core.models import ConnectionStatus, Shop, utcnow

from .client import ShopifyAuthError, ShopifyError, check_domain, gid, normalize_domain, numeric_id
from .connection import (
    ADDON,
    mark_disconnected,
    mark_error,
    own_webhook_secrets,
    shared_webhook_secrets,
    state_for,
)
from .models import ShopifyWebhookInbox
from .normalize import parse_time
from .oauth import verify_webhook
from core.i18n import _

PROCESS_JOB = "addons.shopify.jobs.process_webhooks"
ORDER_TOPICS = ("orders/create", "orders/updated", "orders/cancelled")
PRODUCT_TOPICS = ("products/create", "products/update")


class ShopifyInbox(WebhookInbox):
    """Shopify's scheme: base64 HMAC-SHA256 of the raw body (``X-Shopify-Hmac-Sha256``) with
    the app's secret, the shop's domain in ``X-Shopify-Shop-Domain``, the delivery id in
    ``X-Shopify-Webhook-Id``. A merchant's own app (custom app) signs with the secret of its
    settings; the public app with ``SHOPIFY_API_SECRET`` (and ``SHOPIFY_API_SECRET_PREVIOUS``
    during a rotation), whose deliveries reach only the shop that completed the OAuth install
    for that domain."""

    addon = ADDON
    process_job = PROCESS_JOB
    model = ShopifyWebhookInbox
    delivery_column = "webhook_id"
    fatal = (ShopifyAuthError,)

    @staticmethod
    def _header(headers: Headers, name: str) -> str | None:
        return headers(f"X-Shopify-{name}") or headers(f"shopify-{name}")

    def signature(self, headers: Headers) -> str | None:
        return self._header(headers, "Hmac-Sha256")

    def verify(self, body: bytes, signature: str, secret: str) -> bool:
        return verify_webhook(body, signature, (secret,))

    def account(self, headers: Headers) -> str | None:
        try:
            return check_domain(self._header(headers, "Shop-Domain") or "")
        except ShopifyError:
            raise Refused(_("domaine absent ou invalide"), 401) from None

    def delivery_id(self, headers: Headers, payload: Mapping[str, Any]) -> str:
        return self._header(headers, "Webhook-Id") or self._header(headers, "Event-Id") or ""

    def topic(self, headers: Headers, payload: Mapping[str, Any]) -> str:
        return self._header(headers, "Topic") or ""

    def columns(self, headers: Headers, payload: Mapping[str, Any]) -> dict[str, Any]:
        return {"resource_id": _resource_id((self.topic(headers, payload) or "").strip(), payload),
                "triggered_at": _parse_header_time(self._header(headers, "Triggered-At")),
                "api_version": (self._header(headers, "API-Version") or "")[:16] or None}

    def account_of(self, settings: Mapping[str, Any]) -> str | None:
        return normalize_domain(settings.get("shop_domain") or "") or None

    def own_secrets(self, settings: Mapping[str, Any]) -> tuple[str, ...]:
        return own_webhook_secrets(settings)

    def shared_secrets(self) -> tuple[str, ...]:
        return shared_webhook_secrets()

    def on_fatal(self, shop: Shop, exc: BaseException) -> None:
        mark_error(shop, str(exc))


INBOX = ShopifyInbox()


def forget_targets() -> None:
    """Drop what this process remembers (after the merchant saved new app credentials)."""
    INBOX.forget()


def _resource_id(topic: str, payload: Mapping[str, Any]) -> str | None:
    if topic.startswith(("orders/", "products/")):
        return str(numeric_id(payload.get("id")) or "") or None
    if topic.startswith("refunds/"):
        return str(numeric_id(payload.get("order_id")) or "") or None
    if topic.startswith("customers/"):
        return str((payload.get("customer") or {}).get("id") or "") or None
    return None


def job_id(shop_id: int) -> str:
    return INBOX.job_id(shop_id)


def receive(body: bytes, headers: Headers) -> Received:
    """Verify and store one delivery (the caller commits). ``headers(name)`` reads a header,
    case-insensitively; Shopify's newer un-prefixed names are accepted too."""
    return INBOX.receive(body, headers)


def _parse_header_time(value: str | None) -> datetime | None:
    try:
        return parse_time(value)
    except ValueError:
        return None


# ----------------------------------------------------------------------------- processing
def pending(shop_id: int) -> list[int]:
    return INBOX.pending(shop_id)


def process_pending(shop_id: int, handler: Callable[[Shop, ShopifyWebhookInbox], str],
                    batch: Callable[[Shop, list[ShopifyWebhookInbox]], Any] | None = None) -> tuple[int, list[str]]:
    """Process the shop's waiting deliveries one transaction each, consecutive order
    deliveries together when ``batch`` is given (:func:`handle_orders`); (done, errors)."""
    return INBOX.process_pending(shop_id, handler, batch=batch, batchable=lambda row: row.topic in ORDER_TOPICS)


def handle_orders(shop: Shop, rows: list[ShopifyWebhookInbox], *,
                  normalize_order: Callable[[Shop, dict[str, Any]], Any],
                  note_order: Callable[..., None] | None = None,
                  refunds: Callable[[Shop, list[dict[str, Any]], Any], int] | None = None) -> int:
    """Apply consecutive order deliveries together, as :func:`handle` applies each one: the
    orders ingested in one batch (in arrival order), then each delivery's stock note and
    refunds. Returns how many deliveries were applied."""
    if shop.status == ConnectionStatus.DISCONNECTED:
        return 0
    batch = []
    for row in rows:
        data = normalize_order(shop, row.payload or {})
        if row.triggered_at is not None and (data.updated_at is None or row.triggered_at > data.updated_at):
            data.updated_at = row.triggered_at
        batch.append(data)
    results = ingest_many(shop, batch, source="webhook")
    for row, data, result in zip(rows, batch, results):
        payload = row.payload or {}
        if note_order is not None and not result.stale:
            note_order(shop, payload, created=result.created and data.status != "cancelled",
                       cancelled=not result.created and data.status == "cancelled" and "status" in result.changed)
        if refunds is not None and payload.get("refunds"):
            refunds(shop, list(payload["refunds"]), payload.get("id"))
    return len(rows)


def handle(shop: Shop, row: ShopifyWebhookInbox, *, normalize_order: Callable[[Shop, dict[str, Any]], Any],
           refresh_product: Callable[[Shop, str, datetime | None], Any], unbind: Callable[[Shop, str], Any],
           privacy: dict[str, Callable[[Shop, dict[str, Any]], Any]],
           note_order: Callable[..., None] | None = None,
           refunds: Callable[[Shop, list[dict[str, Any]], Any], int] | None = None) -> str:
    """Apply one delivery to the OMS. ``refunds(shop, rest_refunds, order_id)`` imports
    REST refunds (of the order with that Shopify id, None: each refund's own ``order_id``)."""
    topic, payload = row.topic, row.payload or {}
    if topic == "app/uninstalled":
        mark_disconnected(shop, "Application désinstallée de la boutique Shopify : réinstallez-la pour reprendre "
                                "la synchronisation.")
        state_for(shop).uninstalled_at = utcnow()
        ownership.release(ADDON, shop.id)
        forget_targets()
        return _("désinstallée")
    if topic in privacy:
        privacy[topic](shop, payload)
        return topic
    if shop.status == ConnectionStatus.DISCONNECTED:
        return _("boutique déconnectée : ignoré")
    if topic in ORDER_TOPICS:
        data = normalize_order(shop, payload)
        if row.triggered_at is not None and (data.updated_at is None or row.triggered_at > data.updated_at):
            # payload times have whole seconds; the trigger time is precise (and kept on retries)
            data.updated_at = row.triggered_at
        result = ingest(shop, data, source="webhook")
        if note_order is not None and not result.stale:
            note_order(shop, payload, created=result.created and data.status != "cancelled",
                       cancelled=not result.created and data.status == "cancelled" and "status" in result.changed)
        if refunds is not None and payload.get("refunds"):  # refunds are never undone: even an older payload
            refunds(shop, list(payload["refunds"]), payload.get("id"))
        return "ignorée (plus ancienne)" if result.stale else ("créée" if result.created else "mise à jour")
    if topic == "refunds/create":
        if refunds is None:
            return _("sujet non traité")
        if refunds(shop, [payload], None):
            return _("remboursement importé")
        return _("remboursement ignoré (annulation ou commande inconnue)")
    if topic in PRODUCT_TOPICS:
        refresh_product(shop, gid("Product", payload.get("id", "")), parse_time(payload.get("updated_at")))
        return "produit relu"
    if topic == "products/delete":
        unbind(shop, gid("Product", payload.get("id", "")))
        return _("produit délié")
    return _("sujet non traité")
