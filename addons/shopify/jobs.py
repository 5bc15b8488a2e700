"""Shopify background jobs (module-level functions taking ids).

A revoked or expired token (401) puts the shop in error with a French message on the shop
and its add-on row (the catalogue shows it). The periodic sync then stops there; the push
jobs raise so that the job layer retries them, once the merchant has reinstalled.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Text, cast, delete, select, update

from core.connectors.poller import Cursor, PollResult, Poller
from core.extensions import db
from core.intake import ingest_many
from core.jobs import enqueue, out_of_time, run_again
from core.retention import cutoff, purge_batches
from core.stock import sync_off
from core.syncs import Progress
from core.models import ConnectionStatus, Order, Product, Shipment, Shop, Variant, VariantBinding, utcnow
from core.types import NormalizedOrder

from . import catalog, fulfillment, inventory, locations, privacy, refunds
from .checks import check_connection as _check
from .client import ShopifyAuthError, ShopifyClient, ShopifyError, ShopifyUserErrors, gid, numeric_id
from .connection import ADDON, client_for, mark_connected, mark_error, state_for
from .graphql import (
    ORDER_CANCEL,
    ORDER_LINE_ITEMS,
    ORDERS,
    ORDERS_PAGE,
    REFUND,
    REFUND_RETURN,
    TOPICS,
    WEBHOOK_SUBSCRIBE,
    WEBHOOK_SUBSCRIPTIONS,
    topic_enum,
)
from .inbox import handle, handle_orders, pending, process_pending
from .models import ShopifyWebhookInbox
from .normalize import Lookup, normalize, parse_time, rest_from_graphql
from core.i18n import _, joined

#: the reconciliation poll re-reads this much before its cursor (clock skew, late indexing)
OVERLAP = timedelta(minutes=5)
#: the first poll after install: open, unfulfilled orders of the last days
INITIAL_LOOKBACK = timedelta(days=7)


def _shop(shop_id: int) -> Shop:
    shop = db.session.get(Shop, shop_id)
    if shop is None or shop.addon != ADDON:
        raise LookupError(_("boutique Shopify %(shop_id)s introuvable", shop_id=shop_id))
    return shop


def _auth_failed(shop_id: int, exc: ShopifyAuthError) -> Shop:
    db.session.rollback()
    shop = _shop(shop_id)
    mark_error(shop, str(exc))
    db.session.commit()
    return shop


def lookup(shop: Shop) -> Lookup:
    def sku_for_variant(variant_id: str) -> str | None:
        return db.session.scalar(select(Variant.sku).join(VariantBinding, VariantBinding.variant_id == Variant.id)
                                 .where(VariantBinding.shop_id == shop.id,
                                        VariantBinding.external_id == gid("ProductVariant", variant_id)))

    def warehouse(location_id: str, name: str) -> str | None:
        return locations.warehouse_code_for(shop, location_id, name)

    return Lookup(sku_for_variant, warehouse)


def normalize_order(shop: Shop, payload: dict[str, Any]) -> NormalizedOrder:
    return normalize(payload, lookup(shop))


# ----------------------------------------------------------------------------- connection and install
def check_connection(shop_id: int) -> str:
    """Ask Shopify for the shop's identity with its token; raises on failure."""
    shop = _shop(shop_id)
    result = _check(shop.addon_settings(ADDON), shop)
    if not result.ok:
        raise ShopifyError(result.message)
    shop.last_sync_at = utcnow()
    return result.message


def subscribe_webhooks(client: ShopifyClient, uri: str) -> int:
    """Subscribe the shop's webhooks to ``uri`` (those already there are kept)."""
    existing = set()
    for page in client.paginate(WEBHOOK_SUBSCRIPTIONS, {}, "webhookSubscriptions", page_size=50):
        existing |= {(node["topic"], node["uri"]) for node in page}
    created = 0
    for topic in TOPICS:
        if (topic_enum(topic), uri) in existing:
            continue
        client.mutate(WEBHOOK_SUBSCRIBE, {"topic": topic_enum(topic),
                                          "subscription": {"uri": uri, "format": "JSON"}}, "webhookSubscriptionCreate")
        created += 1
    return created


def install(shop_id: int, webhook_url: str) -> str:
    """After the OAuth install: subscribe the webhooks, then the first full sync."""
    return joined(" ; ", [resubscribe_webhooks(shop_id, webhook_url), sync_shop(shop_id)])


