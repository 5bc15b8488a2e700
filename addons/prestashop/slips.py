"""PrestaShop's credit slips ("avoirs", webservice resource ``order_slip``) into OMS returns.

A merchant refunds in PrestaShop's back office (standard refund, return of products, partial
refund); each refund leaves a credit slip with the units per order detail and the amounts.
The webservice has no event for them: they are read by ``date_upd`` (with ``date=1``, in the
shop's time zone) on their own cursor, after the orders, with an overlap.

* Each slip is imported once, as ``core.returns.import_channel_return(…, "slip:<id>")``: its
  details matched to the OMS order's lines through ``id_order_detail`` (the id of the order's
  ``order_rows``, kept as the line's ``external_id``); a unit comes back only if it had left
  the warehouse (a refund before shipping is a refund without goods); a slip of shipping
  only is a refund without goods.
* Every slip read is kept (``prestashop_slip``) with what became of it. One whose order is
  not in the OMS yet is ``waiting``, shown on the shop's page with the order's reference,
  and tried again at each read; one of another shop of a multistore, or of a cancelled
  order (its refund is the cancellation), is ``skipped`` with the reason; one the OMS
  refuses is ``error`` with the reason.
* The cursor moves only after every page is committed (core's poller).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from core.connectors.poller import Cursor, Poller
from core.extensions import db
from core.i18n import _, joined
from core.models import Order, OrderStatus, ReturnReason, Shop
from core.money import Money
from core.orders import shipped_quantity
from core.returns import ReturnError, import_channel_return, returned_quantities

from . import mapping
from .client import Client
from .models import PrestashopSlip, PrestashopState

OVERLAP = timedelta(minutes=10)
#: PrestaShop's credit slips carry no reason
REASON = ReturnReason.CHANGED_MIND
IMPORTED, WAITING, SKIPPED, ERROR = "imported", "waiting", "skipped", "error"


def external_id(slip_id: int | str) -> str:
    return f"slip:{slip_id}"


def _order_of(shop: Shop, id_order: int) -> Order | None:
    return db.session.scalar(select(Order).where(Order.shop_id == shop.id, Order.external_id == str(id_order)))


def _row(shop: Shop, data: dict[str, Any]) -> PrestashopSlip:
    slip_id = int(data["id"])
    row = db.session.scalar(select(PrestashopSlip).where(PrestashopSlip.shop_id == shop.id,
                                                         PrestashopSlip.slip_id == slip_id))
    if row is None:
        row = PrestashopSlip(shop_id=shop.id, slip_id=slip_id, status=WAITING, data={})
        db.session.add(row)
    row.id_order = int(data.get("id_order") or 0)
    row.data = data
    return row


def import_row(shop: Shop, row: PrestashopSlip) -> str:
    """The slip as an OMS return, once; its status and note say what became of it."""
    slip = mapping.slip(row.data)
    row.amount = str(slip.total)
    if row.status == SKIPPED:
        return row.status
    order = (db.session.get(Order, row.order_id) if row.order_id else None) or _order_of(shop, slip.id_order)
    if order is None:
        row.status = WAITING
        if row.order_reference:
            row.note = (f"commande PrestaShop {row.order_reference} pas encore importée dans l'OMS : l'avoir sera "
                        "repris dès qu'elle le sera")
        elif not row.note:
            row.note = (f"commande PrestaShop n° {slip.id_order} pas encore importée dans l'OMS : l'avoir sera "
                        "repris dès qu'elle le sera")
        return row.status
    row.order_id = order.id
    row.order_reference = row.order_reference or order.number[:32]
    if order.status == OrderStatus.CANCELLED and row.return_id is None:
        row.status, row.note = SKIPPED, "commande annulée : l'avoir est le remboursement de son annulation"
        return row.status
    by_detail = {ln.external_id: ln for ln in order.lines if ln.external_id}
    done = returned_quantities(order)
    goods, unknown, not_sent = [], [], 0
    for detail_id, qty in slip.units:
        line = by_detail.get(detail_id)
        if line is None:
            unknown.append(detail_id)
            continue
        room = max(shipped_quantity(line) - done.get(line.id, 0), 0)
        if room > 0:
            goods.append((line, min(qty, room)))
        not_sent += max(min(qty, line.quantity - done.get(line.id, 0)) - room, 0)
    try:
        ret = import_channel_return(shop, order, goods if row.return_id is None else [], REASON,
                                    Money(slip.total, order.currency) if slip.total > 0 else None,
                                    external_id(slip.slip_id))
    except ReturnError as exc:
        row.status, row.note = ERROR, str(exc)
        return row.status
    first = row.return_id is None
    row.return_id, row.status = ret.id, IMPORTED
    notes = []
    if unknown:
        notes.append(f"{len(unknown)} ligne(s) de l'avoir absente(s) de la commande de l'OMS : remboursées sans retour "
                     "de marchandise")
    if first and not_sent:
        notes.append(f"{not_sent} unité(s) remboursée(s) avant leur expédition : pas de retour de marchandise, "
                     "retirez-les de la commande si elles ne doivent plus partir")
    if first or unknown:
        row.note = " ; ".join(notes) or None
    return row.status


def _references(client: Client, rows: list[PrestashopSlip], id_shop: int) -> None:
    """The references of the orders the OMS does not know (one call): a slip of another shop
    of a multistore is set aside, the others are named by the reference the merchant knows."""
    ids = sorted({str(r.id_order) for r in rows if r.id_order})
    if not ids:
        return
    found = {str(o["id"]): o for o in client.listing("orders", {"display": "full",
                                                                "filter[id]": "[" + "|".join(ids) + "]"})}
    for row in rows:
        order = found.get(str(row.id_order))
        if order is None:
            row.note = f"commande PrestaShop n° {row.id_order} introuvable dans la boutique"
            continue
        row.order_reference = str(order.get("reference") or row.id_order)[:32]
        if str(order.get("id_shop") or id_shop) != str(id_shop):
            row.status, row.note = SKIPPED, "commande d'une autre boutique du multiboutique"


def handle_page(shop: Shop, client: Client, page: list[dict[str, Any]], id_shop: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    rows = [_row(shop, data) for data in page if data.get("id")]
    db.session.flush()
    missing = [r for r in rows if r.return_id is None and r.status != SKIPPED and r.order_reference is None
               and _order_of(shop, r.id_order) is None]
    if missing:
        _references(client, missing, id_shop)
    for row in rows:
        status = import_row(shop, row)
        counts[status] = counts.get(status, 0) + 1
    db.session.flush()
    return counts


def retry_waiting(shop: Shop) -> int:
    """Slips whose order was not in the OMS: imported now that it is; the count imported."""
    rows = db.session.scalars(select(PrestashopSlip).where(PrestashopSlip.shop_id == shop.id,
                                                           PrestashopSlip.status == WAITING)
                              .order_by(PrestashopSlip.slip_id)).all()
    return sum(import_row(shop, row) == IMPORTED for row in rows)


def read(shop: Shop, client: Client, state: PrestashopState, *, tz: str, id_shop: int, first_days: int,
         now: Callable[[], datetime]) -> dict[str, int]:
    """The waiting slips tried again, then the slips updated since the slip cursor (minus the
    overlap), oldest first, 100 a page, each page committed. The counts by outcome."""
    counts: dict[str, int] = {}

    def pages(since: datetime | None) -> Iterator[list[dict[str, Any]]]:
        start = since or now() - timedelta(days=first_days)
        window = f"[{mapping.shop_param(start, tz)},{mapping.shop_param(now() + timedelta(days=1), tz)}]"
        yield from client.pages("order_slip", {"display": "full", "filter[date_upd]": window, "date": "1",
                                               "sort": "[date_upd_ASC,id_ASC]"})

    def handle(page: list[dict[str, Any]]) -> None:
        for status, n in handle_page(shop, client, page, id_shop).items():
            counts[status] = counts.get(status, 0) + n

    def save(when: datetime) -> None:
        state.slip_cursor, state.slip_error = when, None

    late = retry_waiting(shop)  # orders imported since their slips were read
    if late:
        counts[IMPORTED] = late
    Poller(Cursor(load=lambda: state.slip_cursor, save=save), pages, handle, db.session.commit,
           overlap=OVERLAP, now=now).run()
    return counts


def summary(counts: dict[str, int]) -> str:
    parts = [_("%(count)s avoir(s) repris", count=counts.get(IMPORTED, 0))]
    if counts.get(WAITING):
        parts.append(_("%(count)s en attente de leur commande", count=counts[WAITING]))
    if counts.get(SKIPPED):
        parts.append(_("%(count)s écarté(s)", count=counts[SKIPPED]))
    if counts.get(ERROR):
        parts.append(_("%(count)s refusé(s)", count=counts[ERROR]))
    return joined(", ", parts)
