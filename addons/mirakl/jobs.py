"""Mirakl's jobs: module-level functions taking ids (run by RQ workers or in-process).

A retryable ``MiraklError`` (429, outage) escapes and the job layer tries again later; a
refused key puts the add-on in error on the shop's card, with what to do, and never turns
the sync off. A write whose answer was lost (OR21, OR24) is checked by reading the order
(OR11) before it is sent again: the row recording the attempt is committed before the call.
"""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Iterator

from sqlalchemy import select

from core import orders as order_flow
from core import stock
from core.analytics import set_actual_fees
from core.connectors.poller import Cursor, Poller
from core.extensions import db
from core.intake import ingest_many
from core.jobs import enqueue
from core.models import ConnectionStatus, Order, OrderStatus, Shipment, Shop, Variant, utcnow
from core.money import Money

from . import mapping
from .client import MiraklClient, MiraklError
from .models import (MiraklOffer, MiraklOrder, MiraklRefund, MiraklReturn, MiraklShipment, MiraklShopState,
                     MiraklStockImport)
from .runtime import client_for, clock, operator, wait_for
from core.i18n import _

OVERLAP = timedelta(minutes=5)
DEFAULT_IMPORT_DAYS = 30
#: a decision is due this long before the operator's acceptance delay or the shipping deadline
DECISION_MARGIN = timedelta(hours=2)
#: STO02 polled every minute while an import runs (documented maximum: every 15 s)
STATUS_POLL = 60.0


def _now() -> datetime:
    return datetime.fromtimestamp(clock().time(), tz=timezone.utc)


def _shop(shop_id: int) -> Shop:
    shop = db.session.get(Shop, shop_id)
    if shop is None:
        raise LookupError(_("boutique %(shop_id)s introuvable", shop_id=shop_id))
    return shop


def _state(shop: Shop) -> MiraklShopState:
    stmt = select(MiraklShopState).where(MiraklShopState.shop_id == shop.id)
    if db.engine.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    state = db.session.scalar(stmt)
    if state is None:
        state = MiraklShopState(shop_id=shop.id, pending_variants=[], carriers=[], reasons={})
        db.session.add(state)
        db.session.flush()
    return state


def record_credentials_error(shop_id: int, message: str) -> None:
    """The add-on in error on the shop's card, with Mirakl's reason, in its own commit."""
    db.session.rollback()
    shop = _shop(shop_id)
    row = shop.addon_row("mirakl")
    if row is not None:
        row.status = ConnectionStatus.ERROR
        row.last_error = message
        row.last_checked_at = utcnow()
    shop.last_error = message
    db.session.commit()


def _guarded(shop_id: int, work) -> Any:
    shop = _shop(shop_id)
    try:
        out = work(shop)
    except MiraklError as exc:
        if exc.credentials:
            record_credentials_error(shop_id, str(exc))
        raise
    row = shop.addon_row("mirakl")
    if row is not None and row.status == ConnectionStatus.ERROR:
        row.status, row.last_error, shop.last_error = ConnectionStatus.CONNECTED, None, None
        db.session.commit()
    return out


# ============================================================================ orders in
def ingest_page(shop: Shop, orders: list[dict[str, Any]], *, source: str = "poll") -> list:
    """One page of OR11 orders into the OMS (core.intake), and Mirakl's side kept beside."""
    if not orders:
        return []
    results = ingest_many(shop, [mapping.normalize(o) for o in orders], source=source)
    rows = {r.mirakl_order_id: r for r in db.session.scalars(
        select(MiraklOrder).where(MiraklOrder.shop_id == shop.id,
                                  MiraklOrder.mirakl_order_id.in_([str(o["order_id"]) for o in orders])))}
    for raw, result in zip(orders, results):
        if result.stale:
            continue
        mid = str(raw["order_id"])
        row = rows.get(mid)
        order = db.session.get(Order, result.order_id)
        state = raw.get("order_state") or ""
        if row is None:
            row = MiraklOrder(shop_id=shop.id, order_id=order.id, mirakl_order_id=mid, state=state, line_ids=[])
            db.session.add(row)
            rows[mid] = row
            if not mapping.is_known(state):
                order_flow.record(order, "channel", _("état Mirakl inconnu « %(state)s » : conservé tel quel",
                                                      state=state),
                                  source="mirakl")
        elif row.state != state:
            order_flow.record(order, "channel", _("état Mirakl : %(state)s", state=mapping.state_label(state)), source="mirakl",
                              data={"state": state})
            row.state = state
        row.line_ids = [str(line["order_line_id"]) for line in raw.get("order_lines") or []]
        row.created_at = mapping.parse_dt(raw.get("created_date"))
        row.shipping_deadline = mapping.parse_dt(raw.get("shipping_deadline"))
        row.address_known = bool((raw.get("customer") or {}).get("shipping_address"))
        row.pickup_point_id = raw.get("shipping_pudo_id") or None
        _cancelled_lines(shop, order, row, raw, f"{shop.addon}:{source}")
        commission = raw.get("total_commission")
        if result.created and commission not in (None, "") and order.status != OrderStatus.CANCELLED:
            set_actual_fees(order, [("commission", Money(str(commission), raw.get("currency_iso_code") or "EUR"))])
    db.session.flush()
    return results


def cancelled_on_mirakl(line: dict[str, Any]) -> int:
    """Units of an OR11 line Mirakl no longer sells: all of a line ``CANCELED`` or ``REFUSED``
    (a partial acceptance, the operator, the customer), else the sum of its ``cancelations``."""
    quantity = int(line.get("quantity") or 0)
    if line.get("order_line_state") in ("CANCELED", "REFUSED"):
        return quantity
    return min(quantity, sum(int(c.get("quantity") or 0) for c in line.get("cancelations") or []))