def resubscribe_webhooks(shop_id: int, webhook_url: str) -> str:
    """The diagnostic's "Réenregistrer": the missing webhook subscriptions created again."""
    shop = _shop(shop_id)
    try:
        with client_for(shop) as client:
            created = subscribe_webhooks(client, webhook_url)
    except ShopifyAuthError as exc:
        _auth_failed(shop_id, exc)
        raise
    state_for(shop).webhook_url = webhook_url
    db.session.commit()
    return _("%(created)s abonnement(s) webhook créé(s)", created=created)


# ----------------------------------------------------------------------------- reconciliation
def poll_orders(shop: Shop, client: ShopifyClient) -> PollResult:
    """Orders updated since the cursor (minus an overlap), page by page, oldest change first;
    the cursor follows the committed pages (the connector kit's poller), so a backlog longer
    than a job's time limit is read over several runs, never from the start again."""
    shop_id = shop.id

    def fetch(since: datetime | None):
        if since is not None:
            query = f"updated_at:>='{since.strftime('%Y-%m-%dT%H:%M:%SZ')}'"
        else:
            first = utcnow() - INITIAL_LOOKBACK
            query = f"updated_at:>='{first.strftime('%Y-%m-%dT%H:%M:%SZ')}' status:open fulfillment_status:unfulfilled"
        return client.paginate(ORDERS, {"query": query}, "orders", page_size=ORDERS_PAGE)

    def store_page(page: list[dict]) -> None:
        shop = _shop(shop_id)
        batch = []
        for node in page:
            items = list((node.get("lineItems") or {}).get("nodes") or [])
            info = (node.get("lineItems") or {}).get("pageInfo") or {}
            while info.get("hasNextPage"):
                more = ((client.graphql(ORDER_LINE_ITEMS, {"id": node["id"], "first": 50,
                                                           "after": info.get("endCursor")})
                         .get("order") or {}).get("lineItems") or {})
                items += more.get("nodes") or []
                info = more.get("pageInfo") or {}
            batch.append(normalize_order(shop, rest_from_graphql(node, items)))
        ingest_many(shop, batch, source="poll")
        db.session.commit()
        shop = _shop(shop_id)
        for node in page:
            reconcile_order(shop, client, node)

    def load() -> datetime | None:
        cursor = _shop(shop_id).sync_cursor
        return parse_time(cursor) if cursor else None

    def save(when: datetime) -> None:
        _shop(shop_id).sync_cursor = when.isoformat()

    # the pages come oldest change first (sortKey UPDATED_AT): a run cut short resumes after them
    poller = Poller(cursor=Cursor(load, save), fetch=fetch, handle=store_page, commit=db.session.commit,
                    overlap=OVERLAP, now=utcnow, reached=lambda page: parse_time(page[-1].get("updatedAt")),
                    stop_when=out_of_time)
    return poller.run()


def refund_reasons(client: ShopifyClient) -> refunds.ReasonLookup:
    """Shopify's reasons for the return a refund closes. A token without the
    ``read_returns`` scope (an app installed before it was asked) gets none: the refund
    is still imported, with the default reason."""
    def lookup(refund_id: str) -> list[str]:
        try:
            found = client.graphql(REFUND_RETURN, {"id": gid("Refund", refund_id)}).get("refund") or {}
        except ShopifyAuthError:
            raise
        except ShopifyError as exc:
            if exc.retryable:
                raise
            return []
        items = ((found.get("return") or {}).get("returnLineItems") or {}).get("nodes") or []
        return [str(item.get("returnReason")) for item in items for _ in range(max(int(item.get("quantity") or 1), 1))]

    return lookup


def reconcile_order(shop: Shop, client: ShopifyClient, node: dict[str, Any]) -> None:
    """What the poll reads besides the order itself: Shopify Payments fees and the refunds
    not imported yet (read one by one: a poll usually finds none)."""
    order = refunds.order_of(shop, node.get("id"))
    if order is None:
        return
    refunds.record_fees(order, refunds.fees_from_graphql(node.get("transactions") or []))
    for ref in node.get("refunds") or []:
        ref_id = str(numeric_id(ref.get("id")))
        if refunds.known(shop, ref_id) is not None:
            continue
        found = client.graphql(REFUND, {"id": ref["id"]}).get("refund")
        if found:
            refunds.import_refund(shop, order, refunds.from_graphql(found), refund_reasons(client))


