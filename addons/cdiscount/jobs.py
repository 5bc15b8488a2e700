"""Cdiscount's jobs: module-level functions taking ids (run by RQ workers or in-process). A
retryable CdiscountError (rate limit, outage, an order not yet in preparation) escapes: the
job queue tries again later; a refusal is written on the shop's sync log.

Approval and shipment calls have no idempotency key on Octopia's side. Each is sent at most
once per reading of the order: the job reads the order first, sends only if the order still
needs it, and records the call as ``sending`` before it leaves. A call that got no answer
stays ``sending``; the next run reads the order again and sees whether the call landed
before it sends anything.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from flask import current_app
from sqlalchemy import select

from core import orders as order_flow
from core import stock
from core.connectors.poller import Cursor, Poller
from core.extensions import db
from core.intake import ingest_many, variant_map
from core.jobs import enqueue
from core.models import Order, OrderStatus, Shipment, Shop, ShopAddon, Variant

from . import mapping
from .client import CdiscountError, Client
from .models import CdiscountOffer, CdiscountOrder, CdiscountParcel
from core.i18n import _

NAME = "cdiscount"
#: offers per PUT /offers (Octopia documents no bound; the emulator enforces this one)
OFFER_BATCH = 100
#: a shipment waits for Octopia's final controls (Accepted → InPreparation): retried this way
WAIT_INTERVALS = (60, 120, 300, 600, 900, 1800, 3600, 3600, 3600)


def now() -> float:
    clock = current_app.config.get("CDISCOUNT_CLOCK")
    return clock.time() if clock is not None else time.time()


def utc_now() -> datetime:
    return datetime.fromtimestamp(now(), timezone.utc)


def client_for(shop: Shop, **options: Any) -> Client:
    clock = current_app.config.get("CDISCOUNT_CLOCK")
    if clock is not None:
        options.setdefault("sleep", clock.sleep)
    return Client.from_settings(shop.addon_settings(NAME), shop_id=shop.id, now=now, **options)


def _row(order: Order) -> CdiscountOrder | None:
    return db.session.scalar(select(CdiscountOrder).where(CdiscountOrder.order_id == order.id))


# ----------------------------------------------------------------------------- orders in
def sync_orders(shop_id: int) -> int:
    """Import the orders updated since the shop's cursor (minus the overlap), every page,
    each page committed; the cursor moves after the last one. Then refuse what cannot wait."""
    shop = db.session.get(Shop, shop_id)
    settings = shop.addon_settings(NAME)
    client = client_for(shop)

    def pages(since: datetime | None) -> Iterator[list[dict[str, Any]]]:
        since = since or utc_now() - timedelta(days=int(settings.get("import_days") or 14))
        page = 1
        while True:
            items, more = client.orders_page(page, updatedAtMin=mapping.iso(since))
            yield items
            if not more:
                return
            page += 1

    def save(when: datetime) -> None:
        shop.sync_cursor, shop.last_sync_at = when.isoformat(), utc_now()

    cursor = Cursor(load=lambda: datetime.fromisoformat(shop.sync_cursor) if shop.sync_cursor else None, save=save)
    result = Poller(cursor, pages, lambda page: handle_page(shop, page), db.session.commit,
                    overlap=timedelta(minutes=10), now=utc_now).run()
    refuse_waiting(shop_id)
    return result.items


def handle_page(shop: Shop, page: list[dict[str, Any]]) -> None:
    if not page:
        return
    normalized = [mapping.normalize(o) for o in page]
    results = ingest_many(shop, normalized, source="poll")
    for remote, result in zip(page, results):
        order = db.session.get(Order, result.order_id)
        row = _row(order)
        state = str(remote.get("status") or "")
        if row is None:
            row = CdiscountOrder(shop_id=shop.id, order_id=order.id, octopia_id=str(remote["orderId"]),
                                 status=state, supply_mode=str(remote.get("supplyMode") or "Seller"),
                                 sales_channel=str(remote.get("salesChannelId") or ""), decision_calls=0)
            db.session.add(row)
            new_state = True
        else:
            new_state = result.stale is False and row.status != state
            if not result.stale:
                row.status = state
        if new_state and state not in mapping.STATES:
            order_flow.record(order, "channel", _("état Cdiscount inconnu « %(state)s » : conservé tel quel",
                                                  state=state),
                              source=f"{NAME}:poll", data={"octopia_status": state})
        elif new_state and not result.created:
            order_flow.record(order, "channel", f"Cdiscount : {mapping.state_label(state)}", source=f"{NAME}:poll",
                              data={"octopia_status": state})


# ----------------------------------------------------------------------------- accept / refuse
def refuse_waiting(shop_id: int) -> int:
    """Orders waiting for acceptance that the stock cannot serve are refused, with their
    reason, once the shop's grace has passed: through core's cancellation, which tells the
    channel (``channel_order_decision``)."""
    shop = db.session.get(Shop, shop_id)
    hours = int(shop.addon_settings(NAME).get("refuse_after_hours") or 0)
    limit = utc_now() - timedelta(hours=hours)
    rows = db.session.execute(
        select(Order, CdiscountOrder).join(CdiscountOrder, CdiscountOrder.order_id == Order.id)
        .where(CdiscountOrder.shop_id == shop_id, CdiscountOrder.status == mapping.WAITING,
               CdiscountOrder.decision.is_(None), Order.status == OrderStatus.ON_HOLD,
               Order.hold_code.in_(("backorder", "unknown_sku")))).all()
    refused = 0
    for order, _row_ in rows:
        placed = order.placed_at if order.placed_at.tzinfo else order.placed_at.replace(tzinfo=timezone.utc)
        if placed > limit:
            continue
        order_flow.lock(order)
        reason = order.hold_reason or "stock insuffisant"
        order_flow.cancel(order, source="core", reason=f"refus automatique (Cdiscount) : {reason}")
        refused += 1
    db.session.commit()
    return refused


def decide_order(order_id: int, accepted: bool, reason: str = "") -> str:
    """Tell Octopia the seller's decision on an order waiting for acceptance, once."""
    order = db.session.get(Order, order_id)
    row = _row(order)
    if row is None:
        return _("pas une commande Cdiscount")
    if accepted and order.status == OrderStatus.CANCELLED:
        accepted, reason = False, "annulée dans l'OMS avant son acceptation"
    wanted = "Accepted" if accepted else "Refused"
    if row.decision is None:
        row.decision, row.decision_reason, row.decision_state = ("accept" if accepted else "refuse"), reason, "pending"
        db.session.commit()
    if row.decision_state == "done":
        return _("déjà transmise")
    client = client_for(order.shop)
    remote = client.order(row.octopia_id)  # read first: a call without an answer may have landed
    state = str(remote.get("status") or "")
    row.status = state
    if state != mapping.WAITING:
        row.decision_state, row.decided_at = "done", utc_now()
        landed = state == wanted or (accepted and state not in ("Refused", "Cancelled", "Rejected", "Processing"))
        order_flow.record(order, "channel", (f"Cdiscount : décision déjà enregistrée ({mapping.state_label(state)})"
                                             if landed else f"Cdiscount : la commande est {mapping.state_label(state)}, "
                                                            "aucune décision à transmettre"), source=NAME)
        db.session.commit()
        return mapping.state_label(state)
    row.decision_state, row.decision_calls = "sending", row.decision_calls + 1
    db.session.commit()  # what is about to leave is on record before it leaves
    try:
        client.set_approval(row.octopia_id, accepted)
    except CdiscountError as exc:
        if exc.status is not None and exc.status < 500 and exc.status != 429:
            row.decision_state = "pending"  # refused outright: nothing landed
            db.session.commit()
        raise  # no answer or an outage: the next run reads the order before anything else
    row.decision_state, row.decided_at = "done", utc_now()
    row.status = wanted
    order_flow.record(order, "channel", f"Cdiscount : commande {'acceptée' if accepted else 'refusée'}"
                      + (f" ({reason})" if reason and not accepted else ""), source=NAME)
    db.session.commit()
    return wanted


