"""Rakuten's jobs: module-level functions taking ids. A retryable RakutenError (rate limit,
outage) escapes so the queue tries again later; a refused login or token puts the add-on in
error on the shop's card with Rakuten's reason.

Writes are never sent twice: before an acceptance, a refusal or a cancellation the item is
marked with the action under way (committed); if no answer came, the next run reads the item
back (getiteminfos) and sends nothing if Rakuten already has it. Stock files carry absolute
quantities (sending one again changes nothing), and a push counts as done only once the
import report says so, SKU by SKU.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from core import orders as order_flow
from core import stock
from core.connectors.poller import Cursor, Poller
from core.extensions import db
from core.intake import ingest_many, variant_map
from core.jobs import enqueue
from core.models import ConnectionStatus, Order, OrderStatus, Shipment, Shop, Variant, utcnow

from . import mapping
from .catalog import import_adverts
from .client import Client, RakutenError
from .models import RakutenItem, RakutenOffer, RakutenStockImport, RakutenStockPending
from .runtime import client_for
from .versions import note_latest
from core.i18n import _, joined

ADDON = "rakuten"
OVERLAP = timedelta(hours=1)
#: items read back one by one (getiteminfos) per run, at most
ITEM_CHECKS_PER_RUN = 50
STOCK_BATCH = 5000


def _shop(shop_id: int) -> Shop:
    shop = db.session.get(Shop, shop_id)
    if shop is None:
        raise LookupError(_("boutique %(shop_id)s introuvable", shop_id=shop_id))
    return shop


def _guard(shop: Shop, exc: RakutenError) -> None:
    """A refused login or token: the add-on in error on the shop's card (own commit)."""
    credentials = exc.code in ("InvalidUserRights", "InvalidUser", "Unauthorized") or exc.status in (401, 403)
    if exc.retryable or not credentials:
        return
    db.session.rollback()
    shop = _shop(shop.id)
    row = shop.addon_row(ADDON)
    if row is not None:
        row.status, row.last_error, row.last_checked_at = ConnectionStatus.ERROR, str(exc), utcnow()
    shop.status, shop.last_error = ConnectionStatus.ERROR, str(exc)
    db.session.commit()


def _healthy(shop: Shop) -> None:
    row = shop.addon_row(ADDON)
    if row is not None and row.status == ConnectionStatus.ERROR:
        row.status, row.last_error = ConnectionStatus.CONNECTED, None
        shop.status, shop.last_error = ConnectionStatus.CONNECTED, None


# ----------------------------------------------------------------------------- orders in
def _items_of(shop_id: int, itemids: list[str]) -> dict[str, RakutenItem]:
    if not itemids:
        return {}
    return {r.itemid: r for r in db.session.scalars(
        select(RakutenItem).where(RakutenItem.shop_id == shop_id, RakutenItem.itemid.in_(itemids)))}


def store_sales(shop: Shop, sales: list[mapping.Sale], source: str = "poll") -> int:
    """Ingest a page of sales (one order each) and record their items; return how many
    orders changed. The items are written first: the acceptance hook, fired while the order
    is routed, looks for the items still waiting for an answer."""
    if not sales:
        return 0
    known = _items_of(shop.id, [i.itemid for s in sales for i in s.items])
    normalized = [mapping.normalize(s, {k: r.status for k, r in known.items()}) for s in sales]
    before: dict[str, str] = {}
    for sale, norm in zip(sales, normalized):
        for item in sale.items:
            row = known.get(item.itemid)
            if row is None:
                row = RakutenItem(shop_id=shop.id, itemid=item.itemid, purchaseid=sale.purchaseid,
                                  purchased_at=sale.purchased_at, sku=item.sku, status="")
                db.session.add(row)
                known[item.itemid] = row
            before[item.itemid] = row.status
            row.status = norm.raw["items"][item.itemid].upper()[:32]
            row.seen_at = utcnow()
    db.session.flush()
    results = ingest_many(shop, normalized, source=source)
    changed = 0
    for sale, result in zip(sales, results):
        changed += bool(result.created or result.changed)
        order = db.session.get(Order, result.order_id)
        for item in sale.items:
            row = known[item.itemid]
            row.order_id = result.order_id
            _note_change(order, row, before[item.itemid])
    db.session.flush()
    return changed


