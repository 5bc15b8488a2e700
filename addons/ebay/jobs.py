"""eBay's jobs: module-level functions taking ids. A retryable EbayError (rate limit,
outage) escapes so the job queue tries again later; a refusal is written where the merchant
reads it (the shop's sync log, the order's history, the listing's row)."""
from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, or_, select

from core import orders as order_flow
from core import stock as core_stock
from core.analytics import set_actual_fees
from core.connectors.poller import Cursor, Poller
from core.extensions import db
from core.intake import ingest_many, variant_map
from core.jobs import enqueue
from core.models import ConnectionStatus, Order, Return, Shipment, Shop, utcnow
from core.money import Money

from . import mapping
from . import returns as ebay_returns
from .client import BULK_MIGRATE_MAX, BULK_PRICE_QUANTITY_MAX, ORDERS_PAGE, RETURNS_PAGE, EbayAuthError, EbayClient, EbayError
from .connection import ADDON, account_for, client_for, clock, mark, settings
from .inbox import INBOX, handle
from .models import EbayFulfillment, EbayListing, EbayOrder, EbayReturn, EbayStockPending
from core.i18n import _

OVERLAP = timedelta(minutes=10)
FIRST_IMPORT_DAYS = 30
NOTIFICATION_TOPICS = ("ORDER_CONFIRMATION", "MARKETPLACE_ACCOUNT_DELETION")


def _shop(shop_id: int) -> Shop:
    shop = db.session.get(Shop, shop_id)
    if shop is None or shop.addon != ADDON:
        raise LookupError(f"shop {shop_id} is not an eBay shop")
    return shop


def _now() -> datetime:
    return datetime.fromtimestamp(clock().time(), tz=timezone.utc)


def _auth_failed(shop: Shop, exc: EbayAuthError) -> None:
    """A revoked or expired grant: the shop in error with what to do; the sync stays on."""
    db.session.rollback()
    shop = db.session.get(Shop, shop.id)
    mark(shop, ConnectionStatus.ERROR, str(exc))
    db.session.commit()


# ----------------------------------------------------------------------------- orders in
def record_orders(shop: Shop, orders: list[dict[str, Any]], *, source: str = "poll") -> list[int]:
    """Ingest a page of eBay orders (idempotent) and keep eBay's own facts beside them."""
    if not orders:
        return []
    batch = [mapping.normalize(o) for o in orders]
    results = ingest_many(shop, batch, source=source)
    rows = {r.ebay_order_id: r for r in db.session.scalars(select(EbayOrder).where(
        EbayOrder.shop_id == shop.id, EbayOrder.ebay_order_id.in_([str(o["orderId"]) for o in orders])))}
    for order, data, result in zip(orders, batch, results):
        row = rows.get(str(order["orderId"]))
        if row is None:
            row = EbayOrder(shop_id=shop.id, ebay_order_id=str(order["orderId"]))
            db.session.add(row)
            rows[row.ebay_order_id] = row
        row.order_id = result.order_id
        row.legacy_order_id = order.get("legacyOrderId")
        row.buyer_username = (order.get("buyer") or {}).get("username")
        row.fulfillment_status = order.get("orderFulfillmentStatus")
        row.payment_status = order.get("orderPaymentStatus")
        cancel = order.get("cancelStatus") or {}
        if cancel.get("cancelState") == "IN_PROGRESS" and row.cancel_state != "IN_PROGRESS":
            oms = db.session.get(Order, result.order_id)
            if oms is not None:
                order_flow.record(oms, "channel", _("l'acheteur demande l'annulation de cette commande sur eBay : "
                                                    "acceptez-la ou refusez-la dans le Seller Hub (Commandes › "
                                                    "Annulations)"),
                                  source="ebay")
        row.cancel_state = cancel.get("cancelState")
        row.collected_tax = mapping.collected_vat(order)
        row.refunds = mapping.order_refunds(order)
        row.last_modified = mapping.parse_time(order.get("lastModifiedDate"))
        row.fetched_at = utcnow()
    _note_foreign_listings(shop, orders)
    return [r.order_id for r in results]


