"""WooCommerce's jobs: module-level functions taking ids. A retryable WooError (outage, 429)
escapes so the job queue tries again later and the sync log shows it; refused credentials also
put the shop in error with WooCommerce's reason, in French, without switching its sync off."""
from __future__ import annotations

import os
import secrets as secrets_module
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from core import stock
from core.connectors.poller import Cursor, Poller
from core.extensions import db
from core.intake import ingest_many
from core.jobs import enqueue
from core.models import ConnectionStatus, Order, Shipment, Shop, Variant, utcnow
from core.orders import shipped_quantity
from core.services import save_settings
from core.stock import sync_off
from core.syncs import enqueue_shop_sync

from . import mapping
from .client import Client, WooError
from .inbox import INBOX, handle
from .models import WoocommerceListing, WoocommerceState, WoocommerceTracking, WoocommerceWebhook
from core.i18n import _, joined

ADDON = "woocommerce"
#: how far back the first import reads, unless the settings say otherwise
DEFAULT_IMPORT_DAYS = 30
OVERLAP = timedelta(minutes=10)
TOO_LARGE = "woocommerce_rest_request_entity_too_large"


# ----------------------------------------------------------------------------- helpers
def _shop(shop_id: int) -> Shop:
    shop = db.session.get(Shop, shop_id)
    if shop is None:
        raise LookupError(_("boutique %(shop_id)s introuvable", shop_id=shop_id))
    return shop


def client_for(shop: Shop, **options: Any) -> Client:
    sleep = current_app.config.get("WOOCOMMERCE_SLEEP")
    if sleep is not None:
        options.setdefault("sleep", sleep)
    return Client.from_settings(shop.addon_settings(ADDON), shop_id=shop.id, **options)


def state_of(shop: Shop) -> WoocommerceState:
    state = db.session.get(WoocommerceState, shop.id)
    if state is None:
        state = WoocommerceState(shop_id=shop.id, batch_limit=100)
        db.session.add(state)
        db.session.flush()
    return state


def remember_auth(shop: Shop, client: Client) -> None:
    """The store strips the Authorization header: from now on, the keys go in the query."""
    if client.switched_to_query:
        save_settings(shop, ADDON, {"auth_in_query": True}, set())


def mark_error(shop_id: int, exc: WooError) -> None:
    db.session.rollback()
    shop = _shop(shop_id)
    row = shop.addon_row(ADDON)
    if row is not None:
        row.status, row.last_error, row.last_checked_at = ConnectionStatus.ERROR, str(exc), utcnow()
    shop.status, shop.last_error = ConnectionStatus.ERROR, str(exc)
    db.session.commit()


def _guarded(shop_id: int, work):
    shop = _shop(shop_id)
    client = client_for(shop)
    try:
        out = work(shop, client)
    except WooError as exc:
        if exc.credentials:
            mark_error(shop_id, exc)
        raise
    remember_auth(shop, client)
    row = shop.addon_row(ADDON)
    if row is not None and row.status == ConnectionStatus.ERROR:
        row.status, row.last_error = ConnectionStatus.CONNECTED, None
        shop.status, shop.last_error = ConnectionStatus.CONNECTED, None
    db.session.commit()
    return out


def webhook_url(shop: Shop) -> str:
    root = current_app.config.get("PUBLIC_URL") or f"http://127.0.0.1:{os.environ.get('PORT', '5000')}"
    return f"{root.rstrip('/')}/apps/woocommerce/webhooks/{shop.id}"


# ----------------------------------------------------------------------------- orders
def sync_orders(shop_id: int) -> str:
    """Import the orders modified since the cursor (minus the overlap), in GMT
    (``modified_after`` + ``dates_are_gmt=true``), 100 a page, every page of
    ``X-WP-TotalPages``; each page committed, the cursor moved after the last one."""

    def work(shop: Shop, client: Client) -> str:
        days = int(shop.addon_settings(ADDON).get("import_days") or DEFAULT_IMPORT_DAYS)

        def pages(since: datetime | None):
            start = since or utcnow() - timedelta(days=days)
            params = {"modified_after": mapping.gmt_param(start), "dates_are_gmt": "true",
                      "orderby": "id", "order": "asc"}
            for _n, items, _total in client.pages("/orders", params):
                yield items

        def save(when: datetime) -> None:
            shop.sync_cursor, shop.last_sync_at = when.isoformat(), utcnow()

        cursor = Cursor(load=lambda: datetime.fromisoformat(shop.sync_cursor) if shop.sync_cursor else None,
                        save=save)
        result = Poller(cursor, pages, lambda page: ingest_many(shop, [mapping.normalize(o) for o in page],
                                                               source="poll"),
                        db.session.commit, overlap=OVERLAP, now=utcnow).run()
        return _("%(items)s commande(s) lue(s) sur %(pages)s page(s)", items=result.items, pages=result.pages)

    return _guarded(shop_id, work)


