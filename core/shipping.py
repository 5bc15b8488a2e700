"""Shipments: created by core, labelled by a carrier add-on.

Core never talks to a carrier. It creates the shipment (lines, weight, the carrier add-on
that should serve it) and asks for the label through ``shipping_create_label``; the enabled
carrier add-on answers with a :class:`~core.types.Label`. When nothing answers, the shipment
stays a draft: with the manual carrier (core's default) the merchant types the tracking
number; with a carrier add-on, the add-on finishes the label later (carrier unreachable,
retried by a job) and calls :func:`apply_label`. Cancellations go through
``shipping_cancel_label`` (``core.orders.cancel`` does it for a cancelled order).

A label is paid for, so it is never bought inside the transaction that creates the shipment:
the shipment is committed first, then :func:`fetch_label` claims it (a lease and an attempt
count, committed), calls the carrier, commits the label, and only then lets the parcel leave
(stock consumed, channels told) in a transaction of its own. A failure after the label exists
keeps the label; a retry (same shipment, so the same idempotency key at the carrier) never buys
a second one. A job queued with the shipment takes over if the process dies in between.

The planned content of a shipment is kept as its ``ShipmentLine`` rows from the start, so
the label request can declare the items (customs). :func:`mark_shipped` hands them to
``core.orders.ship``, which consumes the stock and records them again as shipped.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update

from . import orders as order_flow
from . import shipping_rules
from . import stock
from .addons import _isolate, call, registry
from .extensions import db
from .jobs import enqueue
from .models import (
    Order,
    OrderLine,
    OrderStatus,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
    Shop,
    append,
    utcnow,
)
from .types import Label, Rate
from .i18n import _

log = logging.getLogger(__name__)

#: the carrier of shipments whose tracking number the merchant types
MANUAL = "manual"
#: statuses a carrier reports once a parcel has left, in the order they follow each other
_ONWARD = [ShipmentStatus.SHIPPED, ShipmentStatus.IN_TRANSIT, ShipmentStatus.DELIVERED]


class ShippingError(ValueError):
    """A refusal the merchant can act on (French message)."""


# ----------------------------------------------------------------------------- carriers
def carrier_addons(shop: Shop) -> list[tuple[str, str]]:
    """(name, title) of the carrier add-ons enabled for the shop, by title."""
    enabled = shop.enabled_addons()
    found = [(a.name, a.title) for a in registry().loaded() if a.kind == "carrier" and a.name in enabled]
    return sorted(found, key=lambda pair: pair[1].lower())


def carrier_title(name: str | None) -> str:
    """A carrier as the merchant knows it: its add-on's title ("DHL Express", not "dhl")."""
    for addon in registry().loaded():
        if addon.name == name:
            return addon.title
    return name or ""


def default_carrier(shop: Shop) -> str:
    """The first enabled carrier add-on, else the manual carrier."""
    carriers = carrier_addons(shop)
    return carriers[0][0] if carriers else MANUAL


def carrier_choices(shop: Shop) -> list[tuple[str, str]]:
    """What the packing screen offers: with several carrier add-ons, the cheapest for the
    order's service level first; the carrier add-ons; then manual entry."""
    carriers = carrier_addons(shop)
    cheapest = [(CHEAPEST, _l("Le moins cher pour le niveau de service"))] if len(carriers) > 1 else []
    rules = [(BY_RULES, _l("Selon vos règles de transporteur"))] if carriers and shipping_rules.carrier_rules(
        shop.organization_id) else []
    return rules + cheapest + carriers + [(MANUAL, _l("Saisie manuelle du suivi"))]


# ----------------------------------------------------------------------------- rate shopping
#: the packing screen's (and a rule's) choice: the cheapest enabled carrier that meets the
#: order's service level, resolved when the shipment is created
CHEAPEST = "cheapest"
#: the packing screen's choice when the organization has carrier rules: the first rule that
#: holds gives the carrier (``core.shipping_rules``); also what a shipment created with no
#: carrier gets
BY_RULES = "rules"
#: what each order service level accepts of a rate's ``service_level`` ("" counts as standard)
ACCEPTS = {"standard": ("", "standard", "express"), "express": ("express",), "prime": ("express",)}


