"""Order intake: a channel add-on hands core a ``NormalizedOrder``; core stores it once.

``(shop, external order id)`` is unique in the database. A re-import, a redelivered webhook,
or a manual import racing an automatic one all land on the same row: the insert is an
``INSERT … ON CONFLICT DO NOTHING`` and the row is then locked and updated. Updates older
than what is stored (out-of-order deliveries) are ignored. Lines map to variants by SKU (or
the merchant's SKU aliases); an unknown SKU holds the order with its reason, and it resumes
by itself once the SKU exists or is mapped.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from . import orders as order_flow
from . import pickup
from .extensions import db
from .addons import call
from .jobs import enqueue
from .models import (
    Customer,
    FulfillmentChannel,
    Order,
    OrderLine,
    OrderStatus,
    Organization,
    PaymentStatus,
    Plan,
    ServiceLevel,
    Shop,
    SkuAlias,
    Variant,
    append,
    build,
    utcnow,
)
from .models.base import next_ids
from .types import NormalizedAddress, NormalizedOrder
from .i18n import _


@dataclass(frozen=True)
class IntakeResult:
    order_id: int
    created: bool
    changed: list[str]  # fields changed by an update ([] for a no-op or stale update)
    stale: bool = False


_SCALARS = ("number", "currency", "presentment_currency", "presentment_total", "subtotal", "shipping_total",
            "tax_total", "discount_total", "total", "origin", "pos_location")


def _dialect_insert():
    name = db.engine.dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - other databases are not supported
        raise RuntimeError(f"intake needs PostgreSQL or SQLite, not {name}")
    return insert


def _aware(dt: datetime | None) -> datetime | None:
    if dt is not None and dt.tzinfo is None:
        raise ValueError("NormalizedOrder datetimes must be timezone-aware")
    return dt


_ADDRESS_FIELDS = tuple(f.name for f in dataclasses.fields(NormalizedAddress))


def _address(a: NormalizedAddress) -> dict[str, str]:
    """The address's non-empty fields (flat strings: no deep copy needed)."""
    return {k: v for k in _ADDRESS_FIELDS if (v := getattr(a, k))}


def variant_map(org_id: int, skus: set[str]) -> dict[str, int]:
    if not skus:
        return {}
    found = dict(db.session.execute(select(Variant.sku, Variant.id).where(
        Variant.organization_id == org_id, Variant.sku.in_(skus))).all())
    missing = skus - set(found)
    if missing:
        found.update(db.session.execute(select(SkuAlias.sku, SkuAlias.variant_id).where(
            SkuAlias.organization_id == org_id, SkuAlias.sku.in_(missing))).all())
    return found


def ingest(shop: Shop, data: NormalizedOrder, *, source: str = "poll") -> IntakeResult:
    """Create or update the order ``data`` describes; route and reserve a new one.

    Runs in the caller's transaction (commit after). ``source`` says how it came: webhook,
    poll, manual, import.
    """
    return ingest_many(shop, [data], source=source)[0]


def ingest_many(shop: Shop, batch: list[NormalizedOrder], *, source: str = "poll") -> list[IntakeResult]:
    """Ingest a page of orders from one shop (a sync page, a webhook, a manual import) in the
    caller's transaction; one result per item, in order.

    New orders are inserted together (``INSERT … ON CONFLICT DO NOTHING``) and allocated
    together; orders that already exist — including ones another worker inserted a moment
    ago — are locked and updated one by one.
    """
    if not batch:
        return []
    for data in batch:
        _aware(data.placed_at)
        _aware(data.updated_at)
    origin = f"{shop.addon}:{source}"
    first: dict[str, NormalizedOrder] = {}
    for data in batch:
        first.setdefault(data.external_id, data)
    rows = [_row(shop, first[ext]) for ext in sorted(first)]  # fixed order: no insert deadlocks
    created = _insert_orders(rows)
    # the rows created here are found by id; the others (already there, or inserted a
    # moment ago by another worker) by their external id. Both locked, in id order.
    by_ext = _locked(Order.id.in_(sorted(created))) if created else {}
    rest = [ext for ext in first if ext not in by_ext]
    if rest:
        by_ext.update(_locked(Order.shop_id == shop.id, Order.external_id.in_(rest)))
    created_ids = {ext: o.id for ext, o in by_ext.items() if o.id in created}
    order_flow.hold_locks(o.id for o in by_ext.values())

    new_orders = [by_ext[ext] for ext in sorted(created_ids)]
    if new_orders:
        _create(shop, new_orders, {ext: first[ext] for ext in created_ids}, origin)

    results: list[IntakeResult] = []
    seen: set[str] = set()
    for data in batch:
        order = by_ext[data.external_id]
        if data.external_id in created_ids and data.external_id not in seen:
            seen.add(data.external_id)
            results.append(IntakeResult(order.id, True, []))
        else:
            results.append(_update(shop, order, data, origin))
    for res in results:
        call(shop, "intake_order_received", order=db.session.get(Order, res.order_id), created=res.created)
    return results