def _cancelled_lines(shop: Shop, order: Order, row: MiraklOrder, raw: dict[str, Any], source: str) -> None:
    """Units cancelled or refused on Mirakl taken off the OMS order once each (core's
    ``cancel_units``: the line keeps what is still due, the reservation goes back)."""
    done = dict(row.cancelled_units or {})
    by_ext = {ln.external_id: ln for ln in order.lines}
    for line in raw.get("order_lines") or []:
        lid = str(line["order_line_id"])
        gone = cancelled_on_mirakl(line)
        extra = gone - int(done.get(lid) or 0)
        if extra <= 0 or lid not in by_ext:
            continue
        why = "refusée sur Mirakl" if line.get("order_line_state") == "REFUSED" else "annulée sur Mirakl"
        order_flow.cancel_units(order, by_ext[lid], extra, source=source, reason=why)
        done[lid] = gone
    if done != (row.cancelled_units or {}):
        row.cancelled_units = done


def sync_orders(shop_id: int) -> str:
    """The shop's periodic job: OR11 by ``start_update_date`` since the cursor minus the
    overlap, 100 a page, offset paging on ``total_count``; each page committed, the cursor
    moved after the last one. At most one run a minute per instance and key."""

    def work(shop: Shop) -> str:
        client = client_for(shop)
        wait = wait_for(client, "OR11")
        if wait > 0:
            return _("déjà lue il y a moins d'une minute : prochaine lecture dans %(wait)s s",
                     wait=format(wait, '.0f'))
        days = int(shop.addon_settings("mirakl").get("import_days") or DEFAULT_IMPORT_DAYS)

        def pages(since: datetime | None) -> Iterator[list[dict[str, Any]]]:
            start = since or (_now() - timedelta(days=days))
            offset = 0
            while True:
                page = client.orders(start_update_date=mapping.iso(start), sort="dateCreated", order="asc",
                                     offset=offset)
                batch = page.get("orders") or []
                yield batch
                offset += len(batch)
                if not batch or offset >= int(page.get("total_count") or 0):
                    return

        def save(when: datetime) -> None:
            shop.sync_cursor, shop.last_sync_at = mapping.iso(when), utcnow()

        cursor = Cursor(load=lambda: mapping.parse_dt(shop.sync_cursor) if shop.sync_cursor else None, save=save)
        result = Poller(cursor, pages, lambda page: ingest_page(shop, page), db.session.commit,
                        overlap=OVERLAP, now=_now).run()
        return _("%(items)s commande(s) lue(s) en %(pages)s page(s)", items=result.items, pages=result.pages)

    return _guarded(shop_id, work)


def refresh_orders(shop_id: int, mirakl_ids: list[str]) -> str:
    """Read orders again by id (OR11 ``order_ids``, 100 at most a call): after an acceptance,
    the shipping address Mirakl hid until then."""

    def work(shop: Shop) -> str:
        found = client_for(shop).orders_by_id(list(mirakl_ids))
        ingest_page(shop, found)
        db.session.commit()
        return f"{len(found)} commande(s) relue(s)"

    return _guarded(shop_id, work)


# ============================================================================ acceptance (OR21)
def _row_for(order_id: int) -> MiraklOrder | None:
    return db.session.scalar(select(MiraklOrder).where(MiraklOrder.order_id == order_id))


def _read_state(client: MiraklClient, row: MiraklOrder) -> str:
    found = client.orders_by_id([row.mirakl_order_id])
    if found:
        row.state = found[0].get("order_state") or row.state
    return row.state


def _refresh_later(shop_id: int, row: MiraklOrder) -> None:
    """Read the order again in a minute: Mirakl shows the address once it is accepted."""
    enqueue("addons.mirakl.jobs.refresh_orders", shop_id, [row.mirakl_order_id],
            job_id=f"mirakl-refresh-{shop_id}-{row.mirakl_order_id}", unique=True, shop_id=shop_id, delay=60)


def send_decision(shop_id: int, order_id: int, accepted: bool, reason: str = "") -> str:
    """OR21 with every line of the order, all accepted or all refused, in one call."""

    def work(shop: Shop) -> str:
        row = _row_for(order_id)
        order = db.session.get(Order, order_id)
        if row is None or order is None:
            return _("commande saisie hors Mirakl : rien à transmettre")
        if row.decision_sent_at is not None:
            return _("%(mirakl_order_id)s : décision déjà transmise", mirakl_order_id=row.mirakl_order_id)
        client = client_for(shop)
        attempted = row.decision is not None
        row.decision, row.decision_reason = ("accept" if accepted else "refuse"), reason[:500]
        db.session.commit()  # the attempt is on record before the call
        if attempted:  # an earlier attempt may have reached Mirakl: look before sending again
            _read_state(client, row)
        if row.state == "STAGING":  # Mirakl's fraud check first: the order opens to acceptance later
            enqueue("addons.mirakl.jobs.send_decision", shop_id, order_id, accepted, reason,
                    job_id=f"mirakl-decision-{order_id}-later", unique=True, shop_id=shop_id, delay=300)
            db.session.commit()
            return _("%(mirakl_order_id)s : en contrôle chez Mirakl, décision envoyée plus tard",
                     mirakl_order_id=row.mirakl_order_id)
        if row.state != "WAITING_ACCEPTANCE":
            row.decision_sent_at = utcnow()
            if accepted and not row.address_known and row.state not in ("REFUSED", "CANCELED"):
                _refresh_later(shop_id, row)
            db.session.commit()
            return _("%(mirakl_order_id)s : déjà %(state)s sur Mirakl",
                     mirakl_order_id=row.mirakl_order_id, state=mapping.state_label(row.state))
        try:
            client.accept(row.mirakl_order_id, [(lid, accepted) for lid in row.line_ids])
        except MiraklError as exc:
            if exc.code != "ORDER_INVALID_STATE":
                raise
            _read_state(client, row)  # decided meanwhile (in the back office, or by our lost call)
        row.decision_sent_at = utcnow()
        row.state = ("WAITING_DEBIT_PAYMENT" if accepted else "REFUSED") if row.state == "WAITING_ACCEPTANCE" else row.state
        order_flow.record(order, "channel", "acceptée sur Mirakl" if accepted else f"refusée sur Mirakl : {reason}",
                          source="mirakl")
        if accepted and not row.address_known:  # the address comes with the acceptance
            _refresh_later(shop_id, row)
        db.session.commit()
        if accepted:
            return _("%(mirakl_order_id)s : acceptée", mirakl_order_id=row.mirakl_order_id)
        return _("%(mirakl_order_id)s : refusée", mirakl_order_id=row.mirakl_order_id)

    return _guarded(shop_id, work)