def import_webhook_refunds(shop: Shop, rest_refunds: list[dict[str, Any]], order_id: Any) -> int:
    """Refunds of a webhook delivery (REST); Shopify is asked only about a new refund: the
    reasons when it brings goods back, the amount when paid in another currency."""
    order = refunds.order_of(shop, order_id) if order_id is not None else None
    if order_id is not None and order is None:
        return 0

    def reasons(refund_id: str) -> list[str]:
        with client_for(shop) as client:
            return refund_reasons(client)(refund_id)

    def exact(refund_id: str) -> refunds.RefundData | None:
        with client_for(shop) as client:
            found = client.graphql(REFUND, {"id": gid("Refund", refund_id)}).get("refund")
        return refunds.from_graphql(found) if found else None

    return refunds.import_rest_refunds(shop, rest_refunds, order, reasons, exact)


def sync_shop(shop_id: int) -> str:
    """The shop's periodic sync: locations, products changed since the last import, orders
    changed since the cursor. Catches whatever webhooks missed."""
    shop = _shop(shop_id)
    if shop.status == ConnectionStatus.DISCONNECTED:
        return _("boutique déconnectée (application désinstallée) : rien à synchroniser")
    if pending(shop_id):  # deliveries whose job was lost (crash between store and queue)
        process_webhooks(shop_id)
        shop = _shop(shop_id)
    try:
        with client_for(shop) as client:
            state = state_for(shop)
            if not state.currency:
                state.currency = client.shop_info().currency
            locations.sync_locations(shop, client)
            db.session.commit()
            first_import = state.products_synced_at is None
            started = utcnow()
            products = catalog.import_products(shop, client, state.currency or "EUR", since=state.products_synced_at,
                                               progress=Progress.for_job("products") if first_import else None)
            state = state_for(_shop(shop_id))
            state.products_synced_at = started
            db.session.commit()
            polled = poll_orders(_shop(shop_id), client)
    except ShopifyAuthError as exc:
        _auth_failed(shop_id, exc)
        return _("échec : %(exc)s", exc=exc)
    shop = _shop(shop_id)
    mark_connected(shop)
    shop.last_sync_at = utcnow()
    if first_import:
        enqueue("addons.shopify.jobs.push_stock", shop.id, None, job_id=f"shopify-stock-all-{shop.id}", unique=True,
                shop_id=shop.id)
    if polled.more:  # a backlog larger than one run: the next one goes on at once
        run_again()
    db.session.commit()
    return joined(" ; ", [products.summary(), _("%(orders)s commande(s) relue(s)", orders=polled.items)]
                  + ([_("la suite est importée par l'exécution suivante")] if polled.more else []))


def import_products(shop_id: int, full: bool = False) -> str:
    """Import Shopify's products (all of them with ``full``, else those changed since the last import)."""
    shop = _shop(shop_id)
    try:
        with client_for(shop) as client:
            state = state_for(shop)
            if not state.currency:
                state.currency = client.shop_info().currency
            started = utcnow()
            result = catalog.import_products(shop, client, state.currency or "EUR",
                                             since=None if full else state.products_synced_at,
                                             progress=Progress.for_job("products"))
    except ShopifyAuthError as exc:
        _auth_failed(shop_id, exc)
        raise
    state_for(_shop(shop_id)).products_synced_at = started
    db.session.commit()
    return result.summary()


# ----------------------------------------------------------------------------- webhooks
def _refresh_product(shop: Shop, product_gid: str, updated_at: Any) -> None:
    known = catalog.known_product_version(shop, product_gid)
    if known is not None and updated_at is not None and updated_at <= known:
        return  # a late delivery: a newer version is already imported
    with client_for(shop) as client:
        remote = catalog.fetch_product(client, product_gid)
    if remote is None:
        catalog.unbind_product(shop, product_gid)
        return
    catalog.upsert_product(shop, remote, state_for(shop).currency or "EUR")


PRIVACY = {"customers/data_request": privacy.data_request, "customers/redact": privacy.customer_redact,
           "shop/redact": privacy.shop_redact}


def process_webhooks(shop_id: int) -> str:
    """Apply the shop's waiting webhook deliveries (in arrival order)."""
    handler = partial(handle, normalize_order=normalize_order, refresh_product=_refresh_product,
                      unbind=catalog.unbind_product, privacy=PRIVACY, note_order=inventory.note_order,
                      refunds=import_webhook_refunds)
    orders = partial(handle_orders, normalize_order=normalize_order, note_order=inventory.note_order,
                     refunds=import_webhook_refunds)
    done, errors = process_pending(shop_id, handler, batch=orders)
    if errors:
        raise RuntimeError(_("%(errors)s livraison(s) en échec (nouvel essai automatique) : %(items)s",
                             errors=len(errors), items=' ; '.join(errors[:5])))
    return _("%(done)s livraison(s) traitée(s)", done=done)