def _note_change(order: Order | None, row: RakutenItem, before: str) -> None:
    """An item Rakuten cancelled while the rest of the sale goes on: said in the order's
    history (core cancels the whole order only when every item is cancelled)."""
    if order is None or before == row.status:
        return
    if mapping.meaning(row.status) == mapping.CANCELLED and before and mapping.meaning(before) != mapping.CANCELLED:
        if order.status != OrderStatus.CANCELLED:
            order_flow.record(order, "channel", _("Rakuten : article %(itemid)s (%(sku)s) annulé (%(status)s)",
                                                  itemid=row.itemid, sku=row.sku, status=row.status),
                              source="rakuten")
    elif mapping.meaning(row.status) is None:
        order_flow.record(order, "channel", _("Rakuten : état « %(status)s » de l'article %(itemid)s",
                                              status=row.status, itemid=row.itemid),
                          source="rakuten")


def sync_orders(shop_id: int) -> str:
    """The shop's periodic job: the new sales (getnewsales, waiting for an answer), then the
    current ones (getcurrentsales, every page) since the cursor less an overlap — or since the
    oldest sale still open in the OMS, so that its items' changes are seen; open items that no
    page listed are read back one by one."""
    shop = _shop(shop_id)
    try:
        client = client_for(shop)
        out = _sync(shop, client)
    except RakutenError as exc:
        _guard(shop, exc)
        raise
    _healthy(shop)
    db.session.commit()
    return out


def _sync(shop: Shop, client: Client) -> str:
    settings = shop.addon_settings(ADDON)
    started = utcnow()  # every item a list gives is stamped after this
    answer = client.new_sales()
    note_latest("getnewsales", answer.lastversion)
    new = mapping.sales_of(answer.response)
    changed = store_sales(shop, new)
    db.session.commit()

    def pages(since: datetime | None) -> Iterator[list[mapping.Sale]]:
        floor = since or (utcnow() - timedelta(days=int(settings.get("import_days") or 30)))
        oldest = db.session.scalar(
            select(db.func.min(RakutenItem.purchased_at)).join(Order, Order.id == RakutenItem.order_id)
            .where(RakutenItem.shop_id == shop.id, Order.status.in_(list(order_flow.OPEN))))
        if oldest is not None and oldest < floor:
            floor = oldest
        token = None
        while True:
            page = client.current_sales(purchasedate=floor.astimezone(mapping.PARIS).strftime("%Y-%m-%d"),
                                        nexttoken=token)
            note_latest("getcurrentsales", page.lastversion)
            yield mapping.sales_of(page.response)
            token = mapping.next_token(page.response)
            if not token:
                return

    def handle(page: list[mapping.Sale]) -> None:
        nonlocal changed
        changed += store_sales(shop, page)

    def save(when: datetime) -> None:
        shop.sync_cursor, shop.last_sync_at = when.isoformat(), utcnow()

    cursor = Cursor(load=lambda: datetime.fromisoformat(shop.sync_cursor) if shop.sync_cursor else None, save=save)
    result = Poller(cursor, pages, handle, db.session.commit, overlap=OVERLAP, now=utcnow).run()
    checked = _read_back_unseen(shop, client, started)
    db.session.commit()
    if checked:
        return _("%(new)s nouvelle(s) vente(s), %(items)s vente(s) en cours lue(s), %(changed)s commande(s) "
                 "modifiée(s), %(checked)s article(s) relu(s)", new=len(new), items=result.items, changed=changed,
                 checked=checked)
    return _("%(new)s nouvelle(s) vente(s), %(items)s vente(s) en cours lue(s), %(changed)s commande(s) "
             "modifiée(s)", new=len(new), items=result.items, changed=changed)