# ----------------------------------------------------------------------------- tracking out
def push_tracking(shipment_id: int) -> str:
    """The shipment's parcel on Octopia, once the order is in preparation."""
    shipment = db.session.get(Shipment, shipment_id)
    order = shipment.order
    row = _row(order)
    if row is None:
        return _("pas une commande Cdiscount")
    parcel = db.session.scalar(select(CdiscountParcel).where(CdiscountParcel.shipment_id == shipment.id))
    number = shipment.tracking_number or f"OMS-{shipment.id}"
    if parcel is None:
        parcel = CdiscountParcel(shop_id=order.shop_id, shipment_id=shipment.id, parcel_number=number,
                                 state="pending", calls=0)
        db.session.add(parcel)
        db.session.commit()
    if parcel.state in ("done", "skipped"):
        return parcel.state
    client = client_for(order.shop)
    remote = client.order(row.octopia_id)  # read first: a call without an answer may have landed
    state = str(remote.get("status") or "")
    row.status = state
    if mapping.has_parcel(remote, parcel.parcel_number):
        parcel.state, parcel.note = "done", "colis déjà enregistré chez Cdiscount"
        db.session.commit()
        return _("déjà transmis")
    if remote.get("supplyMode") != "Seller":
        parcel.state, parcel.note = "skipped", f"expédiée par {remote.get('supplyMode')}, pas par le vendeur"
        db.session.commit()
        return _("non concernée")
    if state in mapping.BEFORE_PREPARATION:
        db.session.commit()
        raise CdiscountError(_("Cdiscount n'a pas encore passé la commande en préparation (%(state)s) : le suivi "
                               "sera transmis dès qu'elle le sera.", state=mapping.state_label(state)),
                             message_en=f"Cdiscount has not moved the order to preparation yet ({state}): the "
                                        "tracking is sent as soon as it has.", retryable=True)
    if state != mapping.SHIPPABLE:
        parcel.state, parcel.note = "skipped", f"commande {mapping.state_label(state)} chez Cdiscount"
        order_flow.record(order, "channel", _("Cdiscount : suivi non transmis, la commande est %(state)s",
                                              state=mapping.state_label(state)), source=NAME)
        db.session.commit()
        return "non transmis"
    known = {c.get("name") for c in client.carriers() if isinstance(c, dict)}
    carrier = mapping.carrier_name(shipment.carrier, shipment.service, known)
    by_id = {ln.id: ln for ln in order.lines}
    line_ids = sorted({by_id[sl.order_line_id].external_id for sl in shipment.lines
                       if sl.order_line_id in by_id and by_id[sl.order_line_id].external_id})
    parcel.carrier_name, parcel.state, parcel.calls = carrier, "sending", parcel.calls + 1
    db.session.commit()  # on record before it leaves
    try:
        client.ship(row.octopia_id, mapping.parcels(parcel.parcel_number, carrier, shipment.tracking_url, line_ids))
    except CdiscountError as exc:
        if exc.status is not None and exc.status < 500 and exc.status != 429:
            parcel.state, parcel.note = "pending", str(exc)
            db.session.commit()
        raise
    parcel.state, parcel.sent_at = "done", utc_now()
    order_flow.record(order, "channel", f"Cdiscount : suivi transmis ({carrier} {parcel.parcel_number})", source=NAME)
    db.session.commit()
    return f"{carrier} {parcel.parcel_number}"