def reconcile(shop_id: int) -> str:
    """Every 15 minutes beside the webhooks: the webhooks checked (re-enabled if WooCommerce
    disabled them), then the orders modified since the last poll read again."""
    checked = ensure_webhooks(shop_id)
    return joined(" ; ", [checked, sync_orders(shop_id)])


def reconcile_all() -> int:
    """The cron entry: queue each connected WooCommerce shop's reconciliation."""
    shops = db.session.scalars(select(Shop).where(Shop.addon == ADDON, Shop.status.in_(
        [ConnectionStatus.CONNECTED, ConnectionStatus.ERROR]))).all()
    for shop in shops:
        enqueue("addons.woocommerce.jobs.reconcile", shop.id, job_id=f"woocommerce-reconcile-{shop.id}",
                unique=True, shop_id=shop.id)
    db.session.commit()
    return len(shops)


def process_webhooks(shop_id: int) -> str:
    done, errors = INBOX.process_pending(shop_id, handle)
    if errors:
        return _("%(done)s traitée(s) ; %(errors)s en erreur", done=done, errors=len(errors))
    return _("%(done)s traitée(s)", done=done)


def cancel_order(shop_id: int, order_id: int) -> str:
    """An order cancelled in the OMS: ``PUT /orders/{id} {"status": "cancelled"}`` (WooCommerce
    restores its own stock for orders that had reduced it)."""

    def work(shop: Shop, client: Client) -> str:
        order = db.session.get(Order, order_id)
        remote = client.order(order.external_id)
        if remote.get("status") in ("cancelled", "refunded", "trash"):
            return _("%(number)s déjà %(status)s dans WooCommerce", number=order.number, status=remote['status'])
        client.update_order(order.external_id, {"status": "cancelled"})
        return _("%(number)s annulée dans WooCommerce", number=order.number)

    return _guarded(shop_id, work)


# ----------------------------------------------------------------------------- webhooks
def ensure_webhooks(shop_id: int) -> str:
    """The add-on's webhooks on the store: one per topic, pointed at this shop's address,
    ``active``. Created when missing, re-enabled when WooCommerce disabled them (it does after
    5 failed deliveries and never retries): a re-enabled webhook means deliveries were lost, so
    the caller's poll reads the orders again. The list is always read first, so a creation whose
    answer was lost is found instead of being sent twice."""

    def work(shop: Shop, client: Client) -> str:
        settings = shop.addon_settings(ADDON)
        secret = settings.get("webhook_secret")
        new_secret = not secret
        if new_secret:
            secret = secrets_module.token_urlsafe(32)
            save_settings(shop, ADDON, {"webhook_secret": secret}, {"webhook_secret"})
            db.session.commit()
            INBOX.forget()
        url = webhook_url(shop)
        existing = {w["topic"]: w for w in client.webhooks() if w.get("delivery_url") == url}
        rows = {r.topic: r for r in db.session.scalars(select(WoocommerceWebhook).where(
            WoocommerceWebhook.shop_id == shop.id))}
        created = reenabled = 0
        for topic in mapping.TOPICS:
            hook = existing.get(topic)
            if hook is None:
                hook = client.create_webhook({"name": f"OMS {topic}", "topic": topic, "delivery_url": url,
                                              "secret": secret, "status": "active", "api_version": "wp_api_v3"})
                created += 1
            elif hook.get("status") != "active" or new_secret:
                body: dict[str, Any] = {"status": "active"}
                if new_secret:
                    body["secret"] = secret
                if hook.get("status") != "active":
                    reenabled += 1
                hook = client.update_webhook(hook["id"], body)
            row = rows.get(topic)
            if row is None:
                row = WoocommerceWebhook(shop_id=shop.id, topic=topic, remote_id=hook["id"], reenabled=0)
                db.session.add(row)
            if existing.get(topic) is not None and existing[topic].get("status") != "active":
                row.reenabled = (row.reenabled or 0) + 1
            row.remote_id, row.status, row.checked_at = hook["id"], hook.get("status", "active"), utcnow()
        state = state_of(shop)
        state.webhooks_checked_at = utcnow()
        note = []
        if created:
            note.append(_("%(created)s webhook(s) créé(s)", created=created))
        if reenabled:
            note.append(_("%(reenabled)s webhook(s) désactivé(s) par WooCommerce réactivé(s) ; commandes relues",
                          reenabled=reenabled))
        state.webhooks_note = summary = joined(" ; ", note) if note else _("webhooks actifs")
        if reenabled:  # deliveries were lost while it was disabled: read the orders again
            enqueue_shop_sync(shop)
        return summary

    return _guarded(shop_id, work)