def _insert_orders(rows: list[dict[str, Any]]) -> set[int]:
    """``INSERT … ON CONFLICT (shop, external id) DO NOTHING`` for the page's rows; the ids
    of the rows it may have created.

    PostgreSQL: the rows take their ids from the sequence first and go as one prepared
    statement sent for each row in a single round trip; with no ``RETURNING``, the ids given
    are returned, and those of rows that already existed are simply never found. SQLite:
    one multi-row insert ``RETURNING id``."""
    table = Order.__table__
    stmt = _dialect_insert()(table).on_conflict_do_nothing(index_elements=["shop_id", "external_id"])
    if db.engine.dialect.name != "postgresql":
        return set(db.session.scalars(stmt.returning(table.c.id), rows))
    ids = next_ids(db.session, table, len(rows))
    for row, new_id in zip(rows, ids):
        row["id"] = new_id
    db.session.execute(stmt, rows)
    return set(ids)


def _locked(*where: Any) -> dict[str, Order]:
    """The orders ``where`` selects, locked in id order and read afresh, by external id."""
    return {o.external_id: o for o in db.session.scalars(
        select(Order).where(*where).order_by(Order.id).with_for_update()
        .execution_options(populate_existing=True))}


def _row(shop: Shop, data: NormalizedOrder) -> dict[str, Any]:
    now = utcnow()
    return {
        "organization_id": shop.organization_id, "shop_id": shop.id, "external_id": data.external_id,
        "number": data.number, "placed_at": data.placed_at, "external_updated_at": data.updated_at,
        "currency": data.currency, "presentment_currency": data.presentment_currency,
        "presentment_total": data.presentment_total, "subtotal": data.subtotal,
        "shipping_total": data.shipping_total, "tax_total": data.tax_total, "discount_total": data.discount_total,
        "total": data.total, "email": data.customer_email, "phone": data.shipping_address.phone or None,
        "shipping_address": _address(data.shipping_address), "billing_address": _address(data.billing_address),
        "payment_status": PaymentStatus(data.payment_status).value,
        "service_level": ServiceLevel(data.service_level).value,
        "fulfillment_channel": FulfillmentChannel(data.fulfillment_channel).value,
        "origin": data.origin, "pos_location": data.pos_location, "tags": list(data.tags),
        "pickup_point": pickup.to_dict(data.pickup_point),
        "status": OrderStatus.NEW.value, "over_quota": False, "created_at": now, "updated_at": now,
    }