@dataclass(frozen=True)
class Quote:
    """One rate of one carrier add-on, for the packing screen."""

    addon: str
    title: str
    rate: Rate

    @property
    def key(self) -> str:
        """What the packing form posts back: ``<add-on>|<method>``."""
        return f"{self.addon}|{self.rate.method_id}"


def parcels_for(weight_grams: int | None) -> list[dict[str, int]]:
    """The ``parcels`` argument of ``shipping_quote_rates`` for one parcel."""
    return [{"weight_grams": int(weight_grams or 0) or 1000}]


def quote_rates(shop: Shop, order: Order, parcels: list[dict[str, int]]) -> list[Quote]:
    """Every enabled carrier add-on's rates for these parcels (``shipping_quote_rates``),
    cheapest first. Each add-on is asked on its own, in a savepoint: one that fails is written
    to the shop's sync log and the others still answer."""
    quotes: list[Quote] = []
    reg = registry()
    for name, title in carrier_addons(shop):
        try:
            with db.session.begin_nested():
                rates = reg.call_one(name, "shipping_quote_rates", shop=shop, order=order, parcels=parcels) or []
        except Exception as exc:  # noqa: BLE001 - an add-on's failure is isolated, as core.addons.call does
            _isolate(shop, name, "shipping_quote_rates", exc)
            continue
        quotes.extend(Quote(name, title, rate) for rate in rates if isinstance(rate, Rate))
    return sorted(quotes, key=lambda q: (q.rate.price, q.title.lower(), q.rate.service))


def meets(rate: Rate, service_level: str) -> bool:
    """Does the rate keep the order's promise (an express order needs an express service)?"""
    return (rate.service_level or "") in ACCEPTS.get(str(service_level or "standard"), ACCEPTS["standard"])


def cheapest(quotes: list[Quote], service_level: str, currency: str | None = None) -> Quote | None:
    """The cheapest quote meeting the service level, in the order's currency when any is."""
    fitting = [q for q in quotes if meets(q.rate, service_level)]
    same = [q for q in fitting if currency and q.rate.currency == currency]
    pool = same or fitting
    return min(pool, key=lambda q: (q.rate.price, q.title.lower())) if pool else None


def choose_cheapest(order: Order, weight_grams: int | None) -> tuple[str, str | None, Quote | None]:
    """(carrier, service, quote) for :data:`CHEAPEST`: the cheapest quote meeting the order's
    service level, else the shop's default carrier with its own rules."""
    shop = order.shop
    pick = cheapest(quote_rates(shop, order, parcels_for(weight_grams)), str(order.service_level),
                    order.currency)
    if pick is None:
        return default_carrier(shop), None, None
    return pick.addon, pick.rate.method_id or None, pick