def check_acceptance(shop_id: int) -> str:
    """Orders still waiting for the merchant's decision whose deadline comes (the operator's
    acceptance delay, or the shipping deadline): refused with the reason they are held for
    (stock short, unknown SKU), before Mirakl cancels them on its own."""
    shop = _shop(shop_id)
    op = operator(shop)
    hours = float(op.settings.get("acceptance_hours") or 24)
    now = _now()
    refused = 0
    rows = db.session.scalars(select(MiraklOrder).where(MiraklOrder.shop_id == shop.id,
                                                        MiraklOrder.state == "WAITING_ACCEPTANCE",
                                                        MiraklOrder.decision.is_(None))).all()
    for row in rows:
        order = db.session.get(Order, row.order_id) if row.order_id else None
        if order is None or order.status not in (OrderStatus.NEW, OrderStatus.ON_HOLD):
            continue
        deadlines = [d for d in ((row.created_at + timedelta(hours=hours)) if row.created_at else None,
                                 row.shipping_deadline) if d is not None]
        if not deadlines or min(deadlines) - DECISION_MARGIN > now:
            continue
        order_flow.decide(order, False, order.hold_reason or "stock indisponible")
        refused += 1
    db.session.commit()
    return _("%(refused)s commande(s) refusée(s) avant l'échéance", refused=refused)


def check_acceptance_all() -> int:
    shops = db.session.scalars(select(Shop.id).where(Shop.addon == "mirakl")).all()
    for shop_id in shops:
        enqueue("addons.mirakl.jobs.check_acceptance", shop_id, job_id=f"mirakl-acceptance-{shop_id}",
                unique=True, shop_id=shop_id)
    db.session.commit()
    return len(shops)


# ============================================================================ reasons (RE02)
def reason_code(shop: Shop, client: MiraklClient, reason_type: str) -> str:
    """The operator's first reason code of ``reason_type`` (``CANCELATION``, ``REFUND``),
    read with RE02 at most once a day and kept with the shop's state."""
    state = _state(shop)
    bag = dict(state.reasons or {})
    codes = bag.get(reason_type) or []
    fresh = state.reasons_at is not None and utcnow() - state.reasons_at < timedelta(hours=23)
    if not codes or not fresh:
        if wait_for(client, "RE02") <= 0 or not codes:
            codes = [r["code"] for r in client.reasons(reason_type)]
            state = _state(shop)
            state.reasons = {**(state.reasons or {}), reason_type: codes}
            state.reasons_at = utcnow()
            db.session.commit()
    if not codes:
        raise MiraklError(_("L'opérateur ne propose aucun motif de type %(reason_type)s : contactez-le.",
                            reason_type=reason_type),
                          message_en=f"The operator lists no {reason_type} reason: contact it.", retryable=False)
    return str(codes[0])


def _line_taxes(line: dict[str, Any], share: Decimal) -> list[dict[str, Any]]:
    """The line's taxes (OR11) for a ``share`` of it: required by OR28/OR30 when the order has taxes."""
    return [{"code": t["code"], "amount": float((Decimal(str(t.get("amount") or 0)) * share).quantize(CENT))}
            for t in line.get("taxes") or [] if t.get("code")]


CENT = Decimal("0.01")


# ============================================================================ cancellations (OR29 / OR30)
def cancel_order(shop_id: int, order_id: int) -> str:
    """The merchant cancelled, in the OMS, an order Mirakl had accepted: every line still
    open cancelled with OR30 (its quantity, amount, shipping and taxes, the operator's
    cancellation reason). The order is read first: sent again after a lost answer, the
    lines already cancelled are not sent twice."""

    def work(shop: Shop) -> str:
        row = _row_for(order_id)
        if row is None or row.cancel_sent_at is not None:
            return _("rien à annuler")
        client = client_for(shop)
        found = client.orders_by_id([row.mirakl_order_id])
        remote = found[0] if found else {}
        state = remote.get("order_state") or row.state
        row.state = state
        if state in ("CANCELED", "REFUSED"):
            row.cancel_sent_at = utcnow()
        elif state in mapping.BEFORE_SHIPPING or state == "SHIPPING":
            code = reason_code(shop, client, "CANCELATION")
            cancelations = []
            for line in remote.get("order_lines") or []:
                left = int(line.get("quantity") or 0) - sum(int(c.get("quantity") or 0)
                                                            for c in line.get("cancelations") or [])
                if left <= 0 or line.get("order_line_state") in ("CANCELED", "REFUSED"):
                    continue
                share = Decimal(left) / Decimal(int(line["quantity"]))
                cancelations.append({
                    "order_line_id": str(line["order_line_id"]), "quantity": left, "reason_code": code,
                    "amount": float((Decimal(str(line.get("price") or 0)) * share).quantize(CENT)),
                    "shipping_amount": float((Decimal(str(line.get("shipping_price") or 0)) * share).quantize(CENT)),
                    "taxes": _line_taxes(line, share),
                    "shipping_taxes": [{"code": t["code"], "amount": float(
                        (Decimal(str(t.get("amount") or 0)) * share).quantize(CENT))}
                        for t in line.get("shipping_taxes") or [] if t.get("code")]})
            if cancelations:
                client.cancel_lines(cancelations)
            row.cancel_sent_at, row.state = utcnow(), "CANCELED"
            order = db.session.get(Order, order_id)
            order_flow.record(order, "channel", _("annulée sur Mirakl (%(cancelations)s ligne(s))",
                                                  cancelations=len(cancelations)),
                              source="mirakl")
        else:
            order = db.session.get(Order, order_id)
            order_flow.record(order, "channel", _("déjà %(state)s sur Mirakl : l'annulation ne peut plus y être "
                                                  "transmise, faites un remboursement dans l'espace vendeur",
                                                  state=mapping.state_label(state)),
                              source="mirakl")
            row.cancel_sent_at = utcnow()
        db.session.commit()
        return f"{row.mirakl_order_id} : {mapping.state_label(row.state)}"

    return _guarded(shop_id, work)