def _note_foreign_listings(shop: Shop, orders: list[dict[str, Any]]) -> None:
    """A SKU sold on eBay that the Inventory API does not know is a listing made in the
    Seller Hub (or another tool): its stock cannot be set until it is migrated."""
    account = account_for(shop)
    if account.listings_synced_at is None:
        return
    seen = {ln.get("sku"): ln for o in orders for ln in o.get("lineItems") or [] if ln.get("sku")}
    if not seen:
        return
    known = set(db.session.scalars(select(EbayListing.sku).where(EbayListing.shop_id == shop.id,
                                                                 EbayListing.sku.in_(list(seen)))))
    mapped = variant_map(shop.organization_id, set(seen) - known)
    for sku in sorted(set(seen) - known):
        line = seen[sku]
        db.session.add(EbayListing(shop_id=shop.id, sku=sku, title=(line.get("title") or "")[:255],
                                   variant_id=mapped.get(sku), legacy_item_id=line.get("legacyItemId"),
                                   inventory_api=False, offer_ids=[],
                                   push_error="annonce créée hors de l'API Inventory (Seller Hub) : migrez-la "
                                              "pour que l'OMS gère son stock"))


def order_pages(client: EbayClient, since: datetime, until: datetime | None = None) -> Iterator[list[dict[str, Any]]]:
    """getOrders by lastmodifieddate, 200 per page, every page followed by offset."""
    flt = mapping.orders_filter(since, until)
    offset = 0
    while True:
        page = client.get_orders(flt, limit=ORDERS_PAGE, offset=offset)
        orders = list(page.get("orders") or [])
        yield orders
        offset += len(orders)
        if not orders or not page.get("next") or offset >= int(page.get("total") or 0):
            return


def sync_orders(shop_id: int) -> int:
    """Import the orders eBay changed since the cursor (minus the overlap), page by page,
    each page committed; the cursor moves after the last page."""
    shop = _shop(shop_id)
    client = client_for(shop)
    days = int(settings(shop).get("import_days") or FIRST_IMPORT_DAYS)

    def fetch(since: datetime | None):
        return order_pages(client, since or (_now() - timedelta(days=days)))

    def save(when: datetime) -> None:
        shop.sync_cursor, shop.last_sync_at = when.isoformat(), utcnow()

    cursor = Cursor(load=lambda: datetime.fromisoformat(shop.sync_cursor) if shop.sync_cursor else None, save=save)
    try:
        result = Poller(cursor, fetch, lambda page: record_orders(shop, page), db.session.commit,
                        overlap=OVERLAP, now=_now).run()
    except EbayAuthError as exc:
        _auth_failed(shop, exc)
        raise
    if shop.status != ConnectionStatus.CONNECTED and shop.credentials.get("access_token"):
        mark(shop, ConnectionStatus.CONNECTED)
        db.session.commit()
    return result.items


def fetch_order(shop_id: int, ebay_order_id: str) -> int | None:
    """One order by id (a notification's trigger, a cancellation request)."""
    shop = _shop(shop_id)
    order = client_for(shop).get_order(ebay_order_id)
    ids = record_orders(shop, [order], source="webhook")
    db.session.commit()
    return ids[0] if ids else None


def process_notifications(shop_id: int) -> str:
    done, errors = INBOX.process_pending(shop_id, handle)
    if errors:
        return _("%(done)s notification(s) traitée(s) ; %(errors)s en erreur", done=done, errors=len(errors))
    return _("%(done)s notification(s) traitée(s)", done=done)


# ----------------------------------------------------------------------------- connection extras
def ensure_signing_key(shop: Shop, client: EbayClient) -> dict[str, str]:
    """The seller's Key Management key (Ed25519), created once and kept encrypted."""
    creds = dict(shop.credentials or {})
    key = creds.get("signing_key")
    if key and float(key.get("expirationTime") or 0) > clock().time() + 86400:
        return key
    made = client.create_signing_key("ED25519")
    key = {"signingKeyId": made["signingKeyId"], "jwe": made["jwe"], "privateKey": made["privateKey"],
           "expirationTime": made.get("expirationTime") or 0}
    creds["signing_key"] = key
    shop.credentials = creds
    account_for(shop).signing_key_id = made["signingKeyId"]
    client.signing_key = key
    return key


