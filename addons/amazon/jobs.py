"""Amazon background jobs (module-level functions taking ids).

A job that meets a rate limit or a report still in preparation hands over to a delayed run
of itself (its progress is committed; the delayed run has its own job id, as the running
one still holds its id in RQ); any other error escapes so the job layer retries
it and the sync log shows it. A refused authorisation (refresh token revoked, client
secret wrong) also marks the add-on in error for the shop, with a French message the
catalog card shows; it never turns the shop's sync off.
"""
from __future__ import annotations

from typing import Any, Callable

from sqlalchemy import select

from core.extensions import db
from core.jobs import enqueue
from core.stock import sync_off
from core.syncs import sync_job_id
from core.models import ConnectionStatus, Shipment, Shop, utcnow

from . import catalog, finances, notifications, shipping, stock_sync, sync
from .checks import check_connection as _check
from .client import AmazonError, RateLimitWait
from .models import AmazonCatalogImport, AmazonFeed
from .runtime import client_for, clock
from core.i18n import _


def _shop(shop_id: int) -> Shop:
    shop = db.session.get(Shop, shop_id)
    if shop is None:
        raise LookupError(_("boutique %(shop_id)s introuvable", shop_id=shop_id))
    return shop


def record_credentials_error(shop_id: int, message: str) -> None:
    """The add-on in error on the shop's card, with Amazon's reason, in its own commit."""
    db.session.rollback()
    shop = _shop(shop_id)
    row = shop.addon_row("amazon")
    if row is not None:
        row.status = ConnectionStatus.ERROR
        row.last_error = message
        row.last_checked_at = utcnow()
    shop.last_error = message
    db.session.commit()


def record_healthy(shop: Shop) -> None:
    row = shop.addon_row("amazon")
    if row is not None and row.status == ConnectionStatus.ERROR:
        row.status = ConnectionStatus.CONNECTED
        row.last_error = None
        shop.last_error = None


def _guarded(shop_id: int, work: Callable[[Shop], Any], *, resume: Callable[[float], None]) -> Any:
    shop = _shop(shop_id)
    try:
        out = work(shop)
    except (RateLimitWait, sync.ResumeLater) as exc:
        db.session.rollback()
        resume(exc.wait)
        db.session.commit()
        return _("reprise dans %(wait)s s : %(exc)s", wait=format(exc.wait, '.0f'), exc=exc)
    except AmazonError as exc:
        if exc.credentials:
            record_credentials_error(shop_id, str(exc))
        raise
    record_healthy(shop)
    return out


# ----------------------------------------------------------------------------- orders
def sync_orders(shop_id: int) -> str:
    """The shop's periodic job: import the orders Amazon changed since the cursor."""

    def work(shop: Shop) -> str:
        result = sync.run(shop, client_for(shop))
        shop.last_sync_at = utcnow()
        return str(result)

    def resume(wait: float) -> None:
        shop = _shop(shop_id)
        enqueue("addons.amazon.jobs.sync_orders", shop_id, job_id=f"{sync_job_id(shop)}-resume", unique=True,
                shop_id=shop_id, delay=wait)

    return _guarded(shop_id, work, resume=resume)


def fetch_order(shop_id: int, amazon_order_id: str) -> str:
    """Import one order now (an ORDER_CHANGE notification named it)."""
    from .importing import ingest_order
    from .mapping import from_order

    def work(shop: Shop) -> str:
        body = client_for(shop).call("getOrder", path={"orderId": amazon_order_id},
                                     params={"includedData": sync.INCLUDED_DATA}).body
        normalized, facts = from_order(body["order"])
        result = ingest_order(shop, normalized, facts, source="webhook")
        return f"{amazon_order_id} : " + ("créée" if result.created else "déjà à jour" if result.stale or not
                                          result.changed else "mise à jour (" + ", ".join(result.changed) + ")")

    def resume(wait: float) -> None:
        enqueue("addons.amazon.jobs.fetch_order", shop_id, amazon_order_id,
                job_id=f"amazon-order-{shop_id}-{amazon_order_id}-resume", unique=True, shop_id=shop_id,
                delay=wait)

    return _guarded(shop_id, work, resume=resume)