# ============================================================================ refunds (OR28)
def _refund_ids(remote: dict[str, Any]) -> list[str]:
    return sorted(str(r.get("id")) for line in remote.get("order_lines") or [] for r in line.get("refunds") or [])


def refund_lines(ret, remote: dict[str, Any], amount: Decimal, code: str) -> list[dict[str, Any]]:
    """OR28's refunds for ``amount`` (tax included) on the return's lines (or, a refund
    without return, on every line), shared in proportion to what each line cost and capped
    at it; what is over goes to the shipping of the last line."""
    by_ext = {str(ln["order_line_id"]): ln for ln in remote.get("order_lines") or []}
    wanted: list[tuple[dict[str, Any], int]] = []
    if ret.lines:
        for rl in ret.lines:
            line = by_ext.get(str(rl.order_line.external_id or ""))
            if line is not None:
                wanted.append((line, rl.quantity))
    else:
        wanted = [(ln, int(ln.get("quantity") or 0)) for ln in by_ext.values()]
    if not wanted:
        return []
    dues = [Decimal(str(ln.get("price") or 0)) * qty / max(int(ln.get("quantity") or 1), 1) for ln, qty in wanted]
    total_due = sum(dues, Decimal(0))
    left = amount
    out = []
    for index, ((line, qty), due) in enumerate(zip(wanted, dues)):
        last = index == len(wanted) - 1
        part = min(due, left) if last else min(due, (amount * due / total_due).quantize(CENT) if total_due else 0)
        part = max(part.quantize(CENT), Decimal(0))
        left -= part
        shipping = max(left, Decimal(0)) if last else Decimal(0)
        price = Decimal(str(line.get("price") or 0))
        share = part / price if price else Decimal(0)
        out.append({"order_line_id": str(line["order_line_id"]), "quantity": qty, "reason_code": code,
                    "amount": float(part), "shipping_amount": float(shipping.quantize(CENT)),
                    "taxes": _line_taxes(line, share)})
    return out


def send_refund(shop_id: int, return_id: int) -> str:
    """A refund the merchant recorded in the OMS for a Mirakl order: OR28, once. The row is
    committed with the refunds the lines carried before the call; after a lost answer the
    order is read and a new refund on its lines settles it."""
    from core.models import Return

    def work(shop: Shop) -> str:
        ret = db.session.get(Return, return_id)
        if ret is None or ret.order is None or ret.order.shop_id != shop.id or not ret.refund_amount:
            return _("rien à rembourser")
        row = _row_for(ret.order_id)
        if row is None:
            return _("commande saisie hors Mirakl : rien à transmettre")
        sent = db.session.scalar(select(MiraklRefund).where(MiraklRefund.return_id == ret.id))
        if sent is not None and sent.sent_at is not None:
            return _("%(mirakl_order_id)s : remboursement déjà transmis", mirakl_order_id=row.mirakl_order_id)
        client = client_for(shop)
        found = client.orders_by_id([row.mirakl_order_id])
        if not found:
            raise MiraklError(_("Mirakl ne trouve plus la commande %(mirakl_order_id)s.",
                                mirakl_order_id=row.mirakl_order_id),
                              message_en=f"Mirakl no longer finds order {row.mirakl_order_id}.", retryable=False)
        remote = found[0]
        now_ids = _refund_ids(remote)
        if sent is not None and sent.attempted_at is not None and set(now_ids) - set(sent.known_refund_ids or []):
            sent.refund_ids = sorted(set(now_ids) - set(sent.known_refund_ids or []))
            sent.sent_at = utcnow()  # the lost call had gone through
            db.session.commit()
            return _("%(mirakl_order_id)s : remboursement déjà pris par Mirakl",
                     mirakl_order_id=row.mirakl_order_id)
        code = reason_code(shop, client, "REFUND")
        refunds = refund_lines(ret, remote, Decimal(ret.refund_amount), code)
        if not refunds:
            return _("%(mirakl_order_id)s : aucune ligne à rembourser", mirakl_order_id=row.mirakl_order_id)
        if sent is None:
            sent = MiraklRefund(shop_id=shop.id, return_id=ret.id, mirakl_order_id=row.mirakl_order_id,
                                amount=str(ret.refund_amount))
            db.session.add(sent)
        sent.known_refund_ids, sent.attempted_at = now_ids, utcnow()
        db.session.commit()  # the attempt is on record before the call
        answer = client.refund(refunds)
        sent.refund_ids = [str(r.get("refund_id") or r.get("order_refund_id")) for r in answer.get("refunds") or []]
        sent.sent_at = utcnow()
        order_flow.record(ret.order, "channel", _("remboursement %(rma)s transmis à Mirakl", rma=ret.rma), source="mirakl")
        db.session.commit()
        return _("%(mirakl_order_id)s : %(refunds)s ligne(s) remboursée(s)",
                 mirakl_order_id=row.mirakl_order_id, refunds=len(refunds))

    return _guarded(shop_id, work)


# ============================================================================ stock (STO01/02/03)
def mark_pending(shop: Shop, variant_ids: list[int]) -> None:
    state = _state(shop)
    state.pending_variants = sorted(set(state.pending_variants or []) | set(variant_ids))