def _read_back_unseen(shop: Shop, client: Client, started: datetime) -> int:
    """Open items no list gave this run (closed, cancelled, or waiting at Rakuten): read
    back with getiteminfos, a few per run, the longest unseen first."""
    rows = db.session.scalars(
        select(RakutenItem).join(Order, Order.id == RakutenItem.order_id)
        .where(RakutenItem.shop_id == shop.id, Order.status.in_(list(order_flow.OPEN)),
               RakutenItem.seen_at < started)
        .order_by(RakutenItem.seen_at).limit(ITEM_CHECKS_PER_RUN)).all()
    by_order: dict[int, list[RakutenItem]] = {}
    for row in rows:
        status = mapping.item_status_of(client.item_infos(row.itemid).response)
        before = row.status
        row.status = mapping.newer(row.status, status)[:32]
        row.seen_at = utcnow()
        by_order.setdefault(row.order_id, []).append(row)
        _note_change(db.session.get(Order, row.order_id), row, before)
    for order_id in by_order:
        order = db.session.get(Order, order_id)
        statuses = [r.status for r in db.session.scalars(select(RakutenItem).where(RakutenItem.order_id == order_id))]
        if mapping.order_status(statuses) == "cancelled" and order.status in order_flow.OPEN:
            order_flow.cancel(order, source="rakuten:poll", reason=_("annulée sur Rakuten"))
    return len(rows)


# ----------------------------------------------------------------------------- decisions
def send_decision(order_id: int, accepted: bool, reason: str = "") -> str:
    """Accept (or refuse) each item of the order still waiting for an answer, one call per
    item (Rakuten's acceptance is per item)."""
    order = db.session.get(Order, order_id)
    if order is None:
        return _("commande introuvable")
    shop = order.shop
    action = "acceptsale" if accepted else "refusesale"
    rows = db.session.scalars(select(RakutenItem).where(RakutenItem.order_id == order.id)
                              .order_by(RakutenItem.id)).all()
    todo = [r for r in rows if mapping.meaning(r.status) == mapping.TO_ACCEPT and r.decision is None]
    if not todo:
        return _("aucun article en attente de réponse")
    client = client_for(shop)
    done, skipped = [], []
    try:
        for row in todo:
            if _decide_item(client, order, row, action):
                done.append(row.itemid)
            else:
                skipped.append(row.itemid)
    except RakutenError as exc:
        _guard(shop, exc)
        raise
    if done:
        if accepted:
            message = _("Rakuten : %(count)s article(s) accepté(s)", count=len(done))
        elif reason:
            message = _("Rakuten : %(count)s article(s) refusé(s) (%(reason)s)", count=len(done), reason=reason)
        else:
            message = _("Rakuten : %(count)s article(s) refusé(s)", count=len(done))
        order_flow.record(order, "channel", message, source="rakuten")
    db.session.commit()
    counted = (_("%(count)s article(s) accepté(s)", count=len(done)) if accepted
               else _("%(count)s article(s) refusé(s)", count=len(done)))
    if skipped:
        return joined(", ", [counted, _("%(count)s déjà traité(s) sur Rakuten", count=len(skipped))])
    return counted


def _decide_item(client: Client, order: Order, row: RakutenItem, action: str) -> bool:
    """One item's answer, never sent twice: True when sent now, False when Rakuten already
    had an answer for it (read back)."""
    if row.pending_action:  # an earlier call got no answer: read the item before sending again
        status = mapping.item_status_of(client.item_infos(row.itemid).response)
        row.status = status[:32] or row.status
        if mapping.meaning(status) != mapping.TO_ACCEPT:
            row.decision = _decision_of(status)
            row.pending_action, row.decided_at = None, utcnow()
            db.session.commit()
            return False
    row.pending_action = action
    db.session.commit()  # known before the call: an answer lost is read back next time
    try:
        answer = client.accept(row.itemid) if action == "acceptsale" else client.refuse(row.itemid)
    except RakutenError as exc:
        if exc.ambiguous:
            raise  # pending_action stays: read back next run
        row.pending_action = None
        if not exc.retryable:  # refused: the item may have moved at Rakuten (cancelled by the buyer)
            status = mapping.item_status_of(client.item_infos(row.itemid).response)
            row.status = status[:32] or row.status
            row.error = str(exc)[:2000]
            if mapping.meaning(status) != mapping.TO_ACCEPT:
                row.decision = _decision_of(status)
                db.session.commit()
                return False
            order_flow.record(order, "channel", _("Rakuten refuse la réponse pour l'article %(itemid)s : %(exc)s",
                                                  itemid=row.itemid, exc=exc),
                              source="rakuten")
        db.session.commit()
        raise
    note_latest(action, answer.lastversion)
    row.status = "ACCEPTED" if action == "acceptsale" else "REFUSED"
    row.decision = "accepted" if action == "acceptsale" else "refused"
    row.pending_action, row.decided_at, row.error = None, utcnow(), None
    db.session.commit()
    return True