def subscribe(shop_id: int, endpoint: str) -> str:
    """The shop's notification destination (eBay checks the endpoint with a challenge) and
    its subscriptions; what exists already is reused."""
    shop = _shop(shop_id)
    conf = settings(shop)
    if not conf.get("verification_token"):
        raise EbayError(_("Renseignez le jeton de vérification des notifications dans les réglages."), retryable=False)
    client = client_for(shop)
    account = account_for(shop)
    db.session.commit()  # eBay calls the endpoint back (challenge) before it answers
    destination = next((d for d in client.get_destinations()
                        if (d.get("deliveryConfig") or {}).get("endpoint") == endpoint), None)
    dest_id = destination["destinationId"] if destination else client.create_destination(
        f"oms-{shop.id}", endpoint, conf["verification_token"])
    account.destination_id = dest_id
    existing = {s.get("topicId"): s.get("subscriptionId") for s in client.get_subscriptions()
                if s.get("destinationId") == dest_id}
    subs = dict(existing)
    for topic in NOTIFICATION_TOPICS:
        if topic not in subs:
            subs[topic] = client.create_subscription(topic, dest_id)
    account.subscriptions = subs
    db.session.commit()
    return f"{len(subs)} abonnement(s)"


# ----------------------------------------------------------------------------- listings
def import_listings(shop_id: int) -> int:
    """Every inventory item and its offers on the shop's marketplace, matched to OMS
    variants by SKU."""
    shop = _shop(shop_id)
    client = client_for(shop)
    offset, found = 0, {}
    while True:
        page = client.get_inventory_items(limit=200, offset=offset)
        items = list(page.get("inventoryItems") or [])
        for item in items:
            found[item["sku"]] = item
        offset += len(items)
        if not items or offset >= int(page.get("total") or 0):
            break
    mapped = variant_map(shop.organization_id, set(found))
    rows = {r.sku: r for r in db.session.scalars(select(EbayListing).where(EbayListing.shop_id == shop.id))}
    for sku, item in sorted(found.items()):
        offers = [o for o in client.get_offers(sku) if o.get("marketplaceId") in (None, client.marketplace)]
        row = rows.get(sku) or EbayListing(shop_id=shop.id, sku=sku)
        if row.id is None:
            db.session.add(row)
        row.title = ((item.get("product") or {}).get("title") or "")[:255]
        row.variant_id = mapped.get(sku)
        row.offer_ids = [o["offerId"] for o in offers if o.get("offerId")]
        row.inventory_api = True
        price = next(((o.get("pricingSummary") or {}).get("price") for o in offers
                      if (o.get("pricingSummary") or {}).get("price")), None)
        row.price, row.currency = mapping.amount_value(price)
        row.legacy_item_id = next(((o.get("listing") or {}).get("listingId") for o in offers
                                   if (o.get("listing") or {}).get("listingId")), row.legacy_item_id)
        if row.push_error and "hors de l'API Inventory" in row.push_error:
            row.push_error = None
    account_for(shop).listings_synced_at = utcnow()
    db.session.commit()
    return len(found)


def migrate_listings(shop_id: int) -> str:
    """bulkMigrateListing for the listings made outside the Inventory API (five per call);
    each refusal stays on its listing, in eBay's words."""
    shop = _shop(shop_id)
    client = client_for(shop)
    rows = list(db.session.scalars(select(EbayListing).where(
        EbayListing.shop_id == shop.id, EbayListing.inventory_api.is_(False), EbayListing.legacy_item_id.is_not(None))))
    migrated = 0
    for start in range(0, len(rows), BULK_MIGRATE_MAX):
        chunk = rows[start:start + BULK_MIGRATE_MAX]
        by_id = {r.legacy_item_id: r for r in chunk}
        for res in client.bulk_migrate_listing([r.legacy_item_id for r in chunk]):
            row = by_id.get(str(res.get("listingId")))
            if row is None:
                continue
            if int(res.get("statusCode") or 0) == 200:
                row.inventory_api, row.push_error = True, None
                row.offer_ids = [i["offerId"] for i in res.get("inventoryItems") or [] if i.get("offerId")]
                migrated += 1
            else:
                row.push_error = "migration refusée par eBay : " + "; ".join(
                    f"{e.get('errorId')} {e.get('message', '')}".strip() for e in res.get("errors") or [])
        db.session.commit()
    if migrated:
        mark_pending(shop, [r.variant_id for r in rows if r.inventory_api and r.variant_id])
        enqueue("addons.ebay.jobs.push_stock", shop.id, job_id=f"ebay-push_stock-{shop.id}", unique=True,
                shop_id=shop.id)
        db.session.commit()
    return _("%(migrated)s annonce(s) migrée(s) sur %(rows)s", migrated=migrated, rows=len(rows))