# ----------------------------------------------------------------------------- catalog
def import_listings(shop_id: int, import_id: int | None = None) -> str:
    """Import the seller's listings and match them to the OMS variants by SKU."""
    state: dict[str, int] = {}

    def work(shop: Shop) -> str:
        run = db.session.get(AmazonCatalogImport, import_id) if import_id else None
        if run is None:
            run = catalog.start_import(shop)
            db.session.commit()
        state["id"] = run.id
        try:
            catalog.run_import(shop, client_for(shop), run)
        except (RateLimitWait, sync.ResumeLater):
            raise
        except Exception as exc:
            db.session.rollback()
            run = db.session.get(AmazonCatalogImport, state["id"])
            run.state, run.error, run.finished_at = "failed", str(exc)[:2000], utcnow()
            db.session.commit()
            raise
        return _("%(listings)s annonce(s) : %(matched)s associée(s), %(unmatched)s sans produit OMS",
                 listings=run.listings, matched=run.matched, unmatched=run.unmatched)

    def resume(wait: float) -> None:
        enqueue("addons.amazon.jobs.import_listings", shop_id, state.get("id"),
                job_id=f"amazon-import_listings-{shop_id}-resume", unique=True, shop_id=shop_id, delay=wait)

    return _guarded(shop_id, work, resume=resume)


# ----------------------------------------------------------------------------- stock
def push_stock(shop_id: int) -> str:
    """Push the figures of the variants marked by ``stock_available_changed``."""
    if off := sync_off(_shop(shop_id)):
        return off  # the marks stay: switched back on, they are sent
    variant_ids: list[int] = []

    def work(shop: Shop) -> str:
        variant_ids.extend(stock_sync.drain_pending(shop))
        return str(stock_sync.push(shop, client_for(shop), variant_ids))

    def resume(wait: float) -> None:
        shop = _shop(shop_id)
        stock_sync.mark_pending(shop, variant_ids)
        enqueue("addons.amazon.jobs.push_stock", shop_id, job_id=f"amazon-push_stock-{shop_id}-resume",
                unique=True, shop_id=shop_id, delay=wait)

    return _guarded(shop_id, work, resume=resume)


def reconcile_stock(shop_id: int) -> str:
    """Read FBA stock, then push every FBM offer's figure again (even unchanged)."""

    def work(shop: Shop) -> str:
        client = client_for(shop)
        fba = stock_sync.refresh_fba(shop, client)  # reading Amazon's stock goes on when the switch is off
        db.session.commit()
        if off := sync_off(shop):
            return _("FBA : %(fba)s SKU mis à jour ; FBM : %(off)s", fba=fba, off=off)
        return _("FBA : %(fba)s SKU mis à jour ; FBM : %(shop)s",
                 fba=fba, shop=stock_sync.push(shop, client, None, force=True))

    def resume(wait: float) -> None:
        enqueue("addons.amazon.jobs.reconcile_stock", shop_id, job_id=f"amazon-reconcile_stock-{shop_id}-resume",
                unique=True, shop_id=shop_id, delay=wait)

    return _guarded(shop_id, work, resume=resume)


def refresh_fba(shop_id: int) -> str:
    def work(shop: Shop) -> str:
        return _("%(shop)s SKU FBA mis à jour", shop=stock_sync.refresh_fba(shop, client_for(shop)))

    def resume(wait: float) -> None:
        enqueue("addons.amazon.jobs.refresh_fba", shop_id, job_id=f"amazon-refresh_fba-{shop_id}-resume",
                unique=True, shop_id=shop_id, delay=wait)

    return _guarded(shop_id, work, resume=resume)


def refresh_all_fba() -> int:
    """Hourly: one FBA stock read per connected Amazon shop."""
    shops = db.session.scalars(select(Shop).where(Shop.addon == "amazon",
                                                  Shop.status == ConnectionStatus.CONNECTED)).all()
    for shop in shops:
        enqueue("addons.amazon.jobs.refresh_fba", shop.id, job_id=f"amazon-refresh_fba-{shop.id}", unique=True,
                shop_id=shop.id)
    return len(shops)