# ----------------------------------------------------------------------------- catalog
def import_catalog(shop_id: int) -> str:
    """The store's products and variations, matched to the OMS variants by SKU, then barcode
    (``global_unique_id``); the unmatched ones are listed on the shop's page."""

    def work(shop: Shop, client: Client) -> str:
        seen: set[tuple[int, int]] = set()
        rows = {(r.product_id, r.variation_id): r for r in db.session.scalars(select(WoocommerceListing).where(
            WoocommerceListing.shop_id == shop.id))}
        found: list[tuple[int, int, dict[str, Any], str]] = []
        for _n, products, _t in client.pages("/products", {"status": "any"}):
            for product in products:
                if product.get("type") == "variable":
                    for var in client.variations(product["id"]):
                        title = product["name"] + " — " + " / ".join(a.get("option", "") for a in var.get("attributes")
                                                                   or [])
                        found.append((product["id"], var["id"], var, title))
                elif product.get("type") in ("simple", None):
                    found.append((product["id"], 0, product, product.get("name", "")))
        skus = {item.get("sku") for _p, _v, item, _t in found if item.get("sku")}
        barcodes = {item.get("global_unique_id") for _p, _v, item, _t in found if item.get("global_unique_id")}
        by_sku = dict(db.session.execute(select(Variant.sku, Variant.id).where(
            Variant.organization_id == shop.organization_id, Variant.sku.in_(skus or {""}))).all())
        by_barcode = dict(db.session.execute(select(Variant.barcode, Variant.id).where(
            Variant.organization_id == shop.organization_id, Variant.barcode.in_(barcodes or {""}))).all())
        matched = 0
        for pid, vid, item, title in found:
            seen.add((pid, vid))
            row = rows.get((pid, vid))
            if row is None:
                row = WoocommerceListing(shop_id=shop.id, product_id=pid, variation_id=vid)
                db.session.add(row)
            row.sku, row.title = (item.get("sku") or "")[:255], title[:500]
            row.barcode = (item.get("global_unique_id") or None)
            row.stock_quantity = item.get("stock_quantity")
            row.variant_id = by_sku.get(row.sku) or (by_barcode.get(row.barcode) if row.barcode else None) \
                or row.variant_id
            matched += row.variant_id is not None
        for key, row in rows.items():
            if key not in seen:
                db.session.delete(row)
        state_of(shop).catalog_synced_at = utcnow()
        return _("%(found)s article(s) WooCommerce, %(matched)s relié(s) au catalogue, %(value)s à relier",
                 found=len(found), matched=matched, value=len(found) - matched)

    return _guarded(shop_id, work)


# ----------------------------------------------------------------------------- stock
def push_stock(shop_id: int, variant_ids: list[int]) -> str:
    """The sellable figures of these variants (core's pool and channel rule) to the store, in
    batches: ``products/batch`` for simple products, ``products/{id}/variations/batch`` for
    variations; chunks at the limit the store states (100 by default; a store that answers
    ``woocommerce_rest_request_entity_too_large`` gives its own, remembered). Each item's error
    inside the HTTP 200 is kept on its listing and reported by SKU."""

    if off := sync_off(_shop(shop_id)):
        return off

    def work(shop: Shop, client: Client) -> str:
        state = state_of(shop)
        if state.catalog_synced_at is None:
            db.session.commit()
            import_catalog(shop_id)
            shop_ = _shop(shop_id)
            return push_stock_with(shop_, client_for(shop_), variant_ids)
        return push_stock_with(shop, client, variant_ids)

    return _guarded(shop_id, work)


def push_stock_with(shop: Shop, client: Client, variant_ids: list[int]) -> str:
    state = state_of(shop)
    figures = stock.available_to_sell(shop, variant_ids)
    listings = db.session.scalars(select(WoocommerceListing).where(
        WoocommerceListing.shop_id == shop.id, WoocommerceListing.variant_id.in_(list(figures) or [0]))).all()
    groups: dict[str, list[WoocommerceListing]] = defaultdict(list)
    for row in listings:
        path = "/products/batch" if row.variation_id == 0 else f"/products/{row.product_id}/variations/batch"
        groups[path].append(row)
    pushed, failed = 0, []
    for path, rows in sorted(groups.items()):
        rows.sort(key=lambda r: (r.variation_id or r.product_id))
        start = 0
        while start < len(rows):
            chunk = rows[start:start + max(1, state.batch_limit or 100)]
            remote_id = (lambda r: r.variation_id) if path != "/products/batch" else (lambda r: r.product_id)
            body = mapping.stock_updates([(remote_id(r), figures[r.variant_id]) for r in chunk])
            try:
                answer = client.batch(path, body)
            except WooError as exc:
                limit = mapping.batch_limit(str(exc.body.get("message", "")) if isinstance(exc.body, dict) else "")
                if exc.code == TOO_LARGE and limit and limit < len(chunk):
                    state.batch_limit = limit  # the store's own figure, read from its error
                    db.session.commit()
                    continue
                raise
            errors = mapping.batch_errors(answer)
            now = utcnow()
            for r in chunk:
                err = errors.get(remote_id(r))
                if err:
                    r.push_error = err
                    failed.append(f"{r.sku or r.title} : {err}")
                else:
                    r.push_error, r.pushed_quantity, r.pushed_at = None, figures[r.variant_id], now
                    r.stock_quantity = figures[r.variant_id]
                    pushed += 1
            db.session.commit()
            start += len(chunk)
    absent = sorted(set(figures) - {r.variant_id for r in listings})
    parts = [_("%(pushed)s stock(s) envoyé(s)", pushed=pushed)]
    if failed:
        parts.append(_("refusés par WooCommerce : %(items)s", items=" ; ".join(failed)))
    if absent:
        skus = db.session.scalars(select(Variant.sku).where(Variant.id.in_(absent))).all()
        parts.append(_("absents de la boutique : %(skus)s", skus=", ".join(sorted(s for s in skus if s))))
    return joined(" ; ", parts)