def _csv(rows: list[tuple[str, int]]) -> str:
    """The stock file: ``offer-sku;quantity;update-delete``, one offer a line, no warehouse
    (the offer's global quantity). Mirakl's stock import file format."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    writer.writerow(["offer-sku", "quantity", "update-delete"])
    for sku, qty in rows:
        writer.writerow([sku, max(0, int(qty)), "update"])
    return out.getvalue()


def push_stock(shop_id: int) -> str:
    """One STO01 file with the final figures of every variant marked since the last one;
    at most one a minute per instance and key (a later run takes what came meanwhile)."""
    if off := stock.sync_off(_shop(shop_id)):
        return off

    def work(shop: Shop) -> str:
        state = _state(shop)
        ids = list(state.pending_variants or [])
        if not ids:
            return _("aucun stock à envoyer")
        client = client_for(shop)
        wait = wait_for(client, "STO01")
        if wait > 0:
            db.session.rollback()
            enqueue("addons.mirakl.jobs.push_stock", shop_id, job_id=f"mirakl-push_stock-{shop_id}-later",
                    unique=True, shop_id=shop_id, delay=wait)
            db.session.commit()
            return _("regroupé : envoi dans %(wait)s s", wait=format(wait, '.0f'))
        figures = stock.available_to_sell(shop, ids)
        skus = dict(db.session.execute(select(Variant.id, Variant.sku).where(Variant.id.in_(ids))).all())
        offers = offer_skus(shop, ids)  # the matched offers' SKUs; else the variant's own
        rows = sorted((sku, qty) for vid, qty in figures.items()
                      for sku in (offers.get(vid) or ([skus[vid]] if skus.get(vid) else [])))
        imp = MiraklStockImport(shop_id=shop.id, status="SENDING", quantities=dict(rows), errors={})
        db.session.add(imp)
        state.pending_variants = []
        state.last_stock_import_at = utcnow()
        db.session.commit()
        try:
            import_id = client.import_stock(_csv(rows))
        except MiraklError as exc:
            # nothing or the same absolute figures reached Mirakl: mark them again for the next file
            state = _state(shop)
            state.pending_variants = sorted(set(state.pending_variants or []) | set(ids))
            imp.status = "RATE_LIMITED" if exc.status == 429 else "FAILED"
            db.session.commit()
            if exc.status == 429:
                enqueue("addons.mirakl.jobs.push_stock", shop_id, job_id=f"mirakl-push_stock-{shop_id}-later",
                        unique=True, shop_id=shop_id, delay=max(60.0, exc.retry_after or 0.0))
                db.session.commit()
                return _("Mirakl limite les imports de stock : nouvel envoi dans une minute")
            raise
        imp.import_id, imp.status = import_id, "WAITING"
        enqueue("addons.mirakl.jobs.check_stock_import", shop_id, imp.id,
                job_id=f"mirakl-stock_status-{shop_id}-{imp.id}", unique=True, shop_id=shop_id, delay=15)
        db.session.commit()
        return _("%(rows)s quantité(s) envoyée(s) (import %(import_id)s)", rows=len(rows), import_id=import_id)

    return _guarded(shop_id, work)


def parse_error_report(text: str) -> dict[str, str]:
    """STO03's CSV: the lines of the file in error, each with its message, by SKU."""
    reader = csv.reader(io.StringIO(text or ""), delimiter=";")
    rows = list(reader)
    if not rows:
        return {}
    head = [h.strip().lower() for h in rows[0]]
    sku_col = head.index("offer-sku") if "offer-sku" in head else 0
    msg_col = next((i for i, h in enumerate(head) if "error" in h), len(head) - 1)
    return {r[sku_col]: r[msg_col] for r in rows[1:] if len(r) > max(sku_col, msg_col) and r[sku_col]}


def check_stock_import(shop_id: int, import_row_id: int) -> str:
    """STO02 until the import ends (never more often than every 15 s), then STO03 for the
    lines in error, kept per SKU."""

    def work(shop: Shop) -> str:
        imp = db.session.get(MiraklStockImport, import_row_id)
        if imp is None or imp.shop_id != shop.id or not imp.import_id:
            return "import introuvable"
        client = client_for(shop)
        wait = wait_for(client, "STO02")
        if wait > 0:
            enqueue("addons.mirakl.jobs.check_stock_import", shop_id, import_row_id,
                    job_id=f"mirakl-stock_status-{shop_id}-{import_row_id}-later", unique=True, shop_id=shop_id,
                    delay=wait)
            db.session.commit()
            return _("statut lu dans %(wait)s s", wait=format(wait, '.0f'))
        status = client.stock_import_status(imp.import_id)
        imp.status, imp.checked_at = status["status"], utcnow()
        imp.lines_in_success = int(status.get("lines_in_success") or 0)
        imp.lines_in_error = int(status.get("lines_in_error") or 0)
        if imp.status in ("WAITING", "RUNNING"):
            enqueue("addons.mirakl.jobs.check_stock_import", shop_id, import_row_id,
                    job_id=f"mirakl-stock_status-{shop_id}-{import_row_id}-next", unique=True, shop_id=shop_id,
                    delay=STATUS_POLL)
            db.session.commit()
            return _("import %(import_id)s : en cours", import_id=imp.import_id)
        if status.get("has_error_report"):
            imp.errors = parse_error_report(client.stock_import_errors(imp.import_id))
        db.session.commit()
        if imp.errors:
            listed = "; ".join(f"{sku} : {msg}" for sku, msg in sorted(imp.errors.items())[:20])
            return _("import %(import_id)s : %(lines_in_success)s ligne(s) prise(s), %(errors)s en erreur — "
                     "%(listed)s",
                     import_id=imp.import_id, lines_in_success=imp.lines_in_success, errors=len(imp.errors), listed=listed)
        return f"import {imp.import_id} : {imp.lines_in_success} ligne(s) prise(s)"

    return _guarded(shop_id, work)


def reconcile_stock(shop_id: int) -> str:
    """Nightly: every variant with a SKU marked, so the next file carries them all."""
    shop = _shop(shop_id)
    if off := stock.sync_off(shop):
        return off
    ids = db.session.scalars(select(Variant.id).where(Variant.organization_id == shop.organization_id,
                                                      Variant.sku.is_not(None))).all()
    mark_pending(shop, list(ids))
    enqueue("addons.mirakl.jobs.push_stock", shop_id, job_id=f"mirakl-push_stock-{shop_id}", unique=True,
            shop_id=shop_id)
    db.session.commit()
    return _("%(ids)s article(s) à renvoyer", ids=len(ids))


def reconcile_all_stock() -> int:
    shops = db.session.scalars(select(Shop.id).where(Shop.addon == "mirakl")).all()
    for shop_id in shops:
        enqueue("addons.mirakl.jobs.reconcile_stock", shop_id, job_id=f"mirakl-reconcile-{shop_id}", unique=True,
                shop_id=shop_id)
    db.session.commit()
    return len(shops)