def _decision_of(status: str) -> str | None:
    m = mapping.meaning(status)
    return {mapping.ACCEPTED: "accepted", mapping.SHIPPED: "accepted", mapping.CANCELLED: "refused"}.get(m or "")


def cancel_items(order_id: int, reason: str = "") -> str:
    """The merchant cancelled an order already accepted: cancelitem for each accepted,
    unshipped item (read back first if an earlier call got no answer)."""
    order = db.session.get(Order, order_id)
    if order is None:
        return _("commande introuvable")
    rows = [r for r in db.session.scalars(select(RakutenItem).where(RakutenItem.order_id == order.id)
                                          .order_by(RakutenItem.id))
            if mapping.meaning(r.status) == mapping.ACCEPTED]
    if not rows:
        return _("aucun article à annuler")
    client = client_for(order.shop)
    done = 0
    for row in rows:
        if row.pending_action == "cancelitem":
            status = mapping.item_status_of(client.item_infos(row.itemid).response)
            row.status = status[:32] or row.status
            if mapping.meaning(status) != mapping.ACCEPTED:
                row.pending_action = None
                db.session.commit()
                continue
        row.pending_action = "cancelitem"
        db.session.commit()
        try:
            client.cancel(row.itemid, (reason or "Article indisponible")[:500])
        except RakutenError as exc:
            if not exc.ambiguous:
                row.pending_action, row.error = None, str(exc)[:2000]
                db.session.commit()
            raise
        row.status, row.decision, row.pending_action = "CANCELLED", "cancelled", None
        done += 1
        db.session.commit()
    order_flow.record(order, "channel", _("Rakuten : %(done)s article(s) annulé(s)", done=done), source="rakuten")
    db.session.commit()
    return _("%(done)s article(s) annulé(s)", done=done)


# ----------------------------------------------------------------------------- tracking out
def push_tracking(shipment_id: int) -> str:
    """settrackingpackageinfos for each item of the shipment: Rakuten's carrier name, and the
    tracking URL when the carrier is "Autre" (Rakuten requires it then)."""
    shipment = db.session.get(Shipment, shipment_id)
    if shipment is None:
        return _("expédition introuvable")
    order = shipment.order
    shop = order.shop
    number = (shipment.tracking_number or "").strip()
    if not number:
        return _("pas de numéro de suivi : rien à envoyer")
    name = mapping.transporter(shipment.carrier, shipment.service)
    url = (shipment.tracking_url or "").strip() or None
    if name == "Autre" and not url:
        raise RakutenError(_("Rakuten exige l'adresse de suivi pour le transporteur « %(value)s » (inconnu de "
                             "Rakuten) : ajoutez-la à l'expédition puis relancez.",
                             value=shipment.service or shipment.carrier),
                           message_en=f"Rakuten requires the tracking URL for carrier \"{shipment.service or shipment.carrier}\" "
                                      "(unknown to Rakuten): add it to the shipment, then retry.", retryable=False)
    itemids = [sl.order_line.external_id for sl in shipment.lines if sl.order_line.external_id]
    rows = _items_of(shop.id, itemids)
    client = client_for(shop)
    sent = 0
    try:
        for itemid in itemids:
            row = rows.get(itemid)
            if row is None or (row.tracking_number == number and row.tracking_sent_at):
                continue
            answer = client.set_tracking(itemid, name, number, url)
            note_latest("settrackingpackageinfos", answer.lastversion)
            row.tracking_number, row.tracking_sent_at = number[:128], utcnow()
            row.status = mapping.newer(row.status, "SHIPPED")
            sent += 1
            db.session.commit()
    except RakutenError as exc:
        _guard(shop, exc)
        raise
    if sent:
        order_flow.record(order, "channel", _("Rakuten : suivi %(name)s %(number)s envoyé pour %(sent)s article(s)",
                                              name=name, number=number, sent=sent),
                          source="rakuten")
    db.session.commit()
    return _("suivi envoyé pour %(sent)s article(s)", sent=sent)


