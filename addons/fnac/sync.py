"""Orders Fnac Darty → OMS: ``orders_query`` by ``UpdatedAt`` with an overlap, every page
followed, each page committed, the cursor moved last (core's ``Poller``).

Fnac Darty pushes nothing (no notification service in the XSDs): the poll is the only way in.
An order's answer carries no last-modified date, so an older snapshot read after a newer one
(pages shifting while they are read, the overlap) is told by its state's rank
(``mapping.RANK``) and changes nothing.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any
from xml.etree import ElementTree as ET

from sqlalchemy import select

from core import orders as order_flow
from core.analytics.facts import set_actual_fees
from core.connectors.poller import Cursor, Poller
from core.extensions import db
from core.intake import ingest_many
from core.jobs import enqueue
from core.models import Order, OrderStatus, Shop, utcnow
from core.money import Money

from . import mapping
from .client import FnacClient
from .models import FnacOrder
from core.i18n import _

OVERLAP = timedelta(minutes=10)
DEFAULT_IMPORT_DAYS = 30
#: OMS statuses of an order whose stock is allocated: Fnac Darty may be told "accepted"
ALLOCATED = {OrderStatus.ALLOCATED, OrderStatus.PICKING, OrderStatus.PACKED}
#: Fnac Darty states of an order that left the seller
SENT = {"Shipped", "Received", "NotReceived"}
#: the Fnac Darty state of each order of the page being stored (read by the decision hook:
#: an order already accepted, sent or closed there needs no decision from the OMS)
_importing: ContextVar[dict[str, str] | None] = ContextVar("fnac_importing", default=None)


def remote_state(external_id: str) -> str | None:
    """The Fnac Darty state of an order of the page being stored, else None."""
    states = _importing.get()
    return states.get(external_id) if states else None


def sync_orders(shop: Shop, client: FnacClient) -> tuple[int, int, int]:
    """One poll; returns (pages, orders read, orders created)."""
    settings = shop.addon_settings("fnac")
    days = int(settings.get("import_days") or DEFAULT_IMPORT_DAYS)
    created = 0

    def pages(since: datetime | None) -> Iterator[list[ET.Element]]:
        since = since or utcnow() - timedelta(days=days)
        number = 1
        while True:
            page = mapping.read_page(client.orders_query(page=number, date_type="UpdatedAt", since=since).root,
                                     "order")
            yield page.items
            if number >= page.total_pages or not page.items:
                return
            number += 1

    def handle(items: list[ET.Element]) -> None:
        nonlocal created
        created += import_orders(shop, items, source="poll")

    def save(when: datetime) -> None:
        shop.sync_cursor, shop.last_sync_at = when.isoformat(), utcnow()

    cursor = Cursor(load=lambda: datetime.fromisoformat(shop.sync_cursor) if shop.sync_cursor else None, save=save)
    result = Poller(cursor, pages, handle, db.session.commit, overlap=OVERLAP, now=utcnow).run()
    return result.pages, result.items, created


def import_orders(shop: Shop, items: list[ET.Element], *, source: str) -> int:
    """Store one page of ``<order>`` elements; returns how many orders were created."""
    read = [mapping.read_order(el) for el in items]
    ids = [facts.order_id for _n, facts in read]
    rows = {r.fnac_order_id: r for r in db.session.scalars(
        select(FnacOrder).where(FnacOrder.shop_id == shop.id, FnacOrder.fnac_order_id.in_(ids)))}
    orders = {r.order_id: r for r in rows.values()}
    known = {o.id: o for o in db.session.scalars(select(Order).where(Order.id.in_(list(orders))))} if orders else {}
    batch, kept = [], []
    for normalized, facts in read:
        row = rows.get(facts.order_id)
        if row is not None and mapping.RANK.get(row.state, 0) > facts.rank:
            continue  # an older snapshot than the one already stored
        order = known.get(row.order_id) if row is not None else None
        if (facts.state == "Refunded" and order is not None
                and order.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.RETURNED)):
            normalized.status = "shipped"  # refunded after it left: a return, not a cancellation
        batch.append(normalized)
        kept.append(facts)
    if not batch:
        return 0
    token = _importing.set({facts.order_id: facts.state for facts in kept})
    try:
        results = ingest_many(shop, batch, source=source)
    finally:
        _importing.reset(token)
    created = 0
    for facts, result in zip(kept, results):
        created += 1 if result.created else 0
        row = rows.get(facts.order_id)
        previous = row.state if row is not None else None
        if row is None:
            row = FnacOrder(shop_id=shop.id, order_id=result.order_id, fnac_order_id=facts.order_id, state=facts.state)
            db.session.add(row)
            rows[facts.order_id] = row
        elif row.state != facts.state:
            order = db.session.get(Order, row.order_id)
            order_flow.record(order, "channel", f"Fnac Darty : commande {facts.state}", source="fnac",
                              data={"from": row.state, "to": facts.state})
        fees_changed = row.fees is None or row.fees != facts.fees
        row.state, row.lines, row.fees = facts.state, mapping.as_dict(facts), facts.fees
        if facts.state in ("Accepted", "ToShip") and row.decision is None:
            row.decision = "accepted"  # accepted in Fnac Darty's back office
        order = db.session.get(Order, result.order_id)
        if facts.state in SENT and previous not in SENT:
            _sent_outside(order, facts, created=result.created, source=f"{shop.addon}:{source}")
        if facts.fees > 0 and fees_changed:
            set_actual_fees(order, [("commission", Money(facts.fees, mapping.CURRENCY))])
        if facts.state == "Created" and row.decision is None and order.status in ALLOCATED:
            # allocated but not yet accepted (an earlier acceptance failed): accept again, by reading first
            enqueue("addons.fnac.jobs.decide_order", order.id, True, "stock alloué", shop_id=shop.id,
                    job_id=f"fnac-decide-{order.id}", unique=True)
    db.session.flush()
    return created


def _sent_outside(order: Order, facts: mapping.FnacOrderFacts, *, created: bool, source: str) -> None:
    """An order Fnac Darty reports sent that the OMS did not ship. Met at creation (shipped
    before the connection), it is recorded as shipped with no stock movement: its reservation
    is released, the units left before the OMS counted them. Met on an update, the merchant
    decides (the parcel may still be on a shelf)."""
    tracking = ", ".join(sorted({ln.tracking_number for ln in facts.lines if ln.tracking_number}))
    if order.status not in order_flow.OPEN:
        return
    if not created:
        order_flow.record(order, "conflict", _("Fnac Darty indique la commande %(state)s hors de l'OMS%(value)s : "
                                               "vérifiez et clôturez-la ici",
                                               state=facts.state, value=" (" + tracking + ")" if tracking else ""), source=source)
        return
    order_flow.release_all(order, "expédiée avant la connexion à l'OMS")
    if order.status == OrderStatus.ON_HOLD:
        order_flow.transition(order, OrderStatus.NEW, source=source, reason=_("expédiée sur Fnac Darty"))
    order_flow.transition(order, OrderStatus.SHIPPED, source=source,
                          reason=_("déjà expédiée sur Fnac Darty%(value)s",
                                   value=" (" + tracking + ")" if tracking else ""))


def remote_order(client: FnacClient, fnac_order_id: str) -> tuple[Any, mapping.FnacOrderFacts] | None:
    """The order as Fnac Darty has it now (read before any write)."""
    items = client.orders_query(order_ids=[fnac_order_id]).root.findall("order")
    if not items:
        return None
    return mapping.read_order(items[0])


def refresh_row(row: FnacOrder, facts: mapping.FnacOrderFacts) -> None:
    row.state, row.lines = facts.state, mapping.as_dict(facts)
