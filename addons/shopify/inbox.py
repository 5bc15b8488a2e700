"""Webhook deliveries: verified and stored at once, processed by a job.

Receiving (:func:`receive`) does the minimum Shopify's 5-second deadline allows: the HMAC of
the raw body checked in constant time against the shop's app secret(s) before anything
else, then one insert keyed by ``X-Shopify-Webhook-Id`` (a redelivery inserts nothing) and
the shop's processing job queued in the same transaction.

Processing (:func:`process_pending`) takes the shop's waiting deliveries in arrival order,
each in its own transaction. Orders go through core intake, which ignores an update older
than what it holds (``updated_at``), so out-of-order deliveries are harmless. Product
deliveries are a signal: the product is read again from Shopify unless the OMS already
imported a version at least as recent. Refunds (an order's ``refunds`` and the
``refunds/create`` topic) become OMS returns, once per refund id.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import JSON, Text, bindparam, cast, func, select

from core.extensions import db
from core.inputs import checked_json
from core.intake import ingest
from core.jobs import enqueue
from core.models import ConnectionStatus, OutboxJob, Shop, ShopAddon, utcnow

from .client import ShopifyAuthError, ShopifyError, check_domain, gid, normalize_domain, numeric_id
from .connection import ADDON, mark_disconnected, mark_error, state_for, webhook_secrets
from .models import ShopifyShopState, ShopifyWebhookInbox
from .normalize import parse_time
from .oauth import verify_webhook

MAX_ATTEMPTS = 5
PROCESS_JOB = "addons.shopify.jobs.process_webhooks"
ORDER_TOPICS = ("orders/create", "orders/updated", "orders/cancelled")
PRODUCT_TOPICS = ("products/create", "products/update")


@dataclass(frozen=True)
class Received:
    status: int
    stored: int = 0
    duplicate: bool = False
    message: str = ""


def _lookup(domain: str) -> list[tuple[int, dict[str, Any]]]:
    """(shop id, settings with secrets) of the Shopify shops connected to ``domain``."""
    rows = db.session.execute(
        select(ShopAddon.shop_id, ShopAddon.settings, ShopAddon.secrets)
        .where(ShopAddon.addon == ADDON, ShopAddon.shop_id.in_(
            select(ShopifyShopState.shop_id).where(ShopifyShopState.domain == domain)))).all()
    if not rows:  # a shop configured but never synced: find it by its settings
        rows = [r for r in db.session.execute(
            select(ShopAddon.shop_id, ShopAddon.settings, ShopAddon.secrets).join(Shop, Shop.id == ShopAddon.shop_id)
            .where(ShopAddon.addon == ADDON, Shop.addon == ADDON)).all()
                if normalize_domain((r.settings or {}).get("shop_domain") or "") == domain]
    return [(r.shop_id, {**(r.settings or {}), **(r.secrets or {})}) for r in rows]


@dataclass
class _Targets:
    """Who a domain's deliveries are for, remembered for a short while in this process so
    that a delivery costs one insert: a changed secret or a new shop applies within
    ``TARGETS_TTL`` seconds (an unknown domain is looked up again after ``MISS_TTL``)."""

    found: dict[str, tuple[float, list[tuple[int, tuple[str, ...]]]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


TARGETS_TTL = 60.0
MISS_TTL = 5.0


def _candidates(domain: str) -> list[tuple[int, tuple[str, ...]]]:
    cache: _Targets = current_app.extensions.setdefault("shopify_webhook_targets", _Targets())
    now = time.monotonic()
    with cache.lock:
        entry = cache.found.get(domain)
    if entry is not None and entry[0] > now:
        return entry[1]
    targets = [(shop_id, webhook_secrets(conf)) for shop_id, conf in _lookup(domain)]
    with cache.lock:
        cache.found[domain] = (now + (TARGETS_TTL if targets else MISS_TTL), targets)
    return targets


def forget_targets(domain: str | None = None) -> None:
    """Drop what this process remembers (after the merchant saved new app credentials)."""
    cache = current_app.extensions.get("shopify_webhook_targets")
    if cache is not None:
        with cache.lock:
            if domain is None:
                cache.found.clear()
            else:
                cache.found.pop(domain, None)


def _resource_id(topic: str, payload: dict[str, Any]) -> str | None:
    if topic.startswith(("orders/", "products/")):
        return str(numeric_id(payload.get("id")) or "") or None
    if topic.startswith("refunds/"):
        return str(numeric_id(payload.get("order_id")) or "") or None
    if topic.startswith("customers/"):
        return str((payload.get("customer") or {}).get("id") or "") or None
    return None


_STATEMENTS: dict[str, Any] = {}
_COLUMNS = ("shop_id", "webhook_id", "topic", "received_at", "resource_id", "triggered_at", "api_version", "attempts")


def _insert_statement() -> Any:
    """The inbox insert, built and compiled once per dialect; a redelivery inserts nothing.

    On PostgreSQL the payload is stored as the raw body Shopify signed (cast to JSON, not
    parsed and re-serialised) and the same statement says whether the shop's processing
    job is already waiting, so a delivery to a busy shop is one statement."""
    dialect = db.engine.dialect.name
    if dialect not in _STATEMENTS:
        table = ShopifyWebhookInbox.__table__
        values: dict[str, Any] = {c: bindparam(c) for c in _COLUMNS}
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert

            values["payload"] = cast(bindparam("raw", type_=Text), JSON)
            waiting = (select(func.count()).select_from(OutboxJob)
                       .where(OutboxJob.job_id == bindparam("job_id"), OutboxJob.state == "pending")
                       .scalar_subquery())
            returning: tuple[Any, ...] = (table.c.id, waiting)
        else:
            from sqlalchemy.dialects.sqlite import insert

            values["payload"] = bindparam("payload", type_=JSON)
            returning = (table.c.id,)
        _STATEMENTS[dialect] = (insert(table).values(values)
                                .on_conflict_do_nothing(index_elements=["shop_id", "webhook_id"])
                                .returning(*returning))
    return _STATEMENTS[dialect]


def job_id(shop_id: int) -> str:
    return f"shopify-webhooks-{shop_id}"


def _store(values: dict[str, Any], body: bytes, payload: dict[str, Any]) -> bool:
    """Store one delivery and make sure the shop's processing job is queued; False for a
    redelivery (nothing stored).

    On PostgreSQL the insert commits on its own (autocommit): when the job is already
    waiting that is the whole delivery. Otherwise the job goes in the caller's transaction;
    should the process die in between, the shop's next sync processes the delivery."""
    params = {**values, "job_id": job_id(values["shop_id"])}
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            row = conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                _insert_statement(), {**params, "raw": body.decode()}).first()
    else:
        row = db.session.execute(_insert_statement(), {**params, "payload": payload}).first()
    if row is None:
        return False
    if not (len(row) > 1 and row[1] > 0):
        enqueue(PROCESS_JOB, values["shop_id"], job_id=job_id(values["shop_id"]), unique=True,
                shop_id=values["shop_id"], intervals=(10, 60, 300))
    return True