# ----------------------------------------------------------------------------- stock out
def mark_pending(shop: Shop, variant_ids: list[int]) -> None:
    ids = set(variant_ids)
    if not ids:
        return
    have = set(db.session.scalars(select(RakutenStockPending.variant_id).where(
        RakutenStockPending.shop_id == shop.id, RakutenStockPending.variant_id.in_(ids))))
    for vid in sorted(ids - have):
        db.session.add(RakutenStockPending(shop_id=shop.id, variant_id=vid))


def _queue_push(shop_id: int, delay: float = 0) -> None:
    enqueue("addons.rakuten.jobs.push_stock", shop_id, job_id=f"rakuten-push_stock-{shop_id}", unique=True,
            shop_id=shop_id, delay=delay)


def _queue_check(shop_id: int, import_id: int, delay: float) -> None:
    enqueue("addons.rakuten.jobs.check_import", import_id, job_id=f"rakuten-check_import-{import_id}", unique=True,
            shop_id=shop_id, delay=delay)


def _figures(shop: Shop, variant_ids: list[int]) -> dict[str, int]:
    """Rakuten SKU → sellable figure for these variants: the SKU of the variant's Rakuten
    adverts when the catalog import matched one (by alias or barcode), else the variant's own;
    SKUs Rakuten said it does not know are left out."""
    own = dict(db.session.execute(select(Variant.id, Variant.sku).where(Variant.id.in_(variant_ids))).all())
    offers = db.session.scalars(select(RakutenOffer).where(RakutenOffer.shop_id == shop.id,
                                                           RakutenOffer.variant_id.in_(variant_ids))).all()
    remote: dict[int, list[str]] = {}
    for offer in offers:
        if not offer.unknown:
            remote.setdefault(offer.variant_id, []).append(offer.sku)
    unknown = {o.sku for o in offers if o.unknown} | set(db.session.scalars(select(RakutenOffer.sku).where(
        RakutenOffer.shop_id == shop.id, RakutenOffer.unknown.is_(True), RakutenOffer.sku.in_(list(own.values())))))
    figures: dict[str, int] = {}
    for vid, qty in stock.available_to_sell(shop, variant_ids).items():
        for sku in remote.get(vid) or ([own[vid]] if own.get(vid) else []):
            if sku not in unknown:
                figures[sku] = qty
    return figures