# ----------------------------------------------------------------------------- stock out
def mark_pending(shop: Shop, variant_ids: list[int]) -> None:
    dialect = db.engine.dialect.name
    insert = __import__(f"sqlalchemy.dialects.{dialect}", fromlist=["insert"]).insert
    for vid in sorted(set(v for v in variant_ids if v)):
        db.session.execute(insert(EbayStockPending).values(shop_id=shop.id, variant_id=vid).on_conflict_do_nothing())


def push_stock(shop_id: int, force: bool = False) -> str:
    """The final figures of the variants marked since the last push (all of them when
    ``force``: the nightly reconciliation), 25 SKUs per bulk call; eBay's 207 per-SKU errors
    kept on each listing."""
    shop = _shop(shop_id)
    if off := core_stock.sync_off(shop):
        return off  # the marks stay: switched back on, they are sent
    pending = list(db.session.scalars(delete(EbayStockPending).where(EbayStockPending.shop_id == shop.id)
                                      .returning(EbayStockPending.variant_id)))
    stmt = select(EbayListing).where(EbayListing.shop_id == shop.id, EbayListing.variant_id.is_not(None))
    if not force:
        if not pending:
            db.session.commit()
            return _("rien à envoyer")
        stmt = stmt.where(EbayListing.variant_id.in_(pending))
    listings = list(db.session.scalars(stmt.order_by(EbayListing.sku)))
    figures = core_stock.available_to_sell(shop, {ln.variant_id for ln in listings})
    skipped = 0
    todo = []
    for ln in listings:
        qty = figures.get(ln.variant_id, 0)
        if not ln.inventory_api:
            ln.push_error = ("annonce créée hors de l'API Inventory : stock non géré par l'OMS tant qu'elle n'est "
                             "pas migrée (bouton « Migrer » de la page eBay)")
            skipped += 1
        elif not ln.offer_ids:
            ln.push_error = "aucune offre publiée sur ce site eBay"
            skipped += 1
        elif force or ln.pushed_quantity != qty:
            todo.append((ln, qty))
    db.session.commit()  # the pending marks are consumed; the figures are read again at each push
    client = client_for(shop)
    sent = refused = 0
    for start in range(0, len(todo), BULK_PRICE_QUANTITY_MAX):
        chunk = todo[start:start + BULK_PRICE_QUANTITY_MAX]
        try:
            answers = client.bulk_update_price_quantity(
                mapping.price_quantity_requests([(ln.sku, ln.offer_ids, qty) for ln, qty in chunk]))
        except EbayError:
            mark_pending(shop, [ln.variant_id for ln, _q in todo[start:]])  # not lost: the retry sends them
            db.session.commit()
            raise
        by_sku: dict[str, list[dict[str, Any]]] = {}
        for ans in answers:
            by_sku.setdefault(str(ans.get("sku")), []).append(ans)
        for ln, qty in chunk:
            mine = by_sku.get(ln.sku, [])
            bad = [a for a in mine if int(a.get("statusCode") or 200) >= 400]
            if bad or not mine:
                errors = [e for a in bad for e in a.get("errors") or []]
                ln.push_error = "; ".join(dict.fromkeys(
                    _french_error(e) for e in errors)) or "refusé par eBay"
                if any(int(e.get("errorId") or 0) == 25702 for e in errors):
                    ln.inventory_api = False
                refused += 1
            else:
                ln.pushed_quantity, ln.pushed_at, ln.push_error = qty, utcnow(), None
                sent += 1
        db.session.commit()
    return _("%(sent)s quantité(s) envoyée(s), %(refused)s refusée(s), %(skipped)s non gérée(s)",
             sent=sent, refused=refused, skipped=skipped)


def _french_error(err: dict[str, Any]) -> str:
    from .client import FRENCH

    eid = int(err.get("errorId") or 0)
    return f"{FRENCH.get(eid, err.get('message') or 'refusé')} (erreur eBay {eid})"


def push_all_stock() -> int:
    """The nightly reconciliation: every eBay shop's figures sent again."""
    ids = list(db.session.scalars(select(Shop.id).where(Shop.addon == ADDON,
                                                        Shop.status == ConnectionStatus.CONNECTED)))
    for sid in ids:
        enqueue("addons.ebay.jobs.push_stock", sid, True, job_id=f"ebay-push_stock_all-{sid}", unique=True,
                shop_id=sid)
    db.session.commit()
    return len(ids)