# ----------------------------------------------------------------------------- cancellations
def cancel_order(order_id: int) -> str:
    """An accepted Cdiscount order cancelled in the OMS: a cancellation request to Octopia,
    once (the order is read first)."""
    order = db.session.get(Order, order_id)
    row = _row(order)
    if row is None or row.cancel_state == "done":
        return _("rien à faire")
    client = client_for(order.shop)
    remote = client.order(row.octopia_id)
    state = str(remote.get("status") or "")
    row.status = state
    if state == mapping.WAITING or state in ("Cancelled", "Refused", "Rejected", "Shipped", "Delivered"):
        row.cancel_state = "done" if state != mapping.WAITING else row.cancel_state
        db.session.commit()
        return mapping.state_label(state)  # a refusal goes through the approval call, not this one
    reasons = client.request("GET", "/cancellation-reasons", params={
        "userType": "Seller", "orderStatus": state, "salesChannel": row.sales_channel or "CDISFR"}) or []
    codes = [r.get("code") for r in reasons if isinstance(r, dict) and r.get("code")]
    if not codes:
        raise CdiscountError(_("Cdiscount ne propose aucun motif d'annulation pour cette commande."),
                             message_en="Cdiscount offers no cancellation reason for this order.", retryable=False)
    code = next((c for c in codes if "stock" in c), codes[0])
    row.cancel_state = "sending"
    db.session.commit()
    client.cancel(row.octopia_id, code)
    row.cancel_state, row.status = "done", "Cancelled"
    order_flow.record(order, "channel", _("Cdiscount : annulation demandée (%(code)s)", code=code), source=NAME)
    db.session.commit()
    return code