def push_stock(shop_id: int) -> str:
    """One inventory file with the final figures of the variants marked since the last
    push (genericimportfile); its report is read by ``check_import``. One file at a time per
    shop (Rakuten advises at most 10 files an hour)."""
    shop = _shop(shop_id)
    if off := stock.sync_off(shop):
        return off
    running = db.session.scalar(select(RakutenStockImport).where(
        RakutenStockImport.shop_id == shop.id, RakutenStockImport.state.in_(("sending", "waiting"))).limit(1))
    if running is not None:
        return _("un fichier de stock est en cours de traitement chez Rakuten : envoi à la suite")
    pending = list(db.session.scalars(select(RakutenStockPending.variant_id).where(
        RakutenStockPending.shop_id == shop.id).order_by(RakutenStockPending.variant_id).limit(STOCK_BATCH)))
    if not pending:
        return _("rien à envoyer")
    figures = _figures(shop, pending)
    db.session.execute(delete(RakutenStockPending).where(RakutenStockPending.shop_id == shop.id,
                                                         RakutenStockPending.variant_id.in_(pending)))
    if not figures:
        db.session.commit()
        return _("aucune référence connue de Rakuten à envoyer")
    row = RakutenStockImport(shop_id=shop.id, state="sending", sent=figures, lines=len(figures))
    db.session.add(row)
    db.session.commit()
    try:
        answer = client_for(shop).import_file(mapping.inventory_file(figures), f"stock-{shop.id}-{row.id}.xml")
    except RakutenError as exc:
        # absolute quantities: sending them again later is harmless; the figures are re-read then
        row.state, row.error, row.finished_at = "failed", str(exc)[:2000], utcnow()
        mark_pending(shop, pending)
        if exc.status == 429 or exc.code == "TooManyRequests":
            _queue_push(shop.id, delay=exc.retry_after or 600)
            db.session.commit()
            return _("Rakuten limite les envois de fichiers : nouvel essai dans %(value)s s",
                     value=int(exc.retry_after or 600))
        db.session.commit()
        _guard(shop, exc)
        raise
    note_latest("genericimportfile", answer.lastversion)
    row.importid = mapping.import_id(answer.response)[:64]
    row.state = "waiting"
    _queue_check(shop.id, row.id, delay=60)
    db.session.commit()
    more = db.session.scalar(select(RakutenStockPending.variant_id).where(
        RakutenStockPending.shop_id == shop.id).limit(1))
    if more:
        return _("%(figures)s référence(s) envoyée(s) (import %(importid)s) ; d'autres suivront",
                 figures=len(figures), importid=row.importid)
    return _("%(figures)s référence(s) envoyée(s) (import %(importid)s)", figures=len(figures), importid=row.importid)


def check_import(import_id: int) -> str:
    """Read an inventory file's report (every page). Done: each SKU's figure counts as pushed
    only if the report lists it without error; errors are kept SKU by SKU."""
    row = db.session.get(RakutenStockImport, import_id)
    if row is None or row.state != "waiting":
        return _("rien à vérifier")
    shop = _shop(row.shop_id)
    client = client_for(shop)
    report = None
    ok: set[str] = set()
    errors: list[dict[str, str]] = []
    token = None
    while True:
        answer = client.import_report(row.importid or "", token)
        note_latest("genericimportreport", answer.lastversion)
        page = mapping.parse_report(answer.response)
        report = report or page
        if page.state != "done":
            break
        ok |= page.ok
        errors += page.errors
        token = page.next_token
        if not token:
            break
    row.remote_status = report.status[:64]
    row.checks += 1
    if report.state == "waiting":
        delay = min(60 * 2 ** min(row.checks, 4), 900)
        _queue_check(shop.id, row.id, delay=delay)
        db.session.commit()
        return _("Rakuten traite le fichier (%(status)s) : nouvelle lecture dans %(delay)s s",
                 status=report.status, delay=delay)
    now = utcnow()
    offers = {o.sku: o for o in db.session.scalars(select(RakutenOffer).where(
        RakutenOffer.shop_id == shop.id, RakutenOffer.sku.in_(list(row.sent))))}
    variants = variant_map(shop.organization_id, set(row.sent))
    errs_by_sku: dict[str, list[dict[str, str]]] = {}
    for err in errors:
        errs_by_sku.setdefault(err["sku"], []).append(err)
    for sku, qty in row.sent.items():
        offer = offers.get(sku)
        if offer is None:
            offer = RakutenOffer(shop_id=shop.id, sku=sku, variant_id=variants.get(sku))
            db.session.add(offer)
        elif offer.variant_id is None:
            offer.variant_id = variants.get(sku)
        if report.state == "done" and sku in ok and sku not in errs_by_sku:
            offer.pushed_quantity, offer.pushed_at, offer.push_error, offer.unknown = int(qty), now, None, False
        elif sku in errs_by_sku:
            offer.push_error = "; ".join(f"{e['message']} ({e['code']})" for e in errs_by_sku[sku])[:2000]
            offer.unknown = any(e["code"] in mapping.UNKNOWN_ADVERT_CODES for e in errs_by_sku[sku])
        else:
            offer.push_error = f"absente du rapport d'import ({report.status})"
    row.state = "done" if report.state == "done" else "failed"
    row.ok_lines = len([s for s in row.sent if s in ok and s not in errs_by_sku])
    row.error_lines = len(errs_by_sku)
    row.errors = errors[:500]
    row.finished_at = now
    if report.state != "done":
        row.error = f"Rakuten n'a pas importé le fichier ({report.status})."
    if db.session.scalar(select(RakutenStockPending.variant_id).where(
            RakutenStockPending.shop_id == shop.id).limit(1)) is not None:
        _queue_push(shop.id)
    db.session.commit()
    return _("import %(importid)s : %(ok_lines)s référence(s) à jour, %(error_lines)s en erreur",
             importid=row.importid, ok_lines=row.ok_lines, error_lines=row.error_lines)