# ----------------------------------------------------------------------------- tracking out
def push_tracking(shipment_id: int) -> str:
    """createShippingFulfillment with the shipment's lines, eBay's carrier code and the
    tracking number as eBay accepts it. An unanswered earlier attempt is checked on eBay
    before anything is sent again."""
    shipment = db.session.get(Shipment, shipment_id)
    order = shipment.order
    shop = _shop(order.shop_id)
    link = db.session.scalar(select(EbayOrder).where(EbayOrder.order_id == order.id))
    ebay_id = link.ebay_order_id if link else order.external_id
    row = db.session.scalar(select(EbayFulfillment).where(EbayFulfillment.shipment_id == shipment.id))
    if row is not None and row.state == "sent":
        return row.fulfillment_id or ""
    client = client_for(shop)
    tracking = mapping.clean_tracking(shipment.tracking_number)
    carrier = mapping.carrier_code(shipment.carrier, shipment.service)
    if row is not None and row.state == "sending":
        for done in client.get_shipping_fulfillments(ebay_id):
            if mapping.clean_tracking(done.get("shipmentTrackingNumber")) == tracking:
                row.state, row.fulfillment_id, row.error = "sent", done.get("fulfillmentId"), None
                db.session.commit()
                return row.fulfillment_id or ""
    lines = [(sl.order_line.external_id, sl.quantity) for sl in shipment.lines if sl.order_line.external_id]
    if not lines:  # a shipment of the whole order
        lines = [(ln.external_id, ln.quantity) for ln in order.lines if ln.external_id]
    if row is None:
        row = EbayFulfillment(shop_id=shop.id, shipment_id=shipment.id, ebay_order_id=ebay_id)
        db.session.add(row)
    row.state, row.carrier_code, row.tracking_number = "sending", carrier, tracking
    db.session.commit()  # before the call: an unanswered call is checked, not repeated
    body = mapping.fulfillment_body(lines, carrier, tracking, shipment.shipped_at or utcnow())
    try:
        fulfillment_id = client.create_shipping_fulfillment(ebay_id, body)
    except EbayError as exc:
        if exc.status is not None and not exc.retryable:
            row.state, row.error = "error", str(exc)
            order_flow.record(order, "channel", _("suivi non transmis à eBay : %(exc)s", exc=exc), source="ebay")
            db.session.commit()
            return str(exc)
        raise
    row.state, row.fulfillment_id, row.error = "sent", fulfillment_id, None
    db.session.commit()
    return fulfillment_id


# ----------------------------------------------------------------------------- cancellations, refunds
def cancel_order(order_id: int) -> str:
    """An order cancelled in the OMS: Post-Order check_eligibility, then a signed seller
    cancellation (whole order; eBay has no line cancellation)."""
    order = db.session.get(Order, order_id)
    shop = _shop(order.shop_id)
    link = db.session.scalar(select(EbayOrder).where(EbayOrder.order_id == order.id))
    if link is None or link.cancellation_sent or link.cancel_state == mapping.CANCELLED:
        return _("rien à faire")
    client = client_for(shop)
    legacy = link.legacy_order_id or link.ebay_order_id
    if link.cancellation_sent is None and client.search_cancellations(legacy):
        link.cancellation_sent = "existing"
        db.session.commit()
        return _("annulation déjà demandée")
    eligible = client.cancellation_eligibility(legacy)
    if not eligible.get("eligible"):
        reasons = ", ".join(eligible.get("failureReason") or []) or "inconnue"
        order_flow.record(order, "channel", _("eBay refuse l'annulation de cette commande (%(reasons)s) : "
                                              "annulez-la dans le Seller Hub ou remboursez l'acheteur",
                                              reasons=reasons), source="ebay")
        db.session.commit()
        return _("non éligible")
    ensure_signing_key(shop, client)
    db.session.commit()
    made = client.create_cancellation(legacy, "OUT_OF_STOCK_OR_CANNOT_FULFILL")
    link.cancellation_sent = str(made.get("cancelId") or "sent")
    order_flow.record(order, "channel", _("annulation envoyée à eBay"), source="ebay")
    db.session.commit()
    return link.cancellation_sent