# ----------------------------------------------------------------------------- stock out
def mark_pending(shop: Shop, variant_ids: list[int]) -> None:
    """New figures wait for every offer of these variants; a variant no offer was read for
    yet gets a row of its own (sent under the variant's SKU)."""
    offered: set[int] = set()
    for offer in db.session.scalars(select(CdiscountOffer).where(
            CdiscountOffer.shop_id == shop.id, CdiscountOffer.variant_id.in_(variant_ids))):
        offer.pending = True
        offered.add(offer.variant_id)
    for vid in sorted(set(variant_ids) - offered):
        db.session.add(CdiscountOffer(shop_id=shop.id, variant_id=vid, pending=True))


def push_stock(shop_id: int) -> int | str:
    """One coalesced push of the final figures of every offer waiting, in batches of
    ``OFFER_BATCH`` (``PUT /offers``), each under the offer's own reference on Octopia; the
    count sent (the switch's sentence when "Sync stock automatique" is off)."""
    shop = db.session.get(Shop, shop_id)
    if off := stock.sync_off(shop):
        return off  # the offers stay pending: switched back on, they are sent
    offers = db.session.scalars(select(CdiscountOffer).where(CdiscountOffer.shop_id == shop_id,
                                                             CdiscountOffer.pending.is_(True),
                                                             CdiscountOffer.variant_id.is_not(None))
                                .order_by(CdiscountOffer.variant_id, CdiscountOffer.id)).all()
    if not offers:
        return 0
    figures = stock.available_to_sell(shop, sorted({o.variant_id for o in offers}))
    variants = {v.id: v for v in db.session.scalars(select(Variant).where(
        Variant.id.in_([o.variant_id for o in offers])))}
    client = client_for(shop)
    sent = 0
    for start in range(0, len(offers), OFFER_BATCH):
        batch = offers[start:start + OFFER_BATCH]
        body = []
        for offer in batch:
            variant = variants[offer.variant_id]
            item: dict[str, Any] = {"sellerProductId": offer.seller_sku or variant.sku,
                                    "stock": max(int(figures.get(offer.variant_id, 0)), 0),
                                    "price": float(variant.price)}
            ean = offer.gtin or variant.barcode
            if ean and ean.isdigit() and 8 <= len(ean) <= 14:
                item["productEan"] = ean
            body.append(item)
        answer = client.put_offers(body) or {}
        rejected = {i.get("sellerProductId") for i in answer.get("items", []) if i.get("status") == "Rejected"}
        for offer, item in zip(batch, body):
            if item["sellerProductId"] not in rejected:
                offer.pending, offer.stock, offer.price, offer.pushed_at = False, item["stock"], item["price"], utc_now()
        db.session.commit()  # each batch done is kept
        sent += sum(1 for item in body if item["sellerProductId"] not in rejected)
    return sent


def reconcile_stock(shop_id: int) -> int | str:
    """The nightly check: every offer's figures sent again (the push is a PUT: the same
    figures change nothing)."""
    shop = db.session.get(Shop, shop_id)
    if off := stock.sync_off(shop):
        return off
    for offer in db.session.scalars(select(CdiscountOffer).where(CdiscountOffer.shop_id == shop_id,
                                                                 CdiscountOffer.variant_id.is_not(None))):
        offer.pending = True
    db.session.commit()
    return push_stock(shop.id)


def reconcile_all() -> int:
    shop_ids = db.session.scalars(select(ShopAddon.shop_id).where(ShopAddon.addon == NAME,
                                                                  ShopAddon.active.is_(True))).all()
    return sum(n for n in (reconcile_stock(sid) for sid in shop_ids) if isinstance(n, int))


def refuse_all() -> int:
    shop_ids = db.session.scalars(select(ShopAddon.shop_id).where(ShopAddon.addon == NAME,
                                                                  ShopAddon.active.is_(True))).all()
    return sum(refuse_waiting(sid) for sid in shop_ids)


# ----------------------------------------------------------------------------- offer catalogue in
def match_offers(org_id: int, offers: list[mapping.RemoteOffer]) -> dict[str, int]:
    """The OMS variant behind each offer: its SKU (or a SKU alias the merchant made), then its
    GTIN / EAN as a variant's barcode. Offers matched by neither are left out."""
    found = variant_map(org_id, {o.sku for o in offers})
    gtins = {o.gtin for o in offers if o.sku not in found and o.gtin}
    by_gtin: dict[str, int] = {}
    if gtins:
        for barcode, vid in db.session.execute(select(Variant.barcode, Variant.id).where(
                Variant.organization_id == org_id, Variant.barcode.in_(gtins)).order_by(Variant.id.desc())):
            by_gtin[barcode] = vid  # the oldest variant of a shared barcode wins
    for offer in offers:
        if offer.sku not in found and offer.gtin in by_gtin:
            found[offer.sku] = by_gtin[offer.gtin]
    return found