def reconcile_stock(shop_id: int) -> str:
    """Nightly (and at the first connection): every variant whose figure differs from the one
    Rakuten confirmed is pushed again; SKUs Rakuten does not know are left out, and once the
    adverts are imported only the variants matched to one are sent."""
    shop = _shop(shop_id)
    if off := stock.sync_off(shop):
        return off
    variant_ids = list(db.session.scalars(select(Variant.id).where(Variant.organization_id == shop.organization_id)))
    figures = stock.available_to_sell(shop, variant_ids)
    offers = {o.variant_id: o for o in db.session.scalars(select(RakutenOffer).where(
        RakutenOffer.shop_id == shop.id, RakutenOffer.variant_id.is_not(None)))}
    listed = db.session.scalar(select(RakutenOffer.id).where(RakutenOffer.shop_id == shop.id,
                                                             RakutenOffer.imported_at.is_not(None)).limit(1))
    todo = [vid for vid, qty in figures.items()
            if (vid in offers or listed is None)  # once the adverts are known, only theirs
            and not (vid in offers and (offers[vid].unknown or offers[vid].pushed_quantity == qty))]
    mark_pending(shop, todo)
    if todo:
        _queue_push(shop.id)
    db.session.commit()
    return _("%(todo)s référence(s) à remettre à jour", todo=len(todo))


def reconcile_all() -> int:
    shops = db.session.scalars(select(Shop).where(Shop.addon == ADDON, Shop.status == ConnectionStatus.CONNECTED)).all()
    for shop in shops:
        enqueue("addons.rakuten.jobs.reconcile_stock", shop.id, job_id=f"rakuten-reconcile-{shop.id}", unique=True,
                shop_id=shop.id)
    db.session.commit()
    return len(shops)


def retry_import_errors(shop_id: int) -> str:
    """The page's "Réessayer" button: SKUs in error (unknown ones included) are pushed again."""
    shop = _shop(shop_id)
    offers = db.session.scalars(select(RakutenOffer).where(RakutenOffer.shop_id == shop.id,
                                                           RakutenOffer.push_error.is_not(None))).all()
    for offer in offers:
        offer.unknown = False
    mark_pending(shop, [o.variant_id for o in offers if o.variant_id])
    _queue_push(shop.id)
    db.session.commit()
    return _("%(offers)s référence(s) renvoyée(s)", offers=len(offers))



# ----------------------------------------------------------------------------- catalog
def import_listings(shop_id: int) -> str:
    """The seller's adverts (inventory export), matched to OMS variants by SKU then barcode."""
    shop = _shop(shop_id)
    try:
        seen, matched = import_adverts(shop)
    except RakutenError as exc:
        _guard(shop, exc)
        raise
    return _("%(seen)s annonce(s), %(matched)s associée(s) à un produit, %(value)s sans produit",
             seen=seen, matched=matched, value=seen - matched)