def receive(body: bytes, headers: Callable[[str], str | None]) -> Received:
    """Verify and store one delivery (the caller commits). ``headers(name)`` reads a header,
    case-insensitively; Shopify's newer un-prefixed names are accepted too."""
    def header(name: str) -> str | None:
        return headers(f"X-Shopify-{name}") or headers(f"shopify-{name}")

    signature = header("Hmac-Sha256")
    try:
        domain = check_domain(header("Shop-Domain") or "")
    except ShopifyError:
        return Received(401, message="domaine absent ou invalide")
    if not signature:
        return Received(401, message="signature absente")
    targets = [shop_id for shop_id, secrets in _candidates(domain) if verify_webhook(body, signature, secrets)]
    if not targets:
        return Received(401, message="signature invalide")
    topic = (header("Topic") or "").strip()
    webhook_id = (header("Webhook-Id") or header("Event-Id") or "").strip()
    if not topic or not webhook_id:
        return Received(400, message="en-têtes X-Shopify-Topic / X-Shopify-Webhook-Id manquants")
    try:
        payload = checked_json(body)  # depth, size and NaN refused before storage
    except ValueError:
        return Received(400, message="corps JSON illisible")
    if not isinstance(payload, dict):
        return Received(400, message="corps JSON inattendu")
    triggered = _parse_header_time(header("Triggered-At"))
    stored = 0
    for shop_id in targets:
        if _store({"shop_id": shop_id, "webhook_id": webhook_id[:64], "topic": topic[:64], "received_at": utcnow(),
                   "resource_id": _resource_id(topic, payload), "triggered_at": triggered,
                   "api_version": (header("API-Version") or "")[:16] or None, "attempts": 0}, body, payload):
            stored += 1
    return Received(200, stored=stored, duplicate=stored == 0)


def _parse_header_time(value: str | None) -> datetime | None:
    try:
        return parse_time(value)
    except ValueError:
        return None


# ----------------------------------------------------------------------------- processing
def pending(shop_id: int) -> list[int]:
    return list(db.session.scalars(select(ShopifyWebhookInbox.id).where(
        ShopifyWebhookInbox.shop_id == shop_id, ShopifyWebhookInbox.processed_at.is_(None),
        ShopifyWebhookInbox.attempts < MAX_ATTEMPTS).order_by(ShopifyWebhookInbox.id)))


def process_pending(shop_id: int, handler: Callable[[Shop, ShopifyWebhookInbox], str]) -> tuple[int, list[str]]:
    """Process the shop's waiting deliveries one transaction each; (done, errors)."""
    done, errors = 0, []
    for row_id in pending(shop_id):
        row = db.session.get(ShopifyWebhookInbox, row_id)
        shop = db.session.get(Shop, shop_id)
        if row is None or shop is None or row.processed_at is not None:
            continue
        topic = row.topic
        try:
            handler(shop, row)
            row.processed_at = utcnow()
            row.last_error = None
            db.session.commit()
            done += 1
        except ShopifyAuthError as exc:
            db.session.rollback()
            shop = db.session.get(Shop, shop_id)
            assert shop is not None
            mark_error(shop, str(exc))
            db.session.commit()
            raise
        except Exception as exc:  # noqa: BLE001 - one bad delivery must not block the others
            db.session.rollback()
            row = db.session.get(ShopifyWebhookInbox, row_id)
            assert row is not None
            row.attempts += 1
            row.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
            db.session.commit()
            errors.append(f"{topic} #{row_id} : {exc}")
    return done, errors


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
        return "désinstallée"
    if topic in privacy:
        privacy[topic](shop, payload)
        return topic
    if shop.status == ConnectionStatus.DISCONNECTED:
        return "boutique déconnectée : ignoré"
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
            return "sujet non traité"
        if refunds(shop, [payload], None):
            return "remboursement importé"
        return "remboursement ignoré (annulation ou commande inconnue)"
    if topic in PRODUCT_TOPICS:
        refresh_product(shop, gid("Product", payload.get("id", "")), parse_time(payload.get("updated_at")))
        return "produit relu"
    if topic == "products/delete":
        unbind(shop, gid("Product", payload.get("id", "")))
        return "produit délié"
    return "sujet non traité"