def refund_order(order_id: int, amount: str | None = None, reason: str = "BUYER_RETURN",
                 comment: str = "") -> str:
    """issue_refund (signed): the whole order, or ``amount`` at order level."""
    order = db.session.get(Order, order_id)
    shop = _shop(order.shop_id)
    link = db.session.scalar(select(EbayOrder).where(EbayOrder.order_id == order.id))
    if link is None:
        raise LookupError("not an eBay order")
    if link.refund_id:
        return link.refund_id
    client = client_for(shop)
    ensure_signing_key(shop, client)
    db.session.commit()
    value = Decimal(amount) if amount is not None else order.total
    body = {"reasonForRefund": reason, "comment": (comment or "Remboursement")[:100],
            "orderLevelRefundAmount": {"value": f"{value:.2f}", "currency": order.currency}}
    try:
        res = client.issue_refund(link.ebay_order_id, body)
    except EbayError as exc:
        if exc.retryable:
            raise
        order_flow.record(order, "channel", _("remboursement refusé par eBay : %(exc)s", exc=exc), source="ebay")
        db.session.commit()
        return str(exc)
    link.refund_id = res.get("refundId")
    order_flow.record(order, "channel", _("remboursement de %(value)s %(currency)s demandé à eBay (%(get)s)",
                                          value=format(value, '.2f'), currency=order.currency, get=res.get('refundStatus', 'PENDING')), source="ebay")
    db.session.commit()
    return link.refund_id or ""


# ----------------------------------------------------------------------------- money
def read_finances(shop_id: int) -> int:
    """Fees of SALE transactions from the Finances API into analytics (set_actual_fees); the
    orders of REFUND transactions read again, their completed refunds settled as returns."""
    shop = _shop(shop_id)
    account = account_for(shop)
    client = client_for(shop)
    started = _now()
    since = account.finances_cursor or (started - timedelta(days=FIRST_IMPORT_DAYS))
    flt = f"transactionDate:[{mapping.ebay_time(since - OVERLAP)}..{mapping.ebay_time(started)}]"
    offset, done = 0, 0
    refunded: set[str] = set()
    while True:
        page = client.get_transactions(flt, limit=1000, offset=offset)
        txs = list(page.get("transactions") or [])
        ids = [str(t.get("orderId")) for t in txs if t.get("transactionType") == "SALE" and t.get("orderId")]
        links = {r.ebay_order_id: r for r in db.session.scalars(select(EbayOrder).where(
            EbayOrder.shop_id == shop.id, EbayOrder.ebay_order_id.in_(ids or [""])))}
        for tx in txs:
            link = links.get(str(tx.get("orderId")))
            if tx.get("transactionType") == "REFUND" and tx.get("orderId"):
                refunded.add(str(tx["orderId"]))
                continue
            if tx.get("transactionType") != "SALE" or link is None or link.order_id is None:
                continue
            order = db.session.get(Order, link.order_id)
            currency = (tx.get("totalFeeAmount") or tx.get("amount") or {}).get("currency") or order.currency
            set_actual_fees(order, [(kind, Money(amount, currency))
                                    for kind, amount in sorted(mapping.sale_fees(tx).items())])
            link.fees_read_at = utcnow()
            done += 1
        db.session.commit()
        offset += len(txs)
        if not txs or offset >= int(page.get("total") or 0):
            break
    _reread_refunded(shop, client, refunded)
    account.finances_cursor = started
    db.session.commit()
    return done


def _reread_refunded(shop: Shop, client: EbayClient, ebay_order_ids: set[str]) -> None:
    """Orders a Finances REFUND names: read again (their ``paymentSummary.refunds``), and
    their completed refunds settled (an order the OMS does not know is left to the poll)."""
    links = list(db.session.scalars(select(EbayOrder).where(
        EbayOrder.shop_id == shop.id, EbayOrder.ebay_order_id.in_(sorted(ebay_order_ids) or [""]))))
    for link in links:
        record_orders(shop, [client.get_order(link.ebay_order_id)])
        ebay_returns.settle_refunds(shop, [link])
        db.session.commit()


# ----------------------------------------------------------------------------- returns, refunds
RETURNS_FIRST_DAYS = 90  # eBay's return windows run to 60 days after delivery


def return_pages(client: EbayClient, since: datetime) -> Iterator[list[dict[str, Any]]]:
    """Return search by creation date from ``since``, every page followed (``offset`` is a
    page number there)."""
    page = 1
    while True:
        body = client.search_returns(mapping.ebay_time(since), limit=RETURNS_PAGE, page=page)
        members = list(body.get("members") or [])
        yield members
        pages = int((body.get("paginationOutput") or {}).get("totalPages") or 0)
        if not members or page >= pages:
            return
        page += 1