def reconcile_stock(shop_id: int) -> str:
    """Nightly: every listed variant's figure sent again (a sale on the store moved it)."""
    shop = _shop(shop_id)
    if off := sync_off(shop):
        return off
    ids = sorted({vid for vid in db.session.scalars(select(WoocommerceListing.variant_id).where(
        WoocommerceListing.shop_id == shop.id, WoocommerceListing.variant_id.is_not(None)))})
    return push_stock(shop_id, ids) if ids else "rien à comparer"


def reconcile_stock_all() -> int:
    shops = db.session.scalars(select(Shop).where(Shop.addon == ADDON, Shop.status == ConnectionStatus.CONNECTED)).all()
    for shop in shops:
        enqueue("addons.woocommerce.jobs.reconcile_stock", shop.id, job_id=f"woocommerce-stock-all-{shop.id}",
                unique=True, shop_id=shop.id)
    db.session.commit()
    return len(shops)


# ----------------------------------------------------------------------------- tracking
def push_tracking(shop_id: int, shipment_id: int) -> str:
    """A parcel left: with Shipment Tracking, one tracking entry (the extension's provider or
    "custom provider + link"); without it, a note to the customer (WooCommerce e-mails it).
    The order becomes ``completed`` once every line has left. What the store already holds (an
    entry or a note with this number, from an attempt whose answer was lost) is read first, so
    nothing is sent twice."""

    def work(shop: Shop, client: Client) -> str:
        shipment = db.session.get(Shipment, shipment_id)
        order = shipment.order
        done = db.session.scalar(select(WoocommerceTracking).where(WoocommerceTracking.shop_id == shop.id,
                                                                   WoocommerceTracking.shipment_id == shipment.id))
        state = state_of(shop)
        number = shipment.tracking_number or ""
        if done is None:
            if state.has_tracking is None:
                state.has_tracking = detect_tracking(client)
            if state.has_tracking:
                known = [t for t in client.trackings(order.external_id) if t.get("tracking_number") == number]
                entry = known[0] if known else client.add_tracking(order.external_id, mapping.tracking_body(
                    shipment.carrier, number, shipment.tracking_url or "", shipment.shipped_at))
                done = WoocommerceTracking(shop_id=shop.id, shipment_id=shipment.id, kind="tracking",
                                           remote_id=str(entry.get("tracking_id", "")))
            else:
                known = [n for n in client.notes(order.external_id) if number and number in (n.get("note") or "")]
                lines = [(sl.order_line.title or sl.order_line.sku, sl.quantity) for sl in shipment.lines]
                note = known[0] if known else client.add_note(order.external_id, mapping.tracking_note(
                    shipment.carrier, number, shipment.tracking_url or "", lines))
                done = WoocommerceTracking(shop_id=shop.id, shipment_id=shipment.id, kind="note",
                                           remote_id=str(note.get("id", "")))
            db.session.add(done)
            db.session.commit()
        all_shipped = all(shipped_quantity(ln) >= ln.quantity for ln in order.lines)
        if all_shipped and not done.completed:
            client.update_order(order.external_id, {"status": "completed"})
            done.completed = True
        return f"{order.number} : suivi {number} ({'extension Shipment Tracking' if done.kind == 'tracking' else 'note au client'})" \
            + (", commande terminée" if done.completed else "")

    return _guarded(shop_id, work)


def detect_tracking(client: Client) -> bool:
    """Whether the store runs the Shipment Tracking extension (its plugin is active)."""
    status = client.system_status()
    return any("woocommerce-shipment-tracking" in str(p.get("plugin", "")) for p in status.get("active_plugins") or [])