def _create(shop: Shop, orders: list[Order], data_by_ext: dict[str, NormalizedOrder], origin: str) -> None:
    org_id = shop.organization_id
    mapping = variant_map(org_id, {ln.sku for d in data_by_ext.values() for ln in d.lines})
    variants = {v.id: v for v in db.session.scalars(
        select(Variant).where(Variant.id.in_(set(mapping.values()))).options(selectinload(Variant.product)))}
    customers = _customers(org_id, list(data_by_ext.values()))
    if any(c.id is None for c in customers.values()):
        db.session.flush()  # the new customers' ids: the orders take them as a plain column
    count, limit = quota(org_id)  # already counts this page's orders
    with db.session.no_autoflush:
        for index, order in enumerate(orders):
            for rel in ("lines", "events", "shipments"):  # brand new rows: nothing to lazy-load
                set_committed_value(order, rel, [])
            data = data_by_ext[order.external_id]
            if data.customer_email:
                customer = customers[data.customer_email]
                order.customer_id = customer.id
                set_committed_value(order, "customer", customer)
            _lines(order, data, mapping, variants)
            record(order, "imported", _("commande reçue de %(name)s", name=shop.name), origin, {"external_id": data.external_id})
            position = count - len(orders) + index + 1
            if limit is not None and position > limit:
                order.over_quota = True
                record(order, "quota", _("limite du forfait dépassée (%(position)s/%(limit)s commandes ce "
                                         "mois-ci) : la commande est traitée, passez à un forfait supérieur",
                                         position=position, limit=limit), origin)
    # no flush yet: the new lines are written once, after routing, with their reservations
    to_allocate = []
    for order in orders:
        if data_by_ext[order.external_id].status == "cancelled":
            order_flow.cancel(order, source=origin, reason=_("annulée sur le canal"))
        else:
            to_allocate.append(order)
    order_flow.allocate_many(to_allocate)
    for order in to_allocate:
        data = data_by_ext[order.external_id]
        if (data.status == "shipped" and order.fulfillment_channel == FulfillmentChannel.MARKETPLACE
                and order.status == OrderStatus.ALLOCATED):
            order_flow.transition(order, OrderStatus.SHIPPED, source=origin, reason=_("expédiée par la marketplace"))


def record(order: Order, kind: str, message: str, source: str, data: dict[str, Any] | None = None) -> None:
    order_flow.record(order, kind, message, source=source, data=data)


def _update(shop: Shop, order: Order, data: NormalizedOrder, origin: str) -> IntakeResult:
    if data.updated_at and order.external_updated_at and data.updated_at <= order.external_updated_at:
        return IntakeResult(order.id, False, [], stale=True)
    changed = _apply(order, shop, data)
    if changed:
        record(order, "updated", _("mise à jour : %(items)s", items=', '.join(changed)), origin, {"changed": changed})
    if data.status == "cancelled" and order.status != OrderStatus.CANCELLED:
        if order.status in order_flow.OPEN:
            order_flow.cancel(order, source=origin, reason=_("annulée sur le canal"))
            changed.append("status")
        else:
            record(order, "conflict", _("le canal annule une commande déjà expédiée : à vérifier"), origin)
    elif (data.status == "shipped" and order.fulfillment_channel == FulfillmentChannel.MARKETPLACE
          and order.status in (OrderStatus.ALLOCATED, OrderStatus.NEW)):
        order_flow.transition(order, OrderStatus.SHIPPED, source=origin, reason=_("expédiée par la marketplace"))
        changed.append("status")
    return IntakeResult(order.id, False, changed)


def _apply(order: Order, shop: Shop, data: NormalizedOrder) -> list[str]:
    """Update an existing order from the channel; who fulfils stays as created (it decided routing)."""
    values: dict[str, Any] = {k: getattr(data, k) for k in _SCALARS}
    values.update(
        email=data.customer_email,
        shipping_address=_address(data.shipping_address),
        billing_address=_address(data.billing_address),
        payment_status=PaymentStatus(data.payment_status),
        service_level=ServiceLevel(data.service_level),
        tags=list(data.tags),
    )
    changed = []
    for key, value in values.items():
        current = getattr(order, key)
        if isinstance(current, Decimal) and value is not None:
            value = Decimal(value)
        if current != value:
            setattr(order, key, value)
            changed.append(key)
    if pickup.from_channel(order, data.pickup_point):
        changed.append("pickup_point")
    order.external_updated_at = data.updated_at or order.external_updated_at
    if data.customer_email and order.customer_id is None:
        order.customer = _customers(shop.organization_id, [data])[data.customer_email]
    return changed


def _customers(org_id: int, batch: list[NormalizedOrder]) -> dict[str, Customer]:
    """The organization's customers for these e-mails, created when new."""
    emails = {d.customer_email for d in batch if d.customer_email}
    found: dict[str, Customer] = {}
    if emails:
        for c in db.session.scalars(select(Customer).where(Customer.organization_id == org_id,
                                                            Customer.email.in_(emails)).order_by(Customer.id)):
            found.setdefault(c.email, c)
    for d in batch:
        if d.customer_email and d.customer_email not in found:
            found[d.customer_email] = Customer(organization_id=org_id, email=d.customer_email, name=d.customer_name,
                                               phone=d.shipping_address.phone or None)
            db.session.add(found[d.customer_email])
    return found