# ----------------------------------------------------------------------------- creation and labels
def create_shipment(order: Order, lines: Iterable[tuple[OrderLine, int]], weight_grams: int | None, *,
                    carrier: str | None = None, service: str | None = None, warehouse_id: int | None = None,
                    user_id: int | None = None) -> Shipment:
    """A draft shipment of ``lines`` (order line, quantity); no carrier is called here.

    ``carrier`` is a carrier add-on's name or ``"manual"`` (default: the shop's first enabled
    carrier add-on); ``service`` a method the add-on knows (empty: the add-on's shipping rules
    choose). Commit, then call :func:`fetch_label` (a job queued here does it anyway if nobody
    does within :data:`LABEL_LEASE`).
    """
    if order.status in (OrderStatus.CANCELLED, OrderStatus.SHIPPED, OrderStatus.DELIVERED,
                        OrderStatus.RETURNED):
        raise ShippingError(_("la commande %(number)s est %(labels)s : aucune expédition à créer",
                              number=order.number, labels=order_flow.LABELS[order.status]))
    planned = [(line, qty) for line, qty in lines if qty > 0]
    if not planned:
        raise ShippingError(_("aucun article à expédier"))
    if weight_grams is not None and weight_grams <= 0:
        raise ShippingError(_("le poids du colis doit être positif"))
    if warehouse_id is None:
        warehouse_id = next((line.warehouse_id for line, _q in planned if line.warehouse_id), None)
    chosen_by = rule = None
    if carrier in (None, BY_RULES):
        enabled = {name for name, _title in carrier_addons(order.shop)} | {CHEAPEST}
        rule = shipping_rules.choose_carrier(order, planned, weight_grams, warehouse_id, enabled)
        carrier = rule.carrier if rule is not None else None
    if carrier == CHEAPEST:
        carrier, picked, chosen_by = choose_cheapest(order, weight_grams)
        service = service or picked
    shipment = Shipment(order_id=order.id, warehouse_id=warehouse_id, carrier=carrier or default_carrier(order.shop),
                        service=service or None, weight_grams=weight_grams, status=ShipmentStatus.DRAFT,
                        currency=order.currency, label_attempts=0)
    for line, qty in planned:
        shipment.lines.append(ShipmentLine(order_line_id=line.id, quantity=qty))
    append(order, "shipments", shipment)
    db.session.flush()
    order_flow.record(order, "shipment", _("colis créé (%(carrier)s, %(value)s g)",
                                           carrier=shipment.carrier, value=weight_grams or '?'),
                      user_id=user_id, data={"shipment": shipment.id})
    if rule is not None:
        order_flow.record(order, "shipment", _("règle de transporteur « %(name)s »", name=rule.name), user_id=user_id,
                          data={"shipment": shipment.id, "carrier_rule": rule.id})
    if chosen_by is not None:
        rate = chosen_by.rate
        order_flow.record(order, "shipment", _("transporteur le moins cher pour le niveau de service : %(title)s "
                                               "%(service)s (%(price)s %(currency)s)",
                                               title=chosen_by.title, service=rate.service, price=rate.price, currency=rate.currency), user_id=user_id,
                          data={"shipment": shipment.id, "rate": str(rate.price)})
    if shipment.carrier != MANUAL:  # taken over if the label is not fetched right after commit
        enqueue("core.shipping.label_job", shipment.id, job_id=f"shipment-label-{shipment.id}", unique=True,
                shop_id=order.shop_id, delay=LABEL_LEASE.total_seconds() + 5)
    return shipment


#: a label request still running after this long is taken over (its process died)
LABEL_LEASE = timedelta(minutes=2)


@dataclass
class LabelOutcome:
    state: str  # shipped | label_ready | waiting_carrier | manual | busy | done
    shipment_id: int
    message: str