def purge_inbox() -> int:
    """Processed deliveries hold personal data: their body is emptied after the
    ``webhook_body`` retention (7 days), their row (the delivery id, so that a redelivery is
    still recognised) deleted after ``webhook_id`` (30 days). Returns the rows touched."""
    now = utcnow()
    touched = 0
    body_limit, id_limit = cutoff("webhook_body", now), cutoff("webhook_id", now)
    if id_limit is not None:
        touched += purge_batches(ShopifyWebhookInbox, ShopifyWebhookInbox.processed_at.is_not(None),
                                 ShopifyWebhookInbox.processed_at < id_limit)
    if body_limit is not None:
        kept = cast(ShopifyWebhookInbox.payload, Text) != "{}"
        while True:
            ids = db.session.scalars(select(ShopifyWebhookInbox.id).where(
                ShopifyWebhookInbox.processed_at.is_not(None), ShopifyWebhookInbox.processed_at < body_limit,
                kept).order_by(ShopifyWebhookInbox.id).limit(1000)).all()
            if not ids:
                break
            db.session.execute(update(ShopifyWebhookInbox).where(ShopifyWebhookInbox.id.in_(ids))
                               .values(payload={}).execution_options(synchronize_session=False))
            db.session.commit()
            touched += len(ids)
    return touched


# ----------------------------------------------------------------------------- OMS → Shopify
def _live_shop(shop_id: int) -> Shop | None:
    shop = _shop(shop_id)
    return None if shop.status == ConnectionStatus.DISCONNECTED else shop


def push_stock(shop_id: int, variant_ids: list[int] | None = None) -> str:
    """Push the current sellable figures of these variants (all bound ones with None)."""
    shop = _live_shop(shop_id)
    if shop is None:
        return _("boutique déconnectée : stock non envoyé")
    if off := sync_off(shop):
        return off
    try:
        with client_for(shop) as client:
            sent = inventory.push(shop, client, variant_ids)
    except ShopifyAuthError as exc:
        _auth_failed(shop_id, exc)
        raise
    return _("%(sent)s quantité(s) mise(s) à jour sur Shopify", sent=sent)


def push_product(shop_id: int, product_id: int) -> str:
    """Create or update an OMS product in Shopify, then send its stock."""
    shop = _live_shop(shop_id)
    product = db.session.get(Product, product_id)
    if shop is None or product is None or product.organization_id != shop.organization_id:
        return _("produit ou boutique introuvable")
    try:
        with client_for(shop) as client:
            product_gid, bound = catalog.push_product(shop, client, product)
            db.session.commit()
            sent = inventory.push(_shop(shop_id), client, bound) if bound and not sync_off(shop) else 0
    except ShopifyAuthError as exc:
        _auth_failed(shop_id, exc)
        raise
    return _("produit %(product_gid)s publié (%(bound)s variante(s), %(sent)s quantité(s) envoyée(s))",
             product_gid=product_gid, bound=len(bound), sent=sent)


def cancel_order(shop_id: int, order_id: int) -> str:
    """The merchant cancelled a Shopify order in the OMS: cancel it on Shopify too (refund,
    restock, customer notified)."""
    shop = _live_shop(shop_id)
    order = db.session.get(Order, order_id)
    if shop is None or order is None or order.shop_id != shop_id:
        return _("boutique déconnectée ou commande introuvable")
    try:
        with client_for(shop) as client:
            result = client.graphql(ORDER_CANCEL, {"orderId": gid("Order", order.external_id),
                                                   "staffNote": f"Annulée dans l'OMS ({order.number})"})
    except ShopifyAuthError as exc:
        _auth_failed(shop_id, exc)
        raise
    errors = (result.get("orderCancel") or {}).get("orderCancelUserErrors") or []
    if errors:
        raise ShopifyUserErrors("orderCancel", errors)
    return _("commande %(number)s annulée sur Shopify", number=order.number)


def push_fulfillment(shop_id: int, shipment_id: int) -> str:
    """Send a shipment's tracking to Shopify (fulfillment with customer notification)."""
    shop = _live_shop(shop_id)
    shipment = db.session.get(Shipment, shipment_id)
    if shop is None or shipment is None:
        return _("boutique déconnectée ou expédition introuvable")
    try:
        with client_for(shop) as client:
            return fulfillment.push(shop, client, shipment)
    except ShopifyAuthError as exc:
        _auth_failed(shop_id, exc)
        raise