def _lines(order: Order, data: NormalizedOrder, mapping: dict[str, int], variants: dict[int, Variant]) -> None:
    """New lines, with their variant set in memory too: routing reads ``line.variant`` (tags,
    product) before the lines are first written."""
    for ln in data.lines:
        if ln.quantity <= 0:
            raise ValueError(f"line {ln.sku}: quantity must be positive")
        variant_id = mapping.get(ln.sku)
        append(order, "lines", build(OrderLine, external_id=ln.external_id, sku=ln.sku, title=ln.title,
                                     quantity=ln.quantity, unit_price=Decimal(ln.unit_price), tax=Decimal(ln.tax),
                                     discount=Decimal(ln.discount), variant_id=variant_id, reserved_quantity=0,
                                     variant=variants.get(variant_id) if variant_id else None))


# ----------------------------------------------------------------------------- plan quota
def month_start(now: datetime | None = None) -> datetime:
    now = now or utcnow()
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def quota(org_id: int) -> tuple[int, int | None]:
    """(orders received this month, the plan's monthly limit or None). Unlimited plans are not counted."""
    limit = db.session.scalar(select(Plan.monthly_order_limit).join(Organization, Organization.plan_code == Plan.code)
                              .where(Organization.id == org_id))
    if limit is None:
        return 0, None
    count = db.session.scalar(select(func.count()).select_from(Order).where(
        Order.organization_id == org_id, Order.created_at >= month_start()))
    return int(count or 0), limit


# ----------------------------------------------------------------------------- unknown SKUs resume
def map_sku(org_id: int, sku: str, variant: Variant) -> int:
    """The merchant maps a channel SKU to a variant: held orders resume at once."""
    if variant.organization_id != org_id:
        raise ValueError("variant of another organization")
    if sku != variant.sku and db.session.scalar(select(SkuAlias.id).where(
            SkuAlias.organization_id == org_id, SkuAlias.sku == sku)) is None:
        db.session.add(SkuAlias(organization_id=org_id, sku=sku, variant_id=variant.id))
        db.session.flush()
    return resume_unknown_skus(org_id, [sku])


def resume_unknown_skus(org_id: int, skus: list[str]) -> int:
    """Orders held for these SKUs get their lines mapped and are allocated again."""
    mapping = variant_map(org_id, set(skus))
    if not mapping:
        return 0
    held = db.session.scalars(select(Order).where(
        Order.organization_id == org_id, Order.status == OrderStatus.ON_HOLD, Order.hold_code == "unknown_sku",
        Order.id.in_(select(OrderLine.order_id).where(OrderLine.variant_id.is_(None),
                                                      OrderLine.sku.in_(list(mapping)))))
        .order_by(Order.placed_at, Order.id)).all()
    resumed = 0
    for order in held:
        for line in order.lines:
            if line.variant_id is None and line.sku in mapping:
                line.variant_id = mapping[line.sku]
                order_flow.record(order, "mapped", _("SKU %(sku)s associé", sku=line.sku))
        if order_flow.allocate(order):
            resumed += 1
    return resumed


_NEW_SKUS = "oms_tx_new_skus"


def collect_new_skus(session: Session, _ctx, _instances) -> None:
    """Commit pipeline, before each flush: SKUs created in this transaction (held orders wait
    for them)."""
    for obj in session.new:
        if isinstance(obj, (Variant, SkuAlias)) and obj.organization_id and obj.sku:
            session.info.setdefault(_NEW_SKUS, set()).add((obj.organization_id, obj.sku))


def queue_resume(session: Session) -> None:
    """Commit pipeline, before commit: held orders waiting for those SKUs resume in a job.
    SKUs added since the last flush are flushed first: the commit's own flush comes after the
    pipeline's before-commit steps, too late to be seen here."""
    if any(isinstance(obj, (Variant, SkuAlias)) for obj in session.new):
        session.flush()
    pending = session.info.pop(_NEW_SKUS, None)
    if not pending:
        return
    by_org: dict[int, list[str]] = {}
    for org_id, sku in pending:
        by_org.setdefault(org_id, []).append(sku)
    for org_id, skus in by_org.items():
        enqueue("core.intake.resume_unknown_skus", org_id, sorted(skus))
