"""Fnac Darty's jobs: module-level functions taking ids (run by RQ workers or in-process). A
retryable FnacError (rate limit, outage, no answer) escapes: the job queue tries again later;
a refusal escapes too, and lands on the shop's sync log with its sentence and a retry button.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core import orders as order_flow
from core.extensions import db
from core.jobs import enqueue
from core.stock import sync_off
from core.models import ConnectionStatus, Order, OrderStatus, Shipment, Shop, utcnow

from . import actions, offers, sync
from .client import FnacError
from .models import FnacAccount, FnacBatch, FnacOrder
from .runtime import clock, client_for, max_wait
from core.i18n import _, joined

#: hours Fnac Darty leaves the seller to accept; an order still short of stock is refused before
DEFAULT_ACCEPT_HOURS = 36


def _shop(shop_id: int) -> Shop:
    shop = db.session.get(Shop, shop_id)
    if shop is None or shop.addon != "fnac":
        raise LookupError(_("boutique %(shop_id)s : pas une boutique Fnac Darty", shop_id=shop_id))
    return shop


def record_credentials_error(shop_id: int, message: str) -> None:
    """The shop in error on its card, with Fnac Darty's reason, in a commit of its own."""
    db.session.rollback()
    shop = _shop(shop_id)
    row = shop.addon_row("fnac")
    if row is not None:
        row.status, row.last_error, row.last_checked_at = ConnectionStatus.ERROR, message, utcnow()
    shop.status, shop.last_error = ConnectionStatus.ERROR, message
    db.session.commit()


def _healthy(shop: Shop) -> None:
    row = shop.addon_row("fnac")
    if row is not None and row.status == ConnectionStatus.ERROR:
        row.status, row.last_error = ConnectionStatus.CONNECTED, None
        shop.status, shop.last_error = ConnectionStatus.CONNECTED, None


def sync_orders(shop_id: int) -> str:
    """Import the orders changed since the cursor (the offers too, the first time)."""
    try:
        return _sync_orders(_shop(shop_id))
    except FnacError as exc:
        if exc.credentials:
            record_credentials_error(shop_id, str(exc))
        raise


def _sync_orders(shop: Shop) -> str:
    client = client_for(shop)
    note = None
    account = db.session.get(FnacAccount, shop.id)
    if account is None or account.offers_at is None:
        count, matched = offers.import_offers(shop, client)
        db.session.commit()
        note = _("%(count)s offre(s) lue(s), %(matched)s reliée(s) à un produit", count=count, matched=matched)
    pages, read, created = sync.sync_orders(shop, client)
    _healthy(shop)
    text = _("%(created)s commande(s) créée(s), %(read)s lue(s) sur %(pages)s page(s)", created=created, read=read,
             pages=pages)
    return joined(" ; ", [text, note]) if note else text


def decide_order(order_id: int, accepted: bool, reason: str = "") -> str:
    order = db.session.get(Order, order_id)
    if order is None:
        return _("commande supprimée")
    return actions.decide(order, accepted, client_for(order.shop))


def push_tracking(shipment_id: int) -> str:
    shipment = db.session.get(Shipment, shipment_id)
    if shipment is None:
        return _("expédition supprimée")
    return actions.confirm_shipment(shipment, client_for(shipment.order.shop))


def cancel_order(order_id: int, reason: str = "") -> str:
    order = db.session.get(Order, order_id)
    if order is None:
        return _("commande supprimée")
    return actions.cancel(order, client_for(order.shop))


def import_offers(shop_id: int) -> str:
    shop = _shop(shop_id)
    count, matched = offers.import_offers(shop, client_for(shop))
    return _("%(count)s offre(s) lue(s), %(matched)s reliée(s) à un produit, %(value)s à relier",
             count=count, matched=matched, value=count - matched)