def read_returns(shop_id: int) -> int:
    """The returns opened on eBay since the cursor (minus the overlap), page by page, each
    page committed, the cursor moved after the last; then the returns still moving read
    again by id, the returns read before their order linked, and the orders' refunds
    settled. Returns the count of OMS returns imported."""
    shop = _shop(shop_id)
    account = account_for(shop)
    client = client_for(shop)
    db.session.commit()
    seen: set[str] = set()
    previous, run_started = account.returns_cursor, utcnow()
    before = db.session.scalar(select(func.count()).select_from(Return).where(Return.shop_id == shop.id)) or 0

    def fetch(since: datetime | None):
        return return_pages(client, since or (_now() - timedelta(days=RETURNS_FIRST_DAYS)))

    def handle(page: list[dict[str, Any]]) -> None:
        for summary in page:
            row = ebay_returns.store_return(shop, summary)
            if row is not None:
                seen.add(row.external_id)

    def save(when: datetime) -> None:
        account.returns_cursor = when

    try:
        Poller(Cursor(load=lambda: account.returns_cursor, save=save), fetch, handle, db.session.commit,
               overlap=OVERLAP, now=_now).run()
        for row in ebay_returns.open_returns(shop, seen):
            ebay_returns.store_return(shop, client.get_return(row.external_id))
            db.session.commit()
    except EbayAuthError as exc:
        _auth_failed(shop, exc)
        raise
    ebay_returns.link_waiting(shop)
    recent = select(EbayOrder).where(EbayOrder.shop_id == shop.id, EbayOrder.order_id.is_not(None))
    if previous is not None:  # the orders read since the last run, and those of returns read or open
        with_returns = select(EbayReturn.order_id).where(
            EbayReturn.shop_id == shop.id, EbayReturn.order_id.is_not(None),
            or_(EbayReturn.read_at >= run_started, EbayReturn.state != "CLOSED"))
        recent = recent.where(or_(EbayOrder.fetched_at >= previous - OVERLAP, EbayOrder.order_id.in_(with_returns)))
    ebay_returns.settle_refunds(shop, [link for link in db.session.scalars(recent) if link.refunds])
    db.session.commit()
    after = db.session.scalar(select(func.count()).select_from(Return).where(Return.shop_id == shop.id)) or 0
    return after - before


def read_all_returns() -> int:
    ids = list(db.session.scalars(select(Shop.id).where(Shop.addon == ADDON,
                                                        Shop.status == ConnectionStatus.CONNECTED)))
    for sid in ids:
        enqueue("addons.ebay.jobs.read_returns", sid, job_id=f"ebay-returns-{sid}", unique=True, shop_id=sid)
    db.session.commit()
    return len(ids)


def read_all_finances() -> int:
    ids = list(db.session.scalars(select(Shop.id).where(Shop.addon == ADDON,
                                                        Shop.status == ConnectionStatus.CONNECTED)))
    for sid in ids:
        enqueue("addons.ebay.jobs.read_finances", sid, job_id=f"ebay-finances-{sid}", unique=True, shop_id=sid)
    db.session.commit()
    return len(ids)


def new_verification_token() -> str:
    return secrets.token_urlsafe(48)[:64]


def after_install(shop_id: int, endpoint: str | None = None) -> str:
    """What follows the consent: listings, the first import, the notifications."""
    shop = _shop(shop_id)
    import_listings(shop.id)
    if endpoint and settings(shop).get("verification_token"):
        try:
            subscribe(shop.id, endpoint)
        except EbayError as exc:
            if exc.retryable:
                raise
            current_app.logger.warning("eBay notifications for shop %s: %s", shop.id, exc.message_en)
    enqueue("addons.ebay.jobs.sync_orders", shop.id, job_id=f"ebay-sync-{shop.id}", unique=True, shop_id=shop.id)
    mark_pending(shop, list(db.session.scalars(select(EbayListing.variant_id).where(
        EbayListing.shop_id == shop.id, EbayListing.variant_id.is_not(None)))))
    enqueue("addons.ebay.jobs.push_stock", shop.id, job_id=f"ebay-push_stock-{shop.id}", unique=True,
            shop_id=shop.id)
    db.session.commit()
    return _("installé")