def claim_label(shipment_id: int) -> Shipment | None:
    """Take the right to ask the carrier for this draft's label, and count the attempt, in a
    transaction of its own (committed here). None when there is nothing to ask (labelled,
    cancelled, manual) or another request holds a lease younger than :data:`LABEL_LEASE`."""
    now = utcnow()
    claimed = db.session.execute(
        update(Shipment).where(Shipment.id == shipment_id, Shipment.status == ShipmentStatus.DRAFT,
                               Shipment.carrier != MANUAL,
                               or_(Shipment.label_requested_at.is_(None), Shipment.label_requested_at < now - LABEL_LEASE))
        .values(label_attempts=Shipment.label_attempts + 1, label_requested_at=now)
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return db.session.get(Shipment, shipment_id) if claimed else None


def label_pending(shipment: Shipment) -> bool:
    """A carrier is being asked for this draft's label right now (its lease is fresh)."""
    return (shipment.status == ShipmentStatus.DRAFT and shipment.carrier != MANUAL
            and shipment.label_requested_at is not None
            and shipment.label_requested_at >= utcnow() - LABEL_LEASE)


def request_label(shipment: Shipment) -> Label | None:
    """Ask the enabled carrier add-ons for a claimed shipment's label and apply it if one
    answers (no commit: :func:`fetch_label` is the way in)."""
    if shipment.status != ShipmentStatus.DRAFT or shipment.carrier == MANUAL:
        return None
    order = shipment.order
    label = call(order.shop, "shipping_create_label", order=order, shipment=shipment)
    if label is not None:
        apply_label(shipment, label)
    return label


def label_received(shipment: Shipment, *, ship: bool = False, user_id: int | None = None) -> LabelOutcome:
    """After the carrier call: the label (or why it waits) is committed and the lease let go;
    then, with ``ship`` (the packer is there to stick the label on), the parcel leaves in a
    transaction of its own. A departure refused then (stock counted meanwhile, order cancelled
    meanwhile) keeps the label. A label that comes later, from a job, waits to be printed."""
    shipment.label_requested_at = None
    db.session.commit()
    if shipment.status == ShipmentStatus.LABEL_CREATED and ship:
        try:
            mark_shipped(shipment, user_id=user_id)
            db.session.commit()
        except (ShippingError, stock.StockError, order_flow.TransitionError) as exc:
            db.session.rollback()
            shipment = db.session.get(Shipment, shipment.id)
            reason = f"étiquette créée, départ refusé : {exc}"
            order_flow.record(shipment.order, "shipment", reason, user_id=user_id, data={"shipment": shipment.id})
            db.session.commit()
            return LabelOutcome("label_ready", shipment.id, f"Étiquette {carrier_title(shipment.carrier)} créée, mais "
                                f"le colis n'est pas parti : {exc}. Corrigez puis expédiez-le depuis sa page ; "
                                "l'étiquette est gardée.")
    return outcome_of(shipment)


def fetch_label(shipment_id: int, *, ship: bool = False, user_id: int | None = None) -> LabelOutcome:
    """Claim, ask the carrier, commit the label, then (``ship``) let the parcel leave: each step
    its own transaction (this commits; call it once the shipment is committed)."""
    shipment = claim_label(shipment_id)
    if shipment is None:
        current = db.session.get(Shipment, shipment_id)
        if current is None:
            return LabelOutcome("done", shipment_id, "colis introuvable")
        if current.status == ShipmentStatus.DRAFT and current.carrier != MANUAL:
            return LabelOutcome("busy", shipment_id, "L'étiquette est en cours de création : patientez un instant.")
        return outcome_of(current)
    request_label(shipment)
    return label_received(shipment, ship=ship, user_id=user_id)


def label_job(shipment_id: int) -> str:
    """The job queued with every carrier shipment: its label, if nobody fetched it yet."""
    return fetch_label(shipment_id).message


def outcome_of(shipment: Shipment) -> LabelOutcome:
    """Where a parcel stands, in the packer's words."""
    if shipment.status in (ShipmentStatus.SHIPPED, ShipmentStatus.IN_TRANSIT, ShipmentStatus.DELIVERED):
        return LabelOutcome("shipped", shipment.id, f"Étiquette {carrier_title(shipment.carrier)} créée : colis expédié "
                            f"({shipment.tracking_number or 'sans numéro'}).")
    if shipment.status == ShipmentStatus.LABEL_CREATED:
        return LabelOutcome("label_ready", shipment.id, "Étiquette créée : imprimez-la puis expédiez le colis.")
    if shipment.carrier == MANUAL:
        return LabelOutcome("manual", shipment.id, "Saisissez le numéro de suivi du transporteur pour expédier le colis.")
    if shipment.status == ShipmentStatus.CANCELLED:
        return LabelOutcome("done", shipment.id, "Ce colis a été annulé.")
    return LabelOutcome("waiting_carrier", shipment.id, shipment.label_error or
                        "Le transporteur n'a pas encore fourni l'étiquette : elle sera créée automatiquement.")


def retry_label_job(shipment_id: int, addon: str, create: Callable[[Shop, Order, Shipment], Label],
                    failed: Callable[[Shipment, str], None], *, data_errors: tuple[type[Exception], ...],
                    remote_errors: tuple[type[Exception], ...], refused: str = "") -> str:
    """A carrier add-on's label retry job: core's claim (lease and attempt count, committed
    before the call), the add-on's ``create``, then core's commit of the label and departure.

    Data to fix (``data_errors``) or a refusal (a ``remote_errors`` that is not ``transient``)
    ends the attempt with ``failed(shipment, message)`` (``refused`` prefixes the carrier's
    answer); an outage releases the lease and raises, so the job is retried."""
    current = db.session.get(Shipment, shipment_id)
    if current is None:
        return "colis introuvable"
    if current.status != ShipmentStatus.DRAFT or current.carrier != addon:
        return _("rien à faire (colis %(value)s, %(carrier)s)", value=current.status.value, carrier=current.carrier)
    shipment = claim_label(shipment_id)
    if shipment is None:
        return _("étiquette déjà demandée par ailleurs")
    order = shipment.order
    try:
        label = create(order.shop, order, shipment)
    except data_errors as exc:
        failed(shipment, str(exc))
        label_received(shipment)
        return str(exc)
    except remote_errors as exc:
        if not getattr(exc, "transient", False):
            failed(shipment, f"{refused}{exc}")
            label_received(shipment)
            return str(exc)
        db.session.rollback()  # the attempt stays counted; the lease is let go for the next try
        db.session.execute(update(Shipment).where(Shipment.id == shipment_id).values(label_requested_at=None))
        db.session.commit()
        raise
    apply_label(shipment, label, source=addon)
    outcome = label_received(shipment)
    return _("étiquette %(value)s %(tracking_number)s (%(state)s)",
             value=label.carrier or addon, tracking_number=label.tracking_number, state=outcome.state)


def apply_label(shipment: Shipment, label: Label, *, source: str = "core") -> None:
    """Store a carrier's label on the shipment (also called by an add-on's retry job)."""
    shipment.carrier = label.carrier or shipment.carrier
    shipment.service = label.service or shipment.service
    shipment.tracking_number = label.tracking_number or shipment.tracking_number
    shipment.tracking_url = label.tracking_url or shipment.tracking_url
    if label.pdf:
        shipment.label = label.pdf
        shipment.label_format = "pdf"
    shipment.external_id = label.external_id or shipment.external_id
    if label.cost is not None:
        shipment.cost = label.cost
    shipment.label_error = None
    if shipment.status == ShipmentStatus.DRAFT:
        shipment.status = ShipmentStatus.LABEL_CREATED
    order_flow.record(shipment.order, "label",
                      f"étiquette {shipment.carrier} {shipment.service or ''} {shipment.tracking_number or ''}".strip(),
                      source=source, data={"shipment": shipment.id})


def switch_to_manual(shipment: Shipment, *, user_id: int | None = None) -> None:
    """Give up on the carrier add-on for a draft: the merchant will type the tracking."""
    if shipment.status != ShipmentStatus.DRAFT:
        raise ShippingError(_("seul un colis sans étiquette passe en saisie manuelle"))
    shipment.carrier = MANUAL
    shipment.label_error = None
    order_flow.record(shipment.order, "shipment", _("colis passé en saisie manuelle du suivi"), user_id=user_id,
                      data={"shipment": shipment.id})


def confirm_lost_label(shipment: Shipment, row: Any, exists_number: str | None, *, number_field: str,
                       tracking_url: str | Callable[[str], str] = "", user_id: int | None = None) -> None:
    """After a label request whose answer was lost (a carrier add-on's ``row`` in state
    ``lost``), the merchant checked the carrier's portal: the shipment exists there (its number
    given: the parcel leaves with it, its label printed from the portal) or it does not
    (``failed``: the next request may leave). Nothing is ever bought twice."""
    if row is None or row.state != "lost":
        return
    shipment.label_error = None
    number = (exists_number or "").strip()[:32]
    if not number:
        row.state = "failed"
        return
    row.state = "created"
    setattr(row, number_field, number)
    url = tracking_url(number) if callable(tracking_url) else tracking_url
    set_tracking(shipment, number, tracking_url=url, user_id=user_id)


def set_tracking(shipment: Shipment, tracking_number: str, *, tracking_url: str = "", carrier_name: str = "",
                 user_id: int | None = None) -> None:
    """The manual carrier: the merchant typed the tracking number; the parcel has left."""
    number = tracking_number.strip()
    if not number:
        raise ShippingError(_("saisissez le numéro de suivi"))
    order_flow.lock(shipment.order)
    if shipment.status not in (ShipmentStatus.DRAFT, ShipmentStatus.LABEL_CREATED):
        raise ShippingError(_("ce colis est déjà parti"))
    shipment.tracking_number = number[:128]
    shipment.tracking_url = tracking_url.strip()[:500] or None
    if carrier_name.strip():
        shipment.service = carrier_name.strip()[:120]
    mark_shipped(shipment, user_id=user_id)


# ----------------------------------------------------------------------------- departure and tracking
def planned_lines(shipment: Shipment) -> list[tuple[OrderLine, int]]:
    return [(sl.order_line, sl.quantity) for sl in shipment.lines]


def mark_shipped(shipment: Shipment, *, user_id: int | None = None) -> None:
    """The parcel left: stock is consumed, the order follows and channels get the tracking
    (``core.orders.ship`` fires ``shipping_shipment_shipped``)."""
    if shipment.status in (ShipmentStatus.SHIPPED, ShipmentStatus.IN_TRANSIT, ShipmentStatus.DELIVERED):
        return
    if shipment.status == ShipmentStatus.CANCELLED:
        raise ShippingError(_("ce colis a été annulé"))
    order = shipment.order
    order_flow.lock(order)  # before any write: a cancellation racing it wins or loses whole
    if order.status == OrderStatus.CANCELLED:
        raise ShippingError(_("la commande %(number)s est annulée", number=order.number))
    content = planned_lines(shipment)
    for sl in list(shipment.lines):  # ship() records each unit once, as shipped
        shipment.lines.remove(sl)
    db.session.flush()
    order_flow.ship(order, shipment, content or None, user_id=user_id)
    if order.status == OrderStatus.SHIPPED and order.shipped_at is None:
        order.shipped_at = shipment.shipped_at


def update_from_carrier(shipment: Shipment, status: ShipmentStatus | None, *, source: str, message: str = "",
                        tracking_number: str | None = None, tracking_url: str | None = None) -> bool:
    """A carrier reported on a parcel (webhook or poll). Statuses only move forward; a parcel
    seen moving before it was marked shipped is shipped now. True when something changed."""
    changed = False
    shipment.carrier_checked_at = utcnow()
    if tracking_number and tracking_number != shipment.tracking_number:
        shipment.tracking_number = tracking_number[:128]
        changed = True
    if tracking_url and tracking_url != shipment.tracking_url:
        shipment.tracking_url = tracking_url[:500]
        changed = True
    if status is None or status == shipment.status:
        return changed
    current = shipment.status
    if current in (ShipmentStatus.CANCELLED, ShipmentStatus.DELIVERED):
        return changed
    if status == ShipmentStatus.CANCELLED:
        if current in (ShipmentStatus.DRAFT, ShipmentStatus.LABEL_CREATED):
            shipment.status = ShipmentStatus.CANCELLED
            order_flow.record(shipment.order, "shipment", f"étiquette annulée chez le transporteur {message}".strip(),
                              source=source, data={"shipment": shipment.id})
            return True
        return changed
    if status in _ONWARD or status == ShipmentStatus.EXCEPTION:
        if current in (ShipmentStatus.DRAFT, ShipmentStatus.LABEL_CREATED):
            if shipment.order.status == OrderStatus.CANCELLED:
                return changed
            mark_shipped(shipment)
        if status in _ONWARD and shipment.status in _ONWARD and _ONWARD.index(status) <= _ONWARD.index(shipment.status):
            return True
        shipment.status = status
        order_flow.record(shipment.order, "tracking", message or status.value, source=source,
                          data={"shipment": shipment.id, "status": status.value})
        if status == ShipmentStatus.DELIVERED:
            _maybe_delivered(shipment.order)
        return True
    return changed


#: a parcel the carrier has not reported on for this long is asked about (``shipping_track``)
TRACK_AFTER = timedelta(hours=6)
#: ... for this long after it left; carriers forget their parcels after a few weeks
TRACK_FOR = timedelta(days=30)
_ON_THE_WAY = (ShipmentStatus.SHIPPED, ShipmentStatus.IN_TRANSIT, ShipmentStatus.EXCEPTION)


def due_for_tracking(now: datetime | None = None, limit: int = 500) -> list[int]:
    """Shipments on their way (carrier add-on, not the manual one) whose carrier has said
    nothing for :data:`TRACK_AFTER`, shipped less than :data:`TRACK_FOR` ago; oldest news first."""
    now = now or utcnow()
    last_news = func.coalesce(Shipment.carrier_checked_at, Shipment.shipped_at)
    return list(db.session.scalars(
        select(Shipment.id).where(Shipment.status.in_(_ON_THE_WAY), Shipment.carrier != MANUAL,
                                  Shipment.shipped_at >= now - TRACK_FOR, last_news <= now - TRACK_AFTER)
        .order_by(last_news, Shipment.id).limit(limit)))


def track(shipment: Shipment) -> bool:
    """Ask the shop's carrier add-ons where the parcel is (``shipping_track``) and apply the
    answer; True when something changed. No answer still counts as asked."""
    order = shipment.order
    answer = call(order.shop, "shipping_track", shipment=shipment)
    status = None
    if answer is not None:
        try:
            status = ShipmentStatus(answer)
        except ValueError:
            log.warning("shipping_track answered an unknown status %r for shipment %s", answer, shipment.id)
    if status is None:
        shipment.carrier_checked_at = utcnow()
        return False
    return update_from_carrier(shipment, status, source="core:suivi")


def track_all(now: datetime | None = None) -> int:
    """The hourly job: every parcel due for news is asked about, one transaction each (a
    carrier that fails is isolated on the shop's sync log and the others go on)."""
    changed = 0
    for shipment_id in due_for_tracking(now):
        shipment = db.session.get(Shipment, shipment_id)
        if shipment is None:
            continue
        changed += bool(track(shipment))
        db.session.commit()
    return changed


def _maybe_delivered(order: Order) -> None:
    live = [s for s in order.shipments if s.status != ShipmentStatus.CANCELLED]
    if order.status == OrderStatus.SHIPPED and live and all(s.status == ShipmentStatus.DELIVERED for s in live):
        order_flow.transition(order, OrderStatus.DELIVERED, reason=_("livrée par le transporteur"))


def cancel_shipment(shipment: Shipment, *, user_id: int | None = None) -> bool:
    """Cancel a parcel not yet gone (reprint, change of carrier); its label is cancelled
    with the carrier. True once cancelled."""
    if shipment.status not in (ShipmentStatus.DRAFT, ShipmentStatus.LABEL_CREATED):
        raise ShippingError(_("ce colis est déjà parti : il ne s'annule plus"))
    order = shipment.order
    if not call(order.shop, "shipping_cancel_label", shipment=shipment):
        return False
    shipment.status = ShipmentStatus.CANCELLED
    order_flow.record(order, "shipment", _("colis annulé (%(carrier)s)", carrier=shipment.carrier), user_id=user_id,
                      data={"shipment": shipment.id})
    call(order.shop, "shipping_shipment_cancelled", order=order, shipment=shipment)
    return True


def waiting_shipments(org_id: int, limit: int = 100) -> list[Shipment]:
    """Parcels packed but not gone: waiting for a label, for printing or for a tracking number."""
    stmt = (select(Shipment).join(Order, Order.id == Shipment.order_id)
            .where(Order.organization_id == org_id, Order.status != OrderStatus.CANCELLED,
                   Shipment.status.in_([ShipmentStatus.DRAFT, ShipmentStatus.LABEL_CREATED]))
            .order_by(Shipment.created_at, Shipment.id).limit(limit))
    return list(db.session.scalars(stmt))


def shipment_weight(lines: Iterable[tuple[OrderLine, int]]) -> int | None:
    """Sum of the variants' weights, or None when one is unknown."""
    total = 0
    for line, qty in lines:
        grams = line.variant.weight_grams if line.variant is not None else None
        if not grams:
            return None
        total += grams * qty
    return total or None