def push_stock(shop_id: int) -> str:
    """Push the pending figures, then follow each batch until Fnac Darty is done."""
    shop = _shop(shop_id)
    if off := sync_off(shop):
        return off
    client = client_for(shop)
    batch_ids = offers.push_stock(shop, client)
    if not batch_ids:
        return _("rien à envoyer")
    return joined(" ; ", [_follow(shop, batch_id, client) for batch_id in batch_ids])


def check_batch(shop_id: int, batch_id: str) -> str:
    shop = _shop(shop_id)
    return _follow(shop, batch_id, client_for(shop))


def _follow(shop: Shop, batch_id: str, client) -> str:
    batch = db.session.scalar(select(FnacBatch).where(FnacBatch.shop_id == shop.id, FnacBatch.batch_id == batch_id))
    if batch is None:
        return _("lot %(batch_id)s inconnu", batch_id=batch_id)
    waited = 0.0
    while not offers.check_batch(shop, batch, client):
        db.session.commit()
        if batch.checks >= offers.MAX_CHECKS:
            raise RuntimeError(_("le lot d'offres %(batch_id)s est toujours en traitement chez Fnac Darty après "
                                 "%(checks)s lectures", batch_id=batch_id, checks=batch.checks))
        if waited + offers.BATCH_POLL > max_wait():
            enqueue("addons.fnac.jobs.check_batch", shop.id, batch_id, shop_id=shop.id,
                    job_id=f"fnac-batch-{batch_id}", unique=True, delay=offers.BATCH_POLL)
            return _("lot %(batch_id)s en traitement chez Fnac Darty", batch_id=batch_id[:8])
        clock().sleep(offers.BATCH_POLL)
        waited += offers.BATCH_POLL
    db.session.commit()
    done = len(batch.sent) - len(batch.errors)
    message = f"{done} offre(s) mise(s) à jour"
    if batch.errors:
        sample = "; ".join(f"{sku} ({why})" for sku, why in sorted(batch.errors.items())[:5])
        message += f", {len(batch.errors)} refusée(s) par Fnac Darty : {sample}"
    return message


def reconcile_stock(shop_id: int) -> str:
    shop = _shop(shop_id)
    if off := sync_off(shop):
        return off
    client = client_for(shop)
    drift = offers.reconcile(shop, client)
    db.session.commit()
    if drift:
        enqueue("addons.fnac.jobs.push_stock", shop.id, job_id=f"fnac-push_stock-{shop.id}", unique=True,
                shop_id=shop.id)
    return _("%(drift)s offre(s) à corriger", drift=drift)


def _fnac_shops() -> list[Shop]:
    return list(db.session.scalars(select(Shop).where(Shop.addon == "fnac")))


def reconcile_all() -> int:
    for shop in _fnac_shops():
        enqueue("addons.fnac.jobs.reconcile_stock", shop.id, job_id=f"fnac-reconcile-{shop.id}", unique=True,
                shop_id=shop.id)
    db.session.commit()
    return len(_fnac_shops())


def refuse_overdue() -> int:
    """Orders still waiting for stock when Fnac Darty's acceptance deadline nears: cancelled in
    the OMS (their stock freed), which refuses them at Fnac Darty with the decision."""
    count = 0
    for shop in _fnac_shops():
        hours = int(shop.addon_settings("fnac").get("accept_hours") or DEFAULT_ACCEPT_HOURS)
        limit = utcnow() - timedelta(hours=hours)
        rows = db.session.scalars(select(Order).join(FnacOrder, FnacOrder.order_id == Order.id).where(
            FnacOrder.shop_id == shop.id, FnacOrder.state == "Created", FnacOrder.decision.is_(None),
            Order.status.in_([OrderStatus.NEW, OrderStatus.ON_HOLD]), Order.placed_at < limit))
        for order in rows:
            order_flow.cancel(order, reason=_("non acceptée sous %(hours)s h (stock manquant) : refusée sur Fnac "
                                              "Darty", hours=hours))
            count += 1
    db.session.commit()
    return count