# ============================================================================ carriers (SH21)
def refresh_carriers(shop_id: int, force: bool = False) -> str:
    """SH21 once a day per instance: the carriers this operator lists, with their codes."""

    def work(shop: Shop) -> str:
        state = _state(shop)
        client = client_for(shop)
        if state.carriers_at is not None and not force and utcnow() - state.carriers_at < timedelta(hours=23):
            return _("%(value)s transporteur(s), liste du jour", value=len(state.carriers or []))
        if wait_for(client, "SH21") > 0 and state.carriers and not force:
            return _("%(value)s transporteur(s), liste du jour", value=len(state.carriers or []))
        state.carriers = client.carriers()
        state.carriers_at = utcnow()
        db.session.commit()
        return f"{len(state.carriers)} transporteur(s)"

    return _guarded(shop_id, work)


def refresh_all_carriers() -> int:
    shops = db.session.scalars(select(Shop.id).where(Shop.addon == "mirakl")).all()
    for shop_id in shops:
        enqueue("addons.mirakl.jobs.refresh_carriers", shop_id, job_id=f"mirakl-carriers-{shop_id}", unique=True,
                shop_id=shop_id)
    db.session.commit()
    return len(shops)


# ============================================================================ tracking (OR23/OR24, ST01)
def _simple(text: str) -> str:
    return "".join(ch for ch in (text or "").lower() if ch.isalnum())


def carrier_map(settings: dict[str, Any]) -> dict[str, str]:
    out = {}
    for line in (settings.get("carrier_map") or "").splitlines():
        if "=" in line:
            left, right = line.split("=", 1)
            if left.strip() and right.strip():
                out[_simple(left)] = right.strip()
    return out


def tracking_body(shipment: Shipment, carriers: list[dict[str, Any]], mapped: dict[str, str]) -> dict[str, Any]:
    """OR23's body: ``carrier_code`` of a carrier the instance lists (the merchant's mapping
    first, else by name), otherwise ``carrier_name`` and ``carrier_url``."""
    names = [n for n in (shipment.carrier, shipment.service) if n and n != "manual"]
    codes = {c["code"]: c for c in carriers}
    code = next((mapped[_simple(n)] for n in names if _simple(n) in mapped and mapped[_simple(n)] in codes), None)
    if code is None:
        for c in carriers:
            if any(_simple(n) in (_simple(c.get("code", "")), _simple(c.get("label", ""))) for n in names):
                code = c["code"]
                break
    body: dict[str, Any] = {"tracking_number": shipment.tracking_number or ""}
    if code is not None:
        body["carrier_code"] = code
    else:
        body["carrier_name"] = (shipment.service or shipment.carrier or "Transporteur")[:100]
        if shipment.tracking_url:
            body["carrier_url"] = shipment.tracking_url
    return body


def push_tracking(shop_id: int, shipment_id: int) -> str:
    """The parcel's tracking, then its shipment: OR23 then OR24 for the whole order, or ST01
    (shipped, with its lines) for one parcel of several where the operator enables it."""

    def work(shop: Shop) -> str:
        shipment = db.session.get(Shipment, shipment_id)
        order = shipment.order
        row = _row_for(order.id)
        if row is None:
            return _("pas une commande Mirakl")
        sent = db.session.scalar(select(MiraklShipment).where(MiraklShipment.shipment_id == shipment.id))
        repeated = sent is not None
        if sent is None:
            sent = MiraklShipment(shop_id=shop.id, shipment_id=shipment.id, mirakl_order_id=row.mirakl_order_id)
            db.session.add(sent)
            db.session.commit()
        if sent.shipped_sent_at is not None:
            return _("%(mirakl_order_id)s : déjà expédiée sur Mirakl", mirakl_order_id=row.mirakl_order_id)
        client = client_for(shop)
        state = _state(shop)
        if not state.carriers:
            state.carriers, state.carriers_at = client.carriers(), utcnow()
            db.session.commit()
        body = tracking_body(shipment, state.carriers, carrier_map(shop.addon_settings("mirakl")))
        sent.carrier_code = body.get("carrier_code")
        lines = [(sl.order_line.external_id, sl.quantity) for sl in shipment.lines if sl.order_line.external_id]
        whole = (not lines or sorted(lines) == sorted((ln.external_id, ln.quantity) for ln in order.lines)) \
            and len(order.shipments) <= 1
        if not whole and operator(shop).allows("multi_shipment"):
            answer = client.create_shipments([{
                "order_id": row.mirakl_order_id, "shipped": True, "tracking": body,
                "shipment_lines": [{"order_line_id": lid, "quantity": qty} for lid, qty in lines]}])
            ok = answer.get("shipment_success") or []
            if not ok:
                errors = answer.get("shipment_errors") or []
                raise MiraklError(_("Mirakl a refusé le colis : %(value)s",
                                    value=errors[0].get('message', '') if errors else ''),
                                  message_en="Mirakl refused the parcel.", retryable=False, raw=str(errors)[:2000])
            sent.mirakl_shipment_id = str(ok[0].get("id") or "")
            sent.tracking_sent_at = sent.shipped_sent_at = utcnow()
            db.session.commit()
            return _("%(mirakl_order_id)s : colis %(mirakl_shipment_id)s expédié",
                     mirakl_order_id=row.mirakl_order_id, mirakl_shipment_id=sent.mirakl_shipment_id)
        if sent.tracking_sent_at is None:
            client.tracking(row.mirakl_order_id, body)  # a PUT: sent again, it sets the same tracking
            sent.tracking_sent_at = utcnow()
            db.session.commit()
        if repeated and _read_state(client, row) != "SHIPPING":
            sent.shipped_sent_at = utcnow()  # the lost OR24 had gone through
            db.session.commit()
            return f"{row.mirakl_order_id} : {mapping.state_label(row.state)} sur Mirakl"
        try:
            client.ship(row.mirakl_order_id)
        except MiraklError as exc:
            if exc.code != "ORDER_INVALID_STATE":
                raise
            _read_state(client, row)
        sent.shipped_sent_at = utcnow()
        row.state = "SHIPPED" if row.state == "SHIPPING" else row.state
        order_flow.record(order, "channel", _("suivi %(tracking_number)s transmis à Mirakl",
                                              tracking_number=shipment.tracking_number), source="mirakl")
        db.session.commit()
        return _("%(mirakl_order_id)s : suivi %(tracking_number)s transmis, commande expédiée",
                 mirakl_order_id=row.mirakl_order_id, tracking_number=shipment.tracking_number)

    return _guarded(shop_id, work)