def import_catalog(shop_id: int) -> str:
    """Octopia's catalogue of the seller's offers (``GET /offers``), every page by its cursor,
    each page committed: each offer kept, matched to an OMS variant by SKU then by EAN. An
    offer newly matched gets its stock pushed; an offer still unmatched waits for the
    merchant's fix on the shop's page. Offers gone from Octopia are forgotten once the last
    page is read (an outage mid-way keeps everything as it was)."""
    shop = db.session.get(Shop, shop_id)
    client = client_for(shop)
    rows = {o.seller_sku: o for o in db.session.scalars(select(CdiscountOffer).where(
        CdiscountOffer.shop_id == shop.id, CdiscountOffer.seller_sku.is_not(None)))}
    # rows a stock change made before the catalogue was read: adopted by their variant's offer
    loose = {o.variant_id: o for o in db.session.scalars(select(CdiscountOffer).where(
        CdiscountOffer.shop_id == shop.id, CdiscountOffer.seller_sku.is_(None)).order_by(CdiscountOffer.id))}
    seen: set[str] = set()
    matched_now = 0
    cursor: str | None = None
    while True:
        items, following = client.offers_page(cursor)
        page: dict[str, mapping.RemoteOffer] = {}
        for item in items:
            offer = mapping.remote_offer(item)
            if offer.sku and offer.sku not in seen and offer.sku not in page:
                page[offer.sku] = offer
        unmatched = [o for o in page.values() if o.sku not in rows or rows[o.sku].variant_id is None]
        variants = match_offers(shop.organization_id, unmatched)
        now_ = utc_now()
        for sku, offer in page.items():
            seen.add(sku)
            row = rows.get(sku)
            if row is None:
                row = loose.pop(variants[sku], None) if sku in variants else None
                if row is None:
                    row = CdiscountOffer(shop_id=shop.id, pending=False)
                    db.session.add(row)
                row.seller_sku = sku
                rows[sku] = row
            row.offer_id, row.gtin, row.title = offer.offer_id, offer.gtin, offer.title
            row.remote_price, row.remote_stock, row.offer_state, row.seen_at = (
                offer.price, offer.quantity, offer.state, now_)
            if row.variant_id is None and sku in variants:
                row.variant_id, row.pending = variants[sku], True
                matched_now += 1
        db.session.commit()  # each page read is kept
        if not following or following == cursor:
            break
        cursor = following
    for sku, row in rows.items():
        if sku not in seen:
            db.session.delete(row)
    db.session.commit()
    if matched_now:
        enqueue("addons.cdiscount.jobs.push_stock", shop.id, job_id=f"cdiscount-push_stock-{shop.id}", unique=True,
                shop_id=shop.id)
        db.session.commit()
    without = sum(1 for sku in seen if rows[sku].variant_id is None)
    return _("%(seen)s offre(s) lue(s), %(without)s sans produit OMS", seen=len(seen), without=without)


def import_all_catalogs() -> int:
    """The nightly reading of every connected Cdiscount shop's offers, one job a shop."""
    shop_ids = db.session.scalars(select(ShopAddon.shop_id).where(ShopAddon.addon == NAME,
                                                                  ShopAddon.active.is_(True))).all()
    for sid in shop_ids:
        enqueue("addons.cdiscount.jobs.import_catalog", sid, job_id=f"cdiscount-catalog-{sid}", unique=True,
                shop_id=sid)
    db.session.commit()
    return len(shop_ids)


# ----------------------------------------------------------------------------- money in
def read_finances(shop_id: int) -> int:
    """Octopia's financial operations since the shop's cursor: the orders' commissions into
    analytics, refunds and commercial gestures into OMS returns (see ``finance``)."""
    from . import finance

    shop = db.session.get(Shop, shop_id)
    return finance.read(shop, client_for(shop), utc_now, int(shop.addon_settings(NAME).get("import_days") or 14))


def read_all_finances() -> int:
    """One finance read queued per connected Cdiscount shop."""
    shop_ids = db.session.scalars(select(ShopAddon.shop_id).where(ShopAddon.addon == NAME,
                                                                  ShopAddon.active.is_(True))).all()
    for sid in shop_ids:
        enqueue("addons.cdiscount.jobs.read_finances", sid, job_id=f"cdiscount-finances-{sid}", unique=True,
                shop_id=sid)
    db.session.commit()
    return len(shop_ids)