def check_feed(feed_row_id: int) -> str:
    """Follow a listings feed until Amazon has processed it, then read its report."""
    feed = db.session.get(AmazonFeed, feed_row_id)
    if feed is None:
        return "flux inconnu"

    def work(shop: Shop) -> str:
        done = stock_sync.follow_feed(client_for(shop), feed)
        return _("flux %(feed_id)s : %(status)s, %(issues)s problème(s)",
                 feed_id=done.feed_id, status=done.status, issues=len(done.issues))

    def resume(wait: float) -> None:
        enqueue("addons.amazon.jobs.check_feed", feed_row_id, job_id=f"amazon-check_feed-{feed_row_id}-resume",
                unique=True, shop_id=feed.shop_id, delay=wait)

    return _guarded(feed.shop_id, work, resume=resume)


# ----------------------------------------------------------------------------- tracking
def confirm_shipment(shipment_id: int) -> str:
    """Send a shipment's tracking to Amazon (``confirmShipment``)."""
    shipment = db.session.get(Shipment, shipment_id)
    if shipment is None:
        return _("expédition introuvable")
    shop_id = shipment.order.shop_id

    def work(shop: Shop) -> str:
        body = shipping.confirm(shipment, client_for(shop))
        return _("suivi %(trackingnumber)s confirmé pour %(number)s",
                 trackingnumber=body['packageDetail']['trackingNumber'], number=shipment.order.number)

    def resume(wait: float) -> None:
        enqueue("addons.amazon.jobs.confirm_shipment", shipment_id, job_id=f"amazon-confirm-{shipment_id}-resume",
                unique=True, shop_id=shop_id, delay=wait)

    return _guarded(shop_id, work, resume=resume)


# ----------------------------------------------------------------------------- finances
def read_finances(shop_id: int) -> str:
    """Read the financial events (fees, refunds) of the shop's orders that are due."""

    def work(shop: Shop) -> str:
        return str(finances.run(shop, client_for(shop)))

    def resume(wait: float) -> None:
        enqueue("addons.amazon.jobs.read_finances", shop_id, job_id=f"amazon-finances-{shop_id}-resume",
                unique=True, shop_id=shop_id, delay=wait)

    return _guarded(shop_id, work, resume=resume)


def read_all_finances() -> int:
    """Hourly: one read of financial events per connected Amazon shop with orders due."""
    now = finances.now_of(clock())
    shops = db.session.scalars(select(Shop).where(Shop.addon == "amazon",
                                                  Shop.status == ConnectionStatus.CONNECTED)).all()
    queued = 0
    for shop in shops:
        if finances.has_due(shop.id, now):
            enqueue("addons.amazon.jobs.read_finances", shop.id, job_id=f"amazon-finances-{shop.id}", unique=True,
                    shop_id=shop.id)
            queued += 1
    return queued


# ----------------------------------------------------------------------------- notifications
def process_notifications(shop_id: int) -> str:
    """The shop's stored ORDER_CHANGE notifications: each queues the import of its order."""
    done, errors = notifications.INBOX.process_pending(shop_id, notifications.handle)
    if errors:
        return _("%(done)s notification(s) traitée(s) ; erreurs : %(errors)s", done=done, errors="; ".join(errors))
    return _("%(done)s notification(s) traitée(s)", done=done)


def subscribe_notifications(shop_id: int, queue_arn: str) -> str:
    def work(shop: Shop) -> str:
        row = notifications.subscribe(shop, client_for(shop), queue_arn)
        return f"abonnement ORDER_CHANGE {row.subscription_id} vers {row.queue_arn}"

    def resume(wait: float) -> None:
        enqueue("addons.amazon.jobs.subscribe_notifications", shop_id, queue_arn,
                job_id=f"amazon-subscribe-{shop_id}-resume", unique=True, shop_id=shop_id, delay=wait)

    return _guarded(shop_id, work, resume=resume)


# ----------------------------------------------------------------------------- connection
def check_connection(shop_id: int) -> str:
    """Check Amazon still accepts the account's credentials and refresh its marketplaces."""
    shop = _shop(shop_id)
    result = _check(shop, shop.addon_settings("amazon"))
    if not result.ok:
        raise AmazonError(result.message)
    return result.message