# ============================================================================ returns (RT11 / RT21)
#: return states in which the units are back with the merchant (RT11 ``state``)
RETURNED = frozenset({"RECEIVED", "CLOSED"})


def poll_returns(shop_id: int) -> str:
    """RT11 (seek paging, 100 a page, at most every 5 minutes) where the operator enables
    returns: each return kept from its request (``WAITING_ACCEPTANCE``: the merchant accepts
    or refuses it, or the shop accepts them itself), imported once into the OMS (core.returns)
    when its units are back, to inspect and restock. The cursor moves once every page is
    committed; a return whose order is not in the OMS yet is kept and matched on a later read."""

    def work(shop: Shop) -> str:
        if not operator(shop).allows("returns"):
            return _("retours non gérés par cet opérateur")
        client = client_for(shop)
        if wait_for(client, "RT11") > 0:
            return _("retours lus il y a moins de 5 minutes")
        state = _state(shop)
        bag = dict(state.reasons or {})  # the returns cursor rides with the reason codes
        since = bag.get("returns_cursor") or mapping.iso(_now() - timedelta(days=30))
        started = mapping.iso(_now())
        read, token = 0, None
        while True:
            page = client.returns(page_token=token, return_last_updated_from=since)
            for ret in page.get("data") or []:
                keep_return(shop, ret)
                read += 1
            db.session.commit()
            token = page.get("next_page_token")
            if not token:
                break
        imported = _import_returned(shop)
        state = _state(shop)
        state.reasons = {**(state.reasons or {}), "returns_cursor": started}
        if shop.addon_settings("mirakl").get("auto_accept_returns"):
            for row in db.session.scalars(select(MiraklReturn).where(
                    MiraklReturn.shop_id == shop.id, MiraklReturn.state == "WAITING_ACCEPTANCE",
                    MiraklReturn.decision.is_(None))):
                decide_return(row, True, source="mirakl")
        db.session.commit()
        _send_decisions_soon(shop)
        return _("%(read)s retour(s) lu(s), %(imported)s reçu(s) importé(s)", read=read, imported=imported)

    return _guarded(shop_id, work)


def keep_return(shop: Shop, ret: dict[str, Any]) -> MiraklReturn:
    """One RT11 return on record (created or brought up to date)."""
    row = db.session.scalar(select(MiraklReturn).where(MiraklReturn.shop_id == shop.id,
                                                       MiraklReturn.return_id == str(ret["id"])))
    if row is None:
        row = MiraklReturn(shop_id=shop.id, return_id=str(ret["id"])[:64], mirakl_order_id=str(ret["order_id"])[:64],
                           state=str(ret.get("state") or ""), lines=[], requested_at=mapping.parse_dt(ret.get("date_created")))
        db.session.add(row)
    elif row.state != ret.get("state") and row.order_id:
        order = db.session.get(Order, row.order_id)
        if order is not None:
            order_flow.record(order, "channel", f"retour Mirakl : {mapping.return_state_label(ret.get('state') or '')}",
                              source="mirakl", data={"return": row.return_id, "state": ret.get("state")})
    row.state = str(ret.get("state") or row.state)[:64]
    row.reason_code = (ret.get("reason_code") or None) and str(ret["reason_code"])[:64]
    row.lines = [[str(rl["order_line_id"]), int(rl.get("quantity") or 0)] for rl in ret.get("return_lines") or []]
    if row.order_id is None:
        row.order_id = db.session.scalar(select(Order.id).where(Order.shop_id == shop.id,
                                                                Order.external_id == row.mirakl_order_id))
    db.session.flush()
    return row


def _import_returned(shop: Shop) -> int:
    """Returns whose units are back and not yet in the OMS: imported once each."""
    from core import returns as return_flow
    from core.models import OrderLine

    imported = 0
    rows = db.session.scalars(select(MiraklReturn).where(
        MiraklReturn.shop_id == shop.id, MiraklReturn.state.in_(sorted(RETURNED)),
        MiraklReturn.imported_return_id.is_(None))).all()
    for row in rows:
        if row.order_id is None:
            row.order_id = db.session.scalar(select(Order.id).where(Order.shop_id == shop.id,
                                                                    Order.external_id == row.mirakl_order_id))
        order = db.session.get(Order, row.order_id) if row.order_id else None
        if order is None:
            continue  # the order is not in the OMS (yet): kept, matched on a later read
        by_ext = {ln.external_id: ln for ln in db.session.scalars(select(OrderLine).where(OrderLine.order_id == order.id))}
        lines = [(by_ext[lid], qty) for lid, qty in row.lines if lid in by_ext]
        made = return_flow.import_channel_return(shop, order, lines, mapping.return_reason(row.reason_code), None,
                                                 external_id=f"mirakl-return-{row.return_id}")
        row.imported_return_id = made.id
        imported += 1
    db.session.commit()
    return imported


def decide_return(row: MiraklReturn, accepted: bool, rejection: str | None = None, *,
                  source: str = "user", user_id: int | None = None) -> None:
    """The merchant's (or the shop's automatic) answer to a return request, on record before
    it is sent (RT21, by :func:`send_return_decisions`)."""
    if row.state != "WAITING_ACCEPTANCE" or row.decision is not None:
        raise MiraklError(_("Cette demande de retour a déjà reçu une réponse."),
                          message_en="This return request has already been answered.", retryable=False)
    if not accepted and rejection not in mapping.REJECTIONS:
        raise MiraklError(_("Choisissez le motif du refus."), message_en="Choose the reason for the refusal.",
                          retryable=False)
    row.decision, row.rejection_reason, row.decided_at, row.error = (
        "accept" if accepted else "refuse"), (None if accepted else rejection), utcnow(), None
    order = db.session.get(Order, row.order_id) if row.order_id else None
    if order is not None:
        order_flow.record(order, "channel", "demande de retour acceptée" if accepted else
                          f"demande de retour refusée : {mapping.rejection_label(rejection or '')}",
                          source=source, user_id=user_id, data={"return": row.return_id})


def _send_decisions_soon(shop: Shop) -> None:
    if db.session.scalar(select(MiraklReturn.id).where(MiraklReturn.shop_id == shop.id,
                                                       MiraklReturn.decision.is_not(None),
                                                       MiraklReturn.sent_at.is_(None)).limit(1)):
        enqueue("addons.mirakl.jobs.send_return_decisions", shop.id, job_id=f"mirakl-return-decisions-{shop.id}",
                unique=True, shop_id=shop.id)
        db.session.commit()


def send_return_decisions(shop_id: int) -> str:
    """RT21 for the decisions not sent yet, 100 a call. RT21 has no idempotency key, but a
    decision sent again after a lost answer cannot act twice: Mirakl answers it with an error
    for that return (no longer waiting), and the next RT11 read tells its state."""

    def work(shop: Shop) -> str:
        client = client_for(shop)
        sent = refused = 0
        while True:
            rows = db.session.scalars(select(MiraklReturn).where(
                MiraklReturn.shop_id == shop.id, MiraklReturn.decision.is_not(None), MiraklReturn.sent_at.is_(None))
                .order_by(MiraklReturn.id).limit(100)).all()
            if not rows:
                break
            body = [{"id": r.return_id, "accepted": r.decision == "accept"} |
                    ({} if r.decision == "accept" else {"rejection_reason_code": r.rejection_reason}) for r in rows]
            answer = client.accept_returns(body)
            ok = {str(x.get("id")) for x in answer.get("return_success") or []}
            errors = {str(x.get("id")): str(x.get("message") or "") for x in answer.get("return_errors") or []}
            for row in rows:
                row.sent_at = utcnow()
                if row.return_id in ok:
                    row.state = "IN_PROGRESS" if row.decision == "accept" else "REFUSED"
                    sent += 1
                else:
                    row.error = (errors.get(row.return_id) or "sans réponse de Mirakl")[:500]
                    refused += 1
            db.session.commit()
        if refused:
            return _("%(sent)s décision(s) de retour transmise(s), %(refused)s refusée(s) par Mirakl",
                     sent=sent, refused=refused)
        return _("%(sent)s décision(s) de retour transmise(s)", sent=sent)

    return _guarded(shop_id, work)


def poll_all_returns() -> int:
    shops = db.session.scalars(select(Shop).where(Shop.addon == "mirakl")).all()
    count = 0
    for shop in shops:
        if operator(shop).allows("returns"):
            enqueue("addons.mirakl.jobs.poll_returns", shop.id, job_id=f"mirakl-returns-{shop.id}", unique=True,
                    shop_id=shop.id)
            count += 1
    db.session.commit()
    return count


# ============================================================================ offers (OF21)
EAN_TYPES = frozenset({"EAN", "EAN13", "GTIN", "UPC"})


def _ean(offer: dict[str, Any]) -> str | None:
    for ref in offer.get("product_references") or []:
        if str(ref.get("reference_type") or "").upper() in EAN_TYPES and ref.get("reference"):
            return str(ref["reference"])[:32]
    return None


def match_offer(org_id: int, shop_sku: str, ean: str | None, product_sku: str | None) -> int | None:
    """The variant behind an offer: its shop SKU (or a SKU alias), then its EAN, then the
    product's SKU on the operator."""
    from core.intake import variant_map

    found = variant_map(org_id, {shop_sku}).get(shop_sku) if shop_sku else None
    if found is None and ean:
        found = db.session.scalar(select(Variant.id).where(Variant.organization_id == org_id, Variant.barcode == ean)
                                  .order_by(Variant.id).limit(1))
    if found is None and product_sku:
        found = variant_map(org_id, {product_sku}).get(product_sku)
    return found


def import_offers(shop_id: int) -> str:
    """OF21 page by page (100 a page, ``offset`` on ``total_count``): the shop's offers kept,
    each matched to a variant; offers gone from Mirakl removed once every page is read."""

    def work(shop: Shop) -> str:
        client = client_for(shop)
        offset, seen, matched = 0, set(), 0
        rows = {o.shop_sku: o for o in db.session.scalars(select(MiraklOffer).where(MiraklOffer.shop_id == shop.id))}
        while True:
            page = client.offers(offset=offset)
            batch = page.get("offers") or []
            for item in batch:
                sku = str(item.get("shop_sku") or "")[:128]
                if not sku or sku in seen:
                    continue
                seen.add(sku)
                row = rows.get(sku)
                if row is None:
                    row = MiraklOffer(shop_id=shop.id, shop_sku=sku)
                    db.session.add(row)
                    rows[sku] = row
                row.offer_id = str(item.get("offer_id") or "") or None
                row.product_sku = (item.get("product_sku") or None) and str(item["product_sku"])[:128]
                row.ean = _ean(item)
                row.title = (item.get("product_title") or None) and str(item["product_title"])[:255]
                row.price = None if item.get("price") is None else str(item["price"])
                row.quantity = int(item.get("quantity") or 0)
                row.seen_at = utcnow()
                if row.variant_id is None:
                    row.variant_id = match_offer(shop.organization_id, sku, row.ean, row.product_sku)
            db.session.commit()
            offset += len(batch)
            if not batch or offset >= int(page.get("total_count") or 0):
                break
        for sku, row in rows.items():
            if sku not in seen:
                db.session.delete(row)
        matched = sum(1 for sku in seen if rows[sku].variant_id is not None)
        db.session.commit()
        return _("%(seen)s offre(s) lue(s), %(value)s sans produit", seen=len(seen), value=len(seen) - matched)

    return _guarded(shop_id, work)


def offer_skus(shop: Shop, variant_ids: list[int]) -> dict[int, list[str]]:
    """The offers' shop SKUs of these variants (a variant may carry several offers)."""
    out: dict[int, list[str]] = {}
    for vid, sku in db.session.execute(select(MiraklOffer.variant_id, MiraklOffer.shop_sku).where(
            MiraklOffer.shop_id == shop.id, MiraklOffer.variant_id.in_(variant_ids))).all():
        out.setdefault(vid, []).append(sku)
    return out
